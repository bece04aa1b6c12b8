/**
 * Contrastive divergence. CD-k restarts its walkers at data points every iteration and moves them k steps
 * under θ_k before taking the gradient; PCD keeps persistent walkers (started at the initial model) and
 * moves them k steps under θ_{k+1} after each update. The move is ULA with step size `step` by default, or
 * any walker move (`malaMove`, `hmcMove`, …); it runs through the kernel, so an energy's fused Langevin
 * move is used. Each step evaluates U and ∇U at the new points: k steps cost k + 1 evaluations with the
 * one that fills the cache before the first move. Both use unweighted walkers: when the modes are
 * separated by barriers the walkers cannot cross, so neither learns the relative masses (CD-1 barely
 * moves, PCD collapses onto one mode).
 * A move that diverges (U or a position not finite after it: a step too large for the energy) stops the
 * run with a NumericalError instead of feeding NaN to the gradient.
 */
import type { TrainableEnergy } from "../energies/contract.ts";
import { NumericalError } from "../math/errors.ts";
import { type Key, Stream, split } from "../random/key.ts";
import type { WalkerMove } from "../samplers/moves.ts";
import { initChainState } from "../samplers/state.ts";
import type { ChainState, KernelParams, Sampler, StepInfo } from "../samplers/types.ts";
import { type Batch, likelihoodGradient, type Objective } from "./objective.ts";
import { kernelFor, resolveMove, type WalkerMoveOptions } from "./walker-move.ts";
import { startWalkers, type WalkerInit } from "./walkers-init.ts";

export interface CdOptions extends WalkerMoveOptions {
  /** Number of negative samples (walkers). */
  walkers: number;
  /** Steps of the move per iteration (default 1). */
  k?: number;
  /** α of the energy-magnitude penalty α(E_data[U²] + E_model[U²]) (objective.ts); default 0. */
  energyPenalty?: number;
}

function penaltyOf(opts: { energyPenalty?: number }, chains: ChainState) {
  const alpha = opts.energyPenalty ?? 0;
  if (!(alpha >= 0 && Number.isFinite(alpha)))
    throw new RangeError(`energyPenalty must be ≥ 0, got ${alpha}`);
  return alpha > 0 ? { alpha, walkerU: chains.u } : undefined;
}

/** k steps of the move under the model's current θ, from a cache that is valid for it. */
function moveSteps(
  key: Key,
  kernel: Sampler<ChainState, StepInfo, KernelParams>,
  move: WalkerMove,
  s: ChainState,
  k: number,
): void {
  const keys = split(key, k);
  for (let t = 0; t < k; t++) kernel.step(keys[t], s, move.params);
}

/** Throws a NumericalError naming `who` and the move when some walker's U or position is not finite. */
function checkFinite(who: string, move: WalkerMove, s: ChainState): void {
  let bad = 0;
  for (let i = 0; i < s.n; i++) {
    let ok = Number.isFinite(s.u[i]);
    for (let a = 0; ok && a < s.dim; a++) ok = Number.isFinite(s.position[i * s.dim + a]);
    if (!ok) bad++;
  }
  if (bad > 0)
    throw new NumericalError(
      `${who}: the walkers diverged: U(x) is not finite at ${bad} of ${s.n} walkers after the ` +
        `${move.name} move with step ${move.params.step} (too large for this energy)`,
    );
}

function checkK(k: number): number {
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`k must be an integer ≥ 1, got ${k}`);
  return k;
}

interface CdState {
  chains: ChainState;
  weights: Float64Array;
}

export function contrastiveDivergence(opts: CdOptions): Objective<CdState> {
  const n = opts.walkers;
  const k = checkK(opts.k ?? 1);
  const move = resolveMove(opts, "cd");
  const kernel = kernelFor(move);
  return {
    name: "cd",
    init(_key, model) {
      return {
        chains: {
          n,
          dim: model.dim,
          position: new Float64Array(n * model.dim),
          u: new Float64Array(n),
          grad: new Float64Array(n * model.dim),
        },
        weights: new Float64Array(n).fill(1 / n),
      };
    },
    gradient(key, s, model, batch: Batch, grad) {
      const d = model.dim;
      const x = s.chains.position;
      const [kPick, kMove] = split(key, 2);
      const rng = new Stream(kPick);
      for (let i = 0; i < n; i++) {
        const j = rng.integer(batch.n);
        for (let a = 0; a < d; a++) x[i * d + a] = batch.x[j * d + a];
      }
      const kern = kernel(model);
      kern.refresh(s.chains);
      moveSteps(kMove, kern, move, s.chains, k);
      checkFinite("cd", move, s.chains);
      likelihoodGradient(model, batch, x, n, s.weights, grad, penaltyOf(opts, s.chains));
    },
    afterUpdate() {},
    diagnostics: () => ({}),
  };
}

