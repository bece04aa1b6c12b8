/**
 * The MLP energy's spec and what every backend shares: U_θ(x) = MLP_θ(x) + ½·confinement·|x|², the
 * `MlpEnergy` type, the spec's validation, θ's size and initialisation (those of the one-output network,
 * src/networks/spec.ts). src/energies/mlp.ts re-exports all of it with the factory; this module exists so
 * that the TypeScript implementation (./mlp-typescript.ts) can use it without an import cycle.
 */
import type { Key } from "../random/key.ts";
import { type Activation, initNetworkParams, type NetworkSpec, networkNumParams } from "../networks/spec.ts";
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
