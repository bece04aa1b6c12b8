/**
 * log Z of a two-layer deep Boltzmann machine (energies/dbm.ts): exact enumeration for small models, and
 * annealed importance sampling (Neal 2001) on the (v, h2) free energy with h1 summed out, as Salakhutdinov &
 * Hinton (2009, §4) do, with the base-rate start of Salakhutdinov & Murray (2008).
 *
 * Exact. Two groupings of the same sum, in float64 (`dbmExactLogZ`):
 *  - "v,h2": enumerate the 2^(V+H2) states x = (v, h2), Z = Σ_x e^{−F(v,h2)}, F the DBM's free energy;
 *  - "h1":   enumerate the 2^H1 states of h1, with v and h2 conditionally independent given h1:
 *            Z = Σ_{h1} e^{c1ᵀh1} Π_i (1 + e^{(b + W1h1)_i}) Π_k (1 + e^{(c2 + W2ᵀh1)_k}).
 *
 * AIS path. θ_A = (W1 = 0, W2 = 0, b_A, c1, c2): the model's biases with the weights removed, where b_A is
 * the model's visible bias or, better for a trained model, the logits of the training data's pixel means
 * (rbm/evaluate.ts `baseRateBias`). Its units are independent, so log Z_A = Σ softplus(b_A) + Σ softplus(c1)
 * + Σ softplus(c2) and it is sampled exactly. The intermediate models are θ_β = (1 − β)θ_A + βθ, β: 0 → 1;
 * E is linear in θ, so p_β ∝ e^{−E_{θ_β}} is a DBM, and with h1 summed out
 *   F_β(v, h2) = (1 − β)·(−b_Aᵀv − c2ᵀh2) + β·(−bᵀv − c2ᵀh2) − Σ_j softplus((1 − β)c1_j + β·pre_j),
 *   pre = c1 + vᵀW1 + W2h2.
 * Chain i carries x = (v, h2): x_0 ~ p_A, and for k = 1 … K−1, log w += F_{β_{k−1}}(x) − F_{β_k}(x), then x
 * moves by one two-phase block-Gibbs sweep of θ_{β_k} (h1 | v, h2; then v, h2 | h1), which leaves
 * p_{β_k}(v, h2) invariant. log Ẑ = log Z_A + log mean_i w_i (log-mean-exp, float64); Ẑ is unbiased for Z.
 *
 * Replicas (`dbmLogZ`): R independent runs pooled on the Z scale, SE by the delta method
 * (rbm/evaluate.ts `poolLogZ`); log Ẑ is biased low by about SE²/2, which the SE shows.
 */
import { bipartiteLogSum, type Dbm } from "../energies/dbm.ts";
import { sigmoid, softplus } from "../math/logistic.ts";
import { logSumExp } from "../math/logspace.ts";
import { foldIn, type Key, Stream, split } from "../random/key.ts";
import { poolLogZ, type PooledLogZ, salakhutdinovBetas } from "./evaluate.ts";

export type DbmLogZRoute = "v,h2" | "h1";

/**
 * Exact log Z by enumeration (module comment). Default route: the one with fewer enumerated bits; it must
 * not exceed `maxBits` (default 24).
 */
