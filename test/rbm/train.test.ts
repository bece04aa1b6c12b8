/**
 * RBM training through the library's trainer and optimizers (src/train/trainer.ts, src/train/optim.ts)
 * with the CD/PCD objective (src/objectives/rbm-cd.ts):
 *  - the objective's gradient is the kernels' loss gradient E_data[∂θF] − E_model[∂θF] (same key, same
 *    numbers) and the trainer descends it: with sgd, θ₁ = θ₀ − lr·g exactly (float64 in the trainer);
 *  - CD-1 and PCD-1 with sgd on a tiny RBM (6 × 3) increase the exact average log-likelihood of the data,
 *    (1/N) Σ −F(v) − log Z, with log Z by enumeration (rbm/ais.ts exactLogZ);
 *  - the objective rejects non-binary data and models that are not RBMs.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { EnumerableEnergy } from "../../src/energies/discrete.ts";
import { MixtureEnergy } from "../../src/energies/mixture.ts";
import { Rbm } from "../../src/energies/rbm.ts";
import type { Objective } from "../../src/objectives/objective.ts";
import { type RbmCdState, rbmContrastiveDivergence } from "../../src/objectives/rbm-cd.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";
import { exactLogZ } from "../../src/rbm/ais.ts";
import { cdGradient } from "../../src/rbm/cd.ts";
import { defaultRbmKernels } from "../../src/rbm/kernels.ts";
import { sgd } from "../../src/train/optim.ts";
import { train } from "../../src/train/trainer.ts";
import { stateBits } from "./helpers.ts";

const V = 6;
const H = 3;

/** N exact draws of the visible marginal of `target` (by enumeration), as float64 rows of bits. */
function sampleData(target: Rbm, N: number, seed: number): Float64Array {
  const p = new EnumerableEnergy(target).probabilities();
  const rng = new Stream(keyFromSeed(seed));
  const x = new Float64Array(N * V);
  for (let s = 0; s < N; s++) {
    let u = rng.uniform();
    let k = 0;
    while (k < p.length - 1 && u >= p[k]) u -= p[k++];
    x.set(stateBits(k, V), s * V);
  }
  return x;
}

/** (1/N) Σ_s log p(v_s) = −mean F(v_s) − log Z, exactly. */
function logLikelihood(model: Rbm, x: Float64Array, N: number): number {
  const f = new Float64Array(N);
  model.energy(x, N, f);
  return -f.reduce((a, b) => a + b, 0) / N - exactLogZ(model);
}

const target = Rbm.random(keyFromSeed(501), V, H, 2, 1);
const N = 500;
const data = sampleData(target, N, 502);

describe("RBM training through the trainer", () => {
  test("the objective's gradient is the kernels' loss gradient, and sgd descends it", () => {
    const model = Rbm.random(keyFromSeed(503), V, H, 0.3);
    const objective = rbmContrastiveDivergence({ k: 2 });
    const key = keyFromSeed(504);
    const state = objective.init(key, model);
    const grad = new Float64Array(model.numParams);
    objective.gradient(key, state, model, { x: data, n: 64 }, grad);
    const bits = Uint8Array.from(data.subarray(0, 64 * V));
    const ref = cdGradient(model, key, bits, 64, { k: 2, kernels: defaultRbmKernels() });
    assert.deepEqual([...grad], [...ref.W, ...ref.b, ...ref.c]);

    // One trainer iteration with sgd: θ₁ = θ₀ − lr·g, g the gradient the objective wrote (recorded).
    const theta0 = model.getParams();
    const lr = 0.05;
    const inner = rbmContrastiveDivergence({ k: 2 });
    let seen = new Float64Array(0);
    const recording: Objective<RbmCdState> = {
      ...inner,
      gradient(k, st, m, batch, g) {
        inner.gradient(k, st, m, batch, g);
        seen = g.slice();
      },
    };
    const { params } = train({
      model,
      objective: recording,
      optimizer: sgd(lr),
      data: { x: data, n: N },
      iterations: 1,
      key: keyFromSeed(505),
    });
    assert.ok(seen.some((v) => v !== 0));
    for (let q = 0; q < seen.length; q++) assert.equal(params[q], theta0[q] - lr * seen[q], `θ[${q}]`);
    assert.deepEqual(
      model.getParams(),
      Float64Array.from(Float32Array.from(params)),
      "model holds float32(θ)",
    );
  });

  for (const [name, opts] of [
    ["CD-1", {}],
    ["PCD-1 (100 chains)", { persistentChains: 100 }],
  ] as const) {
    test(`${name} with sgd increases the exact log-likelihood of the data (6 × 3)`, () => {
      const model = Rbm.random(keyFromSeed(506), V, H, 0.01);
      const before = logLikelihood(model, data, N);
      const best = logLikelihood(target, data, N);
      const trace: number[] = [];
      train({
        model,
        objective: rbmContrastiveDivergence(opts),
        optimizer: sgd(0.1),
        data: { x: data, n: N },
        batchSize: 50,
        iterations: 600,
        key: keyFromSeed(507),
        onIteration: (k) => {
          if ((k + 1) % 200 === 0) trace.push(logLikelihood(model, data, N));
        },
      });
      const after = logLikelihood(model, data, N);
      // From the near-uniform start (−6 log 2 = −4.16) most of the way to the data-generating RBM.
      assert.ok(
        after - before > 0.5 * (best - before),
        `log-likelihood ${before.toFixed(4)} → ${after.toFixed(4)} (generating RBM: ${best.toFixed(4)}); trace ${trace.map((t) => t.toFixed(3)).join(", ")}`,
      );
    });
  }

  test("the objective rejects non-binary data and models that are not RBMs", () => {
    const model = Rbm.random(keyFromSeed(508), V, H);
    const objective = rbmContrastiveDivergence();
    const state = objective.init(keyFromSeed(509), model);
    const bad = data.slice(0, 2 * V);
    bad[7] = 0.5;
    assert.throws(
      () =>
        objective.gradient(
          keyFromSeed(510),
          state,
          model,
          { x: bad, n: 2 },
          new Float64Array(model.numParams),
        ),
      /0\/1, found 0.5 at row 1, column 1/,
    );
    assert.throws(() => objective.init(keyFromSeed(511), MixtureEnergy.twoWell(-1, 1, 0)), TypeError);
    assert.throws(() => rbmContrastiveDivergence({ k: 0 }), RangeError);
    assert.throws(() => rbmContrastiveDivergence({ persistentChains: 1.5 }), RangeError);
  });
});
