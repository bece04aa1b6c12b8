/**
 * The classification RBM on a model small enough to enumerate (V = 6, H = 4, K = 3: 64 × 16 × 3 states):
 * free energies and p(y | v) against sums over h, parameter and input gradients against float64 central
 * differences, and block Gibbs (given y, and on the joint) stationary for the exact distributions, both
 * as exact transition matrices and by sampling.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ClassRbm, classRbmRows } from "../../src/energies/class-rbm.ts";
import { foldIn, keyFromSeed, Stream } from "../../src/random/key.ts";
import { assertClose, centralDiff } from "../helpers.ts";

const V = 6;
const H = 4;
const K = 3;
const NV = 1 << V;
const NH = 1 << H;

/** A model with θ ~ N(0, 0.7²) (every parameter, biases included), so that no term is negligible. */
function tinyModel(seed = 1): ClassRbm {
  const m = new ClassRbm({ visible: V, hidden: H, classes: K });
  const theta = new Stream(keyFromSeed(seed)).fillNormal(new Float64Array(m.numParams), 0, 0.7);
  m.setParams(theta);
  return m;
}

function bits(k: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (k >> i) & 1;
  return out;
}

/** E(v, h, y) from its definition. */
function jointEnergy(m: ClassRbm, v: Uint8Array, h: Uint8Array, y: number): number {
  let e = -m.d[y];
  for (let i = 0; i < V; i++) e -= m.b[i] * v[i];
  for (let j = 0; j < H; j++) {
    let a = m.c[j] + m.U[j * K + y];
    for (let i = 0; i < V; i++) a += v[i] * m.W[i * H + j];
    e -= a * h[j];
  }
  return e;
}

/** F(v, y) = −log Σ_h e^{−E(v, h, y)} by enumerating h. */
function bruteFree(m: ClassRbm, v: Uint8Array, y: number): number {
  let s = 0;
  for (let kh = 0; kh < NH; kh++) s += Math.exp(-jointEnergy(m, v, bits(kh, H), y));
  return -Math.log(s);
}

/** All 64 visible states, row-major. */
function allVisible(): Uint8Array {
  const out = new Uint8Array(NV * V);
  for (let k = 0; k < NV; k++) out.set(bits(k, V), k * V);
  return out;
}

/** p(v, y) over the 64 × 3 states, index kv·K + y. */
function exactJoint(m: ClassRbm): Float64Array {
  const fe = new Float64Array(NV * K);
  m.freeEnergies(allVisible(), NV, fe);
  let mn = Infinity;
  for (const f of fe) mn = Math.min(mn, f);
  const p = fe.map((f) => Math.exp(mn - f));
  const z = p.reduce((a, b) => a + b, 0);
  return p.map((x) => x / z);
}

test("F(v, y) and p(y | v) equal sums over h; p(y | v) sums to 1", () => {
  const m = tinyModel();
  const all = allVisible();
  const fe = new Float64Array(NV * K);
  const probs = new Float64Array(NV * K);
  m.freeEnergies(all, NV, fe);
  m.classProbabilities(all, NV, probs);
  const pred = m.predict(all, NV);
  for (let kv = 0; kv < NV; kv++) {
    const v = all.subarray(kv * V, (kv + 1) * V);
    const brute = [0, 1, 2].map((y) => bruteFree(m, v, y));
    const z = brute.reduce((a, f) => a + Math.exp(-f), 0);
    let sum = 0;
    for (let y = 0; y < K; y++) {
      assertClose(fe[kv * K + y], brute[y], 1e-12, 1e-12, `F(v${kv}, ${y})`);
      assertClose(probs[kv * K + y], Math.exp(-brute[y]) / z, 1e-14, 1e-12, `p(${y} | v${kv})`);
      sum += probs[kv * K + y];
    }
    assertClose(sum, 1, 1e-14, 0, `Σ_y p(y | v${kv})`);
    let best = 0;
    for (let y = 1; y < K; y++) if (brute[y] < brute[best]) best = y;
    assert.equal(pred[kv], best);
  }
  // The RBM of p(v | y) has free energy F(v, y) + d_y (float32 parameters).
  for (let y = 0; y < K; y++) {
    const rbm = m.conditionalRbm(y);
    const u = new Float64Array(NV);
    rbm.energy(all, NV, u);
    for (let kv = 0; kv < NV; kv++) assertClose(u[kv] - m.d[y], fe[kv * K + y], 1e-5, 0, `RBM_${y}`);
  }
});

