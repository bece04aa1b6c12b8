/**
 * R-hat on real chains: MALA on a 1-D two-component mixture. With modes at ±8 (σ = 1) a chain crosses the
 * barrier with probability ~e^{−32} per step, so chains started in different modes never meet and the
 * split R-hat must be far above 1. On the rank-normalized scale complete separation gives each group of
 * chains one half of N(0, 1): chain means ±√(2/π) ≈ ±0.80, within-chain variance 1 − 2/π ≈ 0.36, so
 * R-hat → √(1 + 0.64/0.36) ≈ 1.66 (the raw-scale value, √(1 + 64) ≈ 8, is capped by the ranks).
 * With modes at ±1 the mixture is unimodal in practice and the same runs mix: R-hat ≈ 1.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { GmmEnergy } from "../../src/energies/gmm.ts";
import { summarize } from "../../src/eval/diagnostics.ts";
import { keyFromSeed } from "../../src/random/key.ts";
import { runContinuous } from "../../src/samplers/run.ts";

function draws(separation: number) {
  const energy = new GmmEnergy({ weights: [0.5, 0.5], means: [[-separation], [separation]], stds: [1, 1] });
  const chains = 4;
  // Two chains start in each mode.
  const init = Float64Array.of(-separation, -separation, separation, separation);
  return runContinuous(energy, {
    sampler: "mala",
    key: keyFromSeed(11),
    chains,
    warmup: 200,
    draws: 2000,
    init,
  });
}

test("chains started in different modes of a well-separated mixture: R-hat ≫ 1", () => {
  const r = draws(8);
  const [s] = summarize(r.draws, r.chains, 1);
  assert.ok(s.rhat > 1.5, `R-hat ${s.rhat}`);
  // The chains never crossed: every draw of a chain stays on its starting side.
  for (let t = 0; t < r.numDraws; t++)
    for (let c = 0; c < r.chains; c++) assert.equal(Math.sign(r.draws[t * r.chains + c]), c < 2 ? -1 : 1);
});

test("the same runs on an overlapping mixture mix: R-hat < 1.01 and the mean is within 5 MCSE of 0", () => {
  const r = draws(1);
  const [s] = summarize(r.draws, r.chains, 1);
  assert.ok(s.rhat < 1.01, `R-hat ${s.rhat}`);
  assert.ok(Math.abs(s.mean) < 5 * s.mcse_mean, `mean ${s.mean} ± ${s.mcse_mean}`);
});
