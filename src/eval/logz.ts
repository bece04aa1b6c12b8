/**
 * log Z = log ∫ e^{−U} of any continuous energy (any d), with the estimator's own standard error: annealed
 * importance sampling (Neal 2001) and the same path as SMC with resampling; replicas; held-out NLL.
 *
 * The path. From a Gaussian base U_0(x) = |x − m|²/(2s²) (log Z_0 = (d/2) log 2πs², sampled exactly) to
 * the target U along the geometric path
 *   U_t = (1 − t)·U_0 + t·U,   0 = t_0 < t_1 < … < t_{K−1} = 1.
 * Walkers start at N exact base draws with log-weight 0. At each k = 1 … K−1 the weights take the
 * increment log w += −(t_k − t_{k−1})(U − U_0)(x) at the walkers' current positions, then (SMC only) the
 * walkers are resampled when ESS < threshold·N, then each walker makes `movesPerTemperature` MCMC moves
 * that leave e^{−U_{t_k}} invariant (MALA or HMC of src/samplers with the given step, at β = 1 on the
 * energy U_{t_k}). No move follows the last weight update (it could not change Ẑ). Then
 *   Ẑ = Z_0 · exp(logZShift) · (1/N) Σ_i w_i    (smc/walkers.ts: `logZRatio`),
 * which is unbiased for Z (log Ẑ is biased low by ≈ Var(log Ẑ)/2, negligible when the SE is small).
 * The moves need not mix for Ẑ to be unbiased; they only reduce its variance. A Gaussian base should
 * cover the target (s at least the target's scale, m near its centre), and the schedule should be fine
 * where the path changes fast (`power` > 1 puts more points near t = 0, useful when s is much larger than
 * the target's scale).
 *
 * The standard error is the estimator's own: the Lee–Whiteley variance estimate of Ẑ (smc/walkers.ts:
 * `logZRelVariance`, Var(Ẑ)/Z², consistent with ESS-triggered resampling), turned into SE(log Ẑ) by the
 * delta method, SE = √(Var(Ẑ)/Z²). Without resampling (AIS) it equals the delta-method variance of the mean
 * weight, Var(w)/(N·mean(w)²), with the unbiased sample variance. It is reliable when the weights are
 * (ESS not tiny); the run's health (smc/health.ts: each weight update recorded) is returned as `warnings`
 * and should be shown with the number. `logZReplicas` gives the spread over independent replicas, the
 * check of the reported SE.
 *
 * Cost: a move evaluates U and ∇U once per MALA step (numSteps times per HMC step). The weight update
 * needs U at the current positions: it is recovered from the walkers' cached U_{t_{k−1}} and U_0, as
 * U − U_0 = (U_{t_{k−1}} − U_0)/t_{k−1}, instead of a new evaluation, so annealing costs no more energy
 * calls than the moves (the target is evaluated afresh when t_{k−1} < 10⁻³, where that division would
 * lose digits).
 */
import type { Energy } from "../energies/contract.ts";
import type { ResamplingScheme } from "../math/resampling.ts";
import { foldIn, type Key, normal, split } from "../random/key.ts";
import { hmc } from "../samplers/hmc.ts";
import { mala } from "../samplers/mala.ts";
import type { ChainState, KernelParams, Sampler, StepInfo } from "../samplers/types.ts";
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
  weightedWalkers,
  type WeightedWalkers,
  walkerWarnings,
} from "../smc/walkers.ts";
import { replicaMeanSe } from "./masses.ts";

/** The Gaussian base N(m, s²I): `mean` a vector of length d or one number for every coordinate (default 0). */
export interface GaussianBase {
  mean?: number | ArrayLike<number>;
  std: number;
}

/** Step parameters passed to the transition kernel at every move. */
export interface AnnealKernelParams extends KernelParams {
  /** HMC's number of leapfrog steps (ignored by MALA). */
  numSteps: number;
}

/** Builds a Markov kernel (BlackJAX shape) for an energy; it is built once, on the annealed energy U_t. */
export type AnnealKernelBuilder = (energy: Energy) => Sampler<ChainState, StepInfo, AnnealKernelParams>;

