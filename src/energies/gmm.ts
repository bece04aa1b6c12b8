/**
 * General Gaussian mixture with fixed parameters: full covariances or isotropic standard deviations.
 *
 *   ρ(x) = Σ_k π_k N(x; μ_k, Σ_k),   U(x) = −log ρ(x)  (constants included, so log Z = 0),
 *   ∇U(x) = Σ_k r_k(x) Σ_k⁻¹ (x − μ_k),   r_k(x) = π_k N(x; μ_k, Σ_k) / ρ(x)  (responsibilities).
 *
 * Each Σ_k is factored once (Cholesky, Σ_k = L_k L_kᵀ); U and ∇U cost two triangular solves per
 * component and point. Weights must be positive and are normalized to sum to 1. Components given by
 * `stds` (Σ_k = σ_k² I) take an O(d) path. Unlike `MixtureEnergy` (isotropic, trainable mode offsets, U
 * without constants) this is a fixed target, e.g. for mode-mass checks through `responsibilities` and
 * `modeMasses`.
 */
import { softmaxAtMax } from "../math/logspace.ts";
import { portableLog } from "../random/elementary.ts";
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";
import type { Energy, ExactlySampleable, KnownLogZ } from "./contract.ts";
import { cholesky } from "./gaussian.ts";

export interface GmmSpec {
  /** K positive weights (normalized by the constructor). */
  weights: ArrayLike<number>;
  /** K means of length d. */
  means: ArrayLike<number>[];
  /** K covariances, each d×d row-major, symmetric positive definite. Exactly one of covs/stds. */
  covs?: ArrayLike<number>[];
  /** K standard deviations: Σ_k = σ_k² I. Exactly one of covs/stds. */
  stds?: ArrayLike<number>;
}

const LOG_2PI = portableLog(2 * Math.PI);

export class GmmEnergy implements Energy, KnownLogZ, ExactlySampleable {
  readonly dim: number;
  /** Number of components K. */
  readonly k: number;
  /** Normalized weights π (length K). */
  readonly weights: Float64Array;
  /** K × d means, row-major. */
  readonly means: Float64Array;
  /** True when the components were given by `stds` (Σ_k = σ_k² I). */
  readonly isotropic: boolean;
  /** K × d × d lower Cholesky factors (full covariances; for isotropic components the diagonal is σ_k). */
  private readonly chol: Float64Array;
  private readonly stds: Float64Array;
  /** log π_k − (d/2) log 2π − ½ log det Σ_k. */
  private readonly logNorm: Float64Array;
  /** Per component: L⁻¹(x − μ_k) for the current point. */
  private readonly ys: Float64Array;
  private readonly resp: Float64Array;
  private readonly tmp: Float64Array;
  /** max_j of the log terms at the last `fill`. */
  private lmax = 0;

  constructor(spec: GmmSpec) {
    const k = spec.weights.length;
    if (k < 1) throw new RangeError("gmm needs at least one component");
    if (spec.means.length !== k)
      throw new RangeError(`gmm means must have ${k} rows, got ${spec.means.length}`);
    const d = spec.means[0].length;
    if (d < 1) throw new RangeError("gmm means must have length ≥ 1");
    if ((spec.covs === undefined) === (spec.stds === undefined))
      throw new RangeError("gmm needs exactly one of covs and stds");
    this.dim = d;
    this.k = k;
    this.isotropic = spec.stds !== undefined;

    let total = 0;
    for (let j = 0; j < k; j++) {
      const w = spec.weights[j];
      if (!(w > 0) || !Number.isFinite(w)) throw new RangeError(`gmm weight ${j} must be positive, got ${w}`);
      total += w;
    }
    this.weights = new Float64Array(k);
    for (let j = 0; j < k; j++) this.weights[j] = spec.weights[j] / total;

    this.means = new Float64Array(k * d);
    for (let j = 0; j < k; j++) {
      const m = spec.means[j];
      if (m.length !== d) throw new RangeError(`gmm mean ${j} must have length ${d}, got ${m.length}`);
      for (let a = 0; a < d; a++) {
        if (!Number.isFinite(m[a])) throw new RangeError(`gmm mean ${j} has a non-finite entry`);
        this.means[j * d + a] = m[a];
      }
    }

    this.logNorm = new Float64Array(k);
    this.stds = new Float64Array(k);
    this.chol = new Float64Array(this.isotropic ? 0 : k * d * d);
    for (let j = 0; j < k; j++) {
      let halfLogDet: number;
      if (spec.stds !== undefined) {
        if (spec.stds.length !== k) throw new RangeError(`gmm stds must have length ${k}`);
        const s = spec.stds[j];
        if (!(s > 0) || !Number.isFinite(s)) throw new RangeError(`gmm std ${j} must be positive, got ${s}`);
        this.stds[j] = s;
        halfLogDet = d * portableLog(s);
      } else {
        const covs = spec.covs as ArrayLike<number>[];
        if (covs.length !== k) throw new RangeError(`gmm covs must have ${k} matrices`);
        const c = Float64Array.from(covs[j]);
        if (c.length !== d * d) throw new RangeError(`gmm cov ${j} must be ${d}×${d}`);
        for (let a = 0; a < d; a++)
          for (let b = 0; b < a; b++)
            if (Math.abs(c[a * d + b] - c[b * d + a]) > 1e-12 * (1 + Math.abs(c[a * d + b])))
              throw new RangeError(`gmm cov ${j} is not symmetric`);
        let l: Float64Array;
        try {
          l = cholesky(c, d);
        } catch {
          throw new RangeError(`gmm cov ${j} is not positive definite`);
        }
        this.chol.set(l, j * d * d);
        halfLogDet = 0;
        for (let a = 0; a < d; a++) halfLogDet += portableLog(l[a * d + a]);
      }
      this.logNorm[j] = portableLog(this.weights[j]) - 0.5 * d * LOG_2PI - halfLogDet;
    }
    this.ys = new Float64Array(k * d);
    this.resp = new Float64Array(k);
    this.tmp = new Float64Array(d);
  }

