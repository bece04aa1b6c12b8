/** Shared by the continuous sampler tests: run a kernel for a number of steps and summarise its info. */
import { foldIn, type Key } from "../../src/random/key.ts";
import type { ChainState, KernelParams, Sampler, StepInfo } from "../../src/samplers/types.ts";

/**
 * Runs `steps` steps with fixed `params`; returns the mean acceptance probability (NaN without MH) and
 * the divergences.
 */
export function runChains<S extends ChainState, P extends KernelParams>(
  sampler: Sampler<S, StepInfo & { acceptProb?: Float64Array }, P>,
  state: S,
  steps: number,
  key: Key,
  params: P,
): { accept: number; divergent: number } {
  let acc = 0;
  let div = 0;
  for (let t = 0; t < steps; t++) {
    const info = sampler.step(foldIn(key, t), state, params);
    if (info.acceptProb) for (const a of info.acceptProb) acc += a;
    for (const d of info.divergent) div += d;
  }
  return { accept: acc / (steps * state.n), divergent: div };
}
