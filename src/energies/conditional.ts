/**
 * Conditional energies E_θ(x, y) over a point x ∈ ℝᵈ and a label y ∈ {0, …, K−1}: a network with K
 * outputs, E_θ(x, y) = f_θ(x)_y + ½c|x|², so that
 *   p(x, y) = e^{−E(x, y)} / Z,   p(y | x) = softmax_y(−E(x, ·))   (exact: a sum over K labels),
 *   p(x | y) = e^{−E(x, y)} / Z_y,   p(y) = Z_y / Z,   Z = Σ_y Z_y,
 * as in "Your classifier is secretly an energy based model" (Grathwohl et al. 2020), where f_θ is a
 * classifier's logits up to sign. The fixed confinement ½c|x|² (c > 0) makes every Z_y finite whatever
 * the network does, and its Gaussian e^{−½c|x|²} is the base that walkers and log Z estimators start from.
 *
 * The network is float64 TypeScript (the native and TensorFlow.js MLP backends have one scalar output):
 * inputDim → hidden[0] → … → hidden[L−1] → K, the activation after every hidden layer, a linear last layer,
 * θ flat in layer order W1, b1, W2, b2, … with W [in, out] row-major and PyTorch's default initialisation
 * U(−1/√fan_in, 1/√fan_in) drawn in flat order from `new Stream(key)` (the convention of ./mlp.ts).
 * One reverse-mode pass takes a cotangent over the K outputs, so one routine gives every gradient:
 *   Σ_i Σ_y C_iy ∇ₓE(x_i, y)   and   Σ_i Σ_y C_iy ∂θE(x_i, y),
 * with C one-hot for a class-conditional energy, p(y|x) for the marginal, one-hot − p(y|x) for the
 * cross-entropy. Points run in blocks of 256 so the activations stay small; parameter gradients are summed
 * block after block, always in the same order.
 *
 * Three views make it an Energy for the rest of the library (they share θ with the network):
 *   classEnergy(y)    U_y(x) = E(x, y): the samplers draw from p(x | y);
 *   marginalEnergy()  U(x) = −log Σ_y e^{−E(x, y)}: p(x);
 *   labelledEnergy()  dim d + 1, the label stored as the last coordinate of a row: E(x, y) for labelled
 *                     rows, so a labelled data set goes through the trainer's minibatches unchanged.
 */
import { portableExpFast, portableLog, portableLog1p } from "../random/elementary.ts";
import { type Key, Stream } from "../random/key.ts";
import type { TrainableEnergy } from "./contract.ts";
import type { MlpActivation } from "./mlp.ts";

export interface ConditionalMlpSpec {
  /** Dimension d of x. */
  inputDim: number;
  /** Number K ≥ 2 of labels. */
  classes: number;
  /** Widths of the hidden layers (at least one). */
  hidden: number[];
  activation: MlpActivation;
  /** c ≥ 0 in the fixed term ½c|x|² (c > 0 makes every p(x | y) normalisable); default 0. */
  confinement?: number;
}

const BLOCK = 256;
const ACTIVATIONS: readonly MlpActivation[] = ["silu", "softplus", "tanh", "elu"];

/** Throws a RangeError if `spec` is malformed. */
export function validateConditionalMlpSpec(spec: ConditionalMlpSpec): void {
  const posInt = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 1;
  if (!posInt(spec.inputDim))
    throw new RangeError(`inputDim must be a positive integer, got ${spec.inputDim}`);
  if (!(posInt(spec.classes) && spec.classes >= 2))
    throw new RangeError(`classes must be an integer ≥ 2, got ${spec.classes}`);
  if (!Array.isArray(spec.hidden) || spec.hidden.length === 0 || !spec.hidden.every(posInt))
    throw new RangeError(
      `hidden must be a non-empty list of positive integers, got ${JSON.stringify(spec.hidden)}`,
    );
  if (!ACTIVATIONS.includes(spec.activation))
    throw new RangeError(`activation must be one of ${ACTIVATIONS.join(", ")}, got ${spec.activation}`);
  const c = spec.confinement ?? 0;
  if (!(Number.isFinite(c) && c >= 0)) throw new RangeError(`confinement must be finite and ≥ 0, got ${c}`);
}

