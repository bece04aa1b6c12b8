/**
 * Funnel, banana and general Gaussian mixture: ∇U against float64 central differences, U against the
 * sum of the defining log densities, log Z = 0 against Simpson quadrature in 1-D/2-D, and the exact
 * samplers' moments within 5 standard errors.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BananaEnergy } from "../../src/energies/banana.ts";
import type { Energy } from "../../src/energies/contract.ts";
import { FunnelEnergy } from "../../src/energies/funnel.ts";
import { GaussianEnergy } from "../../src/energies/gaussian.ts";
import { GmmEnergy } from "../../src/energies/gmm.ts";
import { MixtureEnergy } from "../../src/energies/mixture.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";
import { assertClose, checkInputGradient as checkGradient } from "../helpers.ts";

const EPS = 1e-5;
const RTOL = 1e-6;
const ATOL = 1e-7;
const N_SAMPLES = 200_000;
const LOG_2PI = Math.log(2 * Math.PI);

function logNormal(x: number, mean: number, variance: number): number {
  return -0.5 * (LOG_2PI + Math.log(variance)) - (0.5 * (x - mean) ** 2) / variance;
}

function checkInputGradient(e: Parameters<typeof checkGradient>[0], x: Float64Array, n: number): void {
  checkGradient(e, x, n, { eps: EPS, atol: ATOL, rtol: RTOL });
}

/** Composite Simpson rule on [a, b] with n (even) intervals. */
function simpson(f: (t: number) => number, a: number, b: number, n: number): number {
  const h = (b - a) / n;
  let s = f(a) + f(b);
  for (let i = 1; i < n; i++) s += (i % 2 === 1 ? 4 : 2) * f(a + i * h);
  return (s * h) / 3;
}

/** ∫ e^{−U} over a 2-D region whose inner range may depend on the outer coordinate. */
function integrate2d(
  e: Energy,
  outer: [number, number, number],
  inner: (x0: number) => [number, number, number],
): number {
  const p = new Float64Array(2);
  const u = new Float64Array(1);
  return simpson(
    (x0) => {
      p[0] = x0;
      const [a, b, n] = inner(x0);
      return simpson(
        (x1) => {
          p[1] = x1;
          e.energy(p, 1, u);
          return Math.exp(-u[0]);
        },
        a,
        b,
        n,
      );
    },
    ...outer,
  );
}

function column(x: Float64Array, n: number, d: number, f: (row: Float64Array) => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = f(x.subarray(i * d, i * d + d));
  return out;
}

/** Asserts |mean(v) − expected| ≤ 5 standard errors (sample standard deviation / √n). */
function assertMean(v: Float64Array, expected: number, what: string): void {
  const n = v.length;
  let m = 0;
  for (const x of v) m += x;
  m /= n;
  let s2 = 0;
  for (const x of v) s2 += (x - m) ** 2;
  const se = Math.sqrt(s2 / (n - 1) / n);
  assert.ok(Math.abs(m - expected) <= 5 * se, `${what}: mean ${m} vs ${expected} (5 SE = ${5 * se})`);
}

function randomPoints(seed: number, n: number, d: number, scale: number): Float64Array {
  return new Stream(keyFromSeed(seed)).fillNormal(new Float64Array(n * d), 0, scale);
}

describe("FunnelEnergy", () => {
  test("∇U matches central differences (d = 5, σ = 3 and σ = 1.5)", () => {
    for (const scale of [3, 1.5]) {
      const e = new FunnelEnergy(5, scale);
      const x = randomPoints(1, 6, 5, 1);
      checkInputGradient(e, x, 6);
    }
  });

  test("U is −log N(v; 0, σ²) − Σ log N(x_i; 0, e^v) (d = 4)", () => {
    const e = new FunnelEnergy(4, 3);
    const x = randomPoints(2, 10, 4, 1.5);
    const u = new Float64Array(10);
    e.energy(x, 10, u);
    for (let i = 0; i < 10; i++) {
      const v = x[i * 4];
      let lp = logNormal(v, 0, 9);
      for (let a = 1; a < 4; a++) lp += logNormal(x[i * 4 + a], 0, Math.exp(v));
      assertClose(u[i], -lp, 1e-12, 1e-12, `U[${i}]`);
    }
  });

  test("log Z = 0 against 2-D quadrature", () => {
    const e = new FunnelEnergy(2, 3);
    assert.equal(e.logZ(), 0);
    // v over ±10σ; x over ±14 conditional standard deviations e^{v/2}.
    const z = integrate2d(e, [-30, 30, 1200], (v) => {
      const s = Math.exp(v / 2);
      return [-14 * s, 14 * s, 200];
    });
    assertClose(Math.log(z), 0, 1e-8, 0, "log ∫ e^{−U}");
  });

  test("exact sampler: moments within 5 SE (d = 3)", () => {
    const d = 3;
    const e = new FunnelEnergy(d, 3);
    const x = new Float64Array(N_SAMPLES * d);
    e.sampleExact(keyFromSeed(11), N_SAMPLES, x);
    const v = column(x, N_SAMPLES, d, (r) => r[0]);
    assertMean(v, 0, "E v");
    assertMean(
      column(x, N_SAMPLES, d, (r) => r[0] * r[0]),
      9,
      "E v²",
    );
    for (let a = 1; a < d; a++) {
      // z = x_a e^{−v/2} ~ N(0, 1) independent of v; log x_a² = v + log z² has mean −γ − log 2.
      const zs = column(x, N_SAMPLES, d, (r) => r[a] * Math.exp(-r[0] / 2));
      assertMean(zs, 0, `E z${a}`);
      assertMean(
        zs.map((z) => z * z),
        1,
        `E z${a}²`,
      );
      assertMean(
        column(x, N_SAMPLES, d, (r) => r[0] * r[a] * Math.exp(-r[0] / 2)),
        0,
        `E v·z${a}`,
      );
      assertMean(
        column(x, N_SAMPLES, d, (r) => Math.log(r[a] * r[a])),
        -0.5772156649015329 - Math.LN2,
        `E log x${a}²`,
      );
    }
  });

  test("rejects dim < 2 and non-positive scale", () => {
    assert.throws(() => new FunnelEnergy(1), RangeError);
    assert.throws(() => new FunnelEnergy(3, 0), RangeError);
  });
});

