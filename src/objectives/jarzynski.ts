/**
 * Jarzynski-reweighted sequential Monte Carlo training (seed 000, Algorithm 1). Walkers X_k carry
 * log-weights A_k such that softmax(A_k) makes them weighted samples of ρ_θk even though one move per
 * iteration never lets them equilibrate. Per iteration, with the default ULA move of step h:
 *   gradient:    ∇_k = E_data[∂θU_θk] − Σ_i softmax(A_k)_i ∂θU_θk(X_k^i);
 *   afterUpdate: the ULA move X_{k+1} = X_k − h∇U_θk(X_k) + √(2h)ξ from the cached ∇U_θk(X_k), with
 *                U_θk+1, ∇U_θk+1 evaluated at X_{k+1} (one call of the ULA kernel: a fused one when the
 *                energy has it; see samplers/ula.ts), the weight update
 *                A_{k+1} = A_k + α_k(X_k, X_{k+1}) − α_{k+1}(X_{k+1}, X_k) (smc/jarzynski.ts), and
 *                resampling when ESS < threshold·N.
 * So an iteration costs one energy+gradient evaluation at the walkers and two parameter gradients. The
 * move's noise is drawn from `gradient`'s key (the move belongs to iteration k), resampling from
 * `afterUpdate`'s.
 *
 * Other walker moves: a Metropolis-adjusted kernel (`malaMove`, `hmcMove`: `exact: true`) leaves ρ_θk+1
 * invariant, and the walkers are reweighted the AIS way instead: A_{k+1} = A_k + U_θk(X_k) − U_θk+1(X_k)
 * (one extra evaluation, at the old points under the new θ), resampled, then moved under θ_{k+1}. An
 * unadjusted move other than ULA has no known weight increment and is refused.
 * log Z_θk − log Z_θ0 is estimated on the way (see smc/walkers.ts), with a standard error from the walkers'
 * genealogy (Lee–Whiteley; multinomial resampling only, NaN for other schemes).
 *
 * Health (smc/health.ts): every weight update records the ESS *before* resampling (after it the ESS is N
 * and says nothing), whether it resampled, the spread of the log-weight increments and how many were not
 * finite. Walkers whose weight or energy becomes non-finite are dropped (weight zero, see
 * `retireNonFinite`); when none is left the update throws a NumericalError. `diagnostics` returns these
 * numbers and the `walkerHealth` warnings; under any warning the log Z estimate, the weighted masses and
 * the trained θ are unreliable.
 */
import type { ResamplingScheme } from "../math/resampling.ts";
import type { TrainableEnergy } from "../energies/contract.ts";
import { foldIn, type Key } from "../random/key.ts";
import { initChainState } from "../samplers/state.ts";
import {
  type HealthWarning,
  incrementSpread,
  recordWeightUpdate,
  type WalkerHealthStats,
  walkerHealth,
  walkerHealthStats,
} from "../smc/health.ts";
import { aisIncrement, ulaLogAlpha } from "../smc/jarzynski.ts";
import {
  logZRatio,
  logZRelVariance,
  maybeResample,
  retireNonFinite,
  type WeightedWalkers,
  walkerEss,
  walkerWeights,
  weightedWalkers,
} from "../smc/walkers.ts";
import { likelihoodGradient, type Objective, type ObjectiveDiagnostics } from "./objective.ts";
import { kernelFor, resolveMove, type WalkerMoveOptions } from "./walker-move.ts";
import { startWalkers, type WalkerInit } from "./walkers-init.ts";

export interface JarzynskiOptions extends WalkerMoveOptions {
  walkers: number;
  /** Resample when ESS < resample·N; 0 never resamples. Default 0.5. */
  resample?: number;
  scheme?: ResamplingScheme;
  init?: WalkerInit;
  /**
   * A decoupled estimator population of this many walkers (default none): it follows the same θ path
   * with its own noise, weights and resamplings and does not feed the gradient, so its log Z estimate is
   * free of the feedback between the training walkers and the updates they drive (the training walkers'
   * estimate drifts below the truth: each update raises U where they sit).
   */
  estimator?: { walkers: number };
  /** α of the energy-magnitude penalty α(E_data[U²] + E_model[U²]) (objective.ts); default 0. */
  energyPenalty?: number;
}

