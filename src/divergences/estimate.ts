/**
 * Divergences between two distributions known only by samples: the f-divergences' variational lower bound
 * and KALE, each with a critic fitted on one part of the samples and evaluated on the rest.
 *
 * f-divergences (src/divergences/f-divergences.ts): D_φ(P, Q) ≥ sup_v E_P g(v) − E_Q φ*(g(v)).
 *
 * KALE, the KL Approximate Lower-bound Estimator (lecture notes 002; Arbel, Zhou & Gretton, ICLR 2021,
 * "Generalized Energy Based Models"), as the seed defines it:
 *
 *   KALE(P, Q; H) = sup_{f ∈ H} { −E_P f(X) − E_Q exp(−f(Y)) + 1 − (λ/2)‖f‖²_H },
 *
 * f = ⟨w, φ(x)⟩_H in an RKHS (here: the Gaussian kernel, plus a free unpenalised constant — the seed's
 * class E + ℝ) or an MLP with the Lipschitz penalty (λ/2)Π_l‖W_l‖²_F on its weights in place of ‖f‖²_H
 * (src/divergences/neural.ts). Without the penalty and over all functions this is the KL bound, tight at
 * f = −log(p/q); the penalty keeps f smooth and bounded, so KALE stays finite when P and Q have disjoint
 * supports (KL = ∞). KALE ≥ 0 (f = 0 gives 0) with 0 iff P = Q for a rich enough class, and KALE ≤ KL. No
 * (1 + λ) factor: that is the normalisation of Glaser, Arbel & Gretton (2021, KALE flow), not the seed's.
 * The fitted f is an energy: Q·e^{−f}/Z is the generalized EBM that approximates P.
 *
 * The estimate. Each sample is split at random (by the key) into a training part (`trainFraction`,
 * default ½) and a held-out part. Coordinates are standardised by the pooled training points' mean and
 * standard deviation (a divergence does not change under an invertible map applied to both samples). The
 * critic is fitted on the training parts; the estimate is the bound at that critic on the held-out parts:
 *   f-divergence  mean_P a(v) − mean_Q b(v)             (a = g, b = φ* ∘ g)
 *   KALE          1 − mean_P f − mean_Q e^{−f} − penalty  (the penalty at the fitted f, a constant).
 * For an f-divergence the critic is clipped to the 0.5% and 99.5% quantiles of its values on the training
 * points (src/divergences/select.ts: any function gives a lower bound, and the clip keeps a spiky critic
 * from ruining the estimate on one new point). KALE's critic is not clipped: its value is for f ∈ H.
 * Given the fit, this is an unbiased estimate of the population objective at a feasible critic, so its
 * expectation is below the divergence (below KALE_λ, itself below KL): a conservative estimate, not the
 * in-sample maximum (reported as `train`, which overfits upward; for KALE with the RKHS critic `train` is
 * the maximised penalised empirical objective, the plug-in estimate of KALE_λ).
 *
 * Standard error: the central limit theorem over the held-out points with the critic held fixed,
 * SE² = s²_P/m_P + s²_Q/m_Q, the sample variances of the P-side and Q-side integrands over the m_P and m_Q
 * held-out points (the two samples are independent). It is the Monte Carlo error of the evaluation, not
 * the variability of the fitted critic across training splits.
 *
 * Critics: `{type: "rkhs"}` (default; src/divergences/rkhs.ts, fitted by the certified Newton method of
 * src/divergences/newton.ts) or `{type: "mlp"}` (src/divergences/neural.ts, Adam). Penalties: for an
 * f-divergence the RKHS λ is only a fitting device, chosen by default on the training split (`"auto"`, see
 * fitRkhsCritic); for KALE it is part of the definition, default λ = 0.1. The MLP's weight penalty defaults
 * to 0 for f-divergences and 1e-2 for KALE.
 */
import { medianBandwidth } from "../eval/mmd.ts";
import type { Key } from "../random/key.ts";
import { foldIn, Stream } from "../random/key.ts";
import {
  boundFromCritic,
  type BoundTerms,
  F_DIVERGENCE_KINDS,
  F_DIVERGENCES,
  type FDivergenceKind,
  KALE_TERMS,
} from "./f-divergences.ts";
import { type AdamReport, fitMlpCritic, type MlpCriticOptions } from "./neural.ts";
import { fitLinearCritic, linearCriticValues, type NewtonReport } from "./newton.ts";
import { GaussianLandmarkFeatures } from "./rkhs.ts";
import {
  clipRange,
  clipValues,
  oneStandardErrorChoice,
  type ValidationValues,
  validationBound,
} from "./select.ts";

