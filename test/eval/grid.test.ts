/**
 * Grid quadrature (src/eval/grid.ts) against closed forms:
 * 1. log Z of a correlated Gaussian, a 4-mode mixture (2-D) and the two-well mixture (1-D): within the
 *    reported quadrature error on wide windows, and the error indicator bounds the true error on coarse
 *    grids, where the error is large.
 * 2. KL(data‖model) = 0 when both are the same density (also given with different normalising constants),
 *    KL of two Gaussians and TV of two 1-D Gaussians against their closed forms.
 * 3. Mode masses of a known mixture on the grid: the exact Voronoi (quadrant) masses within the window
 *    and the exact mass outside it.
 * 4. KL from data samples (k-NN): ≈ 0 within 4 SE for model = data, the two-Gaussian closed form within
 *    4 SE; the k-NN distances against brute force.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { GaussianEnergy } from "../../src/energies/gaussian.ts";
import { GmmEnergy } from "../../src/energies/gmm.ts";
import { MixtureEnergy } from "../../src/energies/mixture.ts";
import {
  gridEvaluate,
  gridWindow,
  klDataModelGrid,
  klDataModelSamples,
  kthNeighbourDistances,
  logUnitBallVolume,
  makeGrid,
  modeMassesGrid,
} from "../../src/eval/grid.ts";
import { keyFromSeed, normal } from "../../src/random/key.ts";

/** Φ(x) through erf(z) = (2/√π) e^{−z²} Σ_n 2ⁿ z^{2n+1} / (1·3·…·(2n+1)) (positive terms, |x| ≲ 12). */
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

const WIDE = { xmin: -10, xmax: 10, ymin: -10, ymax: 10, n: 200 };
const gauss = new GaussianEnergy([0.5, -0.3], [1.5, 0.6, 0.6, 0.8]);
const MEANS = [
  [-1.5, -1.5],
  [-1.5, 1.5],
  [1.5, -1.5],
  [1.5, 1.5],
];
const WEIGHTS = [0.1, 0.2, 0.3, 0.4];
const gmm4 = new GmmEnergy({
  weights: WEIGHTS,
  means: MEANS,
  covs: MEANS.map(() => [1, 0, 0, 1]),
});
/** The same mixture as an unnormalised MixtureEnergy (offsets c_k = −log(π_k/π_0)). */
const mixture4 = new MixtureEnergy({
  means: MEANS,
  stds: [1, 1, 1, 1],
  offsets: WEIGHTS.slice(1).map((w) => -Math.log(w / WEIGHTS[0])),
});

test("gridEvaluate: log Z of 2-D Gaussians and mixtures within the quadrature error", () => {
  for (const [name, e, truth] of [
    ["correlated Gaussian", gauss, gauss.logZ()],
    ["4-mode gmm (log Z = 0)", gmm4, 0],
    ["4-mode mixture", mixture4, mixture4.logZ()],
  ] as const) {
    const r = gridEvaluate(e, WIDE);
    const err = Math.abs(r.logZ - truth);
    console.log(
      `  ${name}: log Z ${r.logZ} (truth ${truth}, |error| ${err.toExponential(2)}, indicator ${r.logZError.toExponential(2)})`,
    );
    // + 1e-12: float64 rounding of a log-sum-exp over 40 000 cells (both grids are exact to ~1e-14 here).
    assert.ok(err <= r.logZError + 1e-12, `${name}: |error| ${err} vs indicator ${r.logZError}`);
    assert.ok(err < 1e-10, name);
    assert.ok(r.edgeMass < 1e-12, `${name}: edge mass ${r.edgeMass}`);
    let total = 0;
    for (const p of r.density) total += p;
    assert.ok(Math.abs(total * r.grid.cellArea - 1) < 1e-12, "density normalised on the grid");
  }
  // Coarse grids: large errors, bounded by the indicator.
  for (const n of [4, 6, 8, 12, 16]) {
    const r = gridEvaluate(gauss, { xmin: -8, xmax: 8, ymin: -8, ymax: 8, n });
    const err = Math.abs(r.logZ - gauss.logZ());
    console.log(`  n = ${n}: |error| ${err.toExponential(2)}, indicator ${r.logZError.toExponential(2)}`);
    assert.ok(err <= r.logZError, `n = ${n}: |error| ${err} > indicator ${r.logZError}`);
  }
  // A window that cuts the density: edgeMass says so.
  const cut = gridEvaluate(gauss, { xmin: -2, xmax: 2, ymin: -2, ymax: 2, n: 100 });
  assert.ok(cut.edgeMass > 0.01, `edge mass ${cut.edgeMass}`);
});

