/**
 * A training run as data: a `TrainConfig` (model spec, method, optimizer, sizes, seed) and the data
 * rebuild the model, the objective, the optimizer and the trainer; the trainer's state is the rest of a
 * checkpoint. Iteration k draws its randomness from foldIn(loopKey, k), so a run resumed from the state
 * after iteration k continues exactly as the uninterrupted run would (same keys, same state).
 *
 * RBMs (model type "rbm") train with their own objectives — CD-k (Hinton 2002), PCD-k (Tieleman 2008) and
 * Jarzynski SMC (objectives/rbm-jarzynski.ts) — usually by SGD with momentum and a weight cost on W
 * (`defaultRbmTrainConfig`, Hinton 2010).
 */
import type { TrainableEnergy } from "../energies/contract.ts";
import { Rbm } from "../energies/rbm.ts";
import { NumericalError } from "../math/errors.ts";
import {
  contrastiveDivergence,
  freshChainsMle,
  persistentContrastiveDivergence,
} from "../objectives/contrastive-divergence.ts";
import { type JarzynskiObjective, jarzynski } from "../objectives/jarzynski.ts";
import type { Batch, Objective, ObjectiveDiagnostics } from "../objectives/objective.ts";
import { denoisingScoreMatching } from "../objectives/denoising-score-matching.ts";
import { fitGaussianNoise, nce } from "../objectives/nce.ts";
import { scoreMatching } from "../objectives/score-matching.ts";
import { slicedScoreMatching } from "../objectives/sliced-score-matching.ts";
import { type RbmCdOptions, type RbmCdState, rbmContrastiveDivergence } from "../objectives/rbm-cd.ts";
import { rbmJarzynski } from "../objectives/rbm-jarzynski.ts";
import { baseRateBias } from "../rbm/evaluate.ts";
import { createGradient, defaultRbmKernels, type GibbsChains, RbmWorkspace } from "../rbm/kernels.ts";
import type { ResamplingScheme } from "../math/resampling.ts";
import { foldIn, type Key, keyFromSeed, split } from "../random/key.ts";
import {
  buildModel,
  baseConfinement,
  confinementInit,
  modelBase,
  type MlpModelSpec,
  type ModelEnergy,
  type ModelSpec,
  modelDim,
  modelNumParams,
  type RbmModelSpec,
  toModelCoordinates,
  trainedConfinement,
  validateModelSpec,
} from "./model-spec.ts";
import {
  adam,
  chain,
  clipByGlobalNorm,
  cosineDecay,
  decoupledWeightDecay,
  type Optimizer,
  sgd,
} from "./optim.ts";
import { addDecayedWeights, stepSchedule, trace } from "./momentum.ts";
import { decodeState, type EncodedState, encodeState } from "./state-codec.ts";
import { type Trainer, type TrainerState, trainer } from "./trainer.ts";

export const TRAIN_METHODS = ["mle", "cd", "pcd", "jarzynski", "sm", "dsm", "ssm", "nce"] as const;
export type TrainMethod = (typeof TRAIN_METHODS)[number];

export interface OptimizerConfig {
  name: "adam" | "sgd";
  lr: number;
  /** Decoupled weight decay (AdamW-style), 0 for none. */
  weightDecay: number;
  /** Clip the gradient's global norm at this value; 0 for no clipping. */
  clip: number;
  /** "constant", or "cosine" (decay to 10% of lr over the run). */
  schedule: "constant" | "cosine";
  /** Updates over which the cosine schedule decays (default: the run's iterations when it was started). */
  horizon?: number;
  /** SGD only: heavy-ball momentum μ in [0, 1) (train/momentum.ts); 0 or absent: none. */
  momentum?: number;
  /** μ during the first `momentumSwitch` updates (Hinton 2010, §9: 0.5 until the first fast progress is over). */
  momentumStart?: number;
  momentumSwitch?: number;
  /**
   * An L2 weight cost wd·θ added to the gradient before momentum (for an RBM on W only, not the biases:
   * Hinton 2010, §10); 0 or absent: none. Unlike `weightDecay` (decoupled, after the optimizer).
   */
  weightCost?: number;
}

