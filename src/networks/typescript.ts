/**
 * The portable TypeScript network (backend "typescript"): f_θ : R^k → R^m of ./spec.ts in float64, with
 * hand-written forward and reverse passes over the layer stack. No WebAssembly, no addon, no host
 * dependency: it runs wherever JavaScript does. The scalar MLP energy (src/energies/mlp-typescript.ts) is
 * this network with one output, plus the confinement term, and uses its second-order jets below.
 *
 * Rows are processed in tiles of TILE points (the tile's activations stay in cache; memory does not grow
 * with n). Per tile:
 *  - forward: z_l = h_{l−1}W_l + b_l, h_l = f(z_l), keeping h_l and f′(z_l) when a backward pass follows;
 *  - reverse (vjp), seeded with the cotangents G (r×m): ∂W_L += h_{L−1}ᵀG, ∂b_L += Σ_rows G,
 *    δ_{L−1} = (G W_Lᵀ) ⊙ f′(z_{L−1}), ∂W_l += h_{l−1}ᵀδ_l, ∂b_l += Σ_rows δ_l,
 *    δ_{l−1} = (δ_l W_lᵀ) ⊙ f′(z_{l−1}), ∇ₓ = δ_1 W_1ᵀ.
 *  - jets (one output only; as native/src/mlp.cc): for tangents t_1 … t_D the forward pass carries, per
 *    layer, z, ż_k = ḣ_k W (k = 1 … D) and, optionally, one summed second-order stream z̈ = ḧW, with
 *        h = f(z),   ḣ_k = f′ ż_k,   ḧ = f″ Σ_k ż_k² + f′ z̈        (input: x, t_k, 0),
 *    so that at the linear output u̇_k = t_k·∇ₓf and ü = Σ_k t_kᵀ∇²ₓf t_k. Tangents are either one
 *    direction per row (D = 1: v·∇ₓf, vᵀ∇²ₓf v) or the coordinate axes (D = k: ∂_k f and the exact
 *    Laplacian Δₓf in k + 2 streams). Reverse mode through that pass, seeded with ∂/∂u̇_k = a_k and ∂/∂ü = b
 *    (Ḣ̄_k = a_k v_L, Ḧ̄ = b v_L, H̄ = 0 at the last hidden layer, v_L the output weights):
 *        Z̄ = H̄ f′ + f″ Σ_k Ḣ̄_k ż_k + Ḧ̄ (f‴ Σ_k ż_k² + f″ z̈),   Ż̄_k = Ḣ̄_k f′ + 2Ḧ̄ f″ ż_k,   Z̈̄ = Ḧ̄ f′,
 *        ∂W += [H; Ḣ_1…Ḣ_D; Ḧ]ᵀ[Z̄; Ż̄_1…Ż̄_D; Z̈̄],  ∂b += Σ_rows Z̄,  [H̄; Ḣ̄; Ḧ̄]_prev = [Z̄; Ż̄; Z̈̄]·Wᵀ.
 *    The S = 1 + D (+ 1) streams of a layer are stacked (S·r rows for a tile of r points), so each layer is
 *    three matrix products over S·r rows plus one elementwise pass forward and one backward.
 *
 * Everything is float64, including θ (no float32 copy): results agree with the float32 backends to their
 * rounding. Parameter gradients are accumulated tile by tile in row order, every per-row output is
 * independent of the row's position in the batch, and the activations use the portable exp and log of
 * src/random/elementary.ts: the same inputs give the same bits run to run and on every host (Node, a
 * browser).
 */
import { portableExpFast, portableLog, portableLog1p } from "../random/elementary.ts";
import type { Key } from "../random/key.ts";
import {
  type Activation,
  initNetworkParams,
  type Network,
  type NetworkSpec,
  networkNumParams,
  networkWidths,
} from "./spec.ts";

/** Rows per tile of the forward and backward passes. */
const TILE = 64;
/** Target stacked rows (S·r) per tile of the jet passes. */
const JET_STREAM_ROWS = 256;

