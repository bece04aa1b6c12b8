/**
 * Starts the wasm-simd kernels' helper thread from a Web Worker (the playground's training worker, the
 * browser benchmark's worker): a nested module worker (kernel-helper-worker.js, next to the calling script)
 * with its own instance of the kernels, fed through a SharedArrayBuffer, attached to the core so that large
 * network calls run half here, half there, with the same bits as one thread (src/backend/wasm-kernels/
 * helper.ts).
 *
 * Shared memory needs cross-origin isolation: `ebm playground` serves the page with the COOP/COEP headers
 * that give it; a static host without them gets one thread, and the reason is returned for the page to say.
 */
import {
  attachWasmKernelsHelper,
  KERNEL_HELPER_BYTES,
  KernelHelper,
  wasmKernelsModule,
} from "../../src/index.ts";

interface IsolationScope {
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number };
}

/** What `startKernelHelper` achieved: threads the wasm-simd kernels use, and why one when it is one. */
export interface KernelThreads {
  threads: number;
  reason?: string;
}

let started: Promise<KernelThreads> | undefined;

/** Starts the helper once per worker (later calls return the first result). `url`: the helper's script. */
export function startKernelHelper(url: URL): Promise<KernelThreads> {
  started ??= start(url);
  return started;
}

async function start(url: URL): Promise<KernelThreads> {
  const scope = globalThis as unknown as IsolationScope;
  const module = wasmKernelsModule();
  if (!module) return { threads: 1, reason: "the wasm-simd kernels are not loaded" };
  if (scope.crossOriginIsolated !== true || typeof SharedArrayBuffer !== "function")
    return {
      threads: 1,
      reason:
        "the page is not cross-origin isolated (no shared memory; ebm playground serves the headers for it)",
    };
  if ((scope.navigator?.hardwareConcurrency ?? 1) < 2)
    return { threads: 1, reason: "this machine reports one core" };
  const buffer = new SharedArrayBuffer(KERNEL_HELPER_BYTES);
  const worker = new Worker(url, { type: "module", name: "kernel helper" });
  const answer = await new Promise<string>((resolve) => {
    worker.onmessage = (e: MessageEvent<string>) => resolve(e.data);
    worker.onerror = (e) => resolve(`error: ${e.message || "the helper worker failed to load"}`);
    worker.postMessage({ buffer, module });
  });
  if (answer !== "ready") {
    worker.terminate();
    return { threads: 1, reason: `the helper worker did not start (${answer.replace(/^error: /, "")})` };
  }
  attachWasmKernelsHelper(new KernelHelper(buffer));
  return { threads: 2 };
}
