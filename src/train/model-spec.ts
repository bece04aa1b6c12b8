/**
 * What a trained model is, as data: the spec that rebuilds it (stored in a checkpoint's config.json) and
 * the names and shapes of its parameter tensors (stored in model.safetensors).
 *
 * MLP tensor names, for a network dim → hidden[0] → … → 1:
 *   mlp.layers.<l>.weight   shape [in, out]  (row-major; note: PyTorch's nn.Linear stores [out, in])
 *   mlp.layers.<l>.bias     shape [out]
 * for l = 0 … hidden.length. The fixed confinement ½·c·|x|² is part of the spec, not a tensor; a trainable
 * one is the tensor
 *   confinement.lambda      shape [1]
 * after the MLP's (U = MLP(x) + ½·λ·|x|²).
 *
 * RBM tensor names (energies/rbm.ts; θ = [W, b, c]):
 *   weights        shape [visible, hidden]  (row-major: weights[i, j] couples visible i and hidden j)
 *   visible_bias   shape [visible]
 *   hidden_bias    shape [hidden]
 * stored as float64 holding the RBM's float32 values exactly (paramsToTensors rounds θ as Rbm.setParams does).
 */
import {
  ExpFamEnergy,
  naturalFromGaussian,
  polynomialStatistics,
  quadraticStatistics,
  radialStatistics,
  type SufficientStatistics,
} from "../energies/expfam.ts";
import type { MlpActivation, MlpSpec } from "../energies/mlp.ts";
import { createMlpEnergy, mlpNumParams, validateMlpSpec } from "../energies/mlp.ts";
import { AffineInputEnergy } from "../energies/affine.ts";
import { ProductOfExperts } from "../energies/product.ts";
import type { Energy, TrainableEnergy } from "../energies/contract.ts";
import { Rbm } from "../energies/rbm.ts";
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";
import type { WalkerInit } from "../objectives/walkers-init.ts";

export interface MlpModelSpec {
  type: "mlp";
  dim: number;
  hidden: number[];
  activation: MlpActivation;
  /** c in the fixed ½·c·|x|² (c > 0 makes e^{−U} normalisable for every θ); with `trainableConfinement`, λ₀. */
  confinement: number;
  /**
   * Learn λ in ½·λ·|x|² with the network (a product of the MLP and the exponential family λ·|x|²/2,
   * energies/product.ts), starting at λ₀ = confinement, so walkers still start from the exact N(0, I/λ₀).
   * Tensor confinement.lambda, shape [1], after the MLP's. Training stops if λ reaches 0.
   */
  trainableConfinement?: boolean;
  /**
   * Standardisation applied to the inputs before training: the network sees z = (x − inputShift)/inputScale
   * (energies/affine.ts maps every output back to the user's coordinates). Absent: z = x.
   */
  inputShift?: number[];
  inputScale?: number;
}

/**
 * An exponential family U_θ(x) = θ·T(x) (seed 003's maximum-entropy model): `statistics` "quadratic"
 * (x_a and x_a·x_b: the Gaussian family) or "poly" (x_a^j, j = 1…degree, per coordinate; degree even).
 * θ₀ is the standard normal's (½ on each x_a², 0 elsewhere), so walkers start as exact draws of N(0, I).
 * Tensor: expfam.theta, shape [m], in the statistics' order (energies/expfam.ts).
 */
export interface ExpFamModelSpec {
  type: "expfam";
  dim: number;
  statistics: "quadratic" | "poly";
  /** For "poly": the highest power (even, ≥ 2). */
  degree?: number;
  inputShift?: number[];
  inputScale?: number;
}

/**
 * A Bernoulli RBM (energies/rbm.ts) with `visible` units (the data's columns, 0/1) and `hidden` units. Its
 * energy is the free energy F(v); it trains with the RBM objectives (cd, pcd, jarzynski) and has no
 * Gaussian base or input standardisation. Initial θ (Hinton 2010, §8): W ~ N(0, 0.01²), c = 0, and b the
 * logits of the training data's pixel means when the data are given (train/session.ts), else 0.
 */
export interface RbmModelSpec {
  type: "rbm";
  visible: number;
  hidden: number;
}

export type ModelSpec = MlpModelSpec | ExpFamModelSpec | RbmModelSpec;

/** The number of coordinates of a data point: the MLP's or family's dim, an RBM's visible units. */
export function modelDim(spec: ModelSpec): number {
  return spec.type === "rbm" ? spec.visible : spec.dim;
}

