/**
 * Tests for the MCMC diagnostics (src/eval/diagnostics.ts).
 *
 * Exact checks compare with values worked out by hand (autocovariance, ranks, a 2 × 6 ESS and R-hat) or
 * with reference values from a numpy/scipy transcription of ArviZ's `_ess`, `_ess_bulk`, `_ess_tail`,
 * `_ess_quantile`, `_ess_mean`, `_rhat`, `_rhat_rank`, `_split_chains`, `_z_scale`, `autocov` (numpy FFT
 * with `next_fast_len` padding, scipy `rankdata` / `norm.ppf`, `mquantiles` type 7) and posterior's
 * `mcse_sd`, run on deterministic integer-generated sequences that both languages produce bit for bit.
 * Those differ from ours only by rounding (a different FFT and normal quantile): agreement to 1e-12
 * relative is asked (observed ≤ 4e-15); Geyer's truncation is a discrete decision that could flip only
 * for a pair sum within ~1e-15 of 0, which these data do not have.
 *
 * Statistical checks use fixed seeds; each tolerance is derived in a comment from the sampling sd of the
 * estimate, and the derived sd was confirmed by measuring it over 200–300 other seeds (stated).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  acceptanceRate,
  autocovariance,
  essBasic,
  essBulk,
  essMean,
  essQuantile,
  essSd,
  essTail,
  extractQuantity,
  mcseMean,
  mcseSd,
  normalQuantile,
  rankNormalize,
  rhat,
  rhatBasic,
  splitChains,
  summarize,
  summarizeChains,
} from "../../src/eval/diagnostics.ts";
import { type Key, keyFromSeed, Stream, split } from "../../src/random/key.ts";
import { assertClose } from "../helpers.ts";

/**
 * `chains` AR(1) chains (chain-major), x_t = ρ x_{t−1} + sqrt(1 − ρ²) ε_t started from the stationary
 * N(0, 1); ρ = 0 gives iid N(0, 1). `shiftFirstHalf` is added to the first ⌊draws/2⌋ draws of each chain.
 */
function ar1(key: Key, chains: number, draws: number, rho: number, shiftFirstHalf = 0): Float64Array {
  const s = new Stream(key);
  const x = new Float64Array(chains * draws);
  const k = Math.sqrt(1 - rho * rho);
  for (let c = 0; c < chains; c++) {
    let v = s.normal();
    for (let t = 0; t < draws; t++) {
      if (t > 0) v = rho * v + k * s.normal();
      x[c * draws + t] = v + (t < Math.floor(draws / 2) ? shiftFirstHalf : 0);
    }
  }
  return x;
}

/**
 * The deterministic sequences of the reference values (the same integer recipe in the Python transcription):
 * u_t ∈ [−0.5, 0.5) from integer arithmetic; "ar": y_t = 0.8·y_{t−1} + u_t; "ties": y_t rounded to
 * multiples of 1/4; "scale": u_t·(1 + 2c), chains that differ in scale only (the folded R-hat dominates).
 */
type RefMode = "ar" | "ties" | "scale";
function refSequence(chains: number, draws: number, mode: RefMode): Float64Array {
  const out = new Float64Array(chains * draws);
  for (let c = 0; c < chains; c++) {
    let y = 0;
    for (let t = 0; t < draws; t++) {
      const u = ((t * 7919 + c * 104729 + ((t * t) % 1009) * 31) % 1013) / 1013 - 0.5;
      y = 0.8 * y + u;
      out[c * draws + t] =
        mode === "scale" ? u * (1 + 2 * c) : mode === "ties" ? Math.floor(y * 4 + 0.5) / 4 : y;
    }
  }
  return out;
}

function mean(a: number[]): number {
  return a.reduce((s, v) => s + v, 0) / a.length;
}

