/**
 * Divergences from samples: the f-divergences (KL, reverse KL, Jensen–Shannon, χ², squared Hellinger,
 * total variation) through their Fenchel-dual variational lower bound, and KALE (Arbel, Zhou & Gretton
 * 2021), each with an RKHS critic (Gaussian kernel, certified Newton fit) or an MLP critic (Adam), a
 * training/held-out split and a CLT standard error; closed forms for Gaussian pairs to check them against.
 *
 *   f-divergences.ts  φ, φ*, its domain, the output activation, the bound's integrands; KALE's integrands
 *   gaussian.ts       D_φ between Gaussians: closed forms, quadrature for d ≤ 2
 *   rkhs.ts           Gaussian-kernel features on landmarks (representer theorem)
 *   newton.ts         the penalised bound's maximiser for linear critics, with a certified gap
 *   neural.ts         the MLP critic (Lipschitz weight penalty, early stopping)
 *   select.ts         clipping critics, the one-SE rule on validation points (internal)
 *   estimate.ts       estimateDivergence / estimateKale: split, standardise, fit, evaluate held out
 */
export * from "./f-divergences.ts";
export * from "./gaussian.ts";
export * from "./rkhs.ts";
export * from "./newton.ts";
export * from "./neural.ts";
export * from "./estimate.ts";