// --- activations ------------------------------------------------------------------------------------------
//
// Built from + − × ÷ and the portable exp and log of src/random/elementary.ts (not Math.exp, Math.tanh, …,
// whose last bit differs between hosts), so the network gives the same bits in Node and in a browser. The
// forms avoid overflow and cancellation: σ(z) and 1 − σ(z) from e^{−|z|}; tanh and ELU's eᶻ − 1 from
// `expm1Of`; 1 − tanh²z as 4e/(1 + e)² with e = e^{−2|z|}.

/** eᶻ − 1 given u = eᶻ, accurate near 0 too (Kahan: (u − 1)·z / log u; elsewhere u − 1 loses nothing). */
function expm1Of(u: number, z: number): number {
  if (u === 1) return z;
  return z > -0.5 && z < 0.5 ? ((u - 1) * z) / portableLog(u) : u - 1;
}

/** tanh z and 1 − tanh²z into j[0], j[1]. */
function tanhJet(z: number, j: Float64Array): void {
  const a = z < 0 ? -z : z;
  const e = portableExpFast(-2 * a);
  const em = expm1Of(e, -2 * a); // e^{−2|z|} − 1
  const t = -em / (2 + em);
  j[0] = z < 0 ? -t : t;
  j[1] = (4 * e) / ((1 + e) * (1 + e));
}

/** h[q] ← f(h[q]) in place for q < len, and d[q] = f′ (of the same z) if d is given. */
function activate(act: Activation, h: Float64Array, d: Float64Array | null, len: number): void {
  switch (act) {
    case "silu":
      for (let q = 0; q < len; q++) {
        const z = h[q];
        const e = portableExpFast(-Math.abs(z));
        const t = 1 / (1 + e);
        const s = z >= 0 ? t : e * t; // σ(z)
        h[q] = z * s;
        if (d) d[q] = s * (1 + z * (z >= 0 ? e * t : t));
      }
      return;
    case "softplus":
      for (let q = 0; q < len; q++) {
        const z = h[q];
        const e = portableExpFast(-Math.abs(z));
        h[q] = Math.max(z, 0) + portableLog1p(e);
        if (d) d[q] = z >= 0 ? 1 / (1 + e) : e / (1 + e);
      }
      return;
    case "tanh": {
      const j = new Float64Array(2);
      for (let q = 0; q < len; q++) {
        tanhJet(h[q], j);
        h[q] = j[0];
        if (d) d[q] = j[1];
      }
      return;
    }
    case "elu":
      for (let q = 0; q < len; q++) {
        const z = h[q];
        if (z > 0) {
          if (d) d[q] = 1;
        } else {
          const e = portableExpFast(z);
          h[q] = expm1Of(e, z);
          if (d) d[q] = e;
        }
      }
      return;
  }
}

/**
 * f, f′, f″, f‴ at z into j[0 … 3]. With s = σ(z), q = 1 − s, p = s·q, t = tanh z:
 *   SiLU      f = z s,  f′ = s(1 + z q),  f″ = p(2 + z(q − s)),  f‴ = p(3(q − s) + z(1 − 6p))
 *   softplus  f = log(1 + eᶻ),  f′ = s,  f″ = p,  f‴ = p(q − s)
 *   tanh      f = t,  f′ = 1 − t²,  f″ = −2t(1 − t²),  f‴ = (4 − 6(1 − t²))(1 − t²)
 *   ELU (α=1) f = z (z > 0) or eᶻ − 1,  f′ = 1 or eᶻ,  f″ = f‴ = 0 or eᶻ  (f″ jumps at 0: only C¹)
 * f and f′ are the same bits as `activate` gives.
 */
function activationJet(act: Activation, z: number, j: Float64Array): void {
  switch (act) {
    case "silu":
    case "softplus": {
      const e = portableExpFast(-Math.abs(z));
      const t = 1 / (1 + e);
      const s = z >= 0 ? t : e * t;
      const q = z >= 0 ? e * t : t;
      const p = s * q;
      if (act === "silu") {
        j[0] = z * s;
        j[1] = s * (1 + z * q);
        j[2] = p * (2 + z * (q - s));
        j[3] = p * (3 * (q - s) + z * (1 - 6 * p));
      } else {
        j[0] = Math.max(z, 0) + portableLog1p(e);
        j[1] = z >= 0 ? t : e / (1 + e);
        j[2] = p;
        j[3] = p * (q - s);
      }
      return;
    }
    case "tanh": {
      tanhJet(z, j);
      const t = j[0];
      const q = j[1];
      j[2] = -2 * t * q;
      j[3] = (4 - 6 * q) * q;
      return;
    }
    case "elu":
      if (z > 0) {
        j[0] = z;
        j[1] = 1;
        j[2] = 0;
        j[3] = 0;
      } else {
        const e = portableExpFast(z);
        j[0] = expm1Of(e, z);
        j[1] = e;
        j[2] = e;
        j[3] = e;
      }
      return;
  }
}

