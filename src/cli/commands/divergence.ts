/**
 * `ebm divergence --p FILE --q FILE --kind kl|rkl|js|chi2|hellinger|tv|kale [--critic rkhs|mlp] [--seed N]
 * [--json]`: a divergence between the distributions behind two samples (rows of a .csv with a header, or
 * of a .npy), estimated by the library's `estimateDivergence` (src/divergences/estimate.ts): a critic is
 * fitted on a random half of each sample and the bound (an f-divergence's variational lower bound, or
 * KALE) is evaluated on the other half, with a CLT standard error over the held-out rows.
 *
 * Output: one human line (the estimate ± SE in nats, what it is, the critic, how the fit stopped, how the
 * SE was computed); with --json, one JSON object as the last stdout line (kind, estimate, stderr, units,
 * method, critic, solver, sample sizes, files, seed). Bad input — a missing or unreadable file, samples
 * with different column counts, too few rows, an unknown kind or critic, a malformed option — is refused
 * with one line naming the option or file (exit 2) before any fitting.
 */
import type { Command } from "commander";
import {
  DataFileError,
  type DataTable,
  DIVERGENCE_KINDS,
  type DivergenceEstimate,
  type DivergenceOptions,
  estimateDivergence,
  SampleSizeError,
  isDivergenceKind,
  keyFromSeed,
  loadDataFile,
} from "../../node.ts";
import {
  parseInteger,
  parseLayerWidths,
  parseNumber,
  parsePositive,
  parseSeed,
  printable,
  UserError,
} from "../errors.ts";

interface RawDivergenceOptions {
  p?: string;
  q?: string;
  kind?: string;
  critic?: string;
  seed?: string;
  json?: boolean;
  lambda?: string;
  bandwidth?: string;
  landmarks?: string;
  hidden?: string;
  steps?: string;
  lr?: string;
  trainFraction?: string;
}

function readSample(option: "--p" | "--q", path: string | undefined): DataTable {
  if (path === undefined) throw new UserError(`${option} FILE (.csv with a header row, or .npy) is required`);
  let data: DataTable;
  try {
    data = loadDataFile(path);
  } catch (e) {
    if (e instanceof DataFileError) throw new UserError(`${option} ${e.message}`);
    throw e;
  }
  if (data.n < 4)
    throw new UserError(
      `${option} ${printable(path)}: ${data.n} rows; at least 4 are needed (2 to fit, 2 to evaluate)`,
    );
  return data;
}

