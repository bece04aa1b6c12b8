/**
 * The core of the library: what runs on every host (Node and a browser). It imports no `node:*` module,
 * reads no file and no environment variable; the Node entry (src/node.ts) adds files, target loading, the
 * native addon and figure rendering. The CLI and the web page use only these two entries.
 *
 * Backends available here: "typescript" (every kernel's portable implementation), "wasm" (MLP energies
 * on TensorFlow.js) and "wasm-simd" (the native kernels compiled to WebAssembly SIMD, once the host hands
 * over src/backend/wasm-kernels/ebm_kernels.wasm with loadWasmKernels or provideWasmKernels). Choose with
 * setBackend(); backendInfo() says what runs.
 */
import "./backend/tfjs/register.ts";
import "./backend/wasm-kernels/register.ts";

export {
  backendInfo,
  type BackendInfo,
  type BackendSpec,
  defineKernel,
  Kernel,
  registerBackend,
  registerKernel,
  selectedBackend,
  setBackend,
  setThreads,
} from "./kernels/registry.ts";
export { setTfWasmPrefix } from "./backend/tfjs/prefix.ts";
export {
  attachWasmKernelsHelper,
  loadWasmKernels,
  provideWasmKernels,
  type WasmKernelsOptions,
  wasmKernelsModule,
} from "./backend/wasm-kernels/load.ts";
export { KERNEL_HELPER_BYTES, KernelHelper, serveKernelHelper } from "./backend/wasm-kernels/helper.ts";
export type { WasmKernelsBinary } from "./backend/wasm-kernels/instance.ts";
export * from "./energies/banana.ts";
export * from "./energies/contract.ts";
export * from "./energies/discrete.ts";
export * from "./energies/funnel.ts";
export { cholesky, GaussianEnergy } from "./energies/gaussian.ts";
export * from "./energies/gaussian-rbm.ts";
export * from "./energies/gmm.ts";
export * from "./energies/discrete-product.ts";
export * from "./energies/ising.ts";
export * from "./energies/ising-exact.ts";
export { MixtureEnergy, type MixtureSpec } from "./energies/mixture.ts";
export * from "./energies/mlp.ts";
export * from "./networks/network.ts";
export * from "./energies/rbm.ts";
export * from "./experiments/gmm1d.ts";
export * from "./math/logspace.ts";
export * from "./math/resampling.ts";
export * from "./eval/diagnostics.ts";
export * from "./objectives/contrastive-divergence.ts";
export * from "./objectives/jarzynski.ts";
export * from "./objectives/objective.ts";
export * from "./objectives/score-matching.ts";
export * from "./objectives/denoising-score-matching.ts";
export * from "./objectives/sliced-score-matching.ts";
export * from "./objectives/nce.ts";
export * from "./energies/score-grad.ts";
export * from "./energies/expfam.ts";
export * from "./energies/product.ts";
export * from "./objectives/walkers-init.ts";
export * from "./random/chains.ts";
export * from "./random/elementary.ts";
export * from "./random/key.ts";
export * from "./rbm/index.ts";
export * from "./rbm/evaluate.ts";
export * from "./energies/dbm.ts";
export * from "./objectives/dbm.ts";
export * from "./rbm/dbm-ais.ts";
export * from "./rbm/dbm-bound.ts";
export * from "./rbm/dbm-pretrain.ts";
export * from "./samplers/adaptation.ts";
export * from "./samplers/discrete/index.ts";
export * from "./samplers/discrete/swendsen-wang.ts";
export * from "./samplers/index.ts";
export * from "./smc/health.ts";
export * from "./smc/jarzynski.ts";
export * from "./smc/walkers.ts";
export * from "./train/optim.ts";
export * from "./train/momentum.ts";
export * from "./train/trainer.ts";
export * from "./train/model-spec.ts";
export * from "./train/session.ts";
export * from "./train/state-codec.ts";
export * from "./data/toy2d.ts";
export * from "./data/digits.ts";
export * from "./data/images.ts";
export * from "./eval/grid.ts";
export * from "./eval/logz.ts";
export * from "./eval/masses.ts";
export * from "./eval/mode-changes.ts";
export * from "./eval/mmd.ts";
export * from "./eval/roc.ts";
export * from "./experiments/toy2d.ts";
export * from "./experiments/gmm50d.ts";
export * from "./experiments/anomaly.ts";
export * from "./experiments/denoise.ts";
export * from "./data/gray.ts";
export * from "./energies/binary-view.ts";
export {
  DISCRETE_MOVES,
  type DiscreteMoveName,
  type DiscreteMoveOptions,
  resolveDiscreteMove,
} from "./objectives/discrete-move.ts";
export * from "./objectives/discrete-exact.ts";
export * from "./objectives/discrete-cd.ts";
export * from "./objectives/discrete-jarzynski.ts";
export * from "./eval/discrete-logz.ts";
export * from "./experiments/gray2d.ts";
export * from "./experiments/gebm2d.ts";
export * from "./experiments/rbm-mnist.ts";
export * from "./math/matmul.ts";
export * from "./math/errors.ts";
export * from "./energies/conditional.ts";
export * from "./objectives/conditional.ts";
export * from "./data/labelled2d.ts";
export * from "./experiments/conditional2d.ts";
export * from "./energies/class-rbm.ts";
export * from "./objectives/class-rbm.ts";
export * from "./experiments/digit-classes.ts";
export * from "./divergences/index.ts";
export * from "./mmd-flow/index.ts";
export * from "./experiments/mmd-flow.ts";
export * from "./gebm/index.ts";
export * from "./flows/flow.ts";
export * from "./flows/realnvp.ts";
export * from "./flows/fit.ts";
export * from "./flows/flow-base.ts";
export * from "./gebm/session.ts";
