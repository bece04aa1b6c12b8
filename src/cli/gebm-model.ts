/**
 * A generalized EBM from a checkpoint folder written by `ebm train --method kale --generator`, for `ebm
 * sample --model DIR --latent`. Every problem with the folder is a one-line UserError.
 */
import { join } from "node:path";
import {
  CheckpointError,
  type Gebm,
  gebmFromTensors,
  type GebmModelSpec,
  type GebmRunConfig,
  readCheckpoint,
  validateGebmRunConfig,
} from "../node.ts";
import { printable, UserError } from "./errors.ts";

export interface LoadedGebm {
  dir: string;
  /** The generator and energy (in the networks' coordinates: see GebmModelSpec's standardisation). */
  model: Gebm;
  config: GebmRunConfig;
  iteration: number;
  /** Final energy steps done (the checkpoint's state). */
  finalSteps: number;
}

/** True when the checkpoint's config describes a GEBM. */
export function isGebmConfig(config: unknown): boolean {
  return (config as { model?: { type?: unknown } } | null)?.model?.type === "gebm";
}

/** The one-line refusal for commands that need a density e^{−U}/Z on the data space. */
export function gebmNotHere(dir: string): UserError {
  return new UserError(
    `--model ${printable(dir)} holds a generalized EBM (generator + energy, \`ebm train --method kale --generator\`): ` +
      "it has no density e^{−U}/Z on the data space to use here; draw from it with `ebm sample --model DIR --latent`",
  );
}

/**
 * The GEBM in `dir`; a checkpoint of another model is refused with a line saying to sample it without
 * --latent.
 */
export async function loadGebm(dir: string): Promise<LoadedGebm> {
  let ck: ReturnType<typeof readCheckpoint>;
  try {
    ck = readCheckpoint(dir);
  } catch (e) {
    if (e instanceof CheckpointError) throw new UserError(`--model: ${e.message}`);
    throw e;
  }
  if (!isGebmConfig(ck.config)) {
    const type = (ck.config as { model?: { type?: unknown } } | null)?.model?.type;
    throw new UserError(
      `--latent samples a generalized EBM's latent posterior; --model ${printable(dir)} holds ${
        type === "rbm" ? "an RBM" : `an energy model ('${printable(String(type))}')`
      }: sample it without --latent`,
    );
  }
  const config = ck.config as GebmRunConfig;
  try {
    validateGebmRunConfig(config);
  } catch (e) {
    throw new UserError(`--model: ${printable(join(dir, "config.json"))}: ${(e as Error).message}`);
  }
  let model: Gebm;
  try {
    model = await gebmFromTensors(config.model, (name) => ck.modelTensors[name]);
  } catch (e) {
    if (e instanceof RangeError)
      throw new UserError(`--model: ${printable(join(dir, "model.safetensors"))}: ${e.message}`);
    throw e;
  }
  const finalSteps = (ck.state as { finalSteps?: unknown } | null)?.finalSteps;
  return {
    dir,
    model,
    config,
    iteration: ck.iteration,
    finalSteps: typeof finalSteps === "number" ? finalSteps : 0,
  };
}

/** "generator 2→16→2, energy 2→64→64→1". */
export function gebmArchitecture(m: GebmModelSpec): string {
  const gen = [m.latentDim, ...m.generatorHidden, m.dim].join("→");
  return `generator ${gen}, energy ${[m.dim, ...m.energyHidden, 1].join("→")}`;
}

/** "model runs/g (GEBM generator 2→16→2, energy 2→64→64→1; kale, iteration 1500 + 1000 final energy steps)". */
export function describeGebm(m: LoadedGebm): string {
  const final = m.finalSteps > 0 ? ` + ${m.finalSteps} final energy steps` : "";
  return `model ${printable(m.dir)} (GEBM ${gebmArchitecture(m.config.model)}; kale, iteration ${m.iteration}${final})`;
}
