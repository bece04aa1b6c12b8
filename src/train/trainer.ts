/**
 * The training loop: one objective, one optimizer, one model, explicit keys. Iteration k draws its
 * randomness from foldIn(key, k), so a run is reproducible from its seed and independent of how often
 * callbacks look at the state.
 */
import type { TrainableEnergy } from "../energies/contract.ts";
import type { Batch, Objective, ObjectiveDiagnostics } from "../objectives/objective.ts";
import { foldIn, type Key, Stream, split } from "../random/key.ts";
import { applyUpdates, type Optimizer } from "./optim.ts";

export interface TrainOptions<S> {
  model: TrainableEnergy;
  objective: Objective<S>;
  optimizer: Optimizer;
  /** Training data, row-major n × dim. */
  data: Batch;
  iterations: number;
  /** Minibatch size for the data term; the full data set when omitted or ≥ n. */
  batchSize?: number;
  key: Key;
  /** Called after every iteration with θ_{k+1} and the objective's diagnostics. */
  onIteration?: (k: number, params: Float64Array, diag: ObjectiveDiagnostics) => void;
}

export interface TrainResult<S> {
  params: Float64Array;
  state: S;
}

export function train<S>(opts: TrainOptions<S>): TrainResult<S> {
  const { model, objective, optimizer, data } = opts;
  const dim = model.dim;
  const [kInit, kLoop] = split(opts.key, 2);
  const state = objective.init(kInit, model);
  let params = model.getParams();
  let optState = optimizer.init(params);
  const grad = new Float64Array(model.numParams);
  const bs = opts.batchSize && opts.batchSize < data.n ? opts.batchSize : data.n;
  const batchX = bs === data.n ? data.x : new Float64Array(bs * dim);
  for (let k = 0; k < opts.iterations; k++) {
    const [kBatch, kGrad, kAfter] = split(foldIn(kLoop, k), 3);
    if (bs !== data.n) {
      const rng = new Stream(kBatch);
      for (let i = 0; i < bs; i++) {
        const j = rng.integer(data.n);
        for (let a = 0; a < dim; a++) batchX[i * dim + a] = data.x[j * dim + a];
      }
    }
    objective.gradient(kGrad, state, model, { x: batchX, n: bs }, grad);
    const r = optimizer.update(grad, optState, params);
    optState = r.state;
    params = applyUpdates(params, r.updates);
    model.setParams(params);
    objective.afterUpdate(kAfter, state, model);
    opts.onIteration?.(k, params, objective.diagnostics(state));
  }
  return { params, state };
}
