/**
 * Exact maximum likelihood for an energy on a small binary space {0,1}^d (d ≤ MAX_ENUMERABLE_SITES): the
 * model term of the gradient, Σ_x p_θ(x) ∂θU(x), summed over all 2^d states instead of estimated from
 * walkers. It is the gradient that CD, PCD and Jarzynski SMC estimate, with neither sampling error nor bias,
 * so a run with it is the reference for them: what the same model, optimizer and data reach when the
 * negative phase is exact. The model is any TrainableEnergy read at 0/1 rows (a network on the bits).
 *
 * Cost per iteration: U at every state, then one weighted parameter gradient over every state (weights
 * −p_θ(x)), in chunks of CHUNK states so memory stays O(2^d) floats. Deterministic: the chunks' gradients are
 * added in state order.
 *
 * Diagnostics: log Z_θ (exact, at the θ the last gradient was taken at), log Z_θ − log Z_θ₀ (logZRatio) and
 * the exact NLL of the last minibatch in nats (loss).
 */
import type { TrainableEnergy } from "../energies/contract.ts";
import { MAX_ENUMERABLE_SITES } from "../energies/discrete.ts";
import { logSumExp } from "../math/logspace.ts";
import type { Objective, ObjectiveDiagnostics } from "./objective.ts";

/** States per energy or parameter-gradient call. */
const CHUNK = 4096;

export interface DiscreteExactState {
  /** U_θ at every state (index k: site j is bit j of k), at the θ of the last gradient. */
  u: Float64Array;
  logZ0: number;
  logZ: number;
  /** Exact NLL (nats) of the last minibatch. */
  loss: number;
}

export interface DiscreteExactDiagnostics extends ObjectiveDiagnostics {
  logZ: number;
  logZRatio: number;
  loss: number;
}

export interface DiscreteExactObjective extends Objective<DiscreteExactState> {
  diagnostics(state: DiscreteExactState): DiscreteExactDiagnostics;
}

/** States start … start + m − 1 as 0/1 float64 rows (m × d) into `rows`. */
function writeRows(start: number, m: number, d: number, rows: Float64Array): void {
  for (let i = 0; i < m; i++) {
    const k = start + i;
    for (let j = 0; j < d; j++) rows[i * d + j] = (k >>> j) & 1;
  }
}

/** U at every state of {0,1}^d into `u`; returns log Σ e^{−U}. */
function enumerate(model: TrainableEnergy, u: Float64Array, rows: Float64Array): number {
  const d = model.dim;
  const total = u.length;
  for (let start = 0; start < total; start += CHUNK) {
    const m = Math.min(CHUNK, total - start);
    writeRows(start, m, d, rows);
    model.energy(rows.subarray(0, m * d), m, u.subarray(start, start + m));
  }
  const neg = new Float64Array(total);
  for (let k = 0; k < total; k++) neg[k] = -u[k];
  return logSumExp(neg);
}

/** Maximum likelihood with the exact model expectation over all 2^d states (module comment). */
export function discreteExactLikelihood(): DiscreteExactObjective {
  let rows = new Float64Array(0);
  let weights = new Float64Array(0);
  let part = new Float64Array(0);
  let batchU = new Float64Array(0);
  const scratch = (d: number, numParams: number) => {
    if (rows.length < CHUNK * d) rows = new Float64Array(CHUNK * d);
    if (weights.length < CHUNK) weights = new Float64Array(CHUNK);
    if (part.length !== numParams) part = new Float64Array(numParams);
  };
  return {
    name: "exact",
    init(_key, model) {
      const d = model.dim;
      if (!(Number.isInteger(d) && d >= 1 && d <= MAX_ENUMERABLE_SITES))
        throw new RangeError(
          `exact likelihood: the model has ${d} inputs; enumeration needs 1 to ${MAX_ENUMERABLE_SITES} binary sites`,
        );
      scratch(d, model.numParams);
      const u = new Float64Array(2 ** d);
      const logZ0 = enumerate(model, u, rows);
      return { u, logZ0, logZ: logZ0, loss: Number.NaN };
    },
    gradient(_key, s, model, batch, grad) {
      const d = model.dim;
      scratch(d, model.numParams);
      s.logZ = enumerate(model, s.u, rows);
      if (!Number.isFinite(s.logZ))
        throw new Error(`exact likelihood: log Z is ${s.logZ} (the energy diverged)`);
      // Data term: mean ∂θU over the minibatch; and its exact NLL.
      const n = batch.n;
      if (batchU.length < n) batchU = new Float64Array(n);
      model.energy(batch.x, n, batchU);
      let mean = 0;
      for (let i = 0; i < n; i++) mean += batchU[i];
      s.loss = mean / n + s.logZ;
      if (weights.length < n) weights = new Float64Array(n);
      weights.fill(1 / n, 0, n);
      model.paramGrad(batch.x, n, weights.subarray(0, n), grad);
      // Model term: −Σ_x p_θ(x) ∂θU(x), chunk by chunk in state order.
      const total = s.u.length;
      for (let start = 0; start < total; start += CHUNK) {
        const m = Math.min(CHUNK, total - start);
        let any = false;
        for (let i = 0; i < m; i++) {
          const p = Math.exp(-s.u[start + i] - s.logZ);
          weights[i] = -p;
          if (p > 0) any = true;
        }
        if (!any) continue; // every p underflowed to 0: the chunk adds exactly nothing
        writeRows(start, m, d, rows);
        model.paramGrad(rows.subarray(0, m * d), m, weights.subarray(0, m), part);
        for (let j = 0; j < grad.length; j++) grad[j] += part[j];
      }
    },
    afterUpdate() {},
    diagnostics(s) {
      return { logZ: s.logZ, logZRatio: s.logZ - s.logZ0, loss: s.loss };
    },
  };
}
