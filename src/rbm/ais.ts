/**
 * log Z of an RBM: annealed importance sampling (Salakhutdinov & Murray 2008, as in the PyTorch peer's
 * `rbm_ais`) and exact enumeration for small models.
 *
 * The AIS path. AIS moves along the family p_t(v, h) ∝ exp(bᵀv + t(cᵀh + vᵀWh)), t: 0 → 1 (the schedule
 * option is called `betas`, after the paper). This is an annealing path, not the RBM at a temperature:
 * the visible bias is not scaled, so p_0 is the visible-biases-only model with uniform hiddens,
 * log Z₀ = Σ_i softplus(b_i) + H·log 2, sampled exactly, and p_1 = ρ_1 ∝ e^{−E}, the RBM. For 0 < t < 1,
 * p_t is not ρ_β ∝ e^{−βE} for any β (the model's one temperature convention, energies/rbm.ts; exactLogZ
 * below takes that β). Summing out h, p*_t(v) = e^{bᵀv} Π_j (1 + e^{t(c + vᵀW)_j}), so the weight
 * increment from t′ to t at the current v is Σ_j softplus(t·pre_j) − softplus(t′·pre_j) with
 * pre = c + vᵀW; the transition at t is one block-Gibbs sweep of p_t (conditionals σ(t·pre) for h,
 * σ(b + t·Wh) for v). With K path points and n chains: log Ẑ = log Z₀ + log((1/n) Σ_i w_i). Ẑ is
 * unbiased for Z, so log Ẑ is biased low (by ≈ Var(log Ẑ)/2). Log-weights and log Z are float64.
 */
import type { Rbm } from "../energies/rbm.ts";
import { softplus } from "../math/logistic.ts";
import { logSumExp } from "../math/logspace.ts";
import { foldIn, type Key } from "../random/key.ts";
import { createAisChains, defaultRbmKernels, type RbmKernels, RbmWorkspace } from "./kernels.ts";

export interface AisOptions {
  /**
   * The path points t_k: a count K of linearly spaced points k/(K−1), k = 0 … K−1 (default 1000), or the
   * schedule itself (from 0 to 1, non-decreasing).
   */
  betas?: number | ArrayLike<number>;
  /** Number of independent chains (default 100). */
  chains?: number;
  /** Default: the selected backend's kernels (native when the addon is loaded). */
  kernels?: RbmKernels;
  workspace?: RbmWorkspace;
}

export interface AisResult {
  /** log Ẑ = log Z₀ + log mean w. */
  logZ: number;
  /** log Z₀ of the base model. */
  logZBase: number;
  /** The chains' final log-weights log w_i. */
  logWeights: Float64Array;
  /** (Σ w)² / Σ w², in [1, chains]. */
  ess: number;
  /** Sample standard deviation of the log-weights. */
  logwStd: number;
}

/** k/(K−1) for k = 0 … K−1 (K ≥ 2), as float64. */
export function linearBetas(count: number): Float64Array {
  if (!(Number.isInteger(count) && count >= 2)) throw new RangeError(`need ≥ 2 betas, got ${count}`);
  const b = new Float64Array(count);
  for (let k = 0; k < count; k++) b[k] = k / (count - 1);
  return b;
}

/** log Z₀ = Σ_i softplus(b_i) + H·log 2: the t = 0 end of the AIS path. */
export function baseLogZ(model: Rbm): number {
  let s = model.hidden * Math.LN2;
  for (let i = 0; i < model.visible; i++) s += softplus(model.b[i]);
  return s;
}

/** Σ_i softplus(b_i) + Σ_j softplus(c_j): log Z with W = 0 (the independent-units approximation). */
export function independentUnitsLogZ(model: Rbm): number {
  let s = 0;
  for (let i = 0; i < model.visible; i++) s += softplus(model.b[i]);
  for (let j = 0; j < model.hidden; j++) s += softplus(model.c[j]);
  return s;
}

/**
 * AIS estimate of log Z. Keys: the base draw uses foldIn(key, 0), the step to betas[k] foldIn(key, k).
 * The schedule must start at 0, end at 1 and be non-decreasing.
 */
