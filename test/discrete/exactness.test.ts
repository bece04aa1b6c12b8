/**
 * Exactness of the discrete kernels by enumeration: every kernel's full transition matrix on a random
 * 8-bit energy (a random Ising model, and an RBM free energy whose relaxation is not multilinear) has
 * rows summing to 1, leaves π_β ∝ e^{−βU} invariant (π P = π) to rounding level, and satisfies detailed
 * balance where the kernel is reversible. Block Gibbs is checked on the joint (v, h) space of a 4 × 3
 * RBM. Negative controls: the systematic-scan sweep is not reversible, and DMALA without its MH
 * correction is not stationary — so the residuals below do measure something.
 *
 * The rows come from each kernel's `transitionRow` (computed from full energy evaluations, not from the
 * code path of `step`); sampling.test.ts checks that `step` draws from those rows.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type DiscreteEnergy,
  EnumerableEnergy,
  logSigmoid,
  type RelaxedGradient,
  writeState,
} from "../../src/energies/discrete.ts";
import { IsingEnergy } from "../../src/energies/ising.ts";
import { Rbm } from "../../src/energies/rbm.ts";
import { keyFromSeed } from "../../src/random/key.ts";
import { blockGibbs } from "../../src/samplers/discrete/block-gibbs.ts";
import { dmala, dmalaLogProposal } from "../../src/samplers/discrete/dmala.ts";
import { flipMetropolis } from "../../src/samplers/discrete/flip.ts";
import { gibbs } from "../../src/samplers/discrete/gibbs.ts";
import { gibbsWithGradients, gwgLogProposal } from "../../src/samplers/discrete/gwg.ts";
import type { ExactTransitions } from "../../src/samplers/discrete/types.ts";
import { assertClose } from "../helpers.ts";
import { detailedBalanceError, rowChecks, stationarityError, transitionMatrix } from "./exact.ts";

// Rounding-level bounds: entries of π and P are ≤ 1 and each (πP)_b sums 256 products, so the float64
// residual is a few 1e-16 · 256; 1e-12 leaves two orders of margin and is ~1e8 below the negative controls.
const TOL = 1e-12;

const ising = IsingEnergy.random(keyFromSeed(7), 8, 0.8, 0.6);
const rbmFree = Rbm.random(keyFromSeed(8), 8, 5, 0.7, 0.5);
const energies: [string, DiscreteEnergy & RelaxedGradient][] = [
  ["random Ising (8 spins)", ising],
  ["RBM free energy (8 visible × 5 hidden)", rbmFree],
];

type Kernel = (e: DiscreteEnergy & RelaxedGradient, beta: number) => ExactTransitions;
const kernels: [string, Kernel, boolean][] = [
  // [name, constructor, reversible]
  ["Gibbs, systematic scan", (e, beta) => gibbs(e, { beta }), false],
  ["Gibbs, random scan", (e, beta) => gibbs(e, { beta, scan: "random" }), true],
  ["Metropolis flip", (e, beta) => flipMetropolis(e, { beta }), true],
  ["Gibbs-with-Gradients", (e, beta) => gibbsWithGradients(e, { beta }), true],
  ["DMALA α = 0.2", (e, beta) => dmala(e, { beta, step: 0.2 }), true],
  ["DMALA α = 2", (e, beta) => dmala(e, { beta, step: 2 }), true],
];

describe("single-site and gradient kernels: π P = π by enumeration (256 states)", () => {
  for (const [ename, energy] of energies) {
    const en = new EnumerableEnergy(energy);
    for (const beta of [1, 0.6]) {
      const pi = en.probabilities(beta);
      for (const [kname, make, reversible] of kernels) {
        test(`${kname} on ${ename}, β = ${beta}`, () => {
          const p = transitionMatrix(make(energy, beta));
          const m = 256;
          const { rowSumErr, minEntry } = rowChecks(p, m);
          assert.ok(rowSumErr < TOL, `rows sum to 1 ± ${rowSumErr}`);
          assert.ok(minEntry > -TOL, `negative transition probability ${minEntry}`);
          const se = stationarityError(pi, p, m);
          assert.ok(se < TOL, `max |πP − π| = ${se}`);
          const db = detailedBalanceError(pi, p, m);
          if (reversible) assert.ok(db < TOL, `max |π_a P_ab − π_b P_ba| = ${db}`);
          else assert.ok(db > 1e4 * TOL, `systematic sweep unexpectedly reversible (${db})`);
        });
      }
    }
  }

  test("negative control: DMALA without MH (DULA) is not stationary", () => {
    const pi = new EnumerableEnergy(rbmFree).probabilities();
    const p = transitionMatrix(dmala(rbmFree, { step: 2, mh: false }));
    assert.ok(rowChecks(p, 256).rowSumErr < TOL);
    const se = stationarityError(pi, p, 256);
    assert.ok(se > 1e4 * TOL, `DULA stationary to ${se}?`);
  });

  test("the kernels move: off-diagonal mass from every state", () => {
    // Guards against a kernel that passes π P = π by (almost) never leaving its state.
    for (const [, make] of kernels) {
      const p = transitionMatrix(make(ising, 1));
      let minMove = 1;
      for (let a = 0; a < 256; a++) minMove = Math.min(minMove, 1 - p[a * 256 + a]);
      assert.ok(minMove > 1e-3, `some state is left with probability ${minMove}`);
    }
  });
});

describe("block Gibbs on the joint (v, h) space of a 4 × 3 RBM (128 states)", () => {
  const rbm = Rbm.random(keyFromSeed(9), 4, 3, 1.2, 0.7);
  const joint = new EnumerableEnergy(rbm.joint());
  const m = 128;
  for (const beta of [1, 1.7]) {
    test(`β = ${beta}: rows sum to 1 and π_β(v, h) P = π_β(v, h)`, () => {
      const pi = joint.probabilities(beta);
      const p = transitionMatrix(blockGibbs(rbm, { beta }));
      const { rowSumErr, minEntry } = rowChecks(p, m);
      assert.ok(rowSumErr < TOL && minEntry >= 0, `row sums ± ${rowSumErr}, min ${minEntry}`);
      const se = stationarityError(pi, p, m);
      assert.ok(se < TOL, `max |πP − π| = ${se}`);
      // On (v, h) the two-block sweep is not reversible …
      assert.ok(detailedBalanceError(pi, p, m) > 1e4 * TOL);
      // … but the visible chain K(v, v') = Σ_{h'} P((v, ·), (v', h')) is, w.r.t. the visible marginal.
      const nv = 16;
      const k = new Float64Array(nv * nv);
      const piv = new Float64Array(nv);
      for (let a = 0; a < m; a++) piv[a % nv] += pi[a];
      for (let v = 0; v < nv; v++) for (let b = 0; b < m; b++) k[v * nv + (b % nv)] += p[v * m + b]; // from (v, h = 0)
      assert.ok(detailedBalanceError(piv, k, nv) < TOL, "visible chain not reversible");
      assert.ok(stationarityError(piv, k, nv) < TOL);
    });
  }

  test("the rows do not depend on the current hidden state", () => {
    const p = transitionMatrix(blockGibbs(rbm));
    for (let a = 16; a < m; a++)
      for (let b = 0; b < m; b++) assert.equal(p[a * m + b], p[(a % 16) * m + b], `row ${a}`);
  });
});

describe("proposals follow the papers' formulas (Ising: the relaxation's flip estimate is exact)", () => {
  // MH makes any proposal exact, so the stationarity tests cannot see a wrong proposal temperature.
  const d = 8;
  const x = new Uint8Array(d);
  const u = new Float64Array(1);
  const g = new Float64Array(d);
  const delta = new Float64Array(1);
  const deltas = (k: number) => {
    writeState(k, d, x);
    ising.energyAndRelaxedGrad(x, 1, u, g);
    return Array.from({ length: d }, (_, j) => {
      ising.flipDelta(x, 1, j, delta);
      return delta[0];
    });
  };

  test("GWG: q(i | x) = softmax_i(−βΔ_i(x)/2)", () => {
    const logq = new Float64Array(d);
    for (const beta of [1, 0.6, 2.5])
      for (let k = 0; k < 256; k += 17) {
        const dl = deltas(k);
        gwgLogProposal(x, g, 0, d, beta, logq);
        const z = dl.reduce((s, v) => s + Math.exp((-beta * v) / 2), 0);
        for (let i = 0; i < d; i++)
          assertClose(Math.exp(logq[i]), Math.exp((-beta * dl[i]) / 2) / z, 1e-15, 1e-13, "q(i|x)");
      }
  });

  test("DMALA: independent flips with P(flip i) = σ(−βΔ_i/2 − 1/(2α)); q(·|x) sums to 1", () => {
    const all = new Uint8Array(256 * d);
    for (let k = 0; k < 256; k++) writeState(k, d, all, k * d);
    for (const [beta, alpha] of [
      [1, 0.2],
      [0.6, 3],
    ])
      for (let k = 0; k < 256; k += 23) {
        const dl = deltas(k);
        const z = dl.map((v) => (-beta * v) / 2 - 1 / (2 * alpha));
        let total = 0;
        for (let y = 0; y < 256; y++) {
          let want = 0;
          for (let j = 0; j < d; j++) want += logSigmoid(((y ^ k) >> j) & 1 ? z[j] : -z[j]);
          const got = dmalaLogProposal(x, g, all, 0, y * d, d, beta, alpha);
          assertClose(got, want, 1e-12, 1e-13, "log q(y|x)");
          total += Math.exp(got);
        }
        assertClose(total, 1, 1e-13, 0, "Σ_y q(y|x)");
      }
  });
});
