/**
 * Per-chain streams (src/random/chains.ts): derivation from (key, chain), independence of the batch size
 * and of the drawing order, and the distribution of the draws.
 *
 * Statistical checks use fixed seeds; every tolerance is K_SD = 5 Monte-Carlo standard errors, the standard
 * error derived in a comment next to the check (a correct generator fails a given check with probability
 * ≈ 6e-7; with fixed seeds the outcome is deterministic anyway).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  CHAIN_STATE_WORDS,
  CHAIN_STREAMS_SEED,
  ChainStreams,
  chainKey,
  retryKey,
  seedChainStates,
} from "../../src/random/chains.ts";
import { foldIn, keyFromSeed, split, Stream, ZIGGURAT_R } from "../../src/random/key.ts";

const K_SD = 5;

/** Standard normal CDF via erfc (Abramowitz & Stegun 7.1.26, |error| ≤ 1.5e-7, far below any tolerance here). */
function phi(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erfc = poly * Math.exp(-x * x);
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** Sample mean and central moments m2, m3, m4 (two-pass). */
function moments(x: ArrayLike<number>): { mean: number; m2: number; m3: number; m4: number } {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i];
  mean /= n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i] - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  return { mean, m2: m2 / n, m3: m3 / n, m4: m4 / n };
}

function correlation(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** Kolmogorov–Smirnov statistic D = sup |F_n − F| of a sample against a continuous CDF. */
function ksStatistic(sample: Float64Array, cdf: (x: number) => number): number {
  const x = Float64Array.from(sample).sort();
  const n = x.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(x[i]);
    d = Math.max(d, (i + 1) / n - f, f - i / n);
  }
  return d;
}

/** Every chain's next `m` normals, row i = chain i. */
function normalRows(key = keyFromSeed(1), n = 1000, m = 1000): Float64Array {
  return new ChainStreams(key, n).fillNormalRows(new Float64Array(n * m), m);
}

describe("chain streams: derivation", () => {
  test("chain i's main and retry streams are the Streams of chainKey(key, i) and retryKey(key, i)", () => {
    const key = keyFromSeed(11);
    const cs = new ChainStreams(key, 40);
    const words = cs.stateWords();
    assert.equal(words.length, CHAIN_STATE_WORDS * 40);
    for (let i = 0; i < 40; i++) {
      assert.deepEqual(words.subarray(8 * i, 8 * i + 4), new Stream(chainKey(key, i)).stateWords());
      assert.deepEqual(words.subarray(8 * i + 4, 8 * i + 8), new Stream(retryKey(key, i)).stateWords());
      const s = new Stream(chainKey(key, i));
      for (let t = 0; t < 5; t++) {
        assert.equal(cs.nextU32(i), s.nextU32());
        assert.equal(cs.uniform(i), s.uniform());
        assert.equal(cs.uniformOpen(i), s.uniformOpen());
      }
    }
  });

  test("the TypeScript seeding loop (int32 arithmetic) gives key.ts's bits, also for indices near 2^32", () => {
    const seed = CHAIN_STREAMS_SEED.from("typescript").impl!;
    for (const key of [keyFromSeed(0), keyFromSeed(-7), foldIn(keyFromSeed(3), 12345)]) {
      for (const first of [0, 1000, 2 ** 31 - 3, 2 ** 32 - 5]) {
        const out = new Int32Array(CHAIN_STATE_WORDS * 5);
        seed(key, first, 5, out);
        for (let i = 0; i < 5; i++) {
          assert.deepEqual(out.subarray(8 * i, 8 * i + 4), new Stream(chainKey(key, first + i)).stateWords());
          assert.deepEqual(
            out.subarray(8 * i + 4, 8 * i + 8),
            new Stream(retryKey(key, first + i)).stateWords(),
          );
        }
      }
    }
  });

  test("chain keys are distinct across chains and from split/foldIn children", () => {
    const key = keyFromSeed(5);
    const ids = new Set<string>();
    const add = (k: { hi: number; lo: number }) => ids.add(`${k.hi}:${k.lo}`);
    for (let i = 0; i < 5000; i++) {
      add(chainKey(key, i));
      add(retryKey(key, i));
    }
    for (const k of split(key, 5000)) add(k);
    for (let i = 0; i < 5000; i++) add(foldIn(key, i));
    assert.equal(ids.size, 4 * 5000);
  });

  test("argument checks", () => {
    const key = keyFromSeed(1);
    assert.throws(() => seedChainStates(key, -1, 2, new Int32Array(16)), RangeError);
    assert.throws(() => seedChainStates(key, 0, 1.5, new Int32Array(16)), RangeError);
    assert.throws(() => seedChainStates(key, 2 ** 32 - 1, 2, new Int32Array(16)), RangeError);
    assert.throws(() => seedChainStates(key, 0, 3, new Int32Array(16)), RangeError);
    const cs = new ChainStreams(key, 3);
    assert.throws(() => cs.normal(3), RangeError);
    assert.throws(() => cs.uniform(-1), RangeError);
    assert.throws(() => cs.fillNormalRows(new Float64Array(5), 2), RangeError);
  });
});