interface PcdState {
  chains: ChainState;
  weights: Float64Array;
}

export interface PcdOptions extends CdOptions {
  /** Where walkers start (and restart): default the model's exact sampler. */
  init?: WalkerInit;
  /**
   * Probability that a walker is restarted from `init` before each iteration's moves (the replay buffer of
   * Du & Mordatch 2019, who use 0.05); default 0: purely persistent chains.
   */
  reinit?: number;
}

export function persistentContrastiveDivergence(opts: PcdOptions): Objective<PcdState> {
  const n = opts.walkers;
  const k = checkK(opts.k ?? 1);
  const reinit = opts.reinit ?? 0;
  if (!(reinit >= 0 && reinit <= 1)) throw new RangeError(`pcd: reinit must be in [0, 1], got ${reinit}`);
  const move = resolveMove(opts, "pcd");
  const kernel = kernelFor(move);
  return {
    name: "pcd",
    init(key, model) {
      const start = startWalkers(key, model, n, opts.init);
      return { chains: initChainState(model, start.x, n), weights: new Float64Array(n).fill(1 / n) };
    },
    gradient(_key, s, model, batch, grad) {
      likelihoodGradient(model, batch, s.chains.position, n, s.weights, grad, penaltyOf(opts, s.chains));
    },
    afterUpdate(key, s, model: TrainableEnergy) {
      let kMove = key;
      if (reinit > 0) {
        const [kPick, kFresh, kRest] = split(key, 3);
        kMove = kRest;
        restart(kPick, kFresh, s.chains, model, reinit, opts.init);
      }
      // The cache holds θ_k's values: refresh it so the moves are under θ_{k+1}.
      const kern = kernel(model);
      kern.refresh(s.chains);
      moveSteps(kMove, kern, move, s.chains, k);
      checkFinite("pcd", move, s.chains);
    },
    diagnostics: () => ({}),
  };
}

/** Replaces each walker with probability p by a fresh start from `init`. */
function restart(
  kPick: Key,
  kFresh: Key,
  chains: ChainState,
  model: TrainableEnergy,
  p: number,
  init: WalkerInit | undefined,
): void {
  const rng = new Stream(kPick);
  const picked: number[] = [];
  for (let i = 0; i < chains.n; i++) if (rng.uniform() < p) picked.push(i);
  if (picked.length === 0) return;
  const fresh = startWalkers(kFresh, model, picked.length, init).x;
  const d = chains.dim;
  for (let j = 0; j < picked.length; j++)
    chains.position.set(fresh.subarray(j * d, (j + 1) * d), picked[j] * d);
}

/**
 * Maximum likelihood with fresh chains ("short-run MCMC", Nijkamp et al. 2019): every iteration the
 * walkers start anew from `init` (the base distribution) and move k steps under θ_k. Unbiased only as k
 * grows; with few steps the samples are not from ρ_θ and the learned model is biased towards the base.
 */
export function freshChainsMle(opts: CdOptions & { init?: WalkerInit }): Objective<CdState> {
  const n = opts.walkers;
  const k = checkK(opts.k ?? 1);
  const move = resolveMove(opts, "mle");
  const kernel = kernelFor(move);
  return {
    name: "mle",
    init(_key, model) {
      return {
        chains: {
          n,
          dim: model.dim,
          position: new Float64Array(n * model.dim),
          u: new Float64Array(n),
          grad: new Float64Array(n * model.dim),
        },
        weights: new Float64Array(n).fill(1 / n),
      };
    },
    gradient(key, s, model, batch, grad) {
      const [kStart, kMove] = split(key, 2);
      s.chains.position.set(startWalkers(kStart, model, n, opts.init).x);
      const kern = kernel(model);
      kern.refresh(s.chains);
      moveSteps(kMove, kern, move, s.chains, k);
      checkFinite("mle", move, s.chains);
      likelihoodGradient(model, batch, s.chains.position, n, s.weights, grad, penaltyOf(opts, s.chains));
    },
    afterUpdate() {},
    diagnostics: () => ({}),
  };
}
