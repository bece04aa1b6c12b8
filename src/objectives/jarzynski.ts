/**
 * Jarzynski-reweighted sequential Monte Carlo training (seed 000, Algorithm 1). Walkers X_k carry
 * log-weights A_k such that softmax(A_k) makes them weighted samples of ρ_θk even though one ULA step per
 * iteration never lets them equilibrate. Per iteration:
 *   gradient:    ∇_k = E_data[∂θU_θk] − Σ_i softmax(A_k)_i ∂θU_θk(X_k^i);
 *                then the ULA move X_{k+1} = X_k − h∇U_θk(X_k) + √(2h)ξ, which needs only θ_k and the
 *                cached ∇U_θk(X_k), and α_k(X_k, X_{k+1}) from the same cache;
 *   afterUpdate: one evaluation of U_θk+1, ∇U_θk+1 at X_{k+1} (cached for the next iteration), the
 *                weight update A_{k+1} = A_k + α_k(X_k, X_{k+1}) − α_{k+1}(X_{k+1}, X_k), and resampling
 *                when ESS < threshold·N.
 * So an iteration costs one energy+gradient evaluation at the walkers and two parameter gradients.
 * log Z_θk − log Z_θ0 is estimated on the way (see smc/walkers.ts).
 */
import type { ResamplingScheme } from "../math/resampling.ts";
import { Stream } from "../random/key.ts";
import { initChainState, langevinProposal } from "../samplers/ula.ts";
import { ulaLogAlpha } from "../smc/jarzynski.ts";
import {
  logZRatio,
  maybeResample,
  type WeightedWalkers,
  walkerEss,
  walkerWeights,
  weightedWalkers,
} from "../smc/walkers.ts";
import { likelihoodGradient, type Objective } from "./objective.ts";
import { startWalkers, type WalkerInit } from "./walkers-init.ts";

export interface JarzynskiOptions {
  walkers: number;
  /** ULA step size h. */
  step: number;
  /** Resample when ESS < resample·N; 0 never resamples. Default 0.5. */
  resample?: number;
  scheme?: ResamplingScheme;
  init?: WalkerInit;
}

export interface JarzynskiState {
  walkers: WeightedWalkers;
  /** Positions before the last move, and α_k(X_k, X_{k+1}) computed from the θ_k cache. */
  previous: Float64Array;
  alphaForward: Float64Array;
  alphaBackward: Float64Array;
  weights: Float64Array;
}

export function jarzynski(opts: JarzynskiOptions): Objective<JarzynskiState> {
  const n = opts.walkers;
  const h = opts.step;
  const threshold = opts.resample ?? 0.5;
  if (!(threshold >= 0 && threshold <= 1)) throw new RangeError("resample threshold must be in [0, 1]");
  return {
    name: "jarzynski",
    init(key, model) {
      const start = startWalkers(key, model, n, opts.init);
      return {
        walkers: weightedWalkers(initChainState(model, start.x, n), start.logw),
        previous: new Float64Array(n * model.dim),
        alphaForward: new Float64Array(n),
        alphaBackward: new Float64Array(n),
        weights: new Float64Array(n),
      };
    },
    gradient(key, s, model, batch, grad) {
      const w = s.walkers;
      walkerWeights(w, s.weights);
      likelihoodGradient(model, batch, w.position, n, s.weights, grad);
      s.previous.set(w.position);
      langevinProposal(new Stream(key), s.previous, w.grad, n * w.dim, h, 1, w.position);
      ulaLogAlpha(w.u, w.grad, s.previous, w.position, n, w.dim, h, 1, s.alphaForward);
    },
    afterUpdate(key, s, model) {
      const w = s.walkers;
      model.energyAndGrad(w.position, n, w.u, w.grad);
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
