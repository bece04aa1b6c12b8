/**
 * Noise-contrastive estimation (Gutmann & Hyvärinen 2010): learn U_θ by telling data from noise.
 *
 * The model is log p(x) = −U_θ(x) − c with a log-normaliser c learned alongside θ; the noise q is a
 * normalised density we can sample: a Gaussian fitted to the data (mean and full or diagonal covariance)
 * or any `Energy & ExactlySampleable & KnownLogZ` the caller gives (e.g. a GmmEnergy or GaussianEnergy; its
 * log density is −U_q − log Z_q). With ν noise points per data point and
 * G(x) = −U_θ(x) − c − log q(x) − log ν, the logistic loss is
 *
 *   J(θ, c) = −(1/N)[Σ_data log σ(G(x_i)) + Σ_noise log σ(−G(y_j))]     (νN noise points y_j ~ q),
 *
 * minimised at p = p_data (and then c = log Z_θ) when the model family contains p_data. Gradients, with
 * h = σ(G) the classifier's probability of "data":
 *   ∂θJ = (1/N)[Σ_data (1 − h_i) ∂θU(x_i) − Σ_noise h_j ∂θU(y_j)]   (one paramGrad over data and noise)
 *   ∂cJ = (1/N)[Σ_data (1 − h_i) − Σ_noise h_j].
 *
 * How c is learned: profiled out. The Objective interface hands the optimiser θ only, so c is not a
 * parameter of the optimiser; instead every gradient call first solves ∂cJ = 0 exactly on its own batch
 * (J is convex in c: a safeguarded Newton iteration on ψ(c) = ∂cJ, which is increasing), then returns ∂θJ
 * at that c. By the envelope theorem this ∂θJ is the exact gradient of the profiled loss J(θ, c*(θ)), so
 * there is no learning rate for c and no lag between c and θ. (An alternative is an own SGD/Adam step on c
 * inside the objective; profiling is exact and needs no tuning.)
 *
 * c as a log Z estimate. At the last call, ĉ solves ψ̂(c) = 0 for that batch and those noise draws; with θ
 * held fixed its sandwich (delta-method) standard error is
 *   SE(ĉ) = √(Var_data(h)/N + ν·Var_noise(h)/N) / ((1/N)[Σ_data h(1−h) + Σ_noise h(1−h)]),
 * reported as `logNormalizerSe`. ĉ estimates log Z_θ only as far as the model fits the data (its limit is
 * log Z_θ when p_θ = p_data); the SE is the Monte Carlo error given θ, not the error from learning θ.
 * `importanceLogZ` gives an estimate of log Z_θ that does not depend on the fit: importance sampling
 * from q, log Ẑ = log mean_j e^{−U_θ(y_j)}/q(y_j), with a delta-method SE and the ESS.
 *
 * The fitted Gaussian noise is fitted to the first batch the objective sees (with the trainer's default,
 * the full data set), or pass `noise: fitGaussianNoise(x, n, dim)` to fit it to the data explicitly.
 */
import type { Energy, ExactlySampleable, KnownLogZ, TrainableEnergy } from "../energies/contract.ts";
import { GaussianEnergy } from "../energies/gaussian.ts";
import { portableExp, portableLog } from "../random/elementary.ts";
import type { Key } from "../random/key.ts";
import type { Batch, Objective, ObjectiveDiagnostics } from "./objective.ts";

/** A noise distribution: a normalised density with exact draws (log q = −U − log Z). */
export type NoiseDistribution = Energy & ExactlySampleable & KnownLogZ;

export interface NceOptions {
  /**
   * The noise: "gaussian" (default; mean and full covariance fitted to the first batch), "gaussian-diag"
   * (diagonal covariance), or a distribution.
   */
  noise?: "gaussian" | "gaussian-diag" | NoiseDistribution;
  /** Noise points per data point, ν (ν·N rounded to an integer ≥ 1; default 1). */
  nu?: number;
  /** Covariance multiplier for a fitted Gaussian (default 1; > 1 widens the noise). */
  inflate?: number;
}

