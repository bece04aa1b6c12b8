/**
 * The public API of the library. The CLI (src/cli) and any web page use only what is exported here.
 */

export * from "./energies/contract.ts";
export { cholesky, GaussianEnergy } from "./energies/gaussian.ts";
export { MixtureEnergy, type MixtureSpec } from "./energies/mixture.ts";
export * from "./experiments/gmm1d.ts";
export { writeFileAtomic } from "./io/files.ts";
export * from "./math/logspace.ts";
export * from "./math/resampling.ts";
export * from "./objectives/contrastive-divergence.ts";
export * from "./objectives/jarzynski.ts";
export * from "./objectives/objective.ts";
export * from "./objectives/score-matching.ts";
export * from "./objectives/walkers-init.ts";
export * from "./random/key.ts";
export * from "./samplers/types.ts";
export * from "./samplers/ula.ts";
export * from "./smc/jarzynski.ts";
export * from "./smc/walkers.ts";
export * from "./train/optim.ts";
export * from "./train/trainer.ts";
export * from "./viz/index.ts";
