/**
 * Exact log Z, moments and marginals of a nearest-neighbour Ising model on a rows × cols grid by the
 * transfer matrix, for grids whose narrower side is at most 14 spins wide (10 with a periodic boundary
 * along the other side). Models are described by their bonds (`IsingGridBonds`); `gridBonds` reads them
 * off an `IsingEnergy` (refusing couplings that are not grid bonds), `isingFromBonds` goes the other way.
 *
 * The transfer is applied one spin at a time, on a "broken row" profile of the last `cols` spins added:
 * adding spin (r, c) replaces bit c of the profile (spin (r − 1, c)) by the new spin, summing over the
 * old one. One site costs 2^(cols+1) log-add-exps instead of the 4^cols of a
 * row-to-row matrix (a 14×14 grid takes a fraction of a second). Everything is float64 log-space:
 * partial partition functions are stored as logs and combined by log-add-exp, never as sums of raw
 * exponentials. Along with them each profile carries the conditional mean and variance of the partial
 * energy and magnetisation (law of total variance, so no E[U²] − E[U]² cancellation), which gives E[U],
 * Var U, E[m] and E[m²] exactly; a backward pass gives the single-site marginals.
 *
 * A periodic bond from the last row to the first is handled by fixing the first row (2^cols runs, summed
 * in log-space); a periodic bond within a row costs nothing extra (the row's first spin is in the
 * profile when its last spin is added). The cheaper orientation (rows ↔ cols) is chosen automatically.
 */
import { IsingEnergy } from "./ising.ts";

/**
 * A grid model U(s) = −Σ J_b s_i s_j − Σ h_i s_i, site (r, c) at index r·cols + c. A zero coupling is no
 * bond. For rows = 2 (cols = 2) the wrap entry is a second bond between the same two spins and adds to the
 * first; for rows = 1 (cols = 1) it would couple a spin to itself and must be zero.
 */
export interface IsingGridBonds {
  readonly rows: number;
  readonly cols: number;
  /** J of the bond (r, c)–(r, c + 1) at r·cols + c; at c = cols − 1, the periodic bond to (r, 0). */
  readonly horizontal: ArrayLike<number>;
  /** J of the bond (r, c)–(r + 1, c) at r·cols + c; at r = rows − 1, the periodic bond to (0, c). */
  readonly vertical: ArrayLike<number>;
  /** h, length rows·cols. */
  readonly field: ArrayLike<number>;
}

/** Widest side the transfer accepts with a free boundary across it (2^14 profiles). */
export const MAX_TRANSFER_WIDTH = 14;
/** Widest side with a periodic boundary along the transfer direction (2^10 runs of 2^10 profiles). */
export const MAX_PERIODIC_TRANSFER_WIDTH = 10;
/** Largest rows·cols·2^width entries kept for marginals (the forward pass is stored): 256 MiB. */
const MAX_MARGINAL_ENTRIES = 2 ** 25;

export interface IsingExactOptions {
  /** Inverse temperature β > 0 (default 1): the distribution is e^{−βU}/Z. */
  beta?: number;
  /** Also compute the single-site marginals (stores the forward pass; default false). */
  marginals?: boolean;
}

export interface IsingExact {
  /** log Σ_s e^{−βU(s)}. */
  logZ: number;
  /** E[U] (U unscaled by β). */
  meanEnergy: number;
  /** Var U. */
  energyVariance: number;
  /** E[m], m = (1/N) Σ_i s_i. */
  magnetization: number;
  /** E[m²]. */
  magnetizationSq: number;
  /** P(x_i = 1) = P(s_i = +1) per site, in the model's site order (with `marginals: true`). */
  marginals?: Float64Array;
}

/**
 * The grid bonds of `energy` for a rows × cols layout (site r·cols + c). Throws a RangeError naming the
 * first coupling that is not between grid neighbours (periodic neighbours count when the side is ≥ 3).
 */
