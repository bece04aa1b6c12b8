/**
 * Weighted walkers: positions with cached U and ∇U under the current energy, and float64 log-weights
 * A_i. The running estimate of log(Z_θ / Z_θ₀) is `logZShift + logMeanExp(A)`: resampling folds the
 * current log-mean weight into `logZShift` and resets A to 0, so the estimate carries across resamplings.
 *
 * Each walker also carries the index of its ancestor among the initial walkers (its "Eve", `eve`), which
 * resampling passes on. From the Eves, `logZRelVariance` and `weightedMeanSe` estimate the variance of the
 * estimates from one run (Lee & Whiteley 2018, "Variance estimation in the particle filter", Biometrika;
 * shown consistent under ESS-triggered resampling by Du & Guyader 2021): with R resamplings so far,
 * normalized weights W_i and c = (N/(N−1))^{R+1},
 *   Var(Ẑ)/Z²       ≈ 1 − c·Σ_{i,j: E_i≠E_j} W_i W_j = 1 − c·(1 − Σ_e S_e²),  S_e = Σ_{i: E_i = e} W_i,
 *   Var(Σ W_i φ_i)  ≈ c·Σ_e (Σ_{i: E_i = e} W_i (φ_i − m))²,                  m = Σ W_i φ_i.
 * Without resampling they reduce to the usual importance-sampling variances. They assume multinomial
 * resampling, and they fail quietly when the genealogy has collapsed onto a few Eves (then they see
 * almost no variance between Eves); `walkerHealth` (./health.ts) flags the runs where that happens.
 * When every weighted walker descends from one Eve the formulas no longer depend on the run at all
 * (Var(Ẑ)/Z² = 1 and a weighted mean's variance 0, whatever the weights): both then return NaN, and
 * `genealogyWarning` says so.
 */
import { NumericalError } from "../math/errors.ts";
import { essFromLogWeights, logMeanExp, normalizedWeights } from "../math/logspace.ts";
import { gatherRows, type ResamplingScheme, resample } from "../math/resampling.ts";
import { portableExpFast, portableLog1p } from "../random/elementary.ts";
import type { Key } from "../random/key.ts";
import type { ChainState } from "../samplers/types.ts";
import { type HealthWarning, type WalkerHealthStats, walkerHealth } from "./health.ts";

// The health checks live in ./health.ts; re-exported here so the package entry, which lists this
// module, exposes them too.
export * from "./health.ts";

export interface WeightedWalkers extends ChainState {
  /** Log-weights A_i (float64). */
  readonly logw: Float64Array;
  /** Σ of log-mean-weights folded in at past resamplings. */
  logZShift: number;
  /** Number of resamplings so far. */
  resamplings: number;
  /** Index of each walker's ancestor among the initial walkers (gathered at every resampling). */
  readonly eve: Int32Array;
}

export function weightedWalkers(state: ChainState, logw?: Float64Array): WeightedWalkers {
  const a = new Float64Array(state.n);
  if (logw) a.set(logw.subarray(0, state.n));
  const eve = new Int32Array(state.n);
  for (let i = 0; i < state.n; i++) eve[i] = i;
  return { ...state, logw: a, logZShift: 0, resamplings: 0, eve };
}

export function walkerEss(w: WeightedWalkers): number {
  return essFromLogWeights(w.logw, w.n);
}

/** Estimate of log(Z_θ / Z_θ₀) carried by the walkers. */
export function logZRatio(w: WeightedWalkers): number {
  return w.logZShift + logMeanExp(w.logw, w.n);
}

/** Normalized weights into `out`. */
export function walkerWeights(w: WeightedWalkers, out: Float64Array): Float64Array {
  normalizedWeights(w.logw, out);
  return out;
}

/**
 * Resamples when ESS < threshold·n (threshold in (0, 1]; pass 0 to never resample). Positions, the cached
 * U, ∇U and the Eve indices are gathered from the ancestors, A is reset to 0 and log Z stays unbiased.
 * `ess` is the walkers' current ESS when the caller has it. Returns whether resampling happened.
 */
