/**
 * Denoising score matching (Vincent 2011), with several noise levels as in NCSN (Song & Ermon 2019).
 *
 * For a data point x, a noise level σ and ε ~ N(0, I), the noisy point x̃ = x + σε has the conditional
 * score ∇ log q_σ(x̃ | x) = −ε/σ, and the model's score is −∇ₓU_θ(x̃). The loss is
 *
 *   J(θ) = mean_i λ(σ_i)·½‖−∇ₓU_θ(x̃_i) + ε_i/σ_i‖²,
 *
 * whose minimiser over all scores is the score of the noised data density p_σ = p_data ∗ N(0, σ²I) — not
 * of p_data: a Gaussian N(μ, s²) is learned as N(μ, s² + σ²). Small σ estimates the data score with a
 * bias O(σ²) and a variance that grows like 1/σ²; NCSN's answer is a list of levels.
 *
 * Noise levels: `sigma` is one σ or a list; with a list, each noisy point's σ is drawn uniformly from it,
 * and the weighting λ(σ) = σ² (`weighting: "sigma2"`, the default, NCSN's choice) makes every level's term
 * ½‖σ∇ₓU(x̃) − ε‖² of order one, so no level dominates the gradient. `weighting: "none"` uses λ = 1. With a
 * single σ the weighting only rescales the loss (same minimiser). Each iteration draws `copies` noisy
 * points per data point (default 1), fresh from the iteration's key. What the weighting does, exactly, for
 * a Gaussian model fitted to data of covariance S: the learned covariance is S + c·I with
 * c = Σ_l λ_l σ_l² / Σ_l λ_l — Σσ⁴/Σσ² under λ = σ² (dominated by the largest levels), mean σ² under λ = 1
 * (checked in test/objectives/dsm.test.ts). Multi-level DSM is therefore for score models conditioned on
 * σ (NCSN) or for sampling with annealed noise; to estimate the data density itself use one small σ.
 *
 * θ-gradient: with the residual r_i = ∇ₓU(x̃_i) − ε_i/σ_i held fixed, ∂θJ = Σ_i (λ_i/m)·∂θ[r_i·∇ₓU(x̃_i)]
 * (m noisy points): one `scoreParamGrad` call (src/energies/score-grad.ts) after one `energyAndGrad`.
 * The energy must provide that capability: the MLP (both backends), the exponential family and products of
 * such experts do.
 */
import type { TrainableEnergy } from "../energies/contract.ts";
import { isScoreParamGrad, type ScoreParamGrad } from "../energies/score-grad.ts";
import { Stream } from "../random/key.ts";
import type { Batch, Objective, ObjectiveDiagnostics } from "./objective.ts";

export interface DsmOptions {
  /** Noise level σ > 0, or a list of levels (each noisy point's σ drawn uniformly from it). */
  sigma: number | readonly number[];
  /** λ(σ): "sigma2" (λ = σ², NCSN; default) or "none" (λ = 1). */
  weighting?: "sigma2" | "none";
  /** Noisy copies of each data point per iteration (integer ≥ 1, default 1). */
  copies?: number;
}

export interface DsmDiagnostics extends ObjectiveDiagnostics {
  /** The loss of the last gradient call (its noise draws). */
  loss: number;
}

/** Plain data (checkpointable): the loss of the last call. Scratch buffers live in the objective. */
export interface DsmState {
  loss: number;
}

function requireCapability(model: TrainableEnergy): TrainableEnergy & ScoreParamGrad {
  if (!isScoreParamGrad(model))
    throw new Error(
      "denoising score matching needs an energy with scoreParamGrad (src/energies/score-grad.ts)",
    );
  return model;
}

export function denoisingScoreMatching(opts: DsmOptions): Objective<DsmState> {
  const sigmas = typeof opts.sigma === "number" ? [opts.sigma] : [...opts.sigma];
  if (sigmas.length === 0) throw new RangeError("dsm: sigma must list at least one noise level");
  for (const s of sigmas)
    if (!(s > 0 && Number.isFinite(s))) throw new RangeError(`dsm: noise levels must be positive, got ${s}`);
  const weighting = opts.weighting ?? "sigma2";
  if (weighting !== "sigma2" && weighting !== "none")
    throw new RangeError(`dsm: weighting must be "sigma2" or "none", got ${weighting}`);
  const copies = opts.copies ?? 1;
  if (!(Number.isInteger(copies) && copies >= 1))
    throw new RangeError(`dsm: copies must be an integer ≥ 1, got ${copies}`);
  const lambda = (s: number) => (weighting === "sigma2" ? s * s : 1);
  // Scratch, grown to the batch: noisy points, ε, ∇ₓU(x̃), residuals, energies, per-point σ.
  const e0 = new Float64Array(0);
  const s = { xt: e0, eps: e0, grad: e0, r: e0, u: e0, sig: e0 };

  return {
    name: "dsm",
    init(_key, model) {
      requireCapability(model);
      return { loss: Number.NaN };
    },
    gradient(key, state, model, batch: Batch, out) {
      const m = requireCapability(model);
      const d = model.dim;
      const n = batch.n * copies;
      if (s.u.length < n || s.xt.length < n * d) {
        s.xt = new Float64Array(n * d);
        s.eps = new Float64Array(n * d);
        s.grad = new Float64Array(n * d);
        s.r = new Float64Array(n * d);
        s.u = new Float64Array(n);
        s.sig = new Float64Array(n);
      }
      const rng = new Stream(key);
      for (let i = 0; i < n; i++) {
        const j = i % batch.n;
        const sigma = sigmas.length === 1 ? sigmas[0] : sigmas[rng.integer(sigmas.length)];
        s.sig[i] = sigma;
        for (let a = 0; a < d; a++) {
          const e = rng.normal();
          s.eps[i * d + a] = e;
          s.xt[i * d + a] = batch.x[j * d + a] + sigma * e;
        }
      }
      m.energyAndGrad(s.xt, n, s.u, s.grad);
      let loss = 0;
      for (let i = 0; i < n; i++) {
        const sigma = s.sig[i];
        const w = lambda(sigma) / n;
        let sq = 0;
        for (let a = 0; a < d; a++) {
          const q = i * d + a;
          const res = s.grad[q] - s.eps[q] / sigma;
          sq += res * res;
          s.r[q] = w * res;
        }
        loss += 0.5 * w * sq;
      }
      state.loss = loss;
      m.scoreParamGrad(s.xt, n, s.r, out);
    },
    afterUpdate() {},
    diagnostics: (state): DsmDiagnostics => ({ loss: state.loss }),
  };
}
