/**
 * A GEBM training run as data, for checkpoints and the command line (the counterpart of
 * src/train/session.ts for a generator and an energy): a `GebmRunConfig` and the data rebuild the model
 * and the trainer; the trainer's state, the parameters and the position in the run are the rest.
 *
 * A session runs GebmTrainer.run's schedule one unit at a time: generator iteration t (its energy steps
 * under foldIn(kE, s), then the generator step under kG, [kE, kG] = split(foldIn(loop, t), 2)), and after
 * the last one, the final energy steps s under foldIn(foldIn(loop, 2³² − 1), s). Stepping a session to the
 * end gives bit for bit what `new GebmTrainer(…).run(loop)` gives, and a session restored from the state
 * after any unit continues exactly as the uninterrupted one. The keys come from the seed:
 * [model, loop] = split(keyFromSeed(seed), 2).
 *
 * Parameter tensors (float64; W stored [in, out] row-major, as the networks hold them):
 *   generator.layers.<l>.weight  [in, out]   B_θ: latentDim → generatorHidden… → dim
 *   generator.layers.<l>.bias    [out]
 *   energy.layers.<l>.weight     [in, out]   E_ψ: dim → energyHidden… → 1
 *   energy.layers.<l>.bias       [out]
 *   c                            [1]         KALE's c, the running estimate of log Z_{Q,E}
 * With standardised data (`inputShift`, `inputScale` in the spec) both networks work in the standardised
 * coordinates u = (x − shift)/scale: the generator's outputs are mapped back by `gebmToUserCoordinates`.
 */
import { NumericalError } from "../math/errors.ts";
import { ACTIVATIONS, type Activation, networkWidths, validateNetworkSpec } from "../networks/network.ts";
import { foldIn, type Key, keyFromSeed, split } from "../random/key.ts";
import { decodeState, type EncodedState, encodeState } from "../train/state-codec.ts";
import { createGebm, type Gebm } from "./model.ts";
import { GebmTrainer, type GebmTrainerState, resolveGebmTrainOptions } from "./train.ts";

/** A generalized EBM as data (a checkpoint's config.json `config.model`). */
export interface GebmModelSpec {
  type: "gebm";
  /** d, the data dimension. */
  dim: number;
  /** k, the latent dimension. */
  latentDim: number;
  generatorHidden: number[];
  energyHidden: number[];
  /** Activation of both networks. */
  activation: Activation;
  /** Standardisation of the data: the networks see u = (x − inputShift)/inputScale. Absent: u = x. */
  inputShift?: number[];
  inputScale?: number;
}

/** A GEBM run: the model, KALE's alternation schedule (src/gebm/train.ts), sizes and the seed. */
export interface GebmRunConfig {
  model: GebmModelSpec;
  method: "kale";
  /** Generator iterations of the whole run. */
  iters: number;
  /** Data points and generator draws per step. */
  batch: number;
  /** Energy steps per generator step. */
  energySteps: number;
  /** Energy steps per generator step during the first `warmupIterations` and every `refreshEvery`-th. */
  warmupEnergySteps: number;
  warmupIterations: number;
  refreshEvery: number;
  /** Energy steps after the last generator step, with the generator fixed. */
  finalEnergySteps: number;
  /** λ of the gradient penalty at data–generator interpolates. */
  gradientPenalty: number;
  /** Adam rate of both the energy (with c) and the generator. */
  lr: number;
  seed: number;
}

/**
 * Defaults for d-dimensional data: `reproduce gebm2d`'s (generator k → 16 → d with k = d, energy
 * d → 64 → 64 → 1, SiLU, λ = 1, 5 energy steps per generator step, 1500 iterations, 1000 final energy
 * steps, batch 256, Adam 10⁻³) and the trainer's warm-up schedule (100 energy steps for the first 25
 * iterations and every 500th).
 */
export function defaultGebmRunConfig(dim: number): GebmRunConfig {
  const t = resolveGebmTrainOptions({});
  return {
    model: {
      type: "gebm",
      dim,
      latentDim: dim,
      generatorHidden: [16],
      energyHidden: [64, 64],
      activation: "silu",
    },
    method: "kale",
    iters: 1500,
    batch: 256,
    energySteps: t.energySteps,
    warmupEnergySteps: t.warmupEnergySteps,
    warmupIterations: t.warmupIterations,
    refreshEvery: t.refreshEvery,
    finalEnergySteps: 1000,
    gradientPenalty: 1,
    lr: 1e-3,
    seed: 0,
  };
}

