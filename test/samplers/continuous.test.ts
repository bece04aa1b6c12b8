/**
 * Continuous MCMC kernels recover known targets: the mean and covariance of a correlated 5-D Gaussian and
 * the mode weights of an unequal 2-D mixture. Many independent chains run side by side; their final states
 * are iid, so the standard errors are those of iid sample moments. Every bound is 5 SE (a 5-SE excursion
 * has probability 6e-7 per comparison, ~1e-5 over the 20 moments of one test; seeds are fixed anyway).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cholesky, GaussianEnergy } from "../../src/energies/gaussian.ts";
import { MixtureEnergy } from "../../src/energies/mixture.ts";
import { keyFromSeed, normal } from "../../src/random/key.ts";
import { hmc } from "../../src/samplers/hmc.ts";
import { kineticLangevin } from "../../src/samplers/kinetic.ts";
import { mala } from "../../src/samplers/mala.ts";
import { nuts } from "../../src/samplers/nuts.ts";
import { rwm } from "../../src/samplers/rwm.ts";
import type { ChainState, KernelParams, Sampler, StepInfo } from "../../src/samplers/types.ts";
import { runChains } from "./run-chains.ts";
import { checkMoments, gaussian5 } from "./gaussian5.ts";

// ---------------------------------------------------------------------------------------------------
// Helpers

/** gaussian5 with its slowest direction (top eigenvector of Σ, by power iteration): the one that takes longest to forget. */
function gaussian5Slow() {
  const g = gaussian5();
  const { d, cov } = g;
  let v = new Float64Array(d).fill(1);
  for (let k = 0; k < 500; k++) {
    const w = new Float64Array(d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) w[i] += cov[i * d + j] * v[j];
    const norm = Math.hypot(...w);
    v = w.map((x) => x / norm);
  }
  return { ...g, slow: v };
}

/** Correlation over chains of the projections of two n × d batches on `dir` (centered at `mean`). */
function projectionCorrelation(
  a: Float64Array,
  b: Float64Array,
  n: number,
  d: number,
  mean: Float64Array,
  dir: Float64Array,
): number {
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    let pa = 0;
    let pb = 0;
    for (let j = 0; j < d; j++) {
      pa += (a[i * d + j] - mean[j]) * dir[j];
      pb += (b[i * d + j] - mean[j]) * dir[j];
    }
    sab += pa * pb;
    saa += pa * pa;
    sbb += pb * pb;
  }
  return sab / Math.sqrt(saa * sbb);
}

// ---------------------------------------------------------------------------------------------------
// Correlated 5-D Gaussian

/*
 * Chains start from exact draws, so the batch is at stationarity from step 0 and the final states are
 * iid draws from the kernel's invariant law, if it is the target. A wrong kernel drifts to its own law:
 * each run lasts ≥ 10 relaxation times of the slowest direction (measured while writing these tests:
 * the lag-t autocorrelation of the top-eigenvector projection falls below 0.03 by t = 100 for RWM, 50 for
 * MALA, 5 for HMC, 20 for metropolized kinetic Langevin at h = 0.4, 100 for kinetic Langevin at h = 0.1).
 * That the chains did move is checked too: the start/end correlation of the slow projection must be
 * indistinguishable from 0 (|r| < 5/√n, the SE of a correlation of independent samples being 1/√n);
 * a kernel that never moves would otherwise pass a stationarity test.
 */
