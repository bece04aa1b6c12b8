/**
 * The two-hidden-layer deep Boltzmann machine (Salakhutdinov & Hinton 2009): binary visible units v (V),
 * first hidden layer h1 (H1), second hidden layer h2 (H2), connections only between adjacent layers,
 *
 *   E(v, h1, h2) = −bᵀv − c1ᵀh1 − c2ᵀh2 − vᵀW1h1 − h1ᵀW2h2,   p(v, h1, h2) = e^{−E}/Z.
 *
 * Parameters θ: one float64 vector, weights first (so an L2 cost on the first `weightCount` entries spares
 * the biases):
 *
 *   θ = [ W1 (V × H1, row-major: W1[i·H1 + j] couples v_i and h1_j),
 *         W2 (H1 × H2, row-major: W2[j·H2 + k] couples h1_j and h2_k),
 *         b (V), c1 (H1), c2 (H2) ].
 *
 * `W1`, `W2`, `b`, `c1`, `c2` are views into that vector (float64, no rounding).
 *
 * Conditionals. Layers of the same parity are conditionally independent given the other parity:
 *   p(h1_j = 1 | v, h2) = σ(c1 + vᵀW1 + W2h2)_j,   p(v_i = 1 | h1) = σ(b + W1h1)_i,
 *   p(h2_k = 1 | h1) = σ(c2 + W2ᵀh1)_k,
 * so block Gibbs runs in two phases: the odd layer h1 given (v, h2), then the even layers v and h2
 * together given h1 (`gibbs`).
 *
 * The (v, h2) | h1 grouping. Summing h1 out analytically,
 *   F(v, h2) = −log Σ_{h1} e^{−E} = −bᵀv − c2ᵀh2 − Σ_j softplus(c1_j + (vᵀW1)_j + (W2h2)_j)   (`freeEnergy`),
 * which is an RBM whose "visible" layer is the concatenation (v, h2) and whose hidden layer is h1. That is
 * what makes the small cases exact (log Z by enumerating (v, h2), or h1 with v and h2 summed out; see
 * `bipartiteLogSum` and rbm/dbm-ais.ts) and what AIS anneals (Salakhutdinov & Hinton 2009, §4).
 *
 * The Energy contract (dim = V) is the visible marginal: U(v) = F(v) = −log Σ_{h1,h2} e^{−E(v,h1,h2)}, exact
 * by enumerating the smaller hidden layer (the other one is summed analytically), so it is limited to
 * min(H1, H2) ≤ `maxExactBits` (20). `paramGrad` is the exact Σ_s w_s ∂θF(v_s) = −Σ_s w_s E_{p(h|v_s)}[T(v_s, h)]
 * with T = (v h1ᵀ, h1 h2ᵀ, v, h1, h2) the sufficient statistics; at real v ∈ [0,1]^V the same formula is a
 * smooth relaxation with ∇ᵥF = −b − W1·E[h1 | v]. Training at scale does not use these: the mean-field/PCD
 * objective (objectives/dbm.ts) estimates the likelihood gradient from `meanField` and `gibbs`.
 *
 * Mean field (Salakhutdinov & Hinton 2009, §3): q(h1, h2) = Π_j Bern(μ1_j) Π_k Bern(μ2_k) maximising
 *   log p(v) ≥ −E_q[E(v, h)] + H(q) − log Z,
 *   −E_q[E] = bᵀv + c1ᵀμ1 + c2ᵀμ2 + vᵀW1μ1 + μ1ᵀW2μ2,
 * by the fixed-point updates μ1 ← σ(c1 + vᵀW1 + W2μ2), μ2 ← σ(c2 + W2ᵀμ1), layer after layer. Each update
 * maximises the bound exactly over one layer with the other fixed (the units of a layer do not interact),
 * so without damping the bound never decreases.
 *
 * States are 0/1 bytes, row-major per layer; draws are one `Stream.uniform()` per bit, x = 1 iff u < p.
 * Methods share scratch buffers (not re-entrant).
 */
import type { TrainableEnergy } from "./contract.ts";
import { sigmoid, softplus } from "../math/logistic.ts";
import { type Key, Stream } from "../random/key.ts";

/** Persistent or transient Gibbs chains of a DBM: n states of each layer, row-major bytes (plain data). */
export interface DbmChains {
  n: number;
  /** n × V */
  v: Uint8Array;
  /** n × H1 */
  h1: Uint8Array;
  /** n × H2 */
  h2: Uint8Array;
}

