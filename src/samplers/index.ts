/** Every continuous Markov kernel of this folder, the parts they share, and the types they share. */
export * from "./hmc.ts";
export * from "./integrators.ts";
export * from "./kinetic.ts";
export * from "./langevin.ts";
export * from "./mala.ts";
export * from "./mala-chains.ts";
export * from "./mh.ts";
export * from "./moves.ts";
export * from "./rwm.ts";
export * from "./state.ts";
export * from "./types.ts";
export * from "./ula.ts";
export * from "./run.ts";
export * from "./nuts.ts";
