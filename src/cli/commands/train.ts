/**
 * `ebm train`: fits an energy to data and writes a checkpoint folder (io/checkpoint.ts) that `ebm
 * sample --model`, `ebm density`, `ebm eval` and `ebm logz` read, and `ebm train --resume` continues.
 *
 * Settings come from the defaults (train/session.ts), then a YAML or JSON `--config` file, then flags.
 * Everything is checked before any work or any file is written. During training: a checkpoint every
 * `--checkpoint-every` iterations and at the end; metrics as JSON lines in DIR/metrics.jsonl; Ctrl-C
 * saves a checkpoint of the last finished iteration and exits (code 130); a non-finite gradient, energy or
 * parameter stops the run with one line naming the iteration (code 3), and the last good checkpoint stays.
 *
 * `--energy rbm --hidden H` trains a Bernoulli RBM on 0/1 data (a file; any other value is refused with the
 * row and column) by CD-k (Hinton 2002), PCD-k (Tieleman 2008) or Jarzynski SMC, with the defaults of
 * train/session.ts `defaultRbmTrainConfig` (SGD, momentum 0.5, lr 0.05 — min(0.05, 1/H) for Jarzynski —,
 * batch 100, weight cost 2·10⁻⁴ on W, 10 epochs). Its model.safetensors holds `weights` [V, H], `visible_bias` [V] and
 * `hidden_bias` [H] (float64 holding the RBM's float32 values).
 *
 * `--method kale --generator` trains a generalized EBM (Arbel, Zhou & Gretton 2021; src/gebm/): a
 * generator B_θ: R^k → R^d and an MLP energy E_ψ by KALE, with the defaults of gebm/session.ts
 * `defaultGebmRunConfig` (those of `reproduce gebm2d`). Its model.safetensors holds
 * `generator.layers.<l>.{weight,bias}`, `energy.layers.<l>.{weight,bias}` and `c`; the run's units are its
 * generator iterations, then its final energy steps (metrics lines with `finalStep`).
 */
