/**
 * The seed's 1-D experiment: learn the mode weight of U_z(x) = −log(e^{−(x−a)²/2} + e^{−z} e^{−(x−b)²/2})
 * from data drawn with q* = e^{−z*}/(1+e^{−z*}), starting at z = 0 (q = 0.5), four ways on the same data and
 * seed: exact score matching, CD-1, PCD and Jarzynski-reweighted SMC. Returns the q(t) curves and, for
 * Jarzynski, its running log Z estimate next to the exact log Z_z = log(1+e^{−z}) + ½ log 2π, the ESS of
 * its weights before each resampling, the iterations where it resampled, and the health warnings of
 * smc/health.ts: under any of them its log Z and mass estimates are unreliable (`unreliable: true`).
 * Standard errors: Jarzynski's log Z and weighted mass from the walkers' genealogy (smc/walkers.ts); the
 * unweighted walker masses of CD and PCD are binomial, √(p(1−p)/N), given the training path. The final q
 * is a trained parameter, not an estimate: its spread needs replicas (other seeds) and is not reported.
 * A walker move that diverges stops the run with a NumericalError naming the method and the option.
 */
import { MixtureEnergy } from "../energies/mixture.ts";
import {
  contrastiveDivergence,
  persistentContrastiveDivergence,
} from "../objectives/contrastive-divergence.ts";
import { NumericalError } from "../math/errors.ts";
import { type JarzynskiDiagnostics, type JarzynskiState, jarzynski } from "../objectives/jarzynski.ts";
import type { Objective } from "../objectives/objective.ts";
import { scoreMatching } from "../objectives/score-matching.ts";
import { portableExpFast, portableLog } from "../random/elementary.ts";
import { foldIn, keyFromSeed, split } from "../random/key.ts";
import { type HealthWarning, type WalkerHealthStats, walkerHealth } from "../smc/health.ts";
import { logZRelVariance, weightedMeanSe } from "../smc/walkers.ts";
import { sgd } from "../train/optim.ts";
import { train } from "../train/trainer.ts";

export const GMM1D_METHODS = ["score_matching", "cd", "pcd", "jarzynski"] as const;
export type Gmm1dMethod = (typeof GMM1D_METHODS)[number];

export interface Gmm1dOptions {
  seed: number;
  /** Target mass of mode b, in (0, 1). */
  q: number;
  /** Modes a < b. */
  modes: [number, number];
  /** Training points drawn from the target. */
  dataSize: number;
  walkers: number;
  iterations: number;
  /** ULA step size h. */
  step: number;
  /** SGD learning rate on z. */
  lr: number;
  /** Jarzynski resampling: ESS threshold as a fraction of N, 0 = never. */
  resample: number;
  methods?: readonly Gmm1dMethod[];
}

export const GMM1D_DEFAULTS: Gmm1dOptions = {
  seed: 0,
  q: 0.8,
  modes: [-10, 10],
  dataSize: 10000,
  walkers: 1000,
  iterations: 2000,
  step: 0.01,
  lr: 0.1,
  resample: 0.5,
};

export interface Gmm1dMethodResult {
  q: number;
  /** q after every iteration (index 0 is the initial 0.5). */
  qTrace: Float64Array;
  /** Fraction of walkers near mode b at the end (weighted for Jarzynski); absent for score matching. */
  walkerMassB?: number;
  /** Its standard error (binomial for CD/PCD, Lee–Whiteley for Jarzynski). */
  walkerMassBSe?: number;
}

export interface Gmm1dJarzynskiResult extends Gmm1dMethodResult {
  logZEstimate: Float64Array;
  logZExact: Float64Array;
  /** Standard error of the final log Z estimate (Lee–Whiteley; NaN when the estimate is negative). */
  logZSe: number;
  /** ESS of the weights at every iteration, before resampling (index 0: the initial walkers). */
  essTrace: Float64Array;
  /** Iterations (1-based, as the traces) after whose weight update the walkers were resampled. */
  resampledAt: number[];
  resamplings: number;
  /** Median of essTrace[1..T] / N. */
  essMedianFraction: number;
  logzAbsErr: number;
  health: WalkerHealthStats;
  /** walkerHealth(health): empty when the weights are healthy. */
  warnings: HealthWarning[];
  /** True when there is any warning: log Z, the weighted mass and q are then not to be trusted. */
  unreliable: boolean;
}

