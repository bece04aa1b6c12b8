/**
 * The MLP energy on the native addon (native/src/mlp.cc): U(x) = MLP_θ(x) + ½·c·|x|², same spec, θ layout
 * and initialisation as the tfjs energy (src/energies/mlp.ts), float32 inside and float64 at the
 * boundary. θ's master copy is float64 (`getParams` returns exactly what `setParams` was given); the
 * kernels read a float32 copy passed on every call, so the addon holds no per-energy state and nothing
 * needs freeing except the score-matching twin (below).
 *
 * U, ∇ₓU, Σ w_i ∂θU and the fused Langevin proposal run natively (tiles of 256 points, analytic backward
 * pass, split over the addon's thread pool; see native/src/mlp.cc). So do the score-gradient capabilities
 * of src/energies/score-grad.ts (denoising and sliced score matching): `scoreParamGrad` and
 * `directionalParamGrad` are one call of the addon's jet kernel (second-order jets of U(x + t·v) forward,
 * reverse mode through them). The exact score-matching objective (a Laplacian: dim directional passes) is
 * delegated to a tfjs twin with the same θ: it is created by the factory (the objective is synchronous,
 * tfjs initialisation is not) and re-synchronised lazily after setParams; the twin also serves the score
 * capabilities if the loaded addon predates the jet kernel.
 */
import type { LangevinProposer } from "../../energies/contract.ts";
import { initMlpParams, type MlpSpec, mlpNumParams } from "../../energies/mlp.ts";
import type { Key } from "../../random/key.ts";
import type { TfMlpEnergy } from "../tfjs/mlp.ts";
import { loadNative, type NativeAddon } from "./load.ts";

export type NativeMlpEnergy = TfMlpEnergy & LangevinProposer;

/**
 * The addon's jet kernel (native/src/mlp.cc): out = Σ_i ∂θ[a_i·u̇_i + b_i·ü_i] with u(t) = MLP(x_i + t·v_i)
 * (the network without the confinement term); `b`, `slope` (u̇) and `curv` (ü) may be null. Declared here
 * rather than in load.ts's NativeAddon so that an addon built before it is detected (then the tfjs twin runs).
 */
interface JetKernel {
  mlpDirectionalParamGrad(
    widths: Int32Array,
    act: number,
    theta: Float32Array,
    x: Float64Array,
    v: Float64Array,
    n: number,
    a: Float64Array,
    b: Float64Array | null,
    slope: Float64Array | null,
    curv: Float64Array | null,
    out: Float64Array,
  ): void;
}

const ACT_CODES = { silu: 0, softplus: 1, tanh: 2, elu: 3 } as const;

/** Builds the native MLP energy (throws if the addon is not available). */
export async function createNativeMlpEnergy(spec: MlpSpec, key: Key): Promise<NativeMlpEnergy> {
  const addon = loadNative();
  if (!addon) throw new Error("native backend unavailable (addon not built or EBM_BACKEND=wasm)");
  const { createTfMlpEnergy } = await import("../tfjs/mlp.ts");
  const twin = await createTfMlpEnergy(spec, key);
  return new NativeMlp(addon, spec, key, twin);
}

class NativeMlp implements NativeMlpEnergy {
  readonly spec: Readonly<MlpSpec>;
  readonly dim: number;
  readonly numParams: number;
  private readonly addon: NativeAddon;
  private readonly widths: Int32Array;
  private readonly act: number;
  private readonly c: number;
  private readonly theta: Float64Array;
  private readonly theta32: Float32Array;
  private readonly jet: JetKernel | undefined;
  private ones = new Float64Array(0);
  private twin: TfMlpEnergy | undefined;
  private twinStale = false;
  private disposed = false;

  constructor(addon: NativeAddon, spec: MlpSpec, key: Key, twin: TfMlpEnergy) {
    this.addon = addon;
    this.spec = Object.freeze({ ...spec, hidden: [...spec.hidden] });
    this.dim = spec.inputDim;
    this.numParams = mlpNumParams(spec);
    this.widths = Int32Array.from([spec.inputDim, ...spec.hidden, 1]);
    this.act = ACT_CODES[spec.activation];
    this.c = spec.confinement ?? 0;
    this.theta = initMlpParams(spec, key);
    this.theta32 = Float32Array.from(this.theta);
    this.twin = twin;
    const jet = addon as NativeAddon & Partial<JetKernel>;
    this.jet = typeof jet.mlpDirectionalParamGrad === "function" ? (jet as JetKernel) : undefined;
  }