export interface TrainConfig {
  model: ModelSpec;
  method: TrainMethod;
  /** Iterations of the whole run. */
  iters: number;
  /** Data minibatch per iteration (the full set when ≥ its size). */
  batch: number;
  /** Model walkers (negative samples) of mle, cd, pcd, jarzynski. */
  walkers: number;
  /** ULA step size h of the walker move. */
  step: number;
  /** Moves per iteration for mle, cd and pcd. */
  k: number;
  /** Jarzynski: resample when ESS < resample·N. */
  resample: number;
  /** Jarzynski: walkers of the decoupled estimator population (0 for none). */
  estimatorWalkers: number;
  /**
   * Jarzynski on an RBM: the estimator population as this many independent islands (default 1;
   * objectives/rbm-jarzynski.ts): log Z's SE then comes from the spread between islands, which a collapsed
   * genealogy does not take away. At least 2 walkers per island. Not the default: when the walkers lag
   * behind the model, smaller populations miss more of Z and the islands' spread does not show it (784 × 20
   * digits, 400 updates: 5 islands of 100 put log Z 14 SEs below exact, one population of 500 3.8 SEs).
   */
  estimatorIslands?: number;
  /** PCD: probability of restarting a walker from the base each iteration. */
  reinit: number;
  /** α of the energy-magnitude penalty α(E_data[U²] + E_model[U²]) for mle, cd, pcd, jarzynski (0: none). */
  energyPenalty?: number;
  /**
   * Jarzynski: resampling scheme (default multinomial, the only one with a Lee–Whiteley SE of log Z;
   * systematic, stratified and residual add less noise to the walkers' split between modes).
   */
  scheme?: ResamplingScheme;
  /** Jarzynski: walker groups of the experimental first-order feedback correction (0 or absent: off). */
  feedbackGroups?: number;
  /** DSM: noise levels σ (each noisy point's σ drawn uniformly from the list; λ = σ² weighting). */
  sigma?: number[];
  optimizer: OptimizerConfig;
  seed: number;
}

/**
 * Defaults for 2-D data: the seed's toy2d network, step and batch (as the PyTorch reference `toy2d` in
 * shared/peer), with 16000 walkers and Adam 2·10⁻³ decayed to a tenth (cosine), as `reproduce toy2d`:
 * at the reference's 1000 walkers Jarzynski's mode masses are off by up to 0.09 (experiments/toy2d.ts).
 */
export function defaultTrainConfig(dim: number): TrainConfig & { model: MlpModelSpec } {
  return {
    model: { type: "mlp", dim, hidden: [128, 128], activation: "silu", confinement: 0.25 },
    method: "jarzynski",
    iters: 3000,
    batch: 1000,
    walkers: 16000,
    step: 0.01,
    k: 1,
    resample: 0.5,
    estimatorWalkers: 1000,
    reinit: 0,
    optimizer: { name: "adam", lr: 2e-3, weightDecay: 0, clip: 0, schedule: "cosine" },
    seed: 0,
  };
}

/** The methods that train an RBM. */
export const RBM_TRAIN_METHODS = ["cd", "pcd", "jarzynski"] as const;

/**
 * Defaults for a V × H RBM on n binary rows, from Hinton's guide (2010) and the usual MNIST settings:
 * CD-1; minibatches of 100; SGD with lr 0.05 and momentum 0.5 (§9); weight cost 2·10⁻⁴ on W (§10); 10
 * epochs of ⌈n/100⌉ updates. PCD keeps 100 persistent chains (one batch, Tieleman 2008); Jarzynski uses
 * 1000 walkers, resampled when ESS < N/2, and a 500-walker estimator population for an unbiased running
 * log Z. The guide's later switch to momentum 0.9 (kept available: `momentum` after `momentumSwitch`
 * updates) suits CD but not the other two: on the digits (784 × 16, lr 0.05, 200 updates) it sent PCD's
 * test log-likelihood from −207 to −214 nats as its persistent chains fell behind, and put Jarzynski's
 * training walkers' log Z 42 nats below AIS; with 0.5 throughout, 800 updates gave CD −170, PCD −164,
 * Jarzynski −160 (exact log Z).
 *
 * Jarzynski's default step is smaller when the hidden layer is wide: lr = min(0.05, 1/H). The spread of its
 * weight increments grows with the step and with H, and once it is large the weights degenerate at every
 * update (the gradient then follows a handful of walkers). On the digits (784 × H, 800 updates, 1000
 * walkers): H = 100 was healthy at 0.01 (96 resamplings, test LL −155.7) and degenerate at 0.02 (687
 * resamplings, last ESS 13 of 1000, −169.6) and 0.05; H = 500 healthy at 0.004 and degenerate at 0.01.
 */
