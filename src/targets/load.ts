/**
 * Targets from a file: `loadTarget(path)` reads a JSON or YAML description of a target distribution,
 * validates every field and builds it.
 *
 * Format: by extension (.json, .yaml, .yml); otherwise sniffed (a first non-blank `{` or `[` means JSON,
 * anything else is read as YAML). The top level is a mapping with a `type` and the fields of that type;
 * unknown fields are rejected (a typo in an optional field would otherwise be silently ignored). Every
 * type also accepts an optional `description` string, which replaces the generated one-line description.
 *
 *   gaussian  mean (d), cov (d×d, symmetric positive definite)
 *   gmm       weights (K, positive; normalized here), means (K×d), and exactly one of
 *             stds (K, positive; Σ_k = σ_k² I) or covs (K×d×d, each symmetric positive definite)
 *   funnel    dim (integer ≥ 2), optional scale (std of the neck coordinate, default 3)  — FunnelEnergy
 *   banana    dim (integer ≥ 2), b (curvature), optional scale (std of x₁, default 10) — BananaEnergy
 *   ising     couplings (n×n, symmetric, zero diagonal), field (n), optional beta (≥ 0, default 1)
 *   rbm       weights (visible×hidden), visible_bias (visible), hidden_bias (hidden) inline, or
 *             path: a .safetensors file (relative to the target file) with tensors of those three names;
 *             every value within float32 range (the RBM, energies/rbm.ts, stores its parameters in float32)
 *
 * Matrices are nested lists (rows). Continuous targets come back built, with their exact log Z and exact
 * sampler; discrete targets (ising, rbm) come back as validated plain data (row-major Float64Arrays and
 * their sizes) for the discrete energies to consume. Any problem throws `TargetError` whose message is
 * one line naming the file and the field, e.g. `target.yaml: means[1] has length 3, expected 2`. The
 * loader has no side effects besides reading the file(s): nothing is built or sampled on error.
 *
 * Limits, all checked before the work they bound (`LoadOptions`):
 *  - only regular files are read (not folders, devices such as /dev/zero, FIFOs or sockets), and a target
 *    file over `maxFileBytes` (default 1 MiB) or a weights file over `maxWeightsBytes` (default 256 MiB)
 *    is refused from its size, before it is read;
 *  - the text must be UTF-8: a UTF-16/32 byte order mark, a NUL byte or an invalid UTF-8 sequence is named
 *    as such (with its offset) instead of being parsed into a confusing message;
 *  - YAML aliases: at most 100 alias expansions (the yaml package's `maxAliasCount`, its default), and the
 *    parsed document, aliases expanded, holds at most `maxFileBytes` values (lists and mappings count
 *    their entries): no more than an alias-free file of the largest accepted size could, so an alias
 *    cannot make a small file big; nesting is at most 32 levels;
 *  - duplicate keys are refused in JSON as in YAML, naming the key and its line;
 *  - a `path` in the file is resolved against the target file's folder and must stay inside it (also
 *    after following symbolic links) unless `allowOutsidePaths` is set;
 *  - an RBM from a weights file holds at most `maxWeightsBytes` / 4 parameters (its float32 size), checked
 *    from the header before any tensor is decoded.
 * A `description` is at most 1000 characters; it may contain any character, so printers must escape
 * control characters (the CLI does).
 */
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  realpathSync,
  type Stats,
  statSync,
} from "node:fs";
import { dirname, extname, isAbsolute, relative, resolve, sep } from "node:path";
import { isMap, isScalar, parseDocument, visit } from "yaml";
import { BananaEnergy } from "../energies/banana.ts";
import type { Energy } from "../energies/contract.ts";
import { FunnelEnergy } from "../energies/funnel.ts";
import { cholesky, GaussianEnergy } from "../energies/gaussian.ts";
import { GmmEnergy } from "../energies/gmm.ts";
import { fileKind, readSafetensorsFile, SafetensorsError, type SafetensorsFile } from "../io/safetensors.ts";
import type { Key } from "../random/key.ts";

/**
 * Which limit of `LoadOptions` refused a file, so that a caller can say how to raise it: the target file's
 * size, a weights file's size (or parameter count), or a `path` outside the target file's folder.
 */
export type TargetLimit = "file-size" | "weights-size" | "outside-path";

/** A malformed target file. `message` is one line: `<file>: <field> <what is wrong>`. */
export class TargetError extends Error {
  override name = "TargetError";
  readonly file: string;
  readonly field: string | undefined;
  /** Set when a limit of `LoadOptions` (not the content) refused the file. */
  readonly limit: TargetLimit | undefined;
  constructor(file: string, field: string | undefined, detail: string, limit?: TargetLimit) {
    super(oneLine(field === undefined ? `${file}: ${detail}` : `${file}: ${field} ${detail}`));
    this.file = file;
    this.field = field;
    this.limit = limit;
  }
}

export interface LoadOptions {
  /** Largest target file (JSON/YAML) read, in bytes; default `DEFAULT_MAX_FILE_BYTES` (1 MiB). */
  maxFileBytes?: number;
  /** Largest weights file (an rbm `path`) read, in bytes; default `DEFAULT_MAX_WEIGHTS_BYTES` (256 MiB). */
  maxWeightsBytes?: number;
  /** Let a `path` in the target file point outside the target file's folder (default false). */
  allowOutsidePaths?: boolean;
}

