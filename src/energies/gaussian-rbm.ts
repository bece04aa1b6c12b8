/**
 * The Gaussian–Bernoulli RBM (Hinton & Salakhutdinov 2006; Cho, Ilin & Raiko 2011), with unit visible
 * variance (for standardised data): real visible units v ∈ ℝ^V, binary hidden units h ∈ {0,1}^H,
 *
 *   joint energy   E(v, h) = ½|v − b|² − cᵀh − vᵀWh,
 *   free energy    F(v) = −log Σ_h e^{−E(v,h)} = ½|v − b|² − Σ_j softplus(c_j + (vᵀW)_j),
 *   conditionals   p(h_j = 1 | v) = σ(c_j + (vᵀW)_j),   p(v | h) = N(b + Wh, I).
 *
 * Integrating v out of e^{−E} is a Gaussian integral: ∫ e^{−E(v,h)} dv = (2π)^{V/2} e^{g(h)} with
 * g(h) = cᵀh + bᵀWh + ½|Wh|², so the hidden marginal is p(h) ∝ e^{g(h)} and
 *   log Z = (V/2)·log 2π + log Σ_h e^{g(h)},
 * exact by enumerating the 2^H hidden states (H ≤ 24), in log-space. The same enumeration samples exactly
 * (h from p(h), then v | h), which is how Jarzynski training starts its walkers at ρ_θ₀.
 *
 * As a continuous energy U = F on ℝ^V it trains through the library's trainer with any walker objective
 * (CD, PCD, Jarzynski with ULA or MALA moves); `gibbsSweep` is the block-Gibbs move of the two
 * conditionals. θ = [W (V × H row-major), b, c], float64. Gradients:
 *   ∇ᵥF = (v − b) − Wσ,   ∂F/∂W_ij = −v_i σ_j,   ∂F/∂b_i = −(v_i − b_i),   ∂F/∂c_j = −σ_j,
 * with σ_j = σ(c_j + (vᵀW)_j).
 */
import { logSumExp } from "../math/logspace.ts";
import { sigmoid, softplus } from "../math/logistic.ts";
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";
import type { ExactlySampleable, KnownLogZ, TrainableEnergy } from "./contract.ts";

/** Largest hidden layer whose 2^H states are enumerated for log Z and exact sampling. */
export const GAUSSIAN_RBM_MAX_ENUMERATED_HIDDEN = 24;

export class GaussianBernoulliRbm implements TrainableEnergy, KnownLogZ, ExactlySampleable {
  readonly dim: number;
  readonly visible: number;
  readonly hidden: number;
  readonly numParams: number;
  /** V × H, row-major. */
  readonly W: Float64Array;
  readonly b: Float64Array;
  readonly c: Float64Array;
  private readonly act: Float64Array;

  constructor(W: ArrayLike<number>, b: ArrayLike<number>, c: ArrayLike<number>) {
    const v = b.length;
    const h = c.length;
    if (v < 1 || h < 1)
      throw new RangeError("a Gaussian–Bernoulli RBM needs at least one visible and one hidden unit");
    if (W.length !== v * h) throw new RangeError(`W must be ${v}×${h} (${v * h} entries), got ${W.length}`);
    this.visible = v;
    this.hidden = h;
    this.dim = v;
    this.numParams = v * h + v + h;
    this.W = Float64Array.from(W);
    this.b = Float64Array.from(b);
    this.c = Float64Array.from(c);
    for (const [name, a] of [
      ["W", this.W],
      ["b", this.b],
      ["c", this.c],
    ] as const)
      for (let i = 0; i < a.length; i++)
        if (!Number.isFinite(a[i])) throw new RangeError(`${name}[${i}] is not finite (${a[i]})`);
    this.act = new Float64Array(h);
  }

  /** W_ij ~ N(0, weightStd²), b = c = 0, from one stream of `key`. */
  static random(key: Key, visible: number, hidden: number, weightStd = 0.01): GaussianBernoulliRbm {
    const W = new Float64Array(visible * hidden);
    new Stream(key).fillNormal(W, 0, weightStd);
    return new GaussianBernoulliRbm(W, new Float64Array(visible), new Float64Array(hidden));
  }

  /** act = c + vᵀW for the visible vector at x[off…]. */
  private activations(x: Float64Array, off: number): Float64Array {
    const { visible: V, hidden: H, W, c, act } = this;
    act.set(c);
    for (let i = 0; i < V; i++) {
      const vi = x[off + i];
      if (vi === 0) continue;
      const row = i * H;
      for (let j = 0; j < H; j++) act[j] += vi * W[row + j];
    }
    return act;
  }