import { closeSync, existsSync, openSync, readFileSync, statSync, truncateSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import {
  ACTIVATIONS,
  CheckpointError,
  checkOutputDir,
  defaultGebmRunConfig,
  defaultRbmTrainConfig,
  defaultTrainConfig,
  ensureDir,
  type GebmModelSpec,
  type GebmRunConfig,
  type GebmSession,
  modelDim,
  RBM_TRAIN_METHODS,
  standardisation,
  NumericalError,
  paramsToTensors,
  readCheckpoint,
  resumeGebmTraining,
  resumeTraining,
  startGebmTraining,
  startTraining,
  type TrainConfig,
  type TrainSession,
  type ModelSpec,
  TRAIN_METHODS,
  trainedConfinement,
  validateGebmRunConfig,
  validateTrainConfig,
  writeCheckpoint,
} from "../../node.ts";
import { loadTrainingData, type TrainingData } from "../data.ts";
import { gebmArchitecture } from "../gebm-model.ts";
import {
  parseInteger,
  parseLayerWidths,
  parseNumber,
  parseNumberList,
  parsePositive,
  parseSeed,
  printable,
  UserError,
} from "../errors.ts";
import { progressBar } from "../progress.ts";

interface RawTrainOptions {
  data?: string;
  dataSize?: string;
  method?: string;
  energy: string;
  statistics?: string;
  hidden?: string;
  epochs?: string;
  momentum?: string;
  activation?: string;
  confinement?: string;
  trainableConfinement?: boolean | string;
  iters?: string;
  walkers?: string;
  estimatorWalkers?: string;
  estimatorIslands?: string;
  step?: string;
  k?: string;
  resample?: string;
  reinit?: string;
  sigma?: string;
  energyPenalty?: string;
  standardize?: string;
  batch?: string;
  lr?: string;
  optimizer?: string;
  weightDecay?: string;
  clip?: string;
  schedule?: string;
  seed?: string;
  config?: string;
  out?: string;
  resume?: string;
  checkpointEvery?: string;
  generator?: boolean | string;
  latentDim?: string;
  generatorHidden?: string;
  gradientPenalty?: string;
  energySteps?: string;
  finalEnergySteps?: string;
  warmupEnergySteps?: string;
  warmupIterations?: string;
  refreshEvery?: string;
  json?: boolean;
  progress: boolean;
}

/** Keys a --config file may set, with the flag each mirrors. */
const CONFIG_KEYS = [
  "data",
  "data-size",
  "method",
  "energy",
  "statistics",
  "hidden",
  "epochs",
  "momentum",
  "activation",
  "confinement",
  "trainable-confinement",
  "iters",
  "walkers",
  "estimator-walkers",
  "estimator-islands",
  "step",
  "k",
  "resample",
  "reinit",
  "sigma",
  "energy-penalty",
  "standardize",
  "batch",
  "lr",
  "optimizer",
  "weight-decay",
  "clip",
  "schedule",
  "seed",
  "checkpoint-every",
  "generator",
  "latent-dim",
  "generator-hidden",
  "gradient-penalty",
  "energy-steps",
  "final-energy-steps",
  "warmup-energy-steps",
  "warmup-iterations",
  "refresh-every",
] as const;

const camel = (k: string) => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The --config file's settings as raw option strings (flags given on the command line win). */
function readConfigFile(path: string): Partial<Record<string, string>> {
  let text: string;
  try {
    if (statSync(path).isDirectory())
      throw new UserError(`--config ${printable(path)}: is a folder, not a file`);
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(
      `--config ${printable(path)}: cannot read (${(e as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new UserError(
      `--config ${printable(path)}: not valid YAML (${(e as Error).message.split("\n")[0]})`,
    );
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc))
    throw new UserError(`--config ${printable(path)}: expected a mapping of settings`);
  const out: Partial<Record<string, string>> = {};
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(k))
      throw new UserError(
        `--config ${printable(path)}: unknown setting '${printable(k)}' (known: ${CONFIG_KEYS.join(", ")})`,
      );
    if (v === null || typeof v === "object") {
      if (Array.isArray(v) && (k === "hidden" || k === "generator-hidden")) out[camel(k)] = v.join(",");
      else throw new UserError(`--config ${printable(path)}: setting '${k}' must be a number or a string`);
    } else out[camel(k)] = String(v);
  }
  return out;
}

function userError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RangeError) throw new UserError(e.message);
    throw e;
  }
}

/** Options of the MLP and exponential-family paths that an RBM does not take. */
const NOT_FOR_RBM = [
  ["statistics", "--statistics"],
  ["activation", "--activation"],
  ["confinement", "--confinement"],
  ["trainableConfinement", "--trainable-confinement"],
  ["step", "--step"],
  ["reinit", "--reinit"],
  ["sigma", "--sigma"],
  ["energyPenalty", "--energy-penalty"],
] as const;

/** An RBM run's configuration (train/session.ts defaultRbmTrainConfig, then the flags). */
function buildRbmConfig(
  raw: RawTrainOptions,
  dim: number,
  n: number,
): { config: TrainConfig; checkpointEvery: number } {
  for (const [key, flag] of NOT_FOR_RBM)
    if (raw[key] !== undefined) throw new UserError(`${flag} does not apply to --energy rbm`);
  if (raw.hidden === undefined)
    throw new UserError("--hidden H is required with --energy rbm (the number of hidden units)");
  const hidden = parseInteger("--hidden", raw.hidden);
  if (hidden > 65536) throw new UserError(`--hidden must be at most 65536 for an RBM, got '${raw.hidden}'`);
  const method = raw.method ?? "cd";
  if (!(RBM_TRAIN_METHODS as readonly string[]).includes(method))
    throw new UserError(
      `--method for an RBM must be one of ${RBM_TRAIN_METHODS.join(", ")}, got '${printable(method)}'`,
    );
  const c = defaultRbmTrainConfig(dim, hidden, n, method as (typeof RBM_TRAIN_METHODS)[number]);
  const o = c.optimizer;
  if (raw.batch !== undefined) c.batch = parseInteger("--batch", raw.batch);
  const perEpoch = Math.ceil(n / Math.min(c.batch, n));
  o.momentumSwitch = perEpoch;
  if (raw.iters !== undefined && raw.epochs !== undefined)
    throw new UserError("--iters and --epochs both set the run's length: give one");
  if (raw.epochs !== undefined) c.iters = parseInteger("--epochs", raw.epochs) * perEpoch;
  else if (raw.iters !== undefined) c.iters = parseInteger("--iters", raw.iters, 0);
  else c.iters = 10 * perEpoch;
  if (raw.walkers !== undefined) c.walkers = parseInteger("--walkers", raw.walkers);
  if (raw.estimatorWalkers !== undefined)
    c.estimatorWalkers = parseInteger("--estimator-walkers", raw.estimatorWalkers, 0);
  if (raw.estimatorIslands !== undefined)
    c.estimatorIslands = parseInteger("--estimator-islands", raw.estimatorIslands, 1);
  if (c.method !== "jarzynski") {
    c.estimatorWalkers = 0;
    c.estimatorIslands = 1;
  }
  const islands = c.estimatorIslands ?? 1;
  if (c.estimatorWalkers > 0 && 2 * islands > c.estimatorWalkers)
    throw new UserError(
      `--estimator-islands (${islands}) needs at least 2 walkers per island, got --estimator-walkers ${c.estimatorWalkers}`,
    );
  if (raw.k !== undefined) c.k = parseInteger("--k", raw.k);
  if (raw.resample !== undefined) c.resample = parseNumber("--resample", raw.resample);
  if (raw.lr !== undefined) o.lr = parsePositive("--lr", raw.lr);
  if (raw.optimizer !== undefined) {
    if (raw.optimizer !== "sgd" && raw.optimizer !== "adam")
      throw new UserError(`--optimizer must be adam or sgd, got '${printable(raw.optimizer)}'`);
    o.name = raw.optimizer;
    if (o.name === "adam") {
      if (raw.momentum !== undefined) throw new UserError("--momentum applies to --optimizer sgd");
      delete o.momentum;
      delete o.momentumStart;
      delete o.momentumSwitch;
    }
  }
  if (raw.momentum !== undefined) {
    const mu = parseNumber("--momentum", raw.momentum);
    if (!(mu >= 0 && mu < 1)) throw new UserError(`--momentum must be in [0, 1), got '${raw.momentum}'`);
    o.momentum = mu;
    o.momentumStart = Math.min(0.5, mu);
  }
  if (raw.weightDecay !== undefined) o.weightCost = parseNumber("--weight-decay", raw.weightDecay);
  if (raw.clip !== undefined) o.clip = parseNumber("--clip", raw.clip);
  if (raw.schedule !== undefined) o.schedule = raw.schedule as "constant";
  if (raw.seed !== undefined) c.seed = parseSeed("--seed", raw.seed);
  o.horizon = c.iters;
  const checkpointEvery =
    raw.checkpointEvery !== undefined
      ? parseInteger("--checkpoint-every", raw.checkpointEvery)
      : Math.max(100, Math.ceil(c.iters / 10));
  userError(() => validateTrainConfig(c));
  return { config: c, checkpointEvery };
}

/** Options of the MLP-energy paths that a GEBM does not take. */
const NOT_FOR_GEBM = [
  ["statistics", "--statistics"],
  ["epochs", "--epochs"],
  ["momentum", "--momentum"],
  ["confinement", "--confinement"],
  ["trainableConfinement", "--trainable-confinement"],
  ["walkers", "--walkers"],
  ["estimatorWalkers", "--estimator-walkers"],
  ["estimatorIslands", "--estimator-islands"],
  ["step", "--step"],
  ["k", "--k"],
  ["resample", "--resample"],
  ["reinit", "--reinit"],
  ["sigma", "--sigma"],
  ["energyPenalty", "--energy-penalty"],
  ["optimizer", "--optimizer"],
  ["weightDecay", "--weight-decay"],
  ["clip", "--clip"],
  ["schedule", "--schedule"],
] as const;

/** Options only a GEBM takes. */
const GEBM_ONLY = [
  ["latentDim", "--latent-dim"],
  ["generatorHidden", "--generator-hidden"],
  ["gradientPenalty", "--gradient-penalty"],
  ["energySteps", "--energy-steps"],
  ["finalEnergySteps", "--final-energy-steps"],
  ["warmupEnergySteps", "--warmup-energy-steps"],
  ["warmupIterations", "--warmup-iterations"],
  ["refreshEvery", "--refresh-every"],
] as const;

const GEBM = "--method kale --generator";

/** `--generator` as a flag or a config file's value. */
function generatorFlag(v: boolean | string | undefined): boolean {
  if (v === undefined || v === false || v === "false" || v === "no") return false;
  if (v === true || v === "true" || v === "yes") return true;
  throw new UserError(`generator must be true or false, got '${printable(String(v))}'`);
}

/** A GEBM run's configuration (gebm/session.ts defaultGebmRunConfig, then the flags). */
function buildGebmConfig(
  raw: RawTrainOptions,
  dim: number,
): { config: GebmRunConfig; checkpointEvery: number } {
  for (const [key, flag] of NOT_FOR_GEBM)
    if (raw[key] !== undefined) throw new UserError(`${flag} does not apply to ${GEBM}`);
  if (raw.energy !== "mlp")
    throw new UserError(
      `--energy does not apply to ${GEBM} (the energy is an MLP: set its widths with --hidden)`,
    );
  const c = defaultGebmRunConfig(dim);
  const m: GebmModelSpec = c.model;
  if (raw.latentDim !== undefined) {
    m.latentDim = parseInteger("--latent-dim", raw.latentDim);
    if (m.latentDim > 4096) throw new UserError(`--latent-dim must be at most 4096, got '${raw.latentDim}'`);
  }
  if (raw.generatorHidden !== undefined)
    m.generatorHidden = parseLayerWidths("--generator-hidden", raw.generatorHidden);
  if (raw.hidden !== undefined) m.energyHidden = parseLayerWidths("--hidden", raw.hidden);
  if (raw.activation !== undefined) {
    if (!(ACTIVATIONS as readonly string[]).includes(raw.activation))
      throw new UserError(
        `--activation must be one of ${ACTIVATIONS.join(", ")}, got '${printable(raw.activation)}'`,
      );
    m.activation = raw.activation as GebmModelSpec["activation"];
  }
  if (raw.gradientPenalty !== undefined) {
    c.gradientPenalty = parseNumber("--gradient-penalty", raw.gradientPenalty);
    if (c.gradientPenalty < 0)
      throw new UserError(`--gradient-penalty must be ≥ 0, got '${raw.gradientPenalty}'`);
  }
  if (raw.iters !== undefined) c.iters = parseInteger("--iters", raw.iters);
  if (raw.energySteps !== undefined) c.energySteps = parseInteger("--energy-steps", raw.energySteps);
  if (raw.finalEnergySteps !== undefined)
    c.finalEnergySteps = parseInteger("--final-energy-steps", raw.finalEnergySteps, 0);
  if (raw.warmupEnergySteps !== undefined)
    c.warmupEnergySteps = parseInteger("--warmup-energy-steps", raw.warmupEnergySteps);
  if (raw.warmupIterations !== undefined)
    c.warmupIterations = parseInteger("--warmup-iterations", raw.warmupIterations, 0);
  if (raw.refreshEvery !== undefined) c.refreshEvery = parseInteger("--refresh-every", raw.refreshEvery);
  if (raw.batch !== undefined) c.batch = parseInteger("--batch", raw.batch);
  if (raw.lr !== undefined) c.lr = parsePositive("--lr", raw.lr);
  if (raw.seed !== undefined) c.seed = parseSeed("--seed", raw.seed);
  const checkpointEvery =
    raw.checkpointEvery !== undefined
      ? parseInteger("--checkpoint-every", raw.checkpointEvery)
      : Math.max(100, Math.ceil((c.iters + c.finalEnergySteps) / 10));
  userError(() => validateGebmRunConfig(c));
  return { config: c, checkpointEvery };
}

/** The first value of an RBM's data that is not 0 or 1, as a one-line error naming the file. */
function checkBinary(data: TrainingData, file: string): void {
  const { x, n } = data.batch;
  const d = data.dim;
  for (let q = 0; q < n * d; q++)
    if (x[q] !== 0 && x[q] !== 1) {
      const col = q % d;
      const name = data.source.kind === "file" ? data.source.columns?.[col] : undefined;
      throw new UserError(
        `--data ${printable(file)}: row ${Math.floor(q / d) + 1}, column ${col + 1}${name !== undefined ? ` ('${printable(name)}')` : ""} ` +
          `holds ${x[q]}: an RBM trains on 0/1 data`,
      );
    }
}

/** A new run's configuration from defaults, the config file and flags. */
function buildConfig(raw: RawTrainOptions, dim: number): { config: TrainConfig; checkpointEvery: number } {
  const c = defaultTrainConfig(dim);
  if (raw.method !== undefined) {
    if (!(TRAIN_METHODS as readonly string[]).includes(raw.method))
      throw new UserError(
        `--method must be one of ${TRAIN_METHODS.join(", ")}, got '${printable(raw.method)}'`,
      );
    c.method = raw.method as TrainConfig["method"];
  }
  if (raw.energy !== "mlp" && raw.energy !== "expfam")
    throw new UserError(`--energy must be mlp, expfam or rbm, got '${printable(raw.energy)}'`);
  for (const [v, flag] of [
    [raw.epochs, "--epochs"],
    [raw.momentum, "--momentum"],
  ] as const)
    if (v !== undefined) throw new UserError(`${flag} applies to --energy rbm`);
  if (raw.energy === "expfam") {
    for (const [flag, v] of [
      ["--hidden", raw.hidden],
      ["--activation", raw.activation],
      ["--confinement", raw.confinement],
      ["--trainable-confinement", raw.trainableConfinement],
    ] as const)
      if (v !== undefined) throw new UserError(`${flag} applies to --energy mlp, not expfam`);
    const st = raw.statistics ?? "quadratic";
    const m = /^poly(?::(\d+))?$/.exec(st);
    if (st !== "quadratic" && !m)
      throw new UserError(`--statistics must be quadratic or poly:k (k even), got '${printable(st)}'`);
    const expfam: ModelSpec =
      st === "quadratic"
        ? { type: "expfam", dim, statistics: "quadratic" }
        : { type: "expfam", dim, statistics: "poly", degree: m?.[1] ? Number(m[1]) : 4 };
    return finishConfig(raw, { ...c, model: expfam } as TrainConfig);
  }
  if (raw.statistics !== undefined) throw new UserError("--statistics applies to --energy expfam");
  if (raw.hidden !== undefined) {
    c.model.hidden = parseLayerWidths("--hidden", raw.hidden);
  }
  if (raw.activation !== undefined) c.model.activation = raw.activation as typeof c.model.activation;
  if (raw.confinement !== undefined) c.model.confinement = parseNumber("--confinement", raw.confinement);
  if (raw.trainableConfinement !== undefined) {
    const v = raw.trainableConfinement;
    if (v === true || v === "true" || v === "yes") c.model.trainableConfinement = true;
    else if (v !== false && v !== "false" && v !== "no")
      throw new UserError(`trainable-confinement must be true or false, got '${printable(String(v))}'`);
  }
  return finishConfig(raw, c);
}

/** The settings every energy shares. */
function finishConfig(
  raw: RawTrainOptions,
  c: TrainConfig,
): { config: TrainConfig; checkpointEvery: number } {
  if (raw.estimatorIslands !== undefined)
    throw new UserError("--estimator-islands applies to --energy rbm --method jarzynski");
  if (raw.iters !== undefined) c.iters = parseInteger("--iters", raw.iters, 0);
  if (raw.walkers !== undefined) c.walkers = parseInteger("--walkers", raw.walkers);
  if (raw.estimatorWalkers !== undefined)
    c.estimatorWalkers = parseInteger("--estimator-walkers", raw.estimatorWalkers, 0);
  if (raw.step !== undefined) c.step = parsePositive("--step", raw.step);
  if (raw.k !== undefined) c.k = parseInteger("--k", raw.k);
  if (raw.resample !== undefined) c.resample = parseNumber("--resample", raw.resample);
  if (raw.reinit !== undefined) c.reinit = parseNumber("--reinit", raw.reinit);
  if (raw.sigma !== undefined) {
    const sig = parseNumberList("--sigma", raw.sigma);
    if (!sig.every((v) => v > 0))
      throw new UserError(`--sigma must be positive noise levels, got '${printable(raw.sigma)}'`);
    c.sigma = sig;
  }
  if (raw.energyPenalty !== undefined) c.energyPenalty = parseNumber("--energy-penalty", raw.energyPenalty);
  if (raw.batch !== undefined) c.batch = parseInteger("--batch", raw.batch);
  if (raw.lr !== undefined) c.optimizer.lr = parsePositive("--lr", raw.lr);
  if (raw.optimizer !== undefined) c.optimizer.name = raw.optimizer as "adam";
  if (raw.weightDecay !== undefined) c.optimizer.weightDecay = parseNumber("--weight-decay", raw.weightDecay);
  if (raw.clip !== undefined) c.optimizer.clip = parseNumber("--clip", raw.clip);
  if (raw.schedule !== undefined) c.optimizer.schedule = raw.schedule as "constant";
  if (raw.seed !== undefined) c.seed = parseSeed("--seed", raw.seed);
  if (c.method !== "jarzynski") c.estimatorWalkers = 0;
  // Resuming with more iterations must not stretch a schedule that has already run.
  c.optimizer.horizon = c.iters;
  const checkpointEvery =
    raw.checkpointEvery !== undefined
      ? parseInteger("--checkpoint-every", raw.checkpointEvery)
      : Math.max(100, Math.ceil(c.iters / 10));
  userError(() => validateTrainConfig(c));
  return { config: c, checkpointEvery };
}

const RESUME_ALLOWED = new Set([
  "resume",
  "iters",
  "json",
  "progress",
  "checkpointEvery",
  "finalEnergySteps",
]);

/**
 * What the training loop drives: an energy's TrainSession or a GEBM's session. Its units are iterations
 * (for a GEBM: generator iterations, then final energy steps).
 */
interface Run {
  dir: string;
  data: TrainingData;
  checkpointEvery: number;
  /** The progress bar's label. */
  label: string;
  /** Units done, and in the whole run. */
  position(): number;
  total(): number;
  done(): boolean;
  /** "iteration 25" (for a GEBM in its final phase: "iteration 1500, final energy step 200"). */
  at(): string;
  step(): void;
  /** The metrics line of the state now. */
  info(): object;
  /** The progress line's statistics. */
  status(): string;
  save(summary?: unknown): void;
  /** Whether a line of an existing metrics.jsonl belongs to the saved run (the others are cut). */
  keepMetric(line: { iteration: number; finalStep?: number }): boolean;
  /** What is printed at the end: lines of text, or (--json) one object. */
  report(seconds: number): { lines: string[]; json: object };
}

function energyRun(dir: string, session: TrainSession, data: TrainingData, checkpointEvery: number): Run {
  const cfg = session.config;
  const saved = session.state.iteration;
  return {
    dir,
    data,
    checkpointEvery,
    label: `train ${cfg.method}`,
    position: () => session.state.iteration,
    total: () => cfg.iters,
    done: () => session.state.iteration >= cfg.iters,
    at: () => `iteration ${session.state.iteration}`,
    step: () => session.step(),
    info: () => session.info(),
    status: () => status(session.info()),
    save(summary) {
      const enc = session.encode();
      writeCheckpoint(dir, {
        iteration: session.state.iteration,
        config: cfg,
        data: data.source,
        state: enc.skeleton,
        summary,
        modelTensors: paramsToTensors(cfg.model, session.state.params),
        stateTensors: vectorTensors(enc.tensors),
      });
    },
    keepMetric: (line) => line.iteration <= saved,
    report(seconds) {
      const info = session.info();
      const m = cfg.model;
      const shape =
        m.type === "rbm"
          ? `RBM ${m.visible} visible × ${m.hidden} hidden, ${Math.ceil(data.batch.n / Math.min(cfg.batch, data.batch.n))} updates per epoch`
          : `d = ${m.dim}`;
      const line = [
        `${cfg.method}: ${cfg.iters} iterations on ${data.description} (${shape}, seed ${cfg.seed}) in ${seconds.toFixed(1)} s`,
      ];
      if (info.logZ !== undefined)
        line.push(
          cfg.method === "nce"
            ? `  log Z (NCE log-normaliser, nats)  ${pmSe(info.logZ, info.logZSe)} (SE given θ)`
            : `  log Z (training walkers, nats)    ${pmSe(info.logZ, info.logZSe)}`,
        );
      if (info.estimatorLogZ !== undefined)
        line.push(`  log Z (estimator population)      ${pmSe(info.estimatorLogZ, info.estimatorLogZSe)}`);
      if (info.ess !== undefined)
        line.push(`  ESS ${fmt(info.ess, 0)} of ${cfg.walkers}, resamplings ${info.resamplings}`);
      if (info.loss !== undefined)
        line.push(`  ${cfg.method} loss at the last iteration ${fmt(info.loss, 4)}`);
      const lambda = trainedConfinement(cfg.model, session.state.params);
      if (lambda !== undefined)
        line.push(
          `  confinement λ ${fmt(lambda, 4)} (learned, from ${cfg.model.type === "mlp" ? cfg.model.confinement : ""})`,
        );
      const warnings = walkerWarningLines(session);
      for (const w of warnings) line.push(`  warning: ${w}`);
      line.push(`checkpoint written to ${dir}`);
      return {
        lines: line,
        json: {
          ...info,
          warnings,
          seconds,
          ...(lambda !== undefined ? { confinement: lambda } : {}),
          out: dir,
          config: cfg,
        },
      };
    },
  };
}

/**
 * A GEBM run; `saved` is the position its checkpoint held (for the metrics lines to keep), when resumed.
 */
function gebmRun(
  dir: string,
  session: GebmSession,
  data: TrainingData,
  checkpointEvery: number,
  saved = { iteration: 0, finalSteps: 0 },
): Run {
  const cfg = session.config;
  return {
    dir,
    data,
    checkpointEvery,
    label: "train kale",
    position: () => session.position,
    total: () => session.total,
    done: () => session.done,
    at: () =>
      session.finalSteps > 0
        ? `iteration ${session.iteration}, final energy step ${session.finalSteps}`
        : `iteration ${session.iteration}`,
    step: () => session.step(),
    info: () => session.info(),
    status() {
      const i = session.info();
      return `KALE ${fmt(i.kale, 4)}  c ${fmt(i.c, 4)}`;
    },
    save(summary) {
      const enc = session.encode();
      writeCheckpoint(dir, {
        iteration: session.iteration,
        config: cfg,
        data: data.source,
        state: enc.skeleton,
        summary,
        modelTensors: session.modelTensors(),
        stateTensors: vectorTensors(enc.tensors),
      });
    },
    keepMetric: (line) =>
      line.iteration < saved.iteration ||
      (line.iteration === saved.iteration && (line.finalStep ?? 0) <= saved.finalSteps),
    report(seconds) {
      const info = session.info();
      const m = cfg.model;
      const lines = [
        `kale: ${session.iteration} generator iterations and ${session.finalSteps} final energy steps on ${data.description} ` +
          `(GEBM ${gebmArchitecture(m)}, seed ${cfg.seed}) in ${seconds.toFixed(1)} s`,
        `  KALE on the last energy step's batches  ${fmt(info.kale, 4)} nats`,
        `  c (KALE's estimate of log Z_{Q,E})       ${fmt(info.c, 4)}`,
        `checkpoint written to ${dir}`,
      ];
      return { lines, json: { ...info, seconds, out: dir, config: cfg } };
    },
  };
}