export interface DbmMeanFieldOptions {
  /** Stop a row when max_j |Δμ| over both layers falls below this (default 1e-7). */
  tolerance?: number;
  /** At most this many sweeps (μ1 then μ2) per row (default 100). */
  maxIterations?: number;
  /** μ ← λ·μ_old + (1 − λ)·update, λ ∈ [0, 1) (default 0: plain coordinate ascent). */
  damping?: number;
  /** Starting μ2 (n × H2); default σ(c2), the input h2 has before h1 is known. */
  init2?: ArrayLike<number>;
}

export interface DbmMeanFieldResult {
  /** n × H1 */
  mu1: Float64Array;
  /** n × H2 */
  mu2: Float64Array;
  /** Sweeps each row took. */
  iterations: Int32Array;
  /** The last max |Δμ| of each row (below the tolerance when it converged). */
  residual: Float64Array;
  /** Rows that reached the tolerance. */
  converged: number;
}

/** Sizes and offsets of θ (module comment). */
export interface DbmLayout {
  W1: number;
  W2: number;
  b: number;
  c1: number;
  c2: number;
  size: number;
}

export function dbmLayout(visible: number, hidden1: number, hidden2: number): DbmLayout {
  const W2 = visible * hidden1;
  const b = W2 + hidden1 * hidden2;
  const c1 = b + visible;
  const c2 = c1 + hidden1;
  return { W1: 0, W2, b, c1, c2, size: c2 + hidden2 };
}

function checkSize(name: string, n: number): void {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`${name} must be an integer ≥ 1, got ${n}`);
}

export class Dbm implements TrainableEnergy {
  readonly visible: number;
  readonly hidden1: number;
  readonly hidden2: number;
  /** = V (the Energy contract is the visible marginal). */
  readonly dim: number;
  readonly numParams: number;
  /** The enumeration limit of the exact visible free energy (bits of the smaller hidden layer). */
  readonly maxExactBits = 20;
  readonly layout: DbmLayout;
  /** Views into θ. */
  readonly W1: Float64Array;
  readonly W2: Float64Array;
  readonly b: Float64Array;
  readonly c1: Float64Array;
  readonly c2: Float64Array;
  private readonly theta: Float64Array;
  private readonly f1: Float64Array;
  private readonly fv: Float64Array;
  private readonly f2: Float64Array;

  /** θ in the layout of the module comment (default zeros: the uniform distribution). */
  constructor(visible: number, hidden1: number, hidden2: number, theta?: ArrayLike<number>) {
    checkSize("V", visible);
    checkSize("H1", hidden1);
    checkSize("H2", hidden2);
    this.visible = visible;
    this.hidden1 = hidden1;
    this.hidden2 = hidden2;
    this.dim = visible;
    this.layout = dbmLayout(visible, hidden1, hidden2);
    this.numParams = this.layout.size;
    this.theta = new Float64Array(this.numParams);
    const L = this.layout;
    this.W1 = this.theta.subarray(L.W1, L.W2);
    this.W2 = this.theta.subarray(L.W2, L.b);
    this.b = this.theta.subarray(L.b, L.c1);
    this.c1 = this.theta.subarray(L.c1, L.c2);
    this.c2 = this.theta.subarray(L.c2, L.size);
    this.f1 = new Float64Array(hidden1);
    this.fv = new Float64Array(visible);
    this.f2 = new Float64Array(hidden2);
    if (theta) this.setParams(theta);
  }

  /**
   * W1, W2 ~ N(0, weightStd²), then b, c1, c2 ~ N(0, biasStd²), in θ order from one stream of `key`.
   */
  static random(
    key: Key,
    visible: number,
    hidden1: number,
    hidden2: number,
    weightStd = 0.01,
    biasStd = weightStd,
  ): Dbm {
    const m = new Dbm(visible, hidden1, hidden2);
    const rng = new Stream(key);
    rng.fillNormal(m.W1, 0, weightStd);
    rng.fillNormal(m.W2, 0, weightStd);
    rng.fillNormal(m.b, 0, biasStd);
    rng.fillNormal(m.c1, 0, biasStd);
    rng.fillNormal(m.c2, 0, biasStd);
    return m;
  }

  /** V·H1 + H1·H2: the weights lead θ. */
  get weightCount(): number {
    return this.layout.b;
  }

