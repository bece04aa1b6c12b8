/**
 * log Z = log Σ_x e^{−U(x)} of an energy on {0,1}^d by annealing from the uniform distribution (annealed
 * importance sampling, Neal 2001; with resampling, SMC), for state spaces too large to enumerate.
 *
 * The path: ρ_β ∝ e^{−βU}, β from 0 (uniform, Z_0 = 2^d, sampled exactly) to 1, geometric in the densities
 * (linear in β), 0 = β_0 < β_1 < … < β_{K−1} = 1. Walkers start as N exact uniform draws with log-weight 0.
 * At each k = 1 … K−1 the weights take the increment −(β_k − β_{k−1})·U(x) at the walkers' current states,
 * then the walkers are resampled when ESS < resample·N (0: never, plain AIS), then each makes
 * `movesPerTemperature` steps of a kernel that leaves ρ_βk invariant (Gibbs-with-Gradients at inverse
 * temperature β_k by default, Grathwohl et al. 2021). No move follows the last update. Then
 *   Ẑ = 2^d · exp(logZShift) · (1/N) Σ_i e^{A_i}   (smc/walkers.ts)
 * is unbiased for Z; the moves need not mix for that, they only reduce the variance. The standard error is
 * the estimator's own (Lee–Whiteley, via `logZRelVariance`, by the delta method); `logZReplicas`
 * (eval/logz.ts) gives the spread over independent replicas.
 *
 * The kernels cache the unscaled U (samplers/discrete/types.ts), so the increments cost no evaluation: an
 * annealing run costs (K − 1)·movesPerTemperature kernel steps (one U and ∇U at the proposals each), and
 * one evaluation at the start.
 */
import type { DiscreteEnergy, RelaxedGradient } from "../energies/discrete.ts";
import type { ResamplingScheme } from "../math/resampling.ts";
import { foldIn, type Key, split, Stream } from "../random/key.ts";
import { gibbsWithGradients } from "../samplers/discrete/gwg.ts";
import type { DiscreteGradState, DiscreteSampler } from "../samplers/discrete/types.ts";
import type { MhInfo } from "../samplers/types.ts";
import {
  type HealthWarning,
  incrementSpread,
  recordWeightUpdate,
  type WalkerHealthStats,
  walkerHealthStats,
} from "../smc/health.ts";
import {
  logZRatio,
  logZRelVariance,
  maybeResample,
  retireNonFinite,
  walkerEss,
  type WeightedWalkers,
  weightedWalkers,
  walkerWarnings,
} from "../smc/walkers.ts";
import { annealingSchedule } from "./logz.ts";

/** Builds the move at inverse temperature β > 0 (a kernel that leaves e^{−βU} invariant). */
export type DiscreteAnnealKernel = (
  energy: DiscreteEnergy & RelaxedGradient,
  beta: number,
) => DiscreteSampler<DiscreteGradState, MhInfo>;

export interface UniformAnnealOptions {
  /** Number of walkers N (≥ 2). */
  chains: number;
  /** The path: a count K ≥ 2 (β_k = (k/(K−1))^power) or the schedule itself (0 … 1, non-decreasing). */
  temperatures: number | ArrayLike<number>;
  /** Exponent of the schedule when `temperatures` is a count (default 1). */
  power?: number;
  /** Kernel steps at each temperature (default 1). */
  movesPerTemperature?: number;
  /** Resample when ESS < resample·N (default 0.5; 0: AIS). */
  resample?: number;
  scheme?: ResamplingScheme;
  /** The move (default Gibbs-with-Gradients). */
  kernel?: DiscreteAnnealKernel;
}

export interface DiscreteLogZEstimate {
  /** log Ẑ. */
  logZ: number;
  /** The estimator's own SE of log Ẑ (Lee–Whiteley, delta method); NaN if it broke down. */
  se: number;
  /** d·log 2. */
  logZBase: number;
  /** Final weighted walkers (0/1 float64 rows): weighted samples of e^{−U}/Z. */
  walkers: WeightedWalkers;
  /** The same final states as bytes. */
  states: Uint8Array;
  ess: number;
  resamplings: number;
  /** Mean acceptance probability of the moves. */
  acceptance: number;
  temperatures: number;
  warnings: HealthWarning[];
  stats: WalkerHealthStats;
}

