/**
 * MCMC convergence diagnostics in float64: effective sample sizes (basic, bulk, tail, quantile, sd),
 * R-hat (rank-normalized split R-hat and the basic split R-hat), Monte-Carlo standard errors of the
 * mean and of the sd, and per-dimension summaries of sampler output.
 *
 * Definitions followed (equation numbers from the paper):
 *  - Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-normalization, folding, and
 *    localization: An improved R-hat for assessing convergence of MCMC", Bayesian Analysis 16(2),
 *    667–718: split chains, rank normalization with Blom's offset, eqs. (1)–(4) for R-hat, eqs.
 *    (10)–(13) for the multi-chain ESS with Geyer's initial positive and initial monotone sequences
 *    and the antithetic improvement, tail ESS from the 5 % / 95 % quantile indicators, folded R-hat.
 *  - ArviZ `arviz/stats/diagnostics.py` (`_ess`, `_ess_bulk`, `_ess_tail`, `_ess_quantile`,
 *    `_ess_mean`, `_rhat`, `_rhat_rank`, `_split_chains`, `_z_scale`, `_backtransform_ranks`,
 *    `_mcse_mean`) and `stats_utils.autocov` / `stats_utils.quantile`: the numerics are those, step
 *    for step (loop bounds, the index at which Geyer's sum is truncated, which draw a split drops,
 *    type-7 quantiles, the median of the split draws for folding).
 *  - R package `posterior` (`mcse_sd`, `ess_sd`, `rhat_basic(split = TRUE)`, `ess_basic(split =
 *    TRUE)`) and Stan's `stan/analyze/mcmc` for the edge cases, where ArviZ differs (see below).
 *
 * Layout: one scalar quantity is `chains × draws` values in chain-major order, x[c·draws + t]. Sampler
 * output is `draws × chains × dim` row-major, value (t, c, j) at ((t·chains) + c)·dim + j; `summarize`
 * takes that and returns one summary per coordinate.
 *
 * Edge cases (Stan / posterior semantics, chosen over ArviZ's where they differ):
 *  - fewer than 4 draws per chain, or any NaN / ±∞ among the draws: every diagnostic is NaN;
 *  - constant draws (max − min < 2.2e-16, posterior's `is_constant`): ESS, R-hat and MCSE are NaN
 *    (ArviZ returns ESS = chains·draws and MCSE of the mean = 0 there, R-hat NaN). The same rule
 *    applies inside: a constant quantile indicator or folded array makes that ESS / R-hat NaN, and the
 *    tail ESS / rank R-hat, a min / max of two such values, are NaN when either is NaN;
 *  - one chain is allowed for R-hat (its two halves are compared), as in posterior and Stan; ArviZ
 *    asks for two chains and returns NaN.
 * Malformed calls (length ≠ chains·draws, non-integer or non-positive sizes) throw a RangeError.
 *
 * Host independence: no Math.log, sin, cos or pow (their last bit differs between Node's V8 and a browser's):
 * the logs are the portable ones of random/elementary.ts and the FFT's twiddles come from Taylor series
 * (`twiddle`), so a browser computes Node's diagnostics bit for bit.
 */
import { portableLog } from "../random/elementary.ts";

// ---------------------------------------------------------------------------------------------------
// Normal quantile (inverse CDF), for the rank normalization. Coefficients of Wichura's AS 241 (PPND16),
// each written as the shortest decimal that gives the same double as the published 20 digits.

const A = [
  3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946, 45921.95393154987,
  67265.7709270087, 33430.57558358813, 2509.0809287301227,
];
const B = [
  1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597, 39307.89580009271,
  28729.085735721943, 5226.495278852854,
];
const C = [
  1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045, 1.2704582524523684,
  0.2417807251774506, 0.022723844989269184, 0.0007745450142783414,
];
const D = [
  1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008, 0.015198666563616457,
  0.0005475938084995345, 1.0507500716444169e-9,
];
const E = [
  6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487, 0.026532189526576124,
  0.0012426609473880784, 2.7115555687434876e-5, 2.0103343992922881e-7,
];
const F = [
  1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133,
  1.8463183175100548e-5, 1.421511758316446e-7, 2.0442631033899397e-15,
];

function poly(c: readonly number[], x: number): number {
  let y = c[c.length - 1];
  for (let i = c.length - 2; i >= 0; i--) y = y * x + c[i];
  return y;
}

