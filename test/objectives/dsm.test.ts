/**
 * Denoising score matching (src/objectives/denoising-score-matching.ts), and the agreement of the
 * score-matching family with maximum likelihood on a Gaussian.
 *
 * Gradients. For a fixed key the noise draws are fixed, so the returned gradient must be the θ-gradient of
 * the returned loss: float64 central differences on the exponential family (h = 1e-5, tolerance
 * 1e-6·(1 + |FD|), see test/energies/expfam.test.ts), and on the MLP, both backends, with the float32
 * tolerance of test/energies/mlp.test.ts (h = 1e-2, 5e-4 + 2e-3·|FD|).
 *
 * Gaussian targets. For the Gaussian family (quadratic statistics) every objective here has a known
 * minimiser given the data (n points, mean x̄, 1/n-normalised covariance S):
 *  - exact SM, SSM, SSM-VR and MLE: mean x̄, covariance S (Hyvärinen 2005; SSM's expectation is exact SM);
 *  - DSM with levels σ_l and weights λ_l: mean x̄, covariance S + c·I with c = Σ_l λ_l σ_l² / Σ_l λ_l
 *    (the expected loss is Σ_l λ_l[tr(PSP) + tr((σ_l P − I/σ_l)²)]/2 in the precision P, minimised by
 *    P = (S + cI)⁻¹): one level gives S + σ²I, NCSN's λ = σ² gives c = Σσ⁴/Σσ², λ = 1 gives mean σ².
 * Training (Adam to converge, then plain SGD) fluctuates around that minimiser; the estimate is taken from
 * the θ averaged over the SGD phase (after a burn-in) and its standard error is the MCSE of that series
 * (ESS-based, src/eval). The
 * tolerance is 4 MCSE per quantity (mean₀, mean₁, cov₀₀, cov₀₁, cov₁₁). Exact SM is deterministic and
 * must reach the closed form to 1e-8. Then the methods agree with each other within 4·√(SE_A² + SE_B²),
 * and the common answer is checked against the population (the data's own sampling SE: s/√n for means,
 * √((Σ_aaΣ_bb + Σ_ab²)/n) for covariances, 4 SE). Measured z-scores are printed.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { TrainableEnergy } from "../../src/energies/contract.ts";
import { ExpFamEnergy, gaussianFromNatural, quadraticStatistics } from "../../src/energies/expfam.ts";
import { GaussianEnergy } from "../../src/energies/gaussian.ts";
import { createMlpEnergy } from "../../src/energies/mlp.ts";
import { mcseMean } from "../../src/eval/diagnostics.ts";
import { contrastiveDivergence } from "../../src/objectives/contrastive-divergence.ts";
import { denoisingScoreMatching, type DsmOptions } from "../../src/objectives/denoising-score-matching.ts";
import type { Objective } from "../../src/objectives/objective.ts";
import { scoreMatching } from "../../src/objectives/score-matching.ts";
import { slicedScoreMatching } from "../../src/objectives/sliced-score-matching.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";
import { malaMove } from "../../src/samplers/moves.ts";
import { adam, type Optimizer, sgd } from "../../src/train/optim.ts";
import { train } from "../../src/train/trainer.ts";
import { assertClose, centralDiff } from "../helpers.ts";
import { skipNative } from "../native/addon.ts";

function normals(seed: number, n: number, scale = 1): Float64Array {
  return new Stream(keyFromSeed(seed)).fillNormal(new Float64Array(n), 0, scale) as Float64Array;
}

/** Checks objective.gradient against central differences of its loss (same key ⇒ same noise). */
function checkGradient(
  objective: Objective<{ loss: number }>,
  model: TrainableEnergy,
  x: Float64Array,
  n: number,
  tol: { h: number; atol: number; rtol: number },
  what: string,
): void {
  const key = keyFromSeed(77);
  const state = objective.init(key, model);
  const theta = model.getParams();
  const grad = new Float64Array(model.numParams);
  objective.gradient(key, state, model, { x, n }, grad);
  assert.ok(Number.isFinite(state.loss), `${what}: loss ${state.loss}`);
  const scratch = new Float64Array(model.numParams);
  const loss = () => {
    model.setParams(theta);
    objective.gradient(key, state, model, { x, n }, scratch);
    return state.loss;
  };
  for (let k = 0; k < model.numParams; k++)
    assertClose(grad[k], centralDiff(loss, theta, k, tol.h), tol.atol, tol.rtol, `${what} ∂θJ[${k}]`);
  model.setParams(theta);
}

