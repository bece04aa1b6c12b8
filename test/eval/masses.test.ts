/**
 * Mode masses from samples (src/eval/masses.ts) on a 4-mode mixture whose Voronoi cells are the four
 * quadrants, so the exact masses are products of normal CDFs:
 * 1. Exact draws: masses and the mass outside a window within 4 SE of the exact values; SE = √(q(1−q)/(n−1)).
 * 2. Importance-weighted draws from a broad Gaussian: within 4 SE, and the delta-method SE is calibrated
 *    (over 200 seeds the exact mass lies within 2 SE about 95% of the time).
 * 3. Weighted walkers: the Lee–Whiteley SE equals the delta-method SE without resampling.
 * 4. Replicas: mean ± SE over independent runs within 4 SE of the exact masses.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { GmmEnergy } from "../../src/energies/gmm.ts";
import {
  combineMassReplicas,
  modeMasses,
  modeMassesWalkers,
  nearestCentre,
  replicaMeanSe,
} from "../../src/eval/masses.ts";
import { foldIn, keyFromSeed, normal } from "../../src/random/key.ts";
import { maybeResample, weightedWalkers } from "../../src/smc/walkers.ts";

function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  let term = z;
  let sum = z;
  for (let n = 1; n < 1000 && term > 1e-17 * sum; n++) {
    term *= (2 * z * z) / (2 * n + 1);
    sum += term;
  }
  const erf = (2 / Math.sqrt(Math.PI)) * Math.exp(-z * z) * sum;
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

const MEANS = [
  [-1.5, -1.5],
  [-1.5, 1.5],
  [1.5, -1.5],
  [1.5, 1.5],
];
const WEIGHTS = [0.1, 0.2, 0.3, 0.4];
const gmm = new GmmEnergy({ weights: WEIGHTS, means: MEANS, stds: [1, 1, 1, 1] });
/** Exact mass of each quadrant (the Voronoi cell of the centre in it). */
const EXACT = MEANS.map((c) => {
  let m = 0;
  for (let j = 0; j < 4; j++) {
    const px = c[0] > 0 ? normalCdf(MEANS[j][0]) : normalCdf(-MEANS[j][0]);
    const py = c[1] > 0 ? normalCdf(MEANS[j][1]) : normalCdf(-MEANS[j][1]);
    m += WEIGHTS[j] * px * py;
  }
  return m;
});
const LIM = 3;
/** Exact mass outside [−3, 3]². */
const OUTSIDE = (() => {
  let inside = 0;
  for (let j = 0; j < 4; j++) {
    const p = (a: number) => normalCdf(LIM - MEANS[j][a]) - normalCdf(-LIM - MEANS[j][a]);
    inside += WEIGHTS[j] * p(0) * p(1);
  }
  return 1 - inside;
})();

test("nearestCentre: Euclidean, ties to the lower index, NaN to −1", () => {
  const x = Float64Array.of(0.9, 0, 1, 0, 5, 5, Number.NaN, 0);
  assert.deepEqual(
    Array.from(
      nearestCentre(x, 4, 2, [
        [0, 0],
        [2, 0],
        [4, 4],
      ]),
    ),
    [0, 0, 2, -1],
  );
  assert.throws(() => nearestCentre(x, 4, 2, [[0, 0, 0]]), /length/);
});

