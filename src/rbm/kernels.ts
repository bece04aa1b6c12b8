/**
 * The RBM's hot loops behind one small interface, `RbmKernels`, so that another implementation (native
 * code) can replace the typed-array one without touching the callers (train.ts, ais.ts, the benchmarks).
 *
 * Conventions shared by every implementation:
 *  - states are 0/1 bytes, n × nv (visible) or n × nh (hidden), row-major; probabilities are float32;
 *  - the tempered family (the one AIS moves along) is p_β(v, h) ∝ exp(bᵀv + β(cᵀh + vᵀWh)): the visible
 *    bias is not scaled, so β = 0 is the visible-biases-only model and β = 1 the RBM. Its conditionals
 *    are p_β(h_j = 1 | v) = σ(β(c + vᵀW)_j) and p_β(v_i = 1 | h) = σ(b_i + β(Wh)_i). (This differs from
 *    samplers/discrete/block-gibbs.ts, which targets e^{−βE}; both agree at β = 1.)
 *  - randomness comes from a Key per call: the typed-array kernels draw from `new Stream(key)` in a fixed
 *    order (documented per method), one 32-bit word per Bernoulli draw, taken as x = 1 iff
 *    u < p with u = word · 2^−32. Same key, same inputs → bit-identical outputs.
 *  - scratch lives in an `RbmWorkspace` passed by the caller (grow-only, reused across calls; not
 *    re-entrant), so steady-state calls allocate nothing but one Stream.
 *  - accumulations that feed log-probabilities (free energies, AIS log-weights) and bias gradients are
 *    float64; matrix products accumulate in float32 (up to 16 rows are summed in float64 registers first).
 *  - products with 0/1 states add rows of W (or Wᵀ, or of the hidden probabilities for ⟨v hᵀ⟩), either
 *    directly or through subset-sum tables built once per W version and cached in the workspace
 *    (linalg.ts); which one is chosen from how many rows will reuse the table (AIS: many, W fixed).
 */
import { Scratch } from "../math/scratch.ts";
import { defineKernel } from "../kernels/registry.ts";
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";
import {
  binaryMatmul,
  binaryMatmulTransA,
  buildSubsetSums,
  chooseGroupSize,
  subsetSumTableSize,
  tableMatmul,
  tableMatmulTransA,
  transpose,
} from "./linalg.ts";
import type { RbmModel } from "./model.ts";

/** Chains of block Gibbs: the visible states and the hidden states drawn on the way to them. */
export interface GibbsChains {
  readonly n: number;
  /** n × nv bits. */
  readonly v: Uint8Array;
  /** n × nh bits: the hiddens of the last sweep (the next sweep redraws them from v). */
  readonly h: Uint8Array;
}

/** AIS chains: states, the hidden pre-activations c + vᵀW of the current v, and float64 log-weights. */
export interface AisChains extends GibbsChains {
  /** n × nh: c + vᵀW at the current visibles. */
  readonly pre: Float32Array;
  /** n log-weights log w_i. */
  readonly logw: Float64Array;
}

/**
 * A gradient (or update) with the shapes of the parameters. For CD/PCD it is the log-likelihood ascent
 * direction ⟨v hᵀ⟩_data − ⟨v hᵀ⟩_model (and likewise for b, c): SGD does θ += lr·g.
 */
export interface RbmGradient {
  readonly W: Float32Array;
  readonly b: Float32Array;
  readonly c: Float32Array;
}

