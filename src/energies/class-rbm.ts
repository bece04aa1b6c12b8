/**
 * The classification RBM (Larochelle & Bengio 2008, "Classification using discriminative restricted
 * Boltzmann machines"): a conditional EBM over visible bits v ∈ {0,1}^V, hidden bits h ∈ {0,1}^H and a
 * label y ∈ {0, …, K−1} (one-hot e_y),
 *
 *   E(v, h, y) = −bᵀv − cᵀh − d_y − vᵀWh − hᵀU_y,        U_y the y-th column of U (H × K),
 *   F(v, y)    = −log Σ_h e^{−E(v,h,y)} = −bᵀv − d_y − Σ_j softplus(c_j + U_jy + (vᵀW)_j),
 *   p(y | v)   = softmax_y(−F(v, ·))          (exact: a sum over the K labels; b cancels),
 *   p(v, y)    = e^{−F(v, y)} / Z,            p(v | y) ∝ e^{−F(v, y)}.
 *
 * Conditionals (block Gibbs): h_j | v, y ~ Bern(σ(c_j + U_jy + (vᵀW)_j)); given h, v and y are
 * independent: v_i | h ~ Bern(σ(b_i + (Wh)_i)) and p(y | h) = softmax_y(d_y + (hᵀU)_y). For a fixed y the
 * model is an ordinary RBM with hidden bias c + U_y (`conditionalRbm(y)`), so p(v | y) is that RBM's
 * visible marginal and every RBM tool of the library (block-Gibbs kernels, AIS, exact log Z) applies.
 *
 * θ layout (flat float64, numParams = VH + V + H + HK + K):
 *   [ W (V × H, row-major: W[i·H + j]) | b (V) | c (H) | U (H × K, row-major: U[j·K + y]) | d (K) ].
 * Precision: float64 everywhere (parameters, pre-activations, free energies, gradients). The products with
 * 0/1 visibles add rows of W for the bits that are on (digits have about one pixel in five on), which is
 * what makes the TypeScript loops fast enough without float32.
 *
 * Parameter gradients take a cotangent over the K labels per row, as ConditionalMlp.vjp does, so one
 * routine gives ∂θF(v, y) (one-hot), ∂θ[−log p(y|v)] (one-hot − p(·|v)) and any mix of them:
 *   Σ_y C_y ∂θF(v, y):  ∂W_ij = −v_i g_j,  ∂b_i = −v_i Σ_y C_y,  ∂c_j = −g_j,  ∂U_jy = −C_y σ_jy,
 *   ∂d_y = −C_y,   with σ_jy = σ(c_j + U_jy + (vᵀW)_j) and g_j = Σ_y C_y σ_jy.
 *
 * Randomness: each sampling call draws from `new Stream(key)` in a fixed order (documented per method).
 * The methods share scratch buffers (not re-entrant). W, b, c, U, d are views into θ: writing them
 * changes the model.
 */
import { type Key, Stream } from "../random/key.ts";
import type { TrainableEnergy } from "./contract.ts";
import { Rbm } from "./rbm.ts";

export interface ClassRbmShape {
  visible: number;
  hidden: number;
  classes: number;
}

/** Bits (0/1 bytes) or reals: the visible rows a method reads. */
type Rows = Uint8Array | Float64Array;

/**
 * Per row of a vector-Jacobian product: given F(v_s, ·) (K values, `fe`), write the row's cotangent C_s·
 * into `coef` (K values, zero-filled on entry). `s` is the row's index.
 */
export type FreeEnergyCotangent = (s: number, fe: Float64Array, coef: Float64Array) => void;

/** VH + V + H + HK + K. */
export function classRbmNumParams(shape: ClassRbmShape): number {
  const { visible: v, hidden: h, classes: k } = shape;
  return v * h + v + h + h * k + k;
}

function checkShape(shape: ClassRbmShape): void {
  const ok = (x: number) => Number.isSafeInteger(x) && x >= 1;
  if (!(ok(shape.visible) && ok(shape.hidden) && ok(shape.classes) && shape.classes >= 2))
    throw new RangeError(
      `a classification RBM needs integer sizes V ≥ 1, H ≥ 1, K ≥ 2, got ${shape.visible}, ${shape.hidden}, ${shape.classes}`,
    );
}

