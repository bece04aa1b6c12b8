/**
 * Loads the native addon (native/build/Release/ebm_native.node, built by `npm ci` through
 * scripts/build-native.mjs) once, on first use. Returns undefined when the addon is absent (no compiler at
 * install time, a failed build). It is loaded only when the registry first selects the native backend
 * (src/backend/native/register.ts), so EBM_BACKEND=wasm never loads it. The ONE module
 * that touches the addon: other files under src/backend/native/ take it from here. EBM_NATIVE_ADDON may
 * name another .node file (tests use a missing path to simulate an unbuilt addon).
 */
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";

/** The addon's exports (native/src/*.cc, registered with EBM_EXPORT). */
export interface NativeAddon {
  /**
   * Per-chain streams (native/src/chain_streams.h, twin of src/random/chains.ts): the xoshiro128** states of
   * chains first … first + states.length/8 − 1 of the key (hi, lo), as seedChainStates.
   */
  chainStreamsSeed(keyHi: number, keyLo: number, first: number, states: Int32Array): void;
  /** Row i of out (n × dim, n = states.length / 8) ← chain i's next dim normals; states advanced. */
  chainStreamsNormal(
    states: Int32Array,
    zigX: Float64Array,
    zigF: Float64Array,
    zigR: number,
    out: Float64Array,
    dim: number,
  ): void;
  /** portableLog and portableExp of src/random/elementary.ts, elementwise (tests). */
  portableLogExp(x: Float64Array, log: Float64Array, exp: Float64Array): void;
  /** MalaChainsKernels.propose of src/samplers/mala-chains.ts (native/src/mala_chains.cc), with the ziggurat tables. */
  malaChainsPropose(
    x: Float64Array,
    g: Float64Array,
    drift: Float64Array,
    noise: Float64Array,
    states: Int32Array,
    zigX: Float64Array,
    zigF: Float64Array,
    zigR: number,
    y: Float64Array,
  ): void;
  /** MalaChainsKernels.select of src/samplers/mala-chains.ts. */
  malaChainsSelect(
    x: Float64Array,
    gx: Float64Array,
    ux: Float64Array,
    y: Float64Array,
    gy: Float64Array,
    uy: Float64Array,
    drift: Float64Array,
    invMass: Float64Array,
    params: Float64Array,
    states: Int32Array,
    acceptProb: Float64Array,
    accepted: Uint8Array,
    divergent: Uint8Array,
  ): void;
  /**
   * Multinomial resampling by the alias method (native/src/resample.cc): m = out.length ancestors from
   * weights w with Σw = total, drawn from the xoshiro128** state (4 words, advanced in place).
   */
  resampleMultinomial(w: Float64Array, total: number, state: Int32Array, out: Int32Array): void;
  getThreads(): number;
  setThreads(n: number): number;
  /** C ← α·op(A)·op(B) + β·C, row-major float32, on the thread pool (native/src/gemm.h). */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;
  mlpEnergy(
    widths: Int32Array,
    act: number,
    c: number,
    theta: Float32Array,
    x: Float64Array,
    n: number,
    u: Float64Array,
  ): void;
  mlpEnergyGrad(
    widths: Int32Array,
    act: number,
    c: number,
    theta: Float32Array,
    x: Float64Array,
    n: number,
    u: Float64Array,
    grad: Float64Array,
  ): void;
  mlpLangevin(
    widths: Int32Array,
    act: number,
    c: number,
    theta: Float32Array,
    x: Float64Array,
    gradX: Float64Array,
    noise: Float64Array,
    n: number,
    h: number,
    y: Float64Array,
    uY: Float64Array,
    gradY: Float64Array,
  ): void;
  mlpParamGrad(
    widths: Int32Array,
    act: number,
    theta: Float32Array,
    x: Float64Array,
    n: number,
    weights: Float64Array,
    out: Float64Array,
  ): void;
  // The MLP jet kernels (native/src/mlp.cc) are optional members: an addon built before them lacks them, and
  // src/backend/native/mlp.ts then falls back to its tfjs twin.
  /**
   * out = Σ_i ∂θ[a_i·u̇_i + b_i·ü_i] with u(t) = MLP(x_i + t·v_i) (the network without the confinement term);
   * `b`, `slope` (u̇) and `curv` (ü) may be null.
   */
  mlpDirectionalParamGrad?(
    widths: Int32Array,
    act: number,
    theta: Float32Array,
    x: Float64Array,
    v: Float64Array,
    n: number,
    a: Float64Array,
    b: Float64Array | null,
    slope: Float64Array | null,
    curv: Float64Array | null,
    out: Float64Array,
  ): void;
  /** Returns J = Σ_i w_i[½|∇ₓU(x_i)|² − ΔₓU(x_i)] (U with the confinement c) and writes ∂θJ to out. */
  mlpScoreMatching?(
    widths: Int32Array,
    act: number,
    c: number,
    theta: Float32Array,
    x: Float64Array,
    n: number,
    weights: Float64Array,
    out: Float64Array,
  ): number;
  // Vector-output networks (native/src/mlp.cc, used by src/backend/native/network.ts): widths [k, hidden…, m],
  // θ laid out as src/networks/network.ts. Optional members: an addon built before them lacks them.
  /** y (n × m) ← f_θ(x) for the n rows of x (n × k). */
  netForward?(
    widths: Int32Array,
    act: number,
    theta: Float32Array,
    x: Float64Array,
    n: number,
    y: Float64Array,
  ): void;
  /**
   * Reverse mode with cotangents g (n × m): y ← f_θ(x), gradX row i ← g_iᵀ∂f/∂x, gradParams ← Σ_i g_iᵀ∂θf(x_i)
   * (written, not added); each output may be null.
   */
  netVjp?(
    widths: Int32Array,
    act: number,
    theta: Float32Array,
    x: Float64Array,
    n: number,
    g: Float64Array,
    y: Float64Array | null,
    gradX: Float64Array | null,
    gradParams: Float64Array | null,
  ): void;
  /** Float32 length of the tape netForwardTape fills for n rows. */
  netTapeLength?(widths: Int32Array, act: number, theta: Float32Array, n: number): number;
  /** y ← f_θ(x), keeping the activations in `tape` for netVjpTape (no second forward pass). */
  netForwardTape?(
    widths: Int32Array,
    act: number,
    theta: Float32Array,
    x: Float64Array,
    n: number,
    y: Float64Array,
    tape: Float32Array,
  ): void;
  /** netVjp's gradX and gradParams for the rows of a netForwardTape tape (same θ); each output may be null. */
  netVjpTape?(
    widths: Int32Array,
    act: number,
    theta: Float32Array,
    tape: Float32Array,
    n: number,
    g: Float64Array,
    gradX: Float64Array | null,
    gradParams: Float64Array | null,
  ): void;
  // RBM kernels (native/src/rbm.cc, used by src/backend/native/rbm.ts). Model arguments (nv, nh, pack, b, c):
  // `pack` is W and Wᵀ packed by rbmPack; keys are passed as (hi, lo) words.
  rbmPackSize(nv: number, nh: number): number;
  rbmPack(nv: number, nh: number, W: Float32Array, pack: Float32Array): void;
  rbmHiddenProbs(
    nv: number,
    nh: number,
    pack: Float32Array,
    b: Float32Array,
    c: Float32Array,
    v: Uint8Array,
    n: number,
    beta: number,
    out: Float32Array,
  ): void;
  rbmVisibleProbs(
    nv: number,
    nh: number,
    pack: Float32Array,
    b: Float32Array,
    c: Float32Array,
    h: Uint8Array,
    n: number,
    beta: number,
    out: Float32Array,
  ): void;
  rbmFreeEnergy(
    nv: number,
    nh: number,
    pack: Float32Array,
    b: Float32Array,
    c: Float32Array,
    v: Uint8Array,
    n: number,
    out: Float64Array,
  ): void;
  rbmGibbs(
    nv: number,
    nh: number,
    pack: Float32Array,
    b: Float32Array,
    c: Float32Array,
    keyHi: number,
    keyLo: number,
    v: Uint8Array,
    h: Uint8Array,
    pre: Float32Array | null,
    n: number,
    sweeps: number,
    beta: number,
  ): void;
  rbmCdGradient(
    nv: number,
    nh: number,
    pack: Float32Array,
    b: Float32Array,
    c: Float32Array,
    keyHi: number,
    keyLo: number,
    data: Uint8Array,
    n: number,
    k: number,
    gW: Float32Array,
    gb: Float32Array,
    gc: Float32Array,
    pv: Uint8Array | null,
    ph: Uint8Array | null,
    m: number,
  ): void;
  rbmAisInit(
    nv: number,
    nh: number,
    pack: Float32Array,
    b: Float32Array,
    c: Float32Array,
    keyHi: number,
    keyLo: number,
    v: Uint8Array,
    h: Uint8Array,
    pre: Float32Array,
    logw: Float64Array,
    n: number,
  ): void;
  rbmAisSweep(
    nv: number,
    nh: number,
    pack: Float32Array,
    b: Float32Array,
    c: Float32Array,
    keyHi: number,
    keyLo: number,
    v: Uint8Array,
    h: Uint8Array,
    pre: Float32Array,
    logw: Float64Array,
    n: number,
    betaPrev: number,
    beta: number,
  ): void;
  rbmSgdUpdate(
    nv: number,
    nh: number,
    W: Float32Array,
    b: Float32Array,
    c: Float32Array,
    gW: Float32Array,
    gb: Float32Array,
    gc: Float32Array,
    alpha: number,
  ): void;
  /** Words offset … offset + out.length − 1 of the key's stream, through the jump-ahead (tests). */
  rbmStreamWords(keyHi: number, keyLo: number, offset: number, out: Float64Array): void;
}

const ADDON_PATH = fileURLToPath(new URL("../../../native/build/Release/ebm_native.node", import.meta.url));

let addon: NativeAddon | null | undefined;
let loadError: string | undefined;

/** The addon, or undefined if it is not built (or failed to load). Loaded once. */
export function loadNative(): NativeAddon | undefined {
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url)(process.env.EBM_NATIVE_ADDON || ADDON_PATH) as NativeAddon;
      addon.setThreads(availableParallelism());
    } catch (err) {
      addon = null;
      loadError = (err as Error).message.split("\n")[0];
    }
  }
  return addon ?? undefined;
}

/** Why the addon could not be loaded (undefined if it loaded or was not tried). */
export function nativeLoadError(): string | undefined {
  return loadError;
}
