/**
 * The Bernoulli–Bernoulli restricted Boltzmann machine: the library's one RBM type, used by the discrete
 * samplers, block Gibbs, the RBM kernels (rbm/kernels.ts, native/src/rbm.cc), CD/PCD training through
 * the trainer (objectives/rbm-cd.ts), AIS and exact log Z (rbm/ais.ts).
 *
 * Visible bits v ∈ {0,1}^V, hidden bits h ∈ {0,1}^H, parameters θ = (W, b, c) stored in float32:
 * W (V × H, row-major: W[i·H + j] couples visible unit i and hidden unit j), visible bias b, hidden bias c.
 *
 *   joint energy   E(v, h) = −bᵀv − cᵀh − vᵀWh,
 *   free energy    F(v) = −log Σ_h e^{−E(v,h)} = −bᵀv − Σ_j softplus(c_j + (vᵀW)_j).
 *
 * Temperature — the one convention of every RBM routine: at inverse temperature β the RBM is the joint
 * distribution ρ_β(v, h) ∝ e^{−βE(v,h)}, with factorised conditionals
 *
 *   p_β(h_j = 1 | v) = σ(β(c + vᵀW)_j),   p_β(v_i = 1 | h) = σ(β(b + Wh)_i),
 *
 * which block Gibbs samples (samplers/discrete/block-gibbs.ts through the kernels' `gibbsSweep`). The
 * visible marginal of ρ_β is e^{−F_β(v)}, F_β(v) = −βbᵀv − Σ_j softplus(β(c + vᵀW)_j): it equals e^{−βF}
 * only at β = 1. (Single-site kernels see the RBM as the DiscreteEnergy U = F and, by the sampler
 * contract, target e^{−βU} = e^{−βF}; both agree at β = 1, the RBM itself.) AIS (rbm/ais.ts) does not
 * temper: it follows its own annealing path p_t(v, h) ∝ exp(bᵀv + t(cᵀh + vᵀWh)), t: 0 → 1, from the
 * visible-biases-only model to the RBM; p_t is a path of distributions, not the RBM at a temperature
 * (for 0 < t < 1 it is not ρ_β for any β), and p_1 = ρ_1.
 *
 * Contracts implemented:
 *  - DiscreteEnergy (sites = V): U = F on visible bits; `flipDelta` in O(V·H + H) per state.
 *  - RelaxedGradient and the continuous Energy (dim = V): F read at real v ∈ [0,1]^V (at 0/1 points it is
 *    F), ∂F/∂v_i = −b_i − Σ_j W_ij σ(c_j + (vᵀW)_j).
 *  - TrainableEnergy: θ = [W (row-major), b, c] as one float64 vector (numParams = VH + V + H) and the
 *    analytic weighted parameter gradient Σ_s w_s ∂θF(v_s), with σ_j = σ(c_j + (vᵀW)_j):
 *      ∂F/∂W_ij = −v_i σ_j,   ∂F/∂b_i = −v_i,   ∂F/∂c_j = −σ_j.
 *    Maximum likelihood minimises E_data[F] + log Z; its gradient E_data[∂θF] − E_model[∂θF] is what the
 *    CD/PCD objective (objectives/rbm-cd.ts) estimates with the fast kernels.
 *  - BipartiteEnergy: hiddenField(v) = c + vᵀW, visibleField(h) = b + Wh, jointEnergy = E; `joint()` is E
 *    as a DiscreteEnergy over the V + H bits [v, h].
 *
 * Precision: W, b, c are float32 (the kernels and the native addon read them in place). The methods of
 * this class compute in float64 from the stored values (for small models, references and the
 * single-site samplers); the hot loops (block Gibbs, CD, AIS) run in the kernels, which form the products
 * in float32. `setParams` rounds θ to float32.
 *
 * Staleness: W, b, c are public and mutable; kernels cache data derived from them (Wᵀ, subset-sum tables,
 * packed GEMM operands) keyed on `version`. Code that writes W, b or c directly must call `touch()`
 * afterwards; `setParams` does it itself. The methods share scratch buffers (not re-entrant).
 */
import type { TrainableEnergy } from "./contract.ts";
import { sigmoid, softplus } from "../math/logistic.ts";
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";
import {
  type BipartiteEnergy,
  type DiscreteEnergy,
  type RelaxedGradient,
  type SiteIndex,
} from "./discrete.ts";