export interface NceDiagnostics extends ObjectiveDiagnostics {
  /** Logistic loss at the last call. */
  loss: number;
  /** ĉ, the profiled log-normaliser at the last call (an estimate of log Z_θ if the model fits). */
  logNormalizer: number;
  /** Its standard error given θ (sandwich; see the header). */
  logNormalizerSe: number;
  /** Fraction of data and noise points the classifier h > ½ labels correctly at the last call. */
  accuracy: number;
}

/**
 * Plain data (checkpointable; a resumed run continues bit for bit): ĉ and its SE, loss and accuracy of the
 * last call, and the fitted Gaussian noise as arrays (empty until fitted; unused with a given noise).
 */
export interface NceState {
  c: number;
  cSe: number;
  loss: number;
  accuracy: number;
  /** Fitted noise mean (d) and covariance (d × d, row-major); length 0 before the first call. */
  noiseMean: Float64Array;
  noiseCov: Float64Array;
}

/** Gaussian with the sample mean and covariance (full or diagonal) of x, times `inflate`, plus a 1e-9 jitter. */
export function fitGaussianNoise(
  x: Float64Array,
  n: number,
  dim: number,
  kind: "full" | "diag" = "full",
  inflate = 1,
): GaussianEnergy {
  if (n < 2) throw new RangeError("fitting a Gaussian needs at least 2 points");
  if (!(inflate > 0)) throw new RangeError(`inflate must be positive, got ${inflate}`);
  const d = dim;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) mean[a] += x[i * d + a] / n;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < d; a++) {
      const da = x[i * d + a] - mean[a];
      for (let b = 0; b <= a; b++) cov[a * d + b] += (da * (x[i * d + b] - mean[b])) / (n - 1);
    }
  for (let a = 0; a < d; a++)
    for (let b = 0; b <= a; b++) {
      const v = kind === "diag" && a !== b ? 0 : cov[a * d + b] * inflate;
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  let tr = 0;
  for (let a = 0; a < d; a++) tr += cov[a * d + a];
  for (let a = 0; a < d; a++) cov[a * d + a] += 1e-9 * (tr / d) + 1e-300;
  return new GaussianEnergy(mean, cov);
}

/** log σ(z), stable (portable exp/log: the same bits on every host). */
function logSigmoid(z: number): number {
  return z >= 0 ? -portableLog(1 + portableExp(-z)) : z - portableLog(1 + portableExp(z));
}

function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + portableExp(-z));
  const e = portableExp(z);
  return e / (1 + e);
}

/**
 * Solves ψ(c) = Σ_i σ(c − a_i) − Σ_j σ(b_j − c) = 0 (increasing in c) by Newton steps kept inside a
 * bracket that shrinks by bisection when a step leaves it. a_i = G(x_i) + c, b_j = G(y_j) + c.
 */
function solveLogNormalizer(a: Float64Array, na: number, b: Float64Array, nb: number, start: number): number {
  const psi = (c: number): [number, number] => {
    let f = 0;
    let df = 0;
    for (let i = 0; i < na; i++) {
      const h = sigmoid(c - a[i]);
      f += h;
      df += h * (1 - h);
    }
    for (let j = 0; j < nb; j++) {
      const h = sigmoid(b[j] - c);
      f -= h;
      df += h * (1 - h);
    }
    return [f, df];
  };
  // Bracket: below min(a, b) − 40 every σ(c − a) ≈ 0 and every σ(b − c) ≈ 1 (ψ < 0); above the max, the reverse.
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < na; i++) {
    lo = Math.min(lo, a[i]);
    hi = Math.max(hi, a[i]);
  }
  for (let j = 0; j < nb; j++) {
    lo = Math.min(lo, b[j]);
    hi = Math.max(hi, b[j]);
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi))
    throw new RangeError("nce: U or log q is not finite at some data or noise point");
  lo -= 40;
  hi += 40;
  let c = Number.isFinite(start) && start > lo && start < hi ? start : 0.5 * (lo + hi);
  for (let it = 0; it < 200; it++) {
    const [f, df] = psi(c);
    if (f === 0) return c;
    if (f < 0) lo = c;
    else hi = c;
    let next = df > 0 ? c - f / df : Number.NaN;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (Math.abs(next - c) <= 1e-13 * (1 + Math.abs(c)) || hi - lo <= 1e-13 * (1 + Math.abs(c))) return next;
    c = next;
  }
  return c;
}

