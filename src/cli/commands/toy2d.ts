/**
 * `ebm reproduce toy2d`: seed 000's 2-D figure. Rows = data sets, columns = data | true density | CD | PCD |
 * Jarzynski | mode masses (true vs each method). Writes toy2d.png/.svg, report.md, results.json into the
 * report folder; nothing is written when the run fails.
 */
import type { Command } from "commander";
import {
  gridFigure,
  heatmapChart,
  massBarChart,
  runToy2dExperiment,
  scatterChart,
  TOY2D_DEFAULTS,
  TOY2D_METHODS,
  TOY2D_QUICK,
  type Toy2dExperimentOptions,
  type Toy2dMethod,
  type Toy2dResult,
  validateToy2dOptions,
  type VegaLiteSpec,
} from "../../node.ts";
import { parseInteger, parseLayerWidths, parseNumber, parseSeed, printable, UserError } from "../errors.ts";
import { reportFolder, withProgress, writeReport } from "../report.ts";

interface RawToy2dOptions {
  quick?: boolean;
  datasets?: string;
  methods?: string;
  iters?: string;
  walkers?: string;
  replicas?: string;
  lr?: string;
  hidden?: string;
  seed: string;
  out: string;
  json?: boolean;
  progress: boolean;
}

const LABELS: Record<Toy2dMethod, string> = { cd: "CD-1", pcd: "PCD", jarzynski: "Jarzynski" };

function parseOptions(raw: RawToy2dOptions): Toy2dExperimentOptions {
  const o: Toy2dExperimentOptions = { ...TOY2D_DEFAULTS, ...(raw.quick ? TOY2D_QUICK : {}) };
  if (raw.datasets !== undefined) o.datasets = raw.datasets.split(",").map((s) => s.trim());
  if (raw.methods !== undefined) {
    const ms = raw.methods.split(",").map((s) => s.trim());
    for (const m of ms)
      if (!(TOY2D_METHODS as readonly string[]).includes(m))
        throw new UserError(
          `--methods: unknown method '${printable(m)}' (choose from ${TOY2D_METHODS.join(", ")})`,
        );
    o.methods = ms as Toy2dMethod[];
  }
  if (raw.iters !== undefined) o.iters = parseInteger("--iters", raw.iters);
  if (raw.walkers !== undefined) o.walkers = parseInteger("--walkers", raw.walkers);
  if (raw.replicas !== undefined) o.replicas = parseInteger("--replicas", raw.replicas);
  if (raw.lr !== undefined) o.lr = parseNumber("--lr", raw.lr);
  if (raw.hidden !== undefined) o.hidden = parseLayerWidths("--hidden", raw.hidden);
  o.seed = parseSeed("--seed", raw.seed);
  try {
    validateToy2dOptions(o);
  } catch (e) {
    throw new UserError((e as Error).message.replace(/^unknown data set/, "--datasets: unknown data set"));
  }
  return o;
}

const f = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : String(v));
const pm = (v: number, se: number, d = 3) => (Number.isFinite(se) ? `${f(v, d)} ± ${f(se, d)}` : f(v, d));

/** The figure: one row per data set. */
export function toy2dFigure(r: Toy2dResult): VegaLiteSpec {
  const rows: VegaLiteSpec[][] = [];
  const size = 150;
  for (const d of r.datasets) {
    const row: VegaLiteSpec[] = [];
    row.push(
      scatterChart({ points: d.points, width: size, height: size, xDomain: [-4, 4], yDomain: [-4, 4] }),
    );
    const heat = (values: Float64Array) =>
      heatmapChart({ xs: d.imageXs, ys: d.imageYs, values, width: size, height: size });
    row.push(
      d.trueImage.length
        ? heat(d.trueImage)
        : scatterChart({ points: new Float64Array(0), width: size, height: size }),
    );
    for (const m of d.methods) row.push(heat(m.image));
    if (d.weights.length > 0 && d.methods[0].masses.length > 0) {
      row.push(
        massBarChart({
          groups: d.weights.map((_, j) => `mode ${j + 1}`),
          series: [
            { name: "true", values: d.weights },
            ...d.methods.map((m) => ({
              name: LABELS[m.method],
              values: m.masses,
              errors: m.masses.map((_, j) => (Number.isFinite(m.massSe[j]) ? m.massSe[j] : m.massErrors[j])),
            })),
          ],
          width: 220,
          height: size,
          errorLabel: r.options.replicas > 1 ? "± 1 SE (replicas)" : "± quadrature error",
        }),
      );
    }
    rows.push(row);
  }
  return gridFigure(rows, {
    title: "Seed 000, figure 1: MLP energies learned by CD, PCD and Jarzynski SMC",
    rowTitles: r.datasets.map((d) => d.name),
    columnTitles: ["data", "true density", ...r.options.methods.map((m) => LABELS[m]), "mode masses"],
  });
}

