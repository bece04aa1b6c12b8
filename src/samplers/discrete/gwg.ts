/**
 * Gibbs-with-Gradients (Grathwohl et al. 2021) for ρ ∝ e^{−βU} on binary states, one flip per step.
 *
 * From the relaxed gradient g = ∇ₓŨ(x) the first-order estimate of the change of U when flipping site i
 * is Δ̃_i(x) = (1 − 2x_i) g_i. The proposal picks one site with
 *   q(i | x) = softmax_i(−(β/2)·Δ̃_i(x))
 * (the paper's q(i|x) ∝ exp(d̃(x)_i / 2) with d̃ the estimated change of log ρ), flips it, and accepts
 * with min(1, e^{−β(U(x') − U(x))} q(i | x') / q(i | x)), where q(i | x') uses the gradient at the
 * proposed state x'. The kernel is exact (reversible w.r.t. ρ) for any relaxation; a good relaxation only
 * raises the acceptance. When Ũ is multilinear (Ising), Δ̃ = Δ and the proposal is the locally balanced
 * √(ρ(x')/ρ(x)) one. Info: acceptProb, accepted, and `divergent` when the log MH ratio is NaN.
 */
import type { DiscreteEnergy, RelaxedGradient } from "../../energies/discrete.ts";
import { stateIndex } from "../../energies/discrete.ts";
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

/**
 * log q(i | x) for every site i of the state at x[off …], with gradient grad[off …], into out[0..d).
 * log q(i | x) = −(β/2)(1 − 2x_i) g_i − logsumexp_j(−(β/2)(1 − 2x_j) g_j).
 */
export function gwgLogProposal(
  x: Uint8Array,
  grad: Float64Array,
  off: number,
  d: number,
  beta: number,
  out: Float64Array,
): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < d; j++) {
    const l = -0.5 * beta * (1 - 2 * x[off + j]) * grad[off + j];
    out[j] = l;
    if (l > max) max = l;
  }
  let s = 0;
  for (let j = 0; j < d; j++) s += Math.exp(out[j] - max);
  const lse = max + Math.log(s);
  for (let j = 0; j < d; j++) out[j] -= lse;
}

/** A draw from the categorical with log-probabilities logq[0..d) using the uniform r. */
function sampleSite(logq: Float64Array, d: number, r: number): number {
  let acc = 0;
  let last = 0;
  for (let j = 0; j < d; j++) {
    const p = Math.exp(logq[j]);
    if (p > 0) last = j;
    acc += p;
    if (r < acc) return j;
  }
  return last; // r ≥ Σp only through rounding
}

export function gibbsWithGradients(
  energy: DiscreteEnergy & RelaxedGradient,
  opts: DiscreteOptions = {},
): DiscreteSampler<DiscreteGradState, MhInfo> & ExactTransitions {
  const beta = checkBeta(opts.beta);
  const d = energy.sites;
  const scratch = new Scratch();
  const { init, refresh } = gradStateOps(energy);
  return {
    stateSites: d,
    init,
    step(key: Key, state: DiscreteGradState) {
      const rng = new Stream(key);
      const n = state.n;
      const logq = scratch.float64("logq", d);
      const site = scratch.int32("site", n);
      const logqFwd = scratch.float64("logqFwd", n);
      const xp = scratch.uint8("xp", n * d);
      const up = scratch.float64("up", n);
      const gp = scratch.float64("gp", n * d);
      xp.set(state.x);
      for (let i = 0; i < n; i++) {
        gwgLogProposal(state.x, state.grad, i * d, d, beta, logq);
        const j = sampleSite(logq, d, rng.uniform());
        site[i] = j;
        logqFwd[i] = logq[j];
        xp[i * d + j] ^= 1;
      }
      energy.energyAndRelaxedGrad(xp, n, up, gp);
      const info: MhInfo = {
        divergent: new Uint8Array(n),
        acceptProb: new Float64Array(n),
        accepted: new Uint8Array(n),
      };
      for (let i = 0; i < n; i++) {
        const r = rng.uniform();
        gwgLogProposal(xp, gp, i * d, d, beta, logq);
        const logA = -beta * (up[i] - state.u[i]) + logq[site[i]] - logqFwd[i];
        if (Number.isNaN(logA)) {
          info.divergent[i] = 1;
          continue;
        }
        const a = logA >= 0 ? 1 : Math.exp(logA);
        info.acceptProb[i] = a;
        if (r < a) {
          info.accepted[i] = 1;
          state.x[i * d + site[i]] ^= 1;
          state.u[i] = up[i];
          state.grad.set(gp.subarray(i * d, (i + 1) * d), i * d);
        }
      }
      return { state, info };
    },
    refresh,
    transitionRow(x: Uint8Array, out: Float64Array) {
      checkEnumerable(d, out);
      out.fill(0);
      // Row j < d: x with site j flipped; row d: x.
      const states = new Uint8Array((d + 1) * d);
      for (let j = 0; j <= d; j++) {
        states.set(x.subarray(0, d), j * d);
        if (j < d) states[j * d + j] ^= 1;
      }
      const u = new Float64Array(d + 1);
      const g = new Float64Array((d + 1) * d);
      energy.energyAndRelaxedGrad(states, d + 1, u, g);
      const fwd = new Float64Array(d);
      const rev = new Float64Array(d);
      gwgLogProposal(states, g, d * d, d, beta, fwd);
      let stay = 1;
      for (let j = 0; j < d; j++) {
        gwgLogProposal(states, g, j * d, d, beta, rev);
        const logA = -beta * (u[j] - u[d]) + rev[j] - fwd[j];
        const p = Math.exp(fwd[j]) * Math.min(1, Math.exp(logA));
        out[stateIndex(states, d, j * d)] = p;
        stay -= p;
      }
      out[stateIndex(x, d)] = stay;
    },
  };
}
