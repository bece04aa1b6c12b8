/**
 * ULA: the known O(h) bias is there with its predicted size (negative control for every exact sampler
 * test to come), and β tempers the target. ULA and MALA run an energy's fused Langevin move when it has
 * one, with the same draws as their own path.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isLangevinProposer, type LangevinProposer } from "../../src/energies/contract.ts";
import { GaussianEnergy } from "../../src/energies/gaussian.ts";
import { createMlpEnergy } from "../../src/energies/mlp.ts";
import { foldIn, keyFromSeed, normal, Stream } from "../../src/random/key.ts";
import { mala } from "../../src/samplers/mala.ts";
import { ula } from "../../src/samplers/ula.ts";

/** Runs many independent chains and returns the variance of the final positions (mean known to be 0). */
function ulaVariance(
  sigma: number,
  h: number,
  beta: number,
  chains: number,
  steps: number,
  seed: number,
): number {
  const e = GaussianEnergy.isotropic([0], sigma);
  const s = ula(e, { beta });
  const state = s.init(new Float64Array(chains), chains);
  const key = keyFromSeed(seed);
  for (let t = 0; t < steps; t++) {
    const info = s.step(foldIn(key, t), state, { step: h });
    assert.equal(
      info.divergent.reduce((a, b) => a + b, 0),
      0,
    );
  }
  let m2 = 0;
  for (const x of state.position) m2 += x * x;
  return m2 / chains;
}

test("ULA on N(0, σ²) has stationary variance σ²/(1 − h/(2σ²)), not σ²", () => {
  const sigma = 1;
  const h = 0.2;
  const chains = 80000;
  // Exact AR(1): x' = (1 − h/σ²) x + √(2h) ξ; after 200 steps from 0 the variance is within
  // (1−h)^{400} ≈ 1e-39 of stationarity. Sample variance of n draws: SE = v·sqrt(2/n).
  const predicted = (sigma * sigma) / (1 - h / (2 * sigma * sigma));
  const v = ulaVariance(sigma, h, 1, chains, 200, 11);
  const se = predicted * Math.sqrt(2 / chains);
  assert.ok(Math.abs(v - predicted) < 5 * se, `variance ${v}, predicted ${predicted} ± ${se}`);
  // The bias (predicted − σ² = 0.111) is 20 SE (SE = 0.0056 with 80 000 chains), so a variance within
  // 5 SE of the prediction is at least 15 SE from σ²: the test tells ULA from an exact sampler.
  assert.ok(Math.abs(v - sigma * sigma) > 10 * se, `ULA bias not visible: ${v}`);
});

test("β tempers: ULA at β targets N(0, σ²/β) up to the same O(h) bias", () => {
  const sigma = 1;
  const beta = 4;
  const h = 0.02;
  const chains = 20000;
  // Effective variance s² = σ²/β; AR(1) with coefficient 1 − hβ/σ², stationary variance s²/(1 − hβ/(2σ²)).
  const s2 = (sigma * sigma) / beta;
  const predicted = s2 / (1 - (h * beta) / (2 * sigma * sigma));
  const v = ulaVariance(sigma, h, beta, chains, 400, 12);
  const se = predicted * Math.sqrt(2 / chains);
  assert.ok(Math.abs(v - predicted) < 5 * se, `variance ${v}, predicted ${predicted} ± ${se}`);
});

test("same key, same chains; init copies the caller's positions", () => {
  const e = GaussianEnergy.isotropic([0, 0], 1);
  const s = ula(e);
  const x0 = Float64Array.of(1, 2, 3, 4);
  const a = s.init(x0, 2);
  const b = s.init(x0, 2);
  for (let t = 0; t < 10; t++) {
    s.step(foldIn(keyFromSeed(1), t), a, { step: 0.1 });
    s.step(foldIn(keyFromSeed(1), t), b, { step: 0.1 });
  }
  assert.deepEqual(a.position, b.position);
  assert.deepEqual(x0, Float64Array.of(1, 2, 3, 4));
});

test("non-finite energies are flagged as divergent", () => {
  const e = GaussianEnergy.isotropic([0], 1);
  const s = ula(e);
  const state = s.init(Float64Array.of(0, Number.NaN), 2);
  const info = s.step(keyFromSeed(0), state, { step: 0.1 });
  assert.deepEqual(Array.from(info.divergent), [0, 1]);
});

