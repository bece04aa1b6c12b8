/**
 * A second instance of the WebAssembly kernels, in another thread, that takes part of each large MLP call.
 *
 * The addon splits a call's tiles over its thread pool; the WebAssembly build has one thread per instance
 * (threads inside WebAssembly would need shared linear memory and a threaded libc). So a host that can run
 * two threads with shared memory (a page's worker under cross-origin isolation, or Node's worker_threads)
 * runs a helper: another instance of the same module in its own thread, fed through a SharedArrayBuffer.
 * For the MLP energy and networks (./mlp.ts) the caller's instance computes the first half of the rows and
 * the helper the second, at the same time:
 *
 *  - per-row outputs (U, ∇ₓU, the Langevin move, f, gᵀ∂f/∂x): split at a tile boundary, so every row is
 *    computed exactly as in the one-instance call;
 *  - the parameter gradient: run_vjp's fixed float64 chunks (native/src/mlp.h run_vjp_parts) are shared out,
 *    the helper's come back as they are and the caller sums all of them in chunk order.
 *
 * The results are therefore bit-identical to one instance's (tested). Jobs are synchronous for the caller:
 * it posts, computes its half, then waits (Atomics.wait: allowed in workers and in Node, not on a page's
 * main thread). A job that does not fit the shared buffer runs on the caller alone.
 *
 * Host-free: the host starts the thread, hands the buffer and the module to it and calls
 * `serveKernelHelper` there, and calls `attachWasmKernelsHelper` (./load.ts) here; ./mlp.ts and
 * ./network.ts ask `wasmKernelsHelper()` for it at each call.
 */
import { instantiateWasmKernels, type WasmKernels, type WasmKernelsBinary } from "./instance.ts";

/** A network in the caller's instance: its widths (int32) and float32 θ there (./network.ts NetParams). */
export interface HelperNet {
  readonly k: WasmKernels;
  readonly nw: number;
  readonly act: number;
  readonly numParams: number;
  readonly ptrWidths: number;
  readonly ptrTheta: number;
}

/** Control words (Int32Array over the buffer's first bytes). */
const POSTED = 0; // job sequence number, written last by the caller
const DONE = 1; // the sequence number of the last job finished, written by the helper
const OP = 2;
const STATUS = 3; // 0, a kernel status, or −1 for an exception (its message in the text area)
const NW = 4;
const ACT = 5;
const N = 6;
const ROWS = 7;
const P0 = 8;
const P1 = 9;
const SLOTS = 10; // how many arrays follow in the table
const TABLE = 16; // [byte offset, element count] per array, up to MAX_SLOTS
const MAX_SLOTS = 8;
const CONTROL_INTS = TABLE + 2 * MAX_SLOTS;
const F64_AT = 32; // Float64Array index (byte 256): c, h
const TEXT_AT = 320; // an error message, UTF-16, up to 96 characters
const TEXT_CHARS = 96;
const DATA_AT = 512;

/** Jobs. */
const Op = { Energy: 1, Langevin: 2, VjpParts: 3, Stop: 4 } as const;
type Op = (typeof Op)[keyof typeof Op];

/** The default size of the shared buffer: room for a 1M-parameter network's chunks is not needed here. */
export const KERNEL_HELPER_BYTES = 16 << 20;

const align16 = (b: number) => (b + 15) & ~15;

/** Where each array of a job lives in the buffer (widths int32, θ float32, the rest float64). */
function layout(counts: number[]): { at: number[]; end: number } {
  const at: number[] = [];
  let p = DATA_AT;
  counts.forEach((c, i) => {
    at.push(p);
    p += align16(c * (i === 0 ? 4 : i === 1 ? 4 : 8));
  });
  return { at, end: p };
}

/**
 * The caller's side. One job at a time; `splitRow`/`splitPart` say how a call is shared, `start*` post the
 * helper's share (false: it does not fit, run everything here), `finish` waits and copies its outputs out.
 */
export class KernelHelper {
  private readonly ctrl: Int32Array;
  private readonly f64: Float64Array;
  private seq = 0;
  private busy = false;
  /** Jobs the helper has finished for this caller. */
  jobs = 0;
  private outs: { at: number; len: number }[] = [];

  constructor(
    readonly buffer: SharedArrayBuffer,
    /** How long `finish` waits before it gives the helper up as dead. */
    readonly timeoutMs = 60_000,
  ) {
    if (buffer.byteLength < DATA_AT + 4096)
      throw new RangeError("kernel helper: the shared buffer is too small");
    this.ctrl = new Int32Array(buffer, 0, CONTROL_INTS);
    this.f64 = new Float64Array(buffer, 0, F64_AT + 2);
    this.seq = Atomics.load(this.ctrl, POSTED);
  }

  /**
   * Where an n-row call is split: the first row of the helper's share (a tile boundary: the start of
   * run_vjp's middle chunk), or n when the call is too small to share (one tile).
   */
  splitRow(k: WasmKernels, n: number): number {
    const parts = k.exports.ebm_net_vjp_parts_count(n);
    return parts < 2 ? n : k.exports.ebm_net_vjp_part_row(n, parts >> 1);
  }