// --- dense products (row-major, offsets into flat arrays) --------------------------------------------------

/*
 * Both products are built from one micro-kernel (the BLIS shape): a 4×4 block of C held in sixteen locals,
 * each step of its loop loading four values of A and four of B for sixteen multiply-adds. Every element of
 * C receives one sum, accumulated in a local in the order of the inner index and then added to C — edge
 * rows and columns too (`dotAcc`) — so a row's result does not depend on its position in the batch.
 */

/**
 * C[c + p·ldc + q] += Σ_{t<T} A[a + p·as + t·at]·B[b + q + t·bt] for p, q < 4: four rows or columns of A
 * (stride `as`), four adjacent columns of B.
 */
function block4x4(
  T: number,
  A: Float64Array,
  a: number,
  as: number,
  at: number,
  B: Float64Array,
  b: number,
  bt: number,
  C: Float64Array,
  c: number,
  ldc: number,
): void {
  let c00 = 0;
  let c01 = 0;
  let c02 = 0;
  let c03 = 0;
  let c10 = 0;
  let c11 = 0;
  let c12 = 0;
  let c13 = 0;
  let c20 = 0;
  let c21 = 0;
  let c22 = 0;
  let c23 = 0;
  let c30 = 0;
  let c31 = 0;
  let c32 = 0;
  let c33 = 0;
  for (let t = 0; t < T; t++, a += at, b += bt) {
    const b0 = B[b];
    const b1 = B[b + 1];
    const b2 = B[b + 2];
    const b3 = B[b + 3];
    const x0 = A[a];
    const x1 = A[a + as];
    const x2 = A[a + 2 * as];
    const x3 = A[a + 3 * as];
    c00 += x0 * b0;
    c01 += x0 * b1;
    c02 += x0 * b2;
    c03 += x0 * b3;
    c10 += x1 * b0;
    c11 += x1 * b1;
    c12 += x1 * b2;
    c13 += x1 * b3;
    c20 += x2 * b0;
    c21 += x2 * b1;
    c22 += x2 * b2;
    c23 += x2 * b3;
    c30 += x3 * b0;
    c31 += x3 * b1;
    c32 += x3 * b2;
    c33 += x3 * b3;
  }
  C[c] += c00;
  C[c + 1] += c01;
  C[c + 2] += c02;
  C[c + 3] += c03;
  c += ldc;
  C[c] += c10;
  C[c + 1] += c11;
  C[c + 2] += c12;
  C[c + 3] += c13;
  c += ldc;
  C[c] += c20;
  C[c + 1] += c21;
  C[c + 2] += c22;
  C[c + 3] += c23;
  c += ldc;
  C[c] += c30;
  C[c + 1] += c31;
  C[c + 2] += c32;
  C[c + 3] += c33;
}

/** C[c] += Σ_{t<T} A[a + t·at]·B[b + t·bt] (the edges of the products, in the micro-kernel's order). */
function dotAcc(
  T: number,
  A: Float64Array,
  a: number,
  at: number,
  B: Float64Array,
  b: number,
  bt: number,
  C: Float64Array,
  c: number,
): void {
  let s = 0;
  for (let t = 0; t < T; t++, a += at, b += bt) s += A[a] * B[b];
  C[c] += s;
}

/** C[r×N] += A[r×K]·B[K×N] (A at aOff, row stride K; B at bOff, row stride N; C at cOff, row stride N). */
function gemmAcc(
  r: number,
  K: number,
  N: number,
  A: Float64Array,
  aOff: number,
  B: Float64Array,
  bOff: number,
  C: Float64Array,
  cOff: number,
): void {
  const r4 = r - (r % 4);
  const n4 = N - (N % 4);
  for (let i = 0; i < r; i++) {
    const ai = aOff + i * K;
    const ci = cOff + i * N;
    if (i < r4 && i % 4 === 0)
      for (let j = 0; j < n4; j += 4) block4x4(K, A, ai, K, 1, B, bOff + j, N, C, ci + j, N);
    for (let j = i < r4 ? n4 : 0; j < N; j++) dotAcc(K, A, ai, 1, B, bOff + j, N, C, ci + j);
  }
}