describe("normalQuantile", () => {
  test("matches scipy's ndtri at central, intermediate and far-tail points", () => {
    // Reference values from scipy.special.ndtri (Cephes, an independent algorithm), to ~1e-16 relative.
    const cases: [number, number][] = [
      [0.975, 1.959963984540054],
      [0.8413447460685429, 1.0],
      [0.3, -0.5244005127080409],
      [0.02425, -1.972961051311885],
      [1e-10, -6.361340902404056],
      [1e-20, -9.262340089798409],
    ];
    // AS 241 is accurate to ~1e-16 relative; 4e-15 allows a few ulps in both implementations.
    for (const [p, z] of cases) assertClose(normalQuantile(p), z, 4e-15, 4e-15, `Φ⁻¹(${p})`);
    assert.equal(normalQuantile(0.5), 0);
    assert.equal(normalQuantile(0), Number.NEGATIVE_INFINITY);
    assert.equal(normalQuantile(1), Number.POSITIVE_INFINITY);
    assert.ok(Number.isNaN(normalQuantile(1.5)));
    assert.ok(Number.isNaN(normalQuantile(Number.NaN)));
  });

  test("is odd about 1/2: Φ⁻¹(1 − p) = −Φ⁻¹(p) for p exactly representable together with 1 − p", () => {
    for (const p of [0.25, 0.125, 0.0625, 2 ** -20, 2 ** -40]) {
      assertClose(normalQuantile(1 - p), -normalQuantile(p), 1e-14, 1e-14, `p=${p}`);
    }
  });
});

describe("autocovariance", () => {
  test("a short sequence by hand: x = [1, 3, 2, 5, 4]", () => {
    // x̄ = 3, deviations d = [−2, 0, −1, 2, 1]; γ̂_k = (1/5) Σ_t d_t d_{t+k}:
    // γ̂_0 = 10/5 = 2, γ̂_1 = (0 + 0 − 2 + 2)/5 = 0, γ̂_2 = (2 + 0 − 1)/5 = 0.2, γ̂_3 = (−4 + 0)/5 = −0.8,
    // γ̂_4 = −2/5 = −0.4. FFT rounding: ~1e-16 × log2(16) × Σd² — 1e-14 absolute is ample.
    const g = autocovariance([1, 3, 2, 5, 4]);
    const expected = [2, 0, 0.2, -0.8, -0.4];
    assert.equal(g.length, 5);
    for (let k = 0; k < 5; k++) assertClose(g[k], expected[k], 1e-14, 0, `γ̂_${k}`);
  });

  test("matches the direct O(n²) formula for lengths that are not powers of two, and tiny lengths", () => {
    for (const n of [1, 2, 3, 7, 1000]) {
      const x = ar1(keyFromSeed(70 + n), 1, n, 0.5);
      const g = autocovariance(x);
      let m = 0;
      for (const v of x) m += v;
      m /= n;
      for (let k = 0; k < n; k++) {
        let s = 0;
        for (let t = 0; t + k < n; t++) s += (x[t] - m) * (x[t + k] - m);
        // Both are sums of n products of O(1) terms: errors ≲ n·eps·γ̂_0-scale; 1e-12 is far above that.
        assertClose(g[k], s / n, 1e-12, 0, `n=${n} γ̂_${k}`);
      }
    }
  });
});

describe("splitChains and rankNormalize", () => {
  test("split keeps the first and last ⌊n/2⌋ draws (odd n drops the middle), first halves first", () => {
    // 2 chains × 7 draws: chain 0 = 0…6, chain 1 = 10…16.
    const x = Float64Array.from([0, 1, 2, 3, 4, 5, 6, 10, 11, 12, 13, 14, 15, 16]);
    const s = splitChains(x, 2, 7);
    assert.equal(s.chains, 4);
    assert.equal(s.draws, 3);
    assert.deepEqual(Array.from(s.values), [0, 1, 2, 10, 11, 12, 4, 5, 6, 14, 15, 16]);
  });

  test("rank normalization of a small array with ties, by hand", () => {
    // x = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3], S = 10. Sorted: 1 1 2 3 3 4 5 5 6 9, so the average ranks are
    // 1 → 1.5, 2 → 3, 3 → 4.5, 4 → 6, 5 → 7.5, 6 → 9, 9 → 10, and z = Φ⁻¹((r − 3/8) / (S + 1/4)).
    // Expected z from scipy's norm.ppf of those fractions, e.g. r = 1.5: Φ⁻¹(1.125/10.25) = −1.22782626…
    const z = rankNormalize([3, 1, 4, 1, 5, 9, 2, 6, 5, 3]);
    const expected = [
      -0.24703899073897723, -1.2278262613112725, 0.12258084388880255, -1.2278262613112725, 0.5104216426632188,
      1.54663527139923, -0.6554235052344266, 1.0004905456193152, 0.5104216426632188, -0.24703899073897723,
    ];
    for (let i = 0; i < 10; i++) assertClose(z[i], expected[i], 4e-15, 4e-15, `z[${i}]`);
    // Ties get identical scores, and the scores of a tie-free array are symmetric about 0.
    assert.equal(z[1], z[3]);
    const sym = rankNormalize([5, 1, 4, 2, 3]);
    assertClose(sym[0], -sym[1], 1e-15, 0, "z(max) = −z(min)");
    assert.equal(sym[4], 0);
  });
});

