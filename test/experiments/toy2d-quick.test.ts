/**
 * `ebm reproduce toy2d --quick` (the demo), asserted: three replicas (seeds 0, 1, 2) of CD, PCD and
 * Jarzynski on mog4-unequal. Jarzynski's grid masses agree with the true weights 0.2/0.2/0.3/0.3 within
 * four standard errors over the replicas (the per-mode SE, or the SE pooled over the four modes when that
 * is larger: two degrees of freedom make a single mode's SE unreliable), and its KL is smaller than CD's
 * and PCD's, whose walkers cannot move mass between the modes. That they do not: PCD's 2000 chains changed
 * mode 0.00005 ± 0.00001, 0.00013 ± 0.00002 and 0.00012 ± 0.00001 times per chain and iteration over the
 * last 375 iterations (seeds 0–2), against 0.069 for Gibbs-with-Gradients chains on the Gray-coded
 * mog4-unequal (`reproduce gray2d` defaults, seed 0); asserted below 0.001 in every replica, 3 SE included.
 * Runs where the native addon runs the MLP.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MLP_FACTORY, runToy2dExperiment, TOY2D_QUICK } from "../../src/index.ts";

test("toy2d --quick: Jarzynski's masses match the weights within 4 SE over replicas; its KL beats CD and PCD", async (t) => {
  // About 20 s on the native MLP and 150 s on TensorFlow.js wasm: run once per suite, on the native pass.
  if (MLP_FACTORY.backend() !== "native") {
    t.skip("the MLP runs on the wasm backend here (150 s); asserted on the native pass");
    return;
  }
  const r = await runToy2dExperiment(TOY2D_QUICK);
  const d = r.datasets[0];
  const by = Object.fromEntries(d.methods.map((m) => [m.method, m]));
  const j = by.jarzynski;
  assert.equal(j.runs.length, 3);
  const pooled = Math.sqrt(j.massSe.reduce((a, s) => a + s * s, 0) / j.massSe.length);
  for (let k = 0; k < 4; k++) {
    const tol = 4 * Math.max(j.massSe[k], pooled);
    assert.ok(
      Math.abs(j.masses[k] - d.weights[k]) < tol,
      `mode ${k + 1}: ${j.masses[k]} ± ${j.massSe[k]} vs ${d.weights[k]} (tolerance ${tol})`,
    );
  }
  for (const other of [by.cd, by.pcd]) {
    assert.ok(j.kl + 3 * j.klSe < other.kl, `KL: jarzynski ${j.kl} ± ${j.klSe}, ${other.method} ${other.kl}`);
    const err = (m: typeof j) => Math.max(...m.masses.map((v, k) => Math.abs(v - d.weights[k])));
    assert.ok(err(j) < err(other), `max mass error: jarzynski ${err(j)}, ${other.method} ${err(other)}`);
  }
  for (const run of by.pcd.runs) {
    const c = run.modeChanges!;
    console.log(
      `PCD seed ${run.seed}: ${c.perChainIteration} ± ${c.se} mode changes per chain and iteration`,
    );
    assert.equal(c.chains, 2000);
    assert.equal(c.iterations, 375);
    assert.ok(c.perChainIteration + 3 * c.se < 0.001, `${c.perChainIteration} ± ${c.se}`);
  }
  assert.equal(j.runs[0].modeChanges, undefined);
});
