/**
 * MMD (src/eval/mmd.ts):
 * 1. The estimator and its jackknife SE against a brute-force computation from the full kernel matrices
 *    (every leave-one-out statistic recomputed from scratch).
 * 2. Same distribution: |MMD²| within 4 SE (over several seeds); shifted distributions: clearly positive,
 *    and under a difference the SE matches the spread over seeds.
 * 3. The Hamming kernel on bit vectors: ≈ 0 for equal Bernoulli rates, positive for different ones.
 * 4. The median heuristic on a small case.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { gaussianKernel, hammingKernel, medianBandwidth, mmd2 } from "../../src/eval/mmd.ts";
import { keyFromSeed, normal, uniform } from "../../src/random/key.ts";

/** MMD²_u straight from the definition. */
function bruteMmd2(
  x: Float64Array,
  m: number,
  y: Float64Array,
  n: number,
  dim: number,
  sigma: number,
): number {
  const k = gaussianKernel(sigma);
  let a = 0;
  let b = 0;
  let c = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) if (i !== j) a += k(x, i, x, j, dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) b += k(y, i, y, j, dim);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) c += k(x, i, y, j, dim);
  return a / (m * (m - 1)) + b / (n * (n - 1)) - (2 * c) / (m * n);
}

function drop(x: Float64Array, n: number, dim: number, i: number): Float64Array {
  const out = new Float64Array((n - 1) * dim);
  out.set(x.subarray(0, i * dim));
  out.set(x.subarray((i + 1) * dim, n * dim), i * dim);
  return out;
}

test("mmd2: estimator and jackknife SE against brute force", () => {
  const m = 7;
  const n = 9;
  const dim = 3;
  const x = normal(keyFromSeed(1), new Float64Array(m * dim));
  const y = normal(keyFromSeed(2), new Float64Array(n * dim)).map((v) => v + 0.4);
  const sigma = 1.3;
  const r = mmd2(x, m, y, n, dim, { bandwidth: sigma });
  const brute = bruteMmd2(x, m, y, n, dim, sigma);
  assert.ok(Math.abs(r.mmd2 - brute) < 1e-14, `${r.mmd2} vs ${brute}`);
  const looX = Array.from({ length: m }, (_, i) => bruteMmd2(drop(x, m, dim, i), m - 1, y, n, dim, sigma));
  const looY = Array.from({ length: n }, (_, j) => bruteMmd2(x, m, drop(y, n, dim, j), n - 1, dim, sigma));
  const jack = (v: number[]) => {
    const mean = v.reduce((s, t) => s + t, 0) / v.length;
    return ((v.length - 1) / v.length) * v.reduce((s, t) => s + (t - mean) ** 2, 0);
  };
  const se = Math.sqrt(jack(looX) + jack(looY));
  assert.ok(Math.abs(r.se - se) < 1e-14, `${r.se} vs ${se}`);
  assert.equal(r.bandwidth, sigma);
  assert.throws(() => mmd2(x, 2, y, n, dim), /at least 3/);
});