function summary(r: Toy2dResult, outDir: string): Record<string, unknown> {
  return {
    experiment: "toy2d",
    out: outDir,
    options: r.options,
    datasets: r.datasets.map((d) => ({
      name: d.name,
      weights: d.weights,
      centres: d.centres,
      methods: Object.fromEntries(
        d.methods.map((m) => {
          const last = m.runs.map((run) => run.trace[run.trace.length - 1]);
          return [
            m.method,
            {
              kl: m.kl,
              kl_se: m.klSe,
              kl_quadrature_error: m.klError,
              tv: m.tv,
              masses: m.masses,
              masses_se: m.massSe,
              masses_quadrature_error: m.massErrors,
              max_mass_error: m.masses.length
                ? Math.max(...m.masses.map((v, j) => Math.abs(v - d.weights[j])))
                : Number.NaN,
              seconds: m.runs.map((run) => run.seconds),
              mode_changes: m.runs.some((run) => run.modeChanges)
                ? m.runs.map((run) => ({
                    per_chain_iteration: run.modeChanges?.perChainIteration ?? null,
                    se: run.modeChanges?.se ?? null,
                    chains: run.modeChanges?.chains ?? null,
                    iterations: run.modeChanges?.iterations ?? null,
                  }))
                : null,
              final: last,
              trace: m.runs[0].trace,
            },
          ];
        }),
      ),
    })),
  };
}

function markdown(r: Toy2dResult): string {
  const o = r.options;
  const lines = [
    "# toy2d: CD, PCD and Jarzynski SMC on 2-D data (seed 000, figure 1)",
    "",
    `MLP ${[2, ...o.hidden, 1].join("→")} (SiLU) + ½·${o.confinement}·|x|², ${o.walkers} walkers, ULA step ${o.step}, ` +
      `Adam ${o.lr}, ${o.iters} iterations, batch ${o.batch} from ${o.dataSize} points, seed ${o.seed}` +
      (o.replicas > 1
        ? `, ${o.replicas} replicas (seeds ${o.seed}…${o.seed + o.replicas - 1}; ± is the SE over replicas)`
        : "") +
      ". KL(data‖model) and masses on a " +
      `${o.gridN}² grid over [−4, 4]² (both densities normalised by quadrature); log Z by quadrature on [−8, 8]².`,
    "",
    "![figure](toy2d.png)",
    "",
  ];
  for (const d of r.datasets) {
    lines.push(`## ${d.name}`, "", d.description, "");
    const hasMasses = d.methods[0]?.masses.length > 0;
    lines.push(
      `| method | KL(data‖model) | TV |${hasMasses ? " mode masses (true " + d.weights.map((w) => f(w, 2)).join(" / ") + ") | max mass error |" : ""}`,
      `|---|---|---|${hasMasses ? "---|---|" : ""}`,
    );
    for (const m of d.methods) {
      const masses = m.masses.map((v, j) => pm(v, m.massSe[j])).join(" / ");
      const err = hasMasses ? f(Math.max(...m.masses.map((v, j) => Math.abs(v - d.weights[j])))) : "";
      lines.push(
        `| ${LABELS[m.method]} | ${pm(m.kl, m.klSe, 4)} | ${f(m.tv)} |${hasMasses ? ` ${masses} | ${err} |` : ""}`,
      );
    }
    const pcd = d.methods.find((m) => m.method === "pcd" && m.runs.some((run) => run.modeChanges));
    if (pcd) {
      const c = pcd.runs.map((run) => run.modeChanges!);
      lines.push(
        "",
        `PCD's ${c[0].chains} persistent chains changed mode (nearest centre) ` +
          c.map((x) => pm(x.perChainIteration, x.se, 5)).join(", ") +
          ` times per chain and iteration over the last ${c[0].iterations} iterations` +
          (c.length > 1 ? " (one figure per replica)" : "") +
          ": how often one ULA step takes a chain across to another mode.",
      );
    }
    const j = d.methods.find((m) => m.method === "jarzynski");
    if (j) {
      lines.push(
        "",
        "Jarzynski log Z along training (nats; grid = quadrature, ± its error indicator; walkers = the training walkers' running estimate; estimator = the decoupled population that follows the same θ path without feeding the gradient; ± Lee–Whiteley SE):",
        "",
        "| iteration | grid | training walkers | estimator population | estimator − grid (in SE) |",
        "|---|---|---|---|---|",
      );
      for (const e of j.runs[0].trace) {
        const z = ((e.logZEstimator ?? Number.NaN) - e.logZGrid) / (e.logZEstimatorSe ?? Number.NaN);
        lines.push(
          `| ${e.iteration} | ${f(e.logZGrid)} | ${pm(e.logZWalkers ?? Number.NaN, e.logZWalkersSe ?? Number.NaN)} | ${pm(e.logZEstimator ?? Number.NaN, e.logZEstimatorSe ?? Number.NaN)} | ${f(z, 2)} |`,
        );
      }
    }
    lines.push("");
  }
  lines.push("Raw numbers: `results.json`.", "");
  return lines.join("\n");
}

