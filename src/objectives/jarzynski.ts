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
 * log Z_θk − log Z_θ0 is estimated on the way (see smc/walkers.ts).
 */
import type { ResamplingScheme } from "../math/resampling.ts";
import type { Key } from "../random/key.ts";
import { initChainState } from "../samplers/state.ts";
import { aisIncrement, ulaLogAlpha } from "../smc/jarzynski.ts";
import {
  logZRatio,
  maybeResample,
  type WeightedWalkers,
  walkerEss,
  walkerWeights,
  weightedWalkers,
} from "../smc/walkers.ts";
import { likelihoodGradient, type Objective } from "./objective.ts";
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
}

export function jarzynski(opts: JarzynskiOptions): Objective<JarzynskiState> {
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

  return {
    name: "jarzynski",
    init(key, model) {
      const start = startWalkers(key, model, n, opts.init);
      return {
        walkers: weightedWalkers(initChainState(model, start.x, n), start.logw),
        previous: new Float64Array(n * model.dim),
        previousU: new Float64Array(n),
        previousGrad: new Float64Array(n * model.dim),
        alphaForward: new Float64Array(n),
        alphaBackward: new Float64Array(n),
        weights: new Float64Array(n),
        moveKey: undefined,
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
        aisIncrement(s.previousU, w.u, 1, w.logw);
        maybeResample(key, w, threshold, opts.scheme);
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
      for (let i = 0; i < n; i++) w.logw[i] += s.alphaForward[i] - s.alphaBackward[i];
      maybeResample(key, w, threshold, opts.scheme);
    },
    diagnostics: (s) => ({
      ess: walkerEss(s.walkers),
      logZRatio: logZRatio(s.walkers),
      resamplings: s.walkers.resamplings,
    }),
  };
}