export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;
export const DEFAULT_MAX_WEIGHTS_BYTES = 256 * 1024 * 1024;
/** yaml's own default: alias expansions weighted by the aliases inside what they point to. */
const MAX_YAML_ALIASES = 100;
/** Targets nest at most 4 levels (a list of covariance matrices in a mapping); 32 is generous. */
const MAX_DEPTH = 32;
const MAX_DESCRIPTION = 1000;
/** See `yamlNestingBound`: far above any target (depth ≤ 4, a few columns of indentation per level). */
const MAX_YAML_NESTING_BOUND = 256;

interface Limits {
  maxFileBytes: number;
  maxWeightsBytes: number;
  allowOutsidePaths: boolean;
}

function limitsOf(o: LoadOptions): Limits {
  const maxFileBytes = o.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const maxWeightsBytes = o.maxWeightsBytes ?? DEFAULT_MAX_WEIGHTS_BYTES;
  for (const [name, v] of [
    ["maxFileBytes", maxFileBytes],
    ["maxWeightsBytes", maxWeightsBytes],
  ] as const)
    if (!(v >= 1) || !Number.isFinite(v)) throw new RangeError(`${name} must be a number ≥ 1, got ${v}`);
  return { maxFileBytes, maxWeightsBytes, allowOutsidePaths: o.allowOutsidePaths ?? false };
}

/** A byte count for messages: "1 MiB", "20.5 MiB", "512 bytes". */
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

export type ContinuousType = "gaussian" | "gmm" | "funnel" | "banana";
export type TargetType = ContinuousType | "ising" | "rbm";
export const TARGET_TYPES: readonly TargetType[] = ["gaussian", "gmm", "funnel", "banana", "ising", "rbm"];

export interface ExactInfo {
  /** log ∫ e^{−U}. */
  logZ?: number;
  /** Exact draws from e^{−U}/Z: n points into `out` (n × dim). */
  sample?: (key: Key, n: number, out: Float64Array) => void;
}

export interface ContinuousTarget {
  kind: "continuous";
  type: ContinuousType;
  energy: Energy;
  exact?: ExactInfo;
  description: string;
}

export interface IsingSpec {
  type: "ising";
  /** Number of spins. */
  n: number;
  /** n × n, row-major, exactly symmetric (symmetrized after a 1e-12 relative check), zero diagonal. */
  couplings: Float64Array;
  field: Float64Array;
  beta: number;
}

export interface RbmSpec {
  type: "rbm";
  visible: number;
  hidden: number;
  /** visible × hidden, row-major: W[i·hidden + j] couples visible unit i and hidden unit j. */
  weights: Float64Array;
  visibleBias: Float64Array;
  hiddenBias: Float64Array;
}

export interface DiscreteTarget {
  kind: "discrete";
  spec: IsingSpec | RbmSpec;
  description: string;
}

export type LoadedTarget = ContinuousTarget | DiscreteTarget;

/** Reads, validates and builds the target described by the JSON/YAML file at `path`. */
export function loadTarget(path: string, options: LoadOptions = {}): LoadedTarget {
  const limits = limitsOf(options);
  const bytes = readTargetBytes(path, limits.maxFileBytes);
  const text = decodeUtf8(bytes, path);
  return parseTarget(text, path, formatOf(path, text), dirname(resolve(path)), options);
}

/**
 * The bytes of the regular file at `path`, refused (TargetError) when it is not a regular file or is
 * larger than `maxBytes` — from its size, before reading. Opened non-blocking and checked again on the
 * open descriptor, so a FIFO or device swapped in after the check cannot hang or flood the read.
 */
function readTargetBytes(path: string, maxBytes: number): Uint8Array {
  const fail = (detail: string, limit?: TargetLimit): never => {
    throw new TargetError(path, undefined, detail, limit);
  };
  const check = (st: Stats) => {
    if (st.isDirectory()) fail("cannot read file: it is a directory");
    if (!st.isFile()) fail(`cannot read file: it is ${fileKind(st)}, not a regular file`);
    if (st.size > maxBytes)
      fail(
        `file is ${formatBytes(st.size)}, over the ${formatBytes(maxBytes)} limit for target files`,
        "file-size",
      );
  };
  let fd: number;
  try {
    check(statSync(path));
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (err instanceof TargetError) throw err;
    return fail(`cannot read file: ${ioReason(err)}`);
  }
  try {
    const st = fstatSync(fd);
    check(st);
    // One byte more than allowed: a file that grew past the limit since the check is caught.
    const buf = new Uint8Array(Math.min(st.size, maxBytes) + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n === buf.length) {
        if (n > maxBytes)
          fail(
            `file is over the ${formatBytes(maxBytes)} limit for target files (it grew while read)`,
            "file-size",
          );
        break;
      }
    }
    return buf.subarray(0, n);
  } catch (err) {
    if (err instanceof TargetError) throw err;
    return fail(`cannot read file: ${ioReason(err)}`);
  } finally {
    closeSync(fd);
  }
}

/**
 * The text of a target file, which must be UTF-8 (a UTF-8 byte order mark is dropped). UTF-16/32 (by
 * their byte order mark), NUL bytes (binary data, or UTF-16 without a mark) and invalid UTF-8 sequences
 * are refused with their offset.
 */
