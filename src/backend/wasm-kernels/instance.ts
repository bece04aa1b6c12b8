/**
 * The WebAssembly build of the native kernels (native/src built by scripts/build-wasm.mjs into
 * ./ebm_kernels.wasm; exports in native/wasm/kernels.cc): the ONE module that instantiates it and knows its
 * exports. Host-free: the host hands over the bytes (the Node entry reads the file when the backend is
 * first selected; a page or worker fetches it, see ./register.ts), so nothing here reads a file or a URL.
 *
 * Memory: the module's linear memory holds every operand. Long-lived data (a network's widths and float32
 * θ) is malloc'ed by its owner and freed on dispose; per-call operands go to one grow-only scratch block
 * (`frame`), written before the call and read after it. A kernel may grow the memory (its own scratch),
 * which detaches earlier views of it: views are made afresh from `memory.buffer` on every access.
 */

/** The exports of ebm_kernels.wasm (pointers are byte offsets into `memory`; 0 is null). */
export interface WasmKernelExports {
  readonly memory: WebAssembly.Memory;
  _initialize?(): void;
  malloc(bytes: number): number;
  free(ptr: number): void;
  ebm_abi_version(): number;
  ebm_mlp_energy(
    widths: number,
    nw: number,
    act: number,
    c: number,
    theta: number,
    x: number,
    n: number,
    u: number,
    grad: number,
  ): number;
  ebm_mlp_langevin(
    widths: number,
    nw: number,
    act: number,
    c: number,
    theta: number,
    x: number,
    gx: number,
    noise: number,
    n: number,
    h: number,
    y: number,
    u: number,
    g: number,
  ): number;
  ebm_mlp_jet(
    widths: number,
    nw: number,
    act: number,
    theta: number,
    x: number,
    v: number,
    n: number,
    a: number,
    b: number,
    slope: number,
    curv: number,
    out: number,
  ): number;
  ebm_mlp_score_matching(
    widths: number,
    nw: number,
    act: number,
    c: number,
    theta: number,
    x: number,
    n: number,
    w: number,
    out: number,
    J: number,
  ): number;
  ebm_net_forward(
    widths: number,
    nw: number,
    act: number,
    theta: number,
    x: number,
    n: number,
    y: number,
  ): number;
  ebm_net_vjp(
    widths: number,
    nw: number,
    act: number,
    theta: number,
    x: number,
    n: number,
    g: number,
    y: number,
    gx: number,
    gp: number,
  ): number;
  ebm_net_vjp_parts_count(n: number): number;
  ebm_net_vjp_part_row(n: number, p: number): number;
  ebm_net_vjp_parts(
    widths: number,
    nw: number,
    act: number,
    theta: number,
    x: number,
    n: number,
    g: number,
    y: number,
    gx: number,
    acc: number,
    p0: number,
    p1: number,
  ): number;
  ebm_net_vjp_sum_parts(acc: number, parts: number, P: number, out: number): void;
  ebm_resample_multinomial(w: number, n: number, total: number, state: number, m: number, out: number): void;
  ebm_chain_streams_seed(hi: number, lo: number, first: number, count: number, states: number): void;
  ebm_chain_normals(
    states: number,
    n: number,
    zigX: number,
    zigF: number,
    zigR: number,
    out: number,
    dim: number,
  ): void;
  ebm_mala_chains_propose(
    x: number,
    g: number,
    drift: number,
    noise: number,
    states: number,
    n: number,
    dim: number,
    zigX: number,
    zigF: number,
    zigR: number,
    y: number,
  ): void;
  ebm_mala_chains_select(
    x: number,
    gx: number,
    ux: number,
    y: number,
    gy: number,
    uy: number,
    drift: number,
    invMass: number,
    beta: number,
    quarterInvH: number,
    states: number,
    n: number,
    dim: number,
    acceptProb: number,
    accepted: number,
    divergent: number,
  ): void;
}

/** The ABI of native/wasm/kernels.cc this module speaks (kAbiVersion there). */
export const WASM_KERNELS_ABI = 2;

/** What a host may hand over: the bytes of ebm_kernels.wasm, or the module compiled from them. */
export type WasmKernelsBinary = ArrayBuffer | ArrayBufferView | WebAssembly.Module;

/** Typed arrays the kernels read or write. */
type Typed = Float64Array | Float32Array | Int32Array | Uint8Array;
type TypedCtor = { new (buffer: ArrayBuffer, offset: number, length: number): Typed };

