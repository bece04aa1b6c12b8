/**
 * The score-gradient capabilities of the MLP energy (src/energies/score-grad.ts) on every backend:
 * `scoreParamGrad` (Σ_i ∂θ[r_i·∇ₓU(x_i)]) and `directionalParamGrad` (Σ_i ∂θ[a_i v_i·∇ₓU + b_i v_iᵀ∇²ₓU v_i]
 * and κ_i = v_iᵀ∇²ₓU v_i), against a float64 reference and against each other.
 *
 * Reference. A float64 forward pass of the second-order jet of t ↦ U(x + t·v) (z, ż = ḣW, z̈ = ḧW;
 * ḣ = f′ż, ḧ = f″ż² + f′z̈) gives u̇ = v·∇ₓU and ü = vᵀ∇²ₓU v exactly in float64; the θ-gradients are
 * float64 central differences of those jets (step 1e-6: truncation ≈ 1e-12·|F‴|, rounding ≈ 1e-10·|F|, both
 * far below float32 effects). The reference sees what the backends see: θ, x and v rounded to float32.
 *
 * Tolerances (float32 backends). As test/native/mlp.test.ts: unit roundoff u ≈ 6e-8, dot products of length
 * ≤ 24 err by γ_K ≈ 1.5e-6 relative to Σ|terms|, and the jet pass chains three products per layer (forward
 * jet, reverse jet, the parameter product) over ≤ 3 layers with a cancellation factor κ ≲ 10: ≈ 1e-4 of the
 * aggregate. So Σ_k|out_k − ref_k| ≤ 3e-4·Σ_k|ref_k| and elementwise 3e-4·(|ref_k| + mean|ref|); between
 * tfjs and another backend 6e-4 (both errors add). A wrong index or a missing term (e.g. the f‴ or the 2Ḧ̄f″ż
 * term of the reverse jet) is an O(1) relative error. Measured worst ratios are printed with
 * --test-reporter=spec.
 *
 * The "typescript" backend computes in float64 (its error is far below these tolerances) and always runs.
 * The native suite skips when the addon is not the selected backend (EBM_BACKEND=wasm or not built).
 */
import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { describe, test } from "node:test";
import { isDirectionalParamGrad, isScoreParamGrad } from "../../src/energies/score-grad.ts";
import { createMlpEnergy, type MlpEnergy, type MlpSpec } from "../../src/energies/mlp.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";
import { setThreads } from "../../src/node.ts";
import { skipNative } from "../native/addon.ts";

const ACTS = ["silu", "softplus", "tanh", "elu"] as const;
type Act = (typeof ACTS)[number];

/** f, f′, f″ in float64. */
const JET64: Record<Act, (z: number) => [number, number, number]> = {
  silu: (z) => {
    const s = 1 / (1 + Math.exp(-z));
    return [z * s, s * (1 + z * (1 - s)), s * (1 - s) * (2 + z * (1 - 2 * s))];
  },
  softplus: (z) => {
    const s = 1 / (1 + Math.exp(-z));
    return [Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))), s, s * (1 - s)];
  },
  tanh: (z) => {
    const t = Math.tanh(z);
    return [t, 1 - t * t, -2 * t * (1 - t * t)];
  },
  elu: (z) => (z > 0 ? [z, 1, 0] : [Math.expm1(z), Math.exp(z), Math.exp(z)]),
};