  /** U (and ∇ₓU) of rows [r0, n): outputs u, grad (rows, rows × dim). */
  startEnergy(
    p: HelperNet,
    c: number,
    x: Float64Array,
    n: number,
    r0: number,
    dim: number,
    grad: boolean,
  ): boolean {
    const rows = n - r0;
    return this.post(
      Op.Energy,
      p,
      n,
      rows,
      0,
      0,
      c,
      0,
      [x.subarray(r0 * dim, n * dim)],
      [rows, grad ? rows * dim : 0],
    );
  }

  /** The Langevin proposal and U, ∇U there for rows [r0, n): outputs y, u, g. */
  startLangevin(
    p: HelperNet,
    c: number,
    x: Float64Array,
    gx: Float64Array,
    noise: Float64Array,
    n: number,
    r0: number,
    dim: number,
    h: number,
  ): boolean {
    const rows = n - r0;
    const [a, b] = [r0 * dim, n * dim];
    return this.post(
      Op.Langevin,
      p,
      n,
      rows,
      0,
      0,
      c,
      h,
      [x.subarray(a, b), gx.subarray(a, b), noise.subarray(a, b)],
      [rows * dim, rows, rows * dim],
    );
  }

  /**
   * run_vjp's chunks [p0, p1) of an n-row call (rows [r0, r1) of them; g: rows × m cotangents, or empty for
   * y alone): outputs the chunks' accumulators ((p1 − p0)·P), y (rows × m), gx (rows × dim), each when asked.
   */
  startVjpParts(
    p: HelperNet,
    x: Float64Array,
    g: Float64Array,
    n: number,
    p0: number,
    p1: number,
    r0: number,
    r1: number,
    dim: number,
    m: number,
    wantY: boolean,
    wantGx: boolean,
    wantParams: boolean,
  ): boolean {
    const rows = r1 - r0;
    return this.post(
      Op.VjpParts,
      p,
      n,
      rows,
      p0,
      p1,
      0,
      0,
      [x.subarray(r0 * dim, r1 * dim), g.subarray(r0 * m, r1 * m)],
      [wantParams ? (p1 - p0) * p.numParams : 0, wantY ? rows * m : 0, wantGx ? rows * dim : 0],
    );
  }

  /** Waits for the posted job and copies its outputs, in order, into `dst` (null: skip that output). */
  finish(dst: (Float64Array | null)[]): void {
    if (!this.busy) throw new Error("kernel helper: finish without a job");
    this.busy = false;
    const seq = this.seq;
    for (;;) {
      const d = Atomics.load(this.ctrl, DONE);
      if (d === seq) break;
      if (
        Atomics.wait(this.ctrl, DONE, d, this.timeoutMs) === "timed-out" &&
        Atomics.load(this.ctrl, DONE) !== seq
      )
        throw new Error(`wasm-simd: the kernel helper did not answer within ${this.timeoutMs / 1000} s`);
    }
    this.jobs++;
    const status = this.ctrl[STATUS];
    if (status !== 0)
      throw new Error(`wasm-simd: the kernel helper failed: ${readText(this.buffer, status)}`);
    this.outs.forEach((o, i) => {
      const d = dst[i];
      if (d && o.len > 0) d.set(new Float64Array(this.buffer, o.at, o.len));
    });
  }

  /** Asks the helper to return from `serveKernelHelper` (its thread may then end). */
  stop(): void {
    if (this.busy) throw new Error("kernel helper: stop while a job runs");
    this.ctrl[OP] = Op.Stop;
    Atomics.store(this.ctrl, POSTED, ++this.seq);
    Atomics.notify(this.ctrl, POSTED);
  }

  private post(
    op: Op,
    p: HelperNet,
    n: number,
    rows: number,
    p0: number,
    p1: number,
    c: number,
    h: number,
    inputs: Float64Array[],
    outputs: number[],
  ): boolean {
    if (this.busy) throw new Error("kernel helper: a job is already posted");
    const counts = [p.nw, p.numParams, ...inputs.map((a) => a.length), ...outputs];
    const { at, end } = layout(counts);
    if (end > this.buffer.byteLength || counts.length > MAX_SLOTS) return false;
    const k = p.k;
    const ctrl = this.ctrl;
    new Int32Array(this.buffer, at[0], p.nw).set(k.view(Int32Array, p.ptrWidths, p.nw));
    new Float32Array(this.buffer, at[1], p.numParams).set(k.view(Float32Array, p.ptrTheta, p.numParams));
    inputs.forEach((a, i) => new Float64Array(this.buffer, at[2 + i], a.length).set(a));
    ctrl[OP] = op;
    ctrl[NW] = p.nw;
    ctrl[ACT] = p.act;
    ctrl[N] = n;
    ctrl[ROWS] = rows;
    ctrl[P0] = p0;
    ctrl[P1] = p1;
    ctrl[SLOTS] = counts.length;
    counts.forEach((cnt, i) => {
      ctrl[TABLE + 2 * i] = at[i];
      ctrl[TABLE + 2 * i + 1] = cnt;
    });
    this.f64[F64_AT] = c;
    this.f64[F64_AT + 1] = h;
    this.outs = outputs.map((len, i) => ({ at: at[2 + inputs.length + i], len }));
    this.busy = true;
    Atomics.store(ctrl, POSTED, ++this.seq);
    Atomics.notify(ctrl, POSTED);
    return true;
  }
}

