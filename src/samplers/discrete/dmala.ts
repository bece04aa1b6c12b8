/**
 * Discrete Langevin (Zhang, Liu & Liu 2022, "A Langevin-like sampler for discrete distributions") for
 * ρ ∝ e^{−βU} on binary states. With f = −βU and the relaxed gradient g = ∇ₓŨ(x), the proposal
 *   q(x' | x) = Π_i q_i(x'_i | x),   q_i(x'_i | x) ∝ exp(½ ∂_i f(x)(x'_i − x_i) − (x'_i − x_i)² / (2α))
 * flips every site independently, site i with probability σ(z_i),
 *   z_i(x) = −(β/2)(1 − 2x_i) g_i − 1/(2α)        (step α > 0; small α → few flips).
 * DMALA (default) accepts with min(1, e^{−β(U(x') − U(x))} q(x | x') / q(x' | x)), the reverse proposal
 * built from the gradient at x': exact (reversible w.r.t. ρ). With `mh: false` every proposal is taken
 * (DULA): biased, useful only as a negative control or for speed. Info: acceptProb, accepted (always 1
 * without MH) and `divergent` when the log MH ratio is NaN (the proposal is then rejected).
 */
import type { DiscreteEnergy, RelaxedGradient } from "../../energies/discrete.ts";
import { logSigmoid, stateIndex, writeState } from "../../energies/discrete.ts";
import type { Key } from "../../random/key.ts";
import { Stream } from "../../random/key.ts";
import type { MhInfo } from "../types.ts";
import {
  checkBeta,
  checkEnumerable,
  type DiscreteGradState,
  gradStateOps,
  type DiscreteOptions,
  type DiscreteSampler,
  type ExactTransitions,
  Scratch,
} from "./types.ts";

export interface DmalaOptions extends DiscreteOptions {
  /** Step size α > 0. */
  step: number;
  /** Metropolis–Hastings correction (default true). */
  mh?: boolean;
}

/**
 * log q(to | from) of the factorised proposal: Σ_i log σ(±z_i(from)), + where site i differs. The states
 * are from[fromOff …] (with its gradient at grad[fromOff …]) and to[toOff …].
 */
export function dmalaLogProposal(
  from: Uint8Array,
  grad: Float64Array,
  to: Uint8Array,
  fromOff: number,
  toOff: number,
  d: number,
  beta: number,
  alpha: number,
): number {
  const c = 1 / (2 * alpha);
  let lq = 0;
  for (let j = 0; j < d; j++) {
    const xj = from[fromOff + j];
    const z = -0.5 * beta * (1 - 2 * xj) * grad[fromOff + j] - c;
    lq += logSigmoid(to[toOff + j] !== xj ? z : -z);
  }
  return lq;
}

export function dmala(
  energy: DiscreteEnergy & RelaxedGradient,
  opts: DmalaOptions,
): DiscreteSampler<DiscreteGradState, MhInfo> & ExactTransitions {
  const beta = checkBeta(opts.beta);
  const alpha = opts.step;
  if (!(alpha > 0 && Number.isFinite(alpha)))
    throw new RangeError(`DMALA step must be positive, got ${alpha}`);
  const mh = opts.mh ?? true;
  const d = energy.sites;
  const c = 1 / (2 * alpha);
  const scratch = new Scratch();
  const { init, refresh } = gradStateOps(energy);
  return {
    stateSites: d,
    init,
    step(key: Key, state: DiscreteGradState) {
      const rng = new Stream(key);
      const n = state.n;
      const xp = scratch.uint8("xp", n * d);
      const up = scratch.float64("up", n);
      const gp = scratch.float64("gp", n * d);
      const logqFwd = scratch.float64("logqFwd", n);
      for (let i = 0; i < n; i++) {
        let lq = 0;
        for (let j = 0; j < d; j++) {
          const p = i * d + j;
          const xj = state.x[p];
          const z = -0.5 * beta * (1 - 2 * xj) * state.grad[p] - c;
          // σ(z) and log σ(±z) from one exponential: e = e^{−|z|}, log σ(y) = min(y, 0) − log(1 + e).
          const e = Math.exp(-Math.abs(z));
          const flip = rng.uniform() < (z >= 0 ? 1 / (1 + e) : e / (1 + e));
          xp[p] = flip ? 1 - xj : xj;
          lq += Math.min(flip ? z : -z, 0) - Math.log1p(e);
        }
        logqFwd[i] = lq;
      }
      energy.energyAndRelaxedGrad(xp, n, up, gp);
      const info: MhInfo = {
        divergent: new Uint8Array(n),
        acceptProb: new Float64Array(n),
        accepted: new Uint8Array(n),
      };
      for (let i = 0; i < n; i++) {
        const r = rng.uniform();
        const logA =
          -beta * (up[i] - state.u[i]) +
          dmalaLogProposal(xp, gp, state.x, i * d, i * d, d, beta, alpha) -
          logqFwd[i];
        if (Number.isNaN(logA)) {
          info.divergent[i] = 1;
          continue;
        }
        const a = !mh || logA >= 0 ? 1 : Math.exp(logA);
        info.acceptProb[i] = a;
        if (r < a) {
          info.accepted[i] = 1;
          state.x.set(xp.subarray(i * d, (i + 1) * d), i * d);
          state.u[i] = up[i];
          state.grad.set(gp.subarray(i * d, (i + 1) * d), i * d);
        }
      }
      return { state, info };
    },
    refresh,
    transitionRow(x: Uint8Array, out: Float64Array) {
      const m = checkEnumerable(d, out);
      const all = new Uint8Array(m * d);
      for (let k = 0; k < m; k++) writeState(k, d, all, k * d);
      const u = new Float64Array(m);
      const g = new Float64Array(m * d);
      energy.energyAndRelaxedGrad(all, m, u, g);
      const k0 = stateIndex(x, d);
      let stay = 1;
      for (let k = 0; k < m; k++) {
        if (k === k0) continue;
        const fwd = dmalaLogProposal(all, g, all, k0 * d, k * d, d, beta, alpha);
        const rev = dmalaLogProposal(all, g, all, k * d, k0 * d, d, beta, alpha);
        const logA = -beta * (u[k] - u[k0]) + rev - fwd;
        const p = mh ? Math.exp(fwd) * Math.min(1, Math.exp(logA)) : Math.exp(fwd);
        out[k] = p;
        stay -= p;
      }
      out[k0] = stay;
    },
  };
}
