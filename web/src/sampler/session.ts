/**
 * One run of the sampler tab: the core's runContinuous (warm-up with Stan's window adaptation unless a step
 * is fixed, then the draws) on a 2-D target, and the diagnostics of src/eval/diagnostics.ts on its draws.
 * A pure function of its settings (the seed among them): the sampler worker runs it in a browser, the tests
 * in Node, and both get the same bits, because nothing on the path calls the host's Math.exp/log/pow/sin/cos
 * (test/web/sampler.test.ts checks that). `ebm sample` runs the same function with the same options, so the
 * command the page shows (settings.ts cliCommand) prints the same table.
 */
import {
  diagnosticWarnings,
  keyFromSeed,
  type QuantitySummary,
  type RunProgress,
  runContinuous,
  summarize,
} from "../../../src/index.ts";
import { checkSamplerSettings, type SamplerSettings, type TargetName } from "./settings.ts";
import { buildTarget, densityGrid } from "./targets.ts";

/** What the page draws under the draws: the density on a grid, and the exact moments. */
export interface TargetView {
  target: TargetName;
  window: [number, number, number, number];
  gridN: number;
  /** e^{−U} relative to its largest value on the grid, x-major. */
  density: Float64Array;
  mean: [number, number];
  sd: [number, number];
}

export function targetView(name: TargetName, gridN = 120): TargetView {
  const t = buildTarget(name);
  return { target: name, window: t.window, gridN, density: densityGrid(t, gridN), mean: t.mean, sd: t.sd };
}

export interface SamplerResult {
  settings: SamplerSettings;
  chains: number;
  numDraws: number;
  /** numDraws × chains × 2, row-major (the layout of the core's samplers and diagnostics). */
  draws: Float64Array;
  /** Per coordinate: mean, sd, bulk and tail ESS, rank-normalized split R-hat, MCSE of the mean and sd. */
  summaries: QuantitySummary[];
  exactMean: [number, number];
  exactSd: [number, number];
  /** Mean acceptance statistic over the sampling steps of all chains (NUTS: Stan's accept_stat). */
  acceptance: number;
  /** Divergent transitions after warm-up, and during it. */
  divergences: number;
  warmupDivergences: number;
  /** numDraws × chains: 1 where a divergent transition led to the draw (the page marks them). */
  divergent: Uint8Array;
  /** The step size used for the draws (adapted, or the fixed one), and the adapted inverse mass. */
  step: number | undefined;
  inverseMass: number[] | undefined;
  /** Diagnostic warnings, one line each. */
  warnings: string[];
}

const SUB = ["₁", "₂"];

/** Runs `s` to the end (throws a RangeError naming the problems of invalid settings). */
export function runSampler(s: SamplerSettings, onProgress?: RunProgress): SamplerResult {
  const problems = checkSamplerSettings(s);
  if (problems.length > 0) throw new RangeError(problems.join("; "));
  const t = buildTarget(s.target);
  const r = runContinuous(t.energy, {
    sampler: s.sampler,
    chains: s.chains,
    warmup: s.warmup,
    draws: s.draws,
    step: s.adapt ? undefined : s.step,
    leapfrogSteps: s.leapfrog,
    key: keyFromSeed(s.seed),
    onProgress,
  });
  const summaries = summarize(r.draws, r.chains, r.dim);
  const warnings = diagnosticWarnings(summaries, r.chains, r.numDraws, { name: (j) => `x${SUB[j]}` }).map(
    (w) => w.message,
  );
  if (r.divergences > 0)
    warnings.push(
      `${r.divergences} divergent transitions after warm-up (energy error above 1000, or not finite): the draws may miss regions of high curvature; a smaller step helps`,
    );
  return {
    settings: { ...s },
    chains: r.chains,
    numDraws: r.numDraws,
    draws: r.draws,
    summaries,
    exactMean: t.mean,
    exactSd: t.sd,
    acceptance: r.acceptance,
    divergences: r.divergences,
    warmupDivergences: r.warmupDivergences,
    divergent: r.divergentDraws,
    step: r.step,
    inverseMass: r.inverseMass ? Array.from(r.inverseMass) : undefined,
    warnings,
  };
}
