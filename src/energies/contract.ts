/**
 * The Energy contract: the only thing samplers, SMC and trainers know about a model.
 *
 * Points come in batches: `x` holds n points of dimension `dim`, row-major (point i is
 * x[i*dim … i*dim+dim−1]), as a Float64Array. Energies are returned in float64 per point. An energy may
 * compute internally in float32 (neural energies) or float64 (analytic ones); callers never see which
 * backend ran. Energies never keep or mutate the caller's buffers: outputs are written to the arrays the
 * caller passes, which lets hot loops run without allocation.
 *
 * ρ(x) = e^{−U(x)} / Z. Samplers at inverse temperature β use e^{−βU}; the energy itself knows nothing
 * of β.
 */
import type { Key } from "../random/key.ts";

export interface Energy {
  /** Dimension of one point. */
  readonly dim: number;

  /** U(x_i) for the n points of `x`, written to `u` (length ≥ n). */
  energy(x: Float64Array, n: number, u: Float64Array): void;

  /**
   * U(x_i) into `u` and ∇ₓU(x_i) into `grad` (n × dim, row-major), in one pass: samplers cache both, so
   * a Langevin step costs one forward and one backward.
   */
  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void;
}

/**
 * A parametrised energy U_θ. Parameters are exposed as one flat float64 vector so that optimizers and
 * checkpoints treat every model alike.
 */
export interface TrainableEnergy extends Energy {
  /** Number of scalar parameters. */
  readonly numParams: number;

  /** A copy of θ. */
  getParams(): Float64Array;

  /** Sets θ (copied from `theta`, length numParams). */
  setParams(theta: Float64Array): void;

  /**
   * Weighted parameter gradient Σ_i w_i ∂θU(x_i), written (not added) to `out` (length numParams).
   * With w_i = 1/n this is the plain average (CD/PCD data and model terms); with normalized importance
   * weights it is the self-normalized estimate used by Jarzynski-reweighted training. Weights may be
   * negative: the likelihood gradient E_data[∂θU] − Σ w_i ∂θU(X_i) is one call on data and walkers together.
   */
  paramGrad(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): void;
}

/** An energy whose normalized density can be sampled exactly (used to start walkers at ρ_θ₀). */
export interface ExactlySampleable {
  sampleExact(key: Key, n: number, out: Float64Array): void;
}

/** An energy whose log-partition function log Z = log ∫ e^{−U} is known in closed form. */
export interface KnownLogZ {
  logZ(): number;
}

/**
 * An energy that provides the exact (Hyvärinen) score-matching objective
 * J(θ) = Σ_i w_i [½|∇ₓU_θ(x_i)|² − ΔₓU_θ(x_i)] and its parameter gradient (written to `out`).
 */
export interface ScoreMatchable {
  scoreMatching(x: Float64Array, n: number, weights: Float64Array, out: Float64Array): number;
}

export function isExactlySampleable(e: object): e is ExactlySampleable {
  return typeof (e as Partial<ExactlySampleable>).sampleExact === "function";
}

export function hasKnownLogZ(e: object): e is KnownLogZ {
  return typeof (e as Partial<KnownLogZ>).logZ === "function";
}

export function isScoreMatchable(e: object): e is ScoreMatchable {
  return typeof (e as Partial<ScoreMatchable>).scoreMatching === "function";
}

/** Uniform weights 1/n, a common argument of `paramGrad`. */
export function uniformWeights(n: number): Float64Array {
  return new Float64Array(n).fill(1 / n);
}

/**
 * Optional capability: a Langevin (ULA/MALA) proposal and its evaluation in one pass,
 * y = x − h·∇U(x) + √(2h)·ξ for the caller's noise ξ, writing y, U(y) and ∇U(y) — one forward and one
 * backward pass, with no round trip between the move and the evaluation. `gradX` is ∇U(x) as cached by
 * the caller; all arrays are n × dim (uY: n). Points are processed one after another and each is read
 * before it is written, so the update may be in place (y = x, gradY = gradX).
 */
export interface LangevinProposer {
  langevinStep(
    x: Float64Array,
    gradX: Float64Array,
    noise: Float64Array,
    n: number,
    h: number,
    y: Float64Array,
    uY: Float64Array,
    gradY: Float64Array,
  ): void;
}

export function isLangevinProposer(e: object): e is LangevinProposer {
  return typeof (e as Partial<LangevinProposer>).langevinStep === "function";
}