function decodeUtf8(bytes: Uint8Array, file: string): string {
  const fail = (detail: string): never => {
    throw new TargetError(file, undefined, detail);
  };
  const b = bytes;
  const bom = (...m: number[]) => b.length >= m.length && m.every((x, i) => b[i] === x);
  const convert = "; save it as UTF-8";
  if (bom(0xff, 0xfe, 0, 0) || bom(0, 0, 0xfe, 0xff))
    fail(`is UTF-32 text (it starts with a UTF-32 byte order mark), not UTF-8${convert}`);
  if (bom(0xff, 0xfe) || bom(0xfe, 0xff))
    fail(
      `is UTF-16 text (it starts with a UTF-16 ${b[0] === 0xff ? "little" : "big"}-endian byte order mark), not UTF-8${convert}`,
    );
  const nul = b.indexOf(0);
  if (nul >= 0)
    fail(
      `contains a NUL byte at offset ${nul} (line ${lineAt(b, nul)}): a binary file or UTF-16 text, not UTF-8 JSON or YAML`,
    );
  const bad = invalidUtf8At(b);
  if (bad >= 0)
    fail(
      `is not valid UTF-8: byte 0x${b[bad].toString(16).padStart(2, "0")} at offset ${bad} (line ${lineAt(b, bad)}) — a binary file, or text in another encoding such as Latin-1${convert}`,
    );
  const text = new TextDecoder("utf-8").decode(b);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function lineAt(b: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (b[i] === 0x0a) line++;
  return line;
}

/** Offset of the first byte that is not part of a well-formed UTF-8 sequence (RFC 3629), or −1. */
function invalidUtf8At(b: Uint8Array): number {
  let i = 0;
  const n = b.length;
  const cont = (k: number) => k < n && (b[k] & 0xc0) === 0x80;
  while (i < n) {
    const c = b[i];
    if (c < 0x80) {
      i++;
    } else if (c >= 0xc2 && c <= 0xdf) {
      if (!cont(i + 1)) return i;
      i += 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      const c1 = b[i + 1];
      // No overlong forms (E0 80..9F) and no UTF-16 surrogates (ED A0..BF).
      if (!cont(i + 1) || (c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 > 0x9f) || !cont(i + 2)) return i;
      i += 3;
    } else if (c >= 0xf0 && c <= 0xf4) {
      const c1 = b[i + 1];
      // No overlong forms (F0 80..8F) and nothing above U+10FFFF (F4 90..).
      if (
        !cont(i + 1) ||
        (c === 0xf0 && c1 < 0x90) ||
        (c === 0xf4 && c1 > 0x8f) ||
        !cont(i + 2) ||
        !cont(i + 3)
      )
        return i;
      i += 4;
    } else {
      return i;
    }
  }
  return -1;
}

/**
 * Parses target text (JSON or YAML) named `file` in messages; relative `path`s (rbm) are resolved
 * against `baseDir` and must stay inside it unless `options.allowOutsidePaths`.
 */
export function parseTarget(
  text: string,
  file: string,
  format: "json" | "yaml",
  baseDir: string,
  options: LoadOptions = {},
): LoadedTarget {
  const limits = limitsOf(options);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === "") throw new TargetError(file, undefined, "file is empty");
  let value: unknown;
  try {
    value = format === "json" ? parseJson(text, file) : parseYaml(text, file);
  } catch (err) {
    if (err instanceof TargetError) throw err;
    // The parsers recurse over nesting: a deeply nested file can exhaust the stack.
    if (err instanceof RangeError)
      throw new TargetError(
        file,
        undefined,
        `is nested too deeply to parse (at most ${MAX_DEPTH} levels are needed)`,
      );
    throw new TargetError(
      file,
      undefined,
      `invalid ${format === "json" ? "JSON" : "YAML"}: ${(err as Error).message}`,
    );
  }
  checkSize(value, file, limits.maxFileBytes);
  return buildTarget(value, file, baseDir, options);
}

function parseJson(text: string, file: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    if (err instanceof SyntaxError)
      throw new TargetError(file, undefined, `invalid JSON: ${jsonReason(err, text)}`);
    throw err;
  }
  const dup = duplicateJsonKey(text);
  if (dup)
    throw new TargetError(
      file,
      undefined,
      `invalid JSON: duplicate key ${show(dup.key)} at ${lineColumn(text, dup.at)} (keys must be unique, as in YAML)`,
    );
  return value;
}

/**
 * A quick upper bound on the nesting depth of YAML text, found in one pass before the yaml package sees it:
 * its composer recurses once per level and overflows the stack at a few hundred levels of flow
 * collections (and an overflow inside V8's regular-expression compiler aborts the process instead of
 * throwing). Flow brackets outside quotes and comments count one level each; a block level needs one more
 * column of indentation or one more indicator (`- `, `? `, `: `) on its line, and a sequence may sit at
 * its parent key's indentation, hence the bound 2·(columns + indicators + 1) + open brackets. Quote
 * characters start a quoted scalar only where a scalar can start (after an indicator, a bracket, a comma
 * or at the start of a line).
 */