/** The energy of a built model: trainable, and disposable (MLPs hold backend memory). */
export type ModelEnergy = TrainableEnergy & { dispose(): void };

/**
 * c of the base Gaussian N(0, I/c) in the network's coordinates: the MLP's confinement, or 1 for an
 * exponential family (whose θ₀ is the standard normal).
 */
export function baseConfinement(spec: ModelSpec): number {
  if (spec.type === "rbm") throw new RangeError(RBM_NO_BASE);
  return spec.type === "mlp" ? spec.confinement : 1;
}

const RBM_NO_BASE =
  "an RBM has no Gaussian base: use `ebm logz` or `ebm score` with it, or `ebm sample` with an RBM target file";

function expFamStatistics(spec: ExpFamModelSpec): SufficientStatistics {
  return spec.statistics === "quadratic"
    ? quadraticStatistics(spec.dim)
    : polynomialStatistics(spec.dim, spec.degree ?? 4);
}

/** θ₀ of an exponential family: the standard normal N(0, I). */
function expFamInitialTheta(spec: ExpFamModelSpec): Float64Array {
  const d = spec.dim;
  if (spec.statistics === "quadratic") {
    const eye = new Float64Array(d * d);
    for (let a = 0; a < d; a++) eye[a * d + a] = 1;
    return naturalFromGaussian(new Float64Array(d), eye);
  }
  const k = spec.degree ?? 4;
  const theta = new Float64Array(d * k);
  for (let a = 0; a < d; a++) theta[a * k + 1] = 0.5;
  return theta;
}

export interface TensorSlot {
  name: string;
  shape: number[];
  /** Offset in the flat θ. */
  offset: number;
  size: number;
}

function mlpSpec(spec: MlpModelSpec): MlpSpec {
  if (spec.type !== "mlp") throw new Error("internal: not an MLP spec");
  return {
    inputDim: spec.dim,
    hidden: spec.hidden,
    activation: spec.activation,
    // A trainable confinement is an expert of its own (buildModel).
    confinement: spec.trainableConfinement ? 0 : spec.confinement,
  };
}

/** Throws a RangeError naming the field when `spec` is malformed. */
export function validateModelSpec(spec: ModelSpec): void {
  if (typeof spec !== "object" || spec === null || Array.isArray(spec))
    throw new RangeError(`model must be an object with a type, got ${spec === null ? "null" : typeof spec}`);
  if (spec.type === "rbm") {
    for (const k of ["visible", "hidden"] as const)
      if (!(Number.isSafeInteger(spec[k]) && spec[k] >= 1 && spec[k] <= 1 << 16))
        throw new RangeError(`model.${k} must be an integer from 1 to 65536, got ${spec[k]}`);
    return;
  }
  if (spec.type === "expfam") {
    if (!(Number.isSafeInteger(spec.dim) && spec.dim >= 1))
      throw new RangeError(`model.dim must be a positive integer, got ${spec.dim}`);
    if (spec.statistics !== "quadratic" && spec.statistics !== "poly")
      throw new RangeError(`model.statistics must be quadratic or poly, got '${String(spec.statistics)}'`);
    const k = spec.degree ?? 4;
    if (spec.statistics === "poly" && !(Number.isSafeInteger(k) && k >= 2 && k % 2 === 0 && k <= 12))
      throw new RangeError(`model.degree must be an even integer from 2 to 12, got ${k}`);
  } else if (spec.type === "mlp") {
    validateMlpSpec(mlpSpec(spec));
    if (spec.trainableConfinement !== undefined && typeof spec.trainableConfinement !== "boolean")
      throw new RangeError("model.trainableConfinement must be true or false");
    if (spec.trainableConfinement && !(spec.confinement > 0 && Number.isFinite(spec.confinement)))
      throw new RangeError(
        `a trainable confinement starts at model.confinement, which must be > 0, got ${spec.confinement}`,
      );
  } else
    throw new RangeError(
      `model.type must be 'mlp', 'expfam' or 'rbm', got '${String((spec as { type: unknown }).type)}'`,
    );
  if ((spec.inputShift === undefined) !== (spec.inputScale === undefined))
    throw new RangeError("model.inputShift and model.inputScale go together");
  if (spec.inputShift !== undefined) {
    if (
      !Array.isArray(spec.inputShift) ||
      spec.inputShift.length !== spec.dim ||
      !spec.inputShift.every(Number.isFinite)
    )
      throw new RangeError(`model.inputShift must be ${spec.dim} finite numbers`);
    const s = spec.inputScale as number;
    if (!(typeof s === "number" && s > 0 && Number.isFinite(s)))
      throw new RangeError(`model.inputScale must be a positive number, got ${s}`);
  }
}