/** Throws a RangeError naming the field when `spec` is malformed. */
export function validateGebmModelSpec(spec: GebmModelSpec): void {
  if (spec?.type !== "gebm") throw new RangeError(`model.type must be 'gebm', got '${String(spec?.type)}'`);
  const posInt = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 1;
  if (!posInt(spec.dim)) throw new RangeError(`model.dim must be a positive integer, got ${spec.dim}`);
  if (!posInt(spec.latentDim))
    throw new RangeError(`model.latentDim must be a positive integer, got ${spec.latentDim}`);
  if (!ACTIVATIONS.includes(spec.activation))
    throw new RangeError(
      `model.activation must be one of ${ACTIVATIONS.join(", ")}, got '${String(spec.activation)}'`,
    );
  for (const k of ["generatorHidden", "energyHidden"] as const)
    try {
      validateNetworkSpec({ inputDim: 1, outputDim: 1, hidden: spec[k], activation: spec.activation });
    } catch (e) {
      throw new RangeError(`model.${k}: ${(e as Error).message}`);
    }
  if ((spec.inputShift === undefined) !== (spec.inputScale === undefined))
    throw new RangeError("model.inputShift and model.inputScale go together");
  if (spec.inputShift !== undefined) {
    if (
      !Array.isArray(spec.inputShift) ||
      spec.inputShift.length !== spec.dim ||
      !spec.inputShift.every(Number.isFinite)
    )
      throw new RangeError(`model.inputShift must be ${spec.dim} finite numbers`);
    const s = spec.inputScale as number;
    if (!(typeof s === "number" && s > 0 && Number.isFinite(s)))
      throw new RangeError(`model.inputScale must be a positive number, got ${s}`);
  }
}

/** Throws a RangeError naming the field when `c` is not a valid configuration. */
export function validateGebmRunConfig(c: GebmRunConfig): void {
  validateGebmModelSpec(c.model);
  if (c.method !== "kale") throw new RangeError(`method must be 'kale', got '${String(c.method)}'`);
  if (!Number.isSafeInteger(c.seed))
    throw new RangeError(`seed must be an integer within ±2^53, got ${c.seed}`);
  resolveGebmTrainOptions(trainOptions(c));
}

function trainOptions(c: GebmRunConfig) {
  return {
    iterations: c.iters,
    energySteps: c.energySteps,
    warmupEnergySteps: c.warmupEnergySteps,
    warmupIterations: c.warmupIterations,
    refreshEvery: c.refreshEvery,
    finalEnergySteps: c.finalEnergySteps,
    batchSize: c.batch,
    energyLr: c.lr,
    generatorLr: c.lr,
    gradientPenalty: c.gradientPenalty,
  };
}

export interface GebmTensorSlot {
  name: string;
  shape: number[];
  /** Which parameter vector the slot reads: the generator's θ, the energy's ψ, or c. */
  part: "generator" | "energy" | "c";
  offset: number;
  size: number;
}

function layerSlots(prefix: "generator" | "energy", widths: number[]): GebmTensorSlot[] {
  const slots: GebmTensorSlot[] = [];
  let offset = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    const w = widths[l] * widths[l + 1];
    slots.push({
      name: `${prefix}.layers.${l}.weight`,
      shape: [widths[l], widths[l + 1]],
      part: prefix,
      offset,
      size: w,
    });
    offset += w;
    slots.push({
      name: `${prefix}.layers.${l}.bias`,
      shape: [widths[l + 1]],
      part: prefix,
      offset,
      size: widths[l + 1],
    });
    offset += widths[l + 1];
  }
  return slots;
}

/** The parameter tensors of a GEBM (see the module comment), generator first, then energy, then c. */
export function gebmLayout(spec: GebmModelSpec): GebmTensorSlot[] {
  const { activation } = spec;
  const gen = networkWidths({
    inputDim: spec.latentDim,
    hidden: spec.generatorHidden,
    outputDim: spec.dim,
    activation,
  });
  const en = networkWidths({ inputDim: spec.dim, hidden: spec.energyHidden, outputDim: 1, activation });
  return [
    ...layerSlots("generator", gen),
    ...layerSlots("energy", en),
    { name: "c", shape: [1], part: "c", offset: 0, size: 1 },
  ];
}

/** The model's parameters as named tensors (copies). */
export function gebmToTensors(model: Gebm): Record<string, { shape: number[]; data: Float64Array }> {
  const parts = {
    generator: model.generator.getParams(),
    energy: model.energy.getParams(),
    c: Float64Array.of(model.logZ),
  };
  const out: Record<string, { shape: number[]; data: Float64Array }> = {};
  for (const s of gebmLayout(modelSpecOf(model)))
    out[s.name] = { shape: s.shape, data: parts[s.part].slice(s.offset, s.offset + s.size) };
  return out;
}

