/**
 * Vector-output networks on TensorFlow.js (wasm): f_θ : R^k → R^m (see src/networks/network.ts for the
 * contract, the parameter layout and the initialisation). This is also the forward code of the scalar MLP
 * energy (./mlp.ts), which holds a network with one output and adds ½·c·|x|².
 *
 * Float32 inside tfjs, float64 at the contract boundary. The master copy of θ is float64: `getParams`
 * returns exactly what `setParams` was given, and the float32 tensors [W1, b1, W2, b2, …] are derived from it.
 * Layers are the fused `linear` and the custom activation ops of ./ops.ts, so every derivative taken through
 * `apply` (to any order) is exact and a backward pass computes only the gradients the tape asks for.
 *
 * `vjp` is one forward and one backward pass through tfjs's tape, seeded with the cotangents g. Every call
 * runs inside `tf.tidy`: no tensor outlives a call except the parameters.
 */
import { initNetworkParams, type Network, type NetworkSpec, networkWidths } from "../../networks/network.ts";
import type { Key } from "../../random/key.ts";
import { ensureTfBackend, tf } from "./init.ts";
import { activationOp, linear } from "./ops.ts";

type T = tf.Tensor;

/** Builds the tfjs network with θ = initNetworkParams(spec, key). */
export async function createTfNetwork(spec: NetworkSpec, key: Key): Promise<TfNetwork> {
  await ensureTfBackend();
  return new TfNetwork(spec, key);
}

interface LayerShape {
  fanIn: number;
  fanOut: number;
  /** Offset of W in θ; b follows at wOffset + fanIn·fanOut. */
  wOffset: number;
}

/** What one forward + backward pass returns (tensors owned by the enclosing `tf.tidy`). */
export interface TfVjp {
  /** f(x) as [n, outputDim]. */
  value: T;
  /** Σ_j dy_ij ∂f_j(x_i)/∂x as [n, inputDim], if asked for. */
  dx: T | null;
  /** Σ_i dy_iᵀ ∂f(x_i)/∂θ per tensor [dW1, db1, …], if asked for. */
  dParams: T[] | null;
}

/**
 * The network, with the `Network` contract on float64 arrays and, for the MLP energy and other tfjs code,
 * the tensor-level pieces it is built from (`apply`, `pass`, `params`, `input`, `writeFlat`). Tensor-level
 * methods must be called inside `tf.tidy` (or their results disposed).
 */
export class TfNetwork implements Network {
  readonly spec: Readonly<NetworkSpec>;
  readonly inputDim: number;
  readonly outputDim: number;
  readonly numParams: number;
  private readonly layers: LayerShape[] = [];
  private readonly act: (x: T) => T;
  private readonly theta: Float64Array;
  /** [W1, b1, W2, b2, …] as float32 tensors, derived from `theta`. */
  private tensors: T[] = [];
  private disposed = false;

  constructor(spec: NetworkSpec, key: Key) {
    this.spec = Object.freeze({ ...spec, hidden: [...spec.hidden] });
    this.inputDim = spec.inputDim;
    this.outputDim = spec.outputDim;
    this.act = activationOp(spec.activation);
    const widths = networkWidths(spec);
    let off = 0;
    for (let l = 0; l + 1 < widths.length; l++) {
      this.layers.push({ fanIn: widths[l], fanOut: widths[l + 1], wOffset: off });
      off += widths[l] * widths[l + 1] + widths[l + 1];
    }
    this.numParams = off;
    this.theta = initNetworkParams(spec, key);
    this.uploadParams();
  }

  // --- parameters -----------------------------------------------------------------------------------------

  /** The float32 parameter tensors [W1, b1, …] (owned by the network: do not dispose). */
  get params(): readonly T[] {
    return this.tensors;
  }

  getParams(): Float64Array {
    this.check();
    return this.theta.slice();
  }

  setParams(theta: Float64Array): void {
    this.check();
    if (theta.length !== this.numParams) {
      throw new RangeError(`setParams: expected ${this.numParams} values, got ${theta.length}`);
    }
    this.theta.set(theta);
    this.uploadParams();
  }

  private uploadParams(): void {
    const fresh: T[] = [];
    for (const L of this.layers) {
      const wEnd = L.wOffset + L.fanIn * L.fanOut;
      fresh.push(tf.tensor2d(Float32Array.from(this.theta.subarray(L.wOffset, wEnd)), [L.fanIn, L.fanOut]));
      fresh.push(tf.tensor1d(Float32Array.from(this.theta.subarray(wEnd, wEnd + L.fanOut))));
    }
    for (const p of this.tensors) p.dispose();
    this.tensors = fresh;
  }

