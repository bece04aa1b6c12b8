/** Every Markov kernel of this folder, and the types they share. */
export * from "./hmc.ts";
export * from "./kinetic.ts";
export * from "./mala.ts";
export * from "./rwm.ts";
export * from "./types.ts";
export * from "./ula.ts";
export * from "./run.ts";
export * from "./nuts.ts";
