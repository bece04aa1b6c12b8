/**
 * Writers for sampler output: CSV and NumPy `.npy`.
 *
 * A `SampleTable` is `rows` points of dimension `dim`, row-major, in the order they are to appear in the
 * file. Convention for chains: a batch of C chains run for T draws is collected step after step (each
 * step appends the C rows of `ChainState.position`), so rows are draw-major — row t·C + c holds draw t of
 * chain c — and the files keep that order. With `chains` set, the CSV starts every row with its chain
 * c = row mod C and draw t = ⌊row / C⌋ (both from 0, as ArviZ's coordinates): header
 * `chain,draw,x0,x1,…,x{dim−1}`; without it the header is exactly `x0,…,x{dim−1}` (`columns` names the
 * value columns instead, e.g. a generalized EBM's draws x0,x1,z0,z1). The `.npy` file is
 * always the plain (rows, dim) array of values (no chain/draw columns: a NumPy user reshapes it to
 * (T, C, dim)).
 *
 * Kinds: "real" values are written as float64 (CSV: shortest round-trip decimal, `String(v)`, so
 * parsing gives back the same double; NaN and ±Infinity are written as `NaN`, `Infinity`, `-Infinity`;
 * npy: `<f8`). Discrete states are "bits" (0/1) or "spins" (−1/1), written as integers (npy: `|i1`);
 * any other value is rejected before anything is written.
 *
 * Writes are atomic: outputs up to `maxInMemoryBytes` (default 64 MiB) are built in memory and written by
 * `writeFileAtomic`; larger ones are streamed in chunks to a temporary file in the destination folder,
 * which is renamed over the destination at the end and removed on any error.
 */
import { closeSync, openSync, rmSync, writeSync } from "node:fs";
import { dirname, extname } from "node:path";
import {
  commitTemp,
  ensureDir,
  releaseTemp,
  reserveTemp,
  resolveDestination,
  writeFileAtomic,
} from "./files.ts";

export type SampleKind = "real" | "bits" | "spins";

export interface SampleTable {
  /** rows × dim values, row-major. */
  data: ArrayLike<number>;
  rows: number;
  dim: number;
  /** Default "real". */
  kind?: SampleKind;
  /** Number of chains C (rows are draw-major): adds `chain` and `draw` columns to CSV output. */
  chains?: number;
  /** CSV names of the `dim` value columns (default x0 … x{dim−1}); letters, digits, `_` and `.`. */
  columns?: readonly string[];
}

export interface WriteOptions {
  /** Outputs larger than this are streamed to the temporary file in chunks (default 64 MiB). */
  maxInMemoryBytes?: number;
}

const DEFAULT_MAX_IN_MEMORY = 64 * 1024 * 1024;
/** Target size of one streamed chunk. */
const CHUNK_BYTES = 4 * 1024 * 1024;

/** Checks shape and, for discrete kinds, that every value is allowed. Throws RangeError. */
function validate(t: SampleTable): SampleKind {
  const kind = t.kind ?? "real";
  if (!Number.isSafeInteger(t.rows) || t.rows < 0)
    throw new RangeError(`rows must be an integer ≥ 0, got ${t.rows}`);
  if (!Number.isSafeInteger(t.dim) || t.dim < 1)
    throw new RangeError(`dim must be an integer ≥ 1, got ${t.dim}`);
  if (t.chains !== undefined && (!Number.isSafeInteger(t.chains) || t.chains < 1))
    throw new RangeError(`chains must be an integer ≥ 1, got ${t.chains}`);
  if (t.columns !== undefined) {
    if (t.columns.length !== t.dim)
      throw new RangeError(`columns names ${t.columns.length} columns, the table has dim ${t.dim}`);
    for (const c of t.columns)
      if (!/^[A-Za-z0-9_.]+$/.test(c))
        throw new RangeError(`column name '${c}' is not letters, digits, _ or .`);
  }
  const count = t.rows * t.dim;
  if (t.data.length < count)
    throw new RangeError(
      `data has ${t.data.length} values, need rows × dim = ${t.rows} × ${t.dim} = ${count}`,
    );
  if (kind === "bits" || kind === "spins") {
    const lo = kind === "bits" ? 0 : -1;
    for (let i = 0; i < count; i++) {
      const v = t.data[i];
      if (v !== lo && v !== 1)
        throw new RangeError(
          `${kind} must be ${lo} or 1, got ${v} at row ${Math.floor(i / t.dim)}, column ${i % t.dim}`,
        );
    }
  } else if (kind !== "real") {
    throw new RangeError(`unknown sample kind '${kind as string}'`);
  }
  return kind;
}

