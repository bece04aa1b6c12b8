/**
 * Weighted walkers: positions with cached U and ∇U under the current energy, and float64 log-weights
 * A_i. The running estimate of log(Z_θ / Z_θ₀) is `logZShift + logMeanExp(A)`: resampling folds the
 * current log-mean weight into `logZShift` and resets A to 0, so the estimate carries across resamplings.
 */
import { essFromLogWeights, logMeanExp, normalizedWeights } from "../math/logspace.ts";
import { gatherRows, type ResamplingScheme, resample } from "../math/resampling.ts";
import type { Key } from "../random/key.ts";
import type { ChainState } from "../samplers/types.ts";

export interface WeightedWalkers extends ChainState {
  /** Log-weights A_i (float64). */
  readonly logw: Float64Array;
  /** Σ of log-mean-weights folded in at past resamplings. */
  logZShift: number;
  /** Number of resamplings so far. */
  resamplings: number;
}

export function weightedWalkers(state: ChainState, logw?: Float64Array): WeightedWalkers {
  const a = new Float64Array(state.n);
  if (logw) a.set(logw.subarray(0, state.n));
  return { ...state, logw: a, logZShift: 0, resamplings: 0 };
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
 * Resamples when ESS < threshold·n (threshold in (0, 1]; pass 0 to never resample). Positions and the
 * cached U, ∇U are gathered from the ancestors, A is reset to 0 and log Z stays unbiased.
 * Returns whether resampling happened.
 */
export function maybeResample(
  key: Key,
  w: WeightedWalkers,
  threshold: number,
  scheme: ResamplingScheme = "multinomial",
): boolean {
  if (!(threshold > 0) || walkerEss(w) >= threshold * w.n) return false;
  const n = w.n;
  const d = w.dim;
  const weights = walkerWeights(w, new Float64Array(n));
  const idx = resample(scheme, key, weights, n);
  w.logZShift += logMeanExp(w.logw, n);
  w.position.set(gatherRows(w.position, d, idx, new Float64Array(n * d)));
  w.grad.set(gatherRows(w.grad, d, idx, new Float64Array(n * d)));
  w.u.set(gatherRows(w.u, 1, idx, new Float64Array(n)));
  w.logw.fill(0);
  w.resamplings++;
  return true;
}
