/**
 * The portable MLP energy (backend "typescript"): U(x) = MLP_θ(x) + ½·c·|x|² in float64, where MLP_θ is the
 * one-output TypeScript network (src/networks/typescript.ts) held by the energy — its θ, its layout and its
 * passes. No WebAssembly, no addon, no host dependency. Same spec, θ layout and initialisation as the other
 * backends (./mlp-spec.ts); the confinement term and its derivatives are added exactly.
 *
 *  - energy, energyAndGrad, paramGrad: the network's forward pass and its vjp (cotangents 1 or the weights).
 *  - scoreParamGrad, directionalParamGrad (./score-grad.ts): one jet pass along the given directions
 *    (first order only for scoreParamGrad) and reverse mode through it.
 *  - scoreMatching: the forward Laplacian — jets along the coordinate axes give ∇ₓMLP and the exact ΔₓMLP
 *    in dim + 2 streams — and reverse mode through it seeded with ∂J/∂(∂_k MLP) = w_i(∂_k U) and
 *    ∂J/∂(ΔMLP) = −w_i. The confinement has no θ; it adds c·x to ∇ₓU, c·dim to ΔₓU and c·|v|² to κ.
 * The last bias moves neither ∇ₓU nor ΔₓU: its entry of every score gradient is 0.
 */
import type { Key } from "../random/key.ts";
import { TypescriptNetwork } from "../networks/typescript.ts";
import { initMlpParams, type MlpEnergy, type MlpSpec, mlpNetworkSpec } from "./mlp-spec.ts";
import type { DirectionalParamGrad, ScoreParamGrad } from "./score-grad.ts";

export type TypescriptMlpEnergy = MlpEnergy & ScoreParamGrad & DirectionalParamGrad;

/** The "typescript" backend's MLP factory: θ = initMlpParams(spec, key). */
export async function createTypescriptMlpEnergy(spec: MlpSpec, key: Key): Promise<TypescriptMlpEnergy> {
  return new TypescriptMlp(spec, initMlpParams(spec, key));
}

class TypescriptMlp implements TypescriptMlpEnergy {
  readonly spec: Readonly<MlpSpec>;
  readonly dim: number;
  readonly numParams: number;
  private readonly c: number;
  /** MLP_θ: the network with one output. */
  private readonly net: TypescriptNetwork;
  private ones = new Float64Array(0);

  constructor(spec: MlpSpec, theta: Float64Array) {
    this.spec = Object.freeze({ ...spec, hidden: [...spec.hidden] });
    this.dim = spec.inputDim;
    this.c = spec.confinement ?? 0;
    this.net = new TypescriptNetwork(mlpNetworkSpec(spec), theta);
    this.numParams = this.net.numParams;
  }

  // --- parameters -----------------------------------------------------------------------------------------

  getParams(): Float64Array {
    return this.net.getParams();
  }

  setParams(theta: Float64Array): void {
    this.net.setParams(theta);
  }

  dispose(): void {
    this.net.dispose();
  }

  /** ½·c·|x_i|². */
  private confine(x: Float64Array, i: number): number {
    if (this.c === 0) return 0;
    const d = this.dim;
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j] * x[i * d + j];
    return 0.5 * this.c * s;
  }

  private onesOf(n: number): Float64Array {
    if (this.ones.length < n) this.ones = new Float64Array(n).fill(1);
    return this.ones;
  }

  private checkOut(out: Float64Array): void {
    if (out.length < this.numParams) throw new RangeError(`out must hold ${this.numParams} values`);
  }

  // --- Energy ---------------------------------------------------------------------------------------------

  energy(x: Float64Array, n: number, u: Float64Array): void {
    this.net.forward(x, n, u);
    for (let i = 0; i < n; i++) u[i] += this.confine(x, i);
  }

  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    this.net.vjp(x, n, this.onesOf(n), u, grad, null);
    for (let i = 0; i < n; i++) u[i] += this.confine(x, i);
    if (this.c !== 0) for (let q = 0; q < n * this.dim; q++) grad[q] += this.c * x[q];
  }

  // --- TrainableEnergy ------------------------------------------------------------------------------------

  paramGrad(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): void {
    this.checkOut(out);
    this.net.vjp(x, n, weights, null, null, out);
  }

  // --- ScoreParamGrad, DirectionalParamGrad ---------------------------------------------------------------

  /** Σ_i ∂θ[r_i·∇ₓU(x_i)]: first-order jets along r, seeds ∂/∂u̇ = 1. */
  scoreParamGrad(x: Float64Array, n: number, r: Float64Array, out: Float64Array): void {
    this.checkOut(out);
    this.net.jets({
      x,
      n,
      directions: r,
      second: false,
      seed: (_i0, rows, _u1, _u2, sa) => sa.fill(1, 0, rows),
      grad: out,
    });
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
    this.checkOut(out);
    if (a.length < n || b.length < n) throw new RangeError(`a and b must hold n = ${n} values`);
    this.net.jets({
      x,
      n,
      directions: v,
      second: true,
      curv,
      seed: (i0, rows, _u1, _u2, sa, sb) => {
        for (let i = 0; i < rows; i++) {
          sa[i] = a[i0 + i];
          sb[i] = b[i0 + i];
        }
      },
      grad: out,
    });
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
   * J = Σ_i w_i[½|∇ₓU(x_i)|² − ΔₓU(x_i)] (returned, summed in row order) and ∂θJ (into `out`): one pass of
   * the forward Laplacian, seeds a_ik = w_i(∂_k MLP + c·x_ik), b_i = −w_i.
   */
  scoreMatching(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): number {
    this.checkOut(out);
    if (weights.length < n) throw new RangeError(`weights must hold n = ${n} values`);
    const d = this.dim;
    const c = this.c;
    let J = 0;
    this.net.jets({
      x,
      n,
      directions: null,
      second: true,
      seed: (i0, rows, u1, u2, sa, sb) => {
        for (let i = 0; i < rows; i++) {
          const w = weights[i0 + i];
          const xi = (i0 + i) * d;
          let sq = 0;
          for (let k = 0; k < d; k++) {
            const g = u1[i * d + k] + c * x[xi + k];
            sq += g * g;
            sa[i * d + k] = w * g;
          }
          sb[i] = -w;
          J += w * (0.5 * sq - (u2[i] + c * d));
        }
      },
      grad: out,
    });
    return J;
  }
}