export function defaultRbmTrainConfig(
  visible: number,
  hidden: number,
  n: number,
  method: (typeof RBM_TRAIN_METHODS)[number] = "cd",
): TrainConfig & { model: RbmModelSpec } {
  const batch = 100;
  const perEpoch = Math.ceil(n / batch);
  return {
    model: { type: "rbm", visible, hidden },
    method,
    iters: 10 * perEpoch,
    batch,
    walkers: method === "jarzynski" ? 1000 : 100,
    step: 1,
    k: 1,
    resample: 0.5,
    estimatorWalkers: method === "jarzynski" ? 500 : 0,
    estimatorIslands: 1,
    reinit: 0,
    optimizer: {
      name: "sgd",
      lr: method === "jarzynski" ? Math.min(0.05, 1 / hidden) : 0.05,
      weightDecay: 0,
      clip: 0,
      schedule: "constant",
      momentum: 0.5,
      momentumStart: 0.5,
      momentumSwitch: perEpoch,
      weightCost: 2e-4,
    },
    seed: 0,
  };
}

/** Throws a RangeError naming the field when `c` is not a valid configuration. */
export function validateTrainConfig(c: TrainConfig): void {
  if (typeof c !== "object" || c === null || Array.isArray(c))
    throw new RangeError(`the configuration must be an object, got ${c === null ? "null" : typeof c}`);
  validateModelSpec(c.model);
  if (c.model.type === "rbm") {
    if (!(RBM_TRAIN_METHODS as readonly string[]).includes(c.method))
      throw new RangeError(`an RBM trains with ${RBM_TRAIN_METHODS.join(", ")}, not '${String(c.method)}'`);
    if (c.energyPenalty) throw new RangeError("energyPenalty does not apply to an RBM");
    if (c.feedbackGroups) throw new RangeError("feedbackGroups does not apply to an RBM");
  }
  if (!TRAIN_METHODS.includes(c.method))
    throw new RangeError(`method must be one of ${TRAIN_METHODS.join(", ")}, got '${String(c.method)}'`);
  const int = (name: string, v: number, min: number) => {
    if (!(Number.isSafeInteger(v) && v >= min))
      throw new RangeError(`${name} must be an integer ≥ ${min}, got ${v}`);
  };
  const pos = (name: string, v: number) => {
    if (!(typeof v === "number" && v > 0 && Number.isFinite(v)))
      throw new RangeError(`${name} must be a positive number, got ${v}`);
  };
  const unit = (name: string, v: number) => {
    if (!(typeof v === "number" && v >= 0 && v <= 1))
      throw new RangeError(`${name} must be in [0, 1], got ${v}`);
  };
  int("iters", c.iters, 0);
  int("batch", c.batch, 1);
  int("walkers", c.walkers, 1);
  int("k", c.k, 1);
  int("estimatorWalkers", c.estimatorWalkers, 0);
  const islands = c.estimatorIslands ?? 1;
  int("estimatorIslands", islands, 1);
  if (islands > 1) {
    if (c.model.type !== "rbm" || c.method !== "jarzynski")
      throw new RangeError("estimatorIslands applies to an RBM trained by jarzynski");
    if (c.estimatorWalkers > 0 && 2 * islands > c.estimatorWalkers)
      throw new RangeError(
        `estimatorIslands (${islands}) needs at least 2 walkers per island, got estimatorWalkers ${c.estimatorWalkers}`,
      );
  }
  pos("step", c.step);
  unit("resample", c.resample);
  unit("reinit", c.reinit);
  if (c.energyPenalty !== undefined && !(c.energyPenalty >= 0 && Number.isFinite(c.energyPenalty)))
    throw new RangeError(`energyPenalty must be ≥ 0, got ${c.energyPenalty}`);
  if (!Number.isSafeInteger(c.seed))
    throw new RangeError(`seed must be an integer within ±2^53, got ${c.seed}`);
  const o = c.optimizer;
  if (o.name !== "adam" && o.name !== "sgd")
    throw new RangeError(`optimizer.name must be adam or sgd, got '${String(o.name)}'`);
  pos("optimizer.lr", o.lr);
  if (!(o.weightDecay >= 0 && Number.isFinite(o.weightDecay)))
    throw new RangeError(`optimizer.weightDecay must be ≥ 0, got ${o.weightDecay}`);
  if (!(o.clip >= 0 && Number.isFinite(o.clip)))
    throw new RangeError(`optimizer.clip must be ≥ 0, got ${o.clip}`);
  if (o.schedule !== "constant" && o.schedule !== "cosine")
    throw new RangeError(`optimizer.schedule must be constant or cosine, got '${String(o.schedule)}'`);
  for (const k of ["momentum", "momentumStart"] as const) {
    const v = o[k];
    if (v !== undefined && !(typeof v === "number" && v >= 0 && v < 1))
      throw new RangeError(`optimizer.${k} must be in [0, 1), got ${v}`);
  }
  if (o.momentumSwitch !== undefined) int("optimizer.momentumSwitch", o.momentumSwitch, 0);
  if (o.momentum && o.name !== "sgd") throw new RangeError("optimizer.momentum applies to sgd only");
  if (o.weightCost !== undefined && !(o.weightCost >= 0 && Number.isFinite(o.weightCost)))
    throw new RangeError(`optimizer.weightCost must be ≥ 0, got ${o.weightCost}`);
  if (
    c.model.type !== "rbm" &&
    ["mle", "pcd", "jarzynski"].includes(c.method) &&
    !(baseConfinement(c.model) > 0)
  )
    throw new RangeError(
      `${c.method} starts its walkers from the confinement's Gaussian: model.confinement must be > 0`,
    );
}