function vectorTensors(t: Record<string, Float64Array>) {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, { shape: [v.length], data: v }]));
}

/** The flag of a raw option's key ("checkpointEvery" → "--checkpoint-every"). */
const flagOf = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

async function resumeRun(raw: RawTrainOptions): Promise<Run> {
  const given = Object.entries(raw).filter(
    ([k, v]) =>
      v !== undefined && !RESUME_ALLOWED.has(k) && !(k === "energy" && v === "mlp") && k !== "dataSize",
  );
  if (given.length > 0)
    throw new UserError(
      `--resume continues the saved run with its own settings: only --iters and --checkpoint-every may change, and --final-energy-steps for a GEBM (got ${flagOf(given[0][0])})`,
    );
  const dir = raw.resume as string;
  let ck: ReturnType<typeof readCheckpoint>;
  try {
    ck = readCheckpoint(dir);
  } catch (e) {
    if (e instanceof CheckpointError) throw new UserError(e.message);
    throw e;
  }
  const isGebm = (ck.config as { model?: { type?: unknown } } | null)?.model?.type === "gebm";
  if (isGebm) return resumeGebmRun(dir, ck, raw);
  if (raw.finalEnergySteps !== undefined)
    throw new UserError(`--final-energy-steps applies to GEBM runs (${GEBM}); ${printable(dir)} is not one`);
  const config = structuredClone(ck.config) as TrainConfig;
  if (raw.iters !== undefined) {
    config.iters = parseInteger("--iters", raw.iters, 0);
    if (config.iters <= ck.iteration)
      throw new UserError(
        `--iters ${config.iters}: ${printable(dir)} is already at iteration ${ck.iteration}; give a larger --iters to continue`,
      );
  }
  try {
    validateTrainConfig(config);
  } catch (e) {
    throw new UserError(`${join(dir, "config.json")}: ${(e as Error).message}`);
  }
  checkOutputDir(dir);
  const data = loadTrainingData(ck.data, modelDim(config.model));
  let session: TrainSession;
  try {
    session = await resumeTraining(config, data.batch, {
      skeleton: ck.state,
      tensors: tensorData(ck.stateTensors),
    });
  } catch (e) {
    if (e instanceof RangeError)
      throw new UserError(`${dir}: the saved state does not fit its config (${e.message})`);
    throw e;
  }
  if (session.state.iteration !== ck.iteration)
    throw new UserError(
      `${dir}: config.json says iteration ${ck.iteration}, the state holds ${session.state.iteration}`,
    );
  const checkpointEvery =
    raw.checkpointEvery !== undefined
      ? parseInteger("--checkpoint-every", raw.checkpointEvery)
      : Math.max(100, Math.ceil(config.iters / 10));
  return energyRun(dir, session, data, checkpointEvery);
}

