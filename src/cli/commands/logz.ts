/**
 * `ebm logz --model DIR`: log Z = log ∫ e^{−U_θ} of a trained model, with a standard error over independent
 * replicas, by annealing (SMC with resampling, or AIS without) from the model's own confinement Gaussian.
 *
 * The base. Every trained MLP energy carries a fixed ½·c·|x|² (config.model.confinement), so
 * N(0, I/c) is a base that covers it, with the closed form log Z_0 = (d/2)·log(2π/c); for a model trained on
 * standardised inputs the same Gaussian in the user's coordinates, N(shift, scale²/c·I) (modelBase).
 * The path U_t = (1 − t)·|x|²·c/2 + t·U_θ runs over `--temperatures` points t_k = (k/(K−1))², denser near
 * t = 0 where the wide base changes fastest, with `--moves` MALA (or HMC) moves per point (eval/logz.ts).
 *
 * The step. When `--step` is not given it is chosen by pilot runs on a key of its own (128 walkers, up to
 * 50 temperatures): starting from h = 0.025/c for MALA (ε = 0.1/√c for HMC), the step is halved while the
 * mean acceptance is below the band (MALA 0.55–0.85, HMC 0.65–0.9) and doubled while above; when it
 * crosses the band the smaller step is kept. The step is then fixed for every replica, so each replica's
 * Ẑ stays an unbiased estimate of Z (an adapted step would not).
 *
 * The error. R independent replicas (keys split from the seed) give R values of log Ẑ; the result is
 * their mean, and its SE the larger of two estimates of the same quantity: the replicas' spread sd/√R,
 * which needs no model of the sampler's error (it catches weights that degenerate), and the estimators'
 * own SE (Lee–Whiteley, per replica) pooled as rms/√R, which does not depend on the luck of R draws (the sd
 * of only 8 values falls below half the true one in 2.8% of runs; measured on a trained 1-D model
 * with 64 replicas, the per-replica SE 0.0039 matched the spread 0.0039). Both are in --json
 * (`stderr_spread`, `stderr_reported`). Defaults (R = 8, K = 100, N = 500, 2 MALA moves) give an SE of
 * about 0.005–0.02 nats on trained 2-D models in one to two seconds.
 *
 * For d ≤ 2 the grid quadrature (eval/grid.ts) is printed too, as a cross-check: on a window of ±8
 * base standard deviations (±8/√c per axis; 512² cells in 2-D, 4096 in 1-D), with its quadrature error
 * and edge mass.
 *
 * RBMs (a folder from `ebm train --energy rbm`, or a .safetensors file with `weights`, `visible_bias`,
 * `hidden_bias`) take `--method exact | ais | jarzynski` (default ais), with `--betas`, `--chains` and
 * `--replicas` (rbm/evaluate.ts): exact enumeration over the smaller layer (≤ 25 units); AIS from the
 * base-rate model, whose visible biases are fitted to the training data when the checkpoint names it
 * (Salakhutdinov & Murray 2008), else the model's own; Jarzynski annealing (rbmJarzynski's weight updates
 * and resampling) along the same path. The SE pools the replicas on the Z scale (delta method). For a
 * Jarzynski-trained checkpoint the run's own estimator-population log Z is shown too.
 */
import type { Command } from "commander";
import {
  aisLogZ,
  exactLogZ,
  rbmLogZ,
  type RbmLogZEstimate,
  type ModelBase,
  type Energy,
  foldIn,
  type GridSpec,
  gridEvaluate,
  type Key,
  keyFromSeed,
  type LogZEstimate,
  type LogZReplicas,
  logZReplicas,
  NumericalError,
  smcLogZ,
  split,
} from "../../node.ts";
import { parseIntegerInRange, parsePositive, parseSeed, printable, UserError } from "../errors.ts";
import { loadTrainedModel, type TrainedModel } from "../model.ts";
import { describeRbm, type LoadedRbm, loadRbm, trainingBaseRates } from "../rbm-model.ts";
import { progressBar } from "../progress.ts";

