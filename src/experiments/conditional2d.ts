/**
 * A conditional EBM on a labelled 2-D mixture (data/labelled2d.ts): E_θ(x, y) = f_θ(x)_y + ½c|x|² with a
 * K-output MLP (energies/conditional.ts), trained jointly (−log p(x, y), per-label Jarzynski walkers) or
 * discriminatively (cross-entropy only) from the same θ₀, data and seed (objectives/conditional.ts), then
 * checked three ways against the true mixture:
 *
 *  - classification: accuracy of argmax_y p(y | x) on held-out points ± its binomial SE, against the Bayes
 *    classifier on the same points (and the Bayes accuracy E[max_y p*(y|x)] ± SE), with the paired
 *    difference ± SE (per point: model right − Bayes right), and the held-out cross-entropy of both;
 *  - class-conditional samples: per label, independent MALA chains on U_y = E(·, y) started from the
 *    confinement Gaussian; their last states give the mean and sd per coordinate (vs the component's μ_y and
 *    σ) and the fraction in label y's Voronoi cell ± binomial SE (vs the true component's fraction, by Monte
 *    Carlo on exact draws);
 *  - class priors p(y) = Z_y / Z from per-label SMC estimates of log Z_y (eval/logz.ts, annealed from the
 *    confinement Gaussian with MALA moves) ± delta-method SE, against the true weights and the training
 *    set's class frequencies; the SMC walkers' weighted fraction in the right cell is reported too. For the
 *    joint objective the training walkers' own π̂ is reported next to it. In 2-D, log Z_y is also computed
 *    by quadrature on [−8, 8]² (`gridN`), which checks the SMC error bars.
 * MALA chains from the broad start can be caught in shallow spurious basins of U_y that hold no mass (seen
 * at σ = 0.25: 2% of chains outside the cell while the SMC walkers put all their weight inside): when the
 * two in-cell fractions disagree, trust the SMC one or run the chains longer.
 */
import { ConditionalMlp, labelledRows } from "../energies/conditional.ts";
import type { MlpActivation } from "../energies/mlp.ts";
import { type LabelledMixture2d, labelledMixture2d, type LabelledToy2dName } from "../data/labelled2d.ts";
import type { Energy } from "../energies/contract.ts";
import { gridEvaluate } from "../eval/grid.ts";
import { smcLogZ } from "../eval/logz.ts";
import { modeMassesWalkers, nearestCentre } from "../eval/masses.ts";
import {
  conditionalCrossEntropy,
  conditionalJarzynski,
  type ConditionalJarzynskiState,
  priorsFromLogZ,
} from "../objectives/conditional.ts";
import type { Objective } from "../objectives/objective.ts";
import { foldIn, type Key, keyFromSeed, normal, split } from "../random/key.ts";
import { mala } from "../samplers/mala.ts";
import { adam, cosineDecay } from "../train/optim.ts";
import { train } from "../train/trainer.ts";

export const CONDITIONAL2D_METHODS = ["joint", "discriminative"] as const;
export type Conditional2dMethod = (typeof CONDITIONAL2D_METHODS)[number];

export interface Conditional2dOptions {
  dataset: LabelledToy2dName;
  /** Component standard deviation (default: the set's own); larger values make the classes overlap. */
  sigma?: number;
  method: Conditional2dMethod;
  trainSize: number;
  testSize: number;
  hidden: number[];
  activation: MlpActivation;
  confinement: number;
  iters: number;
  batch: number;
  /** Adam's learning rate, decayed to a tenth by a cosine. */
  lr: number;
  /** Joint: walkers per label, their ULA step and resampling threshold. */
  walkers: number;
  step: number;
  resample: number;
  /** Joint: walkers per label of the decoupled estimator populations that give π̂ (0: none). */
  estimatorWalkers: number;
  seed: number;
  /** Class-conditional sampling: independent MALA chains per label, steps, step size. */
  chains: number;
  sampleSteps: number;
  sampleStep: number;
  /** log Z_y by SMC: walkers, temperatures, MALA step, moves per temperature. */
  logZChains: number;
  logZTemperatures: number;
  logZStep: number;
  logZMoves: number;
  /** Cells per axis of the quadrature check of log Z_y on [−8, 8]² (0: none). */
  gridN: number;
}

