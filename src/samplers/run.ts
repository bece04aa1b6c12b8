/**
 * Running chains end to end: pick a kernel by name and build it once, warm up (with Stan-style step-size
 * and mass adaptation where the kernel has an acceptance statistic and no step was given), then collect
 * draws with the adapted parameters.
 * Warm-up draws are never returned. Draws are laid out draws × chains × dim, the layout the diagnostics
 * read. Used by `ebm sample`; also the simplest way to sample from a library energy.
 */
import type { Energy } from "../energies/contract.ts";
import type { DiscreteEnergy, RelaxedGradient } from "../energies/discrete.ts";
import { Rbm } from "../energies/rbm.ts";
import { foldIn, type Key, Stream, split } from "../random/key.ts";
import { windowAdaptation } from "./adaptation.ts";
import { blockGibbs } from "./discrete/block-gibbs.ts";
import { dmala } from "./discrete/dmala.ts";
import { flipMetropolis } from "./discrete/flip.ts";
import { gibbs } from "./discrete/gibbs.ts";
import { gibbsWithGradients } from "./discrete/gwg.ts";
import type { DiscreteChainState, DiscreteSampler } from "./discrete/types.ts";
import { type HmcParams, hmc } from "./hmc.ts";
import { kineticLangevin } from "./kinetic.ts";
import { mala } from "./mala.ts";
import type { MetricKind } from "./metric.ts";
import { nuts } from "./nuts.ts";
import { rwm } from "./rwm.ts";
import type { ChainState, MhInfo, Sampler, StepInfo } from "./types.ts";
import { ula } from "./ula.ts";

export const CONTINUOUS_SAMPLERS = ["rwm", "ula", "mala", "hmc", "nuts", "kinetic"] as const;
export const DISCRETE_SAMPLERS = ["gibbs", "flip", "gwg", "dmala", "block-gibbs"] as const;
export type ContinuousSamplerName = (typeof CONTINUOUS_SAMPLERS)[number];
export type DiscreteSamplerName = (typeof DISCRETE_SAMPLERS)[number];

/**
 * Largest dimension for which `metric: "auto"` adapts a dense inverse mass: the kernels' O(d²) work per
 * gradient evaluation stays negligible, and Stan's default warm-up pools enough draws for the d(d+1)/2
 * entries.
 */
export const DENSE_METRIC_MAX_DIM = 20;

function chooseMetric(metric: MetricKind | "auto" | undefined, dim: number): MetricKind {
  if (metric === "diagonal" || metric === "dense") return metric;
  if (metric !== undefined && metric !== "auto")
    throw new RangeError(`metric must be auto, diagonal or dense, got '${metric}'`);
  return dim <= DENSE_METRIC_MAX_DIM ? "dense" : "diagonal";
}

/** Target acceptance of the dual-averaging step-size adaptation, per kernel. */
export const TARGET_ACCEPT: Record<Exclude<ContinuousSamplerName, "ula">, number> = {
  rwm: 0.3,
  mala: 0.574,
  hmc: 0.8,
  nuts: 0.8,
  kinetic: 0.8,
};

export interface RunProgress {
  (phase: "warmup" | "sampling", done: number, total: number): void;
}

export interface ContinuousRunOptions {
  sampler: ContinuousSamplerName;
  chains: number;
  warmup: number;
  draws: number;
  /** Keep every thin-th draw (default 1). */
  thin?: number;
  /** Fixed step size; adapted during warm-up when omitted (required for ULA). */
  step?: number;
  beta?: number;
  /**
   * HMC: the maximum number of leapfrog steps per transition (default 10); each chain draws its number
   * uniformly from 1 … leapfrogSteps at every transition (see `hmcJitter`).
   */
  leapfrogSteps?: number;
  /** HMC path-length jitter in [0, 1] (default 1: uniform on 1 … leapfrogSteps; 0: fixed length). */
  hmcJitter?: number;
  /**
   * The inverse mass adapted in warm-up (not for RWM): "diagonal", "dense", or "auto" (default): dense when
   * dim ≤ DENSE_METRIC_MAX_DIM, diagonal above.
   */
  metric?: MetricKind | "auto";
  /** Kinetic Langevin friction (default 1). */
  friction?: number;
  key: Key;
  /** Starting positions (chains × dim); default uniform on [−2, 2]^dim, as Stan. */
  init?: Float64Array;
  onProgress?: RunProgress;
}

