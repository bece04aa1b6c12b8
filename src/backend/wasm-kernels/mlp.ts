/**
 * The MLP energy on the WebAssembly kernels: U(x) = MLP_θ(x) + ½·c·|x|², same spec, θ layout and
 * initialisation as every backend (src/energies/mlp.ts), float32 inside and float64 at the boundary. The
 * native addon's kernels (native/src/mlp.cc) compiled to WebAssembly SIMD (native/wasm/kernels.cc): U and
 * ∇ₓU, the fused Langevin proposal, Σ w_i ∂θU, the jet kernel behind the score-gradient capabilities
 * (src/energies/score-grad.ts) and the forward-Laplacian exact score matching — each one call. Per call the
 * operands are copied into the module's memory and the outputs back; θ stays there (NetParams). U, ∇ₓU,
 * the Langevin move and Σ w_i ∂θU are shared with a helper thread when one is attached (./helper.ts: same
 * bits); the rest run on this instance alone.
 */
import type { LangevinProposer } from "../../energies/contract.ts";
import { initMlpParams, type MlpEnergy, type MlpSpec, mlpNumParams } from "../../energies/mlp.ts";
import type { DirectionalParamGrad, ScoreParamGrad } from "../../energies/score-grad.ts";
import type { Key } from "../../random/key.ts";
import type { KernelHelper } from "./helper.ts";
import type { WasmKernels } from "./instance.ts";
import { requireWasmKernels, wasmKernelsHelper } from "./load.ts";
import { checkN, checkStatus, NetParams, sharedVjp } from "./network.ts";

export type WasmMlpEnergy = MlpEnergy & LangevinProposer & ScoreParamGrad & DirectionalParamGrad;

/** Builds the MLP energy on the WebAssembly kernels (throws if they are unavailable). */
export async function createWasmMlpEnergy(spec: MlpSpec, key: Key): Promise<WasmMlpEnergy> {
  return new WasmMlp(requireWasmKernels(), spec, key);
}

class WasmMlp implements WasmMlpEnergy {
  readonly spec: Readonly<MlpSpec>;
  readonly dim: number;
  readonly numParams: number;
  private readonly c: number;
  private readonly p: NetParams;
  private ones = new Float64Array(0);

  constructor(k: WasmKernels, spec: MlpSpec, key: Key) {
    this.spec = Object.freeze({ ...spec, hidden: [...spec.hidden] });
    this.dim = spec.inputDim;
    this.numParams = mlpNumParams(spec);
    this.c = spec.confinement ?? 0;
    this.p = new NetParams(k, [spec.inputDim, ...spec.hidden, 1], spec.activation, initMlpParams(spec, key));
  }

  // --- parameters -----------------------------------------------------------------------------------------

  getParams(): Float64Array {
    return this.p.get();
  }

  setParams(theta: Float64Array): void {
    this.p.set(theta);
  }

  dispose(): void {
    this.p.dispose();
  }

  private begin(n: number): WasmKernels {
    this.p.check();
    checkN(n);
    return this.p.k;
  }

  private checkOut(out: Float64Array): void {
    if (out.length < this.numParams) throw new RangeError(`out must hold ${this.numParams} values`);
  }

  // --- Energy ---------------------------------------------------------------------------------------------

