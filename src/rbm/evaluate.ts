/**
 * log Z and held-out log-likelihood of a trained Bernoulli RBM, with standard errors: AIS from a base-rate
 * model and Jarzynski annealing along the same path, each repeated over independent replicas.
 *
 * The base (Salakhutdinov & Murray 2008, §4): p_A(v) = Π_i Bern(v_i; σ(b_A,i)) with b_A the logits of the
 * training data's pixel means (`baseRateBias`), which is much closer to a trained RBM than the model's own
 * visible biases, so the same number of temperatures gives a far smaller variance. Without data, b_A = b
 * (the path of rbm/ais.ts).
 *
 * The path: θ_t = (1 − t)·θ_A + t·θ with θ_A = (W = 0, b_A, c = 0), so
 *   p*_t(v) = exp(b_tᵀv) Π_j (1 + exp(t(c + vᵀW)_j)),   b_t = (1 − t)·b_A + t·b,
 * with log Z_0 = Σ_i softplus(b_A,i) + H·log 2, the path of Salakhutdinov & Murray. Its transition at t is one
 * block-Gibbs sweep of θ_t: h ~ σ(t(c + vᵀW)), v ~ σ(b_t + t·Wh).
 *  - AIS (`baseRateAis`) runs it through the kernels' AIS sweep on a copy of the model whose visible bias
 *    is set to b_t (rounded to float32) at each temperature; the weight increment is the kernels'
 *    Σ_j softplus(t·pre_j) − softplus(t′·pre_j) plus (b_t − b_t′)ᵀv computed from the same rounded biases,
 *    so the weights are exact for the path the sweeps actually follow.
 *  - Jarzynski (`rbmJarzynskiLogZ`) drives the training objective's weight update (objectives/
 *    rbm-jarzynski.ts: free-energy increments, multinomial resampling when ESS < N/2, Gibbs sweeps under
 *    θ_t) along the same prescribed θ path; each run has a Lee–Whiteley SE of its own.
 *
 * Replicas: Ẑ_r (r = 1 … R, independent keys) are each unbiased for Z, so log Ẑ = log mean_r Ẑ_r, and its
 * SE is the delta method on the Z scale, sd_r(Ẑ_r)/(√R·mean_r Ẑ_r). log Ẑ is still biased low by about
 * SE²/2, which the SE makes visible.
 */
import type { Rbm } from "../energies/rbm.ts";
import { softplus } from "../math/logistic.ts";
import { logSumExp } from "../math/logspace.ts";
import { rbmJarzynski } from "../objectives/rbm-jarzynski.ts";
import { foldIn, type Key, split } from "../random/key.ts";
import { createAisChains, defaultRbmKernels, type RbmKernels, RbmWorkspace } from "./kernels.ts";

/**
 * Logits of the smoothed pixel means of binary data (n × V rows, 0/1 values), the base-rate visible
 * biases: b_i = log((k_i + α)/(n − k_i + α)) with k_i the count of ones, α = pseudocount (default 1, so a
 * pixel never on in the data gets a finite bias of about −log n). Also Hinton's (2010, §8.1) initial
 * visible biases.
 */
export function baseRateBias(
  data: ArrayLike<number>,
  n: number,
  visible: number,
  pseudocount = 1,
): Float64Array {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`base rates need ≥ 1 data row, got ${n}`);
  if (data.length < n * visible) throw new RangeError(`data holds fewer than ${n} rows of ${visible}`);
  if (!(pseudocount > 0)) throw new RangeError(`pseudocount must be > 0, got ${pseudocount}`);
  const k = new Float64Array(visible);
  for (let s = 0; s < n; s++) for (let i = 0; i < visible; i++) k[i] += data[s * visible + i];
  const out = new Float64Array(visible);
  for (let i = 0; i < visible; i++) out[i] = Math.log((k[i] + pseudocount) / (n - k[i] + pseudocount));
  return out;
}

/**
 * A schedule of `count` points from 0 to 1 in the proportions of Salakhutdinov & Murray's 14 500 (500
 * evenly spaced in [0, 0.5), 4000 in [0.5, 0.9), 10 000 in [0.9, 1]): denser where the trained model's
 * distribution changes fastest. Falls back to evenly spaced points below 30.
 */
