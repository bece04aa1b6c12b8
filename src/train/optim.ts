/**
 * Optimizers in the Optax style: `init(params) → state`, `update(grads, state, params) → updates`, and
 * `applyUpdates`. They work on flat float64 parameter vectors (the Energy contract's θ) and compose with
 * `chain` (e.g. chain(clipByGlobalNorm(1), adam(1e-3))). Updates are to be added to θ.
 */

export interface GradientTransformation<S = unknown> {
  init(params: Float64Array): S;
  update(grads: Float64Array, state: S, params: Float64Array): { updates: Float64Array; state: S };
}

export type Optimizer = GradientTransformation<unknown>;

/** θ ← θ + updates, in place. */
export function applyUpdates(params: Float64Array, updates: Float64Array): Float64Array {
  for (let i = 0; i < params.length; i++) params[i] += updates[i];
  return params;
}

/** A learning rate as a function of the update count t = 0, 1, 2, … */
export type Schedule = (t: number) => number;

function rateAt(lr: number | Schedule, t: number): number {
  return typeof lr === "number" ? lr : lr(t);
}

/** lr·(final + (1 − final)·½(1 + cos(π·min(t, steps)/steps))): from lr down to final·lr over `steps` updates. */
export function cosineDecay(lr: number, steps: number, final = 0): Schedule {
  if (!(steps >= 1)) throw new RangeError(`cosine decay needs steps ≥ 1, got ${steps}`);
  return (t) => lr * (final + (1 - final) * 0.5 * (1 + Math.cos((Math.PI * Math.min(t, steps)) / steps)));
}

/** Linear warm-up from 0 to the schedule's value over `warmup` updates, then the schedule. */
export function withWarmup(lr: number | Schedule, warmup: number): Schedule {
  return (t) => (t < warmup ? (rateAt(lr, t) * (t + 1)) / warmup : rateAt(lr, t));
}

/** Plain gradient descent: updates = −lr·g. */
export function sgd(lr: number | Schedule): Optimizer {
  return {
    init: () => ({ t: 0 }),
    update(g, state) {
      const st = state as { t: number };
      const rate = rateAt(lr, st.t);
      // A plain loop: TypedArray.prototype.map with a closure is ~10× slower on 10⁵–10⁶ parameters.
      const updates = new Float64Array(g.length);
      for (let i = 0; i < g.length; i++) updates[i] = -rate * g[i];
      return { updates, state: { t: st.t + 1 } };
    },
  };
}

/**
 * Decoupled weight decay (Loshchilov & Hutter, AdamW): adds −lr_t·wd·θ to the updates of the
 * transformation it follows in a chain, e.g. chain(adam(lr), decoupledWeightDecay(lr, 1e-4)).
 */
export function decoupledWeightDecay(lr: number | Schedule, wd: number): Optimizer {
  return {
    init: () => ({ t: 0 }),
    update(u, state, params) {
      const st = state as { t: number };
      const f = rateAt(lr, st.t) * wd;
      const updates = u.slice();
      for (let i = 0; i < updates.length; i++) updates[i] -= f * params[i];
      return { updates, state: { t: st.t + 1 } };
    },
  };
}

interface AdamState {
  m: Float64Array;
  v: Float64Array;
  t: number;
}

/** Adam (Kingma & Ba) with bias correction. */
export function adam(lr: number | Schedule, b1 = 0.9, b2 = 0.999, eps = 1e-8): Optimizer {
  return {
    init: (p) => ({ m: new Float64Array(p.length), v: new Float64Array(p.length), t: 0 }) satisfies AdamState,
    update(g, s) {
      const st = s as AdamState;
      const t = st.t + 1;
      const c1 = 1 - b1 ** t;
      const c2 = 1 - b2 ** t;
      const rate = rateAt(lr, st.t);
      const updates = new Float64Array(g.length);
      for (let i = 0; i < g.length; i++) {
        st.m[i] = b1 * st.m[i] + (1 - b1) * g[i];
        st.v[i] = b2 * st.v[i] + (1 - b2) * g[i] * g[i];
        updates[i] = (-rate * (st.m[i] / c1)) / (Math.sqrt(st.v[i] / c2) + eps);
      }
      st.t = t;
      return { updates, state: st };
    },
  };
}

/** Rescales the gradient so its Euclidean norm is at most `maxNorm`. */
export function clipByGlobalNorm(maxNorm: number): Optimizer {
  return {
    init: () => null,
    update(g, state) {
      let s = 0;
      for (let i = 0; i < g.length; i++) s += g[i] * g[i];
      const norm = Math.sqrt(s);
      const f = norm > maxNorm ? maxNorm / norm : 1;
      const updates = g.slice();
      if (f !== 1) for (let i = 0; i < updates.length; i++) updates[i] *= f;
      return { updates, state };
    },
  };
}

/** Applies transformations in order, each on the previous one's output. */
export function chain(...parts: Optimizer[]): Optimizer {
  return {
    init: (p) => parts.map((t) => t.init(p)),
    update(g, state, params) {
      const states = state as unknown[];
      let u = g;
      const next = parts.map((t, i) => {
        const r = t.update(u, states[i], params);
        u = r.updates;
        return r.state;
      });
      return { updates: u, state: next };
    },
  };
}