  energy(x: Float64Array, n: number, u: Float64Array): void {
    this.run(x, n, u, null);
  }

  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    this.run(x, n, u, grad);
  }

  private run(x: Float64Array, n: number, u: Float64Array, grad: Float64Array | null): void {
    const k = this.begin(n);
    const p = this.p;
    const d = this.dim;
    const nd = n * d;
    const [px, pu, pg] = k.frame(8 * nd, 8 * n, grad ? 8 * nd : 0);
    k.write(px, x, nd);
    const theirs = byRows(
      k,
      n,
      (h, parts) => h.postEnergy(p, this.c, x, n, d, parts, grad !== null),
      (r0, rows) =>
        k.exports.ebm_mlp_energy(
          p.ptrWidths,
          p.nw,
          p.act,
          this.c,
          p.ptrTheta,
          px + 8 * r0 * d,
          rows,
          pu + 8 * r0,
          grad ? pg + 8 * r0 * d : 0,
        ),
      "energy",
    );
    k.read(pu, u, n);
    if (grad) k.read(pg, grad, nd);
    theirs?.h.rowsFromHelper(k, n, theirs.parts, [
      [0, u, 1],
      [1, grad, d],
    ]);
  }

  /** y = x − h·gradX + √(2h)·noise, then U(y) and ∇U(y): one call (shared with the helper, if attached). */
  langevinStep(
    x: Float64Array,
    gradX: Float64Array,
    noise: Float64Array,
    n: number,
    h: number,
    y: Float64Array,
    uY: Float64Array,
    gradY: Float64Array,
  ): void {
    const k = this.begin(n);
    if (!(h >= 0 && Number.isFinite(h))) throw new RangeError(`h must be finite and ≥ 0, got ${h}`);
    const p = this.p;
    const d = this.dim;
    const nd = n * d;
    // x and gradX are copied in, so the kernel's y and gradY get their own blocks even when the caller's alias.
    const [px, pgx, pz, py, pu, pgy] = k.frame(8 * nd, 8 * nd, 8 * nd, 8 * nd, 8 * n, 8 * nd);
    k.write(px, x, nd);
    k.write(pgx, gradX, nd);
    k.write(pz, noise, nd);
    const theirs = byRows(
      k,
      n,
      (hp, parts) => hp.postLangevin(p, this.c, x, gradX, noise, n, d, parts, h),
      (r0, rows) =>
        k.exports.ebm_mlp_langevin(
          p.ptrWidths,
          p.nw,
          p.act,
          this.c,
          p.ptrTheta,
          px + 8 * r0 * d,
          pgx + 8 * r0 * d,
          pz + 8 * r0 * d,
          rows,
          h,
          py + 8 * r0 * d,
          pu + 8 * r0,
          pgy + 8 * r0 * d,
        ),
      "langevinStep",
    );
    k.read(py, y, nd);
    k.read(pu, uY, n);
    k.read(pgy, gradY, nd);
    theirs?.h.rowsFromHelper(k, n, theirs.parts, [
      [0, y, d],
      [1, uY, 1],
      [2, gradY, d],
    ]);
  }

  // --- TrainableEnergy ------------------------------------------------------------------------------------

  paramGrad(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): void {
    const k = this.begin(n);
    this.checkOut(out);
    const p = this.p;
    if (sharedVjp(p, x, n, weights, null, null, out, this.dim, 1)) return;
    const nd = n * this.dim;
    const P = this.numParams;
    const [px, pw, po] = k.frame(8 * nd, 8 * n, 8 * P);
    k.write(px, x, nd);
    k.write(pw, weights, n);
    checkStatus(
      k.exports.ebm_net_vjp(p.ptrWidths, p.nw, p.act, p.ptrTheta, px, n, pw, 0, 0, po),
      "paramGrad",
    );
    k.read(po, out, P);
  }

  // --- ScoreParamGrad, DirectionalParamGrad ---------------------------------------------------------------

  /** Σ_i ∂θ[r_i·∇ₓU(x_i)]: the jet kernel at first order (v = r, a = 1). The confinement has no θ. */
  scoreParamGrad(x: Float64Array, n: number, r: Float64Array, out: Float64Array): void {
    if (this.ones.length < n) this.ones = new Float64Array(n).fill(1);
    this.jet(x, r, n, this.ones, null, out, null);
  }

  /** Σ_i ∂θ[a_i v_i·∇ₓU + b_i v_iᵀ∇²ₓU v_i] and κ_i = v_iᵀ∇²ₓU v_i (the confinement adds c·|v_i|² to κ_i). */
  directionalParamGrad(
    x: Float64Array,
    v: Float64Array,
    n: number,
    a: Float64Array,
    b: Float64Array,
    out: Float64Array,
    curv: Float64Array,
  ): void {
    this.jet(x, v, n, a, b, out, curv);
    if (this.c !== 0) {
      const d = this.dim;
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += v[i * d + k] * v[i * d + k];
        curv[i] += this.c * s;
      }
    }
  }

  private jet(
    x: Float64Array,
    v: Float64Array,
    n: number,
    a: Float64Array,
    b: Float64Array | null,
    out: Float64Array,
    curv: Float64Array | null,
  ): void {
    const k = this.begin(n);
    this.checkOut(out);
    const p = this.p;
    const nd = n * this.dim;
    const P = this.numParams;
    const [px, pv, pa, pb, pc, po] = k.frame(8 * nd, 8 * nd, 8 * n, b ? 8 * n : 0, curv ? 8 * n : 0, 8 * P);
    k.write(px, x, nd);
    k.write(pv, v, nd);
    k.write(pa, a, n);
    if (b) k.write(pb, b, n);
    checkStatus(
      k.exports.ebm_mlp_jet(p.ptrWidths, p.nw, p.act, p.ptrTheta, px, pv, n, pa, pb, 0, pc, po),
      "directionalParamGrad",
    );
    k.read(po, out, P);
    if (curv) k.read(pc, curv, n);
  }

  // --- ScoreMatchable -------------------------------------------------------------------------------------

  /** J = Σ_i w_i[½|∇ₓU(x_i)|² − ΔₓU(x_i)] (returned) and ∂θJ (into `out`): one call, as the native energy. */
  scoreMatching(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): number {
    const k = this.begin(n);
    this.checkOut(out);
    const p = this.p;
    const nd = n * this.dim;
    const P = this.numParams;
    const [px, pw, po, pJ] = k.frame(8 * nd, 8 * n, 8 * P, 8);
    k.write(px, x, nd);
    k.write(pw, weights, n);
    checkStatus(
      k.exports.ebm_mlp_score_matching(p.ptrWidths, p.nw, p.act, this.c, p.ptrTheta, px, n, pw, po, pJ),
      "scoreMatching",
    );
    k.read(po, out, P);
    return k.view(Float64Array, pJ, 1)[0];
  }
}

/**
 * Runs a per-row kernel `call(firstRow, rows)` (its status returned) over n rows: shared chunk by chunk with
 * the attached helper when there is one, the call has more than one chunk and `post` hands the helper the
 * job (./helper.ts); else in one call here. Returns the helper and the chunks it computed, whose rows the
 * caller then copies from it (`rowsFromHelper`), or undefined when nothing was shared.
 */
function byRows(
  k: WasmKernels,
  n: number,
  post: (h: KernelHelper, parts: number) => boolean,
  call: (r0: number, rows: number) => number,
  what: string,
): { h: KernelHelper; parts: number[] } | undefined {
  const e = k.exports;
  const h = wasmKernelsHelper();
  const parts = h ? e.ebm_net_vjp_parts_count(n) : 1;
  if (!h || parts < 2 || !post(h, parts)) {
    checkStatus(call(0, n), what);
    return undefined;
  }
  let status = 0;
  const theirs = h.run((q) => {
    const r0 = e.ebm_net_vjp_part_row(n, q);
    const s = call(r0, e.ebm_net_vjp_part_row(n, q + 1) - r0);
    if (s !== 0) status = s;
  });
  checkStatus(status, what);
  return { h, parts: theirs };
}
