/**
 * `ebm reproduce gray2d`: discrete EBMs on Gray-coded 2-D data (seed 000, figure 2). Rows = data sets,
 * columns = data | true density | CD | PCD | Jarzynski | mode masses (sets with centres). Writes
 * gray2d.png/.svg, report.md and results.json into the report folder; nothing is written when the run fails.
 */
import type { Command } from "commander";
import {
  DISCRETE_MOVES,
  type DiscreteMoveName,
  GRAY2D_DEFAULTS,
  GRAY2D_METHODS,
  GRAY2D_QUICK,
  type Gray2dDatasetResult,
  type Gray2dMethod,
  type Gray2dMethodResult,
  type Gray2dOptions,
  type Gray2dResult,
  gridFigure,
  heatmapChart,
  massBarChart,
  runGray2dExperiment,
  scatterChart,
  validateGray2dOptions,
  type VegaLiteSpec,
} from "../../node.ts";
import {
  parseInteger,
  parseIntegerInRange,
  parseLayerWidths,
  parseNumberList,
  parsePositive,
  parseSeed,
  printable,
  UserError,
} from "../errors.ts";
import { reportFolder, withProgress, writeReport } from "../report.ts";

interface RawGray2dOptions {
  quick?: boolean;
  datasets?: string;
  methods?: string;
  bits?: string;
  box?: string;
  iters?: string;
  walkers?: string;
  estimatorWalkers?: string;
  batch?: string;
  dataSize?: string;
  steps?: string;
  move?: string;
  dmalaStep?: string;
  lr?: string;
  hidden?: string;
  seed: string;
  out: string;
  json?: boolean;
  progress: boolean;
}

const LABELS: Record<Gray2dMethod, string> = {
  cd: "CD",
  pcd: "PCD",
  jarzynski: "Jarzynski",
  exact: "exact ML",
};

function parseOptions(raw: RawGray2dOptions): Gray2dOptions {
  const o: Gray2dOptions = { ...GRAY2D_DEFAULTS, ...(raw.quick ? GRAY2D_QUICK : {}) };
  if (raw.datasets !== undefined) o.datasets = raw.datasets.split(",").map((s) => s.trim());
  if (raw.methods !== undefined) {
    const ms = raw.methods.split(",").map((s) => s.trim());
    for (const m of ms)
      if (!(GRAY2D_METHODS as readonly string[]).includes(m))
        throw new UserError(
          `--methods: unknown method '${printable(m)}' (choose from ${GRAY2D_METHODS.join(", ")})`,
        );
    o.methods = [...new Set(ms)] as Gray2dMethod[];
  }
  if (raw.bits !== undefined) o.bits = parseIntegerInRange("--bits", raw.bits, 2, 16);
  if (raw.box !== undefined) {
    const b = parseNumberList("--box", raw.box);
    if (!(b.length === 2 && b[0] < b[1]))
      throw new UserError(`--box: expected two numbers LO,HI with LO < HI, got '${printable(raw.box)}'`);
    o.box = [b[0], b[1]];
  }
  if (raw.iters !== undefined) o.iters = parseInteger("--iters", raw.iters);
  if (raw.walkers !== undefined) o.walkers = parseInteger("--walkers", raw.walkers);
  if (raw.estimatorWalkers !== undefined)
    o.estimatorWalkers = parseInteger("--estimator-walkers", raw.estimatorWalkers, 0);
  if (raw.batch !== undefined) o.batch = parseInteger("--batch", raw.batch);
  if (raw.dataSize !== undefined) o.dataSize = parseInteger("--data-size", raw.dataSize, 2);
  if (raw.steps !== undefined) o.steps = parseInteger("--steps", raw.steps);
  if (raw.move !== undefined) {
    if (!(DISCRETE_MOVES as readonly string[]).includes(raw.move))
      throw new UserError(`--move: expected ${DISCRETE_MOVES.join(" or ")}, got '${printable(raw.move)}'`);
    o.move = raw.move as DiscreteMoveName;
  }
  if (raw.dmalaStep !== undefined) o.dmalaStep = parsePositive("--dmala-step", raw.dmalaStep);
  if (raw.lr !== undefined) o.lr = parsePositive("--lr", raw.lr);
  if (raw.hidden !== undefined) {
    o.hidden = parseLayerWidths("--hidden", raw.hidden);
  }
  o.seed = parseSeed("--seed", raw.seed);
  try {
    validateGray2dOptions(o);
  } catch (e) {
    throw new UserError(
      (e as Error).message
        .replace(/^unknown data set/, "--datasets: unknown data set")
        .replace(/^(\w+)(:? )/, "--$1$2"),
    );
  }
  return o;
}

