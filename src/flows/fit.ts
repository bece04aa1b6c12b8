/**
 * Maximum-likelihood fit of a trainable flow to data: minimise the mean negative log-likelihood
 * −(1/B) Σ_i log q_θ(x_i) over minibatches of B points drawn with replacement, with Adam (src/train/optim.ts)
 * or any optimizer given. Step t draws its minibatch from foldIn(key, t), so a fit is reproducible from
 * its key.
 */
import { type Key, foldIn, Stream } from "../random/key.ts";
import { adam, applyUpdates, type Optimizer, type Schedule } from "../train/optim.ts";
import type { TrainableFlow } from "./flow.ts";

export interface FitFlowOptions {
  /** Optimizer steps. */
  steps: number;
  /** Minibatch size B (default 256). */
  batch?: number;
  /** Adam's learning rate when no optimizer is given (default 1e-2). */
  lr?: number | Schedule;
  optimizer?: Optimizer;
}

export interface FitFlowResult {
  /** Minibatch NLL −(1/B) Σ log q(x_i) before each step. */
  losses: Float64Array;
}

/** Fits `flow` in place to the n points of `data` (n × flow.dim). */
export function fitFlow(
  flow: TrainableFlow,
  data: Float64Array,
  n: number,
  key: Key,
  opts: FitFlowOptions,
): FitFlowResult {
  const d = flow.dim;
  if (!(Number.isInteger(n) && n >= 1 && data.length >= n * d))
    throw new RangeError(`data must hold n ≥ 1 points of dimension ${d}`);
  if (!(Number.isInteger(opts.steps) && opts.steps >= 0))
    throw new RangeError(`steps must be an integer ≥ 0, got ${opts.steps}`);
  const b = opts.batch ?? 256;
  if (!(Number.isInteger(b) && b >= 1)) throw new RangeError(`batch must be a positive integer, got ${b}`);
  const opt = opts.optimizer ?? adam(opts.lr ?? 1e-2);
  const theta = flow.getParams();
  let state = opt.init(theta);
  const batch = new Float64Array(b * d);
  const weights = new Float64Array(b).fill(1 / b);
  const grad = new Float64Array(flow.numParams);
  const losses = new Float64Array(opts.steps);
  for (let t = 0; t < opts.steps; t++) {
    const rng = new Stream(foldIn(key, t));
    for (let i = 0; i < b; i++) {
      const r = rng.integer(n);
      for (let j = 0; j < d; j++) batch[i * d + j] = data[r * d + j];
    }
    losses[t] = -flow.logProbParamGrad(batch, b, weights, grad);
    for (let k = 0; k < grad.length; k++) grad[k] = -grad[k];
    const step = opt.update(grad, state, theta);
    state = step.state;
    applyUpdates(theta, step.updates);
    flow.setParams(theta);
  }
  return { losses };
}
