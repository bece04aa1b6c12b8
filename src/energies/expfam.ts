/**
 * Exponential-family energies U_θ(x) = θ·T(x) with user-chosen sufficient statistics T: ℝᵈ → ℝᵐ, so
 * ρ_θ(x) = e^{−θ·T(x)} / Z(θ) — the maximum-entropy density under moment constraints on T (seed 003). The
 * energy is linear in θ, and everything the objectives need is closed form in T and its x-derivatives:
 *
 *   ∂θU(x) = T(x)                      (paramGrad: Σ_i w_i T(x_i); the MLE fixed point is E_θ[T] = E_data[T])
 *   ∇ₓU(x) = Σ_k θ_k ∇T_k(x)           (energyAndGrad)
 *   Σ_i ∂θ_k[r_i·∇ₓU(x_i)] = Σ_i r_i·∇T_k(x_i)                    (ScoreParamGrad: denoising SM)
 *   Σ_i ∂θ_k[a_i v_i·∇ₓU + b_i v_iᵀ∇²ₓU v_i] = Σ_i a_i v_i·∇T_k + b_i v_iᵀ∇²T_k v_i   (DirectionalParamGrad)
 *   J(θ) = Σ_i w_i[½|∇ₓU|² − ΔₓU] = ½ θᵀAθ − βᵀθ,  A_kl = Σ_i w_i ∇T_k·∇T_l,  β_k = Σ_i w_i ΔT_k
 *                                                                  (ScoreMatchable; exact, a quadratic in θ)
 *
 * so exact score matching has the closed-form minimiser θ* = A⁻¹β (`scoreMatchingSolution`). For the
 * quadratic statistics (x_a and x_a·x_b, a ≤ b) the model is the Gaussian family and θ* is exactly the
 * sample mean and covariance (Hyvärinen 2005): `gaussianFromNatural` / `naturalFromGaussian` convert.
 *
 * Statistics are given as an object (`SufficientStatistics`) that fills, for a batch, T and its x-Jacobian
 * and the second directional derivatives vᵀ∇²T_k v (and optionally the Laplacians; by default Σ_a of the
 * second derivatives along the unit vectors). Built-ins: `polynomialStatistics` (x_a^j, j = 1…k, per
 * coordinate), `quadraticStatistics` (Gaussian-like: x_a and the pairwise products x_a·x_b, a ≤ b), and
 * `concatStatistics`. Normalisability (e.g. an even top degree with positive coefficients, or a positive
 * definite precision) is the caller's business: θ is not constrained.
 *
 * Work runs in float64 in blocks of 256 points (scratch for T, ∇T and ∇²T is reused, O(256·m·d)).
 */
import { portableLog } from "../random/elementary.ts";
import type { ScoreMatchable, TrainableEnergy } from "./contract.ts";
import { cholesky } from "./gaussian.ts";
import type { DirectionalParamGrad, ScoreParamGrad } from "./score-grad.ts";

export interface SufficientStatistics {
  /** Dimension d of x. */
  readonly dim: number;
  /** Number m of statistics (= numParams of the energy). */
  readonly size: number;
  /** Optional names, for reports (length m). */
  readonly names?: readonly string[];
  /**
   * T_k(x_i) into t[i·m + k] for the n points of x; when `jac` is given, also ∂T_k/∂x_a(x_i) into
   * jac[(i·m + k)·d + a].
   */
  evaluate(x: Float64Array, n: number, t: Float64Array, jac?: Float64Array): void;
  /** v_iᵀ∇²T_k(x_i)v_i into out[i·m + k] (x, v: n × d). */
  second(x: Float64Array, v: Float64Array, n: number, out: Float64Array): void;
  /** ΔT_k(x_i) into out[i·m + k]; default: Σ_a of `second` along the unit vectors. */
  laplacian?(x: Float64Array, n: number, out: Float64Array): void;
}

