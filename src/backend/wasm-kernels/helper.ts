/**
 * A second instance of the WebAssembly kernels, in another thread, that takes part of each large MLP call.
 *
 * The addon splits a call's tiles over its thread pool; the WebAssembly build has one thread per instance
 * (threads inside WebAssembly would need shared linear memory and a threaded libc). So a host that can run
 * two threads with shared memory (a page's worker under cross-origin isolation, or Node's worker_threads)
 * runs a helper: another instance of the same module in its own thread, fed through a SharedArrayBuffer.
 *
 * A call of n rows is cut into run_vjp's fixed chunks of whole tiles (native/src/mlp.h: vjp_parts(n),
 * vjp_part_row). The caller posts the whole call; then both threads take the next chunk from a shared
 * counter until none is left (so a thread slowed by something else on the machine takes fewer), each
 * computing it in its own instance exactly as the one-instance call would: per-row outputs (U, ∇ₓU, the
 * Langevin move, f, gᵀ∂f/∂x) from whole tiles, the parameter gradient as the chunk's own float64
 * accumulator. The helper's chunks come back through the buffer and the caller sums all accumulators in
 * chunk order (sum_vjp_parts), so every result is the one-instance call's bits (tested), whoever took
 * which chunk. Jobs are synchronous for the caller (Atomics.wait: allowed in workers and in Node, not on a
 * page's main thread). A job that does not fit the shared buffer runs on the caller alone.
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
const DONE = 1; // the sequence number of the last job the helper finished its chunks of
const OP = 2;
const STATUS = 3; // 0, a kernel status, or −1 for an exception (its message in the text area)
const NW = 4;
const ACT = 5;
const N = 6;
const PARTS = 7;
const NEXT = 8; // the next chunk to take (Atomics.add by both threads)
const SLOTS = 9; // how many arrays follow in the table
const TABLE = 16; // [byte offset, element count] per array, up to MAX_SLOTS
const MAX_SLOTS = 8;
const OWNER = TABLE + 2 * MAX_SLOTS; // per chunk: 1 when the helper computed it
const MAX_PARTS = 32;
const CONTROL_INTS = OWNER + MAX_PARTS;
const F64_AT = 32; // Float64Array index (byte 256): c, h
const TEXT_AT = 320; // an error message, UTF-16, up to 96 characters
const TEXT_CHARS = 96;
const DATA_AT = 512;

/** Jobs: the MLP energy (U, ∇ₓU), its Langevin move, and run_vjp's chunks. */
const Op = { Energy: 1, Langevin: 2, Vjp: 3, Stop: 4 } as const;
type Op = (typeof Op)[keyof typeof Op];
/** Inputs per job after widths and θ: x | x, gx, noise | x, g. */
const INPUTS: Record<number, number> = { [Op.Energy]: 1, [Op.Langevin]: 3, [Op.Vjp]: 2 };

/** The default size of the shared buffer. */
export const KERNEL_HELPER_BYTES = 16 << 20;

const align16 = (b: number) => (b + 15) & ~15;

/** Where each array of a job lives in the buffer (widths int32, θ float32, the rest float64). */
function layout(counts: number[]): { at: number[]; end: number } {
  const at: number[] = [];
  let p = DATA_AT;
  counts.forEach((c, i) => {
    at.push(p);
    p += align16(c * (i < 2 ? 4 : 8));
  });
  return { at, end: p };
}

/**
 * The caller's side. `post*` post a whole call (false: it does not fit, run it here alone), `run` takes
 * chunks with the helper until none is left and waits for it, `rowsFromHelper` and `output` give the
 * helper's chunks of the outputs.
 */
export class KernelHelper {
  private readonly ctrl: Int32Array;
  private readonly f64: Float64Array;
  private seq = 0;
  private busy = false;
  private outs: { at: number; len: number }[] = [];
  /** Jobs the helper has finished for this caller, and the chunks of them it computed. */
  jobs = 0;
  chunks = 0;

  constructor(
    readonly buffer: SharedArrayBuffer,
    /** How long `run` waits for the helper before it gives it up as dead. */
    readonly timeoutMs = 60_000,
  ) {
    if (buffer.byteLength < DATA_AT + 4096)
      throw new RangeError("kernel helper: the shared buffer is too small");
    this.ctrl = new Int32Array(buffer, 0, CONTROL_INTS);
    this.f64 = new Float64Array(buffer, 0, F64_AT + 2);
    this.seq = Atomics.load(this.ctrl, POSTED);
  }

  /** U (and ∇ₓU) of n rows in `parts` chunks: outputs u (n), grad (n × dim). */
  postEnergy(
    p: HelperNet,
    c: number,
    x: Float64Array,
    n: number,
    dim: number,
    parts: number,
    grad: boolean,
  ): boolean {
    return this.post(Op.Energy, p, n, parts, c, 0, [x.subarray(0, n * dim)], [n, grad ? n * dim : 0]);
  }

