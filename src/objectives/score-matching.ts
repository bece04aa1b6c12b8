/**
 * Exact (Hyvärinen) score matching: minimise J(θ) = E_data[½|∇ₓU_θ|² − ΔₓU_θ], the Fisher divergence
 * up to a θ-independent constant. Needs an energy that provides J and ∂θJ (ScoreMatchable). It sees only
 * the score ∇ₓ log ρ_θ, which does not depend on the relative masses of separated modes: the seed's
 * "no learning" example.
 */
import { isScoreMatchable, type TrainableEnergy } from "../energies/contract.ts";
import type { Batch, Objective } from "./objective.ts";

interface State {
  loss: number;
}

export function scoreMatching(): Objective<State> {
  return {
    name: "score_matching",
    init(_key, model: TrainableEnergy) {
      if (!isScoreMatchable(model)) throw new Error("score matching needs an energy with an exact Laplacian");
      return { loss: Number.NaN };
    },
    gradient(_key, state, model, batch: Batch, grad) {
      if (!isScoreMatchable(model)) throw new Error("score matching needs an energy with an exact Laplacian");
      state.loss = model.scoreMatching(batch.x, batch.n, new Float64Array(batch.n).fill(1 / batch.n), grad);
    },
    afterUpdate() {},
    diagnostics: (s) => ({ loss: s.loss }),
  };
}