/** One population of weighted walkers with the scratch of its weight updates. */
export interface WalkerPopulation {
  walkers: WeightedWalkers;
  /** Positions, U and ∇U before the last move (under the θ of that move), and its α terms (ULA move). */
  previous: Float64Array;
  previousU: Float64Array;
  previousGrad: Float64Array;
  alphaForward: Float64Array;
  alphaBackward: Float64Array;
  /** Log-weight increments of the last update (before dropping non-finite walkers). */
  increments: Float64Array;
  /** ESS of the last update before resampling (initially the start's ESS), and whether it resampled. */
  essBefore: number;
  resampled: boolean;
  /** Running health statistics of the weight updates (smc/health.ts). */
  health: WalkerHealthStats;
}

export interface JarzynskiState extends WalkerPopulation {
  weights: Float64Array;
  /** The key of iteration k's move, set by `gradient` and used by `afterUpdate`. */
  moveKey: Key | undefined;
  /**
   * The decoupled estimator population (option `estimator`): walkers that follow the same θ path with
   * their own moves, weights and resamplings but never feed the gradient; null without one.
   */
  estimator: WalkerPopulation | null;
}

export interface JarzynskiDiagnostics extends ObjectiveDiagnostics {
  /** ESS of the last weight update, taken before resampling (the initial walkers' ESS before any update). */
  ess: number;
  /** ESS after the last update's resampling, if any (N right after a resampling). */
  essAfter: number;
  /** Whether the last update resampled. */
  resampled: boolean;
  resamplings: number;
  logZRatio: number;
  /**
   * Standard error of logZRatio (Lee–Whiteley, via the relative variance of Ẑ; smc/walkers.ts). NaN with
   * a resampling scheme other than multinomial, with one walker, or when the estimate is negative.
   */
  logZSe: number;
  /** Spread max − min of the last update's finite log-weight increments, and its count of non-finite ones. */
  incrementSpread: number;
  nonFinite: number;
  /** Running statistics over all updates so far (a live reference). */
  health: WalkerHealthStats;
  /** `walkerHealth(health)`: empty when the weights are healthy. */
  warnings: HealthWarning[];
}

/** Diagnostics of the decoupled estimator population. */
export interface EstimatorDiagnostics {
  walkers: number;
  ess: number;
  resamplings: number;
  logZRatio: number;
  logZSe: number;
  warnings: HealthWarning[];
}

export interface JarzynskiObjective extends Objective<JarzynskiState> {
  diagnostics(state: JarzynskiState): JarzynskiDiagnostics & { estimator?: EstimatorDiagnostics };
}

function population(walkers: WeightedWalkers, dim: number): WalkerPopulation {
  const n = walkers.n;
  return {
    walkers,
    previous: new Float64Array(n * dim),
    previousU: new Float64Array(n),
    previousGrad: new Float64Array(n * dim),
    alphaForward: new Float64Array(n),
    alphaBackward: new Float64Array(n),
    increments: new Float64Array(n),
    essBefore: walkerEss(walkers),
    resampled: false,
    health: walkerHealthStats(n),
  };
}

