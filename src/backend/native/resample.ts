/**
 * Native multinomial resampling: the same ancestors as the TypeScript alias method in
 * src/math/resampling.ts (same stream, same floating-point operations), computed by the addon.
 * Returns false when the addon is not loaded (or EBM_BACKEND=wasm), and the caller runs the TypeScript code.
 * The choice is made on the first call (reading the environment costs more than small resamplings).
 */
import { loadNative, type NativeAddon } from "./load.ts";

let addon: NativeAddon | null | undefined;

export function nativeMultinomial(
  w: Float64Array,
  total: number,
  state: Int32Array,
  out: Int32Array,
): boolean {
  if (addon === undefined) addon = loadNative() ?? null;
  if (addon === null) return false;
  addon.resampleMultinomial(w, total, state, out);
  return true;
}