/** T = (x_a^j) for every coordinate a and j = 1…degree, ordered a-major: index a·degree + j − 1. */
export function polynomialStatistics(dim: number, degree: number): SufficientStatistics {
  checkInt(dim, "dim");
  checkInt(degree, "degree");
  const m = dim * degree;
  const names: string[] = [];
  for (let a = 0; a < dim; a++)
    for (let j = 1; j <= degree; j++) names.push(j === 1 ? `x${a}` : `x${a}^${j}`);
  return {
    dim,
    size: m,
    names,
    evaluate(x, n, t, jac) {
      if (jac) jac.fill(0, 0, n * m * dim);
      for (let i = 0; i < n; i++) {
        for (let a = 0; a < dim; a++) {
          const xa = x[i * dim + a];
          let p = 1; // x^{j−1}
          for (let j = 1; j <= degree; j++) {
            const k = a * degree + j - 1;
            if (jac) jac[(i * m + k) * dim + a] = j * p;
            p *= xa;
            t[i * m + k] = p;
          }
        }
      }
    },
    second(x, v, n, out) {
      for (let i = 0; i < n; i++) {
        for (let a = 0; a < dim; a++) {
          const xa = x[i * dim + a];
          const va2 = v[i * dim + a] * v[i * dim + a];
          let p = 1; // x^{j−2}
          for (let j = 1; j <= degree; j++) {
            const k = a * degree + j - 1;
            if (j === 1) {
              out[i * m + k] = 0;
              continue;
            }
            out[i * m + k] = j * (j - 1) * p * va2;
            p *= xa;
          }
        }
      }
    },
    laplacian(x, n, out) {
      for (let i = 0; i < n; i++) {
        for (let a = 0; a < dim; a++) {
          const xa = x[i * dim + a];
          let p = 1;
          for (let j = 1; j <= degree; j++) {
            const k = a * degree + j - 1;
            if (j === 1) {
              out[i * m + k] = 0;
              continue;
            }
            out[i * m + k] = j * (j - 1) * p;
            p *= xa;
          }
        }
      }
    },
  };
}

/**
 * The one radial statistic T(x) = ½|x|²: θ·T = ½λ|x|² is the quadratic confinement, and an expert with it in
 * a product with an MLP (energies/product.ts) makes the MLP's confinement trainable: U = MLP_φ(x) + ½λ|x|²
 * with λ the product's last parameter (keep the MLP's own fixed confinement at 0 or small, then).
 */
export function radialStatistics(dim: number): SufficientStatistics {
  checkInt(dim, "dim");
  return {
    dim,
    size: 1,
    names: ["|x|²/2"],
    evaluate(x, n, t, jac) {
      for (let i = 0; i < n; i++) {
        let r2 = 0;
        for (let a = 0; a < dim; a++) {
          const xa = x[i * dim + a];
          r2 += xa * xa;
          if (jac) jac[i * dim + a] = xa;
        }
        t[i] = 0.5 * r2;
      }
    },
    second(_x, v, n, out) {
      for (let i = 0; i < n; i++) {
        let v2 = 0;
        for (let a = 0; a < dim; a++) v2 += v[i * dim + a] * v[i * dim + a];
        out[i] = v2;
      }
    },
    laplacian(_x, n, out) {
      out.fill(dim, 0, n);
    },
  };
}

/**
 * Gaussian-like statistics: T = (x_0, …, x_{d−1}, then x_a·x_b for a ≤ b in row-major upper-triangle
 * order), m = d + d(d+1)/2. θ·T = ½xᵀPx − (Pμ)·x + const with P_aa = 2θ_aa and P_ab = θ_ab (a < b): see
 * `gaussianFromNatural`.
 */
