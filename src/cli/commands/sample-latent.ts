/**
 * `ebm sample --model DIR --latent`: draws from a generalized EBM (a checkpoint of `ebm train --method kale
 * --generator`). Each of `--chains` independent chains runs `--steps` transitions of ULA, MALA, HMC or
 * kinetic Langevin on the latent posterior ν_β(z) ∝ N(z; 0, I)·e^{−βE(B(z))}, started by importance
 * resampling of prior draws (or at prior draws, `--init prior`), and its last state z gives the draw
 * x = B(z) (src/gebm/sample.ts). β = 1 is the model itself, β = 0 the generator alone, larger β a low
 * temperature. Prints the mean and sd of every x and z coordinate, the start's ESS, the acceptance, step
 * size and divergences; `--out` writes chain,draw,x0…,z0… (CSV; draw is 0: one draw per chain) or the
 * plain n × (d + k) array (.npy). Everything is checked before the run, and nothing is written when it
 * fails.
 */
import { dirname, resolve } from "node:path";
import {
  checkOutputFile,
  ensureDir,
  gebmToUserCoordinates,
  keyFromSeed,
  LATENT_SAMPLERS,
  type LatentSamplerName,
  OutputError,
  sampleGebm,
  writeSamples,
} from "../../node.ts";
import {
  parseIntegerInRange,
  parseNumber,
  parsePositive,
  parseSeed,
  printable,
  UserError,
} from "../errors.ts";
import { describeGebm, loadGebm } from "../gebm-model.ts";

export interface LatentSampleOptions {
  model?: string;
  target?: string;
  sampler: string;
  chains: string;
  steps?: string;
  init?: string;
  step?: string;
  beta: string;
  seed: string;
  leapfrogSteps: string;
  friction: string;
  maxMemoryGb: string;
  out?: string;
  json?: boolean;
}

/** Options of target and MCMC-chain sampling that --latent does not take, with what to use instead. */
const NOT_FOR_LATENT = [
  ["warmup", "--warmup", "each chain runs --steps transitions and keeps its last state"],
  ["draws", "--draws", "each chain gives one draw: set their number with --chains"],
  ["thin", "--thin", "each chain gives one draw"],
  ["metric", "--metric", "the latent samplers adapt a diagonal metric"],
  ["maxFileMb", "--max-file-mb", "it applies to --target files"],
  ["maxWeightsMb", "--max-weights-mb", "it applies to --target files"],
  ["allowOutsidePaths", "--allow-outside-paths", "it applies to --target files"],
] as const;

/** Prior draws per chain of the resampled start (src/gebm/sample.ts's default). */
const PROPOSALS = 16;
const GiB = 1024 ** 3;

function fmt(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toFixed(digits);
}

