/**
 * MALA on per-chain streams (src/samplers/mala-chains.ts) recovers a correlated 5-D Gaussian: many
 * independent chains started from exact draws stay at the target, so their final states are iid and the
 * standard errors are those of iid sample moments; every bound is 5 SE. A negative control (the same
 * proposal with every move accepted, i.e. ULA, at a large step) must fail the same check. Runs on the
 * selected backend's kernel (native, or the TypeScript reference with EBM_BACKEND=wasm).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { foldIn, keyFromSeed } from "../../src/random/key.ts";
import {
  MALA_CHAINS_STEP,
  MalaChainsBuffers,
  malaChainsCoefficients,
  malaChainsStep,
  type MalaChainsKernels,
} from "../../src/samplers/mala-chains.ts";
import { mala } from "../../src/samplers/mala.ts";
import { MhInfoBuffers } from "../../src/samplers/mh.ts";
import type { ChainState } from "../../src/samplers/types.ts";
import { checkMoments, gaussian5 } from "./gaussian5.ts";

const K_SD = 5;

/** Correlation over chains of coordinate 0 at the start and at the end (≈ 0 once the chains have mixed). */
function startEndCorrelation(a: Float64Array, b: Float64Array, n: number, d: number): number {
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i * d];
    mb += b[i * d];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i * d] - ma) * (b[i * d] - mb);
    saa += (a[i * d] - ma) ** 2;
    sbb += (b[i * d] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

describe("MALA on per-chain streams: correlated 5-D Gaussian within 5 SE", () => {
  const g = gaussian5();
  const n = 4000;

  /**
   * Chains start from exact draws of e^{−βU} (deviations scaled by 1/√β) and run `steps` steps (≥ 10
   * relaxation times of the slowest direction at these step sizes, as for `mala` in continuous.test.ts);
   * the end must be uncorrelated with the start (|r| < 5/√n: the chains moved) and have the target's moments.
   */
  function run(beta: number, step: number, steps: number, seed: number, kernels?: MalaChainsKernels) {
    const x0 = new Float64Array(n * g.d);
    g.energy.sampleExact(keyFromSeed(seed), n, x0);
    for (let k = 0; k < x0.length; k++) {
      const m = g.mean[k % g.d];
      x0[k] = m + (x0[k] - m) / Math.sqrt(beta);
    }
    const sampler = mala(g.energy, { beta });
    const state: ChainState = sampler.init(x0, n);
    const coef = malaChainsCoefficients(g.d, beta, { step, inverseMass: g.diagCov });
    const buf = new MalaChainsBuffers();
    const info = new MhInfoBuffers();
    let accept = 0;
    let divergent = 0;
    for (let t = 0; t < steps; t++) {
      const key = foldIn(keyFromSeed(seed + 1), t);
      if (kernels) malaChainsStep(g.energy, key, state, coef, buf, info, kernels);
      else sampler.step(key, state, { step, inverseMass: g.diagCov });
    }
    // Acceptance and divergences over 20 more steps.
    for (let t = 0; t < 20; t++) {
      const key = foldIn(keyFromSeed(seed + 2), t);
      const inf = kernels
        ? malaChainsStep(g.energy, key, state, coef, buf, info, kernels)
        : sampler.step(key, state, { step, inverseMass: g.diagCov });
      for (let c = 0; c < n; c++) {
        accept += inf.acceptProb[c];
        divergent += inf.divergent[c];
      }
    }
    const cov = g.cov.map((v) => v / beta);
    const r = startEndCorrelation(x0, state.position, n, g.d);
    return { accept: accept / (20 * n), divergent, r, state, cov };
  }

  test("β = 1, h 0.15, diagonal preconditioning", (t) => {
    const { accept, divergent, r, state, cov } = run(1, 0.15, 200, 700);
    assert.equal(divergent, 0);
    assert.ok(Math.abs(r) < K_SD / Math.sqrt(n), `start/end correlation ${r}: the chains did not mix`);
    const worst = checkMoments(state.position, n, g.mean, cov, g.d);
    t.diagnostic(
      `backend ${MALA_CHAINS_STEP.backend()}, acceptance ${accept.toFixed(3)}, worst ${worst.toFixed(2)} SE`,
    );
    assert.ok(accept > 0.6 && accept < 0.99, `acceptance ${accept}`);
  });

  // The proposal's noise is √(2hA) and the target's covariance Σ/β: h = 0.075 at β = 2 is the same relative
  // step as h = 0.15 at β = 1.
  test("β = 2 (target e^{−2U}: covariance Σ/2), h 0.075", (t) => {
    const { accept, divergent, r, state, cov } = run(2, 0.075, 200, 710);
    assert.equal(divergent, 0);
    assert.ok(Math.abs(r) < K_SD / Math.sqrt(n), `start/end correlation ${r}`);
    const worst = checkMoments(state.position, n, g.mean, cov, g.d);
    t.diagnostic(`acceptance ${accept.toFixed(3)}, worst ${worst.toFixed(2)} SE`);
    assert.ok(accept > 0.6 && accept < 0.99, `acceptance ${accept}`);
  });

  test("negative control: the same proposal always accepted (ULA) at h 0.9 fails the moment check", () => {
    // ULA with A = diag Σ has a biased invariant law (for a Gaussian its variance along a coordinate with
    // precision-scaled step κ is σ²/(1 − κ/2)): at h = 0.9 the covariance is off by tens of SE.
    const ts = MALA_CHAINS_STEP.from("typescript").impl!;
    const acceptAll: MalaChainsKernels = {
      propose: ts.propose,
      select(x, gx, ux, y, gy, uy, _drift, _invMass, _params, _states, acceptProb, accepted, divergent) {
        x.set(y);
        gx.set(gy);
        ux.set(uy);
        acceptProb.fill(1);
        accepted.fill(1);
        divergent.fill(0);
      },
    };
    const { state, cov } = run(1, 0.9, 60, 720, acceptAll);
    assert.throws(() => checkMoments(state.position, n, g.mean, cov, g.d), /SE\)/);
    // The real kernel at the same step size passes.
    const ok = run(1, 0.9, 60, 720);
    checkMoments(ok.state.position, n, g.mean, ok.cov, g.d);
  });

  test("a chain's trajectory does not depend on the other chains or on the batch size", () => {
    const d = g.d;
    const x0 = new Float64Array(25 * d);
    g.energy.sampleExact(keyFromSeed(730), 25, x0);
    const small = mala(g.energy);
    const big = mala(g.energy);
    const a = small.init(x0, 10);
    const b = big.init(x0, 25);
    for (let t = 0; t < 30; t++) {
      const key = foldIn(keyFromSeed(731), t);
      small.step(key, a, { step: 0.3, inverseMass: g.diagCov });
      big.step(key, b, { step: 0.3, inverseMass: g.diagCov });
    }
    assert.deepEqual(a.position, b.position.subarray(0, 10 * d));
  });
});
