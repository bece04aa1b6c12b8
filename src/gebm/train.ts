/**
 * Training a generalized EBM (Arbel, Zhou & Gretton, ICLR 2021).
 *
 * Energy: maximise the KALE objective over E + ℝ (the seed's lower bound on the generalized
 * log-likelihood, tight at c = log Z_{Q,E}):
 *
 *   F(E, c) = −E_P[E + c] − E_{Q_θ}[e^{−E−c}] + 1.
 *
 * Each energy step minimises −F + (λ/2)·E|∇ₓE(x̂)|² on a batch of data and a batch of generator draws,
 * the penalty at random interpolates x̂ = t·x_P + (1 − t)·x_Q (Gulrajani et al. 2017). Without it the
 * maximum is unbounded while P and Q_θ barely overlap (at the start, E falls without limit on the data):
 * KALE needs a Lipschitz class of energies. Its ψ-gradient is one weighted parameter gradient over both
 * batches — weights 1/n on data, −e^{−E(x_j)−c}/n on generator draws — plus Σ_i ∂ψ[r_i·∇ₓE(x̂_i)] with
 * r_i = (λ/n)∇ₓE(x̂_i) for the penalty (src/energies/score-grad.ts);
 * ∂F/∂c = E_Q[e^{−E−c}] − 1. The bias of the energy's last layer and c enter F only through their sum;
 * c is kept as the paper has it, as the model's running estimate of log Z_{Q,E}.
 *
 * Generator: descend K(θ) = F(P, Q_θ; E* + ℝ), whose gradient (the seed's theorem) is
 *
 *   ∇K(θ) = Z⁻¹ E_η[ e^{−E(B_θ(Z))} J_θB_θ(Z)ᵀ ∇ₓE(B_θ(Z)) ],
 *
 * estimated on a batch with self-normalised weights W_j ∝ e^{−E(x_j)} standing for Z⁻¹: one generator
 * forward, one energy gradient and one vector–Jacobian product with cotangents W_j∇ₓE(x_j).
 *
 * Alternation as the paper's (after WGAN's schedule): `energySteps` energy steps per generator step,
 * `warmupEnergySteps` instead during the first `warmupIterations` generator steps and every
 * `refreshEvery`-th; optionally `finalEnergySteps` energy steps at the end with the generator fixed. Both
 * use Adam with gradients clipped to global norm 10.
 */
import type { Key } from "../random/key.ts";
import { foldIn, split, Stream } from "../random/key.ts";
import { isScoreParamGrad } from "../energies/score-grad.ts";
import { NumericalError } from "../math/errors.ts";
import { adam, chain, clipByGlobalNorm, type Optimizer } from "../train/optim.ts";
import { type Gebm, sampleBase, sampleLatent } from "./model.ts";

export interface GebmTrainOptions {
  /** Generator updates (default 2000). */
  iterations?: number;
  /** Energy steps per generator step (default 5). */
  energySteps?: number;
  /** Energy steps per generator step during warm-up and at each refresh (default 100). */
  warmupEnergySteps?: number;
  /** Generator steps that get `warmupEnergySteps` at the start (default 25). */
  warmupIterations?: number;
  /** Every this many generator steps, `warmupEnergySteps` again (default 500). */
  refreshEvery?: number;
  /**
   * Energy steps after the last generator step, with the generator fixed (default 0): the energy then
   * approaches the KALE maximiser for the final base, which the model Q_{B,E} needs (E*, in the seed).
   */
  finalEnergySteps?: number;
  /** Data points and generator draws per step (default 256). */
  batchSize?: number;
  /** Adam rate of the energy and c (default 1e-3). */
  energyLr?: number;
  /** Adam rate of the generator (default 1e-3). */
  generatorLr?: number;
  /** λ of the gradient penalty (λ/2)·E|∇ₓE(x̂)|² at data–generator interpolates (default 1). */
  gradientPenalty?: number;
  /** Called after every generator step. */
  onProgress?: (iteration: number, total: number, last: GebmStepRecord) => void;
}

export interface GebmStepRecord {
  /** Generator steps done. */
  iteration: number;
  /** KALE objective F on the last energy step's batches (nats). */
  kale: number;
  /** c after the last energy step. */
  logZ: number;
}

