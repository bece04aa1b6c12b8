/**
 * Long runs against enumeration: many independent chains on a 3×3 Ising grid (every kernel) and block
 * Gibbs on a 6 × 4 RBM reproduce the exact marginals (and the mean energy) within 5 standard errors.
 * All chains start at the all-zero state; the number of steps is chosen so that the total-variation
 * distance to π after them — computed exactly from the kernel's transition matrix — is < 1e-3, i.e. below
 * 0.15 SE of any marginal here (SE ≥ √(0.25·0.75/4000) ≈ 0.0068): the remaining burn-in bias cannot
 * explain a 5 SE failure. Chains are independent, so SE = √(p(1−p)/n) exactly.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { EnumerableEnergy } from "../../src/energies/discrete.ts";
import { IsingEnergy } from "../../src/energies/ising.ts";
import { Rbm } from "../../src/energies/rbm.ts";
import { foldIn, keyFromSeed } from "../../src/random/key.ts";
import { blockGibbs } from "../../src/samplers/discrete/block-gibbs.ts";
import { dmala } from "../../src/samplers/discrete/dmala.ts";
import { flipMetropolis } from "../../src/samplers/discrete/flip.ts";
import { gibbs } from "../../src/samplers/discrete/gibbs.ts";
import { gibbsWithGradients } from "../../src/samplers/discrete/gwg.ts";
import type {
  DiscreteChainState,
  DiscreteSampler,
  ExactTransitions,
} from "../../src/samplers/discrete/types.ts";
import type { StepInfo } from "../../src/samplers/types.ts";
import { exactTvFromZero, runChains, transitionMatrix } from "./exact.ts";

/** |empirical − exact| < 5 SE for each site's marginal. */
function checkMarginals(x: Uint8Array, n: number, sites: number, exact: Float64Array, what: string): void {
  for (let j = 0; j < sites; j++) {
    let c = 0;
    for (let i = 0; i < n; i++) c += x[i * sites + j];
    const se = Math.sqrt((exact[j] * (1 - exact[j])) / n);
    assert.ok(Math.abs(c / n - exact[j]) < 5 * se, `${what}, site ${j}: ${c / n} vs ${exact[j]} ± ${se}`);
  }
}

describe("marginals on a 3×3 Ising grid match enumeration (4000 chains, 5 SE)", () => {
  const grid = IsingEnergy.grid(3, 3, 0.4, 0.15);
  const en = new EnumerableEnergy(grid);
  const n = 4000;
  // [name, kernel, β, steps]: steps = the exact TV < 1e-3 point (17, 20, 221, 201, 98) rounded up.
  const kernels: [
    string,
    DiscreteSampler<DiscreteChainState, StepInfo> & ExactTransitions,
    number,
    number,
  ][] = [
    ["Gibbs systematic", gibbs(grid), 1, 20],
    ["Gibbs random scan, β = 0.7", gibbs(grid, { scan: "random", beta: 0.7 }), 0.7, 25],
    ["Metropolis flip", flipMetropolis(grid), 1, 250],
    ["Gibbs-with-Gradients, β = 1.3", gibbsWithGradients(grid, { beta: 1.3 }), 1.3, 230],
    ["DMALA α = 0.5", dmala(grid, { step: 0.5 }), 1, 110],
  ];
  for (const [kname, s, beta, steps] of kernels) {
    test(kname, () => {
      const pi = en.probabilities(beta);
      const tv = exactTvFromZero(transitionMatrix(s), pi, steps);
      assert.ok(tv < 1e-3, `TV after ${steps} steps = ${tv}`);
      const state = runChains(s, 9, n, steps, keyFromSeed(31));
      checkMarginals(state.x, n, 9, en.marginals(beta), kname);
      // Mean energy: SE from the exact variance of U under π.
      let m1 = 0;
      let m2 = 0;
      for (let k = 0; k < 512; k++) {
        m1 += pi[k] * en.energies[k];
        m2 += pi[k] * en.energies[k] ** 2;
      }
      let mean = 0;
      for (let i = 0; i < n; i++) mean += state.u[i] / n;
      const se = Math.sqrt((m2 - m1 * m1) / n);
      assert.ok(Math.abs(mean - m1) < 5 * se, `E[U]: ${mean} vs ${m1} ± ${se}`);
    });
  }
});

describe("block Gibbs on a 6 × 4 RBM: marginals match enumeration", () => {
  test("4000 chains, 5 SE, visible and hidden units; exact TV bound on the joint space", () => {
    const rbm = Rbm.random(keyFromSeed(41), 6, 4, 1, 0.5);
    const s = blockGibbs(rbm);
    const n = 4000;
    const steps = 15;
    const pi = new EnumerableEnergy(rbm.joint()).probabilities();
    const tv = exactTvFromZero(transitionMatrix(s), pi, steps);
    assert.ok(tv < 1e-3, `TV after ${steps} steps = ${tv}`);
    const state = s.init(new Uint8Array(n * 6), n);
    for (let t = 0; t < steps; t++) s.step(foldIn(keyFromSeed(42), t), state);
    checkMarginals(state.x, n, 6, new EnumerableEnergy(rbm).marginals(), "visible");
    // Hidden marginals from the joint enumeration (hidden unit j is bit 6 + j).
    const hm = new Float64Array(4);
    for (let k = 0; k < 1024; k++) for (let j = 0; j < 4; j++) if ((k >> (6 + j)) & 1) hm[j] += pi[k];
    checkMarginals(state.h, n, 4, hm, "hidden");
  });
});
