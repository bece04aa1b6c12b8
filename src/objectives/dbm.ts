/**
 * Joint training of a two-layer DBM (energies/dbm.ts) by the procedure of Salakhutdinov & Hinton (2009,
 * §3): a mean-field positive phase and a persistent-chain (PCD, Tieleman 2008) negative phase, as an
 * Objective of the library's trainer:
 *
 *   train({ model: dbm, objective: dbmMeanFieldPcd({ chains: 100, sweeps: 3 }), optimizer, data, … })
 *
 * The loss is −E_data[log p(v)]; its gradient is E_data[E_{p(h|v)}[∂θE]] − E_model[∂θE], with
 * ∂θE = −T(v, h1, h2), T = (v h1ᵀ, h1 h2ᵀ, v, h1, h2). `gradient` writes the estimate
 *
 *   grad = E_model[T] − E_data[T_q],
 *
 * positive phase: T_q = (v μ1ᵀ, μ1 μ2ᵀ, v, μ1, μ2) at the mean-field fixed point q of each batch row
 * (the exact posterior expectation is intractable; q replaces it, which maximises the variational bound
 * rather than the likelihood itself); negative phase: `chains` persistent chains take `sweeps` two-phase
 * block-Gibbs sweeps under θ_k, then contribute T with h1 replaced by p(h1 | v, h2) = σ(c1 + vᵀW1 + W2h2)
 * (Rao–Blackwellised: the same expectation, lower variance). The chains start at independent draws of
 * the initial model's biases-only approximation (Dbm.initChains).
 *
 * Weight decay and momentum belong to the optimizer (e.g. train/momentum.ts:
 * chain(addDecayedWeights(wd, dbm.weightCount), trace(μ), sgd(lr))).
 *
 * State: plain data (the chains' bytes and the last mean-field diagnostics), so the trainer's state
 * round-trips through train/state-codec.ts and a resumed run continues bit for bit.
 */
import type { TrainableEnergy } from "../energies/contract.ts";
import { Dbm, type DbmChains, type DbmMeanFieldOptions } from "../energies/dbm.ts";
import { sigmoid } from "../math/logistic.ts";
import type { Key } from "../random/key.ts";
import type { Batch, Objective, ObjectiveDiagnostics } from "./objective.ts";

export interface DbmMeanFieldPcdOptions {
  /** Persistent chains (default 100). */
  chains?: number;
  /** Block-Gibbs sweeps of the chains per iteration (default 3). */
  sweeps?: number;
  /** The positive phase's fixed-point iteration (default tolerance 1e-6, at most 50 sweeps, no damping). */
  meanField?: DbmMeanFieldOptions;
}

export interface DbmPcdState {
  chains: DbmChains;
  /** Of the last batch: rows whose mean field converged, the largest residual, the most sweeps taken. */
  meanField: { converged: number; rows: number; maxResidual: number; maxIterations: number };
}

export interface DbmPcdDiagnostics extends ObjectiveDiagnostics {
  meanFieldConverged: number;
  meanFieldMaxResidual: number;
  meanFieldMaxIterations: number;
}

function asDbm(model: TrainableEnergy): Dbm {
  if (!(model instanceof Dbm))
    throw new TypeError("the DBM mean-field/PCD objective trains a Dbm (energies/dbm.ts)");
  return model;
}

function checkBinary(batch: Batch, dim: number): void {
  const len = batch.n * dim;
  for (let q = 0; q < len; q++) {
    const x = batch.x[q];
    if (x !== 0 && x !== 1)
      throw new RangeError(
        `DBM training data must be 0/1, found ${x} at row ${Math.floor(q / dim)}, column ${q % dim}`,
      );
  }
}

/**
 * out += scale · Σ_s T(v_s, a_s, c_s) with a the h1 statistics (n × H1) and c the h2 statistics (n × H2),
 * in θ order.
 */
function addStatistics(
  model: Dbm,
  v: ArrayLike<number>,
  a: ArrayLike<number>,
  c: ArrayLike<number>,
  n: number,
  scale: number,
  out: Float64Array,
): void {
  const { visible: nv, hidden1: n1, hidden2: n2, layout: L } = model;
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < nv; i++) {
      const x = v[s * nv + i];
      if (x === 0) continue;
      out[L.b + i] += scale * x;
      const row = L.W1 + i * n1;
      for (let j = 0; j < n1; j++) out[row + j] += scale * x * a[s * n1 + j];
    }
    for (let j = 0; j < n1; j++) {
      const y = a[s * n1 + j];
      out[L.c1 + j] += scale * y;
      if (y === 0) continue;
      const row = L.W2 + j * n2;
      for (let k = 0; k < n2; k++) out[row + k] += scale * y * c[s * n2 + k];
    }
    for (let k = 0; k < n2; k++) out[L.c2 + k] += scale * c[s * n2 + k];
  }
}

export function dbmMeanFieldPcd(opts: DbmMeanFieldPcdOptions = {}): Objective<DbmPcdState> & {
  diagnostics(state: DbmPcdState): DbmPcdDiagnostics;
} {
  const m = opts.chains ?? 100;
  const sweeps = opts.sweeps ?? 3;
  if (!(Number.isInteger(m) && m >= 1)) throw new RangeError(`chains must be an integer ≥ 1, got ${m}`);
  if (!(Number.isInteger(sweeps) && sweeps >= 1))
    throw new RangeError(`sweeps must be an integer ≥ 1, got ${sweeps}`);
  const mfOpts: DbmMeanFieldOptions = { tolerance: 1e-6, maxIterations: 50, ...opts.meanField };
  return {
    name: "dbm_mf_pcd",
    init(key, model) {
      const dbm = asDbm(model);
      return {
        chains: dbm.initChains(key, m),
        meanField: { converged: 0, rows: 0, maxResidual: Number.NaN, maxIterations: 0 },
      };
    },
    gradient(key: Key, state, model, batch, grad) {
      const dbm = asDbm(model);
      checkBinary(batch, dbm.visible);
      const n = batch.n;
      grad.fill(0);
      // Positive phase: −(1/n) Σ T_q.
      const mf = dbm.meanField(batch.x, n, mfOpts);
      addStatistics(dbm, batch.x, mf.mu1, mf.mu2, n, -1 / n, grad);
      let maxResidual = 0;
      let maxIterations = 0;
      for (let s = 0; s < n; s++) {
        maxResidual = Math.max(maxResidual, mf.residual[s]);
        maxIterations = Math.max(maxIterations, mf.iterations[s]);
      }
      state.meanField = { converged: mf.converged, rows: n, maxResidual, maxIterations };
      // Negative phase: the persistent chains move under θ_k, then +(1/m) Σ T with h1 Rao–Blackwellised.
      const c = state.chains;
      dbm.gibbs(key, c, sweeps);
      const p1 = new Float64Array(c.n * dbm.hidden1);
      dbm.hidden1Field(c.v, c.h2, c.n, p1);
      for (let q = 0; q < p1.length; q++) p1[q] = sigmoid(p1[q]);
      addStatistics(dbm, c.v, p1, c.h2, c.n, 1 / c.n, grad);
    },
    afterUpdate() {},
    diagnostics: (s) => ({
      meanFieldConverged: s.meanField.rows > 0 ? s.meanField.converged / s.meanField.rows : Number.NaN,
      meanFieldMaxResidual: s.meanField.maxResidual,
      meanFieldMaxIterations: s.meanField.maxIterations,
    }),
  };
}