export class Rbm implements DiscreteEnergy, RelaxedGradient, BipartiteEnergy, TrainableEnergy {
  /** V: number of visible units. */
  readonly visible: number;
  /** H: number of hidden units. */
  readonly hidden: number;
  /** = V: the RBM as an energy over visible states (DiscreteEnergy). */
  readonly sites: number;
  /** = V: the RBM as an energy over points of [0,1]^V (Energy, TrainableEnergy). */
  readonly dim: number;
  /** W, V × H row-major (float32). Call `touch()` after writing it directly. */
  readonly W: Float32Array;
  /** Visible bias b (V). */
  readonly b: Float32Array;
  /** Hidden bias c (H). */
  readonly c: Float32Array;
  private ver = 0;
  private readonly act: Float64Array;

  /**
   * Copies of W (V × H row-major), b (V) and c (H), rounded to float32; V = b.length, H = c.length. Every
   * value must be finite in float32.
   */
  constructor(W: ArrayLike<number>, b: ArrayLike<number>, c: ArrayLike<number>) {
    const v = b.length;
    const h = c.length;
    if (v < 1 || h < 1) throw new RangeError("an RBM needs at least one visible and one hidden unit");
    if (W.length !== v * h) throw new RangeError(`W must be ${v}×${h} (${v * h} entries), got ${W.length}`);
    this.visible = v;
    this.hidden = h;
    this.sites = v;
    this.dim = v;
    this.W = Float32Array.from(W);
    this.b = Float32Array.from(b);
    this.c = Float32Array.from(c);
    checkFinite("W", W, this.W);
    checkFinite("b", b, this.b);
    checkFinite("c", c, this.c);
    this.act = new Float64Array(h);
  }

  /** All parameters zero (the uniform distribution). */
  static zeros(visible: number, hidden: number): Rbm {
    checkSizes(visible, hidden);
    return new Rbm(new Float32Array(visible * hidden), new Float32Array(visible), new Float32Array(hidden));
  }

  /**
   * W_ij ~ N(0, weightStd²), then b_i, c_j ~ N(0, biasStd²), drawn in that order (W row-major) from one
   * stream of `key`. The defaults (0.01) are the usual initialisation for training.
   */
  static random(key: Key, visible: number, hidden: number, weightStd = 0.01, biasStd = weightStd): Rbm {
    const m = Rbm.zeros(visible, hidden);
    const rng = new Stream(key);
    rng.fillNormal(m.W, 0, weightStd);
    rng.fillNormal(m.b, 0, biasStd);
    rng.fillNormal(m.c, 0, biasStd);
    return m;
  }

  /** Incremented by `touch`: lets kernels know when data they derived from W, b, c is stale. */
  get version(): number {
    return this.ver;
  }

  /** Marks the parameters as changed (call after writing W, b or c directly). */
  touch(): void {
    this.ver++;
  }

  /** VH + V + H. */
  get numParams(): number {
    return this.W.length + this.visible + this.hidden;
  }

  /** θ = [W (row-major), b, c] as float64 (a copy). */
  getParams(): Float64Array {
    const p = new Float64Array(this.numParams);
    p.set(this.W, 0);
    p.set(this.b, this.W.length);
    p.set(this.c, this.W.length + this.visible);
    return p;
  }

  /** Sets θ = [W, b, c] (rounded to float32) and marks the model changed. */
  setParams(theta: ArrayLike<number>): void {
    if (theta.length !== this.numParams) throw new RangeError(`θ must have ${this.numParams} entries`);
    const nw = this.W.length;
    for (let q = 0; q < nw; q++) this.W[q] = theta[q];
    for (let i = 0; i < this.visible; i++) this.b[i] = theta[nw + i];
    for (let j = 0; j < this.hidden; j++) this.c[j] = theta[nw + this.visible + j];
    this.touch();
  }

  /** An independent copy (same parameters, version 0). */
  clone(): Rbm {
    return new Rbm(this.W, this.b, this.c);
  }

  /** out[outOff …] (H) = c + xᵀW for the point at x[off …] (bits or reals; zeros are skipped). */
  private hiddenAct(x: ArrayLike<number>, off: number, out: Float64Array, outOff: number): void {
    const hdim = this.hidden;
    const w = this.W;
    for (let j = 0; j < hdim; j++) out[outOff + j] = this.c[j];
    for (let i = 0; i < this.visible; i++) {
      const xi = x[off + i];
      if (xi === 0) continue;
      const row = i * hdim;
      for (let j = 0; j < hdim; j++) out[outOff + j] += xi * w[row + j];
    }
  }

