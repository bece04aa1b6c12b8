/**
 * Contrastive divergence. CD-k restarts its walkers at data points every iteration and runs k ULA steps
 * under θ_k before taking the gradient; PCD keeps persistent walkers (started at the initial model) and
 * moves them k ULA steps under θ_{k+1} after each update. Both use unweighted walkers: when the modes are
 * separated by barriers the walkers cannot cross, so neither learns the relative masses (CD-1 barely moves,
 * PCD collapses onto one mode).
 */
import type { TrainableEnergy } from "../energies/contract.ts";
import { type Key, Stream, split } from "../random/key.ts";
import type { ChainState } from "../samplers/types.ts";
import { initChainState, langevinProposal } from "../samplers/ula.ts";
import { type Batch, likelihoodGradient, type Objective } from "./objective.ts";
import { startWalkers, type WalkerInit } from "./walkers-init.ts";

export interface CdOptions {
  /** Number of negative samples (walkers). */
  walkers: number;
  /** ULA step size h. */
  step: number;
  /** ULA steps per iteration (default 1). */
  k?: number;
}

/** k ULA steps under the model's current θ; each step evaluates ∇U once, so u/grad end up stale. */
function ulaSteps(key: Key, model: TrainableEnergy, s: ChainState, h: number, k: number): void {
  const keys = split(key, k);
  for (let t = 0; t < k; t++) {
    model.energyAndGrad(s.position, s.n, s.u, s.grad);
    langevinProposal(new Stream(keys[t]), s.position, s.grad, s.n * s.dim, h, 1, s.position);
  }
}

interface CdState {
  x: Float64Array;
  u: Float64Array;
  grad: Float64Array;
  weights: Float64Array;
}

export function contrastiveDivergence(opts: CdOptions): Objective<CdState> {
  const n = opts.walkers;
  const k = opts.k ?? 1;
  return {
    name: "cd",
    init(_key, model) {
      return {
        x: new Float64Array(n * model.dim),
        u: new Float64Array(n),
        grad: new Float64Array(n * model.dim),
        weights: new Float64Array(n).fill(1 / n),
      };
    },
    gradient(key, s, model, batch: Batch, grad) {
      const d = model.dim;
      const [kPick, kMove] = split(key, 2);
      const rng = new Stream(kPick);
      for (let i = 0; i < n; i++) {
        const j = rng.integer(batch.n);
        for (let a = 0; a < d; a++) s.x[i * d + a] = batch.x[j * d + a];
      }
      ulaSteps(kMove, model, { n, dim: d, position: s.x, u: s.u, grad: s.grad }, opts.step, k);
      likelihoodGradient(model, batch, s.x, n, s.weights, grad);
    },
    afterUpdate() {},
    diagnostics: () => ({}),
  };
}

interface PcdState {
  chains: ChainState;
  weights: Float64Array;
}

export function persistentContrastiveDivergence(
  opts: CdOptions & { init?: WalkerInit },
): Objective<PcdState> {
  const n = opts.walkers;
  const k = opts.k ?? 1;
  return {
    name: "pcd",
    init(key, model) {
      const start = startWalkers(key, model, n, opts.init);
      return { chains: initChainState(model, start.x, n), weights: new Float64Array(n).fill(1 / n) };
    },
    gradient(_key, s, model, batch, grad) {
      likelihoodGradient(model, batch, s.chains.position, n, s.weights, grad);
    },
    afterUpdate(key, s, model) {
      ulaSteps(key, model, s.chains, opts.step, k);
    },
    diagnostics: () => ({}),
  };
}
