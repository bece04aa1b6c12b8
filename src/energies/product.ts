/**
 * Product of experts: ρ(x) ∝ Π_k e^{−U_k(x)}, i.e. U(x) = Σ_k U_k(x) (an AND of the experts, seed 001),
 * normalised once for the product (log Z of the product is not a function of the experts' log Z).
 *
 * Each expert is trainable or frozen: an expert is trainable when it is a TrainableEnergy and not marked
 * `frozen`. θ is the concatenation of the trainable experts' θ, in the order given; frozen experts only
 * contribute U, ∇ₓU (and, for the capabilities below, their x-derivatives).
 *
 * Optional capabilities, present (as methods, so the guards of contract.ts and score-grad.ts see them) only
 * when the experts allow them:
 *  - ScoreParamGrad when every trainable expert has it: block k is expert k's Σ_i ∂θ_k[r_i·∇ₓU_k(x_i)]
 *    (∇ₓU = Σ_k ∇ₓU_k and θ_k enters U_k only).
 *  - DirectionalParamGrad when every expert has it (frozen ones for their curvature v_iᵀ∇²U_k v_i):
 *    blocks as above, κ = Σ_k κ_k.
 *  - ScoreMatchable when every expert is ScoreMatchable and, if there are several experts, every trainable
 *    one also has ScoreParamGrad. The product's J = Σ w[½|g|² − ΔU] (g = Σ_k g_k) is not the sum of the
 *    experts' J_k: the cross terms g_k·g_l couple them. From the experts' J_k = Σ w[½|g_k|² − ΔU_k]:
 *      J = Σ_i w_i ½|g_i|² − Σ_k (Σ_i w_i ½|g_{k,i}|² − J_k),
 *      ∂θ_k J = ∂θ_k J_k + Σ_i ∂θ_k[w_i (g_i − g_{k,i})·∇ₓU_k(x_i)]   (the second term by scoreParamGrad),
 *    because ∂θ_k[½|g|²] = (g·∂θ_k g_k) and ∂θ_k J_k already holds (g_k·∂θ_k g_k) − ∂θ_k ΔU_k.
 * Exact sampling and log Z are not provided: even for analytic experts they need the product's Z.
 */
import { isScoreMatchable, type Energy, type ScoreMatchable, type TrainableEnergy } from "./contract.ts";
import {
  type DirectionalParamGrad,
  isDirectionalParamGrad,
  isScoreParamGrad,
  type ScoreParamGrad,
} from "./score-grad.ts";

/** An expert: an energy, or an energy with `frozen: true` (a TrainableEnergy kept fixed). */
export type Expert = Energy | { energy: Energy; frozen?: boolean };

interface Slot {
  energy: Energy;
  /** θ offset in the product (trainable experts), −1 if frozen. */
  offset: number;
  numParams: number;
}

/** {energy, frozen} from an Expert (an Energy has an `energy` method, the wrapper an `energy` object). */
function unwrap(ex: Expert): { energy: Energy; frozen: boolean } {
  const w = ex as { energy: unknown; frozen?: boolean };
  if (typeof w.energy === "object" && w.energy !== null)
    return { energy: w.energy as Energy, frozen: w.frozen === true };
  return { energy: ex as Energy, frozen: false };
}

function isTrainable(e: Energy): e is TrainableEnergy {
  const t = e as Partial<TrainableEnergy>;
  return typeof t.numParams === "number" && typeof t.paramGrad === "function";
}

export class ProductOfExperts implements TrainableEnergy {
  readonly dim: number;
  readonly numParams: number;
  /** Present when every trainable expert has it (see the header). */
  readonly scoreParamGrad?: ScoreParamGrad["scoreParamGrad"];
  /** Present when every expert has it. */
  readonly directionalParamGrad?: DirectionalParamGrad["directionalParamGrad"];
  /** Present when every expert is ScoreMatchable (and, with several experts, trainable ones ScoreParamGrad). */
  readonly scoreMatching?: ScoreMatchable["scoreMatching"];
  private readonly slots: Slot[];
  private readonly scratch: Float64Array;

  constructor(experts: readonly Expert[]) {
    if (experts.length === 0) throw new RangeError("a product needs at least one expert");
    const slots: Slot[] = [];
    let off = 0;
    for (const ex of experts) {
      const { energy, frozen } = unwrap(ex);
      const trainable = !frozen && isTrainable(energy);
      const np = isTrainable(energy) ? energy.numParams : 0;
      slots.push({ energy, offset: trainable ? off : -1, numParams: np });
      if (trainable) off += np;
    }
    const dim = slots[0].energy.dim;
    for (const s of slots) if (s.energy.dim !== dim) throw new RangeError("experts must have the same dim");
    this.dim = dim;
    this.numParams = off;
    this.slots = slots;
    this.scratch = new Float64Array(Math.max(1, ...slots.map((s) => s.numParams)));

    const trained = slots.filter((s) => s.offset >= 0);
    if (trained.every((s) => isScoreParamGrad(s.energy)))
      this.scoreParamGrad = this.productScoreParamGrad.bind(this);
    if (slots.every((s) => isDirectionalParamGrad(s.energy)))
      this.directionalParamGrad = this.productDirectionalParamGrad.bind(this);
    if (
      slots.every((s) => isScoreMatchable(s.energy)) &&
      (slots.length === 1 || trained.every((s) => isScoreParamGrad(s.energy)))
    )
      this.scoreMatching = this.productScoreMatching.bind(this);
  }