  getParams(): Float64Array {
    return this.theta.slice();
  }

  setParams(theta: ArrayLike<number>): void {
    if (theta.length !== this.numParams)
      throw new RangeError(`θ must have ${this.numParams} entries, got ${theta.length}`);
    for (let q = 0; q < this.numParams; q++) {
      const x = theta[q];
      if (!Number.isFinite(x)) throw new RangeError(`θ[${q}] = ${x} is not finite`);
      this.theta[q] = x;
    }
  }

  clone(): Dbm {
    return new Dbm(this.visible, this.hidden1, this.hidden2, this.theta);
  }

  // --- fields and conditionals ----------------------------------------------------------------------------
  // Inputs may be bits or probabilities (mean field); zeros are skipped.

  /** out (n × H1) = c1 + vᵀW1 + W2h2: the input of h1 (p(h1 = 1 | v, h2) = σ of it). */
  hidden1Field(v: ArrayLike<number>, h2: ArrayLike<number>, n: number, out: Float64Array): void {
    const { visible: nv, hidden1: n1, hidden2: n2, W1, W2, c1 } = this;
    for (let s = 0; s < n; s++) {
      const o = s * n1;
      for (let j = 0; j < n1; j++) {
        let a = c1[j];
        const row = j * n2;
        for (let k = 0; k < n2; k++) a += W2[row + k] * h2[s * n2 + k];
        out[o + j] = a;
      }
      for (let i = 0; i < nv; i++) {
        const x = v[s * nv + i];
        if (x === 0) continue;
        const row = i * n1;
        for (let j = 0; j < n1; j++) out[o + j] += x * W1[row + j];
      }
    }
  }

  /** out (n × V) = b + W1h1 (p(v = 1 | h1) = σ of it). */
  visibleField(h1: ArrayLike<number>, n: number, out: Float64Array): void {
    const { visible: nv, hidden1: n1, W1, b } = this;
    for (let s = 0; s < n; s++)
      for (let i = 0; i < nv; i++) {
        let a = b[i];
        const row = i * n1;
        for (let j = 0; j < n1; j++) a += W1[row + j] * h1[s * n1 + j];
        out[s * nv + i] = a;
      }
  }

  /** out (n × H2) = c2 + W2ᵀh1 (p(h2 = 1 | h1) = σ of it). */
  hidden2Field(h1: ArrayLike<number>, n: number, out: Float64Array): void {
    const { hidden1: n1, hidden2: n2, W2, c2 } = this;
    for (let s = 0; s < n; s++) {
      const o = s * n2;
      for (let k = 0; k < n2; k++) out[o + k] = c2[k];
      for (let j = 0; j < n1; j++) {
        const x = h1[s * n1 + j];
        if (x === 0) continue;
        const row = j * n2;
        for (let k = 0; k < n2; k++) out[o + k] += x * W2[row + k];
      }
    }
  }

  /** E(v, h1, h2) for n triples (bits or probabilities; with probabilities it is E_q[E] of a factorised q). */
  jointEnergy(
    v: ArrayLike<number>,
    h1: ArrayLike<number>,
    h2: ArrayLike<number>,
    n: number,
    out: Float64Array,
  ): void {
    const { visible: nv, hidden1: n1, hidden2: n2 } = this;
    const f1 = this.f1;
    for (let s = 0; s < n; s++) {
      // −E = bᵀv + c2ᵀh2 + h1ᵀ(c1 + vᵀW1 + W2h2): one h1 field.
      this.hidden1Field(sub(v, s * nv, nv), sub(h2, s * n2, n2), 1, f1);
      let e = 0;
      for (let i = 0; i < nv; i++) e -= this.b[i] * v[s * nv + i];
      for (let k = 0; k < n2; k++) e -= this.c2[k] * h2[s * n2 + k];
      for (let j = 0; j < n1; j++) e -= f1[j] * h1[s * n1 + j];
      out[s] = e;
    }
  }

  /** F(v, h2) = −bᵀv − c2ᵀh2 − Σ_j softplus(c1 + vᵀW1 + W2h2)_j: h1 summed out (module comment). */
  freeEnergy(v: ArrayLike<number>, h2: ArrayLike<number>, n: number, out: Float64Array): void {
    const { visible: nv, hidden1: n1, hidden2: n2 } = this;
    const f1 = this.f1;
    for (let s = 0; s < n; s++) {
      this.hidden1Field(sub(v, s * nv, nv), sub(h2, s * n2, n2), 1, f1);
      let f = 0;
      for (let i = 0; i < nv; i++) f -= this.b[i] * v[s * nv + i];
      for (let k = 0; k < n2; k++) f -= this.c2[k] * h2[s * n2 + k];
      for (let j = 0; j < n1; j++) f -= softplus(f1[j]);
      out[s] = f;
    }
  }