export function ais(model: Rbm, key: Key, opts: AisOptions = {}): AisResult {
  const betas =
    typeof opts.betas === "object" ? Float64Array.from(opts.betas) : linearBetas(opts.betas ?? 1000);
  if (betas.length < 2 || betas[0] !== 0 || betas[betas.length - 1] !== 1)
    throw new RangeError("the AIS schedule must start at β = 0 and end at β = 1");
  for (let k = 1; k < betas.length; k++)
    if (!(betas[k] >= betas[k - 1])) throw new RangeError(`the AIS schedule decreases at index ${k}`);
  const kernels = opts.kernels ?? defaultRbmKernels();
  const ws = opts.workspace ?? new RbmWorkspace();
  const chains = createAisChains(model, opts.chains ?? 100);
  kernels.aisInit(model, foldIn(key, 0), chains, ws);
  for (let k = 1; k < betas.length; k++)
    kernels.aisSweep(model, foldIn(key, k), chains, betas[k - 1], betas[k], ws);
  const logw = chains.logw;
  const n = chains.n;
  const lse = logSumExp(logw);
  let s2 = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) {
    s2 += Math.exp(2 * (logw[i] - lse));
    mean += logw[i] / n;
  }
  let v = 0;
  for (let i = 0; i < n; i++) v += (logw[i] - mean) ** 2;
  const logZBase = baseLogZ(model);
  return {
    logZ: logZBase + lse - Math.log(n),
    logZBase,
    logWeights: Float64Array.from(logw),
    ess: 1 / s2,
    logwStd: n > 1 ? Math.sqrt(v / (n - 1)) : 0,
  };
}

/**
 * Exact log Z_β = log Σ_{v,h} e^{−βE(v,h)} (default β = 1) in float64, enumerating the smaller layer
 * (≤ maxBits units) in Gray-code order and summing the other analytically:
 *   over h: Σ_h e^{βcᵀh} Π_i (1 + e^{β(b + Wh)_i}),   over v: Σ_v e^{βbᵀv} Π_j (1 + e^{β(c + vᵀW)_j}),
 * which at β = 1 is Σ_v e^{−F(v)}. The field of the other layer is updated by one column per step and
 * recomputed every 1024 steps.
 */
export function exactLogZ(model: Rbm, opts: { beta?: number; maxBits?: number } = {}): number {
  const beta = opts.beta ?? 1;
  const maxBits = opts.maxBits ?? 24;
  if (!(beta >= 0 && Number.isFinite(beta))) throw new RangeError(`beta must be ≥ 0 and finite, got ${beta}`);
  const { visible: nv, hidden: nh } = model;
  const overHidden = nh <= nv;
  const m = overHidden ? nh : nv;
  const r = overHidden ? nv : nh;
  if (m > maxBits) throw new RangeError(`exact log Z would enumerate 2^${m} states (limit 2^${maxBits})`);
  // cols[a·r + i] = coupling of enumerated unit a with unit i of the other layer (float64).
  const cols = new Float64Array(m * r);
  for (let i = 0; i < nv; i++)
    for (let j = 0; j < nh; j++) {
      const w = model.W[i * nh + j];
      if (overHidden) cols[j * r + i] = w;
      else cols[i * r + j] = w;
    }
  const ownBias = overHidden ? model.c : model.b;
  const otherBias = overHidden ? model.b : model.c;
  const bits = new Uint8Array(m);
  const field = new Float64Array(r);
  let own = 0;
  const recompute = () => {
    own = 0;
    for (let i = 0; i < r; i++) field[i] = otherBias[i];
    for (let a = 0; a < m; a++) {
      if (bits[a] === 0) continue;
      own += ownBias[a];
      for (let i = 0; i < r; i++) field[i] += cols[a * r + i];
    }
  };
  recompute();
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  const total = 2 ** m;
  for (let k = 0; k < total; k++) {
    if (k > 0) {
      // Gray code: step k flips the lowest set bit of k.
      let a = 0;
      while (((k / 2 ** a) & 1) === 0) a++;
      bits[a] ^= 1;
      if ((k & 1023) === 0) recompute();
      else {
        const sign = bits[a] === 1 ? 1 : -1;
        own += sign * ownBias[a];
        for (let i = 0; i < r; i++) field[i] += sign * cols[a * r + i];
      }
    }
    let t = beta * own;
    for (let i = 0; i < r; i++) t += softplus(beta * field[i]);
    if (t > max) {
      sum = sum * Math.exp(max - t) + 1;
      max = t;
    } else sum += Math.exp(t - max);
  }
  return max + Math.log(sum);
}
