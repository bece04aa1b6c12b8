/**
 * Generalized EBMs on 2-D data (Arbel, Zhou & Gretton, ICLR 2021): a small generator B_θ : R^k → R² and
 * an energy E_ψ trained together by KALE (src/gebm/train.ts), then compared as samplers of the data set:
 *
 *   - "generator": X = B_θ(Z), Z ~ N(0, I) (the base Q_θ alone);
 *   - "gebm β=1":  X = B_θ(Z), Z ~ ν_1 ∝ η e^{−E∘B} (the model Q_{B,E});
 *   - "gebm β=B":  the same at a low temperature β = B (energy term sharpened, prior kept).
 *
 * Chains at β = 1 start by importance resampling of prior draws (src/gebm/sample.ts), so they start with
 * the model's mode masses; at β = B they start at prior draws, as in the paper: resampling at low
 * temperature would put every chain in the deepest mode, while local moves from prior starts keep each
 * chain in its own basin and sharpen it — concentration on the modes, not their masses.
 *
 * Every number is in nats or in mass units, per seed (independent data, initialisation and sampling keys
 * derived from the seed), then mean ± SE over seeds; the GEBM − generator differences are paired by seed:
 *   - MMD² (unbiased, Gaussian kernel of bandwidth `bandwidth`, the same for every arm: 0.25, the scale of
 *     a mode, by default — the median heuristic, ~3 here, measures mostly the spread between modes)
 *     between `evalSamples` draws and `evalSamples` held-out points;
 *   - mode masses: each draw goes to its component (nearest centre; for rings the nearest radius), and the
 *     total-variation distance ½Σ_k|m_k − w_k| to the true weights;
 *   - histogram KL(P‖model) on a `grid`² grid over the set's extent: the true cell masses by 4×4 sub-cell
 *     quadrature of the exact density, the model's from its draws with ½ pseudo-count per cell (a plug-in
 *     estimate, biased upward by finite samples alike for every arm);
 *   - concentration: the mean true log-density of the draws (higher: nearer the modes).
 */
import { toy2d, type Toy2dSpec } from "../data/toy2d.ts";
import { nearestCentre, replicaMeanSe, type ReplicaSummary } from "../eval/masses.ts";
import { mmd2 } from "../eval/mmd.ts";
import { createGebm, type Gebm, sampleBase } from "../gebm/model.ts";
import { type LatentSamplerName, sampleGebm } from "../gebm/sample.ts";
import { gebmKale, type GebmStepRecord, GebmTrainer, type KaleEstimate } from "../gebm/train.ts";
import { foldIn, keyFromSeed, split } from "../random/key.ts";

export const GEBM2D_DATASETS = ["mog4-unequal", "rings", "8gaussians"] as const;

export interface Gebm2dOptions {
  datasets: string[];
  seeds: number;
  /** First seed (seeds firstSeed … firstSeed + seeds − 1). */
  firstSeed: number;
  latentDim: number;
  generatorHidden: number[];
  energyHidden: number[];
  iterations: number;
  energySteps: number;
  /** Energy steps with the generator fixed, after training. */
  finalEnergySteps: number;
  batchSize: number;
  lr: number;
  gradientPenalty: number;
  trainPoints: number;
  evalSamples: number;
  /** The low temperature's β. */
  betaHigh: number;
  sampler: LatentSamplerName;
  samplerSteps: number;
  friction: number;
  grid: number;
  /** Gaussian-kernel bandwidth of the MMD (the same for every arm and seed). */
  bandwidth: number;
}

export const GEBM2D_DEFAULTS: Gebm2dOptions = {
  datasets: ["mog4-unequal", "rings"],
  seeds: 5,
  firstSeed: 0,
  latentDim: 2,
  generatorHidden: [16],
  energyHidden: [64, 64],
  iterations: 1500,
  energySteps: 5,
  finalEnergySteps: 1000,
  batchSize: 256,
  lr: 1e-3,
  gradientPenalty: 1,
  trainPoints: 20000,
  evalSamples: 2000,
  betaHigh: 10,
  sampler: "mala",
  samplerSteps: 300,
  friction: 1,
  grid: 20,
  bandwidth: 0.25,
};

