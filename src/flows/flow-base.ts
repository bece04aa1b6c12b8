/**
 * A generalized EBM (Arbel, Zhou & Gretton, ICLR 2021) whose base has a density: a flow q reweighted by an
 * energy E,
 *
 *   dQ_{q,E}(x) = q(x) e^{−E(x)} dx / Z,   Z = E_{X~q}[e^{−E(X)}],
 *
 * is an ordinary EBM with energy U(x) = E(x) − log q(x) and the same Z (log q integrates to 0). So there are
 * two independent ways to normalise it, and agreeing is a check of the flow (its sampler against its
 * density) and of the estimators:
 *
 * 1. Importance sampling with the base as proposal (`flowBaseImportance`): X_j ~ q, j = 1 … m,
 *      log Ẑ = log (1/m) Σ_j e^{−E(X_j)}   (log-mean-exp),
 *    with the delta-method standard error SE(log Ẑ) = √(s²_w / (m·w̄²)) (w̄, s²_w: mean and unbiased
 *    variance of the weights w_j = e^{−E(X_j)}, computed after subtracting the largest log-weight). Ẑ is
 *    unbiased for Z; log Ẑ is biased low by ≈ SE²/2. Then log p(x) = log q(x) − E(x) − log Ẑ
 *    (`flowBaseLogLikelihood`). Samples of the model: self-normalised importance resampling of the X_j by
 *    weights ∝ e^{−E(X_j)} (`flowBaseResample`; consistent as m → ∞, its quality measured by the ESS).
 * 2. The energy view (`flowBaseEnergy`): U = E + (−log q) as a product of experts
 *    (src/energies/product.ts), normalised by anything that normalises an energy; in d = 2, midpoint
 *    quadrature on a grid (src/eval/grid.ts), log p(x) = −U(x) − log Z_grid.
 *
 * `checkFlowBase` runs both in d = 2 and reports the differences with their error bars: log Ẑ against
 * log Z_grid in units of the IS SE (the grid's quadrature error is |log Z(n) − log Z(n/2)| from refining,
 * and the mass that the window cuts off is estimated from the weighted samples), the held-out
 * log-likelihood both ways, and the first and second moments of the resampled draws against the grid
 * density's (normalised on the window; the report gives the mass outside), each with its Monte Carlo SE: for a moment f, the resampled mean f̃ = (1/M) Σ_k f(X_{a_k})
 * (a_k multinomial ancestors) has variance Σ_j w̄_j²(f_j − f̂)² (self-normalised IS, delta method,
 * w̄ normalised weights, f̂ = Σ w̄_j f_j) plus Var_w̄(f)/M (the multinomial draw).
 */
import type { Energy } from "../energies/contract.ts";
import { type ProductOfExperts, productOfExperts } from "../energies/product.ts";
import { type GridEvaluation, type GridSpec, gridEvaluate } from "../eval/grid.ts";
import { essFromLogWeights, logMeanExp, normalizedWeights } from "../math/logspace.ts";
import { gatherRows, multinomial } from "../math/resampling.ts";
import { portableExpFast } from "../random/elementary.ts";
import { type Key, split } from "../random/key.ts";
import { type Flow, FlowEnergy } from "./flow.ts";

function checkDims(flow: Flow, energy: Energy): void {
  if (flow.dim !== energy.dim)
    throw new RangeError(`the flow has dimension ${flow.dim}, the energy ${energy.dim}`);
}

/**
 * U(x) = E(x) − log q(x) as one energy. Its θ is the energy's θ (if trainable), followed by the flow's
 * when `trainBase` is set (default: the base is frozen, as a fixed proposal).
 */
export function flowBaseEnergy(
  flow: Flow,
  energy: Energy,
  opts: { trainBase?: boolean } = {},
): ProductOfExperts {
  checkDims(flow, energy);
  return productOfExperts([energy, { energy: new FlowEnergy(flow), frozen: opts.trainBase !== true }]);
}

export interface FlowBaseImportance {
  /** The m proposals X_j ~ q (m × dim). */
  x: Float64Array;
  /** log q(X_j). */
  logq: Float64Array;
  /** Log-weights −E(X_j). */
  logw: Float64Array;
  /** log Ẑ = log-mean-exp of the log-weights. */
  logZ: number;
  /** Delta-method SE of log Ẑ (module comment). */
  se: number;
  /** Effective sample size of the weights, in [1, m]. */
  ess: number;
  m: number;
}

