/**
 * Grid quadrature for densities in d = 1 or 2: log Z, the normalised density on the grid, KL(data‖model),
 * total variation and mode masses, each with an error indicator. Also KL(data‖model) from data samples
 * when the data density is unknown. Float64 throughout.
 *
 * The grid. A `GridSpec` {xmin, xmax, ymin, ymax, n} is the window [xmin, xmax] × [ymin, ymax] cut into
 * n × n equal cells (n cells on [xmin, xmax] when d = 1: ymin/ymax absent), and every integral is the
 * midpoint rule: the integrand at the cell centres times the cell area dA. So
 *   log Z ≈ log Σ_cells e^{−U(c)} dA   (log-sum-exp, never a sum of exponentials),
 * and the density normalised on the grid is p(c) = e^{−U(c)} / Z_grid, with Σ p dA = 1. Cells are listed
 * x-major: cell (ix, iy) is at index ix·n + iy (as the PyTorch reference's meshgrid(indexing="ij")); for
 * d = 1 the index is ix. (The PyTorch reference puts its points on linspace(−4, 4, 200) including the
 * window's edges; the midpoint rule puts them half a cell inside. Both converge to the same integral.)
 *
 * Error indicators. Every grid quantity is computed again on the same window with ⌊n/2⌋ cells per axis,
 * and the absolute difference is reported as its error (`logZError`, `klError`, …). For a smooth
 * integrand that the window contains, the midpoint rule's error is O(h²) (and much smaller, exponentially
 * small in 1/h, for analytic integrands that vanish at the window's edge), so the difference between the
 * two grids bounds the fine grid's error from above, with room: it mostly measures the coarse grid's
 * error. It does not see what lies outside the window: `edgeMass` (the normalised mass in the outermost
 * ring of cells) says whether the density is cut by the window, and `modeMassesGrid` estimates the mass
 * outside it on an enlarged window.
 *
 * KL from samples (`klDataModelSamples`). When only data samples x_1 … x_n are known, the data density is
 * estimated at each sample by its k-th nearest neighbour (Kozachenko & Leonenko 1987; the divergence
 * estimator of Wang, Kulkarni & Verdú 2009 with the model density known):
 *   log p̂(x_i) = ψ(k) − ψ(n) − log V_d − d·log ε_i,   ε_i = distance from x_i to its k-th nearest neighbour,
 *   KL̂ = (1/n) Σ_i [log p̂(x_i) − log p_m(x_i)],      log p_m = −U − log Z,
 * with V_d the volume of the unit ball in d dimensions. Chosen over a histogram or a KDE of the data on the
 * grid because those estimate KL of a *smoothed* data density (biased upward, by an amount that depends on
 * a bin width or bandwidth), while this estimator is consistent for any fixed k as n → ∞ and works in any
 * dimension. Its bias comes from the entropy term alone and is positive at finite n; measured (k = 5,
 * mean over 8–20 seeds, exact model): 0.008 / 0.003 nats for a 2-D standard normal at n = 3000 / 10 000,
 * 0.010 / 0.008 for a 4-mode mixture with unit-sd modes, 0.025 / 0.010 for the toy2d-like mixture of four
 * sd-0.5 modes. So quote absolute values from n ≥ 10⁴. The model enters only through the cross-entropy
 * −(1/n) Σ log p_m(x_i), which is unbiased: KL̂ of two models on the same data differ by exactly the
 * difference of their cross-entropies, so model comparisons carry no kNN bias. The SE is sd(z_i)/√n of the
 * per-point terms z_i, which treats them as independent (neighbouring ε_i are weakly dependent: measured,
 * the SE is 0–25% below the spread over seeds, less for larger k), combined in quadrature with the error
 * of log Z (the normalisation shifts KL̂ one for one). It needs distinct points (ε_i > 0). The model's
 * log Z comes from the caller (a closed form, AIS) or from a grid (then the model is normalised on that
 * window, as in the grid KL).
 */
import type { Energy } from "../energies/contract.ts";
import { logSumExp } from "../math/logspace.ts";
import { type Box, type Centres, centresArray } from "./masses.ts";

