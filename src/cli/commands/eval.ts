/**
 * `ebm eval --model DIR [--data NAME|FILE]`: held-out evaluation of a trained model, every number with its
 * error bar.
 *
 * Held-out data. A built-in set (the default: the set the model was trained on) is drawn afresh, as
 * `ebm train --data NAME --seed s'` would draw it, with s' = s + 1 000 000 and s the --seed of eval
 * (default 0): the points come from dataKey(s') (src/cli/data.ts), an independent stream, so they are never
 * the training points (a model trained with seed s' itself is refused: choose another --seed). The same
 * --seed gives the same held-out points to every model, so models compare on one set. A .csv/.npy file
 * is used as it is (a warning says so when it is the file the model was trained on).
 *
 * Reported:
 * - log Z by annealing from the model's confinement Gaussian (as `ebm logz`; same options), mean ± SE
 *   over replicas;
 * - held-out NLL in nats per point, mean U(x) + log Z, ± √(SE_data² + SE_logZ²) (eval/logz.ts heldOutNll),
 *   and for a built-in set with an exact density the same points' NLL under that density (the floor a
 *   perfect model would reach: the difference estimates KL(data‖model) without a grid);
 * - MMD² (Gaussian kernel, median-heuristic bandwidth; eval/mmd.ts) between `--mmd-points` model samples
 *   and as many held-out points, ± its jackknife SE. The model samples: the replicas' final weighted
 *   walkers pooled (each replica's weights normalised, replicas weighted equally), `--mmd-points` of them
 *   drawn by systematic resampling, then 300 MALA steps per chain from there (step and metric adapted on
 *   the way), which separates the copies that resampling made; the mode proportions come from the
 *   weighted walkers, which MALA alone would not get right;
 * - for a 2-D model on a built-in set: KL(data‖model) and TV on the grid (both normalised on the window,
 *   the set's extent with 200² cells unless --grid is given; error = |fine − half grid|) where the set has
 *   an exact log density, and the model's mode masses (Voronoi cells of the set's centres, on the grid)
 *   next to the set's weights, with the grid error and the model's mass outside the window;
 * - for d ≤ 2 the grid quadrature of log Z as a cross-check.
 */
import type { Command } from "commander";
import {
  type GridSpec,
  heldOutNll,
  keyFromSeed,
  klDataModelGrid,
  mmd2,
  modeMassesGrid,
  NumericalError,
  normalizedWeights,
  runContinuous,
  split,
  systematic,
} from "../../node.ts";
import { loadTrainingData, type TrainingData } from "../data.ts";
import { parseIntegerInRange, parseNumberList, parseSeed, printable, UserError } from "../errors.ts";
import { loadTrainedModel } from "../model.ts";
import { progressBar } from "../progress.ts";
import { describeGrid, parseGrid } from "./density.ts";
import {
  annealOptions,
  type AnnealRun,
  describeModel,
  fmt,
  gridCheck,
  jnum,
  parseAnnealOptions,
  type RawAnnealOptions,
  runAnnealing,
} from "./logz.ts";

/** Held-out points of a built-in set come from seed + this offset (module comment). */
export const HELD_OUT_SEED_OFFSET = 1_000_000;
/** MALA steps from the resampled walkers before the model samples of the MMD are taken. */
const MMD_MALA_STEPS = 300;

interface RawEvalOptions extends RawAnnealOptions {
  model?: string;
  data?: string;
  dataSize: string;
  mmdPoints: string;
  grid?: string;
  seed: string;
  json?: boolean;
  progress: boolean;
}

interface HeldOut {
  data: TrainingData;
  /** The seed the built-in points were drawn with (undefined for a file). */
  heldOutSeed?: number;
  warnings: string[];
}

