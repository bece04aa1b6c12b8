/**
 * The discrete Energy contract: energies on binary vectors x ∈ {0,1}^sites.
 *
 * States come in batches, one byte per site: `x` holds n states row-major (state i is
 * x[i*sites … i*sites+sites−1]) as a Uint8Array of 0/1 values. Bits are the storage format and the
 * gradient variable; energies over spins (Ising) derive s = 2x − 1 internally. Energies are float64 per
 * state; as in the continuous contract, energies write to caller-owned outputs and never keep or mutate
 * the caller's buffers. ρ(x) = e^{−U(x)} / Z; samplers at inverse temperature β target e^{−βU}.
 *
 * What the kernels need: single-site Gibbs and Metropolis flips need only the energy change of flipping
 * one site (`flipDelta`, O(local work) instead of two full energies); Gibbs-with-Gradients and DMALA need
 * the gradient of a continuous relaxation (`RelaxedGradient`); block Gibbs needs the two factorised
 * conditionals of a bipartite energy (`BipartiteEnergy`).
 *
 * State indices (used by enumeration and exact transition matrices): state k ∈ [0, 2^sites) has
 * x_j = (k >> j) & 1, i.e. site 0 is the least significant bit.
 */

import { sigmoid } from "../math/logistic.ts";

/** The logistic helpers live in math/logistic.ts; re-exported here, where the discrete kernels use them. */
export { logSigmoid, sigmoid, softplus } from "../math/logistic.ts";

/** One site for the whole batch, or one site per state (chain i flips site[i]). */
export type SiteIndex = number | Int32Array;

export interface DiscreteEnergy {
  /** Number of binary sites of one state. */
  readonly sites: number;

  /** U(x_i) for the n states of `x`, written to `u` (length ≥ n). */
  energy(x: Uint8Array, n: number, u: Float64Array): void;

  /**
   * U(x_i with its site flipped) − U(x_i) for the n states, written to `out` (length ≥ n); `site` is one
   * index for all states or an Int32Array of n indices. `x` is not modified.
   */
  flipDelta(x: Uint8Array, n: number, site: SiteIndex, out: Float64Array): void;
}

/**
 * An energy with a differentiable relaxation Ũ: [0,1]^sites → ℝ that agrees with U on binary points
 * (the multilinear extension for Ising, the free energy read at real v for an RBM). The gradient is
 * taken with respect to the stored bits x (not spins) at the binary point, so the first-order estimate
 * of the flip change at site j is Δ̃_j(x) = (1 − 2x_j)·∂Ũ/∂x_j(x). For a multilinear Ũ it is exact.
 */
export interface RelaxedGradient {
  /** U(x_i) into `u` and ∇ₓŨ(x_i) into `grad` (n × sites, row-major), in one pass. */
  energyAndRelaxedGrad(x: Uint8Array, n: number, u: Float64Array, grad: Float64Array): void;
}

/**
 * A joint energy E(v, h) on visible and hidden bits with no visible–visible or hidden–hidden terms, so
 * that both conditionals factorise: at inverse temperature β,
 *   p(h_j = 1 | v) = σ(β·hiddenField(v)_j),   p(v_i = 1 | h) = σ(β·visibleField(h)_i),
 * where the fields are energy differences: hiddenField(v)_j = E(v, h|h_j=0) − E(v, h|h_j=1) (the same for
 * every h), and likewise for the visible field.
 */
export interface BipartiteEnergy {
  readonly visible: number;
  readonly hidden: number;
  /** n × hidden fields of the hidden units given the n visible states `v` (n × visible). */
  hiddenField(v: Uint8Array, n: number, out: Float64Array): void;
  /** n × visible fields of the visible units given the n hidden states `h` (n × hidden). */
  visibleField(h: Uint8Array, n: number, out: Float64Array): void;
  /** E(v_i, h_i) for n pairs, written to `out`. */
  jointEnergy(v: Uint8Array, h: Uint8Array, n: number, out: Float64Array): void;
}

export function hasRelaxedGradient(e: object): e is RelaxedGradient {
  return typeof (e as Partial<RelaxedGradient>).energyAndRelaxedGrad === "function";
}

