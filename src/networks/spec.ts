/**
 * The network contract and what every backend shares: the spec of f_θ : R^k → R^m (an MLP k → hidden[0] →
 * … → hidden[L−1] → m, the activation after every hidden layer, a linear last layer), the `Network`
 * interface, the flat θ layout and its initialisation. src/networks/network.ts re-exports all of it with the
 * factory; this module exists so that the TypeScript implementation (./typescript.ts) can use it without an
 * import cycle.
 *
 * Parameters θ are one flat float64 vector in layer order W1, b1, W2, b2, …, each W stored [in, out]
 * row-major. Initialisation follows PyTorch's nn.Linear default: every weight and bias of a layer
 * ~ U(−1/√fan_in, 1/√fan_in), drawn in that flat order from `new Stream(key)` — so a network with m = 1
 * and an MLP energy built from the same key have the same θ.
 */
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

  /**
   * Optional, where a backend can keep the forward pass's activations: y = f_θ(x) (written to y), then
   * `cotangent(y)` gives g (n × outputDim), then vjp's gradX and gradParams for g (each may be null) — the
   * numbers of forward then vjp, without vjp's second forward pass. For cotangents that depend on the
   * outputs (a generator's, through the energy at its draws).
   */
  forwardThenVjp?(
    x: Float64Array,
    n: number,
    y: Float64Array,
    cotangent: (y: Float64Array) => Float64Array,
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
