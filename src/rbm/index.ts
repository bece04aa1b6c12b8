/** The float32 Bernoulli–Bernoulli RBM: model, kernels, CD/PCD training, AIS and exact log Z. */
export { RbmModel } from "./model.ts";
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
export {
  cdGradient,
  type CdOptions as RbmCdOptions,
  cdStep,
  type CdStepOptions,
  sgdUpdate,
} from "./train.ts";
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
