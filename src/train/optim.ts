/**
 * Optimizers in the Optax style: `init(params) → state`, `update(grads, state, params) → updates`, and
 * `applyUpdates`. They work on flat float64 parameter vectors (the Energy contract's θ) and compose with
 * `chain` (e.g. chain(clipByGlobalNorm(1), adam(1e-3))). Updates are to be added to θ.
 */

export interface GradientTransformation<S = unknown> {
  init(params: Float64Array): S;
  /**
   * The updates for `grads`. With `out` (grads.length values; it may be `grads` itself) they are written
   * there and `out` is returned, so a training loop allocates nothing per step (large typed arrays made
   * every iteration keep the garbage collector busy); without it, in a new array.
   */
  update(
    grads: Float64Array,
    state: S,
    params: Float64Array,
    out?: Float64Array,
  ): { updates: Float64Array; state: S };
  /**
   * Optional tangent map: how the updates respond, to first order, to an extra gradient contribution dg
   * with the optimizer's statistics (second moments, clipping factor, rate) held at their values in the
   * `update` just made. `tangent` carries the linear part of the state (Adam's first moment; null for a
   * stateless map), from `tangentInit`; it is updated in place. Called right after `update`, with the
   * state that returned. Used to find the share of a step that a group of walkers caused (trainer.ts).
   */
  tangentInit?(params: Float64Array): unknown;
  tangentUpdate?(dg: Float64Array, tangent: unknown, state: S, params: Float64Array): Float64Array;
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
    update(g, state, _params, out) {
      const st = state as { t: number };
      const rate = rateAt(lr, st.t);
      // A plain loop: TypedArray.prototype.map with a closure is ~10× slower on 10⁵–10⁶ parameters.
      const updates = out ?? new Float64Array(g.length);
      for (let i = 0; i < g.length; i++) updates[i] = -rate * g[i];
      return { updates, state: { t: st.t + 1 } };
    },
    tangentInit: () => null,
    tangentUpdate(dg, _tangent, state) {
      const rate = rateAt(lr, (state as { t: number }).t - 1);
      const du = new Float64Array(dg.length);
      for (let i = 0; i < dg.length; i++) du[i] = -rate * dg[i];
      return du;
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
    update(u, state, params, out) {
      const st = state as { t: number };
      const f = rateAt(lr, st.t) * wd;
      const updates = out ?? new Float64Array(u.length);
      for (let i = 0; i < updates.length; i++) updates[i] = u[i] - f * params[i];
      return { updates, state: { t: st.t + 1 } };
    },
    // The decay term does not depend on the incoming updates.
    tangentInit: () => null,
    tangentUpdate: (du) => du.slice(),
  };
}

interface AdamState {
  m: Float64Array;
  v: Float64Array;
  t: number;
}

/**
 * b^t for an integer t ≥ 0 by binary exponentiation: products only, so the same bits on every host (`**`
 * and Math.pow call the host's pow, whose last bit differs between Node and a browser).
 */
function powInt(b: number, t: number): number {
  let r = 1;
  let x = b;
  for (let k = t; k > 0; k = Math.floor(k / 2)) {
    if (k % 2 === 1) r *= x;
    x *= x;
  }
  return r;
}

/** Adam (Kingma & Ba) with bias correction (b^t by `powInt`: host-independent). */
export function adam(lr: number | Schedule, b1 = 0.9, b2 = 0.999, eps = 1e-8): Optimizer {
  return {
    init: (p) => ({ m: new Float64Array(p.length), v: new Float64Array(p.length), t: 0 }) satisfies AdamState,
    update(g, s, _params, out) {
      const st = s as AdamState;
      const t = st.t + 1;
      const c1 = 1 - powInt(b1, t);
      const c2 = 1 - powInt(b2, t);
      const rate = rateAt(lr, st.t);
      const updates = out ?? new Float64Array(g.length);
      for (let i = 0; i < g.length; i++) {
        st.m[i] = b1 * st.m[i] + (1 - b1) * g[i];
        st.v[i] = b2 * st.v[i] + (1 - b2) * g[i] * g[i];
        updates[i] = (-rate * (st.m[i] / c1)) / (Math.sqrt(st.v[i] / c2) + eps);
      }
      st.t = t;
      return { updates, state: st };
    },
    // The first moment is linear in the gradients; v (noise level, not direction) is held fixed.
    tangentInit: (p) => new Float64Array(p.length),
    tangentUpdate(dg, tangent, s) {
      const st = s as AdamState;
      const dm = tangent as Float64Array;
      const c1 = 1 - powInt(b1, st.t);
      const c2 = 1 - powInt(b2, st.t);
      const rate = rateAt(lr, st.t - 1);
      const du = new Float64Array(dg.length);
      for (let i = 0; i < dg.length; i++) {
        dm[i] = b1 * dm[i] + (1 - b1) * dg[i];
        du[i] = (-rate * (dm[i] / c1)) / (Math.sqrt(st.v[i] / c2) + eps);
      }
      return du;
    },
  };
}

/** Rescales the gradient so its Euclidean norm is at most `maxNorm`. */
export function clipByGlobalNorm(maxNorm: number): Optimizer {
  // The last update's factor, for the tangent map (called right after it).
  let lastFactor = 1;
  return {
    init: () => null,
    update(g, state, _params, out) {
      let s = 0;
      for (let i = 0; i < g.length; i++) s += g[i] * g[i];
      const norm = Math.sqrt(s);
      const f = norm > maxNorm ? maxNorm / norm : 1;
      lastFactor = f;
      const updates = out ?? new Float64Array(g.length);
      for (let i = 0; i < updates.length; i++) updates[i] = f !== 1 ? g[i] * f : g[i];
      return { updates, state };
    },
    // The factor is held fixed (its dependence on one group's share is second order in the direction).
    tangentInit: () => null,
    tangentUpdate(dg) {
      const du = dg.slice();
      if (lastFactor !== 1) for (let i = 0; i < du.length; i++) du[i] *= lastFactor;
      return du;
    },
  };
}

/** Applies transformations in order, each on the previous one's output. */
export function chain(...parts: Optimizer[]): Optimizer {
  return {
    init: (p) => parts.map((t) => t.init(p)),
    update(g, state, params, out) {
      const states = state as unknown[];
      let u = g;
      // With `out`, every part works in place on it (each reads value i before writing it).
      const next = parts.map((t, i) => {
        const r = t.update(u, states[i], params, out);
        u = r.updates;
        return r.state;
      });
      return { updates: u, state: next };
    },
    ...(parts.every((t) => t.tangentInit && t.tangentUpdate)
      ? {
          tangentInit: (p: Float64Array) => parts.map((t) => t.tangentInit!(p)),
          tangentUpdate(dg: Float64Array, tangent: unknown, state: unknown, params: Float64Array) {
            const tangents = tangent as unknown[];
            const states = state as unknown[];
            let du = dg;
            parts.forEach((t, i) => {
              du = t.tangentUpdate!(du, tangents[i], states[i], params);
            });
            return du;
          },
        }
      : {}),
  };
}
