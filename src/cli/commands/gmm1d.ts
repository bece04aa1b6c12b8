/**
 * `ebm reproduce gmm1d`: runs the seed's 1-D mode-weight experiment and writes a report
 * folder with a figure, a markdown summary and the raw results.
 *
 * Health of the Jarzynski weights (smc/health.ts): each warning is one line "  warning: jarzynski: …" in
 * the text report on stdout (as `ebm sample` does) and in report.md, and an entry {method, code, message}
 * of `warnings` in results.json and the --json line; the Jarzynski log Z and weighted mass are then marked
 * unreliable in all three. Estimates are printed with their standard errors (walker masses, log Z); the
 * final q is a trained parameter without one (its spread needs runs with other seeds).
 * A run that fails (a numerical failure, exit 3) leaves no report folder behind.
 */
import { rmdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import {
  GMM1D_DEFAULTS,
  GMM1D_METHODS,
  type Gmm1dMethod,
  type Gmm1dOptions,
  type Gmm1dResult,
  lineChart,
  panels,
  runGmm1d,
  type Series,
  validateGmm1dOptions,
} from "../../node.ts";
import { parseInteger, parseNumber, parseNumberList, parseSeed, UserError } from "../errors.ts";
import { reportFolder, withProgress, writeReport } from "../report.ts";

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

/** Lower envelope: the minimum of each window of `stride` iterations, at its iteration (dips stay visible). */
function thinMin(trace: Float64Array, maxPoints = 400): { x: number; y: number }[] {
  const stride = Math.max(1, Math.ceil((trace.length - 1) / maxPoints));
  const pts: { x: number; y: number }[] = [];
  for (let i = 0; i < trace.length; i += stride) {
    let k = i;
    for (let j = i + 1; j < Math.min(trace.length, i + stride); j++) if (trace[j] < trace[k]) k = j;
    pts.push({ x: k, y: trace[k] });
  }
  return pts;
}

const fmt = (v: number, digits = 4): string =>
  !Number.isFinite(v)
    ? String(v)
    : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 10 ** -digits)
      ? v.toExponential(2)
      : v.toFixed(digits);

/** "v ± se", or "v (no standard error)" when there is none. */
const pm = (v: number, se: number | undefined, digits = 4): string =>
  se === undefined || !Number.isFinite(se)
    ? `${fmt(v, digits)} (no SE)`
    : `${fmt(v, digits)} ± ${fmt(se, digits)}`;

export const ESS_SERIES = "ESS / N before resampling";
export const RESAMPLING_RULES = "resampling";

/** The report's figure (exported for tests). */
export function gmm1dFigureSpec(r: Gmm1dResult): object {
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
    const n = r.options.walkers;
    charts.push(
      lineChart({
        title: j.unreliable
          ? "log Z during Jarzynski training (UNRELIABLE: see warnings)"
          : "log Z during Jarzynski training",
        x: { field: "iteration" },
        y: { field: "log Z" },
        series: [
          { name: "Jarzynski estimate", points: thin(j.logZEstimate) },
          { name: "exact log Z", points: thin(j.logZExact), dash: true },
        ],
      }),
      lineChart({
        title: `ESS of the Jarzynski weights before resampling (${j.resamplings} resamplings)`,
        x: { field: "iteration" },
        y: { field: "ESS / N", domain: [0, 1] },
        series: [{ name: ESS_SERIES, points: thinMin(j.essTrace.map((v) => v / n)) }],
        hline: r.options.resample > 0 ? { y: r.options.resample, label: "resampling threshold" } : undefined,
        rules: j.resampledAt.length > 0 ? { x: j.resampledAt, label: RESAMPLING_RULES } : undefined,
      }),
    );
  }
  return panels(charts, { columns: 2, title: "gmm1d: learning the mode weight of a two-well energy" });
}