/** GaussianEnergy with a fused Langevin move in TypeScript (same arithmetic as the kernels' own path). */
class FusedGaussian implements LangevinProposer {
  readonly dim: number;
  fusedCalls = 0;
  evalCalls = 0;
  constructor(private readonly g: GaussianEnergy) {
    this.dim = g.dim;
  }
  energy(x: Float64Array, n: number, u: Float64Array): void {
    this.g.energy(x, n, u);
  }
  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    this.evalCalls++;
    this.g.energyAndGrad(x, n, u, grad);
  }
  langevinStep(
    x: Float64Array,
    gradX: Float64Array,
    noise: Float64Array,
    n: number,
    h: number,
    y: Float64Array,
    uY: Float64Array,
    gradY: Float64Array,
  ): void {
    this.fusedCalls++;
    const s = Math.sqrt(2 * h);
    for (let k = 0; k < n * this.dim; k++) y[k] = x[k] - h * gradX[k] + s * noise[k];
    this.g.energyAndGrad(y, n, uY, gradY);
  }
}

describe("the energy's fused Langevin move", () => {
  const g = new GaussianEnergy([0.5, -1], [1, 0.4, 0.4, 0.8]);
  const x0 = normal(keyFromSeed(60), new Float64Array(2 * 50));

  for (const beta of [1, 2.5])
    test(`ULA and MALA use it (β = ${beta}): the same chains as the unfused path`, () => {
      for (const make of [ula, mala]) {
        const fusedEnergy = new FusedGaussian(g);
        const fused = make(fusedEnergy, { beta });
        const plain = make(g, { beta });
        const a = fused.init(x0, 50);
        const b = plain.init(x0, 50);
        fusedEnergy.evalCalls = 0;
        for (let t = 0; t < 20; t++) {
          const key = foldIn(keyFromSeed(61), t);
          const ia = fused.step(key, a, { step: 0.1 });
          const acceptedA = "accepted" in ia ? Array.from(ia.accepted as Uint8Array) : [];
          const ib = plain.step(key, b, { step: 0.1 });
          const acceptedB = "accepted" in ib ? Array.from(ib.accepted as Uint8Array) : [];
          assert.deepEqual(acceptedA, acceptedB, make.name);
        }
        // One fused call per step and no separate evaluation: the move and U, ∇U at the new points together.
        assert.equal(fusedEnergy.fusedCalls, 20, make.name);
        assert.equal(fusedEnergy.evalCalls, 0, make.name);
        // ULA at β = 1 maps onto the fused move as is (same arithmetic); β ≠ 1 rescales h and ξ, and MALA's
        // unfused proposal may run in the backend's MALA step: rounding only.
        for (let k = 0; k < a.position.length; k++) {
          const exact = beta === 1 && make === ula;
          const tol = exact ? 0 : 1e-12 * (1 + Math.abs(b.position[k]));
          assert.ok(Math.abs(a.position[k] - b.position[k]) <= tol, `${make.name} x[${k}]`);
        }
      }
    });

  test("a preconditioner that is not a multiple of I cannot use the fused move", () => {
    const fusedEnergy = new FusedGaussian(g);
    const s = ula(fusedEnergy);
    const state = s.init(x0, 50);
    s.step(keyFromSeed(62), state, { step: 0.1, inverseMass: Float64Array.of(1, 2) });
    assert.equal(fusedEnergy.fusedCalls, 0);
    s.step(keyFromSeed(63), state, { step: 0.1, inverseMass: Float64Array.of(2, 2) });
    assert.equal(fusedEnergy.fusedCalls, 1);
  });

  test("the MLP energy's fused move (when the backend has one): the ULA step is the direct fused loop", async (t) => {
    const spec = { inputDim: 2, hidden: [16, 16], activation: "silu" as const };
    const model = await createMlpEnergy(spec, keyFromSeed(64));
    if (!isLangevinProposer(model)) {
      t.skip("the selected backend's MLP has no fused Langevin move");
      return;
    }
    const n = 300;
    const h = 0.01;
    const x = normal(keyFromSeed(65), new Float64Array(2 * n));
    const kernel = ula(model);
    const state = kernel.init(x, n);
    // The same move by hand: ξ from the step's stream, one langevinStep from the cached gradient.
    const y = x.slice();
    const u = new Float64Array(n);
    const grad = new Float64Array(2 * n);
    const xi = new Float64Array(2 * n);
    model.energyAndGrad(y, n, u, grad);
    for (let t = 0; t < 5; t++) {
      const key = foldIn(keyFromSeed(66), t);
      kernel.step(key, state, { step: h });
      new Stream(key).fillNormal(xi);
      model.langevinStep(y, grad, xi, n, h, y, u, grad);
    }
    assert.deepEqual(state.position, y);
    assert.deepEqual(state.u, u);
  });
});
