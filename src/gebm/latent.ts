/**
 * The latent posterior of a generalized EBM at inverse temperature β, as an ordinary energy on R^k:
 *
 *   U_β(z) = ½|z|² + β·E(B(z)),   ν_β(z) ∝ e^{−U_β(z)} = η(z)·e^{−βE(B(z))}.
 *
 * At β = 1, X = B(Z) with Z ~ ν_1 is a draw of the model Q_{B,E} (Arbel, Zhou & Gretton 2021: for any g,
 * ∫g dQ_{B,E} = ∫ g(B(z)) e^{−E(B(z))} η(z) dz / Z). Larger β sharpens the energy's reweighting while the
 * latent prior is kept ("low temperature", β = 100 in the paper): the draws concentrate where E is low on
 * the generator's range. Any sampler of src/samplers/ runs on it; the gradient is
 *
 *   ∇U_β(z) = z + β·J_B(z)ᵀ ∇E(B(z)),
 *
 * one generator forward, one energy forward and backward, one generator vector–Jacobian product.
 */
import type { Energy } from "../energies/contract.ts";
import type { Gebm } from "./model.ts";

export class LatentPosterior implements Energy {
  readonly dim: number;
  private x = new Float64Array(0);
  private e = new Float64Array(0);
  private ge = new Float64Array(0);
  private gz = new Float64Array(0);

  constructor(
    private readonly model: Gebm,
    readonly beta = 1,
  ) {
    if (!(Number.isFinite(beta) && beta >= 0))
      throw new RangeError(`beta must be finite and ≥ 0, got ${beta}`);
    this.dim = model.spec.latentDim;
  }

  private ensure(n: number): void {
    const d = this.model.spec.dataDim;
    if (this.e.length < n) {
      this.x = new Float64Array(n * d);
      this.e = new Float64Array(n);
      this.ge = new Float64Array(n * d);
      this.gz = new Float64Array(n * this.dim);
    }
  }

  energy(z: Float64Array, n: number, u: Float64Array): void {
    this.ensure(n);
    this.model.generator.forward(z, n, this.x);
    this.model.energy.energy(this.x, n, this.e);
    const k = this.dim;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let a = 0; a < k; a++) s += z[i * k + a] ** 2;
      u[i] = 0.5 * s + this.beta * this.e[i];
    }
  }

  energyAndGrad(z: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    this.ensure(n);
    const d = this.model.spec.dataDim;
    const k = this.dim;
    const x = this.x.subarray(0, n * d);
    this.model.generator.forward(z, n, x);
    this.model.energy.energyAndGrad(x, n, this.e, this.ge);
    for (let q = 0; q < n * d; q++) this.ge[q] *= this.beta;
    this.model.generator.vjp(z, n, this.ge.subarray(0, n * d), null, this.gz, null);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let a = 0; a < k; a++) {
        const v = z[i * k + a];
        s += v * v;
        grad[i * k + a] = v + this.gz[i * k + a];
      }
      u[i] = 0.5 * s + this.beta * this.e[i];
    }
  }
}