export function dbmExactLogZ(model: Dbm, opts: { route?: DbmLogZRoute; maxBits?: number } = {}): number {
  const { visible: nv, hidden1: n1, hidden2: n2, W1, W2, b, c1, c2 } = model;
  const route = opts.route ?? (n1 < nv + n2 ? "h1" : "v,h2");
  const bitsNeeded = route === "h1" ? n1 : nv + n2;
  const maxBits = opts.maxBits ?? 24;
  if (bitsNeeded > maxBits)
    throw new RangeError(`exact log Z would enumerate 2^${bitsNeeded} states (limit 2^${maxBits})`);
  if (route === "v,h2") {
    // Enumerated x = (v, h2) with own bias (b, c2); row a of C is its coupling to h1.
    const m = nv + n2;
    const C = new Float64Array(m * n1);
    C.set(W1);
    for (let k = 0; k < n2; k++) for (let j = 0; j < n1; j++) C[(nv + k) * n1 + j] = W2[j * n2 + k];
    const a = new Float64Array(m);
    a.set(b);
    a.set(c2, nv);
    return bipartiteLogSum(a, C, c1);
  }
  // Enumerated h1 with own bias c1; summed y = (v, h2) with bias (b, c2).
  const r = nv + n2;
  const C = new Float64Array(n1 * r);
  for (let j = 0; j < n1; j++) {
    for (let i = 0; i < nv; i++) C[j * r + i] = W1[i * n1 + j];
    for (let k = 0; k < n2; k++) C[j * r + nv + k] = W2[j * n2 + k];
  }
  const d = new Float64Array(r);
  d.set(b);
  d.set(c2, nv);
  return bipartiteLogSum(c1, C, d);
}

/** log Z_A = Σ softplus(b_A) + Σ softplus(c1) + Σ softplus(c2): the AIS base (module comment). */
export function dbmBaseLogZ(model: Dbm, baseVisibleBias?: ArrayLike<number>): number {
  const bA = checkBase(model, baseVisibleBias);
  let s = 0;
  for (let i = 0; i < bA.length; i++) s += softplus(bA[i]);
  for (let j = 0; j < model.hidden1; j++) s += softplus(model.c1[j]);
  for (let k = 0; k < model.hidden2; k++) s += softplus(model.c2[k]);
  return s;
}

function checkBase(model: Dbm, baseVisibleBias: ArrayLike<number> | undefined): Float64Array {
  if (baseVisibleBias === undefined) return Float64Array.from(model.b);
  if (baseVisibleBias.length !== model.visible)
    throw new RangeError(`the base has ${baseVisibleBias.length} visible biases, the model ${model.visible}`);
  const bA = Float64Array.from(baseVisibleBias);
  for (let i = 0; i < bA.length; i++)
    if (!Number.isFinite(bA[i])) throw new RangeError(`base bias ${i} is not finite`);
  return bA;
}

function schedule(betas: number | ArrayLike<number> | undefined): Float64Array {
  const s = typeof betas === "object" ? Float64Array.from(betas) : salakhutdinovBetas(betas ?? 1000);
  if (s.length < 2 || s[0] !== 0 || s[s.length - 1] !== 1)
    throw new RangeError("the AIS schedule must start at β = 0 and end at β = 1");
  for (let k = 1; k < s.length; k++)
    if (!(s[k] >= s[k - 1])) throw new RangeError(`the AIS schedule decreases at index ${k}`);
  return s;
}

export interface DbmAisOptions {
  /** b_A (V): default the model's visible bias. */
  baseVisibleBias?: ArrayLike<number>;
  /** A count of points (`salakhutdinovBetas`, default 1000) or the schedule (0 … 1, non-decreasing). */
  betas?: number | ArrayLike<number>;
  /** Independent chains (default 100). */
  chains?: number;
}

export interface DbmAisRun {
  /** log Ẑ = log Z_A + log mean_i w_i. */
  logZ: number;
  logZBase: number;
  logWeights: Float64Array;
  /** (Σ w)²/Σ w². */
  ess: number;
}

/** Fields are rebuilt from the states every this many temperatures (bounds the drift of the updates). */
const REFRESH = 256;

/**
 * One AIS run (module comment). Keys: the base draw uses foldIn(key, 0), the sweep at betas[k]
 * foldIn(key, k); within a sweep, chain by chain, H1 bits then V then H2 (as Dbm.gibbs).
 *
 * Cost. Each chain keeps its fields — pre = c1 + vᵀW1 + W2h2 (H1), W1h1 (V) and W2ᵀh1 (H2) — and updates them
 * by the rows of the units that changed in the last sweep, rebuilding them from the states every `REFRESH`
 * temperatures; late in the schedule few units change per sweep, so a step costs far less than the dense
 * products. The updates only reorder float64 sums (drift ~1e-13 between rebuilds).
 */
