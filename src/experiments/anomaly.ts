/**
 * Energies without Z as anomaly scores (seed 001's ratio trick): an RBM trained on the digits of some
 * classes scores every test digit by its free energy F(v); since log p(v) = −F(v) − log Z with one Z for
 * all v, ranking by F needs no partition function. The digits of the other classes are the anomalies.
 *
 * Reported per held-out class and pooled: ROC-AUC of F (normal test digits vs that class's test digits)
 * with its Hanley–McNeil SE (eval/roc.ts), against a baseline that also needs no Z — the negative
 * log-likelihood under independent pixels fitted to the same training digits (each pixel's frequency with
 * add-one smoothing). The RBM sees pixel correlations (strokes), the baseline does not.
 *
 * Digits are binarised at the fixed threshold 0.5; the split is the caller's (its description goes into
 * every report). Training: CD-k or PCD-k (rbm-cd.ts) through the library's trainer with Adam, visible
 * biases started at the log-odds of the training pixel frequencies (Hinton 2010, "A practical guide").
 */
import { binarize, DIGIT_PIXELS, type DigitSplit, selectDigits } from "../data/digits.ts";
import { Rbm } from "../energies/rbm.ts";
import { type RocAuc, rocAuc, rocCurve } from "../eval/roc.ts";
import { rbmContrastiveDivergence } from "../objectives/rbm-cd.ts";
import { foldIn, keyFromSeed } from "../random/key.ts";
import { adam } from "../train/optim.ts";
import { trainer } from "../train/trainer.ts";

export interface AnomalyOptions {
  /** Digit classes the model is trained on; the others are the anomalies. */
  normalClasses: number[];
  hidden: number;
  epochs: number;
  batch: number;
  lr: number;
  /** Gibbs sweeps per update. */
  k: number;
  method: "cd" | "pcd";
  /** PCD's persistent chains. */
  chains: number;
  seed: number;
}

export const ANOMALY_DEFAULTS: AnomalyOptions = {
  normalClasses: [0, 1, 2, 3, 4],
  hidden: 100,
  epochs: 20,
  batch: 100,
  lr: 3e-3,
  k: 1,
  method: "pcd",
  chains: 100,
  seed: 0,
};

/** `--quick`: a small RBM and two epochs. */
export const ANOMALY_QUICK: Partial<AnomalyOptions> = { hidden: 50, epochs: 4 };

export interface ClassAuc {
  digit: number;
  /** Test digits of this class. */
  n: number;
  rbm: RocAuc;
  baseline: RocAuc;
}

export interface AnomalyResult {
  options: AnomalyOptions;
  split: string;
  trainDigits: number;
  normalTest: number;
  anomalyTest: number;
  iterations: number;
  seconds: number;
  perClass: ClassAuc[];
  pooled: { rbm: RocAuc; baseline: RocAuc };
  /** ROC curves of the pooled comparison (at most ~200 points each). */
  curves: { rbm: { fpr: number; tpr: number }[]; baseline: { fpr: number; tpr: number }[] };
  /** Mean free energy of the normal and anomalous test digits (nats, up to the common log Z). */
  meanFreeEnergy: { normal: number; anomalous: number };
  /** The trained RBM's weights (784 × hidden, row-major), for filter images. */
  weights: Float32Array;
}

export function validateAnomalyOptions(o: AnomalyOptions): void {
  const int = (name: string, v: number, min: number) => {
    if (!(Number.isSafeInteger(v) && v >= min))
      throw new RangeError(`${name} must be an integer ≥ ${min}, got ${v}`);
  };
  int("hidden", o.hidden, 1);
  int("epochs", o.epochs, 1);
  int("batch", o.batch, 1);
  int("k", o.k, 1);
  int("chains", o.chains, 1);
  if (!(o.lr > 0 && Number.isFinite(o.lr))) throw new RangeError(`lr must be positive, got ${o.lr}`);
  if (o.method !== "cd" && o.method !== "pcd")
    throw new RangeError(`method must be cd or pcd, got ${o.method}`);
  const set = new Set(o.normalClasses);
  if (set.size !== o.normalClasses.length || set.size < 1 || set.size > 9)
    throw new RangeError("normal classes must be 1 to 9 distinct digits");
  for (const c of set)
    if (!(Number.isInteger(c) && c >= 0 && c <= 9))
      throw new RangeError(`normal class ${c} is not a digit 0–9`);
}

/** Thins a ROC curve to about `max` points (keeping both ends) for plotting. */
function thin<T>(v: T[], max: number): T[] {
  if (v.length <= max) return v;
  const step = (v.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => v[Math.round(i * step)]);
}

