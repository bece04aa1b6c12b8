/**
 * Sliced score matching (Song, Garg, Shi & Ermon 2019): exact score matching with the Laplacian replaced by
 * random projections, so no d backward passes per point.
 *
 * Sign convention for an energy (model score −∇ₓU): Hyvärinen's J = E[½|∇ₓU|² − ΔₓU] (the contract's
 * ScoreMatchable). Projecting on random v with E[vvᵀ] = I (Rademacher ±1, or standard normal):
 *
 *   "ssm":     J = E_x E_v[½(vᵀ∇ₓU)² − vᵀ∇²ₓU v]
 *   "ssm-vr":  J = E_x [½|∇ₓU|² − E_v vᵀ∇²ₓU v]     (variance reduced: the first term taken exactly)
 *
 * Both have the expectation of exact score matching, E_v[(vᵀg)²] = |g|² and E_v[vᵀHv] = tr H = ΔU; "ssm-vr"
 * is exactly exact SM with Hutchinson's estimator of the Laplacian. With Rademacher v in d = 1 both equal
 * exact SM (v² = 1).
 *
 * The curvature term is exact, not a finite difference: vᵀ∇²U v = d²/dt² U(x + t·v) at t = 0, and its
 * θ-gradient comes from the energy's `directionalParamGrad` (src/energies/score-grad.ts; for the MLP on
 * the native backend one pass of second-order jets forward and reverse mode through them, on tfjs nested
 * tf.grad; closed form for the exponential family). The design: with
 * s = vᵀ∇ₓU from energyAndGrad and weights w = 1/(n·M),
 *   "ssm":    ∂θJ = directionalParamGrad(x, v; a = w·s, b = −w)                        (one call)
 *   "ssm-vr": ∂θJ = scoreParamGrad(x; r = ∇ₓU/n) + directionalParamGrad(x, v; a = 0, b = −w)
 * `projections` (M, default 1) directions are drawn per data point per iteration, fresh from its key.
 */
import type { TrainableEnergy } from "../energies/contract.ts";
import {
  type DirectionalParamGrad,
  isDirectionalParamGrad,
  isScoreParamGrad,
  type ScoreParamGrad,
} from "../energies/score-grad.ts";
import { Stream } from "../random/key.ts";
import type { Batch, Objective, ObjectiveDiagnostics } from "./objective.ts";

export interface SlicedOptions {
  /** "ssm" (default) or "ssm-vr" (½|∇ₓU|² exact, Hutchinson only for the Laplacian). */
  variant?: "ssm" | "ssm-vr";
  /** Distribution of the projections v: "rademacher" (±1, default) or "gaussian" (N(0, I)). */
  projection?: "rademacher" | "gaussian";
  /** Projections per data point per iteration (integer ≥ 1, default 1). */
  projections?: number;
}

export interface SlicedDiagnostics extends ObjectiveDiagnostics {
  /** The loss of the last gradient call (its projections). */
  loss: number;
}

/** Plain data (checkpointable): the loss of the last call. Scratch buffers live in the objective. */
export interface SlicedState {
  loss: number;
}

type Model = TrainableEnergy & DirectionalParamGrad & Partial<ScoreParamGrad>;

export function slicedScoreMatching(opts: SlicedOptions = {}): Objective<SlicedState> {
  const variant = opts.variant ?? "ssm";
  if (variant !== "ssm" && variant !== "ssm-vr")
    throw new RangeError(`sliced score matching: variant must be "ssm" or "ssm-vr", got ${variant}`);
  const projection = opts.projection ?? "rademacher";
  if (projection !== "rademacher" && projection !== "gaussian")
    throw new RangeError(
      `sliced score matching: projection must be "rademacher" or "gaussian", got ${projection}`,
    );
  const M = opts.projections ?? 1;
  if (!(Number.isInteger(M) && M >= 1))
    throw new RangeError(`sliced score matching: projections must be an integer ≥ 1, got ${M}`);

  const check = (model: TrainableEnergy): Model => {
    if (!isDirectionalParamGrad(model))
      throw new Error(
        "sliced score matching needs an energy with directionalParamGrad (src/energies/score-grad.ts)",
      );
    if (variant === "ssm-vr" && !isScoreParamGrad(model))
      throw new Error("sliced score matching (ssm-vr) needs an energy with scoreParamGrad");
    return model as Model;
  };

  // Scratch grown to the batch.
  const e0 = new Float64Array(0);
  const s = { xr: e0, v: e0, g: e0, u: e0, a: e0, b: e0, curv: e0, r: e0, tmp: e0 };

  return {
    name: variant,
    init(_key, model) {
      check(model);
      return { loss: Number.NaN };
    },
    gradient(key, state, model, batch: Batch, out) {
      const e = check(model);
      const d = model.dim;
      const n = batch.n;
      const m = n * M;
      if (s.a.length < m || s.v.length < m * d || s.g.length < n * d) {
        s.xr = new Float64Array(m * d);
        s.v = new Float64Array(m * d);
        s.g = new Float64Array(n * d);
        s.u = new Float64Array(n);
        s.a = new Float64Array(m);
        s.b = new Float64Array(m);
        s.curv = new Float64Array(m);
        s.r = new Float64Array(n * d);
        s.tmp = new Float64Array(model.numParams);
      }
      if (s.tmp.length !== model.numParams) s.tmp = new Float64Array(model.numParams);
      e.energyAndGrad(batch.x, n, s.u, s.g);
      // Rows: projection p of point i at row p·n + i, so M = 1 uses batch.x as is.
      const rng = new Stream(key);
      const xr = M === 1 ? batch.x : s.xr;
      if (M > 1) for (let p = 0; p < M; p++) xr.set(batch.x.subarray(0, n * d), p * n * d);
      for (let q = 0; q < m * d; q++)
        s.v[q] = projection === "rademacher" ? (rng.nextU32() & 1 ? 1 : -1) : rng.normal();
      const w = 1 / m;
      let half = 0;
      for (let row = 0; row < m; row++) {
        const i = row % n;
        let sv = 0;
        for (let a = 0; a < d; a++) sv += s.v[row * d + a] * s.g[i * d + a];
        s.a[row] = variant === "ssm" ? w * sv : 0;
        s.b[row] = -w;
        if (variant === "ssm") half += 0.5 * w * sv * sv;
      }
      e.directionalParamGrad(xr, s.v, m, s.a, s.b, out, s.curv);
      if (variant === "ssm-vr") {
        const r = s.r;
        for (let i = 0; i < n; i++) {
          let sq = 0;
          for (let a = 0; a < d; a++) {
            const gi = s.g[i * d + a];
            sq += gi * gi;
            r[i * d + a] = gi / n;
          }
          half += (0.5 * sq) / n;
        }
        e.scoreParamGrad!(batch.x, n, r, s.tmp);
        for (let k = 0; k < model.numParams; k++) out[k] += s.tmp[k];
      }
      let curv = 0;
      for (let row = 0; row < m; row++) curv += w * s.curv[row];
      state.loss = half - curv;
    },
    afterUpdate() {},
    diagnostics: (state): SlicedDiagnostics => ({ loss: state.loss }),
  };
}

/** `slicedScoreMatching` under its short name: `sliced({ variant: "ssm" | "ssm-vr" })`. */
export const sliced = slicedScoreMatching;