/**
 * Standard normal quantile Φ⁻¹(p): Wichura's algorithm AS 241 (PPND16), relative error about 1e-16.
 * −∞ at 0, +∞ at 1, NaN outside [0, 1].
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * poly(A, r)) / poly(B, r);
  }
  let r = Math.sqrt(-portableLog(q < 0 ? p : 1 - p));
  let z: number;
  if (r <= 5) {
    r -= 1.6;
    z = poly(C, r) / poly(D, r);
  } else {
    r -= 5;
    z = poly(E, r) / poly(F, r);
  }
  return q < 0 ? -z : z;
}

// ---------------------------------------------------------------------------------------------------
// Autocovariance through a radix-2 FFT.

interface FftPlan {
  readonly n: number;
  readonly cos: Float64Array;
  readonly sin: Float64Array;
  readonly rev: Uint32Array;
  readonly re: Float64Array;
  readonly im: Float64Array;
}

const plans = new Map<number, FftPlan>();

function fftPlan(n: number): FftPlan {
  let p = plans.get(n);
  if (p) return p;
  const cos = new Float64Array(n >> 1);
  const sin = new Float64Array(n >> 1);
  for (let k = 0; k < n >> 1; k++) [cos[k], sin[k]] = twiddle(k, n);
  const bits = 31 - Math.clz32(n);
  const rev = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >>> b) & 1) << (bits - 1 - b);
    rev[i] = r >>> 0;
  }
  p = { n, cos, sin, rev, re: new Float64Array(n), im: new Float64Array(n) };
  plans.set(n, p);
  return p;
}

const SIN_COEF: number[] = [];
const COS_COEF: number[] = [];
for (let k = 0, s = 1, c = 1; k < 12; k++) {
  // (−1)^k/(2k+1)! and (−1)^k/(2k)!: enough terms for |θ| ≤ π/4 (the next are below 1e-25).
  SIN_COEF.push(s);
  COS_COEF.push(c);
  c = -s / (2 * k + 2);
  s = c / (2 * k + 3);
}

/** sin θ and cos θ for |θ| ≤ π/4 by their Taylor series (Horner in θ²): + − × only, same bits everywhere. */
function sinCosSmall(t: number): [number, number] {
  const t2 = t * t;
  let s = SIN_COEF[SIN_COEF.length - 1];
  let c = COS_COEF[COS_COEF.length - 1];
  for (let k = SIN_COEF.length - 2; k >= 0; k--) {
    s = SIN_COEF[k] + t2 * s;
    c = COS_COEF[k] + t2 * c;
  }
  return [t * s, c];
}

/** [cos, sin] of 2πk/n for 0 ≤ k < n/2 (n a power of two), reduced by symmetry to angles ≤ π/4. */
function twiddle(k: number, n: number): [number, number] {
  const angle = (j: number) => sinCosSmall((2 * Math.PI * j) / n);
  if (8 * k <= n) {
    const [s, c] = angle(k);
    return [c, s];
  }
  if (4 * k <= n) {
    const [s, c] = angle(n / 4 - k); // cos(π/2 − φ) = sin φ, sin(π/2 − φ) = cos φ
    return [s, c];
  }
  if (8 * k <= 3 * n) {
    const [s, c] = angle(k - n / 4); // cos(π/2 + φ) = −sin φ, sin(π/2 + φ) = cos φ
    return [-s, c];
  }
  const [s, c] = angle(n / 2 - k); // cos(π − φ) = −cos φ, sin(π − φ) = sin φ
  return [-c, s];
}

/** In-place complex FFT of (re, im), sign −1 in the exponent (forward) or +1 (unscaled inverse). */
function fft(p: FftPlan, re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = p.n;
  const { cos, sin, rev } = p;
  for (let i = 0; i < n; i++) {
    const j = rev[i];
    if (i < j) {
      const tr = re[i];
      re[i] = re[j];
      re[j] = tr;
      const ti = im[i];
      im[i] = im[j];
      im[j] = ti;
    }
  }
  const sign = inverse ? 1 : -1;
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1;
    const step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step];
        const wi = sign * sin[k * step];
        const a = start + k;
        const b = a + half;
        const tr = wr * re[b] - wi * im[b];
        const ti = wr * im[b] + wi * re[b];
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
      }
    }
  }
}

/**
 * Writes the autocovariances of x[offA .. offA+n) into outA[0 .. n), and those of x[offB .. offB+n) into
 * outB when offB ≥ 0, at lags 0 … n−1:
 * γ̂_k = (1/n) Σ_{t=0}^{n−1−k} (x_t − x̄)(x_{t+k} − x̄) — the "biased" estimator (divided by n, not n − k),
 * as ArviZ's `autocov` and Stan's `autocovariance` (Geyer 1992 recommends it). Computed as the inverse
 * FFT of the power spectrum of the centred sequence zero-padded to a power of two ≥ 2n; two real
 * sequences share one complex FFT (a as the real part, b as the imaginary part), and their two real, even
 * power spectra share the inverse one.
 */