test("modeMasses: exact draws within 4 SE, with the mass outside a window", () => {
  const n = 4000;
  const x = new Float64Array(2 * n);
  gmm.sampleExact(keyFromSeed(3), n, x);
  const r = modeMasses(x, n, 2, MEANS, { window: { lower: [-LIM, -LIM], upper: [LIM, LIM] } });
  console.log(
    `  exact draws (n = ${n}): ${Array.from(r.masses, (m, j) => `${m.toFixed(4)} ± ${r.se[j].toFixed(4)} (exact ${EXACT[j].toFixed(4)})`).join(", ")}; ` +
      `outside ${r.outside.toFixed(4)} ± ${r.outsideSe.toFixed(4)} (exact ${OUTSIDE.toFixed(4)})`,
  );
  assert.ok(Math.abs(r.ess - n) < 1e-9, "Math.abs(r.ess - n) < 1e-9");
  for (let j = 0; j < 4; j++) {
    assert.ok(Math.abs(r.masses[j] - EXACT[j]) < 4 * r.se[j], `mass ${j}`);
    const q = r.masses[j];
    assert.ok(Math.abs(r.se[j] - Math.sqrt((q * (1 - q)) / (n - 1))) < 1e-15, "iid SE");
  }
  assert.ok(
    Math.abs(r.outside - OUTSIDE) < 4 * r.outsideSe,
    "Math.abs(r.outside - OUTSIDE) < 4 * r.outsideSe",
  );
  assert.throws(() => modeMasses(x, n, 2, MEANS, { weights: [1], logWeights: [0] }), /not both/);
});

test("modeMasses: importance-weighted draws, delta-method SE calibrated over seeds", () => {
  // Proposal N(0, 3²I); log w = −U(x) − log q(x) with U = −log p (normalised, log Z = 0).
  const s = 3;
  const weighted = (seed: number, n: number) => {
    const x = normal(keyFromSeed(seed), new Float64Array(2 * n));
    for (let i = 0; i < 2 * n; i++) x[i] *= s;
    const u = new Float64Array(n);
    gmm.energy(x, n, u);
    const logw = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const r2 = x[2 * i] ** 2 + x[2 * i + 1] ** 2;
      logw[i] = -u[i] + r2 / (2 * s * s) + Math.log(2 * Math.PI * s * s);
    }
    return { x, logw };
  };
  const n = 1000;
  const one = weighted(100, n);
  const r = modeMasses(one.x, n, 2, MEANS, { logWeights: one.logw });
  console.log(
    `  weighted (n = ${n}, ESS ${r.ess.toFixed(0)}): ${Array.from(r.masses, (m, j) => `${m.toFixed(4)} ± ${r.se[j].toFixed(4)} (exact ${EXACT[j].toFixed(4)})`).join(", ")}`,
  );
  for (let j = 0; j < 4; j++) assert.ok(Math.abs(r.masses[j] - EXACT[j]) < 4 * r.se[j], `mass ${j}`);
  // The same from plain weights.
  const w = Array.from(one.logw, (v) => Math.exp(v));
  const r2 = modeMasses(one.x, n, 2, MEANS, { weights: w });
  for (let j = 0; j < 4; j++)
    assert.ok(Math.abs(r2.masses[j] - r.masses[j]) < 1e-12, "Math.abs(r2.masses[j] - r.masses[j]) < 1e-12");

  const seeds = 200;
  let within = 0;
  let total = 0;
  for (let k = 0; k < seeds; k++) {
    const d = weighted(1000 + k, n);
    const e = modeMasses(d.x, n, 2, MEANS, { logWeights: d.logw });
    for (let j = 0; j < 4; j++) {
      total++;
      if (Math.abs(e.masses[j] - EXACT[j]) < 2 * e.se[j]) within++;
    }
  }
  const coverage = within / total;
  console.log(`  coverage of ±2 SE over ${seeds} seeds × 4 masses: ${coverage.toFixed(3)} (nominal 0.954)`);
  // The 800 indicators come in 200 independent groups: sd of the coverage ≤ √(0.05·0.95/200) ≈ 0.015.
  assert.ok(coverage > 0.9 && coverage < 0.995, `coverage ${coverage}`);
});

