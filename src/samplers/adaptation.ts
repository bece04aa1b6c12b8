/**
 * Stan's warm-up as a layer over any kernel with an acceptance statistic. The kernel is built once; the
 * step size and inverse mass it adapts are passed to the kernel's steps (BlackJAX's shape), together with
 * the step parameters that are not adapted (`params`, e.g. HMC's number of leapfrog steps):
 *
 *  (a) dual averaging of log ε towards a target mean acceptance δ (Nesterov / Hoffman & Gelman 2014,
 *      Stan's constants γ = 0.05, t₀ = 10, κ = 0.75, μ = log(10·ε₀)), fed with the batch's mean
 *      acceptance statistic — one step size shared by all chains of the batch;
 *  (b) windowed estimation of the inverse mass M⁻¹ = Var[x] (`metric: "diagonal"`, the default) or
 *      M⁻¹ = Cov[x] (`metric: "dense"`, Stan's dense_e), pooled over all chains, on Stan's schedule: an
 *      initial fast buffer (75 iterations), slow windows of 25, 50, 100, … (the last one stretched to the
 *      terminal buffer), a terminal fast buffer (50); when the three stages do not fit, 15% / 75% / 10% of
 *      the warm-up. Each window's estimate is regularized towards 10⁻³·I as Stan does:
 *      (n/(n+5))·Σ̂ + 10⁻³·5/(n+5)·I. After each window the step size is re-initialized with the
 *      heuristic under the new metric and dual averaging restarts with μ = log(10·ε);
 *  (c) Stan's `init_stepsize` heuristic, batched: from ε₀, double ε while the batch's mean acceptance
 *      statistic exceeds 0.8, or halve it while it is below (direction fixed by the first probe), each
 *      probe being one transition of the kernel from a scratch copy of the current state (the chains do
 *      not move).
 *
 * Warm-up draws are never returned as samples: `run` returns the state after the last warm-up iteration
 * and the final parameters (ε = exp of the averaged log step of the last dual-averaging phase); draw
 * samples by stepping the same kernel with those parameters from that state.
 */
import { portableExp, portableLog } from "../random/elementary.ts";
import type { Key } from "../random/key.ts";
import { foldIn } from "../random/key.ts";
import type { MetricKind } from "./metric.ts";
import type { ChainState, KernelParams, MhInfo, Sampler } from "./types.ts";

// ---------------------------------------------------------------------------------------------------
// Dual averaging

export interface DualAveragingOptions {
  /** Target acceptance statistic δ (default 0.8). */
  targetAccept?: number;
  /** Adaptation regularization scale γ (default 0.05). */
  gamma?: number;
  /** Iteration offset t₀ that damps early iterations (default 10). */
  t0?: number;
  /** Decay exponent κ of the averaging weights (default 0.75). */
  kappa?: number;
}

export interface DualAveragingState {
  /** Iterations since the last restart. */
  readonly count: number;
  /** Running average H̄ of δ − α. */
  readonly avgError: number;
  /** Current iterate x = log ε (the step size to use next). */
  readonly logStep: number;
  /** Weighted average x̄ of the iterates (the final step size is e^{x̄}). */
  readonly logStepAvg: number;
  /** Shrinkage point μ. */
  readonly mu: number;
}

export interface DualAveraging {
  /** Starts (or restarts) from step ε₀: x = log ε₀, μ = log(10·ε₀), H̄ = x̄ = 0. */
  init(step: number): DualAveragingState;
  /** One update with acceptance statistic α (values above 1 are clipped to 1, NaN counts as 0). */
  update(state: DualAveragingState, acceptProb: number): DualAveragingState;
  /** The step size to use now, e^{x}. */
  step(state: DualAveragingState): number;
  /** The adapted step size e^{x̄} (falls back to e^{x} before any update). */
  final(state: DualAveragingState): number;
}

/**
 * Dual averaging of log ε (Stan's stepsize_adaptation):
 *   H̄_t = (1 − 1/(t+t₀)) H̄_{t−1} + (δ − α_t)/(t+t₀),  x_t = μ − √t H̄_t / γ,
 *   x̄_t = t^{−κ} x_t + (1 − t^{−κ}) x̄_{t−1}.
 */
