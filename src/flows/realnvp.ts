/**
 * RealNVP (Dinh, Sohl-Dickstein & Bengio, ICLR 2017) in float64, for small dimensions d ≥ 2.
 *
 * The map. x = T(z) = A ∘ C_{K−1} ∘ … ∘ C_0 (z), z ~ N(0, I_d). Coupling layer k has a binary mask m_k: the
 * "active" coordinates (m = 1) pass through unchanged and condition an affine map of the "passive" ones
 * (m = 0):
 *
 *   y_a = h_a,   y_p = h_p ⊙ e^{s(h_a)} + t(h_a),   log |det ∂y/∂h| = Σ_p s_p(h_a),
 *
 * with [ŝ, t] = MLP_k(h_a) (d_a → hidden[0] → … → 2·d_p, tanh after every hidden layer, linear last layer)
 * and the log-scale bounded by tanh: s = c·tanh(ŝ/c) (c = `scaleBound`, default 2), so each layer scales a
 * coordinate by at most e^{±c} and stays well conditioned. The inverse is explicit,
 * h_p = (y_p − t(y_a)) ⊙ e^{−s(y_a)}. The default masks alternate by parity, m_k[j] = 1 iff j + k is even
 * (for d = 2: coordinate 0 conditions 1, then 1 conditions 0), so with K ≥ 2 every coordinate is
 * transformed. A last elementwise affine layer A(h) = μ + e^{σ} ⊙ h sets location and scale.
 *
 * The density: log q(x) = log N(z; 0, I) − log |det ∂T/∂z|, z = T⁻¹(x), i.e.
 *   log q(x) = −½|z|² − (d/2) log 2π − Σ_k Σ_p s_{k,p} − Σ_j σ_j.
 *
 * Parameters θ: one flat float64 vector, coupling by coupling, each network's layers in order W, b (W stored
 * [in, out] row-major; output units 0 … d_p−1 are ŝ, d_p … 2d_p−1 are t, in the order of the passive
 * coordinates), then μ (d) and σ (d). `createRealNvp` initialises the networks as PyTorch's nn.Linear
 * (every weight and bias ~ U(−1/√fan_in, 1/√fan_in), drawn in flat order from `new Stream(key)`; the last
 * layer times `outputScale`, 0 for the identity map), μ = 0 and σ = 0.
 *
 * Gradients are by hand: the inverse pass records, per point, each network's activations, s and the
 * layer's output (the "tape"), and the backward pass walks the layers in the opposite order, giving
 * ∂θ log q and ∇ₓ log q together. Points are processed one at a time, so memory does not grow with n.
 * exp and tanh are built on src/random/elementary.ts's portable exp, so a seed gives the same bits on every
 * host.
 */
import { portableExpFast, portableLog } from "../random/elementary.ts";
import { type Key, normal, Stream } from "../random/key.ts";
import type { TrainableFlow } from "./flow.ts";

export interface RealNvpSpec {
  /** d ≥ 2. */
  dim: number;
  /** Number of coupling layers K ≥ 1 (≥ 2 so that every coordinate is transformed with the default masks). */
  couplings: number;
  /** Hidden widths of every conditioner network (at least one). */
  hidden: number[];
  /** Bound c on the log-scale: s = c·tanh(ŝ/c) (default 2). */
  scaleBound?: number;
  /** K masks of length d (1 = active: passes through and conditions); default: alternating parity. */
  masks?: ArrayLike<number>[];
}

const LOG_2PI = portableLog(2 * Math.PI);
const exp = portableExpFast;

/** tanh from the portable exp: absolute error ≈ 1e-16; a Taylor polynomial keeps tiny arguments exact. */
function tanh(a: number): number {
  const x = a < 0 ? -a : a;
  if (x < 1e-4) {
    const a2 = a * a;
    return a * (1 - a2 * (1 / 3 - a2 * (2 / 15)));
  }
  if (x > 20) return a < 0 ? -1 : 1;
  const e = exp(-2 * x);
  const t = (1 - e) / (1 + e);
  return a < 0 ? -t : t;
}

