/**
 * Optional capabilities for score-based objectives that need parameter gradients of x-derivatives of U
 * (denoising and sliced score matching), next to the contract's `ScoreMatchable` (exact score matching).
 *
 * Both are reverse-mode derivatives, with respect to θ, of quantities built from ∇ₓU_θ and ∇²ₓU_θ along
 * caller-given vectors — "double backward" (a Hessian-vector product in (θ, x)). They are exact: for an MLP
 * the native backend propagates second-order jets of U(x + t·v) and differentiates that pass in reverse
 * (native/src/mlp.cc), the tfjs backend nests tf.grad (src/backend/tfjs/mlp.ts); analytic energies write
 * closed forms (src/energies/expfam.ts). Like `paramGrad`, results are written (not added) to `out`.
 *
 *  - ScoreParamGrad: Σ_i ∂θ[r_i·∇ₓU(x_i)] for fixed r (n × dim). Denoising score matching's θ-gradient is
 *    this with r_i = w_i·(∇ₓU(x̃_i) − ε_i/σ_i) (the residual held fixed); the sliced objective's first term
 *    and the ½|∇ₓU|² term of exact or variance-reduced objectives are too.
 *  - DirectionalParamGrad: with s_i = v_i·∇ₓU(x_i) and κ_i = v_iᵀ∇²ₓU(x_i)v_i (the first and second
 *    derivatives of t ↦ U(x_i + t·v_i) at 0), Σ_i ∂θ[a_i·s_i + b_i·κ_i], and κ_i itself. Sliced score
 *    matching, J = Σ_i w_i[½ s_i² − κ_i], is one call with a_i = w_i·s_i, b_i = −w_i (s_i from
 *    energyAndGrad); with a ≡ 0 it is the parameter gradient of Hutchinson's estimate of the Laplacian.
 *    ScoreParamGrad is the special case v = r, a = 1, b = 0.
 */

export interface ScoreParamGrad {
  /** Σ_i ∂θ[r_i·∇ₓU(x_i)] into `out` (length numParams); x and r are n × dim, r held fixed. */
  scoreParamGrad(x: Float64Array, n: number, r: Float64Array, out: Float64Array): void;
}

export interface DirectionalParamGrad {
  /**
   * Along v (n × dim), with s_i = v_i·∇ₓU(x_i) and κ_i = v_iᵀ∇²ₓU(x_i)v_i: Σ_i ∂θ[a_i·s_i + b_i·κ_i] into
   * `out` (length numParams) and κ_i into `curv` (length n).
   */
  directionalParamGrad(
    x: Float64Array,
    v: Float64Array,
    n: number,
    a: Float64Array,
    b: Float64Array,
    out: Float64Array,
    curv: Float64Array,
  ): void;
}

export function isScoreParamGrad(e: object): e is ScoreParamGrad {
  return typeof (e as Partial<ScoreParamGrad>).scoreParamGrad === "function";
}

export function isDirectionalParamGrad(e: object): e is DirectionalParamGrad {
  return typeof (e as Partial<DirectionalParamGrad>).directionalParamGrad === "function";
}