  // --- block Gibbs ----------------------------------------------------------------------------------------

  /** Chains with every unit drawn independently from σ(its bias): v ~ σ(b), h1 ~ σ(c1), h2 ~ σ(c2). */
  initChains(key: Key, n: number): DbmChains {
    checkSize("chains", n);
    const c: DbmChains = {
      n,
      v: new Uint8Array(n * this.visible),
      h1: new Uint8Array(n * this.hidden1),
      h2: new Uint8Array(n * this.hidden2),
    };
    const rng = new Stream(key);
    for (let s = 0; s < n; s++) {
      drawLayer(rng, this.b, c.v, s * this.visible, this.visible);
      drawLayer(rng, this.c1, c.h1, s * this.hidden1, this.hidden1);
      drawLayer(rng, this.c2, c.h2, s * this.hidden2, this.hidden2);
    }
    return c;
  }

  /**
   * `sweeps` two-phase block-Gibbs sweeps of every chain, in place: h1 ~ p(h1 | v, h2), then v ~ p(v | h1)
   * and h2 ~ p(h2 | h1). Each phase is an exact conditional draw, so p(v, h1, h2) is invariant; the (v, h2)
   * part alone is the block-Gibbs chain of the RBM F(v, h2). Draw order (one uniform per bit, from
   * `new Stream(key)`): chain by chain, each sweep H1 bits, then V, then H2.
   */
  gibbs(key: Key, chains: DbmChains, sweeps = 1): void {
    if (!(Number.isInteger(sweeps) && sweeps >= 0))
      throw new RangeError(`sweeps must be an integer ≥ 0, got ${sweeps}`);
    const { visible: nv, hidden1: n1, hidden2: n2, W1, W2, b, c1, c2 } = this;
    const rng = new Stream(key);
    const { f1, fv, f2 } = this;
    // The fields of bit states (hidden1Field, visibleField, hidden2Field) add only the rows of the units that
    // are on, each in the order of the dense formula, so the sums are the same; W1 is transposed once per call
    // so that the visible field adds contiguous rows.
    const W1T = new Float64Array(n1 * nv);
    for (let i = 0; i < nv; i++) for (let j = 0; j < n1; j++) W1T[j * nv + i] = W1[i * n1 + j];
    const on1 = new Int32Array(n1);
    const on2 = new Int32Array(n2);
    for (let s = 0; s < chains.n; s++) {
      const v = chains.v.subarray(s * nv, (s + 1) * nv);
      const h1 = chains.h1.subarray(s * n1, (s + 1) * n1);
      const h2 = chains.h2.subarray(s * n2, (s + 1) * n2);
      for (let t = 0; t < sweeps; t++) {
        // h1 | v, h2: c1 + vᵀW1 + W2h2.
        let m2 = 0;
        for (let k = 0; k < n2; k++) if (h2[k] === 1) on2[m2++] = k;
        for (let j = 0; j < n1; j++) {
          let a = c1[j];
          const row = j * n2;
          for (let q = 0; q < m2; q++) a += W2[row + on2[q]];
          f1[j] = a;
        }
        for (let i = 0; i < nv; i++) {
          if (v[i] === 0) continue;
          const row = i * n1;
          for (let j = 0; j < n1; j++) f1[j] += W1[row + j];
        }
        drawLayer(rng, f1, h1, 0, n1);
        // v | h1: b + W1h1; h2 | h1: c2 + W2ᵀh1.
        let m1 = 0;
        for (let j = 0; j < n1; j++) if (h1[j] === 1) on1[m1++] = j;
        fv.set(b);
        f2.set(c2);
        for (let q = 0; q < m1; q++) {
          const j = on1[q];
          const rowV = j * nv;
          for (let i = 0; i < nv; i++) fv[i] += W1T[rowV + i];
          const row2 = j * n2;
          for (let k = 0; k < n2; k++) f2[k] += W2[row2 + k];
        }
        drawLayer(rng, fv, v, 0, nv);
        drawLayer(rng, f2, h2, 0, n2);
      }
    }
  }