/** Where one coupling layer's pieces live in θ and in the per-point tape. */
interface Coupling {
  active: Int32Array;
  passive: Int32Array;
  /** Network layer sizes [d_a, hidden…, 2·d_p]. */
  sizes: number[];
  /** θ offsets of each network layer's W and b. */
  wOff: number[];
  bOff: number[];
  /** Tape offsets of each network layer's input (layer 0: the active coordinates; then the tanh outputs). */
  inOff: number[];
  /** Tape offsets of s (d_p) and of the inverse's output h_p (d_p). */
  sOff: number;
  hOff: number;
}

/** Checks a spec and returns its masks (given or default). */
function resolveMasks(spec: RealNvpSpec): number[][] {
  const posInt = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 1;
  if (!(posInt(spec.dim) && spec.dim >= 2))
    throw new RangeError(`dim must be an integer ≥ 2, got ${spec.dim}`);
  if (!posInt(spec.couplings))
    throw new RangeError(`couplings must be a positive integer, got ${spec.couplings}`);
  if (!Array.isArray(spec.hidden) || spec.hidden.length === 0 || !spec.hidden.every(posInt))
    throw new RangeError(
      `hidden must be a non-empty list of positive integers, got ${JSON.stringify(spec.hidden)}`,
    );
  const c = spec.scaleBound ?? 2;
  if (!(Number.isFinite(c) && c > 0)) throw new RangeError(`scaleBound must be finite and > 0, got ${c}`);
  const d = spec.dim;
  if (spec.masks === undefined)
    return Array.from({ length: spec.couplings }, (_, k) =>
      Array.from({ length: d }, (_, j) => ((j + k) % 2 === 0 ? 1 : 0)),
    );
  if (spec.masks.length !== spec.couplings)
    throw new RangeError(`masks must have ${spec.couplings} rows, got ${spec.masks.length}`);
  return spec.masks.map((m, k) => {
    const row: number[] = Array.from(m);
    if (row.length !== d || !row.every((v) => v === 0 || v === 1))
      throw new RangeError(`mask ${k} must be ${d} values of 0 or 1`);
    const ones = row.filter((v) => v === 1).length;
    if (ones === 0 || ones === d) throw new RangeError(`mask ${k} needs at least one 0 and one 1`);
    return row;
  });
}

/** Number of parameters of a RealNVP described by `spec`. */
export function realNvpNumParams(spec: RealNvpSpec): number {
  const masks = resolveMasks(spec);
  let np = 2 * spec.dim;
  for (const m of masks) {
    const da = m.reduce((s, v) => s + v, 0);
    const sizes = [da, ...spec.hidden, 2 * (spec.dim - da)];
    for (let l = 0; l + 1 < sizes.length; l++) np += sizes[l] * sizes[l + 1] + sizes[l + 1];
  }
  return np;
}

export class RealNvp implements TrainableFlow {
  readonly dim: number;
  readonly numParams: number;
  readonly spec: Readonly<RealNvpSpec>;
  readonly scaleBound: number;
  private readonly theta: Float64Array;
  private readonly layers: Coupling[];
  private readonly locOff: number;
  private readonly logScaleOff: number;
  /** Per-point tape: every coupling's block, then the affine layer's input to the inverse's first coupling. */
  private readonly tape: Float64Array;
  private readonly affineOff: number;
  /** Scratch: the current point, a network's output, gradients through the layers. */
  private readonly h: Float64Array;
  private readonly out: Float64Array;
  private readonly g: Float64Array;
  private readonly gNet: Float64Array;
  private readonly gA: Float64Array;
  private readonly gB: Float64Array;