/** u̇_i, ü_i of the network (without confinement) along v_i, float64, at θ (as given). */
function jets(sp: MlpSpec, th: Float64Array, x: Float64Array, v: Float64Array, n: number) {
  const widths = [sp.inputDim, ...sp.hidden, 1];
  const L = widths.length - 1;
  const f = JET64[sp.activation];
  const d = sp.inputDim;
  const u1 = new Float64Array(n);
  const u2 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let h = Array.from(x.subarray(i * d, i * d + d));
    let h1 = Array.from(v.subarray(i * d, i * d + d));
    let h2 = new Array<number>(d).fill(0);
    let off = 0;
    for (let l = 0; l < L; l++) {
      const [fi, fo] = [widths[l], widths[l + 1]];
      const z = new Array<number>(fo).fill(0);
      const z1 = new Array<number>(fo).fill(0);
      const z2 = new Array<number>(fo).fill(0);
      for (let o = 0; o < fo; o++) {
        for (let k = 0; k < fi; k++) {
          const w = th[off + k * fo + o];
          z[o] += h[k] * w;
          z1[o] += h1[k] * w;
          z2[o] += h2[k] * w;
        }
        z[o] += th[off + fi * fo + o];
      }
      off += fi * fo + fo;
      if (l + 1 < L) {
        const j = z.map(f);
        h = j.map((t) => t[0]);
        h1 = j.map((t, o) => t[1] * z1[o]);
        h2 = j.map((t, o) => t[2] * z1[o] * z1[o] + t[1] * z2[o]);
      } else {
        u1[i] = z1[0];
        u2[i] = z2[0];
      }
    }
  }
  return { u1, u2 };
}

const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));

/**
 * Float64 references: Σ_i ∂θ[a_i u̇_i] (scoreParamGrad with r_i = a_i v_i), Σ_i ∂θ[a_i u̇_i + b_i ü_i] (central
 * differences of the jets) and κ.
 */
function reference(
  sp: MlpSpec,
  theta: Float64Array,
  x: Float64Array,
  v: Float64Array,
  n: number,
  a: Float64Array,
  b: Float64Array,
): { score: Float64Array; grad: Float64Array; curv: Float64Array } {
  const th = f32(theta);
  const xr = f32(x);
  const vr = f32(v);
  const F = (): [number, number] => {
    const { u1, u2 } = jets(sp, th, xr, vr, n);
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      s1 += a[i] * u1[i];
      s2 += b[i] * u2[i];
    }
    return [s1, s2];
  };
  const h = 1e-6;
  const score = new Float64Array(th.length);
  const grad = new Float64Array(th.length);
  for (let k = 0; k < th.length; k++) {
    const old = th[k];
    th[k] = old + h;
    const up = F();
    th[k] = old - h;
    const down = F();
    th[k] = old;
    score[k] = (up[0] - down[0]) / (2 * h);
    grad[k] = score[k] + (up[1] - down[1]) / (2 * h);
  }
  const c = sp.confinement ?? 0;
  const curv = jets(sp, th, xr, vr, n).u2;
  const d = sp.inputDim;
  for (let i = 0; i < n; i++) {
    let sq = 0;
    for (let k = 0; k < d; k++) sq += v[i * d + k] ** 2;
    curv[i] += c * sq;
  }
  return { score, grad, curv };
}

let worst = 0;

/** Aggregate and elementwise closeness; records the worst aggregate ratio. */
function assertNear(got: Float64Array, ref: Float64Array, rtol: number, what: string): void {
  let sumErr = 0;
  let sumRef = 0;
  for (let i = 0; i < ref.length; i++) {
    sumErr += Math.abs(got[i] - ref[i]);
    sumRef += Math.abs(ref[i]);
  }
  worst = Math.max(worst, sumErr / sumRef);
  assert.ok(sumErr <= rtol * sumRef, `${what}: Σ|err| = ${sumErr} > ${rtol}·Σ|ref| = ${rtol * sumRef}`);
  const mean = sumRef / ref.length;
  for (let i = 0; i < ref.length; i++) {
    const tol = rtol * (Math.abs(ref[i]) + mean);
    if (!(Math.abs(got[i] - ref[i]) <= tol))
      assert.fail(`${what}[${i}]: ${got[i]} vs ${ref[i]} (tol ${tol})`);
  }
}

function draws(seed: number, n: number, d: number) {
  const s = new Stream(keyFromSeed(seed));
  const x = s.fillNormal(new Float64Array(n * d), 0, 1.5) as Float64Array;
  const v = s.fillNormal(new Float64Array(n * d)) as Float64Array;
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = (s.uniform() - 0.3) / n;
    b[i] = (s.uniform() - 0.6) / n;
  }
  return { x, v, a, b };
}

const NETS: { inputDim: number; hidden: number[] }[] = [
  { inputDim: 2, hidden: [16] },
  { inputDim: 3, hidden: [24, 17] },
  { inputDim: 7, hidden: [13, 8, 9] },
];