export const GEBM2D_QUICK: Partial<Gebm2dOptions> = {
  datasets: ["mog4-unequal"],
  seeds: 3,
  iterations: 400,
  finalEnergySteps: 300,
  evalSamples: 600,
  samplerSteps: 150,
  trainPoints: 4000,
};

export const GEBM2D_ARMS = ["generator", "gebm", "gebmCold"] as const;
export type Gebm2dArm = (typeof GEBM2D_ARMS)[number];

export interface Gebm2dArmMetrics {
  mmd2: number;
  /** Jackknife SE of this seed's MMD² (within-seed sampling error). */
  mmd2Se: number;
  masses: number[];
  massTv: number;
  gridKl: number;
  meanLogDensity: number;
  /** MH acceptance of the latent sampler's last transition (NaN for the generator and ULA). */
  acceptance: number;
}

export interface Gebm2dSeedResult {
  seed: number;
  arms: Record<Gebm2dArm, Gebm2dArmMetrics>;
  /** Held-out KALE and generalized log-likelihood (relative to the base) with their SEs. */
  kale: KaleEstimate;
  history: GebmStepRecord[];
  trainSeconds: number;
}

export type Gebm2dSummary = Record<
  Gebm2dArm,
  {
    mmd2: ReplicaSummary;
    massTv: ReplicaSummary;
    gridKl: ReplicaSummary;
    meanLogDensity: ReplicaSummary;
    masses: ReplicaSummary[];
  }
>;

export interface Gebm2dDatasetResult {
  name: string;
  description: string;
  weights: readonly number[];
  extent: readonly [number, number, number, number];
  bandwidth: number;
  seeds: Gebm2dSeedResult[];
  summary: Gebm2dSummary;
  /** Paired by seed: GEBM (β = 1) minus generator; negative is better for all three. */
  paired: { mmd2: ReplicaSummary; massTv: ReplicaSummary; gridKl: ReplicaSummary };
  /** The first seed's draws per arm (n × 2), the held-out points, and its energy on a grid, for figures. */
  figure: {
    data: Float64Array;
    samples: Record<Gebm2dArm, Float64Array>;
    energy: { xs: Float64Array; ys: Float64Array; values: Float64Array };
  };
}

export interface Gebm2dResult {
  options: Gebm2dOptions;
  datasets: Gebm2dDatasetResult[];
  seconds: number;
}

export type Gebm2dProgress = (label: string, done: number, total: number) => void;

export function validateGebm2dOptions(o: Gebm2dOptions): void {
  for (const name of o.datasets)
    if (!(GEBM2D_DATASETS as readonly string[]).includes(name))
      throw new RangeError(`datasets: '${name}' is not one of ${GEBM2D_DATASETS.join(", ")}`);
  if (o.datasets.length === 0) throw new RangeError("datasets: need at least one");
  const int = (k: keyof Gebm2dOptions, min: number) => {
    const v = o[k] as number;
    if (!(Number.isInteger(v) && v >= min))
      throw new RangeError(`${k} must be an integer ≥ ${min}, got ${v}`);
  };
  int("seeds", 2);
  int("firstSeed", 0);
  int("latentDim", 1);
  int("iterations", 1);
  int("energySteps", 1);
  int("finalEnergySteps", 0);
  int("batchSize", 2);
  int("trainPoints", 10);
  int("evalSamples", 10);
  int("samplerSteps", 2);
  int("grid", 2);
  for (const k of ["lr", "betaHigh", "friction", "bandwidth"] as const)
    if (!(Number.isFinite(o[k]) && o[k] > 0))
      throw new RangeError(`${k} must be finite and > 0, got ${o[k]}`);
  if (!(Number.isFinite(o.gradientPenalty) && o.gradientPenalty >= 0))
    throw new RangeError(`gradientPenalty must be finite and ≥ 0, got ${o.gradientPenalty}`);
}

const RING_RADII = [3, 2.25, 1.5, 0.75];

/** Component of each point: nearest centre, or (rings) nearest radius. */
function components(spec: Toy2dSpec, x: Float64Array, n: number): Int32Array {
  if (spec.centres) return nearestCentre(x, n, 2, spec.centres);
  if (spec.name !== "rings") throw new RangeError(`${spec.name}: no component assignment`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = Math.hypot(x[2 * i], x[2 * i + 1]);
    let best = 0;
    for (let k = 1; k < RING_RADII.length; k++)
      if (Math.abs(r - RING_RADII[k]) < Math.abs(r - RING_RADII[best])) best = k;
    out[i] = best;
  }
  return out;
}