test("gridEvaluate: 1-D two-well mixture, grid layout", () => {
  const e = MixtureEnergy.twoWell(-3, 3, 0.7);
  const r = gridEvaluate(e, { xmin: -12, xmax: 12, n: 400 });
  const err = Math.abs(r.logZ - e.logZ());
  console.log(`  1-D two-well: log Z ${r.logZ} (truth ${e.logZ()}, |error| ${err.toExponential(2)})`);
  assert.ok(err <= r.logZError + 1e-12 && err < 1e-10, "err <= r.logZError + 1e-12 && err < 1e-10");
  assert.equal(r.grid.dim, 1);
  assert.equal(r.density.length, 400);
  assert.equal(r.grid.xs[0], -12 + 0.5 * (24 / 400));
  // 2-D layout: x-major, cell (ix, iy) at ix·ny + iy.
  const g = makeGrid({ xmin: 0, xmax: 4, ymin: 10, ymax: 12, n: 4 });
  assert.deepEqual(Array.from(g.points.subarray(0, 4)), [0.5, 10.25, 0.5, 10.75]);
  assert.deepEqual(Array.from(g.points.subarray(2 * 5, 2 * 6)), [1.5, 10.75]);
  assert.equal(g.cellArea, 0.5);
  assert.deepEqual(gridWindow({ xmin: 0, xmax: 4, ymin: 10, ymax: 12, n: 4 }), {
    lower: [0, 10],
    upper: [4, 12],
  });
  assert.throws(() => gridEvaluate(e, { xmin: -1, xmax: 1, ymin: -1, ymax: 1, n: 10 }), /dimension/);
  assert.throws(() => gridEvaluate(e, { xmin: 1, xmax: -1, n: 10 }), /xmax > xmin/);
  assert.throws(() => gridEvaluate(e, { xmin: -1, xmax: 1, n: 3 }), /≥ 4/);
  const nan = { dim: 1, energy: (_x: Float64Array, n: number, u: Float64Array) => u.fill(Number.NaN, 0, n) };
  assert.throws(() => gridEvaluate(nan as never, { xmin: -1, xmax: 1, n: 8 }), /NaN/);
});

