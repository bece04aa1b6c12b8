/**
 * `ebm sample`: draws from a target described in a JSON/YAML file (`--target`), or from a trained model's
 * ρ_θ = e^{−U_θ}/Z (`--model DIR`, a checkpoint of `ebm train`, with the continuous kernels), with any of
 * the library's kernels, reports per-coordinate diagnostics (mean, sd, bulk/tail ESS, rank-normalized
 * split R-hat, MCSE), acceptance and divergences, and optionally writes the draws to .csv or .npy.
 *
 * Nothing is wrong in silence: every problem the diagnostics show (too few draws for them, NaN or constant
 * coordinates, R-hat > 1.01, bulk or tail ESS < 100 per chain, divergences) is a warning naming the
 * coordinates, printed and carried in --json's `warnings`. Everything that bounds the work is checked
 * before it starts: option ranges, the --out destination, the target file's size and kind (see
 * targets/load.ts), and an estimate of the memory the run needs.
 *
 * `--latent` samples a generalized EBM's checkpoint through its latent posterior instead (./sample-latent.ts).
 */
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import {
  bitsToSpins,
  CONTINUOUS_SAMPLERS,
  type ContinuousSamplerName,
  checkOutputFile,
  DENSE_METRIC_MAX_DIM,
  ensureDir,
  DISCRETE_SAMPLERS,
  type DiscreteSamplerName,
  type DiscreteTarget,
  diagnosticWarnings,
  type Energy,
  IsingEnergy,
  foldIn,
  keyFromSeed,
  type LoadedTarget,
  type LoadOptions,
  type ModelBase,
  loadTarget,
  OutputError,
  type QuantitySummary,
  Rbm,
  runContinuous,
  runDiscrete,
  Stream,
  summarize,
  TargetError,
  writeSamples,
} from "../../node.ts";
import { parseIntegerInRange, parsePositive, parseSeed, printable, UserError } from "../errors.ts";
import { loadTrainedModel } from "../model.ts";
import { progressBar } from "../progress.ts";
import { describeModel } from "./logz.ts";
import { runLatentSample } from "./sample-latent.ts";

interface SampleOptions {
  target?: string;
  model?: string;
  sampler: string;
  chains: string;
  warmup: string;
  draws: string;
  step?: string;
  beta: string;
  seed: string;
  thin: string;
  leapfrogSteps: string;
  metric: string;
  friction: string;
  out?: string;
  json?: boolean;
  progress: boolean;
  maxFileMb: string;
  maxWeightsMb: string;
  maxMemoryGb: string;
  allowOutsidePaths?: boolean;
  latent?: boolean;
  steps?: string;
  init?: string;
}

const SAMPLERS = [...CONTINUOUS_SAMPLERS, ...DISCRETE_SAMPLERS] as readonly string[];
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** What is sampled: a target file's distribution, or a trained model's (continuous). */
type SampleTarget = { kind: "continuous"; energy: Energy; description: string } | DiscreteTarget;

/** A warning of the run, as printed and as carried in --json. */
interface Warning {
  code: string;
  message: string;
}

function fmt(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toFixed(digits);
}

function gib(bytes: number): string {
  const g = bytes / GiB;
  return g >= 1e4 ? g.toExponential(2) : g >= 10 || Number.isInteger(g) ? g.toFixed(0) : g.toPrecision(2);
}

/** JSON text whose strings are terminal-safe: C1 controls, line separators and bidi overrides escaped. */
function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * Per-chain float64 vectors of length dim a kernel keeps (position, gradient, momentum, proposal, …) and
 * the kernel's shared scratch vectors (NUTS keeps two per tree level, ten levels): generous bounds.
 */
const STATE_VECTORS_PER_CHAIN = 16;
const SCRATCH_VECTORS = 128;
/** Float64 working arrays of one coordinate's diagnostics (copies, split chains, sorts, ranks, FFT). */
const SUMMARY_ARRAYS = 12;
/** Bytes per warm-up iteration of the adaptation traces (step, acceptance, divergence). */
const WARMUP_TRACE_BYTES = 24;
/** The CSV/npy writers hold at most this much output in memory before streaming (io/samples.ts). */
const WRITER_BYTES = 64 * MiB;

interface MemoryEstimate {
  total: number;
  parts: { what: string; bytes: number }[];
}

/**
 * The memory a run will allocate, estimated before anything is: the draws (chains × draws × dim values),
 * chain state and kernel scratch, the dense metric, warm-up traces, the diagnostics' working arrays, the
 * output writer's buffer and the target's parameters. Not included: the process itself (~100 MiB).
 */