export function dualAveraging(opts: DualAveragingOptions = {}): DualAveraging {
  const delta = opts.targetAccept ?? 0.8;
  const gamma = opts.gamma ?? 0.05;
  const t0 = opts.t0 ?? 10;
  const kappa = opts.kappa ?? 0.75;
  if (!(delta > 0 && delta < 1)) throw new RangeError(`targetAccept must be in (0, 1), got ${delta}`);
  if (!(gamma > 0)) throw new RangeError(`gamma must be positive, got ${gamma}`);
  if (!(t0 >= 0)) throw new RangeError(`t0 must be non-negative, got ${t0}`);
  if (!(kappa > 0 && kappa <= 1)) throw new RangeError(`kappa must be in (0, 1], got ${kappa}`);
  return {
    init(step) {
      if (!(step > 0 && Number.isFinite(step))) throw new RangeError(`step must be positive, got ${step}`);
      const x = portableLog(step);
      return { count: 0, avgError: 0, logStep: x, logStepAvg: 0, mu: portableLog(10) + x };
    },
    update(s, acceptProb) {
      const a = Number.isNaN(acceptProb) ? 0 : Math.min(1, acceptProb);
      const t = s.count + 1;
      const eta = 1 / (t + t0);
      const avgError = (1 - eta) * s.avgError + eta * (delta - a);
      const logStep = s.mu - (Math.sqrt(t) * avgError) / gamma;
      // t^−κ through the portable exp/log: `**` is the host's pow, whose last bit differs between hosts.
      const w = portableExp(-kappa * portableLog(t));
      const logStepAvg = w * logStep + (1 - w) * s.logStepAvg;
      return { count: t, avgError, logStep, logStepAvg, mu: s.mu };
    },
    step: (s) => portableExp(s.logStep),
    final: (s) => portableExp(s.count > 0 ? s.logStepAvg : s.logStep),
  };
}

// ---------------------------------------------------------------------------------------------------
// Stan's window schedule

export interface WindowSchedule {
  /** First warm-up iteration (0-based) whose state enters a variance window. */
  readonly initBuffer: number;
  /** Number of final iterations that only adapt the step size. */
  readonly termBuffer: number;
  /** Slow windows as [first, last] iterations (inclusive), consecutive; empty when nothing is adapted. */
  readonly windows: readonly (readonly [number, number])[];
}

/**
 * Stan's windowed_adaptation schedule for `numWarmup` iterations: none below 20 iterations; 15% / 75% /
 * 10% when initBuffer + baseWindow + termBuffer do not fit; otherwise windows of baseWindow, 2·baseWindow,
 * … from initBuffer on, a window being stretched to the terminal buffer when the next one (twice as
 * long) would not fit before it.
 */
export function windowSchedule(
  numWarmup: number,
  initBuffer = 75,
  termBuffer = 50,
  baseWindow = 25,
): WindowSchedule {
  if (!(Number.isInteger(numWarmup) && numWarmup >= 0))
    throw new RangeError(`numWarmup must be a non-negative integer, got ${numWarmup}`);
  if (numWarmup < 20) return { initBuffer: numWarmup, termBuffer: 0, windows: [] };
  if (initBuffer + baseWindow + termBuffer > numWarmup) {
    initBuffer = Math.floor(0.15 * numWarmup);
    termBuffer = Math.floor(0.1 * numWarmup);
    baseWindow = numWarmup - (initBuffer + termBuffer);
  }
  const lastSlow = numWarmup - termBuffer - 1;
  const windows: [number, number][] = [];
  let size = baseWindow;
  let start = initBuffer;
  let end = initBuffer + size - 1;
  for (;;) {
    windows.push([start, end]);
    if (end === lastSlow) break;
    // compute_next_window: double the size; stretch to the terminal buffer when the one after won't fit.
    size *= 2;
    start = end + 1;
    end = end + size;
    if (end !== lastSlow && end + 2 * size >= numWarmup - termBuffer) end = lastSlow;
  }
  return { initBuffer, termBuffer, windows };
}

// ---------------------------------------------------------------------------------------------------
// Window adaptation

export interface WindowAdaptationOptions<P extends KernelParams = KernelParams> extends DualAveragingOptions {
  /** Warm-up iterations (each one kernel step of every chain). */
  numWarmup: number;
  /** Step size the heuristic starts from (default 1, as Stan). */
  initialStep?: number;
  /** Run the step-size heuristic at the start and after every window (default true, as Stan). */
  findStep?: boolean;
  /** Adapt the inverse mass (default true). */
  adaptMass?: boolean;
  /**
   * The inverse mass to estimate: its diagonal (default) or the dense covariance, which also captures
   * correlations (a d × d matrix: O(d²) work per gradient in the kernels, worth it in low dimension).
   */
  metric?: MetricKind;
  /** Starting inverse mass: length d (diagonal) or d² (dense); default the identity. */
  initialInverseMass?: Float64Array;
  /** Stan's init_buffer / term_buffer / window (defaults 75 / 50 / 25). */
  initBuffer?: number;
  termBuffer?: number;
  baseWindow?: number;
  /** Step parameters that are not adapted, passed to every step (e.g. `{ numSteps: 10 }` for HMC). */
  params?: Omit<P, keyof KernelParams>;
}