function yamlNestingBound(text: string): number {
  let flow = 0;
  let indent = 0;
  let indicators = 0;
  let atLineStart = true;
  let prev = "\n"; // the last non-space character, for "where a scalar can start"
  let max = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const ch = text[i];
    if (ch === "\n") {
      max = Math.max(max, 2 * (indent + indicators + 1) + flow);
      indent = 0;
      indicators = 0;
      atLineStart = true;
      prev = "\n";
      continue;
    }
    if (atLineStart) {
      if (ch === " ") {
        indent++;
        continue;
      }
      atLineStart = false;
    }
    if (ch === " " || ch === "\t" || ch === "\r") continue;
    const next = i + 1 < n ? text[i + 1] : "\n";
    const spaceAfter = next === " " || next === "\n" || next === "\t" || next === "\r";
    if (ch === "#" && (i === 0 || /\s/.test(text[i - 1]))) {
      while (i + 1 < n && text[i + 1] !== "\n") i++;
      continue;
    }
    if ((ch === "'" || ch === '"') && "\n:-?[{,".includes(prev)) {
      // Skip the quoted scalar ('' escapes a quote in single quotes, \ escapes in double quotes).
      for (i++; i < n; i++) {
        if (ch === '"' && text[i] === "\\") i++;
        else if (text[i] === ch) {
          if (ch === "'" && text[i + 1] === "'") i++;
          else break;
        } else if (text[i] === "\n") {
          max = Math.max(max, 2 * (indent + indicators + 1) + flow);
        }
      }
      prev = ch;
      continue;
    }
    if (ch === "[" || ch === "{") {
      flow++;
      max = Math.max(max, 2 * (indent + indicators + 1) + flow);
    } else if (ch === "]" || ch === "}") {
      if (flow > 0) flow--;
    } else if ((ch === "-" || ch === "?" || ch === ":") && spaceAfter && flow === 0) {
      indicators++;
    }
    prev = ch;
  }
  return Math.max(max, 2 * (indent + indicators + 1) + flow);
}

function parseYaml(text: string, file: string): unknown {
  if (yamlNestingBound(text) > MAX_YAML_NESTING_BOUND)
    throw new TargetError(
      file,
      undefined,
      `is nested or indented too deeply to be a target description (nesting bound over ${MAX_YAML_NESTING_BOUND}; targets need at most 4 levels)`,
    );
  // Duplicate keys are found below, to name them (yaml's own error gives only the position).
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const first = doc.errors[0].message.split("\n")[0].replace(/:\s*$/, "");
    throw new TargetError(file, undefined, `invalid YAML: ${first}`);
  }
  if (doc.contents === null) throw new TargetError(file, undefined, "file is empty");
  let dup: { key: string; at: number } | undefined;
  visit(doc, {
    Map(_, map) {
      if (!isMap(map)) return undefined;
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const k = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(k)) {
          dup = { key: String(k), at: (isScalar(pair.key) && pair.key.range?.[0]) || 0 };
          return visit.BREAK;
        }
        seen.add(k);
      }
      return undefined;
    },
  });
  if (dup)
    throw new TargetError(
      file,
      undefined,
      `invalid YAML: duplicate key ${show(dup.key)} at ${lineColumn(text, dup.at)} (map keys must be unique)`,
    );
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    if (err instanceof ReferenceError) {
      const m = /Excessive alias count/.test(err.message)
        ? `too many alias expansions (more than ${MAX_YAML_ALIASES}; a "billion laughs" document?)`
        : oneLine(err.message);
      throw new TargetError(file, undefined, `invalid YAML: ${m}`);
    }
    throw err;
  }
}

/** "line L, column C" of a character offset. */
function lineColumn(text: string, at: number): string {
  const before = text.slice(0, at);
  return `line ${before.split("\n").length}, column ${at - before.lastIndexOf("\n")}`;
}

/**
 * The first key that repeats within one object of valid JSON `text` (compared after unescaping), with
 * its offset; JSON.parse would silently keep the last. One pass, no recursion.
 */
function duplicateJsonKey(text: string): { key: string; at: number } | undefined {
  const stack: (Set<string> | null)[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22) {
      let j = i + 1;
      while (j < n) {
        const c = text.charCodeAt(j);
        if (c === 0x5c) j += 2;
        else if (c === 0x22) break;
        else j++;
      }
      const keys = stack[stack.length - 1];
      if (keys) {
        let k = j + 1;
        while (k < n && /\s/.test(text[k])) k++;
        if (text.charCodeAt(k) === 0x3a) {
          const key = JSON.parse(text.slice(i, j + 1)) as string;
          if (keys.has(key)) return { key, at: i };
          keys.add(key);
        }
      }
      i = j + 1;
    } else {
      if (ch === 0x7b) stack.push(new Set());
      else if (ch === 0x5b) stack.push(null);
      else if (ch === 0x7d || ch === 0x5d) stack.pop();
      i++;
    }
  }
  return undefined;
}

/**
 * Bounds a parsed document before it is validated: at most `maxValues` values (every list entry and
 * mapping entry counts, shared YAML aliases once per use) and at most MAX_DEPTH levels. Iterative.
 */
function checkSize(value: unknown, file: string, maxValues: number): void {
  const stack: [unknown, number][] = [[value, 0]];
  let count = 0;
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== "object") continue;
    if (depth >= MAX_DEPTH)
      throw new TargetError(file, undefined, `is nested more than ${MAX_DEPTH} levels deep`);
    const items = Array.isArray(v) ? v : Object.values(v);
    count += items.length;
    if (count > maxValues)
      throw new TargetError(
        file,
        undefined,
        `holds more than ${maxValues} values once aliases are expanded (the most a file of the size limit could hold)`,
        "file-size",
      );
    for (const x of items) stack.push([x, depth + 1]);
  }
}

