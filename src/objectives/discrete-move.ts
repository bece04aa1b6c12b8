/**
 * What the discrete objectives (discrete-cd.ts, discrete-jarzynski.ts) share: the Markov move of their
 * walkers on {0,1}^d, the binary view of the trained network the move samples from, and exact uniform
 * draws of states.
 *
 * The move is Gibbs-with-Gradients (Grathwohl et al. 2021; one gradient-informed flip per step) or DMALA
 * (Zhang, Liu & Liu 2022; every site may flip, step α), both Metropolis-adjusted, so each step leaves ρ_θ
 * of the network's current θ invariant. The model is any TrainableEnergy whose input dimension is the
 * number of sites; the kernels read it through a `BinaryView` (energies/binary-view.ts), which always sees
 * the model's current θ.
 *
 * Walkers keep their states twice: bytes (what the kernels read) and 0/1 float64 rows (what the network's
 * parameter gradient and the resampling of smc/walkers.ts read). `chainsOf` builds the kernels' state on
 * the walkers' own U and ∇U arrays, so a kernel step and a resampling update the same caches.
 */
import type { TrainableEnergy } from "../energies/contract.ts";
import { BinaryView } from "../energies/binary-view.ts";
import { type Key, Stream, foldIn } from "../random/key.ts";
import { dmala } from "../samplers/discrete/dmala.ts";
import { gibbsWithGradients } from "../samplers/discrete/gwg.ts";
import type { DiscreteGradState, DiscreteSampler } from "../samplers/discrete/types.ts";
import type { MhInfo } from "../samplers/types.ts";

export const DISCRETE_MOVES = ["gwg", "dmala"] as const;
export type DiscreteMoveName = (typeof DISCRETE_MOVES)[number];

export interface DiscreteMoveOptions {
  /** "gwg" (Gibbs-with-Gradients, default) or "dmala" (discrete Langevin with MH). */
  move?: DiscreteMoveName;
  /** DMALA's step α (default 0.2; ignored by GWG). */
  dmalaStep?: number;
  /** Kernel steps per iteration (default 1). */
  steps?: number;
}

export interface ResolvedDiscreteMove {
  name: DiscreteMoveName;
  steps: number;
  /** The kernel on the binary view of `model`, built once per model. */
  kernel(model: TrainableEnergy): DiscreteSampler<DiscreteGradState, MhInfo>;
}

/** Checks the options and returns the move (`who` names the objective in errors). */
export function resolveDiscreteMove(opts: DiscreteMoveOptions, who: string): ResolvedDiscreteMove {
  const name = opts.move ?? "gwg";
  if (!DISCRETE_MOVES.includes(name))
    throw new RangeError(`${who}: unknown move '${String(name)}' (choose from ${DISCRETE_MOVES.join(", ")})`);
  const steps = opts.steps ?? 1;
  if (!(Number.isInteger(steps) && steps >= 1))
    throw new RangeError(`${who}: steps must be an integer ≥ 1, got ${steps}`);
  const alpha = opts.dmalaStep ?? 0.2;
  if (!(alpha > 0 && Number.isFinite(alpha)))
    throw new RangeError(`${who}: the DMALA step must be positive, got ${alpha}`);
  const built = new WeakMap<TrainableEnergy, DiscreteSampler<DiscreteGradState, MhInfo>>();
  return {
    name,
    steps,
    kernel(model) {
      let k = built.get(model);
      if (!k) {
        const view = new BinaryView(model);
        k = name === "gwg" ? gibbsWithGradients(view) : dmala(view, { step: alpha });
        built.set(model, k);
      }
      return k;
    },
  };
}

/** The kernels' view of n walkers: their bytes `x` with the U and ∇U arrays they share with the walkers. */
export function chainsOf(
  x: Uint8Array,
  u: Float64Array,
  grad: Float64Array,
  sites: number,
): DiscreteGradState {
  return { n: u.length, sites, x, u, grad };
}

/** Running acceptance statistics of the moves. */
export interface MoveStats {
  /** Σ of acceptance probabilities, and the number of proposals behind it. */
  acceptSum: number;
  proposals: number;
  /** Proposals whose MH ratio was NaN (rejected). */
  divergent: number;
}

export function moveStats(): MoveStats {
  return { acceptSum: 0, proposals: 0, divergent: 0 };
}

/**
 * `steps` kernel steps of every chain under the model's current θ, from caches (U, ∇U) valid for it;
 * step t draws from foldIn(key, t). Acceptance is added to `stats`.
 */
export function runMoves(
  key: Key,
  kernel: DiscreteSampler<DiscreteGradState, MhInfo>,
  chains: DiscreteGradState,
  steps: number,
  stats: MoveStats,
): void {
  for (let t = 0; t < steps; t++) {
    const { info } = kernel.step(foldIn(key, t), chains);
    for (let i = 0; i < chains.n; i++) {
      stats.acceptSum += info.acceptProb[i];
      stats.divergent += info.divergent[i];
    }
    stats.proposals += chains.n;
  }
}

/** n exact uniform draws from {0,1}^sites (each bit a fair coin, one stream of `key`). */
export function uniformStates(key: Key, n: number, sites: number): Uint8Array {
  const rng = new Stream(key);
  const x = new Uint8Array(n * sites);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform() < 0.5 ? 1 : 0;
  return x;
}

/** Copies bytes into float64 rows (same length). */
export function copyBitsToRows(x: Uint8Array, rows: Float64Array): void {
  for (let i = 0; i < x.length; i++) rows[i] = x[i];
}

/** Copies float64 0/1 rows into bytes (same length). */
export function copyRowsToBits(rows: Float64Array, x: Uint8Array): void {
  for (let i = 0; i < x.length; i++) x[i] = rows[i];
}
