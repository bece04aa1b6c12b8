/**
 * A product of discrete experts (an Ising prior times an RBM's free energy on the same 8 sites): energies
 * and flip changes add, the relaxed gradient adds, and single-site Gibbs on the product is stationary for
 * the enumerated product distribution (exact transition matrix) and samples its marginals within 4 SE.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  DiscreteProductOfExperts,
  EnumerableEnergy,
  gibbs,
  IsingEnergy,
  keyFromSeed,
  Rbm,
  Stream,
} from "../../src/index.ts";
import { transitionMatrix } from "./exact.ts";

const ising = IsingEnergy.grid(2, 4, 0.4, 0.1);
const rbm = Rbm.random(keyFromSeed(3), 8, 3, 1, 0.5);
const product = new DiscreteProductOfExperts([ising, rbm]);

test("energies, flip changes and relaxed gradients add", () => {
  const rng = new Stream(keyFromSeed(4));
  const n = 16;
  const x = Uint8Array.from({ length: n * 8 }, () => (rng.uniform() < 0.5 ? 1 : 0));
  const [u, a, b] = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  product.energy(x, n, u);
  ising.energy(x, n, a);
  rbm.energy(x, n, b);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(u[i] - a[i] - b[i]) < 1e-12);
  for (let j = 0; j < 8; j++) {
    product.flipDelta(x, n, j, u);
    ising.flipDelta(x, n, j, a);
    rbm.flipDelta(x, n, j, b);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(u[i] - a[i] - b[i]) < 1e-9);
  }
  assert.ok(product.energyAndRelaxedGrad);
  const g = new Float64Array(n * 8);
  const ga = new Float64Array(n * 8);
  const gb = new Float64Array(n * 8);
  product.energyAndRelaxedGrad(x, n, u, g);
  ising.energyAndRelaxedGrad(x, n, a, ga);
  rbm.energyAndRelaxedGrad(x, n, b, gb);
  for (let k = 0; k < n * 8; k++) assert.ok(Math.abs(g[k] - ga[k] - gb[k]) < 1e-9);
  assert.throws(
    () => new DiscreteProductOfExperts([ising, Rbm.random(keyFromSeed(1), 6, 2)]),
    /expert 1 has 6 sites/,
  );
});

test("Gibbs on the product: stationary for the enumerated product, marginals within 4 SE", () => {
  const exact = new EnumerableEnergy(product);
  const p = exact.probabilities();
  const m = p.length;
  const kernel = gibbs(product);
  const P = transitionMatrix(kernel);
  let worst = 0;
  for (let b = 0; b < m; b++) {
    let s = 0;
    for (let a = 0; a < m; a++) s += p[a] * P[a * m + b];
    worst = Math.max(worst, Math.abs(s - p[b]));
  }
  assert.ok(worst < 1e-12, `|πP − π| ${worst}`);
  // The product is neither expert: its distribution differs from each expert's alone.
  const pi = new EnumerableEnergy(ising).probabilities();
  let tv = 0;
  for (let k = 0; k < m; k++) tv += Math.abs(pi[k] - p[k]) / 2;
  assert.ok(tv > 0.05, `TV(product, Ising) ${tv}`);
  // Sampled marginals P(x_j = 1) from 2000 chains after 30 sweeps.
  const n = 2000;
  const x0 = new Uint8Array(n * 8);
  let state = kernel.init(x0, n);
  for (let t = 0; t < 30; t++) state = kernel.step(keyFromSeed(100 + t), state).state;
  for (let j = 0; j < 8; j++) {
    let want = 0;
    for (let k = 0; k < m; k++) if ((k >> j) & 1) want += p[k];
    let got = 0;
    for (let i = 0; i < n; i++) got += state.x[i * 8 + j];
    got /= n;
    const se = Math.sqrt((want * (1 - want)) / n);
    assert.ok(Math.abs(got - want) < 4 * se, `site ${j}: ${got} vs ${want} (SE ${se})`);
  }
});
