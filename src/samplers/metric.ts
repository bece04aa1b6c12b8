/**
 * The metric of the HMC family and the preconditioner of the Langevin kernels and RWM: M⁻¹, passed as the
 * `inverseMass` step parameter, either its diagonal (length dim) or the full symmetric positive-definite
 * matrix (dim × dim, row-major), as BlackJAX's 1-D or 2-D `inverse_mass_matrix`; the identity when omitted.
 * With M⁻¹ = LLᵀ every kernel moves x exactly as it would move z = L⁻¹x on the transformed target with
 * the identity metric; a dense M⁻¹ adapted to the target's covariance (window adaptation with
 * `metric: "dense"`) makes a correlated target look isotropic, which a diagonal one cannot.
 */
import { cholesky } from "../energies/gaussian.ts";
import type { Stream } from "../random/key.ts";
import { applyInverseMass, kineticEnergy } from "./integrators.ts";

export type MetricKind = "diagonal" | "dense";

export class Metric {
  /** M⁻¹ as set: undefined (identity), the diagonal (length dim) or the dense matrix (dim²). */
  inverseMass: Float64Array | undefined = undefined;
  dense = false;
  /** √(M⁻¹_j) (diagonal) or the lower Cholesky factor L of M⁻¹ = LLᵀ (dense); undefined for the identity. */
  factor: Float64Array | undefined = undefined;
  private readonly row: Float64Array;

  constructor(readonly dim: number) {
    this.row = new Float64Array(dim);
  }

  /** Sets M⁻¹ (copied; validated by the caller, see params.ts). */
  set(inverseMass: Float64Array | undefined): this {
    const d = this.dim;
    this.inverseMass = inverseMass && Float64Array.from(inverseMass);
    this.dense = inverseMass !== undefined && inverseMass.length === d * d && d > 1;
    if (!inverseMass) this.factor = undefined;
    else if (this.dense) this.factor = cholesky(inverseMass, d);
    else this.factor = this.inverseMass!.map(Math.sqrt);
    return this;
  }

  /** Kinetic energy ½ pᵀM⁻¹p of row i of `p`. */
  kinetic(p: Float64Array, i: number): number {
    return kineticEnergy(p, i, this.dim, this.inverseMass);
  }

  /** out (offset oo) ← M⁻¹ v (offset vo), one row; out must not overlap v. */
  applyInverseMass(v: Float64Array, vo: number, out: Float64Array, oo: number): void {
    applyInverseMass(this.inverseMass, this.dim, v, vo, out, oo);
  }

  /** Fills the first n rows of `p` with draws from N(0, M): ξ/√(M⁻¹_j), or L⁻ᵀξ when dense. */
  sampleMomentum(rng: Stream, p: Float64Array, n: number): void {
    const d = this.dim;
    rng.fillNormal(p.subarray(0, n * d));
    const f = this.factor;
    if (!f) return;
    if (!this.dense) {
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) p[i * d + j] /= f[j];
      return;
    }
    // Lᵀp = ξ by back substitution, in place: Cov(L⁻ᵀξ) = (LLᵀ)⁻¹ = M.
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let a = d - 1; a >= 0; a--) {
        let s = p[o + a];
        for (let b = a + 1; b < d; b++) s -= f[b * d + a] * p[o + b];
        p[o + a] = s / f[a * d + a];
      }
    }
  }

  /** In place on the first n rows of v: v ← (M⁻¹)^{1/2} v, i.e. √(M⁻¹_j)·v_j, or Lv when dense. */
  scaleNoise(v: Float64Array, n: number): void {
    const d = this.dim;
    const f = this.factor;
    if (!f) return;
    if (!this.dense) {
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) v[i * d + j] *= f[j];
      return;
    }
    const r = this.row;
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let a = 0; a < d; a++) {
        let s = 0;
        for (let b = 0; b <= a; b++) s += f[a * d + b] * v[o + b];
        r[a] = s;
      }
      v.set(r, o);
    }
  }

  /** vᵀMv = |L⁻¹v|² of one row (offset o), for a dense metric (forward substitution). */
  massQuadratic(v: Float64Array, o: number): number {
    const d = this.dim;
    const f = this.factor!;
    const r = this.row;
    let q = 0;
    for (let a = 0; a < d; a++) {
      let s = v[o + a];
      for (let b = 0; b < a; b++) s -= f[a * d + b] * r[b];
      r[a] = s / f[a * d + a];
      q += r[a] * r[a];
    }
    return q;
  }
}
