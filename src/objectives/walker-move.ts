/**
 * The walker move of an objective: the `move` option, or ULA with step size `step` by default, and its
 * kernel, built once per model (the objective's state stays plain data: walkers, weights, keys).
 */
import type { Energy } from "../energies/contract.ts";
import { ulaMove, type WalkerMove } from "../samplers/moves.ts";
import type { ChainState, KernelParams, Sampler, StepInfo } from "../samplers/types.ts";

export interface WalkerMoveOptions {
  /** ULA step size h of the default move (give `step` or `move`). */
  step?: number;
  /** The walker move (default: ULA with step size `step`); e.g. `malaMove(h)`, `hmcMove({ step, numSteps })`. */
  move?: WalkerMove;
}

export function resolveMove(opts: WalkerMoveOptions, who: string): WalkerMove {
  if (opts.move) {
    if (opts.step !== undefined)
      throw new RangeError(`${who}: give either step (the ULA step size) or move, not both`);
    return opts.move;
  }
  const h = opts.step;
  if (h === undefined) throw new RangeError(`${who}: step (the ULA step size) or move is required`);
  if (!(h > 0) || !Number.isFinite(h)) throw new RangeError(`${who}: step must be positive, got ${h}`);
  return ulaMove(h);
}

/** `move`'s kernel for a model: built on first use, rebuilt only for another model. */
export function kernelFor(move: WalkerMove): (model: Energy) => Sampler<ChainState, StepInfo, KernelParams> {
  let model: Energy | undefined;
  let kernel: Sampler<ChainState, StepInfo, KernelParams> | undefined;
  return (m) => {
    if (m !== model || !kernel) {
      model = m;
      kernel = move.build(m);
    }
    return kernel;
  };
}