function layerWidths(spec: ConditionalMlpSpec): number[] {
  return [spec.inputDim, ...spec.hidden, spec.classes];
}

/** Number of parameters of the network described by `spec`. */
export function conditionalMlpNumParams(spec: ConditionalMlpSpec): number {
  const w = layerWidths(spec);
  let n = 0;
  for (let l = 0; l + 1 < w.length; l++) n += w[l] * w[l + 1] + w[l + 1];
  return n;
}

/** sigmoid(z), without overflow for either sign. */
function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + portableExpFast(-z));
  const e = portableExpFast(z);
  return e / (1 + e);
}

/** a = act(z) into a, act'(z) into da (host-independent exp/log, so seeded results agree between hosts). */
function activate(kind: MlpActivation, z: Float64Array, a: Float64Array, da: Float64Array, m: number): void {
  switch (kind) {
    case "silu":
      for (let j = 0; j < m; j++) {
        const s = sigmoid(z[j]);
        a[j] = z[j] * s;
        da[j] = s * (1 + z[j] * (1 - s));
      }
      return;
    case "softplus":
      for (let j = 0; j < m; j++) {
        const v = z[j];
        a[j] = Math.max(v, 0) + portableLog1p(portableExpFast(-Math.abs(v)));
        da[j] = sigmoid(v);
      }
      return;
    case "tanh":
      for (let j = 0; j < m; j++) {
        const v = z[j];
        const e = portableExpFast(-2 * Math.abs(v));
        const t = (1 - e) / (1 + e);
        a[j] = v < 0 ? -t : t;
        da[j] = 1 - t * t;
      }
      return;
    case "elu":
      for (let j = 0; j < m; j++) {
        const v = z[j];
        if (v > 0) {
          a[j] = v;
          da[j] = 1;
        } else {
          const e = portableExpFast(v);
          a[j] = e - 1;
          da[j] = e;
        }
      }
      return;
  }
}

/**
 * The cotangent of a reverse pass: given the energies e (bn × K) of points start … start + bn − 1, write
 * C (bn × K) into `coef`.
 */
export type Cotangent = (e: Float64Array, start: number, bn: number, coef: Float64Array) => void;

/** log Σ_y e^{−e_y} of one row of K energies and, when `p` is given, p_y = softmax(−e)_y into p[at …]. */
function negLogSumExpRow(e: Float64Array, at: number, k: number, p?: Float64Array, pAt = 0): number {
  let m = Number.POSITIVE_INFINITY;
  for (let y = 0; y < k; y++) if (e[at + y] < m) m = e[at + y];
  if (!Number.isFinite(m)) {
    // +∞ everywhere (no label possible) or NaN/−∞: no softmax to take.
    if (p) for (let y = 0; y < k; y++) p[pAt + y] = Number.NaN;
    return m === Number.POSITIVE_INFINITY ? Number.NEGATIVE_INFINITY : Number.NaN;
  }
  let s = 0;
  for (let y = 0; y < k; y++) {
    const v = portableExpFast(m - e[at + y]);
    if (p) p[pAt + y] = v;
    s += v;
  }
  if (p) for (let y = 0; y < k; y++) p[pAt + y] /= s;
  return -m + portableLog(s);
}

export class ConditionalMlp {
  readonly spec: Readonly<ConditionalMlpSpec>;
  readonly inputDim: number;
  readonly classes: number;
  readonly numParams: number;
  readonly confinement: number;
  private readonly widths: number[];
  /** Offsets of W_l and b_l in θ. */
  private readonly wOff: number[] = [];
  private readonly bOff: number[] = [];
  private readonly theta: Float64Array;
  // Block scratch: per layer l ≥ 1, pre-activations z[l] and activations a[l] (a[0] is the input block);
  // da[l] = act'(z[l]); two delta buffers of the widest layer.
  private readonly a: Float64Array[];
  private readonly da: Float64Array[];
  private readonly z: Float64Array[];
  private readonly delta: Float64Array;
  private readonly deltaPrev: Float64Array;
  private readonly coefBlock: Float64Array;
  private readonly gradBlock: Float64Array;