/**
 * Spins s = 2x − 1 from stored bits x (the discrete energies store Ising states as bits): pass the result
 * with kind "spins" to write −1/1.
 */
export function bitsToSpins(bits: ArrayLike<number>, count = bits.length): Int8Array {
  const out = new Int8Array(count);
  for (let i = 0; i < count; i++) out[i] = 2 * bits[i] - 1;
  return out;
}

/**
 * Writes the concatenation of `chunks` to `path` atomically. Chunks are kept in memory up to
 * `maxInMemoryBytes` and written with `writeFileAtomic`; past that, everything goes to a temporary file
 * (same folder) chunk by chunk, renamed over `path` at the end. If the iterable or a write throws, the
 * temporary file is removed, `path` is left as it was, and the error propagates.
 */
export function writeChunksAtomic(
  path: string,
  chunks: Iterable<string | Uint8Array>,
  maxInMemoryBytes = DEFAULT_MAX_IN_MEMORY,
): void {
  const held: Uint8Array[] = [];
  let heldBytes = 0;
  let fd: number | undefined;
  let tmp: string | undefined;
  let dest: { path: string; mode?: number } | undefined;
  try {
    for (const chunk of chunks) {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
      if (fd === undefined) {
        held.push(bytes);
        heldBytes += bytes.length;
        if (heldBytes > maxInMemoryBytes) {
          dest = resolveDestination(path);
          ensureDir(dirname(dest.path));
          tmp = reserveTemp(dest.path, "s");
          fd = openSync(tmp, "w");
          for (const h of held) writeAll(fd, h);
          held.length = 0;
        }
      } else {
        writeAll(fd, bytes);
      }
    }
    if (fd === undefined) {
      writeFileAtomic(path, held.length === 1 ? held[0] : Buffer.concat(held));
      return;
    }
    closeSync(fd);
    fd = undefined;
    commitTemp(tmp as string, dest!);
  } catch (err) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already failing: the original error matters
      }
    }
    if (tmp !== undefined) {
      rmSync(tmp, { force: true });
      releaseTemp(tmp);
    }
    throw err;
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** The CSV text in chunks of about CHUNK_BYTES characters. */
function* csvChunks(t: SampleTable, kind: SampleKind): Generator<string> {
  const d = t.dim;
  const c = t.chains;
  const header: string[] = c === undefined ? [] : ["chain", "draw"];
  for (let a = 0; a < d; a++) header.push(t.columns?.[a] ?? `x${a}`);
  let parts: string[] = [`${header.join(",")}\n`];
  let size = parts[0].length;
  const row: string[] = new Array(d);
  for (let i = 0; i < t.rows; i++) {
    const o = i * d;
    // Discrete values are validated integers: String(v) prints them as 0, 1, -1.
    for (let a = 0; a < d; a++) row[a] = kind === "real" ? String(t.data[o + a]) : String(t.data[o + a] | 0);
    const line = c === undefined ? `${row.join(",")}\n` : `${i % c},${Math.floor(i / c)},${row.join(",")}\n`;
    parts.push(line);
    size += line.length;
    if (size >= CHUNK_BYTES) {
      yield parts.join("");
      parts = [];
      size = 0;
    }
  }
  if (parts.length > 0) yield parts.join("");
}

/**
 * Writes a CSV with header `x0,…,x{dim−1}` (`chain,draw,x0,…` when `table.chains` is set) and one line per
 * row (see the module comment for order).
 */
export function writeSamplesCsv(path: string, table: SampleTable, options: WriteOptions = {}): void {
  const kind = validate(table);
  writeChunksAtomic(path, csvChunks(table, kind), options.maxInMemoryBytes);
}

const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

/**
 * The NumPy v1.0 header for a C-order array: magic `\x93NUMPY`, version 1.0, u16 LE header length, then
 * the dict `{'descr': …, 'fortran_order': False, 'shape': (…), }` padded with spaces and ended by `\n`
 * so that the data starts at a multiple of 64 bytes.
 */
export function npyHeader(descr: string, shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + dict.length + 1;
  const total = Math.ceil(unpadded / 64) * 64;
  const headerLen = total - 10;
  if (headerLen > 65535) throw new RangeError("npy header too long for format version 1.0");
  const out = new Uint8Array(total);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]); // \x93NUMPY, v1.0
  out[8] = headerLen & 0xff;
  out[9] = headerLen >> 8;
  const text = `${dict}${" ".repeat(total - unpadded)}\n`;
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  return out;
}