const f = (v: number | undefined, d = 3) => (v !== undefined && Number.isFinite(v) ? v.toFixed(d) : "—");
const pm = (v: number | undefined, se: number | undefined, d = 3) =>
  se !== undefined && Number.isFinite(se) && se > 0 ? `${f(v, d)} ± ${f(se, d)}` : f(v, d);
const sci = (v: number, se: number) =>
  Number.isFinite(v) ? `${v.toExponential(1)} ± ${Number.isFinite(se) ? se.toExponential(1) : "—"}` : "—";

/**
 * The largest |mass − weight| over the modes, with the SE of that mode's mass (0 when exact; the SE of the
 * maximum itself would also carry the choice of the mode, which this leaves out) and the mode (1-based).
 */
function maxMassError(
  d: Gray2dDatasetResult,
  m: Gray2dMethodResult,
): { value: number; se: number; mode: number } {
  let best = { value: Number.NaN, se: Number.NaN, mode: 0 };
  m.masses.forEach((v, j) => {
    const e = Math.abs(v - d.weights[j]);
    if (!(e <= best.value)) best = { value: e, se: m.massSe[j], mode: j + 1 };
  });
  return best;
}

/** maxMassError as "value ± se (mode k)", or "value (mode k)" when exact. */
function maxMassErrorText(d: Gray2dDatasetResult, m: Gray2dMethodResult): string {
  const e = maxMassError(d, m);
  return `${pm(e.value, e.se)} (mode ${e.mode})`;
}

/**
 * The top of a panel's colour scale: the 99.5% quantile of its bin probabilities, so that a few bins of a
 * sampled histogram do not wash out the rest (bins above it take the top colour).
 */
function upperColour(values: Float64Array): number {
  const sorted = Float64Array.from(values).sort();
  const top = sorted[Math.min(sorted.length - 1, Math.floor(0.995 * sorted.length))];
  return top > 0 ? top : 1;
}

/** The figure: one row per data set. */
export function gray2dFigure(r: Gray2dResult): VegaLiteSpec {
  const size = 150;
  const rows: VegaLiteSpec[][] = [];
  const withMasses = r.datasets.some((d) => d.centres.length > 0);
  for (const d of r.datasets) {
    const domain: [number, number] = [d.box.lo, d.box.hi];
    const heat = (values: Float64Array) =>
      heatmapChart({
        xs: d.imageXs,
        ys: d.imageYs,
        values,
        width: size,
        height: size,
        domain: [0, upperColour(values)],
      });
    const row: VegaLiteSpec[] = [
      scatterChart({ points: d.points, width: size, height: size, xDomain: domain, yDomain: domain }),
      heat(d.trueImage),
      ...d.methods.map((m) => heat(m.image)),
    ];
    if (d.centres.length > 0) {
      row.push(
        massBarChart({
          // Its own title: the first row (whose panels carry the column titles) may have no mass panel.
          title: "mode masses",
          groups: d.weights.map((_, j) => `mode ${j + 1}`),
          series: [
            { name: "true", values: d.weights },
            ...d.methods.map((m) => ({
              name: LABELS[m.method],
              values: m.masses,
              errors: m.massSe.map((s) => (s > 0 ? s : Number.NaN)),
            })),
          ],
          width: 240,
          height: size,
          errorLabel: r.exact ? "none (exact)" : "± 1 SE",
        }),
      );
    }
    rows.push(row);
  }
  return gridFigure(rows, {
    title: `Seed 000, figure 2: discrete EBMs on Gray-coded 2-D data (2^${2 * r.options.bits} states)`,
    rowTitles: r.datasets.map((d) => d.name),
    columnTitles: [
      "data",
      "true density",
      ...r.options.methods.map((m) => LABELS[m]),
      ...(withMasses ? [""] : []),
    ],
  });
}

