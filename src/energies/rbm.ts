/**
 * Bernoulli–Bernoulli restricted Boltzmann machine on visible bits v ∈ {0,1}^V and hidden bits
 * h ∈ {0,1}^H, weights W (V × H, row-major float64), visible bias b, hidden bias c:
 *
 *   joint energy   E(v, h) = −bᵀv − cᵀh − vᵀWh,
 *   free energy    F(v) = −log Σ_h e^{−E(v,h)} = −bᵀv − Σ_j softplus(c_j + (vᵀW)_j),
 *   conditionals   p(h_j = 1 | v) = σ(c_j + (vᵀW)_j),   p(v_i = 1 | h) = σ(b_i + (Wh)_i)   (at β = 1).
 *
 * As a `DiscreteEnergy` the RBM is an energy over the visibles, U = F (sites = V): its samples are the
 * visible marginal of e^{−E}. At inverse temperature β, block Gibbs targets e^{−βE(v,h)}, whose visible
 * marginal is e^{−F_β(v)} with F_β(v) = −βbᵀv − Σ_j softplus(β(c_j + (vᵀW)_j)), not e^{−βF}; single-site
 * kernels on F at β target e^{−βF}. `joint()` is E as an energy over the V + H bits [v, h].
 *
 * The relaxation of F is F itself read at real v: ∂F/∂v_i = −b_i − Σ_j W_ij σ(c_j + (vᵀW)_j).
 *
 * Products are plain loops ordered for row-major W: vᵀW adds the rows of W whose v_i = 1 (skipping zeros),
 * Wh runs a contiguous dot product per row. The methods share scratch buffers (not re-entrant).
 */
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";
import {
  type BipartiteEnergy,
  type DiscreteEnergy,
  MAX_ENUMERABLE_SITES,
  type RelaxedGradient,
  type SiteIndex,
  sigmoid,
  softplus,
  writeState,
} from "./discrete.ts";

export class Rbm implements DiscreteEnergy, RelaxedGradient, BipartiteEnergy {
  readonly visible: number;
  readonly hidden: number;
  /** = visible: the RBM as an energy over visible states. */
  readonly sites: number;
  /** W, visible × hidden row-major. Mutable in place (training); the methods read it on every call. */
  readonly weights: Float64Array;
  readonly visibleBias: Float64Array;
  readonly hiddenBias: Float64Array;
  private readonly act: Float64Array;

  /** `weights` is V×H row-major; V = visibleBias.length, H = hiddenBias.length. Arrays are copied. */
  constructor(weights: ArrayLike<number>, visibleBias: ArrayLike<number>, hiddenBias: ArrayLike<number>) {
    const v = visibleBias.length;
    const h = hiddenBias.length;
    if (v < 1 || h < 1) throw new RangeError("an RBM needs at least one visible and one hidden unit");
    if (weights.length !== v * h) throw new RangeError(`weights must be ${v}×${h}`);
    this.visible = v;
    this.hidden = h;
    this.sites = v;
    this.weights = Float64Array.from(weights);
    this.visibleBias = Float64Array.from(visibleBias);
    this.hiddenBias = Float64Array.from(hiddenBias);
    this.act = new Float64Array(h);
  }

  /** W_ij ~ N(0, weightStd²), b_i, c_j ~ N(0, biasStd²). */
  static random(key: Key, visible: number, hidden: number, weightStd = 1, biasStd = 1): Rbm {
    const rng = new Stream(key);
    const w = rng.fillNormal(new Float64Array(visible * hidden), 0, weightStd);
    const b = rng.fillNormal(new Float64Array(visible), 0, biasStd);
    const c = rng.fillNormal(new Float64Array(hidden), 0, biasStd);
    return new Rbm(w, b, c);
  }

  /** out[0..H) = c + vᵀW for the visible state at v[off …]. */
  private hiddenAct(v: Uint8Array, off: number, out: Float64Array, outOff: number): void {
    const hdim = this.hidden;
    const w = this.weights;
    for (let j = 0; j < hdim; j++) out[outOff + j] = this.hiddenBias[j];
    for (let i = 0; i < this.visible; i++) {
      if (v[off + i] === 0) continue;
      const row = i * hdim;
      for (let j = 0; j < hdim; j++) out[outOff + j] += w[row + j];
    }
  }

  hiddenField(v: Uint8Array, n: number, out: Float64Array): void {
    for (let s = 0; s < n; s++) this.hiddenAct(v, s * this.visible, out, s * this.hidden);
  }

