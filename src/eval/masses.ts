/**
 * Mode masses from samples: each point goes to its nearest centre (Euclidean: the Voronoi cell of the
 * centre), and the mass of a mode is the (weighted) fraction of points in its cell. Every estimate comes
 * with its standard error, all sums in float64.
 *
 * Three sources of samples, three error models (choose the one that matches how the samples were made):
 *
 * - `modeMasses`: independent points, optionally importance-weighted (exact draws, the final states of
 *   independent chains, AIS walkers that were never resampled). With self-normalised weights
 *   W_i = w_i / Σ_j w_j, q̂_c = Σ_i W_i 1[a_i = c], and the delta-method variance of a ratio estimator,
 *     Var(q̂_c) ≈ n/(n−1) · Σ_i W_i² (1[a_i = c] − q̂_c)²
 *   (Owen, "Monte Carlo theory, methods and examples", §9.2; the factor n/(n−1) makes it the unbiased
 *   q̂(1−q̂)/(n−1) for equal weights). Its size is that of ESS = 1/Σ W_i² independent draws. It
 *   assumes independent points: for autocorrelated MCMC draws of one chain it is too small; use replicas.
 * - `modeMassesWalkers`: weighted walkers that went through resampling (smc/walkers.ts). Resampled walkers
 *   share ancestors, so the iid formula above is too small; the Lee–Whiteley estimator (`weightedMeanSe`),
 *   which sums the weights per initial ancestor, is used instead (it reduces to the formula above when no
 *   resampling happened).
 * - `combineMassReplicas` / `replicaMeanSe`: R independent replica runs (different keys): mean ± sd/√R
 *   over replicas. The most robust of the three (it needs no model of the sampler's error), and the only
 *   one valid for correlated MCMC output; it needs R ≥ 2 (R ≥ 10 for an SE worth quoting).
 *
 * An optional box `window` ({lower, upper}) also gives the mass outside it (a point is outside when any
 * coordinate is), with the same error model: the quantity the toy2d report shows next to the grid KL.
 */
import { weightedMeanSe, type WeightedWalkers } from "../smc/walkers.ts";

/** Centres of the modes: K points of dimension d. */
export type Centres = ArrayLike<ArrayLike<number>>;

/** An axis-aligned box: lower and upper bounds per coordinate. */
export interface Box {
  lower: ArrayLike<number>;
  upper: ArrayLike<number>;
}

export interface MassEstimate {
  /** Estimated mass of each centre's Voronoi cell (they sum to 1). */
  masses: Float64Array;
  /** Standard error of each mass. */
  se: Float64Array;
  /** Effective sample size 1/Σ W_i² of the normalised weights (n for equal weights). */
  ess: number;
  /** Mass outside `window` and its SE (NaN without a window). */
  outside: number;
  outsideSe: number;
}

/** K × d row-major copy of the centres, checked (at least one, each of length d, finite). */
export function centresArray(centres: Centres, dim: number): Float64Array {
  const k = centres.length;
  if (k < 1) throw new RangeError("need at least one centre");
  const out = new Float64Array(k * dim);
  for (let c = 0; c < k; c++) {
    const m = centres[c];
    if (m.length !== dim) throw new RangeError(`centre ${c} has length ${m.length}, expected ${dim}`);
    for (let a = 0; a < dim; a++) {
      if (!Number.isFinite(m[a])) throw new RangeError(`centre ${c} has a non-finite coordinate`);
      out[c * dim + a] = m[a];
    }
  }
  return out;
}

/**
 * Index of the nearest centre (Euclidean; ties go to the lower index) of each of the n points of `x`
 * (n × dim, row-major), into `out`. A point with a NaN coordinate gets −1.
 */