/**
 * The optimizer of `o`: [clip] → [weight cost] → [momentum] → adam | sgd → [decoupled weight decay]. For an
 * RBM (`model`), the weight cost applies to W only.
 */
export function buildOptimizer(o: OptimizerConfig, iters: number, model?: ModelSpec): Optimizer {
  const lr = o.schedule === "cosine" ? cosineDecay(o.lr, Math.max(1, o.horizon ?? iters), 0.1) : o.lr;
  const parts: Optimizer[] = [];
  if (o.clip > 0) parts.push(clipByGlobalNorm(o.clip));
  if (o.weightCost)
    parts.push(
      addDecayedWeights(o.weightCost, model?.type === "rbm" ? model.visible * model.hidden : undefined),
    );
  if (o.momentum)
    parts.push(
      trace(
        o.momentumSwitch
          ? stepSchedule(o.momentumStart ?? o.momentum, o.momentum, o.momentumSwitch)
          : o.momentum,
      ),
    );
  parts.push(o.name === "adam" ? adam(lr) : sgd(lr));
  if (o.weightDecay > 0) parts.push(decoupledWeightDecay(lr, o.weightDecay));
  return parts.length === 1 ? parts[0] : chain(...parts);
}

/**
 * rbmContrastiveDivergence with a state a checkpoint can hold: the kernels and scratch buffers live here,
 * and the state is PCD's chains alone (null for CD).
 */
function checkpointableRbmCd(opts: RbmCdOptions): Objective<{ persistent: GibbsChains | null }> {
  const inner = rbmContrastiveDivergence(opts);
  let scratch: RbmCdState | undefined;
  return {
    name: inner.name,
    init(key, model) {
      scratch = inner.init(key, model);
      return { persistent: scratch.persistent ?? null };
    },
    gradient(key, state, model, batch, grad) {
      scratch ??= {
        kernels: opts.kernels ?? defaultRbmKernels(),
        workspace: new RbmWorkspace(),
        grad: createGradient(model as Rbm),
        bits: new Uint8Array(0),
      };
      const s: RbmCdState = { ...scratch, persistent: state.persistent ?? undefined };
      inner.gradient(key, s, model, batch, grad);
      scratch.bits = s.bits;
    },
    afterUpdate() {},
    diagnostics: () => ({}),
  };
}

function buildRbmObjective(c: TrainConfig): Objective<unknown> {
  switch (c.method) {
    case "cd":
      return checkpointableRbmCd({ k: c.k }) as Objective<unknown>;
    case "pcd":
      return checkpointableRbmCd({ k: c.k, persistentChains: c.walkers }) as Objective<unknown>;
    case "jarzynski":
      return rbmJarzynski({
        walkers: c.walkers,
        sweeps: c.k,
        resample: c.resample,
        scheme: c.scheme,
        estimator:
          c.estimatorWalkers > 0
            ? { walkers: c.estimatorWalkers, islands: c.estimatorIslands ?? 1 }
            : undefined,
      }) as Objective<unknown>;
    default:
      throw new RangeError(`an RBM trains with ${RBM_TRAIN_METHODS.join(", ")}, not '${c.method}'`);
  }
}