export function gridBonds(energy: IsingEnergy, rows: number, cols: number): IsingGridBonds {
  checkSize(rows, cols);
  const d = energy.sites;
  if (d !== rows * cols) throw new RangeError(`the model has ${d} sites, not ${rows}×${cols}`);
  const horizontal = new Float64Array(d);
  const vertical = new Float64Array(d);
  const J = energy.couplings;
  for (let a = 0; a < d; a++)
    for (let b = a + 1; b < d; b++) {
      const v = J[a * d + b];
      if (v === 0) continue;
      const [ra, ca, rb, cb] = [Math.floor(a / cols), a % cols, Math.floor(b / cols), b % cols];
      if (ra === rb && cb === ca + 1) horizontal[a] = v;
      else if (ra === rb && ca === 0 && cb === cols - 1 && cols >= 3) horizontal[b] = v;
      else if (ca === cb && rb === ra + 1) vertical[a] = v;
      else if (ca === cb && ra === 0 && rb === rows - 1 && rows >= 3) vertical[b] = v;
      else throw new RangeError(`coupling (${a}, ${b}) is not a bond of a ${rows}×${cols} grid`);
    }
  return { rows, cols, horizontal, vertical, field: Float64Array.from(energy.field) };
}

/** The `IsingEnergy` (dense J) of grid bonds; for sizes where the dense matrix fits (tests, small grids). */
export function isingFromBonds(bonds: IsingGridBonds): IsingEnergy {
  const g = normalize(bonds);
  const { rows, cols } = g;
  const d = rows * cols;
  const J = new Float64Array(d * d);
  const add = (a: number, b: number, v: number) => {
    J[a * d + b] += v;
    J[b * d + a] += v;
  };
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const k = r * cols + c;
      if (g.horizontal[k] !== 0) add(k, r * cols + ((c + 1) % cols), g.horizontal[k]);
      if (g.vertical[k] !== 0) add(k, ((r + 1) % rows) * cols + c, g.vertical[k]);
    }
  return new IsingEnergy(J, g.field);
}

/** log Z, E[U], Var U, E[m], E[m²] (and marginals on request) of a grid model at inverse temperature β. */
export function isingGridExact(bonds: IsingGridBonds, opts: IsingExactOptions = {}): IsingExact {
  const beta = opts.beta ?? 1;
  if (!(beta > 0 && Number.isFinite(beta)))
    throw new RangeError(`beta must be positive and finite, got ${beta}`);
  const g = normalize(bonds);
  const { rows, cols } = g;
  const t = transpose(g);
  const cost = (m: Normalized) => {
    const periodic = hasVerticalWrap(m);
    if (m.cols > (periodic ? MAX_PERIODIC_TRANSFER_WIDTH : MAX_TRANSFER_WIDTH))
      return Number.POSITIVE_INFINITY;
    return (periodic ? 2 ** m.cols : 1) * m.rows * m.cols * 2 ** m.cols;
  };
  const [cg, ct] = [cost(g), cost(t)];
  if (cg === Number.POSITIVE_INFINITY && ct === Number.POSITIVE_INFINITY)
    throw new RangeError(
      `exact transfer matrix: the narrower side of a ${rows}×${cols} grid must be at most ${MAX_TRANSFER_WIDTH} ` +
        `(${MAX_PERIODIC_TRANSFER_WIDTH} when the boundary along the other side is periodic)`,
    );
  const useT = ct < cg;
  const m = useT ? t : g;
  if (opts.marginals && m.rows * m.cols * 2 ** m.cols > MAX_MARGINAL_ENTRIES)
    throw new RangeError(
      `exact marginals of a ${rows}×${cols} grid need more than ${MAX_MARGINAL_ENTRIES} stored entries`,
    );
  const res = transfer(m, beta, opts.marginals ?? false);
  if (res.marginals && useT) {
    // Back to the caller's site order: site (r, c) of the transposed grid is (c, r) of the original.
    const orig = new Float64Array(rows * cols);
    for (let r = 0; r < m.rows; r++)
      for (let c = 0; c < m.cols; c++) orig[c * cols + r] = res.marginals[r * m.cols + c];
    res.marginals = orig;
  }
  return res;
}

// ---------------------------------------------------------------------------------------------------

interface Normalized {
  rows: number;
  cols: number;
  horizontal: Float64Array;
  vertical: Float64Array;
  field: Float64Array;
}

