/**
 * Kernel-level CD helpers on the float32 parameters, shared by the CD/PCD objective
 * (objectives/rbm-cd.ts, which trains an RBM through the library's trainer and optimizers) and the
 * benchmarks: the CD-k / PCD-k loss gradient E_data[∂θF] − E_model[∂θF] through the kernels, and the
 * float32 SGD step θ ← θ − lr·g on it (descent, the library's one sign convention). There is no RBM
 * training loop here: training is `train({ model: rbm, objective: rbmContrastiveDivergence(…), … })`.
 */
import type { Rbm } from "../energies/rbm.ts";
import type { Key } from "../random/key.ts";
import {
  createGradient,
  type GibbsChains,
  type RbmGradient,
  type RbmKernels,
  RbmWorkspace,
  defaultRbmKernels,
} from "./kernels.ts";

export interface CdGradientOptions {
  /** Gibbs sweeps of the negative chains (default 1). */
  k?: number;
  /** Persistent chains: PCD-k; without them chains restart at the data (CD-k). */
  persistent?: GibbsChains;
  /** Default: the selected backend's kernels (native when the addon is loaded). */
  kernels?: RbmKernels;
  workspace?: RbmWorkspace;
}

/**
 * The CD-k / PCD-k estimate of E_data[∂θF] − E_model[∂θF] on the n visible states of `data` (n × V bits;
 * see RbmKernels.cdGradient), into `grad` (allocated if omitted).
 */
export function cdGradient(
  model: Rbm,
  key: Key,
  data: Uint8Array,
  n: number,
  opts: CdGradientOptions = {},
  grad: RbmGradient = createGradient(model),
): RbmGradient {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`batch size must be ≥ 1, got ${n}`);
  if (data.length < n * model.visible)
    throw new RangeError(`data holds fewer than ${n} states of ${model.visible} bits`);
  const kernels = opts.kernels ?? defaultRbmKernels();
  kernels.cdGradient(
    model,
    key,
    data,
    n,
    opts.k ?? 1,
    grad,
    opts.workspace ?? new RbmWorkspace(),
    opts.persistent,
  );
  return grad;
}

/**
 * θ ← θ − lr·g in float32 (each element float32(θ − lr·g) computed in float64; through
 * `kernels.sgdUpdate` when it has one), then marks the model changed.
 */
export function sgdUpdate(model: Rbm, grad: RbmGradient, lr: number, kernels?: RbmKernels): void {
  if (!(lr > 0 && Number.isFinite(lr))) throw new RangeError(`lr must be positive, got ${lr}`);
  if (kernels?.sgdUpdate) kernels.sgdUpdate(model, grad, lr);
  else {
    const { W, b, c } = model;
    for (let q = 0; q < W.length; q++) W[q] -= lr * grad.W[q];
    for (let i = 0; i < b.length; i++) b[i] -= lr * grad.b[i];
    for (let j = 0; j < c.length; j++) c[j] -= lr * grad.c[j];
  }
  model.touch();
}