describe("correlated 5-D Gaussian: mean and covariance within 5 SE", () => {
  const g = gaussian5Slow();
  const n = 4000;

  function check<P extends KernelParams>(
    name: string,
    sampler: Sampler<ChainState, StepInfo, P>,
    params: P,
    steps: number,
    seed: number,
    momentum?: boolean | "dense",
  ) {
    const x0 = new Float64Array(n * g.d);
    g.energy.sampleExact(keyFromSeed(seed), n, x0);
    const state = sampler.init(x0, n);
    if (momentum) {
      // Kinetic chains also start with p ~ N(0, M), M = diag(1/inverseMass) = diag(1/Σ_jj), or with a
      // dense metric M = Σ⁻¹ = P: p = L_P ξ with L_P the Cholesky factor of P.
      const p = (state as ChainState & { momentum: Float64Array }).momentum;
      normal(keyFromSeed(seed + 1), p);
      if (momentum === "dense") {
        const l = cholesky(g.energy.precision, g.d);
        for (let i = 0; i < n; i++) {
          const xi = p.slice(i * g.d, (i + 1) * g.d);
          for (let a = 0; a < g.d; a++) {
            let v = 0;
            for (let b = 0; b <= a; b++) v += l[a * g.d + b] * xi[b];
            p[i * g.d + a] = v;
          }
        }
      } else for (let i = 0; i < p.length; i++) p[i] /= Math.sqrt(g.diagCov[i % g.d]);
    }
    const { accept, divergent } = runChains(sampler, state, steps, keyFromSeed(seed + 2), params);
    assert.equal(divergent, 0, `${name}: divergences`);
    const r = projectionCorrelation(x0, state.position, n, g.d, g.energy.mean, g.slow);
    assert.ok(Math.abs(r) < 5 / Math.sqrt(n), `${name}: start/end correlation ${r}: the chains did not mix`);
    const worst = checkMoments(state.position, n, g.energy.mean, g.energy.cov, g.d, name);
    return { accept, worst, r };
  }

  test("RWM (step 0.7, diagonal preconditioning)", (t) => {
    const s = rwm(g.energy);
    const { accept, worst } = check("RWM", s, { step: 0.7, inverseMass: g.diagCov }, 300, 100);
    t.diagnostic(`acceptance ${accept.toFixed(3)}, worst moment ${worst.toFixed(2)} SE`);
    assert.ok(accept > 0.2 && accept < 0.6, `acceptance ${accept}`);
  });

  test("MALA (h 0.15, diagonal preconditioning)", (t) => {
    const s = mala(g.energy);
    const { accept, worst } = check("MALA", s, { step: 0.15, inverseMass: g.diagCov }, 200, 200);
    t.diagnostic(`acceptance ${accept.toFixed(3)}, worst moment ${worst.toFixed(2)} SE`);
    assert.ok(accept > 0.6 && accept < 0.99, `acceptance ${accept}`);
  });

  test("HMC (step 0.4, ≤ 8 leapfrog steps, jitter 1, diagonal mass)", (t) => {
    const s = hmc(g.energy, { jitter: 1 });
    const params = { step: 0.4, numSteps: 8, inverseMass: g.diagCov };
    const { accept, worst } = check("HMC", s, params, 40, 300);
    t.diagnostic(`acceptance ${accept.toFixed(3)}, worst moment ${worst.toFixed(2)} SE`);
    assert.ok(accept > 0.8 && accept < 1, `acceptance ${accept}`);
  });

  test("metropolized kinetic Langevin (h 0.4, γ 1, diagonal mass)", (t) => {
    const s = kineticLangevin(g.energy, { metropolize: true });
    const params = { step: 0.4, inverseMass: g.diagCov };
    const { accept, worst } = check("kinetic (MH)", s, params, 200, 400, true);
    t.diagnostic(`acceptance ${accept.toFixed(3)}, worst moment ${worst.toFixed(2)} SE`);
    assert.ok(accept > 0.8 && accept < 1, `acceptance ${accept}`);
  });

  // A dense inverse mass equal to Σ whitens the target: every direction relaxes as fast as the fastest, so
  // the runs are shorter than above (the start/end correlation of the slow projection, measured over 4000
  // chains while writing these tests, is at noise level, |r| < 0.05 = 3 SE, within a fifth of each run).
  test("dense inverse mass Σ: RWM, MALA, HMC, metropolized kinetic Langevin and NUTS", (t) => {
    const inverseMass = g.energy.cov;
    const runs: [string, () => { accept: number; worst: number }][] = [
      ["RWM", () => check("RWM dense", rwm(g.energy), { step: 1, inverseMass }, 200, 600)],
      ["MALA", () => check("MALA dense", mala(g.energy), { step: 0.5, inverseMass }, 60, 610)],
      ["HMC", () => check("HMC dense", hmc(g.energy), { step: 0.5, numSteps: 6, inverseMass }, 20, 620)],
      [
        "kinetic (MH)",
        () =>
          check(
            "kinetic dense",
            kineticLangevin(g.energy, { metropolize: true }),
            { step: 0.5, inverseMass },
            150,
            630,
            "dense",
          ),
      ],
      ["NUTS", () => check("NUTS dense", nuts(g.energy), { step: 0.7, inverseMass }, 10, 640)],
    ];
    for (const [name, run] of runs) {
      const { accept, worst } = run();
      t.diagnostic(`${name}: acceptance ${accept.toFixed(3)}, worst moment ${worst.toFixed(2)} SE`);
    }
  });

  test("unmetropolized kinetic Langevin (h 0.1) matches its predicted O(h²)-biased covariance", (t) => {
    // With M = I the stationary covariance is (P − h²P²/4)⁻¹ (see kinetic.ts). GaussianEnergy inverts
    // its covariance argument, so building one from A = P − h²P²/4 gives A⁻¹ as its `precision`.
    const h = 0.1;
    const d = g.d;
    const P = g.energy.precision;
    const a = new Float64Array(d * d);
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) {
        let pp = 0;
        for (let k = 0; k < d; k++) pp += P[i * d + k] * P[k * d + j];
        a[i * d + j] = P[i * d + j] - ((h * h) / 4) * pp;
      }
    for (let i = 0; i < d; i++)
      for (let j = 0; j < i; j++) a[i * d + j] = a[j * d + i] = 0.5 * (a[i * d + j] + a[j * d + i]);
    const predicted = new GaussianEnergy(g.energy.mean, a).precision;
    // At h = 0.1 the bias is below 1% of any variance (factor 1/(1 − h²/(4·0.26)) in the stiffest
    // direction), under the ~2% SE: this run checks the dynamics, the 1-D test in continuous-checks the bias.
    const s = kineticLangevin(g.energy);
    const x0 = new Float64Array(n * d);
    g.energy.sampleExact(keyFromSeed(500), n, x0);
    const state = s.init(x0, n, normal(keyFromSeed(501), new Float64Array(n * d)));
    const { divergent } = runChains(s, state, 300, keyFromSeed(502), { step: h });
    assert.equal(divergent, 0);
    const r = projectionCorrelation(x0, state.position, n, d, g.energy.mean, g.slow);
    assert.ok(Math.abs(r) < 5 / Math.sqrt(n), `start/end correlation ${r}`);
    const worst = checkMoments(state.position, n, g.energy.mean, predicted, d, "kinetic (no MH)");
    t.diagnostic(`worst moment ${worst.toFixed(2)} SE`);
  });
});

