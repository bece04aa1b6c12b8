/**
 * Single-site Gibbs (heat bath) for ρ ∝ e^{−βU} on binary states. Updating site j draws x_j from its
 * conditional p(x_j = 1 | x_{−j}) = σ(−β(U(x|x_j=1) − U(x|x_j=0))), read off one `flipDelta` call for
 * the whole batch.
 *
 * One `step` is one sweep's worth of updates (`sites` of them) for every chain:
 *  - scan "systematic" (default): sites 0, 1, …, d−1 in order, the same site for all chains (one batched
 *    flipDelta per site). Each update is reversible; the sweep P_0 P_1 ⋯ P_{d−1} leaves π invariant but
 *    is not reversible in general.
 *  - scan "random": d updates, each at a site drawn uniformly and independently per chain. The step is
 *    ((1/d) Σ_j P_j)^d: reversible.
 * Info: `divergent` flags chains whose flipDelta was NaN during the step (no valid update there).
 */
import { type DiscreteEnergy, EnumerableEnergy, sigmoid, stateIndex } from "../../energies/discrete.ts";
import type { Key } from "../../random/key.ts";
import { Stream } from "../../random/key.ts";
import type { StepInfo } from "../types.ts";
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

export interface GibbsOptions extends DiscreteOptions {
  /** Site order within a step (default "systematic"). */
  scan?: "systematic" | "random";
}

export function gibbs(
  energy: DiscreteEnergy,
  opts: GibbsOptions = {},
): DiscreteSampler<DiscreteChainState, StepInfo> & ExactTransitions {
  const beta = checkBeta(opts.beta);
  const scan = opts.scan ?? "systematic";
  if (scan !== "systematic" && scan !== "random") throw new RangeError(`unknown scan order ${scan}`);
  const d = energy.sites;
  const scratch = new Scratch();

  /** Heat-bath update of site j of chain i given Δ = U(x with j flipped) − U(x); returns 1 if NaN. */
  function update(state: DiscreteChainState, i: number, j: number, delta: number, r: number): number {
    if (Number.isNaN(delta)) return 1;
    const p = i * d + j;
    const old = state.x[p];
    // U(x_j = 1) − U(x_j = 0):
    const d10 = old === 1 ? -delta : delta;
    const bit = r < sigmoid(-beta * d10) ? 1 : 0;
    if (bit !== old) {
      state.x[p] = bit;
      state.u[i] += delta;
    }
    return 0;
  }

  return {
    stateSites: d,
    init: (x, n) => initDiscreteState(energy, x, n),
    step(key: Key, state: DiscreteChainState) {
      const rng = new Stream(key);
      const n = state.n;
      const delta = scratch.float64("delta", n);
      const divergent = new Uint8Array(n);
      if (scan === "systematic") {
        for (let j = 0; j < d; j++) {
          energy.flipDelta(state.x, n, j, delta);
          for (let i = 0; i < n; i++) divergent[i] |= update(state, i, j, delta[i], rng.uniform());
        }
      } else {
        const site = scratch.int32("site", n);
        for (let t = 0; t < d; t++) {
          for (let i = 0; i < n; i++) site[i] = rng.integer(d);
          energy.flipDelta(state.x, n, site, delta);
          for (let i = 0; i < n; i++) divergent[i] |= update(state, i, site[i], delta[i], rng.uniform());
        }
      }
      return { state, info: { divergent } };
    },
    refresh(state) {
      energy.energy(state.x, state.n, state.u);
      return state;
    },
    transitionRow(x: Uint8Array, out: Float64Array) {
      const m = checkEnumerable(d, out);
      const u = new EnumerableEnergy(energy).energies;
      // For k with bit j clear: p1[j·m + k] = P(x_j = 1 | rest of k), p0 = P(x_j = 0 | …), from one
      // exponential each (t = e^{−β|ΔU|}; no 1 − p cancellation). Shared by k and k | bit.
      const p1 = new Float64Array(d * m);
      const p0 = new Float64Array(d * m);
      for (let j = 0; j < d; j++) {
        const bit = 1 << j;
        for (let k = 0; k < m; k++) {
          if (k & bit) continue;
          const d10 = beta * (u[k | bit] - u[k]);
          const t = Math.exp(-Math.abs(d10));
          p1[j * m + k] = d10 >= 0 ? t / (1 + t) : 1 / (1 + t);
          p0[j * m + k] = d10 >= 0 ? 1 / (1 + t) : t / (1 + t);
        }
      }
      let cur = new Float64Array(m);
      let next = new Float64Array(m);
      cur[stateIndex(x, d)] = 1;
      /** next += weight · (cur P_j) */
      const apply = (j: number, weight: number) => {
        const bit = 1 << j;
        for (let k = 0; k < m; k++) {
          const mass = cur[k] * weight;
          if (mass === 0) continue;
          const k0 = k & ~bit;
          next[k0] += mass * p0[j * m + k0];
          next[k | bit] += mass * p1[j * m + k0];
        }
      };
      for (let t = 0; t < d; t++) {
        next.fill(0);
        if (scan === "systematic") apply(t, 1);
        else for (let j = 0; j < d; j++) apply(j, 1 / d);
        [cur, next] = [next, cur];
      }
      out.set(cur.subarray(0, m));
    },
  };
}
