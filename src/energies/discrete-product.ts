/**
 * Product of experts on binary states (seed 001): ρ(x) ∝ Π_k e^{−U_k(x)}, U = Σ_k U_k, for DiscreteEnergies
 * on the same sites — e.g. an Ising smoothness prior times an RBM's free energy. Flip changes add
 * (Δ_j U = Σ_k Δ_j U_k), so every single-site kernel (Gibbs, Metropolis flips) samples the product at the
 * cost of its experts' flipDelta; the relaxed gradient (Gibbs-with-Gradients, DMALA) is present when every
 * expert has one. The product's Z is not a function of the experts' (it needs the product itself:
 * enumerate it, or anneal).
 */
import { type DiscreteEnergy, hasRelaxedGradient, type RelaxedGradient, type SiteIndex } from "./discrete.ts";

export class DiscreteProductOfExperts implements DiscreteEnergy {
  readonly sites: number;
  readonly experts: readonly DiscreteEnergy[];
  /** Present when every expert has a relaxed gradient. */
  readonly energyAndRelaxedGrad?: RelaxedGradient["energyAndRelaxedGrad"];
  private scratch = new Float64Array(0);
  private gradScratch = new Float64Array(0);

  constructor(experts: readonly DiscreteEnergy[]) {
    if (experts.length < 1) throw new RangeError("a product of experts needs at least one expert");
    const sites = experts[0].sites;
    experts.forEach((e, k) => {
      if (e.sites !== sites) throw new RangeError(`expert ${k} has ${e.sites} sites, the first has ${sites}`);
    });
    this.sites = sites;
    this.experts = [...experts];
    if (experts.every(hasRelaxedGradient))
      this.energyAndRelaxedGrad = (x, n, u, grad) => {
        const g = this.buffer("gradScratch", n * sites);
        const v = this.buffer("scratch", n);
        u.fill(0, 0, n);
        grad.fill(0, 0, n * sites);
        for (const e of this.experts) {
          (e as DiscreteEnergy & RelaxedGradient).energyAndRelaxedGrad(x, n, v, g);
          for (let i = 0; i < n; i++) u[i] += v[i];
          for (let i = 0; i < n * sites; i++) grad[i] += g[i];
        }
      };
  }

  private buffer(which: "scratch" | "gradScratch", n: number): Float64Array {
    if (this[which].length < n) this[which] = new Float64Array(n);
    return this[which];
  }

  energy(x: Uint8Array, n: number, u: Float64Array): void {
    const v = this.buffer("scratch", n);
    u.fill(0, 0, n);
    for (const e of this.experts) {
      e.energy(x, n, v);
      for (let i = 0; i < n; i++) u[i] += v[i];
    }
  }

  flipDelta(x: Uint8Array, n: number, site: SiteIndex, out: Float64Array): void {
    const v = this.buffer("scratch", n);
    out.fill(0, 0, n);
    for (const e of this.experts) {
      e.flipDelta(x, n, site, v);
      for (let i = 0; i < n; i++) out[i] += v[i];
    }
  }
}
