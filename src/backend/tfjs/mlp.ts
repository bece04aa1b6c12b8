/**
 * The MLP energy on TensorFlow.js (wasm): U(x) = MLP_θ(x) + ½·c·|x|² (see src/energies/mlp.ts for the
 * spec, the parameter layout and the initialisation). MLP_θ is the one-output network of ./network.ts,
 * held by the energy: its θ, its float32 tensors and its forward code are the network's.
 *
 * Float32 inside tfjs, float64 at the contract boundary. The confinement term and its derivatives are
 * added exactly, in float64, in JS (in `scoreMatching` it also enters the tfjs loss, in float32, because
 * ½|∇MLP + c·x|² couples it with θ). The master copy of θ (the network's) is float64: `getParams` returns
 * exactly what `setParams` was given, and the float32 tensors are derived from it.
 *
 * Autodiff: ∇ₓU and ∂θU are the network's one forward + one backward pass (`TfNetwork.pass`), using the
 * lazy fused-linear gradient and the custom activation ops of ./ops.ts. The score-matching objective nests
 * gradients three deep (∇ₓ, then ∂/∂x_d of ∇ₓU for the Laplacian, then ∂θ of the whole), which the custom
 * activations make exact. The score-gradient capabilities (src/energies/score-grad.ts) nest the same way:
 * ∂θ of r·∇ₓMLP (two levels) and of a·(v·∇ₓMLP) + b·vᵀ∇²ₓMLP v (three: ∇ₓ, the Hessian-vector product as
 * the x-gradient of v·∇ₓMLP, then ∂θ). Every call runs inside `tf.tidy` (or disposes explicitly): no tensor
 * outlives a call except the parameters.
 */
import { type MlpSpec, mlpNetworkSpec } from "../../energies/mlp.ts";
import type { Key } from "../../random/key.ts";
import { ensureTfBackend, tf } from "./init.ts";
import { TfNetwork } from "./network.ts";

type T = tf.Tensor;

export interface TfMlpEnergy {
  readonly spec: Readonly<MlpSpec>;
  readonly dim: number;
  readonly numParams: number;
  energy(x: Float64Array, n: number, u: Float64Array): void;
  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void;
  getParams(): Float64Array;
  setParams(theta: Float64Array): void;
  paramGrad(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): void;
  scoreMatching(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): number;
  /** Σ_i ∂θ[r_i·∇ₓU(x_i)] (ScoreParamGrad, src/energies/score-grad.ts). */
  scoreParamGrad(x: Float64Array, n: number, r: Float64Array, out: Float64Array): void;
  /** Σ_i ∂θ[a_i v_i·∇ₓU(x_i) + b_i v_iᵀ∇²ₓU(x_i)v_i] and κ_i = v_iᵀ∇²ₓU(x_i)v_i (DirectionalParamGrad). */
  directionalParamGrad(
    x: Float64Array,
    v: Float64Array,
    n: number,
    a: Float64Array,
    b: Float64Array,
    out: Float64Array,
    curv: Float64Array,
  ): void;
  dispose(): void;
}

/** Builds the tfjs MLP energy; parameters ~ U(±1/√fan_in) drawn in flat order from `new Stream(key)`. */
export async function createTfMlpEnergy(spec: MlpSpec, key: Key): Promise<TfMlpEnergy> {
  await ensureTfBackend();
  return new TfMlp(spec, key);
}

class TfMlp implements TfMlpEnergy {
  readonly spec: Readonly<MlpSpec>;
  readonly dim: number;
  readonly numParams: number;
  private readonly c: number;
  /** MLP_θ: the network with one output (θ, its tensors, the forward and backward passes). */
  private readonly net: TfNetwork;
  private disposed = false;

  constructor(spec: MlpSpec, key: Key) {
    this.spec = Object.freeze({ ...spec, hidden: [...spec.hidden] });
    this.dim = spec.inputDim;
    this.c = spec.confinement ?? 0;
    this.net = new TfNetwork(mlpNetworkSpec(spec), key);
    this.numParams = this.net.numParams;
  }

  // --- parameters -----------------------------------------------------------------------------------------

  getParams(): Float64Array {
    this.check();
    return this.net.getParams();
  }

  setParams(theta: Float64Array): void {
    this.check();
    this.net.setParams(theta);
  }

  dispose(): void {
    if (this.disposed) return;
    this.net.dispose();
    this.disposed = true;
  }

  private check(): void {
    if (this.disposed) throw new Error("MLP energy used after dispose()");
  }

