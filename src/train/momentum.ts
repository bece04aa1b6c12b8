/**
 * Two Optax-style gradient transformations that RBM training uses (Hinton 2010, "A practical guide to
 * training restricted Boltzmann machines", §9–10), composed with the optimizers of optim.ts:
 *
 *   chain(addDecayedWeights(wd, V·H), trace(stepSchedule(0.5, 0.9, switchAt)), sgd(lr))
 *
 * is SGD with momentum and an L2 weight cost on W alone: Δ ← μ_t·Δ + (g + wd·W), θ ← θ − lr·Δ. (Optax
 * writes the same thing as chain(add_decayed_weights, trace, scale_by_learning_rate).) The states are plain
 * data (a counter and a Float64Array), so a checkpointed run resumes bit for bit.
 */
import type { Optimizer, Schedule } from "./optim.ts";

/** before for t < at, then after: Hinton's momentum 0.5 → 0.9 once the first fast progress is over. */
export function stepSchedule(before: number, after: number, at: number): Schedule {
  return (t) => (t < at ? before : after);
}

interface TraceState {
  /** The running sum Δ_t = μ_t·Δ_{t−1} + g_t. */
  m: Float64Array;
  t: number;
}

/**
 * Momentum as a transformation (Optax `trace`): outputs Δ_t = μ_t·Δ_{t−1} + g_t, Δ_0 = 0. Chain it before
 * sgd(lr) for heavy-ball SGD. μ must stay in [0, 1).
 */
export function trace(decay: number | Schedule): Optimizer {
  const mu = (t: number) => {
    const v = typeof decay === "number" ? decay : decay(t);
    if (!(v >= 0 && v < 1)) throw new RangeError(`momentum must be in [0, 1), got ${v}`);
    return v;
  };
  return {
    init: (p) => ({ m: new Float64Array(p.length), t: 0 }) satisfies TraceState,
    update(g, state, _params, out) {
      const st = state as TraceState;
      const d = mu(st.t);
      for (let i = 0; i < g.length; i++) st.m[i] = d * st.m[i] + g[i];
      st.t++;
      const updates = out ?? new Float64Array(g.length);
      updates.set(st.m);
      return { updates, state: st };
    },
    // Linear in the gradients: the tangent carries its own running sum with the same decay.
    tangentInit: (p) => new Float64Array(p.length),
    tangentUpdate(dg, tangent, state) {
      const dm = tangent as Float64Array;
      const d = mu((state as TraceState).t - 1);
      for (let i = 0; i < dg.length; i++) dm[i] = d * dm[i] + dg[i];
      return dm.slice();
    },
  };
}

/**
 * Adds wd·θ_i to the gradient (an L2 penalty ½·wd·|θ|² on the loss) for the first `count` parameters
 * (default all): for an RBM, whose θ starts with W, count = V·H penalises the weights and not the biases,
 * as Hinton's guide does. Stateless.
 */
export function addDecayedWeights(wd: number, count?: number): Optimizer {
  if (!(wd >= 0 && Number.isFinite(wd))) throw new RangeError(`weight cost must be ≥ 0, got ${wd}`);
  return {
    init: () => null,
    update(g, state, params, out) {
      const updates = out ?? new Float64Array(g.length);
      const n = Math.min(count ?? g.length, g.length);
      for (let i = 0; i < g.length; i++) updates[i] = i < n ? g[i] + wd * params[i] : g[i];
      return { updates, state };
    },
    tangentInit: () => null,
    tangentUpdate: (dg) => dg.slice(),
  };
}