export function quadraticStatistics(dim: number): SufficientStatistics {
  checkInt(dim, "dim");
  const m = dim + (dim * (dim + 1)) / 2;
  const pairs: [number, number][] = [];
  for (let a = 0; a < dim; a++) for (let b = a; b < dim; b++) pairs.push([a, b]);
  const names = [
    ...Array.from({ length: dim }, (_, a) => `x${a}`),
    ...pairs.map(([a, b]) => (a === b ? `x${a}^2` : `x${a}·x${b}`)),
  ];
  return {
    dim,
    size: m,
    names,
    evaluate(x, n, t, jac) {
      if (jac) jac.fill(0, 0, n * m * dim);
      for (let i = 0; i < n; i++) {
        const o = i * dim;
        for (let a = 0; a < dim; a++) {
          t[i * m + a] = x[o + a];
          if (jac) jac[(i * m + a) * dim + a] = 1;
        }
        for (let p = 0; p < pairs.length; p++) {
          const [a, b] = pairs[p];
          const k = dim + p;
          t[i * m + k] = x[o + a] * x[o + b];
          if (jac) {
            jac[(i * m + k) * dim + a] += x[o + b];
            jac[(i * m + k) * dim + b] += x[o + a];
          }
        }
      }
    },
    second(_x, v, n, out) {
      for (let i = 0; i < n; i++) {
        const o = i * dim;
        for (let a = 0; a < dim; a++) out[i * m + a] = 0;
        for (let p = 0; p < pairs.length; p++) {
          const [a, b] = pairs[p];
          out[i * m + dim + p] = 2 * v[o + a] * v[o + b];
        }
      }
    },
    laplacian(_x, n, out) {
      for (let i = 0; i < n; i++) {
        for (let a = 0; a < dim; a++) out[i * m + a] = 0;
        for (let p = 0; p < pairs.length; p++) out[i * m + dim + p] = pairs[p][0] === pairs[p][1] ? 2 : 0;
      }
    },
  };
}

/** The statistics of `parts` side by side (same dim): θ is their θs concatenated. */
export function concatStatistics(...parts: SufficientStatistics[]): SufficientStatistics {
  if (parts.length === 0) throw new RangeError("concatStatistics needs at least one part");
  const dim = parts[0].dim;
  for (const p of parts) if (p.dim !== dim) throw new RangeError("concatStatistics: parts differ in dim");
  const m = parts.reduce((s, p) => s + p.size, 0);
  const names = parts.every((p) => p.names) ? parts.flatMap((p) => [...p.names!]) : undefined;
  const scratch = (n: number, per: number) => new Float64Array(n * per);
  /** Copies part p's n × (mp·w) block into columns [off·w, (off+mp)·w) of out (n × m·w). */
  const place = (src: Float64Array, n: number, mp: number, off: number, w: number, out: Float64Array) => {
    for (let i = 0; i < n; i++)
      for (let q = 0; q < mp * w; q++) out[i * m * w + off * w + q] = src[i * mp * w + q];
  };
  return {
    dim,
    size: m,
    names,
    evaluate(x, n, t, jac) {
      let off = 0;
      for (const p of parts) {
        const tp = scratch(n, p.size);
        const jp = jac ? scratch(n, p.size * dim) : undefined;
        p.evaluate(x, n, tp, jp);
        place(tp, n, p.size, off, 1, t);
        if (jac) place(jp!, n, p.size, off, dim, jac);
        off += p.size;
      }
    },
    second(x, v, n, out) {
      let off = 0;
      for (const p of parts) {
        const sp = scratch(n, p.size);
        p.second(x, v, n, sp);
        place(sp, n, p.size, off, 1, out);
        off += p.size;
      }
    },
    laplacian(x, n, out) {
      let off = 0;
      for (const p of parts) {
        const lp = scratch(n, p.size);
        statisticsLaplacian(p, x, n, lp);
        place(lp, n, p.size, off, 1, out);
        off += p.size;
      }
    },
  };
}

/** ΔT_k(x_i) into out[i·m + k]: the statistics' own Laplacian, or Σ_a of `second` along e_a. */
export function statisticsLaplacian(
  stats: SufficientStatistics,
  x: Float64Array,
  n: number,
  out: Float64Array,
): void {
  if (stats.laplacian) return stats.laplacian(x, n, out);
  const d = stats.dim;
  const m = stats.size;
  const e = new Float64Array(n * d);
  const s = new Float64Array(n * m);
  out.fill(0, 0, n * m);
  for (let a = 0; a < d; a++) {
    e.fill(0);
    for (let i = 0; i < n; i++) e[i * d + a] = 1;
    stats.second(x, e, n, s);
    for (let q = 0; q < n * m; q++) out[q] += s[q];
  }
}

function checkInt(v: number, what: string): void {
  if (!(Number.isInteger(v) && v >= 1)) throw new RangeError(`${what} must be a positive integer, got ${v}`);
}

const BLOCK = 256;