export function buildObjective(c: TrainConfig, data?: Batch): Objective<unknown> {
  if (c.model.type === "rbm") return buildRbmObjective(c);
  const c0 = baseConfinement(c.model);
  const init = c0 > 0 ? confinementInit(c0) : undefined;
  switch (c.method) {
    case "mle":
      return freshChainsMle({
        walkers: c.walkers,
        step: c.step,
        k: c.k,
        init,
        energyPenalty: c.energyPenalty,
      }) as Objective<unknown>;
    case "cd":
      return contrastiveDivergence({
        walkers: c.walkers,
        step: c.step,
        k: c.k,
        energyPenalty: c.energyPenalty,
      }) as Objective<unknown>;
    case "pcd":
      return persistentContrastiveDivergence({
        walkers: c.walkers,
        step: c.step,
        k: c.k,
        init,
        reinit: c.reinit,
        energyPenalty: c.energyPenalty,
      }) as Objective<unknown>;
    case "jarzynski":
      return jarzynski({
        walkers: c.walkers,
        step: c.step,
        resample: c.resample,
        init,
        estimator: c.estimatorWalkers > 0 ? { walkers: c.estimatorWalkers } : undefined,
        energyPenalty: c.energyPenalty,
        feedbackGroups: c.feedbackGroups,
        scheme: c.scheme,
      }) as Objective<unknown>;
    case "sm":
      return scoreMatching() as Objective<unknown>;
    case "dsm":
      return denoisingScoreMatching({ sigma: c.sigma ?? [0.1] }) as Objective<unknown>;
    case "ssm":
      return slicedScoreMatching({ variant: "ssm-vr" }) as Objective<unknown>;
    case "nce":
      // The noise is fitted to the whole data set, not to the first minibatch.
      return nce(
        data && data.n >= 2 ? { noise: fitGaussianNoise(data.x, data.n, c.model.dim, "full", 1) } : {},
      ) as Objective<unknown>;
  }
}

/** What one iteration reports. */
export interface IterationInfo extends ObjectiveDiagnostics {
  iteration: number;
  /**
   * log Z_θ (absolute: the walkers start from the confinement's Gaussian with weights e^{−MLP}, so their
   * running estimate is log(Z_θ/Z_G) with log Z_G = (d/2)·log(2π/c)) of the training walkers, and its SE.
   */
  logZ?: number;
  logZSe?: number;
  /** The same from the decoupled estimator population (Jarzynski with `estimatorWalkers` > 0). */
  estimatorLogZ?: number;
  estimatorLogZSe?: number;
}

/** log ∫ e^{−½c|x|²} dx = (d/2)·log(2π/c). */
export function confinementLogZ(dim: number, c: number): number {
  return 0.5 * dim * Math.log((2 * Math.PI) / c);
}

export interface TrainSession {
  readonly config: TrainConfig;
  readonly model: ModelEnergy;
  readonly objective: Objective<unknown>;
  readonly trainer: Trainer<unknown>;
  readonly state: TrainerState<unknown>;
  /** Runs iteration state.iteration + 1; throws a NumericalError (naming the iteration) on non-finite values. */
  step(): void;
  /** Diagnostics of the state now. */
  info(): IterationInfo;
  /** The trainer state (θ, optimizer, objective) as tensors and a skeleton, for a checkpoint. */
  encode(): EncodedState;
}

function keys(seed: number): { model: Key; init: Key; loop: Key } {
  const [model, init, loop] = split(keyFromSeed(seed), 3);
  return { model, init, loop };
}

