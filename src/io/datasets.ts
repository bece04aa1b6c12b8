/**
 * Training data from files (CSV, NumPy .npy) or a built-in set (src/data/toy2d.ts), for `ebm train`.
 *
 * `loadDataFile(path)` reads n points of dimension dim as an n×dim row-major Float64Array:
 *
 * - `.csv`: comma-separated, a header row of column names first (required; quotes around a whole name or
 *   value are removed, commas inside quotes are not supported), then one row per point, every field a
 *   decimal number (`1`, `-2.5`, `.5`, `3e-4`; spaces around it allowed). Lines may end in \n or \r\n; a
 *   UTF-8 byte order mark is skipped; blank lines are ignored anywhere. Line numbers in messages count
 *   every line of the file from 1 (the header is line 1).
 * - `.npy`: NumPy format 1.0–3.0, dtype little-endian float64 (`<f8`) or float32 (`<f4`, widened to
 *   float64), C order, shape (n, dim) — or (n,), read as n points of dimension 1. Rows in messages are
 *   1-based.
 *
 * Everything else is refused with a `DataFileError`, whose message is one line naming the file and, where
 * there is one, the line, row, column or header field: a missing file, a directory or other non-regular
 * file, a file over `maxBytes` (default 1 GiB, checked from its size before reading), an empty file, a
 * header without data rows, a numeric first line (no header), an empty or repeated column name, a row with
 * the wrong number of fields, an empty or non-numeric field, NaN or ±Infinity (or a number that overflows
 * float64), and for .npy a bad magic string, unsupported version, malformed or truncated header, dtype
 * other than `<f8`/`<f4`, Fortran order, rank other than 1 or 2, zero rows or columns, and a data size that
 * does not match the shape.
 *
 * Sizes: the file is read whole (CSV: parsed line by line from the bytes, about 40 MB/s — prefer .npy for
 * large data; .npy: the data bytes are read straight into the result, little-endian hosts as the rest of
 * the library assumes).
 *
 * `resolveData(spec, key, n)` is what a command calls with its `--data` option: a built-in name gives n
 * fresh points of that set from `key`; anything else is read as a file (n and key unused).
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats, statSync } from "node:fs";
import { extname } from "node:path";
import { isToy2dName, TOY2D_NAMES, type Toy2dSpec, toy2d } from "../data/toy2d.ts";
import type { Key } from "../random/key.ts";

/** Which limit refused a file (so that a command can say which option raises it). */
export type DataFileLimit = "file-size";

/** A data file (or data spec) that cannot be used. `message` is one line and starts with the file. */
export class DataFileError extends Error {
  override name = "DataFileError";
  /** The path (or spec) as given. */
  readonly file: string;
  /** Where in the file: "line 7, column 2 ('y')", "row 3, column 1", "header field 'descr'", … */
  readonly where: string | undefined;
  readonly limit: DataFileLimit | undefined;
  constructor(file: string, where: string | undefined, detail: string, limit?: DataFileLimit) {
    const shown = printableText(file, 300);
    super(where === undefined ? `${shown}: ${detail}` : `${shown}: ${where}: ${detail}`);
    this.file = file;
    this.where = where;
    this.limit = limit;
  }
}

export interface DataTable {
  /** n×dim values, row-major. */
  x: Float64Array;
  n: number;
  dim: number;
  /** Column names: the CSV header; x0, x1 for a built-in set; absent for .npy. */
  columns?: string[];
}

export interface LoadDataOptions {
  /** Largest file read, in bytes (default `DEFAULT_MAX_DATA_BYTES`, 1 GiB). */
  maxBytes?: number;
}

export const DEFAULT_MAX_DATA_BYTES = 1024 * 1024 * 1024;

/** Reads a .csv or .npy data file (see the module comment); throws DataFileError for any bad file. */
export function loadDataFile(path: string, options: LoadDataOptions = {}): DataTable {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DATA_BYTES;
  if (!(maxBytes >= 1) || !Number.isSafeInteger(maxBytes))
    throw new RangeError(`maxBytes must be an integer ≥ 1, got ${maxBytes}`);
  const ext = extname(path).toLowerCase();
  if (ext !== ".csv" && ext !== ".npy")
    throw new DataFileError(
      path,
      undefined,
      `cannot tell the data format from the extension '${printableText(ext, 20)}': use .csv or .npy`,
    );
  const file = openChecked(path, maxBytes);
  try {
    return ext === ".csv" ? readCsv(path, file, maxBytes) : readNpy(path, file);
  } finally {
    closeSync(file.fd);
  }
}

export interface ResolvedData extends DataTable {
  /** The built-in set, when `spec` named one. */
  builtin?: Toy2dSpec;
}

