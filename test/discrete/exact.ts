/**
 * Helpers of the discrete tests: dense transition matrices from a kernel's exact rows, the stationarity
 * and detailed-balance residuals, total variation, a chi-square statistic for sampled transitions, and
 * a chain runner.
 */
import assert from "node:assert/strict";
import { writeState } from "../../src/energies/discrete.ts";
import { foldIn, type Key } from "../../src/random/key.ts";
import type {
  DiscreteChainState,
  DiscreteSampler,
  ExactTransitions,
} from "../../src/samplers/discrete/types.ts";
import type { StepInfo } from "../../src/samplers/types.ts";

/** P as m × m row-major, m = 2^stateSites, P[a·m + b] = P(state a → state b). */
export function transitionMatrix(k: ExactTransitions): Float64Array {
  const bits = k.stateSites;
  const m = 2 ** bits;
  const p = new Float64Array(m * m);
  const x = new Uint8Array(bits);
  for (let a = 0; a < m; a++) {
    writeState(a, bits, x);
    k.transitionRow(x, p.subarray(a * m, (a + 1) * m));
  }
  return p;
}

/** max_a |Σ_b P[a,b] − 1| and the most negative entry (0 if none). */
export function rowChecks(p: Float64Array, m: number): { rowSumErr: number; minEntry: number } {
  let rowSumErr = 0;
  let minEntry = 0;
  for (let a = 0; a < m; a++) {
    let s = 0;
    for (let b = 0; b < m; b++) {
      s += p[a * m + b];
      if (p[a * m + b] < minEntry) minEntry = p[a * m + b];
    }
    rowSumErr = Math.max(rowSumErr, Math.abs(s - 1));
  }
  return { rowSumErr, minEntry };
}

/** π P as a vector. */
export function pushForward(pi: Float64Array, p: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m);
  for (let a = 0; a < m; a++) {
    const w = pi[a];
    if (w === 0) continue;
    for (let b = 0; b < m; b++) out[b] += w * p[a * m + b];
  }
  return out;
}

/** max_b |(πP)_b − π_b|. */
export function stationarityError(pi: Float64Array, p: Float64Array, m: number): number {
  const q = pushForward(pi, p, m);
  let e = 0;
  for (let b = 0; b < m; b++) e = Math.max(e, Math.abs(q[b] - pi[b]));
  return e;
}

/** max_{a,b} |π_a P[a,b] − π_b P[b,a]|. */
export function detailedBalanceError(pi: Float64Array, p: Float64Array, m: number): number {
  let e = 0;
  for (let a = 0; a < m; a++)
    for (let b = a + 1; b < m; b++) e = Math.max(e, Math.abs(pi[a] * p[a * m + b] - pi[b] * p[b * m + a]));
  return e;
}

/** ½ Σ |p − q|. */
export function totalVariation(p: Float64Array, q: Float64Array): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += Math.abs(p[i] - q[i]);
  return s / 2;
}

/**
 * Pearson chi-square of observed counts against probabilities `expectedProb` (total N = Σ counts). Cells
 * with expected count < 5 are pooled into one cell, which counts when its expectation is ≥ 5 or when it
 * holds observations (so transitions to impossible states fail). Returns the statistic and its degrees
 * of freedom (cells − 1).
 */
export function chiSquare(counts: Float64Array, expectedProb: Float64Array): { stat: number; df: number } {
  let total = 0;
  for (const c of counts) total += c;
  let stat = 0;
  let cells = 0;
  let poolObs = 0;
  let poolExp = 0;
  for (let k = 0; k < counts.length; k++) {
    const e = total * expectedProb[k];
    if (e < 5) {
      poolObs += counts[k];
      poolExp += e;
      continue;
    }
    stat += (counts[k] - e) ** 2 / e;
    cells++;
  }
  if (poolExp >= 5 || poolObs > 0) {
    // A pool with a small expectation still counts: observations where (almost) none are expected fail.
    stat += (poolObs - poolExp) ** 2 / Math.max(poolExp, 1e-300);
    cells++;
  }
  return { stat, df: cells - 1 };
}

/** The "5 standard errors" bound of a chi-square with df degrees of freedom: df + 5√(2 df). */
export function chiSquareBound(df: number): number {
  return df + 5 * Math.sqrt(2 * df);
}

/** TV(δ_0 P^steps, π): the exact distance to π after `steps` steps from the all-zero state. */
export function exactTvFromZero(p: Float64Array, pi: Float64Array, steps: number): number {
  const m = pi.length;
  let dist: Float64Array = new Float64Array(m);
  dist[0] = 1;
  for (let t = 0; t < steps; t++) dist = pushForward(dist, p, m);
  return totalVariation(dist, pi);
}

/** Runs `steps` steps (keys foldIn(key, t)) of n chains from the all-zero state, asserting no divergence. */
export function runChains<S extends DiscreteChainState>(
  s: DiscreteSampler<S, StepInfo>,
  sites: number,
  n: number,
  steps: number,
  key: Key,
): S {
  const state = s.init(new Uint8Array(n * sites), n);
  for (let t = 0; t < steps; t++) {
    const { info } = s.step(foldIn(key, t), state);
    assert.equal(
      info.divergent.reduce((a, b) => a + b, 0),
      0,
    );
  }
  return state;
}