describe("ESS and R-hat: exact values", () => {
  // Two chains of six draws: A = 1…6 and B = 2…7 (B = A + 1).
  // Per chain (shift-invariant): γ̂_0 = 17.5/6, γ̂_1 = 8.75/6, γ̂_2 = 1/6, γ̂_3 = −4.75/6.
  const two = Float64Array.from([1, 2, 3, 4, 5, 6, 2, 3, 4, 5, 6, 7]);

  test("ESS of one chain, no split, by hand: x = 1…6 gives 3.75", () => {
    // W = γ̂_0·6/5 = 3.5 and var⁺ = γ̂_0 (one chain), so ρ̂_t = γ̂_t/γ̂_0 − 1/5: ρ̂_1 = 0.5 − 0.2 = 0.3.
    // Pair (ρ̂_0, ρ̂_1) sums to 1.3 > 0; next pair ρ̂_2 = 1/17.5 − 0.2 < 0, ρ̂_3 = −4.75/17.5 − 0.2: sum < 0,
    // so the sequence stops with max_t = 1, and the last even term is negative (not added).
    // τ̂ = −1 + 2·(1 + 0.3) = 1.6 ≥ 1/log10(6) = 1.285; ESS = 6/1.6 = 3.75.
    assertClose(essBasic(two.subarray(0, 6), 1, 6, { split: false }), 3.75, 0, 1e-14, "ESS");
  });

  test("ESS of two chains with different means, no split, by hand: 12·41/75", () => {
    // W = 3.5; var⁺ = W·5/6 + var(3.5, 4.5) = 35/12 + 1/2 = 41/12; ρ̂_t = 1 − (W − γ̂_t)/var⁺:
    // ρ̂_1 = 1 − (12.25/6)(12/41) = 16.5/41, ρ̂_2 = 1 − (20/6)(12/41) = 1/41, ρ̂_3 = 1 − (25.75/6)(12/41)
    // = −10.5/41. The pair (ρ̂_2, ρ̂_3) sums below 0: max_t = 1, and the positive even term ρ̂_2 = 1/41 is
    // added once (the antithetic improvement): τ̂ = −1 + 2(1 + 16.5/41) + 1/41 = 75/41; ESS = 12·41/75.
    assertClose(essBasic(two, 2, 6, { split: false }), (12 * 41) / 75, 0, 1e-14, "ESS");
  });

  test("R-hat of the same chains by hand: sqrt(41/42) unsplit, 2 split", () => {
    // Unsplit: W = 3.5, B = 6·var(3.5, 4.5) = 3: R̂ = sqrt((3/3.5 + 5)/6) = sqrt(41/42).
    assertClose(rhatBasic(two, 2, 6, { split: false }), Math.sqrt(41 / 42), 0, 1e-14, "unsplit");
    // Split: halves [1,2,3], [2,3,4], [4,5,6], [5,6,7]: means 2, 3, 5, 6 (variance 10/3), each half's
    // variance 1: B = 3·10/3 = 10, W = 1, R̂ = sqrt((10 + 2)/3) = 2.
    assertClose(rhatBasic(two, 2, 6), 2, 0, 1e-14, "split");
  });

  test("the lower bound τ̂ ≥ 1/log10(N): an alternating chain gets ESS = N·log10(N)", () => {
    // x = +1, −1, …: ρ̂_1 = γ̂_1/γ̂_0 − 1/(n−1) < −1, so the first pair sum is negative, τ̂ = −1 + ρ̂_0 = 0,
    // and the bound gives ESS = N·log10(N) = 100·2 = 200.
    const x = Float64Array.from({ length: 100 }, (_, t) => (t % 2 === 0 ? 1 : -1));
    assertClose(essBasic(x, 1, 100, { split: false }), 200, 0, 1e-13, "ESS");
  });

  // Reference values (numpy/scipy transcription of ArviZ, posterior for mcse_sd; see the header).
  const REFERENCE = [
    {
      chains: 3,
      draws: 101,
      mode: "ar" as RefMode,
      v: {
        essIdentity: 43.50399514916416,
        essMean: 47.47748577509025,
        essBulk: 48.2038453684243,
        essTail: 97.22605618455596,
        essQ30: 75.05984786464177,
        essSd: 109.49529945025921,
        rhat: 1.0365202900699242,
        rhatSplit: 1.036015956025486,
        rhatIdentity: 1.043007103909464,
        mcseMean: 0.0603803983613454,
        mcseSd: 0.0264059810179378,
        mean: -0.009550032540599147,
        sd: 0.41604454311478556,
      },
    },
    {
      chains: 4,
      draws: 50,
      mode: "ties" as RefMode,
      v: {
        essIdentity: 24.727034944104854,
        essMean: 13.71641785854921,
        essBulk: 14.353646267129658,
        essTail: 70.73352682047624,
        essQ30: 15.263606049296346,
        essSd: 82.66482380206696,
        rhat: 1.2375822371667846,
        rhatSplit: 1.249740467408226,
        rhatIdentity: 1.041002629566701,
        mcseMean: 0.11887877371362375,
        mcseSd: 0.03261376511566942,
        mean: 0.02375,
        sd: 0.4402756531467177,
      },
    },
    {
      chains: 1,
      draws: 37,
      mode: "ar" as RefMode,
      v: {
        essIdentity: 10.213134755112772,
        essMean: 6.651429050319443,
        essBulk: 6.796705600318074,
        essTail: 22.32972972972972,
        essQ30: 28.70539875949645,
        essSd: 31.94400484002455,
        rhat: 1.1105580430499888,
        rhatSplit: 1.1133325086949182,
        rhatIdentity: Number.NaN,
        mcseMean: 0.1488324156864633,
        mcseSd: 0.04088509370752476,
        mean: 0.25183093749228913,
        sd: 0.3838442261479616,
      },
    },
    {
      // Chains differing in scale only: the folded (tail) R-hat is the larger one, and the fold is about the
      // median of the split draws (odd draws: it differs from the median of all draws, 0.0622 vs 0.0607).
      chains: 3,
      draws: 51,
      mode: "scale" as RefMode,
      v: {
        essIdentity: 180.90285909591802,
        essMean: 190.65654370843848,
        essBulk: 189.9996373215378,
        essTail: 48.75666074600367,
        essQ30: 73.92051283607826,
        essSd: 13.753271070835137,
        rhat: 1.2436929622119612,
        rhatSplit: 0.9996209312825658,
        rhatIdentity: 0.993766289713142,
        mcseMean: 0.07074025778358854,
        mcseSd: 0.20297536993272117,
        mean: -0.0389156649826762,
        sd: 0.9767704126931256,
      },
    },
  ];

  for (const { chains, draws, mode, v } of REFERENCE) {
    test(`match the ArviZ formulas: ${chains} chain(s) × ${draws} draws, "${mode}" sequence`, () => {
      const x = refSequence(chains, draws, mode);
      const rel = 1e-12;
      const got = {
        essIdentity: essBasic(x, chains, draws, { split: false }),
        essMean: essMean(x, chains, draws),
        essBulk: essBulk(x, chains, draws),
        essTail: essTail(x, chains, draws),
        essQ30: essQuantile(x, chains, draws, 0.3),
        essSd: essSd(x, chains, draws),
        rhat: rhat(x, chains, draws),
        rhatSplit: rhatBasic(x, chains, draws),
        rhatIdentity: rhatBasic(x, chains, draws, { split: false }),
        mcseMean: mcseMean(x, chains, draws),
        mcseSd: mcseSd(x, chains, draws),
      };
      for (const [name, value] of Object.entries(got)) {
        const want = v[name as keyof typeof v];
        if (Number.isNaN(want)) assert.ok(Number.isNaN(value), `${name}: ${value} should be NaN (one chain)`);
        else assertClose(value, want, 0, rel, name);
      }
      assert.equal(essBasic(x, chains, draws), got.essMean, "essBasic splits by default");
      const s = summarizeChains(x, chains, draws);
      assertClose(s.mean, v.mean, 1e-15, rel, "mean");
      assertClose(s.sd, v.sd, 0, rel, "sd");
      // The shared-work summary gives exactly the separate functions' values.
      assert.equal(s.ess_bulk, got.essBulk);
      assert.equal(s.ess_tail, got.essTail);
      assert.equal(s.rhat, got.rhat);
      assert.equal(s.mcse_mean, got.mcseMean);
      assert.equal(s.mcse_sd, got.mcseSd);
    });
  }
});