export interface AnnealSettings {
  method: "smc" | "ais";
  replicas: number;
  temperatures: number;
  walkers: number;
  kernel: "mala" | "hmc";
  /** Given step, or undefined for the pilot's choice. */
  step?: number;
  moves: number;
  leapfrogSteps: number;
}

export interface AnnealRun {
  summary: LogZReplicas;
  /** SE of the mean log Ẑ: max(seSpread, seReported) (module comment). */
  se: number;
  /** sd/√R over replicas. */
  seSpread: number;
  /** rms of the replicas' own SEs, /√R (NaN when an estimator's SE broke down). */
  seReported: number;
  /** Each replica's estimate (its final weighted walkers included). */
  estimates: LogZEstimate[];
  step: number;
  stepSource: "given" | "pilot";
  /** Mean over replicas of the moves' acceptance, the final ESS and the resamplings; total divergences. */
  acceptance: number;
  ess: number;
  resamplings: number;
  divergences: number;
  logZBase: number;
  warnings: string[];
}

/** Exponent of the annealing schedule t_k = (k/(K−1))^power. */
const SCHEDULE_POWER = 2;
const PILOT_WALKERS = 128;
const PILOT_TEMPERATURES = 50;
const PILOT_RUNS = 10;
const BANDS = { mala: [0.55, 0.85], hmc: [0.65, 0.9] } as const;

function annealOnce(
  model: Energy,
  base: ModelBase,
  s: AnnealSettings,
  key: Key,
  o: { walkers: number; temperatures: number; step: number; moves: number },
): LogZEstimate {
  const opts = {
    base: { mean: base.mean, std: base.std },
    temperatures: o.temperatures,
    power: SCHEDULE_POWER,
    chains: o.walkers,
    kernel: s.kernel,
    step: o.step,
    leapfrogSteps: s.leapfrogSteps,
    movesPerTemperature: o.moves,
  };
  return s.method === "smc" ? smcLogZ(model, key, opts) : aisLogZ(model, key, opts);
}

/** The pilot's step (module comment). */
function pilotStep(model: Energy, base: ModelBase, s: AnnealSettings, key: Key): number {
  const [lo, hi] = BANDS[s.kernel];
  let step = s.kernel === "mala" ? 0.025 * base.std * base.std : 0.1 * base.std;
  let direction = 0;
  for (let run = 0; run < PILOT_RUNS; run++) {
    const e = annealOnce(model, base, s, foldIn(key, run), {
      walkers: PILOT_WALKERS,
      temperatures: Math.min(s.temperatures, PILOT_TEMPERATURES),
      step,
      moves: 1,
    });
    const a = Number.isNaN(e.acceptance) ? 0 : e.acceptance;
    if (a < lo) {
      step /= 2;
      if (direction > 0) return step; // crossed the band going up: keep the smaller step
      direction = -1;
    } else if (a > hi) {
      if (direction < 0) return step; // crossed the band going down
      step *= 2;
      direction = 1;
    } else return step;
  }
  return step;
}

/**
 * R replicas of annealed log Z of `model` from its confinement Gaussian (module comment); keys: the pilot
 * from the first child of `key`, the replicas from the second.
 */