export interface RbmKernels {
  readonly name: string;
  /** out (n × nh) = σ(β(c + vᵀW)) for the n visible states v. No randomness. */
  hiddenProbs(
    model: RbmModel,
    v: Uint8Array,
    n: number,
    beta: number,
    out: Float32Array,
    ws: RbmWorkspace,
  ): void;
  /** out (n × nv) = σ(b + β·Wh) for the n hidden states h. No randomness. */
  visibleProbs(
    model: RbmModel,
    h: Uint8Array,
    n: number,
    beta: number,
    out: Float32Array,
    ws: RbmWorkspace,
  ): void;
  /** F(v) (float64) of the n visible states, written to out. No randomness. */
  freeEnergy(model: RbmModel, v: Uint8Array, n: number, out: Float64Array, ws: RbmWorkspace): void;
  /**
   * `sweeps` block-Gibbs sweeps of p_β on the chains, in place: h ~ p_β(h | v) (n·nh draws), then
   * v ~ p_β(v | h) (n·nv draws), per sweep.
   */
  gibbsSweep(
    model: RbmModel,
    key: Key,
    chains: GibbsChains,
    sweeps: number,
    beta: number,
    ws: RbmWorkspace,
  ): void;
  /**
   * CD-k / PCD-k gradient, written (not added) to `grad`:
   *   g_W = (1/n) Σ_data v₀ p(h|v₀)ᵀ − (1/m) Σ_chains v_k p(h|v_k)ᵀ,  g_b = mean v₀ − mean v_k,
   *   g_c = mean p(h|v₀) − mean p(h|v_k),
   * with hidden probabilities in both terms. Without `persistent`, m = n chains start at the data: h₀ is
   * drawn from p(h|v₀) (n·nh draws), then k sweeps v ~ p(v|h), [h ~ p(h|v) between sweeps] (CD-k).
   * With `persistent` (PCD-k) its m chains are used instead: h ~ p(h|v) from the stored v, then the
   * same k half-sweeps; the final v and the h that produced it are stored back. `data` is n × nv bits.
   */
  cdGradient(
    model: RbmModel,
    key: Key,
    data: Uint8Array,
    n: number,
    k: number,
    grad: RbmGradient,
    ws: RbmWorkspace,
    persistent?: GibbsChains,
  ): void;
  /** Starts AIS chains at the base (β = 0): v ~ Π Bern(σ(b)) (n·nv draws), pre = c + vᵀW, logw = 0. */
  aisInit(model: RbmModel, key: Key, chains: AisChains, ws: RbmWorkspace): void;
  /**
   * One AIS step β′ → β: logw += Σ_j softplus(β·pre_j) − softplus(β′·pre_j) (float64), then one Gibbs
   * sweep of p_β (h: n·nh draws, v: n·nv draws) and pre = c + vᵀW at the new v.
   */
  aisSweep(
    model: RbmModel,
    key: Key,
    chains: AisChains,
    betaPrev: number,
    beta: number,
    ws: RbmWorkspace,
  ): void;
  /**
   * Optional: θ ← θ + lr·g in float32 (W, b, c), each element float32(θ + lr·g) computed in float64, as
   * train.ts's sgdUpdate (which calls this when present, then `touch`es the model).
   */
  sgdUpdate?(model: RbmModel, grad: RbmGradient, lr: number): void;
}

/** Grow-only scratch buffers and the cached transpose of W. One per thread of work; not re-entrant. */
export class RbmWorkspace extends Scratch {
  private wt = new Float32Array(0);
  private wtModel: RbmModel | null = null;
  private wtVersion = -1;
  private tables = new Map<string, { model: RbmModel; version: number; g: number; table: Float32Array }>();

  /**
   * The subset-sum table (linalg.ts) of W (`which` = "W", groups of g visible rows) or of Wᵀ ("Wt", groups
   * of g hidden rows), cached until the model, its version or g changes.
   */
  subsetSums(which: "W" | "Wt", model: RbmModel, g: number): Float32Array {
    const entry = this.tables.get(which);
    if (entry && entry.model === model && entry.version === model.version && entry.g === g)
      return entry.table;
    const [src, k, n] =
      which === "W" ? [model.W, model.nv, model.nh] : [this.transposed(model), model.nh, model.nv];
    const size = subsetSumTableSize(k, n, g);
    const table = entry && entry.table.length >= size ? entry.table : new Float32Array(size);
    buildSubsetSums(src, k, n, g, table);
    this.tables.set(which, { model, version: model.version, g, table });
    return table;
  }

  /** Wᵀ (nh × nv) of `model`, recomputed when the model or its version changed. */
  transposed(model: RbmModel): Float32Array {
    if (this.wtModel !== model || this.wtVersion !== model.version || this.wt.length !== model.W.length) {
      if (this.wt.length !== model.W.length) this.wt = new Float32Array(model.W.length);
      transpose(model.W, model.nv, model.nh, this.wt);
      this.wtModel = model;
      this.wtVersion = model.version;
    }
    return this.wt;
  }
}

