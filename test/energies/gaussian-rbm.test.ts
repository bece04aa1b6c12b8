/**
 * The Gaussian–Bernoulli RBM: its free energy is −log Σ_h e^{−E(v,h)} by enumeration, its gradients match
 * central differences, its exact log Z matches grid quadrature, its exact sampler and block-Gibbs sweep
 * reproduce the exact moments, and Jarzynski training through the trainer keeps the decoupled estimator's
 * log Z within 3 SE of the exact one.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  adam,
  foldIn,
  GaussianBernoulliRbm,
  gridEvaluate,
  jarzynski,
  keyFromSeed,
  Stream,
  trainer,
} from "../../src/index.ts";

function model(seed: number, V: number, H: number, scale: number): GaussianBernoulliRbm {
  const rng = new Stream(keyFromSeed(seed));
  const W = new Float64Array(V * H);
  const b = new Float64Array(V);
  const c = new Float64Array(H);
  rng.fillNormal(W, 0, scale);
  rng.fillNormal(b, 0, 1);
  rng.fillNormal(c, 0, 1);
  return new GaussianBernoulliRbm(W, b, c);
}

/** Joint energy E(v, h), h given by its bits. */
function joint(m: GaussianBernoulliRbm, v: Float64Array, h: number): number {
  let e = 0;
  for (let i = 0; i < m.visible; i++) e += 0.5 * (v[i] - m.b[i]) ** 2;
  for (let j = 0; j < m.hidden; j++) {
    if (!((h >> j) & 1)) continue;
    e -= m.c[j];
    for (let i = 0; i < m.visible; i++) e -= v[i] * m.W[i * m.hidden + j];
  }
  return e;
}

test("F(v) = −log Σ_h e^{−E(v,h)}; ∇ᵥF and ∂θF against central differences", () => {
  const m = model(1, 3, 4, 0.8);
  const rng = new Stream(keyFromSeed(2));
  const n = 5;
  const x = new Float64Array(n * 3);
  rng.fillNormal(x, 0, 1.5);
  const u = new Float64Array(n);
  const g = new Float64Array(n * 3);
  m.energyAndGrad(x, n, u, g);
  const u2 = new Float64Array(n);
  m.energy(x, n, u2);
  for (let s = 0; s < n; s++) {
    const v = x.subarray(3 * s, 3 * s + 3);
    const terms = Array.from({ length: 16 }, (_, h) => -joint(m, v, h));
    const mx = Math.max(...terms);
    const f = -(mx + Math.log(terms.reduce((a, t) => a + Math.exp(t - mx), 0)));
    assert.ok(Math.abs(u[s] - f) < 1e-12 && u2[s] === u[s], `${u[s]} vs ${f}`);
  }
  const eps = 1e-6;
  for (let k = 0; k < x.length; k++) {
    const xp = x.slice();
    const xm = x.slice();
    xp[k] += eps;
    xm[k] -= eps;
    const up = new Float64Array(n);
    const um = new Float64Array(n);
    m.energy(xp, n, up);
    m.energy(xm, n, um);
    const s = Math.floor(k / 3);
    const fd = (up[s] - um[s]) / (2 * eps);
    assert.ok(Math.abs(fd - g[k]) < 1e-7, `∇ᵥF[${k}] ${g[k]} vs ${fd}`);
  }
  const w = Float64Array.from({ length: n }, (_, s) => (s % 2 ? -1 : 1) * (s + 1) * 0.3);
  const pg = new Float64Array(m.numParams);
  m.paramGrad(x, n, w, pg);
  const theta = m.getParams();
  const total = (t: Float64Array) => {
    m.setParams(t);
    const e = new Float64Array(n);
    m.energy(x, n, e);
    return e.reduce((a, v, s) => a + w[s] * v, 0);
  };
  for (let k = 0; k < theta.length; k++) {
    const tp = theta.slice();
    const tm = theta.slice();
    tp[k] += eps;
    tm[k] -= eps;
    const fd = (total(tp) - total(tm)) / (2 * eps);
    assert.ok(Math.abs(fd - pg[k]) < 1e-6 * (1 + Math.abs(fd)), `∂θ[${k}] ${pg[k]} vs ${fd}`);
  }
  m.setParams(theta);
});

test("exact log Z equals grid quadrature (V = 2, H = 5, weights of size 1)", () => {
  const m = model(3, 2, 5, 1);
  const grid = gridEvaluate(m, { xmin: -16, xmax: 16, ymin: -16, ymax: 16, n: 480 });
  assert.ok(grid.edgeMass < 1e-12, `edge mass ${grid.edgeMass}`);
  assert.ok(Math.abs(m.logZ() - grid.logZ) < 1e-6, `exact ${m.logZ()} vs grid ${grid.logZ}`);
  assert.throws(() => GaussianBernoulliRbm.random(keyFromSeed(0), 2, 25).logZ(), /at most 24 hidden units/);
});

