/**
 * `ebm sample`: draws from a target described in a JSON/YAML file with any of the library's kernels,
 * reports per-coordinate diagnostics (mean, sd, bulk/tail ESS, rank-normalized split R-hat, MCSE),
 * acceptance and divergences, and optionally writes the draws to .csv or .npy.
 */
import type { Command } from "commander";
import {
  bitsToSpins,
  CONTINUOUS_SAMPLERS,
  type ContinuousSamplerName,
  DENSE_METRIC_MAX_DIM,
  DISCRETE_SAMPLERS,
  type DiscreteSamplerName,
  IsingEnergy,
  keyFromSeed,
  loadTarget,
  type QuantitySummary,
  Rbm,
  runContinuous,
  runDiscrete,
  summarize,
  TargetError,
  writeSamples,
} from "../../node.ts";
import { parseInteger, parseNumber, UserError } from "../errors.ts";
import { progressBar } from "../progress.ts";

interface SampleOptions {
  target?: string;
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
}

const SAMPLERS = [...CONTINUOUS_SAMPLERS, ...DISCRETE_SAMPLERS] as readonly string[];

function fmt(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toFixed(digits);
}

export async function runSampleCommand(raw: SampleOptions): Promise<void> {
  if (!raw.target) throw new UserError("--target FILE is required (a JSON or YAML target description)");
  if (!SAMPLERS.includes(raw.sampler))
    throw new UserError(`--sampler must be one of ${SAMPLERS.join(", ")}, got '${raw.sampler}'`);
  const chains = parseInteger("--chains", raw.chains);
  const warmup = parseInteger("--warmup", raw.warmup, 0);
  const draws = parseInteger("--draws", raw.draws);
  const thin = parseInteger("--thin", raw.thin);
  const beta = parseNumber("--beta", raw.beta);
  if (!(beta > 0)) throw new UserError(`--beta must be positive, got '${raw.beta}'`);
  const step = raw.step === undefined ? undefined : parseNumber("--step", raw.step);
  if (step !== undefined && !(step > 0)) throw new UserError(`--step must be positive, got '${raw.step}'`);
  const seed = parseNumber("--seed", raw.seed);
  const leapfrogSteps = parseInteger("--leapfrog-steps", raw.leapfrogSteps);
  const friction = parseNumber("--friction", raw.friction);
  if (!["auto", "diagonal", "dense"].includes(raw.metric))
    throw new UserError(`--metric must be auto, diagonal or dense, got '${raw.metric}'`);
  const metric = raw.metric as "auto" | "diagonal" | "dense";
  if (!(friction > 0)) throw new UserError(`--friction must be positive, got '${raw.friction}'`);
  if (raw.out && !/\.(csv|npy)$/i.test(raw.out))
    throw new UserError(`--out must end in .csv or .npy, got '${raw.out}'`);

  let target: ReturnType<typeof loadTarget>;
  try {
    target = loadTarget(raw.target);
  } catch (err) {
    if (err instanceof TargetError) throw new UserError(err.message);
    throw err;
  }
  const isDiscreteSampler = (DISCRETE_SAMPLERS as readonly string[]).includes(raw.sampler);
  if (target.kind === "continuous" && isDiscreteSampler)
    throw new UserError(`--sampler ${raw.sampler} is for discrete targets; ${raw.target} is continuous`);
  if (target.kind === "discrete" && !isDiscreteSampler)
    throw new UserError(
      `--sampler ${raw.sampler} is for continuous targets; ${raw.target} is discrete (${target.spec.type})`,
    );
  if (raw.sampler === "ula" && step === undefined)
    throw new UserError("--step is required with --sampler ula (ULA has no acceptance rate to adapt to)");
  if (raw.sampler === "block-gibbs" && target.kind === "discrete" && target.spec.type !== "rbm")
    throw new UserError("--sampler block-gibbs needs an rbm target");

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
      const r = runContinuous(target.energy, {
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
  if (raw.out) writeSamples(raw.out, { data: values, rows: draws * chains, dim, kind });

  const round = (v: number) => (Number.isFinite(v) ? Number(v.toPrecision(6)) : null);
  const result = {
    target: target.description,
    sampler: raw.sampler,
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
  };
  if (raw.json) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log(`${target.description}`);
  console.log(
    `${raw.sampler}: ${chains} chains × ${draws} draws (warm-up ${warmup}, thin ${thin}, β = ${beta}) in ${seconds.toFixed(2)} s`,
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
  const worst = Math.max(...summaries.map((s) => (Number.isFinite(s.rhat) ? s.rhat : 0)));
  if (worst > 1.01)
    console.log(
      `  warning: max R-hat ${worst.toFixed(3)} > 1.01: chains disagree (not mixed or stuck in modes)`,
    );
  if (divergences > 0)
    console.log(`  warning: ${divergences} divergent transitions: those steps were rejected`);
  if (raw.out) console.log(`draws written to ${raw.out}`);
}

export function sampleCommand(cmd: Command): Command {
  return cmd
    .option(
      "--target <file>",
      "target distribution: JSON/YAML with a `type` (gaussian, gmm, funnel, banana, ising, rbm)",
    )
    .option("--sampler <name>", `kernel: ${SAMPLERS.join(", ")}`, "nuts")
    .option("--chains <n>", "independent chains", "4")
    .option("--warmup <n>", "warm-up iterations per chain (adaptation; never reported)", "1000")
    .option("--draws <n>", "draws kept per chain", "1000")
    .option("--step <h>", "step size (adapted during warm-up when omitted; required for ula; DMALA's α)")
    .option("--beta <b>", "inverse temperature: sample e^{−βU}", "1")
    .option("--seed <n>", "random seed", "0")
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
      "write the draws (.csv with header x0,x1,… or .npy), draw-major: row t·chains + c",
    )
    .option("--json", "print one JSON object on the last line of stdout")
    .option("--no-progress", "do not show a progress bar")
    .action(runSampleCommand);
}
