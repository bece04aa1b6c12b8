/**
 * Noise-contrastive estimation (src/objectives/nce.ts).
 *
 * Gradient. c is profiled out (solved exactly per call), so by the envelope theorem the returned θ-gradient
 * must be the derivative of the returned (profiled) loss for the same key: float64 central differences on
 * the exponential family (h = 1e-5, tolerance 1e-6·(1 + |FD|)), and on the MLP, both backends, with the
 * float32 tolerance of test/energies/mlp.test.ts (h = 1e-2, 5e-4 + 2e-3·|FD|). A c that was not the
 * minimiser would add ∂cJ·dc/dθ and fail this.
 *
 * Standard errors. The reported SE of ĉ (sandwich, given θ) and importanceLogZ's SE are checked for
 * coverage: at θ = the data's true Gaussian (so p_θ = p_data and the limit of ĉ is log Z_θ), over R = 300
 * independent data and noise draws, the fraction with |ĉ − log Z_θ| ≤ 2·SE must be ≈ 95%; with a binomial
 * SE of 1.3% the accepted band is [0.90, 0.99].
 *
 * Estimates. The Gaussian family on 2-D Gaussian data with a fitted Gaussian noise (default) and with a
 * user-given mixture noise: the learned mean and covariance match the population within 4 sampling SEs of
 * the MLE inflated by √(1 + 1/ν) (NCE's efficiency relative to maximum likelihood when q = p_data,
 * Gutmann & Hyvärinen 2012); ĉ, re-evaluated at the averaged θ, matches the exact log Z_θ within 4 of its
 * SEs, and so does importanceLogZ. On the seed's two-well energy (modes at ∓10, θ = z) NCE learns the mass
 * that score matching cannot (test/objectives/ssm.test.ts): q̂ is compared with q* = 0.8 within 4 SE of its
 * sandwich standard error A⁻¹BA⁻ᵀ for the estimating equations in (z, c), computed at the end from the
 * data and a noise sample.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { TrainableEnergy } from "../../src/energies/contract.ts";
import {
  ExpFamEnergy,
  gaussianFromNatural,
  naturalFromGaussian,
  quadraticStatistics,
} from "../../src/energies/expfam.ts";
import { GaussianEnergy } from "../../src/energies/gaussian.ts";
import { GmmEnergy } from "../../src/energies/gmm.ts";
import { MixtureEnergy } from "../../src/energies/mixture.ts";
import { createMlpEnergy } from "../../src/energies/mlp.ts";
import {
  fitGaussianNoise,
  importanceLogZ,
  nce,
  type NceDiagnostics,
  nceNoise,
  type NceOptions,
} from "../../src/objectives/nce.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";
import { adam, sgd } from "../../src/train/optim.ts";
import { decodeState, encodeState } from "../../src/train/state-codec.ts";
import { train, trainer, type TrainerState } from "../../src/train/trainer.ts";
import { denoisingScoreMatching } from "../../src/objectives/denoising-score-matching.ts";
import { slicedScoreMatching } from "../../src/objectives/sliced-score-matching.ts";
import type { Objective } from "../../src/objectives/objective.ts";
import { foldIn } from "../../src/random/key.ts";
import { assertClose, centralDiff } from "../helpers.ts";
import { skipNative } from "../native/addon.ts";

function normals(seed: number, n: number, scale = 1): Float64Array {
  return new Stream(keyFromSeed(seed)).fillNormal(new Float64Array(n), 0, scale) as Float64Array;
}

function checkGradient(
  opts: NceOptions,
  model: TrainableEnergy,
  x: Float64Array,
  n: number,
  tol: { h: number; atol: number; rtol: number },
  what: string,
): void {
  const objective = nce(opts);
  const key = keyFromSeed(79);
  const state = objective.init(key, model);
  const theta = model.getParams();
  const grad = new Float64Array(model.numParams);
  objective.gradient(key, state, model, { x, n }, grad);
  assert.ok(
    Number.isFinite(state.loss) && Number.isFinite(state.c),
    `${what}: loss ${state.loss}, c ${state.c}`,
  );
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

describe("NCE: gradient = ∂θ of the profiled loss for the same draws", () => {
  const cases: [string, NceOptions][] = [
    ["fitted Gaussian, ν = 1", {}],
    ["diagonal fit ×2, ν = 3", { noise: "gaussian-diag", inflate: 2, nu: 3 }],
    [
      "user mixture noise, ν = 0.5",
      {
        noise: new GmmEnergy({
          weights: [1, 2],
          means: [
            [-1, 0],
            [1, 1],
          ],
          stds: [1, 1.5],
        }),
        nu: 0.5,
      },
    ],
  ];
  for (const [name, opts] of cases) {
    test(`exponential family (float64): ${name}`, () => {
      const model = new ExpFamEnergy(quadraticStatistics(2), [0.3, -0.2, 0.6, 0.1, 0.4]);
      checkGradient(opts, model, normals(1, 40), 20, { h: 1e-5, atol: 1e-6, rtol: 1e-6 }, name);
    });
  }
  for (const backend of skipNative ? ["wasm"] : ["wasm", "native"]) {
    test(`MLP on ${backend} (float32)`, async () => {
      const model = await createMlpEnergy(
        { inputDim: 2, hidden: [8], activation: "elu", confinement: 0.5 },
        keyFromSeed(3),
        { backend },
      );
      try {
        checkGradient({ nu: 2 }, model, normals(2, 24), 12, { h: 1e-2, atol: 5e-4, rtol: 2e-3 }, backend);
      } finally {
        model.dispose();
      }
    });
  }
  test("options are checked", () => {
    assert.throws(() => nce({ nu: 0 }), /nu/);
    assert.throws(() => nce({ noise: "x" as "gaussian" }), /noise/);
    const model = new ExpFamEnergy(quadraticStatistics(2), [0, 0, 0.5, 0, 0.5]);
    assert.throws(() => nce({ noise: GaussianEnergy.isotropic([0], 1) }).init(keyFromSeed(0), model), /dim/);
    assert.throws(() => fitGaussianNoise(new Float64Array(2), 1, 2), /at least 2/);
  });
});

const TRUE_MEAN = [0.5, -0.3];
const TRUE_COV = [1, 0.3, 0.3, 0.6];

describe("NCE: reported standard errors cover", () => {
  test("SE of ĉ and of importanceLogZ: ≈ 95% of |estimate − log Z| ≤ 2 SE over 300 draws", () => {
    const truth = new GaussianEnergy(TRUE_MEAN, TRUE_COV);
    const model = new ExpFamEnergy(quadraticStatistics(2), naturalFromGaussian(TRUE_MEAN, TRUE_COV));
    const logZ = gaussianFromNatural(model.getParams(), 2).logZ;
    const noise = GaussianEnergy.isotropic([0, 0], 1.8);
    const R = 300;
    const n = 200;
    let coverC = 0;
    let coverIs = 0;
    const x = new Float64Array(n * 2);
    const g = new Float64Array(model.numParams);
    for (let t = 0; t < R; t++) {
      truth.sampleExact(keyFromSeed(5000 + t), n, x);
      const obj = nce({ noise, nu: 2 });
      const s = obj.init(keyFromSeed(0), model);
      obj.gradient(keyFromSeed(9000 + t), s, model, { x, n }, g);
      if (Math.abs(s.c - logZ) <= 2 * s.cSe) coverC++;
      const is = importanceLogZ(keyFromSeed(13000 + t), model, noise, 400);
      if (Math.abs(is.logZ - logZ) <= 2 * is.se) coverIs++;
    }
    console.log(
      `coverage of ±2 SE: ĉ ${(coverC / R).toFixed(3)}, importanceLogZ ${(coverIs / R).toFixed(3)}`,
    );
    for (const cov of [coverC / R, coverIs / R]) assert.ok(cov >= 0.9 && cov <= 0.99, `coverage ${cov}`);
  });
});

/** (mean₀, mean₁, cov₀₀, cov₀₁, cov₁₁). */
function summary(theta: Float64Array): number[] {
  const g = gaussianFromNatural(theta, 2);
  return [g.mean[0], g.mean[1], g.cov[0], g.cov[1], g.cov[3]];
}
const NAMES = ["mean₀", "mean₁", "cov₀₀", "cov₀₁", "cov₁₁"];