/** True probability of each grid cell (x-major), by 4×4 sub-cell quadrature, normalised over the grid. */
function trueCellMasses(spec: Toy2dSpec, g: number): Float64Array {
  const [x0, x1, y0, y1] = spec.extent;
  const sub = 4;
  const m = g * sub;
  const pts = new Float64Array(m * m * 2);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < m; j++) {
      pts[2 * (i * m + j)] = x0 + ((i + 0.5) / m) * (x1 - x0);
      pts[2 * (i * m + j) + 1] = y0 + ((j + 0.5) / m) * (y1 - y0);
    }
  const ld = spec.logDensity!(pts, m * m);
  const cells = new Float64Array(g * g);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < m; j++)
      cells[Math.floor(i / sub) * g + Math.floor(j / sub)] += Math.exp(ld[i * m + j]);
  let s = 0;
  for (const v of cells) s += v;
  for (let c = 0; c < cells.length; c++) cells[c] /= s;
  return cells;
}

function histogramKl(spec: Toy2dSpec, truth: Float64Array, g: number, x: Float64Array, n: number): number {
  const [x0, x1, y0, y1] = spec.extent;
  const counts = new Float64Array(g * g).fill(0.5);
  let total = 0.5 * g * g;
  for (let i = 0; i < n; i++) {
    const a = Math.floor(((x[2 * i] - x0) / (x1 - x0)) * g);
    const b = Math.floor(((x[2 * i + 1] - y0) / (y1 - y0)) * g);
    total += 1; // a draw outside the grid counts towards the total: it is mass the model put off the box
    if (a >= 0 && a < g && b >= 0 && b < g) counts[a * g + b] += 1;
  }
  let kl = 0;
  for (let c = 0; c < truth.length; c++)
    if (truth[c] > 0) kl += truth[c] * Math.log(truth[c] / (counts[c] / total));
  return kl;
}

function armMetrics(
  spec: Toy2dSpec,
  truth: Float64Array,
  o: Gebm2dOptions,
  x: Float64Array,
  test: Float64Array,
  bandwidth: number,
  acceptance: number,
): Gebm2dArmMetrics {
  const n = o.evalSamples;
  const m = mmd2(x, n, test, n, 2, { bandwidth });
  const comp = components(spec, x, n);
  const masses = new Array<number>(spec.components).fill(0);
  for (let i = 0; i < n; i++) masses[comp[i]] += 1 / n;
  let tv = 0;
  for (let k = 0; k < masses.length; k++) tv += 0.5 * Math.abs(masses[k] - spec.weights[k]);
  const ld = spec.logDensity!(x, n);
  let mld = 0;
  for (let i = 0; i < n; i++) mld += ld[i] / n;
  return {
    mmd2: m.mmd2,
    mmd2Se: m.se,
    masses,
    massTv: tv,
    gridKl: histogramKl(spec, truth, o.grid, x, n),
    meanLogDensity: mld,
    acceptance,
  };
}

function energyGrid(
  model: Gebm,
  spec: Toy2dSpec,
  g = 64,
): { xs: Float64Array; ys: Float64Array; values: Float64Array } {
  const [x0, x1, y0, y1] = spec.extent;
  const xs = new Float64Array(g);
  const ys = new Float64Array(g);
  for (let i = 0; i < g; i++) {
    xs[i] = x0 + ((i + 0.5) / g) * (x1 - x0);
    ys[i] = y0 + ((i + 0.5) / g) * (y1 - y0);
  }
  const pts = new Float64Array(g * g * 2);
  for (let i = 0; i < g; i++)
    for (let j = 0; j < g; j++) {
      pts[2 * (i * g + j)] = xs[i];
      pts[2 * (i * g + j) + 1] = ys[j];
    }
  const values = new Float64Array(g * g);
  model.energy.energy(pts, g * g, values);
  return { xs, ys, values };
}

const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());