describe("DSM: gradient = ∂θ of the loss for the same noise draws", () => {
  const cases: [string, DsmOptions][] = [
    ["one σ", { sigma: 0.3 }],
    ["σ list, λ = σ²", { sigma: [0.1, 0.5, 1], copies: 3 }],
    ["σ list, λ = 1", { sigma: [0.1, 0.5, 1], weighting: "none", copies: 2 }],
  ];
  for (const [name, opts] of cases) {
    test(`exponential family (float64): ${name}`, () => {
      const model = new ExpFamEnergy(quadraticStatistics(2), [0.3, -0.2, 0.6, 0.1, 0.4]);
      checkGradient(
        denoisingScoreMatching(opts),
        model,
        normals(1, 14),
        7,
        { h: 1e-5, atol: 1e-6, rtol: 1e-6 },
        name,
      );
    });
  }
  for (const backend of skipNative ? ["wasm"] : ["wasm", "native"]) {
    test(`MLP on ${backend} (float32)`, async () => {
      const model = await createMlpEnergy(
        { inputDim: 2, hidden: [8], activation: "silu", confinement: 0.2 },
        keyFromSeed(3),
        { backend },
      );
      try {
        const opts: DsmOptions = { sigma: [0.2, 0.6], copies: 2 };
        checkGradient(
          denoisingScoreMatching(opts),
          model,
          normals(2, 10),
          5,
          { h: 1e-2, atol: 5e-4, rtol: 2e-3 },
          backend,
        );
      } finally {
        model.dispose();
      }
    });
  }
  test("options are checked; an energy without scoreParamGrad is refused", () => {
    assert.throws(() => denoisingScoreMatching({ sigma: [] }), /at least one/);
    assert.throws(() => denoisingScoreMatching({ sigma: -1 }), /positive/);
    assert.throws(() => denoisingScoreMatching({ sigma: 1, copies: 0 }), /copies/);
    const g = GaussianEnergy.isotropic([0], 1) as unknown as TrainableEnergy;
    assert.throws(() => denoisingScoreMatching({ sigma: 1 }).init(keyFromSeed(0), g), /scoreParamGrad/);
  });
});

// --- Gaussian targets -------------------------------------------------------------------------------------

const N = 1000;
const TRUE_MEAN = [0.5, -0.3];
const TRUE_COV = [1, 0.3, 0.3, 0.6];

function gaussianData() {
  const x = new Float64Array(N * 2);
  new GaussianEnergy(TRUE_MEAN, TRUE_COV).sampleExact(keyFromSeed(1), N, x);
  return x;
}

/** (mean₀, mean₁, cov₀₀, cov₀₁, cov₁₁) of e^{−θ·T}. */
function summary(theta: Float64Array): number[] {
  const g = gaussianFromNatural(theta, 2);
  return [g.mean[0], g.mean[1], g.cov[0], g.cov[1], g.cov[3]];
}

const NAMES = ["mean₀", "mean₁", "cov₀₀", "cov₀₁", "cov₁₁"];

interface Fit {
  est: number[];
  se: number[];
}

/**
 * Adam for `warm` iterations, then SGD: BURN iterations discarded (Adam's end point is a transient for
 * SGD), then `tail` iterations. The estimate is the summary of the averaged θ (θ enters the estimating
 * equations linearly; averaging the nonlinear summaries instead would add a small convexity bias), its SE
 * the MCSE of the summary series (delta method).
 */