/** The window and the number of cells per axis. d = 2 when ymin and ymax are given, else d = 1. */
export interface GridSpec {
  xmin: number;
  xmax: number;
  ymin?: number;
  ymax?: number;
  /** Cells per axis (≥ 4, so that the half grid of the error indicator has ≥ 2). */
  n: number;
}

/** Log density up to a constant (e.g. −U) of the n points of x, written to `out`. */
export type LogDensityFn = (x: Float64Array, n: number, out: Float64Array) => void;

/** What a grid can integrate: an energy (log density −U) or a log-density function. */
export type DensitySource = Energy | LogDensityFn;

export interface Grid {
  readonly dim: 1 | 2;
  /** Cells along x and along y (ny = 1 for d = 1). */
  readonly nx: number;
  readonly ny: number;
  /** Cell centres along each axis (ys is empty for d = 1). */
  readonly xs: Float64Array;
  readonly ys: Float64Array;
  /** Area (length for d = 1) of one cell. */
  readonly cellArea: number;
  /** The nx·ny cell centres, dim each, x-major: cell (ix, iy) at index ix·ny + iy. */
  readonly points: Float64Array;
}

/** The dimension a spec describes: 2 with ymin and ymax, 1 with neither. */
export function gridDim(spec: GridSpec): 1 | 2 {
  const hasY = spec.ymin !== undefined || spec.ymax !== undefined;
  if (hasY && (spec.ymin === undefined || spec.ymax === undefined))
    throw new RangeError("a 2-D grid needs both ymin and ymax");
  return hasY ? 2 : 1;
}

/** The window of a spec as a box (for `modeMasses`' outside mass). */
export function gridWindow(spec: GridSpec): Box {
  return gridDim(spec) === 2
    ? { lower: [spec.xmin, spec.ymin as number], upper: [spec.xmax, spec.ymax as number] }
    : { lower: [spec.xmin], upper: [spec.xmax] };
}

function checkSpec(spec: GridSpec, minN: number): void {
  const d = gridDim(spec);
  const axes: [string, number, number][] = [["x", spec.xmin, spec.xmax]];
  if (d === 2) axes.push(["y", spec.ymin as number, spec.ymax as number]);
  for (const [name, lo, hi] of axes)
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo))
      throw new RangeError(
        `grid ${name} range must be finite with ${name}max > ${name}min, got [${lo}, ${hi}]`,
      );
  if (!(Number.isInteger(spec.n) && spec.n >= minN))
    throw new RangeError(`grid n must be an integer ≥ ${minN}, got ${spec.n}`);
}

/** The midpoint grid of a spec (n ≥ 1 cells per axis). */
export function makeGrid(spec: GridSpec): Grid {
  checkSpec(spec, 1);
  const dim = gridDim(spec);
  const n = spec.n;
  const hx = (spec.xmax - spec.xmin) / n;
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) xs[i] = spec.xmin + (i + 0.5) * hx;
  if (dim === 1) return { dim, nx: n, ny: 1, xs, ys: new Float64Array(0), cellArea: hx, points: xs.slice() };
  const ymin = spec.ymin as number;
  const hy = ((spec.ymax as number) - ymin) / n;
  const ys = new Float64Array(n);
  for (let j = 0; j < n; j++) ys[j] = ymin + (j + 0.5) * hy;
  const points = new Float64Array(2 * n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      points[2 * (i * n + j)] = xs[i];
      points[2 * (i * n + j) + 1] = ys[j];
    }
  return { dim, nx: n, ny: n, xs, ys, cellArea: hx * hy, points };
}

/** The log-density function of a source, checked against the grid's dimension. */
export function logDensityOf(src: DensitySource, dim: number): LogDensityFn {
  if (typeof src === "function") return src;
  if (src.dim !== dim) throw new RangeError(`the energy has dimension ${src.dim}, the grid ${dim}`);
  return (x, n, out) => {
    src.energy(x, n, out);
    for (let i = 0; i < n; i++) out[i] = -out[i];
  };
}

const CHUNK = 8192;