/** log q(x_i) = −U_q(x_i) − log Z_q into out. */
function logNoise(q: NoiseDistribution, x: Float64Array, n: number, out: Float64Array): void {
  q.energy(x, n, out);
  const lz = q.logZ();
  for (let i = 0; i < n; i++) out[i] = -out[i] - lz;
}

export function nce(opts: NceOptions = {}): Objective<NceState> {
  const nu = opts.nu ?? 1;
  if (!(nu > 0 && Number.isFinite(nu))) throw new RangeError(`nce: nu must be positive, got ${nu}`);
  const inflate = opts.inflate ?? 1;
  const noiseOpt = opts.noise ?? "gaussian";
  if (typeof noiseOpt === "string" && noiseOpt !== "gaussian" && noiseOpt !== "gaussian-diag")
    throw new RangeError(`nce: noise must be "gaussian", "gaussian-diag" or a distribution, got ${noiseOpt}`);
  const logNu = portableLog(nu);
  // The fitted noise as an energy, rebuilt from the state's arrays when they change (e.g. after a restore).
  let fitted: { mean: Float64Array; energy: GaussianEnergy } | undefined;

  /** The noise of state s: the given distribution, or the Gaussian fitted (now, if not yet) to `batch`. */
  const noiseOf = (s: NceState, batch: Batch, d: number): NoiseDistribution => {
    if (typeof noiseOpt !== "string") return noiseOpt;
    if (s.noiseMean.length === 0) {
      const g = fitGaussianNoise(
        batch.x,
        batch.n,
        d,
        noiseOpt === "gaussian-diag" ? "diag" : "full",
        inflate,
      );
      s.noiseMean = g.mean.slice();
      s.noiseCov = g.cov.slice();
    }
    if (!fitted || fitted.mean !== s.noiseMean)
      fitted = { mean: s.noiseMean, energy: new GaussianEnergy(s.noiseMean, s.noiseCov) };
    return fitted.energy;
  };

  return {
    name: "nce",
    init(_key, model: TrainableEnergy) {
      if (typeof noiseOpt !== "string" && noiseOpt.dim !== model.dim)
        throw new RangeError(`nce: the noise has dim ${noiseOpt.dim}, the model ${model.dim}`);
      const e = new Float64Array(0);
      return {
        c: Number.NaN,
        cSe: Number.NaN,
        loss: Number.NaN,
        accuracy: Number.NaN,
        // Two arrays, not one shared: a checkpoint stores each array of the state once, by its path.
        noiseMean: e,
        noiseCov: new Float64Array(0),
      };
    },
    gradient(key, s, model, batch: Batch, grad) {
      const d = model.dim;
      const N = batch.n;
      const noise = noiseOf(s, batch, d);
      const M = Math.max(1, Math.round(nu * N));
      const all = new Float64Array((N + M) * d);
      all.set(batch.x.subarray(0, N * d));
      const y = all.subarray(N * d);
      noise.sampleExact(key, M, y);
      // G + c = −U − log q − log ν at data (first N) and noise (last M).
      const u = new Float64Array(N + M);
      const lq = new Float64Array(N + M);
      model.energy(all, N + M, u);
      logNoise(noise, all, N + M, lq);
      const g = new Float64Array(N + M);
      for (let i = 0; i < N + M; i++) g[i] = -u[i] - lq[i] - logNu;
      const c = solveLogNormalizer(g, N, g.subarray(N), M, s.c);
      // Weights: data (1 − h)/N, noise −h/N; loss, SE and accuracy on the way.
      const w = new Float64Array(N + M);
      let loss = 0;
      let correct = 0;
      let sd = 0;
      let sd2 = 0;
      let sq = 0;
      let sq2 = 0;
      let curv = 0;
      for (let i = 0; i < N + M; i++) {
        const z = g[i] - c;
        const h = sigmoid(z);
        curv += h * (1 - h);
        if (i < N) {
          w[i] = (1 - h) / N;
          loss -= logSigmoid(z);
          if (h > 0.5) correct++;
          sd += h;
          sd2 += h * h;
        } else {
          w[i] = -h / N;
          loss -= logSigmoid(-z);
          if (h < 0.5) correct++;
          sq += h;
          sq2 += h * h;
        }
      }
      const varD = N > 1 ? Math.max(0, (sd2 - (sd * sd) / N) / (N - 1)) : 0;
      const varQ = M > 1 ? Math.max(0, (sq2 - (sq * sq) / M) / (M - 1)) : 0;
      s.c = c;
      s.loss = loss / N;
      s.accuracy = correct / (N + M);
      s.cSe = Math.sqrt(varD / N + (M * varQ) / (N * N)) / (curv / N);
      model.paramGrad(all, N + M, w, grad);
    },
    afterUpdate() {},
    diagnostics: (s): NceDiagnostics => ({
      loss: s.loss,
      logNormalizer: s.c,
      logNormalizerSe: s.cSe,
      accuracy: s.accuracy,
    }),
  };
}

