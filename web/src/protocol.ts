/**
 * Messages between the page (main.ts) and a training worker (worker.ts). Every message carries the `id`
 * of the session it belongs to: the page starts a new id at every reset and ignores messages of older
 * ones. Type-only: no code, so the page does not load the core through it.
 */
import type { SessionMeta, Snapshot } from "./session.ts";
import type { Settings } from "./settings.ts";

export type ToWorker =
  | { type: "init"; id: number; settings: Settings; run: "a" | "b" }
  | { type: "run"; id: number }
  | { type: "pause"; id: number }
  | { type: "step"; id: number; count: number };

/** What runs, as the worker sees it. */
export interface BackendReport {
  /** The core's selected backend (src/kernels/registry.ts) and every registered one. */
  name: string;
  requested: string;
  available: string[];
  /** Faster backends passed over, with the reason. */
  fallback: { backend: string; reason: string }[];
  /** WebAssembly at all, WebAssembly SIMD and cross-origin isolation (needed for threads) in this worker. */
  webassembly: boolean;
  simd: boolean;
  isolated: boolean;
  /** Threads of the wasm-simd kernels (2 with the helper worker), and why 1 when it is 1. */
  threads: number;
  threadsReason?: string;
}

export type FromWorker =
  | { type: "ready"; id: number; meta: SessionMeta; backend: BackendReport }
  | {
      type: "snapshot";
      id: number;
      snapshot: Snapshot;
      /** Training seconds so far (wall clock in the worker; not part of the reproducible numbers). */
      seconds: number;
      running: boolean;
      done: boolean;
    }
  | { type: "error"; id: number; message: string };