test("modeMassesWalkers: Lee–Whiteley SE, equal to the delta method without resampling", () => {
  const n = 2000;
  const x = normal(keyFromSeed(5), new Float64Array(2 * n)).map((v) => 3 * v);
  const u = new Float64Array(n);
  gmm.energy(x, n, u);
  const logw = new Float64Array(n);
  for (let i = 0; i < n; i++) logw[i] = -u[i] + (x[2 * i] ** 2 + x[2 * i + 1] ** 2) / 18;
  const w = weightedWalkers({ n, dim: 2, position: x, u, grad: new Float64Array(2 * n) }, logw);
  const a = modeMassesWalkers(w, MEANS, { window: { lower: [-LIM, -LIM], upper: [LIM, LIM] } });
  const b = modeMasses(x, n, 2, MEANS, {
    logWeights: logw,
    window: { lower: [-LIM, -LIM], upper: [LIM, LIM] },
  });
  for (let j = 0; j < 4; j++) {
    assert.ok(Math.abs(a.masses[j] - b.masses[j]) < 1e-12, "Math.abs(a.masses[j] - b.masses[j]) < 1e-12");
    assert.ok(Math.abs(a.se[j] - b.se[j]) < 1e-12, "Math.abs(a.se[j] - b.se[j]) < 1e-12");
  }
  assert.ok(Math.abs(a.outside - b.outside) < 1e-12, "Math.abs(a.outside - b.outside) < 1e-12");
  // After a resampling the walkers share ancestors: the masses stay unbiased, the SE accounts for it.
  const resampled = maybeResample(foldIn(keyFromSeed(5), 1), w, 1.0);
  assert.ok(resampled, "resampled");
  const c = modeMassesWalkers(w, MEANS);
  console.log(
    `  walkers after resampling: ${Array.from(c.masses, (m, j) => `${m.toFixed(4)} ± ${c.se[j].toFixed(4)} (exact ${EXACT[j].toFixed(4)})`).join(", ")}`,
  );
  for (let j = 0; j < 4; j++) {
    assert.ok(Math.abs(c.masses[j] - EXACT[j]) < 4 * c.se[j], `mass ${j}`);
    assert.ok(c.se[j] >= a.se[j] * 0.9, "resampling does not shrink the SE");
  }
});

test("replicas: mean ± SE over independent runs", () => {
  const r = 20;
  const n = 500;
  const runs: Float64Array[] = [];
  for (let k = 0; k < r; k++) {
    const x = new Float64Array(2 * n);
    gmm.sampleExact(keyFromSeed(200 + k), n, x);
    runs.push(modeMasses(x, n, 2, MEANS).masses);
  }
  const c = combineMassReplicas(runs);
  console.log(
    `  ${r} replicas of ${n}: ${Array.from(c.mean, (m, j) => `${m.toFixed(4)} ± ${c.se[j].toFixed(4)} (exact ${EXACT[j].toFixed(4)})`).join(", ")}`,
  );
  for (let j = 0; j < 4; j++) {
    assert.ok(Math.abs(c.mean[j] - EXACT[j]) < 4 * c.se[j], `mass ${j}`);
    // The SE over replicas estimates √(q(1−q)/(n·R)) (relative error ≈ 1/√(2(R−1)) ≈ 0.16).
    const ideal = Math.sqrt((EXACT[j] * (1 - EXACT[j])) / (n * r));
    assert.ok(c.se[j] > 0.5 * ideal && c.se[j] < 1.5 * ideal, `SE ${c.se[j]} vs ${ideal}`);
  }
  const s = replicaMeanSe([1, 2, 3, 4]);
  assert.equal(s.mean, 2.5);
  assert.ok(
    Math.abs(s.sd - Math.sqrt(5 / 3)) < 1e-15 && Math.abs(s.se - Math.sqrt(5 / 3) / 2) < 1e-15,
    "Math.abs(s.sd - Math.sqrt(5 / 3)) < 1e-15 && Math.abs(s.se - Math.sqrt(5 / 3) / 2) < 1e-15",
  );
  assert.ok(Number.isNaN(replicaMeanSe([1]).se), "Number.isNaN(replicaMeanSe([1]).se)");
});
