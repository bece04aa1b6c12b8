/**
 * Tests for the conditional objectives (src/objectives/conditional.ts):
 *  - the joint gradient is E_batch[∂θE(x, y)] − Σ_y π̂_y Σ_j W_yj ∂θE(X_yj, y), rebuilt from the walkers'
 *    state (to rounding), and for the last-layer biases it is (batch frequency) − π̂;
 *  - at λ = 0 and for `conditionalCrossEntropy` it is the exact cross-entropy gradient (itself checked
 *    against finite differences in test/energies/conditional.test.ts);
 *  - the walkers' start from the confinement Gaussian is an importance sample: its log Z_y matches
 *    quadrature within 3 SE; after a short training run the estimator populations' running log Z_y still
 *    match quadrature within 3 Lee–Whiteley SE;
 *  - the objectives refuse models they cannot train.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConditionalMlp, labelledRows } from "../../src/energies/conditional.ts";
import { gridEvaluate } from "../../src/eval/grid.ts";
import { labelledMixture2d } from "../../src/data/labelled2d.ts";
import {
  conditionalCrossEntropy,
  conditionalJarzynski,
  confinementStart,
} from "../../src/objectives/conditional.ts";
import { confinementLogZ } from "../../src/train/session.ts";
import { foldIn, keyFromSeed } from "../../src/random/key.ts";
import { walkerWeights } from "../../src/smc/walkers.ts";
import { adam } from "../../src/train/optim.ts";
import { train } from "../../src/train/trainer.ts";
import { assertClose } from "../helpers.ts";

const K = 4;

function setup(seed: number, confinement = 0.25) {
  const net = ConditionalMlp.create(
    { inputDim: 2, classes: K, hidden: [12, 12], activation: "silu", confinement },
    keyFromSeed(seed),
  );
  const set = labelledMixture2d("mog4-unequal", { sigma: 0.5 });
  const n = 64;
  const { x, labels } = set.sample(keyFromSeed(seed + 100), n);
  return { net, set, n, x, labels, rows: labelledRows(x, labels, n, 2) };
}

/** Offset of the last layer's biases in θ (they are the last K parameters). */
const lastBias = (net: ConditionalMlp) => net.numParams - K;

describe("conditional objectives: gradients", () => {
  test("joint gradient = E_batch[∂θE(x,y)] − Σ_y π̂_y Σ_j W_yj ∂θE(X_yj, y); biases: frequency − π̂", () => {
    const { net, n, labels, rows } = setup(1);
    const model = net.labelledEnergy();
    const obj = conditionalJarzynski({ walkers: 50, step: 0.01 });
    const s = obj.init(keyFromSeed(2), model);
    // A few iterations first, so the walkers carry unequal weights and the priors differ from uniform.
    const opt = adam(1e-2);
    let opt_s = opt.init(net.getParams());
    const grad = new Float64Array(net.numParams);
    for (let k = 0; k < 5; k++) {
      obj.gradient(foldIn(keyFromSeed(3), k), s, model, { x: rows, n }, grad);
      const r = opt.update(grad, opt_s, net.getParams());
      opt_s = r.state;
      const th = net.getParams();
      for (let p = 0; p < th.length; p++) th[p] += r.updates[p];
      model.setParams(th);
      obj.afterUpdate(foldIn(keyFromSeed(4), k), s, model);
    }
    const pri = obj.diagnostics(s).priors;
    obj.gradient(keyFromSeed(5), s, model, { x: rows, n }, grad);

    const expected = new Float64Array(net.numParams);
    model.paramGrad(rows, n, new Float64Array(n).fill(1 / n), expected);
    const part = new Float64Array(net.numParams);
    for (let y = 0; y < K; y++) {
      const w = s.classes[y].walkers;
      const W = walkerWeights(w, new Float64Array(w.n));
      net.classEnergy(y).paramGrad(w.position, w.n, W, part);
      for (let p = 0; p < part.length; p++) expected[p] -= pri[y] * part[p];
    }
    for (let p = 0; p < grad.length; p++) assertClose(grad[p], expected[p], 1e-13, 1e-10, `∂θ[${p}]`);

    const b = lastBias(net);
    for (let y = 0; y < K; y++) {
      const freq = labels.reduce((c, l) => c + (l === y ? 1 : 0), 0) / n;
      assertClose(grad[b + y], freq - pri[y], 1e-14, 1e-12, `bias ${y}`);
    }
    assert.ok(Math.max(...pri) - Math.min(...pri) > 0.01, `priors ${pri} should differ after training steps`);
  });

  test("λ = 0 and the cross-entropy objective give the exact cross-entropy gradient", () => {
    const { net, n, x, labels, rows } = setup(6);
    const model = net.labelledEnergy();
    const ce = new Float64Array(net.numParams);
    const loss = net.crossEntropy(x, labels, n, ce);
    for (const obj of [
      conditionalCrossEntropy(),
      conditionalJarzynski({ walkers: 8, step: 0.01, generativeWeight: 0 }),
    ]) {
      const s = obj.init(keyFromSeed(7), model);
      const grad = new Float64Array(net.numParams);
      obj.gradient(keyFromSeed(8), s as never, model, { x: rows, n }, grad);
      for (let p = 0; p < grad.length; p++) assertClose(grad[p], ce[p], 1e-15, 1e-12, `${obj.name} ∂θ[${p}]`);
      assertClose(obj.diagnostics(s as never).loss!, loss, 0, 1e-13, `${obj.name} loss`);
    }
  });

  test("models other than a labelled conditional energy, and c = 0, are refused", () => {
    const { net, rows, n } = setup(9, 0);
    const obj = conditionalJarzynski({ walkers: 8, step: 0.01 });
    assert.throws(() => obj.init(keyFromSeed(1), net.classEnergy(0)), /labelledEnergy/);
    assert.throws(() => obj.init(keyFromSeed(1), net.labelledEnergy()), /confinement c > 0/);
    const ce = conditionalCrossEntropy();
    assert.throws(
      () =>
        ce.gradient(
          keyFromSeed(1),
          { loss: 0 },
          net.marginalEnergy(),
          { x: rows, n },
          new Float64Array(net.numParams),
        ),
      /labelledEnergy/,
    );
    assert.throws(
      () => conditionalJarzynski({ walkers: 8, step: 0.01, generativeWeight: -1 }),
      /generativeWeight/,
    );
  });
});

