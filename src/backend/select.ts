/**
 * Backend choice for neural energies and dense kernels: "native" (the C++ addon, native/) or "wasm"
 * (TensorFlow.js on its wasm backend). Precedence: an explicit option, then the EBM_BACKEND environment
 * variable (native | wasm | auto), then auto = native when the addon loads, wasm otherwise. Forcing native
 * when the addon is unavailable is an error.
 */
import { loadNative, nativeLoadError } from "./native/load.ts";

export type BackendName = "native" | "wasm";
export type BackendRequest = BackendName | "auto";

function parseRequest(v: string, from: string): BackendRequest {
  if (v === "native" || v === "wasm" || v === "auto") return v;
  throw new RangeError(`${from} must be native, wasm or auto, got '${v}'`);
}

/** The backend to use for `requested` (default: EBM_BACKEND, else auto). Throws if native is forced but absent. */
export function selectBackend(requested?: BackendRequest): BackendName {
  const env = process.env.EBM_BACKEND;
  const req =
    requested !== undefined
      ? parseRequest(requested, "backend")
      : env
        ? parseRequest(env, "EBM_BACKEND")
        : "auto";
  if (req === "wasm") return "wasm";
  if (loadNative()) return "native";
  if (req === "auto") return "wasm";
  const why =
    env === "wasm"
      ? "disabled by EBM_BACKEND=wasm"
      : `addon not built (${nativeLoadError() ?? "unknown error"}); run npm ci with a C++ compiler`;
  throw new Error(`native backend requested but unavailable: ${why}`);
}