  /** A RealNVP with θ = `theta` (copied), or all zeros (the identity map) when omitted. */
  constructor(spec: RealNvpSpec, theta?: Float64Array) {
    const masks = resolveMasks(spec);
    const d = spec.dim;
    this.dim = d;
    this.scaleBound = spec.scaleBound ?? 2;
    this.spec = Object.freeze({ ...spec, hidden: [...spec.hidden], masks: masks.map((m) => [...m]) });
    let p = 0;
    let t = 0;
    let widest = 1;
    this.layers = masks.map((m) => {
      const active: number[] = [];
      const passive: number[] = [];
      m.forEach((v, j) => (v === 1 ? active : passive).push(j));
      const sizes = [active.length, ...spec.hidden, 2 * passive.length];
      const wOff: number[] = [];
      const bOff: number[] = [];
      const inOff: number[] = [];
      for (let l = 0; l + 1 < sizes.length; l++) {
        wOff.push(p);
        p += sizes[l] * sizes[l + 1];
        bOff.push(p);
        p += sizes[l + 1];
        inOff.push(t);
        t += sizes[l];
        widest = Math.max(widest, sizes[l], sizes[l + 1]);
      }
      const sOff = t;
      const hOff = t + passive.length;
      t = hOff + passive.length;
      return {
        active: Int32Array.from(active),
        passive: Int32Array.from(passive),
        sizes,
        wOff,
        bOff,
        inOff,
        sOff,
        hOff,
      };
    });
    this.locOff = p;
    this.logScaleOff = p + d;
    this.numParams = p + 2 * d;
    this.affineOff = t;
    this.tape = new Float64Array(t + d);
    this.theta = new Float64Array(this.numParams);
    if (theta !== undefined) this.setParams(theta);
    this.h = new Float64Array(d);
    this.out = new Float64Array(widest);
    this.g = new Float64Array(d);
    this.gNet = new Float64Array(widest);
    this.gA = new Float64Array(widest);
    this.gB = new Float64Array(widest);
  }

  getParams(): Float64Array {
    return this.theta.slice();
  }

  setParams(theta: Float64Array): void {
    if (theta.length !== this.numParams)
      throw new RangeError(`expected ${this.numParams} parameters, got ${theta.length}`);
    this.theta.set(theta);
  }

  /**
   * Runs coupling `c`'s network on the active coordinates of `h`, recording the activations in the tape;
   * the output [ŝ, t] goes to this.out.
   */
  private conditioner(c: Coupling, h: Float64Array): void {
    const th = this.theta;
    const tape = this.tape;
    const out = this.out;
    for (let j = 0; j < c.active.length; j++) tape[c.inOff[0] + j] = h[c.active[j]];
    const nl = c.sizes.length - 1;
    for (let l = 0; l < nl; l++) {
      const nin = c.sizes[l];
      const nout = c.sizes[l + 1];
      const last = l === nl - 1;
      const dst = last ? out : tape;
      const o = last ? 0 : c.inOff[l + 1];
      const w = c.wOff[l];
      const b = c.bOff[l];
      const a = c.inOff[l];
      for (let j = 0; j < nout; j++) {
        let acc = th[b + j];
        for (let i = 0, q = w + j; i < nin; i++, q += nout) acc += tape[a + i] * th[q];
        dst[o + j] = acc;
      }
      if (!last) for (let j = 0; j < nout; j++) dst[o + j] = tanh(dst[o + j]);
    }
  }

  /** z → x for one point held in this.h, in place; returns log |det ∂T/∂z|. */
  private forwardPoint(): number {
    const h = this.h;
    const out = this.out;
    const c0 = this.scaleBound;
    let ld = 0;
    for (const c of this.layers) {
      this.conditioner(c, h);
      const dp = c.passive.length;
      for (let p = 0; p < dp; p++) {
        const s = c0 * tanh(out[p] / c0);
        const j = c.passive[p];
        h[j] = h[j] * exp(s) + out[dp + p];
        ld += s;
      }
    }
    const th = this.theta;
    for (let j = 0; j < this.dim; j++) {
      const sigma = th[this.logScaleOff + j];
      h[j] = th[this.locOff + j] + exp(sigma) * h[j];
      ld += sigma;
    }
    return ld;
  }

