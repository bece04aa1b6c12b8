/**
 * The logistic function and its log-partner, stable for every real argument: σ(z) = 1/(1 + e^{−z}),
 * softplus(z) = log(1 + e^z) = −log σ(−z), log σ(z) = −softplus(−z). Both evaluate e^{−|z|} only, so
 * they never overflow; σ is computed as 1/(1 + e^{−z}) for z ≥ 0 and e^{z}/(1 + e^{z}) otherwise (the
 * native RBM kernels use the same two branches, so they draw the same bits from the same inputs).
 */

/** log(1 + e^z), stable for all z. */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** σ(z) = 1 / (1 + e^{−z}), stable for all z. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** log σ(z) = −softplus(−z). */
export function logSigmoid(z: number): number {
  return -softplus(-z);
}