export async function runToy2dCommand(raw: RawToy2dOptions): Promise<void> {
  const o = parseOptions(raw);
  const outDir = reportFolder(raw.out);
  const result = await withProgress(raw, (progress) =>
    runToy2dExperiment(o, (label, done, total) => progress.update(label, done, total)),
  );
  await writeReport(outDir, raw.json, {
    figure: { name: "toy2d", spec: toy2dFigure(result) },
    summary: summary(result, outDir),
    markdown: markdown(result),
    print() {
      console.log(
        `toy2d: ${o.iters} iterations, ${o.walkers} walkers, seed ${o.seed}${o.replicas > 1 ? `, ${o.replicas} replicas` : ""}`,
      );
      for (const d of result.datasets) {
        console.log(
          `  ${d.name}${d.weights.length ? ` (true masses ${d.weights.map((w) => f(w, 2)).join(" / ")})` : ""}`,
        );
        for (const m of d.methods) {
          const masses = m.masses.length
            ? `  masses ${m.masses.map((v, j) => pm(v, m.massSe[j])).join(" / ")}`
            : "";
          console.log(`    ${LABELS[m.method].padEnd(10)} KL ${pm(m.kl, m.klSe, 4)}${masses}`);
        }
        const changes = d.methods.flatMap((m) => m.runs.flatMap((run) => run.modeChanges ?? []));
        if (changes.length)
          console.log(
            `    PCD chains' mode changes per chain and iteration (last ${changes[0].iterations}): ` +
              changes.map((c) => pm(c.perChainIteration, c.se, 5)).join(", "),
          );
      }
    },
  });
}

export function toy2dOptions(cmd: Command, defaultOut: string, quick = false): Command {
  const d = TOY2D_DEFAULTS;
  return cmd
    .option(
      "--quick",
      `one data set, a smaller network, ${TOY2D_QUICK.iters} iterations (under 2 minutes)`,
      quick,
    )
    .option("--datasets <list>", `comma-separated built-in sets (default ${d.datasets.join(",")})`)
    .option("--methods <list>", `comma-separated subset of ${TOY2D_METHODS.join(",")}`)
    .option("--iters <n>", `training iterations (default ${d.iters})`)
    .option("--walkers <n>", `walkers per method (default ${d.walkers})`)
    .option(
      "--replicas <n>",
      "independent runs per method (seeds seed, seed+1, …): error bars over replicas",
      undefined,
    )
    .option("--lr <rate>", `Adam learning rate (default ${d.lr})`)
    .option("--hidden <widths>", `hidden widths of the MLP (default ${d.hidden.join(",")})`)
    .option("--seed <n>", "random seed", String(d.seed))
    .option("--out <dir>", "report folder", defaultOut)
    .option("--json", "print the results as one JSON object on the last line of stdout")
    .option("--no-progress", "do not show a progress bar");
}
