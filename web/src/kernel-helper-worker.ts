/**
 * The kernel helper's module Web Worker: a second instance of the wasm-simd kernels that takes half of each
 * large network call of the worker that started it (src/backend/wasm-kernels/helper.ts; started by
 * kernel-helper.ts). It is sent the shared buffer and the compiled module, says "ready" and then serves
 * jobs until told to stop, blocking between them.
 */
import { serveKernelHelper } from "../../src/index.ts";

interface HelperScope {
  onmessage: ((e: MessageEvent<{ buffer: SharedArrayBuffer; module: WebAssembly.Module }>) => void) | null;
  postMessage(message: string): void;
  close(): void;
}
const scope = globalThis as unknown as HelperScope;

scope.onmessage = (e) => {
  scope.onmessage = null;
  try {
    serveKernelHelper(e.data.buffer, e.data.module, () => scope.postMessage("ready"));
  } catch (err) {
    scope.postMessage(`error: ${(err as Error)?.message ?? String(err)}`);
  }
  scope.close();
};
