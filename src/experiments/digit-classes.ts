/**
 * A conditional EBM on the digit classes: the classification RBM (energies/class-rbm.ts; Larochelle &
 * Bengio 2008) trained on binarised digits with the hybrid objective −log p(y|v) + α·(−log p(v, y))
 * (objectives/class-rbm.ts) through the library's trainer with Adam, then measured on the held-out digits:
 *
 *  - test accuracy of argmax_y p(y | v) (exact over the 10 labels) ± its binomial SE, the test
 *    cross-entropy ± SE, the confusion matrix and each digit's recall;
 *  - the same for the baseline any user would try first: multinomial logistic regression on the same
 *    pixels, p(y | v) = softmax(d + Aᵀv), trained by the same optimiser, learning rate, minibatches
 *    (the same draws) and number of updates; and the paired difference of the two accuracies ± SE
 *    (per test digit: RBM right − baseline right);
 *  - class-conditional samples: for each digit y, independent block-Gibbs chains of p(v, h | y) started
 *    from the blank image v = 0 (so the first hiddens, h ~ σ(c + U_y), see only the label); the picture
 *    shows p(v | h) of the last sweep, and both classifiers say which digit they see in the last binary
 *    states (the fraction equal to y ± binomial SE). The same is measured for chains started from pixel
 *    noise v ~ Bern(σ(b)): chains that have mixed give the same fractions from both starts. They often do
 *    not: a CD-1-trained RBM has deep basins (most noise starts fall into a "0"), and short chains report
 *    their start as much as p(v | y).
 *
 * The split is the caller's (its description goes into every report). Digits are binarised at 0.5; the
 * visible biases start at the log-odds of the training pixels (they matter only for the generative part),
 * W and U at N(0, weightStd²).
 */
import { binarize, DIGIT_CLASSES, DIGIT_PIXELS, type DigitSplit } from "../data/digits.ts";
import { ClassRbm, classRbmRows } from "../energies/class-rbm.ts";
import type { TrainableEnergy } from "../energies/contract.ts";
import { classRbmHybrid } from "../objectives/class-rbm.ts";
import type { Objective } from "../objectives/objective.ts";
import { foldIn, type Key, keyFromSeed, split as splitKey, Stream } from "../random/key.ts";
import { adam } from "../train/optim.ts";
import { trainer } from "../train/trainer.ts";

export interface DigitClassesOptions {
  hidden: number;
  epochs: number;
  batch: number;
  /** Adam's learning rate (both models). */
  lr: number;
  /** Weight α of −log p(v, y); 0 is the purely discriminative RBM. */
  alpha: number;
  /** Gibbs sweeps of the generative term's negative chains per update. */
  k: number;
  method: "cd" | "pcd";
  /** PCD's persistent chains. */
  chains: number;
  /** Standard deviation of the initial W and U. */
  weightStd: number;
  /** Class-conditional sample chains per digit and their Gibbs sweeps. */
  samplesPerClass: number;
  sampleSweeps: number;
  seed: number;
}

export const DIGIT_CLASSES_DEFAULTS: DigitClassesOptions = {
  hidden: 500,
  epochs: 10,
  batch: 100,
  lr: 1e-2,
  alpha: 0.01,
  k: 1,
  method: "cd",
  chains: 100,
  weightStd: 0.05,
  samplesPerClass: 10,
  sampleSweeps: 300,
  seed: 0,
};

/** `--quick`: a small RBM, two epochs, short sample chains. */
export const DIGIT_CLASSES_QUICK: Partial<DigitClassesOptions> = { hidden: 50, epochs: 2, sampleSweeps: 100 };

/** A value ± its standard error. */
type Estimate = { value: number; se: number };

