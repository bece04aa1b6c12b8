/**
 * Discrete EBMs on Gray-coded 2-D data (seed 000, figure 2; the setting of Dai et al. 2020 and
 * Grathwohl et al. 2021): points of a built-in 2-D set are quantised to 2^bits cells per axis and
 * Gray-coded (data/gray.ts), so a point is a state of {0,1}^(2·bits) (2^32 states at the default 16 bits).
 * An MLP U_θ: ℝ^(2·bits) → ℝ read at 0/1 inputs is trained from the same θ₀, data and seed by CD-k, PCD-k
 * and discrete Jarzynski SMC (objectives/discrete-*.ts); the walkers move by Gibbs-with-Gradients
 * (Grathwohl et al. 2021) or DMALA (Zhang et al. 2022). When the model is enumerable, maximum likelihood
 * with the exact gradient (objectives/discrete-exact.ts) can run as a fourth method: what the others would
 * reach with an exact negative phase.
 *
 * Evaluation (all in nats, on held-out points quantised on the training data's box):
 *   - held-out NLL −log p(x) = U(x) + log Z, against the uniform distribution's 2·bits·log 2. log Z is exact
 *     by enumeration when 2·bits ≤ 20; otherwise annealed SMC from the uniform distribution
 *     (eval/discrete-logz.ts, ± SE over independent replicas) for every method, and for Jarzynski also its
 *     decoupled estimator population (± Lee–Whiteley SE) — the NLL the table leads with for Jarzynski;
 *   - the NLL of the quantised true density itself (the best any model can do), where the set has a closed
 *     form: exact cell masses by sub-cell quadrature when enumerable, the midpoint rule at 16 bits;
 *   - exact KL(data‖model) when enumerable (data distribution = the quantised true density);
 *   - MMD² with the kernel exp(−Hamming/sites) between model samples and held-out states (± jackknife SE);
 *     model samples are exact draws when enumerable, else the SMC walkers resampled to equal weights and
 *     moved by 2·sites GWG steps at β = 1 (duplicates separate; ρ_θ is left invariant);
 *   - mode masses for sets with centres (8gaussians): the model's mass of each centre's Voronoi cell after
 *     decoding, exact when enumerable, else from the SMC walkers (± Lee–Whiteley SE, replicas combined);
 *   - images: the model's probability per bin of an imageN² grid over the box (exact, or a histogram of
 *     `samplePoints` equal-weight samples: the SMC walkers resampled and moved as for the MMD);
 *   - for PCD on sets with centres, how often its persistent chains change mode, and by which bit flips
 *     (ModeHops): whether the chains mix between modes, which is what the seed's case against PCD is about.
 */
import { grayQuantizer, grayQuantizerFor, type GrayQuantizer } from "../data/gray.ts";
import { toy2d, type Toy2dSpec } from "../data/toy2d.ts";
import { BinaryView, bitsToFloat64 } from "../energies/binary-view.ts";
import type { TrainableEnergy } from "../energies/contract.ts";
import { EnumerableEnergy, MAX_ENUMERABLE_SITES, writeState } from "../energies/discrete.ts";
import { createMlpEnergy, type MlpEnergy } from "../energies/mlp.ts";
import { uniformAnnealedLogZ, type DiscreteLogZEstimate } from "../eval/discrete-logz.ts";
import { heldOutNllFromEnergies, logZReplicas } from "../eval/logz.ts";
import { nearestCentre } from "../eval/masses.ts";
import { hammingKernel, mmd2 } from "../eval/mmd.ts";
import { ModeChangeCounter, type ModeChanges } from "../eval/mode-changes.ts";
import { multinomial } from "../math/resampling.ts";
import { type DiscreteCdState, discreteCd, discretePcd } from "../objectives/discrete-cd.ts";
import { discreteExactLikelihood } from "../objectives/discrete-exact.ts";
import { discreteJarzynski, type DiscreteJarzynskiObjective } from "../objectives/discrete-jarzynski.ts";
import { DISCRETE_MOVES, type DiscreteMoveName } from "../objectives/discrete-move.ts";
import type { Objective } from "../objectives/objective.ts";
import { foldIn, type Key, keyFromSeed, split } from "../random/key.ts";
import { gibbsWithGradients } from "../samplers/discrete/gwg.ts";
import { walkerWeights, weightedMeanSe } from "../smc/walkers.ts";
import { adam, cosineDecay } from "../train/optim.ts";
import { trainer } from "../train/trainer.ts";

/**
 * The methods: CD-k, PCD-k, discrete Jarzynski SMC, and, for enumerable models only (2·bits ≤ 20), maximum
 * likelihood with the exact gradient (objectives/discrete-exact.ts): the reference the others estimate.
 */
export const GRAY2D_METHODS = ["cd", "pcd", "jarzynski", "exact"] as const;
export type Gray2dMethod = (typeof GRAY2D_METHODS)[number];
/** The methods run by default (exact ML is opt-in: a pass over every state per iteration). */
export const GRAY2D_DEFAULT_METHODS: Gray2dMethod[] = ["cd", "pcd", "jarzynski"];