export const CONDITIONAL2D_DEFAULTS: Conditional2dOptions = {
  dataset: "mog4-unequal",
  method: "joint",
  trainSize: 4000,
  testSize: 4000,
  hidden: [16, 16],
  activation: "silu",
  confinement: 0.25,
  iters: 1000,
  batch: 256,
  lr: 3e-3,
  walkers: 256,
  step: 0.01,
  resample: 0.5,
  estimatorWalkers: 0,
  seed: 0,
  chains: 400,
  sampleSteps: 400,
  sampleStep: 0.02,
  logZChains: 1000,
  logZTemperatures: 100,
  logZStep: 0.02,
  logZMoves: 2,
  gridN: 200,
};

export interface Estimate {
  value: number;
  se: number;
}

export interface ClassReport {
  label: number;
  /** True p(y), the training set's frequency of y and its binomial SE. */
  weight: number;
  trainFrequency: number;
  trainFrequencySe: number;
  /** log Z_y by SMC and the prior Z_y/Z it gives (± SE). */
  logZ: Estimate;
  prior: Estimate;
  /**
   * log Z_y and the prior by quadrature on [−8, 8]² (SE: the quadrature error indicator), and the mass in
   * the window's outer ring of cells (large: the window cuts p(x | y) and the quadrature is too low); NaN
   * without.
   */
  gridLogZ: Estimate;
  gridPrior: Estimate;
  gridEdgeMass: number;
  /** The π̂_y the joint objective's gradient used at the end (from its walkers; NaN otherwise). */
  walkersPrior: Estimate;
  /** MALA samples of p(x | y): mean and sd per coordinate (mean ± sd/√n), and the truth. */
  mean: Estimate[];
  sd: number[];
  trueMean: number[];
  trueSd: number;
  /** Fraction of the MALA samples in y's Voronoi cell ± binomial SE, and the true component's (Monte Carlo). */
  inCell: Estimate;
  trueInCell: Estimate;
  /** The SMC walkers' weighted fraction in y's cell ± Lee–Whiteley SE, and their final ESS. */
  smcInCell: Estimate;
  smcEss: number;
  /** Mean MALA acceptance over the sampling run. */
  acceptance: number;
}

export interface Conditional2dResult {
  options: Conditional2dOptions;
  classes: number;
  /** The trained network (E(x, y), p(y | x), the class and marginal energies). */
  network: ConditionalMlp;
  /** Held-out accuracy of θ₀, before training ± binomial SE. */
  initialAccuracy: Estimate;
  /** Held-out accuracy of the model ± binomial SE. */
  accuracy: Estimate;
  /** The Bayes classifier's accuracy on the same points ± binomial SE. */
  bayesAccuracy: Estimate;
  /** E[max_y p*(y|x)] estimated on the held-out points ± SE (the Bayes accuracy itself). */
  bayesExpected: Estimate;
  /** Model accuracy − Bayes accuracy on the same points ± paired SE. */
  pairedDifference: Estimate;
  /** Held-out mean −log p(y|x) of the model and of the true posterior, ± SE. */
  crossEntropy: Estimate;
  bayesCrossEntropy: Estimate;
  perClass: ClassReport[];
  /** Training time and evaluation time in seconds. */
  trainSeconds: number;
  evalSeconds: number;
  /** Final training loss (cross-entropy of the last batch) and, joint, the smallest ESS of the walkers. */
  finalLoss: number;
  finalEss: number;
}

function meanSe(values: ArrayLike<number>): Estimate {
  const n = values.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += values[i];
  m /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (values[i] - m) ** 2;
  return { value: m, se: Math.sqrt(v / (n - 1) / n) };
}

function binomial(k: number, n: number): Estimate {
  const p = k / n;
  return { value: p, se: Math.sqrt((p * (1 - p)) / n) };
}

type Classification = Pick<
  Conditional2dResult,
  "accuracy" | "bayesAccuracy" | "bayesExpected" | "pairedDifference" | "crossEntropy" | "bayesCrossEntropy"
>;

