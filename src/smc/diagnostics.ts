/**
 * The diagnostics every Jarzynski objective reports for its populations of weighted walkers (the training
 * walkers and the decoupled estimator population): ESS before and after the last update, resamplings, the
 * log Z estimate with its Lee–Whiteley SE, the last update's increment spread and the health warnings.
 */
import { type HealthWarning, incrementSpread, type WalkerHealthStats } from "./health.ts";
import { logSumExp } from "../math/logspace.ts";
import { portableExp, portableLog } from "../random/elementary.ts";
import { logZRatio, logZRelVariance, type WeightedWalkers, walkerWarnings } from "./walkers.ts";

/** What a population keeps for its diagnostics. */
export interface WalkerPopulationState {
  walkers: WeightedWalkers;
  /** Log-weight increments of the last update. */
  increments: Float64Array;
  /** ESS of the last update before resampling, and whether it resampled. */
  essBefore: number;
  resampled: boolean;
  health: WalkerHealthStats;
}

export interface WalkerDiagnostics {
  /** ESS of the last weight update, taken before resampling (the start's ESS before any update). */
  ess: number;
  /** ESS after the last update's resampling, if any (N right after a resampling). */
  essAfter: number;
  /** Whether the last update resampled. */
  resampled: boolean;
  resamplings: number;
  /** Estimate of log Z_θk − log Z of the walkers' start. */
  logZRatio: number;
  /**
   * Standard error of logZRatio (and logZ): Lee–Whiteley, via the relative variance of Ẑ (./walkers.ts).
   * NaN with a resampling scheme other than multinomial, with one walker, or when the estimate is negative.
   */
  logZSe: number;
  /** Spread max − min of the last update's finite log-weight increments, and its count of non-finite ones. */
  incrementSpread: number;
  nonFinite: number;
  /** Running statistics over all updates so far (a live reference). */
  health: WalkerHealthStats;
  /** `walkerWarnings(health, walkers)`: empty when the weights are healthy. */
  warnings: HealthWarning[];
}

/** Diagnostics of the decoupled estimator population. */
export interface EstimatorWalkerDiagnostics {
  walkers: number;
  ess: number;
  resamplings: number;
  logZRatio: number;
  logZSe: number;
  warnings: HealthWarning[];
  /**
   * With islands (islandEstimatorDiagnostics): their number and each island's logZRatio. `walkers`, `ess`
   * and `resamplings` are then sums over the islands.
   */
  islands?: number;
  islandLogZRatios?: number[];
}

/** For populations that start from a reference of known log Z. */
export interface AbsoluteLogZ {
  /** logZBase + logZRatio: the running estimate of log Z_θk. */
  logZ: number;
  /** log Z of the walkers' start, the reference of logZRatio. */
  logZBase: number;
}

/**
 * The training population's diagnostics; with `logZBase` also the absolute log Z. `logZSe` is NaN unless
 * the resampling is multinomial.
 */
export function walkerDiagnostics(p: WalkerPopulationState, multinomial: boolean): WalkerDiagnostics;
export function walkerDiagnostics(
  p: WalkerPopulationState,
  multinomial: boolean,
  logZBase: number,
): WalkerDiagnostics & AbsoluteLogZ;
export function walkerDiagnostics(
  p: WalkerPopulationState,
  multinomial: boolean,
  logZBase?: number,
): WalkerDiagnostics & Partial<AbsoluteLogZ> {
  const w = p.walkers;
  const ratio = logZRatio(w);
  const inc = p.health.updates > 0 ? incrementSpread(p.increments, w.n) : { spread: 0, nonFinite: 0 };
  return {
    ess: p.essBefore,
    // The weights have not changed since essBefore, except by a resampling (which sets them equal).
    essAfter: p.resampled ? w.n : p.essBefore,
    resampled: p.resampled,
    resamplings: w.resamplings,
    logZRatio: ratio,
    ...(logZBase !== undefined ? { logZ: logZBase + ratio, logZBase } : {}),
    // On demand: a pass over the weights that most iterations do not need.
    get logZSe() {
      return multinomial ? Math.sqrt(logZRelVariance(w)) : Number.NaN;
    },
    incrementSpread: inc.spread,
    nonFinite: inc.nonFinite,
    health: p.health,
    warnings: walkerWarnings(p.health, w, multinomial),
  };
}

