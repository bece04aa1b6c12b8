/**
 * Tests for the resampling schemes.
 *
 * The statistical checks repeat a scheme R times on fixed weights, each repeat with its own key from
 * `split`, and compare offspring counts c_i with theory. For each scheme the exact count variance is
 * known in closed form (see `exactVariance`), so:
 *  - unbiasedness: the mean count over R repeats has SE = sqrt(Var c_i / R); we allow 5 SE;
 *  - variance: the sample variance of c_i is the mean of q_r = (c_ri − c̄_i)², so its SE is
 *    sd(q)/sqrt(R), estimated from the repeats; we allow 5 SE.
 * Seeds are fixed, so results are deterministic; 5 SE makes a false failure of a correct scheme
 * improbable (≈ 6e-7 per check under the normal approximation).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  gatherRows,
  multinomial,
  RESAMPLING_SCHEMES,
  type ResamplingScheme,
  resample,
  residual,
  stratified,
  systematic,
} from "../../src/math/resampling.ts";
import { type Key, keyFromSeed, split } from "../../src/random/key.ts";

const K_SD = 5;

/** N = 10: a large weight (0.35 ≥ 3/N), a zero, a tiny one (1e-4); no M·w_i is an integer for M = 3, 10, 37. */
const W = Float64Array.from([0.06, 0.35, 0, 0.21, 0.0001, 0.12, 0.09, 0.075, 0.055, 0.0399]);

function normalized(w: Float64Array): Float64Array {
  let s = 0;
  for (const v of w) s += v;
  return w.map((v) => v / s);
}

/** Exact Var(c_i) for each scheme, for normalized weights p and M draws. */
function exactVariance(scheme: ResamplingScheme, p: Float64Array, m: number): Float64Array {
  const n = p.length;
  const v = new Float64Array(n);
  if (scheme === "multinomial") {
    // c_i ~ Binomial(M, p_i).
    for (let i = 0; i < n; i++) v[i] = m * p[i] * (1 - p[i]);
  } else if (scheme === "systematic") {
    // c_i ∈ {⌊Mp_i⌋, ⌈Mp_i⌉} with mean Mp_i, so Var = f(1 − f) with f = frac(Mp_i).
    for (let i = 0; i < n; i++) {
      const f = m * p[i] - Math.floor(m * p[i]);
      v[i] = f * (1 - f);
    }
  } else if (scheme === "residual") {
    // c_i = ⌊Mp_i⌋ + Binomial(R, r_i), R = M − Σ⌊Mp_j⌋, r_i = frac(Mp_i)/R.
    let rest = m;
    for (let i = 0; i < n; i++) rest -= Math.floor(m * p[i]);
    for (let i = 0; i < n; i++) {
      const r = rest > 0 ? (m * p[i] - Math.floor(m * p[i])) / rest : 0;
      v[i] = rest * r * (1 - r);
    }
  } else {
    // Stratified: c_i = Σ_k Bernoulli(o_ik), independent over strata k, where o_ik is the length of
    // [M·C_{i−1}, M·C_i) ∩ [k, k+1) (C = cumulative weights), so Var = Σ_k o_ik (1 − o_ik).
    let cum = 0;
    for (let i = 0; i < n; i++) {
      const a = m * cum;
      cum += p[i];
      const b = m * cum;
      for (let k = Math.floor(a); k < Math.min(m, Math.ceil(b)); k++) {
        const o = Math.max(0, Math.min(b, k + 1) - Math.max(a, k));
        v[i] += o * (1 - o);
      }
    }
  }
  return v;
}

interface Stats {
  mean: Float64Array;
  variance: Float64Array;
  /** SE of each sample variance: sd over repeats of (c_ri − c̄_i)², over sqrt(R). */
  varianceSE: Float64Array;
  /** Σ_i of the sample variances, and its SE from the per-repeat sums D_r = Σ_i (c_ri − c̄_i)². */
  total: number;
  totalSE: number;
  /** All counts, R × N row-major. */
  counts: Int32Array;
}

