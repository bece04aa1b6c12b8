/**
 * The kernels' `step` against exact answers:
 *  - one step from a fixed state draws from the kernel's exact transition row (chi-square over the
 *    2^sites destination states, 20 000 chains) — this ties `step` to the rows proven stationary in
 *    exactness.test.ts;
 *  - cached energies and gradients stay equal to fresh evaluations (block Gibbs: to the float32 rounding
 *    of the kernels' products, a bound derived per chain); same key, same chains.
 * Long-run marginals are in marginals.test.ts.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type DiscreteEnergy,
  type RelaxedGradient,
  stateIndex,
  writeState,
} from "../../src/energies/discrete.ts";
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
import { chiSquare, chiSquareBound, runChains } from "./exact.ts";

type AnySampler = DiscreteSampler<DiscreteChainState, StepInfo> & ExactTransitions;
type Make = (e: DiscreteEnergy & RelaxedGradient) => AnySampler;

const kernels: [string, Make][] = [
  ["Gibbs systematic", (e) => gibbs(e)],
  ["Gibbs random scan, β = 0.7", (e) => gibbs(e, { scan: "random", beta: 0.7 })],
  ["Metropolis flip", (e) => flipMetropolis(e)],
  ["Gibbs-with-Gradients, β = 1.3", (e) => gibbsWithGradients(e, { beta: 1.3 })],
  ["DMALA α = 0.5", (e) => dmala(e, { step: 0.5 })],
];

/** n copies of state index k0. */
function replicate(k0: number, sites: number, n: number): Uint8Array {
  const x = new Uint8Array(n * sites);
  for (let i = 0; i < n; i++) writeState(k0, sites, x, i * sites);
  return x;
}

/** Σ_j γ_{V+1}·S_j + 1e-12, S_j = |c_j| + Σ_i v_i|W_ij|: the float32 bound on block Gibbs' cached F, E. */
function f32Tol(rbm: Rbm, x: Uint8Array, i: number): number {
  const { visible: V, hidden: H } = rbm;
  const gamma = ((V + 1) * 2 ** -24) / (1 - (V + 1) * 2 ** -24);
  let tol = 1e-12;
  for (let j = 0; j < H; j++) {
    let sj = Math.abs(rbm.c[j]);
    for (let a = 0; a < V; a++) if (x[i * V + a]) sj += Math.abs(rbm.W[a * H + j]);
    tol += gamma * sj;
  }
  return tol;
}

/** Histogram of the state indices of n chains. */
function histogram(x: Uint8Array, n: number, sites: number): Float64Array {
  const h = new Float64Array(2 ** sites);
  for (let i = 0; i < n; i++) h[stateIndex(x, sites, i * sites)]++;
  return h;
}

describe("one step samples the exact transition row (chi-square, 20 000 chains)", () => {
  const ising = IsingEnergy.random(keyFromSeed(21), 8, 0.8, 0.6);
  const rbm = Rbm.random(keyFromSeed(22), 8, 5, 0.7, 0.5);
  const n = 20000;
  for (const [ename, energy] of [
    ["random Ising", ising],
    ["RBM free energy", rbm],
  ] as const) {
    for (const [kname, make] of kernels) {
      test(`${kname} on ${ename}`, () => {
        const s = make(energy);
        for (const [t, k0] of [0b10110010, 0b00000111].entries()) {
          const row = new Float64Array(256);
          const x0 = replicate(k0, 8, 1);
          s.transitionRow(x0, row);
          const state = s.init(replicate(k0, 8, n), n);
          s.step(foldIn(keyFromSeed(23), t), state);
          const { stat, df } = chiSquare(histogram(state.x, n, 8), row);
          assert.ok(df >= 3, `too few cells (${df + 1})`);
          assert.ok(stat < chiSquareBound(df), `χ² = ${stat} with ${df} df (bound ${chiSquareBound(df)})`);
        }
      });
    }
  }

  test("the chi-square check has power: Gibbs draws do not fit the row of another β", () => {
    const s = gibbs(ising);
    const wrong = new Float64Array(256);
    gibbs(ising, { beta: 1.15 }).transitionRow(replicate(0b10110010, 8, 1), wrong);
    const state = s.init(replicate(0b10110010, 8, n), n);
    s.step(keyFromSeed(24), state);
    const { stat, df } = chiSquare(histogram(state.x, n, 8), wrong);
    assert.ok(stat > chiSquareBound(df), `χ² = ${stat} with ${df} df`);
  });

  test("block Gibbs on a 4 × 3 RBM: joint (v, h) destinations", () => {
    const small = Rbm.random(keyFromSeed(25), 4, 3, 1.2, 0.7);
    for (const beta of [1, 1.7]) {
      const s = blockGibbs(small, { beta });
      const row = new Float64Array(128);
      s.transitionRow(Uint8Array.of(1, 0, 1, 1, 0, 1, 0), row);
      const state = s.init(replicate(0b1101, 4, n), n, replicate(0b010, 3, n));
      s.step(keyFromSeed(26), state);
      const joint = new Uint8Array(n * 7);
      for (let i = 0; i < n; i++) {
        joint.set(state.x.subarray(i * 4, i * 4 + 4), i * 7);
        joint.set(state.h.subarray(i * 3, i * 3 + 3), i * 7 + 4);
      }
      const { stat, df } = chiSquare(histogram(joint, n, 7), row);
      assert.ok(stat < chiSquareBound(df), `β = ${beta}: χ² = ${stat} with ${df} df`);
    }
  });
});