export class ExpFamEnergy implements TrainableEnergy, ScoreMatchable, ScoreParamGrad, DirectionalParamGrad {
  readonly dim: number;
  readonly numParams: number;
  readonly stats: SufficientStatistics;
  private readonly theta: Float64Array;
  private readonly t: Float64Array;
  private readonly jac: Float64Array;
  private readonly sec: Float64Array;

  /** U_θ = θ·T with θ = `theta` (length stats.size). */
  constructor(stats: SufficientStatistics, theta: ArrayLike<number>) {
    checkInt(stats.dim, "stats.dim");
    checkInt(stats.size, "stats.size");
    this.stats = stats;
    this.dim = stats.dim;
    this.numParams = stats.size;
    if (theta.length !== stats.size)
      throw new RangeError(`theta must have ${stats.size} values (one per statistic), got ${theta.length}`);
    this.theta = Float64Array.from(theta);
    this.t = new Float64Array(BLOCK * stats.size);
    this.jac = new Float64Array(BLOCK * stats.size * stats.dim);
    this.sec = new Float64Array(BLOCK * stats.size);
  }

  /** The Gaussian family N(mean, cov) as θ·T with `quadraticStatistics` (see naturalFromGaussian). */
  static gaussian(mean: ArrayLike<number>, cov: ArrayLike<number>): ExpFamEnergy {
    return new ExpFamEnergy(quadraticStatistics(mean.length), naturalFromGaussian(mean, cov));
  }

  getParams(): Float64Array {
    return this.theta.slice();
  }

  setParams(theta: Float64Array): void {
    if (theta.length !== this.numParams) throw new RangeError(`expected ${this.numParams} parameters`);
    this.theta.set(theta);
  }

  /** Runs f(offset, count) over blocks of at most 256 points. */
  private blocks(n: number, f: (i0: number, r: number) => void): void {
    for (let i0 = 0; i0 < n; i0 += BLOCK) f(i0, Math.min(BLOCK, n - i0));
  }

  private rows(x: Float64Array, i0: number, r: number): Float64Array {
    return x.subarray(i0 * this.dim, (i0 + r) * this.dim);
  }