/** Runs `scheme` R times with keys split from `key`, checking the structure of every output. */
function repeat(scheme: ResamplingScheme, key: Key, w: Float64Array, m: number, reps: number): Stats {
  const n = w.length;
  const counts = new Int32Array(reps * n);
  const keys = split(key, reps);
  for (let r = 0; r < reps; r++) {
    const idx = resample(scheme, keys[r], w, m);
    assert.equal(idx.length, m);
    for (let k = 0; k < m; k++) {
      const a = idx[k];
      if (!(Number.isInteger(a) && a >= 0 && a < n)) assert.fail(`${scheme}: index ${a} out of range`);
      if (k > 0 && a < idx[k - 1]) assert.fail(`${scheme}: indices not sorted`);
      counts[r * n + a]++;
    }
  }
  const mean = new Float64Array(n);
  for (let r = 0; r < reps; r++) for (let i = 0; i < n; i++) mean[i] += counts[r * n + i] / reps;
  const q1 = new Float64Array(n);
  const q2 = new Float64Array(n);
  let d1 = 0;
  let d2 = 0;
  for (let r = 0; r < reps; r++) {
    let d = 0;
    for (let i = 0; i < n; i++) {
      const q = (counts[r * n + i] - mean[i]) ** 2;
      q1[i] += q;
      q2[i] += q * q;
      d += q;
    }
    d1 += d;
    d2 += d * d;
  }
  const variance = new Float64Array(n);
  const varianceSE = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    variance[i] = q1[i] / (reps - 1);
    const mq = q1[i] / reps;
    varianceSE[i] = Math.sqrt(Math.max(0, q2[i] / reps - mq * mq) / reps);
  }
  const md = d1 / reps;
  return {
    mean,
    variance,
    varianceSE,
    total: d1 / (reps - 1),
    totalSE: Math.sqrt(Math.max(0, d2 / reps - md * md) / reps),
    counts,
  };
}

const REPS = 20_000;
const CONFIGS: { name: string; w: Float64Array; m: number; seed: number }[] = [
  { name: "M = N = 10", w: W, m: 10, seed: 101 },
  { name: "M = 37 > N, unnormalized weights (×3)", w: W.map((v) => 3 * v), m: 37, seed: 102 },
  { name: "M = 3 < N", w: W, m: 3, seed: 103 },
];

// Computed once and shared by the statistical tests below.
const cache = new Map<string, Stats>();
function stats(scheme: ResamplingScheme, cfg: (typeof CONFIGS)[number]): Stats {
  const id = `${scheme}/${cfg.name}`;
  let s = cache.get(id);
  if (!s) {
    s = repeat(scheme, keyFromSeed(cfg.seed), cfg.w, cfg.m, REPS);
    cache.set(id, s);
  }
  return s;
}

