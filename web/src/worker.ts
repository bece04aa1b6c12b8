/**
 * The playground's training worker (a module Web Worker; one per run shown). It holds one session
 * (session.ts) at a time and drives it on request: `init` builds it and posts its meta and the iteration-0
 * snapshot, `run` steps until the run's last iteration (posting a snapshot every `settings.every`
 * iterations and yielding to messages at least every 100 ms), `pause` stops at the next yield, `step`
 * runs `count` iterations and posts a snapshot. Nothing of the training runs on the page's thread.
 *
 * The TensorFlow.js wasm binaries are read from ./tfjs/ next to this script (scripts/build-web.mjs copies
 * them there): nothing is fetched from elsewhere. tfjs runs its single-threaded SIMD build, the same binary
 * as in Node, so the numbers are Node's (the core keeps it to that build on an isolated page too).
 *
 * The native kernels built for WebAssembly SIMD (the "wasm-simd" backend) are read from ./ebm_kernels.wasm
 * next to this script, once per worker, before the first session is built; "auto" then prefers them to
 * TensorFlow.js. On a cross-origin-isolated page (`ebm playground` sends the headers) a helper worker with a
 * second instance takes half of each large network call, with the same bits (kernel-helper.ts). Where WebAssembly is missing (disabled by policy, say) or lacks SIMD, both WebAssembly
 * backends report why they are unavailable and "auto" falls back to the core's TypeScript kernels; the
 * page shows the reasons.
 */
import {
  backendInfo,
  loadWasmKernels,
  NumericalError,
  setBackend,
  setTfWasmPrefix,
} from "../../src/index.ts";
import { type KernelThreads, startKernelHelper } from "./kernel-helper.ts";
import type { BackendReport, FromWorker, ToWorker } from "./protocol.ts";
import { createSession, type PlaygroundSession } from "./session.ts";

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  crossOriginIsolated?: boolean;
}
const scope = globalThis as unknown as WorkerScope;

setTfWasmPrefix(new URL("./tfjs/", import.meta.url).href);

const hasWebAssembly = typeof WebAssembly === "object" && WebAssembly !== null;

/**
 * The wasm-simd kernels, fetched and instantiated once, with their helper thread where the page is
 * cross-origin isolated (kernel-helper.ts); resolves to the threads they use and why one, if one.
 */
let kernelsLoaded: Promise<KernelThreads> | undefined;
function loadKernels(): Promise<KernelThreads> {
  kernelsLoaded ??= loadWasmKernels(new URL("./ebm_kernels.wasm", import.meta.url)).then((failure) =>
    failure
      ? { threads: 1, reason: failure }
      : startKernelHelper(new URL("./kernel-helper-worker.js", import.meta.url)),
  );
  return kernelsLoaded;
}

/** The smallest module using a v128 instruction: valid only where WebAssembly SIMD is supported. */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98,
  11,
]);

let session: PlaygroundSession | undefined;
let id = -1;
let running = false;
let seconds = 0;
let every = 10;

function post(message: FromWorker): void {
  if (message.type === "snapshot") {
    const s = message.snapshot;
    const buffers = [s.density.buffer, s.walkers?.buffer, s.weights?.buffer].filter(
      (b): b is ArrayBuffer => b instanceof ArrayBuffer,
    );
    scope.postMessage(message, buffers);
  } else scope.postMessage(message);
}

function fail(err: unknown): void {
  running = false;
  const message =
    err instanceof NumericalError || err instanceof RangeError
      ? err.message
      : err instanceof Error
        ? `${err.name}: ${err.message}`
        : String(err);
  post({ type: "error", id, message });
}

function snapshot(): void {
  if (!session) return;
  post({
    type: "snapshot",
    id,
    snapshot: session.snapshot(),
    seconds,
    running,
    done: session.iteration >= session.iters,
  });
}

/** Steps until a snapshot is due, the run ends or 100 ms have passed; then yields and continues. */
function tick(forId: number): void {
  if (!running || forId !== id || !session) return;
  const t0 = performance.now();
  try {
    while (session.iteration < session.iters) {
      session.step();
      if (session.iteration % every === 0 || session.iteration >= session.iters) {
        seconds += (performance.now() - t0) / 1000;
        if (session.iteration >= session.iters) running = false;
        snapshot();
        break;
      }
      if (performance.now() - t0 > 100) {
        seconds += (performance.now() - t0) / 1000;
        break;
      }
    }
  } catch (err) {
    fail(err);
    return;
  }
  if (session.iteration >= session.iters) running = false;
  if (running) setTimeout(() => tick(forId), 0);
}

async function init(message: Extract<ToWorker, { type: "init" }>): Promise<void> {
  running = false;
  session?.dispose();
  session = undefined;
  id = message.id;
  seconds = 0;
  every = message.settings.every;
  try {
    const threads = await loadKernels();
    setBackend(message.settings.backend, "the backend setting");
    const s = await createSession(message.settings, message.run);
    if (message.id !== id) {
      s.dispose(); // a newer init arrived while this one was building
      return;
    }
    session = s;
    const info = backendInfo();
    const backend: BackendReport = {
      name: info.name,
      requested: info.requested,
      available: [...info.available],
      fallback: info.fallback.map((f) => ({ ...f })),
      webassembly: hasWebAssembly,
      simd: hasWebAssembly && WebAssembly.validate(SIMD_PROBE),
      isolated: scope.crossOriginIsolated === true,
      threads: threads.threads,
      threadsReason: threads.reason,
    };
    post({ type: "ready", id, meta: s.meta, backend });
    snapshot();
  } catch (err) {
    if (message.id === id) fail(err);
  }
}

scope.onmessage = (e) => {
  const m = e.data;
  if (m.type === "init") {
    void init(m);
    return;
  }
  if (m.id !== id || !session) return;
  if (m.type === "pause") {
    running = false;
    snapshot();
  } else if (m.type === "run") {
    if (!running && session.iteration < session.iters) {
      running = true;
      setTimeout(() => tick(id), 0);
    }
  } else if (m.type === "step") {
    running = false;
    const t0 = performance.now();
    try {
      for (let i = 0; i < m.count && session.iteration < session.iters; i++) session.step();
    } catch (err) {
      fail(err);
      return;
    }
    seconds += (performance.now() - t0) / 1000;
    snapshot();
  }
};