  energy(x: Float64Array, n: number, u: Float64Array): void {
    const m = this.numParams;
    const th = this.theta;
    this.blocks(n, (i0, r) => {
      this.stats.evaluate(this.rows(x, i0, r), r, this.t);
      for (let i = 0; i < r; i++) {
        let s = 0;
        for (let k = 0; k < m; k++) s += th[k] * this.t[i * m + k];
        u[i0 + i] = s;
      }
    });
  }

  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    const m = this.numParams;
    const d = this.dim;
    const th = this.theta;
    this.blocks(n, (i0, r) => {
      this.stats.evaluate(this.rows(x, i0, r), r, this.t, this.jac);
      for (let i = 0; i < r; i++) {
        let s = 0;
        const g = (i0 + i) * d;
        for (let a = 0; a < d; a++) grad[g + a] = 0;
        for (let k = 0; k < m; k++) {
          s += th[k] * this.t[i * m + k];
          const j = (i * m + k) * d;
          for (let a = 0; a < d; a++) grad[g + a] += th[k] * this.jac[j + a];
        }
        u[i0 + i] = s;
      }
    });
  }

  /** Σ_i w_i T(x_i). */
  paramGrad(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): void {
    const m = this.numParams;
    out.fill(0, 0, m);
    this.blocks(n, (i0, r) => {
      this.stats.evaluate(this.rows(x, i0, r), r, this.t);
      for (let i = 0; i < r; i++) {
        const w = weights[i0 + i];
        for (let k = 0; k < m; k++) out[k] += w * this.t[i * m + k];
      }
    });
  }

  /** Σ_i r_i·∇T_k(x_i). */
  scoreParamGrad(x: Float64Array, n: number, r: Float64Array, out: Float64Array): void {
    const m = this.numParams;
    const d = this.dim;
    out.fill(0, 0, m);
    this.blocks(n, (i0, cnt) => {
      this.stats.evaluate(this.rows(x, i0, cnt), cnt, this.t, this.jac);
      for (let i = 0; i < cnt; i++) {
        const ro = (i0 + i) * d;
        for (let k = 0; k < m; k++) {
          const j = (i * m + k) * d;
          let s = 0;
          for (let a = 0; a < d; a++) s += r[ro + a] * this.jac[j + a];
          out[k] += s;
        }
      }
    });
  }

  /** Σ_i [a_i v_i·∇T_k + b_i v_iᵀ∇²T_k v_i] and κ_i = Σ_k θ_k v_iᵀ∇²T_k v_i. */
  directionalParamGrad(
    x: Float64Array,
    v: Float64Array,
    n: number,
    a: Float64Array,
    b: Float64Array,
    out: Float64Array,
    curv: Float64Array,
  ): void {
    const m = this.numParams;
    const d = this.dim;
    const th = this.theta;
    out.fill(0, 0, m);
    this.blocks(n, (i0, r) => {
      const xs = this.rows(x, i0, r);
      this.stats.evaluate(xs, r, this.t, this.jac);
      this.stats.second(xs, this.rows(v, i0, r), r, this.sec);
      for (let i = 0; i < r; i++) {
        const vo = (i0 + i) * d;
        const ai = a[i0 + i];
        const bi = b[i0 + i];
        let kappa = 0;
        for (let k = 0; k < m; k++) {
          const j = (i * m + k) * d;
          let s = 0;
          for (let q = 0; q < d; q++) s += v[vo + q] * this.jac[j + q];
          const c = this.sec[i * m + k];
          out[k] += ai * s + bi * c;
          kappa += th[k] * c;
        }
        curv[i0 + i] = kappa;
      }
    });
  }

  /** J = Σ_i w_i[½|∇ₓU|² − ΔₓU] and ∂θ_k J = Σ_i w_i[∇ₓU·∇T_k − ΔT_k]. */
  scoreMatching(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): number {
    const m = this.numParams;
    const d = this.dim;
    const th = this.theta;
    const g = new Float64Array(d);
    out.fill(0, 0, m);
    let total = 0;
    this.blocks(n, (i0, r) => {
      const xs = this.rows(x, i0, r);
      this.stats.evaluate(xs, r, this.t, this.jac);
      statisticsLaplacian(this.stats, xs, r, this.sec);
      for (let i = 0; i < r; i++) {
        const w = weights[i0 + i];
        g.fill(0);
        let lap = 0;
        for (let k = 0; k < m; k++) {
          const j = (i * m + k) * d;
          for (let a = 0; a < d; a++) g[a] += th[k] * this.jac[j + a];
          lap += th[k] * this.sec[i * m + k];
        }
        let sq = 0;
        for (let a = 0; a < d; a++) sq += g[a] * g[a];
        total += w * (0.5 * sq - lap);
        for (let k = 0; k < m; k++) {
          const j = (i * m + k) * d;
          let s = 0;
          for (let a = 0; a < d; a++) s += g[a] * this.jac[j + a];
          out[k] += w * (s - this.sec[i * m + k]);
        }
      }
    });
    return total;
  }

  /**
   * The exact score-matching minimiser θ* = A⁻¹β for the points x (weights w, default 1/n), where
   * J(θ) = ½θᵀAθ − βᵀθ (see the header). Throws if A is singular (statistics whose x-gradients are linearly
   * dependent on the data, e.g. a constant statistic).
   */
  scoreMatchingSolution(x: Float64Array, n: number, weights?: Float64Array): Float64Array {
    const m = this.numParams;
    const d = this.dim;
    const A = new Float64Array(m * m);
    const beta = new Float64Array(m);
    this.blocks(n, (i0, r) => {
      const xs = this.rows(x, i0, r);
      this.stats.evaluate(xs, r, this.t, this.jac);
      statisticsLaplacian(this.stats, xs, r, this.sec);
      for (let i = 0; i < r; i++) {
        const w = weights ? weights[i0 + i] : 1 / n;
        for (let k = 0; k < m; k++) {
          beta[k] += w * this.sec[i * m + k];
          const jk = (i * m + k) * d;
          for (let l = 0; l <= k; l++) {
            const jl = (i * m + l) * d;
            let s = 0;
            for (let a = 0; a < d; a++) s += this.jac[jk + a] * this.jac[jl + a];
            A[k * m + l] += w * s;
          }
        }
      }
    });
    for (let k = 0; k < m; k++) for (let l = 0; l < k; l++) A[l * m + k] = A[k * m + l];
    let L: Float64Array;
    try {
      L = cholesky(A, m);
    } catch {
      throw new RangeError("scoreMatchingSolution: A = Σ w ∇T∇Tᵀ is singular on these points");
    }
    return choleskySolve(L, m, beta);
  }
}