async function resumeGebmRun(
  dir: string,
  ck: ReturnType<typeof readCheckpoint>,
  raw: RawTrainOptions,
): Promise<Run> {
  const config = structuredClone(ck.config) as GebmRunConfig;
  try {
    validateGebmRunConfig(config);
  } catch (e) {
    throw new UserError(`${join(dir, "config.json")}: ${(e as Error).message}`);
  }
  if (raw.iters !== undefined) config.iters = parseInteger("--iters", raw.iters);
  if (raw.finalEnergySteps !== undefined)
    config.finalEnergySteps = parseInteger("--final-energy-steps", raw.finalEnergySteps, 0);
  checkOutputDir(dir);
  const data = loadTrainingData(ck.data, config.model.dim);
  let session: GebmSession;
  try {
    session = await resumeGebmTraining(config, data.batch, {
      skeleton: ck.state,
      tensors: tensorData(ck.stateTensors),
      model: ck.modelTensors,
    });
  } catch (e) {
    if (e instanceof RangeError)
      throw new UserError(`${dir}: the saved state does not fit its config (${e.message})`);
    throw e;
  }
  if (session.iteration !== ck.iteration)
    throw new UserError(
      `${dir}: config.json says iteration ${ck.iteration}, the state holds ${session.iteration}`,
    );
  const savedFinal = (ck.state as { finalSteps?: unknown } | null)?.finalSteps;
  const checkpointEvery =
    raw.checkpointEvery !== undefined
      ? parseInteger("--checkpoint-every", raw.checkpointEvery)
      : Math.max(100, Math.ceil(session.total / 10));
  return gebmRun(dir, session, data, checkpointEvery, {
    iteration: ck.iteration,
    finalSteps: typeof savedFinal === "number" ? savedFinal : 0,
  });
}