export interface Gray2dOptions {
  datasets: string[];
  methods: Gray2dMethod[];
  /** Bits per coordinate (sites = 2·bits); exact evaluation by enumeration when 2·bits ≤ 20. */
  bits: number;
  /**
   * The quantisation box [lo, hi]² (both axes). Default (undefined): fitted to the training data with
   * margins of an eighth of the data's range (data/gray.ts). Points outside go to the edge cells.
   */
  box?: [number, number];
  iters: number;
  /** PCD chains and Jarzynski walkers (CD runs one chain per minibatch row). */
  walkers: number;
  /** Jarzynski's decoupled estimator population. */
  estimatorWalkers: number;
  /** Minibatch of the data term (and CD's chains). */
  batch: number;
  /** Kernel steps per iteration, every method. */
  steps: number;
  move: DiscreteMoveName;
  /** DMALA step α (move "dmala"). */
  dmalaStep: number;
  /** Adam's learning rate, cosine-decayed to a tenth over the run. */
  lr: number;
  hidden: number[];
  /**
   * Training points drawn from each set. Default (undefined): iters × batch, as many as the minibatches
   * draw, so that each point is drawn about once and the minibatches are as good as fresh draws from the
   * generator (the protocol of the toy discrete-EBM benchmarks, which sample every batch anew). A smaller
   * value trains on a fixed finite sample.
   */
  dataSize?: number;
  /** Held-out points drawn from each set. */
  heldOut: number;
  /** Jarzynski: resample when ESS < resample·N. */
  resample: number;
  seed: number;
  /** Points of the log Z trace along training (the last at the end). */
  evaluations: number;
  /** Annealed SMC log Z from the uniform distribution (used when not enumerable): walkers, path points, replicas. */
  logZChains: number;
  logZTemperatures: number;
  logZReplicas: number;
  /** Model samples and held-out points in the MMD. */
  mmdPoints: number;
  /** Equal-weight model samples behind the images (not enumerable: resampled SMC walkers moved by GWG). */
  samplePoints: number;
  /** Bins per axis of the images. */
  imageN: number;
}

export const GRAY2D_DATASETS = ["2spirals", "8gaussians"];

/**
 * The defaults: 16 bits per coordinate (2^32 states), MLP 32→256→256→1 (SiLU), Adam 10⁻³ decaying to a
 * tenth, minibatch 500, 2000 walkers for PCD and Jarzynski (+2000 estimator walkers), one GWG step per
 * iteration for every method, 2000 iterations; log Z by SMC with 4 replicas × 500 walkers × 400 path
 * points; a training pool of iters × batch = 10⁶ points per set (each drawn about once). About 4 minutes
 * per data set on 2 cores with the native MLP (training: CD 15–20 s, PCD 40–55 s, Jarzynski 65–75 s;
 * evaluation 5–12 s per method). Seed 0 gave held-out NLLs (SMC log Z) of 20.94/20.89/20.75 (2spirals)
 * and 20.40/20.39/20.34 (8gaussians; true density 20.25) for CD/PCD/Jarzynski, SEs 0.01–0.03, against
 * 22.18 for the uniform distribution.
 */
export const GRAY2D_DEFAULTS: Gray2dOptions = {
  datasets: GRAY2D_DATASETS,
  methods: [...GRAY2D_DEFAULT_METHODS],
  bits: 16,
  iters: 2000,
  walkers: 2000,
  estimatorWalkers: 2000,
  batch: 500,
  steps: 1,
  move: "gwg",
  dmalaStep: 0.2,
  lr: 1e-3,
  hidden: [256, 256],
  heldOut: 5000,
  resample: 0.5,
  seed: 0,
  evaluations: 5,
  logZChains: 500,
  logZTemperatures: 400,
  logZReplicas: 4,
  mmdPoints: 1000,
  samplePoints: 10000,
  imageN: 64,
};

/** `--quick`: one data set, a small network, a few hundred iterations (about 10 s on the native MLP). */
export const GRAY2D_QUICK: Partial<Gray2dOptions> = {
  datasets: ["8gaussians"],
  hidden: [64, 64],
  iters: 400,
  walkers: 1000,
  estimatorWalkers: 500,
  batch: 200,
  lr: 3e-3,
  evaluations: 4,
  logZChains: 300,
  logZTemperatures: 300,
  logZReplicas: 4,
  mmdPoints: 500,
  samplePoints: 4000,
};

/**
 * PCD's mode changes (eval/mode-changes.ts) over the last quarter of training, and which bit flips made
 * them. In a Gray code, flipping a coordinate's first bit reflects it across the box (cell k ↦ 2^bits − 1 −
 * k), and flipping its b-th bit (b = 0 the first) reflects it within an aligned block of 2^(bits−b) cells,
 * so one single-site move can jump between mirror-image modes.
 */
export interface ModeHops extends ModeChanges {
  /**
   * Of the mode changes made by one bit flip (steps = 1, or a single flip in the iteration): the fraction
   * by bit position within a coordinate, 0 = the most significant (length = bits). NaN when there were none.
   */
  byBit: number[];
}

export interface Gray2dTracePoint {
  iteration: number;
  /** Exact log Z (enumerable only). */
  logZExact?: number;
  /** Jarzynski: the training walkers' and the estimator population's running log Z ± SE. */
  logZWalkers?: number;
  logZWalkersSe?: number;
  logZEstimator?: number;
  logZEstimatorSe?: number;
  ess?: number;
  resamplings?: number;
}