/** Gibbs chains of n states, all zero. */
export function createGibbsChains(model: RbmModel, n: number): GibbsChains {
  checkCount(n);
  return { n, v: new Uint8Array(n * model.nv), h: new Uint8Array(n * model.nh) };
}

/** AIS chains of n states (initialise them with `aisInit`). */
export function createAisChains(model: RbmModel, n: number): AisChains {
  checkCount(n);
  return {
    n,
    v: new Uint8Array(n * model.nv),
    h: new Uint8Array(n * model.nh),
    pre: new Float32Array(n * model.nh),
    logw: new Float64Array(n),
  };
}

/** A zero gradient with the model's shapes. */
export function createGradient(model: RbmModel): RbmGradient {
  return {
    W: new Float32Array(model.W.length),
    b: new Float32Array(model.nv),
    c: new Float32Array(model.nh),
  };
}

function checkCount(n: number): void {
  if (!(Number.isInteger(n) && n >= 1))
    throw new RangeError(`number of states must be an integer ≥ 1, got ${n}`);
}

const TWO_POW_M32 = 2 ** -32;

/** σ(y), stable for all y. */
function sig(y: number): number {
  if (y >= 0) return 1 / (1 + Math.exp(-y));
  const e = Math.exp(y);
  return e / (1 + e);
}

/** log(1 + e^y), stable for all y. */
function softplus(y: number): number {
  return (y > 0 ? y : 0) + Math.log1p(Math.exp(-Math.abs(y)));
}

/** Rows of A a cached table serves when W is fixed (AIS): large enough to pick the largest group. */
const MANY_ROWS = 1 << 20;

/**
 * out (n × nh) = c + vᵀW. `rows`: how many visible rows will be multiplied by this W before it changes
 * (chooses between the direct product and a subset-sum table, see linalg.ts).
 */
function hiddenPre(
  model: RbmModel,
  v: Uint8Array,
  n: number,
  out: Float32Array,
  ws: RbmWorkspace,
  rows: number,
): void {
  const { nv, nh, c } = model;
  for (let s = 0; s < n; s++) out.set(c, s * nh);
  const idx = ws.int32("idx", Math.max(nv, nh));
  const g = chooseGroupSize(rows, nv);
  if (g === 0) binaryMatmul(v, model.W, out, n, nv, nh, idx, true);
  else tableMatmul(v, ws.subsetSums("W", model, g), out, n, nv, nh, g, idx, true);
}

/** out (n × nv) = b + β·Wh; `rows` as for hiddenPre (hidden rows multiplied by this Wᵀ). */
function visiblePre(
  model: RbmModel,
  h: Uint8Array,
  n: number,
  beta: number,
  out: Float32Array,
  ws: RbmWorkspace,
  rows: number,
): void {
  const { nv, nh, b } = model;
  const idx = ws.int32("idx", Math.max(nv, nh));
  const g = chooseGroupSize(rows, nh);
  if (g === 0) binaryMatmul(h, ws.transposed(model), out, n, nh, nv, idx, false);
  else tableMatmul(h, ws.subsetSums("Wt", model, g), out, n, nh, nv, g, idx, false);
  for (let s = 0; s < n; s++) {
    const o = s * nv;
    if (beta === 1) for (let i = 0; i < nv; i++) out[o + i] += b[i];
    else for (let i = 0; i < nv; i++) out[o + i] = b[i] + beta * out[o + i];
  }
}

/** grad (nv × nh) (+)= α·vᵀp for n rows of bits v and probabilities p (direct or by a table of p's rows). */
function outerBits(
  v: Uint8Array,
  p: Float32Array,
  n: number,
  model: RbmModel,
  grad: Float32Array,
  alpha: number,
  accumulate: boolean,
  ws: RbmWorkspace,
): void {
  const { nv, nh } = model;
  const idx = ws.int32("idx", Math.max(nv, nh, n));
  const g = chooseGroupSize(nv, n);
  if (g === 0) binaryMatmulTransA(v, p, grad, nv, n, nh, idx, alpha, accumulate);
  else {
    const table = ws.float32("outerTable", subsetSumTableSize(n, nh, g));
    buildSubsetSums(p, n, nh, g, table);
    tableMatmulTransA(v, table, grad, nv, n, nh, g, idx, alpha, accumulate);
  }
}