export function nearestCentre(
  x: Float64Array,
  n: number,
  dim: number,
  centres: Centres | Float64Array,
  out: Int32Array = new Int32Array(n),
): Int32Array {
  const c = centres instanceof Float64Array ? centres : centresArray(centres, dim);
  const k = c.length / dim;
  for (let i = 0; i < n; i++) {
    let best = -1;
    let bestD = Number.POSITIVE_INFINITY;
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let a = 0; a < dim; a++) {
        const t = x[i * dim + a] - c[j * dim + a];
        s += t * t;
      }
      if (s < bestD) {
        bestD = s;
        best = j;
      }
    }
    out[i] = best;
  }
  return out;
}

/** 1 when point i lies outside the box (any coordinate below lower or above upper), else 0. */
function outsideFlags(x: Float64Array, n: number, dim: number, box: Box): Float64Array {
  if (box.lower.length !== dim || box.upper.length !== dim)
    throw new RangeError(`window bounds must have length ${dim}`);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < dim; a++) {
      const v = x[i * dim + a];
      if (v < box.lower[a] || v > box.upper[a]) {
        out[i] = 1;
        break;
      }
    }
  return out;
}

/** Normalised weights from weights or log-weights (equal weights when neither is given). */
function normalise(n: number, weights?: ArrayLike<number>, logWeights?: ArrayLike<number>): Float64Array {
  if (weights !== undefined && logWeights !== undefined)
    throw new RangeError("give weights or logWeights, not both");
  const w = new Float64Array(n);
  if (weights === undefined && logWeights === undefined) return w.fill(1 / n);
  let m = Number.NEGATIVE_INFINITY;
  if (logWeights !== undefined) {
    if (logWeights.length < n) throw new RangeError(`logWeights has fewer than ${n} entries`);
    for (let i = 0; i < n; i++) {
      const v = logWeights[i];
      if (Number.isNaN(v) || v === Number.POSITIVE_INFINITY) throw new RangeError(`log-weight ${i} is ${v}`);
      if (v > m) m = v;
    }
    if (m === Number.NEGATIVE_INFINITY) throw new RangeError("every weight is zero");
    for (let i = 0; i < n; i++) w[i] = Math.exp(logWeights[i] - m);
  } else {
    const src = weights as ArrayLike<number>;
    if (src.length < n) throw new RangeError(`weights has fewer than ${n} entries`);
    for (let i = 0; i < n; i++) {
      const v = src[i];
      if (!(v >= 0) || !Number.isFinite(v)) throw new RangeError(`weight ${i} is ${v}`);
      w[i] = v;
    }
  }
  let s = 0;
  for (let i = 0; i < n; i++) s += w[i];
  if (!(s > 0)) throw new RangeError("every weight is zero");
  for (let i = 0; i < n; i++) w[i] /= s;
  return w;
}

/** Σ W_i φ_i and its delta-method SE √(n/(n−1) Σ W_i² (φ_i − m)²) (NaN for n < 2). */
function weightedMeanDelta(w: Float64Array, phi: ArrayLike<number>): { mean: number; se: number } {
  const n = w.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += w[i] * phi[i];
  if (n < 2) return { mean, se: Number.NaN };
  let v = 0;
  for (let i = 0; i < n; i++) {
    const t = w[i] * (phi[i] - mean);
    v += t * t;
  }
  return { mean, se: Math.sqrt((v * n) / (n - 1)) };
}

export interface ModeMassOptions {
  /** Non-negative importance weights (unnormalised). At most one of weights / logWeights. */
  weights?: ArrayLike<number>;
  /** Log importance weights (unnormalised). */
  logWeights?: ArrayLike<number>;
  /** A box: the mass outside it is estimated too. */
  window?: Box;
}

/**
 * Mode masses of n independent, optionally weighted points x (n × dim): nearest-centre assignment,
 * self-normalised weights, delta-method SE (module comment).
 */