test("gradients of −log p(y|v), of F and of any cotangent mix match central differences", () => {
  const m = tinyModel(2);
  const rng = new Stream(keyFromSeed(3));
  const n = 7;
  const v = new Uint8Array(n * V).map(() => (rng.uniform() < 0.5 ? 1 : 0));
  const labels = Int32Array.from({ length: n }, () => rng.integer(K));
  const weights = Float64Array.from({ length: n }, () => rng.normal());
  const coef = Float64Array.from({ length: n * K }, () => rng.normal());
  const theta = m.getParams();
  const eps = 1e-6;
  const at = (f: () => number) => () => {
    m.setParams(theta);
    return f();
  };
  const ce = new Float64Array(m.numParams);
  const loss = m.crossEntropy(v, labels, n, ce);
  assertClose(loss, m.crossEntropy(v, labels, n), 0, 0, "loss with and without the gradient");
  const fg = new Float64Array(m.numParams);
  m.freeEnergyGrad(v, labels, n, weights, fg);
  const vj = new Float64Array(m.numParams);
  m.freeEnergyVjp(v, n, (s, _fe, c) => c.set(coef.subarray(s * K, (s + 1) * K)), vj);
  const fe = new Float64Array(n * K);
  const weightedF = () => {
    const u = new Float64Array(n);
    m.freeEnergy(v, labels, n, u);
    return u.reduce((a, x, s) => a + weights[s] * x, 0);
  };
  const mixedF = () => {
    m.freeEnergies(v, n, fe);
    return fe.reduce((a, x, q) => a + coef[q] * x, 0);
  };
  for (let q = 0; q < m.numParams; q++) {
    const fd = centralDiff(
      at(() => m.crossEntropy(v, labels, n)),
      theta,
      q,
      eps,
    );
    assertClose(ce[q], fd, 1e-8, 1e-6, `∂CE/∂θ[${q}]`);
    assertClose(fg[q], centralDiff(at(weightedF), theta, q, eps), 1e-8, 1e-6, `Σ w ∂F/∂θ[${q}]`);
    assertClose(vj[q], centralDiff(at(mixedF), theta, q, eps), 1e-8, 1e-6, `Σ C ∂F/∂θ[${q}]`);
  }
  m.setParams(theta);

  // The labelled view: energy F(v, y), paramGrad Σ w ∂θF, relaxed ∂F/∂v at real v ∈ [0, 1].
  const view = m.labelled();
  const real = Float64Array.from({ length: n * V }, () => rng.uniform());
  const rows = classRbmRows(real, labels, n, V);
  const g = new Float64Array(view.numParams);
  view.paramGrad(classRbmRows(v, labels, n, V), n, weights, g);
  for (let q = 0; q < g.length; q++) assertClose(g[q], fg[q], 1e-15, 1e-12, `view paramGrad[${q}]`);
  const u = new Float64Array(n);
  const gx = new Float64Array(n * (V + 1));
  view.energyAndGrad(rows, n, u, gx);
  const u2 = new Float64Array(n);
  view.energy(rows, n, u2);
  for (let s = 0; s < n; s++) {
    assert.equal(u[s], u2[s]);
    assert.equal(gx[s * (V + 1) + V], 0);
    for (let i = 0; i < V; i++) {
      const fd = centralDiff(
        () => {
          view.energy(rows, n, u2);
          return u2[s];
        },
        rows,
        s * (V + 1) + i,
        eps,
      );
      assertClose(gx[s * (V + 1) + i], fd, 1e-8, 1e-6, `∂F/∂v[${s},${i}]`);
    }
  }
  assert.throws(() => view.energy(Float64Array.of(0, 0, 0, 0, 0, 0, 3), 1, u), /label of row 0 is 3/);
});

