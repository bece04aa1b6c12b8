/**
 * Choosing among fitted critics on validation points: the clip (RKHS and MLP critics of f-divergences)
 * and the one-standard-error rule (the RKHS fit's choice of λ and bandwidth).
 *
 * - Clipping: an f-divergence critic is clamped to the CRITIC_CLIP_QUANTILE and 1 − CRITIC_CLIP_QUANTILE
 *   quantiles of its values on its training points. Any function gives a lower bound, and the clamp keeps
 *   a critic from reaching extreme values in sparse regions (a tail where the training points are nearly
 *   all from P), where an unbounded conjugate (KL's e^{v−1}, χ²'s v²/4) turns one new point into a huge
 *   negative term.
 * - The one-standard-error rule: among candidate critics evaluated on the same validation points, keep
 *   the simplest (the caller's order) whose validation bound is below the best by at most one standard
 *   error of the difference, paired over the points. Simple critics are preferred because with unbounded
 *   conjugates a spiky critic usually looks good on a few hundred new points and occasionally meets one
 *   that makes its bound hugely negative: its validation value is biased upward.
 */
import { boundFromCritic, type BoundTerms } from "./f-divergences.ts";

/** The share of the training values a clipped critic gives up at each end. */
export const CRITIC_CLIP_QUANTILE = 0.005;

/** The CRITIC_CLIP_QUANTILE and 1 − CRITIC_CLIP_QUANTILE quantiles of the values of a and b together. */
export function clipRange(a: Float64Array, b: Float64Array): [number, number] {
  const all = new Float64Array(a.length + b.length);
  all.set(a);
  all.set(b, a.length);
  all.sort();
  const k = Math.floor(CRITIC_CLIP_QUANTILE * (all.length - 1));
  return [all[k], all[all.length - 1 - k]];
}

/** Clamps v to [lo, hi] in place. */
export function clipValues(v: Float64Array, [lo, hi]: [number, number]): Float64Array {
  for (let i = 0; i < v.length; i++) v[i] = v[i] < lo ? lo : v[i] > hi ? hi : v[i];
  return v;
}

/** A critic's (clipped) outputs on the validation points of P and of Q. */
export interface ValidationValues {
  vP: Float64Array;
  vQ: Float64Array;
}

/** The bound on the validation points (−∞ when it is not finite). */
export function validationBound(terms: BoundTerms, c: ValidationValues): number {
  const v = boundFromCritic(terms, c.vP, c.vQ).value;
  return Number.isFinite(v) ? v : -Infinity;
}

/** The CLT standard error of the difference of two critics' bounds on the same points (paired). */
export function pairedStderr(terms: BoundTerms, x: ValidationValues, y: ValidationValues): number {
  const side = (u: Float64Array, w: Float64Array, f: (v: number) => number) => {
    const n = u.length;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += (f(u[i]) - f(w[i])) / n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (f(u[i]) - f(w[i]) - mean) ** 2;
    return ss / (n - 1) / n;
  };
  return Math.sqrt(side(x.vP, y.vP, terms.a) + side(x.vQ, y.vQ, terms.b));
}

/**
 * The index the one-SE rule keeps (module comment): candidates are listed simplest first, `scores` are
 * their validation bounds.
 */
export function oneStandardErrorChoice(
  terms: BoundTerms,
  candidates: readonly ValidationValues[],
  scores: readonly number[],
): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  for (let i = 0; i < best; i++)
    if (scores[best] - scores[i] <= pairedStderr(terms, candidates[best], candidates[i])) return i;
  return best;
}
