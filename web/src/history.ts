/**
 * A run's history as the page accumulates it from snapshots: the curves (log Z, ESS, loss, NLL), the
 * resampling iterations, and the latest snapshot. `summarize` turns it into plain JSON numbers, the form
 * in which the playground test compares a page run with the same run in Node. Import-free at run time.
 */
import type { Snapshot } from "./session.ts";

export interface RunHistory {
  /** Per snapshot: iteration, grid log Z ± quadrature error, NLL. */
  snapIteration: number[];
  logZGrid: number[];
  logZGridError: number[];
  nll: number[];
  /** Per snapshot: the model's grid mode masses (empty lists when the data have no centres). */
  gridMasses: number[][];
  /** Per iteration: the method's log Z ± SE, ESS/N, resampled?, own loss (NaN where absent). */
  iteration: number[];
  logZ: number[];
  logZSe: number[];
  ess: number[];
  loss: number[];
  /** Iterations at which the walkers were resampled. */
  resampledAt: number[];
  last?: Snapshot;
}

export function emptyHistory(): RunHistory {
  return {
    snapIteration: [],
    logZGrid: [],
    logZGridError: [],
    nll: [],
    gridMasses: [],
    iteration: [],
    logZ: [],
    logZSe: [],
    ess: [],
    loss: [],
    resampledAt: [],
  };
}

/** Adds a snapshot (its trace rows and its grid numbers); a repeated iteration replaces nothing. */
export function addSnapshot(h: RunHistory, s: Snapshot): void {
  for (const row of s.trace) {
    h.iteration.push(row.iteration);
    h.logZ.push(row.logZ ?? Number.NaN);
    h.logZSe.push(row.logZSe ?? Number.NaN);
    h.ess.push(row.ess ?? Number.NaN);
    h.loss.push(row.loss ?? Number.NaN);
    if (row.resampled) h.resampledAt.push(row.iteration);
  }
  if (h.snapIteration[h.snapIteration.length - 1] !== s.iteration) {
    h.snapIteration.push(s.iteration);
    h.logZGrid.push(s.logZGrid);
    h.logZGridError.push(s.logZGridError);
    h.nll.push(s.nll);
    h.gridMasses.push(s.masses ? [...s.masses.grid] : []);
  }
  h.last = s;
}

/** JSON-safe numbers (NaN and ±∞ as strings, so a comparison sees them). */
function j(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

export interface RunSummary {
  iteration: number;
  theta: string;
  densityDigest: string;
  logZGrid: number | string;
  logZGridError: number | string;
  nll: number | string;
  masses: Record<string, (number | string)[]>;
  resamplings: number;
  resampledAt: number[];
  walkers: number;
  walkerDigest: string;
  curves: Record<string, (number | string)[]>;
  /** The model's grid mode masses at each snapshot. */
  massTrace: (number | string)[][];
}

/** FNV-1a (32-bit) of a list of numbers' float64 bits: a short fingerprint of arrays too long to show. */
export function fingerprint(v: ArrayLike<number>): string {
  const f = new Float64Array(Array.from(v));
  const b = new Uint8Array(f.buffer);
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

/** The history's numbers as plain JSON (the last snapshot's and every curve). */
export function summarize(h: RunHistory): RunSummary {
  const s = h.last;
  if (!s) throw new Error("no snapshot yet");
  const masses: Record<string, (number | string)[]> = {};
  if (s.masses) for (const [k, v] of Object.entries(s.masses)) if (Array.isArray(v)) masses[k] = v.map(j);
  return {
    iteration: s.iteration,
    theta: s.theta,
    densityDigest: s.densityDigest,
    logZGrid: j(s.logZGrid),
    logZGridError: j(s.logZGridError),
    nll: j(s.nll),
    masses,
    resamplings: s.resamplings,
    resampledAt: [...h.resampledAt],
    walkers: s.walkers ? s.walkers.length / 2 : 0,
    walkerDigest: fingerprint([...(s.walkers ?? []), ...(s.weights ?? [])]),
    curves: {
      snapIteration: h.snapIteration.map(j),
      logZGrid: h.logZGrid.map(j),
      nll: h.nll.map(j),
      logZ: h.logZ.map(j),
      logZSe: h.logZSe.map(j),
      ess: h.ess.map(j),
      loss: h.loss.map(j),
    },
    massTrace: h.gridMasses.map((m) => m.map(j)),
  };
}