/** One instance of the kernels, with helpers to move operands in and out of its memory. */
export class WasmKernels {
  readonly exports: WasmKernelExports;
  private scratchPtr = 0;
  private scratchBytes = 0;

  constructor(
    instance: WebAssembly.Instance,
    /** The compiled module (a helper thread instantiates it again). */
    readonly module: WebAssembly.Module,
  ) {
    this.exports = instance.exports as unknown as WasmKernelExports;
  }

  /** malloc that throws when the memory cannot grow. */
  malloc(bytes: number): number {
    const p = this.exports.malloc(Math.max(bytes, 1));
    if (p === 0) throw new RangeError(`wasm-simd: out of memory (${bytes} bytes)`);
    return p;
  }

  /**
   * Pointers to blocks of the given sizes in bytes, laid out in the scratch block (grown as needed; each
   * block 16-byte aligned; size 0 gives the null pointer). Valid until the next `frame` call.
   */
  frame(...sizes: number[]): number[] {
    let total = 0;
    for (const s of sizes) total += (s + 15) & ~15;
    if (total > this.scratchBytes) {
      if (this.scratchPtr) this.exports.free(this.scratchPtr);
      this.scratchPtr = 0;
      const bytes = Math.max(total, 2 * this.scratchBytes);
      this.scratchPtr = this.malloc(bytes);
      this.scratchBytes = bytes;
    }
    let p = this.scratchPtr;
    return sizes.map((s) => {
      if (s === 0) return 0;
      const at = p;
      p += (s + 15) & ~15;
      return at;
    });
  }

  /** A view of `length` elements at `ptr` (made afresh: the memory may have grown since the last one). */
  view<T extends Typed>(
    ctor: { new (buffer: ArrayBuffer, offset: number, length: number): T },
    ptr: number,
    length: number,
  ): T {
    return new ctor(this.exports.memory.buffer, ptr, length);
  }

  /** Copies the first `length` elements of src to `ptr` (no-op for the null pointer). */
  write(ptr: number, src: Typed, length: number): void {
    if (ptr === 0 || length === 0) return;
    const ctor = src.constructor as TypedCtor;
    const dst = new ctor(this.exports.memory.buffer, ptr, length);
    dst.set(src.length === length ? src : src.subarray(0, length));
  }

  /** Copies `length` elements at `ptr` into the start of dst. */
  read(ptr: number, dst: Typed, length: number): void {
    if (ptr === 0 || length === 0) return;
    const ctor = dst.constructor as TypedCtor;
    dst.set(new ctor(this.exports.memory.buffer, ptr, length));
  }
}

/** Host support for WebAssembly SIMD128, checked by validating a 1-function module that uses it. */
export function simdUnsupported(): string | undefined {
  if (typeof WebAssembly !== "object") return "this host has no WebAssembly";
  // (module (func (result v128) (v128.const i32x4 0 0 0 0)))
  const probe = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
  ]);
  return WebAssembly.validate(probe) ? undefined : "this host's WebAssembly has no SIMD (simd128)";
}

function toModule(binary: WasmKernelsBinary): WebAssembly.Module {
  if (binary instanceof WebAssembly.Module) return binary;
  return new WebAssembly.Module(binary as BufferSource);
}

/** Checks the instance's ABI and runs its constructors. */
function ready(instance: WebAssembly.Instance, module: WebAssembly.Module): WasmKernels {
  const k = new WasmKernels(instance, module);
  const abi = typeof k.exports.ebm_abi_version === "function" ? k.exports.ebm_abi_version() : -1;
  if (abi !== WASM_KERNELS_ABI) {
    throw new Error(
      `ebm_kernels.wasm speaks ABI ${abi}, this library ${WASM_KERNELS_ABI}; rebuild it (node scripts/build-wasm.mjs)`,
    );
  }
  k.exports._initialize?.();
  return k;
}

/** Instantiates the kernels synchronously (Node, workers; fine for a binary of this size anywhere). */
export function instantiateWasmKernels(binary: WasmKernelsBinary): WasmKernels {
  const module = toModule(binary);
  return ready(new WebAssembly.Instance(module, {}), module);
}

/** Instantiates the kernels asynchronously (a browser's main thread prefers this). */
export async function instantiateWasmKernelsAsync(binary: WasmKernelsBinary): Promise<WasmKernels> {
  const module =
    binary instanceof WebAssembly.Module ? binary : await WebAssembly.compile(binary as BufferSource);
  return ready(await WebAssembly.instantiate(module, {}), module);
}