export interface RunResult {
  /** numDraws × chains × dim. */
  draws: Float64Array;
  numDraws: number;
  chains: number;
  dim: number;
  /** Mean acceptance probability over the kept-or-not sampling steps (NaN for kernels without MH). */
  acceptance: number;
  /** Divergent transitions during sampling (warm-up excluded), and during warm-up. */
  divergences: number;
  warmupDivergences: number;
  /**
   * numDraws × chains: 1 where a divergent transition led to the draw (with thinning, any of the transitions
   * since the previous kept draw), as Stan flags its draws; where the sampler met high curvature.
   */
  divergentDraws: Uint8Array;
  /** Step size used for sampling (adapted or given); undefined for kernels without one. */
  step?: number;
  inverseMass?: Float64Array;
}

/** The kernel named by the options, built once; its steps take `HmcParams` (numSteps is read by HMC only). */
function makeKernel(energy: Energy, o: ContinuousRunOptions): Sampler<ChainState, StepInfo, HmcParams> {
  const beta = o.beta ?? 1;
  switch (o.sampler) {
    case "rwm":
      return rwm(energy, { beta });
    case "ula":
      return ula(energy, { beta });
    case "mala":
      return mala(energy, { beta });
    case "hmc":
      return hmc(energy, { beta, jitter: o.hmcJitter });
    case "nuts":
      return nuts(energy, { beta });
    case "kinetic":
      return kineticLangevin(energy, { beta, friction: o.friction, metropolize: true });
  }
}

/**
 * `steps` transitions of any kernel (continuous or discrete) with keys foldIn(key, t), counting divergences
 * and averaging the MH acceptance probabilities when the kernel reports them; `after(t + 1, info)` runs
 * after each step (to record draws), and progress is reported every 50 steps.
 */
function runSteps(
  step: (key: Key) => StepInfo,
  key: Key,
  steps: number,
  phase: "warmup" | "sampling",
  o: { onProgress?: RunProgress },
  after?: (done: number, info: StepInfo) => void,
): { divergences: number; acceptance: number } {
  let acc = 0;
  let accCount = 0;
  let divergences = 0;
  for (let t = 0; t < steps; t++) {
    const info = step(foldIn(key, t));
    for (const v of info.divergent) divergences += v;
    const ap = (info as Partial<MhInfo>).acceptProb;
    if (ap)
      for (const v of ap) {
        acc += Number.isNaN(v) ? 0 : Math.min(1, v);
        accCount++;
      }
    after?.(t + 1, info);
    if ((t + 1) % 50 === 0 || t + 1 === steps) o.onProgress?.(phase, t + 1, steps);
  }
  return { divergences, acceptance: accCount ? acc / accCount : Number.NaN };
}

function checkCounts(o: { chains: number; warmup: number; draws: number; thin?: number }): number {
  const thin = o.thin ?? 1;
  if (!(Number.isInteger(o.chains) && o.chains >= 1)) throw new RangeError("chains must be an integer ≥ 1");
  if (!(Number.isInteger(o.warmup) && o.warmup >= 0)) throw new RangeError("warmup must be an integer ≥ 0");
  if (!(Number.isInteger(o.draws) && o.draws >= 1)) throw new RangeError("draws must be an integer ≥ 1");
  if (!(Number.isInteger(thin) && thin >= 1)) throw new RangeError("thin must be an integer ≥ 1");
  return thin;
}

