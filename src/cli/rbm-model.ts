/**
 * An RBM for the commands that read one (`logz`, `score`): a checkpoint folder written by `ebm train
 * --energy rbm`, or a bare .safetensors file holding the tensors `weights` [V, H], `visible_bias` [V] and
 * `hidden_bias` [H] (F64 or F32; a scikit-learn BernoulliRBM exported by bench/peer/sklearn_rbm.py, say).
 * Every problem is a one-line UserError naming the file.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  baseRateBias,
  CheckpointError,
  DataFileError,
  loadDataFile,
  paramsFromTensors,
  Rbm,
  readCheckpoint,
  readSafetensorsFile,
  SafetensorsError,
  type TrainConfig,
  validateTrainConfig,
} from "../node.ts";
import { loadTrainingData } from "./data.ts";
import { printable, UserError } from "./errors.ts";

export interface LoadedRbm {
  rbm: Rbm;
  /** The path as given. */
  path: string;
  /** Present for a checkpoint folder. */
  checkpoint?: { config: TrainConfig; data: unknown; iteration: number; summary: unknown };
}

/** True when `path` is a .safetensors file rather than a checkpoint folder. */
function isBareFile(path: string): boolean {
  return /\.safetensors$/i.test(path) && !(existsSync(path) && statSync(path).isDirectory());
}

function fromFile(path: string): LoadedRbm {
  const shown = printable(path);
  let tensors: Map<string, { shape: readonly number[]; data: Float64Array }>;
  try {
    const f = readSafetensorsFile(path, { maxBytes: 4 * 2 ** 30 });
    tensors = new Map();
    for (const name of ["weights", "visible_bias", "hidden_bias"]) {
      if (!f.tensors.has(name))
        throw new UserError(
          `--model ${shown}: tensor '${name}' is missing (an RBM file holds weights [V, H], visible_bias [V], hidden_bias [H])`,
        );
      tensors.set(name, f.getFloat64(name));
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    if (e instanceof SafetensorsError) throw new UserError(`--model ${shown}: ${e.message}`);
    const code = (e as NodeJS.ErrnoException).code;
    if (code) throw new UserError(`--model ${shown}: cannot read (${code})`);
    throw new UserError(`--model ${shown}: ${(e as Error).message}`);
  }
  const w = tensors.get("weights")!;
  const b = tensors.get("visible_bias")!;
  const c = tensors.get("hidden_bias")!;
  if (w.shape.length !== 2)
    throw new UserError(
      `--model ${shown}: tensor 'weights' must be [visible, hidden], got [${w.shape.join(", ")}]`,
    );
  const [v, h] = w.shape;
  if (b.shape.length !== 1 || b.shape[0] !== v)
    throw new UserError(
      `--model ${shown}: tensor 'visible_bias' must be [${v}], got [${b.shape.join(", ")}]`,
    );
  if (c.shape.length !== 1 || c.shape[0] !== h)
    throw new UserError(`--model ${shown}: tensor 'hidden_bias' must be [${h}], got [${c.shape.join(", ")}]`);
  try {
    return { rbm: new Rbm(w.data, b.data, c.data), path };
  } catch (e) {
    throw new UserError(`--model ${shown}: ${(e as Error).message}`);
  }
}

/**
 * The RBM at `path` (a folder or a .safetensors file), or undefined when `path` is a checkpoint of another
 * kind of model (the caller's other path then reads it).
 */
export function loadRbm(path: string): LoadedRbm | undefined {
  if (isBareFile(path)) return fromFile(path);
  let ck: ReturnType<typeof readCheckpoint>;
  try {
    ck = readCheckpoint(path);
  } catch (e) {
    if (e instanceof CheckpointError) throw new UserError(`--model: ${e.message}`);
    throw e;
  }
  const config = ck.config as TrainConfig;
  if ((config?.model as { type?: unknown } | undefined)?.type !== "rbm") return undefined;
  try {
    validateTrainConfig(config);
  } catch (e) {
    throw new UserError(`--model: ${printable(join(path, "config.json"))}: ${(e as Error).message}`);
  }
  let theta: Float64Array;
  try {
    theta = paramsFromTensors(config.model, (name) => ck.modelTensors[name]);
  } catch (e) {
    throw new UserError(`--model: ${printable(join(path, "model.safetensors"))}: ${(e as Error).message}`);
  }
  if (config.model.type !== "rbm") throw new Error("internal: not an RBM spec");
  const { visible: v, hidden: h } = config.model;
  const rbm = new Rbm(theta.subarray(0, v * h), theta.subarray(v * h, v * h + v), theta.subarray(v * h + v));
  return {
    rbm,
    path,
    checkpoint: { config, data: ck.data, iteration: ck.iteration, summary: ck.summary },
  };
}

/**
 * The base-rate visible biases (rbm/evaluate.ts) of `dataFile` (0/1 rows, the RBM's columns) when given,
 * else of the RBM's training data when it is a checkpoint whose data file is still there unchanged;
 * otherwise undefined and the reason.
 */
export function trainingBaseRates(m: LoadedRbm, dataFile?: string): { bias?: Float64Array; source: string } {
  if (dataFile !== undefined) {
    let t: ReturnType<typeof loadDataFile>;
    try {
      t = loadDataFile(dataFile);
    } catch (e) {
      if (e instanceof DataFileError) throw new UserError(`--data ${e.message}`);
      throw e;
    }
    if (t.dim !== m.rbm.visible)
      throw new UserError(
        `--data ${printable(dataFile)}: ${t.dim} columns, the RBM has ${m.rbm.visible} visible units`,
      );
    for (let q = 0; q < t.x.length; q++)
      if (t.x[q] !== 0 && t.x[q] !== 1)
        throw new UserError(
          `--data ${printable(dataFile)}: row ${Math.floor(q / t.dim) + 1}, column ${(q % t.dim) + 1} holds ${t.x[q]}: base rates need 0/1 data`,
        );
    return {
      bias: baseRateBias(t.x, t.n, m.rbm.visible),
      source: `base rates of ${printable(dataFile)} (${t.n} rows)`,
    };
  }
  if (!m.checkpoint) return { source: "the model's own visible biases (a bare file: training data unknown)" };
  try {
    const data = loadTrainingData(m.checkpoint.data, m.rbm.visible);
    return {
      bias: baseRateBias(data.batch.x, data.batch.n, m.rbm.visible),
      source: `base rates of the training data, ${data.description}`,
    };
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { source: `the model's own visible biases (training data unavailable: ${e.message})` };
  }
}

/** "RBM 784 visible × 500 hidden (cd, iteration 800)" or "… (file)". */
export function describeRbm(m: LoadedRbm): string {
  const what = `RBM ${m.rbm.visible} visible × ${m.rbm.hidden} hidden`;
  const ck = m.checkpoint;
  return `model ${printable(m.path)} (${what}; ${ck ? `${ck.config.method}, iteration ${ck.iteration}` : "safetensors file"})`;
}