describe("resampling statistics", () => {
  for (const scheme of RESAMPLING_SCHEMES) {
    for (const cfg of CONFIGS) {
      test(`${scheme}, ${cfg.name}: unbiased — mean count of every i is M·w_i within 5 SE`, () => {
        const p = normalized(cfg.w);
        const st = stats(scheme, cfg);
        const v = exactVariance(scheme, p, cfg.m);
        for (let i = 0; i < p.length; i++) {
          const expected = cfg.m * p[i];
          if (v[i] === 0) {
            // Zero weight: never selected. (No other entry of W gives an integer M·w_i.)
            assert.equal(p[i], 0);
            assert.equal(st.mean[i], 0, `i=${i}`);
            continue;
          }
          const se = Math.sqrt(v[i] / REPS);
          const z = (st.mean[i] - expected) / se;
          assert.ok(
            Math.abs(z) < K_SD,
            `i=${i}: mean ${st.mean[i]}, expected ${expected}, z = ${z.toFixed(2)}`,
          );
        }
      });

      test(`${scheme}, ${cfg.name}: count variance matches the exact variance within 5 SE`, () => {
        const p = normalized(cfg.w);
        const st = stats(scheme, cfg);
        const v = exactVariance(scheme, p, cfg.m);
        for (let i = 0; i < p.length; i++) {
          if (v[i] === 0) {
            assert.equal(st.variance[i], 0);
            continue;
          }
          const z = (st.variance[i] - v[i]) / st.varianceSE[i];
          assert.ok(Math.abs(z) < K_SD, `i=${i}: var ${st.variance[i]}, exact ${v[i]}, z = ${z.toFixed(2)}`);
        }
      });
    }
  }

  for (const cfg of CONFIGS) {
    test(`${cfg.name}: systematic, stratified and residual have smaller count variance than multinomial`, () => {
      // Compare the summed variances T = Σ_i Var c_i; the SE of each estimate is sd(D_r)/sqrt(R)
      // (see `repeat`), and the two runs are independent, so SE(difference) = sqrt(SE_a² + SE_b²).
      const multi = stats("multinomial", cfg);
      for (const scheme of ["systematic", "stratified", "residual"] as const) {
        const st = stats(scheme, cfg);
        const gap = multi.total - st.total;
        const se = Math.hypot(multi.totalSE, st.totalSE);
        assert.ok(gap > K_SD * se, `${scheme}: T = ${st.total} vs multinomial ${multi.total} (SE ${se})`);
      }
    });

    test(`${cfg.name}: counts stay where theory puts them`, () => {
      const p = normalized(cfg.w);
      const n = p.length;
      const floor = p.map((v) => Math.floor(cfg.m * v));
      const ceil = p.map((v) => Math.ceil(cfg.m * v));
      const rest = cfg.m - floor.reduce((a, b) => a + b, 0);
      const sys = stats("systematic", cfg).counts;
      const strat = stats("stratified", cfg).counts;
      const res = stats("residual", cfg).counts;
      for (let r = 0; r < REPS; r++) {
        for (let i = 0; i < n; i++) {
          const j = r * n + i;
          // Systematic: M·w_i-long interval of a unit-spaced lattice holds ⌊M w_i⌋ or ⌈M w_i⌉ points.
          if (sys[j] < floor[i] || sys[j] > ceil[i]) assert.fail(`systematic c_${i} = ${sys[j]}`);
          // Stratified: the interval contains ≥ ⌊M w_i⌋ − 1 whole strata and meets ≤ ⌈M w_i⌉ + 1 strata.
          if (strat[j] < floor[i] - 1 || strat[j] > ceil[i] + 1)
            assert.fail(`stratified c_${i} = ${strat[j]}`);
          // Residual: ⌊M w_i⌋ deterministic copies plus at most `rest` random ones.
          if (res[j] < floor[i] || res[j] > floor[i] + rest) assert.fail(`residual c_${i} = ${res[j]}`);
        }
      }
    });
  }
});

