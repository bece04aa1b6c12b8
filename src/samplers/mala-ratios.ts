/**
 * The MALA log ratio log r = −β(U(y) − U(x)) + log q(x | y) − log q(y | x) of the Langevin proposal
 * q(y | x) = N(y; x − hβA∇U(x), 2hA): per chain (reference), for a batch with diagonal A (the samplers'
 * hot loop), and for a dense A.
 */
import { applyInverseMass } from "./integrators.ts";
import type { Metric } from "./metric.ts";

/**
 * log r of the move x → y for the chain whose rows start at `offX` in (x, gx) and `offY` in (y, gy):
 * x, y positions, gx, gy their ∇U, ux, uy their U. Normalizing constants of q cancel (same covariance
 * 2hA both ways), so only the exponents appear: log q(b | a) = −Σ_j (b_j − a_j + hβA_j ∇U(a)_j)² / (4hA_j).
 */
export function malaLogRatio(
  x: Float64Array,
  gx: Float64Array,
  ux: number,
  offX: number,
  y: Float64Array,
  gy: Float64Array,
  uy: number,
  offY: number,
  dim: number,
  h: number,
  beta: number,
  inverseMass?: Float64Array,
): number {
  let forward = 0; // Σ (y − x + hβA∇U(x))² / A
  let backward = 0; // Σ (x − y + hβA∇U(y))² / A
  for (let j = 0; j < dim; j++) {
    const a = inverseMass ? inverseMass[j] : 1;
    const d = y[offY + j] - x[offX + j];
    const f = d + h * beta * a * gx[offX + j];
    const b = -d + h * beta * a * gy[offY + j];
    forward += (f * f) / a;
    backward += (b * b) / a;
  }
  return -beta * (uy - ux) + (forward - backward) / (4 * h);
}

/**
 * `malaLogRatio` for a whole batch in one fused loop (the sampler's hot path): drift_j = hβA_j and
 * invMass_j = 1/A_j precomputed, quarterInvH = 1/(4h). Same value as the per-chain function up to rounding.
 */
export function malaLogRatios(
  x: Float64Array,
  gx: Float64Array,
  ux: Float64Array,
  y: Float64Array,
  gy: Float64Array,
  uy: Float64Array,
  n: number,
  dim: number,
  beta: number,
  drift: Float64Array,
  invMass: Float64Array,
  quarterInvH: number,
  out: Float64Array,
): Float64Array {
  for (let i = 0; i < n; i++) {
    let diff = 0; // Σ [(y − x + drift∇U(x))² − (x − y + drift∇U(y))²] / A
    for (let j = 0, k = i * dim; j < dim; j++, k++) {
      const d = y[k] - x[k];
      const f = d + drift[j] * gx[k];
      const b = drift[j] * gy[k] - d;
      diff += (f * f - b * b) * invMass[j];
    }
    out[i] = -beta * (uy[i] - ux[i]) + diff * quarterInvH;
  }
  return out;
}

/**
 * `malaLogRatios` for a dense preconditioner A = LLᵀ: the quadratic forms are vᵀA⁻¹v = |L⁻¹v|² with
 * v = y − x + hβA∇U(x) (forward) and x − y + hβA∇U(y) (backward).
 */
export function malaLogRatiosDense(
  x: Float64Array,
  gx: Float64Array,
  ux: Float64Array,
  y: Float64Array,
  gy: Float64Array,
  uy: Float64Array,
  n: number,
  dim: number,
  beta: number,
  h: number,
  metric: Metric,
  out: Float64Array,
): Float64Array {
  const f = new Float64Array(dim);
  const b = new Float64Array(dim);
  const a = new Float64Array(dim);
  const c = h * beta;
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    applyInverseMass(metric.inverseMass, dim, gx, o, a, 0);
    for (let j = 0; j < dim; j++) f[j] = y[o + j] - x[o + j] + c * a[j];
    applyInverseMass(metric.inverseMass, dim, gy, o, a, 0);
    for (let j = 0; j < dim; j++) b[j] = x[o + j] - y[o + j] + c * a[j];
    const diff = metric.massQuadratic(f, 0) - metric.massQuadratic(b, 0);
    out[i] = -beta * (uy[i] - ux[i]) + diff / (4 * h);
  }
  return out;
}