export interface ClassifierReport {
  /** Test accuracy ± binomial SE. */
  accuracy: Estimate;
  /** Mean test −log p(y | v) ± SE. */
  crossEntropy: Estimate;
  /** confusion[true][predicted], counts over the test digits. */
  confusion: number[][];
  /** Per digit: its test digits and the fraction classified correctly ± binomial SE. */
  recall: { digit: number; n: number; recall: Estimate }[];
  /** Training seconds. */
  seconds: number;
}

export interface DigitClassesResult {
  options: DigitClassesOptions;
  split: string;
  trainDigits: number;
  testDigits: number;
  /** Updates of each model (epochs · train digits / batch). */
  iterations: number;
  rbm: ClassifierReport;
  baseline: ClassifierReport;
  /** RBM accuracy − baseline accuracy on the same test digits ± paired SE. */
  difference: Estimate;
  samples: {
    /** (10 · samplesPerClass) × 784 values p(v | h) of the last sweep, digit-major (row y = digit y). */
    means: Float64Array;
    /** The last binary states, same layout. */
    bits: Uint8Array;
    /** Fraction of the samples of digit y that each classifier assigns to y ± binomial SE. */
    agreementRbm: Estimate;
    agreementBaseline: Estimate;
    /**
     * The same fractions for chains started from pixel noise v ~ Bern(σ(b)) instead of the blank image:
     * chains that have forgotten their start agree with the blank-start ones within the SEs.
     */
    noiseStart: { agreementRbm: Estimate; agreementBaseline: Estimate };
    seconds: number;
  };
}

export function validateDigitClassesOptions(o: DigitClassesOptions): void {
  const int = (name: string, v: number, min: number) => {
    if (!(Number.isSafeInteger(v) && v >= min))
      throw new RangeError(`${name} must be an integer ≥ ${min}, got ${v}`);
  };
  int("hidden", o.hidden, 1);
  int("epochs", o.epochs, 1);
  int("batch", o.batch, 1);
  int("k", o.k, 1);
  int("chains", o.chains, 1);
  int("samples-per-class", o.samplesPerClass, 1);
  int("sample-sweeps", o.sampleSweeps, 1);
  if (!(o.lr > 0 && Number.isFinite(o.lr))) throw new RangeError(`lr must be positive, got ${o.lr}`);
  if (!(o.alpha >= 0 && Number.isFinite(o.alpha)))
    throw new RangeError(`alpha must be a finite number ≥ 0, got ${o.alpha}`);
  if (!(o.weightStd > 0 && Number.isFinite(o.weightStd)))
    throw new RangeError(`weight-std must be positive, got ${o.weightStd}`);
  if (o.method !== "cd" && o.method !== "pcd")
    throw new RangeError(`method must be cd or pcd, got ${o.method}`);
}

function binomial(k: number, n: number): Estimate {
  const p = n > 0 ? k / n : Number.NaN;
  return { value: p, se: Math.sqrt((p * (1 - p)) / n) };
}

function meanSe(x: ArrayLike<number>): Estimate {
  const n = x.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += x[i];
  m /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[i] - m) ** 2;
  return { value: m, se: Math.sqrt(v / (n - 1) / n) };
}

/**
 * Multinomial logistic regression as an energy over labelled rows [v, y]: E(v, y) = −(d_y + Σ_i v_i A_iy),
 * θ = [A (V × K, row-major) | d (K)], started at zero (the loss is convex).
 */