/** Validates an already-parsed target description and builds it. */
export function buildTarget(
  value: unknown,
  file: string,
  baseDir: string,
  options: LoadOptions = {},
): LoadedTarget {
  const c = new Checker(file, limitsOf(options));
  if (value === undefined) throw new TargetError(file, undefined, "file is empty");
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new TargetError(
      file,
      undefined,
      `top level must be a mapping with a 'type' field, got ${show(value)}`,
    );
  const obj = value as Record<string, unknown>;
  if (!Object.hasOwn(obj, "type") || obj.type === null || obj.type === undefined)
    c.fail("type", `is missing (expected one of ${TARGET_TYPES.join(", ")})`);
  if (typeof obj.type !== "string") c.fail("type", `must be a string, got ${show(obj.type)}`);
  const type = obj.type as string;
  if (!(TARGET_TYPES as readonly string[]).includes(type))
    c.fail("type", `'${clip(type)}' is unknown (expected one of ${TARGET_TYPES.join(", ")})`);
  let userDescription: string | undefined;
  if (Object.hasOwn(obj, "description")) {
    if (typeof obj.description !== "string")
      c.fail("description", `must be a string, got ${show(obj.description)}`);
    userDescription = obj.description as string;
    if (userDescription.length > MAX_DESCRIPTION)
      c.fail(
        "description",
        `has ${userDescription.length} characters, at most ${MAX_DESCRIPTION} are allowed`,
      );
  }
  const t = type as TargetType;
  c.checkFields(obj, t, FIELDS[t]);
  const built = BUILDERS[t](obj, c, baseDir);
  if (userDescription !== undefined) built.description = userDescription;
  return built;
}

const FIELDS: Record<TargetType, string[]> = {
  gaussian: ["mean", "cov"],
  gmm: ["weights", "means", "stds", "covs"],
  funnel: ["dim", "scale"],
  banana: ["dim", "b", "scale"],
  ising: ["couplings", "field", "beta"],
  rbm: ["weights", "visible_bias", "hidden_bias", "path"],
};

const BUILDERS: Record<
  TargetType,
  (o: Record<string, unknown>, c: Checker, baseDir: string) => LoadedTarget
