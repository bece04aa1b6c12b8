/**
 * Random-walk Metropolis for ρ ∝ e^{−βU}: propose y = x + step·√(M⁻¹) ⊙ ξ (ξ ~ N(0, I), M⁻¹ the optional
 * diagonal `inverseMass`) and accept with probability min(1, e^{−β(U(y) − U(x))}). The proposal is
 * symmetric, so there is no Hastings term and the kernel is exact for every step size; the step only sets
 * the acceptance rate (≈ 0.23 is optimal in high dimension). Proposals are evaluated with their gradient so
 * the state's cached ∇U stays valid: a state can be handed from one kernel of this folder to another.
 *
 * The file also holds the Metropolis–Hastings plumbing the other MH kernels (MALA, HMC, metropolized
 * kinetic Langevin) share: parameter checks, proposal buffers and the accept/reject selection.
 */
import type { Energy } from "../energies/contract.ts";
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";
import type { ChainState, KernelParams, MhInfo, Sampler, TemperedOptions } from "./types.ts";
import { initChainState } from "./ula.ts";

export type RwmOptions = KernelParams & TemperedOptions;

/** Validated copies of the kernel parameters (a kernel never reads the caller's objects after building). */
export interface CheckedParams {
  step: number;
  beta: number;
  /** Diagonal of M⁻¹, copied; undefined means identity. */
  inverseMass: Float64Array | undefined;
}

export function checkParams(opts: KernelParams & TemperedOptions, dim: number, who: string): CheckedParams {
  const step = opts.step;
  const beta = opts.beta ?? 1;
  if (!(step > 0) || !Number.isFinite(step))
    throw new RangeError(`${who} step must be positive, got ${step}`);
  if (!(beta > 0) || !Number.isFinite(beta)) throw new RangeError(`beta must be positive, got ${beta}`);
  let inverseMass: Float64Array | undefined;
  if (opts.inverseMass !== undefined) {
    if (opts.inverseMass.length !== dim)
      throw new RangeError(`inverseMass must have length ${dim}, got ${opts.inverseMass.length}`);
    inverseMass = Float64Array.from(opts.inverseMass);
    for (const m of inverseMass)
      if (!(m > 0) || !Number.isFinite(m))
        throw new RangeError(`inverseMass entries must be positive, got ${m}`);
  }
  return { step, beta, inverseMass };
}

/** True when U and every component of ∇U of chain i are finite. */
export function rowFinite(u: Float64Array, grad: Float64Array, i: number, dim: number): boolean {
  if (!Number.isFinite(u[i])) return false;
  for (let j = i * dim; j < (i + 1) * dim; j++) if (!Number.isFinite(grad[j])) return false;
  return true;
}

/**
 * Proposal scratch (positions, U, ∇U), kept by a kernel's closure and reallocated only when the batch
 * size changes, so a long run allocates no n × dim arrays per step.
 */
export class ProposalBuffers {
  position = new Float64Array(0);
  u = new Float64Array(0);
  grad = new Float64Array(0);
  /** Per-chain log MH ratio of the proposal. */
  logRatio = new Float64Array(0);

  ensure(n: number, dim: number): this {
    if (this.u.length !== n || this.position.length !== n * dim) {
      this.position = new Float64Array(n * dim);
      this.u = new Float64Array(n);
      this.grad = new Float64Array(n * dim);
      this.logRatio = new Float64Array(n);
    }
    return this;
  }
}

/**
 * The MH selection, in place: chain i moves to proposal row i with probability min(1, e^{logRatio[i]})
 * (`proposal.logRatio`).
 * `divergent` comes in holding the proposal's divergence flags (non-finite, or an energy error too large):
 * those proposals are never accepted. One uniform is drawn per chain whatever happens, so the stream's
 * use does not depend on the data. Chains whose kept state is itself non-finite (e.g. started there) are
 * flagged as well: their draws are not valid samples.
 */
export function metropolisSelect(
  state: ChainState,
  proposal: ProposalBuffers,
  divergent: Uint8Array,
  rng: Stream,
): MhInfo {
  const { n, dim } = state;
  const logRatio = proposal.logRatio;
  const acceptProb = new Float64Array(n);
  const accepted = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const lu = Math.log(rng.uniformOpen());
    const lr = logRatio[i];
    if (divergent[i] || Number.isNaN(lr)) continue;
    acceptProb[i] = lr >= 0 ? 1 : Math.exp(lr);
    if (lu < lr) {
      accepted[i] = 1;
      const { position, grad } = state;
      const py = proposal.position;
      const gy = proposal.grad;
      for (let j = i * dim; j < (i + 1) * dim; j++) {
        position[j] = py[j];
        grad[j] = gy[j];
      }
      state.u[i] = proposal.u[i];
    }
  }
  // A chain that stayed put keeps its state: flag it if that state is not finite (e.g. a bad start).
  // Accepted rows were finite proposals.
  for (let i = 0; i < n; i++) if (!accepted[i] && !rowFinite(state.u, state.grad, i, dim)) divergent[i] = 1;
  return { divergent, acceptProb, accepted };
}

export function rwm(energy: Energy, opts: RwmOptions): Sampler<ChainState, MhInfo> {
  const dim = energy.dim;
  const { step, beta, inverseMass } = checkParams(opts, dim, "RWM");
  // Per-coordinate proposal scale step·√(M⁻¹_j).
  const scale = new Float64Array(dim).map((_, j) => step * Math.sqrt(inverseMass ? inverseMass[j] : 1));
  const buf = new ProposalBuffers();
  return {
    init: (position, n) => initChainState(energy, position, n),
    step(key: Key, state: ChainState) {
      const { n } = state;
      const rng = new Stream(key);
      buf.ensure(n, dim);
      const x = state.position;
      const y = buf.position;
      rng.fillNormal(y.subarray(0, n * dim));
      for (let i = 0; i < n; i++)
        for (let j = 0; j < dim; j++) y[i * dim + j] = x[i * dim + j] + scale[j] * y[i * dim + j];
      energy.energyAndGrad(y, n, buf.u, buf.grad);
      const divergent = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        divergent[i] = rowFinite(buf.u, buf.grad, i, dim) ? 0 : 1;
        buf.logRatio[i] = -beta * (buf.u[i] - state.u[i]);
      }
      return { state, info: metropolisSelect(state, buf, divergent, rng) };
    },
    refresh(state) {
      energy.energyAndGrad(state.position, state.n, state.u, state.grad);
      return state;
    },
  };
}