// ---------------------------------------------------------------------------------------------------
// Unequal 2-D mixture

/*
 * 0.3·N((−2, 0), I) + 0.7·N((2, 0), I). The weight of the right mode is estimated by the mean
 * responsibility r(x) = 1/(1 + (3/7)e^{−4x₀}), whose expectation under the mixture is exactly 0.7 (and
 * whose variance is smaller than that of the indicator x₀ > 0). SE = sd(r)/√n from the iid final states.
 *
 * All chains start at the light mode (−2, 0), so the weight must be reached by crossing the barrier.
 * The deficit decays as 0.7e^{−t/τ}, with τ (fitted on 20 000 chains while writing these tests) ≈ 13 steps
 * for RWM, 26 for MALA, 8 for HMC, 25 for metropolized kinetic Langevin at h = 0.6. Each run is ≥ 11τ:
 * the deficit is then below 0.7e^{−11} ≈ 1e-5, under a hundredth of the SE (≈ 0.009 with 2000 chains).
 */
describe("unequal 2-D mixture: mode weight 0.7 within 5 SE from a start in the other mode", () => {
  const mix = new MixtureEnergy({
    means: [
      [-2, 0],
      [2, 0],
    ],
    stds: [1, 1],
    offsets: [-Math.log(7 / 3)],
  });
  const n = 2000;

  function weight<P extends KernelParams>(
    name: string,
    sampler: Sampler<ChainState, StepInfo, P>,
    params: P,
    steps: number,
    seed: number,
  ) {
    assert.ok(Math.abs(mix.componentMasses()[1] - 0.7) < 1e-12);
    const x0 = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) x0[2 * i] = -2;
    const state = sampler.init(x0, n);
    const { accept, divergent } = runChains(sampler, state, steps, keyFromSeed(seed), params);
    assert.equal(divergent, 0);
    let m = 0;
    let m2 = 0;
    for (let i = 0; i < n; i++) {
      const r = 1 / (1 + (3 / 7) * Math.exp(-4 * state.position[2 * i]));
      m += r;
      m2 += r * r;
    }
    m /= n;
    const se = Math.sqrt((m2 / n - m * m) / n);
    assert.ok(Math.abs(m - 0.7) < 5 * se, `${name}: weight ${m}, expected 0.7 ± ${se}`);
    return { accept, z: (m - 0.7) / se };
  }

  test("RWM", (t) => {
    const { accept, z } = weight("RWM", rwm(mix), { step: 1.5 }, 150, 10);
    t.diagnostic(`acceptance ${accept.toFixed(3)}, weight error ${z.toFixed(2)} SE`);
  });

  test("MALA", (t) => {
    const { accept, z } = weight("MALA", mala(mix), { step: 0.5 }, 300, 11);
    t.diagnostic(`acceptance ${accept.toFixed(3)}, weight error ${z.toFixed(2)} SE`);
  });

  test("HMC", (t) => {
    const { accept, z } = weight("HMC", hmc(mix), { step: 0.4, numSteps: 8 }, 100, 12);
    t.diagnostic(`acceptance ${accept.toFixed(3)}, weight error ${z.toFixed(2)} SE`);
  });

  test("metropolized kinetic Langevin", (t) => {
    const s = kineticLangevin(mix, { metropolize: true });
    const { accept, z } = weight("kinetic (MH)", s, { step: 0.6 }, 300, 13);
    t.diagnostic(`acceptance ${accept.toFixed(3)}, weight error ${z.toFixed(2)} SE`);
  });
});