export interface Gray2dSmc {
  /** Mean of the replicas' log Ẑ, the SE over replicas (sd/√R), and each replica's value and own SE. */
  logZ: number;
  se: number;
  values: number[];
  replicaSes: number[];
  /** Mean acceptance of the moves, final ESS of each replica, warnings of any replica. */
  acceptance: number;
  ess: number[];
  warnings: string[];
}

export interface Gray2dMethodResult {
  method: Gray2dMethod;
  /** Training and evaluation wall time. */
  seconds: number;
  evalSeconds: number;
  /** The log Z behind `nll`: exact, SMC from uniform, or (Jarzynski) the estimator population. */
  logZ: number;
  logZSe: number;
  logZSource: "exact" | "smc" | "estimator";
  /** Held-out NLL (nats per point) ± SE (held-out sampling and log Z, in quadrature). */
  nll: number;
  nllSe: number;
  /** SMC log Z for every method when not enumerable, and the NLL it gives. */
  smc?: Gray2dSmc;
  nllSmc?: number;
  nllSmcSe?: number;
  /** Jarzynski: the estimator's and the training walkers' final log Z ± SE. */
  estimator?: { logZ: number; se: number };
  walkersLogZ?: { logZ: number; se: number };
  /**
   * Held-out NLL minus the NLL of (up to heldOut of) the training points, nats per point ± SE (the two
   * point sets are independent). log Z cancels, so this needs no estimate of it: how much better the model
   * scores the points it was trained on than fresh ones.
   */
  generalisationGap: { gap: number; se: number };
  /** Exact KL(data‖model) (enumerable, set with a closed-form density), else NaN. */
  kl: number;
  mmd2: number;
  mmdSe: number;
  /** Mode masses (sets with centres), their SEs (0 when exact). */
  masses: number[];
  massSe: number[];
  /** Probability per image bin (imageN², x-major). */
  image: Float64Array;
  /** Mean acceptance of the training moves. */
  acceptance: number;
  /** Health warnings of the Jarzynski walkers and of the SMC runs. */
  warnings: string[];
  /** PCD on a set with centres: how often its persistent chains changed mode (see ModeHops). */
  modeHops?: ModeHops;
  /** Exact log Z (enumerable) and Jarzynski's running estimates at `evaluations` points (else empty). */
  trace: Gray2dTracePoint[];
  /** U(x) at every held-out point (for the paired comparisons of Gray2dDatasetResult.paired). */
  heldU: Float64Array;
}

/**
 * Held-out NLL of method `a` minus that of `b` on the same held-out points, with one log Z estimator for
 * both (exact, or the annealed SMC from uniform): mean_i[U_a(x_i) − U_b(x_i)] + log Z_a − log Z_b. Its SE
 * is that of the paired per-point differences (the held-out sampling noise the two NLLs share cancels)
 * and both log Z SEs, in quadrature.
 */
export interface Gray2dPair {
  a: Gray2dMethod;
  b: Gray2dMethod;
  diff: number;
  se: number;
  logZSource: "exact" | "smc";
}

/** The paired NLL differences of every later-listed method against every earlier one. */
export function pairedNllDifferences(methods: readonly Gray2dMethodResult[], exact: boolean): Gray2dPair[] {
  const out: Gray2dPair[] = [];
  const z = (m: Gray2dMethodResult) =>
    exact ? { logZ: m.logZ, se: 0 } : { logZ: m.smc?.logZ ?? Number.NaN, se: m.smc?.se ?? Number.NaN };
  for (let j = 1; j < methods.length; j++)
    for (let i = 0; i < j; i++) {
      const a = methods[j];
      const b = methods[i];
      const n = Math.min(a.heldU.length, b.heldU.length);
      const d = new Float64Array(n);
      for (let k = 0; k < n; k++) d[k] = a.heldU[k] - b.heldU[k];
      const s = meanSe(d);
      const za = z(a);
      const zb = z(b);
      out.push({
        a: a.method,
        b: b.method,
        diff: s.mean + za.logZ - zb.logZ,
        se: Math.sqrt(s.se * s.se + za.se * za.se + zb.se * zb.se),
        logZSource: exact ? "exact" : "smc",
      });
    }
  return out;
}

export interface Gray2dDatasetResult {
  name: string;
  description: string;
  sites: number;
  /** The quantisation box [lo, hi]² and cell width. */
  box: { lo: number; hi: number; width: number };
  /** Held-out points outside the box (put in the edge cells). */
  heldOutOutside: number;
  /** 2·bits·log 2. */
  uniformNll: number;
  /** NLL of the quantised true density on the held-out points ± SE (NaN without a closed form). */
  dataNll: number;
  dataNllSe: number;
  weights: number[];
  centres: number[][];
  /** Up to 2000 training points decoded to their cell centres (n × 2), for the scatter panel. */
  points: Float64Array;
  /** The true density's probability per image bin (closed form, else a histogram of 200 000 draws). */
  trueImage: Float64Array;
  trueImageSource: "density" | "histogram";
  imageXs: Float64Array;
  imageYs: Float64Array;
  methods: Gray2dMethodResult[];
  /** Paired held-out NLL differences between the methods (see Gray2dPair). */
  paired: Gray2dPair[];
}

export interface Gray2dResult {
  options: Gray2dOptions;
  exact: boolean;
  datasets: Gray2dDatasetResult[];
}

export type Gray2dProgress = (label: string, done: number, total: number) => void;