export function modeMasses(
  x: Float64Array,
  n: number,
  dim: number,
  centres: Centres,
  opts: ModeMassOptions = {},
): MassEstimate {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`need n ≥ 1 points, got ${n}`);
  if (x.length < n * dim) throw new RangeError(`x holds fewer than ${n} points of dim ${dim}`);
  const c = centresArray(centres, dim);
  const k = c.length / dim;
  const w = normalise(n, opts.weights, opts.logWeights);
  const assign = nearestCentre(x, n, dim, c);
  const phi = new Float64Array(n);
  const masses = new Float64Array(k);
  const se = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < n; i++) phi[i] = assign[i] === j ? 1 : 0;
    const r = weightedMeanDelta(w, phi);
    masses[j] = r.mean;
    se[j] = r.se;
  }
  let s2 = 0;
  for (let i = 0; i < n; i++) s2 += w[i] * w[i];
  let outside = Number.NaN;
  let outsideSe = Number.NaN;
  if (opts.window) {
    const r = weightedMeanDelta(w, outsideFlags(x, n, dim, opts.window));
    outside = r.mean;
    outsideSe = r.se;
  }
  return { masses, se, ess: 1 / s2, outside, outsideSe };
}

/**
 * Mode masses of weighted walkers (possibly resampled): nearest-centre assignment of the walkers'
 * positions, their normalised weights, and the Lee–Whiteley SE (module comment).
 */
export function modeMassesWalkers(
  w: WeightedWalkers,
  centres: Centres,
  opts: { window?: Box } = {},
): MassEstimate {
  const { n, dim } = w;
  const c = centresArray(centres, dim);
  const k = c.length / dim;
  const assign = nearestCentre(w.position, n, dim, c);
  const phi = new Float64Array(n);
  const masses = new Float64Array(k);
  const se = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < n; i++) phi[i] = assign[i] === j ? 1 : 0;
    const r = weightedMeanSe(w, phi);
    masses[j] = r.mean;
    se[j] = r.se;
  }
  const weights = normalise(n, undefined, w.logw);
  let s2 = 0;
  for (let i = 0; i < n; i++) s2 += weights[i] * weights[i];
  let outside = Number.NaN;
  let outsideSe = Number.NaN;
  if (opts.window) {
    const r = weightedMeanSe(w, outsideFlags(w.position, n, dim, opts.window));
    outside = r.mean;
    outsideSe = r.se;
  }
  return { masses, se, ess: 1 / s2, outside, outsideSe };
}

export interface ReplicaSummary {
  /** Mean over replicas. */
  mean: number;
  /** sd/√R: the standard error of the mean (NaN for R < 2). */
  se: number;
  /** Sample standard deviation over replicas (n − 1 denominator). */
  sd: number;
  /** Number of replicas R. */
  replicas: number;
}

/** Mean, sd and SE = sd/√R of R independent replica values. */
export function replicaMeanSe(values: ArrayLike<number>): ReplicaSummary {
  const r = values.length;
  if (r < 1) throw new RangeError("need at least one replica");
  let mean = 0;
  for (let i = 0; i < r; i++) mean += values[i];
  mean /= r;
  let v = 0;
  for (let i = 0; i < r; i++) v += (values[i] - mean) ** 2;
  const sd = r > 1 ? Math.sqrt(v / (r - 1)) : Number.NaN;
  return { mean, se: sd / Math.sqrt(r), sd, replicas: r };
}

/**
 * Mode masses from R independent replica runs (each a vector of K masses): per mode, the mean over
 * replicas and its SE sd/√R.
 */
export function combineMassReplicas(replicas: ArrayLike<ArrayLike<number>>): {
  mean: Float64Array;
  se: Float64Array;
  sd: Float64Array;
  replicas: number;
} {
  const r = replicas.length;
  if (r < 1) throw new RangeError("need at least one replica");
  const k = replicas[0].length;
  const mean = new Float64Array(k);
  const se = new Float64Array(k);
  const sd = new Float64Array(k);
  const col = new Float64Array(r);
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < r; i++) {
      if (replicas[i].length !== k)
        throw new RangeError(`replica ${i} has ${replicas[i].length} masses, not ${k}`);
      col[i] = replicas[i][j];
    }
    const s = replicaMeanSe(col);
    mean[j] = s.mean;
    se[j] = s.se;
    sd[j] = s.sd;
  }
  return { mean, se, sd, replicas: r };
}
