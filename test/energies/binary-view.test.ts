/**
 * The binary view of an MLP (src/energies/binary-view.ts): its energies are the network's at the 0/1
 * points, flipDelta equals the difference of the energies of the flipped and unflipped states (one site for
 * the batch, or one per state), the relaxed gradient is the network's ∇ₓ at the binary point, and
 * Gibbs-with-Gradients and DMALA built on it leave the enumerated ρ_θ invariant (π P = π). The network
 * computes in float32 and a state may be evaluated in batches of different sizes, so energies agree to
 * float32 rounding (1e-5 absolute on energies of order 1), and π P = π to 1e-9.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BinaryView, bitsToFloat64, float64ToBits } from "../../src/energies/binary-view.ts";
import { EnumerableEnergy, writeState } from "../../src/energies/discrete.ts";
import { createMlpEnergy } from "../../src/energies/mlp.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";
import { dmala } from "../../src/samplers/discrete/dmala.ts";
import { gibbsWithGradients } from "../../src/samplers/discrete/gwg.ts";
import { stationarityError, transitionMatrix } from "../discrete/exact.ts";

const D = 8;

async function network() {
  // Weights of the default initialisation are small; scale them up so U varies over a few nats.
  const mlp = await createMlpEnergy({ inputDim: D, hidden: [16, 16], activation: "silu" }, keyFromSeed(3));
  mlp.setParams(mlp.getParams().map((v) => 3 * v));
  return mlp;
}

function randomStates(n: number, seed: number): Uint8Array {
  const rng = new Stream(keyFromSeed(seed));
  return Uint8Array.from({ length: n * D }, () => (rng.uniform() < 0.5 ? 1 : 0));
}

describe("BinaryView", () => {
  test("energy, flipDelta and the relaxed gradient are the network's", async () => {
    const mlp = await network();
    const view = new BinaryView(mlp);
    assert.equal(view.sites, D);
    const n = 20;
    const x = randomStates(n, 4);
    const copy = x.slice();
    const u = new Float64Array(n);
    view.energy(x, n, u);
    const ref = new Float64Array(n);
    mlp.energy(bitsToFloat64(x), n, ref);
    assert.deepEqual(u, ref);
    const spread = Math.max(...u) - Math.min(...u);
    assert.ok(spread > 0.5, `energies vary (spread ${spread})`);

    const sites = Int32Array.from({ length: n }, (_, i) => (3 * i) % D);
    for (const site of [5, sites]) {
      const delta = new Float64Array(n);
      view.flipDelta(x, n, site, delta);
      const flipped = x.slice();
      for (let i = 0; i < n; i++) {
        const j = typeof site === "number" ? site : site[i];
        flipped[i * D + j] ^= 1;
      }
      const uf = new Float64Array(n);
      view.energy(flipped, n, uf);
      for (let i = 0; i < n; i++)
        assert.ok(Math.abs(delta[i] - (uf[i] - u[i])) < 1e-5, `state ${i}: ${delta[i]} vs ${uf[i] - u[i]}`);
    }
    assert.deepEqual(x, copy, "the caller's states are not modified");

    const ug = new Float64Array(n);
    const g = new Float64Array(n * D);
    view.energyAndRelaxedGrad(x, n, ug, g);
    const gRef = new Float64Array(n * D);
    mlp.energyAndGrad(bitsToFloat64(x), n, ref, gRef);
    assert.deepEqual(g, gRef);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(ug[i] - u[i]) < 1e-5);
    mlp.dispose();
  });

  test("Gibbs-with-Gradients and DMALA on the view leave the enumerated ρ_θ invariant", async () => {
    const mlp = await network();
    const view = new BinaryView(mlp);
    const pi = new EnumerableEnergy(view).probabilities();
    for (const [name, kernel] of [
      ["GWG", gibbsWithGradients(view)],
      ["DMALA α = 0.3", dmala(view, { step: 0.3 })],
    ] as const) {
      const p = transitionMatrix(kernel);
      const err = stationarityError(pi, p, 2 ** D);
      assert.ok(err < 1e-9, `${name}: |πP − π| = ${err}`);
    }
    mlp.dispose();
  });

  test("float64ToBits checks its input; bitsToFloat64 converts", () => {
    assert.deepEqual(float64ToBits(Float64Array.of(0, 1, 1)), Uint8Array.of(0, 1, 1));
    assert.throws(() => float64ToBits(Float64Array.of(0, 0.5)), /0\/1, found 0.5 at entry 1/);
    const s = new Uint8Array(D);
    writeState(77, D, s);
    assert.deepEqual(Array.from(bitsToFloat64(s)), Array.from(s));
  });
});
