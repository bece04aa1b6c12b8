/**
 * Training data for the CLI: a built-in 2-D set (drawn from the run's seed) or a .csv/.npy file. The
 * source is recorded in the checkpoint as data ({"kind": "builtin", name, size, seed} or {"kind": "file",
 * path, sha256}) so that `--resume` and `ebm eval` use the same points, and a file that changed since is
 * refused.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  DataFileError,
  foldIn,
  isToy2dName,
  keyFromSeed,
  loadDataFile,
  type Toy2dSpec,
  TOY2D_NAMES,
  toy2d,
} from "../node.ts";
import { printable, UserError } from "./errors.ts";

export type DataSource =
  | { kind: "builtin"; name: string; size: number; seed: number }
  | { kind: "file"; path: string; sha256: string; columns?: string[] };

export interface TrainingData {
  batch: { x: Float64Array; n: number };
  dim: number;
  source: DataSource;
  description: string;
  /** The built-in set's spec (true density, centres), when it is one. */
  toy?: Toy2dSpec;
}

/** The key a built-in set is drawn from: the run's seed, apart from the model's and the walkers' keys. */
export function dataKey(seed: number) {
  return foldIn(keyFromSeed(seed), 0x64617461);
}

function fromFile(path: string): TrainingData {
  let loaded: ReturnType<typeof loadDataFile>;
  try {
    loaded = loadDataFile(path);
  } catch (e) {
    if (e instanceof DataFileError) throw new UserError(e.message);
    throw e;
  }
  const sha256 = createHash("sha256").update(readFileSync(path)).digest("hex");
  return {
    batch: { x: loaded.x, n: loaded.n },
    dim: loaded.dim,
    source: {
      kind: "file",
      path: resolve(path),
      sha256,
      ...(loaded.columns ? { columns: loaded.columns } : {}),
    },
    description: `${printable(path)} (${loaded.n} points)`,
  };
}

/**
 * A new run's data (`{spec, size, seed}`: a built-in name or a file path) or a saved run's (`DataSource`
 * from its checkpoint); `dim`, when given, must match.
 */
export function loadTrainingData(
  source: DataSource | { spec: string; size: number; seed: number } | unknown,
  dim: number | undefined,
): TrainingData {
  const s = source as Record<string, unknown>;
  let data: TrainingData;
  if (s && typeof s.spec === "string") {
    const spec = s.spec;
    if (isToy2dName(spec)) data = builtin(spec, s.size as number, s.seed as number);
    else if (/\.(csv|npy)$/i.test(spec)) data = fromFile(spec);
    else
      throw new UserError(
        `--data: '${printable(spec)}' is neither a built-in set (${TOY2D_NAMES.join(", ")}) nor a .csv or .npy file`,
      );
  } else if (s && s.kind === "builtin" && typeof s.name === "string" && isToy2dName(s.name)) {
    data = builtin(s.name, s.size as number, s.seed as number);
  } else if (s && s.kind === "file" && typeof s.path === "string") {
    data = fromFile(s.path);
    if (data.source.kind === "file" && data.source.sha256 !== s.sha256)
      throw new UserError(`${printable(s.path)}: the data file has changed since the checkpoint was written`);
  } else throw new UserError("the checkpoint's data source is not readable (config.json field 'data')");
  if (dim !== undefined && data.dim !== dim)
    throw new UserError(`the data have ${data.dim} columns, the model expects ${dim}`);
  return data;
}

function builtin(name: string, size: number, seed: number): TrainingData {
  if (!(Number.isSafeInteger(size) && size >= 1))
    throw new UserError(`--data-size must be an integer ≥ 1, got ${size}`);
  const toy = toy2d(name);
  const x = toy.sample(dataKey(seed), size);
  return {
    batch: { x, n: size },
    dim: 2,
    source: { kind: "builtin", name, size, seed },
    description: `${name} (${size} points)`,
    toy,
  };
}