function summary(r: Gray2dResult, outDir: string): Record<string, unknown> {
  return {
    experiment: "gray2d",
    out: outDir,
    options: r.options,
    exact: r.exact,
    datasets: r.datasets.map((d) => ({
      name: d.name,
      sites: d.sites,
      box: d.box,
      held_out_outside_box: d.heldOutOutside,
      uniform_nll: d.uniformNll,
      data_nll: d.dataNll,
      data_nll_se: d.dataNllSe,
      weights: d.weights,
      centres: d.centres,
      true_image: d.trueImageSource,
      paired_nll_differences: d.paired.map((q) => ({
        a: q.a,
        b: q.b,
        nll_diff: q.diff,
        se: q.se,
        log_z: q.logZSource,
      })),
      methods: Object.fromEntries(
        d.methods.map((m) => [
          m.method,
          {
            nll: m.nll,
            nll_se: m.nllSe,
            log_z: m.logZ,
            log_z_se: m.logZSe,
            log_z_source: m.logZSource,
            nll_smc: m.nllSmc ?? null,
            nll_smc_se: m.nllSmcSe ?? null,
            smc: m.smc ?? null,
            estimator: m.estimator ?? null,
            training_walkers: m.walkersLogZ ?? null,
            generalisation_gap: m.generalisationGap.gap,
            generalisation_gap_se: m.generalisationGap.se,
            kl: m.kl,
            mmd2: m.mmd2,
            mmd2_se: m.mmdSe,
            masses: m.masses,
            masses_se: m.massSe,
            max_mass_error: maxMassError(d, m).value,
            max_mass_error_se: maxMassError(d, m).se,
            acceptance: m.acceptance,
            mode_hops: m.modeHops
              ? {
                  per_chain_iteration: m.modeHops.perChainIteration,
                  se: m.modeHops.se,
                  chains: m.modeHops.chains,
                  iterations: m.modeHops.iterations,
                  by_bit: m.modeHops.byBit,
                }
              : null,
            seconds: m.seconds,
            eval_seconds: m.evalSeconds,
            warnings: m.warnings,
            trace: m.trace,
          },
        ]),
      ),
    })),
  };
}

/** The ordinal of bit position b (0 = the most significant): "1st", "2nd", … */
function ordinal(b: number): string {
  const n = b + 1;
  return `${n}${n === 1 ? "st" : n === 2 ? "nd" : n === 3 ? "rd" : "th"}`;
}

/** PCD's mode changes (ModeHops) in one sentence, or null without them. */
function modeHopsLine(d: Gray2dDatasetResult): string | null {
  const h = d.methods.find((m) => m.modeHops)?.modeHops;
  if (!h) return null;
  const top = h.byBit
    .map((v, b) => ({ v, b }))
    .filter((e) => e.v >= 0.005)
    .sort((a, b) => b.v - a.v)
    .slice(0, 3)
    .map((e) => `${f(100 * e.v, 0)}% by flipping a coordinate's ${ordinal(e.b)} Gray bit`);
  return (
    `PCD's ${h.chains} persistent chains changed mode (nearest centre) ${pm(h.perChainIteration, h.se, 4)} times ` +
    `per chain and iteration over the last ${h.iterations} iterations` +
    (top.length ? `; of the changes made by one flip, ${top.join(", ")}` : "") +
    ". Flipping a coordinate's 1st Gray bit reflects it across the box, its b-th bit within an aligned " +
    "block of 2^(bits+1−b) cells: one move can jump between mirror-image modes."
  );
}

/** What the training pool is: as many points as the minibatches draw (fresh data), or a fixed sample. */
function trainingPoolText(o: Gray2dOptions): string {
  const draws = o.iters * o.batch;
  const n = o.dataSize ?? draws;
  return n >= draws
    ? "as many as the minibatches draw: each point is drawn about once, as if every minibatch were fresh"
    : `a fixed sample: each point is drawn about ${(draws / n).toFixed(draws / n < 10 ? 1 : 0)} times`;
}

