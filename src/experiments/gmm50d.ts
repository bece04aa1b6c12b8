/**
 * The high-dimensional mixture experiment of the Jarzynski paper (Carbone, Hua, Coste & Vanden-Eijnden
 * 2023): data from two unit-covariance Gaussian modes in d dimensions (default 50) with masses 1 − m and m
 * (default m = 0.75), far enough apart that a ULA walker never crosses; the model is the same family,
 *
 *   U_θ(x) = −log[ e^{−|x−a|²/2} + e^{−c} e^{−|x−b|²/2} ],   θ = (c, a, b),   mass of b: q = 1/(1 + e^{c}),
 *
 * started at equal masses (c = 0) with both means displaced from the truth. CD-1, PCD and Jarzynski SMC
 * train it from the same θ₀, data and seed (Adam). The means are learned by every method (the walkers sit in
 * both modes); only the Jarzynski weights move mass between the modes, so only Jarzynski learns q.
 *
 * Reported per method: the learned mass q (mean ± SE over `replicas` independent runs, seeds seed, seed+1,
 * …), the error of the means, and KL(data‖model) = E_data[log ρ* − log ρ_θ] by Monte Carlo on fresh
 * target draws (± its SE) — both densities are normalised in closed form. For Jarzynski also its running
 * log Z_θ against the closed form Z_θ = (1 + e^{−c})(2π)^{d/2}.
 */
import { MixtureEnergy } from "../energies/mixture.ts";
import {
  contrastiveDivergence,
  persistentContrastiveDivergence,
} from "../objectives/contrastive-divergence.ts";
import { jarzynski } from "../objectives/jarzynski.ts";
import type { Objective } from "../objectives/objective.ts";
import { foldIn, keyFromSeed, Stream, split } from "../random/key.ts";
import { adam, sgd } from "../train/optim.ts";
import { trainer } from "../train/trainer.ts";

export const GMM50D_METHODS = ["cd", "pcd", "jarzynski"] as const;
export type Gmm50dMethod = (typeof GMM50D_METHODS)[number];

export interface Gmm50dOptions {
  dim: number;
  /** Target mass m of mode b. */
  mass: number;
  /** Distance between the two target means. */
  separation: number;
  /** Distance of each initial model mean from its target mean (in a random direction). */
  offset: number;
  methods: Gmm50dMethod[];
  walkers: number;
  iters: number;
  step: number;
  lr: number;
  /** Learn the two means (default) or keep them at their starting values and learn only the mass. */
  learnMeans: boolean;
  /** Plain gradient descent ("sgd") or Adam. */
  optimizer: "sgd" | "adam";
  /** Jarzynski: walker groups of the first-order feedback correction (objectives/jarzynski.ts; 0: off). */
  feedbackGroups: number;
  /** Jarzynski: walkers of the decoupled estimator population (0: none). */
  estimatorWalkers: number;
  /** Jarzynski: resample when ESS < resample·N. */
  resample: number;
  batch: number;
  dataSize: number;
  /** Independent runs per method (seeds seed, seed+1, …); the mass is reported as mean ± SE over them. */
  replicas: number;
  /** Fresh target draws for the Monte Carlo KL. */
  klSamples: number;
  seed: number;
}

export const GMM50D_DEFAULTS: Gmm50dOptions = {
  dim: 50,
  mass: 0.75,
  separation: 10,
  offset: 1,
  methods: [...GMM50D_METHODS],
  // The paper's settings (Carbone et al. 2023, the official 50-D script): N = 10⁴ walkers, h = 0.1, plain
  // gradient descent with rate h/8. Fewer walkers, or Adam's larger normalised steps, let the walkers'
  // feedback on their own weights (see objectives/jarzynski.ts, feedbackGroups) bias the mass: at N = 1000
  // with Adam 3e-3 it ended near 0.84 after 2000 iterations and kept drifting.
  walkers: 10000,
  iters: 2000,
  step: 0.1,
  lr: 0.0125,
  learnMeans: true,
  estimatorWalkers: 1000,
  feedbackGroups: 0,
  optimizer: "sgd",
  resample: 0.5,
  batch: 500,
  dataSize: 10000,
  replicas: 3,
  klSamples: 20000,
  seed: 0,
};

