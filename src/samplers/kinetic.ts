/**
 * Underdamped (kinetic) Langevin dynamics for ρ ∝ e^{−βU}, with momentum p ~ N(0, M) (M given by
 * `inverseMass`, diagonal or dense; see metric.ts):
 *   dq = M⁻¹p dt,   dp = −β∇U(q) dt − γp dt + √(2γ) M^{1/2} dW,
 * whose invariant law is ∝ e^{−βU(q) − ½pᵀM⁻¹p}. One step of size h is the OBABO splitting:
 *   O(h/2): p ← a p + √(1 − a²) M^{1/2} ξ,  a = e^{−γh/2}   (exact Ornstein–Uhlenbeck half-step)
 *   BAB:    one leapfrog step (kick h/2, drift h, kick h/2)
 *   O(h/2): as above,
 * so the momentum is refreshed by e^{−γh} per step. OBABO rather than BAOAB because its BAB part is a
 * leapfrog step that an MH test can correct (BAOAB's middle O is not), which gives both modes one scheme.
 *
 * `metropolize: false` (default): every finite step is kept, and the invariant law has an O(h²) bias. On a
 * Gaussian (precision P, mean μ) it is exact in form: leapfrog preserves the shadow energy
 *   ½pᵀM⁻¹p + ½(q−μ)ᵀ(βP − h²/4·βP M⁻¹ βP)(q−μ),
 * and the O steps keep p ~ N(0, M) independent of q, so the stationary covariance of q is
 * (βP − h²/4·βP M⁻¹ βP)⁻¹. With M = I that is σ²/β · 1/(1 − h²β/(4σ²)) along each eigen-direction of
 * variance σ² (ULA's bias, by comparison, is O(h)).
 *
 * `metropolize: true`: the BAB part is accepted with probability min(1, e^{−ΔH}), H = βU + ½pᵀM⁻¹p, and on
 * rejection the momentum is flipped (p ← −p). This is Horowitz's generalized HMC: exact for every h.
 * Small γ keeps the direction of motion across steps (HMC-like), large γ tends to MALA-like random walk.
 *
 * In both modes a BAB proposal with a non-finite U or ∇U, or ΔH > 1000, is rejected (q kept, p flipped)
 * and flagged divergent. γ and the MH choice are fixed when the kernel is built; the step size h and the
 * inverse mass are step parameters (the O-step coefficients are recomputed when they change).
 */
import type { Energy } from "../energies/contract.ts";
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";
import { HmcInfoBuffers, type HmcInfo } from "./hmc.ts";
import { leapfrog, MAX_ENERGY_ERROR } from "./integrators.ts";
import { Metric } from "./metric.ts";
import { metropolisSelect, ProposalBuffers } from "./mh.ts";
import { checkBeta, ParamsKey } from "./params.ts";
import { initChainState, refreshChainState, rowFinite } from "./state.ts";
import type { ChainState, KernelParams, Sampler, StepInfo, TemperedOptions } from "./types.ts";

export interface KineticOptions extends TemperedOptions {
  /** Friction γ > 0 in units of 1/time (default 1). */
  friction?: number;
  /** MH-correct the BAB part (generalized HMC, exact); default false (O(h²) bias). */
  metropolize?: boolean;
}

/** A chain state that also carries the momentum (n × dim, row-major). */
export interface KineticState extends ChainState {
  readonly momentum: Float64Array;
}

export interface KineticSampler<I extends StepInfo> extends Sampler<KineticState, I, KernelParams> {
  /**
   * Copies `position` (and `momentum` if given; otherwise momentum starts at 0 and the O steps bring it to
   * N(0, M) within a few 1/γ of time).
   */
  init(position: Float64Array, n: number, momentum?: Float64Array): KineticState;
}

