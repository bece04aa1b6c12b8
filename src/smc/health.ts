/**
 * Health of weighted-walker estimators (Jarzynski-reweighted SMC, AIS): what to record at each weight
 * update, and when to say that the weights can no longer be trusted. A result computed from walkers under
 * any of these warnings (log Z, mode masses, the trained parameters themselves) is unreliable and must be
 * reported as such, not printed as if fine.
 *
 * Recorded per weight update (`recordWeightUpdate`): the ESS *before* resampling (after it, the ESS is N
 * by construction and says nothing), whether resampling happened, the spread max_i Δ_i − min_i Δ_i of the
 * finite log-weight increments Δ_i, and how many increments were not finite.
 *
 * The checks (`walkerHealth`), with the reason for each number:
 *
 * - `few_walkers`: N < 100. The ESS only sees the weights the walkers carry: N walkers cannot reveal a part
 *   of the target of mass below ~1/N, and with N = 1 the ESS is always 1 = N, so every other check passes
 *   vacuously while log Ẑ is a single importance weight. Below 100 walkers a weighted mass has a Monte
 *   Carlo standard error above √(q(1−q)/N) > 0.04 at q = 0.2, so even a perfect run resolves little.
 * - `ess_low`: more than half of the updates had a pre-resampling ESS below N/10 (the median ESS is below
 *   10% of N). N/ESS − 1 (the squared coefficient of variation of the weights) estimates the χ² divergence
 *   between the model and the walkers' distribution; ESS < N/10 means χ² > 9: on most iterations the
 *   walkers are far from the model they stand for, and the weighted estimates rest on fewer than a tenth
 *   of them. (With the default resampling threshold N/2 a healthy run stays above N/2 except at single
 *   iterations just before a resampling, which cannot make up half the updates.)
 * - `resampling_frequent`: resampling at more than half of the updates (and at least twice). For
 *   log-normal weights the ESS after m updates without resampling is ≈ N·e^{−mσ²}, with σ² the per-update
 *   variance of the increments, so a threshold τN is reached after m ≈ log(1/τ)/σ² updates. A rate above
 *   ½ means m < 2: with the default τ = ½, σ² > 0.35, i.e. a single update alone costs about 30% of the
 *   ESS or more. Jarzynski weights are meant to be a small correction to walkers that almost follow
 *   the model; at that rate the walkers are being selected greedily, the genealogy collapses onto a few
 *   ancestors and the log Z estimate is a product of hundreds of noisy factors.
 * - `move_unstable` (typical spread): on more than half of the updates the increments spread over more than
 *   1.5·log N (max_i Δ_i − min_i Δ_i). The number comes from a quadratic well U = λx²/2, where the ULA
 *   increment is exactly Δ = (hλ²/4)(x² − y²) for a move x → y, so it telescopes along each walker's path
 *   (single large increments are normal and undone on the way back; the maximum alone would be a poor
 *   test). At hλ = 1 ULA starts to overshoot the minimum and its stationary variance is twice the target's;
 *   there x and y are independent N(0, 2/λ) and Δ = (Z₁² − Z₂²)/2 is a product of two standard normals,
 *   whose tail is e^{−|Δ|}: one-step weight ratios with infinite variance, and a range over N walkers of
 *   ≈ 2 log N − log log N (≈ 1.6–1.8 log N for N = 10²…10⁵). A typical spread beyond 1.5·log N thus means a
 *   step at or past hλ ≈ 1 for the curvature the walkers see. Measured in the default gmm1d run (N = 1000):
 *   median spread 0.008 at h = 0.01, 3.2 at h = 0.5, 11 at h = 1, 29 at h = 1.9 (log N = 6.9).
 * - `move_unstable` (one exploding update): some update spread over more than log(Number.MAX_VALUE) ≈ 709:
 *   one move changed the relative weight of two walkers by more than float64 can represent, which a stable
 *   move of a smooth energy never does (beyond ULA's stability limit hλ > 2 walkers diverge geometrically
 *   and increments grow like |x|²).
 * - `nonfinite_weights`: some increments were NaN or ±∞ (an energy overflowed or a walker diverged).
 *   Those walkers were given weight zero (see `retireNonFinite` in ./walkers.ts), which biases every
 *   estimate by an unknown amount.
 * - `genealogy_collapsed` (`genealogyWarning` in ./walkers.ts, from the walkers rather than these statistics):
 *   every weighted walker descends from one initial walker, so the Lee–Whiteley standard errors are NaN.
 * - `variance_negative` (`negativeVarianceWarning` in ./walkers.ts, multinomial resampling only): the
 *   Lee–Whiteley estimate of Var(Ẑ)/Z² came out negative, so log Z has no standard error from the run.
 *
 * AIS (rbm/ais.ts, not wired in yet) fits the same checks if each of its path steps is recorded with
 * `recordWeightUpdate` (no resampling). From its final result alone only `few_walkers` and the ESS check
 * apply: one update whose ESS is the final one (the spread of the final log-weights is an accumulated
 * quantity, not a per-update increment, and must not be fed to the `move_unstable` check).
 */