> = {
  gaussian(o, c) {
    const mean = c.vector(c.required(o, "mean"), "mean");
    const d = mean.length;
    const cov = c.matrix(c.required(o, "cov"), "cov", d, d).data;
    c.symmetric(cov, d, "cov");
    c.positiveDefinite(cov, d, "cov");
    const energy = new GaussianEnergy(mean, cov);
    return {
      kind: "continuous",
      type: "gaussian",
      energy,
      exact: { logZ: energy.logZ(), sample: (key, n, out) => energy.sampleExact(key, n, out) },
      description: `gaussian, d = ${d}`,
    };
  },

  gmm(o, c) {
    const weights = c.vector(c.required(o, "weights"), "weights");
    const k = weights.length;
    let total = 0;
    for (let j = 0; j < k; j++) {
      if (!(weights[j] > 0)) c.fail(`weights[${j}]`, `must be positive, got ${weights[j]}`);
      total += weights[j];
    }
    if (!Number.isFinite(total)) c.fail("weights", "sum to a number too large to normalize");
    for (let j = 0; j < k; j++) weights[j] /= total;
    const meansRaw = c.list(c.required(o, "means"), "means");
    if (meansRaw.length !== k) c.fail("means", `has ${meansRaw.length} rows, expected ${k} (one per weight)`);
    const means = c.matrix(meansRaw, "means", k).data;
    const d = means.length / k;
    const hasStds = Object.hasOwn(o, "stds");
    const hasCovs = Object.hasOwn(o, "covs");
    if (hasStds && hasCovs) c.fail("stds", "and covs are both given: give exactly one of them");
    if (!hasStds && !hasCovs) c.fail("stds", "or covs is missing: give exactly one of them");
    const meanRows: Float64Array[] = [];
    for (let j = 0; j < k; j++) meanRows.push(means.subarray(j * d, (j + 1) * d));
    let energy: GmmEnergy;
    if (hasStds) {
      const stds = c.vector(o.stds, "stds", k, "one per weight");
      for (let j = 0; j < k; j++)
        if (!(stds[j] > 0)) c.fail(`stds[${j}]`, `must be positive, got ${stds[j]}`);
      energy = c.construct(() => new GmmEnergy({ weights, means: meanRows, stds }));
    } else {
      const covsRaw = c.list(o.covs, "covs");
      if (covsRaw.length !== k)
        c.fail("covs", `has ${covsRaw.length} entries, expected ${k} (one per weight)`);
      const covs: Float64Array[] = [];
      for (let j = 0; j < k; j++) {
        const field = `covs[${j}]`;
        const cov = c.matrix(covsRaw[j], field, d, d).data;
        c.symmetric(cov, d, field);
        c.positiveDefinite(cov, d, field);
        covs.push(cov);
      }
      energy = c.construct(() => new GmmEnergy({ weights, means: meanRows, covs }));
    }
    return {
      kind: "continuous",
      type: "gmm",
      energy,
      exact: { logZ: 0, sample: (key, n, out) => energy.sampleExact(key, n, out) },
      description: `gmm, ${k} component${k === 1 ? "" : "s"} in d = ${d}, ${hasStds ? "isotropic" : "full covariances"}`,
    };
  },

  funnel(o, c) {
    const dim = c.integer(c.required(o, "dim"), "dim", 2);
    const scale = Object.hasOwn(o, "scale") ? c.positive(o.scale, "scale") : 3;
    const energy = c.construct(() => new FunnelEnergy(dim, scale));
    return {
      kind: "continuous",
      type: "funnel",
      energy,
      exact: { logZ: 0, sample: (key, n, out) => energy.sampleExact(key, n, out) },
      description: `funnel (Neal), dim = ${dim}, scale = ${scale}`,
    };
  },

  banana(o, c) {
    const dim = c.integer(c.required(o, "dim"), "dim", 2);
    const b = c.finite(c.required(o, "b"), "b");
    const scale = Object.hasOwn(o, "scale") ? c.positive(o.scale, "scale") : 10;
    const energy = c.construct(() => new BananaEnergy(dim, b, scale));
    return {
      kind: "continuous",
      type: "banana",
      energy,
      exact: { logZ: 0, sample: (key, n, out) => energy.sampleExact(key, n, out) },
      description: `banana (Haario twisted Gaussian), dim = ${dim}, b = ${b}, scale = ${scale}`,
    };
  },

  ising(o, c) {
    const raw = c.list(c.required(o, "couplings"), "couplings");
    const n = raw.length;
    if (n === 0) c.fail("couplings", "is empty");
    const couplings = c.matrix(raw, "couplings", n, n).data;
    for (let i = 0; i < n; i++)
      if (couplings[i * n + i] !== 0)
        c.fail(`couplings[${i}][${i}]`, `is ${couplings[i * n + i]}, expected 0 (no self-coupling)`);
    c.symmetric(couplings, n, "couplings");
    for (let i = 0; i < n; i++)
      for (let j = 0; j < i; j++) {
        const s = 0.5 * (couplings[i * n + j] + couplings[j * n + i]);
        couplings[i * n + j] = s;
        couplings[j * n + i] = s;
      }
    const field = c.vector(c.required(o, "field"), "field", n, "one per spin");
    let beta = 1;
    if (Object.hasOwn(o, "beta")) {
      beta = c.finite(o.beta, "beta");
      if (beta < 0) c.fail("beta", `must be ≥ 0, got ${beta}`);
    }
    return {
      kind: "discrete",
      spec: { type: "ising", n, couplings, field, beta },
      description: `ising, n = ${n} spins, beta = ${beta}`,
    };
  },

  rbm(o, c, baseDir) {
    const inline = ["weights", "visible_bias", "hidden_bias"].filter((f) => Object.hasOwn(o, f));
    let spec: RbmSpec;
    let source = "";
    let file: string | undefined;
    if (Object.hasOwn(o, "path")) {
      if (inline.length > 0)
        c.fail("path", `and inline ${inline.join(", ")} are both given: give the tensors in one place`);
      const p = o.path;
      if (typeof p !== "string" || p === "") c.fail("path", `must be a file name, got ${show(p)}`);
      const name = p as string;
      if ([...name].some((ch) => isControl(ch.charCodeAt(0))))
        c.fail("path", `must be a file name without control characters, got ${show(name)}`);
      spec = rbmFromSafetensors(name, c.insideFolder(name, baseDir), c);
      source = ` (from ${clip(name)})`;
      file = name;
    } else {
      const w = c.matrix(c.required(o, "weights"), "weights");
      const visibleBias = c.vector(
        c.required(o, "visible_bias"),
        "visible_bias",
        w.rows,
        "one per row of weights",
      );
      const hiddenBias = c.vector(
        c.required(o, "hidden_bias"),
        "hidden_bias",
        w.cols,
        "one per column of weights",
      );
      spec = { type: "rbm", visible: w.rows, hidden: w.cols, weights: w.data, visibleBias, hiddenBias };
    }
    checkFloat32(c, "weights", spec.weights, file, spec.hidden);
    checkFloat32(c, "visible_bias", spec.visibleBias, file);
    checkFloat32(c, "hidden_bias", spec.hiddenBias, file);
    return {
      kind: "discrete",
      spec,
      description: `rbm, ${spec.visible} visible × ${spec.hidden} hidden${source}`,
    };
  },
};

/**
 * RBM parameters become float32 (energies/rbm.ts): a finite float64 beyond float32's range would turn into
 * ±Infinity. Fails on the first such value, naming the entry (`field[i][j]` inline, or the tensor and its
 * flat index in the safetensors `file`).
 */
function checkFloat32(c: Checker, field: string, data: Float64Array, file?: string, cols?: number): void {
  const why = "beyond float32 range (RBM parameters are float32)";
  for (let q = 0; q < data.length; q++) {
    if (Number.isFinite(Math.fround(data[q]))) continue;
    if (file !== undefined)
      c.fail("path", `'${clip(file)}': tensor '${field}' has ${data[q]} at flat index ${q}, ${why}`);
    const at = cols === undefined ? `[${q}]` : `[${Math.floor(q / cols)}][${q % cols}]`;
    c.fail(`${field}${at}`, `is ${data[q]}, ${why}`);
  }
}

