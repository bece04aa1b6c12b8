/**
 * Training: one objective, one optimizer, one model, explicit keys. `trainer` is the pair
 * `init(key) → state`, `step(key, state)` (one iteration), which a loop, a benchmark, a test or a worker can
 * drive alike; its state (θ, optimizer moments, the objective's walkers and weights) is what a checkpoint
 * holds. `train` is the loop: iteration k draws its randomness from foldIn(key, k), so a run is
 * reproducible from its seed and independent of how often callbacks look at the state.
 */
import type { TrainableEnergy } from "../energies/contract.ts";
import type { Batch, Objective, ObjectiveDiagnostics } from "../objectives/objective.ts";
import { foldIn, type Key, Stream, split } from "../random/key.ts";
import { NumericalError } from "../math/errors.ts";
import { applyUpdates, type Optimizer } from "./optim.ts";

export interface TrainerOptions<S> {
  model: TrainableEnergy;
  objective: Objective<S>;
  optimizer: Optimizer;
  /** Training data, row-major n × dim. */
  data: Batch;
  /** Minibatch size for the data term, drawn with replacement; the full data set when omitted or ≥ n. */
  batchSize?: number;
}

export interface TrainerState<S> {
  /** θ_k, the model's current parameters (updated in place). */
  params: Float64Array;
  optState: unknown;
  /** The objective's state (walkers, weights, …). */
  objective: S;
  /** Iterations done. */
  iteration: number;
  /**
   * The optimizer's tangent states, one per walker group of an objective with `feedbackParts` (absent
   * otherwise, or when the optimizer has no tangent map).
   */
  tangents?: unknown[];
}

export interface Trainer<S> {
  /** Starts from the model's current θ. */
  init(key: Key): TrainerState<S>;
  /**
   * One iteration k: the objective's gradient at θ_k (minibatch drawn first), the optimizer's update to
   * θ_{k+1} (set on the model), then the objective's afterUpdate.
   */
  step(key: Key, state: TrainerState<S>): void;
}

export function trainer<S>(opts: TrainerOptions<S>): Trainer<S> {
  const { model, objective, optimizer, data } = opts;
  const dim = model.dim;
  const grad = new Float64Array(model.numParams);
  const updates = new Float64Array(model.numParams); // the optimizer writes each step's updates here
  const bs = opts.batchSize && opts.batchSize < data.n ? opts.batchSize : data.n;
  const batchX = bs === data.n ? data.x : new Float64Array(bs * dim);
  return {
    init(key) {
      const objectiveState = objective.init(key, model);
      const params = model.getParams();
      return { params, optState: optimizer.init(params), objective: objectiveState, iteration: 0 };
    },
    step(key, state) {
      const [kBatch, kGrad, kAfter] = split(key, 3);
      if (bs !== data.n) {
        const rng = new Stream(kBatch);
        for (let i = 0; i < bs; i++) {
          const j = rng.integer(data.n);
          for (let a = 0; a < dim; a++) batchX[i * dim + a] = data.x[j * dim + a];
        }
      }
      objective.gradient(kGrad, state.objective, model, { x: batchX, n: bs }, grad);
      // A non-finite gradient would poison θ and the optimizer's moments for good: stop before the update.
      for (let i = 0; i < grad.length; i++)
        if (!Number.isFinite(grad[i]))
          throw new NumericalError(
            `iteration ${state.iteration + 1}: the ${objective.name} gradient is not finite (parameter ${i}); ` +
              "the energy has overflowed: lower the learning rate or the step size",
          );
      const r = optimizer.update(grad, state.optState, state.params, updates);
      state.optState = r.state;
      // Each walker group's share of this step, through the optimizer's tangent map: the objective removes
      // it from the group's own reweighting (the self-influence that otherwise biases it).
      const parts = objective.feedbackParts?.(state.objective);
      let shares: Float64Array[] | undefined;
      if (parts && optimizer.tangentInit && optimizer.tangentUpdate) {
        const tangents = (state.tangents ??= []);
        while (tangents.length < parts.length) tangents.push(optimizer.tangentInit(state.params));
        shares = parts.map((p, g) => optimizer.tangentUpdate!(p, tangents[g], state.optState, state.params));
      }
      applyUpdates(state.params, r.updates);
      model.setParams(state.params);
      objective.afterUpdate(kAfter, state.objective, model, shares);
      state.iteration++;
    },
  };
}

export interface TrainOptions<S> extends TrainerOptions<S> {
  iterations: number;
  key: Key;
  /** Called after every iteration with θ_{k+1} and the objective's diagnostics. */
  onIteration?: (k: number, params: Float64Array, diag: ObjectiveDiagnostics) => void;
}

export interface TrainResult<S> {
  params: Float64Array;
  state: S;
}

export function train<S>(opts: TrainOptions<S>): TrainResult<S> {
  const t = trainer(opts);
  const [kInit, kLoop] = split(opts.key, 2);
  const state = t.init(kInit);
  for (let k = 0; k < opts.iterations; k++) {
    t.step(foldIn(kLoop, k), state);
    opts.onIteration?.(k, state.params, opts.objective.diagnostics(state.objective));
  }
  return { params: state.params, state: state.objective };
}
