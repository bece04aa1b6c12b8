/**
 * The RBM's hot loops behind one small interface, `RbmKernels`, so that another implementation (native
 * code) can replace the typed-array one without touching the callers (the block-Gibbs sampler, the CD/PCD
 * objective, AIS, the benchmarks). The model is the library's one RBM type, `Rbm` (energies/rbm.ts).
 *
 * Conventions shared by every implementation:
 *  - states are 0/1 bytes, n × V (visible) or n × H (hidden), row-major; probabilities are float32;
 *  - temperature is the model's one convention (energies/rbm.ts): at inverse temperature β the target is
 *    ρ_β(v, h) ∝ e^{−βE(v,h)}, p_β(h_j = 1 | v) = σ(β(c + vᵀW)_j), p_β(v_i = 1 | h) = σ(β(b + Wh)_i).
 *    AIS alone moves along its annealing path p_t(v, h) ∝ exp(bᵀv + t(cᵀh + vᵀWh)) (visible bias not
 *    scaled; p_t(v_i = 1 | h) = σ(b_i + t(Wh)_i)), documented in rbm/ais.ts; p_1 = ρ_1;
 *  - randomness comes from a Key per call: the typed-array kernels draw from `new Stream(key)` in a fixed
 *    order (documented per method), one 32-bit word per Bernoulli draw, taken as x = 1 iff
 *    u < p with u = word · 2^−32, p = σ(·) computed in float64 from the float32 pre-activation. Same key,
 *    same inputs → bit-identical outputs;
 *  - gradients are gradients of the loss to minimise (descent, as everywhere in the library): for CD/PCD
 *    the estimate of E_data[∂θF] − E_model[∂θF];
 *  - scratch lives in an `RbmWorkspace` passed by the caller (grow-only, reused across calls; not
 *    re-entrant), so steady-state calls allocate nothing but one Stream;
 *  - accumulations that feed log-probabilities (free energies, AIS log-weights) and bias gradients are
 *    float64; matrix products accumulate in float32 (up to 16 rows are summed in float64 registers first);
 *  - products with 0/1 states add rows of W (or Wᵀ, or of the hidden probabilities for ⟨v hᵀ⟩), either
 *    directly or through subset-sum tables built once per W version and cached in the workspace
 *    (linalg.ts); which one is chosen from how many rows will reuse the table (AIS: many, W fixed).
 */
import type { Rbm } from "../energies/rbm.ts";
import { sigmoid, softplus } from "../math/logistic.ts";
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

/** Chains of block Gibbs: the visible states and the hidden states drawn on the way to them. */
export interface GibbsChains {
  readonly n: number;
  /** n × V bits. */
  readonly v: Uint8Array;
  /** n × H bits: the hiddens of the last sweep (the next sweep redraws them from v). */
  readonly h: Uint8Array;
}

/** AIS chains: states, the hidden pre-activations c + vᵀW of the current v, and float64 log-weights. */
export interface AisChains extends GibbsChains {
  /** n × H: c + vᵀW at the current visibles. */
  readonly pre: Float32Array;
  /** n log-weights log w_i. */
  readonly logw: Float64Array;
}

/**
 * A gradient with the shapes of the parameters (float32). For CD/PCD it is the gradient of the loss,
 * E_data[∂θF] − E_model[∂θF] (descent: θ ← θ − lr·g).
 */
export interface RbmGradient {
  readonly W: Float32Array;
  readonly b: Float32Array;
  readonly c: Float32Array;
}

