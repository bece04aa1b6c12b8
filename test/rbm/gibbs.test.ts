/**
 * Block Gibbs of the RBM kernels leaves the tempered joint invariant: on a 5 × 3 RBM with O(1) weights,
 * long runs reproduce the exact marginals from enumeration of ρ_β(v, h) ∝ e^{−βE(v,h)}.
 *
 * 1. Many independent chains (4000) from the all-zero state: after T sweeps the visible and hidden unit
 *    marginals are within 5 standard errors, SE = √(p(1−p)/n) exactly (independent chains). T is the first
 *    step count at which the exact total-variation distance to the joint, computed from the exact
 *    transition matrix of the block-Gibbs sampler at β (samplers/discrete/block-gibbs.ts), is < 1e-3 —
 *    far below 0.15 SE, so burn-in cannot explain a failure.
 * 2. Long runs: 100 independent chains, each averaged over 400 sweeps after the same burn-in; the 100
 *    time-averages are i.i.d., so their sample standard deviation / √100 is an honest Monte-Carlo SE
 *    (autocorrelation included). Each time-averaged marginal is within 5 such SE of the exact value.
 * Fixed seeds; the bounds come from the standard errors, never tuned.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { foldIn, keyFromSeed } from "../../src/random/key.ts";
import { createGibbsChains, RbmWorkspace, typedArrayRbmKernels as K } from "../../src/rbm/kernels.ts";
import { Rbm } from "../../src/energies/rbm.ts";
import { burnIn, unitMarginals } from "./helpers.ts";

const model = Rbm.random(keyFromSeed(201), 5, 3, 1);

function columnMeans(x: Uint8Array, n: number, sites: number): Float64Array {
  const m = new Float64Array(sites);
  for (let s = 0; s < n; s++) for (let j = 0; j < sites; j++) m[j] += x[s * sites + j] / n;
  return m;
}

describe("block Gibbs on a 5 × 3 RBM: marginals match enumeration", () => {
  for (const beta of [1, 0.6]) {
    const exact = unitMarginals(model, beta);
    const T = burnIn(model, beta);

    test(`β = ${beta}: 4000 independent chains after ${T} sweeps (exact TV < 1e-3), 5 SE`, () => {
      const n = 4000;
      const ch = createGibbsChains(model, n);
      K.gibbsSweep(model, keyFromSeed(202), ch, T, beta, new RbmWorkspace());
      for (const [name, x, sites, ex] of [
        ["v", ch.v, 5, exact.v],
        ["h", ch.h, 3, exact.h],
      ] as const) {
        const m = columnMeans(x, n, sites);
        for (let j = 0; j < sites; j++) {
          const se = Math.sqrt((ex[j] * (1 - ex[j])) / n);
          assert.ok(Math.abs(m[j] - ex[j]) < 5 * se, `${name}${j}: ${m[j]} vs ${ex[j]} ± ${se}`);
        }
      }
    });

    test(`β = ${beta}: time averages of 100 chains × 400 sweeps, 5 MCSE`, () => {
      const chains = 100;
      const sweeps = 400;
      const ws = new RbmWorkspace();
      const ch = createGibbsChains(model, chains);
      K.gibbsSweep(model, keyFromSeed(203), ch, T, beta, ws);
      const avgV = new Float64Array(chains * 5);
      const avgH = new Float64Array(chains * 3);
      for (let t = 0; t < sweeps; t++) {
        K.gibbsSweep(model, foldIn(keyFromSeed(204), t), ch, 1, beta, ws);
        for (let q = 0; q < chains * 5; q++) avgV[q] += ch.v[q] / sweeps;
        for (let q = 0; q < chains * 3; q++) avgH[q] += ch.h[q] / sweeps;
      }
      for (const [name, avg, sites, ex] of [
        ["v", avgV, 5, exact.v],
        ["h", avgH, 3, exact.h],
      ] as const) {
        for (let j = 0; j < sites; j++) {
          let mean = 0;
          for (let s = 0; s < chains; s++) mean += avg[s * sites + j] / chains;
          let v = 0;
          for (let s = 0; s < chains; s++) v += (avg[s * sites + j] - mean) ** 2 / (chains - 1);
          const mcse = Math.sqrt(v / chains);
          assert.ok(mcse > 0, "degenerate chains");
          assert.ok(Math.abs(mean - ex[j]) < 5 * mcse, `${name}${j}: ${mean} vs ${ex[j]} ± ${mcse}`);
        }
      }
    });
  }
});