export const DIVERGENCE_KINDS = [...F_DIVERGENCE_KINDS, "kale"] as const;
export type DivergenceKind = (typeof DIVERGENCE_KINDS)[number];

export function isDivergenceKind(s: string): s is DivergenceKind {
  return (DIVERGENCE_KINDS as readonly string[]).includes(s);
}

/** n points of dimension dim, row-major. */
export interface SampleSet {
  readonly x: Float64Array;
  readonly n: number;
  readonly dim: number;
}

export interface RkhsCriticOptions {
  /** Landmarks M (default 256; all training points when there are fewer). */
  landmarks?: number;
  /**
   * Gaussian kernel bandwidth σ in standardised units: a number, "median" (the median heuristic on the
   * training points; KALE's default) or "auto" (f-divergences only, their default: chosen with λ from
   * DEFAULT_BANDWIDTH_FACTORS × the median, see fitRkhsCritic).
   */
  bandwidth?: number | "median" | "auto";
  /**
   * λ in (λ/2)‖h‖²_H: a number, or "auto" (f-divergences only; the default for them) to choose it on the
   * training split from `lambdaGrid` (default DEFAULT_LAMBDA_GRID). KALE's default is 0.1.
   */
  lambda?: number | "auto";
  lambdaGrid?: readonly number[];
  /** Add a free constant to the critic (default true). */
  bias?: boolean;
  /** Newton's tolerance on ‖∇J‖₂ (default 1e-9) and iteration cap (default 200). */
  tol?: number;
  maxIter?: number;
}

export type CriticOptions = ({ type: "rkhs" } & RkhsCriticOptions) | ({ type: "mlp" } & MlpCriticOptions);

export interface DivergenceOptions {
  /** The critic class (default `{type: "rkhs"}`). */
  critic?: CriticOptions;
  /** Share of each sample the critic is fitted on (default 0.5; the rest evaluates it). */
  trainFraction?: number;
  /** Standardise coordinates by the pooled training points (default true). */
  standardize?: boolean;
}

export type CriticDescription =
  | {
      type: "rkhs";
      kernel: "gaussian";
      landmarks: number;
      bandwidth: number;
      lambda: number;
      bias: boolean;
      /** With "auto" λ or bandwidth: the validation bound of every pair tried. */
      selection?: { bandwidth: number; lambda: number; validation: number }[];
    }
  | { type: "mlp"; hidden: number[]; activation: string; steps: number; lr: number; weightPenalty: number };

export interface DivergenceEstimate {
  kind: DivergenceKind;
  /** e.g. "KL(P‖Q)", "KALE(P‖Q)". */
  label: string;
  /** The held-out value of the bound at the fitted critic (module comment), nats. */
  estimate: number;
  /** Its standard error (CLT over the held-out points, critic fixed). */
  stderr: number;
  units: "nats";
  /** One line saying what `estimate` is. */
  method: string;
  /** One line saying how `stderr` is computed. */
  stderrMethod: string;
  /** The same value on the training points (in-sample; biased upward). */
  train: number;
  /** KALE only: the penalty (λ/2)‖f‖² included in `estimate` and `train`. */
  penalty?: number;
  critic: CriticDescription;
  nTrain: { p: number; q: number };
  nTest: { p: number; q: number };
  solver: NewtonReport | AdamReport;
}

const LABELS: Record<DivergenceKind, string> = {
  ...Object.fromEntries(F_DIVERGENCE_KINDS.map((k) => [k, F_DIVERGENCES[k].label])),
  kale: "KALE(P‖Q)",
} as Record<DivergenceKind, string>;

function checkSamples(p: SampleSet, q: SampleSet): void {
  for (const [name, s] of [
    ["P", p],
    ["Q", q],
  ] as const) {
    if (!(Number.isInteger(s.dim) && s.dim >= 1))
      throw new RangeError(`${name}: dim must be ≥ 1, got ${s.dim}`);
    if (!(Number.isInteger(s.n) && s.n >= 4))
      throw new RangeError(`${name} needs at least 4 points (2 to fit, 2 to evaluate), got ${s.n}`);
    if (s.x.length < s.n * s.dim) throw new RangeError(`${name} holds fewer values than n × dim`);
  }
  if (p.dim !== q.dim) throw new RangeError(`P has dimension ${p.dim}, Q has ${q.dim}`);
}

