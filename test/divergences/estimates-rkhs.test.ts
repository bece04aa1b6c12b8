/**
 * f-divergence estimates with the RKHS critic (src/divergences/estimate.ts) on Gaussian pairs with closed
 * forms, 2 000 points per sample (1 000 to fit, 1 000 held out), fixed seeds:
 * 1. A small class (4 landmarks, λ = 1) and a large one (64 landmarks, λ = 1e-3): both estimates are
 *    below the truth within 3 SE, the large one is within 3 SE of it (the bound is tight), and the bound
 *    tightens — the large class's estimate exceeds the small one's by more than 3 SE of the difference.
 * 2. The default critic (λ and bandwidth chosen on the training split) on the 2-D pair: within 3 SE.
 * 3. P = Q: every estimate within 3 SE of 0. Same key, same estimate, bit for bit.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { estimateDivergence } from "../../src/divergences/estimate.ts";
import { F_DIVERGENCE_KINDS } from "../../src/divergences/f-divergences.ts";
import { gaussianFDivergence } from "../../src/divergences/gaussian.ts";
import { keyFromSeed } from "../../src/random/key.ts";
import { gaussianSample, PAIR_1D, PAIR_2D } from "./samples.ts";

const SMALL = { type: "rkhs", landmarks: 4, lambda: 1, bandwidth: "median" } as const;
const LARGE = { type: "rkhs", landmarks: 64, lambda: 1e-3, bandwidth: "median" } as const;

describe("RKHS critic on Gaussian pairs", () => {
  for (const [name, pair] of [
    ["1-D", PAIR_1D],
    ["2-D", PAIR_2D],
  ] as const) {
    const p = gaussianSample(pair.p, 2000, 21);
    const q = gaussianSample(pair.q, 2000, 22);
    for (const kind of F_DIVERGENCE_KINDS)
      test(`${name} ${kind}: below the truth, tightening as the class grows`, async () => {
        const truth = gaussianFDivergence(kind, pair.p, pair.q);
        const small = await estimateDivergence(kind, p, q, keyFromSeed(7), { critic: SMALL });
        const large = await estimateDivergence(kind, p, q, keyFromSeed(7), { critic: LARGE });
        const what = `${kind} ${name}: truth ${truth.toFixed(4)}, small ${small.estimate.toFixed(4)} ± ${small.stderr.toFixed(4)}, large ${large.estimate.toFixed(4)} ± ${large.stderr.toFixed(4)}`;
        assert.ok(small.estimate <= truth + 3 * small.stderr, `small above the truth: ${what}`);
        assert.ok(large.estimate <= truth + 3 * large.stderr, `large above the truth: ${what}`);
        assert.ok(Math.abs(large.estimate - truth) <= 3 * large.stderr, `large not tight: ${what}`);
        const seDiff = Math.hypot(small.stderr, large.stderr);
        assert.ok(large.estimate - small.estimate > 3 * seDiff, `no tightening: ${what}`);
        assert.equal(large.units, "nats");
        assert.ok(large.solver.method === "newton" && large.solver.converged, JSON.stringify(large.solver));
        if (kind !== "tv") assert.ok(large.solver.method === "newton" && large.solver.gapBound! < 1e-10);
      });
  }

  test("the default critic (λ and bandwidth chosen on the training split), 2-D KL and JS", async () => {
    const p = gaussianSample(PAIR_2D.p, 2000, 31);
    const q = gaussianSample(PAIR_2D.q, 2000, 32);
    for (const kind of ["kl", "js"] as const) {
      const truth = gaussianFDivergence(kind, PAIR_2D.p, PAIR_2D.q);
      const r = await estimateDivergence(kind, p, q, keyFromSeed(8), {
        critic: { type: "rkhs", landmarks: 32 },
      });
      assert.ok(
        Math.abs(r.estimate - truth) <= 3 * r.stderr,
        `${kind}: ${r.estimate} ± ${r.stderr} vs ${truth} (${JSON.stringify(r.critic).slice(0, 120)})`,
      );
      assert.ok(r.critic.type === "rkhs" && r.critic.selection && r.critic.selection.length >= 8);
    }
  });

  test("P = Q: every estimate within 3 SE of 0; reproducible from the key", async () => {
    const p = gaussianSample(PAIR_2D.p, 1000, 41);
    const q = gaussianSample(PAIR_2D.p, 1000, 42);
    for (const kind of F_DIVERGENCE_KINDS) {
      const r = await estimateDivergence(kind, p, q, keyFromSeed(9), { critic: LARGE });
      assert.ok(Math.abs(r.estimate) <= 3 * r.stderr, `${kind}: ${r.estimate} ± ${r.stderr}`);
    }
    const a = await estimateDivergence("js", p, q, keyFromSeed(9), { critic: LARGE });
    const b = await estimateDivergence("js", p, q, keyFromSeed(9), { critic: LARGE });
    const c = await estimateDivergence("js", p, q, keyFromSeed(10), { critic: LARGE });
    assert.equal(a.estimate, b.estimate);
    assert.equal(a.stderr, b.stderr);
    assert.notEqual(a.estimate, c.estimate);
  });
});
