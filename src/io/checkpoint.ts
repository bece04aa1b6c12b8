/**
 * Training checkpoints: a folder with
 *   model.safetensors   the model's parameters under stable names (train/model-spec.ts: mlp.layers.<l>.weight
 *                       [in, out], mlp.layers.<l>.bias [out]), float64;
 *   state.safetensors   the rest of the trainer's state (θ's master copy, optimizer moments, walkers,
 *                       weights, buffers) as tensors named by their path ("state.objective.walkers.logw");
 *   config.json         {"format": "ebm-checkpoint", "version": 1, "iteration", "config" (the TrainConfig:
 *                       model spec, method, optimizer, sizes, seed), "data" (where the data came from),
 *                       "state" (the state's structure, train/state-codec.ts), "files" (SHA-256 of both
 *                       safetensors files), "summary" (the last evaluation, informative)}.
 * Each file is written atomically (temporary file, then rename), config.json last; a reader checks both
 * checksums, so a truncated, edited or half-replaced checkpoint is refused with a one-line message
 * instead of being loaded.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { encodeSafetensors, parseSafetensors, SafetensorsError } from "./safetensors.ts";
import { ensureDir, writeFileAtomic } from "./files.ts";

export const CHECKPOINT_FORMAT = "ebm-checkpoint";
export const CHECKPOINT_VERSION = 1;
const MAX_BYTES = 4 * 2 ** 30;

/** A checkpoint that cannot be read: missing, not a checkpoint, truncated, modified or inconsistent. */
export class CheckpointError extends Error {
  override name = "CheckpointError";
}

export interface CheckpointTensors {
  [name: string]: { shape: readonly number[]; data: ArrayLike<number> };
}

export interface CheckpointContents {
  iteration: number;
  /** The training configuration (JSON). */
  config: unknown;
  /** Where the data came from (JSON). */
  data: unknown;
  /** Structure of the trainer state (JSON skeleton). */
  state: unknown;
  /** Latest evaluation or diagnostics (JSON, informative). */
  summary?: unknown;
  modelTensors: CheckpointTensors;
  stateTensors: CheckpointTensors;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Writes the checkpoint into `dir` (created if needed), each file atomically, config.json last. */
export function writeCheckpoint(dir: string, c: CheckpointContents): void {
  ensureDir(dir);
  const meta = { format: CHECKPOINT_FORMAT, version: String(CHECKPOINT_VERSION) };
  const toWrite = (t: CheckpointTensors) =>
    Object.fromEntries(Object.entries(t).map(([k, v]) => [k, { shape: v.shape, data: v.data }]));
  const model = encodeSafetensors(toWrite(c.modelTensors), { ...meta, content: "model" });
  const state = encodeSafetensors(toWrite(c.stateTensors), { ...meta, content: "state" });
  writeFileAtomic(join(dir, "model.safetensors"), model);
  writeFileAtomic(join(dir, "state.safetensors"), state);
  const config = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    iteration: c.iteration,
    config: c.config,
    data: c.data,
    state: c.state,
    files: { "model.safetensors": sha256(model), "state.safetensors": sha256(state) },
    summary: c.summary ?? null,
  };
  writeFileAtomic(join(dir, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
}

function readChecked(dir: string, name: string, expected: unknown, limit: number): Uint8Array {
  const path = join(dir, name);
  if (!existsSync(path)) throw new CheckpointError(`${path}: missing (the checkpoint is incomplete)`);
  const st = statSync(path);
  if (!st.isFile()) throw new CheckpointError(`${path}: not a regular file`);
  if (st.size > limit) throw new CheckpointError(`${path}: ${st.size} bytes, over the limit of ${limit}`);
  const bytes = new Uint8Array(readFileSync(path));
  if (typeof expected !== "string" || sha256(bytes) !== expected)
    throw new CheckpointError(
      `${path}: does not match the checksum in config.json (the checkpoint was truncated, modified, or its write was interrupted)`,
    );
  return bytes;
}

function tensorsOf(path: string, bytes: Uint8Array): CheckpointTensors {
  try {
    const f = parseSafetensors(bytes);
    const out: CheckpointTensors = {};
    for (const name of f.tensors.keys()) out[name] = f.getFloat64(name);
    return out;
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError(`${path}: ${e.message}`);
    throw e;
  }
}

/** Reads and verifies the checkpoint in `dir`; every problem is a CheckpointError with one line. */
export function readCheckpoint(dir: string, options: { maxBytes?: number } = {}): CheckpointContents {
  const limit = options.maxBytes ?? MAX_BYTES;
  if (!existsSync(dir)) throw new CheckpointError(`${dir}: no such checkpoint folder`);
  if (!statSync(dir).isDirectory())
    throw new CheckpointError(`${dir}: not a folder (a checkpoint is a folder)`);
  const cfgPath = join(dir, "config.json");
  if (!existsSync(cfgPath)) throw new CheckpointError(`${dir}: not a checkpoint (no config.json)`);
  if (statSync(cfgPath).size > 64 * 2 ** 20) throw new CheckpointError(`${cfgPath}: too large for a config`);
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(readFileSync(cfgPath, "utf8"));
  } catch (e) {
    throw new CheckpointError(`${cfgPath}: not valid JSON (${(e as Error).message.split("\n")[0]})`);
  }
  if (cfg === null || typeof cfg !== "object" || cfg.format !== CHECKPOINT_FORMAT)
    throw new CheckpointError(`${cfgPath}: not an ebm checkpoint (format is not '${CHECKPOINT_FORMAT}')`);
  if (cfg.version !== CHECKPOINT_VERSION)
    throw new CheckpointError(
      `${cfgPath}: checkpoint version ${String(cfg.version)} is not supported (expected ${CHECKPOINT_VERSION})`,
    );
  if (!Number.isSafeInteger(cfg.iteration) || (cfg.iteration as number) < 0)
    throw new CheckpointError(`${cfgPath}: field 'iteration' must be an integer ≥ 0`);
  const files = (cfg.files ?? {}) as Record<string, unknown>;
  const model = readChecked(dir, "model.safetensors", files["model.safetensors"], limit);
  const state = readChecked(dir, "state.safetensors", files["state.safetensors"], limit);
  return {
    iteration: cfg.iteration as number,
    config: cfg.config,
    data: cfg.data,
    state: cfg.state,
    summary: cfg.summary ?? undefined,
    modelTensors: tensorsOf(join(dir, "model.safetensors"), model),
    stateTensors: tensorsOf(join(dir, "state.safetensors"), state),
  };
}