/** A random split of n indices into train (the first nTrain of a shuffle) and test, from `key`. */
function splitIndices(n: number, nTrain: number, key: Key): [Int32Array, Int32Array] {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  const s = new Stream(key);
  for (let i = n - 1; i > 0; i--) {
    const j = s.integer(i + 1);
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return [idx.slice(0, nTrain), idx.slice(nTrain)];
}

function gather(x: Float64Array, dim: number, idx: Int32Array): Float64Array {
  const out = new Float64Array(idx.length * dim);
  for (let i = 0; i < idx.length; i++) out.set(x.subarray(idx[i] * dim, idx[i] * dim + dim), i * dim);
  return out;
}

interface Split {
  trainP: Float64Array;
  trainQ: Float64Array;
  testP: Float64Array;
  testQ: Float64Array;
  nTrain: { p: number; q: number };
  nTest: { p: number; q: number };
}

/** The training split is too small for the fit asked for (it names the sizes; nothing was fitted). */
export class SampleSizeError extends RangeError {
  override name = "SampleSizeError";
}

/**
 * Rows of each training sample used to fit when the rest (at least 2) validates a choice (the RKHS
 * λ/bandwidth, the MLP's early stopping): about ¾, at least 2. Throws a SampleSizeError below 4 rows.
 */
function innerFitSize(nTrain: { p: number; q: number }, what: string): { p: number; q: number } {
  if (nTrain.p < 4 || nTrain.q < 4)
    throw new SampleSizeError(
      `${what} needs at least 4 training rows of each sample (2 to fit, 2 to validate), got ${nTrain.p} of P and ${nTrain.q} of Q: use more rows or a larger training fraction`,
    );
  const f = (n: number) => Math.max(2, Math.min(n - 2, Math.round(0.75 * n)));
  return { p: f(nTrain.p), q: f(nTrain.q) };
}

function splitAndStandardize(
  p: SampleSet,
  q: SampleSet,
  key: Key,
  fraction: number,
  standardize: boolean,
): Split {
  const nTrainP = Math.min(p.n - 2, Math.max(2, Math.round(p.n * fraction)));
  const nTrainQ = Math.min(q.n - 2, Math.max(2, Math.round(q.n * fraction)));
  const [trP, teP] = splitIndices(p.n, nTrainP, foldIn(key, 0x70));
  const [trQ, teQ] = splitIndices(q.n, nTrainQ, foldIn(key, 0x71));
  const d = p.dim;
  const s: Split = {
    trainP: gather(p.x, d, trP),
    trainQ: gather(q.x, d, trQ),
    testP: gather(p.x, d, teP),
    testQ: gather(q.x, d, teQ),
    nTrain: { p: nTrainP, q: nTrainQ },
    nTest: { p: p.n - nTrainP, q: q.n - nTrainQ },
  };
  if (!standardize) return s;
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  const total = nTrainP + nTrainQ;
  for (const [x, n] of [
    [s.trainP, nTrainP],
    [s.trainQ, nTrainQ],
  ] as const)
    for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) mean[a] += x[i * d + a] / total;
  for (const [x, n] of [
    [s.trainP, nTrainP],
    [s.trainQ, nTrainQ],
  ] as const)
    for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) sd[a] += (x[i * d + a] - mean[a]) ** 2 / total;
  for (let a = 0; a < d; a++) sd[a] = sd[a] > 0 ? Math.sqrt(sd[a]) : 1;
  for (const x of [s.trainP, s.trainQ, s.testP, s.testQ])
    for (let i = 0; i < x.length; i++) x[i] = (x[i] - mean[i % d]) / sd[i % d];
  return s;
}

/** The default λ grid of `lambda: "auto"`: 1 down to 1e-3 in half-decades. */
export const DEFAULT_LAMBDA_GRID: readonly number[] = Object.freeze([
  1, 0.31622776601683794, 0.1, 0.03162277660168379, 0.01, 0.0031622776601683794, 0.001,
]);

/** `lambda: "auto"` tries no λ below LAMBDA_FLOOR/√n, n the number of training points (P and Q). */
export const LAMBDA_FLOOR = 0.3;

