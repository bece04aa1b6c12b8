/**
 * Sampler workloads. `nuts_gauss100`: NUTS on the 100-D standard Gaussian U(x) = ½|x|², after Stan's
 * window adaptation (run once in `setup`: 300 warm-up iterations, step size and diagonal inverse mass
 * adapted). The energy is the O(d) closed form rather than GaussianEnergy's dense 100×100 precision, so
 * the time is NUTS's own (tree building, leapfrog, multinomial bookkeeping), not a matrix-vector product.
 *
 * One call = 10 transitions of a batch of 10 chains = 100 draws, the chains carrying over from call to
 * call. Draws per second = 1000 · 100 / median_ms.
 */
import { Stream, foldIn, keyFromSeed, mala, nuts, windowAdaptation, type Energy } from "../../src/node.ts";
import type { Workload } from "../workload.ts";

/**
 * U(x) = ½|x|², ∇U = x: the d-dimensional standard Gaussian, written as a user would write it for speed (the
 * peer's is `0.5 * (x * x).sum(1)` and `x`): ∇U is one copy, |x|² a loop with four partial sums.
 */
function standardGaussian(dim: number): Energy {
  const halfSquares = (x: Float64Array, n: number, u: Float64Array) => {
    for (let i = 0; i < n; i++) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      const end = (i + 1) * dim;
      let j = i * dim;
      for (; j + 3 < end; j += 4) {
        s0 += x[j] * x[j];
        s1 += x[j + 1] * x[j + 1];
        s2 += x[j + 2] * x[j + 2];
        s3 += x[j + 3] * x[j + 3];
      }
      for (; j < end; j++) s0 += x[j] * x[j];
      u[i] = 0.5 * (s0 + s1 + (s2 + s3));
    }
  };
  return {
    dim,
    energy: halfSquares,
    energyAndGrad(x, n, u, grad) {
      grad.set(x.subarray(0, n * dim));
      halfSquares(x, n, u);
    },
  };
}

const NUTS_CHAINS = 10;
const NUTS_TRANSITIONS = 10;

const nutsGauss100: Workload = {
  name: "nuts_gauss100",
  description:
    "NUTS on a 100-D standard Gaussian after window adaptation (300 warm-up): one call = 10 transitions " +
    "of 10 chains = 100 draws; draws per second = 1000·100/median_ms",
  async setup() {
    const dim = 100;
    const energy = standardGaussian(dim);
    const key = keyFromSeed(0);
    const kernel = nuts(energy);
    const x0 = new Stream(foldIn(key, 0)).fillNormal(new Float64Array(NUTS_CHAINS * dim));
    const state = kernel.init(x0, NUTS_CHAINS);
    const { params } = windowAdaptation(kernel, { numWarmup: 300 }).run(foldIn(key, 1), state);
    let call = 0;
    return () => {
      const k = foldIn(key, 2 + call++);
      for (let t = 0; t < NUTS_TRANSITIONS; t++) kernel.step(foldIn(k, t), state, params);
    };
  },
};

/**
 * The peer's `mala_gauss100_n1000`: one MALA step (h = 0.1) of 1000 chains on the 100-D standard Gaussian,
 * U and ∇U of the current state cached, so one energy+gradient evaluation per step (at the proposal).
 */
const malaGauss100: Workload = {
  name: "mala_gauss100_n1000",
  description: "one MALA step, h = 0.1, 1000 chains on the 100-D standard Gaussian (U, ∇U cached)",
  async setup() {
    const dim = 100;
    const n = 1000;
    const key = keyFromSeed(0);
    const kernel = mala(standardGaussian(dim));
    const params = { step: 0.1 };
    const state = kernel.init(new Stream(foldIn(key, 0)).fillNormal(new Float64Array(n * dim)), n);
    let call = 0;
    return () => {
      kernel.step(foldIn(key, 1 + call++), state, params);
    };
  },
};

export const workloads: Workload[] = [malaGauss100, nutsGauss100];