const DEFAULTS = {
  iterations: 2000,
  energySteps: 5,
  warmupEnergySteps: 100,
  warmupIterations: 25,
  refreshEvery: 500,
  finalEnergySteps: 0,
  batchSize: 256,
  energyLr: 1e-3,
  generatorLr: 1e-3,
  gradientPenalty: 1,
};

export type ResolvedGebmTrainOptions = typeof DEFAULTS;

/** Defaults filled in and checked (RangeError naming the option). */
export function resolveGebmTrainOptions(o: GebmTrainOptions = {}): ResolvedGebmTrainOptions {
  const r = { ...DEFAULTS };
  for (const k of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
    const v = o[k];
    if (v !== undefined) r[k] = v;
  }
  for (const k of ["iterations", "energySteps", "warmupEnergySteps", "batchSize", "refreshEvery"] as const)
    if (!(Number.isInteger(r[k]) && r[k] >= 1))
      throw new RangeError(`${k} must be an integer ≥ 1, got ${r[k]}`);
  if (!(Number.isInteger(r.finalEnergySteps) && r.finalEnergySteps >= 0))
    throw new RangeError(`finalEnergySteps must be an integer ≥ 0, got ${r.finalEnergySteps}`);
  if (!(Number.isInteger(r.warmupIterations) && r.warmupIterations >= 0))
    throw new RangeError(`warmupIterations must be an integer ≥ 0, got ${r.warmupIterations}`);
  for (const k of ["energyLr", "generatorLr"] as const)
    if (!(Number.isFinite(r[k]) && r[k] > 0))
      throw new RangeError(`${k} must be finite and > 0, got ${r[k]}`);
  if (!(Number.isFinite(r.gradientPenalty) && r.gradientPenalty >= 0))
    throw new RangeError(`gradientPenalty must be finite and ≥ 0, got ${r.gradientPenalty}`);
  return r;
}

/** What `GebmTrainer.getState` returns and `setState` takes. */
export interface GebmTrainerState {
  /** Generator steps done. */
  iteration: number;
  /** Whether `run` has done the final energy steps. */
  finalDone: boolean;
  /** State of the energy's (and c's) optimizer. */
  energyOptimizer: unknown;
  /** State of the generator's optimizer. */
  generatorOptimizer: unknown;
}