export function runAnnealing(
  model: Energy,
  base: ModelBase,
  s: AnnealSettings,
  key: Key,
  onReplica?: (done: number, total: number) => void,
): AnnealRun {
  const [kPilot, kRuns] = split(key, 2);
  let step: number;
  const estimates: LogZEstimate[] = [];
  let summary: LogZReplicas;
  try {
    step = s.step ?? pilotStep(model, base, s, kPilot);
    summary = logZReplicas(
      (k) => {
        const e = annealOnce(model, base, s, k, {
          walkers: s.walkers,
          temperatures: s.temperatures,
          step,
          moves: s.moves,
        });
        estimates.push(e);
        onReplica?.(estimates.length, s.replicas);
        return e;
      },
      s.replicas,
      kRuns,
    );
  } catch (e) {
    if (e instanceof RangeError) throw new NumericalError(`annealing failed: ${e.message}`);
    throw e;
  }
  const mean = (f: (e: LogZEstimate) => number) => estimates.reduce((a, e) => a + f(e), 0) / estimates.length;
  const warnings: string[] = [];
  if (!summary.values.every(Number.isFinite))
    throw new NumericalError(
      "a replica's log Z is not finite (the model's energy overflowed on the path); try a smaller --step or more --temperatures",
    );
  const seen = new Set<string>();
  for (const e of estimates)
    for (const w of e.warnings)
      if (!seen.has(w.code)) {
        seen.add(w.code);
        warnings.push(`${w.message} (${w.code}, in at least one replica)`);
      }
  const divergences = estimates.reduce((a, e) => a + e.divergences, 0);
  if (divergences > 0)
    warnings.push(`${divergences} divergent moves (rejected); a smaller --step avoids them`);
  const seReported = summary.rmsReportedSe / Math.sqrt(summary.replicas);
  const result: AnnealRun = {
    summary,
    se: Number.isFinite(seReported) ? Math.max(summary.se, seReported) : summary.se,
    seSpread: summary.se,
    seReported,
    estimates,
    step,
    stepSource: s.step === undefined ? "pilot" : "given",
    acceptance: mean((e) => e.acceptance),
    ess: mean((e) => e.ess),
    resamplings: mean((e) => e.resamplings),
    divergences,
    logZBase: base.logZ,
    warnings,
  };
  if (result.se > 0.1)
    warnings.push(
      `the SE of log Z is ${result.se.toFixed(3)} nats: more --walkers, --temperatures or --replicas reduce it`,
    );
  return result;
}

/** "N(0, 4·I)" or "N((1.2, -3), 2.5²·I)" for text output. */
export function baseText(b: ModelBase): string {
  const mean = b.mean.every((v) => v === 0) ? "0" : `(${Array.from(b.mean, (v) => fmt(v, 3)).join(", ")})`;
  return `N(${mean}, ${fmt(b.std * b.std, 4)}·I)`;
}

export interface GridCheck {
  logZ: number;
  error: number;
  edgeMass: number;
  spec: GridSpec;
}

/**
 * Grid quadrature of log Z for d ≤ 2 on ±8 standard deviations of the base around its mean (±8/√c
 * without standardisation; module comment); undefined for d > 2.
 */
export function gridCheck(model: Energy, base: ModelBase): GridCheck | undefined {
  if (model.dim > 2) return undefined;
  const w = 8 * base.std;
  const [mx, my] = [base.mean[0], base.mean[1] ?? 0];
  const spec: GridSpec =
    model.dim === 2
      ? { xmin: mx - w, xmax: mx + w, ymin: my - w, ymax: my + w, n: 512 }
      : { xmin: mx - w, xmax: mx + w, n: 4096 };
  try {
    const g = gridEvaluate(model, spec);
    return { logZ: g.logZ, error: g.logZError, edgeMass: g.edgeMass, spec };
  } catch (e) {
    if (e instanceof RangeError) throw new NumericalError(`grid quadrature: ${e.message}`);
    throw e;
  }
}

/** One line describing a trained model. */
export function describeModel(m: TrainedModel): string {
  const c = m.config.model;
  if (c.type === "rbm")
    return `model ${printable(m.dir)} (RBM ${c.visible} visible × ${c.hidden} hidden; ${m.config.method}, iteration ${m.iteration})`;
  const what =
    c.type === "mlp"
      ? `mlp ${[c.dim, ...c.hidden, 1].join("→")}, ${c.activation}, confinement ${c.confinement}`
      : `exponential family, ${c.statistics === "poly" ? `polynomial statistics to degree ${c.degree ?? 4}` : "quadratic statistics"}, d = ${c.dim}`;
  return `model ${printable(m.dir)} (${what}${c.inputScale !== undefined ? ", standardised inputs" : ""}; ${m.config.method}, iteration ${m.iteration})`;
}