/** C[K×N] += Aᵀ·B for A r×K (at aOff) and B r×N (at bOff); C at cOff, row stride N. */
function gemmTnAcc(
  r: number,
  K: number,
  N: number,
  A: Float64Array,
  aOff: number,
  B: Float64Array,
  bOff: number,
  C: Float64Array,
  cOff: number,
): void {
  const k4 = K - (K % 4);
  const n4 = N - (N % 4);
  for (let k = 0; k < K; k++) {
    const ck = cOff + k * N;
    if (k < k4 && k % 4 === 0)
      for (let j = 0; j < n4; j += 4) block4x4(r, A, aOff + k, 1, K, B, bOff + j, N, C, ck + j, N);
    for (let j = k < k4 ? n4 : 0; j < N; j++) dotAcc(r, A, aOff + k, K, B, bOff + j, N, C, ck + j);
  }
}

/** c[cOff + j] += Σ_i B[bOff + i·N + j] (column sums of r×N, added). */
function colSumAcc(r: number, N: number, B: Float64Array, bOff: number, c: Float64Array, cOff: number): void {
  for (let i = 0; i < r; i++) {
    const bi = bOff + i * N;
    for (let j = 0; j < N; j++) c[cOff + j] += B[bi + j];
  }
}

function checkRows(n: number): void {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`n must be a non-negative integer, got ${n}`);
}

function checkLength(a: Float64Array, len: number, what: string): void {
  if (a.length < len) throw new RangeError(`${what} must hold ${len} values, got ${a.length}`);
}

// --- jets -------------------------------------------------------------------------------------------------

/** A jet pass of the one-output network (see the header): what to propagate and what to return. */
export interface JetRequest {
  /** n rows of x (n × k). */
  x: Float64Array;
  n: number;
  /** One tangent per row (n × k, D = 1), or null for the coordinate axes (D = k). */
  directions: Float64Array | null;
  /** Carry the summed second-order stream (ü; seeds on ü). */
  second: boolean;
  /** u̇ (n × D), written if given. */
  slope?: Float64Array;
  /** ü (n), written if given (needs `second`). */
  curv?: Float64Array;
  /**
   * Reverse pass: `seed` fills a tile's seeds, sa (r × D) = ∂/∂u̇ and sb (r) = ∂/∂ü, given the tile's
   * first row i0 and its jets u1 (r × D) and u2 (r); tiles come in row order. Σ_i ∂θ[Σ_k sa_ik u̇_ik +
   * sb_i ü_i] is written to `grad` (length numParams). Without them, values only.
   */
  seed?: (
    i0: number,
    r: number,
    u1: Float64Array,
    u2: Float64Array,
    sa: Float64Array,
    sb: Float64Array,
  ) => void;
  grad?: Float64Array;
}

/** Buffers of the jet passes for S streams of R rows (reused while the shape fits). */
class JetWorkspace {
  readonly in0: Float64Array;
  readonly hs: Float64Array[] = [];
  readonly zd: Float64Array[] = [];
  readonly fd: Float64Array[] = [];
  readonly zb: Float64Array;
  readonly hb: Float64Array;
  readonly u1: Float64Array;
  readonly u2: Float64Array;
  readonly sa: Float64Array;
  readonly sb: Float64Array;

  constructor(
    readonly widths: readonly number[],
    readonly D: number,
    readonly second: boolean,
    readonly R: number,
  ) {
    const S = 1 + D + (second ? 1 : 0);
    const so = second ? 1 : 0;
    let maxHidden = 0;
    for (let l = 1; l + 1 < widths.length; l++) {
      const N = widths[l];
      maxHidden = Math.max(maxHidden, N);
      this.hs.push(new Float64Array(S * R * N));
      this.zd.push(new Float64Array((D + so) * R * N));
      this.fd.push(new Float64Array((2 + so) * R * N));
    }
    this.in0 = new Float64Array(S * R * widths[0]);
    this.zb = new Float64Array(S * R * maxHidden);
    this.hb = new Float64Array(S * R * maxHidden);
    this.u1 = new Float64Array(R * D);
    this.u2 = new Float64Array(R);
    this.sa = new Float64Array(R * D);
    this.sb = new Float64Array(R);
  }
}

