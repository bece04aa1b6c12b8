/**
 * Maximum mean discrepancy between two sample sets, with its standard error.
 *
 * The unbiased estimator (Gretton, Borgwardt, Rasch, Schölkopf & Smola 2012, JMLR, eq. 3) for x_1 … x_m
 * and y_1 … y_n and a kernel k:
 *   MMD²_u = 1/(m(m−1)) Σ_{i≠i'} k(x_i, x_i') + 1/(n(n−1)) Σ_{j≠j'} k(y_j, y_j') − 2/(mn) Σ_{i,j} k(x_i, y_j).
 * It is a two-sample U-statistic: unbiased for MMD², and negative values happen when the distributions
 * are equal (so |MMD²_u| is compared with its SE, not MMD²_u with 0).
 *
 * Standard error: the two-sample jackknife (leave out one x, then one y; Arvesen 1969),
 *   Var ≈ (m−1)/m Σ_i (θ_(i) − θ̄_x)² + (n−1)/n Σ_j (θ_(j) − θ̄_y)²,
 * computed exactly in O((m+n)²) from the kernel's row sums (no matrix is stored). When P ≠ Q the
 * statistic is non-degenerate and the jackknife is consistent for its variance. When P = Q it is
 * degenerate (variance O(1/n²) from the second-order term) and the jackknife is conservative: for a
 * degenerate U-statistic its expectation is about twice the true variance (an SE √2 too large; Efron &
 * Stein 1981 show the jackknife never underestimates in expectation). So "|MMD²| within a few SE" is a
 * safe test of equality, and under a difference the SE is the right size. Chosen over a block estimate,
 * which estimates the variance of a different (block) statistic.
 *
 * Kernels are functions of two points given as (array, index): `gaussianKernel(σ)`,
 * k(a, b) = exp(−‖a − b‖²/(2σ²)), with σ by default the median of the pairwise distances of the pooled
 * sample (the median heuristic, Gretton et al. 2012 §8), and `hammingKernel()`, k(a, b) = exp(−H(a, b)/d)
 * with H the number of differing coordinates, for bit vectors (0/1 or ±1 coded, any two distinct values).
 */

/** k(a_i, b_j) for point i of `a` and point j of `b` (both row-major with `dim` coordinates per point). */
export type PairKernel = (a: Float64Array, i: number, b: Float64Array, j: number, dim: number) => number;

/** Gaussian kernel exp(−‖a − b‖²/(2σ²)). */
export function gaussianKernel(bandwidth: number): PairKernel {
  if (!(bandwidth > 0) || !Number.isFinite(bandwidth))
    throw new RangeError(`kernel bandwidth must be positive, got ${bandwidth}`);
  const c = -0.5 / (bandwidth * bandwidth);
  return (a, i, b, j, dim) => {
    let s = 0;
    const oa = i * dim;
    const ob = j * dim;
    for (let t = 0; t < dim; t++) {
      const d = a[oa + t] - b[ob + t];
      s += d * d;
    }
    return Math.exp(c * s);
  };
}

/** Kernel exp(−H(a, b)/d) over bit vectors, H = number of coordinates where a and b differ. */
export function hammingKernel(): PairKernel {
  return (a, i, b, j, dim) => {
    let h = 0;
    const oa = i * dim;
    const ob = j * dim;
    for (let t = 0; t < dim; t++) if (a[oa + t] !== b[ob + t]) h++;
    return Math.exp(-h / dim);
  };
}

/**
 * The median heuristic: the median of the positive pairwise Euclidean distances of the pooled sample
 * (up to `maxPoints` points, taken evenly spaced from each set in proportion to its size). 1 when every
 * pair coincides.
 */