function summaryJson(r: Gmm1dResult, reportDir: string): Record<string, unknown> {
  const methods: Record<string, Record<string, number | boolean>> = {};
  for (const m of GMM1D_METHODS) {
    const res = r.methods[m];
    if (!res) continue;
    const entry: Record<string, number | boolean> = { q: res.q };
    if (res.walkerMassB !== undefined) entry.walker_mass_b = res.walkerMassB;
    if (res.walkerMassBSe !== undefined) entry.walker_mass_b_se = res.walkerMassBSe;
    if (m === "jarzynski" && r.methods.jarzynski) {
      const j = r.methods.jarzynski;
      const last = j.logZEstimate.length - 1;
      Object.assign(entry, {
        unreliable: j.unreliable,
        logz_abs_err: j.logzAbsErr,
        logz_estimate: j.logZEstimate[last],
        logz_se: j.logZSe,
        logz_exact: j.logZExact[last],
        final_ess: j.essTrace[last],
        ess_median_fraction: j.essMedianFraction,
        ess_min: j.health.minEss,
        resamplings: j.resamplings,
        resampling_rate: j.resamplings / Math.max(1, j.health.updates),
        max_increment_spread: j.health.maxSpread,
        nonfinite_increments: j.health.nonFinite,
      });
    }
    entry.seconds = r.seconds[m] ?? Number.NaN;
    methods[m] = entry;
  }
  const o = r.options;
  return {
    seed: o.seed,
    target_q: o.q,
    data_q: r.dataQ,
    methods,
    warnings: r.warnings.map((w) => ({ method: w.method, code: w.code, message: w.message })),
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

/** One line on the Jarzynski log Z and its weights, for the text and markdown reports. */
function jarzynskiLine(r: Gmm1dResult): string | undefined {
  const j = r.methods.jarzynski;
  if (!j) return undefined;
  const last = j.logZEstimate.length - 1;
  const logZ = `log Z ${pm(j.logZEstimate[last], j.logZSe)} (exact ${fmt(j.logZExact[last])}, |err| ${fmt(j.logzAbsErr)})`;
  return (
    `${j.unreliable ? "UNRELIABLE (see the warnings): " : ""}${logZ}; ESS before resampling: median ` +
    `${fmt(j.essMedianFraction, 3)}·N, min ${fmt(j.health.minEss / r.options.walkers, 3)}·N; ` +
    `${j.resamplings} resampling(s) in ${j.health.updates} iterations`
  );
}

function markdown(r: Gmm1dResult, summary: Record<string, unknown>): string {
  const o = r.options;
  const rows = GMM1D_METHODS.filter((m) => r.methods[m]).map((m) => {
    const res = r.methods[m]!;
    const flag = m === "jarzynski" && r.methods.jarzynski?.unreliable ? " (unreliable)" : "";
    const mass = res.walkerMassB === undefined ? "–" : pm(res.walkerMassB, res.walkerMassBSe, 3) + flag;
    return `| ${LABELS[m]} | ${res.q.toFixed(4)}${flag} | ${(res.q - o.q >= 0 ? "+" : "") + (res.q - o.q).toFixed(4)} | ${mass} | ${(r.seconds[m] ?? 0).toFixed(1)} |`;
  });
  const jl = jarzynskiLine(r);
  const jLines = jl ? ["", `Jarzynski: ${jl}.`] : [];
  const warn = r.warnings.length
    ? [
        "",
        "**Warnings** (the Jarzynski estimates above are not to be trusted):",
        "",
        ...r.warnings.map((w) => `- ${w.method} \`${w.code}\`: ${w.message}`),
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
    "| method | final q | q − q* | walker mass in b (± SE) | seconds |",
    "|---|---:|---:|---:|---:|",
    ...rows,
    ...jLines,
    ...warn,
    "",
    "Score matching sees only ∇ log ρ, which does not depend on z away from the barrier; CD-1 walkers start at",
    "the data and never leave their mode; PCD walkers stay where the initial model put them, so its gradient",
    "never vanishes and q runs off to 0 or 1. Jarzynski weights correct the walkers for the change of the",
    "model, so the weighted walkers follow ρ_z and the estimate of log Z follows the exact one.",
    "",
    "Standard errors: the CD and PCD walker masses are binomial; the Jarzynski mass and log Z come from the",
    "walkers' genealogy (Lee & Whiteley 2018). The final q is a trained parameter: its spread over seeds is",
    "not estimated here. The ESS shown is taken before each resampling (after one it is N by construction).",
    "",
    "![training curves](gmm1d.png)",
    "",
    "Raw numbers: `results.json` (summary) and `traces.json` (per-iteration q, log Z, ESS before resampling",
    "and the resampling iterations).",
    "",
    "```json",
    JSON.stringify(summary, null, 2),
    "```",
    "",
  ].join("\n");
}

/** The outermost folder of `dir` that does not exist yet (undefined if `dir` exists). */
function firstMissing(dir: string): string | undefined {
  let missing: string | undefined;
  for (let p = dir; ; p = dirname(p)) {
    try {
      statSync(p);
      return missing;
    } catch {
      missing = p;
    }
    if (dirname(p) === p) return missing;
  }
}

/** Removes the (empty) folders from `dir` up to `top`, which this run created; stops at the first refusal. */
function removeCreated(dir: string, top: string): void {
  for (let p = dir; ; p = dirname(p)) {
    try {
      rmdirSync(p);
    } catch {
      return;
    }
    if (p === top || dirname(p) === p) return;
  }
}

export async function runGmm1dCommand(raw: RawOptions): Promise<void> {
  const opts = parseOptions(raw);
  const created = firstMissing(resolve(raw.out));
  // Created before the run, not after it: a pseudo file system such as /proc refuses here.
  const outDir = reportFolder(raw.out, true);
  let result: Gmm1dResult;
  try {
    result = await withProgress(raw, (progress) =>
      runGmm1d(opts, (m, k, n) => progress.update(LABELS[m], k, n)),
    );
  } catch (err) {
    // Nothing is written before the run ends: leave no empty report folder behind.
    if (created) removeCreated(outDir, created);
    throw err;
  }
  const summary = summaryJson(result, outDir);
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
      ess_before_resampling: Array.from(j.essTrace),
      resampled_at: j.resampledAt,
    });
  }
  await writeReport(outDir, raw.json, {
    figure: { name: "gmm1d", spec: gmm1dFigureSpec(result) },
    files: { "traces.json": `${JSON.stringify(traces)}\n` },
    summary,
    markdown: markdown(result, summary),
    print() {
      const o = result.options;
      console.log(
        `gmm1d: target q* = ${o.q}, data q = ${result.dataQ.toFixed(4)}, modes ${o.modes.join(", ")}, seed ${o.seed}`,
      );
      console.log("  method            final q   walker mass b (± SE)");
      for (const m of GMM1D_METHODS) {
        const res = result.methods[m];
        if (!res) continue;
        const flag = m === "jarzynski" && result.methods.jarzynski?.unreliable ? "   unreliable" : "";
        const mass = res.walkerMassB === undefined ? "" : pm(res.walkerMassB, res.walkerMassBSe, 3);
        console.log(`  ${LABELS[m].padEnd(16)}  ${res.q.toFixed(4).padStart(7)}   ${mass}${flag}`.trimEnd());
      }
      const jl = jarzynskiLine(result);
      if (jl) console.log(`  Jarzynski: ${jl}`);
      for (const w of result.warnings) console.log(`  warning: ${w.method}: ${w.message}`);
    },
  });
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
