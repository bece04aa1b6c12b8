/**
 * The hybrid objective of the classification RBM on an enumerable model (V = 6, H = 4, K = 3): at α = 0 it
 * is the exact gradient of the cross-entropy; at α > 0 its expectation is the exact gradient of
 * −log p(y|v) + α(−log p(v, y)) once the negative chains (CD-k from the batch, or PCD) have mixed — checked
 * component by component within 4 Monte Carlo SE, the SE from the exact distribution of ∂θF. And it trains
 * through the trainer: a student reaches the Bayes accuracy of the model that generated its data.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ClassRbm, classRbmRows } from "../../src/energies/class-rbm.ts";
import { classRbmHybrid, type ClassRbmHybridState } from "../../src/objectives/class-rbm.ts";
import { foldIn, type Key, keyFromSeed, Stream } from "../../src/random/key.ts";
import { adam } from "../../src/train/optim.ts";
import { train } from "../../src/train/trainer.ts";

const V = 6;
const H = 4;
const K = 3;
const NV = 1 << V;

function tinyModel(seed: number, std = 0.7): ClassRbm {
  const m = new ClassRbm({ visible: V, hidden: H, classes: K });
  m.setParams(new Stream(keyFromSeed(seed)).fillNormal(new Float64Array(m.numParams), 0, std));
  return m;
}

/** p(v, y) over the 64 × 3 states (index kv·K + y) and ∂θF at every state (rows of numParams). */
function enumerate(m: ClassRbm): { p: Float64Array; dF: Float64Array[] } {
  const all = new Uint8Array(NV * V);
  for (let k = 0; k < NV; k++) for (let i = 0; i < V; i++) all[k * V + i] = (k >> i) & 1;
  const fe = new Float64Array(NV * K);
  m.freeEnergies(all, NV, fe);
  const mn = Math.min(...fe);
  const p = fe.map((f) => Math.exp(mn - f));
  const z = p.reduce((a, b) => a + b, 0);
  const dF: Float64Array[] = [];
  for (let q = 0; q < NV * K; q++) {
    p[q] /= z;
    const g = new Float64Array(m.numParams);
    m.freeEnergyGrad(all.subarray(Math.floor(q / K) * V), [q % K], 1, [1], g);
    dF.push(g);
  }
  return { p, dF };
}

/** n labelled rows drawn exactly from p(v, y) of `m` (inverse CDF over the enumerated states). */
function exactRows(m: ClassRbm, key: Key, n: number): { v: Uint8Array; y: Int32Array } {
  const { p } = enumerate(m);
  const rng = new Stream(key);
  const v = new Uint8Array(n * V);
  const y = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    const u = rng.uniform();
    let acc = 0;
    let q = 0;
    while (q < p.length - 1 && u >= (acc += p[q])) q++;
    for (let i = 0; i < V; i++) v[s * V + i] = (Math.floor(q / K) >> i) & 1;
    y[s] = q % K;
  }
  return { v, y };
}

test("α = 0: the gradient is the exact gradient of the batch's cross-entropy, and no chains run", () => {
  const m = tinyModel(1);
  const { v, y } = exactRows(tinyModel(2), keyFromSeed(3), 50);
  const obj = classRbmHybrid({ alpha: 0 });
  const view = m.labelled();
  const state = obj.init(keyFromSeed(4), view);
  assert.equal(state.persistent, undefined);
  const g = new Float64Array(m.numParams);
  obj.gradient(keyFromSeed(5), state, view, { x: classRbmRows(v, y, 50, V), n: 50 }, g);
  const ce = new Float64Array(m.numParams);
  const loss = m.crossEntropy(v, y, 50, ce);
  for (let q = 0; q < g.length; q++)
    assert.ok(Math.abs(g[q] - ce[q]) <= 1e-15 + 1e-12 * Math.abs(ce[q]), `θ[${q}]`);
  assert.ok(Math.abs(obj.diagnostics(state).loss! - loss) < 1e-13);
  assert.throws(
    () => obj.gradient(keyFromSeed(5), state, view, { x: Float64Array.of(0.5, 0, 0, 0, 0, 0, 1), n: 1 }, g),
    /must be 0\/1/,
  );
});

/**
 * The objective's gradient on n rows against the exact hybrid gradient on the same rows, each component
 * within 4 SE; SE = α·sd_p(∂θF)/√m for m independent negative samples of p(v, y).
 */