/** Held-out classification of the model, paired point by point with the Bayes classifier. */
function classify(
  net: ConditionalMlp,
  set: LabelledMixture2d,
  x: Float64Array,
  labels: Int32Array,
): Classification {
  const n = labels.length;
  const K = set.classes;
  const pred = net.predict(x, n);
  const probs = new Float64Array(n * K);
  net.classProbabilities(x, n, probs);
  const post = set.posterior(x, n);
  let right = 0;
  let bayesRight = 0;
  const diff = new Float64Array(n);
  const maxPost = new Float64Array(n);
  const ce = new Float64Array(n);
  const bayesCe = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    let b = 0;
    for (let k = 1; k < K; k++) if (post[i * K + k] > post[i * K + b]) b = k;
    const r = pred[i] === y ? 1 : 0;
    const rb = b === y ? 1 : 0;
    right += r;
    bayesRight += rb;
    diff[i] = r - rb;
    maxPost[i] = post[i * K + b];
    ce[i] = -Math.log(probs[i * K + y]);
    bayesCe[i] = -Math.log(post[i * K + y]);
  }
  return {
    accuracy: binomial(right, n),
    bayesAccuracy: binomial(bayesRight, n),
    // The Bayes classifier is right at x with probability max_y p*(y|x): its mean is the Bayes accuracy.
    bayesExpected: meanSe(maxPost),
    pairedDifference: meanSe(diff),
    crossEntropy: meanSe(ce),
    bayesCrossEntropy: meanSe(bayesCe),
  };
}

/** Independent MALA chains on U_y from the confinement Gaussian: their last states, and the mean acceptance. */
function malaSamples(
  energy: Energy,
  o: Conditional2dOptions,
  key: Key,
): { x: Float64Array; acceptance: number } {
  const m = o.chains;
  const d = energy.dim;
  const [kStart, kSteps] = split(key, 2);
  const start = normal(kStart, new Float64Array(m * d));
  for (let j = 0; j < m * d; j++) start[j] /= Math.sqrt(o.confinement);
  const kernel = mala(energy);
  const state = kernel.init(start, m);
  let acc = 0;
  for (let t = 0; t < o.sampleSteps; t++) {
    const info = kernel.step(foldIn(kSteps, t), state, { step: o.sampleStep });
    for (let i = 0; i < m; i++) acc += info.acceptProb[i];
  }
  return { x: state.position, acceptance: acc / (m * o.sampleSteps) };
}

