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
import type { Key } from "../random/key.ts";
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
}

export interface JarzynskiState {
  walkers: WeightedWalkers;
  /** Positions, U and ∇U before the last move (under the θ of that move), and its α terms (ULA move). */
  previous: Float64Array;
  previousU: Float64Array;
  previousGrad: Float64Array;
  alphaForward: Float64Array;
  alphaBackward: Float64Array;
  weights: Float64Array;
  /** The key of iteration k's move, set by `gradient` and used by `afterUpdate`. */
  moveKey: Key | undefined;
  /** Log-weight increments of the last update (before dropping non-finite walkers). */
  increments: Float64Array;
  /** ESS of the last update before resampling (initially the start's ESS), and whether it resampled. */
  essBefore: number;
  resampled: boolean;
  /** Running health statistics of the weight updates (smc/health.ts). */
  health: WalkerHealthStats;
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

export interface JarzynskiObjective extends Objective<JarzynskiState> {
  diagnostics(state: JarzynskiState): JarzynskiDiagnostics;
}

export function jarzynski(opts: JarzynskiOptions): JarzynskiObjective {
  const n = opts.walkers;
  const threshold = opts.resample ?? 0.5;
  if (!(threshold >= 0 && threshold <= 1)) throw new RangeError("resample threshold must be in [0, 1]");
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

  /** After the increments are added: drop non-finite walkers, record the update, maybe resample. */
  function finishUpdate(key: Key, s: JarzynskiState): void {
    const w = s.walkers;
    const inc = incrementSpread(s.increments, n);
    retireNonFinite(w, what);
    s.essBefore = walkerEss(w);
    s.resampled = maybeResample(key, w, threshold, opts.scheme, s.essBefore);
    recordWeightUpdate(s.health, s.essBefore, s.resampled, inc);
  }

  return {
    name: "jarzynski",
    init(key, model) {
      const start = startWalkers(key, model, n, opts.init);
      const walkers = weightedWalkers(initChainState(model, start.x, n), start.logw);
      return {
        walkers,
        previous: new Float64Array(n * model.dim),
        previousU: new Float64Array(n),
        previousGrad: new Float64Array(n * model.dim),
        alphaForward: new Float64Array(n),
        alphaBackward: new Float64Array(n),
        weights: new Float64Array(n),
        moveKey: undefined,
        increments: new Float64Array(n),
        essBefore: walkerEss(walkers),
        resampled: false,
        health: walkerHealthStats(n),
      };
    },
    gradient(key, s, model, batch, grad) {
      const w = s.walkers;
      walkerWeights(w, s.weights);
      likelihoodGradient(model, batch, w.position, n, s.weights, grad);
      s.moveKey = key;
    },
    afterUpdate(key, s, model) {
      const w = s.walkers;
      const moveKey = s.moveKey;
      if (moveKey === undefined) throw new Error("jarzynski: afterUpdate called without gradient");
      s.moveKey = undefined;
      const kern = kernel(model);
      if (move.exact) {
        s.previousU.set(w.u);
        kern.refresh(w);
        s.increments.fill(0);
        aisIncrement(s.previousU, w.u, 1, s.increments);
        for (let i = 0; i < n; i++) w.logw[i] += s.increments[i];
        finishUpdate(key, s);
        kern.step(moveKey, w, move.params);
        return;
      }
      s.previous.set(w.position);
      s.previousU.set(w.u);
      s.previousGrad.set(w.grad);
      // The move reads the θ_k cache; the step evaluates the model, which now holds θ_{k+1}.
      kern.step(moveKey, w, move.params);
      ulaLogAlpha(s.previousU, s.previousGrad, s.previous, w.position, n, w.dim, h, 1, s.alphaForward);
      ulaLogAlpha(w.u, w.grad, w.position, s.previous, n, w.dim, h, 1, s.alphaBackward);
      for (let i = 0; i < n; i++) {
        s.increments[i] = s.alphaForward[i] - s.alphaBackward[i];
        w.logw[i] += s.increments[i];
      }
      finishUpdate(key, s);
    },
    diagnostics(s) {
      const w = s.walkers;
      const multinomial = (opts.scheme ?? "multinomial") === "multinomial";
      const inc = s.health.updates > 0 ? incrementSpread(s.increments, n) : { spread: 0, nonFinite: 0 };
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
      };
    },
  };
}