  // --- inputs ---------------------------------------------------------------------------------------------

  /** Float32 column [n, 1] from the first n values of `weights`. */
  private weightsColumn(weights: Float64Array, n: number): T {
    return this.net.rows(weights, n, 1, "weights");
  }

  /** ½·c·|x_i|² in float64. */
  private confine(x: Float64Array, i: number): number {
    if (this.c === 0) return 0;
    let s = 0;
    const d = this.dim;
    for (let j = 0; j < d; j++) s += x[i * d + j] * x[i * d + j];
    return 0.5 * this.c * s;
  }

  // --- Energy ---------------------------------------------------------------------------------------------

  energy(x: Float64Array, n: number, u: Float64Array): void {
    this.check();
    if (n === 0) return;
    const vals = tf.tidy(() => this.net.apply(this.net.input(x, n)).dataSync());
    for (let i = 0; i < n; i++) u[i] = vals[i] + this.confine(x, i);
  }

  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    this.check();
    if (n === 0) return;
    const d = this.dim;
    const [vals, g] = tf.tidy(() => {
      const { value, dx } = this.net.pass(this.net.input(x, n), null, true, false);
      return [value.dataSync(), (dx as T).dataSync()];
    });
    for (let i = 0; i < n; i++) u[i] = vals[i] + this.confine(x, i);
    const c = this.c;
    for (let k = 0; k < n * d; k++) grad[k] = g[k] + c * x[k];
  }

  // --- TrainableEnergy ------------------------------------------------------------------------------------

  paramGrad(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): void {
    this.check();
    if (out.length < this.numParams) throw new RangeError(`out must hold ${this.numParams} values`);
    if (n === 0) {
      out.fill(0, 0, this.numParams);
      return;
    }
    tf.tidy(() => {
      // Σ_i w_i ∂θ MLP(x_i): the backward pass seeded with dy = w.
      const { dParams } = this.net.pass(this.net.input(x, n), this.weightsColumn(weights, n), false, true);
      this.net.writeFlat(dParams as T[], out);
    });
  }

  // --- ScoreMatchable -------------------------------------------------------------------------------------

  /**
   * J(θ) = Σ_i w_i [½|∇ₓU(x_i)|² − ΔₓU(x_i)] and ∂θJ (into `out`). ∇ₓMLP comes from one backward pass
   * recorded on the tape; each ∂(∇ₓMLP)_d/∂x_d from a backward pass through that backward pass; ∂θ of the
   * float32 loss from a third, outer one. The returned value is summed in float64 from the float32 ∇ₓMLP
   * and ΔₓMLP, with the confinement's exact contributions (c·x to the gradient, c·dim to the Laplacian).
   */
  scoreMatching(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): number {
    this.check();
    if (out.length < this.numParams) throw new RangeError(`out must hold ${this.numParams} values`);
    if (n === 0) {
      out.fill(0, 0, this.numParams);
      return 0;
    }
    const d = this.dim;
    const c = this.c;
    let kept: T[] = [];
    try {
      const [gVals, lapVals] = tf.tidy(() => {
        const xt = this.net.input(x, n);
        const w = this.weightsColumn(weights, n);
        const cx = c === 0 ? null : tf.mul(xt, c);
        const eye = tf.eye(d);
        // The last bias does not affect ∇ₓU (its gradient is 0, set below): tfjs refuses to differentiate
        // with respect to an unused input, so it is passed as a constant.
        const lastBias = this.net.params[this.net.params.length - 1];
        const { grads } = tf.valueAndGrads((...q: T[]) => {
          const p = [...q, lastBias];
          // g = ∇ₓ MLP (its backward pass is recorded: we differentiate through it twice more).
          const g = tf.grad((xx: T) => this.net.apply(xx, p))(xt);
          // Δₓ MLP = Σ_d ∂g_d/∂x_d: the x-gradient of Σ_i g_{i,d}, read at column d. The function handed
          // to tf.grad returns a tensor built from the already computed g: nested inside the outer
          // valueAndGrads, tfjs keeps one tape for all levels, which holds g's forward and backward ops,
          // so the forward+backward pass is not redone per dimension.
          let lap: T | null = null;
          for (let j = 0; j < d; j++) {
            const ej = tf.slice(eye, [j, 0], [1, d]); // constant one-hot row, [1, d]
            const hj = tf.grad(() => tf.sum(tf.mul(g, ej)))(xt);
            const col = tf.sum(tf.mul(hj, ej), 1, true); // [n, 1]
            lap = lap === null ? col : tf.add(lap, col);
          }
          const gt = cx === null ? g : tf.add(g, cx);
          const sq = tf.sum(tf.mul(gt, gt), 1, true);
          kept = [tf.keep(g), tf.keep(lap as T)];
          return tf.sum(tf.mul(w, tf.sub(tf.mul(sq, 0.5), lap as T)));
        })(this.net.params.slice(0, -1));
        this.net.writeFlat(grads, out);
        out[this.numParams - 1] = 0;
        return [kept[0].dataSync(), kept[1].dataSync()];
      });
      let j = 0;
      for (let i = 0; i < n; i++) {
        let sq = 0;
        for (let k = 0; k < d; k++) {
          const gk = gVals[i * d + k] + c * x[i * d + k];
          sq += gk * gk;
        }
        j += weights[i] * (0.5 * sq - (lapVals[i] + c * d));
      }
      return j;
    } finally {
      for (const t of kept) t.dispose();
    }
  }
  // --- ScoreParamGrad, DirectionalParamGrad ---------------------------------------------------------------

  /** [n, dim] float32 tensor from the first n rows of `v` (directions, residuals). */
  private rows(v: Float64Array, n: number, what: string): T {
    return this.net.rows(v, n, this.dim, what);
  }

  /**
   * Σ_i ∂θ[r_i·∇ₓMLP(x_i)]: ∂θ of Σ r ⊙ g where g = ∇ₓMLP is recorded on the outer tape (double backward).
   * The confinement term has no θ. The last bias does not move ∇ₓU: its entry is 0 (see scoreMatching).
   */
  scoreParamGrad(x: Float64Array, n: number, r: Float64Array, out: Float64Array): void {
    this.check();
    if (out.length < this.numParams) throw new RangeError(`out must hold ${this.numParams} values`);
    if (n === 0) {
      out.fill(0, 0, this.numParams);
      return;
    }
    tf.tidy(() => {
      const xt = this.net.input(x, n);
      const rt = this.rows(r, n, "r");
      const lastBias = this.net.params[this.net.params.length - 1];
      const grads = tf.grads((...q: T[]) => {
        const p = [...q, lastBias];
        const g = tf.grad((xx: T) => this.net.apply(xx, p))(xt);
        return tf.sum(tf.mul(g, rt));
      })(this.net.params.slice(0, -1));
      this.net.writeFlat(grads, out);
      out[this.numParams - 1] = 0;
    });
  }

  /**
   * Σ_i ∂θ[a_i s_i + b_i κ_i] with s = v·∇ₓMLP and κ = v·(∇²ₓMLP v), where the Hessian-vector product is
   * the x-gradient of Σ v ⊙ g taken on the shared tape (as the Laplacian columns in scoreMatching).
   * κ_i (plus the confinement's c·|v_i|², exact in float64) is written to `curv`.
   */
  directionalParamGrad(
    x: Float64Array,
    v: Float64Array,
    n: number,
    a: Float64Array,
    b: Float64Array,
    out: Float64Array,
    curv: Float64Array,
  ): void {
    this.check();
    if (out.length < this.numParams) throw new RangeError(`out must hold ${this.numParams} values`);
    if (n === 0) {
      out.fill(0, 0, this.numParams);
      return;
    }
    let kept: T | undefined;
    try {
      const kappa = tf.tidy(() => {
        const xt = this.net.input(x, n);
        const vt = this.rows(v, n, "v");
        const at = this.weightsColumn(a, n);
        const bt = this.weightsColumn(b, n);
        const lastBias = this.net.params[this.net.params.length - 1];
        const grads = tf.grads((...q: T[]) => {
          const p = [...q, lastBias];
          const g = tf.grad((xx: T) => this.net.apply(xx, p))(xt);
          const s = tf.sum(tf.mul(g, vt), 1, true);
          const hv = tf.grad(() => tf.sum(s))(xt);
          const k = tf.sum(tf.mul(hv, vt), 1, true);
          kept = tf.keep(k);
          return tf.add(tf.sum(tf.mul(at, s)), tf.sum(tf.mul(bt, k)));
        })(this.net.params.slice(0, -1));
        this.net.writeFlat(grads, out);
        out[this.numParams - 1] = 0;
        return kept!.dataSync();
      });
      const d = this.dim;
      for (let i = 0; i < n; i++) {
        let sq = 0;
        for (let j = 0; j < d; j++) sq += v[i * d + j] * v[i * d + j];
        curv[i] = kappa[i] + this.c * sq;
      }
    } finally {
      kept?.dispose();
    }
  }
}