function heldOutData(
  spec: string,
  size: number,
  seed: number,
  modelDim: number,
  trainedOn: unknown,
): HeldOut {
  const t = trainedOn as { kind?: string; name?: string; seed?: number; sha256?: string } | null;
  const warnings: string[] = [];
  let data: TrainingData;
  let heldOutSeed: number | undefined;
  if (/\.(csv|npy)$/i.test(spec)) {
    try {
      data = loadTrainingData({ spec, size, seed }, undefined);
    } catch (e) {
      if (e instanceof UserError && !e.message.startsWith("--data"))
        throw new UserError(`--data: ${e.message}`);
      throw e;
    }
    if (data.source.kind === "file" && t?.kind === "file" && t.sha256 === data.source.sha256)
      warnings.push(
        `--data ${printable(spec)} is the file the model was trained on: the NLL and MMD² are not held-out figures`,
      );
  } else {
    heldOutSeed = seed + HELD_OUT_SEED_OFFSET;
    if (!Number.isSafeInteger(heldOutSeed))
      throw new UserError(
        `--seed must be below 2^53 − ${HELD_OUT_SEED_OFFSET} (the held-out seed is --seed + ${HELD_OUT_SEED_OFFSET}), got ${seed}`,
      );
    if (t?.kind === "builtin" && t.name === spec && t.seed === heldOutSeed)
      throw new UserError(
        `--seed ${seed}: the held-out seed ${heldOutSeed} is the seed the model was trained with; choose another --seed`,
      );
    data = loadTrainingData({ spec, size, seed: heldOutSeed }, undefined);
  }
  if (data.dim !== modelDim)
    throw new UserError(
      `--data ${printable(spec)}: the data have ${data.dim} columns, the model expects ${modelDim}`,
    );
  if (data.batch.n < 3)
    throw new UserError(`--data ${printable(spec)}: need at least 3 points, got ${data.batch.n}`);
  return { data, heldOutSeed, warnings };
}

/**
 * `m` model samples (module comment): pooled final walkers of the replicas, systematic resampling, then
 * MALA steps from there.
 */
function modelSamples(
  run: AnnealRun,
  m: number,
  key: ReturnType<typeof keyFromSeed>,
  onProgress: (done: number, total: number) => void,
  energy: Parameters<typeof runContinuous>[0],
): { x: Float64Array; acceptance: number } {
  const dim = energy.dim;
  const total = run.estimates.reduce((a, e) => a + e.walkers.n, 0);
  const pooled = new Float64Array(total);
  const positions = new Float64Array(total * dim);
  let at = 0;
  const r = run.estimates.length;
  for (const e of run.estimates) {
    const w = new Float64Array(e.walkers.n);
    normalizedWeights(e.walkers.logw, w);
    for (let i = 0; i < w.length; i++) pooled[at + i] = w[i] / r;
    positions.set(e.walkers.position.subarray(0, e.walkers.n * dim), at * dim);
    at += e.walkers.n;
  }
  const [kResample, kMala] = split(key, 2);
  const idx = systematic(kResample, pooled, m);
  const init = new Float64Array(m * dim);
  for (let k = 0; k < m; k++) init.set(positions.subarray(idx[k] * dim, (idx[k] + 1) * dim), k * dim);
  const res = runContinuous(energy, {
    sampler: "mala",
    chains: m,
    warmup: MMD_MALA_STEPS,
    draws: 1,
    init,
    key: kMala,
    onProgress: (phase, done, tot) => {
      if (phase === "warmup") onProgress(done, tot);
    },
  });
  return { x: res.draws, acceptance: res.acceptance };
}

