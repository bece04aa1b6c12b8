/**
 * ROC-AUC: the midrank formula equals counting pairs (ties as ½), the extremes are 0 and 1, the curve runs
 * from (0, 0) to (1, 1) with the trapezoid area equal to the AUC, and the Hanley–McNeil SE matches the
 * spread of the AUC over independent replicate samples (binormal scores, where it is known to hold).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { keyFromSeed, rocAuc, rocCurve, Stream } from "../../src/index.ts";

function pairCount(neg: number[], pos: number[]): number {
  let s = 0;
  for (const p of pos) for (const q of neg) s += p > q ? 1 : p === q ? 0.5 : 0;
  return s / (neg.length * pos.length);
}

test("AUC equals the pair count (with ties), extremes 0 and 1, curve area equals AUC", () => {
  const rng = new Stream(keyFromSeed(1));
  const neg = Array.from({ length: 57 }, () => Math.round(rng.normal() * 3) / 3);
  const pos = Array.from({ length: 43 }, () => Math.round((rng.normal() + 0.7) * 3) / 3);
  const r = rocAuc(neg, pos);
  assert.ok(Math.abs(r.auc - pairCount(neg, pos)) < 1e-12);
  assert.equal(r.normal, 57);
  assert.equal(r.anomalous, 43);
  const c = rocCurve(neg, pos);
  assert.deepEqual(c[0], { fpr: 0, tpr: 0 });
  assert.deepEqual(c[c.length - 1], { fpr: 1, tpr: 1 });
  let area = 0;
  for (let i = 1; i < c.length; i++) area += ((c[i].fpr - c[i - 1].fpr) * (c[i].tpr + c[i - 1].tpr)) / 2;
  assert.ok(Math.abs(area - r.auc) < 1e-12, `${area} vs ${r.auc}`);
  assert.equal(rocAuc([0, 1, 2], [3, 4]).auc, 1);
  assert.equal(rocAuc([3, 4], [0, 1, 2]).auc, 0);
  assert.equal(rocAuc([1, 1], [1]).auc, 0.5);
  assert.throws(() => rocAuc([], [1]), /normal: no scores/);
  assert.throws(() => rocAuc([0], [Number.NaN]), /anomalous: score 0 is not finite/);
});

test("the Hanley–McNeil SE matches the spread over 400 binormal replicates within 15%", () => {
  const rng = new Stream(keyFromSeed(2));
  const aucs: number[] = [];
  const ses: number[] = [];
  for (let r = 0; r < 400; r++) {
    const neg = Array.from({ length: 80 }, () => rng.normal());
    const pos = Array.from({ length: 60 }, () => rng.normal() + 1);
    const a = rocAuc(neg, pos);
    aucs.push(a.auc);
    ses.push(a.se);
  }
  const mean = aucs.reduce((s, v) => s + v, 0) / aucs.length;
  const sd = Math.sqrt(aucs.reduce((s, v) => s + (v - mean) ** 2, 0) / (aucs.length - 1));
  const se = ses.reduce((s, v) => s + v, 0) / ses.length;
  // The sd of 400 replicates is itself uncertain by about 1/√(2·399) ≈ 3.5%; 15% is over 4 of those.
  assert.ok(Math.abs(se / sd - 1) < 0.15, `mean SE ${se}, replicate sd ${sd}`);
  // The binormal AUC with unit separation: Φ(1/√2) = 0.7602; the mean within 4 SE of the mean.
  assert.ok(Math.abs(mean - 0.7602) < (4 * sd) / Math.sqrt(400), `mean AUC ${mean}`);
});
