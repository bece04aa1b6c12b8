/** Messages between the browser benchmark's page (driven by src/cli/commands/bench-browser.ts) and its worker. */
import type { WorkloadResult } from "../workload.ts";

export interface BrowserBenchRequest {
  names: string[];
  minSeconds: number;
  backend: string;
  /** 2: start the wasm-simd kernels' helper worker (web/src/kernel-helper.ts); 1: one thread. */
  threads: number;
}

export type BrowserBenchMessage =
  | {
      type: "ready";
      backend: string;
      fallback: { backend: string; reason: string }[];
      threads: number;
      threadsReason?: string;
    }
  | { type: "result"; name: string; result: WorkloadResult }
  | { type: "done" }
  | { type: "error"; message: string };
