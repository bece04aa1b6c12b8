/**
 * MLP energies: U_θ(x) = MLP_θ(x) + ½·confinement·|x|², the public factory the rest of the library uses.
 *
 * The network is inputDim → hidden[0] → … → hidden[L−1] → 1, with the activation after every hidden layer
 * and a linear last layer. Parameters θ are one flat float64 vector in layer order W1, b1, W2, b2, …, each W
 * stored [in, out] row-major. Initialisation follows PyTorch's nn.Linear default: every weight and bias of
 * a layer ~ U(−1/√fan_in, 1/√fan_in), drawn in that flat order from `new Stream(key)`.
 *
 * Two backends run the network, both float32 inside and float64 at the contract boundary, with the same θ
 * for the same key: "native" (the C++ addon built by `npm ci`, src/backend/native/) and "wasm"
 * (TensorFlow.js, src/backend/tfjs/). Each registers an `MLP_FACTORY` kernel; `createMlpEnergy` takes the
 * selected backend's (src/kernels/registry.ts). Nothing here imports tfjs or the addon.
 */
import { defineKernel } from "../kernels/registry.ts";
import type { Activation } from "../networks/network.ts";
import type { Key } from "../random/key.ts";
import { initNetworkParams, type NetworkSpec, networkNumParams } from "../networks/network.ts";
import type { ScoreMatchable, TrainableEnergy } from "./contract.ts";

export type MlpActivation = Activation;

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

/** Number of parameters of the network described by `spec` (a network with one output). */
export function mlpNumParams(spec: MlpSpec): number {
  return networkNumParams(mlpNetworkSpec(spec));
}

/** The network of an MLP energy: `spec`'s layers with one output (src/networks/network.ts). */
export function mlpNetworkSpec(spec: MlpSpec): NetworkSpec {
  return { inputDim: spec.inputDim, hidden: [...spec.hidden], outputDim: 1, activation: spec.activation };
}

/**
 * Initial θ for `spec` from `key`: that of the one-output network (per layer, W then b, every value
 * ~ U(−1/√fan_in, 1/√fan_in), drawn in flat order from `new Stream(key)`; the tfjs backend draws the same).
 */
export function initMlpParams(spec: MlpSpec, key: Key): Float64Array {
  return initNetworkParams(mlpNetworkSpec(spec), key);
}

/** Builds an MLP energy with θ initialised from `key` (backends register one: native, TensorFlow.js wasm). */
export type MlpFactory = (spec: MlpSpec, key: Key) => Promise<MlpEnergy>;

/** No TypeScript implementation: a network needs the wasm (TensorFlow.js) or native backend. */
export const MLP_FACTORY = defineKernel<MlpFactory>("mlp");

export interface MlpOptions {
  /** Run on this backend (and those below it) instead of the selected one. */
  backend?: string;
}

const backendOf = new WeakMap<object, string>();

/** The backend an energy made by `createMlpEnergy` runs on. */
export function mlpBackend(e: MlpEnergy): string | undefined {
  return backendOf.get(e);
}

/** Builds an MLP energy with parameters initialised from `key`, on the selected backend. */
export async function createMlpEnergy(spec: MlpSpec, key: Key, opts: MlpOptions = {}): Promise<MlpEnergy> {
  validateMlpSpec(spec);
  const { impl, backend } =
    opts.backend === undefined
      ? { impl: MLP_FACTORY.get(), backend: MLP_FACTORY.backend() }
      : MLP_FACTORY.from(opts.backend);
  if (!impl) throw new Error(`no available backend runs MLP energies (selected: ${backend || "none"})`);
  const e = await impl(spec, key);
  backendOf.set(e, backend);
  return e;
}
