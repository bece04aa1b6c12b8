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
 * The spec, the `Network` contract, the layout and the initialisation are in ./spec.ts (re-exported here).
 * Backends ("native": the C++ addon; "wasm": TensorFlow.js) each register a `NETWORK_FACTORY` kernel; both
 * compute in float32 and take and return float64. The kernel's "typescript" implementation, declared below,
 * is the portable float64 network of ./typescript.ts (no WebAssembly, no addon), so a network runs on every
 * host. Nothing here imports a backend.
 */
import { defineKernel } from "../kernels/registry.ts";
import type { Key } from "../random/key.ts";
import { type Network, type NetworkSpec, validateNetworkSpec } from "./spec.ts";
import { createTypescriptNetwork } from "./typescript.ts";

export * from "./spec.ts";

/** Builds a network with θ initialised from `key` (each backend registers one; see the header). */
export type NetworkFactory = (spec: NetworkSpec, key: Key) => Promise<Network>;

/** The network kernel; its TypeScript implementation is the float64 network of ./typescript.ts. */
export const NETWORK_FACTORY = defineKernel<NetworkFactory>("network", createTypescriptNetwork);

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