  dispose(): void {
    if (this.disposed) return;
    for (const p of this.tensors) p.dispose();
    this.tensors = [];
    this.disposed = true;
  }

  private check(): void {
    if (this.disposed) throw new Error("network used after dispose()");
  }

  // --- tensor level ---------------------------------------------------------------------------------------

  /** f(x) as [n, outputDim] for x [n, inputDim], with parameters `p` ([W1, b1, …]; differentiable). */
  apply(x: T, p: readonly T[] = this.tensors): T {
    let h = x;
    const last = this.layers.length - 1;
    for (let l = 0; l < last; l++) h = this.act(linear(h, p[2 * l], p[2 * l + 1]));
    return linear(h, p[2 * last], p[2 * last + 1]);
  }

  /**
   * One forward and one backward pass at x [n, inputDim], seeded with dy [n, outputDim] (ones if null):
   * f(x), and the gradients with respect to x and to θ, each computed only if asked for.
   */
  pass(x: T, dy: T | null, wrtX: boolean, wrtParams: boolean): TfVjp {
    if (!wrtX && !wrtParams) return { value: this.apply(x), dx: null, dParams: null };
    const args: T[] = [];
    if (wrtX) args.push(x);
    if (wrtParams) args.push(...this.tensors);
    const skip = wrtX ? 1 : 0;
    const f = (...a: T[]) => this.apply(wrtX ? a[0] : x, wrtParams ? a.slice(skip) : this.tensors);
    const { value, grads } = tf.valueAndGrads(f)(args, dy ?? undefined);
    return { value, dx: wrtX ? grads[0] : null, dParams: wrtParams ? grads.slice(skip) : null };
  }

  /** Float32 tensor [n, cols] from the first n rows of `v` (row-major float64); `what` names it in errors. */
  rows(v: Float64Array, n: number, cols: number, what: string): T {
    const m = n * cols;
    if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`n must be a non-negative integer, got ${n}`);
    if (v.length < m) throw new RangeError(`${what} must hold n·${cols} = ${m} values, got ${v.length}`);
    return tf.tensor2d(Float32Array.from(v.subarray(0, m)), [n, cols]);
  }

  /** Float32 tensor [n, inputDim] from the first n rows of x. */
  input(x: Float64Array, n: number): T {
    return this.rows(x, n, this.inputDim, "x");
  }

  /** Copies per-tensor gradients [dW1, db1, …] into the flat float64 layout. */
  writeFlat(grads: readonly T[], out: Float64Array): void {
    let off = 0;
    for (const g of grads) {
      const v = g.dataSync();
      for (let k = 0; k < v.length; k++) out[off + k] = v[k];
      off += v.length;
    }
  }

  // --- Network --------------------------------------------------------------------------------------------

  forward(x: Float64Array, n: number, y: Float64Array): void {
    this.check();
    const m = n * this.outputDim;
    if (y.length < m) throw new RangeError(`y must hold n·${this.outputDim} = ${m} values, got ${y.length}`);
    if (n === 0) return;
    const vals = tf.tidy(() => this.apply(this.input(x, n)).dataSync());
    for (let k = 0; k < m; k++) y[k] = vals[k];
  }

  vjp(
    x: Float64Array,
    n: number,
    g: Float64Array,
    y: Float64Array | null,
    gradX: Float64Array | null,
    gradParams: Float64Array | null,
  ): void {
    this.check();
    const k = this.inputDim;
    const m = this.outputDim;
    if (y && y.length < n * m) throw new RangeError(`y must hold n·${m} = ${n * m} values, got ${y.length}`);
    if (gradX && gradX.length < n * k) {
      throw new RangeError(`gradX must hold n·${k} = ${n * k} values, got ${gradX.length}`);
    }
    if (gradParams && gradParams.length < this.numParams) {
      throw new RangeError(`gradParams must hold ${this.numParams} values, got ${gradParams.length}`);
    }
    if (n === 0) {
      gradParams?.fill(0, 0, this.numParams);
      return;
    }
    if (!y && !gradX && !gradParams) return;
    tf.tidy(() => {
      const xt = this.input(x, n);
      const gt = this.rows(g, n, m, "g");
      const { value, dx, dParams } = this.pass(xt, gt, gradX !== null, gradParams !== null);
      if (y) {
        const v = value.dataSync();
        for (let q = 0; q < n * m; q++) y[q] = v[q];
      }
      if (gradX && dx) {
        const v = dx.dataSync();
        for (let q = 0; q < n * k; q++) gradX[q] = v[q];
      }
      if (gradParams && dParams) this.writeFlat(dParams, gradParams);
    });
  }
}