describe("ESS: sequences with known answers", () => {
  test("iid N(0, 1), 4 chains × 1000: bulk and tail ESS ≈ N = 4000, R-hat ≈ 1", () => {
    // Sampling sd of ESS/N for one iid data set: τ̂ − 1 ≈ 2ρ̂_1 + 2·(the pair sums kept before the first
    // negative one), with sd(ρ̂_t) ≈ 1/sqrt(N) and about one extra pair kept on average, so
    // sd(τ̂) ≈ 2·sqrt(3/N) = 0.055; measured over 300 seeds: sd 0.046 (bulk), 0.043 (tail). The stopping
    // rule keeps pairs that are positive by chance, biasing ESS low: measured mean 0.981 (bulk),
    // 0.961 (tail). We average R = 8 data sets: sd of the mean ≈ 0.055/sqrt(8) = 0.019; tolerance
    // |bias| + 4 sd = 0.04 + 0.078 ≈ 0.12 around 1.
    const n = 1000;
    const total = 4 * n;
    const bulk: number[] = [];
    const tail: number[] = [];
    for (const key of split(keyFromSeed(20240601), 8)) {
      const x = ar1(key, 4, n, 0);
      bulk.push(essBulk(x, 4, n) / total);
      tail.push(essTail(x, 4, n) / total);
      // Rank-normalized split R-hat of 8 iid half-chains of 500: R̂² − 1 ≈ (F − 1)/500 with F ≈ χ²_7/7, so
      // R̂ − 1 ≈ (F − 1)/1000 ∈ (−0.001, 0.002) except with negligible probability (measured sd 0.0005);
      // |R̂ − 1| < 0.01 is the practical threshold of the paper and still fails for any real mismatch.
      const r = rhat(x, 4, n);
      assert.ok(Math.abs(r - 1) < 0.01, `R-hat ${r}`);
    }
    assertClose(
      mean(bulk),
      1,
      0.12,
      0,
      `mean ESS_bulk/N over 8 data sets (${bulk.map((b) => b.toFixed(3))})`,
    );
    assertClose(
      mean(tail),
      1,
      0.12,
      0,
      `mean ESS_tail/N over 8 data sets (${tail.map((b) => b.toFixed(3))})`,
    );
  });

  test("AR(1), ρ = 0.9, 4 chains × 10 000: ESS ≈ N(1 − ρ)/(1 + ρ) = N/19 and MCSE ≈ sqrt(19/N)", () => {
    // τ = (1 + ρ)/(1 − ρ) = 19. The ESS estimate is N/τ̂ with τ̂ a truncated sum of autocorrelations; for a
    // flat window of M lags, Var(τ̂)/τ² ≈ 2(2M + 1)/N (Bartlett), and Geyer's rule stops where ρ^M falls
    // to the noise level sqrt(τ/N) ≈ 0.022, M ≈ 36: relative sd ≈ sqrt(2·73/40000) = 0.060 (measured
    // over 200 seeds: 0.061, mean 1.001). Averaging R = 4 data sets: sd 0.031, tolerance 4 sd = 0.13.
    // MCSE = sd/sqrt(ESS) has half the relative sd: 0.031 per data set (measured 0.0375), 0.019 for the
    // mean of 4: tolerance 4 sd = 0.075.
    const n = 10_000;
    const total = 4 * n;
    const tau = 19;
    const em: number[] = [];
    const eb: number[] = [];
    const mc: number[] = [];
    for (const key of split(keyFromSeed(777), 4)) {
      const x = ar1(key, 4, n, 0.9);
      em.push(essMean(x, 4, n) / (total / tau));
      eb.push(essBulk(x, 4, n) / (total / tau));
      // The true MCSE of the mean of N draws of a unit-variance AR(1): sqrt(τ/N) = σ·sqrt((1+ρ)/((1−ρ)N)).
      mc.push(mcseMean(x, 4, n) / Math.sqrt(tau / total));
    }
    assertClose(mean(em), 1, 0.13, 0, `ESS_mean / (N/19), per data set ${em.map((v) => v.toFixed(3))}`);
    assertClose(mean(eb), 1, 0.13, 0, `ESS_bulk / (N/19), per data set ${eb.map((v) => v.toFixed(3))}`);
    assertClose(mean(mc), 1, 0.075, 0, `MCSE / sqrt(19/N), per data set ${mc.map((v) => v.toFixed(3))}`);
  });

  test("antithetic AR(1), ρ = −0.5: ESS ≈ 3N exceeds N (the improved estimator)", () => {
    // τ = (1 + ρ)/(1 − ρ) = 1/3 > 1/log10(N) = 0.22, so the bound is not active. Pair sums decay like
    // 0.25^k and drop below noise after M ≈ 8 lags: relative sd ≈ sqrt(2·17/40000) = 0.029 (measured over
    // 200 seeds: 0.034, mean 1.005). Mean of R = 4 data sets: sd ≈ 0.017, tolerance 4 sd = 0.07.
    const n = 10_000;
    const total = 4 * n;
    const ratios = split(keyFromSeed(4242), 4).map(
      (key) => essMean(ar1(key, 4, n, -0.5), 4, n) / (3 * total),
    );
    assertClose(mean(ratios), 1, 0.07, 0, `ESS / 3N per data set ${ratios.map((v) => v.toFixed(3))}`);
  });
});

