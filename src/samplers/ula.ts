/**
 * Unadjusted Langevin algorithm for ρ ∝ e^{−βU}:  x' = x − hβA∇U(x) + √(2hA) ξ,  ξ ~ N(0, I), with the
 * step h and the optional diagonal preconditioner A = diag(inverseMass) passed to every step.
 * The noise scale is tied to the step size, so for small h the chain targets ρ up to an O(h) bias (on
 * N(0, σ²) the stationary variance is σ² / (1 − hβ/(2σ²))); MALA removes the bias, Jarzynski weights
 * correct for it.
 *
 * A step is one Langevin move from the cached ∇U and one evaluation of U, ∇U at the new points, fused into
 * one call when the energy has a fused move (see langevin.ts). The move reads only the cache: after the
 * energy changed, a step without `refresh` is the move under the old energy followed by the evaluation
 * under the new one — the order Jarzynski-reweighted training needs (objectives/jarzynski.ts).
 */
import type { Energy } from "../energies/contract.ts";
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";
import { LangevinProposal } from "./langevin.ts";
import { checkBeta } from "./params.ts";
import { initChainState, markDivergent, refreshChainState } from "./state.ts";
import type { ChainState, KernelParams, Sampler, StepInfo, TemperedOptions } from "./types.ts";

export type UlaOptions = TemperedOptions;

export function ula(energy: Energy, opts: UlaOptions = {}): Sampler<ChainState, StepInfo, KernelParams> {
  const beta = checkBeta(opts.beta);
  const move = new LangevinProposal(energy, beta, "ULA");
  const info = { divergent: new Uint8Array(0) };
  return {
    init: (position, n) => initChainState(energy, position, n),
    step(key: Key, state: ChainState, params: KernelParams) {
      move.update(params);
      const { n, position, u, grad } = state;
      move.propose(new Stream(key), position, grad, n, position, u, grad);
      if (info.divergent.length !== n) info.divergent = new Uint8Array(n);
      markDivergent(state, info.divergent);
      return info;
    },
    refresh: (state) => refreshChainState(energy, state),
  };
}