/** log densities at the grid's points, in chunks; NaN and +∞ are refused. */
function evaluate(f: LogDensityFn, grid: Grid): Float64Array {
  const m = grid.nx * grid.ny;
  const d = grid.dim;
  const out = new Float64Array(m);
  const buf = new Float64Array(Math.min(CHUNK, m));
  for (let s = 0; s < m; s += CHUNK) {
    const c = Math.min(CHUNK, m - s);
    f(grid.points.subarray(s * d, (s + c) * d), c, buf);
    for (let i = 0; i < c; i++) {
      const v = buf[i];
      if (Number.isNaN(v) || v === Number.POSITIVE_INFINITY) {
        const at = Array.from(grid.points.subarray((s + i) * d, (s + i + 1) * d)).join(", ");
        throw new RangeError(`the log density is ${v} at grid point (${at})`);
      }
      out[s + i] = v;
    }
  }
  return out;
}

/** Normalises log densities on the grid in place; returns log Z = log Σ e^{ℓ} dA. */
function normaliseOnGrid(logq: Float64Array, cellArea: number): number {
  const logZ = logSumExp(logq) + Math.log(cellArea);
  if (!Number.isFinite(logZ))
    throw new RangeError(`the density's integral over the grid is ${Math.exp(logZ)}`);
  for (let i = 0; i < logq.length; i++) logq[i] -= logZ;
  return logZ;
}

/** Normalised mass in the outermost ring of cells. */
function edgeMassOf(logp: Float64Array, grid: Grid): number {
  let s = 0;
  for (let i = 0; i < grid.nx; i++)
    for (let j = 0; j < grid.ny; j++) {
      const edge = i === 0 || i === grid.nx - 1 || (grid.dim === 2 && (j === 0 || j === grid.ny - 1));
      if (edge) s += Math.exp(logp[i * grid.ny + j]);
    }
  return s * grid.cellArea;
}

/** The same window with ⌊n/2⌋ cells per axis, for the error indicators (the fine spec needs n ≥ 4). */
function halfSpec(spec: GridSpec): GridSpec {
  checkSpec(spec, 4);
  return { ...spec, n: Math.floor(spec.n / 2) };
}

export interface GridEvaluation {
  grid: Grid;
  /** log ∫_window e^{−U} by the midpoint rule. */
  logZ: number;
  /** |log Z(n) − log Z(⌊n/2⌋)|: the quadrature error indicator (module comment). */
  logZError: number;
  /** log Z on the half grid. */
  logZCoarse: number;
  /** log p at the cells, normalised on the grid (Σ e^{log p} dA = 1); −∞ where U = +∞. */
  logDensity: Float64Array;
  /** p = e^{log p} at the cells (for `ebm density`: x, y, density). */
  density: Float64Array;
  /** Normalised mass in the outermost ring of cells: large means the window cuts the density. */
  edgeMass: number;
}

/** Evaluates U on the grid of `spec` (d = energy.dim = 1 or 2): log Z, normalised density, error indicators. */
export function gridEvaluate(energy: DensitySource, spec: GridSpec): GridEvaluation {
  const half = halfSpec(spec);
  const grid = makeGrid(spec);
  const f = logDensityOf(energy, grid.dim);
  const logDensity = evaluate(f, grid);
  const logZ = normaliseOnGrid(logDensity, grid.cellArea);
  const coarse = makeGrid(half);
  const logZCoarse = normaliseOnGrid(evaluate(f, coarse), coarse.cellArea);
  const density = new Float64Array(logDensity.length);
  for (let i = 0; i < density.length; i++) density[i] = Math.exp(logDensity[i]);
  return {
    grid,
    logZ,
    logZError: Math.abs(logZ - logZCoarse),
    logZCoarse,
    logDensity,
    density,
    edgeMass: edgeMassOf(logDensity, grid),
  };
}

/** KL(p_d‖p_m) and TV of two log densities normalised on the same grid. */
function divergences(ld: Float64Array, lm: Float64Array, cellArea: number): { kl: number; tv: number } {
  let kl = 0;
  let tv = 0;
  for (let i = 0; i < ld.length; i++) {
    const pd = Math.exp(ld[i]);
    const pm = Math.exp(lm[i]);
    if (pd > 0) kl += pd * (ld[i] - lm[i]);
    tv += Math.abs(pd - pm);
  }
  return { kl: kl * cellArea, tv: 0.5 * tv * cellArea };
}