  /**
   * Fills ys and resp for point i and returns S = Σ_j e^{l_j − lmax} of the log terms l_j, so that
   * U(x_i) = −(lmax + log S) (`pointU`). When every term underflowed or x is not finite: resp all NaN and S
   * NaN, lmax −∞ or NaN.
   */
  private fill(x: Float64Array, i: number): number {
    const d = this.dim;
    const k = this.k;
    const o = i * d;
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < k; j++) {
      const mu = j * d;
      let sq = 0;
      if (this.isotropic) {
        const inv = 1 / this.stds[j];
        for (let a = 0; a < d; a++) {
          const y = (x[o + a] - this.means[mu + a]) * inv;
          this.ys[mu + a] = y;
          sq += y * y;
        }
      } else {
        // Forward substitution L y = x − μ.
        const l = this.chol;
        const base = j * d * d;
        for (let a = 0; a < d; a++) {
          let s = x[o + a] - this.means[mu + a];
          for (let b = 0; b < a; b++) s -= l[base + a * d + b] * this.ys[mu + b];
          const y = s / l[base + a * d + a];
          this.ys[mu + a] = y;
          sq += y * y;
        }
      }
      const lj = this.logNorm[j] - 0.5 * sq;
      this.resp[j] = lj;
      if (lj > m) m = lj;
    }
    this.lmax = m;
    if (m === Number.NEGATIVE_INFINITY || Number.isNaN(m)) {
      // Every component underflowed (or x is not finite): no meaningful responsibilities.
      this.resp.fill(Number.NaN);
      return Number.NaN;
    }
    // Responsibilities r_j = softmax of the log terms, in place.
    return softmaxAtMax(this.resp, m, this.resp);
  }

  /** `fill`, and U(x_i) = −logsumexp of the log terms (+∞ when they all underflowed, NaN for x not finite). */
  private pointU(x: Float64Array, i: number): number {
    const s = this.fill(x, i); // sets lmax
    const m = this.lmax;
    if (m === Number.NEGATIVE_INFINITY) return Number.POSITIVE_INFINITY;
    return -(m + portableLog(s));
  }

  energy(x: Float64Array, n: number, u: Float64Array): void {
    for (let i = 0; i < n; i++) u[i] = this.pointU(x, i);
  }

  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    const d = this.dim;
    const k = this.k;
    const w = this.tmp;
    for (let i = 0; i < n; i++) {
      u[i] = this.pointU(x, i);
      const o = i * d;
      for (let a = 0; a < d; a++) grad[o + a] = 0;
      for (let j = 0; j < k; j++) {
        const r = this.resp[j];
        if (r === 0) continue;
        const mu = j * d;
        if (this.isotropic) {
          const c = r / this.stds[j];
          for (let a = 0; a < d; a++) grad[o + a] += c * this.ys[mu + a];
        } else {
          // Back substitution Lᵀ w = y, so w = Σ⁻¹(x − μ).
          const l = this.chol;
          const base = j * d * d;
          for (let a = d - 1; a >= 0; a--) {
            let s = this.ys[mu + a];
            for (let b = a + 1; b < d; b++) s -= l[base + b * d + a] * w[b];
            w[a] = s / l[base + a * d + a];
          }
          for (let a = 0; a < d; a++) grad[o + a] += r * w[a];
        }
      }
    }
  }

  /** Responsibilities r_k(x_i) into `out` (n × K, row-major); rows sum to 1. */
  responsibilities(x: Float64Array, n: number, out: Float64Array): Float64Array {
    const k = this.k;
    for (let i = 0; i < n; i++) {
      this.fill(x, i);
      for (let j = 0; j < k; j++) out[i * k + j] = this.resp[j];
    }
    return out;
  }

  /**
   * Estimated mass of each component from points x: Σ_i w_i r_k(x_i) (w defaults to 1/n). For exact
   * draws this is unbiased for π_k; for a sampler's output it measures how well it balances the modes.
   */
  modeMasses(x: Float64Array, n: number, weights?: Float64Array): Float64Array {
    const k = this.k;
    const out = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      this.fill(x, i);
      const w = weights ? weights[i] : 1 / n;
      for (let j = 0; j < k; j++) out[j] += w * this.resp[j];
    }
    return out;
  }

  /** U is the normalized negative log density: log Z = 0. */
  logZ(): number {
    return 0;
  }

  sampleExact(key: Key, n: number, out: Float64Array): void {
    const d = this.dim;
    const k = this.k;
    const rng = new Stream(key);
    const z = this.tmp;
    for (let i = 0; i < n; i++) {
      let u = rng.uniform();
      let j = 0;
      while (j < k - 1 && u >= this.weights[j]) {
        u -= this.weights[j];
        j++;
      }
      const o = i * d;
      const mu = j * d;
      if (this.isotropic) {
        const s = this.stds[j];
        for (let a = 0; a < d; a++) out[o + a] = this.means[mu + a] + s * rng.normal();
      } else {
        const l = this.chol;
        const base = j * d * d;
        for (let a = 0; a < d; a++) z[a] = rng.normal();
        for (let a = 0; a < d; a++) {
          let s = this.means[mu + a];
          for (let b = 0; b <= a; b++) s += l[base + a * d + b] * z[b];
          out[o + a] = s;
        }
      }
    }
  }
}
