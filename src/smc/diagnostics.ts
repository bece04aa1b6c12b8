/**
 * The diagnostics every Jarzynski objective reports for its populations of weighted walkers (the training
 * walkers and the decoupled estimator population): ESS before and after the last update, resamplings, the
 * log Z estimate with its Lee–Whiteley SE, the last update's increment spread and the health warnings.
 */
import { type HealthWarning, incrementSpread, type WalkerHealthStats } from "./health.ts";
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
    warnings: walkerWarnings(p.health, w),
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
    warnings: walkerWarnings(p.health, w),
  };
}
