/**
 * Hamiltonian dynamics for the HMC family (HMC, NUTS, kinetic Langevin): H(q, p) = βU(q) + ½pᵀM⁻¹p with
 * M given by its inverse, diagonal (length dim) or dense (dim × dim; see metric.ts): the leapfrog
 * integrator and the kinetic energy.
 */
import type { Energy } from "../energies/contract.ts";

/** A proposal whose Hamiltonian error exceeds this is divergent (Stan's and BlackJAX's threshold). */
export const MAX_ENERGY_ERROR = 1000;

/** True when `inverseMass` is a dense dim × dim matrix (rather than a diagonal or the identity). */
export function isDense(inverseMass: Float64Array | undefined, dim: number): boolean {
  return inverseMass !== undefined && inverseMass.length === dim * dim && dim > 1;
}

/** Kinetic energy ½ pᵀM⁻¹p of chain i (rows of `p`, n × dim); M⁻¹ diagonal, dense or identity. */
export function kineticEnergy(
  p: Float64Array,
  i: number,
  dim: number,
  inverseMass: Float64Array | undefined,
): number {
  let k = 0;
  const o = i * dim;
  if (isDense(inverseMass, dim)) {
    const m = inverseMass!;
    for (let a = 0; a < dim; a++) {
      let s = 0;
      for (let b = 0; b < dim; b++) s += m[a * dim + b] * p[o + b];
      k += p[o + a] * s;
    }
  } else if (inverseMass) for (let j = 0; j < dim; j++) k += inverseMass[j] * p[o + j] * p[o + j];
  else for (let j = 0; j < dim; j++) k += p[o + j] * p[o + j];
  return 0.5 * k;
}

/** out (offset oo) ← M⁻¹ v (offset vo) for one row; M⁻¹ diagonal, dense or identity. */
export function applyInverseMass(
  inverseMass: Float64Array | undefined,
  dim: number,
  v: Float64Array,
  vo: number,
  out: Float64Array,
  oo: number,
): void {
  if (isDense(inverseMass, dim)) {
    const m = inverseMass!;
    for (let a = 0; a < dim; a++) {
      let s = 0;
      for (let b = 0; b < dim; b++) s += m[a * dim + b] * v[vo + b];
      out[oo + a] = s;
    }
  } else if (inverseMass) for (let j = 0; j < dim; j++) out[oo + j] = inverseMass[j] * v[vo + j];
  else for (let j = 0; j < dim; j++) out[oo + j] = v[vo + j];
}

/** Scratch for one row of M⁻¹p (dense metric); leapfrog is not re-entrant. */
let velocity = new Float64Array(0);

/**
 * `numSteps` leapfrog (velocity Verlet) steps for H = βU(q) + ½pᵀM⁻¹p, on a batch of n chains, in place:
 *   p ← p − (h/2) β∇U(q);  q ← q + h M⁻¹p;  (U, ∇U) ← energy(q);  p ← p − (h/2) β∇U(q),
 * with M⁻¹ = `inverseMass`: diagonal (length dim), dense (dim × dim) or the identity (undefined).
 *
 * q, p, grad are n × dim (row-major), u has length n; on entry `grad` and `u` must hold ∇U(q) and U(q)
 * (one energy-and-gradient evaluation per step then, no extra one at the start), and on return they hold
 * the values at the new q. `step` is one size for the batch or one per chain (a Float64Array of length
 * n); a negative step integrates backward in time, which is how NUTS extends a tree to the left per chain.
 *
 * `active` (optional, length n) masks chains: where it is 0, q and p are left untouched. The energy is
 * still evaluated on the whole batch (the contract takes contiguous rows), so a masked chain's u and grad
 * are recomputed at its unchanged q: they must already correspond to it. Non-finite values propagate
 * (a NaN gradient makes p and q NaN for the rest of the trajectory), so checking the end point is enough
 * to detect a trajectory that went through a non-finite region.
 */
export function leapfrog(
  energy: Energy,
  beta: number,
  q: Float64Array,
  p: Float64Array,
  grad: Float64Array,
  u: Float64Array,
  step: number | Float64Array,
  inverseMass: Float64Array | undefined,
  n: number,
  dim: number,
  numSteps = 1,
  active?: Uint8Array,
): void {
  const perChain = typeof step !== "number";
  let v: Float64Array | undefined;
  if (isDense(inverseMass, dim)) {
    if (velocity.length < dim) velocity = new Float64Array(dim);
    v = velocity;
  }
  for (let s = 0; s < numSteps; s++) {
    for (let i = 0; i < n; i++) {
      if (active && !active[i]) continue;
      const h = perChain ? step[i] : step;
      const kick = 0.5 * h * beta;
      if (v) {
        const o = i * dim;
        for (let k = o; k < o + dim; k++) p[k] -= kick * grad[k];
        applyInverseMass(inverseMass, dim, p, o, v, 0);
        for (let j = 0; j < dim; j++) q[o + j] += h * v[j];
        continue;
      }
      for (let j = 0; j < dim; j++) {
        const k = i * dim + j;
        p[k] -= kick * grad[k];
        q[k] += h * (inverseMass ? inverseMass[j] : 1) * p[k];
      }
    }
    energy.energyAndGrad(q, n, u, grad);
    for (let i = 0; i < n; i++) {
      if (active && !active[i]) continue;
      const kick = 0.5 * (perChain ? step[i] : step) * beta;
      for (let j = i * dim; j < (i + 1) * dim; j++) p[j] -= kick * grad[j];
    }
  }
}