  /** The Langevin proposal and U, ∇U there for n rows in `parts` chunks: outputs y, u, g. */
  postLangevin(
    p: HelperNet,
    c: number,
    x: Float64Array,
    gx: Float64Array,
    noise: Float64Array,
    n: number,
    dim: number,
    parts: number,
    h: number,
  ): boolean {
    const nd = n * dim;
    return this.post(
      Op.Langevin,
      p,
      n,
      parts,
      c,
      h,
      [x.subarray(0, nd), gx.subarray(0, nd), noise.subarray(0, nd)],
      [nd, n, nd],
    );
  }

  /**
   * run_vjp's vjp_parts(n) chunks of an n-row call (g: n × m cotangents, or empty for y alone): outputs the
   * chunks' accumulators (parts·P), y (n × m), gx (n × dim), each when asked for.
   */
  postVjp(
    p: HelperNet,
    x: Float64Array,
    g: Float64Array,
    n: number,
    dim: number,
    m: number,
    parts: number,
    wantParams: boolean,
    wantY: boolean,
    wantGx: boolean,
  ): boolean {
    return this.post(
      Op.Vjp,
      p,
      n,
      parts,
      0,
      0,
      [x.subarray(0, n * dim), g.subarray(0, n * m)],
      [wantParams ? parts * p.numParams : 0, wantY ? n * m : 0, wantGx ? n * dim : 0],
    );
  }

  /**
   * Takes chunks until none is left, computing each here with `part(p)`, then waits for the helper's.
   * Returns the chunks the helper computed.
   */
  run(part: (p: number) => void): number[] {
    if (!this.busy) throw new Error("kernel helper: run without a job");
    const ctrl = this.ctrl;
    const parts = ctrl[PARTS];
    try {
      for (let p = Atomics.add(ctrl, NEXT, 1); p < parts; p = Atomics.add(ctrl, NEXT, 1)) part(p);
    } finally {
      // Whatever happened here, the helper finishes its chunks before the buffer is reused.
      this.busy = false;
      this.wait();
    }
    const status = ctrl[STATUS];
    if (status !== 0)
      throw new Error(`wasm-simd: the kernel helper failed: ${readText(this.buffer, status)}`);
    const mine: number[] = [];
    for (let p = 0; p < parts; p++) if (ctrl[OWNER + p] === 1) mine.push(p);
    this.chunks += mine.length;
    return mine;
  }

  /** Output `i` of the job as laid out in the buffer (valid until the next post). */
  output(i: number): Float64Array {
    const o = this.outs[i];
    return new Float64Array(this.buffer, o.at, o.len);
  }

  /**
   * Copies the rows of the helper's chunks (`theirs`, from `run`) of per-row outputs into place: for each
   * [output index, destination or null, values per row], the rows of those chunks of an n-row call.
   */
  rowsFromHelper(
    k: WasmKernels,
    n: number,
    theirs: number[],
    outs: [number, Float64Array | null, number][],
  ): void {
    for (const q of theirs) {
      const r0 = k.exports.ebm_net_vjp_part_row(n, q);
      const r1 = k.exports.ebm_net_vjp_part_row(n, q + 1);
      for (const [i, dst, width] of outs) {
        if (!dst) continue;
        const o = this.outs[i];
        dst.set(new Float64Array(this.buffer, o.at + 8 * r0 * width, (r1 - r0) * width), r0 * width);
      }
    }
  }

  /** Asks the helper to return from `serveKernelHelper` (its thread may then end). */
  stop(): void {
    if (this.busy) throw new Error("kernel helper: stop while a job runs");
    this.ctrl[OP] = Op.Stop;
    Atomics.store(this.ctrl, POSTED, ++this.seq);
    Atomics.notify(this.ctrl, POSTED);
  }

  private wait(): void {
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
  }

