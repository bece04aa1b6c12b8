/**
 * MLP energies: U_θ(x) = MLP_θ(x) + ½·confinement·|x|², the public factory the rest of the library uses.
 *
 * The network is inputDim → hidden[0] → … → hidden[L−1] → 1, with the activation after every hidden layer
 * and a linear last layer. Parameters θ are one flat float64 vector in layer order W1, b1, W2, b2, …, each W
 * stored [in, out] row-major. Initialisation follows PyTorch's nn.Linear default: every weight and bias of
 * a layer ~ U(−1/√fan_in, 1/√fan_in), drawn in that flat order from `new Stream(key)`. The spec, its
 * validation and the layout are in ./mlp-spec.ts (re-exported here).
 *
 * Three backends run the network with the same θ for the same key: "native" (the C++ addon built by
 * `npm ci`, src/backend/native/) and "wasm" (TensorFlow.js, src/backend/tfjs/), both float32 inside and
 * float64 at the contract boundary, register their `MLP_FACTORY` kernels; the portable float64 TypeScript
 * energy (./mlp-typescript.ts, no WebAssembly and no addon) is the kernel's "typescript" implementation,
 * declared below, so an MLP runs on every host. `createMlpEnergy` takes the selected backend's
 * (src/kernels/registry.ts). Nothing here imports tfjs or the addon.
 */
import { defineKernel } from "../kernels/registry.ts";
import type { Key } from "../random/key.ts";
import { type MlpEnergy, type MlpSpec, validateMlpSpec } from "./mlp-spec.ts";
import { createTypescriptMlpEnergy } from "./mlp-typescript.ts";

export * from "./mlp-spec.ts";

/** Builds an MLP energy with θ initialised from `key` (each backend registers one; see the header). */
export type MlpFactory = (spec: MlpSpec, key: Key) => Promise<MlpEnergy>;

/** The MLP kernel; its TypeScript implementation is the float64 energy of ./mlp-typescript.ts. */
export const MLP_FACTORY = defineKernel<MlpFactory>("mlp", createTypescriptMlpEnergy);

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