/** Throws a RangeError naming `path` where `a` differs from `b` in structure, number type or array size. */
function sameStructure(a: unknown, b: unknown, path: string): void {
  if (ArrayBuffer.isView(b)) {
    const ta = a as Float64Array;
    if (!(ArrayBuffer.isView(a) && Object.getPrototypeOf(a) === Object.getPrototypeOf(b)))
      throw new RangeError(`${path} must be a ${b.constructor.name}`);
    if (ta.length !== (b as Float64Array).length)
      throw new RangeError(`${path} has ${ta.length} values, expected ${(b as Float64Array).length}`);
    return;
  }
  if (b === null || typeof b !== "object") {
    if (typeof a !== typeof b || (b === null) !== (a === null))
      throw new RangeError(`${path} has the wrong type`);
    return;
  }
  if (a === null || typeof a !== "object" || Array.isArray(a) !== Array.isArray(b))
    throw new RangeError(`${path} has the wrong structure`);
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length || kb.some((k) => !ka.includes(k)))
    throw new RangeError(`${path} has fields ${ka.join(", ")}, expected ${kb.join(", ")}`);
  for (const k of kb)
    sameStructure((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
}

/**
 * The state of a GEBM fit: optimizer states of the energy (with c) and the generator, and the data.
 * `energyStep` and `generatorStep` are the two updates (also what the benchmarks time); `run` alternates
 * them.
 */
export class GebmTrainer {
  readonly options: ResolvedGebmTrainOptions;
  /** Generator steps done. */
  iteration = 0;
  private finalDone = false;
  private readonly eOpt: Optimizer;
  private readonly gOpt: Optimizer;
  private eState: unknown;
  private gState: unknown;
  private readonly d: number;
  private readonly nb: number;
  private readonly xP: Float64Array;
  private readonly xHat: Float64Array;
  private readonly gE: Float64Array;
  private readonly gG: Float64Array;
  private readonly onProgress: GebmTrainOptions["onProgress"];

  constructor(
    readonly model: Gebm,
    private readonly data: Float64Array,
    private readonly n: number,
    opts: GebmTrainOptions = {},
  ) {
    this.options = resolveGebmTrainOptions(opts);
    this.onProgress = opts.onProgress;
    const d = (this.d = model.spec.dataDim);
    if (!(Number.isInteger(n) && n >= 2)) throw new RangeError(`need at least 2 data points, got ${n}`);
    if (data.length < n * d) throw new RangeError(`data holds fewer than ${n} points of dimension ${d}`);
    if (this.options.gradientPenalty > 0 && !isScoreParamGrad(model.energy))
      throw new RangeError("the energy's backend has no gradient-penalty kernel; use gradientPenalty 0");
    const nb = (this.nb = this.options.batchSize);
    this.eOpt = chain(clipByGlobalNorm(10), adam(this.options.energyLr));
    this.gOpt = chain(clipByGlobalNorm(10), adam(this.options.generatorLr));
    this.eState = this.eOpt.init(new Float64Array(model.energy.numParams + 1));
    this.gState = this.gOpt.init(new Float64Array(model.generator.numParams));
    this.xP = new Float64Array(nb * d);
    this.xHat = new Float64Array(nb * d);
    this.gE = new Float64Array(model.energy.numParams + 1);
    this.gG = new Float64Array(model.generator.numParams);
  }

  /** One energy (and c) step on a fresh data batch and generator batch from `key`; returns F on them. */
  energyStep(key: Key): number {
    const { model, nb, d } = this;
    const [kData, kBase] = split(key, 2);
    const s = new Stream(kData);
    const xP = this.xP;
    for (let i = 0; i < nb; i++) {
      const j = s.integer(this.n);
      for (let a = 0; a < d; a++) xP[i * d + a] = this.data[j * d + a];
    }
    const { x: xQ } = sampleBase(model, kBase, nb);
    // Interpolates x̂ = t·x_P + (1 − t)·x_Q, t ~ U(0, 1), for the gradient penalty (Gulrajani et al. 2017).
    const xHat = this.xHat;
    for (let i = 0; i < nb; i++) {
      const t = s.uniform();
      for (let a = 0; a < d; a++) xHat[i * d + a] = t * xP[i * d + a] + (1 - t) * xQ[i * d + a];
    }
    const { kale } = kaleEnergyGradient(model, xP, xQ, xHat, nb, this.options.gradientPenalty, this.gE);
    const P = model.energy.numParams;
    const params = new Float64Array(P + 1);
    params.set(model.energy.getParams());
    params[P] = model.logZ;
    const r = this.eOpt.update(this.gE, this.eState, params);
    this.eState = r.state;
    for (let q = 0; q <= P; q++) params[q] += r.updates[q];
    model.energy.setParams(params.subarray(0, P));
    model.logZ = params[P];
    return kale;
  }

  /** One generator step on a fresh latent batch from `key`. */
  generatorStep(key: Key): void {
    const { model, nb } = this;
    const z = sampleLatent(model, key, nb);
    generatorGradient(model, z, nb, this.gG);
    const theta = model.generator.getParams();
    const r = this.gOpt.update(this.gG, this.gState, theta);
    this.gState = r.state;
    for (let q = 0; q < theta.length; q++) theta[q] += r.updates[q];
    model.generator.setParams(theta);
  }

  /**
   * The trainer's own state, copied: generator steps done, whether the final energy steps have run, and
   * both optimizers' states (Adam's moments and step counts). With the model's parameters (generator,
   * energy, c) it is everything a checkpoint needs for a run to continue bit for bit; plain data (numbers,
   * booleans, null, Float64Arrays), so train/state-codec.ts encodes it.
   */
  getState(): GebmTrainerState {
    return structuredClone({
      iteration: this.iteration,
      finalDone: this.finalDone,
      energyOptimizer: this.eState,
      generatorOptimizer: this.gState,
    });
  }

  /**
   * Restores a state from `getState` (copied in). Throws a RangeError when its structure or array sizes
   * differ from this trainer's (another model or optimizer).
   */
  setState(s: GebmTrainerState): void {
    if (!(Number.isSafeInteger(s.iteration) && s.iteration >= 0))
      throw new RangeError(`state.iteration must be an integer ≥ 0, got ${s.iteration}`);
    if (typeof s.finalDone !== "boolean") throw new RangeError("state.finalDone must be true or false");
    sameStructure(s.energyOptimizer, this.eState, "state.energyOptimizer");
    sameStructure(s.generatorOptimizer, this.gState, "state.generatorOptimizer");
    this.iteration = s.iteration;
    this.finalDone = s.finalDone;
    this.eState = structuredClone(s.energyOptimizer);
    this.gState = structuredClone(s.generatorOptimizer);
  }

  /** Energy steps due before generator step `t` (0-based) under the alternation schedule. */
  energyStepsAt(t: number): number {
    const o = this.options;
    return t < o.warmupIterations || (t > 0 && t % o.refreshEvery === 0)
      ? o.warmupEnergySteps
      : o.energySteps;
  }

  /**
   * Runs the remaining generator iterations (each preceded by its energy steps), keys foldIn(key, t).
   * Returns one record per generator step.
   */
  run(key: Key): GebmStepRecord[] {
    const o = this.options;
    const history: GebmStepRecord[] = [];
    for (let t = this.iteration; t < o.iterations; t++) {
      const kt = foldIn(key, t);
      const [kE, kG] = split(kt, 2);
      let kale = Number.NaN;
      const steps = this.energyStepsAt(t);
      for (let s = 0; s < steps; s++) kale = this.energyStep(foldIn(kE, s));
      this.generatorStep(kG);
      this.iteration = t + 1;
      const rec = { iteration: t + 1, kale, logZ: this.model.logZ };
      history.push(rec);
      this.onProgress?.(t + 1, o.iterations, rec);
    }
    if (this.iteration === o.iterations && !this.finalDone) {
      const kF = foldIn(key, -1 >>> 0);
      let kale = Number.NaN;
      for (let s = 0; s < o.finalEnergySteps; s++) kale = this.energyStep(foldIn(kF, s));
      this.finalDone = true;
      if (o.finalEnergySteps > 0) history.push({ iteration: this.iteration, kale, logZ: this.model.logZ });
    }
    return history;
  }
}

/**
 * The energy step's objective and its gradient on given batches (n rows each of data x_P, generator draws
 * x_Q and interpolates x̂): writes ∂/∂(ψ, c) of loss = −F + (λ/2)·mean|∇ₓE(x̂)|² to `out` (length
 * numParams + 1, c last) and returns F ("kale") and the loss.
 */
export function kaleEnergyGradient(
  model: Gebm,
  xP: Float64Array,
  xQ: Float64Array,
  xHat: Float64Array,
  n: number,
  lambda: number,
  out: Float64Array,
): { kale: number; loss: number } {
  const d = model.spec.dataDim;
  const e = model.energy;
  const c = model.logZ;
  const rows = lambda > 0 ? 3 : 2;
  const x = new Float64Array(rows * n * d);
  x.set(xP.subarray(0, n * d));
  x.set(xQ.subarray(0, n * d), n * d);
  if (lambda > 0) x.set(xHat.subarray(0, n * d), 2 * n * d);
  const u = new Float64Array(rows * n);
  const g = new Float64Array(rows * n * d);
  e.energyAndGrad(x, rows * n, u, g);
  const w = new Float64Array(2 * n);
  let meanP = 0;
  let meanQ = 0;
  for (let i = 0; i < n; i++) {
    meanP += u[i] / n;
    const t = Math.exp(-u[n + i] - c);
    meanQ += t / n;
    w[i] = 1 / n;
    w[n + i] = -t / n;
  }
  const kale = -meanP - c - meanQ + 1;
  if (!Number.isFinite(kale))
    throw new NumericalError(`GEBM energy step: the KALE objective is ${kale} (energy diverged)`);
  const P = e.numParams;
  const gPsi = out.subarray(0, P);
  e.paramGrad(x.subarray(0, 2 * n * d), 2 * n, w, gPsi);
  let penalty = 0;
  if (lambda > 0) {
    if (!isScoreParamGrad(e)) throw new RangeError("the energy's backend has no gradient-penalty kernel");
    const r = new Float64Array(n * d);
    for (let q = 0; q < n * d; q++) {
      const v = g[2 * n * d + q];
      penalty += (0.5 * lambda * v * v) / n;
      r[q] = (lambda / n) * v;
    }
    const gPen = new Float64Array(P);
    e.scoreParamGrad(x.subarray(2 * n * d), n, r, gPen);
    for (let q = 0; q < P; q++) gPsi[q] += gPen[q];
  }
  out[P] = 1 - meanQ;
  return { kale, loss: -kale + penalty };
}

/**
 * The generator step's gradient on latent draws z (n × k): ∂θ of L(θ) = −log mean_j e^{−E(B_θ(z_j))}, which
 * is Σ_j W_j J_θB(z_j)ᵀ∇ₓE(B(z_j)) with W ∝ e^{−E(B(z_j))} — the seed's ∇K(θ) with self-normalised weights
 * for Z⁻¹e^{−E}. Written to `out` (numParams of the generator); returns L.
 */
export function generatorGradient(model: Gebm, z: Float64Array, n: number, out: Float64Array): number {
  const d = model.spec.dataDim;
  const x = new Float64Array(n * d);
  let logMean = 0;
  // g_j = w_j ∇ₓE(B(z_j)) with w ∝ e^{−E}: computed from the generator's outputs, between its forward and
  // backward passes (one forward pass where the backend keeps the activations).
  const cotangent = (xs: Float64Array): Float64Array => {
    const u = new Float64Array(n);
    const g = new Float64Array(n * d);
    model.energy.energyAndGrad(xs, n, u, g);
    let m = Number.POSITIVE_INFINITY;
    for (let j = 0; j < n; j++) if (u[j] < m) m = u[j];
    if (!Number.isFinite(m))
      throw new NumericalError("GEBM generator step: non-finite energy on generator draws");
    let sum = 0;
    for (let j = 0; j < n; j++) sum += Math.exp(-(u[j] - m));
    for (let j = 0; j < n; j++) {
      const wj = Math.exp(-(u[j] - m)) / sum;
      for (let a = 0; a < d; a++) g[j * d + a] *= wj;
    }
    logMean = m - Math.log(sum / n);
    return g;
  };
  const gen = model.generator;
  if (gen.forwardThenVjp) gen.forwardThenVjp(z, n, x, cotangent, null, out);
  else {
    gen.forward(z, n, x);
    gen.vjp(z, n, cotangent(x), null, null, out);
  }
  return logMean;
}

export interface KaleEstimate {
  /** F(P, Q; E + c) on held-out data and fresh generator draws (nats). */
  estimate: number;
  /** Its standard error (independent data and generator means, CLT). */
  stderr: number;
  /** The generalized log-likelihood −E_P[E] − log E_Q[e^{−E}] (nats, relative to the base Q_θ) … */
  logLikelihood: number;
  /** … and its delta-method standard error. */
  logLikelihoodStderr: number;
  /** log Ẑ_{Q,E} = log E_Q[e^{−E}] from the generator draws, and its delta-method standard error. */
  logZ: number;
  logZStderr: number;
}

/**
 * KALE and the generalized log-likelihood of held-out points `x` (n × d) under the model, with `draws`
 * generator draws from `key` for the base expectations.
 */
export function gebmKale(model: Gebm, x: Float64Array, n: number, key: Key, draws = 10000): KaleEstimate {
  const d = model.spec.dataDim;
  if (!(n >= 2)) throw new RangeError(`need at least 2 held-out points, got ${n}`);
  const uP = new Float64Array(n);
  model.energy.energy(x.subarray(0, n * d), n, uP);
  const { x: xQ } = sampleBase(model, key, draws);
  const uQ = new Float64Array(draws);
  model.energy.energy(xQ, draws, uQ);
  const c = model.logZ;
  const mv = (a: ArrayLike<number>, f: (v: number) => number) => {
    let m = 0;
    for (let i = 0; i < a.length; i++) m += f(a[i]) / a.length;
    let v = 0;
    for (let i = 0; i < a.length; i++) v += (f(a[i]) - m) ** 2 / (a.length - 1);
    return { m, v: v / a.length };
  };
  const p = mv(uP, (v) => v);
  // e^{−E−c} and e^{−(E−min)} (the latter for log Z, stable).
  const q = mv(uQ, (v) => Math.exp(-v - c));
  let umin = Number.POSITIVE_INFINITY;
  for (const v of uQ) if (v < umin) umin = v;
  const r = mv(uQ, (v) => Math.exp(-(v - umin)));
  const logZ = Math.log(r.m) - umin;
  const logZStderr = Math.sqrt(r.v) / r.m;
  return {
    estimate: -p.m - c - q.m + 1,
    stderr: Math.sqrt(p.v + q.v),
    logLikelihood: -p.m - logZ,
    logLikelihoodStderr: Math.sqrt(p.v + logZStderr ** 2),
    logZ,
    logZStderr,
  };
}
