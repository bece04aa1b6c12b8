/**
 * MLP energies: U_θ(x) = MLP_θ(x) + ½·confinement·|x|², the public factory the rest of the library uses.
 *
 * The network is inputDim → hidden[0] → … → hidden[L−1] → 1, with the activation after every hidden layer
 * and a linear last layer. Parameters θ are one flat float64 vector in layer order W1, b1, W2, b2, …, each W
 * stored [in, out] row-major. Initialisation follows PyTorch's nn.Linear default: every weight and bias of
 * a layer ~ U(−1/√fan_in, 1/√fan_in), drawn in that flat order from `new Stream(key)`.
 *
 * Today the network runs on TensorFlow.js (wasm backend, float32 inside, float64 at the contract
 * boundary); a native backend may be added behind this same factory. Nothing here imports tfjs: the
 * backend is loaded on first use, so code that never builds an MLP never loads tfjs.
 */
import type { Key } from "../random/key.ts";
import type { ScoreMatchable, TrainableEnergy } from "./contract.ts";

export type MlpActivation = "silu" | "softplus" | "tanh" | "elu";

export interface MlpSpec {
  /** Dimension of x. */
  inputDim: number;
  /** Widths of the hidden layers (at least one). */
  hidden: number[];
  activation: MlpActivation;
  /** c ≥ 0 in the fixed term ½·c·|x|² (makes e^{−U} normalisable); default 0. */
  confinement?: number;
}

export type MlpEnergy = TrainableEnergy &
  ScoreMatchable & {
    readonly spec: Readonly<MlpSpec>;
    /** Frees the backend's memory; the energy must not be used afterwards. */
    dispose(): void;
  };

const ACTIVATIONS: readonly MlpActivation[] = ["silu", "softplus", "tanh", "elu"];

/** Throws a RangeError if `spec` is malformed. */
export function validateMlpSpec(spec: MlpSpec): void {
  const posInt = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 1;
  if (!posInt(spec.inputDim))
    throw new RangeError(`inputDim must be a positive integer, got ${spec.inputDim}`);
  if (!Array.isArray(spec.hidden) || spec.hidden.length === 0 || !spec.hidden.every(posInt)) {
    throw new RangeError(
      `hidden must be a non-empty list of positive integers, got ${JSON.stringify(spec.hidden)}`,
    );
  }
  if (!ACTIVATIONS.includes(spec.activation)) {
    throw new RangeError(`activation must be one of ${ACTIVATIONS.join(", ")}, got ${spec.activation}`);
  }
  const c = spec.confinement ?? 0;
  if (!(Number.isFinite(c) && c >= 0)) throw new RangeError(`confinement must be finite and ≥ 0, got ${c}`);
}

/** Number of parameters of the network described by `spec`. */
export function mlpNumParams(spec: MlpSpec): number {
  const widths = [spec.inputDim, ...spec.hidden, 1];
  let n = 0;
  for (let l = 0; l + 1 < widths.length; l++) n += widths[l] * widths[l + 1] + widths[l + 1];
  return n;
}

/** Builds an MLP energy with parameters initialised from `key`. */
export async function createMlpEnergy(spec: MlpSpec, key: Key): Promise<MlpEnergy> {
  validateMlpSpec(spec);
  const { createTfMlpEnergy } = await import("../backend/tfjs/mlp.ts");
  return createTfMlpEnergy(spec, key);
}