  constructor(spec: ConditionalMlpSpec, theta: Float64Array) {
    validateConditionalMlpSpec(spec);
    this.spec = Object.freeze({ ...spec, hidden: [...spec.hidden] });
    this.inputDim = spec.inputDim;
    this.classes = spec.classes;
    this.confinement = spec.confinement ?? 0;
    this.widths = layerWidths(spec);
    let off = 0;
    for (let l = 0; l + 1 < this.widths.length; l++) {
      this.wOff.push(off);
      off += this.widths[l] * this.widths[l + 1];
      this.bOff.push(off);
      off += this.widths[l + 1];
    }
    this.numParams = off;
    if (theta.length !== off) throw new RangeError(`expected ${off} parameters, got ${theta.length}`);
    this.theta = Float64Array.from(theta);
    const maxW = Math.max(...this.widths);
    this.a = this.widths.map((w) => new Float64Array(BLOCK * w));
    this.da = this.widths.map((w) => new Float64Array(BLOCK * w));
    this.z = this.widths.map((w) => new Float64Array(BLOCK * w));
    this.delta = new Float64Array(BLOCK * maxW);
    this.deltaPrev = new Float64Array(BLOCK * maxW);
    this.coefBlock = new Float64Array(BLOCK * spec.classes);
    this.gradBlock = new Float64Array(off);
  }

  /** A network with θ initialised from `key` (PyTorch's nn.Linear default, flat order). */
  static create(spec: ConditionalMlpSpec, key: Key): ConditionalMlp {
    validateConditionalMlpSpec(spec);
    const w = layerWidths(spec);
    const theta = new Float64Array(conditionalMlpNumParams(spec));
    const stream = new Stream(key);
    let off = 0;
    for (let l = 0; l + 1 < w.length; l++) {
      const bound = 1 / Math.sqrt(w[l]);
      const size = w[l] * w[l + 1] + w[l + 1];
      for (let i = 0; i < size; i++) theta[off + i] = (2 * stream.uniform() - 1) * bound;
      off += size;
    }
    return new ConditionalMlp(spec, theta);
  }

  getParams(): Float64Array {
    return Float64Array.from(this.theta);
  }

  setParams(theta: Float64Array): void {
    if (theta.length !== this.numParams) throw new RangeError(`expected ${this.numParams} parameters`);
    this.theta.set(theta);
  }

  /** Forward pass of one block (points start … start + bn − 1); energies into e (bn × K). */
  private forwardBlock(x: Float64Array, start: number, bn: number, e: Float64Array): void {
    const d = this.inputDim;
    const L = this.widths.length - 1;
    const th = this.theta;
    this.a[0].set(x.subarray(start * d, (start + bn) * d));
    for (let l = 0; l < L; l++) {
      const nin = this.widths[l];
      const nout = this.widths[l + 1];
      const inp = this.a[l];
      const out = l + 1 === L ? e : this.z[l + 1];
      const wo = this.wOff[l];
      const bo = this.bOff[l];
      for (let i = 0; i < bn; i++) {
        const o = i * nout;
        for (let k = 0; k < nout; k++) out[o + k] = th[bo + k];
        for (let j = 0; j < nin; j++) {
          const v = inp[i * nin + j];
          if (v === 0) continue;
          const w = wo + j * nout;
          for (let k = 0; k < nout; k++) out[o + k] += v * th[w + k];
        }
      }
      if (l + 1 < L) activate(this.spec.activation, out, this.a[l + 1], this.da[l + 1], bn * nout);
    }
    const c = this.confinement;
    if (c !== 0) {
      const K = this.classes;
      for (let i = 0; i < bn; i++) {
        let r2 = 0;
        for (let a = 0; a < d; a++) r2 += x[(start + i) * d + a] ** 2;
        const q = 0.5 * c * r2;
        for (let y = 0; y < K; y++) e[i * K + y] += q;
      }
    }
  }

  /** E(x_i, y) for every label: n × K into `out`. */
  energies(x: Float64Array, n: number, out: Float64Array): void {
    this.checkPoints(x, n);
    const K = this.classes;
    for (let s = 0; s < n; s += BLOCK) {
      const bn = Math.min(BLOCK, n - s);
      this.forwardBlock(x, s, bn, out.subarray(s * K, (s + bn) * K));
    }
  }