class SoftmaxRegression implements TrainableEnergy {
  readonly dim: number;
  readonly numParams: number;
  readonly theta: Float64Array;
  private readonly z: Float64Array;
  constructor(
    readonly visible: number,
    readonly classes: number,
  ) {
    this.dim = visible + 1;
    this.numParams = visible * classes + classes;
    this.theta = new Float64Array(this.numParams);
    this.z = new Float64Array(classes);
  }
  getParams(): Float64Array {
    return Float64Array.from(this.theta);
  }
  setParams(theta: Float64Array): void {
    this.theta.set(theta);
  }
  /** Logits d + Aᵀv of the row at x[off …] into this.z. */
  logits(x: ArrayLike<number>, off: number): Float64Array {
    const K = this.classes;
    const z = this.z;
    const od = this.visible * K;
    for (let y = 0; y < K; y++) z[y] = this.theta[od + y];
    for (let i = 0; i < this.visible; i++) {
      const xi = x[off + i];
      if (xi === 0) continue;
      for (let y = 0; y < K; y++) z[y] += xi * this.theta[i * K + y];
    }
    return z;
  }
  energy(x: Float64Array, n: number, u: Float64Array): void {
    for (let s = 0; s < n; s++) u[s] = -this.logits(x, s * this.dim)[x[s * this.dim + this.visible]];
  }
  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    const K = this.classes;
    for (let s = 0; s < n; s++) {
      const y = x[s * this.dim + this.visible];
      u[s] = -this.logits(x, s * this.dim)[y];
      for (let i = 0; i < this.visible; i++) grad[s * this.dim + i] = -this.theta[i * K + y];
      grad[s * this.dim + this.visible] = 0;
    }
  }
  paramGrad(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): void {
    const coef = new Float64Array(n * this.classes);
    for (let s = 0; s < n; s++) coef[s * this.classes + x[s * this.dim + this.visible]] = weights[s];
    this.vjp(x, n, coef, out);
  }
  /** out = Σ_s Σ_y coef_sy ∂θE(v_s, y) (∂E/∂A_iy = −v_i, ∂E/∂d_y = −1). */
  vjp(x: Float64Array, n: number, coef: Float64Array, out: Float64Array): void {
    const K = this.classes;
    const od = this.visible * K;
    out.fill(0);
    for (let s = 0; s < n; s++) {
      const off = s * this.dim;
      for (let y = 0; y < K; y++) out[od + y] -= coef[s * K + y];
      for (let i = 0; i < this.visible; i++) {
        const xi = x[off + i];
        if (xi === 0) continue;
        for (let y = 0; y < K; y++) out[i * K + y] -= xi * coef[s * K + y];
      }
    }
  }
  /** p(y | v) of the row at x[off …] into p (K). */
  probabilities(x: ArrayLike<number>, off: number, p: Float64Array): void {
    const z = this.logits(x, off);
    let m = Number.NEGATIVE_INFINITY;
    for (let y = 0; y < this.classes; y++) m = Math.max(m, z[y]);
    let s = 0;
    for (let y = 0; y < this.classes; y++) s += p[y] = Math.exp(z[y] - m);
    for (let y = 0; y < this.classes; y++) p[y] /= s;
  }
}

/** Mean cross-entropy of softmax regression, exact gradient (cotangent (p − one-hot)/n on the energies). */
function softmaxCrossEntropy(): Objective<{ loss: number }> {
  return {
    name: "softmax_cross_entropy",
    init: () => ({ loss: Number.NaN }),
    gradient(_key, state, model, batch, grad) {
      const m = model as SoftmaxRegression;
      const K = m.classes;
      const n = batch.n;
      const p = new Float64Array(K);
      const coef = new Float64Array(n * K);
      let loss = 0;
      for (let s = 0; s < n; s++) {
        const y = batch.x[s * m.dim + m.visible];
        m.probabilities(batch.x, s * m.dim, p);
        loss -= Math.log(p[y]);
        // ∂(−log p(y|v))/∂θ = ∂E(v, y) − Σ_y' p(y')∂E(v, y').
        for (let c = 0; c < K; c++) coef[s * K + c] = ((c === y ? 1 : 0) - p[c]) / n;
      }
      m.vjp(batch.x, n, coef, grad);
      state.loss = loss / n;
    },
    afterUpdate() {},
    diagnostics: (s) => ({ loss: s.loss }),
  };
}