  private post(
    op: Op,
    p: HelperNet,
    n: number,
    parts: number,
    c: number,
    h: number,
    inputs: Float64Array[],
    outputs: number[],
  ): boolean {
    if (this.busy) throw new Error("kernel helper: a job is already posted");
    const counts = [p.nw, p.numParams, ...inputs.map((a) => a.length), ...outputs];
    const { at, end } = layout(counts);
    if (end > this.buffer.byteLength || counts.length > MAX_SLOTS || parts > MAX_PARTS) return false;
    const k = p.k;
    const ctrl = this.ctrl;
    new Int32Array(this.buffer, at[0], p.nw).set(k.view(Int32Array, p.ptrWidths, p.nw));
    new Float32Array(this.buffer, at[1], p.numParams).set(k.view(Float32Array, p.ptrTheta, p.numParams));
    inputs.forEach((a, i) => new Float64Array(this.buffer, at[2 + i], a.length).set(a));
    ctrl[OP] = op;
    ctrl[NW] = p.nw;
    ctrl[ACT] = p.act;
    ctrl[N] = n;
    ctrl[PARTS] = parts;
    ctrl[SLOTS] = counts.length;
    counts.forEach((cnt, i) => {
      ctrl[TABLE + 2 * i] = at[i];
      ctrl[TABLE + 2 * i + 1] = cnt;
    });
    ctrl.fill(0, OWNER, OWNER + parts);
    this.f64[F64_AT] = c;
    this.f64[F64_AT + 1] = h;
    this.outs = outputs.map((len, i) => ({ at: at[2 + inputs.length + i], len }));
    this.busy = true;
    Atomics.store(ctrl, NEXT, 0);
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

/** Takes chunks of the posted job until none is left, computing them on `k`; returns the first bad status. */
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
  const op = ctrl[OP];
  const inputs = INPUTS[op];
  if (inputs === undefined) throw new Error(`unknown job ${op}`);
  // The same arrays in this instance's memory: widths int32, θ float32, then float64 (0 elements: null).
  const ptr = k.frame(...len.map((c, i) => c * (i < 2 ? 4 : 8)));
  k.write(ptr[0], new Int32Array(buffer, at[0], len[0]), len[0]);
  k.write(ptr[1], new Float32Array(buffer, at[1], len[1]), len[1]);
  for (let i = 2; i < 2 + inputs; i++) k.write(ptr[i], new Float64Array(buffer, at[i], len[i]), len[i]);
  const e = k.exports;
  const [nw, act, n, parts, c, h] = [ctrl[NW], ctrl[ACT], ctrl[N], ctrl[PARTS], f64[F64_AT], f64[F64_AT + 1]];
  const widths = new Int32Array(buffer, at[0], nw);
  const dim = widths[0];
  const m = widths[nw - 1];
  const P = len[1];
  /** Copies elements [from, to) of slot i back to the buffer. */
  const back = (i: number, from: number, to: number) => {
    if (len[i] > 0 && to > from)
      new Float64Array(buffer, at[i] + 8 * from, to - from).set(
        k.view(Float64Array, ptr[i] + 8 * from, to - from),
      );
  };
  const off = (i: number, elems: number) => (ptr[i] === 0 ? 0 : ptr[i] + 8 * elems);
  let status = 0;
  for (let p = Atomics.add(ctrl, NEXT, 1); p < parts; p = Atomics.add(ctrl, NEXT, 1)) {
    const r0 = e.ebm_net_vjp_part_row(n, p);
    const r1 = e.ebm_net_vjp_part_row(n, p + 1);
    const rows = r1 - r0;
    let s: number;
    if (op === Op.Energy) {
      s = e.ebm_mlp_energy(ptr[0], nw, act, c, ptr[1], off(2, r0 * dim), rows, off(3, r0), off(4, r0 * dim));
      back(3, r0, r1);
      back(4, r0 * dim, r1 * dim);
    } else if (op === Op.Langevin) {
      const [a, b] = [r0 * dim, r1 * dim];
      s = e.ebm_mlp_langevin(
        ptr[0],
        nw,
        act,
        c,
        ptr[1],
        off(2, a),
        off(3, a),
        off(4, a),
        rows,
        h,
        off(5, a),
        off(6, r0),
        off(7, a),
      );
      back(5, a, b);
      back(6, r0, r1);
      back(7, a, b);
    } else {
      s = e.ebm_net_vjp_parts(
        ptr[0],
        nw,
        act,
        ptr[1],
        off(2, r0 * dim),
        n,
        off(3, r0 * m),
        off(5, r0 * m),
        off(6, r0 * dim),
        off(4, p * P),
        p,
        p + 1,
      );
      back(4, p * P, (p + 1) * P);
      back(5, r0 * m, r1 * m);
      back(6, r0 * dim, r1 * dim);
    }
    ctrl[OWNER + p] = 1;
    if (s !== 0 && status === 0) status = s;
  }
  return status;
}

/**
 * The helper's side: instantiates the kernels from `binary` (the same ebm_kernels.wasm as the caller's) and
 * takes chunks of the jobs posted to `buffer` until the caller's `stop()`. `ready` is called once the
 * instance exists. Blocks its thread (Atomics.wait) between jobs: call it in a worker that does nothing else.
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
        // Leave no chunk for the caller to wait on: it takes the rest (its results are discarded).
      }
    }
    ctrl[STATUS] = status;
    Atomics.store(ctrl, DONE, seq);
    Atomics.notify(ctrl, DONE);
    if (stop) return;
  }
}