describe("caches and determinism", () => {
  const ising = IsingEnergy.random(keyFromSeed(51), 12, 0.5, 0.5);
  const rbm = Rbm.random(keyFromSeed(52), 10, 6, 0.7, 0.5);

  test("cached U (and ∇Ũ) equal fresh evaluations after 200 steps", () => {
    for (const [kname, make] of kernels) {
      for (const e of [ising, rbm]) {
        const s = make(e);
        const n = 50;
        const state = runChains(s, e.sites, n, 200, keyFromSeed(53));
        const u = new Float64Array(n);
        const g = new Float64Array(n * e.sites);
        e.energyAndRelaxedGrad(state.x, n, u, g);
        for (let i = 0; i < n; i++)
          assert.ok(Math.abs(state.u[i] - u[i]) < 1e-10, `${kname}: cached U ${state.u[i]} vs ${u[i]}`);
        if ("grad" in state) assert.deepEqual(state.grad, g, `${kname}: cached gradient`);
      }
    }
    // Block Gibbs caches F and E from the kernels' float32 pre-activations c + vᵀW: each is a float32 sum
    // of ≤ V + 1 exact terms, within γ_{V+1}·S_j of the exact value (S_j = |c_j| + Σ_i v_i|W_ij|), and
    // softplus is 1-Lipschitz, so |ΔF|, |ΔE| ≤ Σ_j γ_{V+1}·S_j (+ float64 rounding).
    const s = blockGibbs(rbm);
    const state = s.init(new Uint8Array(30 * 10), 30);
    for (let t = 0; t < 50; t++) s.step(foldIn(keyFromSeed(54), t), state);
    const f = new Float64Array(30);
    const e = new Float64Array(30);
    rbm.energy(state.x, 30, f);
    rbm.jointEnergy(state.x, state.h, 30, e);
    for (let i = 0; i < 30; i++) {
      const tol = f32Tol(rbm, state.x, i);
      assert.ok(Math.abs(state.u[i] - f[i]) <= tol, `F: ${state.u[i]} vs ${f[i]} (tol ${tol})`);
      assert.ok(Math.abs(state.uJoint[i] - e[i]) <= tol, `E: ${state.uJoint[i]} vs ${e[i]} (tol ${tol})`);
    }
    // After a parameter change the next step recomputes pre (the model's version changed).
    const m = rbm.clone();
    const sm = blockGibbs(m);
    const sm0 = sm.init(state.x, 30);
    m.W[0] += 0.5;
    m.touch();
    sm.step(foldIn(keyFromSeed(55), 0), sm0);
    const fm = new Float64Array(30);
    m.energy(sm0.x, 30, fm);
    for (let i = 0; i < 30; i++)
      assert.ok(Math.abs(sm0.u[i] - fm[i]) <= f32Tol(m, sm0.x, i), `F after touch: ${sm0.u[i]} vs ${fm[i]}`);
  });

  test("same key, identical chains and info; another key, other chains; init copies its input", () => {
    const all: [string, () => DiscreteSampler<DiscreteChainState, StepInfo>, number][] = [
      ...kernels.map(([k, make]) => [k, () => make(ising), 12] as [string, () => AnySampler, number]),
      ["block Gibbs", () => blockGibbs(rbm), 10],
    ];
    for (const [kname, make, d] of all) {
      const n = 64;
      const x0 = new Uint8Array(n * d);
      for (let p = 0; p < x0.length; p++) x0[p] = (p * 7) % 3 === 0 ? 1 : 0;
      const copy = x0.slice();
      const chains = [1, 1, 2].map((seed) => {
        const s = make();
        const state = s.init(x0, n);
        const infos: StepInfo[] = [];
        for (let t = 0; t < 20; t++) infos.push(s.step(foldIn(keyFromSeed(seed), t), state).info);
        return { x: state.x, u: state.u, infos };
      });
      assert.deepEqual(chains[0], chains[1], `${kname}: same key`);
      assert.notDeepEqual(chains[0].x, chains[2].x, `${kname}: different keys`);
      assert.deepEqual(x0, copy, `${kname}: init modified its input`);
    }
  });

  test("invalid inputs are rejected", () => {
    assert.throws(() => gibbs(ising, { beta: 0 }), /beta/);
    assert.throws(() => dmala(ising, { step: -1 }), /step/);
    assert.throws(() => flipMetropolis(ising).init(Uint8Array.of(0, 2), 1), /fewer than|0\/1/);
    assert.throws(() => flipMetropolis(ising).init(new Uint8Array(12).fill(2), 1), /0\/1/);
  });
});