export interface RbmKernels {
  readonly name: string;
  /** out (n × H) = σ(β(c + vᵀW)) = p_β(h = 1 | v) for the n visible states v. No randomness. */
  hiddenProbs(model: Rbm, v: Uint8Array, n: number, beta: number, out: Float32Array, ws: RbmWorkspace): void;
  /** out (n × V) = σ(β(b + Wh)) = p_β(v = 1 | h) for the n hidden states h. No randomness. */
  visibleProbs(model: Rbm, h: Uint8Array, n: number, beta: number, out: Float32Array, ws: RbmWorkspace): void;
  /** F(v) (float64) of the n visible states, written to out. No randomness. */
  freeEnergy(model: Rbm, v: Uint8Array, n: number, out: Float64Array, ws: RbmWorkspace): void;
  /**
   * `sweeps` block-Gibbs sweeps of ρ_β ∝ e^{−βE} on the chains, in place: h ~ p_β(h | v) (n·H draws),
   * then v ~ p_β(v | h) (n·V draws), per sweep.
   *
   * `pre` (optional, n × H): c + vᵀW at the chains' current visibles under the model's current
   * parameters. When given, the first draw of h reads it instead of recomputing it, and it is left equal
   * to c + vᵀW at the final visibles (two products per sweep either way; the caller then has F(v) and
   * E(v, h) without a third). The caller keeps it current when the model changes.
   */
  gibbsSweep(
    model: Rbm,
    key: Key,
    chains: GibbsChains,
    sweeps: number,
    beta: number,
    ws: RbmWorkspace,
    pre?: Float32Array,
  ): void;
  /**
   * CD-k / PCD-k estimate of E_data[∂θF] − E_model[∂θF] (at β = 1), written (not added) to `grad`:
   *   g_W = (1/m) Σ_chains v_k p(h|v_k)ᵀ − (1/n) Σ_data v₀ p(h|v₀)ᵀ,  g_b = mean v_k − mean v₀,
   *   g_c = mean p(h|v_k) − mean p(h|v₀),
   * with hidden probabilities in both terms. Without `persistent`, m = n chains start at the data: h₀ is
   * drawn from p(h|v₀) (n·H draws), then k sweeps v ~ p(v|h), [h ~ p(h|v) between sweeps] (CD-k).
   * With `persistent` (PCD-k) its m chains are used instead: h ~ p(h|v) from the stored v, then the
   * same k half-sweeps; the final v and the h that produced it are stored back. `data` is n × V bits.
   */
  cdGradient(
    model: Rbm,
    key: Key,
    data: Uint8Array,
    n: number,
    k: number,
    grad: RbmGradient,
    ws: RbmWorkspace,
    persistent?: GibbsChains,
  ): void;
  /** Starts AIS chains at the path's base (t = 0): v ~ Π Bern(σ(b)) (n·V draws), pre = c + vᵀW, logw = 0. */
  aisInit(model: Rbm, key: Key, chains: AisChains, ws: RbmWorkspace): void;
  /**
   * One AIS step t′ → t along the path p_t: logw += Σ_j softplus(t·pre_j) − softplus(t′·pre_j)
   * (float64), then one Gibbs sweep of p_t (h ~ σ(t·pre): n·H draws; v ~ σ(b + t·Wh): n·V draws) and
   * pre = c + vᵀW at the new v.
   */
  aisSweep(model: Rbm, key: Key, chains: AisChains, tPrev: number, t: number, ws: RbmWorkspace): void;
  /**
   * Optional: the SGD step θ ← θ − lr·g in float32 (W, b, c), each element float32(θ − lr·g) computed in
   * float64, as rbm/cd.ts's sgdUpdate (which calls this when present, then `touch`es the model).
   */
  sgdUpdate?(model: Rbm, grad: RbmGradient, lr: number): void;
}

/** Grow-only scratch buffers and the cached transpose of W. One per thread of work; not re-entrant. */
export class RbmWorkspace extends Scratch {
  private wt = new Float32Array(0);
  private wtModel: Rbm | null = null;
  private wtVersion = -1;
  private tables = new Map<string, { model: Rbm; version: number; g: number; table: Float32Array }>();

  /**
   * The subset-sum table (linalg.ts) of W (`which` = "W", groups of g visible rows) or of Wᵀ ("Wt", groups
   * of g hidden rows), cached until the model, its version or g changes.
   */
  subsetSums(which: "W" | "Wt", model: Rbm, g: number): Float32Array {
    const entry = this.tables.get(which);
    if (entry && entry.model === model && entry.version === model.version && entry.g === g)
      return entry.table;
    const [src, k, n] =
      which === "W"
        ? [model.W, model.visible, model.hidden]
        : [this.transposed(model), model.hidden, model.visible];
    const size = subsetSumTableSize(k, n, g);
    const table = entry && entry.table.length >= size ? entry.table : new Float32Array(size);
    buildSubsetSums(src, k, n, g, table);
    this.tables.set(which, { model, version: model.version, g, table });
    return table;
  }

  /** Wᵀ (H × V) of `model`, recomputed when the model or its version changed. */
  transposed(model: Rbm): Float32Array {
    if (this.wtModel !== model || this.wtVersion !== model.version || this.wt.length !== model.W.length) {
      if (this.wt.length !== model.W.length) this.wt = new Float32Array(model.W.length);
      transpose(model.W, model.visible, model.hidden, this.wt);
      this.wtModel = model;
      this.wtVersion = model.version;
    }
    return this.wt;
  }
}

/** Gibbs chains of n states, all zero. */
export function createGibbsChains(model: Rbm, n: number): GibbsChains {
  checkCount(n);
  return { n, v: new Uint8Array(n * model.visible), h: new Uint8Array(n * model.hidden) };
}

/** AIS chains of n states (initialise them with `aisInit`). */
export function createAisChains(model: Rbm, n: number): AisChains {
  checkCount(n);
  return {
    n,
    v: new Uint8Array(n * model.visible),
    h: new Uint8Array(n * model.hidden),
    pre: new Float32Array(n * model.hidden),
    logw: new Float64Array(n),
  };
}

