/**
 * `ebm reproduce mmd-flow`: the MMD gradient flow with and without noise injection on a student–teacher
 * network (Arbel, Korba, Salim & Gretton 2019, figure 2; src/experiments/mmd-flow.ts). Writes
 * mmd-flow.png/.svg (validation-loss curves of both arms, log scale), report.md and results.json into the
 * report folder once the run has finished (nothing is written when it fails); progress goes to stderr.
 */
import type { Command } from "commander";
import {
  lineChart,
  MMD_FLOW_ARMS,
  MMD_FLOW_DEFAULTS,
  MMD_FLOW_QUICK,
  type MmdFlowArm,
  type MmdFlowOptions,
  type MmdFlowResult,
  panels,
  runMmdFlowExperiment,
  UNIT_ACTIVATIONS,
  UNIT_OUTPUT_MAPS,
  type UnitActivation,
  type UnitOutputMap,
  validateMmdFlowOptions,
  type VegaLiteSpec,
} from "../../node.ts";
import {
  parseIntegerInRange,
  parseNumber,
  parsePositive,
  parseSeed,
  printable,
  UserError,
} from "../errors.ts";
import { reportFolder, withProgress, writeReport } from "../report.ts";

interface RawMmdFlowOptions {
  quick?: boolean;
  seeds?: string;
  seed?: string;
  particles?: string;
  steps?: string;
  dim?: string;
  stepSize?: string;
  noise?: string;
  initScale?: string;
  activation?: string;
  output?: string;
  out: string;
  json?: boolean;
  progress: boolean;
}

const LABELS: Record<MmdFlowArm, string> = { plain: "no noise", noisy: "with noise" };

function parseOptions(raw: RawMmdFlowOptions): MmdFlowOptions {
  const o: MmdFlowOptions = { ...MMD_FLOW_DEFAULTS, ...(raw.quick ? MMD_FLOW_QUICK : {}) };
  if (raw.seeds !== undefined) o.seeds = parseIntegerInRange("--seeds", raw.seeds, 1, 1000);
  if (raw.seed !== undefined) o.seed = parseSeed("--seed", raw.seed);
  if (raw.particles !== undefined)
    o.particles = parseIntegerInRange("--particles", raw.particles, 1, 100_000);
  if (raw.steps !== undefined) o.steps = parseIntegerInRange("--steps", raw.steps, 1, 10_000_000);
  if (raw.dim !== undefined) o.dim = parseIntegerInRange("--dim", raw.dim, 1, 1000);
  if (raw.stepSize !== undefined) o.stepSize = parsePositive("--step-size", raw.stepSize);
  if (raw.noise !== undefined) {
    o.noise = parseNumber("--noise", raw.noise);
    if (!(o.noise >= 0)) throw new UserError(`--noise must be ≥ 0, got '${printable(raw.noise)}'`);
  }
  if (raw.initScale !== undefined) o.initScale = parsePositive("--init-scale", raw.initScale);
  if (raw.activation !== undefined) {
    if (!(UNIT_ACTIVATIONS as readonly string[]).includes(raw.activation))
      throw new UserError(
        `--activation: expected ${UNIT_ACTIVATIONS.join(" or ")}, got '${printable(raw.activation)}'`,
      );
    o.activation = raw.activation as UnitActivation;
  }
  if (raw.output !== undefined) {
    if (!(UNIT_OUTPUT_MAPS as readonly string[]).includes(raw.output))
      throw new UserError(
        `--output: expected ${UNIT_OUTPUT_MAPS.join(" or ")}, got '${printable(raw.output)}'`,
      );
    o.output = raw.output as UnitOutputMap;
  }
  if (o.seed + o.seeds - 1 > Number.MAX_SAFE_INTEGER)
    throw new UserError(`--seed: seeds ${o.seed}… run past 2^53`);
  try {
    validateMmdFlowOptions(o);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  return o;
}

const sci = (v: number, digits = 2) => (Number.isFinite(v) ? v.toExponential(digits) : "—");
const pmSci = (v: number, se: number) => (Number.isFinite(se) ? `${sci(v)} ± ${sci(se, 1)}` : sci(v));
const fix = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : "—");
const pm = (v: number, se: number, d = 2) =>
  Number.isFinite(se) ? `${fix(v, d)} ± ${fix(se, d)}` : fix(v, d);
const pct = (v: number) => `${Math.round(100 * v)}%`;

function unitText(o: MmdFlowOptions): string {
  const g = o.output === "gaussian" ? "exp(−h²/2)" : "h";
  const s = o.activation === "relu" ? "relu" : "tanh";
  return `ψ(x, u) = G(w·${s}(aᵀx + b)), G(h) = ${g}`;
}

function setupLine(o: MmdFlowOptions): string {
  return (
    `d = ${o.dim}, teacher ${o.teacherUnits} units, student ${o.particles} particles (init scale ${o.initScale}), ` +
    `${o.steps} steps of γ = ${o.stepSize}, β₀ = ${o.noise} halving ${o.noiseHalvings}×, ${o.seeds} seed${o.seeds > 1 ? "s" : ""} from ${o.seed}`
  );
}