interface Out {
  score: Float64Array;
  dir: Float64Array;
  curv: Float64Array;
}

function run(
  e: MlpEnergy,
  x: Float64Array,
  v: Float64Array,
  n: number,
  a: Float64Array,
  b: Float64Array,
): Out {
  assert.ok(isScoreParamGrad(e) && isDirectionalParamGrad(e), "the MLP has both capabilities");
  // scoreParamGrad with r_i = a_i·v_i is Σ ∂θ[a_i v_i·∇U]: the directional call with b = 0.
  const r = new Float64Array(n * e.dim);
  for (let i = 0; i < n; i++) for (let k = 0; k < e.dim; k++) r[i * e.dim + k] = a[i] * v[i * e.dim + k];
  const score = new Float64Array(e.numParams);
  e.scoreParamGrad(x, n, r, score);
  const dir = new Float64Array(e.numParams);
  const curv = new Float64Array(n);
  e.directionalParamGrad(x, v, n, a, b, dir, curv);
  return { score, dir, curv };
}

/** tfjs first: every other backend is also compared with it. */
function backends(): string[] {
  return skipNative ? ["wasm", "typescript"] : ["wasm", "typescript", "native"];
}

describe("MLP score-parameter gradients against a float64 jet reference", () => {
  for (const activation of ACTS) {
    test(`${activation}: scoreParamGrad, directionalParamGrad and κ on every backend`, async () => {
      let seed = 100;
      for (const net of NETS) {
        const sp: MlpSpec = { ...net, activation, confinement: 0.3 };
        const key = keyFromSeed(seed++);
        const theta = new Stream(keyFromSeed(seed++)).fillNormal(
          new Float64Array(
            [sp.inputDim, ...sp.hidden, 1].reduce(
              (s, w, l, ws) => (l + 1 < ws.length ? s + w * ws[l + 1] + ws[l + 1] : s),
              0,
            ),
          ),
          0,
          0.6,
        ) as Float64Array;
        for (const n of net.hidden.length === 2 ? [1, 150] : [37]) {
          const { x, v, a, b } = draws(seed++, n, sp.inputDim);
          const ref = reference(sp, theta, x, v, n, a, b);
          const outs: Out[] = [];
          const names = backends();
          for (const backend of names) {
            const e = await createMlpEnergy(sp, key, { backend });
            try {
              e.setParams(theta);
              const o = run(e, x, v, n, a, b);
              const tag = `${backend} ${activation} ${JSON.stringify(net.hidden)} n=${n}`;
              assertNear(o.score, ref.score, 3e-4, `${tag} scoreParamGrad`);
              assertNear(o.dir, ref.grad, 3e-4, `${tag} directionalParamGrad`);
              assertNear(o.curv, ref.curv, 3e-4, `${tag} κ`);
              outs.push(o);
            } finally {
              e.dispose();
            }
          }
          for (let q = 1; q < outs.length; q++) {
            assertNear(outs[q].score, outs[0].score, 6e-4, `${names[q]} vs tfjs scoreParamGrad n=${n}`);
            assertNear(outs[q].dir, outs[0].dir, 6e-4, `${names[q]} vs tfjs directionalParamGrad n=${n}`);
            assertNear(outs[q].curv, outs[0].curv, 6e-4, `${names[q]} vs tfjs κ n=${n}`);
          }
        }
      }
    });
  }

  test("worst aggregate relative error", () => {
    console.log(`score-grad: worst Σ|err|/Σ|ref| = ${worst.toExponential(2)}`);
    assert.ok(worst < 3e-4);
  });
});

/**
 * Exact score matching J = Σ_i w_i[½|∇ₓU(x_i)|² − ΔₓU(x_i)] (U with the confinement ½c|x|²) in float64 from
 * the jets along the unit vectors (u̇ = ∂_j u, ü = ∂_jj u), and ∂θJ by central differences of it.
 */
