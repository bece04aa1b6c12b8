/**
 * Registers the "native" backend (the C++ addon, native/): its MLP energy, vector-output networks, RBM
 * kernels, MALA steps and multinomial resampling, each a drop-in for the kernel the domain module declares.
 * The addon is loaded only when the backend is first selected (under "auto" or when asked for by name).
 */
import { MLP_FACTORY } from "../../energies/mlp.ts";
import { registerBackend, registerKernel } from "../../kernels/registry.ts";
import { MATMUL } from "../../math/matmul.ts";
import { MULTINOMIAL } from "../../math/resampling.ts";
import { NETWORK_FACTORY } from "../../networks/network.ts";
import { RBM_KERNELS } from "../../rbm/kernels.ts";
import { MALA_CHAINS_STEP } from "../../samplers/mala-chains.ts";
import { CHAIN_NORMALS, CHAIN_STATE_WORDS, CHAIN_STREAMS_SEED } from "../../random/chains.ts";
import { ZIGGURAT_TABLES } from "../../random/key.ts";
import { createNativeMlpEnergy } from "./mlp.ts";
import { createNativeNetwork } from "./network.ts";
import { loadNative, nativeLoadError, type NativeAddon } from "./load.ts";
import { nativeRbmKernels } from "./rbm.ts";

function addon(): NativeAddon {
  const a = loadNative();
  if (!a) throw new Error(`native addon unavailable: ${nativeLoadError() ?? "not loaded"}`);
  return a;
}

registerBackend({
  name: "native",
  priority: 20,
  init: () =>
    loadNative()
      ? undefined
      : `addon not built (${nativeLoadError() ?? "unknown error"}); run npm ci with a C++ compiler`,
  getThreads: () => addon().getThreads(),
  setThreads: (n) => addon().setThreads(n),
});
registerKernel("native", MLP_FACTORY, createNativeMlpEnergy);
registerKernel("native", NETWORK_FACTORY, createNativeNetwork);
registerKernel("native", RBM_KERNELS, nativeRbmKernels);
registerKernel("native", MULTINOMIAL, (w, total, rng, out) =>
  addon().resampleMultinomial(w, total, rng.stateWords(), out),
);
registerKernel("native", CHAIN_STREAMS_SEED, (key, first, count, out) => {
  const words = CHAIN_STATE_WORDS * count;
  addon().chainStreamsSeed(key.hi, key.lo, first, out.length === words ? out : out.subarray(0, words));
});
registerKernel("native", CHAIN_NORMALS, (states, out, dim) => {
  const z = ZIGGURAT_TABLES;
  addon().chainStreamsNormal(states, z.x, z.f, z.r, out, dim);
});
registerKernel("native", MALA_CHAINS_STEP, {
  propose: (x, g, drift, noise, states, y) => {
    const z = ZIGGURAT_TABLES;
    addon().malaChainsPropose(x, g, drift, noise, states, z.x, z.f, z.r, y);
  },
  select: (...args) => addon().malaChainsSelect(...args),
});
registerKernel("native", MATMUL, async (a, b, m, k, n) => {
  const c = new Float32Array(m * n);
  const native = addon();
  return () => {
    native.sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n);
    return c;
  };
});