test("klDataModelGrid: 0 for equal densities, closed forms for Gaussians", () => {
  const same = klDataModelGrid(gmm4, gmm4, WIDE);
  assert.ok(Math.abs(same.kl) < 1e-14 && same.tv < 1e-14, `KL ${same.kl}, TV ${same.tv}`);
  // The same density with another normalising constant, and as a log-density function.
  const logPdf = (x: Float64Array, n: number, out: Float64Array) => {
    gmm4.energy(x, n, out);
    for (let i = 0; i < n; i++) out[i] = 3 - out[i];
  };
  const renorm = klDataModelGrid(logPdf, mixture4, WIDE);
  console.log(
    `  gmm vs same mixture unnormalised: KL ${renorm.kl.toExponential(2)} ± ${renorm.klError.toExponential(2)}`,
  );
  assert.ok(
    Math.abs(renorm.kl) <= renorm.klError + 1e-12 && renorm.tv < 1e-10,
    "Math.abs(renorm.kl) <= renorm.klError + 1e-12 && renorm.tv < 1e-10",
  );
  assert.ok(Math.abs(renorm.logZData - 3) < 1e-10, "log Z of the data density on the grid");

  // Two 2-D Gaussians: KL = ½[tr(Σ₂⁻¹Σ₁) + Δμᵀ Σ₂⁻¹ Δμ − 2 + log(det Σ₂ / det Σ₁)].
  const m1 = [0.5, -0.3];
  const s1 = [1.5, 0.6, 0.6, 0.8];
  const m2 = [-0.4, 0.2];
  const s2 = [0.9, -0.3, -0.3, 1.2];
  const det = (s: number[]) => s[0] * s[3] - s[1] * s[2];
  const inv2 = [s2[3] / det(s2), -s2[1] / det(s2), -s2[2] / det(s2), s2[0] / det(s2)];
  const dm = [m2[0] - m1[0], m2[1] - m1[1]];
  const tr = inv2[0] * s1[0] + inv2[1] * s1[2] + inv2[2] * s1[1] + inv2[3] * s1[3];
  const quad = dm[0] * (inv2[0] * dm[0] + inv2[1] * dm[1]) + dm[1] * (inv2[2] * dm[0] + inv2[3] * dm[1]);
  const truth = 0.5 * (tr + quad - 2 + Math.log(det(s2) / det(s1)));
  const r = klDataModelGrid(new GaussianEnergy(m1, s1), new GaussianEnergy(m2, s2), WIDE);
  console.log(
    `  two Gaussians: KL ${r.kl} (truth ${truth}, |error| ${Math.abs(r.kl - truth).toExponential(2)}, indicator ${r.klError.toExponential(2)})`,
  );
  // + 1e-10: the part of the integral beyond the window [−10, 10]², which no grid indicator sees (measured
  // 2e-13: the log-ratio grows quadratically where p_d is ~e^{−40}).
  assert.ok(Math.abs(r.kl - truth) <= r.klError + 1e-10, "Math.abs(r.kl - truth) <= r.klError + 1e-10");

  // TV of N(0, 1) and N(1, 1): 2Φ(½) − 1.
  const tv = klDataModelGrid(GaussianEnergy.isotropic([0], 1), GaussianEnergy.isotropic([1], 1), {
    xmin: -12,
    xmax: 12,
    n: 2000,
  });
  const tvTruth = 2 * normalCdf(0.5) - 1;
  console.log(
    `  TV: ${tv.tv} (truth ${tvTruth}, indicator ${tv.tvError.toExponential(2)}); KL ${tv.kl} (truth 0.5)`,
  );
  assert.ok(
    Math.abs(tv.tv - tvTruth) <= tv.tvError + 1e-12,
    "Math.abs(tv.tv - tvTruth) <= tv.tvError + 1e-12",
  );
  assert.ok(Math.abs(tv.kl - 0.5) <= tv.klError + 1e-12, "Math.abs(tv.kl - 0.5) <= tv.klError + 1e-12");
});

test("modeMassesGrid: exact quadrant masses of a 4-mode mixture and the mass outside the window", () => {
  const lim = 4;
  const spec = { xmin: -lim, xmax: lim, ymin: -lim, ymax: lim, n: 200 };
  // P(component j has coordinate a in [lo, hi]) for unit-sd components.
  const p = (j: number, a: number, lo: number, hi: number) =>
    normalCdf(hi - MEANS[j][a]) - normalCdf(lo - MEANS[j][a]);
  let inside = 0;
  for (let j = 0; j < 4; j++) inside += WEIGHTS[j] * p(j, 0, -lim, lim) * p(j, 1, -lim, lim);
  const exact = MEANS.map((c) => {
    const [xl, xh] = c[0] > 0 ? [0, lim] : [-lim, 0];
    const [yl, yh] = c[1] > 0 ? [0, lim] : [-lim, 0];
    let m = 0;
    for (let j = 0; j < 4; j++) m += WEIGHTS[j] * p(j, 0, xl, xh) * p(j, 1, yl, yh);
    return m / inside;
  });
  for (const n of [200, 51]) {
    const r = modeMassesGrid(gmm4, { ...spec, n }, MEANS);
    console.log(
      `  n = ${n}: masses ${Array.from(r.masses, (v) => v.toFixed(6))} (exact ${exact.map((v) => v.toFixed(6))}), ` +
        `error indicators ${Array.from(r.massError, (v) => v.toExponential(1))}; outside ${r.outside.toFixed(6)} (exact ${(1 - inside).toFixed(6)})`,
    );
    let sum = 0;
    for (let j = 0; j < 4; j++) {
      sum += r.masses[j];
      assert.ok(Math.abs(r.masses[j] - exact[j]) <= r.massError[j] + 1e-12, `n = ${n}, mass ${j}`);
    }
    assert.ok(Math.abs(sum - 1) < 1e-12, "Math.abs(sum - 1) < 1e-12");
    // + 1e-9: the mass beyond the enlarged window [−8, 8]² (≈ 4·Φ(−6.5) ≈ 1.6e-10), which it cannot see.
    assert.ok(Math.abs(r.outside - (1 - inside)) <= r.outsideError + 1e-9, `outside ${r.outside}`);
  }
  const none = modeMassesGrid(gmm4, spec, MEANS, { outerFactor: 0 });
  assert.ok(Number.isNaN(none.outside), "Number.isNaN(none.outside)");
});

