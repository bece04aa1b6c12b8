/**
 * Contrastive-divergence training of the float32 RBM: CD-k / PCD-k gradients (through the kernels) and
 * the plain SGD step θ ← θ + lr·g on the log-likelihood ascent direction g (the peer's update).
 */
import type { Key } from "../random/key.ts";
import {
  createGradient,
  type GibbsChains,
  type RbmGradient,
  type RbmKernels,
  RbmWorkspace,
  defaultRbmKernels,
} from "./kernels.ts";
import type { RbmModel } from "./model.ts";

export interface CdOptions {
  /** Gibbs sweeps of the negative chains (default 1). */
  k?: number;
  /** Persistent chains: PCD-k; without them chains restart at the data (CD-k). */
  persistent?: GibbsChains;
  /** Default: the selected backend's kernels (native when the addon is loaded). */
  kernels?: RbmKernels;
  workspace?: RbmWorkspace;
}

export interface CdStepOptions extends CdOptions {
  /** SGD learning rate (> 0). */
  lr: number;
}

/** The CD-k / PCD-k gradient (see RbmKernels.cdGradient), into `grad` (allocated if omitted). */
export function cdGradient(
  model: RbmModel,
  key: Key,
  data: Uint8Array,
  n: number,
  opts: CdOptions = {},
  grad: RbmGradient = createGradient(model),
): RbmGradient {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`batch size must be ≥ 1, got ${n}`);
  if (data.length < n * model.nv)
    throw new RangeError(`data holds fewer than ${n} states of ${model.nv} bits`);
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

/** θ ← θ + lr·g (float32), then marks the model changed (through `kernels.sgdUpdate` when it has one). */
export function sgdUpdate(model: RbmModel, grad: RbmGradient, lr: number, kernels?: RbmKernels): void {
  if (kernels?.sgdUpdate) {
    kernels.sgdUpdate(model, grad, lr);
    model.touch();
    return;
  }
  const { W, b, c } = model;
  for (let i = 0; i < W.length; i++) W[i] += lr * grad.W[i];
  for (let i = 0; i < b.length; i++) b[i] += lr * grad.b[i];
  for (let j = 0; j < c.length; j++) c[j] += lr * grad.c[j];
  model.touch();
}

/** One CD-k / PCD-k SGD step on the batch; returns the gradient used (written to `grad` if given). */
export function cdStep(
  model: RbmModel,
  key: Key,
  data: Uint8Array,
  n: number,
  opts: CdStepOptions,
  grad?: RbmGradient,
): RbmGradient {
  if (!(opts.lr > 0 && Number.isFinite(opts.lr))) throw new RangeError(`lr must be positive, got ${opts.lr}`);
  const g = cdGradient(model, key, data, n, opts, grad);
  sgdUpdate(model, g, opts.lr, opts.kernels);
  return g;
}