describe("R-hat: mixing, stuck chains, trends", () => {
  const n = 1000;

  /** 4 chains of `n` draws from the mixture ½N(−5, 1) + ½N(5, 1): stuck (chains 0, 1 at −5) or mixed. */
  function modes(key: Key, stuck: boolean): Float64Array {
    const s = new Stream(key);
    const x = new Float64Array(4 * n);
    for (let c = 0; c < 4; c++) {
      for (let t = 0; t < n; t++) {
        const high = stuck ? c >= 2 : s.uniform() < 0.5;
        x[c * n + t] = (high ? 5 : -5) + s.normal();
      }
    }
    return x;
  }

  test("chains stuck in different modes: R-hat ≫ 1, as predicted", () => {
    const x = modes(keyFromSeed(31), true);
    // Rank-normalized bulk R̂: the 4 low split chains hold the lower half of the ranks, z < 0, with chain
    // means −E|Z| = −sqrt(2/π) and within variance 1 − 2/π; the high ones the mirror image. With 8 split
    // chains of 500: B = 500·(8/7)(2/π), W = 1 − 2/π, R̂ = sqrt((B/W + 499)/500) = 1.732. The folded R̂ is
    // ≈ 1 (all chains sit ≈ 5 from the median), so the max is the bulk one. Noise: W has relative sd
    // ≈ 3 % over 4000 draws, so B/W ≈ 1003 ± 30 and R̂ ± 0.017: tolerance 4 sd = 0.07.
    const r = rhat(x, 4, n);
    assert.ok(r > 1.5, `R-hat ${r}`);
    assertClose(r, 1.732, 0.07, 0, "rank R-hat");
    // Basic split R̂: chain means ±5, B = 500·(8/7)·25, W ≈ 1: R̂ = 5.438; W ± 2.2 % gives R̂ ± 0.06:
    // tolerance 0.25.
    assertClose(rhatBasic(x, 4, n), 5.438, 0.25, 0, "basic split R-hat");
  });

  test("chains that mix between the modes: R-hat ≈ 1", () => {
    // iid draws from the mixture in every chain: as for iid N(0, 1), R̂ − 1 = O(1e-3).
    const x = modes(keyFromSeed(32), false);
    assert.ok(Math.abs(rhat(x, 4, n) - 1) < 0.01, `R-hat ${rhat(x, 4, n)}`);
    assert.ok(Math.abs(rhatBasic(x, 4, n) - 1) < 0.01, `basic R-hat ${rhatBasic(x, 4, n)}`);
  });

  test("a trend within every chain (first half shifted by 2) is seen only by split R-hat", () => {
    const x = ar1(keyFromSeed(33), 4, n, 0, 2);
    // All four chains have the same distribution, so the unsplit R̂ ≈ 1 (deviation O(1e-3) as above).
    const unsplit = rhatBasic(x, 4, n, { split: false });
    assert.ok(Math.abs(unsplit - 1) < 0.01, `unsplit R-hat ${unsplit}`);
    // Split: 4 half-chains with mean 2, 4 with mean 0, each with variance 1: var of the 8 means = 8/7,
    // B = 500·8/7, W = 1: R̂ = sqrt((571.4 + 499)/500) = 1.463. Noise: B/W ± 4 % (chain means ± 0.045 on
    // a gap of 2, W ± 2.2 %), R̂ ± 0.016: tolerance 4 sd = 0.065.
    assertClose(rhatBasic(x, 4, n), 1.463, 0.065, 0, "split R-hat");
    // Rank-normalized: the z-scores of the two groups have means ±μ with μ = E[Φ⁻¹(F(X))], X ~ N(2, 1),
    // F the ½N(0,1) + ½N(2,1) cdf: μ = 0.6916 (numerical integration); W = 1 − μ², B = 500·(8/7)μ²:
    // R̂ = 1.430, same relative noise: tolerance 0.065. The folded R̂ ≈ 1 by the mirror symmetry about 1.
    assertClose(rhat(x, 4, n), 1.43, 0.065, 0, "rank split R-hat");
  });

  test("one chain: the split R-hat compares its two halves", () => {
    // 1 chain × 2000, first half shifted by 2. Basic: two means 2 and 0 (variance 2), B = 1000·2,
    // W = 1: R̂ = sqrt((2000 + 999)/1000) = 1.732. Rank-normalized: B = 1000·2μ², W = 1 − μ², R̂ = 1.683.
    // Noise: the gap of means ± 0.045 (4.5 % on B), W ± 3 %: R̂ ± 0.032; tolerance 4 sd = 0.13.
    const x = ar1(keyFromSeed(34), 1, 2000, 0, 2);
    assertClose(rhatBasic(x, 1, 2000), 1.732, 0.13, 0, "split R-hat");
    assertClose(rhat(x, 1, 2000), 1.683, 0.13, 0, "rank split R-hat");
    assert.ok(Number.isNaN(rhatBasic(x, 1, 2000, { split: false })), "unsplit R-hat needs two chains");
  });
});