export function maybeResample(
  key: Key,
  w: WeightedWalkers,
  threshold: number,
  scheme: ResamplingScheme = "multinomial",
  ess: number = walkerEss(w),
): boolean {
  if (!(threshold > 0) || ess >= threshold * w.n) return false;
  const n = w.n;
  const d = w.dim;
  const weights = walkerWeights(w, new Float64Array(n));
  const idx = resample(scheme, key, weights, n);
  w.logZShift += logMeanExp(w.logw, n);
  w.position.set(gatherRows(w.position, d, idx, new Float64Array(n * d)));
  w.grad.set(gatherRows(w.grad, d, idx, new Float64Array(n * d)));
  w.u.set(gatherRows(w.u, 1, idx, new Float64Array(n)));
  const eve = new Int32Array(n);
  for (let i = 0; i < n; i++) eve[i] = w.eve[idx[i]];
  w.eve.set(eve);
  w.logw.fill(0);
  w.resamplings++;
  return true;
}

function walkerFinite(w: WeightedWalkers, i: number): boolean {
  const lw = w.logw[i];
  if (Number.isNaN(lw) || lw === Number.POSITIVE_INFINITY || !Number.isFinite(w.u[i])) return false;
  for (let a = 0; a < w.dim; a++)
    if (!Number.isFinite(w.position[i * w.dim + a]) || !Number.isFinite(w.grad[i * w.dim + a])) return false;
  return true;
}

/**
 * Drops the walkers whose log-weight became NaN or +∞ or whose position, U or ∇U is not finite (a move
 * that diverged, an energy that overflowed): their weight is set to zero (A = −∞) and they are parked on
 * the heaviest remaining walker (position and cache copied), so nothing non-finite reaches a gradient; the
 * next resampling revives them. Dropping walkers biases the estimates, so callers record the count (see
 * `recordWeightUpdate`). Returns the number dropped; throws a NumericalError, prefixed by `what`, when no
 * walker with a positive finite weight remains.
 */
export function retireNonFinite(w: WeightedWalkers, what: string): number {
  const n = w.n;
  const d = w.dim;
  let best = -1;
  let bad = 0;
  for (let i = 0; i < n; i++) {
    if (!walkerFinite(w, i)) bad++;
    else if (w.logw[i] > Number.NEGATIVE_INFINITY && (best < 0 || w.logw[i] > w.logw[best])) best = i;
  }
  if (bad === 0) return 0;
  if (best < 0)
    throw new NumericalError(
      `${what}: every walker diverged (${bad} of ${n} with a non-finite log-weight, position or energy, ` +
        "the others already at weight zero)",
    );
  for (let i = 0; i < n; i++) {
    if (walkerFinite(w, i)) continue;
    w.logw[i] = Number.NEGATIVE_INFINITY;
    w.u[i] = w.u[best];
    for (let a = 0; a < d; a++) {
      w.position[i * d + a] = w.position[best * d + a];
      w.grad[i * d + a] = w.grad[best * d + a];
    }
  }
  return bad;
}

function positiveCount(a: Float64Array): number {
  let c = 0;
  for (let i = 0; i < a.length; i++) if (a[i] > 0) c++;
  return c;
}

/** How many of the initial walkers (Eves) the walkers with positive weight descend from. */
export function eveCount(w: WeightedWalkers): number {
  const weights = walkerWeights(w, new Float64Array(w.n));
  const seen = new Uint8Array(w.n);
  let c = 0;
  for (let i = 0; i < w.n; i++)
    if (weights[i] > 0 && seen[w.eve[i]] === 0) {
      seen[w.eve[i]] = 1;
      c++;
    }
  return c;
}

/**
 * A `genealogy_collapsed` warning when every weighted walker descends from one initial walker (and N ≥ 2):
 * the Lee–Whiteley SEs are then NaN, and independent replicas are the only error bar left.
 */
export function genealogyWarning(w: WeightedWalkers): HealthWarning | undefined {
  if (w.n < 2 || eveCount(w) >= 2) return undefined;
  return {
    code: "genealogy_collapsed",
    message:
      `all ${w.n} walkers descend from one initial walker after ${w.resamplings} resamplings: no Lee–Whiteley ` +
      "standard error can be computed (it would not depend on the run); use independent replicas",
  };
}

