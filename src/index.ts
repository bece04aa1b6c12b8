/**
 * The public API of the library. The CLI (src/cli) and any web page use only what is exported here.
 */

export * from "./energies/banana.ts";
export * from "./energies/contract.ts";
export * from "./energies/discrete.ts";
export * from "./energies/funnel.ts";
export { cholesky, GaussianEnergy } from "./energies/gaussian.ts";
export * from "./energies/gmm.ts";
export * from "./energies/ising.ts";
export { MixtureEnergy, type MixtureSpec } from "./energies/mixture.ts";
export * from "./energies/mlp.ts";
export * from "./energies/rbm.ts";
export * from "./experiments/gmm1d.ts";
export { writeFileAtomic } from "./io/files.ts";
export * from "./io/safetensors.ts";
export * from "./io/samples.ts";
export * from "./math/logspace.ts";
export * from "./math/resampling.ts";
export * from "./eval/diagnostics.ts";
export * from "./objectives/contrastive-divergence.ts";
export * from "./objectives/jarzynski.ts";
export * from "./objectives/objective.ts";
export * from "./objectives/score-matching.ts";
export * from "./objectives/walkers-init.ts";
export * from "./random/key.ts";
export * from "./samplers/discrete/index.ts";
export * from "./samplers/index.ts";
export * from "./smc/jarzynski.ts";
export * from "./smc/walkers.ts";
export * from "./targets/load.ts";
export * from "./train/optim.ts";
export * from "./train/trainer.ts";
export * from "./viz/index.ts";