function markdown(r: Gray2dResult): string {
  const o = r.options;
  const sites = 2 * o.bits;
  const lines = [
    "# gray2d: discrete EBMs on Gray-coded 2-D data (seed 000, figure 2)",
    "",
    `Each point is quantised to 2^${o.bits} cells per axis on ` +
      (o.box
        ? `the box [${o.box[0]}, ${o.box[1]}]² (given)`
        : "a box fitted to the training data (its range widened by 1/8 on each side)") +
      ` and Gray-coded: ${sites} binary sites, 2^${sites} states. ` +
      `MLP ${[sites, ...o.hidden, 1].join("→")} (SiLU) read at 0/1 inputs, trained from the same θ₀, data and seed ` +
      `by CD-${o.steps} (chains from the minibatch), PCD-${o.steps} (${o.walkers} persistent chains from uniform ` +
      `draws) and discrete Jarzynski SMC (${o.walkers} walkers from uniform draws, resampling at ESS < ${o.resample}·N, ` +
      `+ ${o.estimatorWalkers} estimator walkers)` +
      (o.methods.includes("exact")
        ? `, and by maximum likelihood with the exact gradient (the model term summed over all 2^${sites} states: ` +
          "the reference the sampling methods estimate)"
        : "") +
      `; ${o.steps} ${o.move === "gwg" ? "Gibbs-with-Gradients" : `DMALA (α = ${o.dmalaStep})`} ` +
      `step(s) per iteration, Adam ${o.lr} (cosine to a tenth), ${o.iters} iterations, minibatch ${o.batch} drawn ` +
      `with replacement from ${o.dataSize} training points (${trainingPoolText(o)}), ${o.heldOut} held-out ` +
      `points, seed ${o.seed}.`,
    "",
    r.exact
      ? `Evaluation: exact, by enumerating the 2^${sites} states: log Z, held-out NLL, KL(data‖model) against ` +
        "the quantised true density (sub-cell quadrature), mode masses and images; MMD² against exact draws."
      : `Evaluation: log Z by annealed SMC from the uniform distribution (${o.logZReplicas} replicas × ` +
        `${o.logZChains} walkers × ${o.logZTemperatures} path points, GWG moves; ± SE over replicas) for every ` +
        "method; Jarzynski's NLL uses its decoupled estimator population's log Z (± Lee–Whiteley SE), the SMC " +
        "one is shown next to it. Mode masses from the weighted SMC walkers (± Lee–Whiteley SE); images " +
        `(histograms of ${o.samplePoints} samples) and MMD² (${o.mmdPoints} samples) from the walkers ` +
        `resampled to equal weights and moved by ${2 * sites} GWG steps at β = 1.`,
    "",
    "NLL = U(x) + log Z in nats per held-out point (± SE: held-out sampling and log Z in quadrature). MMD² " +
      "uses the kernel exp(−Hamming/sites) on the states (± jackknife SE). Held-out − training NLL: the mean " +
      `energy of the held-out points minus that of ${Math.min(o.heldOut, o.dataSize ?? o.iters * o.batch)} ` +
      "training points (log Z cancels; ± SE of the two means in quadrature): how much better the model scores " +
      "the points it was trained on.",
    "",
    "![figure](gray2d.png)",
    "",
  ];
  for (const d of r.datasets) {
    lines.push(`## ${d.name}`, "", d.description + ".", "");
    lines.push(
      `Reference NLLs: uniform distribution ${f(d.uniformNll)}; the quantised true density ` +
        (Number.isFinite(d.dataNll)
          ? `${pm(d.dataNll, d.dataNllSe)} (the best any model can do)`
          : "— (no closed form)") +
        `. Box [${f(d.box.lo)}, ${f(d.box.hi)}]², cell ${d.box.width.toExponential(3)}; ` +
        `${d.heldOutOutside} held-out points outside it.`,
      "",
    );
    const hasMasses = d.centres.length > 0;
    const smcCol = !r.exact;
    lines.push(
      `| method | held-out NLL | log Z (source) |${smcCol ? " NLL with SMC log Z |" : " KL(data‖model) |"} MMD² |${hasMasses ? " max mass error (± that mode's SE) |" : ""} held-out − training NLL | acceptance | train s |`,
      `|---|---|---|---|---|${hasMasses ? "---|" : ""}---|---|---|`,
    );
    for (const m of d.methods) {
      lines.push(
        `| ${LABELS[m.method]} | ${pm(m.nll, m.nllSe)} | ${pm(m.logZ, m.logZSe)} (${m.logZSource}) |` +
          (smcCol ? ` ${pm(m.nllSmc, m.nllSmcSe)} |` : ` ${f(m.kl, 4)} |`) +
          ` ${sci(m.mmd2, m.mmdSe)} |${hasMasses ? ` ${maxMassErrorText(d, m)} |` : ""}` +
          ` ${pm(m.generalisationGap.gap, m.generalisationGap.se)} | ${f(m.acceptance)} | ${f(m.seconds, 1)} |`,
      );
    }
    if (d.paired.length) {
      lines.push(
        "",
        `Paired differences of held-out NLL (same held-out points, ${r.exact ? "exact log Z" : "the SMC log Z for every method"}; ` +
          "± SE of the per-point differences and both log Z SEs in quadrature; negative: the first is better):",
        "",
        ...d.paired.map((q) => `- ${LABELS[q.a]} − ${LABELS[q.b]}: ${pm(q.diff, q.se)}`),
      );
    }
    if (hasMasses) {
      lines.push(
        "",
        `Mode masses (true ${d.weights.map((w) => f(w)).join(" / ")}):`,
        "",
        ...d.methods.map(
          (m) => `- ${LABELS[m.method]}: ${m.masses.map((v, j) => pm(v, m.massSe[j])).join(" / ")}`,
        ),
      );
    }
    const hopLine = modeHopsLine(d);
    if (hopLine) lines.push("", hopLine);
    const j = d.methods.find((m) => m.method === "jarzynski");
    if (j) {
      lines.push(
        "",
        "Jarzynski log Z along training (training walkers: their running estimate, biased low by their feedback " +
          "on θ; estimator: the decoupled population, ± Lee–Whiteley SE" +
          (r.exact ? "; exact: enumeration)" : "; SMC at the end: annealed from uniform)") +
          ":",
        "",
        `| iteration |${r.exact ? " exact |" : ""} training walkers | estimator population |${r.exact ? " estimator − exact (in SE) |" : ""} ESS | resamplings |`,
        `|---|${r.exact ? "---|" : ""}---|---|${r.exact ? "---|" : ""}---|---|`,
      );
      for (const t of j.trace) {
        const z =
          ((t.logZEstimator ?? Number.NaN) - (t.logZExact ?? Number.NaN)) / (t.logZEstimatorSe ?? Number.NaN);
        lines.push(
          `| ${t.iteration} |${r.exact ? ` ${f(t.logZExact)} |` : ""} ${pm(t.logZWalkers, t.logZWalkersSe)} | ` +
            `${pm(t.logZEstimator, t.logZEstimatorSe)} |${r.exact ? ` ${f(z, 2)} |` : ""} ${f(t.ess, 0)} | ${t.resamplings ?? "—"} |`,
        );
      }
      if (j.smc) lines.push("", `SMC from uniform at the end: ${pm(j.smc.logZ, j.smc.se)}.`);
    }
    const warned = d.methods.filter((m) => m.warnings.length > 0);
    if (warned.length) {
      lines.push("", "Warnings (the numbers they concern are unreliable):", "");
      for (const m of warned) for (const w of m.warnings) lines.push(`- ${LABELS[m.method]}: ${w}`);
    }
    lines.push("");
  }
  lines.push("Raw numbers: `results.json`.", "");
  return lines.join("\n");
}

