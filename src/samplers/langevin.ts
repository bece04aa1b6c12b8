/**
 * The Langevin proposal shared by ULA and MALA, for e^{−βU} with the preconditioner A = M⁻¹ given by
 * `inverseMass` (diagonal, dense with A = LLᵀ, or the identity when omitted; see metric.ts):
 *   y = x − hβA∇U(x) + √(2h) A^{1/2} ξ,   ξ ~ N(0, I)   (A^{1/2}ξ = Lξ when A is dense),
 * followed by the evaluation of U(y) and ∇U(y).
 *
 * When the energy has a fused move (`LangevinProposer`, e.g. the native MLP) and A = a·I, both run in one
 * call: the energy's y = x − h'∇U(x) + √(2h')ξ' with h' = hβa and ξ' = ξ/√β is the same proposal.
 * Otherwise the move is computed here and the energy evaluated after it. Both paths use the same normals
 * (n·dim draws of the stream, row-major), so a seed gives the same chain on either, up to rounding.
 * The move reads only ∇U(x) as passed (the caller's cache); the evaluation uses the energy as it is now.
 */
import { type Energy, isLangevinProposer, type LangevinProposer } from "../energies/contract.ts";
import type { Stream } from "../random/key.ts";
import { applyInverseMass } from "./integrators.ts";
import { Metric } from "./metric.ts";
import { ParamsKey } from "./params.ts";
import type { KernelParams } from "./types.ts";

export class LangevinProposal {
  /** The preconditioner A = M⁻¹ of the current parameters. */
  readonly metric: Metric;
  /**
   * Per coordinate, for the current (h, A) when A is diagonal: the drift factor hβA_j, noise scale
   * √(2hA_j) and 1/A_j.
   */
  readonly drift: Float64Array;
  readonly noise: Float64Array;
  readonly invMass: Float64Array;
  /** The current step size h. */
  h = Number.NaN;
  private fusedStep: number | undefined;
  private readonly fused: LangevinProposer | undefined;
  private readonly key: ParamsKey;
  private xi = new Float64Array(0);
  /** One row of A∇U(x) (dense A). */
  private readonly row: Float64Array;

  constructor(
    private readonly energy: Energy,
    private readonly beta: number,
    who: string,
  ) {
    const d = energy.dim;
    this.drift = new Float64Array(d);
    this.noise = new Float64Array(d);
    this.invMass = new Float64Array(d);
    this.metric = new Metric(d);
    this.row = new Float64Array(d);
    this.fused = isLangevinProposer(energy) ? energy : undefined;
    this.key = new ParamsKey(d, who);
  }

  /** Derives the coefficients from `params` (only when their values changed). */
  update(params: KernelParams): this {
    if (!this.key.changed(params)) return this;
    const { step: h, inverseMass } = params;
    const beta = this.beta;
    this.h = h;
    if (this.metric.set(inverseMass).dense) {
      this.fusedStep = undefined;
      return this;
    }
    let uniform = true;
    for (let j = 0; j < this.drift.length; j++) {
      const a = inverseMass ? inverseMass[j] : 1;
      this.drift[j] = h * beta * a;
      this.noise[j] = Math.sqrt(2 * h * a);
      this.invMass[j] = 1 / a;
      if (inverseMass && a !== inverseMass[0]) uniform = false;
    }
    // The energy's fused move has no per-coordinate preconditioner: only A = a·I maps onto it.
    this.fusedStep = this.fused && uniform ? h * beta * (inverseMass ? inverseMass[0] : 1) : undefined;
    return this;
  }

  /** True when `propose` runs the energy's fused move for the current parameters. */
  get isFused(): boolean {
    return this.fusedStep !== undefined;
  }

  /**
   * Draws ξ from `rng`, writes y = x − hβA∇U(x) + √(2hA)ξ (x, g = ∇U(x): n × dim) and U(y), ∇U(y).
   * y may be x with (uY, gY) the caller's (U, ∇U) cache: the update is then in place.
   */
  propose(
    rng: Stream,
    x: Float64Array,
    g: Float64Array,
    n: number,
    y: Float64Array,
    uY: Float64Array,
    gY: Float64Array,
  ): void {
    const len = n * this.drift.length;
    // ξ into y itself unless the move is fused or in place (bulk draws are faster than per-row ones).
    const xi = (this.fused && this.fusedStep !== undefined) || y === x || y === g ? this.noiseBuffer(len) : y;
    rng.fillNormal(xi.subarray(0, len));
    this.proposeFrom(xi, x, g, n, y, uY, gY);
  }

  /** A buffer for n rows of ξ that `proposeFrom` may use (reused across calls). */
  noiseFor(n: number): Float64Array {
    return this.noiseBuffer(n * this.drift.length);
  }

  /**
   * `propose` with ξ given: n × dim standard normals in `xi` (which may be `y`; it is overwritten when the
   * move scales it for β ≠ 1 on the fused path).
   */
  proposeFrom(
    xi: Float64Array,
    x: Float64Array,
    g: Float64Array,
    n: number,
    y: Float64Array,
    uY: Float64Array,
    gY: Float64Array,
  ): void {
    const dim = this.drift.length;
    const len = n * dim;
    if (this.fused && this.fusedStep !== undefined) {
      if (this.beta !== 1) {
        const s = 1 / Math.sqrt(this.beta);
        for (let k = 0; k < len; k++) xi[k] *= s;
      }
      this.fused.langevinStep(x, g, xi, n, this.fusedStep, y, uY, gY);
      return;
    }
    if (this.metric.dense) {
      this.metric.scaleNoise(xi, n);
      const c = this.h * this.beta;
      const s = Math.sqrt(2 * this.h);
      const v = this.row;
      for (let i = 0; i < n; i++) {
        const o = i * dim;
        applyInverseMass(this.metric.inverseMass, dim, g, o, v, 0);
        for (let j = 0; j < dim; j++) y[o + j] = x[o + j] - c * v[j] + s * xi[o + j];
      }
      this.energy.energyAndGrad(y, n, uY, gY);
      return;
    }
    const { drift, noise } = this;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < dim; j++) {
        const k = i * dim + j;
        y[k] = x[k] - drift[j] * g[k] + noise[j] * xi[k];
      }
    this.energy.energyAndGrad(y, n, uY, gY);
  }

  private noiseBuffer(len: number): Float64Array {
    if (this.xi.length !== len) this.xi = new Float64Array(len);
    return this.xi;
  }
}