/** The replicas' own Lee–Whiteley SEs as their rms, saying how many had none (a collapsed genealogy). */
function replicaSe(runSe: Float64Array | undefined): string {
  const ok = runSe ? Array.from(runSe).filter(Number.isFinite) : [];
  const none = (runSe?.length ?? 0) - ok.length;
  const rms =
    ok.length > 0 ? `${fmt(Math.sqrt(ok.reduce((a, v) => a + v * v, 0) / ok.length), 4)} (rms)` : "none";
  return (
    `per-replica Lee–Whiteley SE ${rms}` +
    (none > 0 ? `; ${none} replica(s) without one: their walkers all descend from one initial walker` : "")
  );
}

/** A number for JSON: finite values rounded to 7 significant digits, others null. */
export function jnum(v: number, digits = 7): number | null {
  return Number.isFinite(v) ? Number(v.toPrecision(digits)) : null;
}

/** A number for text: fixed digits, or exponential when tiny or huge. */
export function fmt(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e5 || (Math.abs(v) < 10 ** -digits && v !== 0)
    ? v.toExponential(1)
    : v.toFixed(digits);
}

export interface RawAnnealOptions {
  method: string;
  replicas: string;
  temperatures: string;
  walkers: string;
  kernel: string;
  step?: string;
  moves: string;
  leapfrogSteps: string;
}

/** The annealing options, checked (each error names its option). */
export function parseAnnealOptions(raw: RawAnnealOptions): AnnealSettings {
  if (raw.method !== "smc" && raw.method !== "ais")
    throw new UserError(`--method must be smc or ais, got '${printable(raw.method)}'`);
  if (raw.kernel !== "mala" && raw.kernel !== "hmc")
    throw new UserError(`--kernel must be mala or hmc, got '${printable(raw.kernel)}'`);
  return {
    method: raw.method,
    kernel: raw.kernel,
    replicas: parseIntegerInRange("--replicas", raw.replicas, 2, 10_000),
    temperatures: parseIntegerInRange("--temperatures", raw.temperatures, 2, 1_000_000),
    walkers: parseIntegerInRange("--walkers", raw.walkers, 2, 10_000_000),
    step: raw.step === undefined ? undefined : parsePositive("--step", raw.step),
    moves: parseIntegerInRange("--moves", raw.moves, 0, 10_000),
    leapfrogSteps: parseIntegerInRange("--leapfrog-steps", raw.leapfrogSteps, 1, 10_000),
  };
}

/** Adds the annealing options (shared by `logz` and `eval`). */
export function annealOptions(cmd: Command): Command {
  return cmd
    .option("--method <name>", "smc (resample when ESS < N/2) or ais (never resample)", "smc")
    .option(
      "--replicas <R>",
      "independent replicas (≥ 2); the SE is the larger of their sd/√R and the pooled per-replica SE",
      "8",
    )
    .option("--temperatures <K>", "points of the annealing path t_k = (k/(K−1))²", "100")
    .option("--walkers <N>", "walkers per replica", "500")
    .option("--kernel <name>", "move at each temperature: mala or hmc", "mala")
    .option("--step <h>", "step of the move (default: chosen by a pilot run for an acceptance of ~0.55–0.85)")
    .option("--moves <m>", "moves per temperature", "2")
    .option("--leapfrog-steps <L>", "HMC: maximum leapfrog steps per move (jittered)", "5");
}

interface RawLogzOptions extends RawAnnealOptions {
  model?: string;
  seed: string;
  betas?: string;
  chains?: string;
  data?: string;
  json?: boolean;
  progress: boolean;
}

/** The largest smaller layer `--method exact` enumerates (2^25 states: minutes for 784 visible units). */
const RBM_EXACT_MAX_BITS = 25;
const RBM_METHODS = ["exact", "ais", "jarzynski"] as const;
/** Options of the continuous annealing that an RBM does not take (it has --betas and --chains). */
const CONTINUOUS_ONLY = [
  ["temperatures", "--temperatures", "--betas"],
  ["walkers", "--walkers", "--chains"],
  ["kernel", "--kernel", ""],
  ["step", "--step", ""],
  ["moves", "--moves", ""],
  ["leapfrogSteps", "--leapfrog-steps", ""],
] as const;

