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
  trainer,
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
    // The library's trainer, one iteration per call, with the state carried across calls.
    const t = trainer({ model, objective, optimizer: sgd(o.lr), data: { x: data, n: o.dataSize } });
    let state = t.init(foldIn(key, 1));
    let k = 0;
    return () => {
      t.step(foldIn(key, 2 + k++), state);
      // Restart the walkers now and then, so long timing runs stay on the experiment's regime.
      if (k % 5000 === 0) state = t.init(foldIn(key, 1));
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