/**
 * P_β(x_site = 1 | rest) for the n states of `x`, written to `out`: σ(−β(U(x|x_site=1) − U(x|x_site=0))),
 * from one flipDelta call. `delta` (length ≥ n) is scratch and receives the flip changes.
 */
export function conditionalProbabilities(
  energy: DiscreteEnergy,
  x: Uint8Array,
  n: number,
  site: SiteIndex,
  beta: number,
  out: Float64Array,
  delta: Float64Array = new Float64Array(n),
): void {
  energy.flipDelta(x, n, site, delta);
  const d = energy.sites;
  for (let i = 0; i < n; i++) {
    const j = typeof site === "number" ? site : site[i];
    // U(x_j = 1) − U(x_j = 0) is −Δ when x_j = 1 and Δ when x_j = 0.
    out[i] = sigmoid(x[i * d + j] === 1 ? beta * delta[i] : -beta * delta[i]);
  }
}

/** The index k of the state stored at x[offset … offset+sites−1] (site j is bit j). */
export function stateIndex(x: Uint8Array, sites: number, offset = 0): number {
  let k = 0;
  for (let j = sites - 1; j >= 0; j--) k = k * 2 + x[offset + j];
  return k;
}

/** Writes the bits of state k into out[offset … offset+sites−1]. */
export function writeState(k: number, sites: number, out: Uint8Array, offset = 0): void {
  if (sites <= 31) for (let j = 0; j < sites; j++) out[offset + j] = (k >>> j) & 1;
  else for (let j = 0; j < sites; j++) out[offset + j] = Math.floor(k / 2 ** j) % 2;
}

/** Largest number of sites that enumeration accepts (2^20 states). */
export const MAX_ENUMERABLE_SITES = 20;

/**
 * Exact quantities of a small discrete energy by enumerating its 2^sites states (sites ≤ 20): log Z,
 * state probabilities and single-site marginals at any β. U is tabulated once, in state-index order.
 */
export class EnumerableEnergy {
  readonly sites: number;
  readonly numStates: number;
  /** U(state k), k in index order (unscaled by β). */
  readonly energies: Float64Array;

  constructor(energy: DiscreteEnergy) {
    const d = energy.sites;
    if (!(d >= 1 && d <= MAX_ENUMERABLE_SITES))
      throw new RangeError(`enumeration needs 1 ≤ sites ≤ ${MAX_ENUMERABLE_SITES}, got ${d}`);
    this.sites = d;
    this.numStates = 2 ** d;
    this.energies = new Float64Array(this.numStates);
    const chunk = Math.min(this.numStates, 4096);
    const x = new Uint8Array(chunk * d);
    const u = new Float64Array(chunk);
    for (let start = 0; start < this.numStates; start += chunk) {
      const m = Math.min(chunk, this.numStates - start);
      for (let i = 0; i < m; i++) writeState(start + i, d, x, i * d);
      energy.energy(x, m, u);
      this.energies.set(u.subarray(0, m), start);
    }
  }

  /** log Σ_x e^{−βU(x)}. */
  logZ(beta = 1): number {
    let m = Number.NEGATIVE_INFINITY;
    for (const u of this.energies) if (-beta * u > m) m = -beta * u;
    let s = 0;
    for (const u of this.energies) s += Math.exp(-beta * u - m);
    return m + Math.log(s);
  }

  /** π_β(state k) = e^{−βU}/Z for every k. */
  probabilities(beta = 1): Float64Array {
    const lz = this.logZ(beta);
    const p = new Float64Array(this.numStates);
    for (let k = 0; k < this.numStates; k++) p[k] = Math.exp(-beta * this.energies[k] - lz);
    return p;
  }

  /** P_β(x_j = 1) for every site j. */
  marginals(beta = 1): Float64Array {
    const p = this.probabilities(beta);
    const out = new Float64Array(this.sites);
    for (let k = 0; k < this.numStates; k++)
      for (let j = 0; j < this.sites; j++) if ((k >> j) & 1) out[j] += p[k];
    return out;
  }
}