  /** x → z for one point held in this.h, in place, filling the tape; returns log |det ∂T/∂z| at z. */
  private inversePoint(): number {
    const h = this.h;
    const out = this.out;
    const tape = this.tape;
    const th = this.theta;
    const c0 = this.scaleBound;
    let ld = 0;
    for (let j = 0; j < this.dim; j++) {
      const sigma = th[this.logScaleOff + j];
      h[j] = (h[j] - th[this.locOff + j]) * exp(-sigma);
      tape[this.affineOff + j] = h[j];
      ld += sigma;
    }
    for (let k = this.layers.length - 1; k >= 0; k--) {
      const c = this.layers[k];
      this.conditioner(c, h);
      const dp = c.passive.length;
      for (let p = 0; p < dp; p++) {
        const s = c0 * tanh(out[p] / c0);
        const j = c.passive[p];
        h[j] = (h[j] - out[dp + p]) * exp(-s);
        tape[c.sOff + p] = s;
        tape[c.hOff + p] = h[j];
        ld += s;
      }
    }
    return ld;
  }

  /**
   * Backward pass after `inversePoint` (tape filled, this.h = z) for L = w·log q(x): adds w·∂θ log q to
   * `gradParams` (unless null) and writes w·∇ₓ log q to gradX[off … off+d−1] (unless null).
   */
  private backwardPoint(
    w: number,
    gradParams: Float64Array | null,
    gradX: Float64Array | null,
    off: number,
  ): void {
    const d = this.dim;
    const th = this.theta;
    const tape = this.tape;
    const g = this.g;
    const gNet = this.gNet;
    const c0 = this.scaleBound;
    for (let j = 0; j < d; j++) g[j] = -w * this.h[j];
    for (const c of this.layers) {
      // g holds ∂L/∂(this layer's inverse output); make it ∂L/∂(its input) and collect [∂L/∂ŝ, ∂L/∂t].
      const dp = c.passive.length;
      for (let p = 0; p < dp; p++) {
        const j = c.passive[p];
        const s = tape[c.sOff + p];
        const es = exp(-s);
        const gs = -g[j] * tape[c.hOff + p] - w;
        const r = s / c0;
        gNet[p] = gs * (1 - r * r);
        gNet[dp + p] = -g[j] * es;
        g[j] *= es;
      }
      this.conditionerBackward(c, gradParams);
      for (let a = 0; a < c.active.length; a++) g[c.active[a]] += this.gA[a];
    }
    for (let j = 0; j < d; j++) {
      const es = exp(-th[this.logScaleOff + j]);
      const gh = g[j] * es;
      if (gradParams !== null) {
        gradParams[this.locOff + j] -= gh;
        gradParams[this.logScaleOff + j] -= g[j] * tape[this.affineOff + j] + w;
      }
      if (gradX !== null) gradX[off + j] = gh;
    }
  }

  /** Backpropagates this.gNet through coupling c's network: θ gradients added, input gradient in this.gA. */
  private conditionerBackward(c: Coupling, gradParams: Float64Array | null): void {
    const th = this.theta;
    const tape = this.tape;
    let gOut = this.gNet;
    let gIn = this.gA;
    for (let l = c.sizes.length - 2; l >= 0; l--) {
      const nin = c.sizes[l];
      const nout = c.sizes[l + 1];
      const a = c.inOff[l];
      const w = c.wOff[l];
      if (l < c.sizes.length - 2) {
        // gOut is ∂L/∂(tanh output); through tanh: × (1 − a²), a the layer's output (the next input).
        const o = c.inOff[l + 1];
        for (let j = 0; j < nout; j++) gOut[j] *= 1 - tape[o + j] * tape[o + j];
      }
      if (gradParams !== null) {
        const b = c.bOff[l];
        for (let j = 0; j < nout; j++) gradParams[b + j] += gOut[j];
        for (let i = 0; i < nin; i++) {
          const ai = tape[a + i];
          const row = w + i * nout;
          for (let j = 0; j < nout; j++) gradParams[row + j] += ai * gOut[j];
        }
      }
      for (let i = 0; i < nin; i++) {
        const row = w + i * nout;
        let s = 0;
        for (let j = 0; j < nout; j++) s += th[row + j] * gOut[j];
        gIn[i] = s;
      }
      const next = gOut === this.gNet ? this.gB : gOut;
      gOut = gIn;
      gIn = next;
    }
    if (gOut !== this.gA) this.gA.set(gOut.subarray(0, c.sizes[0]));
  }

