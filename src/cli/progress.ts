/**
 * Progress bars for long work: shown on an interactive terminal only (never in --json mode, in CI, or
 * when stderr is redirected), so machine-readable output stays clean.
 */
import cliProgress from "cli-progress";

export interface Progress {
  update(label: string, done: number, total: number): void;
  stop(): void;
}

export function progressBar(enabled: boolean): Progress {
  const interactive = enabled && process.stderr.isTTY === true && !process.env.CI;
  if (!interactive) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: " {label} |{bar}| {value}/{total} ({percentage}%) eta {eta_formatted}",
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let current = "";
  return {
    update(label, done, total) {
      if (label !== current) {
        if (current) bar.stop();
        current = label;
        bar.start(total, done, { label: label.padEnd(14) });
      } else bar.update(done, { label: label.padEnd(14) });
    },
    stop() {
      if (current) bar.stop();
    },
  };
}
