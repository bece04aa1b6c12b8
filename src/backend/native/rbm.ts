/**
 * The RBM kernels on the native addon (native/src/rbm.cc): the same `RbmKernels` contract, draw order and
 * Bernoulli rule as typedArrayRbmKernels (src/rbm/kernels.ts), with the matrix products as float32 GEMMs
 * on the addon's thread pool. Given the same float probabilities both implementations draw the same bits;
 * the probabilities themselves agree to float32 rounding (the products are summed in another order), so a
 * draw whose uniform lies within rounding distance of p can differ between the two.
 *
 * Temperature, sign and path conventions are those of the contract: tempered conditionals σ(β(c + vᵀW)) and
 * σ(β(b + Wh)); the CD gradient is the loss gradient E_data[∂θF] − E_model[∂θF]; AIS follows its own path.
 *
 * W and Wᵀ are packed for the GEMM into a Float32Array cached per workspace and re-packed when the model
 * or its version changes (same staleness rule as the workspace's transpose: call model.touch() after
 * writing W). The addon keeps no state between calls.
 */
import type { Rbm } from "../../energies/rbm.ts";
import type { Key } from "../../random/key.ts";
import type { AisChains, GibbsChains, RbmGradient, RbmKernels, RbmWorkspace } from "../../rbm/kernels.ts";
import { loadNative, type NativeAddon } from "./load.ts";

interface Packed {
  model: Rbm;
  version: number;
  pack: Float32Array;
}

const packs = new WeakMap<RbmWorkspace, Packed>();

function addon(): NativeAddon {
  const a = loadNative();
  if (!a) throw new Error("native backend unavailable (addon not built or EBM_BACKEND=wasm)");
  return a;
}

/** W and Wᵀ packed for the addon's GEMM, cached in `ws` until the model or its version changes. */
function packed(a: NativeAddon, model: Rbm, ws: RbmWorkspace): Float32Array {
  const e = packs.get(ws);
  if (e && e.model === model && e.version === model.version) return e.pack;
  const size = a.rbmPackSize(model.visible, model.hidden);
  const pack = e && e.pack.length === size ? e.pack : new Float32Array(size);
  a.rbmPack(model.visible, model.hidden, model.W, pack);
  packs.set(ws, { model, version: model.version, pack });
  return pack;
}

function checkBits(name: string, x: Uint8Array, need: number): void {
  if (x.length < need) throw new RangeError(`${name} holds ${x.length} bits, need ${need}`);
}

/** The native implementation (throws on use if the addon is not loaded). */
export const nativeRbmKernels: RbmKernels = {
  name: "native",

  hiddenProbs(model, v, n, beta, out, ws) {
    const a = addon();
    const { visible: nv, hidden: nh, b, c } = model;
    a.rbmHiddenProbs(nv, nh, packed(a, model, ws), b, c, v, n, beta, out);
  },

  visibleProbs(model, h, n, beta, out, ws) {
    const a = addon();
    const { visible: nv, hidden: nh, b, c } = model;
    a.rbmVisibleProbs(nv, nh, packed(a, model, ws), b, c, h, n, beta, out);
  },

  freeEnergy(model, v, n, out, ws) {
    const a = addon();
    const { visible: nv, hidden: nh, b, c } = model;
    a.rbmFreeEnergy(nv, nh, packed(a, model, ws), b, c, v, n, out);
  },

  gibbsSweep(model: Rbm, key: Key, chains: GibbsChains, sweeps, beta, ws, pre) {
    const a = addon();
    const { visible: nv, hidden: nh, b, c } = model;
    a.rbmGibbs(
      nv,
      nh,
      packed(a, model, ws),
      b,
      c,
      key.hi,
      key.lo,
      chains.v,
      chains.h,
      pre ?? null,
      chains.n,
      sweeps,
      beta,
    );
  },

  cdGradient(model, key, data, n, k, grad: RbmGradient, ws, persistent?: GibbsChains) {
    if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`CD needs k ≥ 1 sweeps, got ${k}`);
    const a = addon();
    const { visible: nv, hidden: nh, b, c } = model;
    checkBits("data", data, n * nv);
    a.rbmCdGradient(
      nv,
      nh,
      packed(a, model, ws),
      b,
      c,
      key.hi,
      key.lo,
      data,
      n,
      k,
      grad.W,
      grad.b,
      grad.c,
      persistent ? persistent.v : null,
      persistent ? persistent.h : null,
      persistent ? persistent.n : 0,
    );
  },

  aisInit(model, key, chains: AisChains, ws) {
    const a = addon();
    const { visible: nv, hidden: nh, b, c } = model;
    const { v, h, pre, logw, n } = chains;
    a.rbmAisInit(nv, nh, packed(a, model, ws), b, c, key.hi, key.lo, v, h, pre, logw, n);
  },

  aisSweep(model, key, chains: AisChains, tPrev, t, ws) {
    const a = addon();
    const { visible: nv, hidden: nh, b, c } = model;
    const { v, h, pre, logw, n } = chains;
    a.rbmAisSweep(nv, nh, packed(a, model, ws), b, c, key.hi, key.lo, v, h, pre, logw, n, tPrev, t);
  },

  sgdUpdate(model, grad, lr) {
    // The addon adds α·g; α = −lr is the descent step (negation is exact: the same bits as θ − lr·g).
    const { visible: nv, hidden: nh, W, b, c } = model;
    addon().rbmSgdUpdate(nv, nh, W, b, c, grad.W, grad.b, grad.c, -lr);
  },
};