test("mmd2: ≈ 0 for the same distribution, clearly positive for shifted ones", () => {
  const n = 600;
  const sample = (seed: number, shift: number) => {
    const z = normal(keyFromSeed(seed), new Float64Array(2 * n));
    for (let i = 0; i < n; i++) z[2 * i] += shift;
    return z;
  };
  for (let s = 0; s < 5; s++) {
    const r = mmd2(sample(10 + 2 * s, 0), n, sample(11 + 2 * s, 0), n, 2);
    console.log(
      `  same (seed ${s}): MMD² ${r.mmd2.toExponential(2)} ± ${r.se.toExponential(2)} (σ ${r.bandwidth.toFixed(3)})`,
    );
    assert.ok(Math.abs(r.mmd2) < 4 * r.se, "Math.abs(r.mmd2) < 4 * r.se");
  }
  // Shift 1 in x: positive by many SE (measured 7.6–8.9 SE over three seeds).
  const far = mmd2(sample(200, 0), n, sample(201, 1), n, 2);
  console.log(`  shift 1: MMD² ${far.mmd2.toExponential(3)} ± ${far.se.toExponential(3)}`);
  assert.ok(far.mmd2 > 6 * far.se, `shift 1: ${far.mmd2} ± ${far.se}`);
  // Shift 0.5 over 16 seeds: the mean is positive, and the reported SE matches the spread over seeds.
  const values: number[] = [];
  const ses: number[] = [];
  for (let s = 0; s < 16; s++) {
    const r = mmd2(sample(100 + 2 * s, 0), n, sample(101 + 2 * s, 0.5), n, 2);
    values.push(r.mmd2);
    ses.push(r.se);
  }
  const mean = values.reduce((a, b) => a + b) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
  const meanSe = ses.reduce((a, b) => a + b) / ses.length;
  console.log(
    `  shift 0.5: MMD² mean ${mean.toExponential(3)}, sd over 16 seeds ${sd.toExponential(3)}, mean SE ${meanSe.toExponential(3)}`,
  );
  assert.ok(mean > 4 * (sd / 4), `mean over seeds ${mean} vs its SE ${sd / 4}`);
  // The sd over 16 seeds is itself uncertain by ≈ 1/√30 ≈ 18%: a factor 1.5 is ≈ 2.5 of those.
  assert.ok(meanSe > sd / 1.5 && meanSe < sd * 1.5, `mean SE ${meanSe} vs sd ${sd}`);
});

test("mmd2 with the Hamming kernel on bit vectors", () => {
  const n = 400;
  const d = 20;
  const bits = (seed: number, p: number) =>
    uniform(keyFromSeed(seed), new Float64Array(n * d)).map((v) => (v < p ? 1 : 0));
  const k = hammingKernel();
  assert.equal(k(Float64Array.of(1, 0, 1, 1), 0, Float64Array.of(1, 1, 1, 0), 0, 4), Math.exp(-0.5));
  const same = mmd2(bits(1, 0.5), n, bits(2, 0.5), n, d, { kernel: k });
  const diff = mmd2(bits(3, 0.5), n, bits(4, 0.6), n, d, { kernel: k });
  console.log(
    `  Hamming: p = 0.5 vs 0.5: ${same.mmd2.toExponential(2)} ± ${same.se.toExponential(2)}; 0.5 vs 0.6: ${diff.mmd2.toExponential(2)} ± ${diff.se.toExponential(2)}`,
  );
  assert.ok(Math.abs(same.mmd2) < 4 * same.se, "Math.abs(same.mmd2) < 4 * same.se");
  assert.ok(diff.mmd2 > 4 * diff.se, "diff.mmd2 > 4 * diff.se");
  assert.ok(Number.isNaN(same.bandwidth), "Number.isNaN(same.bandwidth)");
  // ±1 coding gives the same kernel values.
  const pm = (b: Float64Array) => b.map((v) => 2 * v - 1);
  const same2 = mmd2(pm(bits(1, 0.5)), n, pm(bits(2, 0.5)), n, d, { kernel: k });
  assert.equal(same2.mmd2, same.mmd2);
});

test("medianBandwidth: median pairwise distance of the pooled sample", () => {
  // Points 0, 1 and 3 on the line: distances 1, 3, 2 → median 2.
  assert.equal(medianBandwidth(Float64Array.of(0, 1), 2, Float64Array.of(3), 1, 1), 2);
  // Four points: distances 1, 2, 3, 1, 2, 1 → median of six = (1 + 2)/2 = 1.5.
  assert.equal(medianBandwidth(Float64Array.of(0, 1), 2, Float64Array.of(2, 3), 2, 1), 1.5);
  assert.equal(medianBandwidth(Float64Array.of(1, 1), 2, Float64Array.of(1), 1, 1), 1, "all equal: 1");
});
