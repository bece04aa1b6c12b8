/**
 * Bernoulli RBMs: the model (`Rbm`, energies/rbm.ts: the one RBM type, an energy, a bipartite energy and
 * a trainable model), the kernels (block Gibbs, CD/PCD gradients, AIS sweeps; typed-array or native),
 * the CD/PCD objective for the trainer, kernel-level CD helpers, AIS and exact log Z.
 */
export { Rbm } from "../energies/rbm.ts";
export { rbmContrastiveDivergence, type RbmCdOptions, type RbmCdState } from "../objectives/rbm-cd.ts";
export {
  type RbmEstimatorDiagnostics,
  rbmJarzynski,
  type RbmJarzynskiDiagnostics,
  type RbmJarzynskiObjective,
  type RbmJarzynskiOptions,
  type RbmJarzynskiState,
  type RbmWalkerPopulation,
} from "../objectives/rbm-jarzynski.ts";
export {
  type AisChains,
  createAisChains,
  createGibbsChains,
  createGradient,
  defaultRbmKernels,
  RBM_KERNELS,
  type GibbsChains,
  type RbmGradient,
  type RbmKernels,
  RbmWorkspace,
  typedArrayRbmKernels,
} from "./kernels.ts";
export { cdGradient, type CdGradientOptions, sgdUpdate } from "./cd.ts";
export {
  ais,
  type AisOptions,
  type AisResult,
  baseLogZ,
  exactLogZ,
  independentUnitsLogZ,
  linearBetas,
} from "./ais.ts";
export {
  binaryMatmul,
  binaryMatmulTransA,
  buildSubsetSums,
  chooseGroupSize,
  matmul,
  matmulTransA,
  subsetSumTableSize,
  tableMatmul,
  tableMatmulTransA,
  transpose,
} from "./linalg.ts";