function estimateMemory(o: {
  target: SampleTarget;
  dim: number;
  chains: number;
  draws: number;
  warmup: number;
  metric: string;
  out?: string;
}): MemoryEstimate {
  const { target, dim, chains, draws, warmup } = o;
  const continuous = target.kind === "continuous";
  // Discrete draws are bytes; an Ising run also keeps a −1/1 copy of them.
  const valueBytes = continuous ? 8 : target.spec.type === "ising" ? 2 : 1;
  const dense = continuous && (o.metric === "dense" || (o.metric === "auto" && dim <= DENSE_METRIC_MAX_DIM));
  let targetBytes = 0;
  if (target.kind === "discrete") {
    const sp = target.spec;
    // Float64 here plus float32 and sparse copies in the energies; per-chain unit activations for an RBM.
    targetBytes =
      sp.type === "ising"
        ? 24 * sp.n * sp.n
        : 12 * (sp.weights.length + sp.visible + sp.hidden) + 8 * 8 * chains * (sp.visible + sp.hidden);
  }
  const parts = [
    {
      what: `the draws: --chains ${chains} × --draws ${draws} × dim ${dim} (the target's) × ${valueBytes} byte${valueBytes > 1 ? "s" : ""}`,
      bytes: chains * draws * dim * valueBytes,
    },
    {
      what: `chain state: --chains ${chains} × dim ${dim} × ${STATE_VECTORS_PER_CHAIN} vectors × 8 bytes`,
      bytes: (chains * STATE_VECTORS_PER_CHAIN + SCRATCH_VECTORS) * dim * 8,
    },
    { what: `the dense metric: dim ${dim}² × 6 matrices × 8 bytes`, bytes: dense ? 48 * dim * dim : 0 },
    {
      what: `warm-up traces: --warmup ${warmup} × ${WARMUP_TRACE_BYTES} bytes`,
      bytes: warmup * WARMUP_TRACE_BYTES,
    },
    {
      what: `diagnostics: --chains ${chains} × --draws ${draws} × ${SUMMARY_ARRAYS} arrays × 8 bytes`,
      bytes: chains * draws * SUMMARY_ARRAYS * 8,
    },
    { what: "the output writer", bytes: o.out ? Math.min(WRITER_BYTES, chains * draws * dim * 24) * 2 : 0 },
    { what: "the target's parameters", bytes: targetBytes },
  ];
  return { total: parts.reduce((a, p) => a + p.bytes, 0), parts };
}

/** Loads the target; a limit that refused it is named with the option that raises it. */
function loadTargetOrExplain(path: string, options: LoadOptions): LoadedTarget {
  try {
    return loadTarget(path, options);
  } catch (err) {
    if (!(err instanceof TargetError)) throw err;
    const hint =
      err.limit === "file-size"
        ? "; raise the limit with --max-file-mb"
        : err.limit === "weights-size"
          ? "; raise the limit with --max-weights-mb"
          : err.limit === "outside-path"
            ? "; allow it with --allow-outside-paths"
            : "";
    throw new UserError(`${err.message}${hint}`);
  }
}