export interface AnnealOptions {
  base: GaussianBase;
  /**
   * The path points: a count K ≥ 2, giving t_k = (k/(K−1))^power, or the schedule itself (from 0 to 1,
   * non-decreasing).
   */
  temperatures: number | ArrayLike<number>;
  /** Exponent of the schedule when `temperatures` is a count (default 1: linear). */
  power?: number;
  /** Number of walkers N (≥ 2). */
  chains: number;
  /** The move: "mala" (default), "hmc", or a kernel builder. */
  kernel?: "mala" | "hmc" | AnnealKernelBuilder;
  /** Step size of the move. */
  step: number;
  /** Preconditioner / inverse mass of the move (diagonal or dense, see samplers/metric.ts). */
  inverseMass?: Float64Array;
  /** HMC leapfrog steps per move (default 5; the maximum when jittered, as in samplers/hmc.ts). */
  leapfrogSteps?: number;
  /** Moves at each temperature (default 1). */
  movesPerTemperature?: number;
  /** Resample when ESS < resample·N (0: never, i.e. AIS). */
  resample?: number;
  scheme?: ResamplingScheme;
}

export interface LogZEstimate {
  /** log Ẑ. */
  logZ: number;
  /** The estimator's own SE of log Ẑ (Lee–Whiteley, delta method; module comment). NaN if it broke down. */
  se: number;
  /** log Z_0 of the base. */
  logZBase: number;
  /** Final weighted walkers: weighted samples of e^{−U} (e.g. for `modeMassesWalkers`). */
  walkers: WeightedWalkers;
  /** ESS of the final weights. */
  ess: number;
  /** Number of resamplings (0 for AIS). */
  resamplings: number;
  /** Mean acceptance probability of the moves (NaN if the kernel reports none). */
  acceptance: number;
  /** Moves flagged divergent (chain-moves). */
  divergences: number;
  /** Number of path points K. */
  temperatures: number;
  /** Health of the weights (smc/health.ts); empty when healthy. */
  warnings: HealthWarning[];
  stats: WalkerHealthStats;
}

/** The schedule of the options, checked. */
export function annealingSchedule(temperatures: number | ArrayLike<number>, power = 1): Float64Array {
  let t: Float64Array;
  if (typeof temperatures === "number") {
    const k = temperatures;
    if (!(Number.isInteger(k) && k >= 2)) throw new RangeError(`need ≥ 2 temperatures, got ${k}`);
    if (!(power > 0) || !Number.isFinite(power))
      throw new RangeError(`schedule power must be positive, got ${power}`);
    t = new Float64Array(k);
    for (let i = 0; i < k; i++) t[i] = (i / (k - 1)) ** power;
  } else t = Float64Array.from(temperatures);
  if (t.length < 2 || t[0] !== 0 || t[t.length - 1] !== 1)
    throw new RangeError("the annealing schedule must start at t = 0 and end at t = 1");
  for (let i = 1; i < t.length; i++)
    if (!(t[i] >= t[i - 1])) throw new RangeError(`the annealing schedule decreases at index ${i}`);
  return t;
}

/** Base N(m, s²I): U_0, ∇U_0 and log Z_0. */
class GaussianBaseEnergy {
  readonly mean: Float64Array;
  readonly std: number;
  readonly logZ: number;
  private readonly prec: number;

  constructor(
    base: GaussianBase,
    readonly dim: number,
  ) {
    const s = base.std;
    if (!(s > 0) || !Number.isFinite(s)) throw new RangeError(`base std must be positive, got ${s}`);
    const m = base.mean ?? 0;
    this.mean = new Float64Array(dim);
    if (typeof m === "number") this.mean.fill(m);
    else {
      if (m.length !== dim) throw new RangeError(`base mean must have length ${dim}, got ${m.length}`);
      this.mean.set(Array.from(m));
    }
    for (const v of this.mean) if (!Number.isFinite(v)) throw new RangeError("base mean must be finite");
    this.std = s;
    this.prec = 1 / (s * s);
    this.logZ = 0.5 * dim * Math.log(2 * Math.PI * s * s);
  }

