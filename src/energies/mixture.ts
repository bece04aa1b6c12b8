/**
 * Isotropic Gaussian-mixture energy, trainable in its mode weights (and optionally its means):
 *
 *   U_θ(x) = −log Σ_k exp(−c_k − |x − μ_k|² / (2σ_k²)),   c_0 ≡ 0,
 *   Z_θ    = Σ_k e^{−c_k} (2πσ_k²)^{d/2}.
 *
 * θ = (c_1, …, c_{K−1}) and, with `learnMeans`, the K·d means after them. With K = 2, d = 1, σ = 1 and
 * means (a, b) this is the seed's two-well model U_z with θ = (z): the mass of mode b is
 * q = e^{−z} / (1 + e^{−z}). Everything is closed form: gradients, log Z, exact samples, and the exact
 * score-matching objective with its parameter gradient.
 */
import { softmaxAtMax } from "../math/logspace.ts";
import { portableExpFast, portableLog } from "../random/elementary.ts";
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";
import type { ExactlySampleable, KnownLogZ, ScoreMatchable, TrainableEnergy } from "./contract.ts";

export interface MixtureSpec {
  /** K × d means. */
  means: number[][];
  /** K standard deviations (isotropic components). */
  stds: number[];
  /** Offsets c_1..c_{K−1} (c_0 = 0); default all zero, i.e. equal masses when the stds are equal. */
  offsets?: number[];
  /** Also train the means (θ gains K·d entries). */
  learnMeans?: boolean;
}

export class MixtureEnergy implements TrainableEnergy, KnownLogZ, ExactlySampleable, ScoreMatchable {
  readonly dim: number;
  readonly k: number;
  readonly learnMeans: boolean;
  readonly numParams: number;
  /** c_0..c_{K−1}, c_0 = 0. */
  private readonly c: Float64Array;
  private readonly mu: Float64Array;
  private readonly invVar: Float64Array;
  private readonly logNorm: Float64Array;
  private readonly resp: Float64Array;
  private readonly diff: Float64Array;
  private readonly gbar: Float64Array;
  /** max_j of the log terms at the last `fill`. */
  private lmax = 0;

  constructor(spec: MixtureSpec) {
    const k = spec.means.length;
    if (k < 1) throw new RangeError("mixture needs at least one component");
    const d = spec.means[0].length;
    if (spec.stds.length !== k) throw new RangeError(`stds must have length ${k}`);
    this.dim = d;
    this.k = k;
    this.learnMeans = spec.learnMeans ?? false;
    this.numParams = k - 1 + (this.learnMeans ? k * d : 0);
    this.c = new Float64Array(k);
    if (spec.offsets) {
      if (spec.offsets.length !== k - 1) throw new RangeError(`offsets must have length ${k - 1}`);
      for (let j = 1; j < k; j++) this.c[j] = spec.offsets[j - 1];
    }
    this.mu = new Float64Array(k * d);
    this.invVar = new Float64Array(k);
    this.logNorm = new Float64Array(k);
    for (let j = 0; j < k; j++) {
      if (spec.means[j].length !== d) throw new RangeError(`mean ${j} must have length ${d}`);
      for (let a = 0; a < d; a++) this.mu[j * d + a] = spec.means[j][a];
      const s = spec.stds[j];
      if (!(s > 0)) throw new RangeError(`std ${j} must be positive`);
      this.invVar[j] = 1 / (s * s);
      this.logNorm[j] = 0.5 * d * portableLog(2 * Math.PI * s * s);
    }
    this.resp = new Float64Array(k);
    this.diff = new Float64Array(k * d);
    this.gbar = new Float64Array(d);
  }

  /** The seed's two-well model U_z on the line, modes a < b, unit variances. */
  static twoWell(a: number, b: number, z: number, learnMeans = false): MixtureEnergy {
    return new MixtureEnergy({ means: [[a], [b]], stds: [1, 1], offsets: [z], learnMeans });
  }

  getParams(): Float64Array {
    const p = new Float64Array(this.numParams);
    for (let j = 1; j < this.k; j++) p[j - 1] = this.c[j];
    if (this.learnMeans) p.set(this.mu, this.k - 1);
    return p;
  }

  setParams(theta: Float64Array): void {
    if (theta.length !== this.numParams) throw new RangeError(`expected ${this.numParams} parameters`);
    for (let j = 1; j < this.k; j++) this.c[j] = theta[j - 1];
    if (this.learnMeans) this.mu.set(theta.subarray(this.k - 1));
  }

  /** Normalized component masses π_j = e^{−c_j}(2πσ_j²)^{d/2} / Z. */
  componentMasses(): Float64Array {
    const logm = new Float64Array(this.k);
    for (let j = 0; j < this.k; j++) logm[j] = -this.c[j] + this.logNorm[j];
    const lz = this.logZ();
    return logm.map((v) => portableExpFast(v - lz));
  }