async function runRbmLogz(
  raw: RawLogzOptions,
  m: LoadedRbm,
  given: (name: string) => boolean,
): Promise<void> {
  for (const [key, flag, instead] of CONTINUOUS_ONLY)
    if (given(key))
      throw new UserError(
        `${flag} is for continuous models; an RBM's annealing takes ${instead || "--betas, --chains and --replicas"}`,
      );
  const method = given("method") ? raw.method : "ais";
  if (!(RBM_METHODS as readonly string[]).includes(method))
    throw new UserError(`--method for an RBM must be exact, ais or jarzynski, got '${printable(method)}'`);
  const seed = parseSeed("--seed", raw.seed);
  const { rbm } = m;
  const t0 = performance.now();
  const small = Math.min(rbm.visible, rbm.hidden);
  if (method === "exact") {
    for (const k of ["betas", "chains", "replicas", "data"])
      if (given(k)) throw new UserError(`--${k} does not apply to --method exact`);
    if (small > RBM_EXACT_MAX_BITS)
      throw new UserError(
        `--method exact enumerates 2^${small} states of the smaller layer (limit 2^${RBM_EXACT_MAX_BITS}); use --method ais or jarzynski`,
      );
    const logZ = exactLogZ(rbm, { maxBits: RBM_EXACT_MAX_BITS });
    const seconds = (performance.now() - t0) / 1000;
    if (raw.json)
      console.log(
        JSON.stringify({
          logz: jnum(logZ, 12),
          stderr: 0,
          method,
          enumerated: `2^${small} ${rbm.hidden <= rbm.visible ? "hidden" : "visible"} states`,
          model: m.path,
          visible: rbm.visible,
          hidden: rbm.hidden,
          wall_seconds: jnum(seconds, 3),
        }),
      );
    else
      console.log(
        [
          describeRbm(m),
          `log Z = ${fmt(logZ, 6)} (exact: 2^${small} ${rbm.hidden <= rbm.visible ? "hidden" : "visible"} states enumerated, the other layer summed in closed form, float64; ${seconds.toFixed(1)} s)`,
        ].join("\n"),
      );
    return;
  }
  const betas = parseIntegerInRange("--betas", raw.betas ?? "1000", 2, 10_000_000);
  const chains = parseIntegerInRange("--chains", raw.chains ?? "100", 2, 10_000_000);
  const replicas = parseIntegerInRange("--replicas", raw.replicas, 2, 10_000);
  const base = trainingBaseRates(m, raw.data);
  const progress = progressBar(raw.progress && !raw.json);
  let est: RbmLogZEstimate;
  try {
    est = rbmLogZ(rbm, keyFromSeed(seed), {
      method: method as "ais" | "jarzynski",
      baseBias: base.bias,
      betas,
      chains,
      replicas,
      onReplica: (done, total) => progress.update(`logz ${method}`, done, total),
    });
  } catch (e) {
    if (e instanceof RangeError) throw new NumericalError(`${method} failed: ${e.message}`);
    throw e;
  } finally {
    progress.stop();
  }
  const seconds = (performance.now() - t0) / 1000;
  const summary = m.checkpoint?.summary as { estimatorLogZ?: number; estimatorLogZSe?: number } | undefined;
  const training =
    m.checkpoint?.config.method === "jarzynski" && summary && Number.isFinite(summary.estimatorLogZ)
      ? { logz: summary.estimatorLogZ as number, stderr: summary.estimatorLogZSe ?? Number.NaN }
      : undefined;
  const warnings: string[] = [];
  if (est.se > 0.1)
    warnings.push(
      `the SE of log Z is ${fmt(est.se, 3)} nats: more --betas, --chains or --replicas reduce it`,
    );
  const runSe = est.runSe;
  if (raw.json) {
    console.log(
      JSON.stringify({
        logz: jnum(est.logZ),
        stderr: jnum(est.se),
        method,
        replicas: est.replicas,
        values: Array.from(est.values, (v) => jnum(v)),
        ...(runSe ? { reported_se: Array.from(runSe, (v) => jnum(v)) } : {}),
        base: base.bias ? "data base rates" : "model visible biases",
        base_source: base.source,
        base_logz: jnum(est.logZBase),
        betas: est.betas,
        schedule: "salakhutdinov-murray",
        chains: est.chains,
        ess: jnum(est.ess, 4),
        ...(est.resamplings !== undefined ? { resamplings: jnum(est.resamplings, 4) } : {}),
        ...(training
          ? { training_estimator: { logz: jnum(training.logz), stderr: jnum(training.stderr) } }
          : {}),
        model: m.path,
        visible: rbm.visible,
        hidden: rbm.hidden,
        seed,
        wall_seconds: jnum(seconds, 3),
        warnings,
      }),
    );
    return;
  }
  const walkers = method === "ais" ? "chains" : "walkers";
  const out = [
    describeRbm(m),
    `log Z = ${fmt(est.logZ, 4)} ± ${fmt(est.se, 4)} (${method}, ${est.replicas} replicas pooled on the Z scale, nats)`,
    `  from the base-rate model, ${base.source} (log Z_0 = ${fmt(est.logZBase, 4)}): ${est.betas} temperatures ` +
      `(Salakhutdinov–Murray spacing) × ${est.chains} ${walkers} per replica; mean final ESS ${fmt(est.ess, 1)} of ${est.chains}` +
      (est.resamplings !== undefined
        ? `, ${fmt(est.resamplings, 1)} resamplings (ESS < N/2); ${replicaSe(runSe)}`
        : "") +
      `; seed ${seed}, ${seconds.toFixed(1)} s`,
  ];
  if (training)
    out.push(
      `  the training run's estimator population at iteration ${m.checkpoint?.iteration}: ${fmt(training.logz, 4)} ${Number.isFinite(training.stderr) ? `± ${fmt(training.stderr, 4)}` : "(no Lee–Whiteley SE)"}`,
    );
  for (const w of warnings) out.push(`  warning: ${w}`);
  console.log(out.join("\n"));
}

