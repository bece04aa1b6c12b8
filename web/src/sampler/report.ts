/**
 * A sampler run's numbers as plain data (the page's test hook hands them to Node, which compares them with
 * its own run bit for bit) and the formatting of estimates with their error bars. Import-free but for types,
 * so the page can use it without the core.
 */
import type { SamplerResult } from "./session.ts";

export interface ResultNumbers {
  /** numDraws × chains × 2 draws, row-major. */
  draws: number[];
  summaries: {
    mean: number;
    sd: number;
    ess_bulk: number;
    ess_tail: number;
    rhat: number;
    mcse_mean: number;
    mcse_sd: number;
  }[];
  exactMean: number[];
  exactSd: number[];
  acceptance: number;
  divergences: number;
  warmupDivergences: number;
  /** Indices (draw × chains + chain) of the draws a divergent transition led to. */
  divergentDraws: number[];
  step: number | null;
  inverseMass: number[] | null;
  warnings: string[];
}

export function resultNumbers(r: SamplerResult): ResultNumbers {
  return {
    draws: Array.from(r.draws),
    summaries: r.summaries.map((s) => ({
      mean: s.mean,
      sd: s.sd,
      ess_bulk: s.ess_bulk,
      ess_tail: s.ess_tail,
      rhat: s.rhat,
      mcse_mean: s.mcse_mean,
      mcse_sd: s.mcse_sd,
    })),
    exactMean: [...r.exactMean],
    exactSd: [...r.exactSd],
    acceptance: r.acceptance,
    divergences: r.divergences,
    warmupDivergences: r.warmupDivergences,
    divergentDraws: r.divergent.reduce<number[]>((a, v, i) => (v ? (a.push(i), a) : a), []),
    step: r.step ?? null,
    inverseMass: r.inverseMass ? [...r.inverseMass] : null,
    warnings: [...r.warnings],
  };
}

/** Digits enough to show an estimate against its standard error: two significant digits of the error. */
function digitsFor(se: number): number {
  if (!(se > 0) || !Number.isFinite(se)) return 3;
  return Math.max(0, Math.min(6, 1 - Math.floor(Math.log10(se))));
}

/** "1.234 ± 0.056" (the error to two significant digits, the estimate to the same decimals); "–" for NaN. */
export function withError(v: number, se: number): string {
  if (!Number.isFinite(v)) return "–";
  const d = digitsFor(se);
  return Number.isFinite(se) ? `${v.toFixed(d)} ± ${se.toFixed(d)}` : `${v.toFixed(d)} ± –`;
}

/** A number to `digits` decimals, "–" when not finite. */
export function fixed(v: number | undefined, digits: number): string {
  return v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits);
}

/** The Vehtari et al. (2021) thresholds the core's diagnosticWarnings uses. */
export const MAX_RHAT = 1.01;
export const MIN_ESS_PER_CHAIN = 100;
