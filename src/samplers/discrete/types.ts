/**
 * Shared types of the discrete kernels. Same shape as the continuous samplers (../types.ts), BlackJAX
 * style: `init(x, n)` copies n binary states (n × sites bytes, values 0/1) and caches what the kernel
 * needs (U, and ∇Ũ for gradient-informed kernels); `step(key, state)` advances every chain in place and
 * returns per-chain info; `refresh(state)` recomputes the caches after the energy changed.
 *
 * Cached energies are the unscaled U (β is a kernel option). Kernels that move by accepted flips update
 * `u` incrementally (u += ΔU), so after very long runs `u` can differ from U(x) at the rounding level;
 * `refresh` recomputes it.
 *
 * Every kernel also exposes its exact transition probabilities for small state spaces
 * (`transitionRow`), computed from the energy by enumeration; tests check π P = π with them and that
 * `step` samples them.
 */
import type { DiscreteEnergy, RelaxedGradient } from "../../energies/discrete.ts";
import { MAX_ENUMERABLE_SITES } from "../../energies/discrete.ts";
import type { Key } from "../../random/key.ts";
import type { StepInfo } from "../types.ts";

export interface DiscreteChainState {
  /** Number of chains. */
  readonly n: number;
  readonly sites: number;
  /** n × sites bits (0/1), row-major. */
  readonly x: Uint8Array;
  /** U at each state (not scaled by β). */
  readonly u: Float64Array;
}

/** State of gradient-informed kernels (GWG, DMALA). */
export interface DiscreteGradState extends DiscreteChainState {
  /** ∇ₓŨ at each state (n × sites, not scaled by β). */
  readonly grad: Float64Array;
}

export interface DiscreteSampler<
  S extends DiscreteChainState = DiscreteChainState,
  I extends StepInfo = StepInfo,
> {
  init(x: Uint8Array, n: number): S;
  step(key: Key, state: S): { state: S; info: I };
  /** Recomputes the cached quantities after the energy changed (e.g. after a training update). */
  refresh(state: S): S;
}

/** Exact transition probabilities, for state spaces of at most 2^20 states (testing and analysis). */
export interface ExactTransitions {
  /** Number of bits of the space the kernel moves on (sites; V + H for block Gibbs on (v, h)). */
  readonly stateSites: number;
  /**
   * P(x, ·) over all 2^stateSites states in index order (x_j = bit j of the index, see discrete.ts),
   * written to `out` (length 2^stateSites). One step of the kernel from the single state `x`.
   */
  transitionRow(x: Uint8Array, out: Float64Array): void;
}

/** Options shared by the discrete kernels: target e^{−βU}. */
export interface DiscreteOptions {
  /** Inverse temperature β > 0 (default 1). */
  beta?: number;
}

export function checkBeta(beta: number | undefined): number {
  const b = beta ?? 1;
  if (!(b > 0 && Number.isFinite(b))) throw new RangeError(`beta must be positive and finite, got ${beta}`);
  return b;
}

/** Copies n states from `x` (checking they are bits) into a fresh n × sites array. */
export function copyStates(x: Uint8Array, n: number, sites: number): Uint8Array {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`number of chains must be ≥ 1, got ${n}`);
  if (x.length < n * sites) throw new RangeError(`x holds fewer than ${n} states of ${sites} sites`);
  const out = x.slice(0, n * sites);
  for (let i = 0; i < out.length; i++)
    if (out[i] > 1) throw new RangeError(`states must be 0/1 bytes, found ${out[i]} at ${i}`);
  return out;
}

/** A chain state at `x` (copied) with U evaluated once. */
export function initDiscreteState(energy: DiscreteEnergy, x: Uint8Array, n: number): DiscreteChainState {
  const state = { n, sites: energy.sites, x: copyStates(x, n, energy.sites), u: new Float64Array(n) };
  energy.energy(state.x, n, state.u);
  return state;
}

/** Throws unless a dense row over 2^bits states is allowed; returns the number of states. */
export function checkEnumerable(bits: number, out: Float64Array): number {
  if (bits > MAX_ENUMERABLE_SITES)
    throw new RangeError(`transition rows need ≤ ${MAX_ENUMERABLE_SITES} bits`);
  const m = 2 ** bits;
  if (out.length < m) throw new RangeError(`out needs ${m} entries`);
  return m;
}

/** Grow-only scratch buffers (kernels reuse them across steps; not re-entrant). */
export { Scratch } from "../../math/scratch.ts";

/**
 * `init` and `refresh` of the state of a gradient-informed kernel (GWG, DMALA): the states (copied), U,
 * and the relaxed energy's gradient ∇Ũ, evaluated together.
 */
export function gradStateOps(energy: DiscreteEnergy & RelaxedGradient): {
  init(x: Uint8Array, n: number): DiscreteGradState;
  refresh(state: DiscreteGradState): DiscreteGradState;
} {
  const d = energy.sites;
  const refresh = (state: DiscreteGradState) => {
    energy.energyAndRelaxedGrad(state.x, state.n, state.u, state.grad);
    return state;
  };
  const init = (x: Uint8Array, n: number) =>
    refresh({ n, sites: d, x: copyStates(x, n, d), u: new Float64Array(n), grad: new Float64Array(n * d) });
  return { init, refresh };
}