function autocovInto(
  x: Float64Array,
  n: number,
  offA: number,
  outA: Float64Array,
  offB = -1,
  outB?: Float64Array,
): void {
  const two = offB >= 0;
  let meanA = 0;
  let meanB = 0;
  for (let t = 0; t < n; t++) meanA += x[offA + t];
  meanA /= n;
  if (two) {
    for (let t = 0; t < n; t++) meanB += x[offB + t];
    meanB /= n;
  }
  let m = 1;
  while (m < 2 * n) m <<= 1;
  const p = fftPlan(m);
  const { re, im } = p;
  re.fill(0);
  im.fill(0);
  for (let t = 0; t < n; t++) re[t] = x[offA + t] - meanA;
  if (two) for (let t = 0; t < n; t++) im[t] = x[offB + t] - meanB;
  fft(p, re, im, false);
  // With Z = FFT(a + ib): A_k = (Z_k + conj Z_{m−k})/2 and B_k = (Z_k − conj Z_{m−k})/(2i), so
  // |A_k|² = ((Re Z_k + Re Z_{m−k})² + (Im Z_k − Im Z_{m−k})²)/4 and |B_k|² likewise with the signs swapped.
  for (let k = 0; k <= m >> 1; k++) {
    const j = (m - k) & (m - 1);
    const xr = re[k];
    const xi = im[k];
    const yr = re[j];
    const yi = im[j];
    const pa = ((xr + yr) * (xr + yr) + (xi - yi) * (xi - yi)) / 4;
    const pb = ((xr - yr) * (xr - yr) + (xi + yi) * (xi + yi)) / 4;
    re[k] = pa;
    re[j] = pa;
    im[k] = pb;
    im[j] = pb;
  }
  fft(p, re, im, true);
  const scale = 1 / (m * n);
  for (let k = 0; k < n; k++) outA[k] = re[k] * scale;
  if (two && outB) for (let k = 0; k < n; k++) outB[k] = im[k] * scale;
}

/**
 * Autocovariances γ̂_0 … γ̂_{n−1} of one sequence (biased estimator, divided by n; see ArviZ
 * `autocov`). γ̂_0 is the variance with denominator n.
 */
export function autocovariance(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const out = new Float64Array(n);
  if (n > 0) autocovInto(asF64(x), n, 0, out);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Shapes, validity, small statistics.

/** Draws of one scalar quantity, chain-major: values[c·draws + t]. */
export interface ChainDraws {
  readonly values: Float64Array;
  readonly chains: number;
  readonly draws: number;
}

function checkShape(x: ArrayLike<number>, chains: number, draws: number): void {
  if (!Number.isInteger(chains) || chains < 1)
    throw new RangeError(`chains must be an integer ≥ 1, got ${chains}`);
  if (!Number.isInteger(draws) || draws < 0)
    throw new RangeError(`draws must be an integer ≥ 0, got ${draws}`);
  if (x.length !== chains * draws) {
    throw new RangeError(
      `expected chains·draws = ${chains}·${draws} = ${chains * draws} values, got ${x.length}`,
    );
  }
}

function allFinite(x: Float64Array): boolean {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) return false;
  return true;
}

/** posterior's `is_constant`: |max − min| < machine epsilon (absolute, as there). */
function isConstant(x: Float64Array): boolean {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return hi - lo < Number.EPSILON;
}

/** The common gate of every diagnostic: ≥ 4 draws per chain, all finite, not constant. */
function usable(x: Float64Array, draws: number): boolean {
  return draws >= 4 && allFinite(x) && !isConstant(x);
}

function meanOf(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

/** Sample variance with denominator n − 1 (two-pass). */
function varianceOf(x: Float64Array): number {
  const m = meanOf(x);
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i] - m;
    s += d * d;
  }
  return s / (x.length - 1);
}

/** Type-7 quantile (R's default, numpy's "linear", ArviZ's `quantile`) of an ascending array. */
function quantileSorted(sorted: Float64Array, prob: number): number {
  const n = sorted.length;
  const h = (n - 1) * prob;
  const lo = Math.floor(h);
  if (lo >= n - 1) return sorted[n - 1];
  return sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]);
}

function sortedCopy(x: Float64Array): Float64Array {
  return x.slice().sort();
}

