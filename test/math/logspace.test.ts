/**
 * Tests for the log-space helpers. These are numerical, not statistical: tolerances are floating-point
 * error bounds (a few ulps times the number of terms), stated at each check.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  essFromLogWeights,
  essFromWeights,
  logMeanExp,
  logSumExp,
  meanVar,
  normalizedWeights,
} from "../../src/math/logspace.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";

const EPS = Number.EPSILON;

function close(actual: number, expected: number, relTol: number, msg = ""): void {
  const err = Math.abs(actual - expected);
  assert.ok(err <= relTol * Math.max(1, Math.abs(expected)), `${msg} got ${actual}, expected ${expected}`);
}

function randomArray(seed: number, n: number, lo: number, hi: number): Float64Array {
  const s = new Stream(keyFromSeed(seed));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * s.uniform();
  return out;
}

describe("logSumExp", () => {
  test("matches the naive log Σ exp on moderate inputs", () => {
    for (const n of [1, 2, 3, 10, 100, 1000]) {
      const a = randomArray(n, n, -20, 20);
      let s = 0;
      for (const v of a) s += Math.exp(v);
      // Both sides sum n positive terms: relative error ≲ n·eps in the sum, i.e. ≲ n·eps absolute in the log.
      close(logSumExp(a), Math.log(s), 4 * n * EPS, `n=${n}`);
      close(logSumExp(Array.from(a)), Math.log(s), 4 * n * EPS, `number[] n=${n}`);
    }
    assert.equal(logSumExp([0]), 0);
    close(logSumExp([Math.log(2), Math.log(3), Math.log(5)]), Math.log(10), 4 * EPS);
  });

  test("is stable for huge and tiny values", () => {
    close(logSumExp([1000, 1000]), 1000 + Math.LN2, 4 * EPS);
    close(logSumExp([-1000, -1000]), -1000 + Math.LN2, 4 * EPS);
    close(logSumExp([1000, 0]), 1000, 4 * EPS);
    close(logSumExp([-1e300, 0]), 0, 4 * EPS);
    close(logSumExp([1e300, 1e300]), 1e300, 4 * EPS);
    close(logSumExp([-745.2, -745.2, -745.2]), -745.2 + Math.log(3), 4 * EPS); // exp underflows naively
    close(logSumExp([709.5, 709.5]), 709.5 + Math.LN2, 4 * EPS); // exp overflows naively
    assert.ok(Number.isFinite(logSumExp([800, 801, 802])));
  });

  test("handles −∞ entries, +∞, and empty input", () => {
    close(logSumExp([Number.NEGATIVE_INFINITY, 0]), 0, 0);
    close(logSumExp([Number.NEGATIVE_INFINITY, 5, Number.NEGATIVE_INFINITY, 5]), 5 + Math.LN2, 4 * EPS);
    assert.equal(logSumExp([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]), Number.NEGATIVE_INFINITY);
    assert.equal(logSumExp([]), Number.NEGATIVE_INFINITY);
    assert.equal(logSumExp(new Float64Array(0)), Number.NEGATIVE_INFINITY);
    assert.equal(logSumExp([Number.POSITIVE_INFINITY, 0]), Number.POSITIVE_INFINITY);
    assert.equal(
      logSumExp([0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]),
      Number.POSITIVE_INFINITY,
    );
  });

  test("propagates NaN wherever it appears", () => {
    const nan = Number.NaN;
    const ninf = Number.NEGATIVE_INFINITY;
    const inf = Number.POSITIVE_INFINITY;
    for (const a of [
      [nan],
      [nan, 1],
      [1, nan],
      [0, nan, 2],
      [ninf, nan],
      [nan, ninf],
      [inf, nan],
      [nan, inf],
    ]) {
      assert.ok(Number.isNaN(logSumExp(a)), `logSumExp(${a})`);
      assert.ok(Number.isNaN(logSumExp(Float64Array.from(a))), `logSumExp(Float64Array ${a})`);
    }
  });

  test("respects the length argument and accepts Float32Array", () => {
    const a = [1, 2, 1000];
    close(logSumExp(a, 2), Math.log(Math.exp(1) + Math.exp(2)), 4 * EPS);
    assert.equal(logSumExp(a, 0), Number.NEGATIVE_INFINITY);
    const f = new Float32Array([0.5, -1.25, 3]);
    close(logSumExp(f), Math.log(Math.exp(0.5) + Math.exp(-1.25) + Math.exp(3)), 8 * EPS);
  });

  test("logMeanExp is logSumExp − log n", () => {
    close(logMeanExp([Math.log(1), Math.log(3)]), Math.log(2), 4 * EPS);
    close(logMeanExp([1000, 1000, 1000]), 1000, 4 * EPS);
    const a = randomArray(99, 50, -3, 3);
    close(logMeanExp(a), logSumExp(a) - Math.log(50), 4 * EPS);
    close(logMeanExp(a, 10), logSumExp(a, 10) - Math.log(10), 4 * EPS);
  });
});

describe("normalizedWeights", () => {
  test("weights sum to 1, match exp(a − lse) to a few ulps, and the return value is the logsumexp", () => {
    for (const [seed, lo, hi] of [
      [1, -5, 5],
      [2, -700, 700],
      [3, 1e4, 1e4 + 30],
    ] as [number, number, number][]) {
      const a = randomArray(seed, 257, lo, hi);
      const w = new Float64Array(a.length);
      const lse = normalizedWeights(a, w);
      assert.equal(lse, logSumExp(a));
      let s = 0;
      for (let i = 0; i < w.length; i++) {
        assert.ok(w[i] >= 0 && w[i] <= 1);
        // e^{a−m}/s against e^{a−lse}: both round the exponent's subtraction (absolute error up to
        // ε·(|a| + |lse|), a relative error of the exponential) plus a few ulps from exp, log and division.
        const exact = Math.exp(a[i] - lse);
        // Below 2^−1022 the spacing of doubles is fixed (Number.MIN_VALUE): allow a few such steps.
        const tol =
          Number.EPSILON * (8 + 2 * (Math.abs(a[i]) + Math.abs(lse))) * exact + 4 * Number.MIN_VALUE;
        assert.ok(Math.abs(w[i] - exact) <= tol, `${w[i]} vs ${exact}`);
        s += w[i];
      }
      // Each w_i carries ≲ (|lse|+1)·eps relative error from exp(a_i − lse); summing adds ≲ n·eps.
      close(s, 1, (w.length + Math.abs(lse) + 4) * EPS, `sum (seed ${seed})`);
    }
  });

  test("known values, with huge offsets and −∞ entries", () => {
    const w = new Float64Array(3);
    normalizedWeights([1000, 1000 + Math.log(3), Number.NEGATIVE_INFINITY], w);
    close(w[0], 0.25, 8 * EPS * 1000);
    close(w[1], 0.75, 8 * EPS * 1000);
    assert.equal(w[2], 0);
  });

  test("throws RangeError when the weights cannot be normalized", () => {
    const ninf = Number.NEGATIVE_INFINITY;
    for (const a of [[ninf, ninf], [0, Number.NaN], [Number.POSITIVE_INFINITY, 0], []]) {
      assert.throws(() => normalizedWeights(a, new Float64Array(a.length)), RangeError, `${a}`);
    }
  });
});

describe("effective sample size", () => {
  test("equal weights give n; one-hot gives 1", () => {
    for (const n of [1, 2, 7, 1000]) {
      close(essFromLogWeights(new Float64Array(n).fill(-3.7)), n, 4 * n * EPS);
      close(essFromLogWeights(new Float64Array(n).fill(1e4)), n, 4 * n * EPS);
      close(essFromWeights(new Float64Array(n).fill(1 / n)), n, 4 * n * EPS);
      const logw = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
      logw[n >> 1] = 12;
      assert.equal(essFromLogWeights(logw), 1);
      const w = new Float64Array(n);
      w[n >> 1] = 1;
      assert.equal(essFromWeights(w), 1);
    }
  });

  test("two-valued weights: half a, half b gives n (a+b)² / (2(a²+b²))", () => {
    // Σw = (n/2)(a+b), Σw² = (n/2)(a²+b²), so (Σw)²/Σw² = n (a+b)² / (2 (a²+b²)).
    for (const [n, a, b] of [
      [10, 1, 3],
      [1000, 0.2, 5],
      [64, 1e-6, 1],
    ]) {
      const expected = (n * (a + b) ** 2) / (2 * (a * a + b * b));
      const logw = new Float64Array(n);
      for (let i = 0; i < n; i++) logw[i] = Math.log(i % 2 === 0 ? a : b);
      close(essFromLogWeights(logw), expected, 8 * n * EPS, `log, n=${n}`);
      // Shifting all log-weights leaves the ESS unchanged.
      close(essFromLogWeights(logw.map((v) => v + 500)), expected, 8 * n * EPS, `shifted, n=${n}`);
      const w = new Float64Array(n);
      normalizedWeights(logw, w);
      close(essFromWeights(w), expected, 8 * n * EPS, `normalized, n=${n}`);
    }
  });

  test("essFromLogWeights equals essFromWeights on the same (normalized) weights, and lies in [1, n]", () => {
    for (const [seed, spread] of [
      [1, 0.1],
      [2, 3],
      [3, 50],
      [4, 1000],
    ]) {
      const n = 300;
      const logw = randomArray(seed, n, -spread, spread);
      const w = new Float64Array(n);
      normalizedWeights(logw, w);
      const a = essFromLogWeights(logw);
      const b = essFromWeights(w);
      close(a, b, 16 * n * EPS * Math.max(1, b), `spread ${spread}`);
      assert.ok(a >= 1 - 1e-12 && a <= n * (1 + 1e-12), `ess ${a}`);
    }
    // The length argument restricts both to a prefix.
    const logw = [0.3, -1.2, 2.5, 40, 0];
    const w = new Float64Array(3);
    normalizedWeights(logw, w);
    close(essFromLogWeights(logw, 3), essFromWeights(w), 16 * EPS);
    close(essFromWeights([0.5, 0.5, 0.9], 2), 2, 4 * EPS);
  });

  test("essFromLogWeights is NaN when there is no finite weight", () => {
    assert.ok(Number.isNaN(essFromLogWeights([])));
    assert.ok(Number.isNaN(essFromLogWeights([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY])));
    assert.ok(Number.isNaN(essFromLogWeights([0, Number.NaN])));
  });
});

describe("meanVar", () => {
  function twoPass(x: ArrayLike<number>): { mean: number; variance: number } {
    let m = 0;
    for (let i = 0; i < x.length; i++) m += x[i];
    m /= x.length;
    let ss = 0;
    let c = 0;
    for (let i = 0; i < x.length; i++) {
      ss += (x[i] - m) ** 2;
      c += x[i] - m;
    }
    // Corrected two-pass (Björck): removes the first-order error of the mean.
    return { mean: m, variance: (ss - (c * c) / x.length) / (x.length - 1) };
  }

  test("exact small cases", () => {
    assert.deepEqual(meanVar([1, 2, 3, 4]), { mean: 2.5, variance: 5 / 3 });
    assert.deepEqual(meanVar(new Float32Array([2, 2, 2])), { mean: 2, variance: 0 });
    const one = meanVar([7]);
    assert.equal(one.mean, 7);
    assert.ok(Number.isNaN(one.variance));
    assert.deepEqual(meanVar([1, 2, 3, 1000], 3), { mean: 2, variance: 1 });
  });

  test("agrees with the two-pass formula, including with a large offset", () => {
    for (const [seed, offset, n] of [
      [1, 0, 10],
      [2, 0, 10_000],
      [3, 1e6, 10_000],
      [4, 1e9, 1000],
    ]) {
      const s = new Stream(keyFromSeed(seed));
      const x = s.fillNormal(new Float64Array(n), offset, 2);
      const got = meanVar(x);
      const ref = twoPass(x);
      // Mean: both are sums of n terms of size ~|offset|: error ≲ n·eps·(|offset| + 10).
      close(
        got.mean,
        ref.mean,
        (4 * n * EPS * (Math.abs(offset) + 10)) / Math.max(1, Math.abs(ref.mean)),
        `mean ${seed}`,
      );
      // Worst-case bound: Welford's variance has relative error ≲ n·eps·(1 + |offset|/σ) (the data's
      // condition number). The naive one-pass formula exceeds it by orders of magnitude at these offsets
      // (relative error ≈ 2e-3 at offset 1e6 and ≈ 600 at 1e9 with these seeds).
      const relVar = Math.abs(got.variance - ref.variance) / ref.variance;
      assert.ok(relVar < 4 * n * EPS * (1 + Math.abs(offset) / 2), `variance ${seed}: rel err ${relVar}`);
    }
  });

  test("is not the naive E[x²] − E[x]² (which loses everything at offset 1e8)", () => {
    // Values 1e8 + {0, 1, 2, 3}: exact variance 5/3, exactly representable inputs.
    const x = [1e8, 1e8 + 1, 1e8 + 2, 1e8 + 3];
    const { mean, variance } = meanVar(x);
    assert.equal(mean, 1e8 + 1.5);
    close(variance, 5 / 3, 1e-12);
  });
});