export interface Gmm1dResult {
  options: Gmm1dOptions;
  /** Mass of mode b in the drawn training data. */
  dataQ: number;
  methods: Partial<Record<Exclude<Gmm1dMethod, "jarzynski">, Gmm1dMethodResult>> & {
    jarzynski?: Gmm1dJarzynskiResult;
  };
  seconds: Partial<Record<Gmm1dMethod, number>>;
  /** Every method's warnings, in method order (only Jarzynski has health checks). */
  warnings: (HealthWarning & { method: Gmm1dMethod })[];
}

// The portable exp and log (src/random/elementary.ts): the same q(t) and z on every host.
export const qFromZ = (z: number): number => 1 / (1 + portableExpFast(z));
export const zFromQ = (q: number): number => portableLog((1 - q) / q);

export type Gmm1dProgress = (method: Gmm1dMethod, iteration: number, total: number) => void;

/**
 * Largest |mode| accepted. Float64 resolves x near a mode to |x|·2^−52, which must stay far below the wells'
 * unit width and the ULA moves √(2h): at 10^6 it is 2·10^−10, and (b − a)²/2 ≤ 2·10^12 stays far from
 * overflow. Beyond ~10^15 the data's unit-variance noise is lost in rounding; near 10^154 U overflows.
 */
export const GMM1D_MAX_MODE = 1e6;

export function validateGmm1dOptions(o: Gmm1dOptions): void {
  const int = (v: number) => Number.isInteger(v) && v >= 1;
  if (!(o.q > 0 && o.q < 1)) throw new RangeError(`--q must be in (0, 1), got ${o.q}`);
  if (!Number.isFinite(zFromQ(o.q)))
    throw new RangeError(`--q is too close to 0 or 1 for float64 (log-odds not finite), got ${o.q}`);
  if (!(o.modes[0] < o.modes[1]))
    throw new RangeError(`--modes must be a,b with a < b, got ${o.modes.join(",")}`);
  if (!(Math.abs(o.modes[0]) <= GMM1D_MAX_MODE && Math.abs(o.modes[1]) <= GMM1D_MAX_MODE))
    throw new RangeError(
      `--modes must lie within ±${GMM1D_MAX_MODE.toExponential()} (float64 cannot resolve unit-width wells ` +
        `beyond), got ${o.modes.join(",")}`,
    );
  if (!int(o.walkers)) throw new RangeError(`--walkers must be an integer ≥ 1, got ${o.walkers}`);
  if (!int(o.iterations)) throw new RangeError(`--iters must be an integer ≥ 1, got ${o.iterations}`);
  if (!int(o.dataSize)) throw new RangeError(`--data must be an integer ≥ 1, got ${o.dataSize}`);
  if (!(o.step > 0)) throw new RangeError(`--step must be positive, got ${o.step}`);
  if (!(o.lr > 0)) throw new RangeError(`--lr must be positive, got ${o.lr}`);
  if (!(o.resample >= 0 && o.resample <= 1)) throw new RangeError(`--resample must be never or in (0, 1]`);
}