describe("resampling structure", () => {
  test("zero weights (first, middle, last) are never selected", () => {
    const w = Float64Array.from([0, 0.3, 0, 0.5, 1e-3, 0.199, 0]);
    const keys = split(keyFromSeed(7), 5000);
    for (const scheme of RESAMPLING_SCHEMES)
      for (const m of [1, 7, 13])
        for (const k of keys) {
          const idx = resample(scheme, k, w, m);
          for (const a of idx)
            if (w[a] === 0) assert.fail(`${scheme} M=${m} selected zero-weight index ${a}`);
        }
  });

  test("a single positive weight takes every draw", () => {
    const w = Float64Array.from([0, 0, 2.5, 0]);
    for (const scheme of RESAMPLING_SCHEMES)
      for (const k of split(keyFromSeed(8), 100))
        assert.deepEqual([...resample(scheme, k, w, 6)], [2, 2, 2, 2, 2, 2], scheme);
  });

  test("uniform weights: systematic and residual return each index exactly once", () => {
    const w = new Float64Array(8).fill(1 / 8);
    const identity = [0, 1, 2, 3, 4, 5, 6, 7];
    for (const k of split(keyFromSeed(9), 100)) {
      assert.deepEqual([...systematic(k, w)], identity);
      assert.deepEqual([...residual(k, w)], identity);
      assert.equal(stratified(k, w, 16).length, 16);
    }
  });

  test("invalid weights throw RangeError", () => {
    const bad = [
      [0.5, -0.1, 0.6],
      [Number.NaN, 1],
      [0.2, Number.NaN],
      [0, 0, 0],
      [Number.POSITIVE_INFINITY, 1],
      [],
    ];
    for (const scheme of RESAMPLING_SCHEMES)
      for (const w of bad)
        assert.throws(
          () => resample(scheme, keyFromSeed(1), Float64Array.from(w), 4),
          RangeError,
          `${scheme} ${w}`,
        );
    assert.throws(() => multinomial(keyFromSeed(1), Float64Array.from([-1, 2])), RangeError);
  });

  test("M ≠ N: output length M, including M = 0 and M = 1", () => {
    for (const scheme of RESAMPLING_SCHEMES)
      for (const m of [0, 1, 3, 10, 37, 1000]) {
        const idx = resample(scheme, keyFromSeed(m), W, m);
        assert.equal(idx.length, m, `${scheme} M=${m}`);
        for (let k = 1; k < m; k++) assert.ok(idx[k] >= idx[k - 1]);
      }
  });

  test("deterministic for a fixed key; resample dispatches to the named scheme; out is filled and returned", () => {
    const direct = { multinomial, systematic, stratified, residual };
    const k = keyFromSeed(42);
    for (const scheme of RESAMPLING_SCHEMES) {
      const a = resample(scheme, k, W, 25);
      assert.deepEqual(resample(scheme, k, W, 25), a);
      assert.deepEqual(direct[scheme](k, W, 25), a);
      const out = new Int32Array(25);
      assert.equal(resample(scheme, k, W, 25, out), out);
      assert.deepEqual(out, a);
    }
    // Different keys give different draws (the chance that 20 multinomial draws of 25 all coincide is nil).
    const outs = new Set(split(k, 20).map((c) => multinomial(c, W, 25).join(",")));
    assert.equal(outs.size, 20);
  });

  test("scaling the weights by a power of two leaves every scheme's output bit-identical", () => {
    // Multiplying by 2^k is exact in floating point, so normalization must not change any decision.
    for (const scheme of RESAMPLING_SCHEMES)
      for (const k of split(keyFromSeed(43), 50)) {
        const a = resample(scheme, k, W, 17);
        assert.deepEqual(
          resample(
            scheme,
            k,
            W.map((v) => v * 1024),
            17,
          ),
          a,
          scheme,
        );
        assert.deepEqual(
          resample(
            scheme,
            k,
            W.map((v) => v / 64),
            17,
          ),
          a,
          scheme,
        );
      }
  });
});

describe("gatherRows", () => {
  test("copies row idx[k] of src into row k of dst", () => {
    const dim = 3;
    const src = Float64Array.from([0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32]);
    const idx = Int32Array.from([0, 0, 2, 3, 3, 3]);
    const dst = new Float64Array(idx.length * dim).fill(-1);
    assert.equal(gatherRows(src, dim, idx, dst), dst);
    assert.deepEqual([...dst], [0, 1, 2, 0, 1, 2, 20, 21, 22, 30, 31, 32, 30, 31, 32, 30, 31, 32]);
    assert.deepEqual([...src], [0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32]);
    // dim = 1 and fewer rows out than in.
    assert.deepEqual([...gatherRows(src, 1, Int32Array.from([11, 4]), new Float64Array(2))], [32, 11]);
  });

  test("with resampled indices, each output row is a copy of its ancestor's row", () => {
    const n = 10;
    const dim = 4;
    const src = new Float64Array(n * dim);
    for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) src[i * dim + j] = i + j / 10;
    const idx = systematic(keyFromSeed(44), W, 15);
    const dst = gatherRows(src, dim, idx, new Float64Array(15 * dim));
    for (let k = 0; k < 15; k++)
      for (let j = 0; j < dim; j++) assert.equal(dst[k * dim + j], src[idx[k] * dim + j]);
  });
});