  /**
   * One forward and one reverse pass: the energies into `e` (n × K, when given), and for the cotangent
   * C = cotangent(energies) (module comment) Σ_y C_iy ∇ₓE(x_i, y) into gradX (n × d) and
   * Σ_i Σ_y C_iy ∂θE(x_i, y) into gradTheta (written, not added), each when given.
   */
  vjp(
    x: Float64Array,
    n: number,
    cotangent: Cotangent,
    e: Float64Array | null,
    gradX: Float64Array | null,
    gradTheta: Float64Array | null,
  ): void {
    this.checkPoints(x, n);
    const d = this.inputDim;
    const K = this.classes;
    const L = this.widths.length - 1;
    const th = this.theta;
    const eBlock = new Float64Array(BLOCK * K);
    if (gradTheta) gradTheta.fill(0, 0, this.numParams);
    const gb = this.gradBlock;
    for (let s = 0; s < n; s += BLOCK) {
      const bn = Math.min(BLOCK, n - s);
      this.forwardBlock(x, s, bn, eBlock);
      if (e) e.set(eBlock.subarray(0, bn * K), s * K);
      const coef = this.coefBlock;
      cotangent(eBlock, s, bn, coef);
      if (!gradX && !gradTheta) continue;
      // δ_L = C; per layer: ∂W = a_{l}ᵀδ, ∂b = Σ_i δ, δ_{l} = (δ Wᵀ) ⊙ act'(z_l).
      let delta = this.delta;
      let prev = this.deltaPrev;
      delta.set(coef.subarray(0, bn * K));
      if (gradTheta) gb.fill(0);
      for (let l = L - 1; l >= 0; l--) {
        const nin = this.widths[l];
        const nout = this.widths[l + 1];
        const inp = this.a[l];
        const wo = this.wOff[l];
        const bo = this.bOff[l];
        if (gradTheta) {
          for (let i = 0; i < bn; i++) {
            const o = i * nout;
            for (let k = 0; k < nout; k++) gb[bo + k] += delta[o + k];
            for (let j = 0; j < nin; j++) {
              const v = inp[i * nin + j];
              if (v === 0) continue;
              const w = wo + j * nout;
              for (let k = 0; k < nout; k++) gb[w + k] += v * delta[o + k];
            }
          }
        }
        if (l === 0 && !gradX) break;
        for (let i = 0; i < bn; i++) {
          const o = i * nout;
          for (let j = 0; j < nin; j++) {
            const w = wo + j * nout;
            let acc = 0;
            for (let k = 0; k < nout; k++) acc += delta[o + k] * th[w + k];
            prev[i * nin + j] = l > 0 ? acc * this.da[l][i * nin + j] : acc;
          }
        }
        const t = delta;
        delta = prev;
        prev = t;
      }
      if (gradTheta) for (let p = 0; p < this.numParams; p++) gradTheta[p] += gb[p];
      if (gradX) {
        const c = this.confinement;
        for (let i = 0; i < bn; i++) {
          let csum = 0;
          for (let y = 0; y < K; y++) csum += coef[i * K + y];
          for (let a = 0; a < d; a++) {
            const at = (s + i) * d + a;
            gradX[at] = delta[i * d + a] + c * csum * x[at];
          }
        }
      }
    }
  }

  /** p(y | x_i) = softmax(−E(x_i, ·)) into `out` (n × K); returns nothing else. */
  classProbabilities(x: Float64Array, n: number, out: Float64Array): void {
    const K = this.classes;
    this.energies(x, n, out);
    const row = new Float64Array(K);
    for (let i = 0; i < n; i++) {
      row.set(out.subarray(i * K, (i + 1) * K));
      negLogSumExpRow(row, 0, K, out, i * K);
    }
  }

