/**
 * RBM log Z from a base-rate model (rbm/evaluate.ts) against exact enumeration, and the momentum and weight
 * cost transformations (train/momentum.ts). Seeds are fixed; tolerances are 3 Monte Carlo SEs.
 *  - unbiasedness on the Z scale (the weights are right for the path the sweeps follow, including the
 *    bias interpolation b_t = (1 − t)·b_A + t·b): with a deliberately short path (20 temperatures) and a
 *    base far from the model, the mean of Ẑ/Z over 400 independent AIS runs (and over 200 Jarzynski runs)
 *    is 1 within 3 SE, although each log Ẑ is noisy;
 *  - pooled replicas: log Ẑ within 3 delta-method SEs of exact for AIS and Jarzynski on a 10 × 12 RBM with
 *    W ~ N(0, 1);
 *  - the Salakhutdinov–Murray schedule: 0 … 1, non-decreasing, in the paper's proportions;
 *  - chain(addDecayedWeights(wd, m), trace(μ_t), sgd(lr)) is heavy-ball SGD with an L2 cost on the first m
 *    parameters, to the last bit of a hand-written loop.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Rbm } from "../../src/energies/rbm.ts";
import { foldIn, keyFromSeed, Stream } from "../../src/random/key.ts";
import { exactLogZ } from "../../src/rbm/ais.ts";
import { baseRateAis, rbmJarzynskiLogZ, rbmLogZ, salakhutdinovBetas } from "../../src/rbm/evaluate.ts";
import { addDecayedWeights, stepSchedule, trace } from "../../src/train/momentum.ts";
import { applyUpdates, chain, sgd } from "../../src/train/optim.ts";

const V = 10;
const H = 12;
const model = Rbm.random(keyFromSeed(31), V, H, 1, 1);
const exact = exactLogZ(model);
const base = Array.from({ length: V }, (_, i) => (i % 3) - 1.5); // unrelated to the model's b

function meanRatio(values: number[]): { mean: number; se: number } {
  const r = values.map((l) => Math.exp(l - exact));
  const mean = r.reduce((a, b) => a + b, 0) / r.length;
  const sd = Math.sqrt(r.reduce((a, x) => a + (x - mean) ** 2, 0) / (r.length - 1));
  return { mean, se: sd / Math.sqrt(r.length) };
}

describe("log Z from the base-rate model", () => {
  test("AIS and Jarzynski are unbiased for Z on a short path (mean Ẑ/Z = 1 within 3 SE)", () => {
    const ais = Array.from(
      { length: 400 },
      (_, r) => baseRateAis(model, foldIn(keyFromSeed(32), r), { baseBias: base, betas: 20, chains: 5 }).logZ,
    );
    const jar = Array.from(
      { length: 200 },
      (_, r) =>
        rbmJarzynskiLogZ(model, foldIn(keyFromSeed(33), r), { baseBias: base, betas: 20, walkers: 10 }).logZ,
    );
    for (const [name, v] of [
      ["AIS", ais],
      ["Jarzynski", jar],
    ] as const) {
      const m = meanRatio(v);
      const sdLog = Math.sqrt(v.reduce((a, x) => a + (x - exact) ** 2, 0) / v.length);
      console.log(
        `${name}, 20 temperatures: mean Ẑ/Z = ${m.mean.toFixed(4)} ± ${m.se.toFixed(4)} (rms log error ${sdLog.toFixed(2)})`,
      );
      assert.ok(sdLog > 0.1, "the runs are noisy enough for a bias to show");
      assert.ok(m.se < 0.1 && Math.abs(m.mean - 1) < 3 * m.se, `${name}: ${m.mean} ± ${m.se}`);
    }
  });

  test("pooled replicas agree with exact enumeration within 3 SE", () => {
    for (const method of ["ais", "jarzynski"] as const) {
      const e = rbmLogZ(model, keyFromSeed(34), {
        method,
        baseBias: base,
        betas: 500,
        chains: 100,
        replicas: 8,
      });
      console.log(`${method}: ${e.logZ.toFixed(4)} ± ${e.se.toFixed(4)} vs exact ${exact.toFixed(4)}`);
      assert.ok(
        e.se > 0 && e.se < 0.05 && Math.abs(e.logZ - exact) < 3 * e.se,
        `${method}: ${e.logZ} ± ${e.se}`,
      );
    }
  });

  test("the Salakhutdinov–Murray schedule", () => {
    const b = salakhutdinovBetas(14500);
    assert.equal(b[0], 0);
    assert.equal(b[b.length - 1], 1);
    for (let k = 1; k < b.length; k++) assert.ok(b[k] >= b[k - 1]);
    assert.equal(b.filter((x) => x < 0.5).length, 500);
    assert.equal(b.filter((x) => x >= 0.5 && x < 0.9).length, 4000);
  });
});

describe("momentum and weight cost", () => {
  test("chain(addDecayedWeights, trace, sgd) is heavy-ball SGD with an L2 cost on the leading parameters", () => {
    const n = 6;
    const lr = 0.05;
    const wd = 0.01;
    const opt = chain(addDecayedWeights(wd, 4), trace(stepSchedule(0.5, 0.9, 3)), sgd(lr));
    const theta = Float64Array.from({ length: n }, (_, i) => i - 2.5);
    const ref = theta.slice();
    const delta = new Float64Array(n);
    let state = opt.init(theta);
    const rng = new Stream(keyFromSeed(35));
    for (let t = 0; t < 8; t++) {
      const g = Float64Array.from({ length: n }, () => rng.uniform() - 0.5);
      const r = opt.update(g, state, theta);
      state = r.state;
      applyUpdates(theta, r.updates);
      const mu = t < 3 ? 0.5 : 0.9;
      for (let i = 0; i < n; i++) {
        delta[i] = mu * delta[i] + g[i] + (i < 4 ? wd * ref[i] : 0);
        ref[i] += -lr * delta[i];
      }
    }
    assert.deepEqual(Array.from(theta), Array.from(ref));
  });
});