export async function runGray2dCommand(raw: RawGray2dOptions): Promise<void> {
  const o = parseOptions(raw);
  const outDir = reportFolder(raw.out);
  const result = await withProgress(raw, (progress) =>
    runGray2dExperiment(o, (label, done, total) => progress.update(label, done, total)),
  );
  await writeReport(outDir, raw.json, {
    figure: { name: "gray2d", spec: gray2dFigure(result) },
    summary: summary(result, outDir),
    markdown: markdown(result),
    print() {
      console.log(
        `gray2d: ${2 * o.bits} sites (2^${2 * o.bits} states), ${o.iters} iterations, ${o.walkers} walkers, seed ${o.seed}` +
          (result.exact ? ", exact evaluation by enumeration" : ""),
      );
      for (const d of result.datasets) {
        console.log(
          `  ${d.name}: held-out NLL (nats; uniform ${f(d.uniformNll)}, true density ${pm(d.dataNll, d.dataNllSe)})`,
        );
        for (const m of d.methods) {
          const extra = result.exact
            ? `  KL ${f(m.kl, 4)}`
            : m.nllSmc !== undefined
              ? `  (SMC log Z: ${pm(m.nllSmc, m.nllSmcSe)})`
              : "";
          const masses = m.masses.length ? `  max mass error ${maxMassErrorText(d, m)}` : "";
          console.log(`    ${LABELS[m.method].padEnd(10)} ${pm(m.nll, m.nllSe)}${extra}${masses}`);
          for (const w of m.warnings) console.log(`      warning: ${w}`);
        }
        const h = d.methods.find((m) => m.modeHops)?.modeHops;
        if (h)
          console.log(
            `    PCD chains' mode changes per chain and iteration (last ${h.iterations}): ${pm(h.perChainIteration, h.se, 4)}`,
          );
        if (d.paired.length)
          console.log(
            `    paired (same points, ${result.exact ? "exact" : "SMC"} log Z): ` +
              d.paired.map((q) => `${LABELS[q.a]} − ${LABELS[q.b]} ${pm(q.diff, q.se)}`).join("; "),
          );
      }
    },
  });
}

