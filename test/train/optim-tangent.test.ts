/**
 * The optimizers' tangent maps (src/train/optim.ts): the first-order response of the updates to an extra
 * gradient contribution, with the optimizer's statistics held fixed. Checked against finite differences
 * of two runs of the optimizer, one fed g_t and one fed g_t + ε·dg at step s only, over the following
 * steps (Adam's momentum spreads a contribution over later updates; the tangent must follow it).
 *
 * Tolerances. SGD is linear in the gradients: the difference quotient equals the tangent to rounding
 * (ε = 1e-6 on O(1) updates: ~1e-9 relative). Adam's tangent holds v fixed (v measures the noise level,
 * not a direction), while the finite difference also sees v move by β₂^(t−s)(1 − β₂)·2g_s·dg: the test
 * adds that path, −u_t/(2 c₂ √v̂ (√v̂ + ε_adam))·Δv, computed from the optimizer's state, and then asks
 * for agreement to 1e-4 of the response (the difference quotient's own error is O(ε) ≈ 1e-6 relative, the
 * second-order terms of the v path smaller still). Without the added path the two differ by several
 * percent; without the momentum memory, by O(1).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { keyFromSeed, Stream } from "../../src/random/key.ts";
import {
  adam,
  chain,
  clipByGlobalNorm,
  cosineDecay,
  decoupledWeightDecay,
  type Optimizer,
  sgd,
} from "../../src/train/optim.ts";

const P = 7;

function gradients(seed: number, steps: number): Float64Array[] {
  const s = new Stream(keyFromSeed(seed));
  return Array.from({ length: steps }, () => s.fillNormal(new Float64Array(P)) as Float64Array);
}

/** Updates of `opt` over the gradient sequence, with eps·dg added at step `at`. */
function run(opt: Optimizer, gs: Float64Array[], at: number, eps: number, dg: Float64Array): Float64Array[] {
  const params = new Float64Array(P).fill(0.5);
  let state = opt.init(params);
  return gs.map((g, t) => {
    const gg = g.slice();
    if (t === at) for (let i = 0; i < P; i++) gg[i] += eps * dg[i];
    const r = opt.update(gg, state, params);
    state = r.state;
    return r.updates;
  });
}

interface AdamLike {
  b2: number;
  eps: number;
}

/**
 * Tangent responses at steps at, at+1, … to dg at step `at` (0 afterwards); for Adam (`adamV`) plus the
 * response through v that the tangent leaves out (see the header).
 */
function tangents(
  opt: Optimizer,
  gs: Float64Array[],
  at: number,
  dg: Float64Array,
  adamV?: AdamLike,
): Float64Array[] {
  const params = new Float64Array(P).fill(0.5);
  let state = opt.init(params);
  const tangent = opt.tangentInit!(params);
  const out: Float64Array[] = [];
  gs.forEach((g, t) => {
    const r = opt.update(g, state, params);
    state = r.state;
    const d = t === at ? dg : new Float64Array(P);
    const du = opt.tangentUpdate!(d, tangent, state, params);
    if (adamV && t >= at) {
      const st = state as { v: Float64Array; t: number };
      const c2 = 1 - adamV.b2 ** st.t;
      for (let i = 0; i < P; i++) {
        const dv = adamV.b2 ** (t - at) * (1 - adamV.b2) * 2 * gs[at][i] * dg[i];
        const sh = Math.sqrt(st.v[i] / c2);
        du[i] += (-r.updates[i] / (2 * c2 * sh * (sh + adamV.eps))) * dv;
      }
    }
    if (t >= at) out.push(du);
  });
  return out;
}

function check(name: string, opt: () => Optimizer, at: number, rtol: number, adamV?: AdamLike) {
  test(`${name}: tangent = finite difference over the following updates`, () => {
    const steps = at + 30;
    const gs = gradients(1, steps);
    const dg = gradients(2, 1)[0];
    const eps = 1e-6;
    const base = run(opt(), gs, at, 0, dg);
    const pert = run(opt(), gs, at, eps, dg);
    const tan = tangents(opt(), gs, at, dg, adamV);
    // Relative to the response at step `at` (later responses decay towards 0).
    let scale = 0;
    for (let i = 0; i < P; i++) scale += ((pert[at][i] - base[at][i]) / eps) ** 2;
    let worst = 0;
    for (let t = at; t < steps; t++) {
      let num = 0;
      for (let i = 0; i < P; i++) num += ((pert[t][i] - base[t][i]) / eps - tan[t - at][i]) ** 2;
      worst = Math.max(worst, Math.sqrt(num / scale));
    }
    assert.ok(worst <= rtol, `${name}: worst relative difference ${worst} > ${rtol}`);
  });
}

const ADAM: AdamLike = { b2: 0.999, eps: 1e-8 };
check("sgd", () => sgd(0.1), 3, 1e-7);
check("sgd with a cosine schedule", () => sgd(cosineDecay(0.1, 50)), 5, 1e-7);
check("adam, early (bias correction large)", () => adam(1e-3), 4, 1e-4, ADAM);
check("adam", () => adam(1e-3), 1200, 1e-4, ADAM);
check("adam without momentum", () => adam(1e-3, 0), 1200, 1e-4, ADAM);
check("adam with a schedule", () => adam(cosineDecay(1e-3, 2000)), 1200, 1e-4, ADAM);

test("chain(clip, adam, decoupled weight decay): the tangent of adam alone (clip inactive, decay θ-only)", () => {
  const gs = gradients(5, 40);
  const dg = gradients(6, 1)[0];
  const a = tangents(adam(1e-3), gs, 10, dg);
  const c = tangents(chain(clipByGlobalNorm(100), adam(1e-3), decoupledWeightDecay(1e-3, 0.1)), gs, 10, dg);
  assert.deepEqual(c, a);
});

test("adam's tangent carries the momentum: a contribution at step s still moves step s + 10", () => {
  const gs = gradients(3, 1220);
  const dg = gradients(4, 1)[0];
  const tan = tangents(adam(1e-3), gs, 1200, dg);
  const norm = (v: Float64Array) => Math.hypot(...v);
  // (1 − β₁)β₁^10 / (1 − β₁) = 0.9^10 ≈ 0.35 of the first response (v barely moves in 10 steps).
  const ratio = norm(tan[10]) / norm(tan[0]);
  assert.ok(Math.abs(ratio - 0.9 ** 10) < 0.02, `ratio ${ratio}`);
});

test("an optimizer whose parts all have tangents has one; clipping's tangent scales by the clip factor", () => {
  assert.ok(chain(sgd(1), adam(1)).tangentUpdate);
  const clip = clipByGlobalNorm(1);
  const g = new Float64Array([3, 4]);
  clip.update(g, clip.init(g), g);
  const du = clip.tangentUpdate!(new Float64Array([1, 1]), clip.tangentInit!(g), null, g);
  assert.deepEqual(Array.from(du), [0.2, 0.2]);
});