const BURN = 300;
function fit<S>(
  objective: () => Objective<S>,
  x: Float64Array,
  warm: number,
  tail: number,
  tailOpt: Optimizer,
): Fit {
  const model = new ExpFamEnergy(quadraticStatistics(2), [0, 0, 0.5, 0, 0.5]);
  train({
    model,
    objective: objective(),
    optimizer: adam(0.05),
    data: { x, n: N },
    iterations: warm,
    key: keyFromSeed(2),
  });
  const series: number[][] = NAMES.map(() => []);
  const thetaBar = new Float64Array(model.numParams);
  train({
    model,
    objective: objective(),
    optimizer: tailOpt,
    data: { x, n: N },
    iterations: BURN + tail,
    key: keyFromSeed(3),
    onIteration: (k, p) => {
      if (k < BURN) return;
      summary(p).forEach((v, q) => series[q].push(v));
      for (let j = 0; j < p.length; j++) thetaBar[j] += p[j] / tail;
    },
  });
  return { est: summary(thetaBar), se: series.map((s) => mcseMean(s, 1, s.length)) };
}

function zScores(f: Fit, target: number[]): number[] {
  return f.est.map((v, q) => (v - target[q]) / f.se[q]);
}

describe("score matching family and MLE agree on a Gaussian (2-D, n = 1000)", () => {
  const x = gaussianData();
  const sm = new ExpFamEnergy(quadraticStatistics(2), [0, 0, 0.5, 0, 0.5]).scoreMatchingSolution(x, N);
  const target = summary(sm); // sample mean and 1/n covariance
  const SIGMA = 0.3;
  const dsmTarget = target.map((v, q) => (q === 2 || q === 4 ? v + SIGMA * SIGMA : v));
  const fits = new Map<string, Fit>();

  test("exact score matching reaches the closed form (sample mean and covariance)", () => {
    const model = new ExpFamEnergy(quadraticStatistics(2), [0, 0, 0.5, 0, 0.5]);
    const { params } = train({
      model,
      objective: scoreMatching(),
      optimizer: adam(0.05),
      data: { x, n: N },
      iterations: 1500,
      key: keyFromSeed(2),
    });
    const s = summary(params);
    for (let q = 0; q < 5; q++) assertClose(s[q], target[q], 1e-8, 1e-8, `sm ${NAMES[q]}`);
    fits.set("sm", { est: s, se: [0, 0, 0, 0, 0] });
  });

  const stochastic: [string, () => Objective<unknown>, number, number, Optimizer, number[]][] = [
    ["dsm σ = 0.3", () => denoisingScoreMatching({ sigma: SIGMA, copies: 2 }), 400, 800, sgd(1), dsmTarget],
    ["ssm", () => slicedScoreMatching({ projections: 2 }), 400, 800, sgd(0.02), target],
    ["ssm-vr", () => slicedScoreMatching({ variant: "ssm-vr" }), 400, 800, sgd(0.02), target],
    [
      "mle (cd, MALA k = 10)",
      () => contrastiveDivergence({ walkers: 200, k: 10, move: malaMove(0.3) }),
      300,
      500,
      sgd(0.2),
      target,
    ],
  ];
  for (const [name, objective, warm, tail, opt, tgt] of stochastic) {
    test(`${name}: the exact minimiser within 4 MCSE`, () => {
      const f = fit(objective, x, warm, tail, opt);
      const z = zScores(f, tgt);
      console.log(
        `${name}: z = ${z.map((v) => v.toFixed(2)).join(", ")}; MCSE ${f.se.map((v) => v.toExponential(1)).join(", ")}`,
      );
      for (let q = 0; q < 5; q++)
        assert.ok(Math.abs(z[q]) < 4, `${name} ${NAMES[q]}: ${f.est[q]} vs ${tgt[q]} (z = ${z[q]})`);
      // DSM learns the noised density: its covariance is S + σ²I, detectably not S.
      const shifted = tgt !== target;
      fits.set(name, shifted ? { est: f.est.map((v, q) => v - (tgt[q] - target[q])), se: f.se } : f);
      if (shifted) assert.ok(Math.abs(f.est[2] - target[2]) > 4 * f.se[2], "DSM's σ² shift is resolved");
    });
  }

  test("the methods agree with each other, and with the population within the data's sampling error", () => {
    const names = [...fits.keys()];
    assert.equal(names.length, 5, "every method ran");
    for (let i = 0; i < names.length; i++)
      for (let j = i + 1; j < names.length; j++) {
        const a = fits.get(names[i])!;
        const b = fits.get(names[j])!;
        for (let q = 0; q < 5; q++) {
          const se = Math.sqrt(a.se[q] ** 2 + b.se[q] ** 2) || 1e-8;
          assert.ok(Math.abs(a.est[q] - b.est[q]) < 4 * se + 1e-8, `${names[i]} vs ${names[j]} ${NAMES[q]}`);
        }
      }
    const truth = [TRUE_MEAN[0], TRUE_MEAN[1], TRUE_COV[0], TRUE_COV[1], TRUE_COV[3]];
    const [s00, s01, s11] = [TRUE_COV[0], TRUE_COV[1], TRUE_COV[3]];
    const seData = [
      Math.sqrt(s00 / N),
      Math.sqrt(s11 / N),
      Math.sqrt((2 * s00 * s00) / N),
      Math.sqrt((s00 * s11 + s01 * s01) / N),
      Math.sqrt((2 * s11 * s11) / N),
    ];
    let worstMethod = 0;
    for (const f of fits.values())
      for (let q = 0; q < 5; q++)
        worstMethod = Math.max(worstMethod, Math.abs(f.est[q] - target[q]) / seData[q]);
    console.log(`largest method − sample-moment gap: ${worstMethod.toFixed(3)} data SE`);
    for (let q = 0; q < 5; q++) {
      const z = (target[q] - truth[q]) / seData[q];
      assert.ok(Math.abs(z) < 4, `sample ${NAMES[q]} vs population: z = ${z}`);
    }
  });
});