export function salakhutdinovBetas(count: number): Float64Array {
  if (!(Number.isInteger(count) && count >= 2)) throw new RangeError(`need ≥ 2 betas, got ${count}`);
  const out = new Float64Array(count);
  if (count < 30) {
    for (let k = 0; k < count; k++) out[k] = k / (count - 1);
    return out;
  }
  const n1 = Math.max(1, Math.round((count * 500) / 14500));
  const n2 = Math.max(1, Math.round((count * 4000) / 14500));
  const n3 = count - n1 - n2;
  let q = 0;
  for (let k = 0; k < n1; k++) out[q++] = (0.5 * k) / n1;
  for (let k = 0; k < n2; k++) out[q++] = 0.5 + (0.4 * k) / n2;
  for (let k = 0; k < n3; k++) out[q++] = 0.9 + (0.1 * k) / (n3 - 1);
  out[count - 1] = 1;
  return out;
}

function schedule(betas: number | ArrayLike<number> | undefined): Float64Array {
  const b = typeof betas === "object" ? Float64Array.from(betas) : salakhutdinovBetas(betas ?? 1000);
  if (b.length < 2 || b[0] !== 0 || b[b.length - 1] !== 1)
    throw new RangeError("the annealing schedule must start at 0 and end at 1");
  for (let k = 1; k < b.length; k++)
    if (!(b[k] >= b[k - 1])) throw new RangeError(`the annealing schedule decreases at index ${k}`);
  return b;
}

function checkBase(model: Rbm, baseBias: ArrayLike<number> | undefined): Float32Array {
  if (baseBias === undefined) return Float32Array.from(model.b);
  if (baseBias.length !== model.visible)
    throw new RangeError(`the base has ${baseBias.length} visible biases, the model ${model.visible}`);
  const b = Float32Array.from(baseBias);
  for (let i = 0; i < b.length; i++)
    if (!Number.isFinite(b[i])) throw new RangeError(`base bias ${i} is not finite in float32`);
  return b;
}

/** Σ_i softplus(b_A,i) + H·log 2: log Z of θ_A = (0, b_A, 0), the path's start. */
function baseLogZ(baseBias: Float32Array, hidden: number): number {
  let s = hidden * Math.LN2;
  for (let i = 0; i < baseBias.length; i++) s += softplus(baseBias[i]);
  return s;
}

export interface BaseRateAisOptions {
  /** b_A (V values): default the model's own visible biases. */
  baseBias?: ArrayLike<number>;
  /** A count of points (`salakhutdinovBetas`, default 1000) or the schedule itself (0 … 1, non-decreasing). */
  betas?: number | ArrayLike<number>;
  /** Independent chains (default 100). */
  chains?: number;
  kernels?: RbmKernels;
  workspace?: RbmWorkspace;
}

export interface RbmAisRun {
  /** log Ẑ = log Z_0 + log mean_i w_i. */
  logZ: number;
  logZBase: number;
  logWeights: Float64Array;
  /** (Σ w)²/Σ w² of the final weights. */
  ess: number;
}

/**
 * One AIS run from the base-rate model to the RBM (module comment). Keys: the base draw foldIn(key, 0),
 * the step to betas[k] foldIn(key, k), as rbm/ais.ts.
 */
