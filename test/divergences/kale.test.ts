/**
 * KALE (src/divergences/estimate.ts: KALE(P, Q; H) = sup_f −E_P f − E_Q e^{−f} + 1 − (λ/2)‖f‖²_H) and
 * the seed's disjoint-support example, fixed seeds:
 * 1. Properties on a Gaussian pair: KALE ≥ 0 (exactly in-sample: f = 0 is feasible and Newton ascends
 *    from it; held-out within 3 SE), clearly positive when P ≠ Q, below KL, increasing to KL as λ shrinks
 *    (exactly in-sample), ≈ 0 for P = Q; the RKHS fit is certified (gap bound < 1e-10).
 * 2. The "smoothie": two Gaussians with the same mean and different variances, both directions: positive,
 *    below KL, and (at a small λ) as asymmetric as KL.
 * 3. Disjoint supports (P on {0} × [0, 1], Q on {1} × [0, 1]): the KL bound grows without limit as the
 *    critic class grows (λ → 0), JS tends to log 2 and TV to 1 from below, while KALE is finite and does
 *    not change as the class grows at fixed λ (more landmarks).
 *    KALE ≤ 2/λ there (its critic's features have norm ≤ 1).
 * 4. The neural KALE (MLP energy, Lipschitz penalty on the weights): ≥ 0, below KL, ≈ 0 for P = Q, and
 *    on disjoint supports below the bound (Lip·D)²/(2λ) that the penalty implies, however long it trains.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { estimateDivergence, estimateKale } from "../../src/divergences/estimate.ts";
import { gaussianFDivergence } from "../../src/divergences/gaussian.ts";
import { keyFromSeed } from "../../src/random/key.ts";
import { gaussianSample, PAIR_1D, PAIR_2D, segmentSample } from "./samples.ts";

/** An RKHS critic with the median-heuristic bandwidth (KALE's default; fixed for the f-divergences too). */
const RKHS = (lambda: number, landmarks = 64) =>
  ({ critic: { type: "rkhs", landmarks, lambda, bandwidth: "median" } }) as const;

describe("KALE properties", () => {
  const p = gaussianSample(PAIR_1D.p, 2000, 51);
  const q = gaussianSample(PAIR_1D.q, 2000, 52);
  const kl = gaussianFDivergence("kl", PAIR_1D.p, PAIR_1D.q);

  test("≥ 0, positive for P ≠ Q, below KL and increasing to it as λ shrinks; certified", async () => {
    let prevTrain = 0;
    for (const lambda of [1, 0.1, 0.01, 1e-3]) {
      const r = await estimateKale(p, q, keyFromSeed(5), RKHS(lambda));
      const what = `λ=${lambda}: ${r.estimate} ± ${r.stderr} (train ${r.train}, penalty ${r.penalty}), KL ${kl}`;
      assert.ok(r.train >= 0, `in-sample KALE negative: ${what}`);
      assert.ok(r.estimate > 3 * r.stderr, `not positive: ${what}`);
      assert.ok(r.estimate <= kl + 3 * r.stderr, `above KL: ${what}`);
      assert.ok(r.train >= prevTrain, `in-sample KALE not increasing as λ shrinks: ${what}`);
      prevTrain = r.train;
      assert.ok(r.solver.method === "newton" && r.solver.converged && r.solver.gapBound! < 1e-10, what);
      assert.ok(r.penalty! > 0);
    }
    // At the smallest λ KALE is within 3 SE of KL.
    const r = await estimateKale(p, q, keyFromSeed(5), RKHS(1e-3));
    assert.ok(Math.abs(r.estimate - kl) <= 3 * r.stderr, `${r.estimate} ± ${r.stderr} vs KL ${kl}`);
  });

  test("≈ 0 for P = Q (1-D and 2-D)", async () => {
    for (const g of [PAIR_1D.p, PAIR_2D.q]) {
      const a = gaussianSample(g, 2000, 61);
      const b = gaussianSample(g, 2000, 62);
      for (const lambda of [0.1, 1e-3]) {
        const r = await estimateKale(a, b, keyFromSeed(6), RKHS(lambda));
        assert.ok(Math.abs(r.estimate) <= 3 * r.stderr, `λ=${lambda}: ${r.estimate} ± ${r.stderr}`);
        assert.ok(r.train >= 0 && r.train < 0.02, `in-sample ${r.train}`);
      }
    }
  });

  test("the smoothie: same mean, variances 1 and 4, both directions", async () => {
    const g1 = { mean: [0], cov: [1] };
    const g4 = { mean: [0], cov: [4] };
    const s1 = gaussianSample(g1, 2000, 71);
    const s4 = gaussianSample(g4, 2000, 72);
    const klNarrowWide = gaussianFDivergence("kl", g1, g4); // log 2 − 3/8 ≈ 0.318
    const klWideNarrow = gaussianFDivergence("kl", g4, g1); // 3/2 − log 2 ≈ 0.807
    const byLambda: number[][] = [];
    for (const lambda of [0.1, 0.01]) {
      const nw = await estimateKale(s1, s4, keyFromSeed(7), RKHS(lambda));
      const wn = await estimateKale(s4, s1, keyFromSeed(7), RKHS(lambda));
      for (const [r, kl, name] of [
        [nw, klNarrowWide, "KALE(N(0,1)‖N(0,4))"],
        [wn, klWideNarrow, "KALE(N(0,4)‖N(0,1))"],
      ] as const) {
        const what = `${name}, λ=${lambda}: ${r.estimate} ± ${r.stderr}, KL ${kl}`;
        assert.ok(r.estimate > 3 * r.stderr, `not positive: ${what}`);
        assert.ok(r.estimate <= kl + 3 * r.stderr, `above KL: ${what}`);
      }
      byLambda.push([nw.estimate, nw.stderr, wn.estimate, wn.stderr]);
    }
    const [nw, seNw, wn, seWn] = byLambda[1];
    assert.ok(wn - nw > 3 * Math.hypot(seNw, seWn), `λ = 0.01: KALE as asymmetric as KL: ${nw} vs ${wn}`);
  });
});