export function jarzynski(opts: JarzynskiOptions): JarzynskiObjective {
  const n = opts.walkers;
  const threshold = opts.resample ?? 0.5;
  if (!(threshold >= 0 && threshold <= 1)) throw new RangeError("resample threshold must be in [0, 1]");
  const nEst = opts.estimator?.walkers ?? 0;
  if (!((opts.energyPenalty ?? 0) >= 0))
    throw new RangeError(`energyPenalty must be ≥ 0, got ${opts.energyPenalty}`);
  if (!(Number.isInteger(nEst) && nEst >= 0))
    throw new RangeError(`estimator walkers must be an integer ≥ 0, got ${nEst}`);
  const move = resolveMove(opts, "jarzynski");
  if (!move.exact && move.name !== "ula")
    throw new RangeError(
      `jarzynski: no weight increment is known for the unadjusted move '${move.name}'; use ULA ` +
        "(Jarzynski weights) or a Metropolis-adjusted kernel such as MALA or HMC (AIS weights)",
    );
  if (!move.exact && move.params.inverseMass !== undefined)
    throw new RangeError("jarzynski: the ULA weights are implemented without a preconditioner (inverseMass)");
  const h = move.params.step;
  const kernel = kernelFor(move);
  const what = `jarzynski (${move.name} move, step ${h})`;
  const multinomial = (opts.scheme ?? "multinomial") === "multinomial";

  /** After the increments are added: drop non-finite walkers, record the update, maybe resample. */
  function finishUpdate(key: Key, p: WalkerPopulation): void {
    const w = p.walkers;
    const inc = incrementSpread(p.increments, w.n);
    retireNonFinite(w, what);
    p.essBefore = walkerEss(w);
    p.resampled = maybeResample(key, w, threshold, opts.scheme, p.essBefore);
    recordWeightUpdate(p.health, p.essBefore, p.resampled, inc);
  }

  /**
   * Moves and reweights one population from θ_k (its cache) to θ_{k+1} (the model's parameters now):
   * noise from `moveKey`, resampling from `key`.
   */
  function advance(moveKey: Key, key: Key, p: WalkerPopulation, model: TrainableEnergy): void {
    const w = p.walkers;
    const m = w.n;
    const kern = kernel(model);
    if (move.exact) {
      p.previousU.set(w.u);
      kern.refresh(w);
      p.increments.fill(0);
      aisIncrement(p.previousU, w.u, 1, p.increments);
      for (let i = 0; i < m; i++) w.logw[i] += p.increments[i];
      finishUpdate(key, p);
      kern.step(moveKey, w, move.params);
      return;
    }
    p.previous.set(w.position);
    p.previousU.set(w.u);
    p.previousGrad.set(w.grad);
    // The move reads the θ_k cache; the step evaluates the model, which now holds θ_{k+1}.
    kern.step(moveKey, w, move.params);
    ulaLogAlpha(p.previousU, p.previousGrad, p.previous, w.position, m, w.dim, h, 1, p.alphaForward);
    ulaLogAlpha(w.u, w.grad, w.position, p.previous, m, w.dim, h, 1, p.alphaBackward);
    for (let i = 0; i < m; i++) {
      p.increments[i] = p.alphaForward[i] - p.alphaBackward[i];
      w.logw[i] += p.increments[i];
    }
    finishUpdate(key, p);
  }

  function start(key: Key, model: TrainableEnergy, m: number): WalkerPopulation {
    const st = startWalkers(key, model, m, opts.init);
    return population(weightedWalkers(initChainState(model, st.x, m), st.logw), model.dim);
  }

  return {
    name: "jarzynski",
    init(key, model) {
      // The estimator's start comes from a key of its own, so adding it leaves the training run unchanged.
      const main = start(key, model, n);
      const estimator = nEst > 0 ? start(foldIn(key, 0x657374), model, nEst) : null;
      return { ...main, weights: new Float64Array(n), moveKey: undefined, estimator };
    },
    gradient(key, s, model, batch, grad) {
      walkerWeights(s.walkers, s.weights);
      const alpha = opts.energyPenalty ?? 0;
      const penalty = alpha > 0 ? { alpha, walkerU: s.walkers.u } : undefined;
      likelihoodGradient(model, batch, s.walkers.position, n, s.weights, grad, penalty);
      s.moveKey = key;
    },
    afterUpdate(key, s, model) {
      const moveKey = s.moveKey;
      if (moveKey === undefined) throw new Error("jarzynski: afterUpdate called without gradient");
      s.moveKey = undefined;
      advance(moveKey, key, s, model);
      if (s.estimator) advance(foldIn(moveKey, 0x657374), foldIn(key, 0x657374), s.estimator, model);
    },
    diagnostics(s) {
      const w = s.walkers;
      const inc = s.health.updates > 0 ? incrementSpread(s.increments, n) : { spread: 0, nonFinite: 0 };
      const est = s.estimator;
      return {
        ess: s.essBefore,
        // The weights have not changed since essBefore, except by a resampling (which sets them equal).
        essAfter: s.resampled ? n : s.essBefore,
        resampled: s.resampled,
        resamplings: w.resamplings,
        logZRatio: logZRatio(w),
        // Computed on demand: it costs a pass over the weights that most iterations do not need.
        get logZSe() {
          return multinomial ? Math.sqrt(logZRelVariance(w)) : Number.NaN;
        },
        incrementSpread: inc.spread,
        nonFinite: inc.nonFinite,
        health: s.health,
        warnings: walkerHealth(s.health),
        ...(est
          ? {
              estimator: {
                walkers: est.walkers.n,
                ess: est.essBefore,
                resamplings: est.walkers.resamplings,
                logZRatio: logZRatio(est.walkers),
                get logZSe() {
                  return multinomial ? Math.sqrt(logZRelVariance(est.walkers)) : Number.NaN;
                },
                warnings: walkerHealth(est.health),
              },
            }
          : {}),
      };
    },
  };
}
