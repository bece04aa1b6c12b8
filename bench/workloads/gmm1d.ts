/**
 * Workloads on typed-array code paths: one iteration of the seed's 1-D Jarzynski experiment, and the
 * resampling step alone (same definition as the peer's `resample_multinomial_n4096`).
 */
import {
  GMM1D_DEFAULTS,
  MixtureEnergy,
  Stream,
  essFromWeights,
  foldIn,
  gatherRows,
  jarzynski,
  keyFromSeed,
  multinomial,
  normalizedWeights,
  sgd,
  zFromQ,
} from "../../src/node.ts";
import type { Workload } from "../workload.ts";

const gmm1dJarzynskiIter: Workload = {
  name: "gmm1d_jarzynski_iter",
  description: "one Jarzynski SMC iteration of `reproduce gmm1d` (1000 walkers, 10000 data, SGD on z)",
  async setup() {
    const o = GMM1D_DEFAULTS;
    const key = keyFromSeed(0);
    const target = MixtureEnergy.twoWell(o.modes[0], o.modes[1], zFromQ(o.q));
    const data = new Float64Array(o.dataSize);
    target.sampleExact(key, o.dataSize, data);
    const model = MixtureEnergy.twoWell(o.modes[0], o.modes[1], 0);
    const objective = jarzynski({ walkers: o.walkers, step: o.step, resample: o.resample });
    const optimizer = sgd(o.lr);
    let state = objective.init(foldIn(key, 1), model);
    let optState = optimizer.init(model.getParams());
    const grad = new Float64Array(model.numParams);
    let k = 0;
    return () => {
      // The trainer's loop body, one iteration per call, with the state carried across calls.
      const kk = foldIn(key, 2 + k++);
      objective.gradient(kk, state, model, { x: data, n: o.dataSize }, grad);
      const r = optimizer.update(grad, optState, model.getParams());
      optState = r.state;
      const p = model.getParams();
      for (let i = 0; i < p.length; i++) p[i] += r.updates[i];
      model.setParams(p);
      objective.afterUpdate(foldIn(kk, 1), state, model);
      if (k % 5000 === 0) state = objective.init(foldIn(key, 1), model);
    };
  },
};

const resampleMultinomial: Workload = {
  name: "resample_multinomial_n4096",
  description: "softmax of 4096 log-weights + ESS + multinomial resampling + gather of 4096×2 walkers",
  async setup() {
    const n = 4096;
    const rng = new Stream(keyFromSeed(1));
    const x = rng.fillNormal(new Float64Array(n * 2));
    const a = rng.fillNormal(new Float64Array(n));
    const w = new Float64Array(n);
    const idx = new Int32Array(n);
    const out = new Float64Array(n * 2);
    let k = 0;
    const key = keyFromSeed(2);
    return () => {
      normalizedWeights(a, w);
      essFromWeights(w);
      multinomial(foldIn(key, k++), w, n, idx);
      gatherRows(x, 2, idx, out);
    };
  },
};

export const workloads: Workload[] = [gmm1dJarzynskiIter, resampleMultinomial];
