/**
 * The RKHS critic: functions v = h + c with h in the RKHS H of the Gaussian kernel
 * k(x, y) = exp(−‖x − y‖²/(2σ²)) and an unpenalised constant c, penalised by (λ/2)‖h‖²_H.
 *
 * Representer theorem on landmarks. The maximiser of a penalised empirical objective lies in
 * span{k(·, x_i)} over the training points (the representer theorem); we restrict h to the span of M
 * landmarks l_1 … l_M drawn without replacement from the pooled training points (all of them when M ≥ n,
 * and then this is the exact representer solution). With K = [k(l_j, l_j')] + εI = L Lᵀ (Cholesky, ε a
 * small jitter) and h = Σ_j β_j k(·, l_j), the change of variables w = Lᵀβ gives
 *   h(x) = wᵀ z(x),  z(x) = L⁻¹ [k(x, l_1) … k(x, l_M)]ᵀ  (Nyström features),  ‖h‖²_H = βᵀ(K − εI)β ≤ ‖w‖²,
 * so the problem is linear in w with the plain penalty (λ/2)‖w‖² (which bounds the true norm from above by
 * at most ε‖β‖²: the fitted value is still a lower bound). More landmarks, a smaller λ: a larger class.
 * ‖z(x)‖² ≤ k(x, x) = 1, so every critic in the class is bounded by ‖w‖ + |c|.
 *
 * Unlike random Fourier features this needs only exp (the portable one), so a seeded fit gives the same
 * bits on every host, and the penalty is the RKHS norm itself rather than that of an approximate kernel.
 */
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";
import { portableExpFast as exp } from "../random/elementary.ts";
import { cholesky } from "../energies/gaussian.ts";

/** Nyström features of the Gaussian kernel on M landmarks (module comment). */
export class GaussianLandmarkFeatures {
  readonly dim: number;
  /** Number of landmarks = number of features. */
  readonly m: number;
  readonly bandwidth: number;
  /** The landmarks, m × dim row-major. */
  readonly landmarks: Float64Array;
  private readonly chol: Float64Array;

  constructor(landmarks: Float64Array, m: number, dim: number, bandwidth: number, jitter = 1e-8) {
    if (!(bandwidth > 0 && Number.isFinite(bandwidth)))
      throw new RangeError(`kernel bandwidth must be positive, got ${bandwidth}`);
    if (!(m >= 1) || landmarks.length < m * dim) throw new RangeError("need at least one landmark");
    this.dim = dim;
    this.m = m;
    this.bandwidth = bandwidth;
    this.landmarks = landmarks.slice(0, m * dim);
    const k = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      k[i * m + i] = 1 + jitter;
      for (let j = 0; j < i; j++) {
        const v = this.landmarkKernel(i, j);
        k[i * m + j] = v;
        k[j * m + i] = v;
      }
    }
    this.chol = cholesky(k, m);
  }

  /** Landmarks drawn without replacement from `pool` (n × dim) by `key`: the first min(m, n) of a shuffle. */
  static fromPool(
    pool: Float64Array,
    n: number,
    dim: number,
    m: number,
    bandwidth: number,
    key: Key,
    jitter?: number,
  ): GaussianLandmarkFeatures {
    const take = Math.min(m, n);
    const idx = Int32Array.from({ length: n }, (_, i) => i);
    const s = new Stream(key);
    for (let i = 0; i < take; i++) {
      const j = i + s.integer(n - i);
      const t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
    }
    const marks = new Float64Array(take * dim);
    for (let i = 0; i < take; i++) marks.set(pool.subarray(idx[i] * dim, idx[i] * dim + dim), i * dim);
    return new GaussianLandmarkFeatures(marks, take, dim, bandwidth, jitter);
  }

  /** k(landmark i, landmark j). */
  private landmarkKernel(i: number, j: number): number {
    const d = this.dim;
    const a = this.landmarks;
    let s = 0;
    for (let t = 0; t < d; t++) {
      const u = a[i * d + t] - a[j * d + t];
      s += u * u;
    }
    return exp((-0.5 * s) / (this.bandwidth * this.bandwidth));
  }

  /** z(x_i) for the n points of x (n × dim), written to out (n × m). */
  map(x: Float64Array, n: number, out = new Float64Array(n * this.m)): Float64Array {
    const { dim: d, m, landmarks: lm, chol: l } = this;
    const c = -0.5 / (this.bandwidth * this.bandwidth);
    for (let i = 0; i < n; i++) {
      const o = i * m;
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let t = 0; t < d; t++) {
          const u = x[i * d + t] - lm[j * d + t];
          s += u * u;
        }
        out[o + j] = exp(c * s);
      }
      // Forward substitution L y = k, in place.
      for (let j = 0; j < m; j++) {
        let s = out[o + j];
        const row = j * m;
        for (let k = 0; k < j; k++) s -= l[row + k] * out[o + k];
        out[o + j] = s / l[row + j];
      }
    }
    return out;
  }
}