function rbmFromSafetensors(name: string, full: string, c: Checker): RbmSpec {
  const at = `'${clip(name)}'`;
  const max = c.limits.maxWeightsBytes;
  let st: SafetensorsFile;
  try {
    st = readSafetensorsFile(full, { maxBytes: max });
  } catch (err) {
    if (err instanceof SafetensorsError) {
      if (err.problem === "too-large")
        c.fail(
          "path",
          `${at} is ${sizeOf(full)}, over the ${formatBytes(max)} limit for weights files`,
          "weights-size",
        );
      if (err.problem === "not-regular") c.fail("path", `${at} ${err.message}`);
      c.fail("path", `${at} is not a valid safetensors file: ${err.message}`);
    }
    c.fail("path", `${at} cannot be read: ${ioReason(err)}`);
  }
  // The RBM keeps its parameters as float32 (and this loader as float64): bound their number from the
  // header before decoding (a 2-byte dtype would otherwise double the file's size in float32).
  let values = 0;
  for (const tensor of ["weights", "visible_bias", "hidden_bias"]) {
    const t = st.tensors.get(tensor);
    if (t) values += t.shape.reduce((a, b) => a * b, 1);
  }
  if (4 * values > max)
    c.fail(
      "path",
      `${at} holds ${values} RBM parameters (${formatBytes(4 * values)} as float32), over the ${formatBytes(max)} limit for weights`,
      "weights-size",
    );
  const get = (tensor: string): { shape: number[]; data: Float64Array } => {
    if (!st.tensors.has(tensor)) {
      const found = [...st.tensors.keys()].sort();
      c.fail(
        "path",
        `${at} has no tensor '${tensor}' (found: ${found.length > 0 ? found.join(", ") : "none"})`,
      );
    }
    let t: { shape: number[]; data: Float64Array };
    try {
      t = st.getFloat64(tensor);
    } catch (err) {
      c.fail("path", `${at}: ${(err as Error).message}`);
    }
    for (let i = 0; i < t.data.length; i++)
      if (!Number.isFinite(t.data[i]))
        c.fail("path", `${at}: tensor '${tensor}' has a non-finite value ${t.data[i]} at flat index ${i}`);
    return t;
  };
  const w = get("weights");
  if (w.shape.length !== 2 || w.shape[0] < 1 || w.shape[1] < 1)
    c.fail(
      "path",
      `${at}: tensor 'weights' has shape [${w.shape.join(", ")}], expected [visible, hidden] with both ≥ 1`,
    );
  const [visible, hidden] = w.shape;
  const vb = get("visible_bias");
  if (vb.shape.length !== 1 || vb.shape[0] !== visible)
    c.fail("path", `${at}: tensor 'visible_bias' has shape [${vb.shape.join(", ")}], expected [${visible}]`);
  const hb = get("hidden_bias");
  if (hb.shape.length !== 1 || hb.shape[0] !== hidden)
    c.fail("path", `${at}: tensor 'hidden_bias' has shape [${hb.shape.join(", ")}], expected [${hidden}]`);
  return { type: "rbm", visible, hidden, weights: w.data, visibleBias: vb.data, hiddenBias: hb.data };
}

/** Field checks that throw TargetError naming the file and the field path. */
class Checker {
  constructor(
    readonly file: string,
    readonly limits: Limits,
  ) {}

  fail(field: string, detail: string, limit?: TargetLimit): never {
    throw new TargetError(this.file, field, detail, limit);
  }

  /**
   * `name` (a `path` field) resolved against `baseDir`, the target file's folder. Unless outside paths
   * are allowed, it must stay inside that folder: first as written (an absolute path or `..` steps that
   * leave it are refused without touching the file system), then once symbolic links are followed.
   */
  insideFolder(name: string, baseDir: string): string {
    const full = resolve(baseDir, name);
    if (this.limits.allowOutsidePaths) return full;
    const outside = (from: string, to: string) => {
      const r = relative(from, to);
      return r === ".." || r.startsWith(`..${sep}`) || isAbsolute(r);
    };
    const refuse = (how: string): never =>
      this.fail(
        "path",
        `'${clip(name)}' ${how} outside the target file's folder ${clip(baseDir)}: weights must sit in that folder or below it`,
        "outside-path",
      );
    if (outside(baseDir, full)) refuse("points");
    let real: string;
    try {
      real = realpathSync(full);
    } catch {
      return full; // missing: the read reports it
    }
    let realBase = baseDir;
    try {
      realBase = realpathSync(baseDir);
    } catch {
      // keep the path as given
    }
    if (outside(realBase, real)) refuse("leads (through a symbolic link)");
    return full;
  }

  checkFields(o: Record<string, unknown>, type: TargetType, allowed: string[]): void {
    for (const key of Object.keys(o)) {
      if (key === "type" || key === "description" || allowed.includes(key)) continue;
      this.fail(
        clip(key),
        `is not a field of type ${type} (expected: ${allowed.join(", ")}; also allowed: type, description)`,
      );
    }
  }

  required(o: Record<string, unknown>, key: string): unknown {
    if (!Object.hasOwn(o, key) || o[key] === undefined) this.fail(key, "is missing");
    return o[key];
  }

  finite(v: unknown, field: string): number {
    if (typeof v !== "number") this.fail(field, `must be a number, got ${show(v)}`);
    if (!Number.isFinite(v)) this.fail(field, `must be a finite number, got ${v}`);
    return v;
  }

