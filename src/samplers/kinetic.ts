/**
 * Underdamped (kinetic) Langevin dynamics for ρ ∝ e^{−βU}, with momentum p ~ N(0, M) (M diagonal, given
 * by `inverseMass`):
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
 * and flagged divergent.
 */
import type { Energy } from "../energies/contract.ts";
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";
import { type HmcInfo, kineticEnergy, leapfrog, MAX_ENERGY_ERROR } from "./hmc.ts";
import { checkParams, metropolisSelect, ProposalBuffers, rowFinite } from "./rwm.ts";
import type { ChainState, KernelParams, Sampler, StepInfo, TemperedOptions } from "./types.ts";
import { initChainState } from "./ula.ts";

export interface KineticOptions extends KernelParams, TemperedOptions {
  /** Friction γ > 0 in units of 1/time (default 1). */
  friction?: number;
  /** MH-correct the BAB part (generalized HMC, exact); default false (O(h²) bias). */
  metropolize?: boolean;
}

/** A chain state that also carries the momentum (n × dim, row-major). */
export interface KineticState extends ChainState {
  readonly momentum: Float64Array;
}

export interface KineticSampler<I extends StepInfo> extends Sampler<KineticState, I> {
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
export function kineticLangevin(energy: Energy, opts: KineticOptions): KineticSampler<StepInfo>;
export function kineticLangevin(energy: Energy, opts: KineticOptions): KineticSampler<StepInfo | HmcInfo> {
  const dim = energy.dim;
  const { step: h, beta, inverseMass } = checkParams(opts, dim, "kinetic Langevin");
  const gamma = opts.friction ?? 1;
  const metropolize = opts.metropolize ?? false;
  if (!(gamma > 0) || !Number.isFinite(gamma))
    throw new RangeError(`kinetic Langevin friction must be positive, got ${gamma}`);
  // O(h/2): p ← a p + √(1 − a²) M^{1/2} ξ; 1 − a² = −expm1(−γh) keeps precision when γh is small.
  const a = Math.exp(-0.5 * gamma * h);
  const noise = new Float64Array(dim);
  for (let j = 0; j < dim; j++)
    noise[j] = Math.sqrt(-Math.expm1(-gamma * h) / (inverseMass ? inverseMass[j] : 1));
  const buf = new ProposalBuffers();
  let p = new Float64Array(0);

  const halfO = (rng: Stream, mom: Float64Array, n: number) => {
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
    step(key: Key, state: KineticState) {
      const { n } = state;
      const rng = new Stream(key);
      buf.ensure(n, dim);
      if (p.length !== n * dim) p = new Float64Array(n * dim);
      const mom = state.momentum;
      halfO(rng, mom, n);
      // BAB on copies, so a rejected or divergent chain keeps its state.
      buf.position.set(state.position);
      buf.grad.set(state.grad);
      buf.u.set(state.u);
      p.set(mom);
      leapfrog(energy, beta, buf.position, p, buf.grad, buf.u, h, inverseMass, n, dim, 1);
      const energyError = new Float64Array(n);
      const divergent = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const dH =
          beta * (buf.u[i] - state.u[i]) +
          kineticEnergy(p, i, dim, inverseMass) -
          kineticEnergy(mom, i, dim, inverseMass);
        energyError[i] = dH;
        divergent[i] = rowFinite(buf.u, buf.grad, i, dim) && dH <= MAX_ENERGY_ERROR ? 0 : 1;
        // Unmetropolized: log ratio 0 accepts every non-divergent proposal.
        buf.logRatio[i] = metropolize ? -dH : 0;
      }
      const mh = metropolisSelect(state, buf, divergent, rng);
      for (let i = 0; i < n; i++)
        for (let j = i * dim; j < (i + 1) * dim; j++) mom[j] = mh.accepted[i] ? p[j] : -mom[j];
      halfO(rng, mom, n);
      const info: StepInfo | HmcInfo = metropolize ? { ...mh, energyError } : { divergent: mh.divergent };
      return { state, info };
    },
    refresh(state) {
      energy.energyAndGrad(state.position, state.n, state.u, state.grad);
      return state;
    },
  };
}
