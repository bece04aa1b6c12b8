/**
 * Networks with vector outputs: f_θ : R^k → R^m, an MLP k → hidden[0] → … → hidden[L−1] → m with the
 * activation after every hidden layer and a linear last layer. A generalized EBM's generator B_θ(z) is one
 * (Arbel, Zhou & Gretton 2021); the scalar MLP energy (src/energies/mlp.ts) is the case m = 1 plus the
 * confinement term, and shares its layout, initialisation and backend code paths.
 *
 * Parameters θ are one flat float64 vector in layer order W1, b1, W2, b2, …, each W stored [in, out]
 * row-major. Initialisation follows PyTorch's nn.Linear default: every weight and bias of a layer
 * ~ U(−1/√fan_in, 1/√fan_in), drawn in that flat order from `new Stream(key)` — so a network with m = 1
 * and an MLP energy built from the same key have the same θ.
 *
 * Backends ("native": the C++ addon; "wasm": TensorFlow.js) each register a `NETWORK_FACTORY` kernel; both
 * compute in float32 and take and return float64. Nothing here imports a backend.
 */
import { defineKernel } from "../kernels/registry.ts";
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";

export type Activation = "silu" | "softplus" | "tanh" | "elu";

export const ACTIVATIONS: readonly Activation[] = ["silu", "softplus", "tanh", "elu"];

export interface NetworkSpec {
  /** k, the dimension of an input row. */
  inputDim: number;
  /** Widths of the hidden layers (at least one). */
  hidden: number[];
  /** m, the dimension of an output row. */
  outputDim: number;
  activation: Activation;
}

/**
 * A network f_θ on batches: inputs are n rows of k values, outputs n rows of m values, row-major float64.
 * Outputs are written to the caller's arrays; the caller's inputs are never kept or changed.
 */
export interface Network {
  readonly spec: Readonly<NetworkSpec>;
  readonly inputDim: number;
  readonly outputDim: number;
  readonly numParams: number;

  /** A copy of θ. */
  getParams(): Float64Array;
  /** Sets θ (copied; length numParams). */
  setParams(theta: Float64Array): void;

  /** y_i = f_θ(x_i) for the n rows of x, written to y (n × outputDim). */
  forward(x: Float64Array, n: number, y: Float64Array): void;

  /**
   * Reverse mode with cotangents g (n × outputDim), one forward and one backward pass:
   *  - y (n × outputDim), if not null: f_θ(x_i);
   *  - gradX (n × inputDim), if not null: row i is g_iᵀ ∂f_θ(x_i)/∂x;
   *  - gradParams (numParams), if not null: Σ_i g_iᵀ ∂f_θ(x_i)/∂θ (written, not added).
   */
  vjp(
    x: Float64Array,
    n: number,
    g: Float64Array,
    y: Float64Array | null,
    gradX: Float64Array | null,
    gradParams: Float64Array | null,
  ): void;

  /** Frees the backend's memory; the network must not be used afterwards. */
  dispose(): void;
}

/** Throws a RangeError naming the field if `spec` is malformed. */
export function validateNetworkSpec(spec: NetworkSpec): void {
  const posInt = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 1;
  if (!posInt(spec.inputDim))
    throw new RangeError(`inputDim must be a positive integer, got ${spec.inputDim}`);
  if (!posInt(spec.outputDim))
    throw new RangeError(`outputDim must be a positive integer, got ${spec.outputDim}`);
  if (!Array.isArray(spec.hidden) || spec.hidden.length === 0 || !spec.hidden.every(posInt)) {
    throw new RangeError(
      `hidden must be a non-empty list of positive integers, got ${JSON.stringify(spec.hidden)}`,
    );
  }
  if (!ACTIVATIONS.includes(spec.activation)) {
    throw new RangeError(`activation must be one of ${ACTIVATIONS.join(", ")}, got ${spec.activation}`);
  }
}

/** Layer widths [k, hidden…, m]. */
export function networkWidths(spec: NetworkSpec): number[] {
  return [spec.inputDim, ...spec.hidden, spec.outputDim];
}

/** Number of parameters of the network described by `spec`. */
export function networkNumParams(spec: NetworkSpec): number {
  const widths = networkWidths(spec);
  let n = 0;
  for (let l = 0; l + 1 < widths.length; l++) n += widths[l] * widths[l + 1] + widths[l + 1];
  return n;
}

/**
 * Initial θ for `spec` from `key`: per layer, W then b, every value ~ U(−1/√fan_in, 1/√fan_in), drawn in
 * flat order from `new Stream(key)`.
 */
export function initNetworkParams(spec: NetworkSpec, key: Key): Float64Array {
  const widths = networkWidths(spec);
  const theta = new Float64Array(networkNumParams(spec));
  const stream = new Stream(key);
  let off = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    const bound = 1 / Math.sqrt(widths[l]);
    const size = widths[l] * widths[l + 1] + widths[l + 1];
    for (let i = 0; i < size; i++) theta[off + i] = (2 * stream.uniform() - 1) * bound;
    off += size;
  }
  return theta;
}

/** Builds a network with θ initialised from `key` (backends register one: native, TensorFlow.js wasm). */
export type NetworkFactory = (spec: NetworkSpec, key: Key) => Promise<Network>;

/** No TypeScript implementation: a network needs the wasm (TensorFlow.js) or native backend. */
export const NETWORK_FACTORY = defineKernel<NetworkFactory>("network");

export interface NetworkOptions {
  /** Run on this backend (and those below it) instead of the selected one. */
  backend?: string;
}

const backendOf = new WeakMap<object, string>();

/** The backend a network made by `createNetwork` runs on. */
export function networkBackend(net: Network): string | undefined {
  return backendOf.get(net);
}

/** Builds a network with parameters initialised from `key`, on the selected backend. */
export async function createNetwork(
  spec: NetworkSpec,
  key: Key,
  opts: NetworkOptions = {},
): Promise<Network> {
  validateNetworkSpec(spec);
  const { impl, backend } =
    opts.backend === undefined
      ? { impl: NETWORK_FACTORY.get(), backend: NETWORK_FACTORY.backend() }
      : NETWORK_FACTORY.from(opts.backend);
  if (!impl) throw new Error(`no available backend runs networks (selected: ${backend || "none"})`);
  const net = await impl(spec, key);
  backendOf.set(net, backend);
  return net;
}