test("klDataModelSamples: k-NN KL ≈ 0 for model = data, closed form for two Gaussians (within 4 SE)", () => {
  // k-NN distances against brute force.
  const m = 300;
  const pts = normal(keyFromSeed(9), new Float64Array(3 * m));
  const dk = kthNeighbourDistances(pts, m, 3, 4);
  for (let i = 0; i < m; i++) {
    const d: number[] = [];
    for (let j = 0; j < m; j++) {
      if (j === i) continue;
      let s = 0;
      for (let a = 0; a < 3; a++) s += (pts[i * 3 + a] - pts[j * 3 + a]) ** 2;
      d.push(s);
    }
    d.sort((a, b) => a - b);
    assert.equal(dk[i], d[3]);
  }
  assert.ok(
    Math.abs(logUnitBallVolume(2) - Math.log(Math.PI)) < 1e-15,
    "Math.abs(logUnitBallVolume(2) - Math.log(Math.PI)) < 1e-15",
  );
  assert.ok(
    Math.abs(logUnitBallVolume(3) - Math.log((4 / 3) * Math.PI)) < 1e-15,
    "Math.abs(logUnitBallVolume(3) - Math.log((4 / 3) * Math.PI)) < 1e-15",
  );

  const n = 4000;
  const x = new Float64Array(2 * n);
  gmm4.sampleExact(keyFromSeed(21), n, x);
  const same = klDataModelSamples(x, n, gmm4, { logZ: 0 });
  console.log(
    `  model = data (4-mode gmm, n = ${n}): KL ${same.kl.toFixed(4)} ± ${same.se.toFixed(4)} (truth 0)`,
  );
  assert.ok(Math.abs(same.kl) < 4 * same.se, "Math.abs(same.kl) < 4 * same.se");
  // Normalised on a grid instead: the same up to the grid's log Z error.
  const viaGrid = klDataModelSamples(x, n, mixture4, WIDE);
  assert.ok(Math.abs(viaGrid.kl - same.kl) < 1e-9, "Math.abs(viaGrid.kl - same.kl) < 1e-9");

  const data = GaussianEnergy.isotropic([0, 0], 1);
  const model = new GaussianEnergy([0.5, 0], [1.5, 0, 0, 1]);
  // KL(N(0, I) ‖ N((½, 0), diag(1.5, 1))) = ½[1/1.5 + 0.25/1.5 − 1 + log 1.5].
  const truth = 0.5 * (1 / 1.5 + 0.25 / 1.5 - 1 + Math.log(1.5));
  const y = new Float64Array(2 * n);
  data.sampleExact(keyFromSeed(22), n, y);
  const r = klDataModelSamples(y, n, model, { logZ: model.logZ() });
  console.log(
    `  two Gaussians (n = ${n}): KL ${r.kl.toFixed(4)} ± ${r.se.toFixed(4)} (truth ${truth.toFixed(4)})`,
  );
  assert.ok(Math.abs(r.kl - truth) < 4 * r.se, "Math.abs(r.kl - truth) < 4 * r.se");
  // The cross-entropy is the model-dependent part; entropy of N(0, I) is 1 + log 2π.
  assert.ok(
    Math.abs(r.crossEntropy - r.entropy - r.kl) < 1e-12,
    "Math.abs(r.crossEntropy - r.entropy - r.kl) < 1e-12",
  );
  const dup = new Float64Array(2 * 10);
  assert.throws(() => klDataModelSamples(dup, 10, model, { logZ: 0 }, { k: 2 }), /duplicates/);
});
