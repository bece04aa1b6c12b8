/**
 * f-divergences between two Gaussians P = N(μ_p, Σ_p), Q = N(μ_q, Σ_q): the truth the sample estimators
 * are checked against.
 *
 * Closed forms in any dimension (Σ⁻¹ and log-determinants from Cholesky factors):
 *   kl         ½[tr(Σ_q⁻¹Σ_p) + Δᵀ Σ_q⁻¹ Δ − d + log|Σ_q| − log|Σ_p|],  Δ = μ_p − μ_q
 *   rkl        the same with P and Q exchanged
 *   chi2       ∫p²/q − 1, with log ∫p²/q = −log|Σ_p| + ½log|Σ_q| − ½log|A| + ½(βᵀA⁻¹β − γ),
 *              A = 2Σ_p⁻¹ − Σ_q⁻¹, β = 2Σ_p⁻¹μ_p − Σ_q⁻¹μ_q, γ = 2μ_pᵀΣ_p⁻¹μ_p − μ_qᵀΣ_q⁻¹μ_q;
 *              +∞ when A is not positive definite (Q's tails too light)
 *   hellinger  2 − 2·BC, BC = exp(−⅛ΔᵀΣ̄⁻¹Δ − ½log|Σ̄| + ¼log|Σ_p| + ¼log|Σ_q|), Σ̄ = (Σ_p + Σ_q)/2
 * js and tv have none in general: `gaussianFDivergence` integrates q·φ(p/q) numerically for d = 1
 * (composite Simpson on μ ± 14σ of both, 40 001 nodes) and d = 2 (the tensor Simpson rule on a box of
 * ±11σ of both, 1 201² nodes). On the smooth integrands the rules agree with the closed forms above to
 * better than 1e-6 on the pairs the tests use; tv's integrand ½|p − q| has a kink where p = q, where the
 * rules are only second order (error well below 1e-4 at these spacings). For d > 2 js and tv throw.
 */
import { cholesky } from "../energies/gaussian.ts";
import { portableLog as log } from "../random/elementary.ts";
import { F_DIVERGENCES, type FDivergenceKind } from "./f-divergences.ts";

export interface GaussianParams {
  /** μ (length d). */
  mean: ArrayLike<number>;
  /** Σ (d × d, row-major, symmetric positive definite). */
  cov: ArrayLike<number>;
}

interface Factored {
  d: number;
  mean: Float64Array;
  cov: Float64Array;
  chol: Float64Array;
  logDet: number;
  inv: Float64Array;
}

function factor(g: GaussianParams): Factored {
  const d = g.mean.length;
  if (d < 1 || g.cov.length !== d * d)
    throw new RangeError(
      `a Gaussian needs a mean of length d ≥ 1 and a d×d covariance, got ${d}, ${g.cov.length}`,
    );
  const mean = Float64Array.from(g.mean);
  const cov = Float64Array.from(g.cov);
  let chol: Float64Array;
  try {
    chol = cholesky(cov, d);
  } catch {
    throw new RangeError("the covariance is not symmetric positive definite");
  }
  let logDet = 0;
  for (let i = 0; i < d; i++) logDet += 2 * log(chol[i * d + i]);
  return { d, mean, cov, chol, logDet, inv: invFromChol(chol, d) };
}

function invFromChol(l: Float64Array, d: number): Float64Array {
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

/** xᵀ M y for d×d M. */
function quad(m: ArrayLike<number>, x: ArrayLike<number>, y: ArrayLike<number>, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) s += x[i] * m[i * d + j] * y[j];
  return s;
}

function klFactored(p: Factored, q: Factored): number {
  const d = p.d;
  let tr = 0;
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) tr += q.inv[i * d + j] * p.cov[j * d + i];
  const delta = p.mean.map((m, i) => m - q.mean[i]);
  return 0.5 * (tr + quad(q.inv, delta, delta, d) - d + q.logDet - p.logDet);
}

function chi2Factored(p: Factored, q: Factored): number {
  const d = p.d;
  const a = new Float64Array(d * d);
  for (let i = 0; i < d * d; i++) a[i] = 2 * p.inv[i] - q.inv[i];
  let aChol: Float64Array;
  try {
    aChol = cholesky(a, d);
  } catch {
    return Infinity;
  }
  let logDetA = 0;
  for (let i = 0; i < d; i++) logDetA += 2 * log(aChol[i * d + i]);
  const aInv = invFromChol(aChol, d);
  const beta = new Float64Array(d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) beta[i] += 2 * p.inv[i * d + j] * p.mean[j] - q.inv[i * d + j] * q.mean[j];
  const gamma = 2 * quad(p.inv, p.mean, p.mean, d) - quad(q.inv, q.mean, q.mean, d);
  const logInt = -p.logDet + 0.5 * q.logDet - 0.5 * logDetA + 0.5 * (quad(aInv, beta, beta, d) - gamma);
  return Math.expm1(logInt);
}

