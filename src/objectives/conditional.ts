/**
 * Objectives for conditional energies E_θ(x, y) (energies/conditional.ts), trained on labelled rows
 * (x, y) through the model `network.labelledEnergy()`, so the trainer's minibatches carry the labels.
 *
 * Joint maximum likelihood, −log p(x, y) = −log p(y | x) − λ log p(x) at λ = 1 (Grathwohl et al. 2020):
 *   ∂θ[−log p(y|x)] = ∂θE(x, y) − Σ_y' p(y'|x) ∂θE(x, y')          (exact: a sum over K labels)
 *   ∂θ[−log p(x)]   = Σ_y' p(y'|x) ∂θE(x, y') − Σ_y π_y E_{p(x|y)}[∂θE(x, y)],   π_y = Z_y / Z,
 * averaged over the batch (at λ = 1 the data parts add up to E_data[∂θE(x, y)]). The model term comes
 * from K populations of Jarzynski-weighted walkers, one per label, each following p_θ(x | y) with the
 * objective of ./jarzynski.ts on U_y = E(·, y), and π_y from their running estimates of log Z_y. Per-class
 * walkers rather than PCD: PCD walkers carry no weights, so they give neither Z_y (which π_y, i.e. the
 * class priors the model learns, needs) nor the mass of modes they never visit; and each p(x | y) is
 * closer to unimodal than p(x), so a population per class is not asked to move mass between classes.
 *
 * The walkers start from the confinement's Gaussian N(0, I/c) with importance weights
 * e^{−(U_y(x) − ½c|x|²)} (`confinementStart`), so their running log-normaliser estimates
 * log(Z_y / (2π/c)^{d/2}) from the first iteration on; the softmax over y of these is π̂_y.
 * For the last-layer bias of output y the gradient is (batch frequency of y) − π̂_y: at a fixed point π̂
 * equals the data's class frequencies, so the model's own priors Z_y/Z are off by the walkers' Monte Carlo
 * error in π̂ (measured on mog4-unequal: ≈ 0.03 at 256 walkers per label, ≈ 0.015 at 1024; see the
 * experiment test). A decoupled estimator population removes the feedback bias, not that variance.
 *
 * `conditionalCrossEntropy` is the purely discriminative objective (λ = 0 without walkers): p(y | x) is
 * learned, the level of E(x, ·) at each x is not, so p(x | y) and p(y) are whatever the network leaves.
 */
import { ConditionalMlp, LabelledEnergy } from "../energies/conditional.ts";
import type { TrainableEnergy } from "../energies/contract.ts";
import type { ResamplingScheme } from "../math/resampling.ts";
import { portableExpFast, portableLog } from "../random/elementary.ts";
import { foldIn, type Key, normal } from "../random/key.ts";
import type { HealthWarning } from "../smc/health.ts";
import { jarzynski, type JarzynskiObjective, type JarzynskiState } from "./jarzynski.ts";
import type { Batch, Objective, ObjectiveDiagnostics } from "./objective.ts";
import type { WalkerMoveOptions } from "./walker-move.ts";
import type { WalkerInit } from "./walkers-init.ts";

/** The network behind a labelled model; throws for any other model. */
function networkOf(model: TrainableEnergy): { net: ConditionalMlp; view: LabelledEnergy } {
  if (!(model instanceof LabelledEnergy))
    throw new TypeError("conditional objectives train ConditionalMlp.labelledEnergy() (rows (x, y))");
  return { net: model.network, view: model };
}

/**
 * Walkers from the confinement Gaussian N(0, I/c) with log-weights −(U(x) − ½c|x|²): weighted samples of
 * e^{−U} for any U = g(x) + ½c|x|², whose mean weight estimates Z / (2π/c)^{d/2}.
 */
export function confinementStart(c: number): WalkerInit {
  if (!(c > 0) || !Number.isFinite(c)) throw new RangeError(`the confinement must be positive, got ${c}`);
  const s = 1 / Math.sqrt(c);
  return (key, model, n) => {
    const d = model.dim;
    const x = normal(key, new Float64Array(n * d));
    const u = new Float64Array(n);
    for (let j = 0; j < n * d; j++) x[j] *= s;
    model.energy(x, n, u);
    const logw = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let r2 = 0;
      for (let a = 0; a < d; a++) r2 += x[i * d + a] ** 2;
      logw[i] = -(u[i] - 0.5 * c * r2);
    }
    return { x, logw };
  };
}

/** log ∫ e^{−½c|x|²} dx in dimension d. */
function confinementLogZ(c: number, d: number): number {
  return 0.5 * d * portableLog((2 * Math.PI) / c);
}

/**
 * The batch's mean cross-entropy, and into `grad` the gradient of CE + λ·(data part of −log p(x)): the
 * cotangent (one-hot(y_i) − (1 − λ)p(·|x_i))/n.
 */