export interface Gmm50dRun {
  seed: number;
  mass: number;
  /** |a − a*| and |b − b*| at the end. */
  meanErrors: [number, number];
  kl: number;
  klSe: number;
  /** Jarzynski: running log Z_θ estimate ± SE, and the closed form. */
  logZ?: number;
  logZSe?: number;
  logZExact?: number;
  /** Jarzynski: the decoupled estimator population's log Z_θ ± SE (it follows θ but does not drive it). */
  estimatorLogZ?: number;
  estimatorLogZSe?: number;
  /** q along training (every iteration). */
  massTrace: Float64Array;
  seconds: number;
}

export interface Gmm50dMethodResult {
  method: Gmm50dMethod;
  runs: Gmm50dRun[];
  /** Mean ± SE over replicas (SE NaN with one replica). */
  mass: number;
  massSe: number;
  kl: number;
  klSe: number;
}

export interface Gmm50dResult {
  options: Gmm50dOptions;
  /** The data's own fraction in mode b. */
  dataMass: number;
  methods: Gmm50dMethodResult[];
}

export function validateGmm50dOptions(o: Gmm50dOptions): void {
  const int = (name: string, v: number, min: number) => {
    if (!(Number.isSafeInteger(v) && v >= min))
      throw new RangeError(`${name} must be an integer ≥ ${min}, got ${v}`);
  };
  int("dim", o.dim, 1);
  int("walkers", o.walkers, 2);
  int("iters", o.iters, 1);
  int("batch", o.batch, 1);
  int("dataSize", o.dataSize, 1);
  int("replicas", o.replicas, 1);
  int("klSamples", o.klSamples, 2);
  int("estimatorWalkers", o.estimatorWalkers, 0);
  if (!(o.mass > 0 && o.mass < 1)) throw new RangeError(`mass must be in (0, 1), got ${o.mass}`);
  for (const [name, v] of [
    ["separation", o.separation],
    ["step", o.step],
    ["lr", o.lr],
  ] as const)
    if (!(v > 0 && Number.isFinite(v))) throw new RangeError(`${name} must be positive, got ${v}`);
  if (!(o.offset >= 0 && Number.isFinite(o.offset)))
    throw new RangeError(`offset must be ≥ 0, got ${o.offset}`);
  for (const m of o.methods)
    if (!GMM50D_METHODS.includes(m))
      throw new RangeError(`unknown method '${m}' (choose from ${GMM50D_METHODS.join(", ")})`);
}

/** Target means ∓(separation/2)·(1, …, 1)/√d. */
function targetMeans(o: Gmm50dOptions): [number[], number[]] {
  const s = o.separation / 2 / Math.sqrt(o.dim);
  return [new Array(o.dim).fill(-s), new Array(o.dim).fill(s)];
}

function objectiveFor(method: Gmm50dMethod, o: Gmm50dOptions): Objective<unknown> {
  switch (method) {
    case "cd":
      return contrastiveDivergence({ walkers: o.walkers, step: o.step }) as Objective<unknown>;
    case "pcd":
      return persistentContrastiveDivergence({ walkers: o.walkers, step: o.step }) as Objective<unknown>;
    case "jarzynski":
      return jarzynski({
        walkers: o.walkers,
        step: o.step,
        resample: o.resample,
        feedbackGroups: o.feedbackGroups,
        ...(o.estimatorWalkers > 0 ? { estimator: { walkers: o.estimatorWalkers } } : {}),
      }) as Objective<unknown>;
  }
}

function meanSe(v: number[]): { mean: number; se: number } {
  const n = v.length;
  const mean = v.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, se: Number.NaN };
  return { mean, se: Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) / n) };
}

export type Gmm50dProgress = (label: string, done: number, total: number) => void;

