/**
 * Tests for the tfjs (wasm) backend: setup, the registered kernel gradients, the custom differentiable
 * ops (matmul, linear, activations) to third order, and tensor-leak freedom of the MLP energy.
 *
 * Tolerances: everything runs in float32 (ε = 2⁻²³ ≈ 1.2e-7). A closed form evaluated in float32 by
 * ≲ 20 operations on O(1) quantities is off by at most ~30ε·(1 + |f|) ≈ 4e-6·(1 + |f|); the references
 * here are computed in float64 in JS, so that is the tolerance for activation derivatives. Matrix
 * products with inner dimension k accumulate ~k·ε relative error, covered by 1e-5 relative at k ≤ 16.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { ensureTfBackend, tf } from "../../src/backend/tfjs/init.ts";
import { createTfMlpEnergy } from "../../src/backend/tfjs/mlp.ts";
import { ACTIVATIONS, type Activation, activationOp, linear, matmul } from "../../src/backend/tfjs/ops.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";
import { assertClose } from "../helpers.ts";

type T = tf.Tensor;

before(async () => {
  await ensureTfBackend();
});

const sig = (x: number) => 1 / (1 + Math.exp(-x));

/** f, f′, f″, f‴ in float64 for each activation. */
const CLOSED_FORMS: Record<Activation, ((x: number) => number)[]> = {
  silu: [
    (x) => x * sig(x),
    (x) => sig(x) * (1 + x * (1 - sig(x))),
    (x) => {
      const s = sig(x);
      return s * (1 - s) * (2 + x * (1 - 2 * s));
    },
    (x) => {
      const s = sig(x);
      const d2 = s * (1 - s) * (1 - 2 * s); // σ″
      const d3 = s * (1 - s) * (1 - 6 * s + 6 * s * s); // σ‴
      return x * d3 + 3 * d2;
    },
  ],
  softplus: [
    (x) => Math.log1p(Math.exp(x)),
    sig,
    (x) => sig(x) * (1 - sig(x)),
    (x) => sig(x) * (1 - sig(x)) * (1 - 2 * sig(x)),
  ],
  tanh: [
    Math.tanh,
    (x) => 1 - Math.tanh(x) ** 2,
    (x) => -2 * Math.tanh(x) * (1 - Math.tanh(x) ** 2),
    (x) => {
      const t = Math.tanh(x);
      return -2 * (1 - t * t) * (1 - 3 * t * t);
    },
  ],
  elu: [
    (x) => (x > 0 ? x : Math.expm1(x)),
    (x) => (x > 0 ? 1 : Math.exp(x)),
    (x) => (x > 0 ? 0 : Math.exp(x)),
    (x) => (x > 0 ? 0 : Math.exp(x)),
  ],
};

/** Grid over [−4, 4] that avoids 0 (ELU's kink). */
const GRID = Array.from({ length: 33 }, (_, i) => -4 + 0.25 * i + 0.1);

function values(t: T): number[] {
  return Array.from(t.dataSync());
}

describe("tfjs backend setup", () => {
  test("ensureTfBackend selects wasm and is idempotent", async () => {
    const p1 = ensureTfBackend();
    const p2 = ensureTfBackend();
    assert.equal(p1, p2);
    await p1;
    assert.equal(tf.getBackend(), "wasm");
  });

  test("kernel gradients are registered (tfjs-core alone registers none)", () => {
    // f(x) = Σ x² + Σ x·(x + 1): ∇f = 2x + 2x + 1.
    const g = tf.tidy(() =>
      values(
        tf.grad((x: T) => tf.add(tf.sum(tf.square(x)), tf.sum(tf.mul(x, tf.add(x, 1)))))(
          tf.tensor1d([1, -2]),
        ),
      ),
    );
    assert.deepEqual(g, [5, -7]);
  });

  test("higher-order gradients through exp/sigmoid/tanh/softplus kernels are right (tfjs issue 3252)", () => {
    const xs = [-1.3, 0.4, 2.1];
    const cases: [string, (x: T) => T, (x: number) => number][] = [
      ["exp", tf.exp, Math.exp],
      ["sigmoid", tf.sigmoid, (x) => sig(x) * (1 - sig(x)) * (1 - 2 * sig(x))],
      ["tanh", tf.tanh, CLOSED_FORMS.tanh[2]],
      ["softplus", tf.softplus, CLOSED_FORMS.softplus[2]],
    ];
    for (const [name, f, d2] of cases) {
      const got = tf.tidy(() => values(tf.grad(tf.grad((x: T) => f(x)))(tf.tensor1d(xs))));
      xs.forEach((x, i) => {
        assertClose(got[i], d2(x), 4e-6, 4e-6, `${name}″(${x})`);
      });
    }
  });
});