/** m draws of the flow weighted by e^{−E}: log Ẑ with its SE, and the weighted draws. */
export function flowBaseImportance(flow: Flow, energy: Energy, key: Key, m: number): FlowBaseImportance {
  checkDims(flow, energy);
  if (!(Number.isInteger(m) && m >= 2)) throw new RangeError(`need m ≥ 2 proposals, got ${m}`);
  const { x, logq } = flow.sample(key, m);
  const logw = new Float64Array(m);
  energy.energy(x, m, logw);
  let top = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < m; j++) {
    logw[j] = -logw[j];
    if (Number.isNaN(logw[j])) throw new RangeError(`the energy is NaN at proposal ${j}`);
    if (logw[j] > top) top = logw[j];
  }
  if (!Number.isFinite(top)) throw new RangeError(`the largest log-weight is ${top}`);
  let mean = 0;
  let m2 = 0;
  for (let j = 0; j < m; j++) {
    const w = portableExpFast(logw[j] - top);
    const delta = w - mean;
    mean += delta / (j + 1);
    m2 += delta * (w - mean);
  }
  const se = Math.sqrt(m2 / (m - 1) / m) / mean;
  return { x, logq, logw, logZ: logMeanExp(logw), se, ess: essFromLogWeights(logw), m };
}

export interface FlowBaseLogLikelihood {
  /** log p(x_i) = log q(x_i) − E(x_i) − log Z per point. */
  logp: Float64Array;
  /** Mean of log p over the points. */
  mean: number;
  /** SE of the mean: the points' sd/√n combined with the SE of log Z. */
  se: number;
  n: number;
}

/** log p(x_i) of the model for the n points of x, with log Z (and its SE) from `norm`, e.g. IS's. */
export function flowBaseLogLikelihood(
  flow: Flow,
  energy: Energy,
  x: Float64Array,
  n: number,
  norm: { logZ: number; se?: number },
): FlowBaseLogLikelihood {
  checkDims(flow, energy);
  if (!(n >= 1 && x.length >= n * flow.dim)) throw new RangeError(`x must hold n ≥ 1 points`);
  const logp = new Float64Array(n);
  const e = new Float64Array(n);
  flow.logProb(x, n, logp);
  energy.energy(x, n, e);
  for (let i = 0; i < n; i++) logp[i] -= e[i] + norm.logZ;
  return summarise(logp, norm.se ?? 0);
}

function summarise(logp: Float64Array, logZSe: number): FlowBaseLogLikelihood {
  const n = logp.length;
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    const delta = logp[i] - mean;
    mean += delta / (i + 1);
    m2 += delta * (logp[i] - mean);
  }
  const dataVar = n > 1 ? m2 / (n - 1) / n : 0;
  return { logp, mean, se: Math.sqrt(dataVar + logZSe * logZSe), n };
}

export interface FlowBaseSample {
  /** n draws (n × dim) by resampling the proposals. */
  x: Float64Array;
  /** ESS of the proposals' weights (the resampled draws are worth at most this many independent ones). */
  ess: number;
  logZ: number;
  se: number;
}

/**
 * n approximate draws of the model by self-normalised importance resampling: `proposals` (default 4n)
 * flow draws, n multinomial ancestors by weights ∝ e^{−E}.
 */
export function flowBaseResample(
  flow: Flow,
  energy: Energy,
  key: Key,
  n: number,
  opts: { proposals?: number } = {},
): FlowBaseSample {
  const [kq, kr] = split(key, 2);
  const is = flowBaseImportance(flow, energy, kq, opts.proposals ?? 4 * n);
  const w = new Float64Array(is.m);
  normalizedWeights(is.logw, w);
  const idx = multinomial(kr, w, n);
  const x = gatherRows(is.x, flow.dim, idx, new Float64Array(n * flow.dim));
  return { x, ess: is.ess, logZ: is.logZ, se: is.se };
}

export interface FlowBaseMoment {
  /** "x", "y", "x²", "y²" or "xy". */
  name: string;
  /** Mean of f over the resampled draws. */
  resampled: number;
  /** Its Monte Carlo SE (module comment). */
  se: number;
  /** ∫ f p on the grid (p normalised on the window). */
  grid: number;
  /** |grid(n) − grid(n/2)|. */
  gridError: number;
  /** (resampled − grid) / se. */
  z: number;
}

export interface FlowBaseCheck {
  importance: { logZ: number; se: number; ess: number; m: number };
  grid: { logZ: number; logZError: number; edgeMass: number; n: number };
  /** Model mass outside the grid's window, from the weighted proposals, with its SE. */
  outside: { mass: number; se: number };
  /** log Ẑ_IS − log Z_grid, and the same in units of the IS SE. */
  logZDifference: number;
  logZZ: number;
  /** Held-out log-likelihood both ways (when held-out points are given). */
  heldOut?: {
    n: number;
    importance: FlowBaseLogLikelihood;
    grid: FlowBaseLogLikelihood;
    /** max_i |log p_IS(x_i) − log p_grid(x_i)|. */
    maxAbsDifference: number;
  };
  /** Number of resampled draws M. */
  resampled: number;
  moments: FlowBaseMoment[];
}