/** A zero gradient with the model's shapes. */
export function createGradient(model: Rbm): RbmGradient {
  return {
    W: new Float32Array(model.W.length),
    b: new Float32Array(model.visible),
    c: new Float32Array(model.hidden),
  };
}

function checkCount(n: number): void {
  if (!(Number.isInteger(n) && n >= 1))
    throw new RangeError(`number of states must be an integer ≥ 1, got ${n}`);
}

const TWO_POW_M32 = 2 ** -32;

/** Rows of A a cached table serves when W is fixed (AIS): large enough to pick the largest group. */
const MANY_ROWS = 1 << 20;

/**
 * out (n × H) = c + vᵀW. `rows`: how many visible rows will be multiplied by this W before it changes
 * (chooses between the direct product and a subset-sum table, see linalg.ts).
 */
function hiddenPre(
  model: Rbm,
  v: Uint8Array,
  n: number,
  out: Float32Array,
  ws: RbmWorkspace,
  rows: number,
): void {
  const { visible: nv, hidden: nh, c } = model;
  for (let s = 0; s < n; s++) out.set(c, s * nh);
  const idx = ws.int32("idx", Math.max(nv, nh));
  const g = chooseGroupSize(rows, nv);
  if (g === 0) binaryMatmul(v, model.W, out, n, nv, nh, idx, true);
  else tableMatmul(v, ws.subsetSums("W", model, g), out, n, nv, nh, g, idx, true);
}

/**
 * out (n × V) = b + t·Wh: t = 1 for the model's conditionals (then σ(β·out) is p_β(v = 1 | h)), t < 1 on
 * the AIS path. `rows` as for hiddenPre (hidden rows multiplied by this Wᵀ).
 */
function visiblePre(
  model: Rbm,
  h: Uint8Array,
  n: number,
  t: number,
  out: Float32Array,
  ws: RbmWorkspace,
  rows: number,
): void {
  const { visible: nv, hidden: nh, b } = model;
  const idx = ws.int32("idx", Math.max(nv, nh));
  const g = chooseGroupSize(rows, nh);
  if (g === 0) binaryMatmul(h, ws.transposed(model), out, n, nh, nv, idx, false);
  else tableMatmul(h, ws.subsetSums("Wt", model, g), out, n, nh, nv, g, idx, false);
  for (let s = 0; s < n; s++) {
    const o = s * nv;
    if (t === 1) for (let i = 0; i < nv; i++) out[o + i] += b[i];
    else for (let i = 0; i < nv; i++) out[o + i] = b[i] + t * out[o + i];
  }
}

/** grad (V × H) (+)= α·vᵀp for n rows of bits v and probabilities p (direct or by a table of p's rows). */
function outerBits(
  v: Uint8Array,
  p: Float32Array,
  n: number,
  model: Rbm,
  grad: Float32Array,
  alpha: number,
  accumulate: boolean,
  ws: RbmWorkspace,
): void {
  const { visible: nv, hidden: nh } = model;
  const idx = ws.int32("idx", Math.max(nv, nh, n));
  const g = chooseGroupSize(nv, n);
  if (g === 0) binaryMatmulTransA(v, p, grad, nv, n, nh, idx, alpha, accumulate);
  else {
    const table = ws.float32("outerTable", subsetSumTableSize(n, nh, g));
    buildSubsetSums(p, n, nh, g, table);
    tableMatmulTransA(v, table, grad, nv, n, nh, g, idx, alpha, accumulate);
  }
}

/** x[q] = 1 iff u_q < σ(β·pre[q]) for q < len, one 32-bit draw each. */
function sampleBernoulli(rng: Stream, pre: Float32Array, len: number, beta: number, x: Uint8Array): void {
  for (let q = 0; q < len; q++) x[q] = rng.nextU32() * TWO_POW_M32 < sigmoid(beta * pre[q]) ? 1 : 0;
}

/** x[q] = 1 iff u_q < p[q], one 32-bit draw each. */
function sampleFromProbs(rng: Stream, p: Float32Array, len: number, x: Uint8Array): void {
  for (let q = 0; q < len; q++) x[q] = rng.nextU32() * TWO_POW_M32 < p[q] ? 1 : 0;
}

function sigmoidInPlace(x: Float32Array, len: number, beta: number): void {
  for (let q = 0; q < len; q++) x[q] = sigmoid(beta * x[q]);
}

/**
 * out[i] = sign·(column mean i of the n rows of x) (float64 sums), or out[i] += it with `accumulate`
 * (the sum formed in float64 from the float32 out[i], then stored).
 */