/** Accuracy, cross-entropy, confusion and recall from test probabilities (n × K) and labels. */
function report(
  probs: Float64Array,
  labels: Uint8Array,
  seconds: number,
): ClassifierReport & { right: Uint8Array } {
  const K = DIGIT_CLASSES;
  const n = labels.length;
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  const right = new Uint8Array(n);
  const ce = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    let best = 0;
    for (let y = 1; y < K; y++) if (probs[s * K + y] > probs[s * K + best]) best = y;
    confusion[labels[s]][best]++;
    right[s] = best === labels[s] ? 1 : 0;
    ce[s] = -Math.log(probs[s * K + labels[s]]);
  }
  let total = 0;
  for (let s = 0; s < n; s++) total += right[s];
  const recall = confusion.map((row, digit) => {
    const m = row.reduce((a, b) => a + b, 0);
    return { digit, n: m, recall: binomial(row[digit], m) };
  });
  return { accuracy: binomial(total, n), crossEntropy: meanSe(ce), confusion, recall, seconds, right };
}

/** The fraction of rows s whose `classify(s)` equals labels[s] ± binomial SE. */
function agreement(labels: Int32Array, classify: (s: number) => number): Estimate {
  let k = 0;
  for (let s = 0; s < labels.length; s++) if (classify(s) === labels[s]) k++;
  return binomial(k, labels.length);
}

function argmax(p: Float64Array): number {
  let best = 0;
  for (let y = 1; y < p.length; y++) if (p[y] > p[best]) best = y;
  return best;
}

/** Runs `iterations` trainer steps with the loop key's per-iteration keys (the same minibatches for every model). */
function runTrainer<S>(
  model: TrainableEnergy,
  objective: Objective<S>,
  rows: Float64Array,
  n: number,
  o: DigitClassesOptions,
  iterations: number,
  initKey: Key,
  loopKey: Key,
  progress?: (done: number, total: number) => void,
): number {
  const t = trainer({ model, objective, optimizer: adam(o.lr), data: { x: rows, n }, batchSize: o.batch });
  const t0 = performance.now();
  const state = t.init(initKey);
  for (let it = 0; it < iterations; it++) {
    t.step(foldIn(loopKey, it), state);
    progress?.(it + 1, iterations);
  }
  return (performance.now() - t0) / 1000;
}

/**
 * `samplesPerClass` independent chains of p(v, h | y) per digit (chain r of digit y is row y·per + r),
 * pixel i started on with probability start(i), `sampleSweeps` block-Gibbs sweeps run in up to 20 blocks
 * (each with its own key) so that progress can be shown.
 */
function classConditionalChains(
  rbm: ClassRbm,
  o: DigitClassesOptions,
  key: Key,
  start: (i: number) => number,
  progress: (done: number) => void,
): { means: Float64Array; bits: Uint8Array; labels: Int32Array } {
  const V = rbm.visible;
  const per = o.samplesPerClass;
  const total = rbm.classes * per;
  const chains = { v: new Uint8Array(total * V), h: new Uint8Array(total * rbm.hidden) };
  const labels = new Int32Array(total);
  const [kStart, kRun] = splitKey(key, 2);
  const rng = new Stream(kStart);
  for (let r = 0; r < total; r++) {
    labels[r] = Math.floor(r / per);
    for (let i = 0; i < V; i++) chains.v[r * V + i] = rng.uniform() < start(i) ? 1 : 0;
  }
  const means = new Float64Array(total * V);
  const blocks = Math.min(o.sampleSweeps, 20);
  let done = 0;
  for (let bI = 0; bI < blocks; bI++) {
    const sweeps = Math.round(((bI + 1) * o.sampleSweeps) / blocks) - done;
    rbm.gibbsGivenLabel(foldIn(kRun, bI), chains, labels, total, sweeps, means);
    done += sweeps;
    progress(done);
  }
  return { means, bits: chains.v, labels };
}