function readText(buffer: SharedArrayBuffer, status: number): string {
  if (status !== -1) return `the kernels rejected the network (status ${status})`;
  const t = new Uint16Array(buffer, TEXT_AT, TEXT_CHARS);
  let s = "";
  for (let i = 0; i < TEXT_CHARS && t[i] !== 0; i++) s += String.fromCharCode(t[i]);
  return s;
}

function writeText(buffer: SharedArrayBuffer, text: string): void {
  const t = new Uint16Array(buffer, TEXT_AT, TEXT_CHARS);
  t.fill(0);
  for (let i = 0; i < Math.min(text.length, TEXT_CHARS - 1); i++) t[i] = text.charCodeAt(i);
}

/** Runs one posted job on `k`; returns the kernel's status. */
function runJob(buffer: SharedArrayBuffer, k: WasmKernels): number {
  const ctrl = new Int32Array(buffer, 0, CONTROL_INTS);
  const f64 = new Float64Array(buffer, 0, F64_AT + 2);
  const slots = ctrl[SLOTS];
  const at: number[] = [];
  const len: number[] = [];
  for (let i = 0; i < slots; i++) {
    at.push(ctrl[TABLE + 2 * i]);
    len.push(ctrl[TABLE + 2 * i + 1]);
  }
  // The same arrays in this instance's memory: widths int32, θ float32, then float64 (0 bytes: null).
  const ptr = k.frame(...len.map((c, i) => c * (i < 2 ? 4 : 8)));
  const op = ctrl[OP];
  const inputs = op === Op.Energy ? 1 : op === Op.Langevin ? 3 : 2;
  k.write(ptr[0], new Int32Array(buffer, at[0], len[0]), len[0]);
  k.write(ptr[1], new Float32Array(buffer, at[1], len[1]), len[1]);
  for (let i = 2; i < 2 + inputs; i++) k.write(ptr[i], new Float64Array(buffer, at[i], len[i]), len[i]);
  const e = k.exports;
  const [nw, act, n, rows, c, h] = [ctrl[NW], ctrl[ACT], ctrl[N], ctrl[ROWS], f64[F64_AT], f64[F64_AT + 1]];
  let status: number;
  if (op === Op.Energy) status = e.ebm_mlp_energy(ptr[0], nw, act, c, ptr[1], ptr[2], rows, ptr[3], ptr[4]);
  else if (op === Op.Langevin)
    status = e.ebm_mlp_langevin(
      ptr[0],
      nw,
      act,
      c,
      ptr[1],
      ptr[2],
      ptr[3],
      ptr[4],
      rows,
      h,
      ptr[5],
      ptr[6],
      ptr[7],
    );
  else if (op === Op.VjpParts)
    status = e.ebm_net_vjp_parts(
      ptr[0],
      nw,
      act,
      ptr[1],
      ptr[2],
      n,
      ptr[3],
      ptr[5],
      ptr[6],
      ptr[4],
      ctrl[P0],
      ctrl[P1],
    );
  else throw new Error(`unknown job ${op}`);
  for (let i = 2 + inputs; i < slots; i++)
    if (len[i] > 0) new Float64Array(buffer, at[i], len[i]).set(k.view(Float64Array, ptr[i], len[i]));
  return status;
}

/**
 * The helper's side: instantiates the kernels from `binary` (the same ebm_kernels.wasm as the caller's) and
 * runs the jobs posted to `buffer` until the caller's `stop()`. `ready` is called once the instance exists.
 * Blocks its thread (Atomics.wait) between jobs: call it in a worker that does nothing else.
 */
export function serveKernelHelper(
  buffer: SharedArrayBuffer,
  binary: WasmKernelsBinary,
  ready?: () => void,
): void {
  const k = instantiateWasmKernels(binary);
  ready?.();
  const ctrl = new Int32Array(buffer, 0, CONTROL_INTS);
  let seen = Atomics.load(ctrl, POSTED);
  for (;;) {
    Atomics.wait(ctrl, POSTED, seen);
    const seq = Atomics.load(ctrl, POSTED);
    if (seq === seen) continue;
    seen = seq;
    const stop = ctrl[OP] === Op.Stop;
    let status = 0;
    if (!stop) {
      try {
        status = runJob(buffer, k);
      } catch (err) {
        writeText(buffer, (err as Error)?.message ?? String(err));
        status = -1;
      }
    }
    ctrl[STATUS] = status;
    Atomics.store(ctrl, DONE, seq);
    Atomics.notify(ctrl, DONE);
    if (stop) return;
  }
}
