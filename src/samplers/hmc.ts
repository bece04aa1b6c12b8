/**
 * Hamiltonian Monte Carlo for ρ ∝ e^{−βU} with a diagonal mass matrix M (given by its inverse, the
 * `inverseMass` of KernelParams). Each step draws p ~ N(0, M), runs `numSteps` leapfrog steps of size
 * `step` (path length step·numSteps) on H(q, p) = βU(q) + ½pᵀM⁻¹p, and accepts the end point with
 * probability min(1, e^{−ΔH}). Leapfrog is volume-preserving and reversible, so the chain is exact for any
 * step; ΔH = O(step²) sets the acceptance. Proposals with a non-finite U or ∇U, or with ΔH > 1000, are
 * divergent: rejected and flagged.
 *
 * Jitter: with `jitter` = j ∈ (0, 1] each chain draws its own number of leapfrog steps per transition,
 * uniform on the integers in [max(1, ⌈(1−j)·numSteps⌉), numSteps]. A fixed path length can resonate with
 * a period of the target (on a Gaussian, a path of half a period in some direction returns every chain to
 * its mirror image, and a full period to its start), which ruins mixing; random lengths break that. The
 * choice is independent of the state, so each transition is a mixture of exact kernels and stays exact.
 * The batch pays for the longest trajectory: chains that are done are masked (see `leapfrog`).
 *
 * The leapfrog integrator and the kinetic-energy helpers are exported for the other HMC-family kernels
 * (NUTS, kinetic Langevin).
 */
import type { Energy } from "../energies/contract.ts";
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";
import { checkParams, metropolisSelect, ProposalBuffers, rowFinite } from "./rwm.ts";
import type { ChainState, KernelParams, MhInfo, Sampler, TemperedOptions } from "./types.ts";
import { initChainState } from "./ula.ts";

/** A proposal whose Hamiltonian error exceeds this is divergent (Stan's and BlackJAX's threshold). */
export const MAX_ENERGY_ERROR = 1000;

export interface HmcOptions extends KernelParams, TemperedOptions {
  /** Leapfrog steps per transition (the maximum when jittered), integer ≥ 1. */
  numSteps: number;
  /** j ∈ [0, 1] (default 0): per-chain number of steps uniform on [⌈(1−j)·numSteps⌉ ∨ 1, numSteps]. */
  jitter?: number;
}

/** MH info of Hamiltonian kernels. */
export interface HmcInfo extends MhInfo {
  /** Per chain: ΔH = H(end) − H(start) of the proposal (may be non-finite when divergent). */
  readonly energyError: Float64Array;
}

/** Kinetic energy ½ Σ_j M⁻¹_j p_j² of chain i (rows of `p`, n × dim). */
export function kineticEnergy(
  p: Float64Array,
  i: number,
  dim: number,
  inverseMass: Float64Array | undefined,
): number {
  let k = 0;
  const o = i * dim;
  if (inverseMass) for (let j = 0; j < dim; j++) k += inverseMass[j] * p[o + j] * p[o + j];
  else for (let j = 0; j < dim; j++) k += p[o + j] * p[o + j];
  return 0.5 * k;
}

/** Fills the n × dim momenta `p` with draws from N(0, M): p_j = ξ_j / √(M⁻¹_j). */
export function sampleMomentum(
  rng: Stream,
  p: Float64Array,
  n: number,
  dim: number,
  inverseMass: Float64Array | undefined,
): void {
  for (let i = 0; i < n; i++)
    for (let j = 0; j < dim; j++)
      p[i * dim + j] = inverseMass ? rng.normal() / Math.sqrt(inverseMass[j]) : rng.normal();
}