export function kineticLangevin(
  energy: Energy,
  opts: KineticOptions & { metropolize: true },
): KineticSampler<HmcInfo>;
export function kineticLangevin(energy: Energy, opts?: KineticOptions): KineticSampler<StepInfo>;
export function kineticLangevin(
  energy: Energy,
  opts: KineticOptions = {},
): KineticSampler<StepInfo | HmcInfo> {
  const dim = energy.dim;
  const beta = checkBeta(opts.beta);
  const gamma = opts.friction ?? 1;
  const metropolize = opts.metropolize ?? false;
  if (!(gamma > 0) || !Number.isFinite(gamma))
    throw new RangeError(`kinetic Langevin friction must be positive, got ${gamma}`);
  const key = new ParamsKey(dim, "kinetic Langevin");
  // O(h/2): p ← a p + √(1 − a²) M^{1/2} ξ, for the current (h, M⁻¹).
  let a = Number.NaN;
  let c = Number.NaN;
  const noise = new Float64Array(dim);
  const metric = new Metric(dim);
  let xi = new Float64Array(0);
  const buf = new ProposalBuffers();
  const info = new HmcInfoBuffers();
  const plain: { divergent: Uint8Array } = { divergent: info.divergent };
  let p = new Float64Array(0);

  const halfO = (rng: Stream, mom: Float64Array, n: number) => {
    if (metric.dense) {
      // √(1 − a²)·ξ' with ξ' ~ N(0, M) drawn as L⁻ᵀξ.
      if (xi.length !== n * dim) xi = new Float64Array(n * dim);
      metric.sampleMomentum(rng, xi, n);
      for (let k = 0; k < n * dim; k++) mom[k] = a * mom[k] + c * xi[k];
      return;
    }
    for (let i = 0; i < n; i++)
      for (let j = 0; j < dim; j++) mom[i * dim + j] = a * mom[i * dim + j] + noise[j] * rng.normal();
  };

  return {
    init(position, n, momentum) {
      const base = initChainState(energy, position, n);
      const mom = new Float64Array(n * dim);
      if (momentum) {
        if (momentum.length < n * dim)
          throw new RangeError(`momentum holds fewer than ${n} rows of dim ${dim}`);
        mom.set(momentum.subarray(0, n * dim));
      }
      return { ...base, momentum: mom };
    },
    step(k: Key, state: KineticState, params: KernelParams) {
      if (key.changed(params)) {
        const h = params.step;
        metric.set(params.inverseMass);
        const m = metric.inverseMass;
        a = Math.exp(-0.5 * gamma * h);
        // 1 − a² = −expm1(−γh) keeps precision when γh is small.
        c = Math.sqrt(-Math.expm1(-gamma * h));
        if (!metric.dense)
          for (let j = 0; j < dim; j++) noise[j] = Math.sqrt(-Math.expm1(-gamma * h) / (m ? m[j] : 1));
      }
      const h = params.step;
      const { n } = state;
      const rng = new Stream(k);
      info.reset(n);
      plain.divergent = info.divergent;
      if (p.length !== n * dim) p = new Float64Array(n * dim);
      const mom = state.momentum;
      halfO(rng, mom, n);
      // BAB on copies, so a rejected or divergent chain keeps its state.
      buf.copyFrom(state);
      p.set(mom);
      leapfrog(energy, beta, buf.position, p, buf.grad, buf.u, h, metric.inverseMass, n, dim, 1);
      const { energyError, divergent } = info;
      for (let i = 0; i < n; i++) {
        const dH = beta * (buf.u[i] - state.u[i]) + metric.kinetic(p, i) - metric.kinetic(mom, i);
        energyError[i] = dH;
        divergent[i] = rowFinite(buf.u, buf.grad, i, dim) && dH <= MAX_ENERGY_ERROR ? 0 : 1;
        // Unmetropolized: log ratio 0 accepts every non-divergent proposal.
        buf.logRatio[i] = metropolize ? -dH : 0;
      }
      metropolisSelect(state, buf, info, rng);
      for (let i = 0; i < n; i++)
        for (let j = i * dim; j < (i + 1) * dim; j++) mom[j] = info.accepted[i] ? p[j] : -mom[j];
      halfO(rng, mom, n);
      // Without MH there is no acceptance statistic to report: only the divergence flags.
      return metropolize ? info : plain;
    },
    refresh: (state) => refreshChainState(energy, state),
  };
}
