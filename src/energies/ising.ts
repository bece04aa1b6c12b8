/**
 * Ising model over spins s = 2x − 1 ∈ {−1, +1}^sites (stored as bits x, see discrete.ts):
 *
 *   U(s) = −½ sᵀJs − hᵀs = −Σ_{i<j} J_ij s_i s_j − Σ_i h_i s_i,   J symmetric, zero diagonal.
 *
 * β is not folded in: samplers take it (target e^{−βU}). J is kept dense (the public view) and as a
 * compressed sparse row copy of its non-zeros, so flipDelta costs O(degree) per state (O(4) on a grid,
 * O(sites) for a dense J).
 *
 * Flipping site j changes U by Δ_j = 2 s_j ((Js)_j + h_j). The relaxation is U read as a polynomial in
 * real x ∈ [0,1]^sites; it is multilinear (zero diagonal), so its gradient ∂U/∂x_j = −2((Js)_j + h_j)
 * gives the flip change exactly: (1 − 2x_j)·∂U/∂x_j = Δ_j.
 */
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";
import type { DiscreteEnergy, RelaxedGradient, SiteIndex } from "./discrete.ts";

export interface GridOptions {
  /**
   * Periodic (toroidal) boundary: the last row/column couples to the first. Default false: free
   * boundary, each site couples to its 2–4 in-grid neighbours (the seed's 3×3 image model). Periodic
   * needs rows and cols ≥ 3 (smaller sizes would double bonds).
   */
  periodic?: boolean;
}

export class IsingEnergy implements DiscreteEnergy, RelaxedGradient {
  readonly sites: number;
  /** J, sites × sites row-major (a copy; do not mutate). */
  readonly couplings: Float64Array;
  /** h, length sites (a copy; do not mutate). */
  readonly field: Float64Array;
  private readonly rowStart: Int32Array;
  private readonly col: Int32Array;
  private readonly val: Float64Array;

  /** `couplings` is d×d row-major, symmetric with zero diagonal; `field` has length d. */
  constructor(couplings: ArrayLike<number>, field: ArrayLike<number>) {
    const d = field.length;
    if (d < 1) throw new RangeError("an Ising model needs at least one site");
    if (couplings.length !== d * d) throw new RangeError(`couplings must be ${d}×${d}`);
    this.sites = d;
    this.couplings = Float64Array.from(couplings);
    this.field = Float64Array.from(field);
    let nnz = 0;
    for (let i = 0; i < d; i++) {
      if (this.couplings[i * d + i] !== 0)
        throw new RangeError(`couplings diagonal must be zero (site ${i})`);
      for (let j = 0; j < d; j++) {
        const a = this.couplings[i * d + j];
        if (!Number.isFinite(a)) throw new RangeError(`coupling (${i}, ${j}) is not finite`);
        if (a !== this.couplings[j * d + i]) throw new RangeError(`couplings not symmetric at (${i}, ${j})`);
        if (a !== 0) nnz++;
      }
    }
    this.rowStart = new Int32Array(d + 1);
    this.col = new Int32Array(nnz);
    this.val = new Float64Array(nnz);
    let p = 0;
    for (let i = 0; i < d; i++) {
      this.rowStart[i] = p;
      for (let j = 0; j < d; j++) {
        const a = this.couplings[i * d + j];
        if (a !== 0) {
          this.col[p] = j;
          this.val[p++] = a;
        }
      }
    }
    this.rowStart[d] = p;
  }

  /**
   * Nearest-neighbour model on a rows × cols grid (site r·cols + c): J = `coupling` between neighbours
   * (> 0 ferromagnetic), uniform field h = `field`. Free boundary unless `periodic`.
   */
  static grid(rows: number, cols: number, coupling: number, field = 0, opts: GridOptions = {}): IsingEnergy {
    if (!(Number.isInteger(rows) && Number.isInteger(cols) && rows >= 1 && cols >= 1))
      throw new RangeError(`grid needs positive integer sizes, got ${rows}×${cols}`);
    const periodic = opts.periodic ?? false;
    if (periodic && (rows < 3 || cols < 3)) throw new RangeError("a periodic grid needs rows, cols ≥ 3");
    const d = rows * cols;
    const j = new Float64Array(d * d);
    const bond = (a: number, b: number) => {
      j[a * d + b] = coupling;
      j[b * d + a] = coupling;
    };
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) {
        const s = r * cols + c;
        if (c + 1 < cols) bond(s, s + 1);
        else if (periodic) bond(s, r * cols);
        if (r + 1 < rows) bond(s, s + cols);
        else if (periodic) bond(s, c);
      }
    return new IsingEnergy(j, new Float64Array(d).fill(field));
  }

  /** A random dense model (spin glass): J_ij ~ N(0, couplingStd²) for i < j, h_i ~ N(0, fieldStd²). */
  static random(key: Key, sites: number, couplingStd = 1, fieldStd = 1): IsingEnergy {
    const rng = new Stream(key);
    const j = new Float64Array(sites * sites);
    for (let a = 0; a < sites; a++)
      for (let b = a + 1; b < sites; b++) {
        const v = couplingStd * rng.normal();
        j[a * sites + b] = v;
        j[b * sites + a] = v;
      }
    const h = new Float64Array(sites);
    for (let a = 0; a < sites; a++) h[a] = fieldStd * rng.normal();
    return new IsingEnergy(j, h);
  }

  /** (Js)_j + h_j for the state at x[off …]. */
  private localField(x: Uint8Array, off: number, j: number): number {
    let f = this.field[j];
    for (let p = this.rowStart[j]; p < this.rowStart[j + 1]; p++)
      f += this.val[p] * (2 * x[off + this.col[p]] - 1);
    return f;
  }

  energy(x: Uint8Array, n: number, u: Float64Array): void {
    const d = this.sites;
    for (let i = 0; i < n; i++) {
      const off = i * d;
      let e = 0;
      for (let j = 0; j < d; j++) {
        const s = 2 * x[off + j] - 1;
        // −s_j (½ (Js)_j + h_j), summed over j, counts each pair once.
        e -= s * (0.5 * (this.localField(x, off, j) - this.field[j]) + this.field[j]);
      }
      u[i] = e;
    }
  }

  flipDelta(x: Uint8Array, n: number, site: SiteIndex, out: Float64Array): void {
    const d = this.sites;
    for (let i = 0; i < n; i++) {
      const j = typeof site === "number" ? site : site[i];
      const off = i * d;
      out[i] = 2 * (2 * x[off + j] - 1) * this.localField(x, off, j);
    }
  }

  energyAndRelaxedGrad(x: Uint8Array, n: number, u: Float64Array, grad: Float64Array): void {
    const d = this.sites;
    for (let i = 0; i < n; i++) {
      const off = i * d;
      let e = 0;
      for (let j = 0; j < d; j++) {
        const f = this.localField(x, off, j);
        const h = this.field[j];
        e -= (2 * x[off + j] - 1) * (0.5 * (f - h) + h);
        grad[off + j] = -2 * f;
      }
      u[i] = e;
    }
  }
}