/**
 * The figure: both arms' validation loss averaged over seeds, then every seed's curve per arm (one shared
 * y range, and a seed keeps its colour across the two panels). Training-set curves are in results.json.
 */
export function mmdFlowFigure(r: MmdFlowResult): VegaLiteSpec {
  const at = r.seeds[0].runs.plain.at;
  const points = (ys: readonly number[]) => at.map((x, i) => ({ x, y: ys[i] }));
  const mean = lineChart({
    title: `validation loss, mean over ${r.seeds.length} seed${r.seeds.length > 1 ? "s" : ""}`,
    x: { field: "step" },
    y: { field: "loss", title: "½ E (f_student − f_teacher)²", scale: "log" },
    series: MMD_FLOW_ARMS.map((a) => ({ name: LABELS[a], points: points(r.arms[a].meanValidation) })),
    width: 300,
    height: 220,
  });
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of r.seeds)
    for (const a of MMD_FLOW_ARMS)
      for (const v of s.runs[a].validation)
        if (v > 0 && Number.isFinite(v)) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
  const domain: [number, number] | undefined = lo < hi ? [lo / 1.2, hi * 1.2] : undefined;
  const perSeed = (a: MmdFlowArm) =>
    lineChart({
      title: `each seed, ${LABELS[a]}`,
      x: { field: "step" },
      y: { field: "validation loss", scale: "log", ...(domain ? { domain } : {}) },
      series: r.seeds.map((s) => ({ name: `seed ${s.seed}`, points: points(s.runs[a].validation) })),
      width: 260,
      height: 220,
    });
  return panels([mean, perSeed("plain"), perSeed("noisy")], {
    title: "MMD flow on a student–teacher network: without and with noise injection",
  });
}

function summary(r: MmdFlowResult, outDir: string): Record<string, unknown> {
  const run = (x: MmdFlowResult["seeds"][number]["runs"][MmdFlowArm]) => ({
    final: x.final,
    near_origin: x.nearOrigin,
    seconds: x.seconds,
    at: x.at,
    validation: x.validation,
    train: x.train,
    noise: x.noise,
  });
  return {
    experiment: "mmd-flow",
    out: outDir,
    options: r.options,
    arms: Object.fromEntries(
      MMD_FLOW_ARMS.map((a) => [
        a,
        {
          final: r.arms[a].final,
          final_se: r.arms[a].finalSe,
          final_geomean: r.arms[a].finalGeoMean,
          near_origin: r.arms[a].nearOrigin,
          mean_validation: r.arms[a].meanValidation,
          mean_train: r.arms[a].meanTrain,
        },
      ]),
    ),
    log10_ratio: r.log10Ratio,
    log10_ratio_se: r.log10RatioSe,
    noisy_wins: r.noisyWins,
    seeds: r.seeds.map((s) => ({
      seed: s.seed,
      initial: s.initial,
      constant_loss: s.constantLoss,
      log10_ratio: s.log10Ratio,
      runs: Object.fromEntries(MMD_FLOW_ARMS.map((a) => [a, run(s.runs[a])])),
    })),
    seconds: r.seconds,
  };
}