/** Median of an ascending array (mean of the two middle values for an even count), as numpy's `median`. */
function medianSorted(s: Float64Array): number {
  const n = s.length;
  const h = n >> 1;
  return n % 2 === 1 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** The input as a Float64Array (itself when it is one; a copy otherwise). */
function asF64(x: ArrayLike<number>): Float64Array {
  return x instanceof Float64Array ? x : Float64Array.from(x);
}

// ---------------------------------------------------------------------------------------------------
// Split chains and rank normalization.

/**
 * Splits each chain into its first and last ⌊draws/2⌋ draws (the middle draw of an odd-length chain is
 * dropped), giving 2·chains chains: the first halves of chains 0 … m−1, then their second halves
 * (ArviZ `_split_chains`, posterior `split_chains`).
 */
export function splitChains(x: ArrayLike<number>, chains: number, draws: number): ChainDraws {
  checkShape(x, chains, draws);
  return splitF64(asF64(x), chains, draws);
}

/**
 * Rank normalization ("z-scale") of a pooled array: average ranks r for ties (1-based), then
 * z = Φ⁻¹((r − 3/8) / (S + 1/4)) with S the number of values (Blom's offset; ArviZ `_z_scale`,
 * Stan `rank_transform`). Values must not be NaN.
 */
export function rankNormalize(x: ArrayLike<number>): Float64Array {
  const v = asF64(x);
  return zScale(v, sortedCopy(v));
}

/** `rankNormalize` given the ascending copy of x. */
function zScale(x: Float64Array, sorted: Float64Array): Float64Array {
  const s = x.length;
  // zAt[i] is the score of the tie group holding sorted position i: positions i … j−1 (0-based) hold
  // ranks i+1 … j, whose average is (i + 1 + j)/2.
  const zAt = new Float64Array(s);
  const denom = s + 0.25;
  let i = 0;
  while (i < s) {
    let j = i + 1;
    while (j < s && sorted[j] === sorted[i]) j++;
    zAt[i] = normalQuantile(((i + 1 + j) / 2 - 0.375) / denom);
    i = j;
  }
  const z = new Float64Array(s);
  for (let k = 0; k < s; k++) {
    // The first sorted position of x[k] (binary search): the start of its tie group.
    const v = x[k];
    let lo = 0;
    let hi = s;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    z[k] = zAt[lo];
  }
  return z;
}

// ---------------------------------------------------------------------------------------------------
// The cores: ESS and R-hat of the chains as given (no splitting, no validity gate beyond NaN).

/**
 * ArviZ `_ess` on chains as given (needs draws ≥ 2): the multi-chain autocorrelation estimate
 * ρ̂_t = 1 − (W − mean_c γ̂_{c,t}) / var⁺ with W = mean within-chain variance (denominator n − 1) and
 * var⁺ = W·(n−1)/n + B/n (B/n = variance of the chain means, denominator m − 1; only for m > 1); Geyer's
 * initial positive sequence over pairs (ρ̂_{2k}, ρ̂_{2k+1}), stopped at the first pair with a
 * non-positive sum; the initial monotone sequence; τ̂ = −1 + 2 Σ_{t ≤ max_t} ρ̂_t + ρ̂_{max_t+1} (the
 * last, positive even term only: the antithetic improvement) bounded below by 1/log10(N); ESS = N/τ̂.
 * NaN for non-finite or constant input.
 */
function essCore(x: Float64Array, chains: number, n: number): number {
  if (!allFinite(x) || isConstant(x)) return Number.NaN;
  const acov = new Float64Array(chains * n);
  const chainMean = new Float64Array(chains);
  for (let c = 0; c < chains; c += 2) {
    const row = (i: number) => acov.subarray(i * n, (i + 1) * n);
    if (c + 1 < chains) autocovInto(x, n, c * n, row(c), (c + 1) * n, row(c + 1));
    else autocovInto(x, n, c * n, row(c));
  }
  for (let c = 0; c < chains; c++) {
    let s = 0;
    for (let t = 0; t < n; t++) s += x[c * n + t];
    chainMean[c] = s / n;
  }
  const meanAcov = (lag: number): number => {
    let s = 0;
    for (let c = 0; c < chains; c++) s += acov[c * n + lag];
    return s / chains;
  };
  const meanVar = (meanAcov(0) * n) / (n - 1);
  let varPlus = (meanVar * (n - 1)) / n;
  if (chains > 1) varPlus += varianceOf(chainMean);

  const rho = new Float64Array(n);
  let rhoEven = 1;
  rho[0] = rhoEven;
  let rhoOdd = 1 - (meanVar - meanAcov(1)) / varPlus;
  rho[1] = rhoOdd;

  // Geyer's initial positive sequence.
  let t = 1;
  while (t < n - 3 && rhoEven + rhoOdd > 0) {
    rhoEven = 1 - (meanVar - meanAcov(t + 1)) / varPlus;
    rhoOdd = 1 - (meanVar - meanAcov(t + 2)) / varPlus;
    if (rhoEven + rhoOdd >= 0) {
      rho[t + 1] = rhoEven;
      rho[t + 2] = rhoOdd;
    }
    t += 2;
  }
  const maxT = t - 2;
  // The improved estimate: keep the last even term when it is positive (antithetic chains).
  if (rhoEven > 0) rho[maxT + 1] = rhoEven;

  // Geyer's initial monotone sequence.
  t = 1;
  while (t <= maxT - 2) {
    if (rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]) {
      rho[t + 1] = (rho[t - 1] + rho[t]) / 2;
      rho[t + 2] = rho[t + 1];
    }
    t += 2;
  }

  const total = chains * n;
  let sum = 0;
  for (let k = 0; k <= maxT; k++) sum += rho[k];
  let tau = -1 + 2 * sum + (maxT + 1 < n ? rho[maxT + 1] : 0);
  tau = Math.max(tau, Math.LN10 / portableLog(total)); // 1/log10(total)
  for (let k = 0; k < n; k++) if (Number.isNaN(rho[k])) return Number.NaN;
  return total / tau;
}

