/**
 * `ebm reproduce gmm1d` (and `ebm demo`): runs the seed's 1-D mode-weight experiment and writes a report
 * folder with a figure, a markdown summary and the raw results.
 */
import { join, resolve } from "node:path";
import type { Command } from "commander";
import {
  GMM1D_DEFAULTS,
  GMM1D_METHODS,
  type Gmm1dMethod,
  type Gmm1dOptions,
  type Gmm1dResult,
  lineChart,
  panels,
  renderVegaLite,
  runGmm1d,
  type Series,
  validateGmm1dOptions,
  writeFileAtomic,
  checkOutputDir,
  ensureDir,
} from "../../node.ts";
import { parseInteger, parseNumber, parseNumberList, parseSeed, UserError } from "../errors.ts";
import { progressBar } from "../progress.ts";

interface RawOptions {
  seed: string;
  q: string;
  modes: string;
  walkers: string;
  iters: string;
  step: string;
  lr: string;
  resample: string;
  data: string;
  methods: string;
  out: string;
  json?: boolean;
  progress: boolean;
}

const LABELS: Record<Gmm1dMethod, string> = {
  score_matching: "score matching",
  cd: "CD-1",
  pcd: "PCD",
  jarzynski: "Jarzynski SMC",
};

function parseOptions(raw: RawOptions): Gmm1dOptions {
  const resample =
    raw.resample === "never" ? 0 : parseNumber("--resample", raw.resample.replace(/^ess</, "").trim());
  if (!(resample >= 0 && resample <= 1))
    throw new UserError(`--resample must be 'never' or an ESS fraction in (0, 1], got '${raw.resample}'`);
  const methods = raw.methods.split(",").map((m) => m.trim());
  for (const m of methods)
    if (!(GMM1D_METHODS as readonly string[]).includes(m))
      throw new UserError(`--methods: unknown method '${m}' (choose from ${GMM1D_METHODS.join(", ")})`);
  const [a, b] = parseNumberList("--modes", raw.modes, 2);
  const opts: Gmm1dOptions = {
    seed: parseSeed("--seed", raw.seed),
    q: parseNumber("--q", raw.q),
    modes: [a, b],
    walkers: parseInteger("--walkers", raw.walkers),
    iterations: parseInteger("--iters", raw.iters),
    step: parseNumber("--step", raw.step),
    lr: parseNumber("--lr", raw.lr),
    resample,
    dataSize: parseInteger("--data", raw.data),
    methods: methods as Gmm1dMethod[],
  };
  try {
    validateGmm1dOptions(opts);
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  return opts;
}

function thin(trace: Float64Array, maxPoints = 400): { x: number; y: number }[] {
  const stride = Math.max(1, Math.ceil((trace.length - 1) / maxPoints));
  const pts: { x: number; y: number }[] = [];
  for (let i = 0; i < trace.length; i += stride) pts.push({ x: i, y: trace[i] });
  if ((trace.length - 1) % stride !== 0) pts.push({ x: trace.length - 1, y: trace[trace.length - 1] });
  return pts;
}

function figureSpec(r: Gmm1dResult): object {
  const qSeries: Series[] = [];
  for (const m of GMM1D_METHODS) {
    const res = r.methods[m];
    if (res) qSeries.push({ name: LABELS[m], points: thin(res.qTrace) });
  }
  const charts = [
    lineChart({
      title: "Mass q of mode b during training",
      x: { field: "iteration" },
      y: { field: "q", domain: [0, 1] },
      series: qSeries,
      hline: { y: r.options.q, label: `target q* = ${r.options.q}` },
    }),
  ];
  const j = r.methods.jarzynski;
  if (j) {
    charts.push(
      lineChart({
        title: "log Z during Jarzynski training",
        x: { field: "iteration" },
        y: { field: "log Z" },
        series: [
          { name: "Jarzynski estimate", points: thin(j.logZEstimate) },
          { name: "exact log Z", points: thin(j.logZExact), dash: true },
        ],
      }),
      lineChart({
        title: "Effective sample size of the Jarzynski walkers",
        x: { field: "iteration" },
        y: { field: "ESS / N", domain: [0, 1] },
        series: [{ name: "ESS / N", points: thin(j.essTrace.map((v) => v / r.options.walkers)) }],
        hline: r.options.resample > 0 ? { y: r.options.resample, label: "resampling threshold" } : undefined,
      }),
    );
  }
  return panels(charts, { columns: 2, title: "gmm1d: learning the mode weight of a two-well energy" });
}

function summaryJson(r: Gmm1dResult, reportDir: string): Record<string, unknown> {
  const methods: Record<string, Record<string, number>> = {};
  for (const m of GMM1D_METHODS) {
    const res = r.methods[m];
    if (!res) continue;
    const entry: Record<string, number> = { q: res.q };
    if (res.walkerMassB !== undefined) entry.walker_mass_b = res.walkerMassB;
    if (m === "jarzynski" && r.methods.jarzynski) {
      const j = r.methods.jarzynski;
      const last = j.logZEstimate.length - 1;
      Object.assign(entry, {
        logz_abs_err: j.logzAbsErr,
        logz_estimate: j.logZEstimate[last],
        logz_exact: j.logZExact[last],
        final_ess: j.essTrace[last],
        resamplings: j.resamplings,
      });
    }
    entry.seconds = r.seconds[m] ?? Number.NaN;
    methods[m] = entry;
  }
  const o = r.options;
  return {
    target_q: o.q,
    data_q: r.dataQ,
    methods,
    options: {
      seed: o.seed,
      modes: o.modes,
      walkers: o.walkers,
      iters: o.iterations,
      step: o.step,
      lr: o.lr,
      resample: o.resample === 0 ? "never" : o.resample,
      data: o.dataSize,
    },
    report: reportDir,
  };
}

function markdown(r: Gmm1dResult, summary: Record<string, unknown>): string {
  const o = r.options;
  const rows = GMM1D_METHODS.filter((m) => r.methods[m]).map((m) => {
    const res = r.methods[m]!;
    const mass = res.walkerMassB === undefined ? "–" : res.walkerMassB.toFixed(3);
    return `| ${LABELS[m]} | ${res.q.toFixed(4)} | ${(res.q - o.q >= 0 ? "+" : "") + (res.q - o.q).toFixed(4)} | ${mass} | ${(r.seconds[m] ?? 0).toFixed(1)} |`;
  });
  const j = r.methods.jarzynski;
  const last = j ? j.logZEstimate.length - 1 : 0;
  const jLines = j
    ? [
        "",
        `Jarzynski log Z at the end: estimate ${j.logZEstimate[last].toFixed(4)}, exact ${j.logZExact[last].toFixed(4)} ` +
          `(|error| ${j.logzAbsErr.toFixed(4)}); final ESS ${j.essTrace[last].toFixed(0)} of ${o.walkers}; ` +
          `${j.resamplings} resampling(s).`,
      ]
    : [];
  return [
    "# gmm1d: learning the mode weight of a two-well energy",
    "",
    `Model U_z(x) = −log(e^{−(x−a)²/2} + e^{−z} e^{−(x−b)²/2}) with a = ${o.modes[0]}, b = ${o.modes[1]}; ` +
      `q = e^{−z}/(1+e^{−z}) is the mass of mode b. Training data: ${o.dataSize} draws with target q* = ${o.q} ` +
      `(empirical ${r.dataQ.toFixed(4)}). z starts at 0 (q = 0.5); ${o.iterations} SGD iterations with lr ${o.lr}; ` +
      `${o.walkers} walkers moved by ULA with step ${o.step}; seed ${o.seed}.`,
    "",
    "| method | final q | q − q* | walker mass in b | seconds |",
    "|---|---:|---:|---:|---:|",
    ...rows,
    ...jLines,
    "",
    "Score matching sees only ∇ log ρ, which does not depend on z away from the barrier; CD-1 walkers start at",
    "the data and never leave their mode; PCD walkers stay where the initial model put them, so its gradient",
    "never vanishes and q runs off to 0 or 1. Jarzynski weights correct the walkers for the change of the",
    "model, so the weighted walkers follow ρ_z and the estimate of log Z follows the exact one.",
    "",
    "![training curves](gmm1d.png)",
    "",
    "Raw numbers: `results.json` (summary) and `traces.json` (per-iteration q, log Z and ESS).",
    "",
    "```json",
    JSON.stringify(summary, null, 2),
    "```",
    "",
  ].join("\n");
}

export async function runGmm1dCommand(raw: RawOptions): Promise<void> {
  const opts = parseOptions(raw);
  const outDir = resolve(raw.out);
  try {
    // Before the run, not after it: the folder is created now (a pseudo file system such as /proc
    // refuses here, in a second, instead of after minutes of work).
    checkOutputDir(outDir);
    ensureDir(outDir);
  } catch (err) {
    throw new UserError(`--out: ${(err as Error).message}`);
  }
  const progress = progressBar(raw.progress && !raw.json);
  let result: Gmm1dResult;
  try {
    result = runGmm1d(opts, (m, k, n) => progress.update(LABELS[m], k, n));
  } finally {
    progress.stop();
  }
  const summary = summaryJson(result, outDir);
  const figure = await renderVegaLite(figureSpec(result));
  const traces: Record<string, unknown> = {};
  for (const m of GMM1D_METHODS) {
    const res = result.methods[m];
    if (res) traces[m] = { q: Array.from(res.qTrace) };
  }
  if (result.methods.jarzynski) {
    const j = result.methods.jarzynski;
    Object.assign(traces.jarzynski as object, {
      logz_estimate: Array.from(j.logZEstimate),
      logz_exact: Array.from(j.logZExact),
      ess: Array.from(j.essTrace),
    });
  }
  writeFileAtomic(join(outDir, "gmm1d.png"), figure.png);
  writeFileAtomic(join(outDir, "gmm1d.svg"), figure.svg);
  writeFileAtomic(join(outDir, "results.json"), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileAtomic(join(outDir, "traces.json"), `${JSON.stringify(traces)}\n`);
  writeFileAtomic(join(outDir, "report.md"), markdown(result, summary));

  if (raw.json) {
    console.log(JSON.stringify(summary));
    return;
  }
  const o = result.options;
  console.log(`gmm1d: target q* = ${o.q}, data q = ${result.dataQ.toFixed(4)}, modes ${o.modes.join(", ")}`);
  console.log("  method            final q   walker mass b");
  for (const m of GMM1D_METHODS) {
    const res = result.methods[m];
    if (!res) continue;
    const mass = res.walkerMassB === undefined ? "" : res.walkerMassB.toFixed(3);
    console.log(`  ${LABELS[m].padEnd(16)}  ${res.q.toFixed(4).padStart(7)}   ${mass}`);
  }
  const j = result.methods.jarzynski;
  if (j) {
    const last = j.logZEstimate.length - 1;
    console.log(
      `  Jarzynski log Z: ${j.logZEstimate[last].toFixed(4)} (exact ${j.logZExact[last].toFixed(4)}, |err| ${j.logzAbsErr.toFixed(4)})`,
    );
  }
  console.log(`report: ${join(outDir, "report.md")}`);
}

/** Adds the experiment's options to a command. */
export function gmm1dOptions(cmd: Command, defaultOut: string): Command {
  const d = GMM1D_DEFAULTS;
  return cmd
    .option("--seed <n>", "random seed", String(d.seed))
    .option("--q <q>", "target mass of mode b, in (0, 1)", String(d.q))
    .option("--modes <a,b>", "positions of the two modes, a < b", d.modes.join(","))
    .option("--walkers <n>", "number of walkers (negative samples)", String(d.walkers))
    .option("--iters <n>", "training iterations", String(d.iterations))
    .option("--step <h>", "ULA step size", String(d.step))
    .option("--lr <lr>", "SGD learning rate on z", String(d.lr))
    .option("--resample <x>", "Jarzynski resampling: 'never' or resample when ESS < x·N", String(d.resample))
    .option("--data <n>", "number of training points drawn from the target", String(d.dataSize))
    .option("--methods <list>", "comma-separated subset of methods", GMM1D_METHODS.join(","))
    .option("--out <dir>", "report folder", defaultOut)
    .option("--json", "print the results as one JSON object on the last line of stdout")
    .option("--no-progress", "do not show a progress bar");
}
