/**
 * The report folder of the `ebm reproduce` commands: the --out folder checked before the run, the run under
 * a progress bar, then the figure rendered and every file written atomically once the run has finished (so
 * a failed run writes nothing), and the results printed as text or as one JSON line (--json).
 */
import { join, resolve } from "node:path";
import { checkOutputDir, ensureDir, renderVegaLite, writeFileAtomic } from "../node.ts";
import { UserError } from "./errors.ts";
import { type Progress, progressBar } from "./progress.ts";

/**
 * The --out folder, resolved. Checked before the run, so that a bad path fails in a second instead of after
 * minutes of work; `create` also makes it now (a pseudo file system such as /proc refuses only then).
 */
export function reportFolder(out: string, create = false): string {
  const dir = resolve(out);
  try {
    checkOutputDir(dir);
    if (create) ensureDir(dir);
  } catch (e) {
    throw new UserError(`--out: ${(e as Error).message}`);
  }
  return dir;
}

/** Runs `work` with a progress bar on stderr (none with --no-progress or --json), stopped however it ends. */
export async function withProgress<T>(
  opts: { progress: boolean; json?: boolean },
  work: (progress: Progress) => T | Promise<T>,
): Promise<T> {
  const progress = progressBar(opts.progress && !opts.json);
  try {
    return await work(progress);
  } finally {
    progress.stop();
  }
}

export interface Report {
  /** A Vega-Lite spec, rendered to `<name>.png` and `<name>.svg`. */
  figure?: { name: string; spec: object };
  /** Further files, by name, written after the figure. */
  files?: Record<string, string | Uint8Array>;
  /** results.json, and the line printed with --json. */
  summary: Record<string, unknown>;
  /** report.md. */
  markdown: string;
  /** Prints the results as text (without --json); the path of report.md follows. */
  print(): void;
}

/** Renders the figure, writes the report folder (results.json and report.md last), then prints the results. */
export async function writeReport(outDir: string, json: boolean | undefined, report: Report): Promise<void> {
  const figure = report.figure && (await renderVegaLite(report.figure.spec));
  ensureDir(outDir);
  if (report.figure && figure) {
    writeFileAtomic(join(outDir, `${report.figure.name}.png`), figure.png);
    writeFileAtomic(join(outDir, `${report.figure.name}.svg`), figure.svg);
  }
  for (const [name, data] of Object.entries(report.files ?? {})) writeFileAtomic(join(outDir, name), data);
  writeFileAtomic(join(outDir, "results.json"), `${JSON.stringify(report.summary, null, 2)}\n`);
  writeFileAtomic(join(outDir, "report.md"), report.markdown);
  if (json) {
    console.log(JSON.stringify(report.summary));
    return;
  }
  report.print();
  console.log(`report: ${join(outDir, "report.md")}`);
}
