/**
 * A named benchmark workload. `setup` builds everything once (models, walkers, data) and returns the
 * function to time: one call = one unit of work, with the same definition as the PyTorch peer's
 * workload of the same name. State may evolve between calls, as it would in real use.
 */
export interface Workload {
  readonly name: string;
  readonly description: string;
  /** Floating-point operations per call, when meaningful (reported as GFLOP/s). */
  readonly flops?: number;
  setup(): Promise<() => unknown | Promise<unknown>>;
}

export interface WorkloadResult {
  median_ms: number;
  min_ms: number;
  mean_ms: number;
  max_ms: number;
  reps: number;
  gflops_at_median?: number;
}

export interface TimingOptions {
  /** Minimum timed calls. */
  minReps: number;
  /** Minimum timed seconds. */
  minSeconds: number;
  /** Stop once this many seconds have been spent and minSeconds is reached, even below minReps. */
  budgetSeconds: number;
}

export const DEFAULT_TIMING: TimingOptions = { minReps: 20, minSeconds: 2, budgetSeconds: 15 };

/** Times a workload like the peer does: warm-up (1–3 calls, ≤ 1 s), then reps until both minima are met. */
export async function timeWorkload(
  w: Workload,
  opts: TimingOptions = DEFAULT_TIMING,
): Promise<WorkloadResult> {
  const call = await w.setup();
  const warmStart = performance.now();
  for (let i = 0; i < 3; i++) {
    await call();
    if (performance.now() - warmStart > 1000) break;
  }
  const times: number[] = [];
  const start = performance.now();
  for (;;) {
    const t0 = performance.now();
    await call();
    times.push(performance.now() - t0);
    const elapsed = (performance.now() - start) / 1000;
    if (times.length >= opts.minReps && elapsed >= opts.minSeconds) break;
    if (elapsed >= opts.budgetSeconds && elapsed >= opts.minSeconds) break;
  }
  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
  const result: WorkloadResult = {
    median_ms: median,
    min_ms: sorted[0],
    mean_ms: times.reduce((a, b) => a + b, 0) / times.length,
    max_ms: sorted[sorted.length - 1],
    reps: times.length,
  };
  if (w.flops) result.gflops_at_median = w.flops / (median * 1e6);
  return result;
}