  // --- BipartiteEnergy ---------------------------------------------------------------------------------

  /** out (n × H) = c + vᵀW for the n visible states. */
  hiddenField(v: Uint8Array, n: number, out: Float64Array): void {
    for (let s = 0; s < n; s++) this.hiddenAct(v, s * this.visible, out, s * this.hidden);
  }

  /** out (n × V) = b + Wh for the n hidden states. */
  visibleField(h: Uint8Array, n: number, out: Float64Array): void {
    const vdim = this.visible;
    const hdim = this.hidden;
    const w = this.W;
    for (let s = 0; s < n; s++) {
      const hoff = s * hdim;
      for (let i = 0; i < vdim; i++) {
        const row = i * hdim;
        let a = this.b[i];
        for (let j = 0; j < hdim; j++) a += w[row + j] * h[hoff + j];
        out[s * vdim + i] = a;
      }
    }
  }

  /** E(v_s, h_s) for n pairs. */
  jointEnergy(v: Uint8Array, h: Uint8Array, n: number, out: Float64Array): void {
    const act = this.act;
    for (let s = 0; s < n; s++) {
      this.hiddenAct(v, s * this.visible, act, 0);
      let e = 0;
      for (let i = 0; i < this.visible; i++) e -= this.b[i] * v[s * this.visible + i];
      for (let j = 0; j < this.hidden; j++) e -= act[j] * h[s * this.hidden + j];
      out[s] = e;
    }
  }

  // --- DiscreteEnergy, Energy ----------------------------------------------------------------------------

  /** F(x_s) for the n points of `x`: visible bits (DiscreteEnergy) or points of [0,1]^V (Energy). */
  energy(x: Uint8Array | Float64Array, n: number, u: Float64Array): void {
    const act = this.act;
    for (let s = 0; s < n; s++) {
      const off = s * this.visible;
      this.hiddenAct(x, off, act, 0);
      let f = 0;
      for (let i = 0; i < this.visible; i++) f -= this.b[i] * x[off + i];
      for (let j = 0; j < this.hidden; j++) f -= softplus(act[j]);
      u[s] = f;
    }
  }

  /** F(v with site k flipped) − F(v): O(V·H) per state (for the hidden activations), O(H) after. */
  flipDelta(v: Uint8Array, n: number, site: SiteIndex, out: Float64Array): void {
    const act = this.act;
    const hdim = this.hidden;
    for (let s = 0; s < n; s++) {
      const k = typeof site === "number" ? site : site[s];
      const off = s * this.visible;
      this.hiddenAct(v, off, act, 0);
      const sign = 1 - 2 * v[off + k]; // +1 when the flip turns v_k on
      const row = k * hdim;
      let d = -sign * this.b[k];
      for (let j = 0; j < hdim; j++) d -= softplus(act[j] + sign * this.W[row + j]) - softplus(act[j]);
      out[s] = d;
    }
  }

  /** F and ∂F/∂v (n × V) at visible bits: the relaxation's gradient (RelaxedGradient). */
  energyAndRelaxedGrad(v: Uint8Array, n: number, u: Float64Array, grad: Float64Array): void {
    this.freeEnergyAndGrad(v, n, u, grad);
  }

  /** F and ∇ₓF (n × V) at points of [0,1]^V (Energy). */
  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    this.freeEnergyAndGrad(x, n, u, grad);
  }

  private freeEnergyAndGrad(x: ArrayLike<number>, n: number, u: Float64Array, grad: Float64Array): void {
    const act = this.act;
    const vdim = this.visible;
    const hdim = this.hidden;
    for (let s = 0; s < n; s++) {
      const off = s * vdim;
      this.hiddenAct(x, off, act, 0);
      let f = 0;
      for (let i = 0; i < vdim; i++) f -= this.b[i] * x[off + i];
      for (let j = 0; j < hdim; j++) {
        f -= softplus(act[j]);
        act[j] = sigmoid(act[j]); // act now holds E[h | v]
      }
      u[s] = f;
      for (let i = 0; i < vdim; i++) {
        const row = i * hdim;
        let g = -this.b[i];
        for (let j = 0; j < hdim; j++) g -= this.W[row + j] * act[j];
        grad[off + i] = g;
      }
    }
  }

  // --- TrainableEnergy -----------------------------------------------------------------------------------

  /** Σ_s w_s ∂θF(x_s), written (not added) to `out` (numParams, θ order [W, b, c]). */
  paramGrad(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): void {
    const vdim = this.visible;
    const hdim = this.hidden;
    const ob = vdim * hdim;
    const oc = ob + vdim;
    const act = this.act;
    out.fill(0, 0, this.numParams);
    for (let s = 0; s < n; s++) {
      const w = weights[s];
      if (w === 0) continue;
      const off = s * vdim;
      this.hiddenAct(x, off, act, 0);
      for (let j = 0; j < hdim; j++) {
        act[j] = sigmoid(act[j]);
        out[oc + j] -= w * act[j];
      }
      for (let i = 0; i < vdim; i++) {
        const xi = x[off + i];
        if (xi === 0) continue;
        const wx = w * xi;
        out[ob + i] -= wx;
        const row = i * hdim;
        for (let j = 0; j < hdim; j++) out[row + j] -= wx * act[j];
      }
    }
  }

  /** E(v, h) as a discrete energy over the V + H bits [v, h] (shares this RBM's parameters). */
  joint(): DiscreteEnergy & RelaxedGradient {
    return new RbmJointEnergy(this);
  }
}