export interface GridDivergence {
  /** KL(p_d‖p_m) = Σ p_d (log p_d − log p_m) dA, both normalised on the grid (+∞ if p_m = 0 where p_d > 0). */
  kl: number;
  /** |KL(n) − KL(⌊n/2⌋)|. */
  klError: number;
  /** Total variation ½ Σ |p_d − p_m| dA, in [0, 1]. */
  tv: number;
  tvError: number;
  /** log Z of each density on the window (for a normalised data density, ≈ 0 minus what lies outside). */
  logZData: number;
  logZModel: number;
  /** Normalised mass in the outermost ring of cells, for each density. */
  dataEdgeMass: number;
  modelEdgeMass: number;
}

/**
 * KL(data‖model) and total variation on the grid of `spec`, both densities normalised on the grid by
 * quadrature (as the PyTorch reference: 200 × 200 on [−4, 4]²). Either density may be an energy or a
 * log-density function (unnormalised is fine).
 */
export function klDataModelGrid(data: DensitySource, model: DensitySource, spec: GridSpec): GridDivergence {
  const at = (s: GridSpec) => {
    const grid = makeGrid(s);
    const ld = evaluate(logDensityOf(data, grid.dim), grid);
    const lm = evaluate(logDensityOf(model, grid.dim), grid);
    const logZData = normaliseOnGrid(ld, grid.cellArea);
    const logZModel = normaliseOnGrid(lm, grid.cellArea);
    return { grid, ld, lm, logZData, logZModel, ...divergences(ld, lm, grid.cellArea) };
  };
  const coarse = at(halfSpec(spec));
  const fine = at(spec);
  return {
    kl: fine.kl,
    klError: Math.abs(fine.kl - coarse.kl),
    tv: fine.tv,
    tvError: Math.abs(fine.tv - coarse.tv),
    logZData: fine.logZData,
    logZModel: fine.logZModel,
    dataEdgeMass: edgeMassOf(fine.ld, fine.grid),
    modelEdgeMass: edgeMassOf(fine.lm, fine.grid),
  };
}

/**
 * Σ e^{ℓ_i} per nearest centre, a point equidistant (to 1e-12 relative) from several centres shared
 * equally among them: with an odd number of cells, a row of cell centres lies on a symmetric Voronoi
 * boundary, and giving it to one side would bias the masses by a whole row of cells.
 */
function voronoiSums(points: Float64Array, logp: Float64Array, dim: number, c: Float64Array): Float64Array {
  const k = c.length / dim;
  const out = new Float64Array(k);
  const dist = new Float64Array(k);
  for (let i = 0; i < logp.length; i++) {
    let best = Number.POSITIVE_INFINITY;
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let a = 0; a < dim; a++) {
        const t = points[i * dim + a] - c[j * dim + a];
        s += t * t;
      }
      dist[j] = s;
      if (s < best) best = s;
    }
    const tie = best * (1 + 1e-12);
    let ties = 0;
    for (let j = 0; j < k; j++) if (dist[j] <= tie) ties++;
    // logp is normalised on the grid, so every term is at most 1/dA: no overflow.
    const p = Math.exp(logp[i]) / ties;
    for (let j = 0; j < k; j++) if (dist[j] <= tie) out[j] += p;
  }
  return out;
}

export interface GridMasses {
  /**
   * Model mass of each centre's Voronoi cell within the window, normalised on the window (sums to 1).
   * Cells cut by a Voronoi boundary go wholly to the centre nearest to their midpoint (shared on exact
   * ties), an O(h) error that massError reports.
   */
  masses: Float64Array;
  /** |masses(n) − masses(⌊n/2⌋)| per centre. */
  massError: Float64Array;
  /**
   * Fraction of the model's total mass outside the window, 1 − Z_window / Z_enlarged, from a window
   * `outerFactor` times wider with the same cell size (NaN when outerFactor = 0). Mass beyond the enlarged
   * window is not seen. The masses as fractions of the total are masses·(1 − outside).
   */
  outside: number;
  /**
   * Error indicator of `outside`: the window's logZError (the relative error of Z_window, which dominates;
   * the enlarged window's density vanishes at its edges, where the midpoint rule is far more accurate).
   */
  outsideError: number;
  /** log Z of the window and of the enlarged window (NaN when not computed). */
  logZ: number;
  logZError: number;
  logZOuter: number;
}

