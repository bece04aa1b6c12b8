/** The addon for the native suites, when the native backend is the selected one (not with EBM_BACKEND=wasm). */
import { loadNative } from "../../src/backend/native/load.ts";
import { backendInfo } from "../../src/node.ts";

export const nativeAddon = backendInfo().name === "native" ? loadNative() : undefined;
export const skipNative = nativeAddon
  ? false
  : "native backend not selected (EBM_BACKEND=wasm or addon not built): skipped";