  /** U_0 into u (and ∇U_0 into g when given). */
  eval(x: Float64Array, n: number, u: Float64Array, g?: Float64Array): void {
    const d = this.dim;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let a = 0; a < d; a++) {
        const r = x[i * d + a] - this.mean[a];
        s += r * r;
        if (g) g[i * d + a] = r * this.prec;
      }
      u[i] = 0.5 * s * this.prec;
    }
  }

  sample(key: Key, n: number): Float64Array {
    const x = normal(key, new Float64Array(n * this.dim));
    for (let i = 0; i < n; i++)
      for (let a = 0; a < this.dim; a++) x[i * this.dim + a] = this.mean[a] + this.std * x[i * this.dim + a];
    return x;
  }
}

/** U_t = (1 − t)U_0 + tU for the current t (at t = 0 the target is not evaluated). */
class AnnealedEnergy implements Energy {
  t = 0;
  readonly dim: number;
  private u0 = new Float64Array(0);
  private g0 = new Float64Array(0);

  constructor(
    private readonly target: Energy,
    private readonly base: GaussianBaseEnergy,
  ) {
    this.dim = target.dim;
  }

  private ensure(n: number): void {
    if (this.u0.length < n) {
      this.u0 = new Float64Array(n);
      this.g0 = new Float64Array(n * this.dim);
    }
  }

  energy(x: Float64Array, n: number, u: Float64Array): void {
    this.ensure(n);
    const t = this.t;
    this.base.eval(x, n, this.u0);
    if (t === 0) {
      u.set(this.u0.subarray(0, n));
      return;
    }
    this.target.energy(x, n, u);
    for (let i = 0; i < n; i++) u[i] = (1 - t) * this.u0[i] + t * u[i];
  }

  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    this.ensure(n);
    const t = this.t;
    const m = n * this.dim;
    this.base.eval(x, n, this.u0, this.g0);
    if (t === 0) {
      u.set(this.u0.subarray(0, n));
      grad.set(this.g0.subarray(0, m));
      return;
    }
    this.target.energyAndGrad(x, n, u, grad);
    for (let i = 0; i < n; i++) u[i] = (1 - t) * this.u0[i] + t * u[i];
    for (let j = 0; j < m; j++) grad[j] = (1 - t) * this.g0[j] + t * grad[j];
  }
}

/** Below this t the target is evaluated afresh for a weight update (module comment). */
const RECOVER_MIN_T = 1e-3;

function buildKernel(
  kind: AnnealOptions["kernel"],
  energy: Energy,
): Sampler<ChainState, StepInfo, AnnealKernelParams> {
  if (kind === undefined || kind === "mala") return mala(energy);
  if (kind === "hmc") return hmc(energy);
  if (typeof kind === "function") return kind(energy);
  throw new RangeError(`unknown kernel ${String(kind)} (mala, hmc or a builder)`);
}

/**
 * log Z of `energy` by annealing from a Gaussian base (module comment): AIS with `resample` 0 (the
 * default), SMC with resampling when ESS < resample·N. Keys: the base draw from the first child of `key`,
 * the moves at t_k from foldIn(second child, k), the resampling at t_k from foldIn(third child, k).
 */
