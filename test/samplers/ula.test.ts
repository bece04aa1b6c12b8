/**
 * ULA: the known O(h) bias is there with its predicted size (negative control for every exact sampler
 * test to come), and β tempers the target.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { GaussianEnergy } from "../../src/energies/gaussian.ts";
import { foldIn, keyFromSeed } from "../../src/random/key.ts";
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
  const s = ula(e, { step: h, beta });
  const state = s.init(new Float64Array(chains), chains);
  const key = keyFromSeed(seed);
  for (let t = 0; t < steps; t++) {
    const { info } = s.step(foldIn(key, t), state);
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
  const s = ula(e, { step: 0.1 });
  const x0 = Float64Array.of(1, 2, 3, 4);
  const a = s.init(x0, 2);
  const b = s.init(x0, 2);
  for (let t = 0; t < 10; t++) {
    s.step(foldIn(keyFromSeed(1), t), a);
    s.step(foldIn(keyFromSeed(1), t), b);
  }
  assert.deepEqual(a.position, b.position);
  assert.deepEqual(x0, Float64Array.of(1, 2, 3, 4));
});

test("non-finite energies are flagged as divergent", () => {
  const e = GaussianEnergy.isotropic([0], 1);
  const s = ula(e, { step: 0.1 });
  const state = s.init(Float64Array.of(0, Number.NaN), 2);
  const { info } = s.step(keyFromSeed(0), state);
  assert.deepEqual(Array.from(info.divergent), [0, 1]);
});