function scoreMatchingReference(
  sp: MlpSpec,
  theta: Float64Array,
  x: Float64Array,
  n: number,
  w: Float64Array,
): { J: number; grad: Float64Array; absSum: number } {
  const th = f32(theta);
  const xr = f32(x);
  const d = sp.inputDim;
  const c = sp.confinement ?? 0;
  let absSum = 0;
  const J = (): number => {
    const sq = new Float64Array(n);
    const lap = new Float64Array(n);
    for (let j = 0; j < d; j++) {
      const v = new Float64Array(n * d);
      for (let i = 0; i < n; i++) v[i * d + j] = 1;
      const { u1, u2 } = jets(sp, th, xr, v, n);
      for (let i = 0; i < n; i++) {
        sq[i] += (u1[i] + c * xr[i * d + j]) ** 2;
        lap[i] += u2[i] + c;
      }
    }
    let s = 0;
    absSum = 0;
    for (let i = 0; i < n; i++) {
      s += w[i] * (0.5 * sq[i] - lap[i]);
      absSum += Math.abs(w[i]) * (0.5 * sq[i] + Math.abs(lap[i]));
    }
    return s;
  };
  const h = 1e-6;
  const grad = new Float64Array(th.length);
  for (let k = 0; k < th.length; k++) {
    const old = th[k];
    th[k] = old + h;
    const up = J();
    th[k] = old - h;
    const down = J();
    th[k] = old;
    grad[k] = (up - down) / (2 * h);
  }
  return { J: J(), grad, absSum };
}

describe("MLP exact score matching against a float64 jet reference", () => {
  for (const activation of ACTS) {
    test(`${activation}: J and ∂θJ on every backend`, async () => {
      let seed = 300;
      for (const net of NETS) {
        const sp: MlpSpec = { ...net, activation, confinement: 0.3 };
        const key = keyFromSeed(seed++);
        const probe = await createMlpEnergy(sp, key, { backend: "wasm" });
        const theta = new Stream(keyFromSeed(seed++)).fillNormal(
          new Float64Array(probe.numParams),
          0,
          0.6,
        ) as Float64Array;
        probe.dispose();
        const n = 41;
        const { x, a } = draws(seed++, n, sp.inputDim);
        const ref = scoreMatchingReference(sp, theta, x, n, a);
        const grads: Float64Array[] = [];
        const names = backends();
        for (const backend of names) {
          const e = await createMlpEnergy(sp, key, { backend });
          try {
            e.setParams(theta);
            const g = new Float64Array(e.numParams);
            const J = e.scoreMatching(x, n, a, g);
            const tag = `${backend} ${activation} ${JSON.stringify(net.hidden)}`;
            // J sums terms of either sign: its float32 error is relative to Σ_i |w_i|(½|∇U|² + |ΔU|).
            assert.ok(Math.abs(J - ref.J) <= 3e-4 * ref.absSum, `${tag} J: ${J} vs ${ref.J}`);
            assertNear(g, ref.grad, 3e-4, `${tag} ∂θJ`);
            grads.push(g);
          } finally {
            e.dispose();
          }
        }
        for (let q = 1; q < grads.length; q++)
          assertNear(grads[q], grads[0], 6e-4, `${names[q]} vs tfjs ∂θJ ${activation}`);
      }
    });
  }
});

describe("native jet kernel: determinism", { skip: skipNative }, () => {
  test("bit-identical across runs and thread counts, n spanning several tiles", async () => {
    const sp: MlpSpec = { inputDim: 5, hidden: [32, 32], activation: "silu", confinement: 0.1 };
    const e = await createMlpEnergy(sp, keyFromSeed(7), { backend: "native" });
    try {
      const n = 1100;
      const { x, v, a, b } = draws(8, n, sp.inputDim);
      const r1 = run(e, x, v, n, a, b);
      const r2 = run(e, x, v, n, a, b);
      setThreads(1);
      const r3 = run(e, x, v, n, a, b);
      setThreads(2);
      const r4 = run(e, x, v, n, a, b);
      setThreads(availableParallelism());
      for (const r of [r2, r3, r4]) {
        assert.deepEqual(r.score, r1.score);
        assert.deepEqual(r.dir, r1.dir);
        assert.deepEqual(r.curv, r1.curv);
      }
    } finally {
      e.dispose();
    }
  });
});