function checkLabel(y: number, k: number, s: number): number {
  if (!(Number.isInteger(y) && y >= 0 && y < k))
    throw new RangeError(`label of row ${s} is ${y}, not an integer in [0, ${k})`);
  return y;
}

/** σ(z), stable for both signs. */
function sigma(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

export class ClassRbm {
  readonly visible: number;
  readonly hidden: number;
  readonly classes: number;
  readonly numParams: number;
  /** θ (layout in the module comment); W … d are views into it. */
  private readonly theta: Float64Array;
  readonly W: Float64Array;
  readonly b: Float64Array;
  readonly c: Float64Array;
  readonly U: Float64Array;
  readonly d: Float64Array;
  /** Offsets of b, c, U, d in θ. */
  readonly offsets: { readonly b: number; readonly c: number; readonly U: number; readonly d: number };
  // Scratch: c + vᵀW (H), σ_jy for every label (K × H, label-major), F(v, ·) (K), a cotangent row (K),
  // g (H), on-bits of a row (V or H), label logits (K).
  private readonly act: Float64Array;
  private readonly sig: Float64Array;
  private readonly fe: Float64Array;
  private readonly coef: Float64Array;
  private readonly g: Float64Array;
  private readonly on: Int32Array;
  private readonly logits: Float64Array;

  constructor(shape: ClassRbmShape, theta?: ArrayLike<number>) {
    checkShape(shape);
    const { visible: V, hidden: H, classes: K } = shape;
    this.visible = V;
    this.hidden = H;
    this.classes = K;
    this.numParams = classRbmNumParams(shape);
    this.theta = new Float64Array(this.numParams);
    if (theta) this.setParams(theta);
    const ob = V * H;
    const oc = ob + V;
    const oU = oc + H;
    const od = oU + H * K;
    this.offsets = Object.freeze({ b: ob, c: oc, U: oU, d: od });
    this.W = this.theta.subarray(0, ob);
    this.b = this.theta.subarray(ob, oc);
    this.c = this.theta.subarray(oc, oU);
    this.U = this.theta.subarray(oU, od);
    this.d = this.theta.subarray(od);
    this.act = new Float64Array(H);
    this.sig = new Float64Array(K * H);
    this.fe = new Float64Array(K);
    this.coef = new Float64Array(K);
    this.g = new Float64Array(H);
    this.on = new Int32Array(Math.max(V, H));
    this.logits = new Float64Array(K);
  }

  /**
   * W_ij and U_jy ~ N(0, weightStd²) (W row-major, then U), drawn from one stream of `key`; biases zero.
   * The caller usually sets b to the log-odds of the training pixels.
   */
  static random(key: Key, shape: ClassRbmShape, weightStd = 0.01): ClassRbm {
    const m = new ClassRbm(shape);
    const rng = new Stream(key);
    rng.fillNormal(m.W, 0, weightStd);
    rng.fillNormal(m.U, 0, weightStd);
    return m;
  }

  get shape(): ClassRbmShape {
    return { visible: this.visible, hidden: this.hidden, classes: this.classes };
  }

  /** A copy of θ. */
  getParams(): Float64Array {
    return Float64Array.from(this.theta);
  }

  /** θ ← theta (copied; every value must be finite). */
  setParams(theta: ArrayLike<number>): void {
    if (theta.length !== this.numParams)
      throw new RangeError(`θ must have ${this.numParams} entries, got ${theta.length}`);
    for (let q = 0; q < theta.length; q++) {
      if (!Number.isFinite(theta[q])) throw new RangeError(`θ[${q}] = ${theta[q]} is not finite`);
      this.theta[q] = theta[q];
    }
  }

  /** The RBM of p(v | y): W, b and hidden bias c + U_y (float32 copies, energies/rbm.ts). */
  conditionalRbm(y: number): Rbm {
    checkLabel(y, this.classes, 0);
    const c = new Float64Array(this.hidden);
    for (let j = 0; j < this.hidden; j++) c[j] = this.c[j] + this.U[j * this.classes + y];
    return new Rbm(this.W, this.b, c);
  }

  /** E(v, y) as a TrainableEnergy over labelled rows [v, y] of dimension V + 1 (shares θ). */
  labelled(): LabelledClassRbm {
    return new LabelledClassRbm(this);
  }

  // --- rows ----------------------------------------------------------------------------------------------

  /** act = c + vᵀW for the row at x[off …]; returns bᵀv. Zeros are skipped (bits: only the on pixels). */
  private hiddenInput(x: Rows, off: number): number {
    const H = this.hidden;
    const W = this.W;
    const act = this.act;
    act.set(this.c);
    let vb = 0;
    for (let i = 0; i < this.visible; i++) {
      const xi = x[off + i];
      if (xi === 0) continue;
      vb += this.b[i] * xi;
      const row = i * H;
      if (xi === 1) for (let j = 0; j < H; j++) act[j] += W[row + j];
      else for (let j = 0; j < H; j++) act[j] += xi * W[row + j];
    }
    return vb;
  }

  /** F(v, y) for every label into this.fe and σ_jy into this.sig (row at x[off …]). */
  private rowAllLabels(x: Rows, off: number): void {
    const H = this.hidden;
    const K = this.classes;
    const vb = this.hiddenInput(x, off);
    const act = this.act;
    const U = this.U;
    const sig = this.sig;
    for (let y = 0; y < K; y++) {
      let f = -vb - this.d[y];
      const o = y * H;
      for (let j = 0; j < H; j++) {
        const z = act[j] + U[j * K + y];
        const e = Math.exp(-Math.abs(z));
        if (z > 0) {
          f -= z + Math.log1p(e);
          sig[o + j] = 1 / (1 + e);
        } else {
          f -= Math.log1p(e);
          sig[o + j] = e / (1 + e);
        }
      }
      this.fe[y] = f;
    }
  }

  /** F(v, y) for one label; σ_jy into this.sig[0 … H) when `withSigma` (row at x[off …]). */
  private rowOneLabel(x: Rows, off: number, y: number, withSigma: boolean): number {
    const H = this.hidden;
    const K = this.classes;
    const vb = this.hiddenInput(x, off);
    const act = this.act;
    let f = -vb - this.d[y];
    for (let j = 0; j < H; j++) {
      const z = act[j] + this.U[j * K + y];
      const e = Math.exp(-Math.abs(z));
      if (z > 0) {
        f -= z + Math.log1p(e);
        if (withSigma) this.sig[j] = 1 / (1 + e);
      } else {
        f -= Math.log1p(e);
        if (withSigma) this.sig[j] = e / (1 + e);
      }
    }
    return f;
  }

  /**
   * out += Σ_y coef_y ∂θF(v, y) for the row at x[off …]; σ_jy at sig[sigRow(y)·H …] (all labels:
   * sigRow(y) = y; one label: sigRow = 0, and coef is zero elsewhere).
   */
  private addRowGrad(x: Rows, off: number, coef: Float64Array, oneLabel: number, out: Float64Array): void {
    const H = this.hidden;
    const K = this.classes;
    const { b: ob, c: oc, U: oU, d: od } = this.offsets;
    const g = this.g;
    const sig = this.sig;
    g.fill(0);
    let csum = 0;
    for (let y = 0; y < K; y++) {
      const cy = coef[y];
      if (cy === 0) continue;
      csum += cy;
      out[od + y] -= cy;
      const o = oneLabel >= 0 ? 0 : y * H;
      for (let j = 0; j < H; j++) {
        const s = cy * sig[o + j];
        g[j] += s;
        out[oU + j * K + y] -= s;
      }
    }
    for (let j = 0; j < H; j++) out[oc + j] -= g[j];
    for (let i = 0; i < this.visible; i++) {
      const xi = x[off + i];
      if (xi === 0) continue;
      out[ob + i] -= xi * csum;
      const row = i * H;
      if (xi === 1) for (let j = 0; j < H; j++) out[row + j] -= g[j];
      else for (let j = 0; j < H; j++) out[row + j] -= xi * g[j];
    }
  }

  private checkRows(x: Rows, n: number, stride: number): void {
    if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`n must be an integer ≥ 0, got ${n}`);
    if (x.length < n * stride)
      throw new RangeError(`${x.length} values hold fewer than ${n} rows of ${stride}`);
  }

  // --- free energies and p(y | v) ------------------------------------------------------------------------

  /** F(v_s, y) for every label: n × K into `out` (v: n × V bits or reals). */
  freeEnergies(v: Rows, n: number, out: Float64Array): void {
    this.checkRows(v, n, this.visible);
    const K = this.classes;
    for (let s = 0; s < n; s++) {
      this.rowAllLabels(v, s * this.visible);
      out.set(this.fe, s * K);
    }
  }

  /** F(v_s, y_s) into `out` (n). `stride` is the row length of `v` (V, or V + 1 for labelled rows). */
  freeEnergy(v: Rows, labels: ArrayLike<number>, n: number, out: Float64Array, stride = this.visible): void {
    this.checkRows(v, n, stride);
    for (let s = 0; s < n; s++)
      out[s] = this.rowOneLabel(v, s * stride, checkLabel(labels[s], this.classes, s), false);
  }

  /** p(y | v_s) = softmax_y(−F(v_s, y)): n × K into `out`. */
  classProbabilities(v: Rows, n: number, out: Float64Array): void {
    this.checkRows(v, n, this.visible);
    const K = this.classes;
    for (let s = 0; s < n; s++) {
      this.rowAllLabels(v, s * this.visible);
      softmaxNeg(this.fe, K, out, s * K);
    }
  }

  /** argmax_y p(y | v_s) (ties: the lower label) into `out`. */
  predict(v: Rows, n: number, out: Int32Array = new Int32Array(n)): Int32Array {
    this.checkRows(v, n, this.visible);
    const K = this.classes;
    for (let s = 0; s < n; s++) {
      this.rowAllLabels(v, s * this.visible);
      let best = 0;
      for (let y = 1; y < K; y++) if (this.fe[y] < this.fe[best]) best = y;
      out[s] = best;
    }
    return out;
  }

  /**
   * Σ_s Σ_y C_sy ∂θF(v_s, y) into `out` (written, or added when `accumulate`), C_s· from `cotangent`
   * given F(v_s, ·). One pass per row: the σ_jy of the free energies are reused by the gradient.
   */
  freeEnergyVjp(
    v: Rows,
    n: number,
    cotangent: FreeEnergyCotangent,
    out: Float64Array,
    accumulate = false,
    stride = this.visible,
  ): void {
    this.checkRows(v, n, stride);
    if (!accumulate) out.fill(0, 0, this.numParams);
    const coef = this.coef;
    for (let s = 0; s < n; s++) {
      this.rowAllLabels(v, s * stride);
      coef.fill(0);
      cotangent(s, this.fe, coef);
      this.addRowGrad(v, s * stride, coef, -1, out);
    }
  }

  /**
   * Σ_s w_s ∂θF(v_s, y_s) into `out` (written, or added when `accumulate`): only σ at the row's own label
   * is computed.
   */
  freeEnergyGrad(
    v: Rows,
    labels: ArrayLike<number>,
    n: number,
    weights: ArrayLike<number>,
    out: Float64Array,
    accumulate = false,
    stride = this.visible,
  ): void {
    this.checkRows(v, n, stride);
    if (!accumulate) out.fill(0, 0, this.numParams);
    const coef = this.coef;
    for (let s = 0; s < n; s++) {
      const w = weights[s];
      if (w === 0) continue;
      const y = checkLabel(labels[s], this.classes, s);
      this.rowOneLabel(v, s * stride, y, true);
      coef.fill(0);
      coef[y] = w;
      this.addRowGrad(v, s * stride, coef, y, out);
    }
  }

  /**
   * Mean cross-entropy −(1/n) Σ_s log p(y_s | v_s) (exact), and its gradient into `grad` when given
   * (cotangent (one-hot(y_s) − p(·|v_s))/n).
   */
  crossEntropy(v: Rows, labels: ArrayLike<number>, n: number, grad?: Float64Array): number {
    this.checkRows(v, n, this.visible);
    const K = this.classes;
    const p = new Float64Array(K);
    let loss = 0;
    const cot: FreeEnergyCotangent = (s, fe, coef) => {
      const y = checkLabel(labels[s], K, s);
      loss += fe[y] + softmaxNeg(fe, K, p, 0);
      for (let k = 0; k < K; k++) coef[k] = ((k === y ? 1 : 0) - p[k]) / n;
    };
    if (grad) this.freeEnergyVjp(v, n, cot, grad);
    else
      for (let s = 0; s < n; s++) {
        this.rowAllLabels(v, s * this.visible);
        cot(s, this.fe, this.coef);
      }
    return n > 0 ? loss / n : 0;
  }

  // --- conditionals and block Gibbs ----------------------------------------------------------------------

  /** p(h_j = 1 | v_s, y_s) = σ(c_j + U_jy + (vᵀW)_j): n × H into `out`. */
  hiddenProbabilities(v: Rows, labels: ArrayLike<number>, n: number, out: Float64Array): void {
    this.checkRows(v, n, this.visible);
    const H = this.hidden;
    const K = this.classes;
    for (let s = 0; s < n; s++) {
      const y = checkLabel(labels[s], K, s);
      this.hiddenInput(v, s * this.visible);
      for (let j = 0; j < H; j++) out[s * H + j] = sigma(this.act[j] + this.U[j * K + y]);
    }
  }

  /** p(v_i = 1 | h_s) = σ(b_i + (W h_s)_i): n × V into `out` (h: n × H bits). */
  visibleProbabilities(h: Uint8Array, n: number, out: Float64Array): void {
    this.checkRows(h, n, this.hidden);
    for (let s = 0; s < n; s++) this.visibleRow(h, s * this.hidden, out, s * this.visible);
  }

  /** p(y | h_s) = softmax_y(d_y + (h_sᵀU)_y): n × K into `out`. */
  labelProbabilities(h: Uint8Array, n: number, out: Float64Array): void {
    this.checkRows(h, n, this.hidden);
    for (let s = 0; s < n; s++) this.labelRow(h, s * this.hidden, out, s * this.classes);
  }

  /** out[outOff …] (V) = σ(b + Wh) for the hidden bits at h[hOff …] (W rows gathered at the on units). */
  private visibleRow(h: Uint8Array, hOff: number, out: Float64Array, outOff: number): void {
    const H = this.hidden;
    const on = this.on;
    let m = 0;
    for (let j = 0; j < H; j++) if (h[hOff + j]) on[m++] = j;
    const W = this.W;
    for (let i = 0; i < this.visible; i++) {
      const row = i * H;
      let a = this.b[i];
      for (let t = 0; t < m; t++) a += W[row + on[t]];
      out[outOff + i] = sigma(a);
    }
  }

  /** out[outOff …] (K) = p(y | h) for the hidden bits at h[hOff …]. */
  private labelRow(h: Uint8Array, hOff: number, out: Float64Array, outOff: number): void {
    const K = this.classes;
    const z = this.logits;
    for (let y = 0; y < K; y++) z[y] = -this.d[y];
    for (let j = 0; j < this.hidden; j++) {
      if (!h[hOff + j]) continue;
      for (let y = 0; y < K; y++) z[y] -= this.U[j * K + y];
    }
    softmaxNeg(z, K, out, outOff);
  }

  /** h_j ~ Bern(σ(c_j + U_jy + (vᵀW)_j)) for one chain, one uniform per unit in order. */
  private drawHidden(rng: Stream, v: Uint8Array, vOff: number, y: number, h: Uint8Array, hOff: number): void {
    const H = this.hidden;
    const K = this.classes;
    this.hiddenInput(v, vOff);
    for (let j = 0; j < H; j++) h[hOff + j] = rng.uniform() < sigma(this.act[j] + this.U[j * K + y]) ? 1 : 0;
  }

  /** v_i ~ Bern(σ(b + Wh)_i) for one chain (probabilities into mean[…] when given), one uniform per pixel. */
  private drawVisible(
    rng: Stream,
    h: Uint8Array,
    hOff: number,
    v: Uint8Array,
    vOff: number,
    mean: Float64Array,
    meanOff: number,
  ): void {
    this.visibleRow(h, hOff, mean, meanOff);
    for (let i = 0; i < this.visible; i++) v[vOff + i] = rng.uniform() < mean[meanOff + i] ? 1 : 0;
  }

  /** y ~ p(y | h) for one chain: one uniform, inverse CDF over the labels in order. */
  private drawLabel(rng: Stream, h: Uint8Array, hOff: number): number {
    const K = this.classes;
    const p = this.coef;
    this.labelRow(h, hOff, p, 0);
    const u = rng.uniform();
    let acc = 0;
    for (let y = 0; y < K - 1; y++) {
      acc += p[y];
      if (u < acc) return y;
    }
    return K - 1;
  }

  /**
   * `sweeps` sweeps of block Gibbs for p(v, h | y) on n chains with fixed labels: h ~ p(h | v, y), then
   * v ~ p(v | h). Advances `chains.v` (n × V bits) in place and leaves in `chains.h` (n × H) the hiddens
   * drawn in the last sweep; `visibleMean` (n × V, optional) receives p(v | h) of the last sweep (the
   * usual picture of a sample). Draws: for each sweep, for each chain in order, H uniforms then V.
   */
  gibbsGivenLabel(
    key: Key,
    chains: { v: Uint8Array; h: Uint8Array },
    labels: ArrayLike<number>,
    n: number,
    sweeps: number,
    visibleMean?: Float64Array,
  ): void {
    const V = this.visible;
    const H = this.hidden;
    this.checkChains(chains, n, sweeps);
    for (let s = 0; s < n; s++) checkLabel(labels[s], this.classes, s);
    const mean = visibleMean ?? new Float64Array(V);
    const rng = new Stream(key);
    for (let t = 0; t < sweeps; t++)
      for (let s = 0; s < n; s++) {
        this.drawHidden(rng, chains.v, s * V, labels[s], chains.h, s * H);
        this.drawVisible(rng, chains.h, s * H, chains.v, s * V, mean, visibleMean ? s * V : 0);
      }
  }

  /**
   * `sweeps` sweeps of block Gibbs for the joint p(v, h, y): h ~ p(h | v, y), then (v, y) ~ p(v | h) p(y | h)
   * (independent given h; y exact over the K labels). Advances `chains.v` (n × V) and `chains.y` (n) in
   * place; `chains.h` (n × H) gets the last sweep's hiddens. Draws: per sweep, per chain, H uniforms, V,
   * then one for the label.
   */
  gibbsJoint(
    key: Key,
    chains: { v: Uint8Array; h: Uint8Array; y: Int32Array },
    n: number,
    sweeps: number,
  ): void {
    const V = this.visible;
    const H = this.hidden;
    this.checkChains(chains, n, sweeps);
    if (chains.y.length < n) throw new RangeError(`chains.y holds ${chains.y.length} labels, need ${n}`);
    for (let s = 0; s < n; s++) checkLabel(chains.y[s], this.classes, s);
    const mean = new Float64Array(V);
    const rng = new Stream(key);
    for (let t = 0; t < sweeps; t++)
      for (let s = 0; s < n; s++) {
        this.drawHidden(rng, chains.v, s * V, chains.y[s], chains.h, s * H);
        this.drawVisible(rng, chains.h, s * H, chains.v, s * V, mean, 0);
        chains.y[s] = this.drawLabel(rng, chains.h, s * H);
      }
  }

  private checkChains(chains: { v: Uint8Array; h: Uint8Array }, n: number, sweeps: number): void {
    if (!(Number.isInteger(sweeps) && sweeps >= 0))
      throw new RangeError(`sweeps must be an integer ≥ 0, got ${sweeps}`);
    this.checkRows(chains.v, n, this.visible);
    this.checkRows(chains.h, n, this.hidden);
  }

  // --- the labelled view's relaxed input gradient ---------------------------------------------------------

  /** ∂F(v, y)/∂v_i = −b_i − Σ_j W_ij σ_jy into grad[gOff …] (V) for the row at x[off …]; returns F. */
  inputGradRow(x: Rows, off: number, y: number, grad: Float64Array, gOff: number): number {
    const f = this.rowOneLabel(x, off, y, true);
    const H = this.hidden;
    const sig = this.sig;
    for (let i = 0; i < this.visible; i++) {
      const row = i * H;
      let a = -this.b[i];
      for (let j = 0; j < H; j++) a -= this.W[row + j] * sig[j];
      grad[gOff + i] = a;
    }
    return f;
  }
}

