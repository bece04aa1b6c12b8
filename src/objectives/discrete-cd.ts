/**
 * Contrastive divergence on binary data for a network energy (any TrainableEnergy whose inputs are the
 * d sites, read at 0/1 points): the discrete counterparts of objectives/contrastive-divergence.ts, with
 * the walkers moved by Gibbs-with-Gradients or DMALA (discrete-move.ts). Data rows are 0/1 float64.
 *
 * - `discreteCd` (CD-k, Hinton 2002): every iteration one chain starts at each row of the minibatch and
 *   makes k steps under θ_k; the gradient is E_data[∂θU] − mean over the chains of ∂θU. The chains never
 *   leave the neighbourhood of the data, so the model is only corrected there.
 * - `discretePcd` (PCD-k, Tieleman 2008): N persistent chains, started as exact uniform draws from
 *   {0,1}^d; the gradient uses them as they are under θ_k, then (afterUpdate) they make k steps under
 *   θ_{k+1}. They follow ρ_θ only if they mix faster than θ moves.
 * Both are biased (the negative samples are not from ρ_θk); neither estimates log Z. Diagnostics: the mean
 * acceptance of the moves so far.
 */
import { float64ToBits } from "../energies/binary-view.ts";
import { likelihoodGradient, type Objective, type ObjectiveDiagnostics } from "./objective.ts";
import {
  chainsOf,
  copyBitsToRows,
  type DiscreteMoveOptions,
  type MoveStats,
  moveStats,
  resolveDiscreteMove,
  runMoves,
  uniformStates,
} from "./discrete-move.ts";

export interface DiscreteCdState {
  /** Chain states as bytes and as 0/1 float64 rows (n × sites), with their cached U and ∇U. */
  x: Uint8Array;
  rows: Float64Array;
  u: Float64Array;
  grad: Float64Array;
  /** Equal weights 1/n. */
  weights: Float64Array;
  moves: MoveStats;
}

export interface DiscreteCdDiagnostics extends ObjectiveDiagnostics {
  /** Mean acceptance probability of the moves so far (NaN before any). */
  acceptance: number;
}

export interface DiscreteCdObjective extends Objective<DiscreteCdState> {
  diagnostics(state: DiscreteCdState): DiscreteCdDiagnostics;
}

function emptyChains(n: number, d: number): DiscreteCdState {
  return {
    x: new Uint8Array(n * d),
    rows: new Float64Array(n * d),
    u: new Float64Array(n),
    grad: new Float64Array(n * d),
    weights: new Float64Array(n).fill(1 / n),
    moves: moveStats(),
  };
}

function diagnostics(s: DiscreteCdState): DiscreteCdDiagnostics {
  return { acceptance: s.moves.proposals > 0 ? s.moves.acceptSum / s.moves.proposals : Number.NaN };
}

/** CD-k with discrete moves: the chains start at the minibatch rows (module comment). */
export function discreteCd(opts: DiscreteMoveOptions = {}): DiscreteCdObjective {
  const move = resolveDiscreteMove(opts, "discrete cd");
  return {
    name: "cd",
    init(_key, model) {
      return emptyChains(0, model.dim);
    },
    gradient(key, s, model, batch, grad) {
      const d = model.dim;
      const n = batch.n;
      // One chain per minibatch row (the trainer's minibatch size is fixed: allocated once).
      if (s.u.length !== n) {
        const fresh = emptyChains(n, d);
        s.x = fresh.x;
        s.rows = fresh.rows;
        s.u = fresh.u;
        s.grad = fresh.grad;
        s.weights = fresh.weights;
      }
      float64ToBits(batch.x, n * d, s.x);
      const kernel = move.kernel(model);
      const chains = chainsOf(s.x, s.u, s.grad, d);
      kernel.refresh(chains);
      runMoves(key, kernel, chains, move.steps, s.moves);
      copyBitsToRows(s.x, s.rows);
      likelihoodGradient(model, batch, s.rows, n, s.weights, grad);
    },
    afterUpdate() {},
    diagnostics,
  };
}

export interface DiscretePcdOptions extends DiscreteMoveOptions {
  /** Number of persistent chains N. */
  walkers: number;
}

/** PCD-k with discrete moves: persistent chains from exact uniform draws (module comment). */
export function discretePcd(opts: DiscretePcdOptions): DiscreteCdObjective {
  const n = opts.walkers;
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`pcd: walkers must be an integer ≥ 1, got ${n}`);
  const move = resolveDiscreteMove(opts, "discrete pcd");
  return {
    name: "pcd",
    init(key, model) {
      const d = model.dim;
      const s = emptyChains(n, d);
      s.x.set(uniformStates(key, n, d));
      copyBitsToRows(s.x, s.rows);
      return s;
    },
    gradient(_key, s, model, batch, grad) {
      likelihoodGradient(model, batch, s.rows, n, s.weights, grad);
    },
    afterUpdate(key, s, model) {
      // The caches hold θ_k's values: refresh them so the moves are under θ_{k+1}.
      const kernel = move.kernel(model);
      const chains = chainsOf(s.x, s.u, s.grad, model.dim);
      kernel.refresh(chains);
      runMoves(key, kernel, chains, move.steps, s.moves);
      copyBitsToRows(s.x, s.rows);
    },
    diagnostics,
  };
}
