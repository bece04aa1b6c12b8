/**
 * The energy-magnitude penalty α(E_data[U²] + E_model[U²]): the gradient it adds to the likelihood
 * gradient equals the central finite difference of the penalty itself, on a trainable mixture energy with
 * fixed data, walkers and weights.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { keyFromSeed, likelihoodGradient, MixtureEnergy, Stream } from "../../src/index.ts";

test("energy penalty: its gradient matches finite differences of α(mean U²_data + Σ w U²_walkers)", () => {
  const model = new MixtureEnergy({
    means: [
      [-1, 0.5],
      [1.5, -0.5],
    ],
    stds: [1, 0.8],
    offsets: [0.3],
    learnMeans: true,
  });
  const rng = new Stream(keyFromSeed(4));
  const nd = 7;
  const nw = 5;
  const data = { x: rng.fillNormal(new Float64Array(2 * nd)), n: nd };
  const walkers = rng.fillNormal(new Float64Array(2 * nw));
  const w = Float64Array.from({ length: nw }, () => rng.uniform());
  const total = w.reduce((a, b) => a + b, 0);
  for (let i = 0; i < nw; i++) w[i] /= total;
  const alpha = 0.3;
  const penalty = (theta: Float64Array) => {
    model.setParams(theta);
    const ud = new Float64Array(nd);
    const uw = new Float64Array(nw);
    model.energy(data.x, nd, ud);
    model.energy(walkers, nw, uw);
    let s = 0;
    for (const u of ud) s += (u * u) / nd;
    for (let i = 0; i < nw; i++) s += w[i] * uw[i] * uw[i];
    return alpha * s;
  };
  const theta = model.getParams();
  const uw = new Float64Array(nw);
  model.energy(walkers, nw, uw);
  const withP = new Float64Array(model.numParams);
  const without = new Float64Array(model.numParams);
  likelihoodGradient(model, data, walkers, nw, w, withP, { alpha, walkerU: uw });
  likelihoodGradient(model, data, walkers, nw, w, without);
  const h = 1e-6;
  for (let p = 0; p < theta.length; p++) {
    const tp = theta.slice();
    const tm = theta.slice();
    tp[p] += h;
    tm[p] -= h;
    const fd = (penalty(tp) - penalty(tm)) / (2 * h);
    model.setParams(theta);
    const got = withP[p] - without[p];
    assert.ok(Math.abs(got - fd) < 1e-6 * (1 + Math.abs(fd)), `θ[${p}]: ${got} vs finite difference ${fd}`);
  }
});
