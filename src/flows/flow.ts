/**
 * Normalising flows: densities with a closed form that can also be sampled exactly. A flow is a bijection
 * T : R^d → R^d pushing Z ~ N(0, I) forward to X = T(Z); by the change of variables its density is
 *
 *   log q(x) = log N(T⁻¹(x); 0, I) + log |det ∂T⁻¹/∂x|.
 *
 * This folder holds the contract (`Flow`, `TrainableFlow`), a RealNVP (./realnvp.ts), a maximum-likelihood
 * fit (./fit.ts) and the generalized EBM whose base is a flow (./flow-base.ts). Everything is float64 and
 * host-free; randomness comes only from the keys passed in.
 *
 * `FlowEnergy` views a flow as an ordinary energy U(x) = −log q(x): log Z = 0 exactly, exact sampling, and
 * (for a trainable flow) the parameter gradient of U, so the rest of the library (grids, samplers,
 * products of experts, trainers) can use it like any other energy.
 */
import type { ExactlySampleable, KnownLogZ, TrainableEnergy } from "../energies/contract.ts";
import type { Key } from "../random/key.ts";

/** A density with a sampler: X = T(Z), Z ~ N(0, I_d). Points are n × dim, row-major float64. */
export interface Flow {
  readonly dim: number;
  /** n draws x (n × dim) and their log densities log q(x) (n), from `key` alone. */
  sample(key: Key, n: number): { x: Float64Array; logq: Float64Array };
  /** log q(x_i) for the n points of x, written to `out` (length ≥ n). */
  logProb(x: Float64Array, n: number, out: Float64Array): void;
  /** log q(x_i) into `logq` and the score ∇ₓ log q(x_i) into `grad` (n × dim), in one pass. */
  logProbAndGrad(x: Float64Array, n: number, logq: Float64Array, grad: Float64Array): void;
}

/** A flow with parameters θ as one flat float64 vector, fitted by maximum likelihood. */
export interface TrainableFlow extends Flow {
  readonly numParams: number;
  /** A copy of θ. */
  getParams(): Float64Array;
  /** Sets θ (copied; length numParams). */
  setParams(theta: Float64Array): void;
  /**
   * Σ_i w_i ∂θ log q(x_i), written (not added) to `out` (length numParams); returns Σ_i w_i log q(x_i).
   * With w_i = 1/n this is the gradient of the mean log-likelihood.
   */
  logProbParamGrad(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): number;
}

export function isTrainableFlow(f: Flow): f is TrainableFlow {
  const t = f as Partial<TrainableFlow>;
  return typeof t.numParams === "number" && typeof t.logProbParamGrad === "function";
}

/**
 * A flow as the energy U(x) = −log q(x) (normalised: log Z = 0, sampled exactly). Trainable when the flow
 * is (then θ is the flow's θ and paramGrad is −Σ w_i ∂θ log q(x_i)); for a fixed flow numParams is 0.
 */
export class FlowEnergy implements TrainableEnergy, KnownLogZ, ExactlySampleable {
  readonly dim: number;

  constructor(readonly flow: Flow) {
    this.dim = flow.dim;
  }

  get numParams(): number {
    return isTrainableFlow(this.flow) ? this.flow.numParams : 0;
  }

  getParams(): Float64Array {
    return isTrainableFlow(this.flow) ? this.flow.getParams() : new Float64Array(0);
  }

  setParams(theta: Float64Array): void {
    if (isTrainableFlow(this.flow)) this.flow.setParams(theta);
    else if (theta.length !== 0) throw new RangeError("this flow has no parameters");
  }

  energy(x: Float64Array, n: number, u: Float64Array): void {
    this.flow.logProb(x, n, u);
    for (let i = 0; i < n; i++) u[i] = -u[i];
  }

  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    this.flow.logProbAndGrad(x, n, u, grad);
    for (let i = 0; i < n; i++) u[i] = -u[i];
    for (let k = 0; k < n * this.dim; k++) grad[k] = -grad[k];
  }

  paramGrad(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): void {
    if (!isTrainableFlow(this.flow)) return;
    this.flow.logProbParamGrad(x, n, weights, out);
    for (let k = 0; k < this.flow.numParams; k++) out[k] = -out[k];
  }

  logZ(): number {
    return 0;
  }

  sampleExact(key: Key, n: number, out: Float64Array): void {
    out.set(this.flow.sample(key, n).x);
  }
}