async function prepare(raw: RawTrainOptions): Promise<Run> {
  if (raw.resume !== undefined) return resumeRun(raw);
  const fromFile = raw.config !== undefined ? readConfigFile(raw.config) : {};
  const merged = {
    ...fromFile,
    ...Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)),
  } as RawTrainOptions;
  const generator = generatorFlag(merged.generator);
  if (merged.method === "kale" && !generator)
    throw new UserError(
      "--method kale trains a generalized EBM: add --generator (the generator network trained with the energy)",
    );
  if (generator && merged.method !== "kale")
    throw new UserError(
      `--generator trains a generalized EBM by KALE: give --method kale with it${merged.method !== undefined ? `, not '${printable(merged.method)}'` : ""}`,
    );
  if (!generator)
    for (const [key, flag] of GEBM_ONLY)
      if (merged[key] !== undefined) throw new UserError(`${flag} applies to ${GEBM}`);
  if (merged.data === undefined)
    throw new UserError("--data is required: a built-in set name or a .csv/.npy file");
  if (merged.out === undefined) throw new UserError("--out is required: the folder for the checkpoint");
  if (existsSync(join(merged.out, "config.json")))
    throw new UserError(
      `--out ${printable(merged.out)} already holds a checkpoint: continue it with --resume, or choose another folder`,
    );
  checkOutputDir(merged.out);
  const seed = merged.seed !== undefined ? parseSeed("--seed", merged.seed) : 0;
  // No commander default: a --config file's data-size must not be overridden by one.
  const dataSize = parseInteger("--data-size", merged.dataSize ?? "10000");
  const data = loadTrainingData({ spec: merged.data, size: dataSize, seed }, undefined);
  if (merged.energy === "rbm" && !generator) {
    checkBinary(data, merged.data);
    if (merged.standardize !== undefined && merged.standardize !== "no")
      throw new UserError("--standardize does not apply to --energy rbm (its data are 0/1)");
    const { config, checkpointEvery } = buildRbmConfig(merged, data.dim, data.batch.n);
    const session = await userErrorAsync(() => startTraining(config, data.batch));
    return energyRun(merged.out, session, data, checkpointEvery);
  }
  const built = generator ? buildGebmConfig(merged, data.dim) : buildConfig(merged, data.dim);
  const standardize = merged.standardize ?? "auto";
  if (!["auto", "yes", "no"].includes(standardize))
    throw new UserError(`--standardize must be auto, yes or no, got '${printable(standardize)}'`);
  if (standardize === "yes" || (standardize === "auto" && data.source.kind === "file"))
    Object.assign(built.config.model, standardisation(data.batch.x, data.batch.n, data.dim));
  if (generator) {
    const config = built.config as GebmRunConfig;
    const session = await userErrorAsync(() => startGebmTraining(config, data.batch));
    return gebmRun(merged.out, session, data, built.checkpointEvery);
  }
  const session = await userErrorAsync(() => startTraining(built.config as TrainConfig, data.batch));
  return energyRun(merged.out, session, data, built.checkpointEvery);
}