describe("chain streams: reproducibility and independence of n and order", () => {
  test("same key, same draws; another key, other draws", () => {
    const a = normalRows(keyFromSeed(2), 30, 50);
    const b = normalRows(keyFromSeed(2), 30, 50);
    const c = normalRows(keyFromSeed(3), 30, 50);
    assert.deepEqual(a, b);
    let same = 0;
    for (let i = 0; i < a.length; i++) same += a[i] === c[i] ? 1 : 0;
    assert.equal(same, 0);
  });

  test("a chain's draws do not depend on n, on `first`, or on the order the chains are drawn in", () => {
    const key = keyFromSeed(4);
    const m = 300; // several hundred normals per chain: wedge and tail retries happen in most chains
    const ref = normalRows(key, 64, m);
    // Fewer chains, and a window of chains starting at `first`.
    assert.deepEqual(normalRows(key, 9, m), ref.subarray(0, 9 * m));
    const window = new ChainStreams(key, 20, 40).fillNormalRows(new Float64Array(20 * m), m);
    assert.deepEqual(window, ref.subarray(40 * m, 60 * m));
    // Chains drawn in reverse order, one draw at a time, interleaved with uniforms of other chains.
    const cs = new ChainStreams(key, 64);
    const out = new Float64Array(64 * m);
    const other = new ChainStreams(key, 64); // a separate object: its draws must not disturb cs
    for (let k = 0; k < m; k++)
      for (let i = 63; i >= 0; i--) {
        out[i * m + k] = cs.normal(i);
        other.uniform(63 - i);
      }
    assert.deepEqual(out, ref);
  });

  test("fillNormal continues the sequence of normal(); uniforms continue after normals", () => {
    const key = keyFromSeed(6);
    const a = new ChainStreams(key, 3);
    const b = new ChainStreams(key, 3);
    const fill = a.fillNormal(1, new Float64Array(700));
    const one = Float64Array.from({ length: 700 }, () => b.normal(1));
    assert.deepEqual(fill, one);
    assert.equal(a.uniformOpen(1), b.uniformOpen(1));
    // Float32 fills round the same draws.
    const c = new ChainStreams(key, 3).fillNormal(1, new Float32Array(700));
    for (let k = 0; k < 700; k++) assert.equal(c[k], Math.fround(fill[k]));
  });

  test("the main stream advances exactly two words per normal, whatever the values", () => {
    // After m normals the main stream is 2m words in (retries use the retry stream): check the next word.
    const key = keyFromSeed(7);
    for (const m of [1, 10, 500]) {
      const cs = new ChainStreams(key, 50);
      const s = new Stream(chainKey(key, 17));
      cs.fillNormal(17, new Float64Array(m));
      for (let w = 0; w < 2 * m; w++) s.nextU32();
      assert.equal(cs.nextU32(17), s.nextU32(), `after ${m} normals`);
    }
  });

  test("fillUniform: [0, 1), and below 1 in a Float32Array", () => {
    const cs = new ChainStreams(keyFromSeed(8), 4);
    const u = cs.fillUniform(2, new Float64Array(100_000));
    assert.ok(u.every((v) => v >= 0 && v < 1));
    const f = cs.fillUniform(3, new Float32Array(100_000));
    assert.ok(f.every((v) => v >= 0 && v < 1));
  });
});