export function annealedLogZ(energy: Energy, key: Key, opts: AnnealOptions): LogZEstimate {
  const d = energy.dim;
  const n = opts.chains;
  if (!(Number.isInteger(n) && n >= 2)) throw new RangeError(`need ≥ 2 chains, got ${n}`);
  if (!(opts.step > 0) || !Number.isFinite(opts.step))
    throw new RangeError(`step must be positive, got ${opts.step}`);
  const moves = opts.movesPerTemperature ?? 1;
  if (!(Number.isInteger(moves) && moves >= 0))
    throw new RangeError(`movesPerTemperature must be an integer ≥ 0`);
  const threshold = opts.resample ?? 0;
  if (!(threshold >= 0 && threshold <= 1))
    throw new RangeError(`resample must be in [0, 1], got ${threshold}`);
  const sched = annealingSchedule(opts.temperatures, opts.power ?? 1);
  const base = new GaussianBaseEnergy(opts.base, d);
  const annealed = new AnnealedEnergy(energy, base);
  const kernel = buildKernel(opts.kernel, annealed);
  const params: AnnealKernelParams = {
    step: opts.step,
    inverseMass: opts.inverseMass,
    numSteps: opts.leapfrogSteps ?? 5,
  };
  const [kInit, kMove, kResample] = split(key, 3);

  annealed.t = 0;
  const walkers = weightedWalkers(kernel.init(base.sample(kInit, n), n));
  const { position, u, grad, logw } = walkers;
  const u0 = new Float64Array(n);
  const g0 = new Float64Array(n * d);
  const uT = new Float64Array(n);
  const gT = new Float64Array(n * d);
  const inc = new Float64Array(n);
  const stats = walkerHealthStats(n);
  let acceptSum = 0;
  let acceptCount = 0;
  let divergences = 0;

  for (let k = 1; k < sched.length; k++) {
    const t0 = sched[k - 1];
    const t1 = sched[k];
    const dt = t1 - t0;
    // D = U − U_0 at the current positions, then the increment −dt·D and the cache moved to U_{t1}.
    base.eval(position, n, u0, g0);
    if (t0 < RECOVER_MIN_T) {
      energy.energyAndGrad(position, n, uT, gT);
      for (let i = 0; i < n; i++) uT[i] -= u0[i];
      for (let j = 0; j < n * d; j++) gT[j] -= g0[j];
    } else {
      for (let i = 0; i < n; i++) uT[i] = (u[i] - u0[i]) / t0;
      for (let j = 0; j < n * d; j++) gT[j] = (grad[j] - g0[j]) / t0;
    }
    for (let i = 0; i < n; i++) {
      // A walker of weight zero keeps it (−∞ − dt·D could be NaN when D = −∞).
      inc[i] = dt === 0 ? 0 : -dt * uT[i];
      if (logw[i] !== Number.NEGATIVE_INFINITY) logw[i] += inc[i];
      u[i] = u0[i] + t1 * uT[i];
    }
    for (let j = 0; j < n * d; j++) grad[j] = g0[j] + t1 * gT[j];
    const spread = incrementSpread(inc, n);
    if (spread.nonFinite > 0) retireNonFinite(walkers, "annealed log Z");
    const ess = walkerEss(walkers);
    const resampled = maybeResample(foldIn(kResample, k), walkers, threshold, opts.scheme, ess);
    recordWeightUpdate(stats, ess, resampled, spread);
    if (k === sched.length - 1) break;
    annealed.t = t1;
    for (let s = 0; s < moves; s++) {
      const info = kernel.step(foldIn(foldIn(kMove, k), s), walkers, params) as StepInfo & {
        acceptProb?: Float64Array;
      };
      for (let i = 0; i < n; i++) divergences += info.divergent[i];
      if (info.acceptProb) {
        for (let i = 0; i < n; i++) acceptSum += info.acceptProb[i];
        acceptCount += n;
      }
    }
  }
  annealed.t = 1;
  const relVar = logZRelVariance(walkers);
  return {
    logZ: base.logZ + logZRatio(walkers),
    se: Math.sqrt(relVar),
    logZBase: base.logZ,
    walkers,
    ess: walkerEss(walkers),
    resamplings: walkers.resamplings,
    acceptance: acceptCount > 0 ? acceptSum / acceptCount : Number.NaN,
    divergences,
    temperatures: sched.length,
    warnings: walkerWarnings(stats, walkers),
    stats,
  };
}

/** AIS: `annealedLogZ` without resampling. */
export function aisLogZ(
  energy: Energy,
  key: Key,
  opts: Omit<AnnealOptions, "resample" | "scheme">,
): LogZEstimate {
  return annealedLogZ(energy, key, { ...opts, resample: 0 });
}

/** SMC: `annealedLogZ` with resampling when ESS < resample·N (default ½, multinomial). */
export function smcLogZ(energy: Energy, key: Key, opts: AnnealOptions): LogZEstimate {
  return annealedLogZ(energy, key, { ...opts, resample: opts.resample ?? 0.5 });
}