export async function runSampleCommand(raw: SampleOptions, cmd?: Command): Promise<void> {
  const given = (name: string) => {
    const src = cmd?.getOptionValueSource(name);
    return src !== undefined && src !== "default";
  };
  if (raw.latent) return runLatentSample(raw, given);
  for (const [v, flag] of [
    [raw.steps, "--steps"],
    [raw.init, "--init"],
  ] as const)
    if (v !== undefined)
      throw new UserError(
        `${flag} applies to --latent (a GEBM's draws); here chains run --warmup, then --draws`,
      );
  if (raw.target !== undefined && raw.model !== undefined)
    throw new UserError("--target and --model exclude each other: give one of them");
  if (!raw.target && !raw.model)
    throw new UserError(
      "--target FILE (a JSON or YAML target description) or --model DIR (a checkpoint of `ebm train`) is required",
    );
  if (!SAMPLERS.includes(raw.sampler))
    throw new UserError(`--sampler must be one of ${SAMPLERS.join(", ")}, got '${raw.sampler}'`);
  // Counts only need to be integers here: what they cost is bounded by the memory estimate below,
  // which names them.
  const chains = parseIntegerInRange("--chains", raw.chains, 1, Number.MAX_SAFE_INTEGER);
  const warmup = parseIntegerInRange("--warmup", raw.warmup, 0, Number.MAX_SAFE_INTEGER);
  const draws = parseIntegerInRange("--draws", raw.draws, 1, Number.MAX_SAFE_INTEGER);
  const thin = parseIntegerInRange("--thin", raw.thin, 1, 1_000_000);
  const beta = parsePositive("--beta", raw.beta);
  const step = raw.step === undefined ? undefined : parsePositive("--step", raw.step);
  const seed = parseSeed("--seed", raw.seed);
  const leapfrogSteps = parseIntegerInRange("--leapfrog-steps", raw.leapfrogSteps, 1, 100_000);
  const friction = parsePositive("--friction", raw.friction);
  if (!["auto", "diagonal", "dense"].includes(raw.metric))
    throw new UserError(`--metric must be auto, diagonal or dense, got '${raw.metric}'`);
  const metric = raw.metric as "auto" | "diagonal" | "dense";
  const maxMemory = parsePositive("--max-memory-gb", raw.maxMemoryGb, 1024) * GiB;
  const loadOptions: LoadOptions = {
    maxFileBytes: Math.max(1, Math.floor(parsePositive("--max-file-mb", raw.maxFileMb, 65536) * MiB)),
    maxWeightsBytes: Math.max(
      1,
      Math.floor(parsePositive("--max-weights-mb", raw.maxWeightsMb, 65536) * MiB),
    ),
    allowOutsidePaths: raw.allowOutsidePaths === true,
  };
  if (raw.out !== undefined) {
    if (!/\.(csv|npy)$/i.test(raw.out))
      throw new UserError(`--out must end in .csv or .npy, got '${raw.out}'`);
    try {
      checkOutputFile(raw.out);
    } catch (err) {
      if (err instanceof OutputError) throw new UserError(`--out: ${err.message}`);
      throw err;
    }
  }

  const isDiscreteSampler = (DISCRETE_SAMPLERS as readonly string[]).includes(raw.sampler);
  if (raw.model !== undefined && isDiscreteSampler)
    throw new UserError(
      `--sampler ${raw.sampler} is for discrete targets; a trained model (--model) is continuous: use ${CONTINUOUS_SAMPLERS.join(", ")}`,
    );
  let target: SampleTarget;
  let base: ModelBase | undefined;
  if (raw.model !== undefined) {
    const tm = await loadTrainedModel(raw.model);
    target = { kind: "continuous", energy: tm.energy, description: describeModel(tm) };
    base = tm.base;
  } else target = loadTargetOrExplain(raw.target as string, loadOptions);
  const shown = printable(raw.target ?? raw.model ?? "");
  if (target.kind === "continuous" && isDiscreteSampler)
    throw new UserError(`--sampler ${raw.sampler} is for discrete targets; ${shown} is continuous`);
  if (target.kind === "discrete" && !isDiscreteSampler)
    throw new UserError(
      `--sampler ${raw.sampler} is for continuous targets; ${shown} is discrete (${target.spec.type})`,
    );
  if (raw.sampler === "ula" && step === undefined)
    throw new UserError("--step is required with --sampler ula (ULA has no acceptance rate to adapt to)");
  if (raw.sampler === "block-gibbs" && target.kind === "discrete" && target.spec.type !== "rbm")
    throw new UserError("--sampler block-gibbs needs an rbm target");

  const targetDim =
    target.kind === "continuous"
      ? target.energy.dim
      : target.spec.type === "ising"
        ? target.spec.n
        : target.spec.visible;
  const memory = estimateMemory({ target, dim: targetDim, chains, draws, warmup, metric, out: raw.out });
  if (memory.total > maxMemory) {
    const largest = memory.parts.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    const drawsPart = memory.parts[0];
    throw new UserError(
      `the run would need about ${gib(memory.total)} GiB of memory, over the ${gib(maxMemory)} GiB limit of --max-memory-gb: ` +
        `${drawsPart.what} = ${gib(drawsPart.bytes)} GiB` +
        (largest === drawsPart ? "" : `; largest part, ${largest.what} = ${gib(largest.bytes)} GiB`) +
        "; lower --draws or --chains (or use a target of smaller dim), or raise --max-memory-gb",
    );
  }

  if (raw.out !== undefined) {
    // The folders of --out are created now, after every other check and before the run: a pseudo file
    // system such as /proc refuses here, in a second, not after the whole run.
    try {
      ensureDir(dirname(resolve(raw.out)));
    } catch (err) {
      if (err instanceof OutputError) throw new UserError(`--out: ${err.message}`);
      throw err;
    }
  }

  const progress = progressBar(raw.progress && !raw.json);
  const onProgress = (phase: string, done: number, total: number) => progress.update(phase, done, total);
  const key = keyFromSeed(seed);
  const t0 = performance.now();
  let values: ArrayLike<number>;
  let dim: number;
  let kind: "real" | "bits" | "spins" = "real";
  let acceptance: number;
  let divergences: number;
  let warmupDivergences: number;
  let finalStep: number | undefined;
  try {
    if (target.kind === "continuous") {
      // A trained model's chains start uniformly within one base standard deviation of the base mean (the
      // model lives where its training data did, which need not be near the origin).
      let init: Float64Array | undefined;
      if (base) {
        const b = base;
        const d = target.energy.dim;
        init = new Stream(foldIn(key, 0x696e6974)).fillUniform(new Float64Array(chains * d));
        for (let i = 0; i < init.length; i++) init[i] = b.mean[i % d] + b.std * (2 * init[i] - 1);
      }
      const r = runContinuous(target.energy, {
        init,
        sampler: raw.sampler as ContinuousSamplerName,
        chains,
        warmup,
        draws,
        thin,
        step,
        beta,
        leapfrogSteps,
        metric,
        friction,
        key,
        onProgress,
      });
      values = r.draws;
      dim = r.dim;
      ({ acceptance, divergences, warmupDivergences } = r);
      finalStep = r.step;
    } else {
      const spec = target.spec;
      const energy =
        spec.type === "ising"
          ? new IsingEnergy(spec.couplings, spec.field)
          : new Rbm(spec.weights, spec.visibleBias, spec.hiddenBias);
      const r = runDiscrete(energy, {
        sampler: raw.sampler as DiscreteSamplerName,
        chains,
        warmup,
        draws,
        thin,
        beta: spec.type === "ising" ? beta * spec.beta : beta,
        step,
        key,
        onProgress,
      });
      dim = r.sites;
      kind = spec.type === "ising" ? "spins" : "bits";
      values = kind === "spins" ? bitsToSpins(r.draws) : r.draws;
      ({ acceptance, divergences, warmupDivergences } = r);
      finalStep = raw.sampler === "dmala" ? (step ?? 0.2) : undefined;
    }
  } catch (err) {
    if (err instanceof RangeError) throw new UserError(err.message);
    throw err;
  } finally {
    progress.stop();
  }
  const seconds = (performance.now() - t0) / 1000;
  const summaries: QuantitySummary[] = summarize(values, chains, dim);
  const warnings: Warning[] = diagnosticWarnings(summaries, chains, draws).map(({ code, message }) => ({
    code,
    message,
  }));
  if (divergences > 0)
    warnings.push({
      code: "divergences",
      message: `${divergences} divergent transitions after warm-up: those steps were rejected, and the draws may miss regions of high curvature`,
    });
  if (raw.out) {
    try {
      writeSamples(raw.out, { data: values, rows: draws * chains, dim, kind, chains });
    } catch (err) {
      if (err instanceof OutputError) throw new UserError(`--out: ${err.message}`);
      throw err;
    }
  }

  const round = (v: number) => (Number.isFinite(v) ? Number(v.toPrecision(6)) : null);
  const result = {
    target: target.description,
    sampler: raw.sampler,
    seed,
    chains,
    warmup,
    draws,
    thin,
    beta,
    dims: summaries.map((s, j) => ({
      name: `x${j}`,
      mean: round(s.mean),
      sd: round(s.sd),
      ess_bulk: round(s.ess_bulk),
      ess_tail: round(s.ess_tail),
      rhat: round(s.rhat),
      mcse: round(s.mcse_mean),
    })),
    acceptance: round(acceptance),
    divergences,
    warmup_divergences: warmupDivergences,
    step: finalStep === undefined ? null : round(finalStep),
    wall_seconds: round(seconds),
    out: raw.out ?? null,
    warnings,
  };
  if (raw.json) {
    console.log(safeJson(result));
    return;
  }
  console.log(printable(target.description, 1000));
  console.log(
    `${raw.sampler}: ${chains} chains × ${draws} draws (warm-up ${warmup}, thin ${thin}, β = ${beta}, seed ${seed}) in ${seconds.toFixed(2)} s`,
  );
  const show = Math.min(dim, 20);
  console.log(
    `  ${"".padEnd(6)} ${"mean".padStart(9)} ${"sd".padStart(9)} ${"mcse".padStart(9)} ${"ess_bulk".padStart(9)} ${"ess_tail".padStart(9)} ${"rhat".padStart(7)}`,
  );
  for (let j = 0; j < show; j++) {
    const s = summaries[j];
    console.log(
      `  ${`x${j}`.padEnd(6)} ${fmt(s.mean).padStart(9)} ${fmt(s.sd).padStart(9)} ${fmt(s.mcse_mean).padStart(9)} ${fmt(s.ess_bulk, 0).padStart(9)} ${fmt(s.ess_tail, 0).padStart(9)} ${fmt(s.rhat).padStart(7)}`,
    );
  }
  if (dim > show) console.log(`  … ${dim - show} more coordinates (see --json)`);
  const extras = [
    Number.isFinite(acceptance) ? `acceptance ${acceptance.toFixed(3)}` : "",
    finalStep === undefined ? "" : `step ${fmt(finalStep, 4)}`,
    `divergences ${divergences}${warmupDivergences ? ` (+${warmupDivergences} in warm-up)` : ""}`,
  ].filter(Boolean);
  console.log(`  ${extras.join(", ")}`);
  for (const w of warnings) console.log(`  warning: ${w.message}`);
  if (raw.out) console.log(`draws written to ${printable(raw.out, 1000)}`);
}