describe("BananaEnergy", () => {
  test("∇U matches central differences (d = 4, b = 0.1 and b = −0.03)", () => {
    for (const b of [0.1, -0.03]) {
      const e = new BananaEnergy(4, b);
      const x = randomPoints(3, 6, 4, 3);
      checkInputGradient(e, x, 6);
    }
  });

  test("U is −log N(x₁; 0, s²) − log N(x₂ + b(x₁² − s²); 0, 1) − Σ log N(x_i; 0, 1)", () => {
    const b = 0.07;
    const s = 4;
    const e = new BananaEnergy(4, b, s);
    const x = randomPoints(4, 10, 4, 2);
    const u = new Float64Array(10);
    e.energy(x, 10, u);
    for (let i = 0; i < 10; i++) {
      const r = x.subarray(i * 4, i * 4 + 4);
      const lp =
        logNormal(r[0], 0, s * s) +
        logNormal(r[1] + b * (r[0] * r[0] - s * s), 0, 1) +
        logNormal(r[2], 0, 1) +
        logNormal(r[3], 0, 1);
      assertClose(u[i], -lp, 1e-12, 1e-12, `U[${i}]`);
    }
  });

  test("log Z = 0 against 2-D quadrature (b = 0.1, s = 10)", () => {
    const b = 0.1;
    const s = 10;
    const e = new BananaEnergy(2, b, s);
    assert.equal(e.logZ(), 0);
    // x₁ over ±10 s; x₂ over ±12 around the ridge −b(x₁² − s²).
    const z = integrate2d(e, [-10 * s, 10 * s, 2000], (x1) => {
      const c = -b * (x1 * x1 - s * s);
      return [c - 12, c + 12, 240];
    });
    assertClose(Math.log(z), 0, 1e-8, 0, "log ∫ e^{−U}");
  });

  test("exact sampler: moments within 5 SE (d = 3, b = 0.1, s = 10)", () => {
    const d = 3;
    const b = 0.1;
    const s = 10;
    const e = new BananaEnergy(d, b, s);
    const x = new Float64Array(N_SAMPLES * d);
    e.sampleExact(keyFromSeed(12), N_SAMPLES, x);
    assertMean(
      column(x, N_SAMPLES, d, (r) => r[0]),
      0,
      "E x₁",
    );
    assertMean(
      column(x, N_SAMPLES, d, (r) => r[0] * r[0]),
      s * s,
      "E x₁²",
    );
    assertMean(
      column(x, N_SAMPLES, d, (r) => r[1]),
      0,
      "E x₂",
    );
    assertMean(
      column(x, N_SAMPLES, d, (r) => r[1] * r[1]),
      1 + 2 * b * b * s ** 4,
      "E x₂²",
    );
    const t = column(x, N_SAMPLES, d, (r) => r[1] + b * (r[0] * r[0] - s * s));
    assertMean(t, 0, "E t");
    assertMean(
      t.map((v) => v * v),
      1,
      "E t²",
    );
    assertMean(
      column(x, N_SAMPLES, d, (r) => r[2] * r[2]),
      1,
      "E x₃²",
    );
  });
});

