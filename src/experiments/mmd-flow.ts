/**
 * The student–teacher experiment of Arbel, Korba, Salim & Gretton (NeurIPS 2019, figure 2), scaled to a
 * CPU: does noise injection help the MMD flow train a network?
 *
 * Setting (src/mmd-flow/): inputs x uniform on the unit sphere of ℝ^d; a teacher of M hidden units
 * u*_j = (a*, b*, w*) with independent N(0, teacherScale²) coordinates and output
 * f_ν(x) = (1/M) Σ_j ψ(x, u*_j), ψ(x, u) = G(w·σ(aᵀx + b)) (ReLU σ and the Gaussian output map
 * G(h) = exp(−h²/2) by default, as in the paper's code); a student of N particles drawn N(0, initScale²)
 * per coordinate, i.e. started near the origin, where every unit's ψ is flat (∇ψ vanishes to third order
 * at u = 0 with the Gaussian G). The student follows the MMD flow of the unit kernel
 * k(u, u') = E_x[ψ(x,u)ψ(x,u')], each step estimated on a minibatch drawn with replacement from a fixed
 * training set: particle gradient descent on ½E_x[(f_μ − f_ν)²] in the mean-field scaling.
 *
 * Two arms from the same teacher, data, initial particles and minibatch sequence: the plain flow
 * (βₙ = 0) and the noisy flow, whose witness gradient is read at u + βₙ·ε with βₙ = β₀·2^(−n/h) halving
 * `noiseHalvings` times over the run. Repeated over `seeds` seeds (each draws its own teacher and data).
 * Reported: validation (held-out inputs) and training-set loss curves; the final validation loss mean ± SE
 * over seeds per arm; and, since both arms share each seed's teacher, the paired log₁₀ ratio
 * plain/noisy per seed (mean ± SE), which removes the teachers' spread of loss scales.
 */
import { mmdFlowInit, mmdFlowNoiseLevel, type MmdFlowState, mmdFlowStep } from "../mmd-flow/flow.ts";
import { normalUnits, selectInputs, sphereInputs, unitMmdWitness } from "../mmd-flow/student-teacher.ts";
import {
  type InputBatch,
  UNIT_ACTIVATIONS,
  UNIT_OUTPUT_MAPS,
  type UnitActivation,
  type UnitModel,
  type UnitOutputMap,
  type Units,
  unitNetworkOutput,
  unitSquaredLoss,
} from "../mmd-flow/units.ts";
import { NumericalError } from "../math/errors.ts";
import { foldIn, type Key, keyFromSeed, split, Stream } from "../random/key.ts";

export const MMD_FLOW_ARMS = ["plain", "noisy"] as const;
export type MmdFlowArm = (typeof MMD_FLOW_ARMS)[number];

export interface MmdFlowOptions {
  /** Input dimension d. */
  dim: number;
  /** Teacher hidden units M. */
  teacherUnits: number;
  /** Student particles (hidden units) N. */
  particles: number;
  /** Flow steps. */
  steps: number;
  /** Minibatch of training inputs per step. */
  batch: number;
  trainSize: number;
  validationSize: number;
  /** γ. */
  stepSize: number;
  /** β₀ of the noisy arm. */
  noise: number;
  /** βₙ halves this many times over the run: βₙ = β₀·2^(−n·noiseHalvings/steps). */
  noiseHalvings: number;
  /** Standard deviation of every coordinate of the student's initial particles. */
  initScale: number;
  /** Standard deviation of every coordinate of the teacher's units. */
  teacherScale: number;
  activation: UnitActivation;
  output: UnitOutputMap;
  /** Seeds seed, seed + 1, …, seed + seeds − 1. */
  seeds: number;
  seed: number;
  /** Points of the loss curves after step 0 (evenly spaced, the last at the end). */
  evaluations: number;
}

/**
 * The defaults: d = 20, a 3-unit teacher, 400 student particles started at scale 0.1, 2500 steps of
 * γ = 5 on minibatches of 100 of 1000 training inputs, β₀ = 1 halving 5 times (every 500 steps), 8 seeds;
 * validation on 1000 held-out inputs.
 */
