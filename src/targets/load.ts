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
 */
import { readFileSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import { parseDocument } from "yaml";
import { BananaEnergy } from "../energies/banana.ts";
import type { Energy } from "../energies/contract.ts";
import { FunnelEnergy } from "../energies/funnel.ts";
import { cholesky, GaussianEnergy } from "../energies/gaussian.ts";
import { GmmEnergy } from "../energies/gmm.ts";
import { readSafetensorsFile, SafetensorsError, type SafetensorsFile } from "../io/safetensors.ts";
import type { Key } from "../random/key.ts";

/** A malformed target file. `message` is one line: `<file>: <field> <what is wrong>`. */
export class TargetError extends Error {
  override name = "TargetError";
  readonly file: string;
  readonly field: string | undefined;
  constructor(file: string, field: string | undefined, detail: string) {
    super(oneLine(field === undefined ? `${file}: ${detail}` : `${file}: ${field} ${detail}`));
    this.file = file;
    this.field = field;
  }
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
export function loadTarget(path: string): LoadedTarget {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new TargetError(path, undefined, `cannot read file: ${ioReason(err)}`);
  }
  return parseTarget(text, path, formatOf(path, text), dirname(resolve(path)));
}

/**
 * Parses target text (JSON or YAML) named `file` in messages; relative `path`s (rbm) are resolved
 * against `baseDir`.
 */
export function parseTarget(
  text: string,
  file: string,
  format: "json" | "yaml",
  baseDir: string,
): LoadedTarget {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === "") throw new TargetError(file, undefined, "file is empty");
  let value: unknown;
  if (format === "json") {
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new TargetError(file, undefined, `invalid JSON: ${jsonReason(err as Error, text)}`);
    }
  } else {
    const doc = parseDocument(text, { prettyErrors: true });
    if (doc.errors.length > 0) {
      const first = doc.errors[0].message.split("\n")[0].replace(/:\s*$/, "");
      throw new TargetError(file, undefined, `invalid YAML: ${first}`);
    }
    value = doc.toJS({ maxAliasCount: 1000 });
  }
  return buildTarget(value, file, baseDir);
}

/** Validates an already-parsed target description and builds it. */
export function buildTarget(value: unknown, file: string, baseDir: string): LoadedTarget {
  const c = new Checker(file);
  if (value === null || value === undefined) throw new TargetError(file, undefined, "file is empty");
  if (typeof value !== "object" || Array.isArray(value))
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
    c.fail("type", `'${type}' is unknown (expected one of ${TARGET_TYPES.join(", ")})`);
  let userDescription: string | undefined;
  if (Object.hasOwn(obj, "description")) {
    if (typeof obj.description !== "string")
      c.fail("description", `must be a string, got ${show(obj.description)}`);
    userDescription = obj.description as string;
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
      spec = rbmFromSafetensors(p as string, resolve(baseDir, p as string), c);
      source = ` (from ${p as string})`;
      file = p as string;
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
      c.fail("path", `'${file}': tensor '${field}' has ${data[q]} at flat index ${q}, ${why}`);
    const at = cols === undefined ? `[${q}]` : `[${Math.floor(q / cols)}][${q % cols}]`;
    c.fail(`${field}${at}`, `is ${data[q]}, ${why}`);
  }
}

function rbmFromSafetensors(name: string, full: string, c: Checker): RbmSpec {
  const at = `'${name}'`;
  let st: SafetensorsFile;
  try {
    st = readSafetensorsFile(full);
  } catch (err) {
    if (err instanceof SafetensorsError)
      c.fail("path", `${at} is not a valid safetensors file: ${err.message}`);
    c.fail("path", `${at} cannot be read: ${ioReason(err)}`);
  }
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
  constructor(readonly file: string) {}

  fail(field: string, detail: string): never {
    throw new TargetError(this.file, field, detail);
  }

  checkFields(o: Record<string, unknown>, type: TargetType, allowed: string[]): void {
    for (const key of Object.keys(o)) {
      if (key === "type" || key === "description" || allowed.includes(key)) continue;
      this.fail(
        key,
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

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ").trim();
}