export function baseRateAis(model: Rbm, key: Key, opts: BaseRateAisOptions = {}): RbmAisRun {
  const betas = schedule(opts.betas);
  const bA = checkBase(model, opts.baseBias);
  const kernels = opts.kernels ?? defaultRbmKernels();
  const ws = opts.workspace ?? new RbmWorkspace();
  // A copy whose visible bias follows b_t; W and c are the model's.
  const path = model.clone();
  const fixedBias = bA.every((v, i) => v === model.b[i]);
  const bPrev = new Float32Array(model.visible);
  const setBias = (t: number) => {
    if (fixedBias) return;
    for (let i = 0; i < bA.length; i++) path.b[i] = (1 - t) * bA[i] + t * model.b[i];
    path.touch();
  };
  setBias(0);
  const chains = createAisChains(path, opts.chains ?? 100);
  kernels.aisInit(path, foldIn(key, 0), chains, ws);
  const { n, v, logw } = chains;
  const nv = model.visible;
  bPrev.set(path.b);
  for (let k = 1; k < betas.length; k++) {
    setBias(betas[k]);
    if (!fixedBias) {
      // (b_t − b_t′)ᵀv at the current states, from the float32 biases the sweep will use.
      for (let s = 0; s < n; s++) {
        let d = 0;
        for (let i = 0; i < nv; i++) if (v[s * nv + i] !== 0) d += path.b[i] - bPrev[i];
        logw[s] += d;
      }
      bPrev.set(path.b);
    }
    kernels.aisSweep(path, foldIn(key, k), chains, betas[k - 1], betas[k], ws);
  }
  const lse = logSumExp(logw);
  let s2 = 0;
  for (let i = 0; i < n; i++) s2 += Math.exp(2 * (logw[i] - lse));
  const logZBase = baseLogZ(bA, model.hidden);
  return { logZ: logZBase + lse - Math.log(n), logZBase, logWeights: Float64Array.from(logw), ess: 1 / s2 };
}

export interface RbmJarzynskiLogZOptions {
  baseBias?: ArrayLike<number>;
  /** Path points, as for AIS (default 1000, `salakhutdinovBetas`). */
  betas?: number | ArrayLike<number>;
  /** Walkers (default 100). */
  walkers?: number;
  /** Gibbs sweeps per path point (default 1). */
  sweeps?: number;
  /** Resample when ESS < resample·N (default 0.5). */
  resample?: number;
  kernels?: RbmKernels;
}

export interface RbmJarzynskiRun {
  logZ: number;
  /** Lee–Whiteley SE of this run's log Ẑ. */
  se: number;
  logZBase: number;
  /** ESS at the last step, before any resampling. */
  ess: number;
  resamplings: number;
}

/**
 * One Jarzynski annealing run (module comment): rbmJarzynski's weight updates and moves along
 * θ_t = (t·W, b_t, t·c). Keys: the start from key, the step to betas[k] from foldIn(key, k).
 */
export function rbmJarzynskiLogZ(model: Rbm, key: Key, opts: RbmJarzynskiLogZOptions = {}): RbmJarzynskiRun {
  const betas = schedule(opts.betas);
  const bA = checkBase(model, opts.baseBias);
  const theta = model.getParams();
  const nw = model.W.length;
  const nv = model.visible;
  const at = (t: number) => {
    const p = new Float64Array(theta.length);
    for (let q = 0; q < nw; q++) p[q] = t * theta[q];
    for (let i = 0; i < nv; i++) p[nw + i] = (1 - t) * bA[i] + t * theta[nw + i];
    for (let q = nw + nv; q < theta.length; q++) p[q] = t * theta[q];
    return p;
  };
  const path = model.clone();
  path.setParams(at(0));
  const objective = rbmJarzynski({
    walkers: opts.walkers ?? 100,
    sweeps: opts.sweeps,
    resample: opts.resample ?? 0.5,
    kernels: opts.kernels,
  });
  const [kStart, kPath] = split(key, 2);
  // W₀ = 0: the walkers start as exact draws of θ_A with log-weights 0 and log Z_base = log Z_0.
  const state = objective.init(kStart, path);
  for (let k = 1; k < betas.length; k++) {
    if (betas[k] !== betas[k - 1]) path.setParams(at(betas[k]));
    objective.afterUpdate(foldIn(kPath, k), state, path);
  }
  const d = objective.diagnostics(state);
  return { logZ: d.logZ, se: d.logZSe, logZBase: d.logZBase, ess: d.ess, resamplings: d.resamplings };
}

/** log Z from R independent runs, pooled on the Z scale (module comment). */
export interface PooledLogZ {
  /** log mean_r Ẑ_r. */
  logZ: number;
  /** Delta-method SE: sd_r(Ẑ_r)/(√R·mean_r Ẑ_r); NaN for one replica. */
  se: number;
  /** Each replica's log Ẑ_r. */
  values: Float64Array;
  replicas: number;
}

