/**
 * Jarzynski weight updates for walkers moved by ULA while the energy changes (seed 000, Algorithm 1).
 *
 * With X_{k+1} = X_k − hβ∇U_k(X_k) + √(2h)ξ (the move made under θ_k) followed by θ_k → θ_{k+1}, the
 * weight is the ratio of the backward ULA kernel under the new energy to the forward kernel under the
 * old one, each times its unnormalized density:
 *
 *   A_{k+1} − A_k = log[ e^{−βU_{k+1}(X_{k+1})} q_{k+1}(X_{k+1} → X_k) ] − log[ e^{−βU_k(X_k)} q_k(X_k → X_{k+1}) ],
 *   q_θ(x → y) ∝ exp(−|y − x + hβ∇U_θ(x)|² / (4h)).
 *
 * Expanding the squares, the |y − x|²/(4h) terms cancel and what remains is
 *   A_{k+1} = A_k + α_k(X_k, X_{k+1}) − α_{k+1}(X_{k+1}, X_k),
 *   α_θ(x, y) = βU_θ(x) + ½⟨y − x, β∇U_θ(x)⟩ + (h/4)|β∇U_θ(x)|².
 * For a fixed θ the increment is the log Metropolis–Hastings ratio of MALA's proposal, which is how the
 * tests check it. For a move that leaves the new model exactly invariant (MALA, HMC, Gibbs), the AIS form
 * A_{k+1} = A_k + βU_k(X_k) − βU_{k+1}(X_k) applies instead (`aisIncrement`), with the move made after the
 * reweighting (objectives/jarzynski.ts does so for exact walker moves).
 */

/** α(x, y) per walker into `out`, from U(x) and ∇U(x) cached at x. */
export function ulaLogAlpha(
  u: Float64Array,
  grad: Float64Array,
  from: Float64Array,
  to: Float64Array,
  n: number,
  dim: number,
  h: number,
  beta: number,
  out: Float64Array,
): Float64Array {
  for (let i = 0; i < n; i++) {
    let dot = 0;
    let g2 = 0;
    for (let j = 0; j < dim; j++) {
      const g = beta * grad[i * dim + j];
      dot += (to[i * dim + j] - from[i * dim + j]) * g;
      g2 += g * g;
    }
    out[i] = beta * u[i] + 0.5 * dot + 0.25 * h * g2;
  }
  return out;
}

/** AIS increment βU_old(x) − βU_new(x), added to the log-weights. */
export function aisIncrement(uOld: Float64Array, uNew: Float64Array, beta: number, logw: Float64Array): void {
  for (let i = 0; i < logw.length; i++) logw[i] += beta * (uOld[i] - uNew[i]);
}