function dataTerm(
  net: ConditionalMlp,
  x: Float64Array,
  labels: Int32Array,
  n: number,
  lambda: number,
  grad: Float64Array,
) {
  const K = net.classes;
  let loss = 0;
  net.vjp(
    x,
    n,
    (e, start, bn, coef) => {
      for (let i = 0; i < bn; i++) {
        let m = Number.POSITIVE_INFINITY;
        for (let k = 0; k < K; k++) m = Math.min(m, e[i * K + k]);
        let s = 0;
        for (let k = 0; k < K; k++) s += coef[i * K + k] = portableExpFast(m - e[i * K + k]);
        const y = labels[start + i];
        loss += e[i * K + y] - m + portableLog(s);
        for (let k = 0; k < K; k++)
          coef[i * K + k] = ((k === y ? 1 : 0) - ((1 - lambda) * coef[i * K + k]) / s) / n;
      }
    },
    null,
    null,
    grad,
  );
  return loss / n;
}

export interface ConditionalJarzynskiOptions extends WalkerMoveOptions {
  /** Walkers per label. */
  walkers: number;
  /** Resample a population when its ESS < resample·N; default 0.5. */
  resample?: number;
  scheme?: ResamplingScheme;
  /** λ, the weight of −log p(x); default 1 (the joint −log p(x, y)). */
  generativeWeight?: number;
  /**
   * Walkers per label of a decoupled estimator population (./jarzynski.ts `estimator`); default 0. When
   * present, π̂_y comes from their log Z_y, free of the feedback between the training walkers and the
   * updates they drive; the training walkers still give the samples of the model term.
   */
  estimatorWalkers?: number;
}

export interface ConditionalJarzynskiState {
  /** Per label: the Jarzynski state of its walkers (targets p_θ(x | y)). */
  classes: JarzynskiState[];
  /** Mean cross-entropy of the last batch (at θ_k). */
  loss: number;
}

export interface ClassWalkerDiagnostics {
  /** ESS of the training walkers before their last resampling decision, and their resamplings. */
  ess: number;
  resamplings: number;
  /** The training walkers' estimate of log Z_y (absolute: the confinement's log Z added) and its SE. */
  logZ: number;
  logZSe: number;
  /** The estimator population's estimate of log Z_y and its SE (NaN without one). */
  estimatorLogZ: number;
  estimatorLogZSe: number;
  /** Health warnings of the training walkers and of the estimator population. */
  warnings: HealthWarning[];
}

export interface ConditionalJarzynskiDiagnostics extends ObjectiveDiagnostics {
  /** The smallest ESS over the labels' training populations. */
  ess: number;
  loss: number;
  classes: ClassWalkerDiagnostics[];
  /**
   * π̂_y = softmax(log Z_y) as the gradient uses it (from the estimator populations when present, else
   * from the training walkers), and its SE by the delta method (log Z_y estimated independently).
   */
  priors: Float64Array;
  priorsSe: Float64Array;
}

/** p_y = Z_y/Σ Z and SE(p_y)² = Σ_j p_y²(δ_yj − p_j)² SE(log Z_j)² (independent estimates). */
export function priorsFromLogZ(
  logZ: ArrayLike<number>,
  logZSe: ArrayLike<number>,
): { priors: Float64Array; se: Float64Array } {
  const K = logZ.length;
  let m = Number.NEGATIVE_INFINITY;
  for (let y = 0; y < K; y++) m = Math.max(m, logZ[y]);
  const p = new Float64Array(K);
  let s = 0;
  for (let y = 0; y < K; y++) s += p[y] = portableExpFast(logZ[y] - m);
  for (let y = 0; y < K; y++) p[y] /= s;
  const se = new Float64Array(K);
  for (let y = 0; y < K; y++) {
    let v = 0;
    for (let j = 0; j < K; j++) v += (p[y] * ((j === y ? 1 : 0) - p[j]) * logZSe[j]) ** 2;
    se[y] = Math.sqrt(v);
  }
  return { priors: p, se };
}

const EMPTY: Batch = { x: new Float64Array(0), n: 0 };

export interface ConditionalJarzynskiObjective extends Objective<ConditionalJarzynskiState> {
  diagnostics(s: ConditionalJarzynskiState): ConditionalJarzynskiDiagnostics;
}