/**
 * The model's base distribution in the user's coordinates: the confinement Gaussian N(shift, (scale²/c)·I)
 * (N(0, I/c) without standardisation), and its log normaliser (d/2)·log(2π·scale²/c). Walkers start from
 * it; annealed log Z estimators anneal from it; grids are laid around it.
 */
export interface ModelBase {
  mean: Float64Array;
  std: number;
  logZ: number;
}

export function modelBase(spec: ModelSpec): ModelBase {
  if (spec.type === "rbm") throw new RangeError(RBM_NO_BASE);
  const scale = spec.inputScale ?? 1;
  const std = scale / Math.sqrt(baseConfinement(spec));
  return {
    mean: spec.inputShift ? Float64Array.from(spec.inputShift) : new Float64Array(spec.dim),
    std,
    logZ: 0.5 * spec.dim * Math.log(2 * Math.PI * std * std),
  };
}

/** The trained energy in the user's coordinates (the model itself when the inputs were not standardised). */
export function userEnergy(spec: ModelSpec, model: Energy): Energy {
  return spec.type === "rbm" || spec.inputShift === undefined
    ? model
    : new AffineInputEnergy(model, Float64Array.from(spec.inputShift), spec.inputScale as number);
}

/** Data in the network's coordinates: (x − shift)/scale (a copy), or x itself without standardisation. */
export function toModelCoordinates(spec: ModelSpec, x: Float64Array, n: number): Float64Array {
  if (spec.type === "rbm" || spec.inputShift === undefined) return x;
  const d = spec.dim;
  const z = new Float64Array(n * d);
  const inv = 1 / (spec.inputScale as number);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < d; a++) z[i * d + a] = (x[i * d + a] - spec.inputShift[a]) * inv;
  return z;
}

/**
 * Standardisation for data x (n × d): the column means and one scale for all coordinates, the root mean
 * square of the column standard deviations (1 when the data have no spread).
 */
export function standardisation(
  x: Float64Array,
  n: number,
  d: number,
): { inputShift: number[]; inputScale: number } {
  const mean = new Array<number>(d).fill(0);
  for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) mean[a] += x[i * d + a] / n;
  let v = 0;
  for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) v += (x[i * d + a] - mean[a]) ** 2 / (n * d);
  const scale = Math.sqrt(v);
  return { inputShift: mean, inputScale: scale > 0 && Number.isFinite(scale) ? scale : 1 };
}

/** The parameter tensors of `spec`, in θ order. */
export function modelLayout(spec: ModelSpec): TensorSlot[] {
  if (spec.type === "rbm") {
    const { visible: v, hidden: h } = spec;
    return [
      { name: "weights", shape: [v, h], offset: 0, size: v * h },
      { name: "visible_bias", shape: [v], offset: v * h, size: v },
      { name: "hidden_bias", shape: [h], offset: v * h + v, size: h },
    ];
  }
  if (spec.type === "expfam") {
    const m = expFamStatistics(spec).size;
    return [{ name: "expfam.theta", shape: [m], offset: 0, size: m }];
  }
  const widths = [spec.dim, ...spec.hidden, 1];
  const slots: TensorSlot[] = [];
  let offset = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    const w = widths[l] * widths[l + 1];
    slots.push({ name: `mlp.layers.${l}.weight`, shape: [widths[l], widths[l + 1]], offset, size: w });
    offset += w;
    slots.push({ name: `mlp.layers.${l}.bias`, shape: [widths[l + 1]], offset, size: widths[l + 1] });
    offset += widths[l + 1];
  }
  if (offset !== mlpNumParams(mlpSpec(spec)))
    throw new Error("internal: MLP layout disagrees with the model");
  if (spec.trainableConfinement) slots.push({ name: CONFINEMENT_TENSOR, shape: [1], offset, size: 1 });
  return slots;
}

const CONFINEMENT_TENSOR = "confinement.lambda";