function checkSize(rows: number, cols: number): void {
  if (!(Number.isInteger(rows) && Number.isInteger(cols) && rows >= 1 && cols >= 1))
    throw new RangeError(`grid needs positive integer sizes, got ${rows}×${cols}`);
}

/** Checked copy; a wrap bond of a side of length 2 is folded into the ordinary bond it doubles. */
function normalize(b: IsingGridBonds): Normalized {
  const { rows, cols } = b;
  checkSize(rows, cols);
  const d = rows * cols;
  for (const [name, a] of [
    ["horizontal", b.horizontal],
    ["vertical", b.vertical],
    ["field", b.field],
  ] as const) {
    if (a.length !== d) throw new RangeError(`${name} must have rows·cols = ${d} entries, got ${a.length}`);
    for (let i = 0; i < d; i++)
      if (!Number.isFinite(a[i])) throw new RangeError(`${name}[${i}] is not finite`);
  }
  const horizontal = Float64Array.from(b.horizontal);
  const vertical = Float64Array.from(b.vertical);
  for (let r = 0; r < rows; r++) {
    const last = r * cols + cols - 1;
    if (cols === 1 && horizontal[last] !== 0)
      throw new RangeError(`horizontal[${last}] couples a spin to itself (cols = 1)`);
    if (cols === 2) {
      horizontal[r * cols] += horizontal[last];
      horizontal[last] = 0;
    }
  }
  for (let c = 0; c < cols; c++) {
    const last = (rows - 1) * cols + c;
    if (rows === 1 && vertical[last] !== 0)
      throw new RangeError(`vertical[${last}] couples a spin to itself (rows = 1)`);
    if (rows === 2) {
      vertical[c] += vertical[last];
      vertical[last] = 0;
    }
  }
  return { rows, cols, horizontal, vertical, field: Float64Array.from(b.field) };
}

function transpose(g: Normalized): Normalized {
  const { rows, cols } = g;
  const d = rows * cols;
  const h = new Float64Array(d);
  const v = new Float64Array(d);
  const f = new Float64Array(d);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const k = r * cols + c;
      const kt = c * rows + r;
      h[kt] = g.vertical[k];
      v[kt] = g.horizontal[k];
      f[kt] = g.field[k];
    }
  return { rows: cols, cols: rows, horizontal: h, vertical: v, field: f };
}

function hasVerticalWrap(g: Normalized): boolean {
  if (g.rows < 3) return false;
  for (let c = 0; c < g.cols; c++) if (g.vertical[(g.rows - 1) * g.cols + c] !== 0) return true;
  return false;
}

interface RunResult {
  logZ: number;
  e1: number;
  ev: number;
  m1: number;
  mv: number;
  marginals?: Float64Array;
}

/** Sums the runs for each fixed first row (periodic) or does the single free run. */
function transfer(g: Normalized, beta: number, marginals: boolean): IsingExact {
  const n = g.rows * g.cols;
  const runs: RunResult[] = [];
  if (hasVerticalWrap(g)) {
    const tau = new Int8Array(g.cols);
    for (let t = 0; t < 2 ** g.cols; t++) {
      for (let c = 0; c < g.cols; c++) tau[c] = (t >> c) & 1 ? 1 : -1;
      runs.push(run(g, beta, tau, marginals));
    }
  } else runs.push(run(g, beta, null, marginals));
  let mx = Number.NEGATIVE_INFINITY;
  for (const r of runs) if (r.logZ > mx) mx = r.logZ;
  let s = 0;
  for (const r of runs) s += Math.exp(r.logZ - mx);
  const logZ = mx + Math.log(s);
  const weights = runs.map((r) => Math.exp(r.logZ - logZ));
  const marg = marginals ? new Float64Array(n) : undefined;
  let e1 = 0;
  let m1 = 0;
  runs.forEach((r, i) => {
    e1 += weights[i] * r.e1;
    m1 += weights[i] * r.m1;
    if (marg && r.marginals) for (let j = 0; j < n; j++) marg[j] += weights[i] * r.marginals[j];
  });
  // Law of total variance, as within a run: no E[U²] − E[U]² cancellation.
  let ev = 0;
  let mv = 0;
  runs.forEach((r, i) => {
    ev += weights[i] * (r.ev + (r.e1 - e1) ** 2);
    mv += weights[i] * (r.mv + (r.m1 - m1) ** 2);
  });
  return {
    logZ,
    meanEnergy: e1,
    energyVariance: ev,
    magnetization: m1 / n,
    magnetizationSq: (mv + m1 * m1) / (n * n),
    ...(marg ? { marginals: marg } : {}),
  };
}