describe("chain streams: distribution", () => {
  const N_CHAINS = 1000;
  const M = 1000; // 10^6 normals
  const x = normalRows(keyFromSeed(9), N_CHAINS, M);

  test("normal moments over 10^6 draws of 1000 chains: mean 0, variance 1, skewness 0, kurtosis 3", () => {
    const N = x.length;
    const { mean, m2, m3, m4 } = moments(x);
    // SE(mean) = 1/√N; SE(var) = √(Var Z²/N) = √(2/N); sample skewness and kurtosis: √(6/N), √(24/N).
    assert.ok(Math.abs(mean) < K_SD / Math.sqrt(N), `mean ${mean}`);
    assert.ok(Math.abs(m2 - 1) < K_SD * Math.sqrt(2 / N), `var ${m2}`);
    const skew = m3 / m2 ** 1.5;
    const kurt = m4 / (m2 * m2);
    assert.ok(Math.abs(skew) < K_SD * Math.sqrt(6 / N), `skew ${skew}`);
    assert.ok(Math.abs(kurt - 3) < K_SD * Math.sqrt(24 / N), `kurtosis ${kurt}`);
  });

  test("per-chain means and variances are those of independent N(0, 1) samples", () => {
    // Each chain's mean ~ N(0, 1/M): Σ_i M·mean_i² ~ χ²_1000 (mean 1000, sd √2000). Each chain's variance
    // has SE √(2/M): Σ_i (var_i − 1)²/(2/M) is ≈ χ²_1000 as well. 5 sd of χ²_1000 ≈ 224.
    let chiMean = 0;
    let chiVar = 0;
    for (let i = 0; i < N_CHAINS; i++) {
      const { mean, m2 } = moments(x.subarray(i * M, (i + 1) * M));
      chiMean += M * mean * mean;
      chiVar += (m2 - 1) ** 2 / (2 / M);
    }
    const sd = Math.sqrt(2 * N_CHAINS);
    assert.ok(Math.abs(chiMean - N_CHAINS) < K_SD * sd, `Σ M·mean² = ${chiMean}`);
    // The variance statistic is only approximately χ² (var_i is not exactly normal): allow the same 5 sd
    // plus its O(1) bias (E(var_i − 1)² = 2/M + O(1/M²)).
    assert.ok(Math.abs(chiVar - N_CHAINS) < K_SD * sd, `Σ (var − 1)²·M/2 = ${chiVar}`);
  });

  test("adjacent chains' draws are uncorrelated (same index k, and first draws along the chain index)", () => {
    // Under independence the sample correlation of n pairs has SE ≈ 1/√n.
    const n = (N_CHAINS - 1) * M;
    const a = new Float64Array(n);
    const b = new Float64Array(n);
    for (let i = 0; i + 1 < N_CHAINS; i++) {
      a.set(x.subarray(i * M, (i + 1) * M), i * M);
      b.set(x.subarray((i + 1) * M, (i + 2) * M), i * M);
    }
    const r = correlation(a, b);
    assert.ok(Math.abs(r) < K_SD / Math.sqrt(n), `corr(chain i, chain i+1) = ${r}`);
    // Squares: catches dependent magnitudes.
    const r2 = correlation(
      a.map((v) => v * v),
      b.map((v) => v * v),
    );
    assert.ok(Math.abs(r2) < K_SD / Math.sqrt(n), `corr of squares = ${r2}`);
    // First normals of 10^5 consecutive chains (the draws most exposed to a weak seeding): lag-1 correlation.
    const first = normalRows(keyFromSeed(10), 100_000, 1);
    const lag = correlation(first.subarray(0, first.length - 1), first.subarray(1));
    assert.ok(Math.abs(lag) < K_SD / Math.sqrt(first.length - 1), `lag-1 over chains ${lag}`);
    const { mean, m2 } = moments(first);
    assert.ok(Math.abs(mean) < K_SD / Math.sqrt(first.length), `first-draw mean ${mean}`);
    assert.ok(Math.abs(m2 - 1) < K_SD * Math.sqrt(2 / first.length), `first-draw var ${m2}`);
  });

  test("the CDF matches Φ in a KS test, and the retried regions (wedges, tail) carry the right mass", () => {
    // KS on 10^5 draws; the α = 0.001 critical value is 1.949/√n.
    const n = 100_000;
    const d = ksStatistic(x.subarray(0, n), phi);
    assert.ok(d < 1.949 / Math.sqrt(n), `D = ${d}`);
    // |Z| > r comes only from the tail branch (retry stream); (0.2, 0.3] and (2.2, 2.4] contain layer
    // edges whose wedges are decided by retries. Counts are binomial: SE = √(N p (1 − p)).
    const N = x.length;
    for (const [lo, hi] of [
      [ZIGGURAT_R, Number.POSITIVE_INFINITY],
      [0.2, 0.3],
      [2.2, 2.4],
    ]) {
      const p = 2 * ((hi === Number.POSITIVE_INFINITY ? 1 : phi(hi)) - phi(lo));
      let c = 0;
      for (let i = 0; i < N; i++) {
        const v = Math.abs(x[i]);
        if (v > lo && v <= hi) c++;
      }
      assert.ok(Math.abs(c - N * p) < K_SD * Math.sqrt(N * p * (1 - p)) + 1, `|Z| in (${lo}, ${hi}]: ${c}`);
    }
  });

  test("uniforms across chains: mean 1/2, variance 1/12, uncorrelated neighbours", () => {
    const n = 200_000;
    const cs = new ChainStreams(keyFromSeed(12), n);
    const u = Float64Array.from({ length: n }, (_, i) => cs.uniformOpen(i));
    assert.ok(u.every((v) => v > 0 && v < 1));
    const { mean, m2 } = moments(u);
    // SE(mean) = √(1/(12n)); SE(var) = √(1/(180 n)) (Var (U − ½)² = 1/80 − 1/144).
    assert.ok(Math.abs(mean - 0.5) < K_SD * Math.sqrt(1 / 12 / n), `mean ${mean}`);
    assert.ok(Math.abs(m2 - 1 / 12) < K_SD * Math.sqrt(1 / 180 / n), `var ${m2}`);
    const lag = correlation(u.subarray(0, n - 1), u.subarray(1));
    assert.ok(Math.abs(lag) < K_SD / Math.sqrt(n - 1), `lag-1 ${lag}`);
  });
});