export interface LogZReplicas {
  /** Mean of the R values of log Ẑ. */
  mean: number;
  /** sd/√R over replicas. */
  se: number;
  /** Sample sd of the R values: what each replica's reported SE should match. */
  sd: number;
  /** The R values of log Ẑ. */
  values: Float64Array;
  /** Each replica's reported SE (NaN where the function returned a bare number). */
  ses: Float64Array;
  /** Root-mean-square of the reported SEs (compare with sd). */
  rmsReportedSe: number;
  /** log((1/R) Σ Ẑ_r): the replicas pooled on the ratio scale (unbiased for Z, like each Ẑ_r). */
  logMeanExp: number;
  replicas: number;
}

/**
 * Runs `fn` on R independent keys (split from `key`) and summarises the R estimates of log Z: mean, SE over
 * replicas, the individual values and reported SEs.
 */
export function logZReplicas(
  fn: (key: Key) => number | { logZ: number; se?: number },
  replicas: number,
  key: Key,
): LogZReplicas {
  if (!(Number.isInteger(replicas) && replicas >= 1))
    throw new RangeError(`need ≥ 1 replica, got ${replicas}`);
  const keys = split(key, replicas);
  const values = new Float64Array(replicas);
  const ses = new Float64Array(replicas).fill(Number.NaN);
  for (let r = 0; r < replicas; r++) {
    const v = fn(keys[r]);
    if (typeof v === "number") values[r] = v;
    else {
      values[r] = v.logZ;
      ses[r] = v.se ?? Number.NaN;
    }
  }
  const s = replicaMeanSe(values);
  let m = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > m) m = v;
  let acc = 0;
  let sq = 0;
  for (let r = 0; r < replicas; r++) {
    acc += Math.exp(values[r] - m);
    sq += ses[r] * ses[r];
  }
  return {
    mean: s.mean,
    se: s.se,
    sd: s.sd,
    values,
    ses,
    rmsReportedSe: Math.sqrt(sq / replicas),
    logMeanExp: m + Math.log(acc / replicas),
    replicas,
  };
}

export interface HeldOutNll {
  /** Mean negative log-likelihood in nats per point: mean U(x_i) + log Z. */
  nll: number;
  /** √(dataSe² + logZSe²). */
  se: number;
  /** sd(U)/√n: the SE from the finite data set. */
  dataSe: number;
  /** The SE of log Z passed in (it shifts every point's NLL alike). */
  logZSe: number;
  n: number;
}

/**
 * Held-out NLL of `data` (n × energy.dim; n defaults to data.length / dim) under e^{−U}/Z with log Z and its
 * SE given (e.g. from `aisLogZ`): mean NLL in nats per point ± SE, the data-mean SE and the log Z SE
 * combined in quadrature (they are independent: the data are not used to estimate log Z).
 */
export function heldOutNll(
  energy: Energy,
  data: Float64Array,
  logZ: number,
  logZSe = 0,
  n = Math.floor(data.length / energy.dim),
): HeldOutNll {
  if (!(n >= 1)) throw new RangeError("held-out NLL needs at least one data point");
  if (data.length < n * energy.dim)
    throw new RangeError(`data holds fewer than ${n} points of dim ${energy.dim}`);
  const u = new Float64Array(n);
  energy.energy(data, n, u);
  return heldOutNllFromEnergies(u, logZ, logZSe);
}

/** `heldOutNll` from the energies U(x_i) of the held-out points, already evaluated. */
export function heldOutNllFromEnergies(u: Float64Array, logZ: number, logZSe = 0): HeldOutNll {
  const n = u.length;
  if (!(n >= 1)) throw new RangeError("held-out NLL needs at least one data point");
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    const delta = u[i] - mean;
    mean += delta / (i + 1);
    m2 += delta * (u[i] - mean);
  }
  const dataSe = n > 1 ? Math.sqrt(m2 / (n - 1) / n) : Number.NaN;
  return { nll: mean + logZ, se: Math.sqrt(dataSe * dataSe + logZSe * logZSe), dataSe, logZSe, n };
}
