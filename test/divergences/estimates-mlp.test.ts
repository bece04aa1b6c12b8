/**
 * f-divergence estimates with the MLP critic (src/divergences/neural.ts through estimateDivergence) on a
 * 2-D Gaussian pair whose log-ratio is quadratic (same mean, different covariances), 2 000 points per
 * sample, fixed seeds. One hidden unit against two hidden layers of 32 (300 Adam steps each): both
 * estimates are below the truth within 3 SE, the large network's is within 3 SE of it, and it exceeds the
 * small one's by more than 3 SE of the difference. KL(Q‖P)'s integrand q/p on P has a finite variance only
 * when P is the wider one, so reverse KL is tested on the pair swapped.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { estimateDivergence } from "../../src/divergences/estimate.ts";
import { F_DIVERGENCE_KINDS } from "../../src/divergences/f-divergences.ts";
import { gaussianFDivergence } from "../../src/divergences/gaussian.ts";
import { keyFromSeed } from "../../src/random/key.ts";
import { gaussianSample } from "./samples.ts";

const NARROW = { mean: [0, 0], cov: [1, 0, 0, 1] };
const WIDE = { mean: [0, 0], cov: [2.5, 0.5, 0.5, 2] };
const narrow = gaussianSample(NARROW, 2000, 21);
const wide = gaussianSample(WIDE, 2000, 22);

for (const kind of F_DIVERGENCE_KINDS)
  test(`MLP critic, ${kind}: below the truth, tightening as the network grows`, async () => {
    const [p, q, gp, gq] = kind === "rkl" ? [wide, narrow, WIDE, NARROW] : [narrow, wide, NARROW, WIDE];
    const truth = gaussianFDivergence(kind, gp, gq);
    const small = await estimateDivergence(kind, p, q, keyFromSeed(7), {
      critic: { type: "mlp", hidden: [1], steps: 300 },
    });
    const large = await estimateDivergence(kind, p, q, keyFromSeed(7), {
      critic: { type: "mlp", hidden: [32, 32], steps: 300 },
    });
    const what = `${kind}: truth ${truth.toFixed(4)}, small ${small.estimate.toFixed(4)} ± ${small.stderr.toFixed(4)}, large ${large.estimate.toFixed(4)} ± ${large.stderr.toFixed(4)}`;
    assert.ok(small.estimate <= truth + 3 * small.stderr, `small above the truth: ${what}`);
    assert.ok(large.estimate <= truth + 3 * large.stderr, `large above the truth: ${what}`);
    assert.ok(Math.abs(large.estimate - truth) <= 3 * large.stderr, `large not tight: ${what}`);
    assert.ok(
      large.estimate - small.estimate > 3 * Math.hypot(small.stderr, large.stderr),
      `no tightening: ${what}`,
    );
    assert.ok(large.solver.method === "adam" && large.solver.keptStep! >= 25);
  });