  // --- mean field -----------------------------------------------------------------------------------------

  /** The mean-field fixed point q(h1, h2) for each of the n rows of `v` (module comment). */
  meanField(v: ArrayLike<number>, n: number, opts: DbmMeanFieldOptions = {}): DbmMeanFieldResult {
    const tol = opts.tolerance ?? 1e-7;
    const maxIt = opts.maxIterations ?? 100;
    const lam = opts.damping ?? 0;
    if (!(tol > 0)) throw new RangeError(`mean-field tolerance must be > 0, got ${tol}`);
    if (!(Number.isInteger(maxIt) && maxIt >= 1))
      throw new RangeError(`maxIterations must be ≥ 1, got ${maxIt}`);
    if (!(lam >= 0 && lam < 1)) throw new RangeError(`damping must be in [0, 1), got ${lam}`);
    const { visible: nv, hidden1: n1, hidden2: n2 } = this;
    if (opts.init2 && opts.init2.length < n * n2) throw new RangeError(`init2 must hold ${n} × ${n2} values`);
    const mu1 = new Float64Array(n * n1);
    const mu2 = new Float64Array(n * n2);
    const iterations = new Int32Array(n);
    const residual = new Float64Array(n);
    let converged = 0;
    // vᵀW1 + c1 is fixed per row: computed once (h2 = 0 in the field).
    const base = new Float64Array(n1);
    const zeros2 = new Float64Array(n2);
    const { f1, f2 } = this;
    for (let s = 0; s < n; s++) {
      const m1 = mu1.subarray(s * n1, (s + 1) * n1);
      const m2 = mu2.subarray(s * n2, (s + 1) * n2);
      for (let k = 0; k < n2; k++) m2[k] = opts.init2 ? opts.init2[s * n2 + k] : sigmoid(this.c2[k]);
      this.hidden1Field(sub(v, s * nv, nv), zeros2, 1, base);
      let first = true;
      let it = 0;
      let r = Number.POSITIVE_INFINITY;
      while (it < maxIt) {
        it++;
        r = 0;
        for (let j = 0; j < n1; j++) {
          let a = base[j];
          const row = j * n2;
          for (let k = 0; k < n2; k++) a += this.W2[row + k] * m2[k];
          f1[j] = a;
        }
        for (let j = 0; j < n1; j++) {
          const u = sigmoid(f1[j]);
          // The first μ1 has no previous value to damp towards or to measure a change from.
          const next = first ? u : lam * m1[j] + (1 - lam) * u;
          if (!first) r = Math.max(r, Math.abs(next - m1[j]));
          m1[j] = next;
        }
        this.hidden2Field(m1, 1, f2);
        for (let k = 0; k < n2; k++) {
          const next = lam * m2[k] + (1 - lam) * sigmoid(f2[k]);
          r = Math.max(r, Math.abs(next - m2[k]));
          m2[k] = next;
        }
        if (first) {
          first = false;
          r = Number.POSITIVE_INFINITY;
          continue;
        }
        if (r < tol) break;
      }
      iterations[s] = it;
      residual[s] = r;
      if (r < tol) converged++;
    }
    return { mu1, mu2, iterations, residual, converged };
  }

  /**
   * Variational free energy of the factorised q for each row: E_q[E(v, h)] − H(q) (≥ F(v); the bound on
   * log p(v) is its negative minus log Z). Mean-field entropies use 0·log 0 = 0.
   */
  variationalFreeEnergy(
    v: ArrayLike<number>,
    mu1: ArrayLike<number>,
    mu2: ArrayLike<number>,
    n: number,
    out: Float64Array,
  ): void {
    const { hidden1: n1, hidden2: n2 } = this;
    this.jointEnergy(v, mu1, mu2, n, out);
    for (let s = 0; s < n; s++) {
      let h = 0;
      for (let j = 0; j < n1; j++) h += bernoulliEntropy(mu1[s * n1 + j]);
      for (let k = 0; k < n2; k++) h += bernoulliEntropy(mu2[s * n2 + k]);
      out[s] -= h;
    }
  }

  // --- exact visible marginal (Energy, TrainableEnergy) ---------------------------------------------------