/**
 * ArviZ `_rhat` on chains as given (needs chains ≥ 2, draws ≥ 2): with B/n the variance of the chain
 * means and W the mean within-chain variance (both with denominator − 1),
 * R̂ = sqrt((B/W + n − 1) / n), i.e. sqrt(var⁺ / W) with var⁺ = (n−1)/n·W + B/n.
 */
function rhatCore(x: Float64Array, chains: number, n: number): number {
  const chainMean = new Float64Array(chains);
  let w = 0;
  for (let c = 0; c < chains; c++) {
    const chain = x.subarray(c * n, (c + 1) * n);
    chainMean[c] = meanOf(chain);
    w += varianceOf(chain);
  }
  w /= chains;
  const b = n * varianceOf(chainMean);
  if (!(w > 0)) return Number.NaN;
  return Math.sqrt((b / w + n - 1) / n);
}

// ---------------------------------------------------------------------------------------------------
// Public diagnostics of one quantity (chain-major x, chains × draws).

/** Split chains of an already checked Float64Array (see `splitChains`). */
function splitF64(x: Float64Array, chains: number, draws: number): ChainDraws {
  const half = Math.floor(draws / 2);
  const values = new Float64Array(2 * chains * half);
  for (let c = 0; c < chains; c++) {
    const base = c * draws;
    values.set(x.subarray(base, base + half), c * half);
    values.set(x.subarray(base + draws - half, base + draws), (chains + c) * half);
  }
  return { values, chains: 2 * chains, draws: half };
}

/** The checked input as a Float64Array, or null when no diagnostic applies (see `usable`). */
function prepare(x: ArrayLike<number>, chains: number, draws: number): Float64Array | null {
  checkShape(x, chains, draws);
  const v = asF64(x);
  return usable(v, draws) ? v : null;
}

/**
 * Basic ESS: the ESS core on the split chains (default, as posterior's `ess_basic(split = TRUE)` and
 * ArviZ's method "split"), or on the chains as given with `split: false` (ArviZ "identity").
 */
export function essBasic(
  x: ArrayLike<number>,
  chains: number,
  draws: number,
  opts: { split?: boolean } = {},
): number {
  const v = prepare(x, chains, draws);
  if (!v) return Number.NaN;
  if (opts.split === false) return essCore(v, chains, draws);
  const s = splitF64(v, chains, draws);
  return essCore(s.values, s.chains, s.draws);
}

/** ESS for the mean: ESS of the raw split chains (ArviZ `_ess_mean`, posterior `ess_mean`). */
export function essMean(x: ArrayLike<number>, chains: number, draws: number): number {
  return essBasic(x, chains, draws);
}

/** Bulk ESS: ESS of the rank-normalized split chains (ArviZ `_ess_bulk`). */
export function essBulk(x: ArrayLike<number>, chains: number, draws: number): number {
  const v = prepare(x, chains, draws);
  if (!v) return Number.NaN;
  const s = splitF64(v, chains, draws);
  return essCore(zScale(s.values, sortedCopy(s.values)), s.chains, s.draws);
}

function essIndicator(x: Float64Array, chains: number, draws: number, q: number): number {
  const ind = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) ind[i] = x[i] <= q ? 1 : 0;
  const s = splitF64(ind, chains, draws);
  return essCore(s.values, s.chains, s.draws);
}

/**
 * ESS of the estimate of the `prob` quantile: ESS of the split chains of the indicator I(x ≤ q̂), q̂ the
 * type-7 quantile of all draws (ArviZ `_ess_quantile`).
 */
export function essQuantile(x: ArrayLike<number>, chains: number, draws: number, prob: number): number {
  if (!(prob >= 0 && prob <= 1)) throw new RangeError(`prob must be in [0, 1], got ${prob}`);
  const v = prepare(x, chains, draws);
  if (!v) return Number.NaN;
  return essIndicator(v, chains, draws, quantileSorted(sortedCopy(v), prob));
}

function essTailSorted(
  x: Float64Array,
  chains: number,
  draws: number,
  sorted: Float64Array,
  probs: readonly [number, number],
): number {
  const lo = essIndicator(x, chains, draws, quantileSorted(sorted, probs[0]));
  const hi = essIndicator(x, chains, draws, quantileSorted(sorted, probs[1]));
  return Number.isNaN(lo) || Number.isNaN(hi) ? Number.NaN : Math.min(lo, hi);
}

/**
 * Tail ESS: min of the quantile ESS at `probs` (default 5 % and 95 %; ArviZ `_ess_tail`). NaN when either
 * is NaN (e.g. a discrete quantity whose 95 % indicator is constant).
 */
export function essTail(
  x: ArrayLike<number>,
  chains: number,
  draws: number,
  probs: readonly [number, number] = [0.05, 0.95],
): number {
  const v = prepare(x, chains, draws);
  if (!v) return Number.NaN;
  return essTailSorted(v, chains, draws, sortedCopy(v), probs);
}

