/**
 * Hamiltonian Monte Carlo for ρ ∝ e^{−βU} with a mass matrix M given by its inverse, the `inverseMass` of
 * the step parameters (diagonal or dense, see metric.ts). Each step draws p ~ N(0, M), runs leapfrog steps of size `step`
 * on H(q, p) = βU(q) + ½pᵀM⁻¹p, and accepts the end point with probability min(1, e^{−ΔH}). Leapfrog is
 * volume-preserving and reversible, so the chain is exact for any step; ΔH = O(step²) sets the acceptance.
 * Proposals with a non-finite U or ∇U, or with ΔH > 1000, are divergent: rejected and flagged.
 *
 * Random path lengths, on by default: with `jitter` = j ∈ (0, 1] (default 1) each chain draws its own
 * number of leapfrog steps at every transition, uniform on the integers in
 * [max(1, ⌈(1−j)·numSteps⌉), numSteps]; so by default uniform on 1 … numSteps (mean path
 * step·(numSteps+1)/2). A fixed path length resonates with the periods of the target (on a Gaussian, a
 * path of half a period in some direction sends every chain to its mirror image, a full period back to its
 * start: that direction never mixes, and with many directions of different scales some always come close);
 * random lengths break that. The choice is independent of the state, so each transition is a mixture of
 * exact kernels and stays exact. `jitter: 0` gives the classical fixed-length HMC. The batch pays for the
 * longest trajectory: chains that are done are masked (see `leapfrog`).
 *
 * Step parameters (`HmcParams`): step size, inverse mass and the (maximum) number of leapfrog steps —
 * what adaptation may change between steps without rebuilding the kernel.
 */
import type { Energy } from "../energies/contract.ts";
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";
import { leapfrog, MAX_ENERGY_ERROR } from "./integrators.ts";
import { Metric } from "./metric.ts";
import { MhInfoBuffers, metropolisSelect, ProposalBuffers } from "./mh.ts";
import { checkBeta, ParamsKey } from "./params.ts";
import { initChainState, refreshChainState, rowFinite } from "./state.ts";
import type { ChainState, KernelParams, MhInfo, Sampler, TemperedOptions } from "./types.ts";

export interface HmcOptions extends TemperedOptions {
  /**
   * j ∈ [0, 1] (default 1): each chain's number of leapfrog steps is uniform on
   * [max(1, ⌈(1−j)·numSteps⌉), numSteps] at every transition; 0 fixes it to numSteps.
   */
  jitter?: number;
}

export interface HmcParams extends KernelParams {
  /** Leapfrog steps per transition (the maximum when jittered), integer ≥ 1. */
  numSteps: number;
}

/** MH info of Hamiltonian kernels. */
export interface HmcInfo extends MhInfo {
  /** Per chain: ΔH = H(end) − H(start) of the proposal (may be non-finite when divergent). */
  readonly energyError: Float64Array;
}

/** HMC info in reused buffers. */
export class HmcInfoBuffers extends MhInfoBuffers implements HmcInfo {
  energyError = new Float64Array(0);
  override reset(n: number): this {
    super.reset(n);
    if (this.energyError.length !== n) this.energyError = new Float64Array(n);
    return this;
  }
}

export function hmc(energy: Energy, opts: HmcOptions = {}): Sampler<ChainState, HmcInfo, HmcParams> {
  const dim = energy.dim;
  const beta = checkBeta(opts.beta);
  const jitter = opts.jitter ?? 1;
  if (!(jitter >= 0 && jitter <= 1)) throw new RangeError(`HMC jitter must be in [0, 1], got ${jitter}`);
  const key = new ParamsKey(dim, "HMC");
  const metric = new Metric(dim);
  const buf = new ProposalBuffers();
  const info = new HmcInfoBuffers();
  let p = new Float64Array(0);
  let h0 = new Float64Array(0);
  let stepsOf = new Int32Array(0);
  let active = new Uint8Array(0);
  return {
    init: (position, n) => initChainState(energy, position, n),
    step(k: Key, state: ChainState, params: HmcParams) {
      const numSteps = params.numSteps;
      if (!Number.isInteger(numSteps) || numSteps < 1)
        throw new RangeError(`HMC numSteps must be an integer ≥ 1, got ${numSteps}`);
      if (key.changed(params)) metric.set(params.inverseMass);
      const inverseMass = metric.inverseMass;
      const minSteps = Math.max(1, Math.ceil((1 - jitter) * numSteps));
      const step = params.step;
      const { n } = state;
      const rng = new Stream(k);
      buf.copyFrom(state);
      info.reset(n);
      if (h0.length !== n || p.length !== n * dim) {
        p = new Float64Array(n * dim);
        h0 = new Float64Array(n);
        stepsOf = new Int32Array(n);
        active = new Uint8Array(n);
      }
      metric.sampleMomentum(rng, p, n);
      for (let i = 0; i < n; i++) h0[i] = beta * state.u[i] + metric.kinetic(p, i);
      if (minSteps === numSteps) {
        leapfrog(energy, beta, buf.position, p, buf.grad, buf.u, step, inverseMass, n, dim, numSteps);
      } else {
        let longest = 0;
        for (let i = 0; i < n; i++) {
          stepsOf[i] = minSteps + rng.integer(numSteps - minSteps + 1);
          longest = Math.max(longest, stepsOf[i]);
        }
        for (let s = 0; s < longest; s++) {
          for (let i = 0; i < n; i++) active[i] = s < stepsOf[i] ? 1 : 0;
          leapfrog(energy, beta, buf.position, p, buf.grad, buf.u, step, inverseMass, n, dim, 1, active);
        }
      }
      const { energyError, divergent } = info;
      for (let i = 0; i < n; i++) {
        const dH = beta * buf.u[i] + metric.kinetic(p, i) - h0[i];
        energyError[i] = dH;
        // dH <= max is false for NaN, so NaN errors are divergent too.
        divergent[i] = rowFinite(buf.u, buf.grad, i, dim) && dH <= MAX_ENERGY_ERROR ? 0 : 1;
        buf.logRatio[i] = -dH;
      }
      return metropolisSelect(state, buf, info, rng);
    },
    refresh: (state) => refreshChainState(energy, state),
  };
}