  logZ(): number {
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < this.k; j++) m = Math.max(m, -this.c[j] + this.logNorm[j]);
    let s = 0;
    for (let j = 0; j < this.k; j++) s += portableExpFast(-this.c[j] + this.logNorm[j] - m);
    return m + portableLog(s);
  }

  /**
   * Fills resp (responsibilities r_j) and diff (g_j = (x−μ_j)/σ_j²) for point i and returns
   * S = Σ_j e^{l_j − lmax} of the log terms l_j (U = −(lmax + log S), see `pointU`); NaN if x is not finite.
   */
  private fill(x: Float64Array, i: number): number {
    const d = this.dim;
    const k = this.k;
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < k; j++) {
      let sq = 0;
      for (let a = 0; a < d; a++) {
        const v = x[i * d + a] - this.mu[j * d + a];
        this.diff[j * d + a] = v * this.invVar[j];
        sq += v * v;
      }
      const l = -this.c[j] - 0.5 * sq * this.invVar[j];
      this.resp[j] = l;
      if (l > m) m = l;
    }
    this.lmax = m;
    if (!Number.isFinite(m)) return Number.NaN; // x not finite
    // Responsibilities r_j = softmax of the log terms, in place.
    return softmaxAtMax(this.resp, m, this.resp);
  }

  /** `fill`, and U = −logsumexp of the log terms. */
  private pointU(x: Float64Array, i: number): number {
    const s = this.fill(x, i); // sets lmax
    return -(this.lmax + portableLog(s));
  }

  energy(x: Float64Array, n: number, u: Float64Array): void {
    for (let i = 0; i < n; i++) u[i] = this.pointU(x, i);
  }

  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    const d = this.dim;
    for (let i = 0; i < n; i++) {
      u[i] = this.pointU(x, i);
      for (let a = 0; a < d; a++) {
        let g = 0;
        for (let j = 0; j < this.k; j++) g += this.resp[j] * this.diff[j * d + a];
        grad[i * d + a] = g;
      }
    }
  }

  /** ∂U/∂c_j = r_j; ∂U/∂μ_j = −r_j (x−μ_j)/σ_j². */
  paramGrad(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): void {
    const d = this.dim;
    const k = this.k;
    out.fill(0);
    for (let i = 0; i < n; i++) {
      this.fill(x, i);
      const w = weights[i];
      for (let j = 1; j < k; j++) out[j - 1] += w * this.resp[j];
      if (this.learnMeans)
        for (let j = 0; j < k; j++)
          for (let a = 0; a < d; a++) out[k - 1 + j * d + a] -= w * this.resp[j] * this.diff[j * d + a];
    }
  }

  /**
   * J = Σ_i w_i [½|∇U|² − ΔU] with ∇U = ḡ = Σ_j r_j g_j and ΔU = Σ_j r_j s_j − Σ_j r_j |g_j|² + |ḡ|²
   * (s_j = d/σ_j²). Parameter derivatives (derived by differentiating r_j, g_j and ḡ):
   *   ∂J/∂c_j = r_j [ ḡ·(g_j − ḡ) + (s_j − S) − (|g_j|² − G) ],            S = Σ r s, G = Σ r |g|²
   *   ∂J/∂μ_j = r_j [ g_j (−(g_j − ḡ)·ḡ − (s_j − S) + (|g_j|² − G) − 2/σ_j²) + ḡ/σ_j² ].
   */
  scoreMatching(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): number {
    const d = this.dim;
    const k = this.k;
    const gbar = this.gbar;
    out.fill(0);
    let total = 0;
    for (let i = 0; i < n; i++) {
      this.fill(x, i);
      gbar.fill(0);
      let S = 0;
      let G = 0;
      for (let j = 0; j < k; j++) {
        const r = this.resp[j];
        let g2 = 0;
        for (let a = 0; a < d; a++) {
          const g = this.diff[j * d + a];
          gbar[a] += r * g;
          g2 += g * g;
        }
        S += r * d * this.invVar[j];
        G += r * g2;
      }
      let gb2 = 0;
      for (let a = 0; a < d; a++) gb2 += gbar[a] * gbar[a];
      const lap = S - G + gb2;
      const w = weights[i];
      total += w * (0.5 * gb2 - lap);
      for (let j = 0; j < k; j++) {
        const r = this.resp[j];
        let g2 = 0;
        let gdot = 0;
        for (let a = 0; a < d; a++) {
          const g = this.diff[j * d + a];
          g2 += g * g;
          gdot += (g - gbar[a]) * gbar[a];
        }
        const sj = d * this.invVar[j];
        if (j > 0) out[j - 1] += w * r * (gdot + (sj - S) - (g2 - G));
        if (this.learnMeans) {
          const coef = -gdot - (sj - S) + (g2 - G) - 2 * this.invVar[j];
          for (let a = 0; a < d; a++)
            out[k - 1 + j * d + a] += w * r * (this.diff[j * d + a] * coef + gbar[a] * this.invVar[j]);
        }
      }
    }
    return total;
  }

  sampleExact(key: Key, n: number, out: Float64Array): void {
    const d = this.dim;
    const masses = this.componentMasses();
    const rng = new Stream(key);
    for (let i = 0; i < n; i++) {
      let u = rng.uniform();
      let j = 0;
      while (j < this.k - 1 && u >= masses[j]) {
        u -= masses[j];
        j++;
      }
      const s = Math.sqrt(1 / this.invVar[j]);
      for (let a = 0; a < d; a++) out[i * d + a] = this.mu[j * d + a] + s * rng.normal();
    }
  }
}
