/**
 * Tests for the labelled 2-D mixtures (src/data/labelled2d.ts): at the set's own σ the points and labels
 * are toy2d's bit for bit and Σ_y p(x, y) is toy2d's exact density; with another σ each class has that
 * standard deviation (within 4 SE) around its centre; the Bayes posterior sums to 1.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LABELLED_TOY2D_NAMES, labelledMixture2d } from "../../src/data/labelled2d.ts";
import { toy2d } from "../../src/data/toy2d.ts";
import { keyFromSeed } from "../../src/random/key.ts";
import { assertClose } from "../helpers.ts";

describe("labelled 2-D mixtures", () => {
  for (const name of LABELLED_TOY2D_NAMES) {
    test(`${name}: toy2d's points and labels, and log Σ_y p(x, y) = toy2d's log density`, () => {
      const set = labelledMixture2d(name);
      const base = toy2d(name);
      const n = 500;
      const { x, labels } = set.sample(keyFromSeed(1), n);
      const labels0 = new Int32Array(n);
      assert.deepEqual(x, base.sample(keyFromSeed(1), n, labels0));
      assert.deepEqual(labels, labels0);
      const K = set.classes;
      const lj = set.logJoint(x, n);
      const ld = base.logDensity!(x, n);
      const post = set.posterior(x, n);
      for (let i = 0; i < n; i++) {
        let m = -Infinity;
        for (let y = 0; y < K; y++) m = Math.max(m, lj[i * K + y]);
        let s = 0;
        let ps = 0;
        for (let y = 0; y < K; y++) {
          s += Math.exp(lj[i * K + y] - m);
          ps += post[i * K + y];
        }
        assertClose(m + Math.log(s), ld[i], 1e-12, 1e-12, `log p(x_${i})`);
        assertClose(ps, 1, 1e-14, 0, `Σ_y p(y|x_${i})`);
      }
    });
  }

  test("sigma rescales each class about its centre: per-class sd within 4 SE of σ", () => {
    const sigma = 0.6;
    const set = labelledMixture2d("mog4-unequal", { sigma });
    assert.equal(set.sigma, sigma);
    const n = 20000;
    const { x, labels } = set.sample(keyFromSeed(2), n);
    for (let y = 0; y < set.classes; y++) {
      let m = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++)
        if (labels[i] === y)
          for (let a = 0; a < 2; a++) {
            m++;
            s2 += (x[2 * i + a] - set.centres[2 * y + a]) ** 2;
          }
      // Var(ẑ²) for z ~ N(0, σ²) is 2σ⁴: the SE of the variance estimate is σ²√(2/m).
      const variance = s2 / m;
      assert.ok(
        Math.abs(variance - sigma * sigma) <= 4 * sigma * sigma * Math.sqrt(2 / m),
        `class ${y}: variance ${variance} vs ${sigma * sigma}`,
      );
    }
    assert.throws(() => labelledMixture2d("mog4-unequal", { sigma: 0 }), /sigma must be positive/);
  });
});