export function modelNumParams(spec: ModelSpec): number {
  if (spec.type === "rbm") return spec.visible * spec.hidden + spec.visible + spec.hidden;
  if (spec.type === "expfam") return expFamStatistics(spec).size;
  return mlpNumParams(mlpSpec(spec)) + (spec.trainableConfinement ? 1 : 0);
}

/**
 * The trainable confinement's λ in θ (its last entry), or undefined when the model has none. λ ≤ 0 leaves
 * e^{−U} without a normaliser (the network grows at most linearly), so training stops there.
 */
export function trainedConfinement(spec: ModelSpec, theta: ArrayLike<number>): number | undefined {
  return spec.type === "mlp" && spec.trainableConfinement ? theta[theta.length - 1] : undefined;
}

/** θ as named tensors. */
export function paramsToTensors(
  spec: ModelSpec,
  theta: Float64Array,
): Record<string, { shape: number[]; data: Float64Array }> {
  const out: Record<string, { shape: number[]; data: Float64Array }> = {};
  // An RBM computes with θ rounded to float32 (Rbm.setParams): its tensors hold those values, the ones
  // every command that loads the model uses (the trainer's float64 master copy is in the state file).
  const round = spec.type === "rbm";
  for (const s of modelLayout(spec)) {
    const data = theta.slice(s.offset, s.offset + s.size);
    if (round) for (let i = 0; i < data.length; i++) data[i] = Math.fround(data[i]);
    out[s.name] = { shape: s.shape, data };
  }
  return out;
}

/**
 * θ from named tensors; throws a RangeError naming the tensor when one is missing, has another shape or
 * holds a non-finite value.
 */
export function paramsFromTensors(
  spec: ModelSpec,
  get: (name: string) => { shape: readonly number[]; data: ArrayLike<number> } | undefined,
): Float64Array {
  const theta = new Float64Array(modelNumParams(spec));
  for (const s of modelLayout(spec)) {
    const t = get(s.name);
    if (!t) throw new RangeError(`tensor ${s.name} is missing`);
    if (t.shape.length !== s.shape.length || t.shape.some((v, i) => v !== s.shape[i]))
      throw new RangeError(
        `tensor ${s.name} has shape [${t.shape.join(", ")}], expected [${s.shape.join(", ")}]`,
      );
    for (let i = 0; i < s.size; i++) {
      const v = t.data[i];
      if (!Number.isFinite(v))
        throw new RangeError(`tensor ${s.name} holds a non-finite value at index ${i}`);
      theta[s.offset + i] = v;
    }
  }
  return theta;
}

/** Builds the model of `spec` with θ initialised from `key` (on the selected backend). */
export async function buildModel(spec: ModelSpec, key: Key): Promise<ModelEnergy> {
  validateModelSpec(spec);
  if (spec.type === "rbm")
    return Object.assign(Rbm.random(key, spec.visible, spec.hidden, 0.01, 0), { dispose() {} });
  if (spec.type === "expfam") {
    const e = new ExpFamEnergy(expFamStatistics(spec), expFamInitialTheta(spec));
    return Object.assign(e, { dispose() {} });
  }
  const mlp = await createMlpEnergy(mlpSpec(spec), key);
  if (!spec.trainableConfinement) return mlp;
  const confinement = new ExpFamEnergy(radialStatistics(spec.dim), Float64Array.of(spec.confinement));
  return Object.assign(new ProductOfExperts([mlp, confinement]), { dispose: () => mlp.dispose() });
}

/**
 * Walkers from the confinement's Gaussian N(0, I/c) with importance log-weights −(U_θ₀(x) − ½c|x|²):
 * exactly weighted samples of ρ_θ₀ (needs c > 0).
 */
export function confinementInit(confinement: number): WalkerInit {
  if (!(confinement > 0))
    throw new RangeError("walkers start from the confinement's Gaussian: the model needs confinement > 0");
  const sd = 1 / Math.sqrt(confinement);
  return (key: Key, model: TrainableEnergy, n: number) => {
    const d = model.dim;
    const x = new Float64Array(n * d);
    new Stream(key).fillNormal(x);
    for (let i = 0; i < x.length; i++) x[i] *= sd;
    const u = new Float64Array(n);
    model.energy(x, n, u);
    const logw = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let r2 = 0;
      for (let a = 0; a < d; a++) r2 += x[i * d + a] * x[i * d + a];
      logw[i] = -(u[i] - 0.5 * confinement * r2);
    }
    return { x, logw };
  };
}