export interface CheckFlowBaseOptions {
  /** 2-D window and cells per axis for the quadrature (n ≥ 8). */
  grid: GridSpec;
  /** IS proposals m. */
  proposals: number;
  /** Resampled draws M for the moments (default m). */
  resampled?: number;
  /** Held-out points (n × 2) whose log-likelihood is computed both ways. */
  heldOut?: Float64Array;
}

const MOMENTS: [string, (a: number, b: number) => number][] = [
  ["x", (a) => a],
  ["y", (_a, b) => b],
  ["x²", (a) => a * a],
  ["y²", (_a, b) => b * b],
  ["xy", (a, b) => a * b],
];

function gridMoments(g: GridEvaluation): number[] {
  const pts = g.grid.points;
  return MOMENTS.map(([, f]) => {
    let s = 0;
    for (let c = 0; c < g.density.length; c++) s += g.density[c] * f(pts[2 * c], pts[2 * c + 1]);
    return s * g.grid.cellArea;
  });
}

/** Importance sampling against grid quadrature for a 2-D flow base and energy (module comment). */
export function checkFlowBase(
  flow: Flow,
  energy: Energy,
  key: Key,
  opts: CheckFlowBaseOptions,
): FlowBaseCheck {
  checkDims(flow, energy);
  const spec = opts.grid;
  if (flow.dim !== 2 || spec.ymin === undefined || spec.ymax === undefined)
    throw new RangeError("checkFlowBase needs d = 2 and a 2-D grid");
  if (!(spec.n >= 8)) throw new RangeError(`the grid needs n ≥ 8 cells per axis, got ${spec.n}`);
  const [kq, kr] = split(key, 2);
  const is = flowBaseImportance(flow, energy, kq, opts.proposals);
  const m = is.m;
  const w = new Float64Array(m);
  normalizedWeights(is.logw, w);

  const u = flowBaseEnergy(flow, energy);
  const fine = gridEvaluate(u, spec);
  const coarse = gridEvaluate(u, { ...spec, n: Math.floor(spec.n / 2) });

  // Mass outside the window, self-normalised: Σ w̄_j 1_j, SE² = Σ w̄_j² (1_j − P̂)².
  let out = 0;
  const isOut = new Uint8Array(m);
  for (let j = 0; j < m; j++) {
    const a = is.x[2 * j];
    const b = is.x[2 * j + 1];
    if (a < spec.xmin || a > spec.xmax || b < spec.ymin || b > spec.ymax) {
      isOut[j] = 1;
      out += w[j];
    }
  }
  let outVar = 0;
  for (let j = 0; j < m; j++) outVar += w[j] * w[j] * (isOut[j] - out) ** 2;

  // Moments of the resampled draws with their SE, against the grid's.
  const big = opts.resampled ?? m;
  const idx = multinomial(kr, w, big);
  const gf = gridMoments(fine);
  const gc = gridMoments(coarse);
  const moments = MOMENTS.map(([name, f], q): FlowBaseMoment => {
    let fhat = 0;
    for (let j = 0; j < m; j++) fhat += w[j] * f(is.x[2 * j], is.x[2 * j + 1]);
    let vSnis = 0;
    let vW = 0;
    for (let j = 0; j < m; j++) {
      const r = f(is.x[2 * j], is.x[2 * j + 1]) - fhat;
      vSnis += w[j] * w[j] * r * r;
      vW += w[j] * r * r;
    }
    let s = 0;
    for (let k = 0; k < big; k++) s += f(is.x[2 * idx[k]], is.x[2 * idx[k] + 1]);
    const resampled = s / big;
    const se = Math.sqrt(vSnis + vW / big);
    return {
      name,
      resampled,
      se,
      grid: gf[q],
      gridError: Math.abs(gf[q] - gc[q]),
      z: (resampled - gf[q]) / se,
    };
  });

  const report: FlowBaseCheck = {
    importance: { logZ: is.logZ, se: is.se, ess: is.ess, m },
    grid: { logZ: fine.logZ, logZError: fine.logZError, edgeMass: fine.edgeMass, n: spec.n },
    outside: { mass: out, se: Math.sqrt(outVar) },
    logZDifference: is.logZ - fine.logZ,
    logZZ: (is.logZ - fine.logZ) / is.se,
    resampled: big,
    moments,
  };

  if (opts.heldOut !== undefined) {
    const n = Math.floor(opts.heldOut.length / 2);
    const viaIs = flowBaseLogLikelihood(flow, energy, opts.heldOut, n, is);
    const uh = new Float64Array(n);
    u.energy(opts.heldOut, n, uh);
    for (let i = 0; i < n; i++) uh[i] = -uh[i] - fine.logZ;
    const viaGrid = summarise(uh, fine.logZError);
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(viaIs.logp[i] - viaGrid.logp[i]));
    report.heldOut = { n, importance: viaIs, grid: viaGrid, maxAbsDifference: worst };
  }
  return report;
}