/**
 * The noise distribution an NCE run used: `opts.noise` when given, else the Gaussian fitted and kept in the
 * state (undefined before the first gradient call).
 */
export function nceNoise(opts: NceOptions, state: NceState): NoiseDistribution | undefined {
  if (opts.noise !== undefined && typeof opts.noise !== "string") return opts.noise;
  return state.noiseMean.length === 0 ? undefined : new GaussianEnergy(state.noiseMean, state.noiseCov);
}

export interface ImportanceLogZ {
  /** log Ẑ = log mean_j e^{−U(y_j)} / q(y_j), y_j ~ q. */
  logZ: number;
  /** Delta-method SE of log Ẑ: sd(w)/(√m·mean(w)) of the importance weights w. */
  se: number;
  /** Effective sample size (Σw)²/Σw² of the m weights. */
  ess: number;
}

/**
 * log Z_θ = log ∫ e^{−U_θ} by importance sampling from q (m draws from `key`), independent of how well
 * NCE's c fits. Reliable only when q covers e^{−U_θ} (ESS well above 1; a too-narrow q underestimates).
 */
export function importanceLogZ(key: Key, model: Energy, noise: NoiseDistribution, m: number): ImportanceLogZ {
  if (!(Number.isInteger(m) && m >= 2))
    throw new RangeError(`importanceLogZ: m must be an integer ≥ 2, got ${m}`);
  const d = model.dim;
  const y = new Float64Array(m * d);
  noise.sampleExact(key, m, y);
  const u = new Float64Array(m);
  const lq = new Float64Array(m);
  model.energy(y, m, u);
  logNoise(noise, y, m, lq);
  let max = Number.NEGATIVE_INFINITY;
  const lw = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    lw[j] = -u[j] - lq[j];
    if (lw[j] > max) max = lw[j];
  }
  if (!Number.isFinite(max)) throw new RangeError("importanceLogZ: no finite importance weight");
  let s1 = 0;
  let s2 = 0;
  for (let j = 0; j < m; j++) {
    const w = portableExp(lw[j] - max);
    s1 += w;
    s2 += w * w;
  }
  const mean = s1 / m;
  const variance = Math.max(0, (s2 - (s1 * s1) / m) / (m - 1));
  return {
    logZ: max + portableLog(mean),
    se: Math.sqrt(variance / m) / mean,
    ess: (s1 * s1) / s2,
  };
}
