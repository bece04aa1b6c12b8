/**
 * Checks of kernel options (β, fixed when a kernel is built) and of step parameters (step size, inverse
 * mass, passed to every step), and `ParamsKey`, which tells a kernel when the parameter values changed so
 * that it recomputes what it derives from them (drift and noise vectors, √M⁻¹, …) then and only then.
 */
import type { KernelParams } from "./types.ts";

export function checkBeta(beta: number | undefined): number {
  const b = beta ?? 1;
  if (!(b > 0) || !Number.isFinite(b)) throw new RangeError(`beta must be positive, got ${beta}`);
  return b;
}

export function checkStep(step: number, who: string): void {
  if (!(step > 0) || !Number.isFinite(step))
    throw new RangeError(`${who} step must be positive, got ${step}`);
}

/**
 * M⁻¹ is its diagonal (length dim, positive entries) or a dense symmetric positive-definite matrix
 * (length dim², row-major; positive definiteness is checked by its Cholesky factorization, metric.ts).
 */
export function checkInverseMass(inverseMass: Float64Array | undefined, dim: number): void {
  if (inverseMass === undefined) return;
  if (inverseMass.length === dim) {
    for (const m of inverseMass)
      if (!(m > 0) || !Number.isFinite(m))
        throw new RangeError(`inverseMass entries must be positive, got ${m}`);
    return;
  }
  if (inverseMass.length !== dim * dim)
    throw new RangeError(
      `inverseMass must have length ${dim} (diagonal) or ${dim * dim} (dense), got ${inverseMass.length}`,
    );
  for (let a = 0; a < dim; a++) {
    const m = inverseMass[a * dim + a];
    if (!(m > 0) || !Number.isFinite(m))
      throw new RangeError("a dense inverseMass needs a positive diagonal");
    for (let b = 0; b < a; b++) {
      const x = inverseMass[a * dim + b];
      if (!Number.isFinite(x) || x !== inverseMass[b * dim + a])
        throw new RangeError("a dense inverseMass must be symmetric with finite entries");
    }
  }
}

/**
 * The (step, inverseMass) values a kernel last derived its coefficients from. Compared by value, not by
 * object identity: adaptation passes new objects with the same numbers, and updates its inverse-mass
 * array in place. `changed` validates the new values and keeps a copy of them.
 */
export class ParamsKey {
  private step = Number.NaN;
  private inverseMass: Float64Array | undefined;

  constructor(
    private readonly dim: number,
    private readonly who: string,
  ) {}

  changed(params: KernelParams): boolean {
    const m = params.inverseMass;
    if (params.step === this.step && sameValues(m, this.inverseMass)) return false;
    checkStep(params.step, this.who);
    checkInverseMass(m, this.dim);
    this.step = params.step;
    this.inverseMass = m === undefined ? undefined : Float64Array.from(m);
    return true;
  }
}

function sameValues(a: Float64Array | undefined, b: Float64Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