  positive(v: unknown, field: string): number {
    const x = this.finite(v, field);
    if (!(x > 0)) this.fail(field, `must be positive, got ${x}`);
    return x;
  }

  integer(v: unknown, field: string, min: number): number {
    const x = this.finite(v, field);
    if (!Number.isSafeInteger(x) || x < min) this.fail(field, `must be an integer ≥ ${min}, got ${x}`);
    return x;
  }

  list(v: unknown, field: string): unknown[] {
    if (!Array.isArray(v)) this.fail(field, `must be a list, got ${show(v)}`);
    return v;
  }

  /** A non-empty list of finite numbers; with `length`, exactly that many. */
  vector(v: unknown, field: string, length?: number, why?: string): Float64Array {
    const a = this.list(v, field);
    if (length !== undefined && a.length !== length)
      this.fail(field, `has length ${a.length}, expected ${length}${why ? ` (${why})` : ""}`);
    if (a.length === 0) this.fail(field, "is empty");
    const out = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = this.finite(a[i], `${field}[${i}]`);
    return out;
  }

  /** A list of rows of finite numbers, all of the same length; returns row-major data. */
  matrix(
    v: unknown,
    field: string,
    rows?: number,
    cols?: number,
  ): { data: Float64Array; rows: number; cols: number } {
    const a = this.list(v, field);
    if (rows !== undefined && a.length !== rows) this.fail(field, `has ${a.length} rows, expected ${rows}`);
    if (a.length === 0) this.fail(field, "is empty");
    const first = this.list(a[0], `${field}[0]`);
    const c = cols ?? first.length;
    const out = new Float64Array(a.length * c);
    for (let i = 0; i < a.length; i++) out.set(this.vector(a[i], `${field}[${i}]`, c), i * c);
    return { data: out, rows: a.length, cols: c };
  }

  /** Same tolerance as GaussianEnergy: |a_ij − a_ji| ≤ 1e-12 (1 + |a_ij|). */
  symmetric(a: Float64Array, d: number, field: string): void {
    for (let i = 0; i < d; i++)
      for (let j = 0; j < i; j++) {
        const x = a[i * d + j];
        const y = a[j * d + i];
        if (Math.abs(x - y) > 1e-12 * (1 + Math.abs(x)))
          this.fail(field, `is not symmetric: ${field}[${j}][${i}] = ${y} but ${field}[${i}][${j}] = ${x}`);
      }
  }

  positiveDefinite(a: Float64Array, d: number, field: string): void {
    try {
      cholesky(a, d);
    } catch {
      let m = 1;
      // Find the smallest leading block that is not positive definite, for the message.
      for (; m < d; m++) {
        const block = new Float64Array(m * m);
        for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) block[i * m + j] = a[i * d + j];
        try {
          cholesky(block, m);
        } catch {
          break;
        }
      }
      this.fail(
        field,
        `is not positive definite (its leading ${m}×${m} block is singular or indefinite); a covariance must be symmetric positive definite`,
      );
    }
  }

  /** Runs an energy constructor; any RangeError it still raises becomes a TargetError. */
  construct<T>(f: () => T): T {
    try {
      return f();
    } catch (err) {
      throw new TargetError(this.file, undefined, (err as Error).message);
    }
  }
}

function formatOf(path: string, text: string): "json" | "yaml" {
  const ext = extname(path).toLowerCase();
  if (ext === ".json") return "json";
  if (ext === ".yaml" || ext === ".yml") return "yaml";
  const first = text.replace(/^\ufeff/, "").trimStart()[0];
  return first === "{" || first === "[" ? "json" : "yaml";
}

function ioReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EISDIR":
      return "it is a directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    default:
      return oneLine((err as Error).message ?? String(err));
  }
}

/** A JSON.parse message on one line, with line and column when the engine reports a position. */
function jsonReason(err: Error, text: string): string {
  let msg = oneLine(err.message);
  const pos = /at position (\d+)/.exec(err.message);
  if (pos && !/line \d+/.test(msg)) {
    const p = Number(pos[1]);
    const before = text.slice(0, p);
    const line = before.split("\n").length;
    const col = p - before.lastIndexOf("\n");
    msg += ` (line ${line}, column ${col})`;
  }
  return msg.length > 200 ? `${msg.slice(0, 197)}...` : msg;
}

/** A short rendering of an offending value for messages. */
function show(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
  return String(v);
}

/** A user string (a key, a type, a file name) for a message: at most 80 characters, controls escaped. */
function clip(s: string): string {
  const chars = [...s];
  return escapeControls(chars.length > 80 ? `${chars.slice(0, 80).join("")}…` : s);
}

/** The size of a file for a message ("?" if it cannot be read). */
function sizeOf(path: string): string {
  try {
    return formatBytes(statSync(path).size);
  } catch {
    return "?";
  }
}

function isControl(c: number): boolean {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/** Control characters (C0, DEL, C1) shown as \xNN. */
function escapeControls(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += isControl(c) ? `\\x${c.toString(16).padStart(2, "0")}` : s[i];
  }
  return out;
}

/** One line, with the control characters that remain (from a file's content) shown as \xNN. */
function oneLine(s: string): string {
  return escapeControls(s.replace(/\s*\n\s*/g, " ").trim());
}
