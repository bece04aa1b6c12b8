/**
 * The browser benchmark's module worker (bundled by `ebm bench --host chromium`, src/cli/commands/
 * bench-browser.ts): it times the workloads that run on the core alone (bench/workloads/mlp.ts imports
 * src/index.ts only) with the same timing loop as Node's `ebm bench`, in a Web Worker as the playground
 * trains. The wasm-simd kernels and TensorFlow.js's binaries are read from the folder this script is in; with
 * `threads: 2` the kernels' helper worker (kernel-helper-worker.js there) takes half of each large call.
 */
import { backendInfo, loadWasmKernels, setBackend, setTfWasmPrefix } from "../../src/index.ts";
import { startKernelHelper } from "../../web/src/kernel-helper.ts";
import { DEFAULT_TIMING, timeWorkload } from "../workload.ts";
import { workloads } from "../workloads/mlp.ts";
import type { BrowserBenchMessage, BrowserBenchRequest } from "./protocol.ts";

interface WorkerScope {
  postMessage(message: BrowserBenchMessage): void;
  onmessage: ((e: MessageEvent<BrowserBenchRequest>) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;

setTfWasmPrefix(new URL("./tfjs/", import.meta.url).href);
scope.onmessage = (e) => void run(e.data);

async function run(req: BrowserBenchRequest): Promise<void> {
  try {
    const failure = await loadWasmKernels(new URL("./ebm_kernels.wasm", import.meta.url));
    const threads =
      failure || req.threads < 2
        ? { threads: 1, reason: failure ?? "--threads 1" }
        : await startKernelHelper(new URL("./kernel-helper-worker.js", import.meta.url));
    setBackend(req.backend, "--backend");
    const info = backendInfo();
    scope.postMessage({
      type: "ready",
      backend: info.name,
      fallback: info.fallback.map((f) => ({ ...f })),
      threads: info.name === "wasm-simd" ? threads.threads : 1,
      threadsReason: threads.reason,
    });
    for (const name of req.names) {
      const w = workloads.find((x) => x.name === name);
      if (!w) throw new Error(`unknown browser workload '${name}'`);
      const result = await timeWorkload(w, { ...DEFAULT_TIMING, minSeconds: req.minSeconds });
      scope.postMessage({ type: "result", name, result });
    }
    scope.postMessage({ type: "done" });
  } catch (err) {
    scope.postMessage({ type: "error", message: (err as Error)?.message ?? String(err) });
  }
}