function markdown(r: MmdFlowResult): string {
  const o = r.options;
  const p = o.dim + 2;
  const lines = [
    "# mmd-flow: MMD gradient flow with noise injection on a student–teacher network",
    "",
    "Arbel, Korba, Salim & Gretton, _Maximum Mean Discrepancy Gradient Flow_ (NeurIPS 2019), figure 2, scaled " +
      "to a CPU. A network is a measure over its hidden units u = (a, b, w) ∈ ℝ^" +
      `${p}, ${unitText(o)}, f_μ(x) = mean over units of ψ(x, u). ` +
      `Inputs x uniform on the unit sphere of ℝ^${o.dim}; a teacher of ${o.teacherUnits} units with N(0, ${o.teacherScale}²) ` +
      `coordinates; a student of ${o.particles} particles with N(0, ${o.initScale}²) coordinates, i.e. started near ` +
      "the origin, where ψ is flat (∇ψ vanishes there" +
      (o.output === "gaussian" ? " to third order)" : ")") +
      ". The loss ½E_x[(f_student − f_teacher)²] is ½·MMD² with the kernel k(u, u') = E_x[ψ(x,u)ψ(x,u')], and " +
      "the student follows its flow u ← u − γ·∇f(u + βₙε), f the witness of the current particles, ε ~ N(0, I), " +
      `estimated on minibatches of ${o.batch} of ${o.trainSize} training inputs (drawn with replacement).`,
    "",
    `${o.steps} steps of γ = ${o.stepSize}; the noisy arm's βₙ = ${o.noise}·2^(−n/${fix(o.steps / o.noiseHalvings, 0)}) ` +
      `(${o.noiseHalvings} halvings over the run); the plain arm has βₙ = 0. Both arms share each seed's teacher, ` +
      `data, initial particles and minibatches; ${o.seeds} seed${o.seeds > 1 ? "s" : ""} (${o.seed}…${o.seed + o.seeds - 1}), ` +
      `validation loss on ${o.validationSize} held-out inputs.`,
    "",
    "![validation-loss curves](mmd-flow.png)",
    "",
    "## Final validation loss",
    "",
    "| arm | mean ± SE over seeds | geometric mean | units still near the origin |",
    "|---|---|---|---|",
    ...MMD_FLOW_ARMS.map(
      (a) =>
        `| ${LABELS[a]} | ${pmSci(r.arms[a].final, r.arms[a].finalSe)} | ${sci(r.arms[a].finalGeoMean)} | ${pct(r.arms[a].nearOrigin)} |`,
    ),
    "",
    `Paired by seed, log₁₀(no noise / with noise) = ${pm(r.log10Ratio, r.log10RatioSe)}; noise injection ended ` +
      `lower in ${r.noisyWins} of ${r.seeds.length} seeds. "Near the origin": ‖u‖ < 2·${o.initScale}·√${p}, twice ` +
      "a particle's typical initial norm — with a small initial scale, units the flow never moved off the flat " +
      "region around the origin.",
    "",
    "## Per seed",
    "",
    "| seed | initial | best constant | no noise | with noise | log₁₀ ratio | near origin (no noise / noise) |",
    "|---|---|---|---|---|---|---|",
    ...r.seeds.map(
      (s) =>
        `| ${s.seed} | ${sci(s.initial)} | ${sci(s.constantLoss)} | ${sci(s.runs.plain.final)} | ` +
        `${sci(s.runs.noisy.final)} | ${fix(s.log10Ratio)} | ${pct(s.runs.plain.nearOrigin)} / ${pct(s.runs.noisy.nearOrigin)} |`,
    ),
    "",
    '"Best constant" is ½·Var of the teacher\'s output: the loss of predicting its mean.',
    "",
    `Run time ${fix(r.seconds, 1)} s. Raw numbers (every curve): \`results.json\`.`,
    "",
  ];
  return lines.join("\n");
}

export async function runMmdFlowCommand(raw: RawMmdFlowOptions): Promise<void> {
  const o = parseOptions(raw);
  const outDir = reportFolder(raw.out);
  const result = await withProgress(raw, (progress) =>
    runMmdFlowExperiment(o, (label, done, total) => progress.update(label, done, total)),
  );
  await writeReport(outDir, raw.json, {
    figure: { name: "mmd-flow", spec: mmdFlowFigure(result) },
    summary: summary(result, outDir),
    markdown: markdown(result),
    print() {
      console.log(`mmd-flow: ${setupLine(o)}`);
      console.log(`  final validation loss (mean ± SE over ${o.seeds} seed${o.seeds > 1 ? "s" : ""}):`);
      for (const a of MMD_FLOW_ARMS)
        console.log(
          `    ${LABELS[a].padEnd(11)} ${pmSci(result.arms[a].final, result.arms[a].finalSe)}  ` +
            `(geometric mean ${sci(result.arms[a].finalGeoMean)}; ${pct(result.arms[a].nearOrigin)} of units still near the origin)`,
        );
      console.log(
        `  paired log10(no noise / with noise) ${pm(result.log10Ratio, result.log10RatioSe)}; ` +
          `noise lower in ${result.noisyWins} of ${o.seeds} seeds`,
      );
    },
  });
}

export function mmdFlowOptions(cmd: Command, defaultOut: string): Command {
  const d = MMD_FLOW_DEFAULTS;
  const q = MMD_FLOW_QUICK;
  return cmd
    .option(
      "--quick",
      `${q.particles} particles, ${q.steps} steps, ${q.seeds} seeds, smaller data sets (seconds)`,
    )
    .option("--seeds <n>", `number of seeds, each its own teacher and data (default ${d.seeds})`)
    .option("--seed <n>", `first seed (default ${d.seed})`)
    .option("--particles <n>", `student particles (hidden units) N (default ${d.particles})`)
    .option("--steps <n>", `flow steps (default ${d.steps})`)
    .option("--dim <n>", `input dimension d (default ${d.dim})`)
    .option("--step-size <γ>", `flow step size γ (default ${d.stepSize})`)
    .option(
      "--noise <β0>",
      `initial noise level of the noisy arm, halving ${d.noiseHalvings} times over the run (default ${d.noise})`,
    )
    .option("--init-scale <s>", `std of the student's initial coordinates (default ${d.initScale})`)
    .option(
      "--activation <name>",
      `hidden activation σ: ${UNIT_ACTIVATIONS.join(" or ")} (default ${d.activation})`,
    )
    .option(
      "--output <name>",
      `output map G: linear (G(h) = h) or gaussian (exp(−h²/2)) (default ${d.output})`,
    )
    .option("--out <dir>", "report folder", defaultOut)
    .option("--json", "print the results as one JSON object on the last line of stdout")
    .option("--no-progress", "do not show progress");
}