  /** x_i = T(z_i) for the n points of z (n × d) into x (may be z); log |det ∂T/∂z| into `logDet` if given. */
  forward(z: Float64Array, n: number, x: Float64Array, logDet?: Float64Array): void {
    const d = this.dim;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) this.h[j] = z[i * d + j];
      const ld = this.forwardPoint();
      for (let j = 0; j < d; j++) x[i * d + j] = this.h[j];
      if (logDet) logDet[i] = ld;
    }
  }

  /** z_i = T⁻¹(x_i) into z (may be x); log |det ∂T⁻¹/∂x| (= −log |det ∂T/∂z|) into `logDet` if given. */
  inverse(x: Float64Array, n: number, z: Float64Array, logDet?: Float64Array): void {
    const d = this.dim;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) this.h[j] = x[i * d + j];
      const ld = this.inversePoint();
      for (let j = 0; j < d; j++) z[i * d + j] = this.h[j];
      if (logDet) logDet[i] = -ld;
    }
  }

  /** log N(z; 0, I) − log |det ∂T/∂z| for the current this.h = z. */
  private logNormalOfH(ld: number): number {
    let sq = 0;
    for (let j = 0; j < this.dim; j++) sq += this.h[j] * this.h[j];
    return -0.5 * sq - 0.5 * this.dim * LOG_2PI - ld;
  }

  sample(key: Key, n: number): { x: Float64Array; logq: Float64Array } {
    if (!(Number.isSafeInteger(n) && n >= 0)) throw new RangeError(`n must be an integer ≥ 0, got ${n}`);
    const d = this.dim;
    const x = normal(key, new Float64Array(n * d));
    const logq = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) this.h[j] = x[i * d + j];
      logq[i] = this.logNormalOfH(0);
      logq[i] -= this.forwardPoint();
      for (let j = 0; j < d; j++) x[i * d + j] = this.h[j];
    }
    return { x, logq };
  }

  logProb(x: Float64Array, n: number, out: Float64Array): void {
    const d = this.dim;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) this.h[j] = x[i * d + j];
      out[i] = this.logNormalOfH(this.inversePoint());
    }
  }

  logProbAndGrad(x: Float64Array, n: number, logq: Float64Array, grad: Float64Array): void {
    const d = this.dim;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) this.h[j] = x[i * d + j];
      logq[i] = this.logNormalOfH(this.inversePoint());
      this.backwardPoint(1, null, grad, i * d);
    }
  }

  logProbParamGrad(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): number {
    const d = this.dim;
    out.fill(0, 0, this.numParams);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i];
      if (w === 0) continue;
      for (let j = 0; j < d; j++) this.h[j] = x[i * d + j];
      total += w * this.logNormalOfH(this.inversePoint());
      this.backwardPoint(w, out, null, 0);
    }
    return total;
  }
}

export interface RealNvpInit {
  /** Factor on the initial last layer of every network (default 1; 0 makes T the identity). */
  outputScale?: number;
}

/** A RealNVP with θ initialised from `key` (see the module comment). */
export function createRealNvp(spec: RealNvpSpec, key: Key, init: RealNvpInit = {}): RealNvp {
  const flow = new RealNvp(spec);
  const scale = init.outputScale ?? 1;
  if (!Number.isFinite(scale)) throw new RangeError(`outputScale must be finite, got ${scale}`);
  const theta = new Float64Array(flow.numParams);
  const rng = new Stream(key);
  const masks = flow.spec.masks as number[][];
  let p = 0;
  for (const m of masks) {
    const da = m.reduce((s, v) => s + v, 0);
    const sizes = [da, ...spec.hidden, 2 * (spec.dim - da)];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const bound = 1 / Math.sqrt(sizes[l]);
      const f = l + 2 === sizes.length ? scale : 1;
      const count = sizes[l] * sizes[l + 1] + sizes[l + 1];
      for (let q = 0; q < count; q++) theta[p++] = f * bound * (2 * rng.uniform() - 1);
    }
  }
  flow.setParams(theta);
  return flow;
}