  /** argmax_y p(y | x_i) (ties: the lower label) into `out`. */
  predict(x: Float64Array, n: number, out: Int32Array = new Int32Array(n)): Int32Array {
    const K = this.classes;
    const e = new Float64Array(n * K);
    this.energies(x, n, e);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let y = 1; y < K; y++) if (e[i * K + y] < e[i * K + best]) best = y;
      out[i] = best;
    }
    return out;
  }

  /**
   * Mean cross-entropy −(1/n) Σ_i log p(y_i | x_i) (exact: a sum over labels), and its parameter gradient
   * into `gradTheta` when given (cotangent (one-hot(y_i) − p(·|x_i))/n).
   */
  crossEntropy(x: Float64Array, labels: ArrayLike<number>, n: number, gradTheta?: Float64Array): number {
    checkLabels(labels, n, this.classes);
    const K = this.classes;
    let loss = 0;
    this.vjp(
      x,
      n,
      (e, start, bn, coef) => {
        for (let i = 0; i < bn; i++) {
          const y = labels[start + i];
          loss += e[i * K + y] + negLogSumExpRow(e, i * K, K, coef, i * K);
          for (let k = 0; k < K; k++) coef[i * K + k] = ((k === y ? 1 : 0) - coef[i * K + k]) / n;
        }
      },
      null,
      null,
      gradTheta ?? null,
    );
    return loss / n;
  }

  /** U_y(x) = E(x, y) as an Energy (sharing θ with this network). */
  classEnergy(y: number): ClassEnergy {
    return new ClassEnergy(this, y);
  }

  /** U(x) = −log Σ_y e^{−E(x, y)} as an Energy (sharing θ). */
  marginalEnergy(): MarginalEnergy {
    return new MarginalEnergy(this);
  }

  /** E(x, y) over labelled rows (x, y) of dimension d + 1 (sharing θ). */
  labelledEnergy(): LabelledEnergy {
    return new LabelledEnergy(this);
  }

  private checkPoints(x: Float64Array, n: number): void {
    if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`n must be an integer ≥ 0, got ${n}`);
    if (x.length < n * this.inputDim)
      throw new RangeError(`x holds fewer than ${n} points of dim ${this.inputDim}`);
  }
}

function checkLabels(labels: ArrayLike<number>, n: number, k: number): void {
  if (labels.length < n) throw new RangeError(`labels has length ${labels.length}, need ${n}`);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (!(Number.isInteger(y) && y >= 0 && y < k))
      throw new RangeError(`label ${i} is ${y}, not an integer in [0, ${k})`);
  }
}

/** Shared parts of the views: θ goes to and from the network. */
abstract class View implements TrainableEnergy {
  abstract readonly dim: number;
  readonly numParams: number;
  constructor(readonly network: ConditionalMlp) {
    this.numParams = network.numParams;
  }
  getParams(): Float64Array {
    return this.network.getParams();
  }
  setParams(theta: Float64Array): void {
    this.network.setParams(theta);
  }
  abstract energy(x: Float64Array, n: number, u: Float64Array): void;
  abstract energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void;
  abstract paramGrad(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): void;
}

/** U_y(x) = E(x, y) = f_θ(x)_y + ½c|x|²: its samples are draws of p(x | y). */
export class ClassEnergy extends View {
  readonly dim: number;
  constructor(
    network: ConditionalMlp,
    readonly label: number,
  ) {
    super(network);
    if (!(Number.isInteger(label) && label >= 0 && label < network.classes))
      throw new RangeError(`label must be an integer in [0, ${network.classes}), got ${label}`);
    this.dim = network.inputDim;
  }

  /** The cotangent w_i·one-hot(y) (w = 1 when omitted); the energies of label y into u. */
  private cot(u: Float64Array | null, w: Float64Array | null): Cotangent {
    const K = this.network.classes;
    const y = this.label;
    return (e, start, bn, coef) => {
      coef.fill(0, 0, bn * K);
      for (let i = 0; i < bn; i++) {
        if (u) u[start + i] = e[i * K + y];
        coef[i * K + y] = w ? w[start + i] : 1;
      }
    };
  }

  energy(x: Float64Array, n: number, u: Float64Array): void {
    this.network.vjp(x, n, this.cot(u, null), null, null, null);
  }

  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    this.network.vjp(x, n, this.cot(u, null), null, grad, null);
  }

  paramGrad(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): void {
    this.network.vjp(x, n, this.cot(null, weights), null, null, out);
  }
}

/**
 * U(x) = −log Σ_y e^{−E(x, y)}: the marginal p(x) ∝ e^{−U}. ∇ₓU = Σ_y p(y|x)∇ₓE(x, y) and
 * ∂θU = Σ_y p(y|x)∂θE(x, y).
 */
export class MarginalEnergy extends View {
  readonly dim: number;
  constructor(network: ConditionalMlp) {
    super(network);
    this.dim = network.inputDim;
  }

