/**
 * The addon's MALA kernels (native/src/langevin.cc) for energies evaluated in JavaScript: the proposal with
 * its normals, and the MH select. Undefined when the addon is not loaded or EBM_BACKEND=wasm; the choice
 * is made on the first call.
 */
import { loadNative, type NativeAddon } from "./load.ts";

let addon: NativeAddon | null | undefined;

export function nativeMalaKernels(): Pick<NativeAddon, "malaPropose" | "malaSelect"> | undefined {
  if (addon === undefined) addon = loadNative() ?? null;
  return addon ?? undefined;
}