/** x[q] = 1 iff u_q < σ(β·pre[q]) for q < len, one 32-bit draw each; probabilities to `probs` if given. */
function sampleBernoulli(
  rng: Stream,
  pre: Float32Array,
  len: number,
  beta: number,
  x: Uint8Array,
  probs?: Float32Array,
): void {
  for (let q = 0; q < len; q++) {
    const p = sig(beta * pre[q]);
    if (probs) probs[q] = p;
    x[q] = rng.nextU32() * TWO_POW_M32 < p ? 1 : 0;
  }
}

/** x[q] = 1 iff u_q < p[q], one 32-bit draw each. */
function sampleFromProbs(rng: Stream, p: Float32Array, len: number, x: Uint8Array): void {
  for (let q = 0; q < len; q++) x[q] = rng.nextU32() * TWO_POW_M32 < p[q] ? 1 : 0;
}

function sigmoidInPlace(x: Float32Array, len: number, beta: number): void {
  for (let q = 0; q < len; q++) x[q] = sig(beta * x[q]);
}

/** g_b ±= mean over n rows of the bits v (float64 sums); `sign` +1 sets, −1 subtracts. */
function meanBits(
  v: Uint8Array,
  n: number,
  dim: number,
  out: Float32Array,
  sign: 1 | -1,
  acc: Float64Array,
): void {
  acc.fill(0, 0, dim);
  for (let s = 0; s < n; s++) {
    const o = s * dim;
    for (let i = 0; i < dim; i++) acc[i] += v[o + i];
  }
  for (let i = 0; i < dim; i++) out[i] = sign === 1 ? acc[i] / n : out[i] - acc[i] / n;
}

function meanRows(
  x: Float32Array,
  n: number,
  dim: number,
  out: Float32Array,
  sign: 1 | -1,
  acc: Float64Array,
): void {
  acc.fill(0, 0, dim);
  for (let s = 0; s < n; s++) {
    const o = s * dim;
    for (let i = 0; i < dim; i++) acc[i] += x[o + i];
  }
  for (let i = 0; i < dim; i++) out[i] = sign === 1 ? acc[i] / n : out[i] - acc[i] / n;
}