  /**
   * −log Σ_{h1,h2} e^{−E(v_s, h1, h2)} for one row, and optionally the posterior moments E[h1], E[h2] (H1, H2)
   * and E[h1 h2ᵀ] (H1 × H2 row-major). Enumerates the smaller hidden layer; the other is summed analytically.
   */
  private exactRow(
    x: ArrayLike<number>,
    off: number,
    e1?: Float64Array,
    e2?: Float64Array,
    e12?: Float64Array,
  ): number {
    const { visible: nv, hidden1: n1, hidden2: n2 } = this;
    if (Math.min(n1, n2) > this.maxExactBits)
      throw new RangeError(
        `the exact visible free energy would enumerate 2^${Math.min(n1, n2)} hidden states (limit 2^${this.maxExactBits})`,
      );
    // a = c1 + vᵀW1 (the input of h1 from below).
    const a = new Float64Array(n1);
    this.hidden1Field(sub(x, off, nv), new Float64Array(n2), 1, a);
    let bv = 0;
    for (let i = 0; i < nv; i++) bv += this.b[i] * x[off + i];
    let ls: number;
    if (n1 <= n2) {
      // Enumerate h1 (own input a, couplings W2 rows), sum h2 out.
      const xs = e12 ? new Float64Array(n1 * n2) : undefined;
      ls = bipartiteLogSum(a, this.W2, this.c2, { x: e1, s: e2, xs });
      if (e12 && xs) e12.set(xs);
    } else {
      // Enumerate h2 (own bias c2, couplings W2 columns), sum h1 out with input a.
      const cols = new Float64Array(n2 * n1);
      for (let j = 0; j < n1; j++) for (let k = 0; k < n2; k++) cols[k * n1 + j] = this.W2[j * n2 + k];
      const xs = e12 ? new Float64Array(n2 * n1) : undefined;
      ls = bipartiteLogSum(this.c2, cols, a, { x: e2, s: e1, xs });
      if (e12 && xs)
        for (let j = 0; j < n1; j++) for (let k = 0; k < n2; k++) e12[j * n2 + k] = xs[k * n1 + j];
    }
    return -bv - ls;
  }

  /** U(v) = F(v), the exact visible free energy (module comment), for the n rows of `x`. */
  energy(x: Float64Array | Uint8Array, n: number, u: Float64Array): void {
    for (let s = 0; s < n; s++) u[s] = this.exactRow(x, s * this.visible);
  }

  /** F(v) and ∇ᵥF = −b − W1·E[h1 | v] (the relaxation at real v). */
  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    const { visible: nv, hidden1: n1 } = this;
    const e1 = new Float64Array(n1);
    for (let s = 0; s < n; s++) {
      u[s] = this.exactRow(x, s * nv, e1);
      for (let i = 0; i < nv; i++) {
        let g = -this.b[i];
        for (let j = 0; j < n1; j++) g -= this.W1[i * n1 + j] * e1[j];
        grad[s * nv + i] = g;
      }
    }
  }

  /** Σ_s w_s ∂θF(x_s) (exact, by enumeration), written to `out` in θ order. */
  paramGrad(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): void {
    const { visible: nv, hidden1: n1, hidden2: n2, layout: L } = this;
    out.fill(0, 0, this.numParams);
    const e1 = new Float64Array(n1);
    const e2 = new Float64Array(n2);
    const e12 = new Float64Array(n1 * n2);
    for (let s = 0; s < n; s++) {
      const w = weights[s];
      if (w === 0) continue;
      this.exactRow(x, s * nv, e1, e2, e12);
      for (let i = 0; i < nv; i++) {
        const wx = w * x[s * nv + i];
        out[L.b + i] -= wx;
        if (wx !== 0) for (let j = 0; j < n1; j++) out[L.W1 + i * n1 + j] -= wx * e1[j];
      }
      for (let q = 0; q < n1 * n2; q++) out[L.W2 + q] -= w * e12[q];
      for (let j = 0; j < n1; j++) out[L.c1 + j] -= w * e1[j];
      for (let k = 0; k < n2; k++) out[L.c2 + k] -= w * e2[k];
    }
  }
}

/** x[off … off + len) without copying when x is a typed array. */
function sub(x: ArrayLike<number>, off: number, len: number): ArrayLike<number> {
  if (ArrayBuffer.isView(x)) return (x as Float64Array).subarray(off, off + len);
  return Array.prototype.slice.call(x, off, off + len) as number[];
}

/** out[off + i] ~ Bern(σ(field[i])), i < len, one uniform each. */
function drawLayer(rng: Stream, field: ArrayLike<number>, out: Uint8Array, off: number, len: number): void {
  for (let i = 0; i < len; i++) out[off + i] = rng.uniform() < sigmoid(field[i]) ? 1 : 0;
}

