/**
 * Float64 log-space helpers for weighted walkers: logsumexp, normalized weights, effective sample size.
 * Weights are always handled as log-weights; exponentials are taken only after subtracting the maximum.
 * exp and log are the portable ones of src/random/elementary.ts (portableExpFast, portableLog), not
 * Math's, so that seeded results are the same bits on every host (Node's and a browser's Math.exp/log
 * differ in the last bit).
 */
import { portableExpFast, portableLog } from "../random/elementary.ts";

type Num = Float64Array | Float32Array | number[];

/** log Σ exp(a_i), stable; −∞ for an empty input or all −∞. NaN propagates. */
export function logSumExp(a: Num, n = a.length): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const v = a[i];
    if (v > m) m = v;
    else if (Number.isNaN(v)) return Number.NaN;
  }
  if (m === Number.NEGATIVE_INFINITY) return m;
  if (m === Number.POSITIVE_INFINITY) return m;
  let s = 0;
  for (let i = 0; i < n; i++) s += portableExpFast(a[i] - m);
  return m + portableLog(s);
}

/** log((1/n) Σ exp(a_i)). */
export function logMeanExp(a: Num, n = a.length): number {
  return logSumExp(a, n) - portableLog(n);
}

/** Normalized weights w_i = exp(a_i) / Σ_j exp(a_j), written into `out`. Returns the logsumexp. */
export function normalizedWeights(logw: Num, out: Float64Array): number {
  const n = out.length;
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const v = logw[i];
    if (v > m) m = v;
    else if (Number.isNaN(v)) m = Number.NaN;
  }
  if (!Number.isFinite(m)) throw new RangeError(`cannot normalize log-weights: logsumexp is ${m}`);
  return m + portableLog(softmaxAtMax(logw, m, out));
}

/**
 * Softmax with its maximum known: out_i = e^{a_i − m} / S, S = Σ_i e^{a_i − m}, for m = max_i a_i (finite),
 * i < out.length; `out` may be `a`. Returns S ∈ [1, n], so log Σ_i e^{a_i} = m + log S for a caller that
 * needs it (a log costs about two exps: responsibilities for a parameter gradient do without). One exp
 * per entry, then one rescale (S ≥ 1, so nothing underflows).
 */
export function softmaxAtMax(a: Num, m: number, out: Float64Array): number {
  const n = out.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += out[i] = portableExpFast(a[i] - m);
  const inv = 1 / s;
  for (let i = 0; i < n; i++) out[i] *= inv;
  return s;
}

/** Effective sample size (Σw)² / Σw² computed from log-weights, in [1, n]. */
export function essFromLogWeights(logw: Num, n = logw.length): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) if (logw[i] > m) m = logw[i];
  if (!Number.isFinite(m)) return Number.NaN;
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const w = portableExpFast(logw[i] - m);
    s1 += w;
    s2 += w * w;
  }
  return (s1 * s1) / s2;
}

/** Effective sample size 1 / Σ w_i² of normalized weights. */
export function essFromWeights(w: Num, n = w.length): number {
  let s2 = 0;
  for (let i = 0; i < n; i++) s2 += w[i] * w[i];
  return 1 / s2;
}

/** Numerically careful mean and (unbiased) variance of a float64 sample. */
export function meanVar(x: Num, n = x.length): { mean: number; variance: number } {
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i] - mean;
    mean += d / (i + 1);
    m2 += d * (x[i] - mean);
  }
  return { mean, variance: n > 1 ? m2 / (n - 1) : Number.NaN };
}