/**
 * p_y = softmax(−e)_y over e[0 … K) into out[at …]; returns log Σ_y e^{−e_y} (NaN rows stay NaN).
 */
function softmaxNeg(e: Float64Array, k: number, out: Float64Array, at: number): number {
  let m = Number.POSITIVE_INFINITY;
  for (let y = 0; y < k; y++) if (e[y] < m) m = e[y];
  let s = 0;
  for (let y = 0; y < k; y++) s += out[at + y] = Math.exp(m - e[y]);
  for (let y = 0; y < k; y++) out[at + y] /= s;
  return -m + Math.log(s);
}

/**
 * E(v, y) = F(v, y) over labelled rows [v_1 … v_V, y] of dimension V + 1, so labelled digits go through
 * the trainer's minibatches unchanged (the label is read as an integer in [0, K)). ∇ₓ is the relaxed
 * gradient ∂F/∂v at real v (the label coordinate gets 0); paramGrad is Σ_s w_s ∂θF(v_s, y_s).
 */
export class LabelledClassRbm implements TrainableEnergy {
  readonly dim: number;
  readonly numParams: number;
  constructor(readonly model: ClassRbm) {
    this.dim = model.visible + 1;
    this.numParams = model.numParams;
  }

  getParams(): Float64Array {
    return this.model.getParams();
  }