function modelSpecOf(model: Gebm): GebmModelSpec {
  const s = model.spec;
  return {
    type: "gebm",
    dim: s.dataDim,
    latentDim: s.latentDim,
    generatorHidden: s.generatorHidden,
    energyHidden: s.energyHidden,
    activation: s.activation,
  };
}

/**
 * Builds the GEBM of `spec` with the parameters of named tensors; throws a RangeError naming the tensor
 * when one is missing, has another shape or holds a non-finite value.
 */
export async function gebmFromTensors(
  spec: GebmModelSpec,
  get: (name: string) => { shape: readonly number[]; data: ArrayLike<number> } | undefined,
): Promise<Gebm> {
  validateGebmModelSpec(spec);
  const slots = gebmLayout(spec);
  const model = await buildGebm(spec, keyFromSeed(0));
  try {
    const parts = {
      generator: model.generator.getParams(),
      energy: model.energy.getParams(),
      c: new Float64Array(1),
    };
    for (const s of slots) {
      const t = get(s.name);
      if (!t) throw new RangeError(`tensor ${s.name} is missing`);
      if (t.shape.length !== s.shape.length || t.shape.some((v, i) => v !== s.shape[i]))
        throw new RangeError(
          `tensor ${s.name} has shape [${t.shape.join(", ")}], expected [${s.shape.join(", ")}]`,
        );
      for (let i = 0; i < s.size; i++) {
        const v = t.data[i];
        if (!Number.isFinite(v))
          throw new RangeError(`tensor ${s.name} holds a non-finite value at index ${i}`);
        parts[s.part][s.offset + i] = v;
      }
    }
    model.generator.setParams(parts.generator);
    model.energy.setParams(parts.energy);
    model.logZ = parts.c[0];
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

function buildGebm(spec: GebmModelSpec, key: Key): Promise<Gebm> {
  return createGebm(
    {
      dataDim: spec.dim,
      latentDim: spec.latentDim,
      generatorHidden: spec.generatorHidden,
      energyHidden: spec.energyHidden,
      activation: spec.activation,
    },
    key,
  );
}

/** Generator outputs (n × d, standardised coordinates) in the data's coordinates: shift + scale·u (a copy, or x itself). */
export function gebmToUserCoordinates(spec: GebmModelSpec, x: Float64Array, n: number): Float64Array {
  if (spec.inputShift === undefined) return x;
  const d = spec.dim;
  const s = spec.inputScale as number;
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < d; a++) out[i * d + a] = spec.inputShift[a] + s * x[i * d + a];
  return out;
}

/** Data in the networks' coordinates: (x − shift)/scale (a copy), or x itself without standardisation. */
export function gebmToModelCoordinates(spec: GebmModelSpec, x: Float64Array, n: number): Float64Array {
  if (spec.inputShift === undefined) return x;
  const d = spec.dim;
  const inv = 1 / (spec.inputScale as number);
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < d; a++) out[i * d + a] = (x[i * d + a] - spec.inputShift[a]) * inv;
  return out;
}

/** What a unit of a GEBM run reports (one line of metrics). */
export interface GebmIterationInfo {
  /** Generator iterations done. */
  iteration: number;
  /** During the final energy steps: how many are done. */
  finalStep?: number;
  /** The KALE objective F on the last energy step's batches (nats; NaN before the first). */
  kale: number;
  /** c, the running estimate of log Z_{Q,E}. */
  c: number;
}

/** What a checkpoint's state holds: the trainer's, the position in the final energy steps, and F. */
interface SessionState {
  trainer: GebmTrainerState;
  finalSteps: number;
  kale: number;
}

export interface GebmSession {
  readonly config: GebmRunConfig;
  readonly model: Gebm;
  readonly trainer: GebmTrainer;
  /** Generator iterations done. */
  readonly iteration: number;
  /** Final energy steps done. */
  readonly finalSteps: number;
  /** Units done (iterations, then final energy steps) and in the whole run. */
  readonly position: number;
  readonly total: number;
  /** True when every iteration and final energy step of the configuration has run. */
  readonly done: boolean;
  /** Runs the next unit; throws a NumericalError naming the iteration on non-finite values. */
  step(): void;
  info(): GebmIterationInfo;
  /** The state (trainer, position, F) as tensors and a skeleton, for a checkpoint. */
  encode(): EncodedState;
  /** The parameters as named tensors (model.safetensors). */
  modelTensors(): Record<string, { shape: number[]; data: Float64Array }>;
  dispose(): void;
}