import { portableLog } from "../random/elementary.ts";

/** A warning with a stable machine-readable code and a one-line human message. */
export interface HealthWarning {
  code:
    | "few_walkers"
    | "ess_low"
    | "resampling_frequent"
    | "move_unstable"
    | "nonfinite_weights"
    | "genealogy_collapsed"
    | "variance_negative";
  message: string;
}

/** The thresholds of `walkerHealth` (see the module comment for why each value). */
export const WALKER_HEALTH_THRESHOLDS = {
  /** Fewer walkers than this: `few_walkers`. */
  minWalkers: 100,
  /** Median pre-resampling ESS below this fraction of N: `ess_low`. */
  lowEssFraction: 0.1,
  /** Resampling at more than this fraction of the updates: `resampling_frequent`. */
  maxResamplingRate: 0.5,
  /** Median increment spread above this many times log N: `move_unstable`. */
  typicalSpreadOverLogN: 1.5,
  /** Any single update's increment spread above this (log of the largest float64): `move_unstable`. */
  maxSpread: portableLog(Number.MAX_VALUE),
} as const;

/** Running statistics of the weight updates of N walkers (all counters start at 0). */
export interface WalkerHealthStats {
  /** N, the number of walkers. */
  walkers: number;
  /** Weight updates recorded. */
  updates: number;
  /** Updates followed by a resampling. */
  resamplings: number;
  /** Updates whose pre-resampling ESS was below lowEssFraction·N. */
  lowEssUpdates: number;
  /** Smallest pre-resampling ESS seen (N before any update). */
  minEss: number;
  /** Updates whose increment spread exceeded typicalSpreadOverLogN·log N. */
  wideUpdates: number;
  /** Largest spread max_i Δ_i − min_i Δ_i of the finite increments of one update, and where (0-based). */
  maxSpread: number;
  maxSpreadUpdate: number;
  /** Walker-updates whose increment was not finite. */
  nonFinite: number;
  /** The first update (0-based) with a non-finite increment, −1 if none. */
  firstNonFiniteUpdate: number;
}

export function walkerHealthStats(walkers: number): WalkerHealthStats {
  return {
    walkers,
    updates: 0,
    resamplings: 0,
    lowEssUpdates: 0,
    minEss: walkers,
    wideUpdates: 0,
    maxSpread: 0,
    maxSpreadUpdate: -1,
    nonFinite: 0,
    firstNonFiniteUpdate: -1,
  };
}

