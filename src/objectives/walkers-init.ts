/**
 * Where model walkers start. Jarzynski reweighting needs X₀ ~ ρ_θ₀ (or weighted samples of it); PCD
 * starts from the initial model too. By default the energy's exact sampler is used; otherwise the caller
 * gives positions and, optionally, importance log-weights that make them weighted samples of ρ_θ₀.
 */
import { isExactlySampleable, type TrainableEnergy } from "../energies/contract.ts";
import type { Key } from "../random/key.ts";

export interface WalkerStart {
  x: Float64Array;
  /** Log-weights making (x, logw) a weighted sample of ρ_θ₀; zeros when x ~ ρ_θ₀ exactly. */
  logw?: Float64Array;
}

export type WalkerInit = (key: Key, model: TrainableEnergy, n: number) => WalkerStart;

export function startWalkers(key: Key, model: TrainableEnergy, n: number, init?: WalkerInit): WalkerStart {
  if (init) return init(key, model, n);
  if (!isExactlySampleable(model))
    throw new Error("the model has no exact sampler: give the objective an `init` for its walkers");
  const x = new Float64Array(n * model.dim);
  model.sampleExact(key, n, x);
  return { x };
}