export function validateGray2dOptions(o: Gray2dOptions): void {
  for (const d of o.datasets) toy2d(d);
  if (o.datasets.length === 0) throw new RangeError("datasets: need at least one data set");
  if (o.methods.length === 0) throw new RangeError("methods: need at least one method");
  for (const m of o.methods)
    if (!GRAY2D_METHODS.includes(m))
      throw new RangeError(`unknown method '${m}' (choose from ${GRAY2D_METHODS.join(", ")})`);
  if (!DISCRETE_MOVES.includes(o.move))
    throw new RangeError(`unknown move '${o.move}' (choose from ${DISCRETE_MOVES.join(", ")})`);
  const int = (name: string, v: number, min: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!(Number.isSafeInteger(v) && v >= min && v <= max))
      throw new RangeError(
        `${name} must be an integer ${max < Number.MAX_SAFE_INTEGER ? `from ${min} to ${max}` : `≥ ${min}`}, got ${v}`,
      );
  };
  int("bits", o.bits, 2, 16);
  if (o.methods.includes("exact") && 2 * o.bits > MAX_ENUMERABLE_SITES)
    throw new RangeError(
      `methods: 'exact' needs an enumerable model, 2·bits ≤ ${MAX_ENUMERABLE_SITES} (bits ≤ ${MAX_ENUMERABLE_SITES / 2}), got bits ${o.bits}`,
    );
  if (o.box !== undefined) {
    const [lo, hi] = o.box;
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi))
      throw new RangeError(`box must be two finite numbers lo < hi, got [${o.box.join(", ")}]`);
  }
  int("iters", o.iters, 1);
  int("walkers", o.walkers, 1);
  int("estimatorWalkers", o.estimatorWalkers, 0);
  int("batch", o.batch, 1);
  int("steps", o.steps, 1);
  if (o.dataSize !== undefined) int("dataSize", o.dataSize, 2);
  int("heldOut", o.heldOut, 3);
  int("evaluations", o.evaluations, 1);
  int("logZChains", o.logZChains, 2);
  int("logZTemperatures", o.logZTemperatures, 2);
  int("logZReplicas", o.logZReplicas, 2);
  int("mmdPoints", o.mmdPoints, 3);
  int("samplePoints", o.samplePoints, 1);
  int("imageN", o.imageN, 4, 512);
  for (const h of o.hidden) int("hidden", h, 1);
  if (o.hidden.length === 0) throw new RangeError("hidden: need at least one layer");
  if (!(o.lr > 0 && Number.isFinite(o.lr))) throw new RangeError(`lr must be positive, got ${o.lr}`);
  if (!(o.dmalaStep > 0 && Number.isFinite(o.dmalaStep)))
    throw new RangeError(`dmalaStep must be positive, got ${o.dmalaStep}`);
  if (!(o.resample >= 0 && o.resample <= 1))
    throw new RangeError(`resample must be in [0, 1], got ${o.resample}`);
}

/** Keys: the data, the held-out data, the network's θ₀ and the training loop (shared by the methods). */
const TAG = { data: 0x64617461, held: 0x68656c64, model: 0x6d6c70, train: 0x747261, eval: 0x6576616c };

