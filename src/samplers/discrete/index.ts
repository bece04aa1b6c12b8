/** Every Markov kernel for binary states, and the types they share. */
export * from "./block-gibbs.ts";
export * from "./dmala.ts";
export * from "./flip.ts";
export * from "./gibbs.ts";
export * from "./gwg.ts";
export * from "./types.ts";
