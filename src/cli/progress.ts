/**
 * Progress for long work, on stderr so that stdout stays machine-readable. On an interactive terminal: a
 * bar. Otherwise (a log file, CI): a plain line such as "ebm: PCD 1200/3000 (40%)" at most every
 * `intervalMs` (default 10 s), so short runs print nothing and long ones show they are alive. Disabled
 * by --no-progress and in --json mode.
 */
import cliProgress from "cli-progress";

export interface Progress {
  /** `status` (e.g. "loss 0.12  ESS 812  log Z 9.31 ± 0.05") is shown after the count. */
  update(label: string, done: number, total: number, status?: string): void;
  stop(): void;
}

export function progressBar(enabled: boolean, intervalMs = 10_000): Progress {
  if (!enabled) return { update() {}, stop() {} };
  const interactive = process.stderr.isTTY === true && !process.env.CI;
  if (!interactive) {
    let last = performance.now();
    return {
      update(label, done, total, status) {
        const now = performance.now();
        if (now - last < intervalMs) return;
        last = now;
        const tail = status ? `  ${status}` : "";
        process.stderr.write(
          `ebm: ${label} ${done}/${total} (${Math.round((100 * done) / total)}%)${tail}\n`,
        );
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: " {label} |{bar}| {value}/{total} ({percentage}%) eta {eta_formatted} {status}",
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let current = "";
  return {
    update(label, done, total, status) {
      const payload = { label: label.padEnd(14), status: status ?? "" };
      if (label !== current) {
        if (current) bar.stop();
        current = label;
        bar.start(total, done, payload);
      } else bar.update(done, payload);
    },
    stop() {
      if (current) bar.stop();
    },
  };
}
