/**
 * The "wasm-simd" backend's state: where its binary comes from, the one instance, and why it is
 * unavailable when it is. Hosts hand the binary over through one of two calls:
 *
 *  - `provideWasmKernels(binaryOrLoader, opts)`: synchronous; a loader function is called when the backend is
 *    first selected (the Node entry passes one that reads ./ebm_kernels.wasm, so a process that never
 *    selects the backend never reads the file).
 *  - `loadWasmKernels(urlOrResponseOrBinary)`: asynchronous (a page or worker: fetch, compile,
 *    instantiate); resolves to undefined once the kernels are ready, else to the reason they are not.
 *
 * Either re-registers the backend, so the registry asks again. `auto: false` (the Node entry's choice) keeps
 * the backend out of "auto" selection: it then runs only when named (EBM_BACKEND=wasm-simd, setBackend,
 * --backend). A browser host leaves it in, so "auto" prefers it to TensorFlow.js ("wasm", priority 10).
 */
import { type BackendSpec, registerBackend } from "../../kernels/registry.ts";
import type { KernelHelper } from "./helper.ts";
import {
  instantiateWasmKernels,
  instantiateWasmKernelsAsync,
  simdUnsupported,
  type WasmKernels,
  type WasmKernelsBinary,
} from "./instance.ts";

export const WASM_SIMD = "wasm-simd";

export interface WasmKernelsOptions {
  /** Whether "auto" may select the backend (default true). */
  auto?: boolean;
}

let loader: (() => WasmKernelsBinary) | undefined;
let kernels: WasmKernels | undefined;
let failure: string | undefined;
let autoSelect = true;
let attached: KernelHelper | undefined;

const NOT_LOADED =
  "ebm_kernels.wasm not loaded (the host hands it over: the Node entry reads it, a page calls loadWasmKernels)";

/** The backend's registry entry (re-registered whenever the binary changes). */
function spec(): BackendSpec {
  return {
    name: WASM_SIMD,
    priority: 15,
    auto: autoSelect,
    init: () => (wasmKernels() ? undefined : (failure ?? NOT_LOADED)),
  };
}

/** Registers the backend with the current state (src/backend/wasm-kernels/register.ts calls it first). */
export function registerWasmSimdBackend(): void {
  registerBackend(spec());
}

/** One line from an error. */
function line(err: unknown): string {
  return ((err as Error)?.message ?? String(err)).split("\n")[0];
}

/**
 * Hands over the kernels' binary, or a function returning it (called when the backend is first selected;
 * what it throws becomes the reason the backend is unavailable).
 */
export function provideWasmKernels(
  binary: WasmKernelsBinary | (() => WasmKernelsBinary),
  opts: WasmKernelsOptions = {},
): void {
  loader = typeof binary === "function" ? (binary as () => WasmKernelsBinary) : () => binary;
  kernels = undefined;
  failure = undefined;
  autoSelect = opts.auto ?? true;
  registerWasmSimdBackend();
}

/**
 * Fetches (a URL), reads (a Response or a promise of one) or takes (bytes, a compiled module) the kernels'
 * binary and instantiates it. Resolves to undefined when the backend is ready, else to the one-line reason
 * it is not (which backendInfo() and a request for the backend by name also report).
 */
export async function loadWasmKernels(
  source: string | URL | Response | PromiseLike<Response> | WasmKernelsBinary,
  opts: WasmKernelsOptions = {},
): Promise<string | undefined> {
  loader = undefined;
  kernels = undefined;
  failure = undefined;
  autoSelect = opts.auto ?? true;
  try {
    failure = simdUnsupported();
    if (!failure) {
      let binary: WasmKernelsBinary;
      if (typeof source === "string" || source instanceof URL) source = fetch(source);
      if (isResponseLike(source)) {
        const r = await source;
        if (!r.ok) throw new Error(`${r.url || "ebm_kernels.wasm"}: HTTP ${r.status}`);
        binary = await r.arrayBuffer();
      } else {
        binary = source as WasmKernelsBinary;
      }
      kernels = await instantiateWasmKernelsAsync(binary);
    }
  } catch (err) {
    kernels = undefined;
    failure = `cannot load ebm_kernels.wasm: ${line(err)}`;
  }
  registerWasmSimdBackend();
  return failure;
}

function isResponseLike(s: unknown): s is Response | PromiseLike<Response> {
  if (typeof s !== "object" || s === null) return false;
  return (
    typeof (s as PromiseLike<unknown>).then === "function" ||
    typeof (s as Response).arrayBuffer === "function"
  );
}

/** The instance (instantiated from the provided binary on first use), or undefined with `failure` set. */
export function wasmKernels(): WasmKernels | undefined {
  if (kernels || failure) return kernels;
  if (!loader) return undefined;
  failure = simdUnsupported();
  if (failure) return undefined;
  let binary: WasmKernelsBinary;
  try {
    binary = loader();
  } catch (err) {
    failure = `cannot read ebm_kernels.wasm (${line(err)}); build it with node scripts/build-wasm.mjs`;
    return undefined;
  }
  try {
    kernels = instantiateWasmKernels(binary);
  } catch (err) {
    failure = `cannot instantiate ebm_kernels.wasm: ${line(err)}`;
  }
  return kernels;
}

/** The instance, or an error saying why there is none. */
export function requireWasmKernels(): WasmKernels {
  const k = wasmKernels();
  if (!k) throw new Error(`${WASM_SIMD} backend unavailable: ${failure ?? NOT_LOADED}`);
  return k;
}

/**
 * Attaches a helper (./helper.ts: another instance of the kernels in another thread, serving its buffer),
 * so that large MLP and network calls are shared between the two threads with the same results; or
 * detaches it (undefined). Returns the detached helper, if any.
 */
export function attachWasmKernelsHelper(helper: KernelHelper | undefined): KernelHelper | undefined {
  const old = attached;
  attached = helper;
  return old;
}

/** The attached helper, if any. */
export function wasmKernelsHelper(): KernelHelper | undefined {
  return attached;
}

/** The loaded kernels' compiled module, for a helper thread (undefined when the backend is unavailable). */
export function wasmKernelsModule(): WebAssembly.Module | undefined {
  return wasmKernels()?.module;
}
