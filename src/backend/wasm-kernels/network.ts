/**
 * Vector-output networks (src/networks/network.ts) on the WebAssembly kernels: `ebm_net_forward` and
 * `ebm_net_vjp` of native/wasm/kernels.cc — the addon's tiled forward and analytic backward pass
 * (native/src/mlp.cc), float32 inside and float64 at the boundary, shared with a helper thread when one is
 * attached (`sharedVjp`, ./helper.ts: same bits). θ's master copy is float64
 * (`getParams` returns exactly what `setParams` was given); its float32 copy and the widths live in the
 * module's memory (`NetParams`, also used by the MLP energy) until `dispose`.
 */
import type { Key } from "../../random/key.ts";
import {
  type Activation,
  initNetworkParams,
  type Network,
  type NetworkSpec,
  networkNumParams,
  networkWidths,
} from "../../networks/network.ts";
import type { WasmKernels } from "./instance.ts";
import { requireWasmKernels, wasmKernelsHelper } from "./load.ts";

/** activations.h's codes. */
export const ACT_CODES: Record<Activation, number> = { silu: 0, softplus: 1, tanh: 2, elu: 3 };

/** Frees the memory of networks that were dropped without dispose(). */
const leaked =
  typeof FinalizationRegistry === "function"
    ? new FinalizationRegistry<{ k: WasmKernels; ptr: number }>(({ k, ptr }) => k.exports.free(ptr))
    : undefined;

/**
 * A network's widths (int32) and float32 θ in the module's memory, with the float64 master copy of θ.
 * `ptrWidths`, `ptrTheta` stay valid until `dispose` (the memory may grow; offsets do not move).
 */
export class NetParams {
  readonly k: WasmKernels;
  readonly nw: number;
  readonly numParams: number;
  readonly act: number;
  readonly ptrWidths: number;
  readonly ptrTheta: number;
  private readonly theta: Float64Array;
  private readonly token = {};
  private disposed = false;

  constructor(k: WasmKernels, widths: number[], activation: Activation, theta: Float64Array) {
    this.k = k;
    this.nw = widths.length;
    this.numParams = theta.length;
    this.act = ACT_CODES[activation];
    this.theta = theta.slice();
    // One block: widths (16-byte padded), then θ as float32.
    const wBytes = (4 * this.nw + 15) & ~15;
    this.ptrWidths = k.malloc(wBytes + 4 * this.numParams);
    this.ptrTheta = this.ptrWidths + wBytes;
    leaked?.register(this, { k, ptr: this.ptrWidths }, this.token);
    k.write(this.ptrWidths, Int32Array.from(widths), this.nw);
    k.write(this.ptrTheta, Float32Array.from(theta), this.numParams);
  }

  get(): Float64Array {
    this.check();
    return this.theta.slice();
  }

  set(theta: Float64Array): void {
    this.check();
    if (theta.length !== this.numParams) {
      throw new RangeError(`setParams: expected ${this.numParams} values, got ${theta.length}`);
    }
    this.theta.set(theta);
    this.k.view(Float32Array, this.ptrTheta, this.numParams).set(theta);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    leaked?.unregister(this.token);
    this.k.exports.free(this.ptrWidths);
  }

  check(): void {
    if (this.disposed) throw new Error("used after dispose()");
  }
}

/** Throws unless n is a non-negative integer. */
export function checkN(n: number): void {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`n must be a non-negative integer, got ${n}`);
}

/** A kernel's status: 0, or 1 for a network the kernels reject (the spec was validated: a bug if seen). */
export function checkStatus(status: number, what: string): void {
  if (status !== 0)
    throw new Error(`wasm-simd: ${what}: the kernels rejected the network (status ${status})`);
}

const NONE = new Float64Array(0);

/**
 * run_vjp (y, gx and Σ_i g_iᵀ∂θf(x_i), each optional) shared with the attached helper (./helper.ts): the
 * two instances take run_vjp's chunks between them and the accumulators are summed here in chunk order, so
 * the results are the one-instance call's bits. Returns false (nothing done) when there is no helper, the
 * call is one chunk, or the job does not fit the shared buffer.
 */