export async function runEvalCommand(raw: RawEvalOptions): Promise<void> {
  if (raw.model === undefined)
    throw new UserError("--model DIR is required (a folder written by `ebm train`)");
  const settings = parseAnnealOptions(raw);
  const seed = parseSeed("--seed", raw.seed);
  const size = parseIntegerInRange("--data-size", raw.dataSize, 3, 10_000_000);
  const mmdPoints = parseIntegerInRange("--mmd-points", raw.mmdPoints, 3, 20_000);
  if (raw.grid !== undefined) parseNumberList("--grid", raw.grid);
  const tm = await loadTrainedModel(raw.model);
  const dim = tm.energy.dim;
  const trained = tm.data as { kind?: string; name?: string } | null;
  let spec = raw.data;
  if (spec === undefined) {
    if (trained?.kind !== "builtin" || typeof trained.name !== "string")
      throw new UserError(
        "--data NAME|FILE is required: the model was not trained on a built-in set (give a held-out .csv/.npy file)",
      );
    spec = trained.name;
  }
  const held = heldOutData(spec, size, seed, dim, tm.data);
  const gridSpec: GridSpec | undefined =
    held.data.toy && dim === 2
      ? raw.grid !== undefined
        ? parseGrid(raw.grid, 2)
        : (() => {
            const [xmin, xmax, ymin, ymax] = held.data.toy.extent;
            return { xmin, xmax, ymin, ymax, n: 200 };
          })()
      : undefined;
  if (raw.grid !== undefined && gridSpec === undefined)
    throw new UserError("--grid applies to 2-D models evaluated on a built-in set only");

  const [kAnneal, kSamples] = split(keyFromSeed(seed), 2);
  const progress = progressBar(raw.progress && !raw.json);
  const t0 = performance.now();
  let run: AnnealRun;
  let samples: { x: Float64Array; acceptance: number };
  try {
    run = runAnnealing(tm.energy, tm.base, settings, kAnneal, (done, total) =>
      progress.update(`eval ${settings.method}`, done, total),
    );
    try {
      samples = modelSamples(
        run,
        mmdPoints,
        kSamples,
        (done, total) => progress.update("eval mala", done, total),
        tm.energy,
      );
    } catch (e) {
      if (e instanceof RangeError) throw new NumericalError(`model samples for the MMD: ${e.message}`);
      throw e;
    }
  } finally {
    progress.stop();
  }
  const logZ = run.summary.mean;
  const logZSe = run.se;
  const x = held.data.batch.x;
  const n = held.data.batch.n;
  const nll = heldOutNll(tm.energy, x, logZ, logZSe, n);
  if (!Number.isFinite(nll.nll))
    throw new NumericalError("the model's energy is not finite at some held-out point");
  let trueNll: { mean: number; se: number } | undefined;
  if (held.data.toy?.logDensity) {
    const lp = held.data.toy.logDensity(x, n);
    let mean = 0;
    let m2 = 0;
    for (let i = 0; i < n; i++) {
      const d = -lp[i] - mean;
      mean += d / (i + 1);
      m2 += d * (-lp[i] - mean);
    }
    trueNll = { mean, se: Math.sqrt(m2 / (n - 1) / n) };
  }
  const nd = Math.min(n, mmdPoints);
  const mmd = mmd2(samples.x, mmdPoints, x.subarray(0, nd * dim), nd, dim);
  const grid = gridCheck(tm.energy, tm.base);
  const toy = held.data.toy;
  let kl: ReturnType<typeof klDataModelGrid> | undefined;
  let masses: ReturnType<typeof modeMassesGrid> | undefined;
  if (gridSpec && toy) {
    try {
      if (toy.logDensity) {
        const logDensity = toy.logDensity;
        kl = klDataModelGrid((p, m, out) => logDensity(p, m, out), tm.energy, gridSpec);
      }
      if (toy.centres) {
        const rows: number[][] = [];
        for (let j = 0; j < toy.centres.length / 2; j++)
          rows.push([toy.centres[2 * j], toy.centres[2 * j + 1]]);
        masses = modeMassesGrid(tm.energy, gridSpec, rows);
      }
    } catch (e) {
      if (e instanceof RangeError) throw new NumericalError(`grid evaluation: ${e.message}`);
      throw e;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const warnings = [...held.warnings, ...run.warnings];
  if (kl && kl.modelEdgeMass > 1e-3)
    warnings.push(
      `the grid window cuts the model's density (edge mass ${fmt(kl.modelEdgeMass, 4)}): KL and masses are normalised on the window only; widen --grid`,
    );
  if (masses && masses.outside > 0.01)
    warnings.push(
      `${fmt(100 * masses.outside, 1)}% of the model's mass lies outside the grid window (mode masses are fractions of the window's mass)`,
    );

  const dataInfo =
    held.heldOutSeed !== undefined
      ? { kind: "builtin", name: spec, n, seed: held.heldOutSeed }
      : { kind: "file", path: spec, n };
  if (raw.json) {
    console.log(
      JSON.stringify({
        model: tm.dir,
        dim,
        data: dataInfo,
        logz: jnum(logZ),
        logz_se: jnum(logZSe),
        logz_method: settings.method,
        logz_replicas: settings.replicas,
        logz_values: Array.from(run.summary.values, (v) => jnum(v)),
        logz_step: jnum(run.step),
        logz_grid: grid
          ? { logz: jnum(grid.logZ), error: jnum(grid.error, 3), edge_mass: jnum(grid.edgeMass, 3) }
          : null,
        nll: jnum(nll.nll),
        nll_se: jnum(nll.se),
        nll_data_se: jnum(nll.dataSe),
        nll_true: trueNll ? jnum(trueNll.mean) : null,
        nll_true_se: trueNll ? jnum(trueNll.se) : null,
        mmd2: jnum(mmd.mmd2),
        mmd2_se: jnum(mmd.se),
        mmd_bandwidth: jnum(mmd.bandwidth),
        mmd_model_points: mmdPoints,
        mmd_data_points: nd,
        mmd_mala_acceptance: jnum(samples.acceptance, 4),
        kl: kl
          ? {
              value: jnum(kl.kl),
              error: jnum(kl.klError, 3),
              tv: jnum(kl.tv),
              tv_error: jnum(kl.tvError, 3),
              model_edge_mass: jnum(kl.modelEdgeMass, 3),
            }
          : null,
        mode_masses:
          masses && toy
            ? {
                masses: Array.from(masses.masses, (v) => jnum(v)),
                errors: Array.from(masses.massError, (v) => jnum(v, 3)),
                weights: [...toy.weights],
                outside: jnum(masses.outside, 3),
                outside_error: jnum(masses.outsideError, 3),
              }
            : null,
        grid: gridSpec ?? null,
        seed,
        wall_seconds: jnum(seconds, 3),
        warnings,
      }),
    );
    return;
  }
  const lines = [
    describeModel(tm),
    held.heldOutSeed !== undefined
      ? `held-out data: ${n} fresh points of ${spec} (seed ${held.heldOutSeed} = --seed + ${HELD_OUT_SEED_OFFSET})`
      : `held-out data: ${held.data.description}`,
    `  log Z        ${fmt(logZ, 4)} ± ${fmt(logZSe, 4)} nats (${settings.method}, ${settings.replicas} replicas of ${settings.walkers} walkers × ${settings.temperatures} temperatures)`,
  ];
  if (grid)
    lines.push(
      `  log Z grid   ${fmt(grid.logZ, 4)} ± ${fmt(grid.error, 4)} (quadrature cross-check; edge mass ${fmt(grid.edgeMass, 4)})`,
    );
  lines.push(
    `  NLL          ${fmt(nll.nll, 4)} ± ${fmt(nll.se, 4)} nats/point (data ${fmt(nll.dataSe, 4)}, log Z ${fmt(logZSe, 4)})` +
      (trueNll ? `; the set's exact density: ${fmt(trueNll.mean, 4)} ± ${fmt(trueNll.se, 4)}` : ""),
    `  MMD²         ${fmt(mmd.mmd2, 5)} ± ${fmt(mmd.se, 5)} (${mmdPoints} model samples vs ${nd} points, Gaussian kernel, bandwidth ${fmt(mmd.bandwidth, 3)})`,
  );
  if (kl)
    lines.push(
      `  KL(data‖model) ${fmt(kl.kl, 4)} ± ${fmt(kl.klError, 4)} nats, TV ${fmt(kl.tv, 4)} ± ${fmt(kl.tvError, 4)} (grid ${describeGrid(gridSpec as GridSpec)})`,
    );
  if (masses && toy) {
    lines.push(`  mode masses (model on the grid vs the set's weights):`);
    for (let j = 0; j < masses.masses.length; j++) {
      const cx = (toy.centres as Float64Array)[2 * j];
      const cy = (toy.centres as Float64Array)[2 * j + 1];
      lines.push(
        `    (${fmt(cx, 2)}, ${fmt(cy, 2)})  ${fmt(masses.masses[j], 4)} ± ${fmt(masses.massError[j], 4)}   true ${fmt(toy.weights[j], 4)}`,
      );
    }
    lines.push(`    outside the window: ${fmt(masses.outside, 4)} ± ${fmt(masses.outsideError, 4)}`);
  }
  lines.push(`  seed ${seed}, ${seconds.toFixed(1)} s`);
  for (const w of warnings) lines.push(`  warning: ${w}`);
  console.log(lines.join("\n"));
}

export function evalCommand(cmd: Command): Command {
  return annealOptions(
    cmd
      .option("--model <dir>", "checkpoint folder written by `ebm train`")
      .option(
        "--data <name|file>",
        "held-out data: a built-in set (fresh points drawn with --seed + 1000000; default: the model's training set) or a .csv/.npy file",
      )
      .option("--data-size <n>", "points drawn for a built-in set", "10000")
      .option("--mmd-points <m>", "model samples and held-out points in the MMD² (O(m²) work)", "1000")
      .option(
        "--grid <spec>",
        "2-D built-in sets: window and cells for KL and mode masses, xmin,xmax,ymin,ymax,n (default: the set's extent, 200 cells per axis)",
      ),
  )
    .option("--seed <n>", "random seed: an integer within ±2^53 (also selects the held-out points)", "0")
    .option("--json", "print one JSON object on the last line of stdout")
    .option("--no-progress", "do not show a progress bar")
    .action(runEvalCommand);
}