function columnMeans(
  x: Uint8Array | Float32Array,
  n: number,
  dim: number,
  out: Float32Array,
  sign: 1 | -1,
  accumulate: boolean,
  acc: Float64Array,
): void {
  acc.fill(0, 0, dim);
  for (let s = 0; s < n; s++) {
    const o = s * dim;
    for (let i = 0; i < dim; i++) acc[i] += x[o + i];
  }
  for (let i = 0; i < dim; i++) {
    const m = sign * (acc[i] / n);
    out[i] = accumulate ? out[i] + m : m;
  }
}

/** The typed-array (pure TypeScript) implementation. */
export const typedArrayRbmKernels: RbmKernels = {
  name: "typed-array",

  hiddenProbs(model, v, n, beta, out, ws) {
    hiddenPre(model, v, n, out, ws, n);
    sigmoidInPlace(out, n * model.hidden, beta);
  },

  visibleProbs(model, h, n, beta, out, ws) {
    visiblePre(model, h, n, 1, out, ws, n);
    sigmoidInPlace(out, n * model.visible, beta);
  },

  freeEnergy(model, v, n, out, ws) {
    const { visible: nv, hidden: nh, b } = model;
    const pre = ws.float32("pre", n * nh);
    hiddenPre(model, v, n, pre, ws, n);
    for (let s = 0; s < n; s++) {
      let f = 0;
      for (let i = 0; i < nv; i++) if (v[s * nv + i] !== 0) f -= b[i];
      for (let j = 0; j < nh; j++) f -= softplus(pre[s * nh + j]);
      out[s] = f;
    }
  },

  gibbsSweep(model, key, chains, sweeps, beta, ws, pre) {
    const { visible: nv, hidden: nh } = model;
    const n = chains.n;
    if (pre && pre.length < n * nh) throw new RangeError(`pre must hold ${n}×${nh} values`);
    const rng = new Stream(key);
    const preH = pre ?? ws.float32("preH", n * nh);
    const preV = ws.float32("preV", n * nv);
    const rows = n * sweeps;
    for (let t = 0; t < sweeps; t++) {
      if (!pre) hiddenPre(model, chains.v, n, preH, ws, rows);
      sampleBernoulli(rng, preH, n * nh, beta, chains.h);
      visiblePre(model, chains.h, n, 1, preV, ws, rows);
      sampleBernoulli(rng, preV, n * nv, beta, chains.v);
      if (pre) hiddenPre(model, chains.v, n, preH, ws, rows);
    }
  },

  cdGradient(model, key, data, n, k, grad, ws, persistent) {
    if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`CD needs k ≥ 1 sweeps, got ${k}`);
    const { visible: nv, hidden: nh } = model;
    const rng = new Stream(key);
    const acc = ws.float64("acc", Math.max(nv, nh));
    const m = persistent ? persistent.n : n;
    // Rows multiplied by W (data, then the chains after each sweep; PCD adds the stored chains) and by Wᵀ.
    const hiddenRows = n + m * k + (persistent ? m : 0);
    // Data term, −E_data[…].
    const ph0 = ws.float32("ph0", n * nh);
    hiddenPre(model, data, n, ph0, ws, hiddenRows);
    sigmoidInPlace(ph0, n * nh, 1);
    outerBits(data, ph0, n, model, grad.W, -1 / n, false, ws);
    columnMeans(data, n, nv, grad.b, -1, false, acc);
    columnMeans(ph0, n, nh, grad.c, -1, false, acc);
    // Model term, +E_model[…]: m chains, started at the data (CD) or persistent (PCD).
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
    outerBits(v, ph, m, model, grad.W, 1 / m, true, ws);
    columnMeans(v, m, nv, grad.b, 1, true, acc);
    columnMeans(ph, m, nh, grad.c, 1, true, acc);
  },

  aisInit(model, key, chains, ws) {
    const { visible: nv, b } = model;
    const rng = new Stream(key);
    const n = chains.n;
    for (let s = 0; s < n; s++)
      for (let i = 0; i < nv; i++) chains.v[s * nv + i] = rng.nextU32() * TWO_POW_M32 < sigmoid(b[i]) ? 1 : 0;
    chains.h.fill(0);
    chains.logw.fill(0);
    hiddenPre(model, chains.v, n, chains.pre, ws, MANY_ROWS);
  },

  aisSweep(model, key, chains, tPrev, t, ws) {
    const { visible: nv, hidden: nh } = model;
    const n = chains.n;
    const rng = new Stream(key);
    const { pre, h, logw } = chains;
    for (let s = 0; s < n; s++) {
      let dl = 0;
      const o = s * nh;
      for (let j = 0; j < nh; j++) {
        const x = pre[o + j];
        dl += softplus(t * x) - softplus(tPrev * x);
        h[o + j] = rng.nextU32() * TWO_POW_M32 < sigmoid(t * x) ? 1 : 0;
      }
      logw[s] += dl;
    }
    const preV = ws.float32("preV", n * nv);
    visiblePre(model, h, n, t, preV, ws, MANY_ROWS);
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
