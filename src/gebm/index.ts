/** Generalized energy-based models: generator + energy, KALE training, latent-posterior sampling. */
export * from "./latent.ts";
export * from "./model.ts";
export * from "./sample.ts";
export * from "./train.ts";