export function runConditional2d(partial: Partial<Conditional2dOptions> = {}): Conditional2dResult {
  const o: Conditional2dOptions = { ...CONDITIONAL2D_DEFAULTS, ...partial };
  const set = labelledMixture2d(o.dataset, { sigma: o.sigma });
  const K = set.classes;
  const d = 2;
  const root = keyFromSeed(o.seed);
  const trainSet = set.sample(foldIn(root, 1), o.trainSize);
  const testSet = set.sample(foldIn(root, 2), o.testSize);
  const net = ConditionalMlp.create(
    { inputDim: d, classes: K, hidden: o.hidden, activation: o.activation, confinement: o.confinement },
    foldIn(root, 3),
  );
  const initialAccuracy = classify(net, set, testSet.x, testSet.labels).accuracy;
  const joint =
    o.method === "joint"
      ? conditionalJarzynski({
          walkers: o.walkers,
          step: o.step,
          resample: o.resample,
          estimatorWalkers: o.estimatorWalkers,
        })
      : undefined;
  const objective = (joint ?? conditionalCrossEntropy()) as Objective<unknown>;

  const t0 = performance.now();
  const result = train({
    model: net.labelledEnergy(),
    objective,
    optimizer: adam(cosineDecay(o.lr, o.iters, 0.1)),
    data: { x: labelledRows(trainSet.x, trainSet.labels, o.trainSize, d), n: o.trainSize },
    batchSize: o.batch,
    iterations: o.iters,
    key: foldIn(root, 4),
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const walkerDiag = joint ? joint.diagnostics(result.state as ConditionalJarzynskiState) : undefined;
  const classification = classify(net, set, testSet.x, testSet.labels);

  // What a sample of component y should give: its fraction in y's cell, by Monte Carlo on exact draws.
  const nTruth = 200000;
  const truth = set.sample(foldIn(root, 5), nTruth);
  const truthCells = nearestCentre(truth.x, nTruth, d, set.centres);
  const centres = Array.from({ length: K }, (_, k) => set.centres.subarray(2 * k, 2 * k + 2));
  const logZ = new Float64Array(K);
  const logZSe = new Float64Array(K);
  const gridLogZ = new Float64Array(K).fill(Number.NaN);
  const gridErr = new Float64Array(K).fill(Number.NaN);
  const gridEdge = new Float64Array(K).fill(Number.NaN);
  const reports: Omit<ClassReport, "prior" | "walkersPrior" | "gridLogZ" | "gridPrior" | "gridEdgeMass">[] =
    [];
  for (let y = 0; y < K; y++) {
    const energy = net.classEnergy(y);
    const smc = smcLogZ(energy, foldIn(foldIn(root, 6), y), {
      base: { std: 1 / Math.sqrt(o.confinement) },
      temperatures: o.logZTemperatures,
      chains: o.logZChains,
      step: o.logZStep,
      movesPerTemperature: o.logZMoves,
      kernel: "mala",
      resample: 0.5,
    });
    logZ[y] = smc.logZ;
    logZSe[y] = smc.se;
    if (o.gridN > 0) {
      const g = gridEvaluate(energy, { xmin: -8, xmax: 8, ymin: -8, ymax: 8, n: o.gridN });
      gridLogZ[y] = g.logZ;
      gridErr[y] = g.logZError;
      gridEdge[y] = g.edgeMass;
    }
    const smcCells = modeMassesWalkers(smc.walkers, centres);

    const m = o.chains;
    const samples = malaSamples(energy, o, foldIn(foldIn(root, 7), y));
    const cells = nearestCentre(samples.x, m, d, set.centres);
    let inCell = 0;
    for (let i = 0; i < m; i++) inCell += cells[i] === y ? 1 : 0;
    const mean: Estimate[] = [];
    const sd: number[] = [];
    for (let a = 0; a < d; a++) {
      const e = meanSe(Float64Array.from({ length: m }, (_, i) => samples.x[i * d + a]));
      mean.push(e);
      sd.push(e.se * Math.sqrt(m));
    }
    let compN = 0;
    let compIn = 0;
    let trainN = 0;
    for (let i = 0; i < nTruth; i++)
      if (truth.labels[i] === y) {
        compN++;
        compIn += truthCells[i] === y ? 1 : 0;
      }
    for (let i = 0; i < o.trainSize; i++) trainN += trainSet.labels[i] === y ? 1 : 0;
    const w = set.weights[y];
    reports.push({
      label: y,
      weight: w,
      trainFrequency: trainN / o.trainSize,
      trainFrequencySe: Math.sqrt((w * (1 - w)) / o.trainSize),
      logZ: { value: smc.logZ, se: smc.se },
      mean,
      sd,
      trueMean: [set.centres[2 * y], set.centres[2 * y + 1]],
      trueSd: set.sigma,
      inCell: binomial(inCell, m),
      trueInCell: binomial(compIn, compN),
      smcInCell: { value: smcCells.masses[y], se: smcCells.se[y] },
      smcEss: smc.ess,
      acceptance: samples.acceptance,
    });
  }
  const priors = priorsFromLogZ(logZ, logZSe);
  const gridPriors = priorsFromLogZ(gridLogZ, gridErr);
  const perClass: ClassReport[] = reports.map((p, y) => ({
    ...p,
    prior: { value: priors.priors[y], se: priors.se[y] },
    gridLogZ: { value: gridLogZ[y], se: gridErr[y] },
    gridPrior: { value: gridPriors.priors[y], se: gridPriors.se[y] },
    gridEdgeMass: gridEdge[y],
    walkersPrior: walkerDiag
      ? { value: walkerDiag.priors[y], se: walkerDiag.priorsSe[y] }
      : { value: Number.NaN, se: Number.NaN },
  }));
  return {
    options: o,
    classes: K,
    network: net,
    initialAccuracy,
    ...classification,
    perClass,
    trainSeconds,
    evalSeconds: (performance.now() - t1) / 1000,
    finalLoss: (result.state as { loss: number }).loss,
    finalEss: walkerDiag ? walkerDiag.ess : Number.NaN,
  };
}