export function runGmm50d(opts: Partial<Gmm50dOptions> = {}, progress?: Gmm50dProgress): Gmm50dResult {
  const o: Gmm50dOptions = { ...GMM50D_DEFAULTS, ...opts };
  validateGmm50dOptions(o);
  const d = o.dim;
  const [aStar, bStar] = targetMeans(o);
  const cStar = Math.log((1 - o.mass) / o.mass);
  const target = new MixtureEnergy({ means: [aStar, bStar], stds: [1, 1], offsets: [cStar] });
  const root = keyFromSeed(o.seed);
  const data = new Float64Array(o.dataSize * d);
  target.sampleExact(foldIn(root, 1), o.dataSize, data);
  let inB = 0;
  for (let i = 0; i < o.dataSize; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += data[i * d + j];
    if (s > 0) inB++;
  }
  // Fresh target draws and their target log density, for the Monte Carlo KL.
  const fresh = new Float64Array(o.klSamples * d);
  target.sampleExact(foldIn(root, 2), o.klSamples, fresh);
  const uTarget = new Float64Array(o.klSamples);
  target.energy(fresh, o.klSamples, uTarget);
  const logZTarget = target.logZ();

  const methods: Gmm50dMethodResult[] = [];
  for (const method of o.methods) {
    const runs: Gmm50dRun[] = [];
    for (let r = 0; r < o.replicas; r++) {
      const seed = o.seed + r;
      const [kInit, kOffset, kLoop] = split(keyFromSeed(seed), 3);
      const rng = new Stream(kOffset);
      const displaced = (m: number[]) => {
        const u = m.map(() => rng.normal());
        const norm = Math.hypot(...u);
        return m.map((v, j) => v + (o.offset * u[j]) / norm);
      };
      const model = new MixtureEnergy({
        means: [displaced(aStar), displaced(bStar)],
        stds: [1, 1],
        offsets: [0],
        learnMeans: o.learnMeans,
      });
      const objective = objectiveFor(method, o);
      const t = trainer({
        model,
        objective,
        optimizer: o.optimizer === "sgd" ? sgd(o.lr) : adam(o.lr),
        data: { x: data, n: o.dataSize },
        batchSize: o.batch,
      });
      const state = t.init(kInit);
      const massTrace = new Float64Array(o.iters + 1);
      massTrace[0] = 0.5;
      const t0 = performance.now();
      for (let k = 0; k < o.iters; k++) {
        t.step(foldIn(kLoop, k), state);
        massTrace[k + 1] = 1 / (1 + Math.exp(state.params[0]));
        progress?.(`${method}${o.replicas > 1 ? ` #${r + 1}` : ""}`, k + 1, o.iters);
      }
      const seconds = (performance.now() - t0) / 1000;
      const theta = state.params;
      const meanErr = (off: number, truth: number[]) => {
        let s = 0;
        for (let j = 0; j < d; j++) s += (theta[off + j] - truth[j]) ** 2;
        return Math.sqrt(s);
      };
      // KL(ρ*‖ρ_θ) = E*[U_θ + log Z_θ − U* − log Z*] on fresh target draws.
      const uModel = new Float64Array(o.klSamples);
      model.energy(fresh, o.klSamples, uModel);
      const logZModel = model.logZ();
      let mean = 0;
      let m2 = 0;
      for (let i = 0; i < o.klSamples; i++) {
        const v = uModel[i] + logZModel - uTarget[i] - logZTarget;
        const dv = v - mean;
        mean += dv / (i + 1);
        m2 += dv * (v - mean);
      }
      const run: Gmm50dRun = {
        seed,
        mass: massTrace[o.iters],
        meanErrors: [meanErr(1, aStar), meanErr(1 + d, bStar)],
        kl: mean,
        klSe: Math.sqrt(m2 / (o.klSamples - 1) / o.klSamples),
        massTrace,
        seconds,
      };
      if (method === "jarzynski") {
        const diag = (objective as ReturnType<typeof jarzynski>).diagnostics(state.objective as never);
        // The walkers start as exact draws of ρ_θ₀, so their estimate is log(Z_θ/Z_θ₀), Z_θ₀ = 2(2π)^{d/2}.
        const logZ0 = Math.log(2) + 0.5 * d * Math.log(2 * Math.PI);
        run.logZ = logZ0 + diag.logZRatio;
        run.logZSe = diag.logZSe;
        run.logZExact = logZModel;
        if (diag.estimator) {
          run.estimatorLogZ = logZ0 + diag.estimator.logZRatio;
          run.estimatorLogZSe = diag.estimator.logZSe;
        }
      }
      runs.push(run);
    }
    const mass = meanSe(runs.map((x) => x.mass));
    const kl = meanSe(runs.map((x) => x.kl));
    methods.push({
      method,
      runs,
      mass: mass.mean,
      massSe: mass.se,
      kl: kl.mean,
      klSe: runs.length > 1 ? kl.se : runs[0].klSe,
    });
  }
  return { options: o, dataMass: inB / o.dataSize, methods };
}