export function poolLogZ(values: ArrayLike<number>): PooledLogZ {
  const r = values.length;
  if (r < 1) throw new RangeError("need at least one replica");
  let top = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < r; i++) top = Math.max(top, values[i]);
  if (!Number.isFinite(top)) throw new RangeError("a replica's log Z is not finite");
  const z = Array.from(values, (l) => Math.exp(l - top));
  const mean = z.reduce((a, b) => a + b, 0) / r;
  const sd = r > 1 ? Math.sqrt(z.reduce((a, x) => a + (x - mean) ** 2, 0) / (r - 1)) : Number.NaN;
  return {
    logZ: top + Math.log(mean),
    se: sd / mean / Math.sqrt(r),
    values: Float64Array.from(values),
    replicas: r,
  };
}

export interface RbmLogZOptions {
  method: "ais" | "jarzynski";
  baseBias?: ArrayLike<number>;
  betas?: number | ArrayLike<number>;
  /** AIS chains or Jarzynski walkers per replica (default 100). */
  chains?: number;
  /** Independent runs (default 4, at least 2 for an SE). */
  replicas?: number;
  kernels?: RbmKernels;
  /** Called after each replica. */
  onReplica?: (done: number, total: number) => void;
}

export interface RbmLogZEstimate extends PooledLogZ {
  method: "ais" | "jarzynski";
  logZBase: number;
  /** Path points and chains (walkers) per replica. */
  betas: number;
  chains: number;
  /** Mean final ESS over replicas (before resampling, for Jarzynski). */
  ess: number;
  /** Jarzynski: the replicas' own Lee–Whiteley SEs and mean resamplings. */
  runSe?: Float64Array;
  resamplings?: number;
}

/** log Z by R replicas of AIS or Jarzynski annealing from the base-rate model; keys split from `key`. */
export function rbmLogZ(model: Rbm, key: Key, opts: RbmLogZOptions): RbmLogZEstimate {
  const replicas = opts.replicas ?? 4;
  if (!(Number.isInteger(replicas) && replicas >= 1))
    throw new RangeError(`replicas must be an integer ≥ 1, got ${replicas}`);
  const betas = schedule(opts.betas);
  const chains = opts.chains ?? 100;
  const keys = split(key, replicas);
  const values = new Float64Array(replicas);
  const runSe = new Float64Array(replicas);
  let ess = 0;
  let resamplings = 0;
  let logZBase = Number.NaN;
  const ws = new RbmWorkspace();
  for (let r = 0; r < replicas; r++) {
    if (opts.method === "ais") {
      const run = baseRateAis(model, keys[r], {
        baseBias: opts.baseBias,
        betas,
        chains,
        kernels: opts.kernels,
        workspace: ws,
      });
      values[r] = run.logZ;
      ess += run.ess / replicas;
      logZBase = run.logZBase;
    } else {
      const run = rbmJarzynskiLogZ(model, keys[r], {
        baseBias: opts.baseBias,
        betas,
        walkers: chains,
        kernels: opts.kernels,
      });
      values[r] = run.logZ;
      runSe[r] = run.se;
      ess += run.ess / replicas;
      resamplings += run.resamplings / replicas;
      logZBase = run.logZBase;
    }
    opts.onReplica?.(r + 1, replicas);
  }
  return {
    ...poolLogZ(values),
    method: opts.method,
    logZBase,
    betas: betas.length,
    chains,
    ess,
    ...(opts.method === "jarzynski" ? { runSe, resamplings } : {}),
  };
}

/**
 * The data term of the log-likelihood: mean and sd over the n rows of −F(v) (float64, Rbm.energy), so
 * that mean log p(v) = meanNegF − log Z; sd/√n is the test set's sampling error (not Monte Carlo).
 */
export function rbmNegFreeEnergy(model: Rbm, bits: Uint8Array, n: number): { mean: number; sd: number } {
  if (bits.length < n * model.visible) throw new RangeError(`data holds fewer than ${n} rows`);
  const f = new Float64Array(n);
  model.energy(bits, n, f);
  let mean = 0;
  for (let s = 0; s < n; s++) mean -= f[s] / n;
  let v = 0;
  for (let s = 0; s < n; s++) v += (-f[s] - mean) ** 2;
  return { mean, sd: n > 1 ? Math.sqrt(v / (n - 1)) : Number.NaN };
}