function squaredDeviations(x: Float64Array): Float64Array {
  const m = meanOf(x);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (x[i] - m) * (x[i] - m);
  return out;
}

/** ESS for the sd: ESS of the split chains of (x − x̄)² (posterior `ess_sd`, ArviZ `_ess_sd`). */
export function essSd(x: ArrayLike<number>, chains: number, draws: number): number {
  const v = prepare(x, chains, draws);
  if (!v) return Number.NaN;
  const s = splitF64(squaredDeviations(v), chains, draws);
  return essCore(s.values, s.chains, s.draws);
}

/**
 * Basic R-hat: R̂ of the split chains (default; posterior `rhat_basic(split = TRUE)`, ArviZ method
 * "split"), or of the chains as given with `split: false` (the original Gelman–Rubin statistic; needs
 * chains ≥ 2, NaN otherwise).
 */
export function rhatBasic(
  x: ArrayLike<number>,
  chains: number,
  draws: number,
  opts: { split?: boolean } = {},
): number {
  const v = prepare(x, chains, draws);
  if (!v) return Number.NaN;
  if (opts.split === false) return chains < 2 ? Number.NaN : rhatCore(v, chains, draws);
  const s = splitF64(v, chains, draws);
  return rhatCore(s.values, s.chains, s.draws);
}

/** max(bulk, folded) R̂ of split chains s, given its z-scores and ascending copy; NaN if either is. */
function rhatRankSplit(s: ChainDraws, zBulk: Float64Array, sortedSplit: Float64Array): number {
  const bulk = rhatCore(zBulk, s.chains, s.draws);
  const med = medianSorted(sortedSplit);
  const folded = new Float64Array(s.values.length);
  for (let i = 0; i < folded.length; i++) folded[i] = Math.abs(s.values[i] - med);
  const tail = rhatCore(zScale(folded, sortedCopy(folded)), s.chains, s.draws);
  return Number.isNaN(bulk) || Number.isNaN(tail) ? Number.NaN : Math.max(bulk, tail);
}

/**
 * Rank-normalized split R-hat (the paper's recommended R̂; ArviZ `_rhat_rank`): the max of the R̂ of the
 * rank-normalized split chains (bulk) and of the rank-normalized split chains folded about their median,
 * |x − median| (tail).
 */
export function rhat(x: ArrayLike<number>, chains: number, draws: number): number {
  const v = prepare(x, chains, draws);
  if (!v) return Number.NaN;
  const s = splitF64(v, chains, draws);
  const sorted = sortedCopy(s.values);
  return rhatRankSplit(s, zScale(s.values, sorted), sorted);
}

/** sd of all draws (denominator N − 1) over sqrt(ESS for the mean) (ArviZ `_mcse_mean`). */
export function mcseMean(x: ArrayLike<number>, chains: number, draws: number): number {
  const v = prepare(x, chains, draws);
  if (!v) return Number.NaN;
  const s = splitF64(v, chains, draws);
  return Math.sqrt(varianceOf(v)) / Math.sqrt(essCore(s.values, s.chains, s.draws));
}

function mcseSdF64(x: Float64Array, chains: number, draws: number): number {
  const d = squaredDeviations(x);
  const s = splitF64(d, chains, draws);
  const ess = essCore(s.values, s.chains, s.draws);
  const ev = meanOf(d);
  let m4 = 0;
  for (let i = 0; i < d.length; i++) m4 += d[i] * d[i];
  m4 /= d.length;
  return Math.sqrt((m4 - ev * ev) / ess / ev / 4);
}

/**
 * MCSE of the sd (posterior `mcse_sd`, ArviZ ≥ 0.16): with d = (x − x̄)², E = mean(d), the variance of
 * the variance estimate (mean(d²) − E²)/ESS(d) (Kenney & Keeping) carried to the sd by the delta method:
 * sqrt(varvar / (4E)), ESS(d) the split-chain ESS of d.
 */
export function mcseSd(x: ArrayLike<number>, chains: number, draws: number): number {
  const v = prepare(x, chains, draws);
  return v ? mcseSdF64(v, chains, draws) : Number.NaN;
}

// ---------------------------------------------------------------------------------------------------
// Summaries.

/** The summary of one scalar quantity (field names as ArviZ's `summary` columns). */
export interface QuantitySummary {
  readonly mean: number;
  /** sd of all draws, denominator N − 1. */
  readonly sd: number;
  readonly ess_bulk: number;
  readonly ess_tail: number;
  /** Rank-normalized split R-hat. */
  readonly rhat: number;
  readonly mcse_mean: number;
  readonly mcse_sd: number;
}

/**
 * All diagnostics of one quantity (chain-major x), sharing the split chains, ranks and sorts between them.
 * Same values as the separate functions.
 */
