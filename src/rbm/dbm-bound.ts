/**
 * The mean-field variational lower bound on a DBM's log-likelihood (Salakhutdinov & Hinton 2009, §3–4):
 *
 *   log p(v) ≥ −E_q[E(v, h1, h2)] + H(q) − log Z = −F_q(v) − log Z,
 *
 * with q the factorised mean-field fixed point of `Dbm.meanField` and F_q = E_q[E] − H(q) its variational
 * free energy (`Dbm.variationalFreeEnergy`), in nats. The gap is KL(q ‖ p(h | v)) ≥ 0: zero when the true
 * posterior factorises (W2 = 0 makes h1 and h2 independent given v).
 *
 * log Z comes from outside: exact (rbm/dbm-ais.ts `dbmExactLogZ`, SE 0) or AIS (`dbmLogZ`, with its SE).
 * The per-row bound is deterministic given log Z, so the SE of the mean bound from log Z is exactly
 * SE(log Ẑ); the test set's own sampling spread is reported separately (`sd`, per row). AIS's log Ẑ is
 * biased low, so the estimated bound is biased high by about SE²/2.
 */
import type { Dbm, DbmMeanFieldOptions } from "../energies/dbm.ts";

export interface DbmBound {
  /** Per row: −F_q(v_s) − log Z. */
  perRow: Float64Array;
  /** Mean over the rows. */
  mean: number;
  /** The SE of `mean` from log Z (= the SE passed in). */
  se: number;
  /** Sample standard deviation of the per-row bounds (the data's spread, not Monte Carlo). */
  sd: number;
  /** Mean-field: rows that reached the tolerance, the largest final residual and the most sweeps. */
  converged: number;
  maxResidual: number;
  maxIterations: number;
}

/**
 * The bound for the n rows of `v` (0/1 values, n × V), given log Z and its SE (0 for exact).
 */
export function dbmVariationalBound(
  model: Dbm,
  v: ArrayLike<number>,
  n: number,
  logZ: { logZ: number; se?: number },
  opts: DbmMeanFieldOptions = {},
): DbmBound {
  if (v.length < n * model.visible)
    throw new RangeError(`data holds fewer than ${n} rows of ${model.visible}`);
  const mf = model.meanField(v, n, opts);
  const perRow = new Float64Array(n);
  model.variationalFreeEnergy(v, mf.mu1, mf.mu2, n, perRow);
  let mean = 0;
  for (let s = 0; s < n; s++) {
    perRow[s] = -perRow[s] - logZ.logZ;
    mean += perRow[s] / n;
  }
  let ss = 0;
  for (let s = 0; s < n; s++) ss += (perRow[s] - mean) ** 2;
  let maxResidual = 0;
  let maxIterations = 0;
  for (let s = 0; s < n; s++) {
    maxResidual = Math.max(maxResidual, mf.residual[s]);
    maxIterations = Math.max(maxIterations, mf.iterations[s]);
  }
  return {
    perRow,
    mean,
    se: logZ.se ?? 0,
    sd: n > 1 ? Math.sqrt(ss / (n - 1)) : Number.NaN,
    converged: mf.converged,
    maxResidual,
    maxIterations,
  };
}

/** Exact log p(v_s) = −F(v_s) − log Z for small models (F by enumeration, Dbm.energy). */
export function dbmExactLogLikelihood(
  model: Dbm,
  v: Float64Array | Uint8Array,
  n: number,
  logZ: number,
): Float64Array {
  const f = new Float64Array(n);
  model.energy(v, n, f);
  for (let s = 0; s < n; s++) f[s] = -f[s] - logZ;
  return f;
}