/**
 * A built-in set's n points from `key` when `spec` is one of TOY2D_NAMES (a file of that name needs a
 * path such as ./moons.csv — and a .csv/.npy extension anyway); otherwise `loadDataFile(spec)`, with n
 * and key unused. A spec that is neither a name nor a .csv/.npy path is a DataFileError listing both.
 */
export function resolveData(spec: string, key: Key, n: number, options: LoadDataOptions = {}): ResolvedData {
  if (isToy2dName(spec)) {
    const set = toy2d(spec);
    return { x: set.sample(key, n), n, dim: 2, columns: ["x0", "x1"], builtin: set };
  }
  const ext = extname(spec).toLowerCase();
  if (ext !== ".csv" && ext !== ".npy")
    throw new DataFileError(
      spec,
      undefined,
      `neither a built-in data set (${TOY2D_NAMES.join(", ")}) nor a .csv or .npy file`,
    );
  return loadDataFile(spec, options);
}

// --- opening -----------------------------------------------------------------------------------------

interface OpenFile {
  fd: number;
  size: number;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} byte${n === 1 ? "" : "s"}`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

function ioReason(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case "ENOENT":
      return "no such file";
    case "ENOTDIR":
      return "no such file (a parent is not a folder)";
    case "EISDIR":
      return "it is a directory, not a file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ELOOP":
      return "too many levels of symbolic links";
    case "ENAMETOOLONG":
      return "the path is too long";
    default:
      return printableText((err as Error).message ?? String(err), 200);
  }
}

function kindOf(st: Stats): string {
  if (st.isFIFO()) return "a named pipe";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  return "not a regular file";
}

/** Opens a regular file of at most maxBytes, or throws DataFileError (checked before and after open). */
function openChecked(path: string, maxBytes: number): OpenFile {
  const check = (st: Stats): void => {
    if (st.isDirectory())
      throw new DataFileError(path, undefined, "cannot read: it is a directory, not a file");
    if (!st.isFile()) throw new DataFileError(path, undefined, `cannot read: it is ${kindOf(st)}`);
    if (st.size > maxBytes)
      throw new DataFileError(
        path,
        undefined,
        `file is ${formatBytes(st.size)}, over the ${formatBytes(maxBytes)} limit for data files`,
        "file-size",
      );
    if (st.size === 0) throw new DataFileError(path, undefined, "file is empty");
  };
  let fd: number;
  try {
    check(statSync(path));
    // O_NONBLOCK: a file swapped for a named pipe after the check cannot block the open.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (err instanceof DataFileError) throw err;
    throw new DataFileError(path, undefined, `cannot read: ${ioReason(err)}`);
  }
  try {
    const st = fstatSync(fd);
    check(st);
    return { fd, size: st.size };
  } catch (err) {
    closeSync(fd);
    if (err instanceof DataFileError) throw err;
    throw new DataFileError(path, undefined, `cannot read: ${ioReason(err)}`);
  }
}

/** Reads exactly `length` bytes at `position` into `into` (offset 0), or throws DataFileError. */
function readExactly(path: string, fd: number, into: Uint8Array, position: number): void {
  let got = 0;
  while (got < into.length) {
    let k: number;
    try {
      k = readSync(fd, into, got, into.length - got, position + got);
    } catch (err) {
      throw new DataFileError(path, undefined, `cannot read: ${ioReason(err)}`);
    }
    if (k === 0)
      throw new DataFileError(path, undefined, "file is shorter than its size (it changed while read)");
    got += k;
  }
}

// --- CSV ---------------------------------------------------------------------------------------------

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(?:nan|inf|infinity)$/i;

/** A field without surrounding spaces and, if it is wrapped in double quotes, without them. */
function unquote(field: string): string {
  const t = field.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).trim() : t;
}

/** Longest line read (a binary file without newlines would otherwise become one huge string). */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

function checkLength(path: string, l: { start: number; stop: number }, line: number): void {
  if (l.stop - l.start > MAX_LINE_BYTES)
    throw new DataFileError(
      path,
      `line ${line}`,
      `longer than ${formatBytes(MAX_LINE_BYTES)}: not a CSV file?`,
    );
}

function isBlank(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  }
  return true;
}

function readCsv(path: string, file: OpenFile, maxBytes: number): DataTable {
  const bytes = Buffer.alloc(Math.min(file.size, maxBytes));
  readExactly(path, file.fd, bytes, 0);
  if (bytes.length >= 6 && bytes[0] === 0x93 && bytes.toString("latin1", 1, 6) === "NUMPY")
    throw new DataFileError(
      path,
      undefined,
      "this is a NumPy .npy file, not CSV: give it the .npy extension",
    );
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
    throw new DataFileError(path, undefined, "the file is UTF-16 text: save it as UTF-8 (or ASCII)");
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const end = bytes.length;

  // Lines: [start, stop) without the \n; `line` counts from 1.
  let pos = bom;
  let line = 0;
  const nextLine = (): { start: number; stop: number } | undefined => {
    if (pos >= end) return undefined;
    const nl = bytes.indexOf(0x0a, pos);
    const stop = nl < 0 ? end : nl;
    const start = pos;
    pos = nl < 0 ? end : nl + 1;
    line++;
    return { start, stop: stop > start && bytes[stop - 1] === 0x0d ? stop - 1 : stop };
  };
  /** The text of a line for a message (UTF-8, invalid bytes replaced). */
  const textOf = (start: number, stop: number) => bytes.toString("utf8", start, stop);

  // The header: the first non-blank line.
  let header: { start: number; stop: number } | undefined;
  while ((header = nextLine()) !== undefined && isBlank(bytes, header.start, header.stop));
  if (header === undefined) throw new DataFileError(path, undefined, "file holds only blank lines");
  const headerLine = line;
  checkLength(path, header, headerLine);
  const headerText = textOf(header.start, header.stop);
  if (headerText.includes("\u0000"))
    throw new DataFileError(
      path,
      `line ${headerLine}`,
      "the header holds NUL bytes: this is not a text file",
    );
  if (headerText.includes("\ufffd"))
    throw new DataFileError(path, `line ${headerLine}`, "the header is not valid UTF-8 text");
  const columns = headerText.split(",").map(unquote);
  const dim = columns.length;
  if (columns.every((c) => DECIMAL.test(c)))
    throw new DataFileError(
      path,
      `line ${headerLine}`,
      "expected a header row of column names, found numbers (add a header line such as x0,x1,…)",
    );
  const seen = new Map<string, number>();
  for (let j = 0; j < dim; j++) {
    if (columns[j] === "")
      throw new DataFileError(
        path,
        `line ${headerLine}, column ${j + 1}`,
        "empty column name (a saved row index? write the file without it, e.g. pandas index=False)",
      );
    const before = seen.get(columns[j]);
    if (before !== undefined)
      throw new DataFileError(
        path,
        `line ${headerLine}, column ${j + 1}`,
        `column name '${printableText(columns[j], 40)}' repeats column ${before + 1}`,
      );
    seen.set(columns[j], j);
  }
  const separatorHint =
    dim === 1 && /[;\t]/.test(headerText) ? " (only commas separate fields, not semicolons or tabs)" : "";

  // Capacity: every remaining line could be a row.
  let lines = 1;
  for (let i = bytes.indexOf(0x0a, pos); i >= 0; i = bytes.indexOf(0x0a, i + 1)) lines++;
  let x: Float64Array;
  try {
    x = new Float64Array(lines * dim);
  } catch {
    throw new DataFileError(
      path,
      undefined,
      `too many values to hold in memory (${lines} rows × ${dim} columns)`,
    );
  }

  const at = (j: number) => `line ${line}, column ${j + 1} ('${printableText(columns[j], 40)}')`;
  let n = 0;
  for (let l = nextLine(); l !== undefined; l = nextLine()) {
    if (isBlank(bytes, l.start, l.stop)) continue;
    checkLength(path, l, line);
    const fields = bytes.toString("latin1", l.start, l.stop).split(",");
    if (fields.length !== dim)
      throw new DataFileError(
        path,
        `line ${line}`,
        `${fields.length} field${fields.length === 1 ? "" : "s"}, expected ${dim} as in the header${separatorHint}`,
      );
    for (let j = 0; j < dim; j++) {
      const f = unquote(fields[j]);
      if (!DECIMAL.test(f)) {
        if (f === "") throw new DataFileError(path, at(j), "empty field");
        if (NON_FINITE.test(f))
          throw new DataFileError(path, at(j), `${f} is not allowed: data must be finite`);
        // Show the field as UTF-8 text: recover it from the line's bytes.
        const shown = unquote(textOf(l.start, l.stop).split(",")[j] ?? f);
        throw new DataFileError(path, at(j), `'${printableText(shown, 40)}' is not a number${separatorHint}`);
      }
      const v = Number(f);
      if (!Number.isFinite(v))
        throw new DataFileError(
          path,
          at(j),
          `${printableText(f, 40)} overflows float64: data must be finite`,
        );
      x[n * dim + j] = v;
    }
    n++;
  }
  if (n === 0) throw new DataFileError(path, `line ${headerLine}`, "header only: the file has no data rows");
  return { x: n * dim === x.length ? x : x.slice(0, n * dim), n, dim, columns };
}

// --- .npy --------------------------------------------------------------------------------------------

/** Largest .npy header accepted (NumPy writes about 128 bytes; a v2 header may declare up to 4 GiB). */
const MAX_NPY_HEADER = 1024 * 1024;

function readNpy(path: string, file: OpenFile): DataTable {
  const fail = (where: string | undefined, detail: string): never => {
    throw new DataFileError(path, where, detail);
  };
  const pre = new Uint8Array(Math.min(12, file.size));
  readExactly(path, file.fd, pre, 0);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (pre.length < 10 || !magic.every((b, i) => pre[i] === b))
    fail(undefined, "not a NumPy .npy file (it does not start with \\x93NUMPY)");
  const major = pre[6];
  const view = new DataView(pre.buffer);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (pre.length < 12) fail(undefined, "file is truncated in its header");
    headerLen = view.getUint32(8, true);
    start = 12;
  } else return fail(undefined, `.npy format version ${major}.${pre[7]} is not supported (1.0 to 3.0 are)`);
  if (headerLen > MAX_NPY_HEADER) fail(undefined, `header length ${headerLen} is implausibly large`);
  if (start + headerLen > file.size) fail(undefined, "file is truncated in its header");
  const headerBytes = new Uint8Array(headerLen);
  readExactly(path, file.fd, headerBytes, start);
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(headerBytes);

  const field = (key: string, pattern: RegExp): string => {
    const m = new RegExp(`['"]${key}['"]\\s*:\\s*${pattern.source}`).exec(header);
    if (m === null) fail(`header field '${key}'`, "missing or malformed");
    return m![1];
  };
  const descr = field("descr", /['"]([^'"]*)['"]/);
  const fortran = field("fortran_order", /(True|False)/);
  const shapeText = field("shape", /\(([^)]*)\)/);
  if (fortran === "True")
    fail(
      "header field 'fortran_order'",
      "Fortran order is not supported: save a C-order array (np.ascontiguousarray)",
    );
  let width: 4 | 8;
  if (descr === "<f8") width = 8;
  else if (descr === "<f4") width = 4;
  else
    return fail(
      "header field 'descr'",
      `dtype '${printableText(descr, 20)}' is not supported: use float64 ('<f8') or float32 ('<f4'), little-endian`,
    );
  const parts = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const shape = parts.map((s) => (/^\d+L?$/.test(s) ? Number(s.replace("L", "")) : Number.NaN));
  if (!shape.every((s) => Number.isSafeInteger(s)))
    fail("header field 'shape'", `(${printableText(shapeText, 40)}) is not a tuple of sizes`);
  if (shape.length !== 1 && shape.length !== 2)
    fail(
      "header field 'shape'",
      `(${shapeText.trim()}) has ${shape.length} dimension${shape.length === 1 ? "" : "s"}: expected (n, dim) or (n,)`,
    );
  const n = shape[0];
  const dim = shape.length === 2 ? shape[1] : 1;
  if (n === 0) fail("header field 'shape'", `(${shapeText.trim()}) has no rows`);
  if (dim === 0) fail("header field 'shape'", `(${shapeText.trim()}) has no columns`);
  const count = n * dim;
  const dataStart = start + headerLen;
  const dataBytes = file.size - dataStart;
  if (!Number.isSafeInteger(count) || dataBytes !== count * width)
    fail(
      undefined,
      `data is ${dataBytes} bytes, but shape (${shapeText.trim()}) of ${descr} needs ${count * width}` +
        (dataBytes < count * width ? " (truncated file?)" : ""),
    );

  let x: Float64Array;
  try {
    x = new Float64Array(count);
  } catch {
    return fail(undefined, `too many values to hold in memory (${n} × ${dim})`);
  }
  if (width === 8) {
    readExactly(path, file.fd, new Uint8Array(x.buffer), dataStart);
  } else {
    const f = new Float32Array(count);
    readExactly(path, file.fd, new Uint8Array(f.buffer), dataStart);
    for (let i = 0; i < count; i++) x[i] = f[i];
  }
  for (let i = 0; i < count; i++) {
    const v = x[i];
    if (v - v !== 0)
      fail(
        `row ${Math.floor(i / dim) + 1}, column ${(i % dim) + 1}`,
        `${v} is not allowed: data must be finite`,
      );
  }
  return { x, n, dim };
}

// --- messages ----------------------------------------------------------------------------------------

/** Text safe for a one-line message: control characters as \xNN, cut to `max` characters with "…". */
function printableText(s: string, max: number): string {
  let out = "";
  let k = 0;
  for (const ch of s) {
    if (k++ >= max) return `${out}…`;
    const c = ch.codePointAt(0) as number;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029)
      out += `\\x${c.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out;
}