async function userErrorAsync<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof RangeError) throw new UserError(e.message);
    throw e;
  }
}

function tensorData(t: Record<string, { data: ArrayLike<number> }>): Record<string, ArrayLike<number>> {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.data]));
}

/** Keeps metrics.jsonl in step with the checkpoint: the lines `keep` accepts stay, up to the first it does not. */
function openMetrics(dir: string, keep: Run["keepMetric"]): number {
  const path = join(dir, "metrics.jsonl");
  if (existsSync(path)) {
    const lines = readFileSync(path, "utf8").split("\n");
    let bytes = 0;
    for (const line of lines) {
      if (line.trim() === "") break;
      try {
        if (!keep(JSON.parse(line) as { iteration: number; finalStep?: number })) break;
      } catch {
        break;
      }
      bytes += Buffer.byteLength(line) + 1;
    }
    truncateSync(path, bytes);
  }
  return openSync(path, "a");
}

/**
 * The health warnings of a Jarzynski run's walkers (smc/health.ts) and of its estimator population, one
 * line each: the numbers they concern (log Z and its SE, the gradient) are not reliable.
 */
function walkerWarningLines(session: TrainSession): string[] {
  const d = session.objective.diagnostics(session.state.objective) as {
    warnings?: { message: string }[];
    estimator?: { warnings?: { message: string }[] };
  };
  return [
    ...(d.warnings ?? []).map((w) => `training walkers: ${w.message}`),
    ...(d.estimator?.warnings ?? []).map((w) => `estimator population: ${w.message}`),
  ];
}