export function gray2dOptions(cmd: Command, defaultOut: string): Command {
  const d = GRAY2D_DEFAULTS;
  return cmd
    .option(
      "--quick",
      `one data set (${GRAY2D_QUICK.datasets?.join(",")}), MLP ${GRAY2D_QUICK.hidden?.join("×")}, ${GRAY2D_QUICK.iters} iterations (seconds)`,
    )
    .option("--datasets <list>", `comma-separated built-in 2-D sets (default ${d.datasets.join(",")})`)
    .option(
      "--methods <list>",
      `comma-separated subset of ${GRAY2D_METHODS.join(",")} (default ${d.methods.join(",")}; exact: maximum likelihood with the exact gradient over every state, --bits ≤ 10 only)`,
    )
    .option(
      "--bits <n>",
      `bits per coordinate, 2–16; ≤ 10 evaluates exactly by enumeration (default ${d.bits})`,
    )
    .option(
      "--box <lo,hi>",
      "quantisation box [lo, hi]² (default: fitted to the training data, its range widened by 1/8 each side)",
    )
    .option("--iters <n>", `training iterations (default ${d.iters})`)
    .option("--walkers <n>", `PCD chains and Jarzynski walkers (default ${d.walkers})`)
    .option(
      "--estimator-walkers <n>",
      `Jarzynski's decoupled estimator population (default ${d.estimatorWalkers})`,
    )
    .option("--batch <n>", `data minibatch, and CD's chains (default ${d.batch})`)
    .option(
      "--data-size <n>",
      "training points drawn from each set (default: iters × batch, so that each is drawn about once and the " +
        "minibatches are as good as fresh data; fewer trains on a fixed sample)",
    )
    .option("--steps <n>", `sampler steps per iteration, every method (default ${d.steps})`)
    .option("--move <name>", `walker move: ${DISCRETE_MOVES.join(" or ")} (default ${d.move})`)
    .option("--dmala-step <a>", `DMALA step α (default ${d.dmalaStep})`)
    .option("--lr <rate>", `Adam learning rate, cosine-decayed to a tenth (default ${d.lr})`)
    .option("--hidden <widths>", `hidden widths of the MLP (default ${d.hidden.join(",")})`)
    .option("--seed <n>", "random seed", String(d.seed))
    .option("--out <dir>", "report folder", defaultOut)
    .option("--json", "print the results as one JSON object on the last line of stdout")
    .option("--no-progress", "do not show a progress bar");
}