/** Spread max − min of the finite entries of `inc` (0 if fewer than two) and the count of non-finite ones. */
export function incrementSpread(
  inc: ArrayLike<number>,
  n = inc.length,
): { spread: number; nonFinite: number } {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  let nonFinite = 0;
  for (let i = 0; i < n; i++) {
    const v = inc[i];
    if (!Number.isFinite(v)) {
      nonFinite++;
      continue;
    }
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return { spread: hi >= lo ? hi - lo : 0, nonFinite };
}

/**
 * Records one weight update: the ESS of the weights after the update and before any resampling, whether
 * resampling followed, and the increments' spread and non-finite count (from `incrementSpread`).
 */
export function recordWeightUpdate(
  stats: WalkerHealthStats,
  essBefore: number,
  resampled: boolean,
  increments: { spread: number; nonFinite: number },
): void {
  const k = stats.updates++;
  if (resampled) stats.resamplings++;
  // A NaN ESS (no finite weight left) counts as degenerate.
  if (!(essBefore >= WALKER_HEALTH_THRESHOLDS.lowEssFraction * stats.walkers)) stats.lowEssUpdates++;
  if (!(essBefore >= stats.minEss)) stats.minEss = Number.isNaN(essBefore) ? 0 : essBefore;
  if (increments.spread > WALKER_HEALTH_THRESHOLDS.typicalSpreadOverLogN * portableLog(stats.walkers))
    stats.wideUpdates++;
  if (increments.spread > stats.maxSpread) {
    stats.maxSpread = increments.spread;
    stats.maxSpreadUpdate = k;
  }
  if (increments.nonFinite > 0) {
    if (stats.nonFinite === 0) stats.firstNonFiniteUpdate = k;
    stats.nonFinite += increments.nonFinite;
  }
}

const fmt = (v: number) =>
  Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toFixed(3);

/**
 * The warnings for a run with these statistics (empty when healthy). Codes are stable; messages are one
 * line, name the measured value and the threshold, and say what is unreliable.
 */
export function walkerHealth(stats: WalkerHealthStats): HealthWarning[] {
  const t = WALKER_HEALTH_THRESHOLDS;
  const n = stats.walkers;
  const out: HealthWarning[] = [];
  if (n < t.minWalkers)
    out.push({
      code: "few_walkers",
      message:
        `only ${n} walker(s) (< ${t.minWalkers}): the ESS cannot see what ${n} walkers miss, and weighted ` +
        "estimates (log Z, masses) have large, unmeasured error",
    });
  if (stats.updates === 0) return out;
  if (stats.lowEssUpdates > stats.updates / 2)
    out.push({
      code: "ess_low",
      message:
        `the ESS before resampling was below ${t.lowEssFraction}·N at ${stats.lowEssUpdates} of ` +
        `${stats.updates} updates (median ESS/N < ${t.lowEssFraction}, minimum ${fmt(stats.minEss / n)}): ` +
        "the walkers do not represent the model",
    });
  const rate = stats.resamplings / stats.updates;
  if (rate > t.maxResamplingRate && stats.resamplings >= 2)
    out.push({
      code: "resampling_frequent",
      message:
        `resampled at ${stats.resamplings} of ${stats.updates} updates (rate ${fmt(rate)} > ` +
        `${t.maxResamplingRate}): each step alone degrades the weights`,
    });
  const wide = t.typicalSpreadOverLogN * portableLog(n);
  if (n > 1 && stats.wideUpdates > stats.updates / 2)
    out.push({
      code: "move_unstable",
      message:
        `the log-weight increments spread over more than ${fmt(wide)} (1.5·log N) at ${stats.wideUpdates} of ` +
        `${stats.updates} updates (largest ${fmt(stats.maxSpread)}): the walker move overshoots (step too large)`,
    });
  else if (stats.maxSpread > t.maxSpread)
    out.push({
      code: "move_unstable",
      message:
        `the log-weight increments spread over ${fmt(stats.maxSpread)} at update ${stats.maxSpreadUpdate + 1} ` +
        `(> ${fmt(t.maxSpread)}, the float64 range): the walker move exploded (step too large)`,
    });
  if (stats.nonFinite > 0)
    out.push({
      code: "nonfinite_weights",
      message:
        `${stats.nonFinite} non-finite log-weight increment(s), first at update ` +
        `${stats.firstNonFiniteUpdate + 1}: those walkers were dropped (the move diverged or an energy overflowed)`,
    });
  return out;
}