/** FNV-1a hash of a name, as a key tag. */
function nameTag(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function objectiveFor(method: Gray2dMethod, o: Gray2dOptions): Objective<unknown> {
  const move = { move: o.move, dmalaStep: o.dmalaStep, steps: o.steps };
  if (method === "cd") return discreteCd(move) as Objective<unknown>;
  if (method === "pcd") return discretePcd({ ...move, walkers: o.walkers }) as Objective<unknown>;
  if (method === "exact") return discreteExactLikelihood() as Objective<unknown>;
  return discreteJarzynski({
    ...move,
    walkers: o.walkers,
    resample: o.resample,
    estimator: o.estimatorWalkers > 0 ? { walkers: o.estimatorWalkers } : undefined,
  }) as Objective<unknown>;
}

/** Bin of a coordinate value among `bins` equal bins of the box. */
function binOf(q: GrayQuantizer, v: number, bins: number): number {
  const b = Math.floor(((v - q.lo) / (q.hi - q.lo)) * bins);
  return b < 0 ? 0 : b >= bins ? bins - 1 : b;
}

/** Histogram (fraction per bin, x-major) of n points (n × 2) over bins² equal bins of the box. */
function histogram(q: GrayQuantizer, pts: Float64Array, n: number, bins: number): Float64Array {
  const img = new Float64Array(bins * bins);
  for (let i = 0; i < n; i++)
    img[binOf(q, pts[2 * i], bins) * bins + binOf(q, pts[2 * i + 1], bins)] += 1 / n;
  return img;
}

/**
 * Log-probabilities of the 2^bits × 2^bits cells under the true density, normalised over the box, by the
 * midpoint rule on s × s sub-cells (index kx·cells + ky).
 */
function quantisedLogMasses(toy: Toy2dSpec, q: GrayQuantizer, s: number): Float64Array {
  const logDensity = toy.logDensity!;
  const c = q.cells;
  const sub = q.width / s;
  const out = new Float64Array(c * c);
  const pts = new Float64Array(2 * s * s * c);
  const ld = new Float64Array(s * s * c);
  for (let kx = 0; kx < c; kx++) {
    // One column of cells at a time: c cells × s² sub-points.
    let p = 0;
    for (let ky = 0; ky < c; ky++)
      for (let a = 0; a < s; a++)
        for (let b = 0; b < s; b++) {
          pts[2 * p] = q.lo + kx * q.width + (a + 0.5) * sub;
          pts[2 * p + 1] = q.lo + ky * q.width + (b + 0.5) * sub;
          p++;
        }
    logDensity(pts, p, ld);
    for (let ky = 0; ky < c; ky++) {
      let m = Number.NEGATIVE_INFINITY;
      for (let t = 0; t < s * s; t++) m = Math.max(m, ld[ky * s * s + t]);
      let acc = 0;
      if (m > Number.NEGATIVE_INFINITY)
        for (let t = 0; t < s * s; t++) acc += Math.exp(ld[ky * s * s + t] - m);
      out[kx * c + ky] = m + Math.log(acc * sub * sub);
    }
  }
  let m = Number.NEGATIVE_INFINITY;
  for (const v of out) m = Math.max(m, v);
  let z = 0;
  for (const v of out) z += Math.exp(v - m);
  const lz = m + Math.log(z);
  for (let k = 0; k < out.length; k++) out[k] -= lz;
  return out;
}

function meanSe(v: ArrayLike<number>): { mean: number; se: number } {
  const n = v.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += v[i] / n;
  if (n < 2) return { mean, se: Number.NaN };
  let s2 = 0;
  for (let i = 0; i < n; i++) s2 += (v[i] - mean) ** 2;
  return { mean, se: Math.sqrt(s2 / (n - 1) / n) };
}

interface DatasetContext {
  toy: Toy2dSpec;
  q: GrayQuantizer;
  o: Gray2dOptions;
  /** The training points' states as 0/1 floats, n × sites (the trainer's data). */
  trainBits: Float64Array;
  held: Float64Array;
  heldStates: Uint8Array;
  centres: Float64Array | null;
  /** Enumerable: the cell (kx, ky) of every state index, and the quantised true log-masses by cell. */
  stateCells: Int32Array | null;
  trueLogMasses: Float64Array | null;
}

/** Exact evaluation of a model on an enumerable space. */
function evaluateExact(
  model: TrainableEnergy,
  ctx: DatasetContext,
  key: Key,
): Pick<Gray2dMethodResult, "logZ" | "logZSe" | "kl" | "mmd2" | "mmdSe" | "masses" | "massSe" | "image"> {
  const { q, o } = ctx;
  const en = new EnumerableEnergy(new BinaryView(model));
  const logZ = en.logZ();
  const p = en.probabilities();
  const cells = ctx.stateCells!;
  const bins = o.imageN;
  const image = new Float64Array(bins * bins);
  const c = q.cells;
  const k = ctx.centres ? ctx.centres.length / 2 : 0;
  const masses = new Array<number>(k).fill(0);
  const cellCentre = new Float64Array(2);
  const owner = new Int32Array(1);
  let kl = 0;
  for (let s = 0; s < p.length; s++) {
    const kx = cells[2 * s];
    const ky = cells[2 * s + 1];
    image[Math.floor((kx * bins) / c) * bins + Math.floor((ky * bins) / c)] += p[s];
    if (k > 0) {
      cellCentre[0] = q.centreOf(kx);
      cellCentre[1] = q.centreOf(ky);
      nearestCentre(cellCentre, 1, 2, ctx.centres!, owner);
      masses[owner[0]] += p[s];
    }
    if (ctx.trueLogMasses) {
      const lp = ctx.trueLogMasses[kx * c + ky];
      if (lp > Number.NEGATIVE_INFINITY) kl += Math.exp(lp) * (lp - (-en.energies[s] - logZ));
    }
  }
  // Exact draws for the MMD: inverse CDF over the enumerated probabilities.
  const m = o.mmdPoints;
  const idx = multinomial(key, p, m);
  const samples = new Float64Array(m * q.sites);
  const row = new Uint8Array(q.sites);
  for (let i = 0; i < m; i++) {
    writeState(idx[i], q.sites, row);
    for (let j = 0; j < q.sites; j++) samples[i * q.sites + j] = row[j];
  }
  const mm = mmdToHeldOut(samples, m, ctx);
  return {
    logZ,
    logZSe: 0,
    kl: ctx.trueLogMasses ? kl : Number.NaN,
    mmd2: mm.mmd2,
    mmdSe: mm.se,
    masses,
    massSe: masses.map(() => 0),
    image,
  };
}

function mmdToHeldOut(samples: Float64Array, m: number, ctx: DatasetContext) {
  const nh = Math.min(ctx.o.mmdPoints, ctx.o.heldOut);
  const held = bitsToFloat64(ctx.heldStates.subarray(0, nh * ctx.q.sites));
  return mmd2(samples, m, held, nh, ctx.q.sites, { kernel: hammingKernel() });
}

/** Evaluation by annealed SMC from the uniform distribution (not enumerable). */
function evaluateSmc(
  model: TrainableEnergy,
  ctx: DatasetContext,
  key: Key,
): Pick<Gray2dMethodResult, "mmd2" | "mmdSe" | "masses" | "massSe" | "image"> & { smc: Gray2dSmc } {
  const { q, o } = ctx;
  const view = new BinaryView(model);
  const runs: DiscreteLogZEstimate[] = [];
  const [kSmc, kPick, kMove] = split(key, 3);
  const rep = logZReplicas(
    (k) => {
      const r = uniformAnnealedLogZ(view, k, {
        chains: o.logZChains,
        temperatures: o.logZTemperatures,
        resample: 0.5,
      });
      runs.push(r);
      return { logZ: r.logZ, se: r.se };
    },
    o.logZReplicas,
    kSmc,
  );
  // The replicas' walkers pooled, each replica's normalised weights divided by R.
  const nc = o.logZChains;
  const R = runs.length;
  const d = q.sites;
  const pooledStates = new Uint8Array(R * nc * d);
  const pooledW = new Float64Array(R * nc);
  const w = new Float64Array(nc);
  for (let r = 0; r < R; r++) {
    pooledStates.set(runs[r].states, r * nc * d);
    walkerWeights(runs[r].walkers, w);
    for (let i = 0; i < nc; i++) pooledW[r * nc + i] = w[i] / R;
  }
  const decoded = q.decode(pooledStates, R * nc);
  // Mode masses: per replica by Lee–Whiteley (the walkers' genealogy), then averaged over replicas.
  const k = ctx.centres ? ctx.centres.length / 2 : 0;
  const masses: number[] = [];
  const massSe: number[] = [];
  if (k > 0) {
    const owner = nearestCentre(decoded, R * nc, 2, ctx.centres!);
    for (let c = 0; c < k; c++) {
      let mean = 0;
      let v = 0;
      for (let r = 0; r < R; r++) {
        const phi = new Float64Array(nc);
        for (let i = 0; i < nc; i++) phi[i] = owner[r * nc + i] === c ? 1 : 0;
        const est = weightedMeanSe(runs[r].walkers, phi);
        mean += est.mean / R;
        v += (est.se * est.se) / (R * R);
      }
      masses.push(mean);
      massSe.push(Math.sqrt(v));
    }
  }
  // Equal-weight samples for the image and the MMD: the pooled walkers resampled, then 2·sites GWG steps
  // at β = 1 (they leave ρ_θ invariant and separate the copies of one walker).
  const m = Math.max(o.samplePoints, o.mmdPoints);
  const idx = multinomial(kPick, pooledW, m);
  const x = new Uint8Array(m * d);
  for (let i = 0; i < m; i++) x.set(pooledStates.subarray(idx[i] * d, (idx[i] + 1) * d), i * d);
  const gwg = gibbsWithGradients(view);
  const chains = gwg.init(x, m);
  for (let t = 0; t < 2 * d; t++) gwg.step(foldIn(kMove, t), chains);
  const image = histogram(q, q.decode(chains.x, m), m, o.imageN);
  // The resampled indices come sorted by ancestor: take an evenly spaced subset for the MMD.
  const mmdRows = new Float64Array(o.mmdPoints * d);
  for (let i = 0; i < o.mmdPoints; i++) {
    const src = Math.floor((i * m) / o.mmdPoints);
    for (let j = 0; j < d; j++) mmdRows[i * d + j] = chains.x[src * d + j];
  }
  const mm = mmdToHeldOut(mmdRows, o.mmdPoints, ctx);
  let acc = 0;
  for (const r of runs) acc += r.acceptance / R;
  const warnings = [...new Set(runs.flatMap((r) => r.warnings.map((x) => `SMC log Z: ${x.message}`)))];
  return {
    smc: {
      logZ: rep.mean,
      se: rep.se,
      values: Array.from(rep.values),
      replicaSes: Array.from(rep.ses),
      acceptance: acc,
      ess: runs.map((r) => r.ess),
      warnings,
    },
    mmd2: mm.mmd2,
    mmdSe: mm.se,
    masses,
    massSe,
    image,
  };
}

/** Counts persistent chains' mode changes across iterations and the flips behind them (ModeHops). */
export function modeHopCounter(q: GrayQuantizer, centres: Float64Array, n: number) {
  const d = q.sites;
  const bits = q.bits;
  const counter = new ModeChangeCounter(centres, n, 2);
  const prev = new Uint8Array(n * d);
  const byBit = new Float64Array(bits);
  let single = 0;
  return {
    /** The chains' states before an iteration. */
    before(x: Uint8Array): void {
      prev.set(x.subarray(0, n * d));
      counter.observe(q.decode(prev, n), false);
    },
    /** After it. */
    after(x: Uint8Array): void {
      counter.observe(q.decode(x, n), true);
      for (let i = 0; i < n; i++) {
        if (!counter.changed[i]) continue;
        let site = -1;
        let flips = 0;
        for (let j = 0; j < d; j++)
          if (x[i * d + j] !== prev[i * d + j]) {
            site = j;
            flips++;
          }
        if (flips === 1) {
          byBit[site % bits]++;
          single++;
        }
      }
    },
    result(): ModeHops {
      return { ...counter.result(), byBit: [...byBit].map((c) => (single > 0 ? c / single : Number.NaN)) };
    },
  };
}

async function runMethod(
  method: Gray2dMethod,
  ctx: DatasetContext,
  modelKey: Key,
  seedKey: Key,
  label: string,
  progress?: Gray2dProgress,
): Promise<Gray2dMethodResult> {
  const { o, q } = ctx;
  const exact = q.sites <= MAX_ENUMERABLE_SITES;
  const model: MlpEnergy = await createMlpEnergy(
    { inputDim: q.sites, hidden: [...o.hidden], activation: "silu", confinement: 0 },
    modelKey,
  );
  try {
    const objective = objectiveFor(method, o);
    const t = trainer({
      model,
      objective,
      optimizer: adam(cosineDecay(o.lr, o.iters, 0.1)),
      data: { x: ctx.trainBits, n: o.dataSize! },
      batchSize: o.batch,
    });
    const [kInit, kLoop] = split(foldIn(seedKey, TAG.train), 2);
    const state = t.init(kInit);
    const every = Math.max(1, Math.floor(o.iters / o.evaluations));
    const trace: Gray2dTracePoint[] = [];
    const view = new BinaryView(model);
    // PCD's chains, over the last quarter of training: how often they change mode (ModeHops).
    const hopCounter = method === "pcd" && ctx.centres ? modeHopCounter(q, ctx.centres, o.walkers) : null;
    const hopsFrom = o.iters - Math.max(1, Math.floor(o.iters / 4));
    const chains = () => (state.objective as DiscreteCdState).x;
    const t0 = performance.now();
    for (let k = 0; k < o.iters; k++) {
      if (hopCounter && k >= hopsFrom) hopCounter.before(chains());
      t.step(foldIn(kLoop, k), state);
      if (hopCounter && k >= hopsFrom) hopCounter.after(chains());
      const it = k + 1;
      progress?.(label, it, o.iters);
      // Trace points: exact log Z when enumerable, Jarzynski's running estimates.
      if ((it % every !== 0 && it !== o.iters) || !(exact || method === "jarzynski")) continue;
      const point: Gray2dTracePoint = { iteration: it };
      if (exact) point.logZExact = new EnumerableEnergy(view).logZ();
      if (method === "jarzynski") {
        const dj = (objective as DiscreteJarzynskiObjective).diagnostics(state.objective as never);
        point.logZWalkers = dj.logZ;
        point.logZWalkersSe = dj.logZSe;
        point.ess = dj.ess;
        point.resamplings = dj.resamplings;
        if (dj.estimator) {
          point.logZEstimator = dj.estimator.logZ;
          point.logZEstimatorSe = dj.estimator.logZSe;
        }
      }
      trace.push(point);
    }
    const seconds = (performance.now() - t0) / 1000;
    const diag = objective.diagnostics(state.objective) as {
      acceptance?: number;
      warnings?: { message: string }[];
      estimator?: { logZ: number; logZSe: number; warnings: { message: string }[] };
      logZ?: number;
      logZSe?: number;
    };
    const warnings: string[] = [
      ...(diag.warnings ?? []).map((w) => `training walkers: ${w.message}`),
      ...(diag.estimator?.warnings ?? []).map((w) => `estimator population: ${w.message}`),
    ];

    const e0 = performance.now();
    const kEval = foldIn(seedKey, TAG.eval);
    const heldRows = bitsToFloat64(ctx.heldStates);
    const r: Gray2dMethodResult = {
      method,
      seconds,
      evalSeconds: 0,
      logZ: Number.NaN,
      logZSe: Number.NaN,
      logZSource: "exact",
      nll: Number.NaN,
      nllSe: Number.NaN,
      generalisationGap: { gap: Number.NaN, se: Number.NaN },
      kl: Number.NaN,
      mmd2: Number.NaN,
      mmdSe: Number.NaN,
      masses: [],
      massSe: [],
      image: new Float64Array(0),
      acceptance: diag.acceptance ?? Number.NaN,
      warnings,
      trace,
      heldU: new Float64Array(o.heldOut),
    };
    if (hopCounter) r.modeHops = hopCounter.result();
    model.energy(heldRows, o.heldOut, r.heldU);
    // The held-out energies once; every NLL below (and the paired differences) reads them.
    const nllOf = (logZ: number, se: number) => heldOutNllFromEnergies(r.heldU, logZ, se);
    r.generalisationGap = generalisationGap(model, ctx, r.heldU);
    if (method === "jarzynski" && diag.estimator) {
      r.estimator = { logZ: diag.estimator.logZ, se: diag.estimator.logZSe };
      r.walkersLogZ = { logZ: diag.logZ!, se: diag.logZSe! };
    }
    if (exact) {
      Object.assign(r, evaluateExact(model, ctx, kEval));
    } else {
      const ev = evaluateSmc(model, ctx, kEval);
      Object.assign(r, ev);
      r.warnings.push(...ev.smc.warnings);
      const ns = nllOf(ev.smc.logZ, ev.smc.se);
      r.nllSmc = ns.nll;
      r.nllSmcSe = ns.se;
      if (r.estimator) {
        r.logZ = r.estimator.logZ;
        r.logZSe = r.estimator.se;
        r.logZSource = "estimator";
      } else {
        r.logZ = ev.smc.logZ;
        r.logZSe = ev.smc.se;
        r.logZSource = "smc";
      }
    }
    const nll = nllOf(r.logZ, r.logZSe);
    r.nll = nll.nll;
    r.nllSe = nll.se;
    r.evalSeconds = (performance.now() - e0) / 1000;
    return r;
  } finally {
    model.dispose();
  }
}

/** Gray2dMethodResult.generalisationGap: mean U over held-out points minus mean U over training points. */
function generalisationGap(model: MlpEnergy, ctx: DatasetContext, heldU: Float64Array) {
  const m = Math.min(ctx.o.heldOut, ctx.o.dataSize!);
  const trainU = new Float64Array(m);
  model.energy(ctx.trainBits.subarray(0, m * ctx.q.sites), m, trainU);
  const h = meanSe(heldU);
  const t = meanSe(trainU);
  return { gap: h.mean - t.mean, se: Math.hypot(h.se, t.se) };
}

/** Runs the experiment (module comment). */
export async function runGray2dExperiment(
  opts: Partial<Gray2dOptions> = {},
  progress?: Gray2dProgress,
): Promise<Gray2dResult> {
  const o: Gray2dOptions = { ...GRAY2D_DEFAULTS, ...opts };
  validateGray2dOptions(o);
  o.dataSize ??= o.iters * o.batch;
  const nTrain = o.dataSize;
  const seedKey = keyFromSeed(o.seed);
  const sites = 2 * o.bits;
  const exact = sites <= MAX_ENUMERABLE_SITES;
  const datasets: Gray2dDatasetResult[] = [];
  for (const name of o.datasets) {
    const toy = toy2d(name);
    const train = toy.sample(foldIn(seedKey, TAG.data), nTrain);
    const held = toy.sample(foldIn(seedKey, TAG.held), o.heldOut);
    const q = o.box ? grayQuantizer(o.box[0], o.box[1], o.bits) : grayQuantizerFor(train, nTrain, o.bits);
    const heldStates = q.encode(held, o.heldOut);
    const centres = toy.centres ?? null;
    let stateCells: Int32Array | null = null;
    let trueLogMasses: Float64Array | null = null;
    if (exact) {
      const all = new Uint8Array(2 ** sites * sites);
      for (let s = 0; s < 2 ** sites; s++) writeState(s, sites, all, s * sites);
      stateCells = q.cellIndices(all, 2 ** sites);
      if (toy.logDensity) trueLogMasses = quantisedLogMasses(toy, q, 4);
    }
    const trainBits = bitsToFloat64(q.encode(train, nTrain));
    const ctx: DatasetContext = {
      toy,
      q,
      o,
      trainBits,
      held,
      heldStates,
      centres,
      stateCells,
      trueLogMasses,
    };

    // NLL of the quantised true density on the held-out points: exact cell masses when enumerable, else
    // the midpoint rule log ρ(centre) + 2 log w (its error is O(w²), negligible at 16 bits).
    let dataNll = Number.NaN;
    let dataNllSe = Number.NaN;
    if (toy.logDensity) {
      const per = new Float64Array(o.heldOut);
      const cells = q.cellIndices(heldStates, o.heldOut);
      if (trueLogMasses)
        for (let i = 0; i < o.heldOut; i++)
          per[i] = -trueLogMasses[cells[2 * i] * q.cells + cells[2 * i + 1]];
      else {
        const centresOfCells = q.decode(heldStates, o.heldOut);
        toy.logDensity(centresOfCells, o.heldOut, per);
        for (let i = 0; i < o.heldOut; i++) per[i] = -(per[i] + 2 * Math.log(q.width));
      }
      const s = meanSe(per);
      dataNll = s.mean;
      dataNllSe = s.se;
    }

    // θ₀ from the seed and the set's name: a set's results do not depend on the other sets listed.
    const modelKey = foldIn(foldIn(seedKey, TAG.model), nameTag(name));
    const methods: Gray2dMethodResult[] = [];
    for (const method of o.methods)
      methods.push(await runMethod(method, ctx, modelKey, seedKey, `${name} ${method}`, progress));

    // Images: bin centres over the box; the true density at bin centres (normalised over the bins) or a
    // histogram of fresh draws.
    const bins = o.imageN;
    const xs = new Float64Array(bins);
    for (let b = 0; b < bins; b++) xs[b] = q.lo + ((b + 0.5) * (q.hi - q.lo)) / bins;
    let trueImage: Float64Array;
    let trueImageSource: "density" | "histogram";
    if (toy.logDensity) {
      const pts = new Float64Array(2 * bins * bins);
      for (let a = 0; a < bins; a++)
        for (let b = 0; b < bins; b++) {
          pts[2 * (a * bins + b)] = xs[a];
          pts[2 * (a * bins + b) + 1] = xs[b];
        }
      const ld = toy.logDensity(pts, bins * bins);
      trueImage = new Float64Array(bins * bins);
      let z = 0;
      for (let k = 0; k < ld.length; k++) z += trueImage[k] = Math.exp(ld[k]);
      for (let k = 0; k < ld.length; k++) trueImage[k] /= z;
      trueImageSource = "density";
    } else {
      const draws = 200_000;
      trueImage = histogram(q, toy.sample(foldIn(seedKey, 0x696d67), draws), draws, bins);
      trueImageSource = "histogram";
    }
    const nShow = Math.min(2000, nTrain);
    const cs: number[][] = [];
    if (centres) for (let j = 0; j < centres.length / 2; j++) cs.push([centres[2 * j], centres[2 * j + 1]]);
    datasets.push({
      name,
      description: toy.description,
      sites,
      box: { lo: q.lo, hi: q.hi, width: q.width },
      heldOutOutside: q.countOutside(held, o.heldOut),
      uniformNll: sites * Math.LN2,
      dataNll,
      dataNllSe,
      weights: [...toy.weights],
      centres: cs,
      points: q.decode(q.encode(train.subarray(0, 2 * nShow), nShow), nShow),
      trueImage,
      trueImageSource,
      imageXs: xs,
      imageYs: xs.slice(),
      methods,
      paired: pairedNllDifferences(methods, exact),
    });
  }
  return { options: o, exact, datasets };
}