describe("custom activations", () => {
  for (const act of ACTIVATIONS) {
    test(`${act}: value and derivatives of order 1–3 match closed forms on a grid`, () => {
      const f = activationOp(act);
      const d1 = tf.grad((x: T) => f(x));
      const d2 = tf.grad((x: T) => d1(x));
      const d3 = tf.grad((x: T) => d2(x));
      const got = tf.tidy(() => {
        const x = tf.tensor1d(GRID);
        return [f, d1, d2, d3].map((op) => values(op(x)));
      });
      for (let k = 0; k < 4; k++) {
        GRID.forEach((x, i) => {
          const ref = CLOSED_FORMS[act][k](x);
          assertClose(got[k][i], ref, 4e-6, 4e-6, `${act}^(${k})(${x})`);
        });
      }
    });
  }

  test("second derivative of Σ silu(x·W) in x: Hessian diagonal matches closed form", () => {
    // H_jj = Σ_k W_jk² silu″((xW)_k) for one point x.
    const x = [0.3, -0.8];
    const w = [
      [0.5, -1.2, 0.7],
      [1.1, 0.4, -0.6],
    ];
    const got = tf.tidy(() => {
      const W = tf.tensor2d(w);
      const xt = tf.tensor2d([x]);
      const g = (xx: T) => tf.grad((z: T) => tf.sum(activationOp("silu")(matmul(z, W))))(xx);
      return [0, 1].map((j) => {
        const e = tf.tensor2d([[j === 0 ? 1 : 0, j === 1 ? 1 : 0]]);
        return values(tf.grad((xx: T) => tf.sum(tf.mul(g(xx), e)))(xt))[j];
      });
    });
    for (let j = 0; j < 2; j++) {
      let h = 0;
      for (let k = 0; k < 3; k++) {
        const z = x[0] * w[0][k] + x[1] * w[1][k];
        h += w[j][k] ** 2 * CLOSED_FORMS.silu[2](z);
      }
      assertClose(got[j], h, 1e-5, 1e-5, `H[${j}][${j}]`);
    }
  });
});

/** Row-major float64 product of a [m,k] and b [k,n]. */
function mm64(a: number[], b: number[], m: number, k: number, n: number): number[] {
  const c = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) c[i * n + j] += a[i * k + p] * b[p * n + j];
  return c;
}
function tr64(a: number[], m: number, n: number): number[] {
  const t = new Array<number>(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j];
  return t;
}