/** Independent-pixel negative log-likelihoods, fitted (add-one) to `train` (n × 784 bits). */
function independentPixelScores(train: Uint8Array, n: number, test: Uint8Array, m: number): Float64Array {
  const logP = new Float64Array(DIGIT_PIXELS);
  const logQ = new Float64Array(DIGIT_PIXELS);
  for (let i = 0; i < DIGIT_PIXELS; i++) {
    let c = 0;
    for (let s = 0; s < n; s++) c += train[s * DIGIT_PIXELS + i];
    const p = (c + 1) / (n + 2);
    logP[i] = Math.log(p);
    logQ[i] = Math.log1p(-p);
  }
  const out = new Float64Array(m);
  for (let s = 0; s < m; s++) {
    let ll = 0;
    for (let i = 0; i < DIGIT_PIXELS; i++) ll += test[s * DIGIT_PIXELS + i] ? logP[i] : logQ[i];
    out[s] = -ll;
  }
  return out;
}

export function runAnomalyExperiment(
  split: DigitSplit,
  opts: Partial<AnomalyOptions> = {},
  progress?: (done: number, total: number) => void,
): AnomalyResult {
  const o: AnomalyOptions = { ...ANOMALY_DEFAULTS, ...opts };
  validateAnomalyOptions(o);
  const normal = new Set(o.normalClasses);
  const train = selectDigits(split.train, normal);
  const trainBits = binarize(train.images);
  const testBits = binarize(split.test.images);
  const n = train.n;
  if (n < 2) throw new RangeError("fewer than two training digits of the normal classes");

  // Visible biases at the training pixels' log-odds (add-one), weights small and random.
  const root = keyFromSeed(o.seed);
  const init = Rbm.random(foldIn(root, 1), DIGIT_PIXELS, o.hidden, 0.01, 0);
  const b = new Float64Array(DIGIT_PIXELS);
  for (let i = 0; i < DIGIT_PIXELS; i++) {
    let c = 0;
    for (let s = 0; s < n; s++) c += trainBits[s * DIGIT_PIXELS + i];
    const p = (c + 1) / (n + 2);
    b[i] = Math.log(p / (1 - p));
  }
  const model = new Rbm(init.W, b, init.c);

  const iterations = Math.max(1, Math.round((o.epochs * n) / o.batch));
  const objective = rbmContrastiveDivergence({
    k: o.k,
    persistentChains: o.method === "pcd" ? o.chains : undefined,
  });
  const t = trainer({
    model,
    objective,
    optimizer: adam(o.lr),
    data: { x: Float64Array.from(trainBits), n },
    batchSize: o.batch,
  });
  const t0 = performance.now();
  const state = t.init(foldIn(root, 2));
  const loop = foldIn(root, 3);
  for (let it = 0; it < iterations; it++) {
    t.step(foldIn(loop, it), state);
    progress?.(it + 1, iterations);
  }
  const seconds = (performance.now() - t0) / 1000;

  const m = split.test.n;
  const free = new Float64Array(m);
  model.energy(Float64Array.from(testBits), m, free);
  for (let s = 0; s < m; s++)
    if (!Number.isFinite(free[s])) throw new RangeError(`the free energy of test digit ${s} is not finite`);
  const base = independentPixelScores(trainBits, n, testBits, m);

  const pick = (scores: Float64Array, rows: number[]) => Float64Array.from(rows, (r) => scores[r]);
  const normalRows: number[] = [];
  const anomalyRows: number[] = [];
  for (let s = 0; s < m; s++) (normal.has(split.test.labels[s]) ? normalRows : anomalyRows).push(s);
  const perClass: ClassAuc[] = [];
  for (let digit = 0; digit <= 9; digit++) {
    if (normal.has(digit)) continue;
    const rows = anomalyRows.filter((r) => split.test.labels[r] === digit);
    if (rows.length === 0) continue;
    perClass.push({
      digit,
      n: rows.length,
      rbm: rocAuc(pick(free, normalRows), pick(free, rows)),
      baseline: rocAuc(pick(base, normalRows), pick(base, rows)),
    });
  }
  const mean = (v: Float64Array) => v.reduce((a, x) => a + x, 0) / v.length;
  return {
    options: o,
    split: split.description,
    trainDigits: n,
    normalTest: normalRows.length,
    anomalyTest: anomalyRows.length,
    iterations,
    seconds,
    perClass,
    pooled: {
      rbm: rocAuc(pick(free, normalRows), pick(free, anomalyRows)),
      baseline: rocAuc(pick(base, normalRows), pick(base, anomalyRows)),
    },
    curves: {
      rbm: thin(rocCurve(pick(free, normalRows), pick(free, anomalyRows)), 200),
      baseline: thin(rocCurve(pick(base, normalRows), pick(base, anomalyRows)), 200),
    },
    meanFreeEnergy: { normal: mean(pick(free, normalRows)), anomalous: mean(pick(free, anomalyRows)) },
    weights: Float32Array.from(model.W),
  };
}