export function summarizeChains(x: ArrayLike<number>, chains: number, draws: number): QuantitySummary {
  checkShape(x, chains, draws);
  const v = asF64(x);
  const finite = allFinite(v);
  const mean = finite ? meanOf(v) : Number.NaN;
  const sd = finite && v.length > 1 ? Math.sqrt(varianceOf(v)) : Number.NaN;
  if (!usable(v, draws)) {
    const nan = Number.NaN;
    return { mean, sd, ess_bulk: nan, ess_tail: nan, rhat: nan, mcse_mean: nan, mcse_sd: nan };
  }
  const s = splitF64(v, chains, draws);
  const sortedSplit = sortedCopy(s.values);
  const z = zScale(s.values, sortedSplit);
  return {
    mean,
    sd,
    ess_bulk: essCore(z, s.chains, s.draws),
    ess_tail: essTailSorted(v, chains, draws, sortedCopy(v), [0.05, 0.95]),
    rhat: rhatRankSplit(s, z, sortedSplit),
    mcse_mean: sd / Math.sqrt(essCore(s.values, s.chains, s.draws)),
    mcse_sd: mcseSdF64(v, chains, draws),
  };
}

/**
 * Coordinate j of sampler output laid out `draws × chains × dim` (value (t, c, j) at ((t·chains)+c)·dim+j),
 * as chain-major chains × draws. The number of draws is samples.length / (chains·dim).
 */
export function extractQuantity(
  samples: ArrayLike<number>,
  chains: number,
  dim: number,
  j: number,
): Float64Array {
  const draws = drawsOf(samples, chains, dim);
  if (!Number.isInteger(j) || j < 0 || j >= dim)
    throw new RangeError(`coordinate ${j} outside 0 … ${dim - 1}`);
  const out = new Float64Array(chains * draws);
  for (let c = 0; c < chains; c++) {
    for (let t = 0; t < draws; t++) out[c * draws + t] = samples[(t * chains + c) * dim + j];
  }
  return out;
}

function drawsOf(samples: ArrayLike<number>, chains: number, dim: number): number {
  if (!Number.isInteger(chains) || chains < 1)
    throw new RangeError(`chains must be an integer ≥ 1, got ${chains}`);
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`dim must be an integer ≥ 1, got ${dim}`);
  const draws = samples.length / (chains * dim);
  if (!Number.isInteger(draws)) {
    throw new RangeError(
      `samples.length ${samples.length} is not a multiple of chains·dim = ${chains * dim}`,
    );
  }
  return draws;
}

/**
 * Per-coordinate summaries of sampler output laid out `draws × chains × dim` (row-major: draw t, chain c,
 * coordinate j at ((t·chains)+c)·dim+j). Returns `dim` summaries.
 */
export function summarize(samples: ArrayLike<number>, chains: number, dim: number): QuantitySummary[] {
  const draws = drawsOf(samples, chains, dim);
  const out: QuantitySummary[] = [];
  for (let j = 0; j < dim; j++)
    out.push(summarizeChains(extractQuantity(samples, chains, dim, j), chains, draws));
  return out;
}

/**
 * Mean acceptance probability of a Metropolis-adjusted sampler (e.g. the per-step min(1, α) values of all
 * chains). NaN for an empty input or any non-finite value; a RangeError for a value outside [0, 1].
 */
export function acceptanceRate(acceptProbs: ArrayLike<number>): number {
  const n = acceptProbs.length;
  if (n === 0) return Number.NaN;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const a = acceptProbs[i];
    if (!Number.isFinite(a)) return Number.NaN;
    if (a < 0 || a > 1) throw new RangeError(`acceptance probability ${a} at ${i} is outside [0, 1]`);
    s += a;
  }
  return s / n;
}

// ---------------------------------------------------------------------------------------------------
// Warnings about a run, from its summaries.

/** A problem with a run's diagnostics: a stable `code` for programs, a one-line `message` for people. */
export interface DiagnosticWarning {
  readonly code: "too-few-draws" | "non-finite-draws" | "constant-draws" | "nan-rhat" | "rhat" | "low-ess";
  readonly message: string;
  /** The coordinates concerned (indices into the summaries), worst first where there is an order. */
  readonly coordinates: readonly number[];
}

export interface WarningOptions {
  /** R-hat above this is flagged (default 1.01, Vehtari et al. 2021). */
  maxRhat?: number;
  /** Bulk or tail ESS below this many per chain is flagged (default 100; see `diagnosticWarnings`). */
  minEssPerChain?: number;
  /** Name of coordinate j in messages (default `x${j}`). */
  name?: (j: number) => string;
  /** How many coordinates a message names before "and N more" (default 5). */
  maxNamed?: number;
}