function* npyChunks(t: SampleTable, kind: SampleKind): Generator<Uint8Array> {
  const count = t.rows * t.dim;
  if (kind === "real") {
    yield npyHeader("<f8", [t.rows, t.dim]);
    let f: Float64Array;
    if (t.data instanceof Float64Array && LITTLE_ENDIAN) f = t.data.subarray(0, count);
    else if (LITTLE_ENDIAN) f = Float64Array.from({ length: count }, (_, i) => t.data[i]);
    else {
      const bytes = new Uint8Array(count * 8);
      const view = new DataView(bytes.buffer);
      for (let i = 0; i < count; i++) view.setFloat64(8 * i, t.data[i], true);
      yield bytes;
      return;
    }
    const bytes = new Uint8Array(f.buffer, f.byteOffset, count * 8);
    for (let off = 0; off < bytes.length; off += CHUNK_BYTES)
      yield bytes.subarray(off, Math.min(bytes.length, off + CHUNK_BYTES));
  } else {
    yield npyHeader("|i1", [t.rows, t.dim]);
    const out = new Int8Array(count);
    for (let i = 0; i < count; i++) out[i] = t.data[i];
    yield new Uint8Array(out.buffer);
  }
}

/** The `.npy` bytes of a table: shape (rows, dim), `<f8` for real values, `|i1` for bits/spins. */
export function encodeNpy(table: SampleTable): Uint8Array {
  const kind = validate(table);
  const chunks = [...npyChunks(table, kind)];
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Writes a `.npy` file (NumPy format 1.0), atomically. */
export function writeSamplesNpy(path: string, table: SampleTable, options: WriteOptions = {}): void {
  const kind = validate(table);
  writeChunksAtomic(path, npyChunks(table, kind), options.maxInMemoryBytes);
}

/** Writes CSV or `.npy` by the extension of `path` (`.csv`, `.npy`); anything else is a RangeError. */
export function writeSamples(path: string, table: SampleTable, options: WriteOptions = {}): void {
  const ext = extname(path).toLowerCase();
  if (ext === ".csv") writeSamplesCsv(path, table, options);
  else if (ext === ".npy") writeSamplesNpy(path, table, options);
  else throw new RangeError(`cannot tell the sample format of '${path}': use a .csv or .npy extension`);
}

export interface NpyArray {
  descr: string;
  shape: number[];
  /** float dtypes as Float64Array; `|i1` as Int8Array; `|u1` and `|b1` as Uint8Array. */
  data: Float64Array | Int8Array | Uint8Array;
}

/**
 * Parses a C-order `.npy` (versions 1.0–3.0) with dtype `<f8`, `<f4`, `|i1`, `|u1` or `|b1`. Throws
 * RangeError with a one-line message otherwise.
 */
export function parseNpy(bytes: Uint8Array): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || !magic.every((b, i) => bytes[i] === b))
    throw new RangeError("not an .npy file (bad magic)");
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new RangeError("npy file truncated in its header");
    headerLen = view.getUint32(8, true);
    start = 12;
  } else throw new RangeError(`npy format version ${major} is not supported`);
  if (start + headerLen > bytes.length) throw new RangeError("npy file truncated in its header");
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(start, start + headerLen),
  );
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    throw new RangeError(`npy header is malformed: ${header.trim()}`);
  if (fortran === "True") throw new RangeError("npy arrays in Fortran order are not supported");
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map(Number);
  if (!shape.every((s) => Number.isSafeInteger(s) && s >= 0))
    throw new RangeError(`npy shape is malformed: (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  const sizes: Record<string, number> = { "<f8": 8, "<f4": 4, "|i1": 1, "|u1": 1, "|b1": 1 };
  const size = sizes[descr];
  if (size === undefined) throw new RangeError(`npy dtype '${descr}' is not supported`);
  if (bytes.length - dataStart !== count * size)
    throw new RangeError(`npy data has ${bytes.length - dataStart} bytes, expected ${count * size}`);
  let data: Float64Array | Int8Array | Uint8Array;
  if (descr === "<f8") {
    data = new Float64Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getFloat64(dataStart + 8 * i, true);
  } else if (descr === "<f4") {
    data = new Float64Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(dataStart + 4 * i, true);
  } else if (descr === "|i1") {
    data = Int8Array.from(bytes.subarray(dataStart, dataStart + count), (b) => (b << 24) >> 24);
  } else {
    data = Uint8Array.from(bytes.subarray(dataStart, dataStart + count));
  }
  return { descr, shape, data };
}
