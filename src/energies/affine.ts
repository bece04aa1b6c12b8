/**
 * An energy in the user's coordinates for a model trained on standardised inputs z = (x − shift)/scale:
 *
 *   U(x) = U'((x − shift)/scale),   ∇ₓU(x) = ∇U'(z)/scale,   log Z = log Z' + d·log(scale).
 *
 * So densities, samples and log Z computed from this energy are those of the user's data, whatever
 * rescaling training applied (the scale is one number for every coordinate).
 */
import type { Energy } from "./contract.ts";

export class AffineInputEnergy implements Energy {
  readonly dim: number;
  private z = new Float64Array(0);

  constructor(
    readonly inner: Energy,
    readonly shift: Float64Array,
    readonly scale: number,
  ) {
    if (shift.length !== inner.dim)
      throw new RangeError(`shift has length ${shift.length}, expected ${inner.dim}`);
    if (!(scale > 0 && Number.isFinite(scale))) throw new RangeError(`scale must be positive, got ${scale}`);
    this.dim = inner.dim;
  }

  private toInner(x: Float64Array, n: number): Float64Array {
    const d = this.dim;
    if (this.z.length < n * d) this.z = new Float64Array(n * d);
    const z = this.z;
    const inv = 1 / this.scale;
    for (let i = 0; i < n; i++)
      for (let a = 0; a < d; a++) z[i * d + a] = (x[i * d + a] - this.shift[a]) * inv;
    return z;
  }

  energy(x: Float64Array, n: number, u: Float64Array): void {
    this.inner.energy(this.toInner(x, n), n, u);
  }

  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    this.inner.energyAndGrad(this.toInner(x, n), n, u, grad);
    const inv = 1 / this.scale;
    for (let k = 0; k < n * this.dim; k++) grad[k] *= inv;
  }
}