/**
 * Warnings about the summaries of a run of `chains` chains × `draws` draws (as `summarize` returns them):
 *  - too-few-draws: fewer than 4 draws per chain, so every ESS, R-hat and MCSE is NaN;
 *  - non-finite-draws: coordinates with NaN or ±∞ among their draws (the chains diverged);
 *  - constant-draws: coordinates that never moved (stuck chains, or a value fixed by the target);
 *  - nan-rhat: R-hat or bulk ESS is NaN although the draws are finite and vary (a coordinate with too few
 *    distinct values for rank diagnostics, e.g. folded ±1 draws that are all 1);
 *  - rhat: R-hat > `maxRhat` (1.01): the chains disagree;
 *  - low-ess: bulk or tail ESS < `minEssPerChain` × chains. The rule of Vehtari et al. (2021, §4.3), as
 *    documented by ArviZ and the R package posterior: both ESS should be at least about 100 per chain
 *    (400 for four chains) for R-hat, means and quantiles to be reliable. A NaN tail ESS alone is not
 *    flagged: it is expected for coordinates with two values (bits, spins), whose 5 % / 95 % quantile
 *    indicators are constant.
 * A NaN diagnostic never passes silently: it is either explained by one of the first four warnings or
 * flagged by nan-rhat. Each message names the first few coordinates (worst first) and how many there are.
 */
export function diagnosticWarnings(
  summaries: readonly QuantitySummary[],
  chains: number,
  draws: number,
  options: WarningOptions = {},
): DiagnosticWarning[] {
  const maxRhat = options.maxRhat ?? 1.01;
  const perChain = options.minEssPerChain ?? 100;
  const minEss = perChain * chains;
  const name = options.name ?? ((j: number) => `x${j}`);
  const maxNamed = options.maxNamed ?? 5;
  const dim = summaries.length;
  const out: DiagnosticWarning[] = [];
  const fmt = (v: number) => (Math.abs(v) >= 1e4 ? v.toExponential(2) : String(Math.round(v)));
  /** "x0 (…), x3 (…) and 4 more — 6 of 10 coordinates" */
  const list = (js: number[], detail?: (j: number) => string) => {
    const shown = js
      .slice(0, maxNamed)
      .map((j) => (detail ? `${name(j)} (${detail(j)})` : name(j)))
      .join(", ");
    const more = js.length > maxNamed ? ` and ${js.length - maxNamed} more` : "";
    return `${shown}${more} — ${js.length} of ${dim} coordinate${dim === 1 ? "" : "s"}`;
  };
  const all = Array.from({ length: dim }, (_, j) => j);
  if (draws < 4) {
    out.push({
      code: "too-few-draws",
      message: `ESS, R-hat and MCSE need at least 4 draws per chain, got ${draws}: they are NaN (not checked); run more draws`,
      coordinates: all,
    });
    return out;
  }
  const nonFinite = all.filter((j) => !Number.isFinite(summaries[j].mean));
  if (nonFinite.length > 0)
    out.push({
      code: "non-finite-draws",
      message: `NaN or infinite draws in ${list(nonFinite)}: the chains diverged; their diagnostics are NaN`,
      coordinates: nonFinite,
    });
  const constant = all.filter(
    (j) => Number.isFinite(summaries[j].mean) && !(summaries[j].sd >= Number.EPSILON),
  );
  if (constant.length > 0)
    out.push({
      code: "constant-draws",
      message: `constant draws in ${list(constant)}: the chains never moved there (stuck, or fixed by the target); ESS and R-hat are NaN`,
      coordinates: constant,
    });
  const explained = new Set([...nonFinite, ...constant]);
  const nanRhat = all.filter(
    (j) => !explained.has(j) && (Number.isNaN(summaries[j].rhat) || Number.isNaN(summaries[j].ess_bulk)),
  );
  if (nanRhat.length > 0)
    out.push({
      code: "nan-rhat",
      message: `R-hat or bulk ESS is NaN for ${list(nanRhat)}: too few distinct values for rank diagnostics, convergence not checked`,
      coordinates: nanRhat,
    });
  const highRhat = all
    .filter((j) => summaries[j].rhat > maxRhat)
    .sort((a, b) => summaries[b].rhat - summaries[a].rhat);
  if (highRhat.length > 0)
    out.push({
      code: "rhat",
      message: `R-hat > ${maxRhat} for ${list(highRhat, (j) => summaries[j].rhat.toFixed(3))}: chains disagree (not mixed, or stuck in different modes)`,
      coordinates: highRhat,
    });
  const worstEss = (j: number) => {
    const s = summaries[j];
    return Number.isNaN(s.ess_tail) ? s.ess_bulk : Math.min(s.ess_bulk, s.ess_tail);
  };
  const lowEss = all.filter((j) => worstEss(j) < minEss).sort((a, b) => worstEss(a) - worstEss(b));
  if (lowEss.length > 0)
    out.push({
      code: "low-ess",
      message: `bulk or tail ESS < ${minEss} (${perChain} per chain) for ${list(lowEss, (j) => `bulk ${fmt(summaries[j].ess_bulk)}, tail ${Number.isNaN(summaries[j].ess_tail) ? "NaN" : fmt(summaries[j].ess_tail)}`)}: estimates are unreliable; run longer or reparametrize`,
      coordinates: lowEss,
    });
  return out;
}