/** Throws unless every float32 value of `dst` (copied from `src`) is finite. */
function checkFinite(name: string, src: ArrayLike<number>, dst: Float32Array): void {
  for (let q = 0; q < dst.length; q++)
    if (!Number.isFinite(dst[q])) throw new RangeError(`${name}[${q}] = ${src[q]} is not finite in float32`);
}

function checkSizes(visible: number, hidden: number): void {
  if (!(Number.isInteger(visible) && visible >= 1 && Number.isInteger(hidden) && hidden >= 1))
    throw new RangeError(`an RBM needs integer sizes ≥ 1, got ${visible} × ${hidden}`);
}

/**
 * E(v, h) on the concatenated state [v, h]. Multilinear, so its relaxed gradient gives exact flip
 * changes: ∂E/∂v_i = −(b + Wh)_i, ∂E/∂h_j = −(c + vᵀW)_j.
 */
class RbmJointEnergy implements DiscreteEnergy, RelaxedGradient {
  readonly sites: number;
  private readonly vf: Float64Array;
  private readonly hf: Float64Array;

  constructor(private readonly rbm: Rbm) {
    this.sites = rbm.visible + rbm.hidden;
    this.vf = new Float64Array(rbm.visible);
    this.hf = new Float64Array(rbm.hidden);
  }

  /** Visible and hidden fields of state s, into this.vf and this.hf. */
  private fields(x: Uint8Array, s: number): void {
    const off = s * this.sites;
    this.rbm.hiddenField(x.subarray(off, off + this.rbm.visible), 1, this.hf);
    this.rbm.visibleField(x.subarray(off + this.rbm.visible, off + this.sites), 1, this.vf);
  }

  energy(x: Uint8Array, n: number, u: Float64Array): void {
    const { visible: vdim, hidden: hdim } = this.rbm;
    for (let s = 0; s < n; s++) {
      const off = s * this.sites;
      this.rbm.hiddenField(x.subarray(off, off + vdim), 1, this.hf);
      let e = 0;
      for (let i = 0; i < vdim; i++) e -= this.rbm.b[i] * x[off + i];
      for (let j = 0; j < hdim; j++) e -= this.hf[j] * x[off + vdim + j];
      u[s] = e;
    }
  }

  flipDelta(x: Uint8Array, n: number, site: SiteIndex, out: Float64Array): void {
    const vdim = this.rbm.visible;
    for (let s = 0; s < n; s++) {
      const k = typeof site === "number" ? site : site[s];
      this.fields(x, s);
      const sign = 1 - 2 * x[s * this.sites + k];
      out[s] = -sign * (k < vdim ? this.vf[k] : this.hf[k - vdim]);
    }
  }

  energyAndRelaxedGrad(x: Uint8Array, n: number, u: Float64Array, grad: Float64Array): void {
    const { visible: vdim, hidden: hdim } = this.rbm;
    for (let s = 0; s < n; s++) {
      const off = s * this.sites;
      this.fields(x, s);
      let e = 0;
      for (let i = 0; i < vdim; i++) e -= this.rbm.b[i] * x[off + i];
      for (let j = 0; j < hdim; j++) e -= this.hf[j] * x[off + vdim + j];
      u[s] = e;
      for (let i = 0; i < vdim; i++) grad[off + i] = -this.vf[i];
      for (let j = 0; j < hdim; j++) grad[off + vdim + j] = -this.hf[j];
    }
  }
}