export async function runGebm2dExperiment(
  opts: Partial<Gebm2dOptions> = {},
  progress?: Gebm2dProgress,
): Promise<Gebm2dResult> {
  const o: Gebm2dOptions = { ...GEBM2D_DEFAULTS, ...opts };
  validateGebm2dOptions(o);
  const t0 = now();
  const datasets: Gebm2dDatasetResult[] = [];
  for (const name of o.datasets) {
    const spec = toy2d(name);
    const truth = trueCellMasses(spec, o.grid);
    const seeds: Gebm2dSeedResult[] = [];
    let figure: Gebm2dDatasetResult["figure"] | undefined;
    const bandwidth = o.bandwidth;
    for (let s = 0; s < o.seeds; s++) {
      const seed = o.firstSeed + s;
      const key = foldIn(keyFromSeed(seed), 0x6eb2d);
      const [kData, kTest, kModel, kTrain, kEval, kKale] = split(key, 6);
      const train = spec.sample(kData, o.trainPoints);
      const test = spec.sample(kTest, o.evalSamples);
      const model = await createGebm(
        {
          dataDim: 2,
          latentDim: o.latentDim,
          generatorHidden: o.generatorHidden,
          energyHidden: o.energyHidden,
        },
        kModel,
      );
      try {
        const label = `${name} seed ${seed}`;
        const trainer = new GebmTrainer(model, train, o.trainPoints, {
          iterations: o.iterations,
          energySteps: o.energySteps,
          finalEnergySteps: o.finalEnergySteps,
          batchSize: o.batchSize,
          energyLr: o.lr,
          generatorLr: o.lr,
          gradientPenalty: o.gradientPenalty,
          onProgress: (it, total) => {
            if (it % 50 === 0 || it === total) progress?.(`${label}: training`, it, total);
          },
        });
        const ts = now();
        const history = trainer.run(kTrain);
        const trainSeconds = (now() - ts) / 1000;
        const [kGen, kHot, kCold] = split(kEval, 3);
        progress?.(`${label}: sampling`, 0, 3);
        const gen = sampleBase(model, kGen, o.evalSamples).x;
        const common = { n: o.evalSamples, sampler: o.sampler, steps: o.samplerSteps, friction: o.friction };
        const hot = sampleGebm(model, kHot, { ...common, beta: 1 });
        progress?.(`${label}: sampling`, 2, 3);
        const cold = sampleGebm(model, kCold, { ...common, beta: o.betaHigh, init: "prior" });
        progress?.(`${label}: sampling`, 3, 3);
        const arms = {
          generator: armMetrics(spec, truth, o, gen, test, bandwidth, Number.NaN),
          gebm: armMetrics(spec, truth, o, hot.x, test, bandwidth, hot.acceptance),
          gebmCold: armMetrics(spec, truth, o, cold.x, test, bandwidth, cold.acceptance),
        };
        const kale = gebmKale(model, test, o.evalSamples, kKale, 20000);
        seeds.push({ seed, arms, kale, history, trainSeconds });
        if (s === 0)
          figure = {
            data: test,
            samples: { generator: gen, gebm: hot.x, gebmCold: cold.x },
            energy: energyGrid(model, spec),
          };
      } finally {
        model.dispose();
      }
    }
    const summary = {} as Gebm2dSummary;
    for (const arm of GEBM2D_ARMS) {
      const pick = (f: (m: Gebm2dArmMetrics) => number) => replicaMeanSe(seeds.map((r) => f(r.arms[arm])));
      summary[arm] = {
        mmd2: pick((m) => m.mmd2),
        massTv: pick((m) => m.massTv),
        gridKl: pick((m) => m.gridKl),
        meanLogDensity: pick((m) => m.meanLogDensity),
        masses: spec.weights.map((_, k) => pick((m) => m.masses[k])),
      };
    }
    const diff = (f: (m: Gebm2dArmMetrics) => number) =>
      replicaMeanSe(seeds.map((r) => f(r.arms.gebm) - f(r.arms.generator)));
    datasets.push({
      name,
      description: spec.description,
      weights: spec.weights,
      extent: spec.extent,
      bandwidth,
      seeds,
      summary,
      paired: { mmd2: diff((m) => m.mmd2), massTv: diff((m) => m.massTv), gridKl: diff((m) => m.gridKl) },
      figure: figure!,
    });
  }
  return { options: o, datasets, seconds: (now() - t0) / 1000 };
}