describe("DSM with several noise levels: the weighting sets the learned covariance", () => {
  const x = gaussianData();
  const target = summary(
    new ExpFamEnergy(quadraticStatistics(2), [0, 0, 0.5, 0, 0.5]).scoreMatchingSolution(x, N),
  );
  const sigmas = [0.1, 0.3, 0.6];
  const cases: [string, "sigma2" | "none", number][] = [
    [
      "λ = σ² (NCSN)",
      "sigma2",
      sigmas.reduce((s, v) => s + v ** 4, 0) / sigmas.reduce((s, v) => s + v ** 2, 0),
    ],
    ["λ = 1", "none", sigmas.reduce((s, v) => s + v ** 2, 0) / sigmas.length],
  ];
  for (const [name, weighting, c] of cases) {
    test(`${name}: covariance S + ${c.toFixed(4)}·I`, () => {
      const tgt = target.map((v, q) => (q === 2 || q === 4 ? v + c : v));
      const lr = weighting === "sigma2" ? 1 : 0.05;
      const f = fit(
        () => denoisingScoreMatching({ sigma: sigmas, weighting, copies: 2 }),
        x,
        400,
        800,
        sgd(lr),
      );
      const z = zScores(f, tgt);
      console.log(
        `dsm ${name}: z = ${z.map((v) => v.toFixed(2)).join(", ")}; MCSE ${f.se.map((v) => v.toExponential(1)).join(", ")}`,
      );
      for (let q = 0; q < 5; q++)
        assert.ok(Math.abs(z[q]) < 4, `${NAMES[q]}: ${f.est[q]} vs ${tgt[q]} (z = ${z[q]})`);
    });
  }
});