describe("conditional objectives: log Z_y of the walkers", () => {
  /** log Z_y by a 240² midpoint grid on [−12, 12]² (the confinement ½·0.25|x|² leaves < e^{−17} outside). */
  function gridLogZ(net: ConditionalMlp, y: number): number {
    return gridEvaluate(net.classEnergy(y), { xmin: -12, xmax: 12, ymin: -12, ymax: 12, n: 240 }).logZ;
  }

  test("the confinement start is an importance sample of p(x|y): log Z_y within 3 SE of quadrature", () => {
    const { net } = setup(10);
    const c = net.confinement;
    const init = confinementStart(c);
    const m = 4000;
    for (let y = 0; y < K; y++) {
      const { logw } = init(foldIn(keyFromSeed(11), y), net.classEnergy(y), m);
      const mx = Math.max(...logw!);
      const w = Array.from(logw!, (v) => Math.exp(v - mx));
      const mean = w.reduce((a, b) => a + b, 0) / m;
      const sd = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / (m - 1));
      const est = mx + Math.log(mean) + confinementLogZ(2, c);
      const se = sd / mean / Math.sqrt(m); // delta method on the log scale
      const truth = gridLogZ(net, y);
      assert.ok(Math.abs(est - truth) <= 3 * se, `label ${y}: ${est} vs ${truth} (SE ${se})`);
    }
  });

  test("after 150 training iterations the estimator populations' log Z_y are within 3 SE of quadrature", () => {
    const { net } = setup(12);
    const set = labelledMixture2d("mog4-unequal", { sigma: 0.5 });
    const n = 2000;
    const { x, labels } = set.sample(keyFromSeed(13), n);
    const obj = conditionalJarzynski({ walkers: 100, step: 0.01, estimatorWalkers: 400 });
    const { state } = train({
      model: net.labelledEnergy(),
      objective: obj,
      optimizer: adam(3e-3),
      data: { x: labelledRows(x, labels, n, 2), n },
      batchSize: 128,
      iterations: 150,
      key: keyFromSeed(14),
    });
    const d = obj.diagnostics(state);
    for (let y = 0; y < K; y++) {
      const c = d.classes[y];
      const truth = gridLogZ(net, y);
      assert.ok(
        Math.abs(c.estimatorLogZ - truth) <= 3 * c.estimatorLogZSe,
        `label ${y}: estimator ${c.estimatorLogZ} ± ${c.estimatorLogZSe} vs quadrature ${truth}`,
      );
      assert.ok(Number.isFinite(c.logZ) && Number.isFinite(c.logZSe));
    }
  });
});