export function dbmAis(model: Dbm, key: Key, opts: DbmAisOptions = {}): DbmAisRun {
  const betas = schedule(opts.betas);
  const n = opts.chains ?? 100;
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`chains must be an integer ≥ 1, got ${n}`);
  const bA = checkBase(model, opts.baseVisibleBias);
  const { visible: nv, hidden1: n1, hidden2: n2, W1, W2, b, c1, c2 } = model;
  const v = new Uint8Array(n * nv);
  const h1 = new Uint8Array(n * n1);
  const h2 = new Uint8Array(n * n2);
  const logw = new Float64Array(n);
  {
    const rng = new Stream(foldIn(key, 0));
    for (let s = 0; s < n; s++) {
      for (let i = 0; i < nv; i++) v[s * nv + i] = rng.uniform() < sigmoid(bA[i]) ? 1 : 0;
      for (let k = 0; k < n2; k++) h2[s * n2 + k] = rng.uniform() < sigmoid(c2[k]) ? 1 : 0;
    }
  }
  // Transposes, so that every update adds a contiguous row: W1ᵀ (H1 × V) and W2ᵀ (H2 × H1).
  const W1T = new Float64Array(n1 * nv);
  for (let i = 0; i < nv; i++) for (let j = 0; j < n1; j++) W1T[j * nv + i] = W1[i * n1 + j];
  const W2T = new Float64Array(n2 * n1);
  for (let j = 0; j < n1; j++) for (let k = 0; k < n2; k++) W2T[k * n1 + j] = W2[j * n2 + k];
  // Per chain: pre (H1), u = W1h1 (V), g = W2ᵀh1 (H2); h1 starts at 0 (it is drawn before it is used).
  const pre = new Float64Array(n * n1);
  const u = new Float64Array(n * nv);
  const g = new Float64Array(n * n2);
  const rebuild = (s: number) => {
    const p = pre.subarray(s * n1, (s + 1) * n1);
    p.set(c1);
    for (let i = 0; i < nv; i++) if (v[s * nv + i] === 1) addRow(p, W1, i * n1, 1);
    for (let k = 0; k < n2; k++) if (h2[s * n2 + k] === 1) addRow(p, W2T, k * n1, 1);
    const us = u.subarray(s * nv, (s + 1) * nv);
    const gs = g.subarray(s * n2, (s + 1) * n2);
    us.fill(0);
    gs.fill(0);
    for (let j = 0; j < n1; j++)
      if (h1[s * n1 + j] === 1) {
        addRow(us, W1T, j * nv, 1);
        addRow(gs, W2, j * n2, 1);
      }
  };
  for (let s = 0; s < n; s++) rebuild(s);
  // b − b_A: F_β's linear part in v is −((1 − β)b_A + βb)ᵀv, and c2ᵀh2 does not depend on β.
  const db = new Float64Array(nv);
  for (let i = 0; i < nv; i++) db[i] = b[i] - bA[i];
  for (let k = 1; k < betas.length; k++) {
    const b0 = betas[k - 1];
    const b1 = betas[k];
    const rng = new Stream(foldIn(key, k));
    const last = k === betas.length - 1;
    if (k % REFRESH === 0) for (let s = 0; s < n; s++) rebuild(s);
    for (let s = 0; s < n; s++) {
      const vs = v.subarray(s * nv, (s + 1) * nv);
      const h1s = h1.subarray(s * n1, (s + 1) * n1);
      const h2s = h2.subarray(s * n2, (s + 1) * n2);
      const ps = pre.subarray(s * n1, (s + 1) * n1);
      const us = u.subarray(s * nv, (s + 1) * nv);
      const gs = g.subarray(s * n2, (s + 1) * n2);
      // log w += F_{β_{k−1}}(x) − F_{β_k}(x) = (β_k − β_{k−1})·(b − b_A)ᵀv + Σ_j [softplus(input at β_k) −
      // softplus(input at β_{k−1})], where the input of h1 at β is (1 − β)c1 + β·pre.
      let dv = 0;
      for (let i = 0; i < nv; i++) if (vs[i] === 1) dv += db[i];
      let dl = (b1 - b0) * dv;
      for (let j = 0; j < n1; j++) {
        const at1 = (1 - b1) * c1[j] + b1 * ps[j];
        dl += softplus(at1) - softplus((1 - b0) * c1[j] + b0 * ps[j]);
      }
      logw[s] += dl;
      if (last) continue; // the last transition would not change the weights
      // One two-phase sweep of θ_{β_k}: h1 | (v, h2), then v | h1 and h2 | h1; each unit that changes
      // updates the fields that depend on it.
      for (let j = 0; j < n1; j++) {
        const x = rng.uniform() < sigmoid((1 - b1) * c1[j] + b1 * ps[j]) ? 1 : 0;
        if (x !== h1s[j]) {
          const sign = x === 1 ? 1 : -1;
          addRow(us, W1T, j * nv, sign);
          addRow(gs, W2, j * n2, sign);
          h1s[j] = x;
        }
      }
      for (let i = 0; i < nv; i++) {
        const x = rng.uniform() < sigmoid((1 - b1) * bA[i] + b1 * b[i] + b1 * us[i]) ? 1 : 0;
        if (x !== vs[i]) {
          addRow(ps, W1, i * n1, x === 1 ? 1 : -1);
          vs[i] = x;
        }
      }
      for (let q = 0; q < n2; q++) {
        const x = rng.uniform() < sigmoid(c2[q] + b1 * gs[q]) ? 1 : 0;
        if (x !== h2s[q]) {
          addRow(ps, W2T, q * n1, x === 1 ? 1 : -1);
          h2s[q] = x;
        }
      }
    }
  }
  const lse = logSumExp(logw);
  let s2 = 0;
  for (let i = 0; i < n; i++) s2 += Math.exp(2 * (logw[i] - lse));
  const logZBase = dbmBaseLogZ(model, bA);
  return { logZ: logZBase + lse - Math.log(n), logZBase, logWeights: logw, ess: 1 / s2 };
}