describe("GmmEnergy", () => {
  const weights = [1, 2, 1]; // normalized to 0.25, 0.5, 0.25
  const means = [
    [-3, 0],
    [2, 1],
    [0, -4],
  ];
  const covs = [
    [1, 0.5, 0.5, 2],
    [0.5, -0.2, -0.2, 0.3],
    [2, 0, 0, 0.6],
  ];
  const full = new GmmEnergy({ weights, means, covs });

  test("weights are normalized", () => {
    assert.deepEqual([...full.weights], [0.25, 0.5, 0.25]);
  });

  test("∇U matches central differences (full covariances, d = 3 isotropic)", () => {
    checkInputGradient(full, randomPoints(5, 8, 2, 3), 8);
    const iso = new GmmEnergy({
      weights: [0.2, 0.8],
      means: [
        [1, 2, 3],
        [-1, 0, 1],
      ],
      stds: [0.7, 1.6],
    });
    checkInputGradient(iso, randomPoints(6, 8, 3, 2), 8);
  });

  test("one full component equals GaussianEnergy + log Z, with the same gradient", () => {
    const mean = [0.5, -1, 2];
    const cov = [2, 0.6, -0.3, 0.6, 1, 0.2, -0.3, 0.2, 0.5];
    const g = new GaussianEnergy(mean, cov);
    const m = new GmmEnergy({ weights: [3], means: [mean], covs: [cov] });
    const x = randomPoints(7, 5, 3, 1);
    const [ug, um] = [new Float64Array(5), new Float64Array(5)];
    const [gg, gm] = [new Float64Array(15), new Float64Array(15)];
    g.energyAndGrad(x, 5, ug, gg);
    m.energyAndGrad(x, 5, um, gm);
    for (let i = 0; i < 5; i++) assertClose(um[i], ug[i] + g.logZ(), 1e-12, 1e-12, `U[${i}]`);
    for (let i = 0; i < 15; i++) assertClose(gm[i], gg[i], 1e-12, 1e-10, `∇U[${i}]`);
  });

  test("isotropic mixture matches MixtureEnergy up to its log Z", () => {
    const mix = new MixtureEnergy({ means: [[-2], [3]], stds: [0.5, 1.5], offsets: [0.4] });
    const masses = mix.componentMasses();
    const m = new GmmEnergy({ weights: masses, means: [[-2], [3]], stds: [0.5, 1.5] });
    const x = randomPoints(8, 20, 1, 3);
    const [ux, um] = [new Float64Array(20), new Float64Array(20)];
    mix.energy(x, 20, ux);
    m.energy(x, 20, um);
    for (let i = 0; i < 20; i++) assertClose(um[i], ux[i] + mix.logZ(), 1e-11, 1e-12, `U[${i}]`);
  });

  test("log Z = 0 against quadrature (1-D isotropic, 2-D full)", () => {
    const one = new GmmEnergy({ weights: [0.3, 0.7], means: [[-2], [3]], stds: [0.5, 1.5] });
    const u = new Float64Array(1);
    const p = new Float64Array(1);
    const z1 = simpson(
      (t) => {
        p[0] = t;
        one.energy(p, 1, u);
        return Math.exp(-u[0]);
      },
      -20,
      20,
      4000,
    );
    assertClose(Math.log(z1), 0, 1e-10, 0, "1-D log ∫ e^{−U}");
    assert.equal(full.logZ(), 0);
    const z2 = integrate2d(full, [-15, 15, 600], () => [-15, 15, 600]);
    assertClose(Math.log(z2), 0, 1e-8, 0, "2-D log ∫ e^{−U}");
  });

  test("responsibilities sum to 1; exact sampler: moments and mode masses within 5 SE", () => {
    const n = N_SAMPLES;
    const x = new Float64Array(n * 2);
    full.sampleExact(keyFromSeed(13), n, x);
    const r = full.responsibilities(x, n, new Float64Array(n * 3));
    for (let i = 0; i < 100; i++)
      assertClose(r[3 * i] + r[3 * i + 1] + r[3 * i + 2], 1, 1e-12, 0, `Σ r[${i}]`);
    const pi = [0.25, 0.5, 0.25];
    // E r_k(x) = π_k under the mixture itself.
    for (let k = 0; k < 3; k++)
      assertMean(
        Float64Array.from({ length: n }, (_, i) => r[3 * i + k]),
        pi[k],
        `E r_${k}`,
      );
    const masses = full.modeMasses(x, n);
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(masses[k] - pi[k]) < 0.01, `mode mass ${k}: ${masses[k]}`);
    // Mean Σ π_k μ_k and second moments Σ π_k (Σ_k + μ_k μ_kᵀ).
    for (let a = 0; a < 2; a++) {
      const mean = pi.reduce((s, w, k) => s + w * means[k][a], 0);
      assertMean(
        column(x, n, 2, (row) => row[a]),
        mean,
        `E x${a}`,
      );
      for (let b = 0; b <= a; b++) {
        const m2 = pi.reduce((s, w, k) => s + w * (covs[k][a * 2 + b] + means[k][a] * means[k][b]), 0);
        assertMean(
          column(x, n, 2, (row) => row[a] * row[b]),
          m2,
          `E x${a}x${b}`,
        );
      }
    }
  });

  test("rejects bad parameters", () => {
    assert.throws(() => new GmmEnergy({ weights: [1, 0], means: [[0], [1]], stds: [1, 1] }), /weight 1/);
    assert.throws(
      () => new GmmEnergy({ weights: [1], means: [[0, 0]], covs: [[1, 2, 2, 1]] }),
      /positive definite/,
    );
    assert.throws(
      () => new GmmEnergy({ weights: [1], means: [[0, 0]], covs: [[1, 0.1, 0, 1]] }),
      /symmetric/,
    );
    assert.throws(() => new GmmEnergy({ weights: [1], means: [[0]] }), /exactly one/);
  });
});