describe("matmul and linear", () => {
  const s = new Stream(keyFromSeed(7));
  const [m, k, n] = [5, 4, 3];
  // Float32-representable inputs, so the float64 references see exactly the same numbers.
  const rand = (len: number) => Array.from({ length: len }, () => Math.fround(s.normal()));
  const A = rand(m * k);
  const B = rand(k * n);
  const V = rand(m * n);
  const VK = rand(m * k);
  const bias = rand(n);

  test("matmul: gradients of Σ V⊙(AB) and of Σ (AB)² (first and second order) match float64 algebra", () => {
    const [gA, gB, hA] = tf.tidy(() => {
      const a = tf.tensor2d(A, [m, k]);
      const b = tf.tensor2d(B, [k, n]);
      const v = tf.tensor2d(V, [m, n]);
      const [ga, gb] = tf.grads((aa: T, bb: T) => tf.sum(tf.mul(v, matmul(aa, bb))))([a, b]);
      // ∇_A Σ(AB)² = 2·A·B·Bᵀ is linear in A, so ∇_A Σ VK⊙∇_A Σ(AB)² = 2·VK·B·Bᵀ.
      const vk = tf.tensor2d(VK, [m, k]);
      const g = (aa: T) => tf.grad((z: T) => tf.sum(tf.square(matmul(z, b))))(aa);
      const ha = tf.grad((aa: T) => tf.sum(tf.mul(vk, g(aa))))(a);
      return [values(ga), values(gb), values(ha)];
    });
    const refA = mm64(V, tr64(B, k, n), m, n, k); // V·Bᵀ
    const refB = mm64(tr64(A, m, k), V, k, m, n); // Aᵀ·V
    const refH = mm64(mm64(VK, B, m, k, n), tr64(B, k, n), m, n, k).map((v) => 2 * v);
    refA.forEach((r, i) => {
      assertClose(gA[i], r, 1e-5, 1e-5, `∂A[${i}]`);
    });
    refB.forEach((r, i) => {
      assertClose(gB[i], r, 1e-5, 1e-5, `∂B[${i}]`);
    });
    refH.forEach((r, i) => {
      assertClose(hA[i], r, 1e-5, 1e-5, `second-order ∂A[${i}]`);
    });
  });

  test("linear: x·W + b and its three gradients (lazy registered gradient) match float64 algebra", () => {
    const [y, gx, gw, gb] = tf.tidy(() => {
      const x = tf.tensor2d(A, [m, k]);
      const w = tf.tensor2d(B, [k, n]);
      const b = tf.tensor1d(bias);
      const v = tf.tensor2d(V, [m, n]);
      const grads = tf.grads((xx: T, ww: T, bb: T) => tf.sum(tf.mul(v, linear(xx, ww, bb))))([x, w, b]);
      return [values(linear(x, w, b)), ...grads.map(values)];
    });
    const xw = mm64(A, B, m, k, n);
    xw.forEach((r, i) => {
      assertClose(y[i], r + bias[i % n], 1e-5, 1e-5, `y[${i}]`);
    });
    mm64(V, tr64(B, k, n), m, n, k).forEach((r, i) => {
      assertClose(gx[i], r, 1e-5, 1e-5, `∂x[${i}]`);
    });
    mm64(tr64(A, m, k), V, k, m, n).forEach((r, i) => {
      assertClose(gw[i], r, 1e-5, 1e-5, `∂W[${i}]`);
    });
    for (let j = 0; j < n; j++) {
      let r = 0;
      for (let i = 0; i < m; i++) r += V[i * n + j];
      assertClose(gb[j], r, 1e-5, 1e-5, `∂b[${j}]`);
    }
  });

  test("linear with a single output column (the energy layer): gradient of W without a big transpose", () => {
    const [gw, ref] = tf.tidy(() => {
      const x = tf.tensor2d(A, [m, k]);
      const w = tf.tensor2d(B.slice(0, k), [k, 1]);
      const v = tf.tensor2d(V.slice(0, m), [m, 1]);
      const [g] = tf.grads((ww: T) => tf.sum(tf.mul(v, linear(x, ww, tf.zeros([1])))))([w]);
      return [values(g), mm64(tr64(A, m, k), V.slice(0, m), k, m, 1)];
    });
    ref.forEach((r, i) => {
      assertClose(gw[i], r, 1e-5, 1e-5, `∂W[${i}]`);
    });
  });
});

describe("no tensor leaks", () => {
  test("thousands of energy / energyAndGrad / paramGrad calls (and score matching) leave numTensors flat", async () => {
    const e = await createTfMlpEnergy(
      { inputDim: 2, hidden: [16, 16], activation: "silu", confinement: 0.5 },
      keyFromSeed(3),
    );
    const n = 32;
    const s = new Stream(keyFromSeed(4));
    const x = s.fillNormal(new Float64Array(2 * n)) as Float64Array;
    const w = s.fillUniform(new Float64Array(n)) as Float64Array;
    const u = new Float64Array(n);
    const g = new Float64Array(2 * n);
    const pg = new Float64Array(e.numParams);
    const round = (reps: number) => {
      for (let r = 0; r < reps; r++) {
        e.energy(x, n, u);
        e.energyAndGrad(x, n, u, g);
        e.paramGrad(x, n, w, pg);
      }
      for (let r = 0; r < reps / 50; r++) e.scoreMatching(x, n, w, pg);
      e.setParams(e.getParams());
    };
    round(50); // warm-up: lazily created custom ops, kernel setup
    const before = tf.memory();
    round(1500);
    const after = tf.memory();
    assert.equal(after.numTensors, before.numTensors, "numTensors");
    assert.equal(after.numBytes, before.numBytes, "numBytes");
    const params = 6; // W1, b1, W2, b2, W3, b3
    e.dispose();
    assert.equal(tf.memory().numTensors, before.numTensors - params, "dispose frees the parameters");
    assert.throws(() => e.energy(x, n, u), /dispose/);
  });
});
