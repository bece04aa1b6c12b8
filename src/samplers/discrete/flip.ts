/**
 * Metropolis single bit flip for ρ ∝ e^{−βU}: each chain proposes flipping one site drawn uniformly
 * (a symmetric proposal) and accepts with probability min(1, e^{−βΔ}), Δ = U(x') − U(x) from
 * `flipDelta`. One proposal per chain per step; reversible. Info: acceptProb, accepted, and `divergent`
 * when Δ is NaN (the proposal is then rejected).
 */
import { type DiscreteEnergy, stateIndex } from "../../energies/discrete.ts";
import type { Key } from "../../random/key.ts";
import { Stream } from "../../random/key.ts";
import type { MhInfo } from "../types.ts";
import {
  checkBeta,
  checkEnumerable,
  type DiscreteChainState,
  type DiscreteOptions,
  type DiscreteSampler,
  type ExactTransitions,
  initDiscreteState,
  Scratch,
} from "./types.ts";

export function flipMetropolis(
  energy: DiscreteEnergy,
  opts: DiscreteOptions = {},
): DiscreteSampler<DiscreteChainState, MhInfo> & ExactTransitions {
  const beta = checkBeta(opts.beta);
  const d = energy.sites;
  const scratch = new Scratch();
  return {
    stateSites: d,
    init: (x, n) => initDiscreteState(energy, x, n),
    step(key: Key, state: DiscreteChainState) {
      const rng = new Stream(key);
      const n = state.n;
      const site = scratch.int32("site", n);
      const delta = scratch.float64("delta", n);
      for (let i = 0; i < n; i++) site[i] = rng.integer(d);
      energy.flipDelta(state.x, n, site, delta);
      const info: MhInfo = {
        divergent: new Uint8Array(n),
        acceptProb: new Float64Array(n),
        accepted: new Uint8Array(n),
      };
      for (let i = 0; i < n; i++) {
        const r = rng.uniform();
        const dl = delta[i];
        if (Number.isNaN(dl)) {
          info.divergent[i] = 1;
          continue;
        }
        const a = dl <= 0 ? 1 : Math.exp(-beta * dl);
        info.acceptProb[i] = a;
        if (r < a) {
          info.accepted[i] = 1;
          state.x[i * d + site[i]] ^= 1;
          state.u[i] += dl;
        }
      }
      return { state, info };
    },
    refresh(state) {
      energy.energy(state.x, state.n, state.u);
      return state;
    },
    transitionRow(x: Uint8Array, out: Float64Array) {
      checkEnumerable(d, out);
      out.fill(0);
      // x and its d neighbours, energies by full evaluation (independent of flipDelta).
      const states = new Uint8Array((d + 1) * d);
      for (let j = 0; j <= d; j++) {
        states.set(x.subarray(0, d), j * d);
        if (j < d) states[j * d + j] ^= 1;
      }
      const u = new Float64Array(d + 1);
      energy.energy(states, d + 1, u);
      const k0 = stateIndex(x, d);
      let stay = 1;
      for (let j = 0; j < d; j++) {
        const p = Math.min(1, Math.exp(-beta * (u[j] - u[d]))) / d;
        out[stateIndex(states, d, j * d)] = p;
        stay -= p;
      }
      out[k0] = stay;
    },
  };
}