export interface WindowAdaptationInfo {
  /** The schedule that was used (no windows when adaptMass is false). */
  readonly schedule: WindowSchedule;
  /** Per warm-up iteration: the step size used. */
  readonly stepTrace: Float64Array;
  /** Per warm-up iteration: the batch's mean acceptance statistic. */
  readonly acceptTrace: Float64Array;
  /** Per warm-up iteration: number of divergent chains. */
  readonly divergentTrace: Int32Array;
  /** Step sizes found by the heuristic (at the start, then after each window). */
  readonly heuristicSteps: number[];
  /** Number of pooled samples (iterations × chains) behind the final inverse mass (0 if not adapted). */
  readonly massSamples: number;
}

export interface WindowAdaptationResult<S extends ChainState, P extends KernelParams = KernelParams> {
  /** The state after the last warm-up iteration (the same object that was passed in). */
  state: S;
  /** The adapted step size and inverse mass, with the fixed `params` of the options. */
  params: P;
  info: WindowAdaptationInfo;
}

export interface WindowAdaptation<S extends ChainState, P extends KernelParams = KernelParams> {
  run(key: Key, state: S): WindowAdaptationResult<S, P>;
}

/**
 * Pooled Welford accumulator of per-coordinate means and variances, or (dense) of the mean and the full
 * covariance: m2 is then d × d, updated with the outer product δ(x − mean_new)ᵀ.
 */
class VarianceEstimator {
  count = 0;
  readonly mean: Float64Array;
  readonly m2: Float64Array;
  private readonly delta: Float64Array;
  constructor(
    readonly dim: number,
    readonly dense = false,
  ) {
    this.mean = new Float64Array(dim);
    this.m2 = new Float64Array(dense ? dim * dim : dim);
    this.delta = new Float64Array(dim);
  }
  restart(): void {
    this.count = 0;
    this.mean.fill(0);
    this.m2.fill(0);
  }
  addRows(x: Float64Array, n: number): void {
    const d = this.dim;
    for (let i = 0; i < n; i++) {
      this.count++;
      const inv = 1 / this.count;
      if (this.dense) {
        const delta = this.delta;
        for (let j = 0; j < d; j++) {
          delta[j] = x[i * d + j] - this.mean[j];
          this.mean[j] += delta[j] * inv;
        }
        for (let a = 0; a < d; a++) {
          const ra = x[i * d + a] - this.mean[a];
          for (let b = 0; b < d; b++) this.m2[a * d + b] += delta[b] * ra;
        }
        continue;
      }
      for (let j = 0; j < d; j++) {
        const v = x[i * d + j];
        const delta = v - this.mean[j];
        this.mean[j] += delta * inv;
        this.m2[j] += delta * (v - this.mean[j]);
      }
    }
  }
  /** Stan's regularized sample (co)variance (n/(n+5))·Σ̂ + 10⁻³·5/(n+5)·I, into `out`. */
  regularizedVariance(out: Float64Array): void {
    const n = this.count;
    const d = this.dim;
    if (this.dense) {
      for (let a = 0; a < d; a++)
        for (let b = 0; b <= a; b++) {
          // Symmetrized: the Welford outer products are symmetric only up to rounding.
          const v = (0.5 * (this.m2[a * d + b] + this.m2[b * d + a])) / (n - 1);
          const r = (n / (n + 5)) * v + (a === b ? 1e-3 * (5 / (n + 5)) : 0);
          out[a * d + b] = r;
          out[b * d + a] = r;
        }
      return;
    }
    for (let j = 0; j < this.dim; j++) {
      const v = this.m2[j] / (n - 1);
      out[j] = (n / (n + 5)) * v + 1e-3 * (5 / (n + 5));
    }
  }
}

/** The starting M⁻¹ as the metric wants it: a diagonal (length d) or a dense d × d matrix. */
function startingInverseMass(init: Float64Array | undefined, d: number, dense: boolean): Float64Array {
  if (init && init.length !== d && !(dense && init.length === d * d))
    throw new RangeError(`initialInverseMass must have length ${d}${dense ? ` or ${d * d}` : ""}`);
  if (!dense) return init ? Float64Array.from(init) : new Float64Array(d).fill(1);
  if (init && init.length === d * d) return Float64Array.from(init);
  const m = new Float64Array(d * d);
  for (let j = 0; j < d; j++) m[j * d + j] = init ? init[j] : 1;
  return m;
}

