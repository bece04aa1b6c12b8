/** Shared by the continuous sampler tests: run a kernel for a number of steps and summarise its info. */
import { foldIn, type Key } from "../../src/random/key.ts";
import type { ChainState, Sampler, StepInfo } from "../../src/samplers/types.ts";

/** Runs `steps` steps; returns the mean acceptance probability (NaN without MH) and the divergences. */
export function runChains<S extends ChainState>(
  sampler: Sampler<S, StepInfo & { acceptProb?: Float64Array }>,
  state: S,
  steps: number,
  key: Key,
): { accept: number; divergent: number } {
  let acc = 0;
  let div = 0;
  for (let t = 0; t < steps; t++) {
    const { info } = sampler.step(foldIn(key, t), state);
    if (info.acceptProb) for (const a of info.acceptProb) acc += a;
    for (const d of info.divergent) div += d;
  }
  return { accept: acc / (steps * state.n), divergent: div };
}