/** The library options from the command line (every check that can fail before fitting). */
function divergenceOptions(raw: RawDivergenceOptions, isKale: boolean): DivergenceOptions {
  const critic = raw.critic ?? "rkhs";
  if (critic !== "rkhs" && critic !== "mlp")
    throw new UserError(`--critic must be rkhs or mlp, got '${printable(raw.critic ?? "")}'`);
  const only = (option: string, value: string | undefined, type: string) => {
    if (value !== undefined && critic !== type)
      throw new UserError(`${option} applies to --critic ${type} only (this run uses --critic ${critic})`);
  };
  only("--bandwidth", raw.bandwidth, "rkhs");
  only("--landmarks", raw.landmarks, "rkhs");
  only("--hidden", raw.hidden, "mlp");
  only("--steps", raw.steps, "mlp");
  only("--lr", raw.lr, "mlp");
  const trainFraction =
    raw.trainFraction === undefined ? undefined : parseNumber("--train-fraction", raw.trainFraction);
  if (trainFraction !== undefined && !(trainFraction > 0 && trainFraction < 1))
    throw new UserError(`--train-fraction must be between 0 and 1 (exclusive), got '${raw.trainFraction}'`);
  const base = trainFraction === undefined ? {} : { trainFraction };
  if (critic === "rkhs") {
    let lambda: number | "auto" | undefined;
    if (raw.lambda === "auto") {
      if (isKale)
        throw new UserError("--lambda auto is for f-divergences: KALE's λ is part of its definition");
      lambda = "auto";
    } else if (raw.lambda !== undefined) lambda = parsePositive("--lambda", raw.lambda);
    let bandwidth: number | "auto" | "median" | undefined;
    if (raw.bandwidth === "auto" || raw.bandwidth === "median") {
      if (raw.bandwidth === "auto" && isKale)
        throw new UserError("--bandwidth auto is for f-divergences: KALE's kernel is part of its definition");
      bandwidth = raw.bandwidth;
    } else if (raw.bandwidth !== undefined) bandwidth = parsePositive("--bandwidth", raw.bandwidth);
    const landmarks = raw.landmarks === undefined ? undefined : parseInteger("--landmarks", raw.landmarks);
    if (landmarks !== undefined && landmarks > 4096)
      throw new UserError(`--landmarks must be at most 4096, got '${raw.landmarks}'`);
    return {
      ...base,
      critic: {
        type: "rkhs",
        ...(lambda === undefined ? {} : { lambda }),
        ...(bandwidth === undefined ? {} : { bandwidth }),
        ...(landmarks === undefined ? {} : { landmarks }),
      },
    };
  }
  let weightPenalty: number | undefined;
  if (raw.lambda !== undefined) {
    weightPenalty = parseNumber("--lambda", raw.lambda);
    if (weightPenalty < 0) throw new UserError(`--lambda must be ≥ 0 for --critic mlp, got '${raw.lambda}'`);
  }
  let hidden: number[] | undefined;
  if (raw.hidden !== undefined) {
    hidden = parseLayerWidths("--hidden", raw.hidden);
  }
  const steps = raw.steps === undefined ? undefined : parseInteger("--steps", raw.steps);
  const lr = raw.lr === undefined ? undefined : parsePositive("--lr", raw.lr, 1);
  return {
    ...base,
    critic: {
      type: "mlp",
      ...(weightPenalty === undefined ? {} : { weightPenalty }),
      ...(hidden === undefined ? {} : { hidden }),
      ...(steps === undefined ? {} : { steps }),
      ...(lr === undefined ? {} : { lr }),
    },
  };
}

function fmt(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : x.toFixed(digits);
}

/** The human line: estimate ± SE, what it is, the critic, the fit's stop, the SE's method. */
function humanLine(r: DivergenceEstimate, lambdaChosen: boolean, bandwidthChosen: boolean): string {
  const what =
    r.kind === "kale"
      ? `KALE with penalty ${fmt(r.penalty ?? 0)} (below KL(P‖Q)), on held-out rows`
      : "held-out variational lower bound E_P g(v) − E_Q φ*(g(v))";
  let critic: string;
  if (r.critic.type === "rkhs") {
    const chosen = lambdaChosen || bandwidthChosen ? " (chosen on the training split)" : "";
    critic =
      `RKHS critic: Gaussian kernel σ = ${fmt(r.critic.bandwidth, 3)} (standardised units), ${r.critic.landmarks} landmarks, ` +
      `λ = ${r.critic.lambda.toPrecision(2)}${chosen}`;
  } else
    critic =
      `MLP critic ${r.critic.hidden.join("×")} (${r.critic.activation}), ${r.critic.steps} Adam steps, ` +
      `Lipschitz penalty λ = ${r.critic.weightPenalty}`;
  let fit: string;
  if (r.solver.method === "newton") {
    const gap = r.solver.gapBound === null ? "" : `, gap ≤ ${r.solver.gapBound.toExponential(1)}`;
    fit = `Newton ${r.solver.converged ? "converged" : "stopped"} after ${r.solver.iterations} iterations at ‖∇J‖ = ${r.solver.gradNorm.toExponential(1)}${gap}`;
  } else
    fit =
      r.solver.keptStep === undefined
        ? `objective ${fmt(r.solver.objective)} after ${r.solver.steps} steps`
        : `kept step ${r.solver.keptStep} of ${r.solver.steps} (early stopping)`;
  return `${r.label} = ${fmt(r.estimate)} ± ${fmt(r.stderr)} nats — ${what}; ${critic}; ${fit}; SE: ${r.stderrMethod}`;
}

