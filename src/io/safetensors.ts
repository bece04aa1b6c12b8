/**
 * The safetensors format (https://github.com/huggingface/safetensors), read and written in float64:
 *
 *   [8 bytes: N, little-endian u64] [N bytes: UTF-8 JSON header] [data buffer]
 *
 * The header maps tensor names to {"dtype", "shape", "data_offsets": [begin, end]} (offsets in bytes,
 * relative to the start of the data buffer) plus an optional "__metadata__" map of strings. Data is
 * little-endian, row-major. The reader validates like the reference implementation: header size within
 * the file, JSON object, known dtypes, non-negative integer shapes, end − begin = (number of elements) ×
 * (dtype size), and tensors tile the data buffer exactly (no gaps, no overlap, nothing after the last).
 * Decoding to Float64Array supports F64, F32, F16 and BF16; other dtypes are listed but rejected with a
 * message when decoded. Every problem throws `SafetensorsError` with a one-line message.
 *
 * Hostile files: `readSafetensorsFile` reads only regular files (not devices, FIFOs or folders), refuses a
 * file over `maxBytes` before reading it, and checks the header length against the file size before
 * reading the rest. Messages never echo the file's bytes (a text file's first 8 bytes read as a header
 * length, or a snippet of a non-JSON header); names from a valid header are shown with control
 * characters escaped.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats, statSync } from "node:fs";
import { writeFileAtomic } from "./files.ts";

/**
 * Why a safetensors file was refused: its content ("format"), its kind ("not-regular": a folder, device,
 * FIFO or socket) or its size ("too-large": over `maxBytes`).
 */
export type SafetensorsProblem = "format" | "not-regular" | "too-large";

export class SafetensorsError extends Error {
  override name = "SafetensorsError";
  readonly problem: SafetensorsProblem;
  constructor(message: string, problem: SafetensorsProblem = "format") {
    super(message);
    this.problem = problem;
  }
}

/** Bytes per element of every dtype the format defines. */
const DTYPE_SIZE: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};

export const DECODABLE_DTYPES = ["F64", "F32", "F16", "BF16"] as const;
export type WritableDtype = "F64" | "F32";

/** The reference implementation's limit on the header size. */
const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Byte offsets in the data buffer. */
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsFile {
  readonly metadata: Readonly<Record<string, string>>;
  /** Tensors in header order. */
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  /** Decodes a tensor to float64 (row-major); throws for a missing tensor or an unsupported dtype. */
  getFloat64(name: string): { shape: number[]; data: Float64Array };
}

/**
 * The header length `n` read from the first 8 bytes must fit in a file of `size` bytes. The number is not
 * shown when it does not fit: it is then the first 8 bytes of some other file, not a length.
 */