/** The bandwidths `bandwidth: "auto"` tries, as multiples of the median heuristic. */
export const DEFAULT_BANDWIDTH_FACTORS: readonly number[] = Object.freeze([0.5, 1, 2, 4]);

interface Candidate extends ValidationValues {
  bandwidth: number;
  lambda: number;
  validation: number;
  theta: Float64Array;
}

/**
 * The RKHS critic fitted on the training split. With `lambda: "auto"` or `bandwidth: "auto"`
 * (f-divergences; the default for them), they are chosen on the training split alone: for every bandwidth
 * candidate the critic is fitted on ¾ of it along the λ grid (largest first, each fit started from the
 * previous one, to a loose tolerance, stopping once the bound on the other ¼ has fallen twice in a row);
 * then the one-standard-error rule (src/divergences/select.ts) keeps the largest λ (then the largest
 * bandwidth) whose validation bound is within one paired SE of the best. No λ below 1e-3 or below
 * LAMBDA_FLOOR/√n (n training points) is tried: penalised kernel fits generalise when λ shrinks more
 * slowly than 1/√n (λ√n → ∞, the classical condition for their consistency), and below that the critics
 * get spiky — large in small regions — which with an unbounded conjugate (KL's e^{v−1}, reverse KL's
 * −e^{−v}) makes the validation bound look better than the critic is: a few hundred validation points
 * rarely meet the spike that the held-out points then do.
 * The critic is then refitted on the whole training split at the chosen pair, to full tolerance. The
 * held-out points play no part in the choice.
 */