  private cot(u: Float64Array | null, w: Float64Array | null): Cotangent {
    const K = this.network.classes;
    return (e, start, bn, coef) => {
      for (let i = 0; i < bn; i++) {
        const v = -negLogSumExpRow(e, i * K, K, coef, i * K);
        if (u) u[start + i] = v;
        if (w) for (let y = 0; y < K; y++) coef[i * K + y] *= w[start + i];
      }
    };
  }

  energy(x: Float64Array, n: number, u: Float64Array): void {
    this.network.vjp(x, n, this.cot(u, null), null, null, null);
  }

  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    this.network.vjp(x, n, this.cot(u, null), null, grad, null);
  }

  paramGrad(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): void {
    this.network.vjp(x, n, this.cot(null, weights), null, null, out);
  }
}

/**
 * E(x, y) over rows (x_1 … x_d, y) of dimension d + 1, the label an integer-valued last coordinate:
 * p(x, y) ∝ e^{−E}. The gradient's label coordinate is 0 (y is discrete: not for Langevin samplers).
 */
export class LabelledEnergy extends View {
  readonly dim: number;
  constructor(network: ConditionalMlp) {
    super(network);
    this.dim = network.inputDim + 1;
  }

  /** Splits labelled rows into points and labels (checked). */
  split(rows: Float64Array, n: number): { x: Float64Array; labels: Int32Array } {
    return splitLabelledRows(rows, n, this.network.inputDim, this.network.classes);
  }

  private run(
    rows: Float64Array,
    n: number,
    u: Float64Array | null,
    grad: Float64Array | null,
    w?: Float64Array,
  ) {
    const { x, labels } = this.split(rows, n);
    const K = this.network.classes;
    const d = this.network.inputDim;
    const gx = grad ? new Float64Array(n * d) : null;
    const gt = w ? new Float64Array(this.numParams) : null;
    this.network.vjp(
      x,
      n,
      (e, start, bn, coef) => {
        coef.fill(0, 0, bn * K);
        for (let i = 0; i < bn; i++) {
          const y = labels[start + i];
          if (u) u[start + i] = e[i * K + y];
          coef[i * K + y] = w ? w[start + i] : 1;
        }
      },
      null,
      gx,
      gt,
    );
    if (grad && gx)
      for (let i = 0; i < n; i++) {
        for (let a = 0; a < d; a++) grad[i * (d + 1) + a] = gx[i * d + a];
        grad[i * (d + 1) + d] = 0;
      }
    return gt;
  }

  energy(rows: Float64Array, n: number, u: Float64Array): void {
    this.run(rows, n, u, null);
  }

  energyAndGrad(rows: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    this.run(rows, n, u, grad);
  }

  paramGrad(rows: Float64Array, n: number, weights: Float64Array, out: Float64Array): void {
    out.set(this.run(rows, n, null, null, weights)!);
  }
}

/** Rows (x_i, y_i) of dimension d + 1 from n points (n × d) and their labels. */
export function labelledRows(
  x: Float64Array,
  labels: ArrayLike<number>,
  n: number,
  dim: number,
): Float64Array {
  if (x.length < n * dim) throw new RangeError(`x holds fewer than ${n} points of dim ${dim}`);
  if (labels.length < n) throw new RangeError(`labels has length ${labels.length}, need ${n}`);
  const out = new Float64Array(n * (dim + 1));
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < dim; a++) out[i * (dim + 1) + a] = x[i * dim + a];
    out[i * (dim + 1) + dim] = labels[i];
  }
  return out;
}

/** The inverse of `labelledRows`; labels must be integers in [0, classes). */
export function splitLabelledRows(
  rows: Float64Array,
  n: number,
  dim: number,
  classes: number,
): { x: Float64Array; labels: Int32Array } {
  if (rows.length < n * (dim + 1)) throw new RangeError(`rows hold fewer than ${n} rows of dim ${dim + 1}`);
  const x = new Float64Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < dim; a++) x[i * dim + a] = rows[i * (dim + 1) + a];
    labels[i] = rows[i * (dim + 1) + dim];
    if (labels[i] !== rows[i * (dim + 1) + dim] || labels[i] < 0 || labels[i] >= classes)
      throw new RangeError(
        `row ${i} has label ${rows[i * (dim + 1) + dim]}, not an integer in [0, ${classes})`,
      );
  }
  return { x, labels };
}