/** Solves (L Lᵀ) y = b. */
function choleskySolve(L: Float64Array, m: number, b: Float64Array): Float64Array {
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * m + k] * y[k];
    y[i] = s / L[i * m + i];
  }
  for (let i = m - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < m; k++) s -= L[k * m + i] * y[k];
    y[i] = s / L[i * m + i];
  }
  return y;
}

export interface GaussianMoments {
  mean: Float64Array;
  /** d × d row-major. */
  cov: Float64Array;
  /** P = cov⁻¹, d × d. */
  precision: Float64Array;
  /** log ∫ e^{−θ·T(x)} dx = ½μᵀPμ + (d/2) log 2π + ½ log det cov. */
  logZ: number;
}

/**
 * Mean, covariance and log Z of the Gaussian e^{−θ·T} for `quadraticStatistics(dim)`: P_aa = 2θ_aa,
 * P_ab = P_ba = θ_ab (a < b), μ = −P⁻¹θ_lin. Throws a RangeError if P is not positive definite (then
 * e^{−θ·T} is not normalisable).
 */
export function gaussianFromNatural(theta: ArrayLike<number>, dim: number): GaussianMoments {
  const d = dim;
  if (theta.length !== d + (d * (d + 1)) / 2)
    throw new RangeError(`theta must have ${d + (d * (d + 1)) / 2} values for dim ${d}`);
  const P = new Float64Array(d * d);
  let p = d;
  for (let a = 0; a < d; a++)
    for (let b = a; b < d; b++) {
      const v = theta[p++];
      if (a === b) P[a * d + a] = 2 * v;
      else P[a * d + b] = P[b * d + a] = v;
    }
  let L: Float64Array;
  try {
    L = cholesky(P, d);
  } catch {
    throw new RangeError("gaussianFromNatural: the precision is not positive definite (not normalisable)");
  }
  const lin = new Float64Array(d);
  for (let a = 0; a < d; a++) lin[a] = -theta[a];
  const mean = choleskySolve(L, d, lin);
  const cov = new Float64Array(d * d);
  const e = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    e.fill(0);
    e[c] = 1;
    const col = choleskySolve(L, d, e);
    for (let a = 0; a < d; a++) cov[a * d + c] = col[a];
  }
  let halfLogDetP = 0;
  for (let a = 0; a < d; a++) halfLogDetP += portableLog(L[a * d + a]);
  let quad = 0;
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) quad += mean[a] * P[a * d + b] * mean[b];
  const logZ = 0.5 * quad + 0.5 * d * portableLog(2 * Math.PI) - halfLogDetP;
  return { mean, cov, precision: P, logZ };
}

/** θ of N(mean, cov) for `quadraticStatistics(d)`: θ_lin = −Pμ, θ_aa = P_aa/2, θ_ab = P_ab (a < b). */
export function naturalFromGaussian(mean: ArrayLike<number>, cov: ArrayLike<number>): Float64Array {
  const d = mean.length;
  if (cov.length !== d * d) throw new RangeError(`cov must be ${d}×${d}`);
  let L: Float64Array;
  try {
    L = cholesky(Float64Array.from(cov), d);
  } catch {
    throw new RangeError("naturalFromGaussian: cov is not positive definite");
  }
  const P = new Float64Array(d * d);
  const e = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    e.fill(0);
    e[c] = 1;
    const col = choleskySolve(L, d, e);
    for (let a = 0; a < d; a++) P[a * d + c] = col[a];
  }
  const theta = new Float64Array(d + (d * (d + 1)) / 2);
  for (let a = 0; a < d; a++) {
    let s = 0;
    for (let b = 0; b < d; b++) s += P[a * d + b] * mean[b];
    theta[a] = -s;
  }
  let p = d;
  for (let a = 0; a < d; a++)
    for (let b = a; b < d; b++) theta[p++] = a === b ? P[a * d + a] / 2 : P[a * d + b];
  return theta;
}