/** Exact mean and covariance of v: E[b + Wh] and I + Cov(Wh) under p(h) ∝ e^{g(h)} (by enumeration). */
function exactMoments(m: GaussianBernoulliRbm): { mean: number[]; cov: number[][] } {
  const { visible: V, hidden: H } = m;
  const logp: number[] = [];
  const means: number[][] = [];
  for (let h = 0; h < 2 ** H; h++) {
    const mu = Array.from({ length: V }, (_, i) => {
      let s = m.b[i];
      for (let j = 0; j < H; j++) if ((h >> j) & 1) s += m.W[i * H + j];
      return s;
    });
    let g = 0;
    for (let j = 0; j < H; j++) if ((h >> j) & 1) g += m.c[j];
    for (let i = 0; i < V; i++) g += 0.5 * mu[i] * mu[i] - 0.5 * m.b[i] * m.b[i];
    logp.push(g);
    means.push(mu);
  }
  const mx = Math.max(...logp);
  const p = logp.map((l) => Math.exp(l - mx));
  const z = p.reduce((a, b) => a + b, 0);
  const mean = Array.from({ length: V }, (_, i) => means.reduce((a, mu, h) => a + (p[h] / z) * mu[i], 0));
  const cov = Array.from({ length: V }, (_, i) =>
    Array.from(
      { length: V },
      (_, k) =>
        (i === k ? 1 : 0) +
        means.reduce((a, mu, h) => a + (p[h] / z) * (mu[i] - mean[i]) * (mu[k] - mean[k]), 0),
    ),
  );
  return { mean, cov };
}

test("exact sampling and block-Gibbs sweeps reproduce the exact mean and covariance within 4 SE", () => {
  const m = model(4, 3, 4, 1.2);
  const { mean, cov } = exactMoments(m);
  const n = 20000;
  const x = new Float64Array(n * 3);
  m.sampleExact(keyFromSeed(5), n, x);
  const check = (label: string) => {
    for (let i = 0; i < 3; i++) {
      let s = 0;
      for (let r = 0; r < n; r++) s += x[3 * r + i];
      const mu = s / n;
      const se = Math.sqrt(cov[i][i] / n);
      assert.ok(Math.abs(mu - mean[i]) < 4 * se, `${label} mean[${i}] ${mu} vs ${mean[i]} (SE ${se})`);
      let v = 0;
      for (let r = 0; r < n; r++) v += (x[3 * r + i] - mean[i]) ** 2;
      v /= n;
      // SE of a variance estimate, with the sample's own fourth moment.
      let m4 = 0;
      for (let r = 0; r < n; r++) m4 += (x[3 * r + i] - mean[i]) ** 4;
      const seV = Math.sqrt((m4 / n - v * v) / n);
      assert.ok(Math.abs(v - cov[i][i]) < 4 * seV, `${label} var[${i}] ${v} vs ${cov[i][i]} (SE ${seV})`);
    }
  };
  check("exact");
  m.gibbsSweep(keyFromSeed(6), x, n, 5);
  check("after 5 Gibbs sweeps");
});

test("Jarzynski training through the trainer: the estimator's log Z within 3 SE of the exact log Z", () => {
  // Data: two clusters in 2-D; the model starts near zero weights, so walkers start as exact draws.
  const rng = new Stream(keyFromSeed(7));
  const nData = 2000;
  const data = new Float64Array(2 * nData);
  for (let s = 0; s < nData; s++) {
    const k = rng.uniform() < 0.3 ? 1 : -1;
    data[2 * s] = 2 * k + 0.5 * rng.normal();
    data[2 * s + 1] = -k + 0.5 * rng.normal();
  }
  const m = GaussianBernoulliRbm.random(keyFromSeed(8), 2, 6, 0.1);
  const logZ0 = m.logZ();
  const objective = jarzynski({ walkers: 2000, step: 0.05, estimator: { walkers: 2000 } });
  const t = trainer({
    model: m,
    objective,
    optimizer: adam(0.02),
    data: { x: data, n: nData },
    batchSize: 500,
  });
  const state = t.init(keyFromSeed(9));
  const loop = keyFromSeed(10);
  for (let it = 0; it < 300; it++) t.step(foldIn(loop, it), state);
  const d = objective.diagnostics(state.objective);
  const est = d.estimator as { logZRatio: number; logZSe: number };
  const exact = m.logZ() - logZ0;
  assert.ok(exact > 0.5, `the model moved (Δ log Z ${exact})`);
  assert.ok(est.logZSe < 0.1, `SE ${est.logZSe}`);
  assert.ok(
    Math.abs(est.logZRatio - exact) < 3 * est.logZSe,
    `estimator ${est.logZRatio} ± ${est.logZSe} vs exact ${exact}`,
  );
});