  /** The experts, in order. */
  get experts(): Energy[] {
    return this.slots.map((s) => s.energy);
  }

  /** Whether expert k's θ is part of the product's θ. */
  isTrainable(k: number): boolean {
    return this.slots[k].offset >= 0;
  }

  getParams(): Float64Array {
    const theta = new Float64Array(this.numParams);
    for (const s of this.slots)
      if (s.offset >= 0) theta.set((s.energy as TrainableEnergy).getParams(), s.offset);
    return theta;
  }

  setParams(theta: Float64Array): void {
    if (theta.length !== this.numParams) throw new RangeError(`expected ${this.numParams} parameters`);
    for (const s of this.slots)
      if (s.offset >= 0)
        (s.energy as TrainableEnergy).setParams(theta.slice(s.offset, s.offset + s.numParams));
  }

  energy(x: Float64Array, n: number, u: Float64Array): void {
    u.fill(0, 0, n);
    const uk = new Float64Array(n);
    for (const s of this.slots) {
      s.energy.energy(x, n, uk);
      for (let i = 0; i < n; i++) u[i] += uk[i];
    }
  }

  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    const m = n * this.dim;
    u.fill(0, 0, n);
    grad.fill(0, 0, m);
    const uk = new Float64Array(n);
    const gk = new Float64Array(m);
    for (const s of this.slots) {
      s.energy.energyAndGrad(x, n, uk, gk);
      for (let i = 0; i < n; i++) u[i] += uk[i];
      for (let q = 0; q < m; q++) grad[q] += gk[q];
    }
  }

  /** Σ_i w_i ∂θU(x_i): each trainable expert's block. */
  paramGrad(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): void {
    for (const s of this.slots)
      if (s.offset >= 0)
        (s.energy as TrainableEnergy).paramGrad(
          x,
          n,
          weights,
          out.subarray(s.offset, s.offset + s.numParams),
        );
  }

  private productScoreParamGrad(x: Float64Array, n: number, r: Float64Array, out: Float64Array): void {
    for (const s of this.slots)
      if (s.offset >= 0)
        (s.energy as unknown as ScoreParamGrad).scoreParamGrad(
          x,
          n,
          r,
          out.subarray(s.offset, s.offset + s.numParams),
        );
  }

  private productDirectionalParamGrad(
    x: Float64Array,
    v: Float64Array,
    n: number,
    a: Float64Array,
    b: Float64Array,
    out: Float64Array,
    curv: Float64Array,
  ): void {
    curv.fill(0, 0, n);
    const ck = new Float64Array(n);
    for (const s of this.slots) {
      const dst = s.offset >= 0 ? out.subarray(s.offset, s.offset + s.numParams) : this.scratch;
      (s.energy as unknown as DirectionalParamGrad).directionalParamGrad(x, v, n, a, b, dst, ck);
      for (let i = 0; i < n; i++) curv[i] += ck[i];
    }
  }

  private productScoreMatching(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): number {
    const d = this.dim;
    const m = n * d;
    const u = new Float64Array(n);
    const grads = this.slots.map(() => new Float64Array(m));
    const g = new Float64Array(m);
    this.slots.forEach((s, k) => {
      s.energy.energyAndGrad(x, n, u, grads[k]);
      for (let q = 0; q < m; q++) g[q] += grads[k][q];
    });
    const halfSq = (h: Float64Array) => {
      let t = 0;
      for (let i = 0; i < n; i++) {
        let sq = 0;
        for (let a = 0; a < d; a++) sq += h[i * d + a] * h[i * d + a];
        t += weights[i] * 0.5 * sq;
      }
      return t;
    };
    let total = halfSq(g);
    const r = new Float64Array(m);
    const cross = new Float64Array(this.scratch.length);
    this.slots.forEach((s, k) => {
      const trainable = s.offset >= 0;
      const dst = trainable ? out.subarray(s.offset, s.offset + s.numParams) : this.scratch;
      const jk = (s.energy as unknown as ScoreMatchable).scoreMatching(x, n, weights, dst);
      total -= halfSq(grads[k]) - jk;
      if (trainable && this.slots.length > 1) {
        for (let i = 0; i < n; i++)
          for (let a = 0; a < d; a++) r[i * d + a] = weights[i] * (g[i * d + a] - grads[k][i * d + a]);
        const c = cross.subarray(0, s.numParams);
        (s.energy as unknown as ScoreParamGrad).scoreParamGrad(x, n, r, c);
        for (let q = 0; q < s.numParams; q++) dst[q] += c[q];
      }
    });
    return total;
  }
}

/** U = Σ_k U_k over `experts` (see ProductOfExperts). */
export function productOfExperts(experts: readonly Expert[]): ProductOfExperts {
  return new ProductOfExperts(experts);
}
