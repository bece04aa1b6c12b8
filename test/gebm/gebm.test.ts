/**
 * Generalized EBMs on the selected backend (the suite runs once on native, once on wasm): the latent
 * posterior's gradient, the energy step's KALE gradient (with c and the gradient penalty) and the
 * generator step's gradient against float64 central differences of the float32 networks, and the latent
 * sampler against importance sampling from the prior.
 *
 * FD tolerances as test/networks/network.test.ts: float32 rounding δ ≈ 1e-6 relative per network output,
 * central step h = 5e-3 → FD error ≲ δ/h + h²|f‴|/6 ≈ 2e-4·scale; tolerance 5e-4 + 2e-3·|FD| (the
 * objectives are averages of O(1) terms), while a wrong sign, weight or missing term is O(0.1).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { toy2d } from "../../src/data/toy2d.ts";
import { createGebm, type Gebm, sampleBase, sampleLatent } from "../../src/gebm/model.ts";
import { LatentPosterior } from "../../src/gebm/latent.ts";
import { sampleGebm } from "../../src/gebm/sample.ts";
import { generatorGradient, kaleEnergyGradient, GebmTrainer } from "../../src/gebm/train.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (tol ${tol})`);
}

async function smallModel(seed: number): Promise<Gebm> {
  return createGebm(
    { dataDim: 2, latentDim: 2, generatorHidden: [8, 8], energyHidden: [8, 8], activation: "tanh" },
    keyFromSeed(seed),
  );
}

describe("generalized EBM", () => {
  test("latent posterior: U_β(z) = ½|z|² + βE(B(z)) and its gradient match central differences", async () => {
    const model = await smallModel(1);
    try {
      const post = new LatentPosterior(model, 2.5);
      const n = 3;
      const z = sampleLatent(model, keyFromSeed(2), n);
      const u = new Float64Array(n);
      const g = new Float64Array(n * 2);
      post.energyAndGrad(z, n, u, g);
      const x = new Float64Array(n * 2);
      model.generator.forward(z, n, x);
      const e = new Float64Array(n);
      model.energy.energy(x, n, e);
      for (let i = 0; i < n; i++)
        close(u[i], 0.5 * (z[2 * i] ** 2 + z[2 * i + 1] ** 2) + 2.5 * e[i], 1e-9, `U[${i}]`);
      const h = 5e-3;
      const one = new Float64Array(1);
      for (let q = 0; q < n * 2; q++) {
        const i = Math.floor(q / 2);
        const zp = z.slice(2 * i, 2 * i + 2);
        zp[q % 2] += h;
        post.energy(zp, 1, one);
        const up = one[0];
        zp[q % 2] -= 2 * h;
        post.energy(zp, 1, one);
        const fd = (up - one[0]) / (2 * h);
        close(g[q], fd, 5e-4 + 2e-3 * Math.abs(fd), `∇U[${q}]`);
      }
    } finally {
      model.dispose();
    }
  });

  test("energy step: ∂(ψ, c) of −KALE + (λ/2)·mean|∇E(x̂)|² matches central differences", async () => {
    const model = await smallModel(3);
    try {
      model.logZ = 0.3;
      const n = 5;
      const s = new Stream(keyFromSeed(4));
      const xP = toy2d("mog4-unequal").sample(keyFromSeed(5), n);
      const { x: xQ } = sampleBase(model, keyFromSeed(6), n);
      const xHat = new Float64Array(2 * n);
      for (let q = 0; q < 2 * n; q++) xHat[q] = s.normal();
      const P = model.energy.numParams;
      const grad = new Float64Array(P + 1);
      const lambda = 0.7;
      kaleEnergyGradient(model, xP, xQ, xHat, n, lambda, grad);
      const loss = () => kaleEnergyGradient(model, xP, xQ, xHat, n, lambda, new Float64Array(P + 1)).loss;
      const psi = model.energy.getParams();
      const h = 5e-3;
      for (let q = 0; q < P; q++) {
        const p = psi.slice();
        p[q] += h;
        model.energy.setParams(p);
        const lp = loss();
        p[q] -= 2 * h;
        model.energy.setParams(p);
        const fd = (lp - loss()) / (2 * h);
        close(grad[q], fd, 5e-4 + 2e-3 * Math.abs(fd), `∂ψ[${q}]`);
      }
      model.energy.setParams(psi);
      model.logZ = 0.3 + h;
      const lp = loss();
      model.logZ = 0.3 - h;
      const fd = (lp - loss()) / (2 * h);
      close(grad[P], fd, 1e-6 + 1e-4 * Math.abs(fd), "∂c");
    } finally {
      model.dispose();
    }
  });

  test("generator step: ∂θ of −log mean e^{−E(B_θ(z))} matches central differences", async () => {
    const model = await smallModel(7);
    try {
      const n = 6;
      const z = sampleLatent(model, keyFromSeed(8), n);
      const grad = new Float64Array(model.generator.numParams);
      generatorGradient(model, z, n, grad);
      const theta = model.generator.getParams();
      const scratch = new Float64Array(theta.length);
      const h = 5e-3;
      for (let q = 0; q < theta.length; q++) {
        const t = theta.slice();
        t[q] += h;
        model.generator.setParams(t);
        const lp = generatorGradient(model, z, n, scratch);
        t[q] -= 2 * h;
        model.generator.setParams(t);
        const fd = (lp - generatorGradient(model, z, n, scratch)) / (2 * h);
        close(grad[q], fd, 5e-4 + 2e-3 * Math.abs(fd), `∂θ[${q}]`);
      }
    } finally {
      model.dispose();
    }
  });

  test("training steps are reproducible: same key, same parameters", async () => {
    const data = toy2d("mog4-unequal").sample(keyFromSeed(9), 500);
    const run = async () => {
      const model = await smallModel(10);
      const tr = new GebmTrainer(model, data, 500, {
        iterations: 3,
        warmupIterations: 1,
        warmupEnergySteps: 4,
        batchSize: 32,
      });
      tr.run(keyFromSeed(11));
      const out = { e: model.energy.getParams(), g: model.generator.getParams(), c: model.logZ };
      model.dispose();
      return out;
    };
    const a = await run();
    const b = await run();
    assert.deepEqual(a, b);
    assert.ok(Number.isFinite(a.c));
  });

  test("latent MALA at β = 1 matches importance sampling from the prior (E_ν[z], E_ν[|z|²])", async () => {
    // A model with a strongly non-uniform energy on the generator's range, so ν differs from the prior.
    const model = await smallModel(12);
    try {
      const psi = model.energy.getParams().map((v) => 3 * v);
      model.energy.setParams(psi);
      // Reference: self-normalised importance sampling with 400 000 prior draws (its error is ~1/10 of the
      // sampler's below).
      const m = 400000;
      const z = sampleLatent(model, keyFromSeed(13), m);
      const x = new Float64Array(2 * m);
      model.generator.forward(z, m, x);
      const e = new Float64Array(m);
      model.energy.energy(x, m, e);
      let lo = Number.POSITIVE_INFINITY;
      for (const v of e) if (v < lo) lo = v;
      let sw = 0;
      const ref = [0, 0, 0];
      for (let i = 0; i < m; i++) {
        const w = Math.exp(-(e[i] - lo));
        sw += w;
        ref[0] += w * z[2 * i];
        ref[1] += w * z[2 * i + 1];
        ref[2] += w * (z[2 * i] ** 2 + z[2 * i + 1] ** 2);
      }
      for (let k = 0; k < 3; k++) ref[k] /= sw;
      // Energy spread on the prior: the test is vacuous if ν ≈ η.
      assert.ok(
        Math.abs(ref[0]) + Math.abs(ref[1]) > 0.1,
        `posterior mean ${ref[0]}, ${ref[1]} is too close to 0`,
      );
      const n = 4000;
      for (const init of ["resampled", "prior"] as const) {
        const r = sampleGebm(model, keyFromSeed(14), { n, beta: 1, sampler: "mala", steps: 200, init });
        const f = (i: number, k: number) => (k < 2 ? r.z[2 * i + k] : r.z[2 * i] ** 2 + r.z[2 * i + 1] ** 2);
        for (let k = 0; k < 3; k++) {
          let mean = 0;
          for (let i = 0; i < n; i++) mean += f(i, k) / n;
          let v = 0;
          for (let i = 0; i < n; i++) v += (f(i, k) - mean) ** 2 / (n - 1);
          const se = Math.sqrt(v / n);
          // Independent chains: the SE of the mean is sd/√n; 4 SE (plus the reference's own error).
          close(mean, ref[k], 4 * se * 1.1, `${init} moment ${k}`);
        }
        assert.ok(r.acceptance > 0.3, `acceptance ${r.acceptance}`);
      }
    } finally {
      model.dispose();
    }
  });
});