/** T[a·N + b] = P(state a → state b) for one sweep, from the model's own conditional probabilities. */
function transitionGivenLabel(m: ClassRbm, y: number): Float64Array {
  const T = new Float64Array(NV * NV);
  const ph = new Float64Array(H);
  const pv = new Float64Array(V);
  for (let a = 0; a < NV; a++) {
    m.hiddenProbabilities(bits(a, V), [y], 1, ph);
    for (let kh = 0; kh < NH; kh++) {
      const h = bits(kh, H);
      let w = 1;
      for (let j = 0; j < H; j++) w *= h[j] ? ph[j] : 1 - ph[j];
      m.visibleProbabilities(h, 1, pv);
      for (let b = 0; b < NV; b++) {
        let q = w;
        for (let i = 0; i < V; i++) q *= (b >> i) & 1 ? pv[i] : 1 - pv[i];
        T[a * NV + b] += q;
      }
    }
  }
  return T;
}

test("block Gibbs given y and on the joint: the exact transition matrices leave p(v | y) and p(v, y) invariant", () => {
  const m = tinyModel(4);
  const joint = exactJoint(m);
  for (let y = 0; y < K; y++) {
    const T = transitionGivenLabel(m, y);
    let py = 0;
    for (let a = 0; a < NV; a++) py += joint[a * K + y];
    for (let b = 0; b < NV; b++) {
      let next = 0;
      let row = 0;
      for (let a = 0; a < NV; a++) {
        next += (joint[a * K + y] / py) * T[a * NV + b];
        row += T[b * NV + a];
      }
      assertClose(next, joint[b * K + y] / py, 1e-14, 1e-12, `(πT)(v${b} | ${y})`);
      assertClose(row, 1, 1e-12, 0, `row ${b} of T`);
    }
  }
  // Joint: T((v, y) → (v', y')) = Σ_h p(h | v, y) p(v' | h) p(y' | h).
  const next = new Float64Array(NV * K);
  const ph = new Float64Array(H);
  const pv = new Float64Array(V);
  const py = new Float64Array(K);
  for (let a = 0; a < NV; a++)
    for (let y = 0; y < K; y++) {
      m.hiddenProbabilities(bits(a, V), [y], 1, ph);
      for (let kh = 0; kh < NH; kh++) {
        const h = bits(kh, H);
        let w = joint[a * K + y];
        for (let j = 0; j < H; j++) w *= h[j] ? ph[j] : 1 - ph[j];
        m.visibleProbabilities(h, 1, pv);
        m.labelProbabilities(h, 1, py);
        for (let b = 0; b < NV; b++) {
          let q = w;
          for (let i = 0; i < V; i++) q *= (b >> i) & 1 ? pv[i] : 1 - pv[i];
          for (let y2 = 0; y2 < K; y2++) next[b * K + y2] += q * py[y2];
        }
      }
    }
  for (let q = 0; q < NV * K; q++) assertClose(next[q], joint[q], 1e-14, 1e-12, `(πT)[${q}]`);
});

/** n independent draws of the states 0 … N−1 with probabilities p, by inverse CDF. */
function drawExact(key: ReturnType<typeof keyFromSeed>, p: Float64Array, n: number): Int32Array {
  const rng = new Stream(key);
  const out = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    const u = rng.uniform();
    let acc = 0;
    let k = 0;
    while (k < p.length - 1 && u >= (acc += p[k])) k++;
    out[s] = k;
  }
  return out;
}

/** Largest |frequency − p| / SE over the states, SE = √(p(1 − p)/n) from the exact p. */
function worstZ(counts: Float64Array, p: Float64Array, n: number): number {
  let worst = 0;
  for (let q = 0; q < p.length; q++) {
    const se = Math.sqrt((p[q] * (1 - p[q])) / n);
    worst = Math.max(worst, Math.abs(counts[q] / n - p[q]) / se);
  }
  return worst;
}

