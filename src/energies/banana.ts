/**
 * The "banana": Haario, Saksman & Tamminen's twisted Gaussian (Bernoulli 7(2), 2001, §4; also Roberts &
 * Rosenthal 2009), in `dim` ≥ 2 dimensions with curvature `b` and first-coordinate scale s (`scale`,
 * 10 in the original, i.e. Var x₁ = 100):
 *
 *   y ~ N(0, diag(s², 1, …, 1)),   x = φ_b⁻¹(y),   φ_b(x) = (x₁, x₂ + b(x₁² − s²), x₃, …, x_dim).
 *
 * φ_b has unit Jacobian, so the density of x is that of y at φ_b(x). Coordinates are 0-based in code
 * (x₁ ≡ x[0], x₂ ≡ x[1]). U is the exact negative log density, constants included, so log Z = 0:
 *
 *   t    = x₂ + b(x₁² − s²),
 *   U(x) = x₁²/(2s²) + ½ t² + ½ Σ_{i≥3} x_i² + (dim/2) log 2π + log s,
 *   ∂U/∂x₁ = x₁/s² + 2b x₁ t,   ∂U/∂x₂ = t,   ∂U/∂x_i = x_i (i ≥ 3).
 *
 * Moments: E x = 0, Var x₁ = s², Var x₂ = 1 + 2b²s⁴, other coordinates N(0, 1). Haario et al. use
 * b = 0.03 ("moderately twisted") and b = 0.1 ("strongly twisted"); b = 0 is a Gaussian.
 * Exact sampler: y as above, x₁ = y₁, x₂ = y₂ − b(y₁² − s²). The constant's logs are the portable ones
 * (random/elementary.ts), so U has the same bits on every host.
 */
import { portableLog } from "../random/elementary.ts";
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";
import type { Energy, ExactlySampleable, KnownLogZ } from "./contract.ts";

export class BananaEnergy implements Energy, KnownLogZ, ExactlySampleable {
  readonly dim: number;
  /** Curvature b. */
  readonly b: number;
  /** Standard deviation s of the first coordinate. */
  readonly scale: number;
  private readonly constant: number;

  constructor(dim: number, b: number, scale = 10) {
    if (!Number.isInteger(dim) || dim < 2)
      throw new RangeError(`banana dim must be an integer ≥ 2, got ${dim}`);
    if (!Number.isFinite(b)) throw new RangeError(`banana b must be a finite number, got ${b}`);
    if (!(scale > 0) || !Number.isFinite(scale))
      throw new RangeError(`banana scale must be a positive number, got ${scale}`);
    this.dim = dim;
    this.b = b;
    this.scale = scale;
    this.constant = 0.5 * dim * portableLog(2 * Math.PI) + portableLog(scale);
  }

  energy(x: Float64Array, n: number, u: Float64Array): void {
    const d = this.dim;
    const s2 = this.scale * this.scale;
    for (let i = 0; i < n; i++) {
      const o = i * d;
      const x1 = x[o];
      const t = x[o + 1] + this.b * (x1 * x1 - s2);
      let rest = 0;
      for (let a = 2; a < d; a++) rest += x[o + a] * x[o + a];
      u[i] = (0.5 * x1 * x1) / s2 + 0.5 * t * t + 0.5 * rest + this.constant;
    }
  }

  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    const d = this.dim;
    const s2 = this.scale * this.scale;
    for (let i = 0; i < n; i++) {
      const o = i * d;
      const x1 = x[o];
      const t = x[o + 1] + this.b * (x1 * x1 - s2);
      let rest = 0;
      for (let a = 2; a < d; a++) {
        const xa = x[o + a];
        rest += xa * xa;
        grad[o + a] = xa;
      }
      u[i] = (0.5 * x1 * x1) / s2 + 0.5 * t * t + 0.5 * rest + this.constant;
      grad[o] = x1 / s2 + 2 * this.b * x1 * t;
      grad[o + 1] = t;
    }
  }

  /** U is the normalized negative log density: log Z = 0. */
  logZ(): number {
    return 0;
  }

  sampleExact(key: Key, n: number, out: Float64Array): void {
    const d = this.dim;
    const s = this.scale;
    const rng = new Stream(key);
    for (let i = 0; i < n; i++) {
      const o = i * d;
      const y1 = s * rng.normal();
      out[o] = y1;
      out[o + 1] = rng.normal() - this.b * (y1 * y1 - s * s);
      for (let a = 2; a < d; a++) out[o + a] = rng.normal();
    }
  }
}