/**
 * `walkerHealth`'s warnings for these walkers' updates, plus `genealogyWarning`'s and, when the resampling
 * is multinomial (the Lee–Whiteley estimator's setting), `negativeVarianceWarning`'s.
 */
export function walkerWarnings(
  stats: WalkerHealthStats,
  w: WeightedWalkers,
  multinomial = true,
): HealthWarning[] {
  const warnings = walkerHealth(stats);
  const g = genealogyWarning(w);
  if (g) warnings.push(g);
  const v = multinomial && !g ? negativeVarianceWarning(w) : undefined;
  if (v) warnings.push(v);
  return warnings;
}

/** (N/(N−1))^{R+1}: the Lee–Whiteley correction after R resamplings. */
function eveCorrection(w: WeightedWalkers): number {
  const n = w.n;
  return portableExpFast((w.resamplings + 1) * portableLog1p(1 / (n - 1)));
}

/**
 * Lee–Whiteley estimate of the relative variance Var(Ẑ)/Z² of the walkers' estimate Ẑ of Z_θ/Z_θ₀
 * (module comment); by the delta method also the variance of log Ẑ when it is small. NaN for N < 2 and
 * when the estimate is negative (it is unbiased, not positive, with few walkers).
 */
export function logZRelVariance(w: WeightedWalkers): number {
  const v = lwRelVarianceRaw(w);
  return v >= 0 ? v : Number.NaN;
}

/** `logZRelVariance` before its sign check: may be negative; NaN for N < 2 or one Eve. */
function lwRelVarianceRaw(w: WeightedWalkers): number {
  const n = w.n;
  if (n < 2) return Number.NaN;
  const weights = walkerWeights(w, new Float64Array(n));
  const perEve = new Float64Array(n);
  for (let i = 0; i < n; i++) perEve[w.eve[i]] += weights[i];
  if (positiveCount(perEve) < 2) return Number.NaN;
  let s2 = 0;
  for (let e = 0; e < n; e++) s2 += perEve[e] * perEve[e];
  return 1 - eveCorrection(w) * (1 - s2);
}

/**
 * A `variance_negative` warning when the Lee–Whiteley estimate of Var(Ẑ)/Z² is negative: it is unbiased,
 * not positive, and comes out negative when few lineages survive many resamplings (the correction
 * (N/(N−1))^{R+1} then outweighs the spread over Eves), so log Z has no standard error from this run.
 */
export function negativeVarianceWarning(w: WeightedWalkers): HealthWarning | undefined {
  const v = lwRelVarianceRaw(w);
  if (!(v < 0)) return undefined;
  return {
    code: "variance_negative",
    message:
      `the Lee–Whiteley variance estimate of log Z is negative (${v.toPrecision(2)}, ${eveCount(w)} surviving ` +
      `lineages after ${w.resamplings} resamplings): no standard error; use independent replicas`,
  };
}

/**
 * The weighted mean m = Σ W_i φ_i of a per-walker quantity φ and its Lee–Whiteley standard error
 * (module comment). se is NaN for N < 2 and when one Eve carries all the weight.
 */
export function weightedMeanSe(w: WeightedWalkers, phi: ArrayLike<number>): { mean: number; se: number } {
  const n = w.n;
  const weights = walkerWeights(w, new Float64Array(n));
  let mean = 0;
  for (let i = 0; i < n; i++) if (weights[i] > 0) mean += weights[i] * phi[i];
  if (n < 2) return { mean, se: Number.NaN };
  const eveWeight = new Float64Array(n);
  for (let i = 0; i < n; i++) eveWeight[w.eve[i]] += weights[i];
  if (positiveCount(eveWeight) < 2) return { mean, se: Number.NaN };
  const perEve = new Float64Array(n);
  for (let i = 0; i < n; i++) if (weights[i] > 0) perEve[w.eve[i]] += weights[i] * (phi[i] - mean);
  let s = 0;
  for (let e = 0; e < n; e++) s += perEve[e] * perEve[e];
  return { mean, se: Math.sqrt(eveCorrection(w) * s) };
}