describe("edge cases", () => {
  const fns = {
    essBasic: (x: Float64Array, c: number, d: number) => essBasic(x, c, d),
    essBulk,
    essTail,
    essMean,
    essSd,
    rhat,
    rhatBasic: (x: Float64Array, c: number, d: number) => rhatBasic(x, c, d),
    mcseMean,
    mcseSd,
  };

  test("constant chains give NaN (no crash); the summary keeps mean and sd = 0", () => {
    const x = new Float64Array(4 * 100).fill(2.5);
    for (const [name, f] of Object.entries(fns)) assert.ok(Number.isNaN(f(x, 4, 100)), name);
    const s = summarizeChains(x, 4, 100);
    assert.equal(s.mean, 2.5);
    assert.equal(s.sd, 0);
    assert.ok(Number.isNaN(s.ess_bulk) && Number.isNaN(s.rhat) && Number.isNaN(s.mcse_mean));
  });

  test("fewer than 4 draws per chain give NaN; 4 draws give numbers", () => {
    const x3 = Float64Array.from([0.1, 0.5, 0.2, 0.9, 0.4, 0.3]);
    for (const [name, f] of Object.entries(fns)) assert.ok(Number.isNaN(f(x3, 2, 3)), name);
    const x4 = Float64Array.from([0.1, 0.5, 0.2, 0.7, 0.9, 0.4, 0.3, 0.6]);
    for (const [name, f] of Object.entries(fns))
      assert.ok(Number.isFinite(f(x4, 2, 4)), `${name} = ${f(x4, 2, 4)}`);
  });

  test("a NaN or infinite draw gives NaN", () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const x = ar1(keyFromSeed(5), 2, 50, 0.3);
      x[17] = bad;
      for (const [name, f] of Object.entries(fns))
        assert.ok(Number.isNaN(f(x, 2, 50)), `${name} with ${bad}`);
      const s = summarizeChains(x, 2, 50);
      assert.ok(Object.values(s).every(Number.isNaN), `summary with ${bad}`);
    }
  });

  test("malformed shapes throw", () => {
    const x = new Float64Array(10);
    assert.throws(() => essBulk(x, 3, 3), RangeError);
    assert.throws(() => rhat(x, 0, 10), RangeError);
    assert.throws(() => essQuantile(x, 2, 5, 1.5), RangeError);
    assert.throws(() => summarize(x, 3, 1), RangeError);
    assert.throws(() => extractQuantity(x, 1, 2, 2), RangeError);
  });
});