/** Adam, then SGD (burn-in discarded); returns θ averaged over the SGD tail and the final objective state. */
function fitNce(
  objective: ReturnType<typeof nce>,
  model: TrainableEnergy,
  x: Float64Array,
  n: number,
  lr: number,
) {
  train({ model, objective, optimizer: adam(0.05), data: { x, n }, iterations: 250, key: keyFromSeed(2) });
  const thetaBar = new Float64Array(model.numParams);
  const tail = 300;
  const r = train({
    model,
    objective,
    optimizer: sgd(lr),
    data: { x, n },
    iterations: 100 + tail,
    key: keyFromSeed(3),
    onIteration: (k, p) => {
      if (k >= 100) for (let j = 0; j < p.length; j++) thetaBar[j] += p[j] / tail;
    },
  });
  return { thetaBar, state: r.state };
}

describe("NCE: estimates", () => {
  const n = 1000;
  const x = new Float64Array(n * 2);
  new GaussianEnergy(TRUE_MEAN, TRUE_COV).sampleExact(keyFromSeed(1), n, x);
  const truth = [TRUE_MEAN[0], TRUE_MEAN[1], TRUE_COV[0], TRUE_COV[1], TRUE_COV[3]];
  const [s00, s01, s11] = [TRUE_COV[0], TRUE_COV[1], TRUE_COV[3]];
  const seMle = [
    Math.sqrt(s00 / n),
    Math.sqrt(s11 / n),
    Math.sqrt((2 * s00 * s00) / n),
    Math.sqrt((s00 * s11 + s01 * s01) / n),
    Math.sqrt((2 * s11 * s11) / n),
  ];
  const mle = summary(
    new ExpFamEnergy(quadraticStatistics(2), [0, 0, 0.5, 0, 0.5]).scoreMatchingSolution(x, n),
  );
  const noises: [string, NceOptions][] = [
    ["fitted Gaussian (default), ν = 2", { nu: 2 }],
    [
      "user mixture noise, ν = 2",
      {
        nu: 2,
        noise: new GmmEnergy({
          weights: [1, 1],
          means: [
            [0, 0],
            [1, -1],
          ],
          stds: [1.5, 1.5],
        }),
      },
    ],
  ];
  for (const [name, opts] of noises) {
    test(`Gaussian family, ${name}: mean, covariance and log Z`, () => {
      const model = new ExpFamEnergy(quadraticStatistics(2), [0, 0, 0.5, 0, 0.5]);
      const objective = nce(opts);
      const { thetaBar, state } = fitNce(objective, model, x, n, 0.5);
      const est = summary(thetaBar);
      const nu = opts.nu ?? 1;
      for (let q = 0; q < 5; q++) {
        const se = seMle[q] * Math.sqrt(1 + 1 / nu);
        const z = (est[q] - truth[q]) / se;
        assert.ok(Math.abs(z) < 4, `${name} ${NAMES[q]}: ${est[q]} vs ${truth[q]} (z = ${z})`);
      }
      const gap = Math.max(...est.map((v, q) => Math.abs(v - mle[q]) / seMle[q]));
      // ĉ at the averaged θ (one more call on the full data), against the exact log Z_θ.
      model.setParams(thetaBar);
      objective.gradient(keyFromSeed(11), state, model, { x, n }, new Float64Array(model.numParams));
      const d = objective.diagnostics(state) as NceDiagnostics;
      const logZ = gaussianFromNatural(thetaBar, 2).logZ;
      const is = importanceLogZ(keyFromSeed(12), model, nceNoise(opts, state)!, 20000);
      console.log(
        `nce ${name}: largest |NCE − MLE| ${gap.toFixed(2)} SE; ĉ ${d.logNormalizer.toFixed(4)} ± ${d.logNormalizerSe.toExponential(1)}, ` +
          `IS ${is.logZ.toFixed(4)} ± ${is.se.toExponential(1)} (ESS ${is.ess.toFixed(0)}), exact ${logZ.toFixed(4)}; accuracy ${d.accuracy.toFixed(3)}`,
      );
      assert.ok(Math.abs(d.logNormalizer - logZ) < 4 * d.logNormalizerSe, "ĉ vs log Z_θ");
      assert.ok(Math.abs(is.logZ - logZ) < 4 * is.se, "importanceLogZ vs log Z_θ");
    });
  }

  test("two-well (modes ∓10): NCE learns the mass score matching cannot", () => {
    const N = 2000;
    const data = new Float64Array(N);
    MixtureEnergy.twoWell(-10, 10, Math.log(0.25)).sampleExact(keyFromSeed(1), N, data); // q* = 0.8
    const noise = new GmmEnergy({ weights: [0.5, 0.5], means: [[-10], [10]], stds: [2, 2] });
    const model = MixtureEnergy.twoWell(-10, 10, 0);
    const objective = nce({ noise, nu: 1 });
    const { thetaBar, state } = fitNce(objective, model, data, N, 0.5);
    const z = thetaBar[0];
    model.setParams(thetaBar);
    objective.gradient(keyFromSeed(11), state, model, { x: data, n: N }, new Float64Array(1));
    const c = state.c;
    // Sandwich SE for φ = (z, c): g(φ) = (1/N)[Σ_data (1−h)s − Σ_noise h s], s = (∂zU, 1), ∂zU = r (resp. of
    // mode b), ∂²zU = −r(1−r); A = ∂g/∂φ, Var(g) = (Var_data((1−h)s) + ν·Var_noise(h s))/N; Var(φ̂) = A⁻¹Var(g)A⁻¹.
    const M = N;
    const y = new Float64Array(M);
    noise.sampleExact(keyFromSeed(12), M, y);
    const lq = (v: number) => {
      const u = new Float64Array(1);
      noise.energy(Float64Array.from([v]), 1, u);
      return -u[0] - noise.logZ();
    };
    const A = [0, 0, 0, 0];
    const mom = { d: [0, 0, 0, 0, 0], q: [0, 0, 0, 0, 0] }; // Σ a, Σ b, Σ a², Σ ab, Σ b² of the vector terms
    const point = (v: number, isData: boolean) => {
      const u = new Float64Array(1);
      model.energy(Float64Array.from([v]), 1, u);
      const r = 1 / (1 + Math.exp(z - 0.5 * (v + 10) ** 2 + 0.5 * (v - 10) ** 2));
      const h = 1 / (1 + Math.exp(u[0] + c + lq(v)));
      const s = [r, 1];
      const hh = h * (1 - h);
      const second = -r * (1 - r);
      A[0] += (hh * s[0] * s[0] + (isData ? 1 - h : -h) * second) / N;
      A[1] += (hh * s[0]) / N;
      A[2] += (hh * s[0]) / N;
      A[3] += hh / N;
      const f = isData ? 1 - h : h;
      const m = isData ? mom.d : mom.q;
      m[0] += f * s[0];
      m[1] += f;
      m[2] += f * s[0] * f * s[0];
      m[3] += f * s[0] * f;
      m[4] += f * f;
    };
    for (let i = 0; i < N; i++) point(data[i], true);
    for (let j = 0; j < M; j++) point(y[j], false);
    const cov = (m: number[], k: number) => {
      const [a, b, aa, ab, bb] = m.map((v) => v / k);
      return [aa - a * a, ab - a * b, ab - a * b, bb - b * b];
    };
    const vd = cov(mom.d, N);
    const vq = cov(mom.q, M);
    const V = vd.map((v, k) => (v + vq[k]) / N); // ν = 1
    const det = A[0] * A[3] - A[1] * A[2];
    const Ai = [A[3] / det, -A[1] / det, -A[2] / det, A[0] / det];
    // (A⁻¹ V A⁻ᵀ)_00
    const r0 = [Ai[0] * V[0] + Ai[1] * V[2], Ai[0] * V[1] + Ai[1] * V[3]];
    const varZ = r0[0] * Ai[0] + r0[1] * Ai[1];
    const qHat = 1 / (1 + Math.exp(z));
    const seQ = Math.sqrt(varZ) * qHat * (1 - qHat);
    let frac = 0;
    for (let i = 0; i < N; i++) if (data[i] > 0) frac += 1 / N;
    console.log(
      `two-well NCE: q̂ ${qHat.toFixed(4)} ± ${seQ.toExponential(1)} (q* 0.8, data fraction ${frac.toFixed(4)}); ` +
        `ĉ ${c.toFixed(4)} ± ${state.cSe.toExponential(1)}, exact log Z ${model.logZ().toFixed(4)}`,
    );
    assert.ok(Math.abs(qHat - 0.8) < 4 * seQ, `q̂ = ${qHat} (SE ${seQ})`);
    assert.ok(Math.abs(c - model.logZ()) < 4 * state.cSe, `ĉ = ${c} vs ${model.logZ()}`);
  });
});