async function assemble(
  config: GebmRunConfig,
  data: { x: Float64Array; n: number },
  restore?: {
    skeleton: unknown;
    tensors: Record<string, ArrayLike<number>>;
    model: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>;
  },
): Promise<GebmSession> {
  validateGebmRunConfig(config);
  const d = config.model.dim;
  if (data.x.length !== data.n * d)
    throw new RangeError(`the data have ${data.x.length / data.n} columns, the model expects ${d}`);
  const [kModel, loop] = split(keyFromSeed(config.seed), 2);
  const kFinal = foldIn(loop, -1 >>> 0);
  const x = gebmToModelCoordinates(config.model, data.x, data.n);
  const model = restore
    ? await gebmFromTensors(config.model, (name) => restore.model[name])
    : await buildGebm(config.model, kModel);
  let trainer: GebmTrainer;
  let st: { finalSteps: number; kale: number };
  try {
    trainer = new GebmTrainer(model, x, data.n, trainOptions(config));
    if (restore) {
      const s = decodeState(restore.skeleton, restore.tensors) as SessionState;
      if (!(s && typeof s === "object" && Number.isSafeInteger(s.finalSteps) && s.finalSteps >= 0))
        throw new RangeError("the saved state has no valid finalSteps");
      trainer.setState(s.trainer);
      st = { finalSteps: s.finalSteps, kale: typeof s.kale === "number" ? s.kale : Number.NaN };
      // A run extended past a finished final phase runs the final energy steps again at its new end.
      if (trainer.iteration < config.iters && st.finalSteps > 0) st.finalSteps = 0;
      if (st.finalSteps === 0 && trainer.getState().finalDone)
        trainer.setState({ ...trainer.getState(), finalDone: false });
    } else st = { finalSteps: 0, kale: Number.NaN };
  } catch (e) {
    model.dispose();
    throw e;
  }
  const isDone = () =>
    trainer.iteration > config.iters ||
    (trainer.iteration === config.iters && st.finalSteps >= config.finalEnergySteps);
  const checkFinite = (where: string) => {
    const ok = (a: Float64Array) => a.every(Number.isFinite);
    if (!Number.isFinite(model.logZ) || !ok(model.energy.getParams()) || !ok(model.generator.getParams()))
      throw new NumericalError(`${where}: the parameters are not finite`);
  };
  return {
    config,
    model,
    trainer,
    get iteration() {
      return trainer.iteration;
    },
    get finalSteps() {
      return st.finalSteps;
    },
    get position() {
      return trainer.iteration + st.finalSteps;
    },
    get total() {
      return config.iters + config.finalEnergySteps;
    },
    get done() {
      return isDone();
    },
    step() {
      if (isDone()) throw new RangeError("the run is complete");
      const t = trainer.iteration;
      const where =
        t < config.iters ? `iteration ${t + 1}` : `iteration ${t}, final energy step ${st.finalSteps + 1}`;
      try {
        if (t < config.iters) {
          // GebmTrainer.run's iteration t.
          const [kE, kG] = split(foldIn(loop, t), 2);
          const steps = trainer.energyStepsAt(t);
          for (let s = 0; s < steps; s++) st.kale = trainer.energyStep(foldIn(kE, s));
          trainer.generatorStep(kG);
          trainer.iteration = t + 1;
        } else {
          st.kale = trainer.energyStep(foldIn(kFinal, st.finalSteps));
          st.finalSteps++;
          if (st.finalSteps === config.finalEnergySteps)
            trainer.setState({ ...trainer.getState(), finalDone: true });
        }
      } catch (e) {
        if (e instanceof NumericalError) throw new NumericalError(`${where}: ${e.message}`);
        throw e;
      }
      checkFinite(where);
    },
    info() {
      const { iteration } = trainer;
      return st.finalSteps > 0
        ? { iteration, finalStep: st.finalSteps, kale: st.kale, c: model.logZ }
        : { iteration, kale: st.kale, c: model.logZ };
    },
    encode() {
      const s: SessionState = { trainer: trainer.getState(), finalSteps: st.finalSteps, kale: st.kale };
      return encodeState(s, "state");
    },
    modelTensors() {
      return gebmToTensors(model);
    },
    dispose() {
      model.dispose();
    },
  };
}

/** A new run from the config's seed, on data x (n × dim, the data's own coordinates). */
export function startGebmTraining(
  config: GebmRunConfig,
  data: { x: Float64Array; n: number },
): Promise<GebmSession> {
  return assemble(config, data);
}

/** A run restored from its model tensors and encoded state (`GebmSession.modelTensors`, `encode`). */
export function resumeGebmTraining(
  config: GebmRunConfig,
  data: { x: Float64Array; n: number },
  saved: {
    skeleton: unknown;
    tensors: Record<string, ArrayLike<number>>;
    model: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>;
  },
): Promise<GebmSession> {
  return assemble(config, data, saved);
}