/** The typed-array (pure TypeScript) implementation. */
export const typedArrayRbmKernels: RbmKernels = {
  name: "typed-array",

  hiddenProbs(model, v, n, beta, out, ws) {
    hiddenPre(model, v, n, out, ws, n);
    sigmoidInPlace(out, n * model.nh, beta);
  },

  visibleProbs(model, h, n, beta, out, ws) {
    visiblePre(model, h, n, beta, out, ws, n);
    sigmoidInPlace(out, n * model.nv, 1);
  },

  freeEnergy(model, v, n, out, ws) {
    const { nv, nh, b } = model;
    const pre = ws.float32("pre", n * nh);
    hiddenPre(model, v, n, pre, ws, n);
    for (let s = 0; s < n; s++) {
      let f = 0;
      for (let i = 0; i < nv; i++) if (v[s * nv + i] !== 0) f -= b[i];
      for (let j = 0; j < nh; j++) f -= softplus(pre[s * nh + j]);
      out[s] = f;
    }
  },

  gibbsSweep(model, key, chains, sweeps, beta, ws) {
    const { nv, nh } = model;
    const n = chains.n;
    const rng = new Stream(key);
    const preH = ws.float32("preH", n * nh);
    const preV = ws.float32("preV", n * nv);
    for (let t = 0; t < sweeps; t++) {
      hiddenPre(model, chains.v, n, preH, ws, n * sweeps);
      sampleBernoulli(rng, preH, n * nh, beta, chains.h);
      visiblePre(model, chains.h, n, beta, preV, ws, n * sweeps);
      sampleBernoulli(rng, preV, n * nv, 1, chains.v);
    }
  },

  cdGradient(model, key, data, n, k, grad, ws, persistent) {
    if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`CD needs k ≥ 1 sweeps, got ${k}`);
    const { nv, nh } = model;
    const rng = new Stream(key);
    const acc = ws.float64("acc", Math.max(nv, nh));
    const m = persistent ? persistent.n : n;
    // Rows multiplied by W (data, then the chains after each sweep; PCD adds the stored chains) and by Wᵀ.
    const hiddenRows = n + m * k + (persistent ? m : 0);
    // Data term.
    const ph0 = ws.float32("ph0", n * nh);
    hiddenPre(model, data, n, ph0, ws, hiddenRows);
    sigmoidInPlace(ph0, n * nh, 1);
    outerBits(data, ph0, n, model, grad.W, 1 / n, false, ws);
    meanBits(data, n, nv, grad.b, 1, acc);
    meanRows(ph0, n, nh, grad.c, 1, acc);
    // Model term: m chains, started at the data (CD) or persistent (PCD).
    const v = persistent ? persistent.v : ws.uint8("cdV", n * nv);
    const h = persistent ? persistent.h : ws.uint8("cdH", n * nh);
    const ph = ws.float32("ph", m * nh);
    const preV = ws.float32("preV", m * nv);
    if (persistent) {
      hiddenPre(model, v, m, ph, ws, hiddenRows);
      sampleBernoulli(rng, ph, m * nh, 1, h);
    } else sampleFromProbs(rng, ph0, n * nh, h);
    for (let t = 1; t <= k; t++) {
      visiblePre(model, h, m, 1, preV, ws, m * k);
      sampleBernoulli(rng, preV, m * nv, 1, v);
      hiddenPre(model, v, m, ph, ws, hiddenRows);
      if (t < k) sampleBernoulli(rng, ph, m * nh, 1, h);
      else sigmoidInPlace(ph, m * nh, 1);
    }
    outerBits(v, ph, m, model, grad.W, -1 / m, true, ws);
    meanBits(v, m, nv, grad.b, -1, acc);
    meanRows(ph, m, nh, grad.c, -1, acc);
  },

  aisInit(model, key, chains, ws) {
    const { nv, b } = model;
    const rng = new Stream(key);
    const n = chains.n;
    for (let s = 0; s < n; s++)
      for (let i = 0; i < nv; i++) chains.v[s * nv + i] = rng.nextU32() * TWO_POW_M32 < sig(b[i]) ? 1 : 0;
    chains.h.fill(0);
    chains.logw.fill(0);
    hiddenPre(model, chains.v, n, chains.pre, ws, MANY_ROWS);
  },

  aisSweep(model, key, chains, betaPrev, beta, ws) {
    const { nv, nh } = model;
    const n = chains.n;
    const rng = new Stream(key);
    const { pre, h, logw } = chains;
    for (let s = 0; s < n; s++) {
      let dl = 0;
      const o = s * nh;
      for (let j = 0; j < nh; j++) {
        const x = pre[o + j];
        const y = beta * x;
        const yp = betaPrev * x;
        const e = Math.exp(-Math.abs(y));
        dl += (y > 0 ? y : 0) + Math.log1p(e) - ((yp > 0 ? yp : 0) + Math.log1p(Math.exp(-Math.abs(yp))));
        const p = y >= 0 ? 1 / (1 + e) : e / (1 + e);
        h[o + j] = rng.nextU32() * TWO_POW_M32 < p ? 1 : 0;
      }
      logw[s] += dl;
    }
    const preV = ws.float32("preV", n * nv);
    visiblePre(model, h, n, beta, preV, ws, MANY_ROWS);
    sampleBernoulli(rng, preV, n * nv, 1, chains.v);
    hiddenPre(model, chains.v, n, pre, ws, MANY_ROWS);
  },
};

/** The RBM kernels; the typed-array ones run where no backend provides faster ones. */
export const RBM_KERNELS = defineKernel<RbmKernels>("rbm", typedArrayRbmKernels);

/**
 * The kernels of the selected backend (src/kernels/registry.ts): the native ones (native/src/rbm.cc) when
 * the addon is loaded and selected, else the typed-array ones. Same contract and draw order; the results
 * agree to float32 rounding (see src/backend/native/rbm.ts).
 */
export function defaultRbmKernels(): RbmKernels {
  return RBM_KERNELS.require();
}
