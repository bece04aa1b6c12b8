/**
 * Gaussian energy U(x) = ½ (x−μ)ᵀ P (x−μ) with precision P = Σ⁻¹, closed-form gradient, log Z and exact
 * sampling (through the Cholesky factor of Σ).
 */
import { portableLog } from "../random/elementary.ts";
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";
import type { Energy, ExactlySampleable, KnownLogZ } from "./contract.ts";

/** Lower Cholesky factor of a symmetric positive-definite d×d matrix (row-major); throws if not SPD. */
export function cholesky(a: Float64Array, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j];
      for (let k = 0; k < j; k++) s -= l[i * d + k] * l[j * d + k];
      if (i === j) {
        if (!(s > 0)) throw new RangeError("matrix is not positive definite");
        l[i * d + i] = Math.sqrt(s);
      } else {
        l[i * d + j] = s / l[j * d + j];
      }
    }
  }
  return l;
}

/** Inverse of an SPD matrix from its Cholesky factor. */
function spdInverse(l: Float64Array, d: number): Float64Array {
  // Solve L Y = I, then Lᵀ X = Y.
  const inv = new Float64Array(d * d);
  const y = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    for (let i = 0; i < d; i++) {
      let s = i === c ? 1 : 0;
      for (let k = 0; k < i; k++) s -= l[i * d + k] * y[k];
      y[i] = s / l[i * d + i];
    }
    for (let i = d - 1; i >= 0; i--) {
      let s = y[i];
      for (let k = i + 1; k < d; k++) s -= l[k * d + i] * inv[k * d + c];
      inv[i * d + c] = s / l[i * d + i];
    }
  }
  return inv;
}

export class GaussianEnergy implements Energy, KnownLogZ, ExactlySampleable {
  readonly dim: number;
  readonly mean: Float64Array;
  readonly cov: Float64Array;
  readonly precision: Float64Array;
  private readonly cholCov: Float64Array;
  private readonly tmp: Float64Array;

  /** `cov` is d×d row-major, symmetric positive definite. */
  constructor(mean: ArrayLike<number>, cov: ArrayLike<number>) {
    const d = mean.length;
    if (cov.length !== d * d) throw new RangeError(`cov must be ${d}×${d}`);
    this.dim = d;
    this.mean = Float64Array.from(mean);
    this.cov = Float64Array.from(cov);
    for (let i = 0; i < d; i++)
      for (let j = 0; j < i; j++)
        if (Math.abs(this.cov[i * d + j] - this.cov[j * d + i]) > 1e-12 * (1 + Math.abs(this.cov[i * d + j])))
          throw new RangeError("cov is not symmetric");
    this.cholCov = cholesky(this.cov, d);
    this.precision = spdInverse(this.cholCov, d);
    this.tmp = new Float64Array(d);
  }

  /** Isotropic N(μ, σ² I). */
  static isotropic(mean: ArrayLike<number>, std: number): GaussianEnergy {
    const d = mean.length;
    const cov = new Float64Array(d * d);
    for (let i = 0; i < d; i++) cov[i * d + i] = std * std;
    return new GaussianEnergy(mean, cov);
  }

  energy(x: Float64Array, n: number, u: Float64Array): void {
    const d = this.dim;
    const p = this.precision;
    const r = this.tmp;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) r[j] = x[i * d + j] - this.mean[j];
      let s = 0;
      for (let a = 0; a < d; a++) {
        let pa = 0;
        for (let b = 0; b < d; b++) pa += p[a * d + b] * r[b];
        s += r[a] * pa;
      }
      u[i] = 0.5 * s;
    }
  }

  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    const d = this.dim;
    const p = this.precision;
    const r = this.tmp;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) r[j] = x[i * d + j] - this.mean[j];
      let s = 0;
      for (let a = 0; a < d; a++) {
        let pa = 0;
        for (let b = 0; b < d; b++) pa += p[a * d + b] * r[b];
        grad[i * d + a] = pa;
        s += r[a] * pa;
      }
      u[i] = 0.5 * s;
    }
  }

  /** log ∫ e^{−U} = (d/2) log 2π + ½ log det Σ. */
  logZ(): number {
    let logDet = 0;
    for (let i = 0; i < this.dim; i++) logDet += 2 * portableLog(this.cholCov[i * this.dim + i]);
    return 0.5 * this.dim * portableLog(2 * Math.PI) + 0.5 * logDet;
  }

  sampleExact(key: Key, n: number, out: Float64Array): void {
    const d = this.dim;
    const rng = new Stream(key);
    const z = this.tmp;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) z[j] = rng.normal();
      for (let a = 0; a < d; a++) {
        let s = this.mean[a];
        for (let b = 0; b <= a; b++) s += this.cholCov[a * d + b] * z[b];
        out[i * d + a] = s;
      }
    }
  }
}
