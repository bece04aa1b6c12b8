/**
 * Shared sampler types. A sampler is a pair, BlackJAX style: `init(position, n)` builds a state that
 * caches U and ∇U at the positions (copied from the caller), and `step(key, state)` advances it. States
 * are owned by the sampler: `step` updates the state it is given in place and returns it with per-chain
 * info, so long runs allocate nothing per step. Many independent chains in one batch is the normal case.
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

export interface Sampler<S extends ChainState = ChainState, I extends StepInfo = StepInfo> {
  init(position: Float64Array, n: number): S;
  step(key: Key, state: S): { state: S; info: I };
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

/**
 * Tunable parameters shared by gradient-based kernels. One step size for all chains of a batch
 * (adapted on the batch's mean acceptance); `inverseMass` is the diagonal of M⁻¹ (length dim) for
 * HMC-family kernels, and the diagonal preconditioner for Langevin kernels.
 */
export interface KernelParams {
  step: number;
  inverseMass?: Float64Array;
}

/** Options every continuous kernel accepts: target e^{−βU}. */
export interface TemperedOptions {
  /** Inverse temperature β > 0 (default 1). */
  beta?: number;
}