function hellingerFactored(p: Factored, q: Factored): number {
  const d = p.d;
  const avg = p.cov.map((v, i) => 0.5 * (v + q.cov[i]));
  const m = factor({ mean: p.mean, cov: avg });
  const delta = p.mean.map((v, i) => v - q.mean[i]);
  const logBc = -0.125 * quad(m.inv, delta, delta, d) - 0.5 * m.logDet + 0.25 * p.logDet + 0.25 * q.logDet;
  return 2 * -Math.expm1(logBc);
}

/** log N(x; μ, Σ) from the factored form (`diff`: scratch of length d). */
function logDensity(g: Factored, x: ArrayLike<number>, diff = new Float64Array(g.d)): number {
  const d = g.d;
  for (let i = 0; i < d; i++) diff[i] = x[i] - g.mean[i];
  return -0.5 * (d * log(2 * Math.PI) + g.logDet + quad(g.inv, diff, diff, d));
}

/** Simpson weights (1, 4, 2, 4, …, 4, 1)·h/3 on an odd number of nodes. */
function simpsonWeight(i: number, n: number, h: number): number {
  if (i === 0 || i === n - 1) return h / 3;
  return ((i % 2 === 1 ? 4 : 2) * h) / 3;
}

function quadrature(kind: FDivergenceKind, p: Factored, q: Factored): number {
  const f = F_DIVERGENCES[kind];
  const d = p.d;
  const span = d === 1 ? 14 : 11;
  const nodes = d === 1 ? 40001 : 1201;
  const lo = new Float64Array(d);
  const hi = new Float64Array(d);
  for (let a = 0; a < d; a++) {
    const sp = Math.sqrt(p.cov[a * d + a]);
    const sq = Math.sqrt(q.cov[a * d + a]);
    lo[a] = Math.min(p.mean[a] - span * sp, q.mean[a] - span * sq);
    hi[a] = Math.max(p.mean[a] + span * sp, q.mean[a] + span * sq);
  }
  const h = Array.from(lo, (l, a) => (hi[a] - l) / (nodes - 1));
  let total = 0;
  const x = new Float64Array(d);
  const diff = new Float64Array(d);
  const at = () => f.perspective(logDensity(p, x, diff), logDensity(q, x, diff));
  if (d === 1) {
    for (let i = 0; i < nodes; i++) {
      x[0] = lo[0] + i * h[0];
      total += simpsonWeight(i, nodes, h[0]) * at();
    }
    return total;
  }
  for (let i = 0; i < nodes; i++) {
    x[0] = lo[0] + i * h[0];
    const wi = simpsonWeight(i, nodes, h[0]);
    let row = 0;
    for (let j = 0; j < nodes; j++) {
      x[1] = lo[1] + j * h[1];
      row += simpsonWeight(j, nodes, h[1]) * at();
    }
    total += wi * row;
  }
  return total;
}

/**
 * D_φ(P, Q) for Gaussians P and Q of the same dimension, in nats (module comment: closed forms for kl, rkl,
 * chi2, hellinger in any dimension; quadrature for js and tv when d ≤ 2). `method: "quadrature"` forces the
 * quadrature for any kind (d ≤ 2), to check the closed forms.
 */
export function gaussianFDivergence(
  kind: FDivergenceKind,
  p: GaussianParams,
  q: GaussianParams,
  opts: { method?: "auto" | "quadrature" } = {},
): number {
  const fp = factor(p);
  const fq = factor(q);
  if (fp.d !== fq.d) throw new RangeError(`P has dimension ${fp.d}, Q has ${fq.d}`);
  const closed = opts.method !== "quadrature";
  if (closed && kind === "kl") return klFactored(fp, fq);
  if (closed && kind === "rkl") return klFactored(fq, fp);
  if (closed && kind === "chi2") return chi2Factored(fp, fq);
  if (closed && kind === "hellinger") return hellingerFactored(fp, fq);
  if (fp.d > 2) throw new RangeError(`${kind} between Gaussians has no closed form here and d = ${fp.d} > 2`);
  return quadrature(kind, fp, fq);
}

/** log p(x) − log q(x) for Gaussians, at the n points of x (n × d row-major): the ideal critic's input. */
export function gaussianLogRatio(
  p: GaussianParams,
  q: GaussianParams,
  x: Float64Array,
  n: number,
  out = new Float64Array(n),
): Float64Array {
  const fp = factor(p);
  const fq = factor(q);
  const d = fp.d;
  for (let i = 0; i < n; i++) {
    const xi = x.subarray(i * d, i * d + d);
    out[i] = logDensity(fp, xi) - logDensity(fq, xi);
  }
  return out;
}