function checkHeaderLength(n: number, size: number): void {
  if (8 + n > size)
    throw new SafetensorsError(
      `the header length in its first 8 bytes runs past the end of the file (${size} bytes): not a safetensors file, or a truncated one`,
    );
  if (n > MAX_HEADER_BYTES)
    throw new SafetensorsError(`header length ${n} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
}

/** A tensor or metadata name from a header, quoted for a message: controls escaped, at most 80 characters. */
function q(name: string): string {
  let out = "";
  let count = 0;
  for (const ch of name) {
    if (count++ >= 80) return `'${out}…'`;
    const c = ch.codePointAt(0) as number;
    out += c < 0x20 || (c >= 0x7f && c <= 0x9f) ? `\\x${c.toString(16).padStart(2, "0")}` : ch;
  }
  return `'${out}'`;
}

function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** Parses and validates a safetensors byte buffer. Tensor data is decoded lazily by `getFloat64`. */
export function parseSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < 8)
    throw new SafetensorsError(`file is too short (${bytes.length} bytes) to hold the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const n = hi * 4294967296 + lo;
  checkHeaderLength(n, bytes.length);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new SafetensorsError("header is not valid UTF-8");
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch {
    // The engine's message quotes the text: say where, not what.
    throw new SafetensorsError(`header is not valid JSON (${n} bytes after the length field)`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header))
    throw new SafetensorsError("header is not a JSON object");

  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (entry === null || typeof entry !== "object" || Array.isArray(entry))
        throw new SafetensorsError("__metadata__ is not an object");
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== "string") throw new SafetensorsError(`__metadata__ ${q(k)} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (entry === null || typeof entry !== "object" || Array.isArray(entry))
      throw new SafetensorsError(`tensor ${q(name)}: header entry is not an object`);
    const e = entry as Record<string, unknown>;
    const dtype = e.dtype;
    if (typeof dtype !== "string" || !(dtype in DTYPE_SIZE))
      throw new SafetensorsError(`tensor ${q(name)}: unknown dtype ${JSON.stringify(dtype)}`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && s >= 0))
      throw new SafetensorsError(`tensor ${q(name)}: shape must be a list of non-negative integers`);
    const offsets = e.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    )
      throw new SafetensorsError(`tensor ${q(name)}: data_offsets must be [begin, end] with 0 ≤ begin ≤ end`);
    const [begin, end] = offsets as number[];
    if (end > dataLength)
      throw new SafetensorsError(
        `tensor ${q(name)}: data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes)`,
      );
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const expected = count * DTYPE_SIZE[dtype];
    if (end - begin !== expected)
      throw new SafetensorsError(
        `tensor ${q(name)}: ${dtype} ${fmtShape(shape as number[])} needs ${expected} bytes but data_offsets span ${end - begin}`,
      );
    tensors.set(name, { name, dtype, shape: shape as number[], begin, end });
  }
  // Tensors must tile the data buffer: sorted by offset, each starts where the previous ended.
  const sorted = [...tensors.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const t of sorted) {
    if (t.begin !== at)
      throw new SafetensorsError(
        t.begin < at
          ? `tensor ${q(t.name)}: data_offsets [${t.begin}, ${t.end}] overlap another tensor`
          : `tensor ${q(t.name)}: data_offsets [${t.begin}, ${t.end}] leave a gap after byte ${at}`,
      );
    at = t.end;
  }
  if (at !== dataLength)
    throw new SafetensorsError(`data buffer has ${dataLength} bytes but the tensors cover ${at}`);

  return {
    metadata,
    tensors,
    getFloat64(name: string) {
      const t = tensors.get(name);
      if (!t) throw new SafetensorsError(`tensor '${name}' is missing`);
      return { shape: [...t.shape], data: decode(t, view, dataStart) };
    },
  };
}

function decode(t: TensorInfo, view: DataView, dataStart: number): Float64Array {
  const size = DTYPE_SIZE[t.dtype];
  const count = (t.end - t.begin) / size;
  const out = new Float64Array(count);
  const o = dataStart + t.begin;
  switch (t.dtype) {
    case "F64":
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(o + 8 * i, true);
      break;
    case "F32":
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(o + 4 * i, true);
      break;
    case "F16":
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(o + 2 * i, true));
      break;
    case "BF16": {
      const f32 = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        f32.setUint32(0, view.getUint16(o + 2 * i, true) << 16);
        out[i] = f32.getFloat32(0);
      }
      break;
    }
    default:
      throw new SafetensorsError(
        `tensor ${q(t.name)}: dtype ${t.dtype} is not supported (supported: ${DECODABLE_DTYPES.join(", ")})`,
      );
  }
  return out;
}

/** IEEE 754 binary16 → number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

export interface ReadSafetensorsOptions {
  /** Refuse a file larger than this many bytes before reading it (default: no limit). */
  maxBytes?: number;
}

/** What a non-regular file is, for messages. */
export function fileKind(s: Stats): string {
  if (s.isDirectory()) return "a folder";
  if (s.isCharacterDevice()) return "a character device";
  if (s.isBlockDevice()) return "a block device";
  if (s.isFIFO()) return "a FIFO (named pipe)";
  if (s.isSocket()) return "a socket";
  return "not a regular file";
}

/**
 * Reads and validates a safetensors file. Only a regular file is opened for reading (non-blocking, so a
 * FIFO swapped in cannot hang the read); its size is checked against `maxBytes` and its header length
 * against its size before the rest is read. Format, kind and size problems throw `SafetensorsError`;
 * I/O errors propagate as Node errors with a `code`.
 */
export function readSafetensorsFile(path: string, options: ReadSafetensorsOptions = {}): SafetensorsFile {
  // Checked before opening (opening a device can have effects of its own) and again on the descriptor.
  const before = statSync(path);
  if (!before.isFile())
    throw new SafetensorsError(`is ${fileKind(before)}, not a regular file`, "not-regular");
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new SafetensorsError(`is ${fileKind(st)}, not a regular file`, "not-regular");
    const size = st.size;
    const max = options.maxBytes;
    if (max !== undefined && size > max)
      throw new SafetensorsError(`is ${size} bytes, over the limit of ${max} bytes`, "too-large");
    if (size < 8)
      throw new SafetensorsError(`file is too short (${size} bytes) to hold the 8-byte header length`);
    const bytes = new Uint8Array(size);
    readFully(fd, bytes, 0, 8);
    const view = new DataView(bytes.buffer);
    checkHeaderLength(view.getUint32(4, true) * 4294967296 + view.getUint32(0, true), size);
    readFully(fd, bytes, 8, size - 8);
    return parseSafetensors(bytes);
  } finally {
    closeSync(fd);
  }
}

/** Reads exactly `length` bytes at `offset` of `out` (the file may not shrink while it is read). */
function readFully(fd: number, out: Uint8Array, offset: number, length: number): void {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, out, offset + done, length - done, offset + done);
    if (n === 0) throw new SafetensorsError("file became shorter while it was read");
    done += n;
  }
}

export interface TensorToWrite {
  shape: readonly number[];
  data: ArrayLike<number>;
  /** Default F64. */
  dtype?: WritableDtype;
}

/**
 * Encodes tensors as a safetensors buffer. Tensors are laid out by decreasing dtype size, then by name
 * (as the reference writer does), and the header is padded with spaces to a multiple of 8 bytes, so
 * every tensor is naturally aligned in the file.
 */
export function encodeSafetensors(
  tensors: Readonly<Record<string, TensorToWrite>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const names = Object.keys(tensors).sort((a, b) => {
    const sa = DTYPE_SIZE[tensors[a].dtype ?? "F64"];
    const sb = DTYPE_SIZE[tensors[b].dtype ?? "F64"];
    return sb - sa || (a < b ? -1 : a > b ? 1 : 0);
  });
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata };
  let offset = 0;
  for (const name of names) {
    if (name === "__metadata__") throw new RangeError("'__metadata__' is reserved and cannot name a tensor");
    const t = tensors[name];
    const dtype = t.dtype ?? "F64";
    if (dtype !== "F64" && dtype !== "F32") throw new RangeError(`cannot write dtype ${dtype}`);
    if (!t.shape.every((s) => Number.isSafeInteger(s) && s >= 0))
      throw new RangeError(`tensor ${q(name)}: shape must be non-negative integers`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== count)
      throw new RangeError(
        `tensor ${q(name)}: shape ${fmtShape(t.shape)} needs ${count} values, got ${t.data.length}`,
      );
    const bytes = count * DTYPE_SIZE[dtype];
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length % 4294967296, true);
  view.setUint32(4, Math.floor(json.length / 4294967296), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const name of names) {
    const t = tensors[name];
    const dtype = t.dtype ?? "F64";
    const count = t.data.length;
    if (dtype === "F64") for (let i = 0; i < count; i++) view.setFloat64(at + 8 * i, t.data[i], true);
    else for (let i = 0; i < count; i++) view.setFloat32(at + 4 * i, t.data[i], true);
    at += count * DTYPE_SIZE[dtype];
  }
  return out;
}

/** Writes tensors to a safetensors file atomically (temporary file, then rename). */
export function writeSafetensorsFile(
  path: string,
  tensors: Readonly<Record<string, TensorToWrite>>,
  metadata?: Readonly<Record<string, string>>,
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