function checkHybrid(
  m: ClassRbm,
  alpha: number,
  v: Uint8Array,
  y: Int32Array,
  n: number,
  g: Float64Array,
  chains: number,
): void {
  const { p, dF } = enumerate(m);
  const exact = new Float64Array(m.numParams);
  m.crossEntropy(v, y, n, exact);
  const data = new Float64Array(m.numParams);
  m.freeEnergyGrad(v, y, n, new Float64Array(n).fill(alpha / n), data);
  let worst = 0;
  for (let q = 0; q < m.numParams; q++) {
    let mean = 0;
    let sq = 0;
    for (let s = 0; s < p.length; s++) {
      mean += p[s] * dF[s][q];
      sq += p[s] * dF[s][q] ** 2;
    }
    const want = exact[q] + data[q] - alpha * mean;
    const se = (alpha * Math.sqrt(Math.max(sq - mean * mean, 0))) / Math.sqrt(chains);
    const z = Math.abs(g[q] - want) / Math.max(se, 1e-15);
    worst = Math.max(worst, z);
    assert.ok(z < 4, `θ[${q}]: ${g[q]} vs exact ${want} (SE ${se}, ${z.toFixed(2)} SE)`);
  }
  // The generative term is not lost in the noise: its size is many SE.
  let gen = 0;
  for (let q = 0; q < m.numParams; q++) gen = Math.max(gen, Math.abs(g[q] - exact[q]));
  assert.ok(gen > 0.05, `generative part ${gen}`);
  assert.ok(worst > 0, "the negatives are random");
}

test("α > 0, CD-k from the batch: the expected gradient is the exact hybrid gradient (4 SE per component)", () => {
  const m = tinyModel(6);
  const n = 20000;
  const alpha = 0.5;
  const { v, y } = exactRows(tinyModel(7), keyFromSeed(8), n);
  const obj = classRbmHybrid({ alpha, k: 30 });
  const view = m.labelled();
  const state = obj.init(keyFromSeed(9), view);
  const g = new Float64Array(m.numParams);
  obj.gradient(keyFromSeed(10), state, view, { x: classRbmRows(v, y, n, V), n }, g);
  checkHybrid(m, alpha, v, y, n, g, n);
});

test("α > 0, PCD: persistent chains give the exact hybrid gradient and carry over between iterations", () => {
  const m = tinyModel(11);
  const n = 200;
  const chains = 20000;
  const alpha = 0.5;
  const { v, y } = exactRows(tinyModel(12), keyFromSeed(13), n);
  const obj = classRbmHybrid({ alpha, k: 30, persistentChains: chains });
  const view = m.labelled();
  const state: ClassRbmHybridState = obj.init(keyFromSeed(14), view);
  assert.equal(state.persistent!.n, chains);
  const before = state.persistent!.v.slice();
  const g = new Float64Array(m.numParams);
  const batch = { x: classRbmRows(v, y, n, V), n };
  obj.gradient(keyFromSeed(15), state, view, batch, g);
  checkHybrid(m, alpha, v, y, n, g, chains);
  assert.notDeepEqual(state.persistent!.v, before);
  const after = state.persistent!.v.slice();
  obj.gradient(foldIn(keyFromSeed(15), 1), state, view, batch, g);
  assert.notDeepEqual(state.persistent!.v, after);
  checkHybrid(m, alpha, v, y, n, g, chains);
});

test("trained through the trainer, a student reaches the Bayes accuracy of the model that made its data", () => {
  const teacher = tinyModel(16, 1.5);
  const nTrain = 4000;
  const nTest = 4000;
  const tr = exactRows(teacher, keyFromSeed(17), nTrain);
  const te = exactRows(teacher, keyFromSeed(18), nTest);
  const student = ClassRbm.random(keyFromSeed(19), { visible: V, hidden: 8, classes: K }, 0.1);
  const view = student.labelled();
  const ceBefore = student.crossEntropy(te.v, te.y, nTest);
  train({
    model: view,
    objective: classRbmHybrid({ alpha: 0.01 }),
    optimizer: adam(0.02),
    data: { x: classRbmRows(tr.v, tr.y, nTrain, V), n: nTrain },
    batchSize: 100,
    iterations: 600,
    key: keyFromSeed(20),
  });
  const ceAfter = student.crossEntropy(te.v, te.y, nTest);
  const pred = student.predict(te.v, nTest);
  const bayes = teacher.predict(te.v, nTest);
  // Paired per test point: student right − Bayes right; its mean is ≤ 0 in expectation.
  const diff = new Float64Array(nTest);
  for (let s = 0; s < nTest; s++) diff[s] = (pred[s] === te.y[s] ? 1 : 0) - (bayes[s] === te.y[s] ? 1 : 0);
  const mean = diff.reduce((a, b) => a + b, 0) / nTest;
  const sd = Math.sqrt(diff.reduce((a, b) => a + (b - mean) ** 2, 0) / (nTest - 1));
  const se = sd / Math.sqrt(nTest);
  let bayesRight = 0;
  for (let s = 0; s < nTest; s++) bayesRight += bayes[s] === te.y[s] ? 1 : 0;
  assert.ok(bayesRight / nTest > 0.5, `the teacher's classes are learnable (Bayes ${bayesRight / nTest})`);
  assert.ok(ceAfter < ceBefore - 0.2, `cross-entropy ${ceBefore} → ${ceAfter}`);
  assert.ok(mean > -4 * se, `student − Bayes accuracy ${mean} ± ${se}`);
});