/** Joint (λ = 1) or hybrid training of a conditional energy with per-label Jarzynski walkers (module comment). */
export function conditionalJarzynski(opts: ConditionalJarzynskiOptions): ConditionalJarzynskiObjective {
  const lambda = opts.generativeWeight ?? 1;
  if (!(lambda >= 0) || !Number.isFinite(lambda))
    throw new RangeError(`generativeWeight must be finite and ≥ 0, got ${opts.generativeWeight}`);
  const nEst = opts.estimatorWalkers ?? 0;
  if (!(Number.isInteger(nEst) && nEst >= 0))
    throw new RangeError(`estimatorWalkers must be an integer ≥ 0, got ${nEst}`);
  // One Jarzynski objective per label, built once per network (their walker kernels are cached per energy
  // object, so the label views are kept with them).
  let built: { net: ConditionalMlp; views: TrainableEnergy[]; objs: JarzynskiObjective[] } | undefined;
  function parts(net: ConditionalMlp) {
    if (built?.net !== net) {
      const c = net.confinement;
      if (!(c > 0)) throw new RangeError("conditional Jarzynski training needs a confinement c > 0");
      const init = confinementStart(c);
      const views = Array.from({ length: net.classes }, (_, y) => net.classEnergy(y));
      const objs = views.map(() =>
        jarzynski({
          walkers: opts.walkers,
          step: opts.step,
          move: opts.move,
          resample: opts.resample,
          scheme: opts.scheme,
          init,
          estimator: nEst > 0 ? { walkers: nEst } : undefined,
        }),
      );
      built = { net, views, objs };
    }
    return built;
  }
  /** Per label: the training walkers' and the estimator's log Z_y − log Z_confinement. */
  function logZRatios(net: ConditionalMlp, s: ConditionalJarzynskiState) {
    return s.classes.map((st, y) => parts(net).objs[y].diagnostics(st));
  }
  let scratch = new Float64Array(0);

  return {
    name: "conditional-jarzynski",
    init(key, model) {
      const { net } = networkOf(model);
      const { views, objs } = parts(net);
      return { classes: objs.map((o, y) => o.init(foldIn(key, y), views[y])), loss: Number.NaN };
    },
    gradient(key, s, model, batch, grad) {
      const { net, view } = networkOf(model);
      const { x, labels } = view.split(batch.x, batch.n);
      s.loss = dataTerm(net, x, labels, batch.n, lambda, grad);
      if (lambda === 0) return;
      const { views, objs } = parts(net);
      // π̂ at θ_k from log Z_y (the confinement's log Z is common to all labels and cancels).
      const diag = logZRatios(net, s);
      const { priors } = priorsFromLogZ(
        diag.map((d) => (d.estimator ? d.estimator.logZRatio : d.logZRatio)),
        diag.map(() => 0),
      );
      if (scratch.length !== grad.length) scratch = new Float64Array(grad.length);
      for (let y = 0; y < net.classes; y++) {
        // −Σ_j W_yj ∂θE(X_yj, y); the call also keeps the key of the walkers' move for afterUpdate.
        objs[y].gradient(foldIn(key, y), s.classes[y], views[y], EMPTY, scratch);
        const f = lambda * priors[y];
        for (let p = 0; p < grad.length; p++) grad[p] += f * scratch[p];
      }
    },
    afterUpdate(key, s, model) {
      if (lambda === 0) return;
      const { net } = networkOf(model);
      const { views, objs } = parts(net);
      for (let y = 0; y < net.classes; y++) objs[y].afterUpdate(foldIn(key, y), s.classes[y], views[y]);
    },
    diagnostics(s) {
      if (!built) throw new Error("conditional-jarzynski: diagnostics before init");
      const net = built.net;
      const base = confinementLogZ(net.confinement, net.inputDim);
      const classes: ClassWalkerDiagnostics[] = logZRatios(net, s).map((d) => ({
        ess: d.ess,
        resamplings: d.resamplings,
        logZ: d.logZRatio + base,
        logZSe: d.logZSe,
        estimatorLogZ: d.estimator ? d.estimator.logZRatio + base : Number.NaN,
        estimatorLogZSe: d.estimator ? d.estimator.logZSe : Number.NaN,
        warnings: [...d.warnings, ...(d.estimator?.warnings ?? [])],
      }));
      const est = nEst > 0;
      const { priors, se } = priorsFromLogZ(
        classes.map((c) => (est ? c.estimatorLogZ : c.logZ)),
        classes.map((c) => (est ? c.estimatorLogZSe : c.logZSe)),
      );
      return { ess: Math.min(...classes.map((c) => c.ess)), loss: s.loss, classes, priors, priorsSe: se };
    },
  };
}

/** The purely discriminative objective: the mean cross-entropy −log p(y | x), exact, no walkers. */
export function conditionalCrossEntropy(): Objective<{ loss: number }> {
  return {
    name: "cross-entropy",
    init: () => ({ loss: Number.NaN }),
    gradient(_key: Key, s, model, batch, grad) {
      const { net, view } = networkOf(model);
      const { x, labels } = view.split(batch.x, batch.n);
      s.loss = dataTerm(net, x, labels, batch.n, 0, grad);
    },
    afterUpdate() {},
    diagnostics: (s) => ({ loss: s.loss }),
  };
}