export async function runLogzCommand(raw: RawLogzOptions, cmd?: Command): Promise<void> {
  if (raw.model === undefined)
    throw new UserError(
      "--model DIR is required (a folder written by `ebm train`, or an RBM .safetensors file)",
    );
  const given = (name: string) => {
    const src = cmd?.getOptionValueSource(name);
    return src !== undefined && src !== "default";
  };
  const rbm = loadRbm(raw.model);
  if (rbm) return runRbmLogz(raw, rbm, given);
  for (const k of ["betas", "chains", "data"])
    if (raw[k as "betas" | "chains" | "data"] !== undefined)
      throw new UserError(
        `--${k} applies to RBM models (this one anneals with --temperatures and --walkers)`,
      );
  const settings = parseAnnealOptions(raw);
  const seed = parseSeed("--seed", raw.seed);
  const tm = await loadTrainedModel(raw.model);
  const base = tm.base;
  const progress = progressBar(raw.progress && !raw.json);
  const t0 = performance.now();
  let run: AnnealRun;
  try {
    run = runAnnealing(tm.energy, base, settings, keyFromSeed(seed), (done, total) =>
      progress.update(`logz ${settings.method}`, done, total),
    );
  } finally {
    progress.stop();
  }
  const grid = gridCheck(tm.energy, base);
  const seconds = (performance.now() - t0) / 1000;
  const { summary } = run;
  const warnings = [...run.warnings];
  if (grid && grid.edgeMass > 1e-3)
    warnings.push(
      `the grid window cuts the density (edge mass ${fmt(grid.edgeMass, 4)}): the grid value is too small`,
    );
  const gap = grid ? (summary.mean - grid.logZ) / Math.hypot(run.se, grid.error) : Number.NaN;
  if (grid && Math.abs(gap) > 4)
    warnings.push(
      `${settings.method} and the grid differ by ${fmt(Math.abs(gap), 1)} SE: the annealing has not converged (more --temperatures, --walkers or --moves) or the grid is too coarse`,
    );
  if (raw.json) {
    console.log(
      JSON.stringify({
        logz: jnum(summary.mean),
        stderr: jnum(run.se),
        stderr_spread: jnum(run.seSpread),
        stderr_reported: jnum(run.seReported),
        method: settings.method,
        replicas: settings.replicas,
        values: Array.from(summary.values, (v) => jnum(v)),
        reported_se: Array.from(summary.ses, (v) => jnum(v)),
        sd: jnum(summary.sd),
        base_logz: jnum(run.logZBase),
        kernel: settings.kernel,
        step: jnum(run.step),
        step_source: run.stepSource,
        temperatures: settings.temperatures,
        walkers: settings.walkers,
        moves: settings.moves,
        acceptance: jnum(run.acceptance, 4),
        ess: jnum(run.ess, 4),
        resamplings: jnum(run.resamplings, 4),
        divergences: run.divergences,
        grid: grid
          ? {
              logz: jnum(grid.logZ),
              error: jnum(grid.error, 3),
              edge_mass: jnum(grid.edgeMass, 3),
              window: [grid.spec.xmin, grid.spec.xmax, grid.spec.ymin, grid.spec.ymax].filter(
                (v) => v !== undefined,
              ),
              n: grid.spec.n,
            }
          : null,
        model: tm.dir,
        dim: tm.energy.dim,
        seed,
        wall_seconds: jnum(seconds, 3),
        warnings,
      }),
    );
    return;
  }
  const out = [
    describeModel(tm),
    `log Z = ${fmt(summary.mean, 4)} ± ${fmt(run.se, 4)} (${settings.method}, ${settings.replicas} replicas, nats)`,
    `  from ${baseText(tm.base)} (log Z_0 = ${fmt(run.logZBase, 4)}): ${settings.temperatures} temperatures × ${settings.walkers} walkers, ` +
      `${settings.moves} ${settings.kernel} moves each, step ${fmt(run.step, 4)} (${run.stepSource}); ` +
      `${settings.moves === 0 ? "no moves (reweighting only)" : `acceptance ${fmt(run.acceptance, 2)}`}, final ESS ${fmt(run.ess, 0)} of ${settings.walkers}; seed ${seed}, ${seconds.toFixed(1)} s`,
  ];
  if (grid) {
    const win =
      grid.spec.ymin === undefined
        ? `[${fmt(grid.spec.xmin, 1)}, ${fmt(grid.spec.xmax, 1)}], ${grid.spec.n} cells`
        : `[${fmt(grid.spec.xmin, 1)}, ${fmt(grid.spec.xmax, 1)}]², ${grid.spec.n}² cells`;
    out.push(
      `  grid quadrature: log Z = ${fmt(grid.logZ, 4)} ± ${fmt(grid.error, 4)} (${win}; edge mass ${fmt(grid.edgeMass, 4)}); ${settings.method} − grid = ${fmt(summary.mean - grid.logZ, 4)} (${fmt(gap, 1)} SE)`,
    );
  }
  for (const w of warnings) out.push(`  warning: ${w}`);
  console.log(out.join("\n"));
}

export function logzCommand(cmd: Command): Command {
  return annealOptions(
    cmd.option("--model <dir|file>", "checkpoint folder written by `ebm train`, or an RBM .safetensors file"),
  )
    .option("--betas <K>", "RBM (ais, jarzynski): temperatures, Salakhutdinov–Murray spacing (default 1000)")
    .option("--chains <N>", "RBM (ais, jarzynski): chains or walkers per replica (default 100)")
    .option(
      "--data <file>",
      "RBM: 0/1 training data (.csv/.npy) whose pixel base rates define the base (default: the checkpoint's data)",
    )
    .option("--seed <n>", "random seed: an integer within ±2^53", "0")
    .option("--json", "print one JSON object on the last line of stdout")
    .option("--no-progress", "do not show a progress bar")
    .addHelpText(
      "after",
      "\nRBM models: --method exact (smaller layer ≤ 25 units), ais (default) or jarzynski, from the base-rate model.",
    )
    .action((opts: RawLogzOptions, c: Command) => runLogzCommand(opts, c));
}