/**
 * Model mass in each nearest-centre (Voronoi) cell on the grid of `spec`, plus the mass outside the window
 * (module comment). `outerFactor` (default 2, as the PyTorch reference's [−8, 8]² around [−4, 4]²; 0 to
 * skip) sets the enlarged window.
 */
export function modeMassesGrid(
  energy: DensitySource,
  spec: GridSpec,
  centres: Centres,
  opts: { outerFactor?: number } = {},
): GridMasses {
  const dim = gridDim(spec);
  const c = centresArray(centres, dim);
  const k = c.length / dim;
  const f = logDensityOf(energy, dim);
  const at = (s: GridSpec) => {
    const grid = makeGrid(s);
    const lp = evaluate(f, grid);
    const logZ = normaliseOnGrid(lp, grid.cellArea);
    const masses = voronoiSums(grid.points, lp, dim, c);
    for (let j = 0; j < k; j++) masses[j] *= grid.cellArea;
    return { logZ, masses };
  };
  const coarse = at(halfSpec(spec));
  const fine = at(spec);
  const massError = new Float64Array(k);
  for (let j = 0; j < k; j++) massError[j] = Math.abs(fine.masses[j] - coarse.masses[j]);
  const factor = opts.outerFactor ?? 2;
  let logZOuter = Number.NaN;
  let outside = Number.NaN;
  if (factor !== 0) {
    if (!(factor >= 1 && Number.isFinite(factor)))
      throw new RangeError(`outerFactor must be ≥ 1 or 0, got ${factor}`);
    const widen = (lo: number, hi: number) => {
      const mid = 0.5 * (lo + hi);
      const half = 0.5 * factor * (hi - lo);
      return [mid - half, mid + half];
    };
    const [xmin, xmax] = widen(spec.xmin, spec.xmax);
    const outer: GridSpec = { xmin, xmax, n: Math.round(factor * spec.n) };
    if (dim === 2) [outer.ymin, outer.ymax] = widen(spec.ymin as number, spec.ymax as number);
    const g = makeGrid(outer);
    logZOuter = normaliseOnGrid(evaluate(f, g), g.cellArea);
    outside = Math.max(0, -Math.expm1(fine.logZ - logZOuter));
  }
  const logZError = Math.abs(fine.logZ - coarse.logZ);
  return {
    masses: fine.masses,
    massError,
    outside,
    outsideError: factor !== 0 ? logZError : Number.NaN,
    logZ: fine.logZ,
    logZError,
    logZOuter,
  };
}

// ---------------------------------------------------------------------------------------------------
// KL(data‖model) from data samples: k-nearest-neighbour density of the data at its own points.

/** ψ(m) for an integer m ≥ 1: −γ + Σ_{j<m} 1/j. */
function digammaInt(m: number): number {
  let s = -0.5772156649015329;
  for (let j = 1; j < m; j++) s += 1 / j;
  return s;
}

/** log of the volume of the unit ball in d dimensions (V_0 = 1, V_1 = 2, V_d = V_{d−2}·2π/d). */
export function logUnitBallVolume(d: number): number {
  let v = d % 2 === 0 ? 0 : Math.LN2;
  for (let m = d % 2 === 0 ? 2 : 3; m <= d; m += 2) v += Math.log((2 * Math.PI) / m);
  return v;
}

/**
 * Squared distance from each point to its k-th nearest other point (n × dim, row-major). Points are sorted
 * along the first coordinate and each search walks outwards until that coordinate alone is farther than
 * the current k-th distance: exact, and far below n² in low dimension.
 */