/** −μ log μ − (1 − μ) log(1 − μ), with 0·log 0 = 0. */
export function bernoulliEntropy(mu: number): number {
  let h = 0;
  if (mu > 0) h -= mu * Math.log(mu);
  if (mu < 1) h -= (1 - mu) * Math.log1p(-mu);
  return h;
}

export interface BipartiteMoments {
  /** E[x] (m). */
  x?: Float64Array;
  /** E[σ(d + Cᵀx)] (r): the expectation of the summed-out units. */
  s?: Float64Array;
  /** E[x_a σ_i] (m × r row-major). */
  xs?: Float64Array;
}

/**
 * log Σ_{x ∈ {0,1}^m} exp(aᵀx + Σ_i softplus(d_i + Σ_a x_a C[a·r + i])) in float64, the partition sum of
 * an RBM-like model with the m units x enumerated and the r units on the other side summed analytically
 * (every exact log Z and visible free energy of the DBM is one of these). Optionally the moments under
 * p(x, y) ∝ exp(aᵀx + dᵀy + xᵀCy), with E[y | x] = σ(d + Cᵀx). Enumerates in Gray-code order, updating the
 * field by one row of C per state and recomputing it every 1024 states (bounded rounding drift).
 */
export function bipartiteLogSum(
  a: ArrayLike<number>,
  C: ArrayLike<number>,
  d: ArrayLike<number>,
  moments: BipartiteMoments = {},
): number {
  const m = a.length;
  const r = d.length;
  if (C.length !== m * r) throw new RangeError(`couplings must be ${m} × ${r}`);
  if (m > 30) throw new RangeError(`enumerating 2^${m} states is out of reach`);
  const bits = new Uint8Array(m);
  const field = new Float64Array(r);
  const sig = new Float64Array(r);
  const { x: ex, s: es, xs: exs } = moments;
  ex?.fill(0, 0, m);
  es?.fill(0, 0, r);
  exs?.fill(0, 0, m * r);
  let own = 0;
  const recompute = () => {
    own = 0;
    for (let i = 0; i < r; i++) field[i] = d[i];
    for (let q = 0; q < m; q++) {
      if (bits[q] === 0) continue;
      own += a[q];
      for (let i = 0; i < r; i++) field[i] += C[q * r + i];
    }
  };
  recompute();
  const wantMoments = ex !== undefined || es !== undefined || exs !== undefined;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  const total = 2 ** m;
  for (let k = 0; k < total; k++) {
    if (k > 0) {
      // Gray code: step k flips the lowest set bit of k.
      let q = 0;
      while (((k / 2 ** q) & 1) === 0) q++;
      bits[q] ^= 1;
      if ((k & 1023) === 0) recompute();
      else {
        const sign = bits[q] === 1 ? 1 : -1;
        own += sign * a[q];
        for (let i = 0; i < r; i++) field[i] += sign * C[q * r + i];
      }
    }
    let t = own;
    for (let i = 0; i < r; i++) t += softplus(field[i]);
    let w: number;
    if (t > max) {
      // Rescale what has been accumulated to the new maximum.
      const f = Math.exp(max - t);
      sum *= f;
      if (wantMoments) {
        if (ex) for (let q = 0; q < m; q++) ex[q] *= f;
        if (es) for (let i = 0; i < r; i++) es[i] *= f;
        if (exs) for (let q = 0; q < m * r; q++) exs[q] *= f;
      }
      max = t;
      w = 1;
    } else w = Math.exp(t - max);
    sum += w;
    if (wantMoments) {
      if (es || exs) for (let i = 0; i < r; i++) sig[i] = sigmoid(field[i]);
      if (es) for (let i = 0; i < r; i++) es[i] += w * sig[i];
      for (let q = 0; q < m; q++) {
        if (bits[q] === 0) continue;
        if (ex) ex[q] += w;
        if (exs) for (let i = 0; i < r; i++) exs[q * r + i] += w * sig[i];
      }
    }
  }
  if (wantMoments) {
    if (ex) for (let q = 0; q < m; q++) ex[q] /= sum;
    if (es) for (let i = 0; i < r; i++) es[i] /= sum;
    if (exs) for (let q = 0; q < m * r; q++) exs[q] /= sum;
  }
  return max + Math.log(sum);
}