// --- the network ------------------------------------------------------------------------------------------

/** The "typescript" backend's network factory: θ = initNetworkParams(spec, key). */
export async function createTypescriptNetwork(spec: NetworkSpec, key: Key): Promise<TypescriptNetwork> {
  return new TypescriptNetwork(spec, initNetworkParams(spec, key));
}

/** The float64 network: the `Network` contract, and (one output only) the jet passes of the MLP energy. */
export class TypescriptNetwork implements Network {
  readonly spec: Readonly<NetworkSpec>;
  readonly inputDim: number;
  readonly outputDim: number;
  readonly numParams: number;
  private readonly act: Activation;
  /** [k, hidden…, m]. */
  private readonly widths: readonly number[];
  /** Number of weight layers (hidden layers + 1). */
  private readonly L: number;
  /** Offsets of W_l and b_l in θ. */
  private readonly wOff: number[] = [];
  private readonly bOff: number[] = [];
  private readonly theta: Float64Array;
  /** W_lᵀ (fan-out × fan-in) per layer, for the reverse passes; rebuilt after setParams. */
  private wt: Float64Array[] | null = null;
  /** Per hidden layer: activations h and derivatives f′ of one tile. */
  private readonly tileH: Float64Array[] = [];
  private readonly tileD: Float64Array[] = [];
  private readonly tileOut: Float64Array;
  private readonly bufA: Float64Array;
  private readonly bufB: Float64Array;
  private jetWs: JetWorkspace | null = null;
  private readonly jetScratch = new Float64Array(4);
  private disposed = false;

  /** The network with parameters `theta` (copied; length networkNumParams(spec)). */
  constructor(spec: NetworkSpec, theta: Float64Array) {
    this.spec = Object.freeze({ ...spec, hidden: [...spec.hidden] });
    this.inputDim = spec.inputDim;
    this.outputDim = spec.outputDim;
    this.act = spec.activation;
    this.widths = networkWidths(spec);
    this.L = this.widths.length - 1;
    this.numParams = networkNumParams(spec);
    let off = 0;
    for (let l = 0; l < this.L; l++) {
      this.wOff.push(off);
      this.bOff.push(off + this.widths[l] * this.widths[l + 1]);
      off += this.widths[l] * this.widths[l + 1] + this.widths[l + 1];
    }
    if (theta.length !== this.numParams) {
      throw new RangeError(`theta: expected ${this.numParams} values, got ${theta.length}`);
    }
    this.theta = theta.slice();
    let maxHidden = 0;
    for (let l = 1; l < this.L; l++) {
      this.tileH.push(new Float64Array(TILE * this.widths[l]));
      this.tileD.push(new Float64Array(TILE * this.widths[l]));
      maxHidden = Math.max(maxHidden, this.widths[l]);
    }
    this.tileOut = new Float64Array(TILE * this.outputDim);
    this.bufA = new Float64Array(TILE * Math.max(maxHidden, this.inputDim));
    this.bufB = new Float64Array(TILE * Math.max(maxHidden, this.inputDim));
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
    this.wt = null;
  }

  dispose(): void {
    this.disposed = true;
    this.jetWs = null;
  }

  private check(): void {
    if (this.disposed) throw new Error("network used after dispose()");
  }