async function assemble(
  config: TrainConfig,
  data: Batch,
  restore?: { skeleton: unknown; tensors: Record<string, ArrayLike<number>> },
): Promise<TrainSession> {
  validateTrainConfig(config);
  if (data.n < 1) throw new RangeError("the training data is empty");
  const dim = modelDim(config.model);
  if (data.x.length !== data.n * dim)
    throw new RangeError(`the data have ${data.x.length / data.n} columns, the model expects ${dim}`);
  if (config.model.type === "rbm")
    for (let q = 0; q < data.x.length; q++)
      if (data.x[q] !== 0 && data.x[q] !== 1)
        throw new RangeError(
          `an RBM needs 0/1 data: row ${Math.floor(q / dim) + 1}, column ${(q % dim) + 1} holds ${data.x[q]}`,
        );
  const k = keys(config.seed);
  // The network trains on standardised inputs when the spec says so (model-spec.ts).
  data = { x: toModelCoordinates(config.model, data.x, data.n), n: data.n };
  const model = await buildModel(config.model, k.model);
  if (model instanceof Rbm && !restore) {
    // Visible biases at the data's base rates (Hinton 2010, §8.1): the model starts at the pixel marginals.
    model.b.set(baseRateBias(data.x, data.n, model.visible));
    model.touch();
  }
  const objective = buildObjective(config, data);
  const optimizer = buildOptimizer(config.optimizer, config.iters, config.model);
  const t = trainer({ model: model as TrainableEnergy, objective, optimizer, data, batchSize: config.batch });
  let state: TrainerState<unknown>;
  if (restore) {
    state = decodeState(restore.skeleton, restore.tensors) as TrainerState<unknown>;
    if (!(state.params instanceof Float64Array) || state.params.length !== modelNumParams(config.model))
      throw new RangeError("the saved state's parameters do not match the model");
    model.setParams(state.params);
  } else state = t.init(k.init);
  return {
    config,
    model,
    objective,
    trainer: t,
    state,
    step() {
      const it = state.iteration + 1;
      try {
        t.step(foldIn(k.loop, state.iteration), state);
      } catch (e) {
        if (e instanceof NumericalError && !e.message.startsWith("iteration "))
          throw new NumericalError(`iteration ${it}: ${e.message}`);
        throw e;
      }
      for (let i = 0; i < state.params.length; i++)
        if (!Number.isFinite(state.params[i]))
          throw new NumericalError(`iteration ${state.iteration}: the parameters are not finite`);
      const lambda = trainedConfinement(config.model, state.params);
      if (lambda !== undefined && !(lambda > 0))
        throw new NumericalError(
          `iteration ${state.iteration}: the trainable confinement λ reached ${lambda.toPrecision(3)} ≤ 0, ` +
            "where e^{−U} has no normaliser; use a fixed confinement or a smaller learning rate",
        );
    },
    info() {
      const d = objective.diagnostics(state.objective) as ObjectiveDiagnostics & {
        estimator?: { logZRatio: number; logZSe: number };
      };
      const out: IterationInfo = { iteration: state.iteration };
      for (const key of ["ess", "logZRatio", "resamplings", "loss"] as const)
        if (d[key] !== undefined) out[key] = d[key];
      const nceDiag = d as { logNormalizer?: number; logNormalizerSe?: number };
      if (nceDiag.logNormalizer !== undefined) {
        // NCE's profiled log-normaliser ĉ estimates log Z_θ (given θ; its SE is the sandwich SE).
        out.logZ = nceDiag.logNormalizer;
        out.logZSe = nceDiag.logNormalizerSe;
      }
      if (objective.name === "rbm_jarzynski") {
        // Absolute already: the walkers start from the independent-units model, log Z_base in closed form.
        const r = d as { logZ?: number; logZSe?: number; estimator?: { logZ?: number; logZSe: number } };
        out.logZ = r.logZ;
        out.logZSe = r.logZSe;
        if (r.estimator) {
          out.estimatorLogZ = r.estimator.logZ;
          out.estimatorLogZSe = r.estimator.logZSe;
        }
      }
      if ((objective as JarzynskiObjective).name === "jarzynski" && d.logZRatio !== undefined) {
        // In the user's coordinates: log Z = log Z' + d·log(scale) (energies/affine.ts).
        const base = modelBase(config.model).logZ;
        out.logZ = base + d.logZRatio;
        out.logZSe = (d as { logZSe?: number }).logZSe;
        if (d.estimator) {
          out.estimatorLogZ = base + d.estimator.logZRatio;
          out.estimatorLogZSe = d.estimator.logZSe;
        }
      }
      return out;
    },
    encode() {
      return encodeState(state, "state");
    },
  };
}

/** A new run from the config's seed. */
export function startTraining(config: TrainConfig, data: Batch): Promise<TrainSession> {
  return assemble(config, data);
}

/** A run restored from an encoded trainer state (see `TrainSession.encode`). */
export function resumeTraining(
  config: TrainConfig,
  data: Batch,
  saved: { skeleton: unknown; tensors: Record<string, ArrayLike<number>> },
): Promise<TrainSession> {
  return assemble(config, data, saved);
}
