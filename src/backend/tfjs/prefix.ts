/**
 * Where the tfjs-backend-wasm binaries are: a folder prefix ending in "/" to which emscripten appends the
 * file name (tfjs-backend-wasm[-simd|-threaded-simd].wasm). The Node entry points it at the package's dist
 * folder; in a browser, tfjs's default (next to the script) applies unless a page sets it. Kept apart from
 * init.ts so that setting it does not load TensorFlow.js (loaded at the first model on the backend).
 */
let wasmPrefix: string | undefined;

export function setTfWasmPrefix(prefix: string): void {
  wasmPrefix = prefix;
}

export function tfWasmPrefix(): string | undefined {
  return wasmPrefix;
}