/**
 * `numSteps` leapfrog (velocity Verlet) steps for H = βU(q) + ½pᵀM⁻¹p, on a batch of n chains, in place:
 *   p ← p − (h/2) β∇U(q);  q ← q + h M⁻¹p;  (U, ∇U) ← energy(q);  p ← p − (h/2) β∇U(q).
 *
 * q, p, grad are n × dim (row-major), u has length n; on entry `grad` and `u` must hold ∇U(q) and U(q)
 * (one energy-and-gradient evaluation per step then, no extra one at the start), and on return they hold
 * the values at the new q. `step` is one size for the batch or one per chain (a Float64Array of length
 * n); a negative step integrates backward in time, which is how NUTS extends a tree to the left per chain.
 *
 * `active` (optional, length n) masks chains: where it is 0, q and p are left untouched. The energy is
 * still evaluated on the whole batch (the contract takes contiguous rows), so a masked chain's u and grad
 * are recomputed at its unchanged q: they must already correspond to it. Non-finite values propagate
 * (a NaN gradient makes p and q NaN for the rest of the trajectory), so checking the end point is enough
 * to detect a trajectory that went through a non-finite region.
 */
export function leapfrog(
  energy: Energy,
  beta: number,
  q: Float64Array,
  p: Float64Array,
  grad: Float64Array,
  u: Float64Array,
  step: number | Float64Array,
  inverseMass: Float64Array | undefined,
  n: number,
  dim: number,
  numSteps = 1,
  active?: Uint8Array,
): void {
  const perChain = typeof step !== "number";
  for (let s = 0; s < numSteps; s++) {
    for (let i = 0; i < n; i++) {
      if (active && !active[i]) continue;
      const h = perChain ? step[i] : step;
      const kick = 0.5 * h * beta;
      for (let j = 0; j < dim; j++) {
        const k = i * dim + j;
        p[k] -= kick * grad[k];
        q[k] += h * (inverseMass ? inverseMass[j] : 1) * p[k];
      }
    }
    energy.energyAndGrad(q, n, u, grad);
    for (let i = 0; i < n; i++) {
      if (active && !active[i]) continue;
      const kick = 0.5 * (perChain ? step[i] : step) * beta;
      for (let j = i * dim; j < (i + 1) * dim; j++) p[j] -= kick * grad[j];
    }
  }
}

export function hmc(energy: Energy, opts: HmcOptions): Sampler<ChainState, HmcInfo> {
  const dim = energy.dim;
  const { step, beta, inverseMass } = checkParams(opts, dim, "HMC");
  const numSteps = opts.numSteps;
  const jitter = opts.jitter ?? 0;
  if (!Number.isInteger(numSteps) || numSteps < 1)
    throw new RangeError(`HMC numSteps must be an integer ≥ 1, got ${numSteps}`);
  if (!(jitter >= 0 && jitter <= 1)) throw new RangeError(`HMC jitter must be in [0, 1], got ${jitter}`);
  const minSteps = Math.max(1, Math.ceil((1 - jitter) * numSteps));
  const buf = new ProposalBuffers();
  let p = new Float64Array(0);
  let h0 = new Float64Array(0);
  let stepsOf = new Int32Array(0);
  let active = new Uint8Array(0);
  return {
    init: (position, n) => initChainState(energy, position, n),
    step(key: Key, state: ChainState) {
      const { n } = state;
      const rng = new Stream(key);
      buf.ensure(n, dim);
      if (h0.length !== n || p.length !== n * dim) {
        p = new Float64Array(n * dim);
        h0 = new Float64Array(n);
        stepsOf = new Int32Array(n);
        active = new Uint8Array(n);
      }
      sampleMomentum(rng, p, n, dim, inverseMass);
      buf.position.set(state.position);
      buf.grad.set(state.grad);
      buf.u.set(state.u);
      for (let i = 0; i < n; i++) h0[i] = beta * state.u[i] + kineticEnergy(p, i, dim, inverseMass);
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
      const energyError = new Float64Array(n);
      const divergent = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const dH = beta * buf.u[i] + kineticEnergy(p, i, dim, inverseMass) - h0[i];
        energyError[i] = dH;
        // dH <= max is false for NaN, so NaN errors are divergent too.
        divergent[i] = rowFinite(buf.u, buf.grad, i, dim) && dH <= MAX_ENERGY_ERROR ? 0 : 1;
        buf.logRatio[i] = -dH;
      }
      const info = metropolisSelect(state, buf, divergent, rng);
      return { state, info: { ...info, energyError } };
    },
    refresh(state) {
      energy.energyAndGrad(state.position, state.n, state.u, state.grad);
      return state;
    },
  };
}