/**
 * Batched Stan init_stepsize from `params.step`: probes are single kernel transitions, with the other
 * parameters as given and step ε, of a scratch copy of the chains (started afresh at their positions);
 * direction set by the first probe (mean acceptance above 0.8 → double, else halve), stop at the first
 * probe on the other side of 0.8.
 */
export function findReasonableStep<S extends ChainState, I extends MhInfo, P extends KernelParams>(
  kernel: Sampler<S, I, P>,
  key: Key,
  state: S,
  params: P,
): number {
  const target = 0.8;
  const probeParams: P = { ...params };
  const probe = (eps: number, k: number): number => {
    probeParams.step = eps;
    const scratch = kernel.init(state.position, state.n);
    return meanAccept(kernel.step(foldIn(key, k), scratch, probeParams).acceptProb);
  };
  let step = params.step;
  let a = probe(step, 0);
  const up = a > target;
  for (let k = 1; ; k++) {
    if (up ? !(a > target) : !(a < target)) break;
    step = up ? step * 2 : step * 0.5;
    if (step > 1e7) throw new RangeError("step-size search diverged: the target looks improper");
    if (step === 0) throw new RangeError("no acceptably small step size: the energy may have errors");
    a = probe(step, k);
  }
  return step;
}

function meanAccept(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += Number.isNaN(v) ? 0 : Math.min(1, v);
  return s / a.length;
}

/** Stan's windowed warm-up of `kernel`'s step size and inverse mass. */
export function windowAdaptation<S extends ChainState, I extends MhInfo, P extends KernelParams>(
  kernel: Sampler<S, I, P>,
  opts: WindowAdaptationOptions<P>,
): WindowAdaptation<S, P> {
  const numWarmup = opts.numWarmup;
  const adaptMass = opts.adaptMass ?? true;
  const findStep = opts.findStep ?? true;
  const initialStep = opts.initialStep ?? 1;
  if (!(initialStep > 0 && Number.isFinite(initialStep)))
    throw new RangeError(`initialStep must be positive, got ${initialStep}`);
  const da = dualAveraging(opts);
  const schedule = adaptMass
    ? windowSchedule(numWarmup, opts.initBuffer, opts.termBuffer, opts.baseWindow)
    : { initBuffer: numWarmup, termBuffer: 0, windows: [] };

  return {
    run(key: Key, state: S) {
      const d = state.dim;
      const n = state.n;
      const dense = (opts.metric ?? "diagonal") === "dense";
      const inverseMass = startingInverseMass(opts.initialInverseMass, d, dense);
      const stepTrace = new Float64Array(numWarmup);
      const acceptTrace = new Float64Array(numWarmup);
      const divergentTrace = new Int32Array(numWarmup);
      const heuristicSteps: number[] = [];
      const estimator = new VarianceEstimator(d, dense);
      const [kSearch, kSteps] = [foldIn(key, 0), foldIn(key, 1)];
      let massSamples = 0;

      // One params object for the whole warm-up: the kernel re-derives its coefficients when the values
      // change (the inverse mass is updated in place after each window).
      const params = { ...opts.params, step: initialStep, inverseMass } as P;
      let step = initialStep;
      if (findStep) {
        step = findReasonableStep(kernel, foldIn(kSearch, 0), state, params);
        heuristicSteps.push(step);
      }
      let das = da.init(step);
      let w = 0; // index of the current/next window
      const windows = schedule.windows;

      for (let t = 0; t < numWarmup; t++) {
        const eps = da.step(das);
        stepTrace[t] = eps;
        params.step = eps;
        const info = kernel.step(foldIn(kSteps, t), state, params);
        const a = meanAccept(info.acceptProb);
        acceptTrace[t] = a;
        let nd = 0;
        for (const v of info.divergent) nd += v;
        divergentTrace[t] = nd;
        das = da.update(das, a);

        if (w < windows.length && t >= windows[w][0]) {
          estimator.addRows(state.position, n);
          if (t === windows[w][1]) {
            estimator.regularizedVariance(inverseMass);
            massSamples = estimator.count;
            estimator.restart();
            w++;
            step = da.step(das);
            if (findStep) {
              params.step = step;
              step = findReasonableStep(kernel, foldIn(kSearch, w), state, params);
              heuristicSteps.push(step);
            }
            das = da.init(step);
          }
        }
      }
      params.step = numWarmup > 0 ? da.final(das) : step;
      return {
        state,
        params,
        info: { schedule, stepTrace, acceptTrace, divergentTrace, heuristicSteps, massSamples },
      };
    },
  };
}