export function sampleCommand(cmd: Command): Command {
  return cmd
    .option(
      "--target <file>",
      "target distribution: JSON/YAML with a `type` (gaussian, gmm, funnel, banana, ising, rbm)",
    )
    .option(
      "--model <dir>",
      "instead of --target: a trained model's density e^{−U}/Z (a checkpoint folder of `ebm train`; continuous samplers)",
    )
    .option(
      "--latent",
      "with --model DIR of a generalized EBM (`ebm train --method kale --generator`): draw x = B(z), z from the latent posterior ∝ N(0, I)·e^{−βE(B(z))}",
    )
    .option(
      "--sampler <name>",
      `kernel: ${SAMPLERS.join(", ")} (--latent: ula, mala (default), hmc, kinetic)`,
      "nuts",
    )
    .option("--chains <n>", "independent chains (--latent: draws, one per chain; default 1000)", "4")
    .option("--steps <T>", "--latent: transitions per chain, its last state is the draw (default 300)")
    .option(
      "--init <start>",
      "--latent: chain starts, resampled (importance resampling of 16 prior draws per chain; default) or prior",
    )
    .option("--warmup <n>", "warm-up iterations per chain (adaptation; never reported)", "1000")
    .option("--draws <n>", "draws kept per chain", "1000")
    .option("--step <h>", "step size (adapted during warm-up when omitted; required for ula; DMALA's α)")
    .option(
      "--beta <b>",
      "inverse temperature: sample e^{−βU} (--latent: weight e^{−βE}; 0 gives the generator alone)",
      "1",
    )
    .option("--seed <n>", "random seed: an integer within ±2^53", "0")
    .option("--thin <k>", "keep every k-th draw", "1")
    .option(
      "--leapfrog-steps <n>",
      "HMC: maximum leapfrog steps per transition; each chain draws its path length uniformly from 1…n at every transition (jitter, breaks resonances)",
      "10",
    )
    .option(
      "--metric <kind>",
      `inverse mass adapted in warm-up: diagonal, dense (captures correlations), or auto: dense up to dimension ${DENSE_METRIC_MAX_DIM}`,
      "auto",
    )
    .option("--friction <g>", "kinetic Langevin friction γ", "1")
    .option(
      "--out <file>",
      "write the draws, draw-major (row t·chains + c): .csv with columns chain,draw,x0,x1,… or .npy, the plain (chains·draws, dim) array; checked before the run",
    )
    .option("--json", "print one JSON object on the last line of stdout (with seed and warnings)")
    .option("--no-progress", "do not show a progress bar")
    .option("--max-file-mb <m>", "largest target file (JSON/YAML) read, in MiB", "1")
    .option("--max-weights-mb <m>", "largest weights file (an rbm target's path) read, in MiB", "256")
    .option("--allow-outside-paths", "let a path in the target file point outside the target file's folder")
    .option(
      "--max-memory-gb <g>",
      "refuse a run whose estimated memory (draws, chain state, diagnostics) exceeds this, in GiB",
      "4",
    )
    .action(runSampleCommand);
}
