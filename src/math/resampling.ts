/**
 * Resampling schemes for weighted walkers. Each takes normalized weights (length N), draws M ancestor
 * indices, and is unbiased: E[#offspring of i] = M·w_i. They differ in variance: multinomial is the
 * baseline; stratified, systematic and residual have lower variance of offspring counts.
 * Indices come out sorted by ancestor, which keeps the gather that follows cache friendly.
 */
import { defineKernel } from "../kernels/registry.ts";
import { type Key, Stream } from "../random/key.ts";

export type ResamplingScheme = "multinomial" | "systematic" | "stratified" | "residual";
export const RESAMPLING_SCHEMES: readonly ResamplingScheme[] = [
  "multinomial",
  "systematic",
  "stratified",
  "residual",
];

/** Inverse-CDF walk: for sorted points u_k in [0,1), the ancestor of each is the first i with cdf_i > u_k. */
function invertSorted(w: Float64Array, u: Float64Array, out: Int32Array): Int32Array {
  const n = w.length;
  let i = 0;
  let cdf = w[0];
  for (let k = 0; k < u.length; k++) {
    const target = u[k]; // the walk is clamped at the last index against rounding in the cdf
    while (target >= cdf && i < n - 1) {
      i++;
      cdf += w[i];
    }
    out[k] = i;
  }
  return out;
}

function total(w: Float64Array): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) {
    const v = w[i];
    if (!(v >= 0) || !Number.isFinite(v)) throw new RangeError(`resampling weight ${i} is ${v}`);
    s += v;
  }
  if (!(s > 0)) throw new RangeError("resampling weights sum to zero");
  return s;
}

/** Scratch buffers of the alias method, reused across calls of the same size. */
let aliasProb = new Float64Array(0);
let aliasIndex = new Int32Array(0);
let aliasWork = new Int32Array(0);

/**
 * M i.i.d. draws from Categorical(w) in O(N + M) without logarithms: Walker's alias table (one uniform
 * per draw picks a column and decides between it and its alias), then a counting sort so the ancestors
 * come out sorted.
 */
export function multinomial(key: Key, w: Float64Array, m = w.length, out = new Int32Array(m)): Int32Array {
  const s = total(w);
  MULTINOMIAL.require()(w, s, new Stream(key), out.length === m ? out : out.subarray(0, m));
  return out;
}

/**
 * The multinomial-resampling kernel: out.length ancestors from weights w with Σw = total, drawn from
 * `rng` (advanced in place). Every implementation performs the same operations on the same draws, so the
 * ancestors are identical on every backend.
 */
export type MultinomialKernel = (w: Float64Array, total: number, rng: Stream, out: Int32Array) => void;

/** The TypeScript alias method (the native kernel performs the same operations). */
export function multinomialAlias(w: Float64Array, s: number, rng: Stream, out: Int32Array): void {
  const n = w.length;
  const m = out.length;
  if (aliasProb.length < n) {
    aliasProb = new Float64Array(n);
    aliasIndex = new Int32Array(n);
    aliasWork = new Int32Array(n + 1);
  }
  const prob = aliasProb;
  const alias = aliasIndex;
  // Vose's construction: columns scaled to mean 1; small ones (< 1) are topped up by large ones.
  // `work` holds the small stack growing up from 0 and the large stack growing down from n − 1.
  const work = aliasWork;
  let small = 0;
  let large = n;
  const scale = n / s;
  for (let i = 0; i < n; i++) {
    const p = w[i] * scale;
    prob[i] = p;
    alias[i] = i;
    if (p < 1) work[small++] = i;
    else work[--large] = i;
  }
  while (small > 0 && large < n) {
    const l = work[--small];
    const g = work[large];
    alias[l] = g;
    const pg = prob[g] + prob[l] - 1;
    prob[g] = pg;
    if (pg < 1) {
      large++;
      work[small++] = g;
    }
  }
  // Whatever is left is 1 up to rounding.
  while (small > 0) prob[work[--small]] = 1;
  for (let k = large; k < n; k++) prob[work[k]] = 1;
  // Draws as offspring counts (in `work`), then written out in ancestor order.
  const counts = work;
  counts.fill(0, 0, n);
  for (let k = 0; k < m; k++) {
    const u = rng.uniform() * n;
    // `u | 0` keeps the column a small integer (Math.floor returns a double: 2.5× slower indexing here);
    // the select is arithmetic because the coin is unpredictable.
    const col = Math.min(n - 1, u | 0);
    const keep = +(u - col < prob[col]);
    const other = alias[col];
    counts[other + keep * (col - other)]++;
  }
  let k = 0;
  for (let i = 0; i < n; i++) for (let c = counts[i]; c > 0; c--) out[k++] = i;
}

export const MULTINOMIAL = defineKernel<MultinomialKernel>("resample.multinomial", multinomialAlias);

/** One uniform per stratum [k/M, (k+1)/M). */
export function stratified(key: Key, w: Float64Array, m = w.length, out = new Int32Array(m)): Int32Array {
  const s = total(w);
  const rng = new Stream(key);
  const u = new Float64Array(m);
  for (let k = 0; k < m; k++) u[k] = ((k + rng.uniform()) / m) * s;
  return invertSorted(w, u, out);
}

/** A single uniform shifted through all strata. */
export function systematic(key: Key, w: Float64Array, m = w.length, out = new Int32Array(m)): Int32Array {
  const s = total(w);
  const u0 = new Stream(key).uniform();
  const u = new Float64Array(m);
  for (let k = 0; k < m; k++) u[k] = ((k + u0) / m) * s;
  return invertSorted(w, u, out);
}

/** Deterministic floor(M·w_i) copies, the remainder drawn multinomially from the residual weights. */
export function residual(key: Key, w: Float64Array, m = w.length, out = new Int32Array(m)): Int32Array {
  const s = total(w);
  const n = w.length;
  const res = new Float64Array(n);
  const counts = new Int32Array(n);
  let placed = 0;
  for (let i = 0; i < n; i++) {
    const mw = (m * w[i]) / s;
    const c = Math.floor(mw);
    counts[i] = c;
    placed += c;
    res[i] = mw - c;
  }
  const rest = m - placed;
  if (rest > 0) {
    const extra = multinomial(key, res, rest);
    for (let k = 0; k < rest; k++) counts[extra[k]]++;
  }
  let k = 0;
  for (let i = 0; i < n; i++) for (let c = 0; c < counts[i]; c++) out[k++] = i;
  return out;
}

const SCHEMES: Record<ResamplingScheme, typeof multinomial> = {
  multinomial,
  systematic,
  stratified,
  residual,
};

/** Ancestor indices from the named scheme. */
export function resample(
  scheme: ResamplingScheme,
  key: Key,
  w: Float64Array,
  m = w.length,
  out = new Int32Array(m),
): Int32Array {
  return SCHEMES[scheme](key, w, m, out);
}

/** Gathers rows: dst[k] = src[idx[k]] for row-major n × dim arrays. `dst` must not alias `src`. */
export function gatherRows(src: Float64Array, dim: number, idx: Int32Array, dst: Float64Array): Float64Array {
  for (let k = 0; k < idx.length; k++) {
    const from = idx[k] * dim;
    const to = k * dim;
    for (let j = 0; j < dim; j++) dst[to + j] = src[from + j];
  }
  return dst;
}
