/**
 * The MMD gradient flow (Arbel, Korba, Salim & Gretton, NeurIPS 2019) with noise injection, and the
 * student–teacher networks it trains. Host-free float64 code; randomness only from keys.
 *
 *   flow.ts             the (noisy) flow as a kernel: mmdFlowInit, mmdFlowStep(key, state, witness, γ, βₙ)
 *   units.ts            hidden units ψ(x, u) = G(w·σ(aᵀx + b)) as particles: network output, loss, the
 *                       witness and its gradient, the unit kernel and its MMD²
 *   student-teacher.ts  inputs on the sphere, normal units, the student's witness against a teacher
 */
export * from "./flow.ts";
export * from "./units.ts";
export * from "./student-teacher.ts";
