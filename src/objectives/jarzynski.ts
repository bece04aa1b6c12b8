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
  type EstimatorWalkerDiagnostics,
  estimatorDiagnostics,
  type WalkerDiagnostics,
  walkerDiagnostics,
} from "../smc/diagnostics.ts";
import {
  incrementSpread,
  recordWeightUpdate,
  type WalkerHealthStats,
  walkerHealthStats,
} from "../smc/health.ts";
import { aisIncrement, ulaLogAlpha } from "../smc/jarzynski.ts";
import {
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
  /**
   * Walker groups for the first-order feedback correction (default 0: off; experimental). Each update of
   * θ is partly caused by the walkers' own term in the gradient, and that part always raises U where they
   * sit: left in their weights, it makes every walker lose weight in proportion to its own weight and
   * |∂θU|² (≈ lr·d/N per iteration in total for SGD), which drags log Z down and, when the walkers of two
   * modes carry different weights, moves mass between them. With groups, the trainer tracks each group's
   * deviation from its fair share of the model term through the optimizer's tangent map, and the group's
   * reweighting leaves that share out (to first order). Measured: over a few hundred iterations of SGD
   * with small steps it removes the log Z deficit (test/objectives/jarzynski-feedback.test.ts); over
   * thousands of iterations, or with Adam's larger normalised steps, it overshoots (by about as much as the
   * uncorrected bias, in the other direction), because θ's later response to the displaced walkers (an
   * echo through the other walkers and the data term) gives part of the lost weight back and is not
   * modelled. Needs an optimizer with a tangent map (sgd, adam and their chains); otherwise nothing changes.
   */
  feedbackGroups?: number;
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

export type JarzynskiDiagnostics = ObjectiveDiagnostics & WalkerDiagnostics;

/** Diagnostics of the decoupled estimator population. */
export type EstimatorDiagnostics = EstimatorWalkerDiagnostics;

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
  const groups = Math.min(opts.feedbackGroups ?? 0, n);
  if (!(Number.isInteger(groups) && groups >= 0))
    throw new RangeError(`feedbackGroups must be an integer ≥ 0, got ${opts.feedbackGroups}`);
  /** Walker group g is the block [bounds[g], bounds[g + 1]). */
  const bounds = Array.from({ length: groups + 1 }, (_, g) => Math.floor((g * n) / groups));
  // Scratch of the last gradient's group parts (filled by `gradient`, read by the trainer before afterUpdate).
  let parts: Float64Array[] = [];
  let partsFresh = false;

  /**
   * Removes from the training walkers' last increments each group's own share of the step: the walkers of
   * group g are at positions where U_θk+1 was just evaluated (w.u); their increment gains
   * U_θk+1(X) − U_{θk+1 − share_g}(X), i.e. they are reweighted as if their group had not moved θ.
   */
  function removeSelfInfluence(p: WalkerPopulation, model: TrainableEnergy, shares: readonly Float64Array[]) {
    const w = p.walkers;
    const d = w.dim;
    const theta = model.getParams();
    const shifted = new Float64Array(theta.length);
    const u = new Float64Array(n);
    try {
      for (let g = 0; g < groups; g++) {
        const share = shares[g];
        for (let k = 0; k < theta.length; k++) shifted[k] = theta[k] - share[k];
        model.setParams(shifted);
        const lo = bounds[g];
        const hi = bounds[g + 1];
        model.energy(w.position.subarray(lo * d, hi * d), hi - lo, u.subarray(lo, hi));
      }
    } finally {
      model.setParams(theta);
    }
    for (let i = 0; i < n; i++) {
      const c = w.u[i] - u[i];
      p.increments[i] += c;
      w.logw[i] += c;
    }
  }

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
  function advance(
    moveKey: Key,
    key: Key,
    p: WalkerPopulation,
    model: TrainableEnergy,
    shares?: readonly Float64Array[],
  ): void {
    const w = p.walkers;
    const m = w.n;
    const kern = kernel(model);
    if (move.exact) {
      p.previousU.set(w.u);
      kern.refresh(w);
      p.increments.fill(0);
      aisIncrement(p.previousU, w.u, 1, p.increments);
      for (let i = 0; i < m; i++) w.logw[i] += p.increments[i];
      if (shares) removeSelfInfluence(p, model, shares);
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
    if (shares) removeSelfInfluence(p, model, shares);
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
      if (groups === 0) likelihoodGradient(model, batch, s.walkers.position, n, s.weights, grad, penalty);
      else {
        // The data term, then each walker group's term (weights −w_i, plus the penalty's 2αw_iU_i), kept
        // apart for the feedback correction; grad is their sum.
        likelihoodGradient(model, batch, s.walkers.position, 0, s.weights, grad, penalty);
        if (parts.length !== groups || parts[0].length !== grad.length)
          parts = Array.from({ length: groups }, () => new Float64Array(grad.length));
        const d = model.dim;
        const wg = new Float64Array(n);
        for (let i = 0; i < n; i++) wg[i] = -s.weights[i] * (1 - (penalty ? 2 * alpha * s.walkers.u[i] : 0));
        for (let g = 0; g < groups; g++) {
          const lo = bounds[g];
          const hi = bounds[g + 1];
          model.paramGrad(
            s.walkers.position.subarray(lo * d, hi * d),
            hi - lo,
            wg.subarray(lo, hi),
            parts[g],
          );
          for (let k = 0; k < grad.length; k++) grad[k] += parts[g][k];
        }
        // What a group moves θ by on average is its fair share of the model term; only its deviation from
        // that share depends on its own walkers' noise. Keep the deviation.
        const total = new Float64Array(grad.length);
        for (let g = 0; g < groups; g++) for (let k = 0; k < grad.length; k++) total[k] += parts[g][k];
        for (let g = 0; g < groups; g++) {
          let wsum = 0;
          for (let i = bounds[g]; i < bounds[g + 1]; i++) wsum += s.weights[i];
          const pg = parts[g];
          // Relative to the other groups' average (scaled to W_g), so that none of the group's own walkers'
          // term is left in the part: (part_g − W_g·total)/(1 − W_g).
          const f = wsum < 1 ? 1 / (1 - wsum) : 0;
          for (let k = 0; k < grad.length; k++) pg[k] = (pg[k] - wsum * total[k]) * f;
        }
        partsFresh = true;
      }
      s.moveKey = key;
    },
    feedbackParts() {
      return groups > 0 && partsFresh ? parts : undefined;
    },
    afterUpdate(key, s, model, shares) {
      const moveKey = s.moveKey;
      if (moveKey === undefined) throw new Error("jarzynski: afterUpdate called without gradient");
      s.moveKey = undefined;
      partsFresh = false;
      advance(moveKey, key, s, model, groups > 0 ? shares : undefined);
      if (s.estimator) advance(foldIn(moveKey, 0x657374), foldIn(key, 0x657374), s.estimator, model);
    },
    diagnostics(s) {
      const est = s.estimator;
      return Object.assign(
        walkerDiagnostics(s, multinomial),
        est ? { estimator: estimatorDiagnostics(est, multinomial) } : {},
      );
    },
  };
}
