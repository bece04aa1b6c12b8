/**
 * A Bernoulli–Bernoulli RBM stored in float32 for speed: W (nv × nh, row-major), visible bias b, hidden
 * bias c. Same model as energies/rbm.ts (which is float64 and implements the discrete Energy contract):
 *
 *   E(v, h) = −bᵀv − cᵀh − vᵀWh,   F(v) = −bᵀv − Σ_j softplus(c_j + (vᵀW)_j),
 *   p(h_j = 1 | v) = σ(c_j + (vᵀW)_j),   p(v_i = 1 | h) = σ(b_i + (Wh)_i).
 *
 * States are 0/1 bytes (Uint8Array, n × nv or n × nh row-major), as everywhere in the library.
 *
 * The arrays are public and mutable (training updates them in place). Kernels cache derived data (the
 * transpose of W) keyed on `version`: code that writes W, b or c directly must call `touch()` afterwards;
 * `setParams` and the training step do it themselves.
 */
import { Rbm } from "../energies/rbm.ts";
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";

export class RbmModel {
  readonly nv: number;
  readonly nh: number;
  readonly W: Float32Array;
  readonly b: Float32Array;
  readonly c: Float32Array;
  private ver = 0;

  /** Zero parameters, or copies of W (nv × nh row-major), b (nv), c (nh). */
  constructor(nv: number, nh: number, W?: ArrayLike<number>, b?: ArrayLike<number>, c?: ArrayLike<number>) {
    if (!(Number.isInteger(nv) && nv >= 1 && Number.isInteger(nh) && nh >= 1))
      throw new RangeError(`an RBM needs integer sizes ≥ 1, got ${nv} × ${nh}`);
    this.nv = nv;
    this.nh = nh;
    this.W = new Float32Array(nv * nh);
    this.b = new Float32Array(nv);
    this.c = new Float32Array(nh);
    if (W) this.copyInto(this.W, W, "W");
    if (b) this.copyInto(this.b, b, "b");
    if (c) this.copyInto(this.c, c, "c");
  }

  private copyInto(dst: Float32Array, src: ArrayLike<number>, name: string): void {
    if (src.length !== dst.length) throw new RangeError(`${name} must have ${dst.length} entries`);
    dst.set(src);
  }

  /** W, b, c ~ std·N(0, 1), drawn in that order (W row-major) from one stream of `key`. */
  static random(key: Key, nv: number, nh: number, std = 0.01): RbmModel {
    const m = new RbmModel(nv, nh);
    const rng = new Stream(key);
    rng.fillNormal(m.W, 0, std);
    rng.fillNormal(m.b, 0, std);
    rng.fillNormal(m.c, 0, std);
    return m;
  }

  /** Incremented by `touch`: lets kernels know when cached copies of W are stale. */
  get version(): number {
    return this.ver;
  }

  /** Marks the parameters as changed (call after writing W, b or c directly). */
  touch(): void {
    this.ver++;
  }

  get numParams(): number {
    return this.nv * this.nh + this.nv + this.nh;
  }

  /** θ = [W (row-major), b, c] as float64. */
  getParams(): Float64Array {
    const p = new Float64Array(this.numParams);
    p.set(this.W, 0);
    p.set(this.b, this.W.length);
    p.set(this.c, this.W.length + this.nv);
    return p;
  }

  /** Sets θ = [W, b, c] (rounded to float32). */
  setParams(theta: ArrayLike<number>): void {
    if (theta.length !== this.numParams) throw new RangeError(`θ must have ${this.numParams} entries`);
    const nw = this.W.length;
    for (let i = 0; i < nw; i++) this.W[i] = theta[i];
    for (let i = 0; i < this.nv; i++) this.b[i] = theta[nw + i];
    for (let j = 0; j < this.nh; j++) this.c[j] = theta[nw + this.nv + j];
    this.touch();
  }

  clone(): RbmModel {
    return new RbmModel(this.nv, this.nh, this.W, this.b, this.c);
  }

  /** The same RBM as the float64 discrete energy of energies/rbm.ts (exact: float32 → float64). */
  toEnergy(): Rbm {
    return new Rbm(this.W, this.b, this.c);
  }
}