test("sampled Gibbs chains started at exact draws stay within 4 SE of p(v | y) and p(v, y)", () => {
  const m = tinyModel(5);
  const joint = exactJoint(m);
  const n = 20000;
  const sweeps = 3;
  // Given y = 1: chains from exact draws of p(v | 1); after 3 sweeps their states are still exact draws.
  const y = 1;
  const pv = new Float64Array(NV);
  for (let a = 0; a < NV; a++) pv[a] = joint[a * K + y];
  const z = pv.reduce((s, x) => s + x, 0);
  for (let a = 0; a < NV; a++) pv[a] /= z;
  const start = drawExact(keyFromSeed(6), pv, n);
  const chains = { v: new Uint8Array(n * V), h: new Uint8Array(n * H) };
  for (let s = 0; s < n; s++) chains.v.set(bits(start[s], V), s * V);
  m.gibbsGivenLabel(keyFromSeed(7), chains, new Int32Array(n).fill(y), n, sweeps);
  const counts = new Float64Array(NV);
  for (let s = 0; s < n; s++) {
    let k = 0;
    for (let i = 0; i < V; i++) k |= chains.v[s * V + i] << i;
    counts[k]++;
  }
  assert.ok(worstZ(counts, pv, n) < 4, `given y: worst state ${worstZ(counts, pv, n).toFixed(2)} SE off`);
  // Negative control: the same counts are far from p(v | y') for another label.
  const other = new Float64Array(NV);
  for (let a = 0; a < NV; a++) other[a] = joint[a * K + 2];
  const z2 = other.reduce((s, x) => s + x, 0);
  for (let a = 0; a < NV; a++) other[a] /= z2;
  assert.ok(worstZ(counts, other, n) > 10, "the check can tell p(v | 1) from p(v | 2)");

  // The joint sampler from exact draws of p(v, y).
  const startJ = drawExact(foldIn(keyFromSeed(6), 1), joint, n);
  const cj = { v: new Uint8Array(n * V), h: new Uint8Array(n * H), y: new Int32Array(n) };
  for (let s = 0; s < n; s++) {
    cj.v.set(bits(Math.floor(startJ[s] / K), V), s * V);
    cj.y[s] = startJ[s] % K;
  }
  m.gibbsJoint(keyFromSeed(8), cj, n, sweeps);
  const cJ = new Float64Array(NV * K);
  for (let s = 0; s < n; s++) {
    let k = 0;
    for (let i = 0; i < V; i++) k |= cj.v[s * V + i] << i;
    cJ[k * K + cj.y[s]]++;
  }
  assert.ok(worstZ(cJ, joint, n) < 4, `joint: worst state ${worstZ(cJ, joint, n).toFixed(2)} SE off`);

  // From a bad start (all pixels off, label 0), 30 sweeps reach p(v, y): the chains mix.
  const cold = { v: new Uint8Array(n * V), h: new Uint8Array(n * H), y: new Int32Array(n) };
  m.gibbsJoint(keyFromSeed(9), cold, n, 30);
  const cC = new Float64Array(NV * K);
  for (let s = 0; s < n; s++) {
    let k = 0;
    for (let i = 0; i < V; i++) k |= cold.v[s * V + i] << i;
    cC[k * K + cold.y[s]]++;
  }
  assert.ok(worstZ(cC, joint, n) < 4, `joint from a cold start: ${worstZ(cC, joint, n).toFixed(2)} SE off`);
});

test("same key, same chains; the visible means are p(v | h) of the last sweep", () => {
  const m = tinyModel(6);
  const run = () => {
    const c = { v: new Uint8Array(5 * V), h: new Uint8Array(5 * H) };
    const mean = new Float64Array(5 * V);
    m.gibbsGivenLabel(keyFromSeed(10), c, [0, 1, 2, 0, 1], 5, 4, mean);
    return { c, mean };
  };
  const a = run();
  const b = run();
  assert.deepEqual(a.c.v, b.c.v);
  assert.deepEqual(a.mean, b.mean);
  const pv = new Float64Array(5 * V);
  m.visibleProbabilities(a.c.h, 5, pv);
  assert.deepEqual(pv, a.mean);
});