describe("disjoint supports", () => {
  const p = segmentSample(0, 1000, 81);
  const q = segmentSample(1, 1000, 82);

  test("KL: the bound grows without limit as the class grows", async () => {
    let prev = 0;
    for (const lambda of [1, 0.1, 0.01, 1e-3, 1e-4]) {
      const r = await estimateDivergence("kl", p, q, keyFromSeed(8), RKHS(lambda));
      assert.ok(r.estimate > 5 * prev + 0.1, `λ=${lambda}: ${r.estimate} after ${prev}`);
      prev = r.estimate;
    }
    assert.ok(prev > 1000, `KL bound at λ = 1e-4: ${prev}`);
  });

  test("JS → log 2 and TV → 1, from below", async () => {
    for (const [kind, limit, lambdas] of [
      ["js", Math.LN2, [1e-2, 1e-3, 1e-5]],
      ["tv", 1, [1e-1, 1e-2, 1e-3]],
    ] as const) {
      let prev = 0;
      let last = 0;
      for (const lambda of lambdas) {
        const r = await estimateDivergence(kind, p, q, keyFromSeed(8), RKHS(lambda));
        assert.ok(
          r.estimate <= limit + 3 * r.stderr + 1e-12,
          `${kind} λ=${lambda}: ${r.estimate} above ${limit}`,
        );
        assert.ok(r.estimate > prev, `${kind} λ=${lambda}: ${r.estimate} after ${prev}`);
        prev = r.estimate;
        last = r.estimate;
      }
      assert.ok(limit - last < 0.01, `${kind}: ${last} vs ${limit}`);
    }
  });

  test("KALE is finite and stable as the class grows at fixed λ", async () => {
    // |f − c| ≤ ‖w‖ (the features have norm ≤ 1), so the unpenalised value is at most 2‖w‖ and
    // KALE ≤ sup_t (2t − (λ/2)t²) = 2/λ, however many landmarks.
    const values: number[] = [];
    for (const m of [16, 64, 256]) {
      const r = await estimateKale(p, q, keyFromSeed(8), RKHS(0.1, m));
      assert.ok(r.estimate > 0 && r.estimate <= 2 / 0.1, `M=${m}: ${r.estimate}`);
      values.push(r.estimate);
    }
    for (const v of values)
      assert.ok(Math.abs(v - values[0]) <= 0.01 * values[0], `KALE by landmarks: ${values}`);
    // ... and far below the KL bound of the same class without its penalty at a smaller λ.
    const klBound = await estimateDivergence("kl", p, q, keyFromSeed(8), RKHS(1e-3));
    assert.ok(klBound.estimate > 50 * values[0], `KL bound ${klBound.estimate} vs KALE ${values[0]}`);
  });
});

describe("neural KALE (MLP energy with the Lipschitz penalty)", () => {
  test("≥ 0, below KL, ≈ 0 for P = Q", async () => {
    const opts = { critic: { type: "mlp", hidden: [32, 32], steps: 300 } } as const;
    const p = gaussianSample(PAIR_2D.p, 2000, 91);
    const q = gaussianSample(PAIR_2D.q, 2000, 92);
    const kl = gaussianFDivergence("kl", PAIR_2D.p, PAIR_2D.q);
    const r = await estimateKale(p, q, keyFromSeed(9), opts);
    const what = `${r.estimate} ± ${r.stderr} (train ${r.train}, penalty ${r.penalty}), KL ${kl}`;
    assert.ok(r.estimate > 3 * r.stderr && r.estimate <= kl + 3 * r.stderr, what);
    assert.ok(r.solver.method === "adam" && r.solver.keptStep === undefined, "KALE is not stopped early");
    const same = await estimateKale(p, gaussianSample(PAIR_2D.p, 2000, 93), keyFromSeed(9), opts);
    assert.ok(Math.abs(same.estimate) <= 3 * same.stderr, `P = Q: ${same.estimate} ± ${same.stderr}`);
  });

  test("finite on disjoint supports: below (Lip·D)²/(2λ) however long it trains", async () => {
    // Unpenalised KALE ≤ osc f ≤ Lip(f)·D over the data (D their diameter), Lip(f) ≤ 1.0998²·Π‖W_l‖_F for
    // two silu layers, so KALE ≤ sup_s (1.0998²·s·D − (λ/2)s²) = (1.0998²·D)²/(2λ). Standardised, the
    // segments sit at x = ±1 with y spread over [−√3, √3]: D = √(2² + (2√3)²) = 4.
    const lambda = 0.1;
    const bound = (1.0998 ** 2 * 4) ** 2 / (2 * lambda);
    const p = segmentSample(0, 1000, 94);
    const q = segmentSample(1, 1000, 95);
    let prev = 0;
    for (const steps of [300, 1000]) {
      const r = await estimateKale(p, q, keyFromSeed(9), {
        critic: { type: "mlp", hidden: [32, 32], steps, weightPenalty: lambda },
      });
      assert.ok(r.estimate > prev && r.estimate < bound, `${steps} steps: ${r.estimate} (bound ${bound})`);
      prev = r.estimate;
    }
  });
});