  // --- parameters -----------------------------------------------------------------------------------------

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
    this.theta32.set(theta);
    this.twinStale = true;
  }

  dispose(): void {
    if (this.disposed) return;
    this.twin?.dispose();
    this.twin = undefined;
    this.disposed = true;
  }

  private check(): void {
    if (this.disposed) throw new Error("MLP energy used after dispose()");
  }

  private checkN(n: number): void {
    if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  }

  // --- Energy ---------------------------------------------------------------------------------------------

  energy(x: Float64Array, n: number, u: Float64Array): void {
    this.check();
    this.checkN(n);
    this.addon.mlpEnergy(this.widths, this.act, this.c, this.theta32, x, n, u);
  }

  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    this.check();
    this.checkN(n);
    this.addon.mlpEnergyGrad(this.widths, this.act, this.c, this.theta32, x, n, u, grad);
  }

  /** y = x − h·gradX + √(2h)·noise, then U(y) and ∇U(y): one native call. */
  langevinStep(
    x: Float64Array,
    gradX: Float64Array,
    noise: Float64Array,
    n: number,
    h: number,
    y: Float64Array,
    uY: Float64Array,
    gradY: Float64Array,
  ): void {
    this.check();
    this.checkN(n);
    this.addon.mlpLangevin(this.widths, this.act, this.c, this.theta32, x, gradX, noise, n, h, y, uY, gradY);
  }

  // --- TrainableEnergy ------------------------------------------------------------------------------------

  paramGrad(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): void {
    this.check();
    this.checkN(n);
    if (out.length < this.numParams) throw new RangeError(`out must hold ${this.numParams} values`);
    this.addon.mlpParamGrad(this.widths, this.act, this.theta32, x, n, weights, out);
  }

  // --- ScoreParamGrad, DirectionalParamGrad (src/energies/score-grad.ts) ----------------------------------

  /** Σ_i ∂θ[r_i·∇ₓU(x_i)]: the jet kernel at first order (v = r, a = 1). The confinement has no θ. */
  scoreParamGrad(x: Float64Array, n: number, r: Float64Array, out: Float64Array): void {
    this.check();
    this.checkN(n);
    if (out.length < this.numParams) throw new RangeError(`out must hold ${this.numParams} values`);
    if (!this.jet) return this.syncedTwin().scoreParamGrad(x, n, r, out);
    if (this.ones.length < n) this.ones = new Float64Array(n).fill(1);
    this.jet.mlpDirectionalParamGrad(
      this.widths,
      this.act,
      this.theta32,
      x,
      r,
      n,
      this.ones,
      null,
      null,
      null,
      out,
    );
  }

  /** Σ_i ∂θ[a_i v_i·∇ₓU + b_i v_iᵀ∇²ₓU v_i] and κ_i = v_iᵀ∇²ₓU v_i (the confinement adds c·|v_i|² to κ_i). */
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
    this.checkN(n);
    if (out.length < this.numParams) throw new RangeError(`out must hold ${this.numParams} values`);
    if (!this.jet) return this.syncedTwin().directionalParamGrad(x, v, n, a, b, out, curv);
    this.jet.mlpDirectionalParamGrad(this.widths, this.act, this.theta32, x, v, n, a, b, null, curv, out);
    if (this.c !== 0) {
      const d = this.dim;
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += v[i * d + k] * v[i * d + k];
        curv[i] += this.c * s;
      }
    }
  }

  // --- ScoreMatchable (tfjs twin) -------------------------------------------------------------------------

  scoreMatching(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): number {
    this.check();
    return this.syncedTwin().scoreMatching(x, n, weights, out);
  }

  private syncedTwin(): TfMlpEnergy {
    const twin = this.twin!;
    if (this.twinStale) {
      twin.setParams(this.theta);
      this.twinStale = false;
    }
    return twin;
  }
}