  energy(x: Float64Array, n: number, u: Float64Array): void {
    const V = this.visible;
    for (let s = 0; s < n; s++) {
      const off = s * V;
      let q = 0;
      for (let i = 0; i < V; i++) q += (x[off + i] - this.b[i]) ** 2;
      const act = this.activations(x, off);
      let sp = 0;
      for (let j = 0; j < this.hidden; j++) sp += softplus(act[j]);
      u[s] = 0.5 * q - sp;
    }
  }

  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    const { visible: V, hidden: H, W, b } = this;
    for (let s = 0; s < n; s++) {
      const off = s * V;
      const act = this.activations(x, off);
      let sp = 0;
      for (let j = 0; j < H; j++) {
        sp += softplus(act[j]);
        act[j] = sigmoid(act[j]);
      }
      let q = 0;
      for (let i = 0; i < V; i++) {
        const d = x[off + i] - b[i];
        q += d * d;
        let ws = 0;
        const row = i * H;
        for (let j = 0; j < H; j++) ws += W[row + j] * act[j];
        grad[off + i] = d - ws;
      }
      u[s] = 0.5 * q - sp;
    }
  }

  getParams(): Float64Array {
    const out = new Float64Array(this.numParams);
    out.set(this.W, 0);
    out.set(this.b, this.W.length);
    out.set(this.c, this.W.length + this.visible);
    return out;
  }

  setParams(theta: Float64Array): void {
    if (theta.length !== this.numParams)
      throw new RangeError(`θ must have ${this.numParams} entries, got ${theta.length}`);
    this.W.set(theta.subarray(0, this.W.length));
    this.b.set(theta.subarray(this.W.length, this.W.length + this.visible));
    this.c.set(theta.subarray(this.W.length + this.visible));
  }

  paramGrad(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): void {
    const { visible: V, hidden: H, b } = this;
    const nW = V * H;
    out.fill(0, 0, this.numParams);
    for (let s = 0; s < n; s++) {
      const w = weights[s];
      if (w === 0) continue;
      const off = s * V;
      const act = this.activations(x, off);
      for (let j = 0; j < H; j++) act[j] = sigmoid(act[j]);
      for (let i = 0; i < V; i++) {
        const vi = x[off + i];
        out[nW + i] -= w * (vi - b[i]);
        if (vi === 0) continue;
        const row = i * H;
        const wv = w * vi;
        for (let j = 0; j < H; j++) out[row + j] -= wv * act[j];
      }
      for (let j = 0; j < H; j++) out[nW + V + j] -= w * act[j];
    }
  }

  /** log of the unnormalised hidden marginal, g(h) = cᵀh + bᵀWh + ½|Wh|², for all 2^H states (h_j = bit j). */
  private hiddenLogMarginals(): Float64Array {
    const { visible: V, hidden: H, W, b, c } = this;
    if (H > GAUSSIAN_RBM_MAX_ENUMERATED_HIDDEN)
      throw new RangeError(
        `exact log Z enumerates the 2^${H} hidden states; at most ${GAUSSIAN_RBM_MAX_ENUMERATED_HIDDEN} hidden units`,
      );
    const states = 2 ** H;
    const g = new Float64Array(states);
    const wh = new Float64Array(V);
    // Gray-code order: each state differs from the previous one in one unit, so Wh updates in O(V).
    let h = 0;
    let ch = 0;
    for (let k = 0; k < states; k++) {
      if (k > 0) {
        const j = 31 - Math.clz32(k & -k);
        const on = ((h >> j) & 1) === 0;
        h ^= 1 << j;
        const sign = on ? 1 : -1;
        ch += sign * c[j];
        for (let i = 0; i < V; i++) wh[i] += sign * W[i * H + j];
      }
      let bw = 0;
      let q = 0;
      for (let i = 0; i < V; i++) {
        bw += b[i] * wh[i];
        q += wh[i] * wh[i];
      }
      g[h] = ch + bw + 0.5 * q;
    }
    return g;
  }

  /** log Z = (V/2)·log 2π + log Σ_h e^{g(h)} (module comment), exact for H ≤ 24. */
  logZ(): number {
    return 0.5 * this.visible * Math.log(2 * Math.PI) + logSumExp(this.hiddenLogMarginals());
  }

  /** Exact draws: h from its marginal p(h) ∝ e^{g(h)} (by enumeration), then v ~ N(b + Wh, I). */
  sampleExact(key: Key, n: number, out: Float64Array): void {
    const { visible: V, hidden: H, W, b } = this;
    const g = this.hiddenLogMarginals();
    const lz = logSumExp(g);
    const cdf = new Float64Array(g.length);
    let acc = 0;
    for (let k = 0; k < g.length; k++) {
      acc += Math.exp(g[k] - lz);
      cdf[k] = acc;
    }
    const rng = new Stream(key);
    for (let s = 0; s < n; s++) {
      const u = rng.uniform() * acc;
      let lo = 0;
      let hi = g.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid] < u) lo = mid + 1;
        else hi = mid;
      }
      for (let i = 0; i < V; i++) {
        let m = b[i];
        for (let j = 0; j < H; j++) if ((lo >> j) & 1) m += W[i * H + j];
        out[s * V + i] = m + rng.normal();
      }
    }
  }

  /**
   * k block-Gibbs sweeps on the n visible states of `v` (in place): h ~ p(h | v), then v ~ N(b + Wh, I).
   * Leaves ρ = e^{−F}/Z invariant.
   */
  gibbsSweep(key: Key, v: Float64Array, n: number, k = 1): void {
    const { visible: V, hidden: H, W, b } = this;
    const rng = new Stream(key);
    const h = new Uint8Array(H);
    for (let sweep = 0; sweep < k; sweep++)
      for (let s = 0; s < n; s++) {
        const off = s * V;
        const act = this.activations(v, off);
        for (let j = 0; j < H; j++) h[j] = rng.uniform() < sigmoid(act[j]) ? 1 : 0;
        for (let i = 0; i < V; i++) {
          let m = b[i];
          const row = i * H;
          for (let j = 0; j < H; j++) if (h[j]) m += W[row + j];
          v[off + i] = m + rng.normal();
        }
      }
  }
}