export function runContinuous(energy: Energy, o: ContinuousRunOptions): RunResult {
  const thin = checkCounts(o);
  const d = energy.dim;
  const n = o.chains;
  if (o.sampler === "ula" && o.step === undefined)
    throw new RangeError("ULA needs a step size: it has no acceptance rate to adapt to");
  const [kInit, kWarm, kDraw] = split(o.key, 3);
  const x0 = o.init ?? new Stream(kInit).fillUniform(new Float64Array(n * d)).map((u) => 4 * u - 2);
  const adapt = o.step === undefined;
  const numSteps = o.leapfrogSteps ?? 10;
  let params: HmcParams = { step: o.step ?? 1, numSteps };
  const kernel = makeKernel(energy, o);
  const state = kernel.init(x0, n);
  let warmupDivergences = 0;
  if (adapt && o.sampler !== "ula" && o.warmup > 0) {
    const adaptation = windowAdaptation(kernel as Sampler<ChainState, MhInfo, HmcParams>, {
      numWarmup: o.warmup,
      targetAccept: TARGET_ACCEPT[o.sampler],
      adaptMass: o.sampler !== "rwm",
      metric: chooseMetric(o.metric, d),
      params: { numSteps },
    });
    const r = adaptation.run(kWarm, state);
    params = r.params;
    for (const v of r.info.divergentTrace) warmupDivergences += v;
    o.onProgress?.("warmup", o.warmup, o.warmup);
  } else {
    const step = (k: Key) => kernel.step(k, state, params);
    warmupDivergences = runSteps(step, kWarm, o.warmup, "warmup", o).divergences;
  }
  const draws = new Float64Array(o.draws * n * d);
  const divergentDraws = new Uint8Array(o.draws * n);
  const pending = new Uint8Array(n);
  const r = runSteps(
    (k) => kernel.step(k, state, params),
    kDraw,
    o.draws * thin,
    "sampling",
    o,
    (k, info) => {
      for (let c = 0; c < n; c++) if (info.divergent[c]) pending[c] = 1;
      if (k % thin === 0) {
        draws.set(state.position, (k / thin - 1) * n * d);
        divergentDraws.set(pending, (k / thin - 1) * n);
        pending.fill(0);
      }
    },
  );
  return {
    draws,
    numDraws: o.draws,
    chains: n,
    dim: d,
    acceptance: r.acceptance,
    divergences: r.divergences,
    warmupDivergences,
    divergentDraws,
    step: params.step,
    inverseMass: params.inverseMass,
  };
}

export interface DiscreteRunOptions {
  sampler: DiscreteSamplerName;
  chains: number;
  warmup: number;
  draws: number;
  thin?: number;
  beta?: number;
  /** DMALA step size α (default 0.2). */
  step?: number;
  key: Key;
  onProgress?: RunProgress;
}

export interface DiscreteRunResult {
  /** numDraws × chains × sites bits (0/1). */
  draws: Uint8Array;
  numDraws: number;
  chains: number;
  sites: number;
  acceptance: number;
  divergences: number;
  warmupDivergences: number;
}

function makeDiscreteKernel(
  energy: DiscreteEnergy & RelaxedGradient,
  o: DiscreteRunOptions,
): DiscreteSampler<DiscreteChainState, StepInfo> {
  const beta = o.beta ?? 1;
  switch (o.sampler) {
    case "gibbs":
      return gibbs(energy, { beta });
    case "flip":
      return flipMetropolis(energy, { beta });
    case "gwg":
      return gibbsWithGradients(energy, { beta }) as DiscreteSampler<DiscreteChainState, StepInfo>;
    case "dmala":
      return dmala(energy, { beta, step: o.step ?? 0.2 }) as DiscreteSampler<DiscreteChainState, StepInfo>;
    case "block-gibbs":
      if (!(energy instanceof Rbm)) throw new RangeError("block-gibbs needs a bipartite energy (an RBM)");
      return blockGibbs(energy, { beta }) as unknown as DiscreteSampler<DiscreteChainState, StepInfo>;
  }
}

export function runDiscrete(
  energy: DiscreteEnergy & RelaxedGradient,
  o: DiscreteRunOptions,
): DiscreteRunResult {
  const thin = checkCounts(o);
  const n = o.chains;
  const s = energy.sites;
  const [kInit, kWarm, kDraw] = split(o.key, 3);
  const rng = new Stream(kInit);
  const x0 = new Uint8Array(n * s);
  for (let i = 0; i < x0.length; i++) x0[i] = rng.nextU32() & 1;
  const kernel = makeDiscreteKernel(energy, o);
  const state = kernel.init(x0, n);
  const step = (k: Key) => kernel.step(k, state).info;
  const warmupDivergences = runSteps(step, kWarm, o.warmup, "warmup", o).divergences;
  const draws = new Uint8Array(o.draws * n * s);
  const r = runSteps(step, kDraw, o.draws * thin, "sampling", o, (k) => {
    if (k % thin === 0) draws.set(state.x, (k / thin - 1) * n * s);
  });
  return {
    draws,
    numDraws: o.draws,
    chains: n,
    sites: s,
    acceptance: r.acceptance,
    divergences: r.divergences,
    warmupDivergences,
  };
}