/** `given(name)`: whether option `name` (camelCase) was set on the command line rather than defaulted. */
export async function runLatentSample(
  raw: LatentSampleOptions,
  given: (name: string) => boolean,
): Promise<void> {
  if (raw.target !== undefined)
    throw new UserError("--latent applies to --model DIR (a GEBM checkpoint), not to --target");
  if (raw.model === undefined)
    throw new UserError("--latent needs --model DIR: a checkpoint of `ebm train --method kale --generator`");
  for (const [name, flag, why] of NOT_FOR_LATENT)
    if (given(name)) throw new UserError(`${flag} does not apply to --latent: ${why}`);
  const sampler = given("sampler") ? raw.sampler : "mala";
  if (!(LATENT_SAMPLERS as readonly string[]).includes(sampler))
    throw new UserError(
      `--sampler for --latent must be one of ${LATENT_SAMPLERS.join(", ")}, got '${printable(sampler)}'`,
    );
  const chains = given("chains")
    ? parseIntegerInRange("--chains", raw.chains, 1, Number.MAX_SAFE_INTEGER)
    : 1000;
  const steps = raw.steps === undefined ? 300 : parseIntegerInRange("--steps", raw.steps, 1, 10_000_000);
  const beta = parseNumber("--beta", raw.beta);
  if (!(beta >= 0))
    throw new UserError(`--beta must be ≥ 0 for --latent (0: the generator alone), got '${raw.beta}'`);
  const step = raw.step === undefined ? undefined : parsePositive("--step", raw.step);
  if (sampler === "ula" && step === undefined)
    throw new UserError("--step is required with --sampler ula (ULA has no acceptance rate to adapt to)");
  const friction = parsePositive("--friction", raw.friction);
  const leapfrogSteps = parseIntegerInRange("--leapfrog-steps", raw.leapfrogSteps, 1, 100_000);
  const init = raw.init ?? "resampled";
  if (init !== "resampled" && init !== "prior")
    throw new UserError(`--init must be resampled or prior, got '${printable(init)}'`);
  const seed = parseSeed("--seed", raw.seed);
  const maxMemory = parsePositive("--max-memory-gb", raw.maxMemoryGb, 1024) * GiB;
  if (raw.out !== undefined) {
    if (!/\.(csv|npy)$/i.test(raw.out))
      throw new UserError(`--out must end in .csv or .npy, got '${printable(raw.out)}'`);
    try {
      checkOutputFile(raw.out);
    } catch (err) {
      if (err instanceof OutputError) throw new UserError(`--out: ${err.message}`);
      throw err;
    }
  }

  const g = await loadGebm(raw.model);
  try {
    const spec = g.config.model;
    const d = spec.dim;
    const k = spec.latentDim;
    // The proposals of the resampled start (z, x, energies, weights) and both networks' activations over
    // them dominate; then the chains' state vectors. A generous bound, checked before anything runs.
    const rows = chains * (init === "resampled" ? PROPOSALS : 1);
    const widths = [k, ...spec.generatorHidden, d, ...spec.energyHidden, 1].reduce((a, b) => a + b, 0);
    const bytes = rows * (8 * (k + d + 3) + 4 * 3 * widths) + chains * 16 * (k + d) * 8;
    if (bytes > maxMemory)
      throw new UserError(
        `the run would need about ${(bytes / GiB).toPrecision(2)} GiB of memory, over the ${maxMemory / GiB} GiB limit of --max-memory-gb: ` +
          `--chains ${chains}${init === "resampled" ? ` × ${PROPOSALS} proposals` : ""} through both networks; lower --chains or raise --max-memory-gb`,
      );
    if (raw.out !== undefined) {
      try {
        ensureDir(dirname(resolve(raw.out)));
      } catch (err) {
        if (err instanceof OutputError) throw new UserError(`--out: ${err.message}`);
        throw err;
      }
    }
    const t0 = performance.now();
    let r: ReturnType<typeof sampleGebm>;
    try {
      r = sampleGebm(g.model, keyFromSeed(seed), {
        n: chains,
        beta,
        sampler: sampler as LatentSamplerName,
        steps,
        step,
        friction,
        leapfrogSteps,
        init,
        proposals: PROPOSALS,
      });
    } catch (err) {
      if (err instanceof RangeError) throw new UserError(err.message);
      throw err;
    }
    const seconds = (performance.now() - t0) / 1000;
    const x = gebmToUserCoordinates(spec, r.x, chains);
    const cols = d + k;
    const table = new Float64Array(chains * cols);
    for (let i = 0; i < chains; i++) {
      table.set(x.subarray(i * d, (i + 1) * d), i * cols);
      table.set(r.z.subarray(i * k, (i + 1) * k), i * cols + d);
    }
    const names = [
      ...Array.from({ length: d }, (_, a) => `x${a}`),
      ...Array.from({ length: k }, (_, a) => `z${a}`),
    ];
    const dims = names.map((name, j) => {
      let m = 0;
      for (let i = 0; i < chains; i++) m += table[i * cols + j] / chains;
      let v = 0;
      for (let i = 0; i < chains; i++) v += (table[i * cols + j] - m) ** 2;
      return { name, mean: m, sd: chains > 1 ? Math.sqrt(v / (chains - 1)) : Number.NaN };
    });
    const warnings: { code: string; message: string }[] = [];
    if (r.divergences > 0)
      warnings.push({
        code: "divergences",
        message: `${r.divergences} divergent transitions (warm-up included): those proposals were rejected; a smaller --step or more --steps may help`,
      });
    if (init === "resampled" && r.initEss < chains)
      warnings.push({
        code: "init-ess",
        message: `the resampled start's ESS (${r.initEss.toFixed(1)} of ${chains * PROPOSALS} prior draws) is below --chains ${chains}: many chains start at the same points, and only the --steps transitions spread them`,
      });
    if (raw.out !== undefined) {
      try {
        writeSamples(raw.out, { data: table, rows: chains, dim: cols, chains, columns: names });
      } catch (err) {
        if (err instanceof OutputError) throw new UserError(`--out: ${err.message}`);
        throw err;
      }
    }
    const description = describeGebm(g);
    const round = (v: number | undefined) =>
      v !== undefined && Number.isFinite(v) ? Number(v.toPrecision(6)) : null;
    if (raw.json) {
      console.log(
        JSON.stringify({
          target: description,
          latent: true,
          sampler,
          seed,
          chains,
          steps,
          beta,
          init,
          dims: dims.map((s) => ({ name: s.name, mean: round(s.mean), sd: round(s.sd) })),
          acceptance: round(r.acceptance),
          step: round(r.step),
          divergences: r.divergences,
          init_ess: round(r.initEss),
          proposals: init === "resampled" ? chains * PROPOSALS : null,
          wall_seconds: round(seconds),
          out: raw.out ?? null,
          warnings,
        }),
      );
      return;
    }
    const out = [
      description,
      `${sampler} on the latent posterior (k = ${k}, β = ${beta}): ${chains} chains × ${steps} steps, start ${init} (seed ${seed}) in ${seconds.toFixed(2)} s`,
      `  ${"".padEnd(6)} ${"mean".padStart(9)} ${"sd".padStart(9)}`,
    ];
    const show =
      dims.length <= 20 ? dims : [...dims.slice(0, Math.min(d, 10)), ...dims.slice(d, d + Math.min(k, 10))];
    for (const s of show)
      out.push(`  ${s.name.padEnd(6)} ${fmt(s.mean).padStart(9)} ${fmt(s.sd).padStart(9)}`);
    if (show.length < dims.length) out.push(`  … ${dims.length - show.length} more coordinates (see --json)`);
    if (init === "resampled")
      out.push(
        `  start: importance resampling of ${chains * PROPOSALS} prior draws, ESS ${r.initEss.toFixed(0)}`,
      );
    out.push(
      `  ${[
        Number.isFinite(r.acceptance) ? `acceptance ${r.acceptance.toFixed(3)}` : "",
        r.step === undefined ? "" : `step ${fmt(r.step, 4)}`,
        `divergences ${r.divergences}`,
      ]
        .filter(Boolean)
        .join(", ")}`,
    );
    for (const w of warnings) out.push(`  warning: ${w.message}`);
    if (raw.out !== undefined) out.push(`draws written to ${printable(raw.out, 1000)}`);
    console.log(out.join("\n"));
  } finally {
    g.model.dispose();
  }
}