function fitRkhsCritic(
  terms: BoundTerms,
  s: Split,
  d: number,
  key: Key,
  critic: RkhsCriticOptions,
  isKale: boolean,
): {
  values: (x: Float64Array, n: number) => Float64Array;
  report: NewtonReport;
  description: CriticDescription;
} {
  const lambdaOpt = critic.lambda ?? (isKale ? 0.1 : "auto");
  const bandwidthOpt = critic.bandwidth ?? (isKale ? "median" : "auto");
  if (isKale && (lambdaOpt === "auto" || bandwidthOpt === "auto"))
    throw new RangeError("KALE's λ and kernel are part of its definition: give numbers, not 'auto'");
  if (lambdaOpt !== "auto" && !(lambdaOpt > 0 && Number.isFinite(lambdaOpt)))
    throw new RangeError(`lambda must be positive, got ${lambdaOpt}`);
  if (typeof bandwidthOpt === "number" && !(bandwidthOpt > 0 && Number.isFinite(bandwidthOpt)))
    throw new RangeError(`bandwidth must be positive, got ${bandwidthOpt}`);
  const bias = critic.bias ?? true;
  const m = critic.landmarks ?? 256;
  if (!(Number.isInteger(m) && m >= 1)) throw new RangeError(`landmarks must be an integer ≥ 1, got ${m}`);
  const nPool = s.nTrain.p + s.nTrain.q;
  const pool = new Float64Array(nPool * d);
  pool.set(s.trainP);
  pool.set(s.trainQ, s.trainP.length);
  const median =
    typeof bandwidthOpt === "number"
      ? bandwidthOpt
      : medianBandwidth(s.trainP, s.nTrain.p, s.trainQ, s.nTrain.q, d);
  const featuresAt = (bw: number) => {
    // The same key for every bandwidth: the same landmarks.
    const f = GaussianLandmarkFeatures.fromPool(pool, nPool, d, m, bw, key);
    return { f, zP: f.map(s.trainP, s.nTrain.p), zQ: f.map(s.trainQ, s.nTrain.q) };
  };
  const newton = { tol: critic.tol, maxIter: critic.maxIter };

  let bandwidth = median;
  let lambda = typeof lambdaOpt === "number" ? lambdaOpt : Number.NaN;
  let init: Float64Array | undefined;
  let selection: { bandwidth: number; lambda: number; validation: number }[] | undefined;
  if (lambdaOpt === "auto" || bandwidthOpt === "auto") {
    const grid = critic.lambdaGrid ?? DEFAULT_LAMBDA_GRID;
    if (grid.length === 0 || !grid.every((l) => l > 0 && Number.isFinite(l)))
      throw new RangeError("lambdaGrid must hold positive numbers");
    // λ must shrink more slowly than 1/√n for the fitted critic to generalise; the largest grid value is
    // kept whatever n.
    const floor = LAMBDA_FLOOR / Math.sqrt(s.nTrain.p + s.nTrain.q);
    const sorted = [...grid].sort((a, b) => b - a);
    const lambdas = lambdaOpt === "auto" ? sorted.filter((l, i) => i === 0 || l >= floor) : [lambdaOpt];
    const bandwidths = bandwidthOpt === "auto" ? DEFAULT_BANDWIDTH_FACTORS.map((f) => f * median) : [median];
    // ¾ / ¼ of each training sample (their order is already random).
    const { p: fP, q: fQ } = innerFitSize(s.nTrain, "choosing the RKHS critic's λ or bandwidth");
    const candidates: Candidate[] = [];
    for (const bw of bandwidths) {
      const { zP, zQ, f } = featuresAt(bw);
      const mm = f.m;
      let start: Float64Array | undefined;
      let prev = -Infinity;
      let worse = 0;
      for (const l of lambdas) {
        const fit = fitLinearCritic(
          {
            zP: zP.subarray(0, fP * mm),
            nP: fP,
            zQ: zQ.subarray(0, fQ * mm),
            nQ: fQ,
            m: mm,
            bias,
            lambda: l,
            terms,
          },
          { maxIter: 50, gainTol: 1e-7, init: start },
        );
        start = fit.theta;
        const range = clipRange(
          linearCriticValues(fit.theta, zP, fP, mm, bias),
          linearCriticValues(fit.theta, zQ, fQ, mm, bias),
        );
        const vP = clipValues(
          linearCriticValues(fit.theta, zP.subarray(fP * mm), s.nTrain.p - fP, mm, bias),
          range,
        );
        const vQ = clipValues(
          linearCriticValues(fit.theta, zQ.subarray(fQ * mm), s.nTrain.q - fQ, mm, bias),
          range,
        );
        const validation = validationBound(terms, { vP, vQ });
        candidates.push({ bandwidth: bw, lambda: l, validation, theta: fit.theta, vP, vQ });
        // Smaller λ only overfits more once the validation bound has fallen twice in a row.
        worse = validation < prev ? worse + 1 : 0;
        prev = validation;
        if (worse >= 2) break;
      }
    }
    // Simplest first: largest λ, then largest bandwidth.
    const order = [...candidates].sort((x, y) => y.lambda - x.lambda || y.bandwidth - x.bandwidth);
    const pick =
      order[
        oneStandardErrorChoice(
          terms,
          order,
          order.map((c) => c.validation),
        )
      ];
    bandwidth = pick.bandwidth;
    lambda = pick.lambda;
    init = pick.theta;
    selection = candidates.map(({ bandwidth, lambda, validation }) => ({ bandwidth, lambda, validation }));
  }
  const { f: features, zP, zQ } = featuresAt(bandwidth);
  const mm = features.m;
  const fit = fitLinearCritic(
    { zP, nP: s.nTrain.p, zQ, nQ: s.nTrain.q, m: mm, bias, lambda, terms },
    { ...newton, init },
  );
  return {
    values: (x, n) => linearCriticValues(fit.theta, features.map(x, n), n, mm, bias),
    report: fit.report,
    description: {
      type: "rkhs",
      kernel: "gaussian",
      landmarks: mm,
      bandwidth,
      lambda,
      bias,
      ...(selection ? { selection } : {}),
    },
  };
}

/**
 * Estimates `kind` (an f-divergence or "kale") between P and Q from their samples (module comment): a
 * critic fitted on a random training split, the bound evaluated on the held-out rest with its CLT standard
 * error. All randomness (the split, the landmarks or the MLP's initialisation and batches) comes from `key`.
 */