export function kthNeighbourDistances(x: Float64Array, n: number, dim: number, k: number): Float64Array {
  if (!(Number.isInteger(k) && k >= 1 && k < n))
    throw new RangeError(`need 1 ≤ k < n, got k = ${k}, n = ${n}`);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a * dim] - x[b * dim]);
  const first = new Float64Array(n);
  for (let p = 0; p < n; p++) first[p] = x[order[p] * dim];
  const out = new Float64Array(n);
  const best = new Float64Array(k); // the k smallest squared distances so far, ascending
  for (let p = 0; p < n; p++) {
    const i = order[p];
    best.fill(Number.POSITIVE_INFINITY);
    const consider = (q: number): boolean => {
      const dx = first[q] - first[p];
      if (dx * dx > best[k - 1]) return false;
      const j = order[q];
      let s = 0;
      for (let a = 0; a < dim; a++) {
        const t = x[i * dim + a] - x[j * dim + a];
        s += t * t;
      }
      if (s < best[k - 1]) {
        let m = k - 1;
        while (m > 0 && best[m - 1] > s) {
          best[m] = best[m - 1];
          m--;
        }
        best[m] = s;
      }
      return true;
    };
    let lo = p - 1;
    let hi = p + 1;
    let goLo = lo >= 0;
    let goHi = hi < n;
    while (goLo || goHi) {
      if (goLo) {
        goLo = consider(lo) && --lo >= 0;
      }
      if (goHi) {
        goHi = consider(hi) && ++hi < n;
      }
    }
    out[i] = best[k - 1];
  }
  return out;
}

export interface SampleKl {
  /** KL̂(data‖model) (module comment). */
  kl: number;
  /** Its standard error: per-point sd/√n, combined with the error of log Z. */
  se: number;
  /** The k-NN entropy estimate of the data, −(1/n) Σ log p̂(x_i). */
  entropy: number;
  /** The cross-entropy −(1/n) Σ log p_m(x_i) = mean U + log Z (the held-out NLL of the data). */
  crossEntropy: number;
  /** Its SE: sd(U)/√n combined with the error of log Z. */
  crossEntropySe: number;
  /** The log Z used for the model and its error. */
  logZ: number;
  logZError: number;
  k: number;
  n: number;
}

/**
 * KL(data‖model) from n data samples (n × energy.dim) by the k-nearest-neighbour estimator (module
 * comment; default k = 5). The model is normalised by `norm`: a known {logZ, logZError?} or a grid spec
 * (quadrature on that window, d ≤ 2).
 */
export function klDataModelSamples(
  data: Float64Array,
  n: number,
  model: Energy,
  norm: GridSpec | { logZ: number; logZError?: number },
  opts: { k?: number } = {},
): SampleKl {
  const dim = model.dim;
  const k = opts.k ?? 5;
  if (data.length < n * dim) throw new RangeError(`data holds fewer than ${n} points of dim ${dim}`);
  let logZ: number;
  let logZError: number;
  if ("logZ" in norm) {
    logZ = norm.logZ;
    logZError = norm.logZError ?? 0;
  } else {
    const g = gridEvaluate(model, norm);
    logZ = g.logZ;
    logZError = g.logZError;
  }
  if (!Number.isFinite(logZ)) throw new RangeError(`log Z must be finite, got ${logZ}`);
  const eps2 = kthNeighbourDistances(data, n, dim, k);
  const u = new Float64Array(n);
  model.energy(data, n, u);
  const c = digammaInt(k) - digammaInt(n) - logUnitBallVolume(dim);
  let mean = 0;
  let m2 = 0;
  let ent = 0;
  let cross = 0;
  let uMean = 0;
  let uM2 = 0;
  for (let i = 0; i < n; i++) {
    if (!(eps2[i] > 0))
      throw new RangeError(`data point ${i} has ${k} or more exact duplicates: k-NN needs distinct points`);
    const logPd = c - 0.5 * dim * Math.log(eps2[i]);
    const logPm = -u[i] - logZ;
    const z = logPd - logPm;
    ent -= logPd;
    cross -= logPm;
    const delta = z - mean;
    mean += delta / (i + 1);
    m2 += delta * (z - mean);
    const du = u[i] - uMean;
    uMean += du / (i + 1);
    uM2 += du * (u[i] - uMean);
  }
  const z2 = logZError * logZError;
  return {
    kl: mean,
    se: Math.sqrt(m2 / (n - 1) / n + z2),
    entropy: ent / n,
    crossEntropy: cross / n,
    crossEntropySe: Math.sqrt(uM2 / (n - 1) / n + z2),
    logZ,
    logZError,
    k,
    n,
  };
}