/**
 * One transfer run over the grid (the first row fixed to `tau` when given). Profile σ after site (r, c):
 * bit j holds the spin of row r for j ≤ c and of row r − 1 for j > c (a virtual row of zeros, with no
 * bonds, before row 0). alpha[σ] = log of the partial sum over the spins already added that end in σ;
 * e1, ev, m1, mv are the conditional means and variances of the partial U and M given σ, updated by
 * the law of total variance (the spread of the two predecessors' means adds p₀p₁(a₀ − a₁)²), which
 * avoids the cancellation of E[U²] − E[U]² when |E[U]| is large.
 */
function run(g: Normalized, beta: number, tau: Int8Array | null, marginals: boolean): RunResult {
  const { rows: R, cols: W } = g;
  const S = 1 << W;
  const N = R * W;
  const NEG = Number.NEGATIVE_INFINITY;
  let alpha = new Float64Array(S).fill(NEG);
  alpha[0] = 0;
  let e1 = new Float64Array(S);
  let ev = new Float64Array(S);
  let m1 = new Float64Array(S);
  let mv = new Float64Array(S);
  let na = new Float64Array(S);
  let ne1 = new Float64Array(S);
  let nev = new Float64Array(S);
  let nm1 = new Float64Array(S);
  let nmv = new Float64Array(S);
  const stored = marginals ? new Float64Array(N * S) : null;
  // The local energy of adding site k with spin s (profile σ' after it) over spin su above it:
  // −Jv·s·su − s·(Jl·s_left + Jw·s_first + h_eff).
  const site = (k: number) => {
    const r = Math.floor(k / W);
    const c = k % W;
    const Jv = r > 0 ? g.vertical[(r - 1) * W + c] : 0;
    const Jl = c > 0 ? g.horizontal[r * W + c - 1] : 0;
    const Jw = c === W - 1 && W >= 3 ? g.horizontal[r * W + c] : 0;
    const hEff = g.field[k] + (tau && r === R - 1 ? g.vertical[(R - 1) * W + c] * tau[c] : 0);
    const fixed = tau && r === 0 ? tau[c] : 0;
    return { c, Jv, Jl, Jw, hEff, fixed };
  };
  const spin = (sigma: number, j: number) => ((sigma >> j) & 1 ? 1 : -1);
  /** ΔU of site k except the vertical bond, for the profile σ' after it (s = its bit c). */
  const localU = (p: ReturnType<typeof site>, sp: number, s: number) => {
    let f = p.hEff;
    if (p.Jl !== 0) f += p.Jl * spin(sp, p.c - 1);
    if (p.Jw !== 0) f += p.Jw * spin(sp, 0);
    return -s * f;
  };

  for (let k = 0; k < N; k++) {
    const p = site(k);
    const bit = 1 << p.c;
    for (let sp = 0; sp < S; sp++) {
      const s = sp & bit ? 1 : -1;
      if (p.fixed !== 0 && s !== p.fixed) {
        na[sp] = NEG;
        ne1[sp] = nev[sp] = nm1[sp] = nmv[sp] = 0;
        continue;
      }
      const base = localU(p, sp, s);
      const s0 = sp & ~bit;
      const s1 = sp | bit;
      // su = −1 (old bit 0) and +1 (old bit 1).
      const dU0 = base + p.Jv * s;
      const dU1 = base - p.Jv * s;
      const a0 = alpha[s0] - beta * dU0;
      const a1 = alpha[s1] - beta * dU1;
      const mx = a0 > a1 ? a0 : a1;
      if (mx === NEG) {
        na[sp] = NEG;
        ne1[sp] = nev[sp] = nm1[sp] = nmv[sp] = 0;
        continue;
      }
      const t = Math.exp((a0 > a1 ? a1 : a0) - mx);
      na[sp] = mx + Math.log1p(t);
      const pMax = 1 / (1 + t);
      const p0 = a0 >= a1 ? pMax : t * pMax;
      const p1 = a0 >= a1 ? t * pMax : pMax;
      // Profiles of weight zero carry zero moments, so these are plain convex combinations.
      const u0 = e1[s0] + dU0;
      const u1 = e1[s1] + dU1;
      ne1[sp] = p0 * u0 + p1 * u1;
      nev[sp] = p0 * ev[s0] + p1 * ev[s1] + p0 * p1 * (u0 - u1) ** 2;
      nm1[sp] = p0 * m1[s0] + p1 * m1[s1] + s;
      nmv[sp] = p0 * mv[s0] + p1 * mv[s1] + p0 * p1 * (m1[s0] - m1[s1]) ** 2;
    }
    [alpha, na] = [na, alpha];
    [e1, ne1] = [ne1, e1];
    [ev, nev] = [nev, ev];
    [m1, nm1] = [nm1, m1];
    [mv, nmv] = [nmv, mv];
    if (stored) stored.set(alpha, k * S);
  }

  let mx = NEG;
  for (let sp = 0; sp < S; sp++) if (alpha[sp] > mx) mx = alpha[sp];
  const out: RunResult = { logZ: mx, e1: 0, ev: 0, m1: 0, mv: 0 };
  if (mx === NEG) return out;
  let sum = 0;
  for (let sp = 0; sp < S; sp++) sum += Math.exp(alpha[sp] - mx);
  const logZ = mx + Math.log(sum);
  out.logZ = logZ;
  const w = new Float64Array(S);
  for (let sp = 0; sp < S; sp++) {
    w[sp] = Math.exp(alpha[sp] - logZ);
    out.e1 += w[sp] * e1[sp];
    out.m1 += w[sp] * m1[sp];
  }
  for (let sp = 0; sp < S; sp++) {
    out.ev += w[sp] * (ev[sp] + (e1[sp] - out.e1) ** 2);
    out.mv += w[sp] * (mv[sp] + (m1[sp] - out.m1) ** 2);
  }
  if (stored) out.marginals = backward(g, beta, stored, logZ, site, localU);
  return out;
}