export function sharedVjp(
  p: NetParams,
  x: Float64Array,
  n: number,
  g: Float64Array | null,
  y: Float64Array | null,
  gradX: Float64Array | null,
  gradParams: Float64Array | null,
  dim: number,
  m: number,
): boolean {
  const h = wasmKernelsHelper();
  if (!h) return false;
  const k = p.k;
  const e = k.exports;
  const parts = e.ebm_net_vjp_parts_count(n);
  if (parts < 2) return false;
  const P = gradParams ? p.numParams : 0;
  if (!h.postVjp(p, x, g ?? NONE, n, dim, m, parts, P > 0, y !== null, gradX !== null)) return false;
  const [px, pg, py, pgx, pacc, po] = k.frame(
    8 * n * dim,
    g ? 8 * n * m : 0,
    y ? 8 * n * m : 0,
    gradX ? 8 * n * dim : 0,
    8 * parts * P,
    8 * P,
  );
  k.write(px, x, n * dim);
  if (g) k.write(pg, g, n * m);
  const at = (ptr: number, elems: number) => (ptr === 0 ? 0 : ptr + 8 * elems);
  let status = 0;
  const theirs = h.run((q) => {
    const r0 = e.ebm_net_vjp_part_row(n, q);
    const s = e.ebm_net_vjp_parts(
      p.ptrWidths,
      p.nw,
      p.act,
      p.ptrTheta,
      at(px, r0 * dim),
      n,
      at(pg, r0 * m),
      at(py, r0 * m),
      at(pgx, r0 * dim),
      at(pacc, q * P),
      q,
      q + 1,
    );
    if (s !== 0) status = s;
  });
  checkStatus(status, "vjp");
  if (gradParams) {
    const acc = h.output(0);
    for (const q of theirs) k.view(Float64Array, pacc + 8 * q * P, P).set(acc.subarray(q * P, (q + 1) * P));
    e.ebm_net_vjp_sum_parts(pacc, parts, P, po);
    k.read(po, gradParams, P);
  }
  if (y) k.read(py, y, n * m);
  if (gradX) k.read(pgx, gradX, n * dim);
  h.rowsFromHelper(k, n, theirs, [
    [1, y, m],
    [2, gradX, dim],
  ]);
  return true;
}

/** Builds the network on the WebAssembly kernels (throws if they are unavailable). */
export async function createWasmNetwork(spec: NetworkSpec, key: Key): Promise<Network> {
  return new WasmNetwork(requireWasmKernels(), spec, key);
}

class WasmNetwork implements Network {
  readonly spec: Readonly<NetworkSpec>;
  readonly inputDim: number;
  readonly outputDim: number;
  readonly numParams: number;
  private readonly p: NetParams;

  constructor(k: WasmKernels, spec: NetworkSpec, key: Key) {
    this.spec = Object.freeze({ ...spec, hidden: [...spec.hidden] });
    this.inputDim = spec.inputDim;
    this.outputDim = spec.outputDim;
    this.numParams = networkNumParams(spec);
    this.p = new NetParams(k, networkWidths(spec), spec.activation, initNetworkParams(spec, key));
  }

  getParams(): Float64Array {
    return this.p.get();
  }

  setParams(theta: Float64Array): void {
    this.p.set(theta);
  }

  forward(x: Float64Array, n: number, y: Float64Array): void {
    const p = this.p;
    p.check();
    checkN(n);
    const k = p.k;
    if (sharedVjp(p, x, n, null, y, null, null, this.inputDim, this.outputDim)) return;
    const nx = n * this.inputDim;
    const ny = n * this.outputDim;
    const [px, py] = k.frame(8 * nx, 8 * ny);
    k.write(px, x, nx);
    checkStatus(k.exports.ebm_net_forward(p.ptrWidths, p.nw, p.act, p.ptrTheta, px, n, py), "forward");
    k.read(py, y, ny);
  }

  vjp(
    x: Float64Array,
    n: number,
    g: Float64Array,
    y: Float64Array | null,
    gradX: Float64Array | null,
    gradParams: Float64Array | null,
  ): void {
    const p = this.p;
    p.check();
    checkN(n);
    if (gradParams && gradParams.length < this.numParams) {
      throw new RangeError(`gradParams must hold ${this.numParams} values`);
    }
    if (sharedVjp(p, x, n, g, y, gradX, gradParams, this.inputDim, this.outputDim)) return;
    const k = p.k;
    const nx = n * this.inputDim;
    const ny = n * this.outputDim;
    const P = this.numParams;
    const [px, pg, py, pgx, pgp] = k.frame(
      8 * nx,
      8 * ny,
      y ? 8 * ny : 0,
      gradX ? 8 * nx : 0,
      gradParams ? 8 * P : 0,
    );
    k.write(px, x, nx);
    k.write(pg, g, ny);
    checkStatus(k.exports.ebm_net_vjp(p.ptrWidths, p.nw, p.act, p.ptrTheta, px, n, pg, py, pgx, pgp), "vjp");
    if (y) k.read(py, y, ny);
    if (gradX) k.read(pgx, gradX, nx);
    if (gradParams) k.read(pgp, gradParams, P);
  }

  dispose(): void {
    this.p.dispose();
  }
}
