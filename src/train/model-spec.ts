/**
 * What a trained model is, as data: the spec that rebuilds it (stored in a checkpoint's config.json) and
 * the names and shapes of its parameter tensors (stored in model.safetensors).
 *
 * MLP tensor names, for a network dim → hidden[0] → … → 1:
 *   mlp.layers.<l>.weight   shape [in, out]  (row-major; note: PyTorch's nn.Linear stores [out, in])
 *   mlp.layers.<l>.bias     shape [out]
 * for l = 0 … hidden.length. The fixed confinement ½·c·|x|² is part of the spec, not a tensor.
 */
import type { MlpActivation, MlpEnergy, MlpSpec } from "../energies/mlp.ts";
import { createMlpEnergy, mlpNumParams, validateMlpSpec } from "../energies/mlp.ts";
import type { TrainableEnergy } from "../energies/contract.ts";
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";
import type { WalkerInit } from "../objectives/walkers-init.ts";

export interface MlpModelSpec {
  type: "mlp";
  dim: number;
  hidden: number[];
  activation: MlpActivation;
  /** c in the fixed ½·c·|x|² (c > 0 makes e^{−U} normalisable for every θ). */
  confinement: number;
}

export type ModelSpec = MlpModelSpec;

export interface TensorSlot {
  name: string;
  shape: number[];
  /** Offset in the flat θ. */
  offset: number;
  size: number;
}

function mlpSpec(spec: MlpModelSpec): MlpSpec {
  return {
    inputDim: spec.dim,
    hidden: spec.hidden,
    activation: spec.activation,
    confinement: spec.confinement,
  };
}

/** Throws a RangeError naming the field when `spec` is malformed. */
export function validateModelSpec(spec: ModelSpec): void {
  if (spec.type !== "mlp") throw new RangeError(`model.type must be 'mlp', got '${String(spec.type)}'`);
  validateMlpSpec(mlpSpec(spec));
}

/** The parameter tensors of `spec`, in θ order. */
export function modelLayout(spec: ModelSpec): TensorSlot[] {
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
  return slots;
}

export function modelNumParams(spec: ModelSpec): number {
  return mlpNumParams(mlpSpec(spec));
}

/** θ as named tensors. */
export function paramsToTensors(
  spec: ModelSpec,
  theta: Float64Array,
): Record<string, { shape: number[]; data: Float64Array }> {
  const out: Record<string, { shape: number[]; data: Float64Array }> = {};
  for (const s of modelLayout(spec))
    out[s.name] = { shape: s.shape, data: theta.slice(s.offset, s.offset + s.size) };
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
export async function buildModel(spec: ModelSpec, key: Key): Promise<MlpEnergy> {
  validateModelSpec(spec);
  return createMlpEnergy(mlpSpec(spec), key);
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
