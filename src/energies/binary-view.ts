/**
 * A continuous-input energy read on binary points: the discrete energy U(x), x ∈ {0,1}^d, of a network
 * (or any Energy) that takes real inputs, so the discrete kernels (Gibbs, flip, Gibbs-with-Gradients,
 * DMALA) can sample from it while the trainer trains the network itself on 0/1 float64 rows.
 *
 * - `energy`: the network at the 0/1 point;
 * - `flipDelta`: the network at the flipped states minus at the states (two evaluations; no shortcut is
 *   known for a network);
 * - `energyAndRelaxedGrad`: U and ∇ₓU of the network at the binary point. The network itself is the
 *   relaxation Ũ on [0,1]^d, as in Grathwohl et al. 2021, where Gibbs-with-Gradients reads the gradient of
 *   the model's real-input extension to estimate the change of every flip at once.
 *
 * The view keeps no copy of the model's parameters: it reads the wrapped energy's current θ at every call,
 * so a kernel built on it samples ρ_θ for whatever θ the trainer has just set. Conversion buffers are
 * reused across calls (not re-entrant).
 */
import type { Energy } from "./contract.ts";
import type { DiscreteEnergy, RelaxedGradient, SiteIndex } from "./discrete.ts";
import { Scratch } from "../math/scratch.ts";

/** n × d bytes (0/1) to float64 0/1 values, into `out` (allocated if omitted). */
export function bitsToFloat64(x: Uint8Array, out: Float64Array = new Float64Array(x.length)): Float64Array {
  for (let i = 0; i < x.length; i++) out[i] = x[i];
  return out;
}

/**
 * Float64 rows of 0/1 values to bytes, into `out` (allocated if omitted); throws a RangeError naming the
 * first entry that is not 0 or 1.
 */
export function float64ToBits(
  x: Float64Array,
  length = x.length,
  out: Uint8Array = new Uint8Array(length),
): Uint8Array {
  for (let i = 0; i < length; i++) {
    const v = x[i];
    if (v !== 0 && v !== 1) throw new RangeError(`binary data must be 0/1, found ${v} at entry ${i}`);
    out[i] = v;
  }
  return out;
}

export class BinaryView implements DiscreteEnergy, RelaxedGradient {
  readonly sites: number;
  private readonly scratch = new Scratch();

  constructor(readonly model: Energy) {
    this.sites = model.dim;
  }

  energy(x: Uint8Array, n: number, u: Float64Array): void {
    const d = this.sites;
    const xf = this.scratch.float64("x", n * d);
    for (let i = 0; i < n * d; i++) xf[i] = x[i];
    this.model.energy(xf, n, u);
  }

  flipDelta(x: Uint8Array, n: number, site: SiteIndex, out: Float64Array): void {
    const d = this.sites;
    // Both batches in one call: rows 0 … n−1 the states, rows n … 2n−1 the flipped ones.
    const xf = this.scratch.float64("x", 2 * n * d);
    const u = this.scratch.float64("u", 2 * n);
    for (let i = 0; i < n * d; i++) {
      xf[i] = x[i];
      xf[n * d + i] = x[i];
    }
    for (let i = 0; i < n; i++) {
      const j = typeof site === "number" ? site : site[i];
      if (!(j >= 0 && j < d)) throw new RangeError(`site ${j} is outside 0 … ${d - 1}`);
      xf[(n + i) * d + j] = 1 - x[i * d + j];
    }
    this.model.energy(xf, 2 * n, u);
    for (let i = 0; i < n; i++) out[i] = u[n + i] - u[i];
  }

  energyAndRelaxedGrad(x: Uint8Array, n: number, u: Float64Array, grad: Float64Array): void {
    const d = this.sites;
    const xf = this.scratch.float64("x", n * d);
    for (let i = 0; i < n * d; i++) xf[i] = x[i];
    this.model.energyAndGrad(xf, n, u, grad);
  }
}
