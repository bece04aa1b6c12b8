/**
 * Vector-output networks (src/networks/network.ts) on the native addon: `netForward` and `netVjp` of
 * native/src/mlp.cc, the same tiled forward and analytic backward pass as the MLP energy (which is the
 * one-output case), float32 inside and float64 at the boundary. θ's master copy is float64 (`getParams`
 * returns exactly what `setParams` was given); the kernels read a float32 copy passed on every call, so the
 * addon holds no per-network state and `dispose` only marks the network unusable.
 */
import type { Key } from "../../random/key.ts";
import {
  initNetworkParams,
  type Network,
  type NetworkSpec,
  networkNumParams,
  networkWidths,
} from "../../networks/network.ts";
import { loadNative, type NativeAddon } from "./load.ts";

const ACT_CODES = { silu: 0, softplus: 1, tanh: 2, elu: 3 } as const;

type NetAddon = NativeAddon & Required<Pick<NativeAddon, "netForward" | "netVjp">>;

/** Builds the native network (throws if the addon is not available or predates the network kernels). */
export async function createNativeNetwork(spec: NetworkSpec, key: Key): Promise<Network> {
  const addon = loadNative();
  if (!addon) throw new Error("native backend unavailable (addon not built or EBM_BACKEND=wasm)");
  if (typeof addon.netForward !== "function" || typeof addon.netVjp !== "function") {
    throw new Error("native addon built before the network kernels; rebuild it (npm run install)");
  }
  return new NativeNetwork(addon as NetAddon, spec, key);
}

class NativeNetwork implements Network {
  readonly spec: Readonly<NetworkSpec>;
  readonly inputDim: number;
  readonly outputDim: number;
  readonly numParams: number;
  private readonly addon: NetAddon;
  private readonly widths: Int32Array;
  private readonly act: number;
  private readonly theta: Float64Array;
  private readonly theta32: Float32Array;
  private disposed = false;
  /** The activations between forwardThenVjp's two kernel calls (grown as needed, reused). */
  private tape = new Float32Array(0);

  constructor(addon: NetAddon, spec: NetworkSpec, key: Key) {
    this.addon = addon;
    this.spec = Object.freeze({ ...spec, hidden: [...spec.hidden] });
    this.inputDim = spec.inputDim;
    this.outputDim = spec.outputDim;
    this.numParams = networkNumParams(spec);
    this.widths = Int32Array.from(networkWidths(spec));
    this.act = ACT_CODES[spec.activation];
    this.theta = initNetworkParams(spec, key);
    this.theta32 = Float32Array.from(this.theta);
  }

  getParams(): Float64Array {
    this.check();
    return this.theta.slice();
  }

  setParams(theta: Float64Array): void {
    this.check();
    if (theta.length !== this.numParams) {
      throw new RangeError(`setParams: expected ${this.numParams} values, got ${theta.length}`);
    }
    this.theta.set(theta);
    this.theta32.set(theta);
  }

  forward(x: Float64Array, n: number, y: Float64Array): void {
    this.check();
    this.checkN(n);
    this.addon.netForward(this.widths, this.act, this.theta32, x, n, y);
  }

  vjp(
    x: Float64Array,
    n: number,
    g: Float64Array,
    y: Float64Array | null,
    gradX: Float64Array | null,
    gradParams: Float64Array | null,
  ): void {
    this.check();
    this.checkN(n);
    this.addon.netVjp(this.widths, this.act, this.theta32, x, n, g, y, gradX, gradParams);
  }

  forwardThenVjp(
    x: Float64Array,
    n: number,
    y: Float64Array,
    cotangent: (y: Float64Array) => Float64Array,
    gradX: Float64Array | null,
    gradParams: Float64Array | null,
  ): void {
    this.check();
    this.checkN(n);
    const { netTapeLength, netForwardTape, netVjpTape } = this.addon;
    if (!netTapeLength || !netForwardTape || !netVjpTape) {
      // An addon built before the tape kernels: two forward passes.
      this.forward(x, n, y);
      this.vjp(x, n, cotangent(y), null, gradX, gradParams);
      return;
    }
    const len = netTapeLength(this.widths, this.act, this.theta32, n);
    if (this.tape.length < len) this.tape = new Float32Array(len);
    netForwardTape(this.widths, this.act, this.theta32, x, n, y, this.tape);
    const g = cotangent(y);
    netVjpTape(this.widths, this.act, this.theta32, this.tape, n, g, gradX, gradParams);
  }

  dispose(): void {
    this.disposed = true;
  }

  private check(): void {
    if (this.disposed) throw new Error("network used after dispose()");
  }

  private checkN(n: number): void {
    if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  }
}