  setParams(theta: Float64Array): void {
    this.model.setParams(theta);
  }

  /** The labels of n rows (checked). */
  labels(rows: Float64Array, n: number): Int32Array {
    const V = this.model.visible;
    if (rows.length < n * this.dim) throw new RangeError(`rows hold fewer than ${n} rows of ${this.dim}`);
    const out = new Int32Array(n);
    for (let s = 0; s < n; s++) out[s] = checkLabel(rows[s * this.dim + V], this.model.classes, s);
    return out;
  }

  energy(rows: Float64Array, n: number, u: Float64Array): void {
    this.model.freeEnergy(rows, this.labels(rows, n), n, u, this.dim);
  }

  energyAndGrad(rows: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    const labels = this.labels(rows, n);
    const D = this.dim;
    for (let s = 0; s < n; s++) {
      u[s] = this.model.inputGradRow(rows, s * D, labels[s], grad, s * D);
      grad[s * D + D - 1] = 0;
    }
  }

  paramGrad(rows: Float64Array, n: number, weights: Float64Array, out: Float64Array): void {
    this.model.freeEnergyGrad(rows, this.labels(rows, n), n, weights, out, false, this.dim);
  }
}

/** Rows [v, y] of dimension V + 1 from n visible rows (n × V, bits or grey values) and their labels. */
export function classRbmRows(
  v: ArrayLike<number>,
  labels: ArrayLike<number>,
  n: number,
  visible: number,
): Float64Array {
  if (v.length < n * visible)
    throw new RangeError(`${v.length} values hold fewer than ${n} rows of ${visible}`);
  if (labels.length < n) throw new RangeError(`${labels.length} labels for ${n} rows`);
  const D = visible + 1;
  const out = new Float64Array(n * D);
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < visible; i++) out[s * D + i] = v[s * visible + i];
    out[s * D + visible] = labels[s];
  }
  return out;
}