export async function runDivergenceCommand(raw: RawDivergenceOptions): Promise<void> {
  if (raw.kind === undefined)
    throw new UserError(`--kind is required: one of ${DIVERGENCE_KINDS.join(", ")}`);
  if (!isDivergenceKind(raw.kind))
    throw new UserError(`--kind must be one of ${DIVERGENCE_KINDS.join(", ")}, got '${printable(raw.kind)}'`);
  const kind = raw.kind;
  const seed = raw.seed === undefined ? 0 : parseSeed("--seed", raw.seed);
  const options = divergenceOptions(raw, kind === "kale");
  const p = readSample("--p", raw.p);
  const q = readSample("--q", raw.q);
  if (p.dim !== q.dim)
    throw new UserError(
      `--q ${printable(raw.q!)}: ${q.dim} columns, but --p ${printable(raw.p!)} has ${p.dim}: the samples must have the same columns`,
    );
  let r: Awaited<ReturnType<typeof estimateDivergence>>;
  try {
    r = await estimateDivergence(kind, p, q, keyFromSeed(seed), options);
  } catch (e) {
    if (e instanceof SampleSizeError)
      throw new UserError(`--p/--q (${p.n} and ${q.n} rows), --train-fraction: ${e.message}`);
    throw e;
  }
  const critic = options.critic!;
  const lambdaChosen =
    critic.type === "rkhs" && (critic.lambda ?? (kind === "kale" ? 0.1 : "auto")) === "auto";
  const bandwidthChosen =
    critic.type === "rkhs" && (critic.bandwidth ?? (kind === "kale" ? "median" : "auto")) === "auto";
  console.log(humanLine(r, lambdaChosen, bandwidthChosen));
  if (raw.json)
    console.log(
      JSON.stringify({
        ...r,
        p: { file: raw.p, n: p.n, dim: p.dim },
        q: { file: raw.q, n: q.n, dim: q.dim },
        seed,
      }),
    );
}

export function divergenceCommand(cmd: Command): Command {
  return cmd
    .option("--p <file>", "sample of P: rows of a .csv (header row first) or a .npy (n × d)")
    .option("--q <file>", "sample of Q: the same columns as --p")
    .option(
      "--kind <name>",
      "kl = KL(P‖Q), rkl = KL(Q‖P), js = Jensen–Shannon (≤ log 2), chi2 = Pearson χ²(P‖Q), hellinger = ∫(√p − √q)² (≤ 2), tv = total variation (≤ 1), kale = KALE(P‖Q)",
    )
    .option("--critic <type>", "rkhs (Gaussian kernel, certified Newton fit; default) or mlp (neural, Adam)")
    .option("--seed <n>", "seed of the split, the landmarks or the network's initialisation (default 0)")
    .option(
      "--lambda <x>",
      "rkhs: penalty λ on ‖f‖²_H (f-divergences: default 'auto', chosen on the training split; kale: default 0.1); " +
        "mlp: Lipschitz penalty on the weights (default 0; kale: 0.01)",
    )
    .option(
      "--bandwidth <x>",
      "rkhs: kernel bandwidth in standardised units, 'median' or 'auto' (default: auto for f-divergences, median for kale)",
    )
    .option("--landmarks <n>", "rkhs: kernel centres drawn from the training rows (default 256)")
    .option("--hidden <widths>", "mlp: hidden layer widths, comma-separated (default 64,64)")
    .option("--steps <n>", "mlp: Adam steps (default 1000)")
    .option("--lr <x>", "mlp: initial learning rate (default 0.003, cosine decay to a tenth)")
    .option(
      "--train-fraction <f>",
      "share of each sample used to fit the critic; the rest evaluates it (default 0.5)",
    )
    .option("--json", "also print one JSON object on the last line of stdout")
    .action(runDivergenceCommand);
}