export function runDigitClasses(
  split: DigitSplit,
  opts: Partial<DigitClassesOptions> = {},
  progress?: (phase: string, done: number, total: number) => void,
): DigitClassesResult {
  const o: DigitClassesOptions = { ...DIGIT_CLASSES_DEFAULTS, ...opts };
  validateDigitClassesOptions(o);
  const V = DIGIT_PIXELS;
  const K = DIGIT_CLASSES;
  const n = split.train.n;
  const m = split.test.n;
  if (n < 2 || m < 1)
    throw new RangeError(`need at least two training digits and one test digit, got ${n} / ${m}`);
  const trainBits = binarize(split.train.images);
  const testBits = binarize(split.test.images);
  const rows = classRbmRows(trainBits, split.train.labels, n, V);
  const iterations = Math.max(1, Math.round((o.epochs * n) / o.batch));
  const root = keyFromSeed(o.seed);
  const loop = foldIn(root, 3);

  const rbm = ClassRbm.random(foldIn(root, 1), { visible: V, hidden: o.hidden, classes: K }, o.weightStd);
  for (let i = 0; i < V; i++) {
    let c = 0;
    for (let s = 0; s < n; s++) c += trainBits[s * V + i];
    const p = (c + 1) / (n + 2);
    rbm.b[i] = Math.log(p / (1 - p));
  }
  const objective = classRbmHybrid({
    alpha: o.alpha,
    k: o.k,
    persistentChains: o.method === "pcd" ? o.chains : undefined,
  });
  const rbmSeconds = runTrainer(
    rbm.labelled(),
    objective,
    rows,
    n,
    o,
    iterations,
    foldIn(root, 2),
    loop,
    (d, t) => progress?.("classification RBM", d, t),
  );
  const logistic = new SoftmaxRegression(V, K);
  const lrSeconds = runTrainer(
    logistic,
    softmaxCrossEntropy(),
    rows,
    n,
    o,
    iterations,
    foldIn(root, 4),
    loop,
    (d, t) => progress?.("logistic regression", d, t),
  );

  const probs = new Float64Array(m * K);
  rbm.classProbabilities(testBits, m, probs);
  const baseProbs = new Float64Array(m * K);
  const p = new Float64Array(K);
  for (let s = 0; s < m; s++) {
    logistic.probabilities(testBits, s * V, p);
    baseProbs.set(p, s * K);
  }
  const { right: rbmRight, ...rbmReport } = report(probs, split.test.labels, rbmSeconds);
  const { right: baseRight, ...baseReport } = report(baseProbs, split.test.labels, lrSeconds);
  const diff = new Float64Array(m);
  for (let s = 0; s < m; s++) diff[s] = rbmRight[s] - baseRight[s];

  // Class-conditional samples from the two starts (the blank one is shown).
  const t0 = performance.now();
  const judge = (bits: Uint8Array, labels: Int32Array) => {
    const predicted = rbm.predict(bits, labels.length);
    return {
      agreementRbm: agreement(labels, (s) => predicted[s]),
      agreementBaseline: agreement(labels, (s) => {
        logistic.probabilities(bits, s * V, p);
        return argmax(p);
      }),
    };
  };
  const steps = 2 * o.sampleSweeps;
  const blank = classConditionalChains(
    rbm,
    o,
    foldIn(root, 5),
    () => 0,
    (d) => progress?.("class-conditional samples", d, steps),
  );
  const noise = classConditionalChains(
    rbm,
    o,
    foldIn(root, 6),
    (i) => 1 / (1 + Math.exp(-rbm.b[i])),
    (d) => progress?.("class-conditional samples", o.sampleSweeps + d, steps),
  );
  const sampleSeconds = (performance.now() - t0) / 1000;
  return {
    options: o,
    split: split.description,
    trainDigits: n,
    testDigits: m,
    iterations,
    rbm: rbmReport,
    baseline: baseReport,
    difference: meanSe(diff),
    samples: {
      means: blank.means,
      bits: blank.bits,
      ...judge(blank.bits, blank.labels),
      noiseStart: judge(noise.bits, noise.labels),
      seconds: sampleSeconds,
    },
  };
}