export async function estimateDivergence(
  kind: DivergenceKind,
  p: SampleSet,
  q: SampleSet,
  key: Key,
  options: DivergenceOptions = {},
): Promise<DivergenceEstimate> {
  checkSamples(p, q);
  const fraction = options.trainFraction ?? 0.5;
  if (!(fraction > 0 && fraction < 1))
    throw new RangeError(`trainFraction must be in (0, 1), got ${fraction}`);
  const isKale = kind === "kale";
  const terms: BoundTerms = isKale ? KALE_TERMS : F_DIVERGENCES[kind];
  if (!terms) throw new RangeError(`unknown divergence '${kind}': use one of ${DIVERGENCE_KINDS.join(", ")}`);
  const critic = options.critic ?? { type: "rkhs" };
  const s = splitAndStandardize(p, q, foldIn(key, 0x73706c74), fraction, options.standardize ?? true);
  const d = p.dim;
  const criticKey = foldIn(key, 0x63726974);

  let vTestP: Float64Array;
  let vTestQ: Float64Array;
  let vTrainP: Float64Array;
  let vTrainQ: Float64Array;
  let penalty: number;
  let solver: NewtonReport | AdamReport;
  let description: CriticDescription;
  if (critic.type === "rkhs") {
    const fit = fitRkhsCritic(terms, s, d, criticKey, critic, isKale);
    vTrainP = fit.values(s.trainP, s.nTrain.p);
    vTrainQ = fit.values(s.trainQ, s.nTrain.q);
    vTestP = fit.values(s.testP, s.nTest.p);
    vTestQ = fit.values(s.testQ, s.nTest.q);
    penalty = fit.report.penalty;
    solver = fit.report;
    description = fit.description;
  } else {
    const weightPenalty = critic.weightPenalty ?? (isKale ? 1e-2 : 0);
    // f-divergences: ¾ of the training split to fit, ¼ to stop early on (KALE: all of it, no stopping).
    const { p: fP, q: fQ } = isKale ? s.nTrain : innerFitSize(s.nTrain, "the MLP critic's early stopping");
    const fit = await fitMlpCritic(
      terms,
      s.trainP.subarray(0, fP * d),
      fP,
      s.trainQ.subarray(0, fQ * d),
      fQ,
      d,
      criticKey,
      { ...critic, weightPenalty },
      isKale
        ? undefined
        : {
            xP: s.trainP.subarray(fP * d),
            nP: s.nTrain.p - fP,
            xQ: s.trainQ.subarray(fQ * d),
            nQ: s.nTrain.q - fQ,
          },
    );
    try {
      vTrainP = fit.values(s.trainP, s.nTrain.p);
      vTrainQ = fit.values(s.trainQ, s.nTrain.q);
      vTestP = fit.values(s.testP, s.nTest.p);
      vTestQ = fit.values(s.testQ, s.nTest.q);
    } finally {
      fit.dispose();
    }
    penalty = fit.report.penalty;
    solver = fit.report;
    description = {
      type: "mlp",
      hidden: [...(critic.hidden ?? [64, 64])],
      activation: critic.activation ?? "silu",
      steps: fit.report.steps,
      lr: critic.lr ?? 3e-3,
      weightPenalty,
    };
  }
  if (!isKale) {
    const range = clipRange(vTrainP, vTrainQ);
    clipValues(vTestP, range);
    clipValues(vTestQ, range);
  }
  const held = boundFromCritic(terms, vTestP, vTestQ);
  const inSample = boundFromCritic(terms, vTrainP, vTrainQ);
  const sub = isKale ? penalty : 0;
  return {
    kind,
    label: LABELS[kind],
    estimate: held.value - sub,
    stderr: held.stderr,
    units: "nats",
    method: isKale
      ? "KALE: 1 − E_P f − E_Q e^{−f} − penalty at the critic fitted on the training split, on held-out points"
      : "variational lower bound E_P g(v) − E_Q φ*(g(v)) at the critic fitted on the training split, on held-out points",
    stderrMethod: `CLT over ${s.nTest.p} + ${s.nTest.q} held-out points, critic fixed`,
    train: inSample.value - sub,
    ...(isKale ? { penalty } : {}),
    critic: description,
    nTrain: s.nTrain,
    nTest: s.nTest,
    solver,
  };
}

/** KALE(P‖Q) (module comment); `estimateDivergence("kale", …)`. */
export function estimateKale(
  p: SampleSet,
  q: SampleSet,
  key: Key,
  options: DivergenceOptions = {},
): Promise<DivergenceEstimate> {
  return estimateDivergence("kale", p, q, key, options);
}

/** The f-divergence `kind`'s held-out variational lower bound (module comment). */
export function estimateFDivergence(
  kind: FDivergenceKind,
  p: SampleSet,
  q: SampleSet,
  key: Key,
  options: DivergenceOptions = {},
): Promise<DivergenceEstimate> {
  return estimateDivergence(kind, p, q, key, options);
}