/** out[t] += sign·M[off + t] for t < out.length. */
function addRow(out: Float64Array, M: Float64Array, off: number, sign: 1 | -1): void {
  const len = out.length;
  if (sign === 1) for (let t = 0; t < len; t++) out[t] += M[off + t];
  else for (let t = 0; t < len; t++) out[t] -= M[off + t];
}

export interface DbmLogZOptions extends DbmAisOptions {
  /** Independent runs (default 4; at least 2 for an SE). */
  replicas?: number;
}

export interface DbmLogZEstimate extends PooledLogZ {
  logZBase: number;
  /** Path points and chains per replica. */
  betas: number;
  chains: number;
  /** Mean final ESS over the replicas. */
  ess: number;
}

/** log Z by R AIS replicas (keys split from `key`), pooled on the Z scale with the delta-method SE. */
export function dbmLogZ(model: Dbm, key: Key, opts: DbmLogZOptions = {}): DbmLogZEstimate {
  const replicas = opts.replicas ?? 4;
  if (!(Number.isInteger(replicas) && replicas >= 1))
    throw new RangeError(`replicas must be an integer ≥ 1, got ${replicas}`);
  const betas = schedule(opts.betas);
  const chains = opts.chains ?? 100;
  const keys = split(key, replicas);
  const values = new Float64Array(replicas);
  let ess = 0;
  let logZBase = Number.NaN;
  for (let r = 0; r < replicas; r++) {
    const run = dbmAis(model, keys[r], { ...opts, betas, chains });
    values[r] = run.logZ;
    ess += run.ess / replicas;
    logZBase = run.logZBase;
  }
  return { ...poolLogZ(values), logZBase, betas: betas.length, chains, ess };
}