/** The progress line's statistics: loss, ESS, log Z ± SE (estimator population when there is one). */
function status(info: ReturnType<TrainSession["info"]>): string {
  const parts: string[] = [];
  if (info.loss !== undefined && Number.isFinite(info.loss)) parts.push(`loss ${info.loss.toPrecision(4)}`);
  if (info.ess !== undefined) parts.push(`ESS ${info.ess.toFixed(0)}`);
  const lz = info.estimatorLogZ ?? info.logZ;
  const se = info.estimatorLogZ !== undefined ? info.estimatorLogZSe : info.logZSe;
  if (lz !== undefined) parts.push(`log Z ${pmSe(lz, se)}`);
  return parts.join("  ");
}

const fmt = (v: number | undefined, digits = 3) =>
  v === undefined || !Number.isFinite(v) ? String(v) : v.toFixed(digits);

/** v ± se, or v with why there is no SE (a collapsed genealogy, or a resampling scheme without one). */
const pmSe = (v: number | undefined, se: number | undefined) =>
  se !== undefined && Number.isFinite(se) ? `${fmt(v)} ± ${fmt(se)}` : `${fmt(v)} (no SE)`;

export async function runTrainCommand(raw: RawTrainOptions): Promise<void> {
  const run = await prepare(raw);
  const { dir } = run;
  const quiet = raw.json === true;
  const progress = progressBar(raw.progress && !quiet);
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.on("SIGINT", onSigint);
  ensureDir(dir);
  const metrics = openMetrics(dir, run.keepMetric);
  const started = performance.now();
  let lastGood = run.at();
  if (run.position() === 0) {
    run.save();
  }
  let lastYield = performance.now();
  try {
    while (!run.done()) {
      // Let the event loop run now and then, so that Ctrl-C (SIGINT) reaches the handler.
      if (performance.now() - lastYield > 50) {
        await new Promise((r) => setImmediate(r));
        lastYield = performance.now();
      }
      try {
        run.step();
      } catch (e) {
        if (e instanceof NumericalError)
          throw new NumericalError(`${e.message}; the last good checkpoint (${lastGood}) is in ${dir}`);
        throw e;
      }
      const pos = run.position();
      const info = run.info();
      writeSync(metrics, `${JSON.stringify(info)}\n`);
      progress.update(run.label, pos, run.total(), run.status());
      if (pos % run.checkpointEvery === 0 || run.done()) {
        run.save(info);
        lastGood = run.at();
      }
      if (interrupted) {
        if (lastGood !== run.at()) run.save(info);
        progress.stop();
        process.stderr.write(
          `ebm: interrupted at ${run.at()}; checkpoint saved in ${dir} (continue with --resume)\n`,
        );
        process.exitCode = 130;
        return;
      }
    }
  } finally {
    progress.stop();
    closeSync(metrics);
    process.off("SIGINT", onSigint);
  }
  const seconds = (performance.now() - started) / 1000;
  const { lines, json } = run.report(seconds);
  if (quiet) process.stdout.write(`${JSON.stringify(json)}\n`);
  else process.stdout.write(`${lines.join("\n")}\n`);
}

