/**
 * The MLP energy on the native addon (native/src/mlp.cc): U(x) = MLP_θ(x) + ½·c·|x|², same spec, θ layout
 * and initialisation as the tfjs energy (src/energies/mlp.ts), float32 inside and float64 at the
 * boundary. θ's master copy is float64 (`getParams` returns exactly what `setParams` was given); the
 * kernels read a float32 copy passed on every call, so the addon holds no per-energy state and nothing
 * needs freeing.
 *
 * U, ∇ₓU, Σ w_i ∂θU and the fused Langevin proposal run natively (tiles of 256 points, analytic backward
 * pass, split over the addon's thread pool; see native/src/mlp.cc). So do the score-gradient capabilities
 * of src/energies/score-grad.ts (denoising and sliced score matching) and the exact score-matching
 * objective: `scoreParamGrad` and `directionalParamGrad` are one call of the addon's jet kernel (jets of
 * U(x + t·v) forward, reverse mode through them), `scoreMatching` one call of its forward-Laplacian variant
 * (∇ₓU and the exact ΔₓU from dim + 2 jet streams, then ∂θ of J by reverse mode through them). Only an addon
 * built before those kernels lacks them: the energy then delegates them to a tfjs twin with the same θ,
 * created by the factory (the objectives are synchronous, tfjs initialisation is not) and re-synchronised
 * lazily after setParams.
 */
import type { LangevinProposer } from "../../energies/contract.ts";
import { initMlpParams, type MlpSpec, mlpNumParams } from "../../energies/mlp.ts";
import type { Key } from "../../random/key.ts";
import type { TfMlpEnergy } from "../tfjs/mlp.ts";
import { loadNative, type NativeAddon } from "./load.ts";

export type NativeMlpEnergy = TfMlpEnergy & LangevinProposer;

const ACT_CODES = { silu: 0, softplus: 1, tanh: 2, elu: 3 } as const;

/** Builds the native MLP energy (throws if the addon is not available). */
export async function createNativeMlpEnergy(spec: MlpSpec, key: Key): Promise<NativeMlpEnergy> {
  const addon = loadNative();
  if (!addon) throw new Error("native backend unavailable (addon not built or EBM_BACKEND=wasm)");
  let twin: TfMlpEnergy | undefined;
  if (!hasJetKernels(addon)) {
    const { createTfMlpEnergy } = await import("../tfjs/mlp.ts");
    twin = await createTfMlpEnergy(spec, key);
  }
  return new NativeMlp(addon, spec, key, twin);
}

type JetAddon = NativeAddon & Required<Pick<NativeAddon, "mlpDirectionalParamGrad" | "mlpScoreMatching">>;

/** True when the addon has the jet kernels (an addon built before them does not). */
function hasJetKernels(addon: NativeAddon): addon is JetAddon {
  return typeof addon.mlpDirectionalParamGrad === "function" && typeof addon.mlpScoreMatching === "function";
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
  /** The addon when it has the jet kernels, else undefined (then `twin` serves the score methods). */
  private readonly jet: JetAddon | undefined;
  private ones = new Float64Array(0);
  private twin: TfMlpEnergy | undefined;
  private twinStale = false;
  private disposed = false;

  constructor(addon: NativeAddon, spec: MlpSpec, key: Key, twin: TfMlpEnergy | undefined) {
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
    this.jet = hasJetKernels(addon) ? addon : undefined;
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

  // --- ScoreMatchable --------------------------------------------------------------------------------------

  /**
   * J = Σ_i w_i[½|∇ₓU(x_i)|² − ΔₓU(x_i)] (returned) and ∂θJ (into `out`): one call of the forward-Laplacian
   * jet kernel. J is summed in float64 from the float32 ∇ₓMLP and ΔₓMLP, with the confinement's exact
   * contributions (c·x to the gradient, c·dim to the Laplacian), as the tfjs energy does.
   */
  scoreMatching(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): number {
    this.check();
    this.checkN(n);
    if (out.length < this.numParams) throw new RangeError(`out must hold ${this.numParams} values`);
    if (!this.jet) return this.syncedTwin().scoreMatching(x, n, weights, out);
    return this.jet.mlpScoreMatching(this.widths, this.act, this.c, this.theta32, x, n, weights, out);
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