  visibleField(h: Uint8Array, n: number, out: Float64Array): void {
    const vdim = this.visible;
    const hdim = this.hidden;
    const w = this.weights;
    for (let s = 0; s < n; s++) {
      const hoff = s * hdim;
      for (let i = 0; i < vdim; i++) {
        const row = i * hdim;
        let a = this.visibleBias[i];
        for (let j = 0; j < hdim; j++) a += w[row + j] * h[hoff + j];
        out[s * vdim + i] = a;
      }
    }
  }

  jointEnergy(v: Uint8Array, h: Uint8Array, n: number, out: Float64Array): void {
    const act = this.act;
    for (let s = 0; s < n; s++) {
      this.hiddenAct(v, s * this.visible, act, 0);
      let e = 0;
      for (let i = 0; i < this.visible; i++) e -= this.visibleBias[i] * v[s * this.visible + i];
      for (let j = 0; j < this.hidden; j++) e -= act[j] * h[s * this.hidden + j];
      out[s] = e;
    }
  }

  /** The free energy F(v) of the n visible states. */
  energy(v: Uint8Array, n: number, u: Float64Array): void {
    const act = this.act;
    for (let s = 0; s < n; s++) {
      const off = s * this.visible;
      this.hiddenAct(v, off, act, 0);
      let f = 0;
      for (let i = 0; i < this.visible; i++) f -= this.visibleBias[i] * v[off + i];
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
      let d = -sign * this.visibleBias[k];
      for (let j = 0; j < hdim; j++) d -= softplus(act[j] + sign * this.weights[row + j]) - softplus(act[j]);
      out[s] = d;
    }
  }

  energyAndRelaxedGrad(v: Uint8Array, n: number, u: Float64Array, grad: Float64Array): void {
    const act = this.act;
    const vdim = this.visible;
    const hdim = this.hidden;
    for (let s = 0; s < n; s++) {
      const off = s * vdim;
      this.hiddenAct(v, off, act, 0);
      let f = 0;
      for (let i = 0; i < vdim; i++) f -= this.visibleBias[i] * v[off + i];
      for (let j = 0; j < hdim; j++) {
        f -= softplus(act[j]);
        act[j] = sigmoid(act[j]); // act now holds E[h | v]
      }
      u[s] = f;
      for (let i = 0; i < vdim; i++) {
        const row = i * hdim;
        let g = -this.visibleBias[i];
        for (let j = 0; j < hdim; j++) g -= this.weights[row + j] * act[j];
        grad[off + i] = g;
      }
    }
  }

  /**
   * Exact log Σ_{v,h} e^{−βE(v,h)}, summing analytically over the larger layer and enumerating the
   * smaller one (≤ 20 units): Σ_h e^{βcᵀh} Π_i (1 + e^{β(b + Wh)_i}) or Σ_v e^{βbᵀv} Π_j (1 + e^{β(c + vᵀW)_j}).
   */
  logZ(beta = 1): number {
    const overHidden = this.hidden <= this.visible;
    const m = overHidden ? this.hidden : this.visible;
    const other = overHidden ? this.visible : this.hidden;
    if (m > MAX_ENUMERABLE_SITES) throw new RangeError(`logZ enumerates 2^${m} states: too many`);
    const bits = new Uint8Array(m);
    const field = new Float64Array(other);
    const ownBias = overHidden ? this.hiddenBias : this.visibleBias;
    // Online logsumexp over the 2^m terms.
    let max = Number.NEGATIVE_INFINITY;
    let sum = 0;
    for (let k = 0; k < 2 ** m; k++) {
      writeState(k, m, bits);
      if (overHidden) this.visibleField(bits, 1, field);
      else this.hiddenAct(bits, 0, field, 0);
      let t = 0;
      for (let a = 0; a < m; a++) t += beta * ownBias[a] * bits[a];
      for (let a = 0; a < other; a++) t += softplus(beta * field[a]);
      if (t > max) {
        sum = sum * Math.exp(max - t) + 1;
        max = t;
      } else sum += Math.exp(t - max);
    }
    return max + Math.log(sum);
  }

  /** E(v, h) as a discrete energy over the V + H bits [v, h] (shares this RBM's parameters). */
  joint(): DiscreteEnergy & RelaxedGradient {
    return new RbmJointEnergy(this);
  }
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
      for (let i = 0; i < vdim; i++) e -= this.rbm.visibleBias[i] * x[off + i];
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
      for (let i = 0; i < vdim; i++) e -= this.rbm.visibleBias[i] * x[off + i];
      for (let j = 0; j < hdim; j++) e -= this.hf[j] * x[off + vdim + j];
      u[s] = e;
      for (let i = 0; i < vdim; i++) grad[off + i] = -this.vf[i];
      for (let j = 0; j < hdim; j++) grad[off + vdim + j] = -this.hf[j];
    }
  }
}