export function trainCommand(cmd: Command): Command {
  return cmd
    .option("--data <name|file>", "training data: a built-in 2-D set or a .csv/.npy file")
    .option("--data-size <n>", "points drawn for a built-in set (default 10000)")
    .option(
      "--method <name>",
      `objective: ${TRAIN_METHODS.join(", ")} (default jarzynski; rbm: cd (default), pcd or jarzynski); kale with --generator`,
    )
    .option(
      "--generator",
      "with --method kale: a generalized EBM, a generator z ~ N(0, I_k) → x and an energy on x trained by KALE (see below)",
    )
    .option(
      "--energy <type>",
      "energy model: mlp, expfam (U = θ·T(x), see --statistics) or rbm (Bernoulli RBM on 0/1 data, see --hidden)",
      "mlp",
    )
    .option(
      "--statistics <T>",
      "expfam: quadratic (the Gaussian family) or poly:k (x_a^j, j ≤ k, k even; default 4)",
    )
    .option(
      "--hidden <widths>",
      "hidden layer widths of the MLP (default 128,128; GEBM energy 64,64); rbm: the number of hidden units (required)",
    )
    .option(
      "--epochs <n>",
      "rbm: passes of ⌈n/batch⌉ updates (minibatches drawn with replacement) instead of --iters (default 10)",
    )
    .option(
      "--momentum <μ>",
      "rbm with sgd: momentum, min(0.5, μ) during the first epoch then μ (default 0.5: 0.9 destabilises pcd and jarzynski)",
    )
    .option("--activation <name>", "silu, softplus, tanh or elu (default silu)")
    .option(
      "--confinement <c>",
      "fixed ½·c·|x|² added to the MLP (default 0.25); walkers start from N(0, I/c)",
    )
    .option(
      "--trainable-confinement",
      "learn λ in ½·λ·|x|² with the network, from λ₀ = --confinement (tensor confinement.lambda)",
    )
    .option(
      "--iters <n>",
      "iterations in all (default 3000; GEBM: generator iterations, 1500; with --resume: continue up to n)",
    )
    .option(
      "--walkers <n>",
      "model walkers (default 16000; rbm: pcd's persistent chains (100) or jarzynski's walkers (1000))",
    )
    .option(
      "--estimator-walkers <n>",
      "jarzynski: decoupled estimator population for log Z (default 1000, rbm 500; 0 for none)",
    )
    .option(
      "--estimator-islands <n>",
      "rbm jarzynski: run the estimator as n independent islands, log Z's SE from their spread even after its genealogy collapses (default 1)",
    )
    .option("--step <h>", "ULA step size of the walker move (default 0.01)")
    .option("--k <n>", "mle, cd, pcd: moves per iteration; rbm: Gibbs sweeps (CD-k, PCD-k) (default 1)")
    .option("--resample <f>", "jarzynski: resample when ESS < f·N (default 0.5)")
    .option(
      "--reinit <p>",
      "pcd: probability of restarting a walker from the base each iteration (default 0)",
    )
    .option("--sigma <list>", "dsm: noise levels σ, comma-separated (default 0.1)")
    .option(
      "--energy-penalty <α>",
      "mle, cd, pcd, jarzynski: α of the penalty α(E_data[U²] + E_model[U²]) (default 0)",
    )
    .option(
      "--standardize <when>",
      "train on (x − mean)/scale and map every output back: auto (data files: yes; built-in sets: no), yes or no",
    )
    .option(
      "--batch <n>",
      "data minibatch per iteration (default 1000; rbm 100; GEBM 256, and as many generator draws)",
    )
    .option(
      "--lr <rate>",
      "learning rate (default 0.002; rbm 0.05, rbm Jarzynski min(0.05, 1/H); GEBM: Adam 0.001 for both networks)",
    )
    .option("--optimizer <name>", "adam or sgd (default adam; rbm sgd with momentum)")
    .option(
      "--weight-decay <wd>",
      "decoupled weight decay (default 0); rbm: L2 weight cost on W added to the gradient (default 0.0002)",
    )
    .option("--clip <norm>", "clip the gradient's global norm (default 0: no clipping)")
    .option(
      "--schedule <name>",
      "learning rate schedule: constant or cosine (default cosine: to 10% over the run; rbm constant)",
    )
    .option("--latent-dim <k>", "GEBM: dimension of the generator's latent z (default: the data's)")
    .option("--generator-hidden <widths>", "GEBM: hidden layer widths of the generator (default 16)")
    .option(
      "--gradient-penalty <λ>",
      "GEBM: λ of the penalty (λ/2)·E|∇ₓE|² at data–generator interpolates (default 1; KALE needs a Lipschitz energy)",
    )
    .option("--energy-steps <n>", "GEBM: energy steps per generator step (default 5)")
    .option(
      "--warmup-energy-steps <n>",
      "GEBM: energy steps per generator step in the first --warmup-iterations and every --refresh-every-th (default 100)",
    )
    .option(
      "--warmup-iterations <n>",
      "GEBM: generator iterations with --warmup-energy-steps first (default 25)",
    )
    .option(
      "--refresh-every <n>",
      "GEBM: every n-th generator iteration gets --warmup-energy-steps (default 500)",
    )
    .option(
      "--final-energy-steps <n>",
      "GEBM: energy steps after the last generator iteration, the generator fixed (default 1000; may grow with --resume)",
    )
    .option("--seed <n>", "random seed: an integer within ±2^53 (default 0)")
    .option("--config <file>", "YAML or JSON file of settings (keys as the long flags); flags override it")
    .option("--out <dir>", "folder for the checkpoint, metrics and report")
    .option(
      "--resume <dir>",
      "continue the run saved in dir (into the same folder); past its first --iters a cosine schedule stays at its final rate",
    )
    .option(
      "--checkpoint-every <n>",
      "iterations between checkpoints (default: a tenth of the run, at least 100)",
    )
    .option("--json", "print one JSON object on the last line of stdout")
    .option("--no-progress", "no progress bar or progress lines")
    .addHelpText(
      "after",
      "\nRBM (--energy rbm --hidden H on 0/1 data): CD-1, batch 100, SGD with lr 0.05, momentum 0.5 and an L2 weight\n" +
        "cost 0.0002 on W, 10 epochs, visible biases started at the data's base rates (Hinton 2010's guide). The\n" +
        "guide's later momentum 0.9 suits CD-1 but made PCD's chains fall behind and Jarzynski's weights collapse\n" +
        "on the digits, so 0.5 is kept (--momentum 0.9 switches after the first epoch). Jarzynski's lr is\n" +
        "min(0.05, 1/H): its weights degenerate at larger steps on wide hidden layers. model.safetensors holds\n" +
        "weights [V, H], visible_bias [V], hidden_bias [H] (float64 holding the RBM's float32 values).\n" +
        "\nGEBM (--method kale --generator; Arbel, Zhou & Gretton 2021): a generator B(z), z ~ N(0, I_k), and an MLP\n" +
        "energy E(x) trained by KALE with a gradient penalty, alternating energy and generator steps (Adam), then\n" +
        "--final-energy-steps energy steps with the generator fixed. The model is e^{−E(x)} reweighting the\n" +
        "generator's distribution; sample it with `ebm sample --model DIR --latent`. model.safetensors holds\n" +
        "generator.layers.<l>.weight [in, out] and .bias, energy.layers.<l>.weight and .bias, and c (KALE's estimate\n" +
        "of log Z). Resuming past a finished run's final energy steps runs them again at the new end.",
    )
    .action(runTrainCommand);
}
