/**
 * Shared sampler types, in BlackJAX's shape. A kernel is built once from what is fixed (the energy, β,
 * the integrator and its thresholds). `init(position, n)` builds a state that caches U and ∇U at the
 * positions (copied from the caller); `step(key, state, params)` advances every chain of the state in place
 * with the parameters adaptation tunes (step size, inverse mass, HMC's number of leapfrog steps) passed as
 * arguments, so changing them rebuilds nothing. What a kernel derives from its parameters (drift and noise
 * vectors, √M⁻¹, …) is computed when their values change, not at every step.
 *
 * The info a step returns lives in buffers the kernel reuses: it is valid until the kernel's next step
 * (copy what you keep). Many independent chains in one batch is the normal case.
 */
import type { Key } from "../random/key.ts";

export interface ChainState {
  /** Number of chains. */
  readonly n: number;
  readonly dim: number;
  /** n × dim positions, row-major. */
  readonly position: Float64Array;
  /** U at each position (not scaled by β). */
  readonly u: Float64Array;
  /** ∇U at each position (not scaled by β). */
  readonly grad: Float64Array;
}

export interface StepInfo {
  /** Per chain: 1 when the step produced a non-finite energy or gradient (its draws are not valid samples). */
  readonly divergent: Uint8Array;
}

/**
 * Parameters of a step, shared by the gradient-based kernels. One step size for all chains of a batch
 * (adapted on the batch's mean acceptance); `inverseMass` is M⁻¹ of the HMC-family kernels and the
 * preconditioner of the Langevin kernels and RWM: its diagonal (length dim) or the dense symmetric
 * positive-definite matrix (dim × dim, row-major); the identity when omitted (see metric.ts).
 */
export interface KernelParams {
  step: number;
  inverseMass?: Float64Array;
}

export interface Sampler<
  S extends ChainState = ChainState,
  I extends StepInfo = StepInfo,
  P extends KernelParams = KernelParams,
> {
  init(position: Float64Array, n: number): S;
  /** One transition of every chain, in place on `state`; the info is valid until the next step. */
  step(key: Key, state: S, params: P): I;
  /** Recomputes the cached U and ∇U after the energy changed (e.g. after a training update). */
  refresh(state: S): S;
}

/** Info of Metropolis–Hastings-corrected kernels. */
export interface MhInfo extends StepInfo {
  /** Per chain: the acceptance probability min(1, MH ratio) of this step's proposal (0 when divergent). */
  readonly acceptProb: Float64Array;
  /** Per chain: 1 when the proposal was accepted. */
  readonly accepted: Uint8Array;
}

/** Options every continuous kernel accepts when it is built: target e^{−βU}. */
export interface TemperedOptions {
  /** Inverse temperature β > 0 (default 1). */
  beta?: number;
}