describe("objective states are plain data: a checkpointed run resumes bit for bit", () => {
  const objectives: [string, () => Objective<unknown>][] = [
    ["nce (fitted noise)", () => nce({ nu: 2 }) as Objective<unknown>],
    ["dsm", () => denoisingScoreMatching({ sigma: [0.2, 0.5] }) as Objective<unknown>],
    ["ssm-vr", () => slicedScoreMatching({ variant: "ssm-vr" }) as Objective<unknown>],
  ];
  for (const [name, make] of objectives) {
    test(name, () => {
      const x = normals(40, 200);
      const run = (split: boolean) => {
        const model = new ExpFamEnergy(quadraticStatistics(2), [0, 0, 0.5, 0, 0.5]);
        const t = trainer({
          model,
          objective: make(),
          optimizer: adam(0.05),
          data: { x, n: 100 },
          batchSize: 50,
        });
        let state = t.init(keyFromSeed(1));
        for (let k = 0; k < 10; k++) {
          if (split && k === 5) {
            const enc = encodeState(state, "s");
            state = decodeState(enc.skeleton, enc.tensors) as TrainerState<unknown>;
            model.setParams(state.params);
          }
          t.step(foldIn(keyFromSeed(2), k), state);
        }
        return state.params;
      };
      assert.deepEqual(run(true), run(false));
    });
  }
});