const defaultKernel: DiscreteAnnealKernel = (energy, beta) => gibbsWithGradients(energy, { beta });

/**
 * log Z of `energy` by annealing from the uniform distribution (module comment). Keys: the uniform draws
 * from the first child of `key`, the moves at β_k from foldIn(second child, k), the resampling at β_k from
 * foldIn(third child, k).
 */
export function uniformAnnealedLogZ(
  energy: DiscreteEnergy & RelaxedGradient,
  key: Key,
  opts: UniformAnnealOptions,
): DiscreteLogZEstimate {
  const d = energy.sites;
  const n = opts.chains;
  if (!(Number.isInteger(n) && n >= 2)) throw new RangeError(`need ≥ 2 chains, got ${n}`);
  const moves = opts.movesPerTemperature ?? 1;
  if (!(Number.isInteger(moves) && moves >= 0))
    throw new RangeError(`movesPerTemperature must be an integer ≥ 0, got ${moves}`);
  const threshold = opts.resample ?? 0.5;
  if (!(threshold >= 0 && threshold <= 1))
    throw new RangeError(`resample must be in [0, 1], got ${threshold}`);
  const sched = annealingSchedule(opts.temperatures, opts.power ?? 1);
  const build = opts.kernel ?? defaultKernel;
  const [kInit, kMove, kResample] = split(key, 3);

  const rng = new Stream(kInit);
  const x = new Uint8Array(n * d);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform() < 0.5 ? 1 : 0;
  const position = Float64Array.from(x);
  const u = new Float64Array(n);
  const grad = new Float64Array(n * d);
  energy.energyAndRelaxedGrad(x, n, u, grad);
  const walkers = weightedWalkers({ n, dim: d, position, u, grad });
  const chains: DiscreteGradState = { n, sites: d, x, u, grad };
  const inc = new Float64Array(n);
  const stats = walkerHealthStats(n);
  let acceptSum = 0;
  let proposals = 0;

  for (let k = 1; k < sched.length; k++) {
    const dBeta = sched[k] - sched[k - 1];
    for (let i = 0; i < n; i++) {
      inc[i] = dBeta === 0 ? 0 : -dBeta * u[i];
      // A walker of weight zero keeps it.
      if (walkers.logw[i] !== Number.NEGATIVE_INFINITY) walkers.logw[i] += inc[i];
    }
    const spread = incrementSpread(inc, n);
    const retired = spread.nonFinite > 0 ? retireNonFinite(walkers, "annealed log Z") : 0;
    const ess = walkerEss(walkers);
    const resampled = maybeResample(foldIn(kResample, k), walkers, threshold, opts.scheme, ess);
    recordWeightUpdate(stats, ess, resampled, spread);
    if (resampled || retired > 0) for (let q = 0; q < x.length; q++) x[q] = position[q];
    if (k === sched.length - 1 || moves === 0 || !(sched[k] > 0)) continue;
    const kernel = build(energy, sched[k]);
    for (let s = 0; s < moves; s++) {
      const { info } = kernel.step(foldIn(foldIn(kMove, k), s), chains);
      for (let i = 0; i < n; i++) acceptSum += info.acceptProb[i];
      proposals += n;
    }
    for (let q = 0; q < x.length; q++) position[q] = x[q];
  }
  const logZBase = d * Math.LN2;
  return {
    logZ: logZBase + logZRatio(walkers),
    se: Math.sqrt(logZRelVariance(walkers)),
    logZBase,
    walkers,
    states: x,
    ess: walkerEss(walkers),
    resamplings: walkers.resamplings,
    acceptance: proposals > 0 ? acceptSum / proposals : Number.NaN,
    temperatures: sched.length,
    warnings: walkerWarnings(stats, walkers),
    stats,
  };
}
