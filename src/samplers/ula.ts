/**
 * Unadjusted Langevin algorithm for ρ ∝ e^{−βU}:  x' = x − hβ∇U(x) + √(2h) ξ,  ξ ~ N(0, I).
 * The noise scale is tied to the step size, so for small h the chain targets ρ up to an O(h) bias (on
 * N(0, σ²) the stationary variance is σ² / (1 − hβ/(2σ²))); MALA removes the bias, Jarzynski weights
 * correct for it.
 */
import type { Energy } from "../energies/contract.ts";
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";
import type { ChainState, Sampler, StepInfo } from "./types.ts";

export interface UlaOptions {
  /** Step size h > 0. */
  step: number;
  /** Inverse temperature β (default 1). */
  beta?: number;
}

/** The Langevin proposal out = x − hβ·grad + √(2h)ξ over `len` coordinates (out may alias x). */
export function langevinProposal(
  rng: Stream,
  x: Float64Array,
  grad: Float64Array,
  len: number,
  h: number,
  beta: number,
  out: Float64Array,
): void {
  const drift = h * beta;
  const noise = Math.sqrt(2 * h);
  if (out === x || out === grad) {
    for (let i = 0; i < len; i++) out[i] = x[i] - drift * grad[i] + noise * rng.normal();
    return;
  }
  // Same draws in bulk (faster), then the move.
  rng.fillNormal(out.subarray(0, len));
  for (let i = 0; i < len; i++) out[i] = x[i] - drift * grad[i] + noise * out[i];
}

/** Builds a chain state at `position` (copied), evaluating U and ∇U once. */
export function initChainState(energy: Energy, position: Float64Array, n: number): ChainState {
  const dim = energy.dim;
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

/** Flags chains whose energy or gradient is not finite. */
export function markDivergent(state: ChainState, out: Uint8Array): number {
  let count = 0;
  const d = state.dim;
  for (let i = 0; i < state.n; i++) {
    let bad = !Number.isFinite(state.u[i]);
    for (let j = 0; j < d && !bad; j++) bad = !Number.isFinite(state.grad[i * d + j]);
    out[i] = bad ? 1 : 0;
    count += out[i];
  }
  return count;
}

export function ula(energy: Energy, opts: UlaOptions): Sampler {
  const h = opts.step;
  const beta = opts.beta ?? 1;
  if (!(h > 0)) throw new RangeError(`ULA step must be positive, got ${h}`);
  if (!(beta > 0)) throw new RangeError(`beta must be positive, got ${beta}`);
  return {
    init: (position, n) => initChainState(energy, position, n),
    step(key: Key, state: ChainState) {
      const rng = new Stream(key);
      const len = state.n * state.dim;
      langevinProposal(rng, state.position, state.grad, len, h, beta, state.position);
      energy.energyAndGrad(state.position, state.n, state.u, state.grad);
      const info: StepInfo = { divergent: new Uint8Array(state.n) };
      markDivergent(state, info.divergent);
      return { state, info };
    },
    refresh(state) {
      energy.energyAndGrad(state.position, state.n, state.u, state.grad);
      return state;
    },
  };
}
