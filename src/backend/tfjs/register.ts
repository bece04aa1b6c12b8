/**
 * Registers the "wasm" backend: MLP energies (src/backend/tfjs/mlp.ts), vector-output networks
 * (src/backend/tfjs/network.ts) and dense float32 products on TensorFlow.js's wasm backend.
 * It runs on every host; tfjs itself is loaded when the first MLP or network is built. Every other kernel
 * comes from the TypeScript implementations below it.
 */
import { MLP_FACTORY } from "../../energies/mlp.ts";
import { registerBackend, registerKernel } from "../../kernels/registry.ts";
import { MATMUL } from "../../math/matmul.ts";
import { NETWORK_FACTORY } from "../../networks/network.ts";

registerBackend({
  name: "wasm",
  priority: 10,
  // tfjs's own initialisation is asynchronous (at the first model); a host without WebAssembly at all
  // (a browser with JIT compilation off, say) is known now, so "auto" passes the backend over.
  init: () =>
    typeof WebAssembly === "object" && WebAssembly !== null
      ? undefined
      : "WebAssembly is not available in this host",
});
registerKernel("wasm", MLP_FACTORY, async (spec, key) => {
  const { createTfMlpEnergy } = await import("./mlp.ts");
  return createTfMlpEnergy(spec, key);
});
registerKernel("wasm", NETWORK_FACTORY, async (spec, key) => {
  const { createTfNetwork } = await import("./network.ts");
  return createTfNetwork(spec, key);
});
registerKernel("wasm", MATMUL, async (a, b, m, k, n) => {
  const { tfMatmulPlan } = await import("./ops.ts");
  return tfMatmulPlan(a, b, m, k, n);
});