export function medianBandwidth(
  x: Float64Array,
  nx: number,
  y: Float64Array,
  ny: number,
  dim: number,
  maxPoints = 1000,
): number {
  const total = nx + ny;
  const take = Math.min(total, maxPoints);
  const tx = Math.max(1, Math.round((take * nx) / total));
  const ty = Math.max(1, take - tx);
  const pool = new Float64Array((tx + ty) * dim);
  let p = 0;
  const pick = (src: Float64Array, n: number, t: number) => {
    for (let s = 0; s < t; s++) {
      const i = Math.floor((s * n) / t);
      for (let a = 0; a < dim; a++) pool[p * dim + a] = src[i * dim + a];
      p++;
    }
  };
  pick(x, nx, Math.min(tx, nx));
  pick(y, ny, Math.min(ty, ny));
  const all = new Float64Array((p * (p - 1)) / 2);
  let m = 0;
  for (let i = 0; i < p; i++)
    for (let j = i + 1; j < p; j++) {
      let s = 0;
      for (let a = 0; a < dim; a++) {
        const t = pool[i * dim + a] - pool[j * dim + a];
        s += t * t;
      }
      if (s > 0) all[m++] = s;
    }
  if (m === 0) return 1;
  const d = all.subarray(0, m).sort(); // a typed array sorts numerically
  const h = m >> 1;
  return m % 2 === 1 ? Math.sqrt(d[h]) : 0.5 * (Math.sqrt(d[h - 1]) + Math.sqrt(d[h]));
}

export interface MmdOptions {
  /** The kernel (default: Gaussian with `bandwidth`). */
  kernel?: PairKernel;
  /** Gaussian bandwidth σ (default: the median heuristic). Ignored with `kernel`. */
  bandwidth?: number;
}

export interface MmdResult {
  /** Unbiased MMD²_u. */
  mmd2: number;
  /** Jackknife standard error of MMD²_u (module comment). */
  se: number;
  /** The Gaussian bandwidth used (NaN with a custom kernel). */
  bandwidth: number;
  nx: number;
  ny: number;
}

/**
 * Unbiased MMD² between x (nx × dim) and y (ny × dim), row-major, with its jackknife SE (module comment).
 * nx, ny ≥ 3.
 */
export function mmd2(
  x: Float64Array,
  nx: number,
  y: Float64Array,
  ny: number,
  dim: number,
  opts: MmdOptions = {},
): MmdResult {
  if (!(Number.isInteger(nx) && nx >= 3 && Number.isInteger(ny) && ny >= 3))
    throw new RangeError(`MMD needs at least 3 points in each set, got ${nx} and ${ny}`);
  if (x.length < nx * dim || y.length < ny * dim)
    throw new RangeError("a sample set holds fewer points than stated");
  let bandwidth = Number.NaN;
  let k = opts.kernel;
  if (k === undefined) {
    bandwidth = opts.bandwidth ?? medianBandwidth(x, nx, y, ny, dim);
    k = gaussianKernel(bandwidth);
  }
  const m = nx;
  const n = ny;
  // Row sums: rx_i = Σ_{i'≠i} k(x_i, x_i'), ry_j likewise, cx_i = Σ_j k(x_i, y_j), cy_j = Σ_i k(x_i, y_j).
  const rx = new Float64Array(m);
  const ry = new Float64Array(n);
  const cx = new Float64Array(m);
  const cy = new Float64Array(n);
  for (let i = 0; i < m; i++)
    for (let j = i + 1; j < m; j++) {
      const v = k(x, i, x, j, dim);
      rx[i] += v;
      rx[j] += v;
    }
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const v = k(y, i, y, j, dim);
      ry[i] += v;
      ry[j] += v;
    }
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      const v = k(x, i, y, j, dim);
      cx[i] += v;
      cy[j] += v;
    }
  let a = 0;
  let b = 0;
  let c = 0;
  for (let i = 0; i < m; i++) {
    a += rx[i];
    c += cx[i];
  }
  for (let j = 0; j < n; j++) b += ry[j];
  const stat = (aa: number, bb: number, cc: number, mm: number, nn: number) =>
    aa / (mm * (mm - 1)) + bb / (nn * (nn - 1)) - (2 * cc) / (mm * nn);
  const value = stat(a, b, c, m, n);
  // Leave-one-out values, then the two-sample jackknife variance.
  const looX = new Float64Array(m);
  const looY = new Float64Array(n);
  for (let i = 0; i < m; i++) looX[i] = stat(a - 2 * rx[i], b, c - cx[i], m - 1, n);
  for (let j = 0; j < n; j++) looY[j] = stat(a, b - 2 * ry[j], c - cy[j], m, n - 1);
  const spread = (v: Float64Array) => {
    let mean = 0;
    for (let i = 0; i < v.length; i++) mean += v[i];
    mean /= v.length;
    let s = 0;
    for (let i = 0; i < v.length; i++) s += (v[i] - mean) ** 2;
    return ((v.length - 1) / v.length) * s;
  };
  const variance = spread(looX) + spread(looY);
  return { mmd2: value, se: Math.sqrt(variance), bandwidth, nx: m, ny: n };
}
