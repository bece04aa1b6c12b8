/**
 * A trained model from a checkpoint folder (`ebm train --out DIR`), for the commands that use one
 * (`sample --model`, `density`, `eval`, `logz`, `score`). Every problem with the folder is a one-line
 * UserError; a generalized EBM's folder (no density e^{−U}/Z on the data space) is refused with one line
 * pointing to `ebm sample --latent`.
 */
import { join } from "node:path";
import {
  buildModel,
  CheckpointError,
  keyFromSeed,
  type Energy,
  type ModelEnergy,
  type ModelBase,
  modelBase,
  paramsFromTensors,
  readCheckpoint,
  type TrainConfig,
  userEnergy,
  validateTrainConfig,
} from "../node.ts";
import { printable, UserError } from "./errors.ts";
import { gebmNotHere, isGebmConfig } from "./gebm-model.ts";

export interface TrainedModel {
  dir: string;
  /** The network (in its own, possibly standardised, coordinates). */
  model: ModelEnergy;
  /** The energy in the user's coordinates (the network itself without standardisation): use this. */
  energy: Energy;
  /** The base Gaussian in the user's coordinates (train/model-spec.ts). */
  base: ModelBase;
  config: TrainConfig;
  /** Where the training data came from (checkpoint's config.json `data`). */
  data: unknown;
  iteration: number;
  summary: unknown;
}

export async function loadTrainedModel(dir: string): Promise<TrainedModel> {
  let ck: ReturnType<typeof readCheckpoint>;
  try {
    ck = readCheckpoint(dir);
  } catch (e) {
    if (e instanceof CheckpointError) throw new UserError(`--model: ${e.message}`);
    throw e;
  }
  if (isGebmConfig(ck.config)) throw gebmNotHere(dir);
  const config = ck.config as TrainConfig;
  try {
    validateTrainConfig(config);
  } catch (e) {
    throw new UserError(`--model: ${printable(join(dir, "config.json"))}: ${(e as Error).message}`);
  }
  if (config.model.type === "rbm")
    throw new UserError(
      `--model ${printable(dir)} holds an RBM: use \`ebm logz\` or \`ebm score\` with it, and sample it with \`ebm sample --target T.json\` where T.json is {"type": "rbm", "path": "${printable(join(dir, "model.safetensors"))}"}`,
    );
  let theta: Float64Array;
  try {
    theta = paramsFromTensors(config.model, (name) => ck.modelTensors[name]);
  } catch (e) {
    throw new UserError(`--model: ${printable(join(dir, "model.safetensors"))}: ${(e as Error).message}`);
  }
  const model = await buildModel(config.model, keyFromSeed(0));
  model.setParams(theta);
  return {
    dir,
    model,
    energy: userEnergy(config.model, model),
    base: modelBase(config.model),
    config,
    data: ck.data,
    iteration: ck.iteration,
    summary: ck.summary,
  };
}
