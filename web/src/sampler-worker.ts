/**
 * The sampler tab's module Web Worker: runs one sampler session (sampler/session.ts) per message and posts
 * the target's density, progress and the result; the page's thread never samples. The targets are analytic
 * float64 energies, so no WebAssembly kernel is needed: the worker asks the core for its portable TypeScript
 * kernels (the same bits as Node's; nothing is fetched).
 */
import { backendInfo, setBackend } from "../../src/index.ts";
import type { FromSamplerWorker, ToSamplerWorker } from "./sampler/protocol.ts";
import { runSampler, targetView } from "./sampler/session.ts";

interface WorkerScope {
  onmessage: ((e: MessageEvent<ToSamplerWorker>) => void) | null;
  postMessage(message: FromSamplerWorker, transfer?: Transferable[]): void;
}
const scope = globalThis as unknown as WorkerScope;

setBackend("typescript", "the sampler worker (analytic targets)");

scope.onmessage = (e) => {
  const m = e.data;
  if (m.type !== "run") return;
  const id = m.id;
  try {
    scope.postMessage({ type: "target", id, view: targetView(m.settings.target) });
    const t0 = performance.now();
    const result = runSampler(m.settings, (phase, done, total) =>
      scope.postMessage({ type: "progress", id, phase, done, total }),
    );
    const seconds = (performance.now() - t0) / 1000;
    scope.postMessage({ type: "result", id, result, seconds, backend: backendInfo().name }, [
      result.draws.buffer,
    ]);
  } catch (err) {
    scope.postMessage({ type: "error", id, message: err instanceof Error ? err.message : String(err) });
  }
};
