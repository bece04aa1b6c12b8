/**
 * One signature for every training objective. An iteration k of the trainer is:
 *   grad ← objective.gradient(θ_k)   (may also move walkers, with moves that only need θ_k)
 *   θ_{k+1} ← optimizer(θ_k, grad)
 *   objective.afterUpdate(θ_{k+1})   (moves or reweights walkers under the new energy)
 * `gradient` writes the gradient of the loss to minimise (for maximum likelihood:
 * E_data[∂θU] − E_model[∂θU]) into `grad`.
 */
import type { TrainableEnergy } from "../energies/contract.ts";
import type { Key } from "../random/key.ts";

/** A batch of data points, row-major n × dim. */
export interface Batch {
  readonly x: Float64Array;
  readonly n: number;
}

/** Per-iteration diagnostics an objective may report. */
export interface ObjectiveDiagnostics {
  /** Effective sample size of weighted walkers. */
  ess?: number;
  /** Estimate of log Z_θ − log Z_θ₀. */
  logZRatio?: number;
  /** Number of resamplings so far. */
  resamplings?: number;
  /** Loss value when the objective has one (score matching). */
  loss?: number;
}

export interface Objective<S = unknown> {
  readonly name: string;
  init(key: Key, model: TrainableEnergy): S;
  gradient(key: Key, state: S, model: TrainableEnergy, batch: Batch, grad: Float64Array): void;
  /**
   * `shares`, when the objective has `feedbackParts` and the optimizer a tangent map: shares[g] is the part
   * of the step θ_{k+1} − θ_k that walker group g's contribution to the gradients caused (trainer.ts).
   */
  afterUpdate(key: Key, state: S, model: TrainableEnergy, shares?: readonly Float64Array[]): void;
  diagnostics(state: S): ObjectiveDiagnostics;
  /**
   * Optional, for objectives whose walkers are reweighted along the θ path they help choose (Jarzynski):
   * the contributions of the walker groups to the last gradient, each with the sign it has in `grad`
   * (they sum, with the data term, to grad). The trainer then tracks each group's share of every step
   * through the optimizer's tangent map and passes the shares to afterUpdate.
   */
  feedbackParts?(state: S): readonly Float64Array[] | undefined;
}

let rowsBuffer = new Float64Array(0);
let weightsBuffer = new Float64Array(0);

/**
 * grad ← E_data[∂θU] − Σ_i w_i ∂θU(x_i): the maximum-likelihood gradient with weighted model samples,
 * as one weighted parameter gradient over data and walkers together (weights 1/n and −w_i), so a model
 * pays one backward pass instead of two.
 */
export function likelihoodGradient(
  model: TrainableEnergy,
  batch: Batch,
  walkers: Float64Array,
  nWalkers: number,
  walkerWeights: Float64Array,
  grad: Float64Array,
  penalty?: EnergyPenalty,
): void {
  const d = model.dim;
  const n = batch.n + nWalkers;
  // Rows and weights go in buffers kept across calls: typed arrays made at every training step pile up as
  // external memory until the garbage collector runs a full collection (seen as a slow mode in a page's
  // worker). paramGrad reads them before it returns.
  if (rowsBuffer.length < n * d) rowsBuffer = new Float64Array(n * d);
  if (weightsBuffer.length < n) weightsBuffer = new Float64Array(n);
  const x = rowsBuffer.subarray(0, n * d);
  const w = weightsBuffer.subarray(0, n);
  x.set(batch.x.subarray(0, batch.n * d));
  x.set(walkers.subarray(0, nWalkers * d), batch.n * d);
  w.fill(1 / batch.n, 0, batch.n);
  for (let i = 0; i < nWalkers; i++) w[batch.n + i] = -walkerWeights[i];
  const alpha = penalty?.alpha ?? 0;
  if (alpha > 0) {
    // ∂θ α(E_data[U²] + E_model[U²]) = 2α E_data[U ∂θU] + 2α Σ_i w_i U_i ∂θU(X_i): the same weighted
    // parameter gradient with weights 2αU added (U at the data evaluated here, at the walkers cached).
    const u = new Float64Array(batch.n);
    model.energy(batch.x, batch.n, u);
    for (let j = 0; j < batch.n; j++) w[j] += (2 * alpha * u[j]) / batch.n;
    for (let i = 0; i < nWalkers; i++) w[batch.n + i] += 2 * alpha * walkerWeights[i] * penalty!.walkerU[i];
  }
  model.paramGrad(x, n, w, grad);
}

/**
 * The energy-magnitude regulariser α(E_data[U²] + E_model[U²]) of Du & Mordatch (2019), which keeps the
 * energies near zero (a short-run sampler's step size then stays meaningful). `walkerU` holds U at the
 * walkers under the current θ.
 */
export interface EnergyPenalty {
  alpha: number;
  walkerU: Float64Array;
}