export function runGmm1d(options: Gmm1dOptions, onProgress?: Gmm1dProgress): Gmm1dResult {
  validateGmm1dOptions(options);
  const o = options;
  const [a, b] = o.modes;
  const mid = 0.5 * (a + b);
  const root = keyFromSeed(o.seed);
  const [kData, kTrain] = split(root, 2);

  const target = MixtureEnergy.twoWell(a, b, zFromQ(o.q));
  const data = new Float64Array(o.dataSize);
  target.sampleExact(kData, o.dataSize, data);
  let inB = 0;
  for (const x of data) if (x > mid) inB++;

  const objectives: Record<Gmm1dMethod, () => Objective> = {
    score_matching: () => scoreMatching() as Objective,
    cd: () => contrastiveDivergence({ walkers: o.walkers, step: o.step, k: 1 }) as Objective,
    pcd: () => persistentContrastiveDivergence({ walkers: o.walkers, step: o.step, k: 1 }) as Objective,
    jarzynski: () => jarzynski({ walkers: o.walkers, step: o.step, resample: o.resample }) as Objective,
  };

  const result: Gmm1dResult = {
    options: o,
    dataQ: inB / o.dataSize,
    methods: {},
    seconds: {},
    warnings: [],
  };
  const methods = o.methods ?? GMM1D_METHODS;
  for (const method of methods) {
    const t0 = performance.now();
    const model = MixtureEnergy.twoWell(a, b, 0);
    const logZ0 = model.logZ();
    const qTrace = new Float64Array(o.iterations + 1);
    qTrace[0] = 0.5;
    const isJ = method === "jarzynski";
    const logZEstimate = new Float64Array(isJ ? o.iterations + 1 : 0);
    const logZExact = new Float64Array(isJ ? o.iterations + 1 : 0);
    const essTrace = new Float64Array(isJ ? o.iterations + 1 : 0);
    const resampledAt: number[] = [];
    if (isJ) {
      logZEstimate[0] = logZ0;
      logZExact[0] = logZ0;
      essTrace[0] = o.walkers;
    }
    const every = Math.max(1, Math.floor(o.iterations / 100));
    let state: unknown;
    let zDiverged = false;
    try {
      ({ state } = train({
        model,
        objective: objectives[method](),
        optimizer: sgd(o.lr),
        data: { x: data, n: o.dataSize },
        iterations: o.iterations,
        // Every method sees the same data and the same key stream.
        key: foldIn(kTrain, 0),
        onIteration(k, params, diag) {
          if (!Number.isFinite(params[0])) {
            zDiverged = true;
            throw new NumericalError(
              `${method}: the model parameter z became ${params[0]} at iteration ${k + 1}; lower --lr (now ${o.lr})`,
            );
          }
          qTrace[k + 1] = qFromZ(params[0]);
          if (isJ) {
            const jd = diag as JarzynskiDiagnostics;
            logZEstimate[k + 1] = logZ0 + jd.logZRatio;
            logZExact[k + 1] = model.logZ();
            essTrace[k + 1] = jd.ess;
            if (jd.resampled) resampledAt.push(k + 1);
          }
          if (onProgress && ((k + 1) % every === 0 || k + 1 === o.iterations))
            onProgress(method, k + 1, o.iterations);
        },
      }));
    } catch (err) {
      if (err instanceof NumericalError && !zDiverged)
        throw new NumericalError(
          `${err.message}; lower --step (now ${o.step}: the wells have curvature 1, where ULA is stable ` +
            "only for steps below 2)",
        );
      throw err;
    }
    const q = qTrace[o.iterations];
    const entry: Gmm1dMethodResult = { q, qTrace };
    const st = state as Record<string, unknown>;
    if (method === "pcd" || method === "cd") {
      const x = (st.chains as { position: Float64Array }).position;
      let c = 0;
      for (let i = 0; i < o.walkers; i++) if (x[i] > mid) c++;
      const p = c / o.walkers;
      entry.walkerMassB = p;
      entry.walkerMassBSe = Math.sqrt((p * (1 - p)) / o.walkers);
    }
    if (isJ) {
      const js = st as unknown as JarzynskiState;
      const w = js.walkers;
      const isB = new Float64Array(o.walkers);
      for (let i = 0; i < o.walkers; i++) isB[i] = w.position[i] > mid ? 1 : 0;
      const mass = weightedMeanSe(w, isB);
      const last = o.iterations;
      const sorted = Float64Array.from(essTrace.subarray(1)).sort();
      const h = sorted.length >> 1;
      const median = sorted.length % 2 ? sorted[h] : 0.5 * (sorted[h - 1] + sorted[h]);
      const warnings = walkerHealth(js.health);
      result.methods.jarzynski = {
        ...entry,
        walkerMassB: mass.mean,
        walkerMassBSe: mass.se,
        logZEstimate,
        logZExact,
        logZSe: Math.sqrt(logZRelVariance(w)),
        essTrace,
        resampledAt,
        resamplings: w.resamplings,
        essMedianFraction: median / o.walkers,
        logzAbsErr: Math.abs(logZEstimate[last] - logZExact[last]),
        health: { ...js.health },
        warnings,
        unreliable: warnings.length > 0,
      };
      for (const wn of warnings) result.warnings.push({ method, ...wn });
    } else {
      result.methods[method] = entry;
    }
    result.seconds[method] = (performance.now() - t0) / 1000;
  }
  return result;
}
