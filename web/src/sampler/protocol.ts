/**
 * Messages between the page (sampler/page.ts) and the sampler worker (sampler-worker.ts). Every message
 * carries the `id` of the run it belongs to: the page starts a new id at every run and ignores messages of
 * older ones. Type-only: no code, so the page does not load the core through it.
 */
import type { SamplerResult, TargetView } from "./session.ts";
import type { SamplerSettings } from "./settings.ts";

export type ToSamplerWorker = { type: "run"; id: number; settings: SamplerSettings };

export type FromSamplerWorker =
  /** Sent first: the density to draw while the chains run. */
  | { type: "target"; id: number; view: TargetView }
  | { type: "progress"; id: number; phase: "warmup" | "sampling"; done: number; total: number }
  /** `seconds`: wall clock in the worker (not part of the reproducible numbers). */
  | { type: "result"; id: number; result: SamplerResult; seconds: number; backend: string }
  | { type: "error"; id: number; message: string };