/** The estimator population's diagnostics; with `logZBase` also the absolute log Z. */
export function estimatorDiagnostics(
  p: WalkerPopulationState,
  multinomial: boolean,
): EstimatorWalkerDiagnostics;
export function estimatorDiagnostics(
  p: WalkerPopulationState,
  multinomial: boolean,
  logZBase: number,
): EstimatorWalkerDiagnostics & Pick<AbsoluteLogZ, "logZ">;
export function estimatorDiagnostics(
  p: WalkerPopulationState,
  multinomial: boolean,
  logZBase?: number,
): EstimatorWalkerDiagnostics & Partial<Pick<AbsoluteLogZ, "logZ">> {
  const w = p.walkers;
  const ratio = logZRatio(w);
  return {
    walkers: w.n,
    ess: p.essBefore,
    resamplings: w.resamplings,
    logZRatio: ratio,
    ...(logZBase !== undefined ? { logZ: logZBase + ratio } : {}),
    get logZSe() {
      return multinomial ? Math.sqrt(logZRelVariance(w)) : Number.NaN;
    },
    warnings: walkerWarnings(p.health, w, multinomial),
  };
}

/**
 * The estimator population run as R ≥ 2 independent islands (Vergé, Dubarry, Del Moral & Moulines 2015) of
 * N_r walkers each (N = Σ N_r): each island resamples only within itself, so each gives its own unbiased
 * Ẑ_r, pooled as Ẑ = Σ_r (N_r/N) Ẑ_r. With Var(Ẑ_r) ≈ σ²/N_r, σ² is estimated from the islands as
 * Σ_r N_r (Ẑ_r − Ẑ)²/(R − 1), so Var(Ẑ)/Ẑ² ≈ Σ_r N_r (Ẑ_r/Ẑ − 1)² / ((R − 1) N), and the SE of log Ẑ is
 * its square root (delta method; R − 1 degrees of freedom; with equal islands, the sample variance of
 * Ẑ_r/Ẑ over R). Unlike the Lee–Whiteley SE it needs no surviving genealogy, so it stays available when
 * every island's walkers descend from one initial walker. It cannot see what every island misses: small
 * islands, and walkers that lag behind a changing model, bias log Ẑ low without the spread showing it.
 * The islands' own `genealogy_collapsed` and `few_walkers` warnings are dropped (neither concerns the
 * pooled estimate and its SE); their other warnings are kept, prefixed with the island.
 */
export function islandEstimatorDiagnostics(
  islands: readonly WalkerPopulationState[],
): EstimatorWalkerDiagnostics;
export function islandEstimatorDiagnostics(
  islands: readonly WalkerPopulationState[],
  logZBase: number,
): EstimatorWalkerDiagnostics & Pick<AbsoluteLogZ, "logZ">;
export function islandEstimatorDiagnostics(
  islands: readonly WalkerPopulationState[],
  logZBase?: number,
): EstimatorWalkerDiagnostics & Partial<Pick<AbsoluteLogZ, "logZ">> {
  const r = islands.length;
  if (r < 2) throw new RangeError(`islands: need at least 2, got ${r}`);
  const sizes = islands.map((p) => p.walkers.n);
  const n = sizes.reduce((a, b) => a + b, 0);
  const ratios = islands.map((p) => logZRatio(p.walkers));
  // log Σ_r (N_r/N) e^{ratio_r}
  const shifted = ratios.map((l, i) => l + portableLog(sizes[i] / n));
  const ratio = logSumExp(shifted);
  let s2 = 0;
  for (let i = 0; i < r; i++) s2 += sizes[i] * (portableExp(ratios[i] - ratio) - 1) ** 2;
  s2 /= (r - 1) * n;
  const warnings: HealthWarning[] = [];
  islands.forEach((p, i) => {
    for (const w of walkerWarnings(p.health, p.walkers))
      if (w.code !== "genealogy_collapsed" && w.code !== "few_walkers" && w.code !== "variance_negative")
        warnings.push({ code: w.code, message: `island ${i + 1}: ${w.message}` });
  });
  return {
    walkers: n,
    ess: islands.reduce((a, p) => a + p.essBefore, 0),
    resamplings: islands.reduce((a, p) => a + p.walkers.resamplings, 0),
    logZRatio: ratio,
    ...(logZBase !== undefined ? { logZ: logZBase + ratio } : {}),
    logZSe: Number.isFinite(ratio) ? Math.sqrt(s2) : Number.NaN,
    warnings,
    islands: r,
    islandLogZRatios: ratios,
  };
}
