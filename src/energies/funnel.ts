/**
 * Neal's funnel in `dim` ≥ 2 dimensions (Neal 2003, "Slice sampling", §8):
 *
 *   v = x₀ ~ N(0, σ²)  (σ = `scale`, 3 in Neal's definition),
 *   x_i | v ~ N(0, e^v)  for i = 1 … dim−1.
 *
 * U is the exact negative log density, constants included, so the density is normalized and log Z = 0:
 *
 *   U(x) = v²/(2σ²) + ½ log(2πσ²) + (dim−1)/2 · (v + log 2π) + ½ e^{−v} Σ_{i≥1} x_i²,
 *   ∂U/∂v   = v/σ² + (dim−1)/2 − ½ e^{−v} Σ_{i≥1} x_i²,
 *   ∂U/∂x_i = x_i e^{−v}.
 *
 * Exact sampler: v = σ z₀, x_i = e^{v/2} z_i with z standard normal.
 *
 * exp and log are the portable ones (random/elementary.ts), so seeded runs give the same bits on every host.
 */
import { portableExpFast, portableLog } from "../random/elementary.ts";
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";
import type { Energy, ExactlySampleable, KnownLogZ } from "./contract.ts";

const LOG_2PI = portableLog(2 * Math.PI);

export class FunnelEnergy implements Energy, KnownLogZ, ExactlySampleable {
  readonly dim: number;
  /** Standard deviation σ of the neck coordinate v = x₀. */
  readonly scale: number;
  private readonly constant: number;

  constructor(dim: number, scale = 3) {
    if (!Number.isInteger(dim) || dim < 2)
      throw new RangeError(`funnel dim must be an integer ≥ 2, got ${dim}`);
    if (!(scale > 0) || !Number.isFinite(scale))
      throw new RangeError(`funnel scale must be a positive number, got ${scale}`);
    this.dim = dim;
    this.scale = scale;
    this.constant = 0.5 * (LOG_2PI + 2 * portableLog(scale)) + 0.5 * (dim - 1) * LOG_2PI;
  }

  energy(x: Float64Array, n: number, u: Float64Array): void {
    const d = this.dim;
    const inv = 1 / (this.scale * this.scale);
    for (let i = 0; i < n; i++) {
      const o = i * d;
      const v = x[o];
      let sq = 0;
      for (let a = 1; a < d; a++) sq += x[o + a] * x[o + a];
      u[i] = 0.5 * v * v * inv + 0.5 * (d - 1) * v + 0.5 * portableExpFast(-v) * sq + this.constant;
    }
  }

  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    const d = this.dim;
    const inv = 1 / (this.scale * this.scale);
    for (let i = 0; i < n; i++) {
      const o = i * d;
      const v = x[o];
      const ev = portableExpFast(-v);
      let sq = 0;
      for (let a = 1; a < d; a++) {
        const xa = x[o + a];
        sq += xa * xa;
        grad[o + a] = xa * ev;
      }
      u[i] = 0.5 * v * v * inv + 0.5 * (d - 1) * v + 0.5 * ev * sq + this.constant;
      grad[o] = v * inv + 0.5 * (d - 1) - 0.5 * ev * sq;
    }
  }

  /** U is the normalized negative log density: log Z = 0. */
  logZ(): number {
    return 0;
  }

  sampleExact(key: Key, n: number, out: Float64Array): void {
    const d = this.dim;
    const rng = new Stream(key);
    for (let i = 0; i < n; i++) {
      const o = i * d;
      const v = this.scale * rng.normal();
      out[o] = v;
      const s = portableExpFast(0.5 * v);
      for (let a = 1; a < d; a++) out[o + a] = s * rng.normal();
    }
  }
}
