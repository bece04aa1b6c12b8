/**
 * Chain states of the continuous kernels: positions with U and ∇U cached, built from the caller's
 * positions (copied) and refreshed after the energy changed. Shared by every kernel of this folder, so a
 * state can be handed from one kernel to another.
 */
import type { Energy } from "../energies/contract.ts";
import type { ChainState } from "./types.ts";

/** Builds a chain state at `position` (copied), evaluating U and ∇U once. */
export function initChainState(energy: Energy, position: Float64Array, n: number): ChainState {
  const dim = energy.dim;
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`number of chains must be ≥ 1, got ${n}`);
  if (position.length < n * dim) throw new RangeError(`position holds fewer than ${n} points of dim ${dim}`);
  const state: ChainState = {
    n,
    dim,
    position: position.slice(0, n * dim),
    u: new Float64Array(n),
    grad: new Float64Array(n * dim),
  };
  energy.energyAndGrad(state.position, n, state.u, state.grad);
  return state;
}

/** Recomputes the cached U and ∇U at the state's positions (after the energy changed), in place. */
export function refreshChainState<S extends ChainState>(energy: Energy, state: S): S {
  energy.energyAndGrad(state.position, state.n, state.u, state.grad);
  return state;
}

/** True when U and every component of ∇U of chain i are finite. */
export function rowFinite(u: Float64Array, grad: Float64Array, i: number, dim: number): boolean {
  if (!Number.isFinite(u[i])) return false;
  for (let j = i * dim; j < (i + 1) * dim; j++) if (!Number.isFinite(grad[j])) return false;
  return true;
}

/** Flags (1) the chains whose energy or gradient is not finite, into `out`; returns their number. */
export function markDivergent(state: ChainState, out: Uint8Array): number {
  let count = 0;
  for (let i = 0; i < state.n; i++) {
    out[i] = rowFinite(state.u, state.grad, i, state.dim) ? 0 : 1;
    count += out[i];
  }
  return count;
}
