/**
 * GEBM training sessions (src/gebm/session.ts) on the selected backend: stepping a session to the end gives
 * bit for bit what GebmTrainer.run gives with the same keys; a session restored from its encoded state
 * and tensors at any point (mid-iterations, mid-final-phase) continues as the uninterrupted one;
 * getState/setState round-trip and refuse a state of another shape; tensors are named and shaped as
 * documented; standardised coordinates map back.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { toy2d } from "../../src/data/toy2d.ts";
import { createGebm } from "../../src/gebm/model.ts";
import {
  defaultGebmRunConfig,
  type GebmRunConfig,
  type GebmSession,
  gebmLayout,
  gebmToModelCoordinates,
  gebmToUserCoordinates,
  resumeGebmTraining,
  startGebmTraining,
  validateGebmRunConfig,
} from "../../src/gebm/session.ts";
import { GebmTrainer } from "../../src/gebm/train.ts";
import { keyFromSeed, split } from "../../src/random/key.ts";

const N = 400;
const data = { x: toy2d("mog4-unequal").sample(keyFromSeed(5), N), n: N };

function smallConfig(): GebmRunConfig {
  const c = defaultGebmRunConfig(2);
  c.model.generatorHidden = [6];
  c.model.energyHidden = [8, 8];
  return {
    ...c,
    iters: 7,
    batch: 32,
    warmupIterations: 2,
    warmupEnergySteps: 4,
    energySteps: 2,
    refreshEvery: 5,
    finalEnergySteps: 6,
    seed: 3,
  };
}

function snapshot(s: GebmSession) {
  return {
    g: s.model.generator.getParams(),
    e: s.model.energy.getParams(),
    c: s.model.logZ,
    state: s.encode(),
  };
}

describe("GEBM sessions", () => {
  test("stepping to the end equals GebmTrainer.run with the same keys, bit for bit", async () => {
    const c = smallConfig();
    const s = await startGebmTraining(c, data);
    try {
      while (!s.done) s.step();
      assert.equal(s.position, c.iters + c.finalEnergySteps);
      const [kModel, loop] = split(keyFromSeed(c.seed), 2);
      const m = await createGebm(
        { dataDim: 2, latentDim: 2, generatorHidden: [6], energyHidden: [8, 8], activation: "silu" },
        kModel,
      );
      try {
        const t = new GebmTrainer(m, data.x, N, {
          iterations: c.iters,
          batchSize: c.batch,
          warmupIterations: c.warmupIterations,
          warmupEnergySteps: c.warmupEnergySteps,
          energySteps: c.energySteps,
          refreshEvery: c.refreshEvery,
          finalEnergySteps: c.finalEnergySteps,
          energyLr: c.lr,
          generatorLr: c.lr,
          gradientPenalty: c.gradientPenalty,
        });
        t.run(loop);
        assert.deepEqual(s.model.generator.getParams(), m.generator.getParams());
        assert.deepEqual(s.model.energy.getParams(), m.energy.getParams());
        assert.equal(s.model.logZ, m.logZ);
        assert.deepEqual(s.trainer.getState(), t.getState());
      } finally {
        m.dispose();
      }
    } finally {
      s.dispose();
    }
  });

  test("a session restored after any unit continues as the uninterrupted one", async () => {
    const c = smallConfig();
    const full = await startGebmTraining(c, data);
    while (!full.done) full.step();
    const expected = snapshot(full);
    full.dispose();
    // Mid-warm-up, mid-iterations, at the end of the iterations, mid-final-phase.
    for (const stop of [1, 4, c.iters, c.iters + 3]) {
      const a = await startGebmTraining(c, data);
      while (a.position < stop) a.step();
      const enc = a.encode();
      const b = await resumeGebmTraining(c, data, {
        skeleton: JSON.parse(JSON.stringify(enc.skeleton)),
        tensors: enc.tensors,
        model: a.modelTensors(),
      });
      a.dispose();
      assert.equal(b.position, stop);
      while (!b.done) b.step();
      assert.deepEqual(snapshot(b), expected, `restored at unit ${stop}`);
      b.dispose();
    }
  });

  test("getState/setState round-trip, and a state of another shape is refused", async () => {
    const c = smallConfig();
    const s = await startGebmTraining(c, data);
    try {
      s.step();
      const st = s.trainer.getState();
      assert.equal(st.iteration, 1);
      s.step();
      s.trainer.setState(st);
      assert.deepEqual(s.trainer.getState(), st);
      const bad = structuredClone(st);
      (bad.energyOptimizer as [null, { m: Float64Array }])[1].m = new Float64Array(3);
      assert.throws(() => s.trainer.setState(bad), /energyOptimizer\.1\.m has 3 values/);
    } finally {
      s.dispose();
    }
  });

  test("tensors: generator and energy layers [in, out] and c; validation names the field", async () => {
    const c = smallConfig();
    const names = gebmLayout(c.model).map((t) => `${t.name}[${t.shape.join(",")}]`);
    assert.deepEqual(names, [
      "generator.layers.0.weight[2,6]",
      "generator.layers.0.bias[6]",
      "generator.layers.1.weight[6,2]",
      "generator.layers.1.bias[2]",
      "energy.layers.0.weight[2,8]",
      "energy.layers.0.bias[8]",
      "energy.layers.1.weight[8,8]",
      "energy.layers.1.bias[8]",
      "energy.layers.2.weight[8,1]",
      "energy.layers.2.bias[1]",
      "c[1]",
    ]);
    const s = await startGebmTraining(c, data);
    try {
      const t = s.modelTensors();
      assert.deepEqual(
        Array.from(t["generator.layers.0.weight"].data),
        Array.from(s.model.generator.getParams().subarray(0, 12)),
      );
      assert.deepEqual(Array.from(t.c.data), [s.model.logZ]);
    } finally {
      s.dispose();
    }
    assert.throws(() => validateGebmRunConfig({ ...c, energySteps: 0 }), /energySteps/);
    assert.throws(
      () => validateGebmRunConfig({ ...c, model: { ...c.model, latentDim: 0 } }),
      /model\.latentDim/,
    );
    const spec = { ...c.model, inputShift: [1, -2], inputScale: 3 };
    const x = Float64Array.of(4, 1, -2, 7);
    assert.deepEqual(gebmToUserCoordinates(spec, gebmToModelCoordinates(spec, x, 2), 2), x);
  });
});