export const MMD_FLOW_DEFAULTS: MmdFlowOptions = {
  dim: 20,
  teacherUnits: 3,
  particles: 400,
  steps: 2500,
  batch: 100,
  trainSize: 1000,
  validationSize: 1000,
  stepSize: 5,
  noise: 1,
  noiseHalvings: 5,
  initScale: 0.1,
  teacherScale: 1,
  activation: "relu",
  output: "gaussian",
  seeds: 8,
  seed: 0,
  evaluations: 60,
};

/** `--quick`: 150 particles, 600 steps, 3 seeds (a few seconds). */
export const MMD_FLOW_QUICK: Partial<MmdFlowOptions> = {
  particles: 150,
  steps: 600,
  batch: 50,
  trainSize: 500,
  validationSize: 500,
  noiseHalvings: 5,
  seeds: 3,
  evaluations: 30,
};

export function validateMmdFlowOptions(o: MmdFlowOptions): void {
  const int = (name: string, v: number, min: number, max: number) => {
    if (!(Number.isSafeInteger(v) && v >= min && v <= max))
      throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${v}`);
  };
  int("dim", o.dim, 1, 10_000);
  int("teacherUnits", o.teacherUnits, 1, 10_000);
  int("particles", o.particles, 1, 1_000_000);
  int("steps", o.steps, 1, 100_000_000);
  int("batch", o.batch, 1, 1_000_000);
  int("trainSize", o.trainSize, 1, 10_000_000);
  int("validationSize", o.validationSize, 1, 10_000_000);
  int("seeds", o.seeds, 1, 10_000);
  int("evaluations", o.evaluations, 1, 100_000);
  if (!Number.isSafeInteger(o.seed) || !Number.isSafeInteger(o.seed + o.seeds))
    throw new RangeError(`seed must be an integer within ±2^53, got ${o.seed}`);
  for (const [name, v, min] of [
    ["stepSize", o.stepSize, 0],
    ["initScale", o.initScale, 0],
    ["teacherScale", o.teacherScale, 0],
  ] as const)
    if (!(v > min && Number.isFinite(v))) throw new RangeError(`${name} must be positive, got ${v}`);
  for (const [name, v] of [
    ["noise", o.noise],
    ["noiseHalvings", o.noiseHalvings],
  ] as const)
    if (!(v >= 0 && Number.isFinite(v))) throw new RangeError(`${name} must be ≥ 0, got ${v}`);
  if (!(UNIT_ACTIVATIONS as readonly string[]).includes(o.activation))
    throw new RangeError(`activation must be ${UNIT_ACTIVATIONS.join(" or ")}, got '${o.activation}'`);
  if (!(UNIT_OUTPUT_MAPS as readonly string[]).includes(o.output))
    throw new RangeError(`output must be ${UNIT_OUTPUT_MAPS.join(" or ")}, got '${o.output}'`);
}

/** One arm of one seed. */
export interface MmdFlowRun {
  /** The steps of the curve points (0 first, `steps` last). */
  at: number[];
  /** Loss ½·mean (f_μ − f_ν)² on the held-out inputs at those steps. */
  validation: number[];
  /** The same on the whole training set. */
  train: number[];
  /** βₙ at those steps (0 for the plain arm). */
  noise: number[];
  /** Validation loss at the end. */
  final: number;
  /**
   * Fraction of particles still near the origin at the end (‖u‖ < 2·initScale·√(d+2), twice their typical
   * initial norm): units the flow never moved off the flat region.
   */
  nearOrigin: number;
  seconds: number;
}

export interface MmdFlowSeedResult {
  seed: number;
  /** Validation loss of the initial student (shared by both arms). */
  initial: number;
  /** ½·Var of the teacher's output over the validation inputs: the loss of the best constant predictor. */
  constantLoss: number;
  runs: Record<MmdFlowArm, MmdFlowRun>;
  /** log₁₀(final plain / final noisy). */
  log10Ratio: number;
}

export interface MmdFlowArmSummary {
  /** Final validation loss, mean ± SE over seeds (SE NaN with one seed). */
  final: number;
  finalSe: number;
  /** Geometric mean over seeds of the final validation loss. */
  finalGeoMean: number;
  /** Per curve point, the mean over seeds of the validation and training losses. */
  meanValidation: number[];
  meanTrain: number[];
  nearOrigin: number;
}

export interface MmdFlowResult {
  options: MmdFlowOptions;
  seeds: MmdFlowSeedResult[];
  arms: Record<MmdFlowArm, MmdFlowArmSummary>;
  /** log₁₀(plain/noisy) of the final validation loss, paired by seed: mean ± SE, and the seeds where noisy < plain. */
  log10Ratio: number;
  log10RatioSe: number;
  noisyWins: number;
  seconds: number;
}

export type MmdFlowProgress = (label: string, done: number, total: number) => void;

function meanSe(v: readonly number[]): { mean: number; se: number } {
  const n = v.length;
  const mean = v.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, se: Number.NaN };
  return { mean, se: Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) / n) };
}

/** The curve's steps: 0 and `evaluations` evenly spaced points, the last at `steps` (duplicates dropped). */
function curveSteps(steps: number, evaluations: number): number[] {
  const at = [0];
  for (let e = 1; e <= evaluations; e++) {
    const s = Math.round((e * steps) / evaluations);
    if (s > at[at.length - 1]) at.push(s);
  }
  return at;
}

interface SeedSetup {
  seed: number;
  model: UnitModel;
  teacher: Units;
  train: InputBatch;
  validation: InputBatch;
  student: Units;
  flowKey: Key;
}

function setup(o: MmdFlowOptions, seed: number): SeedSetup {
  const [kt, ktr, kv, ks, kf] = split(keyFromSeed(seed), 5);
  const model: UnitModel = { activation: o.activation, output: o.output };
  const s = o.teacherScale;
  return {
    seed,
    model,
    teacher: normalUnits(kt, o.teacherUnits, o.dim, { a: s, b: s, w: s }),
    train: sphereInputs(ktr, o.trainSize, o.dim),
    validation: sphereInputs(kv, o.validationSize, o.dim),
    student: normalUnits(ks, o.particles, o.dim, { a: o.initScale, b: o.initScale, w: o.initScale }),
    flowKey: kf,
  };
}

/** ½·Var_x f_ν(x) on the validation inputs: the loss of the best constant predictor. */
function constantPredictorLoss(s: SeedSetup): number {
  const f = unitNetworkOutput(s.model, s.validation, s.teacher);
  const mean = f.reduce((a, v) => a + v, 0) / f.length;
  return (0.5 * f.reduce((a, v) => a + (v - mean) ** 2, 0)) / f.length;
}

function nearOriginFraction(units: Units, radius: number): number {
  let count = 0;
  for (let i = 0; i < units.n; i++) {
    let s = 0;
    for (let j = 0; j < units.dim; j++) s += units.u[i * units.dim + j] ** 2;
    if (s < radius * radius) count++;
  }
  return count / units.n;
}

/**
 * One arm: `steps` flow steps from the seed's student. Step n draws its minibatch from foldIn(flowKey, n)'s
 * first child and its noise from the second, so both arms see the same minibatches.
 */
function runArm(
  o: MmdFlowOptions,
  s: SeedSetup,
  arm: MmdFlowArm,
  at: number[],
  tick: (done: number) => void,
): MmdFlowRun {
  const t0 = performance.now();
  const halfLife = o.noiseHalvings > 0 ? o.steps / o.noiseHalvings : Number.POSITIVE_INFINITY;
  const beta = (n: number) => (arm === "noisy" ? mmdFlowNoiseLevel(o.noise, halfLife, n) : 0);
  const run: MmdFlowRun = {
    at,
    validation: [],
    train: [],
    noise: [],
    final: Number.NaN,
    nearOrigin: Number.NaN,
    seconds: 0,
  };
  const record = (state: MmdFlowState) => {
    run.validation.push(unitSquaredLoss(s.model, s.validation, state.particles, s.teacher));
    run.train.push(unitSquaredLoss(s.model, s.train, state.particles, s.teacher));
    run.noise.push(beta(state.iteration));
  };
  let state = mmdFlowInit(s.student);
  record(state);
  const rows = new Int32Array(Math.min(o.batch, o.trainSize));
  const fullBatch = o.batch >= o.trainSize;
  let next = 1;
  for (let n = 0; n < o.steps; n++) {
    const [kb, kn] = split(foldIn(s.flowKey, n), 2);
    let batch = s.train;
    if (!fullBatch) {
      const stream = new Stream(kb);
      for (let i = 0; i < rows.length; i++) rows[i] = stream.integer(o.trainSize);
      batch = selectInputs(s.train, rows);
    }
    state = mmdFlowStep(kn, state, unitMmdWitness(s.model, batch, s.teacher), o.stepSize, beta(n)).state;
    if (state.iteration === at[next]) {
      record(state);
      next++;
      const v = run.validation[run.validation.length - 1];
      if (!Number.isFinite(v))
        throw new NumericalError(
          `mmd-flow: the validation loss is ${v} at step ${state.iteration} (${arm} arm, seed ${s.seed}); ` +
            "lower the step size",
        );
    }
    if ((n + 1) % 50 === 0 || n + 1 === o.steps) tick(n + 1);
  }
  run.final = run.validation[run.validation.length - 1];
  run.nearOrigin = nearOriginFraction(state.particles, 2 * o.initScale * Math.sqrt(o.dim + 2));
  run.seconds = (performance.now() - t0) / 1000;
  return run;
}

/** Runs both arms on every seed (see the header). Deterministic given the options. */
export function runMmdFlowExperiment(
  opts: Partial<MmdFlowOptions> = {},
  progress?: MmdFlowProgress,
): MmdFlowResult {
  const o: MmdFlowOptions = { ...MMD_FLOW_DEFAULTS, ...opts };
  validateMmdFlowOptions(o);
  const t0 = performance.now();
  const at = curveSteps(o.steps, o.evaluations);
  const seeds: MmdFlowSeedResult[] = [];
  for (let r = 0; r < o.seeds; r++) {
    const seed = o.seed + r;
    const s = setup(o, seed);
    const runs = {} as Record<MmdFlowArm, MmdFlowRun>;
    for (const arm of MMD_FLOW_ARMS) {
      const label = `seed ${r + 1}/${o.seeds} ${arm === "noisy" ? "with noise" : "no noise"}`;
      runs[arm] = runArm(o, s, arm, at, (done) => progress?.(label, done, o.steps));
    }
    seeds.push({
      seed,
      initial: runs.plain.validation[0],
      constantLoss: constantPredictorLoss(s),
      runs,
      log10Ratio: Math.log10(runs.plain.final / runs.noisy.final),
    });
  }
  const summary = (arm: MmdFlowArm): MmdFlowArmSummary => {
    const finals = seeds.map((x) => x.runs[arm].final);
    const { mean, se } = meanSe(finals);
    const curve = (key: "validation" | "train") =>
      at.map((_, i) => seeds.reduce((acc, x) => acc + x.runs[arm][key][i], 0) / seeds.length);
    return {
      final: mean,
      finalSe: se,
      finalGeoMean: 10 ** (finals.reduce((a, v) => a + Math.log10(v), 0) / finals.length),
      meanValidation: curve("validation"),
      meanTrain: curve("train"),
      nearOrigin: seeds.reduce((a, x) => a + x.runs[arm].nearOrigin, 0) / seeds.length,
    };
  };
  const ratio = meanSe(seeds.map((x) => x.log10Ratio));
  return {
    options: o,
    seeds,
    arms: { plain: summary("plain"), noisy: summary("noisy") },
    log10Ratio: ratio.mean,
    log10RatioSe: ratio.se,
    noisyWins: seeds.filter((x) => x.runs.noisy.final < x.runs.plain.final).length,
    seconds: (performance.now() - t0) / 1000,
  };
}