describe("summarize (draws × chains × dim)", () => {
  test("extractQuantity reads value (t, c, j) at ((t·chains)+c)·dim+j into chain-major order", () => {
    const draws = 5;
    const chains = 3;
    const dim = 2;
    const samples = new Float64Array(draws * chains * dim);
    for (let t = 0; t < draws; t++) {
      for (let c = 0; c < chains; c++) {
        for (let j = 0; j < dim; j++) samples[(t * chains + c) * dim + j] = 100 * j + 10 * c + t;
      }
    }
    for (let j = 0; j < dim; j++) {
      const q = extractQuantity(samples, chains, dim, j);
      for (let c = 0; c < chains; c++) {
        for (let t = 0; t < draws; t++) assert.equal(q[c * draws + t], 100 * j + 10 * c + t);
      }
    }
  });

  test("per-dimension summaries: a mixing coordinate and a stuck one", () => {
    // Coordinate 0: iid N(0, 1) in every chain; coordinate 1: chains 0, 1 near −5, chains 2, 3 near +5.
    const draws = 1000;
    const chains = 4;
    const dim = 2;
    const s = new Stream(keyFromSeed(99));
    const samples = new Float64Array(draws * chains * dim);
    for (let t = 0; t < draws; t++) {
      for (let c = 0; c < chains; c++) {
        samples[(t * chains + c) * dim] = s.normal();
        samples[(t * chains + c) * dim + 1] = (c < 2 ? -5 : 5) + s.normal();
      }
    }
    const out = summarize(samples, chains, dim);
    assert.equal(out.length, 2);
    for (let j = 0; j < dim; j++) {
      assert.deepEqual(out[j], summarizeChains(extractQuantity(samples, chains, dim, j), chains, draws));
    }
    // Coordinate 0: mean 0 ± 4/sqrt(4000) = ±0.063; sd 1 ± 4·sqrt(1/(2·4000)) = ±0.045; R̂ within 0.01.
    assertClose(out[0].mean, 0, 0.063, 0, "mean[0]");
    assertClose(out[0].sd, 1, 0.045, 0, "sd[0]");
    assert.ok(Math.abs(out[0].rhat - 1) < 0.01, `rhat[0] = ${out[0].rhat}`);
    // Coordinate 1 = m + e, m = ±5 for exactly half of the draws, e ~ N(0, 1): the mean is ē, sd 1/sqrt(4000),
    // tolerance ±0.063 again. Var = 25 + Var(e) + 2 Cov(m, e) with sd(2 Cov) = 5·sqrt(2/2000) = 0.16 and
    // sd(Var(e)) = 0.022, so sd = sqrt(26) ± 0.16/(2·sqrt(26)) = ±0.016: tolerance 4 sd = 0.065. R̂ ≈ 1.73.
    assertClose(out[1].mean, 0, 0.063, 0, "mean[1]");
    assertClose(out[1].sd, Math.sqrt(26), 0.065, 0, "sd[1]");
    assert.ok(out[1].rhat > 1.5, `rhat[1] = ${out[1].rhat}`);
  });
});

describe("acceptanceRate", () => {
  test("the mean acceptance probability, NaN when empty or non-finite, a RangeError outside [0, 1]", () => {
    assertClose(acceptanceRate([0.2, 1, 0.6]), 0.6, 1e-15, 0, "rate");
    assert.ok(Number.isNaN(acceptanceRate([])));
    assert.ok(Number.isNaN(acceptanceRate([0.5, Number.NaN])));
    assert.throws(() => acceptanceRate([0.5, 1.2]), RangeError);
  });
});