  /** W_lᵀ for every layer (built on first use after a change of θ). */
  private transposed(): Float64Array[] {
    if (this.wt) return this.wt;
    const wt: Float64Array[] = [];
    for (let l = 0; l < this.L; l++) {
      const K = this.widths[l];
      const N = this.widths[l + 1];
      const t = new Float64Array(K * N);
      const w = this.wOff[l];
      for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) t[j * K + k] = this.theta[w + k * N + j];
      wt.push(t);
    }
    this.wt = wt;
    return wt;
  }

  // --- forward and reverse passes -------------------------------------------------------------------------

  /** C (r × N at cOff) = A (r × K at aOff)·W_l + b_l. */
  private linear(l: number, r: number, A: Float64Array, aOff: number, C: Float64Array, cOff: number): void {
    const K = this.widths[l];
    const N = this.widths[l + 1];
    const b = this.bOff[l];
    for (let i = 0; i < r; i++) for (let j = 0; j < N; j++) C[cOff + i * N + j] = this.theta[b + j];
    gemmAcc(r, K, N, A, aOff, this.theta, this.wOff[l], C, cOff);
  }

  /** Forward pass of rows i0 … i0 + r − 1 of x into tileOut (and tileH, with f′ in tileD if keepDer). */
  private forwardTile(x: Float64Array, i0: number, r: number, keepDer: boolean): void {
    let A = x;
    let aOff = i0 * this.inputDim;
    for (let l = 0; l + 1 < this.L; l++) {
      const H = this.tileH[l];
      this.linear(l, r, A, aOff, H, 0);
      activate(this.act, H, keepDer ? this.tileD[l] : null, r * this.widths[l + 1]);
      A = H;
      aOff = 0;
    }
    this.linear(this.L - 1, r, A, aOff, this.tileOut, 0);
  }

  /**
   * Reverse pass of the tile held by forwardTile(keepDer), seeded with rows i0 … of g: ∇ₓ into gradX's rows
   * (if given), Σ_rows gᵀ∂θf added to grad (if given).
   */
  private backwardTile(
    x: Float64Array,
    i0: number,
    r: number,
    g: Float64Array,
    gradX: Float64Array | null,
    grad: Float64Array | null,
  ): void {
    const wt = this.transposed();
    const m = this.outputDim;
    const k = this.inputDim;
    const last = this.L - 1;
    const gOff = i0 * m;
    const top = this.widths[last];
    if (grad) {
      gemmTnAcc(r, top, m, this.tileH[last - 1], 0, g, gOff, grad, this.wOff[last]);
      colSumAcc(r, m, g, gOff, grad, this.bOff[last]);
    }
    // dH = G·W_Lᵀ, then δ_l = dH ⊙ f′ and dH_prev = δ_l·W_lᵀ down the stack.
    let cur = this.bufA;
    let next = this.bufB;
    cur.fill(0, 0, r * top);
    gemmAcc(r, m, top, g, gOff, wt[last], 0, cur, 0);
    for (let l = last - 1; l >= 0; l--) {
      const N = this.widths[l + 1];
      const K = this.widths[l];
      const D = this.tileD[l];
      for (let q = 0; q < r * N; q++) cur[q] *= D[q];
      if (grad) {
        if (l > 0) gemmTnAcc(r, K, N, this.tileH[l - 1], 0, cur, 0, grad, this.wOff[l]);
        else gemmTnAcc(r, K, N, x, i0 * k, cur, 0, grad, this.wOff[l]);
        colSumAcc(r, N, cur, 0, grad, this.bOff[l]);
      }
      if (l > 0) {
        next.fill(0, 0, r * K);
        gemmAcc(r, N, K, cur, 0, wt[l], 0, next, 0);
        [cur, next] = [next, cur];
      } else if (gradX) {
        gradX.fill(0, i0 * k, (i0 + r) * k);
        gemmAcc(r, N, K, cur, 0, wt[0], 0, gradX, i0 * k);
      }
    }
  }

  // --- Network --------------------------------------------------------------------------------------------

  forward(x: Float64Array, n: number, y: Float64Array): void {
    this.check();
    checkRows(n);
    const m = this.outputDim;
    checkLength(x, n * this.inputDim, "x");
    checkLength(y, n * m, "y");
    for (let i0 = 0; i0 < n; i0 += TILE) {
      const r = Math.min(TILE, n - i0);
      this.forwardTile(x, i0, r, false);
      y.set(this.tileOut.subarray(0, r * m), i0 * m);
    }
  }

  vjp(
    x: Float64Array,
    n: number,
    g: Float64Array,
    y: Float64Array | null,
    gradX: Float64Array | null,
    gradParams: Float64Array | null,
  ): void {
    this.check();
    checkRows(n);
    const m = this.outputDim;
    checkLength(x, n * this.inputDim, "x");
    if (y) checkLength(y, n * m, "y");
    if (gradX) checkLength(gradX, n * this.inputDim, "gradX");
    if (gradParams) checkLength(gradParams, this.numParams, "gradParams");
    gradParams?.fill(0, 0, this.numParams);
    if (!gradX && !gradParams) {
      if (y) this.forward(x, n, y);
      return;
    }
    checkLength(g, n * m, "g");
    for (let i0 = 0; i0 < n; i0 += TILE) {
      const r = Math.min(TILE, n - i0);
      this.forwardTile(x, i0, r, true);
      if (y) y.set(this.tileOut.subarray(0, r * m), i0 * m);
      this.backwardTile(x, i0, r, g, gradX, gradParams);
    }
  }

  // --- jets (one output) ----------------------------------------------------------------------------------

  /** The jet pass of `req` (see the header and JetRequest); the network must have one output. */
  jets(req: JetRequest): void {
    this.check();
    if (this.outputDim !== 1) throw new Error("jets need a network with one output");
    const { x, n, directions, second } = req;
    checkRows(n);
    const k = this.inputDim;
    const D = directions ? 1 : k;
    checkLength(x, n * k, "x");
    if (directions) checkLength(directions, n * k, "directions");
    if (req.slope) checkLength(req.slope, n * D, "slope");
    if (req.curv) checkLength(req.curv, n, "curv");
    const grad = req.seed && req.grad ? req.grad : null;
    if (grad) {
      checkLength(grad, this.numParams, "grad");
      grad.fill(0, 0, this.numParams);
    }
    const S = 1 + D + (second ? 1 : 0);
    const R = Math.max(1, Math.min(TILE, Math.floor(JET_STREAM_ROWS / S)));
    let ws = this.jetWs;
    if (!ws || ws.D !== D || ws.second !== second || ws.R !== R) {
      ws = new JetWorkspace(this.widths, D, second, R);
      this.jetWs = ws;
    }
    for (let i0 = 0; i0 < n; i0 += R) {
      const r = Math.min(R, n - i0);
      this.jetForwardTile(ws, x, directions, i0, r);
      if (req.slope) req.slope.set(ws.u1.subarray(0, r * D), i0 * D);
      if (req.curv) req.curv.set(ws.u2.subarray(0, r), i0);
      if (grad) {
        req.seed!(i0, r, ws.u1, ws.u2, ws.sa, ws.sb);
        this.jetReverseTile(ws, r, grad);
      }
    }
  }

  /** Streams [x; t_1 … t_D; 0] of rows i0 … i0 + r − 1 through the stack; u̇ into ws.u1, ü into ws.u2. */
  private jetForwardTile(
    ws: JetWorkspace,
    x: Float64Array,
    directions: Float64Array | null,
    i0: number,
    r: number,
  ): void {
    const { D, second } = ws;
    const S = 1 + D + (second ? 1 : 0);
    const k = this.inputDim;
    const rk = r * k;
    const in0 = ws.in0;
    in0.set(x.subarray(i0 * k, (i0 + r) * k), 0);
    in0.fill(0, rk, S * rk);
    if (directions) in0.set(directions.subarray(i0 * k, (i0 + r) * k), rk);
    else for (let t = 0; t < D; t++) for (let i = 0; i < r; i++) in0[(1 + t) * rk + i * k + t] = 1;

    const th = this.theta;
    const J = this.jetScratch;
    let A = in0;
    for (let l = 0; l + 1 < this.L; l++) {
      const K = this.widths[l];
      const N = this.widths[l + 1];
      const rN = r * N;
      const H = ws.hs[l];
      const Z = ws.zd[l];
      const F = ws.fd[l];
      // Stream 0 starts from the bias, the tangent streams from 0.
      const b = this.bOff[l];
      for (let i = 0; i < r; i++) for (let j = 0; j < N; j++) H[i * N + j] = th[b + j];
      H.fill(0, rN, S * rN);
      gemmAcc(S * r, K, N, A, 0, th, this.wOff[l], H, 0);
      for (let q = 0; q < rN; q++) {
        activationJet(this.act, H[q], J);
        const f1 = J[1];
        const f2 = J[2];
        let s2 = 0;
        for (let t = 1; t <= D; t++) {
          const zt = H[t * rN + q];
          Z[(t - 1) * rN + q] = zt;
          H[t * rN + q] = f1 * zt;
          s2 += zt * zt;
        }
        if (second) {
          const zz = H[(D + 1) * rN + q];
          Z[D * rN + q] = zz;
          H[(D + 1) * rN + q] = f2 * s2 + f1 * zz;
          F[2 * rN + q] = J[3];
        }
        H[q] = J[0];
        F[q] = f1;
        F[rN + q] = f2;
      }
      A = H;
    }
    // Output: u̇_t = ḣ_t·v, ü = ḧ·v (v = W_L, one column).
    const K = this.widths[this.L - 1];
    const rK = r * K;
    const v = this.wOff[this.L - 1];
    for (let i = 0; i < r; i++) {
      for (let t = 0; t < D; t++) {
        const h = (1 + t) * rK + i * K;
        let s = 0;
        for (let j = 0; j < K; j++) s += A[h + j] * th[v + j];
        ws.u1[i * D + t] = s;
      }
      let s = 0;
      if (second) {
        const h = (S - 1) * rK + i * K;
        for (let j = 0; j < K; j++) s += A[h + j] * th[v + j];
      }
      ws.u2[i] = s;
    }
  }

  /** Reverse pass of the tile held by jetForwardTile, seeded with ws.sa, ws.sb; adds to grad. */
  private jetReverseTile(ws: JetWorkspace, r: number, grad: Float64Array): void {
    const { D, second, sa, sb, zb, hb } = ws;
    const S = 1 + D + (second ? 1 : 0);
    const th = this.theta;
    const wt = this.transposed();
    const last = this.L - 1;
    const v = this.wOff[last];
    // ∂v_L = Σ_i Σ_t sa_it ḣ_t + sb_i ḧ (the output bias moves neither u̇ nor ü).
    {
      const K = this.widths[last];
      const rK = r * K;
      const A = ws.hs[last - 1];
      for (let i = 0; i < r; i++) {
        for (let t = 0; t < D; t++) {
          const a = sa[i * D + t];
          const h = (1 + t) * rK + i * K;
          for (let j = 0; j < K; j++) grad[v + j] += a * A[h + j];
        }
        if (second) {
          const b = sb[i];
          const h = (S - 1) * rK + i * K;
          for (let j = 0; j < K; j++) grad[v + j] += b * A[h + j];
        }
      }
    }
    for (let l = last - 1; l >= 0; l--) {
      const K = this.widths[l];
      const N = this.widths[l + 1];
      const rN = r * N;
      const Z = ws.zd[l];
      const F = ws.fd[l];
      const top = l === last - 1;
      const bl = this.bOff[l];
      for (let i = 0; i < r; i++) {
        for (let j = 0; j < N; j++) {
          const q = i * N + j;
          const f1 = F[q];
          const f2 = F[rN + q];
          const vj = top ? th[v + j] : 0;
          let zbar = top ? 0 : hb[q] * f1;
          const hbs = second ? (top ? sb[i] * vj : hb[(S - 1) * rN + q]) : 0;
          let s2 = 0;
          for (let t = 1; t <= D; t++) {
            const hbt = top ? sa[i * D + t - 1] * vj : hb[t * rN + q];
            const zt = Z[(t - 1) * rN + q];
            zbar += f2 * hbt * zt;
            let zbt = hbt * f1;
            if (second) {
              zbt += 2 * hbs * f2 * zt;
              s2 += zt * zt;
            }
            zb[t * rN + q] = zbt;
          }
          if (second) {
            zbar += hbs * (F[2 * rN + q] * s2 + f2 * Z[D * rN + q]);
            zb[(S - 1) * rN + q] = hbs * f1;
          }
          zb[q] = zbar;
          grad[bl + j] += zbar;
        }
      }
      gemmTnAcc(S * r, K, N, l > 0 ? ws.hs[l - 1] : ws.in0, 0, zb, 0, grad, this.wOff[l]);
      if (l > 0) {
        hb.fill(0, 0, S * r * K);
        gemmAcc(S * r, N, K, zb, 0, wt[l], 0, hb, 0);
      }
    }
  }
}