/**
 * Backward pass: b[σ'] = log of the sum over the spins after site k given the profile σ' after it; the
 * profile after site k has probability e^{alpha_k[σ'] + b[σ'] − log Z}, and site k is its bit c.
 */
function backward<P extends { c: number; Jv: number; fixed: number }>(
  g: Normalized,
  beta: number,
  stored: Float64Array,
  logZ: number,
  site: (k: number) => P,
  localU: (p: P, sp: number, s: number) => number,
): Float64Array {
  const { rows: R, cols: W } = g;
  const S = 1 << W;
  const N = R * W;
  const NEG = Number.NEGATIVE_INFINITY;
  const marg = new Float64Array(N);
  let b = new Float64Array(S);
  let nb = new Float64Array(S);
  for (let k = N - 1; k >= 0; k--) {
    const p = site(k);
    const bit = 1 << p.c;
    let m = 0;
    for (let sp = 0; sp < S; sp++) {
      if (!(sp & bit)) continue;
      const l = stored[k * S + sp] + b[sp];
      if (l !== NEG) m += Math.exp(l - logZ);
    }
    marg[k] = Math.min(1, m);
    // Message to the profile σ before site k (its bit c is the spin above): sum over the new spin s.
    for (let sg = 0; sg < S; sg++) {
      const su = sg & bit ? 1 : -1;
      let a0 = NEG;
      let a1 = NEG;
      const spM = sg & ~bit;
      const spP = sg | bit;
      if (p.fixed !== 1 && b[spM] !== NEG) a0 = b[spM] - beta * (localU(p, spM, -1) + p.Jv * su);
      if (p.fixed !== -1 && b[spP] !== NEG) a1 = b[spP] - beta * (localU(p, spP, 1) - p.Jv * su);
      const mx = a0 > a1 ? a0 : a1;
      nb[sg] = mx === NEG ? NEG : mx + Math.log1p(Math.exp((a0 > a1 ? a1 : a0) - mx));
    }
    [b, nb] = [nb, b];
  }
  return marg;
}
