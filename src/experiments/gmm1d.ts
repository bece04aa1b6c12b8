/**
 * The seed's 1-D experiment: learn the mode weight of U_z(x) = −log(e^{−(x−a)²/2} + e^{−z} e^{−(x−b)²/2})
 * from data drawn with q* = e^{−z*}/(1+e^{−z*}), starting at z = 0 (q = 0.5), four ways on the same data and
 * seed: exact score matching, CD-1, PCD and Jarzynski-reweighted SMC. Returns the q(t) curves and, for
 * Jarzynski, its running log Z estimate next to the exact log Z_z = log(1+e^{−z}) + ½ log 2π.
 */
import { MixtureEnergy } from "../energies/mixture.ts";
import {
  contrastiveDivergence,
  persistentContrastiveDivergence,
} from "../objectives/contrastive-divergence.ts";
import { jarzynski } from "../objectives/jarzynski.ts";
import type { Objective } from "../objectives/objective.ts";
import { scoreMatching } from "../objectives/score-matching.ts";
import { foldIn, keyFromSeed, split } from "../random/key.ts";
import { walkerWeights } from "../smc/walkers.ts";
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
}

export interface Gmm1dJarzynskiResult extends Gmm1dMethodResult {
  logZEstimate: Float64Array;
  logZExact: Float64Array;
  essTrace: Float64Array;
  resamplings: number;
  logzAbsErr: number;
}

export interface Gmm1dResult {
  options: Gmm1dOptions;
  /** Mass of mode b in the drawn training data. */
  dataQ: number;
  methods: Partial<Record<Exclude<Gmm1dMethod, "jarzynski">, Gmm1dMethodResult>> & {
    jarzynski?: Gmm1dJarzynskiResult;
  };
  seconds: Partial<Record<Gmm1dMethod, number>>;
}

export const qFromZ = (z: number): number => 1 / (1 + Math.exp(z));
export const zFromQ = (q: number): number => Math.log((1 - q) / q);

export type Gmm1dProgress = (method: Gmm1dMethod, iteration: number, total: number) => void;

export function validateGmm1dOptions(o: Gmm1dOptions): void {
  const int = (v: number) => Number.isInteger(v) && v >= 1;
  if (!(o.q > 0 && o.q < 1)) throw new RangeError(`--q must be in (0, 1), got ${o.q}`);
  if (!(o.modes[0] < o.modes[1]))
    throw new RangeError(`--modes must be a,b with a < b, got ${o.modes.join(",")}`);
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

  const result: Gmm1dResult = { options: o, dataQ: inB / o.dataSize, methods: {}, seconds: {} };
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
    if (isJ) {
      logZEstimate[0] = logZ0;
      logZExact[0] = logZ0;
      essTrace[0] = o.walkers;
    }
    const every = Math.max(1, Math.floor(o.iterations / 100));
    const { state } = train({
      model,
      objective: objectives[method](),
      optimizer: sgd(o.lr),
      data: { x: data, n: o.dataSize },
      iterations: o.iterations,
      // Every method sees the same data and the same key stream.
      key: foldIn(kTrain, 0),
      onIteration(k, params, diag) {
        qTrace[k + 1] = qFromZ(params[0]);
        if (isJ) {
          logZEstimate[k + 1] = logZ0 + (diag.logZRatio ?? Number.NaN);
          logZExact[k + 1] = model.logZ();
          essTrace[k + 1] = diag.ess ?? Number.NaN;
        }
        if (onProgress && ((k + 1) % every === 0 || k + 1 === o.iterations))
          onProgress(method, k + 1, o.iterations);
      },
    });
    const q = qTrace[o.iterations];
    const entry: Gmm1dMethodResult = { q, qTrace };
    const st = state as Record<string, unknown>;
    if (method === "pcd" || method === "cd") {
      const x = (st.chains as { position: Float64Array }).position;
      let c = 0;
      for (let i = 0; i < o.walkers; i++) if (x[i] > mid) c++;
      entry.walkerMassB = c / o.walkers;
    }
    if (isJ) {
      const js = st as unknown as import("../objectives/jarzynski.ts").JarzynskiState;
      const w = walkerWeights(js.walkers, new Float64Array(o.walkers));
      let m = 0;
      for (let i = 0; i < o.walkers; i++) if (js.walkers.position[i] > mid) m += w[i];
      const last = o.iterations;
      result.methods.jarzynski = {
        ...entry,
        walkerMassB: m,
        logZEstimate,
        logZExact,
        essTrace,
        resamplings: js.walkers.resamplings,
        logzAbsErr: Math.abs(logZEstimate[last] - logZExact[last]),
      };
    } else {
      result.methods[method] = entry;
    }
    result.seconds[method] = (performance.now() - t0) / 1000;
  }
  return result;
}
