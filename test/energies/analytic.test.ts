/**
 * Analytic energies: gradients in x and θ and the score-matching objective against float64 central
 * differences; log Z against quadrature; exact samplers against exact moments.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { GaussianEnergy } from "../../src/energies/gaussian.ts";
import { MixtureEnergy } from "../../src/energies/mixture.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";
import { assertClose, centralDiff, checkInputGradient as checkGradient } from "../helpers.ts";

const EPS = 1e-5;
// Central differences in float64 have error O(eps²·f''') + O(1e-16/eps) ≈ 1e-10…1e-11 here; 1e-6
// relative (plus 1e-7 absolute) leaves a wide margin while still catching any wrong term.
const RTOL = 1e-6;
const ATOL = 1e-7;

function randomPoints(seed: number, n: number, d: number, scale: number): Float64Array {
  return new Stream(keyFromSeed(seed)).fillNormal(new Float64Array(n * d), 0, scale);
}

function checkInputGradient(e: Parameters<typeof checkGradient>[0], x: Float64Array, n: number): void {
  checkGradient(e, x, n, { eps: EPS, atol: ATOL, rtol: RTOL });
}

function weightedEnergy(e: MixtureEnergy, x: Float64Array, n: number, w: Float64Array): number {
  const u = new Float64Array(n);
  e.energy(x, n, u);
  let s = 0;
  for (let i = 0; i < n; i++) s += w[i] * u[i];
  return s;
}

/** ΔU by second central differences of U, in float64. */
function laplacianFd(e: MixtureEnergy, x: Float64Array, i: number): number {
  const d = e.dim;
  const h = 1e-4;
  const u = new Float64Array(1);
  const p = x.slice(i * d, i * d + d);
  e.energy(p, 1, u);
  const u0 = u[0];
  let lap = 0;
  for (let a = 0; a < d; a++) {
    const old = p[a];
    p[a] = old + h;
    e.energy(p, 1, u);
    const up = u[0];
    p[a] = old - h;
    e.energy(p, 1, u);
    const dn = u[0];
    p[a] = old;
    lap += (up - 2 * u0 + dn) / (h * h);
  }
  return lap;
}

describe("GaussianEnergy", () => {
  const mean = [0.5, -1, 2];
  const cov = [2, 0.6, -0.3, 0.6, 1, 0.2, -0.3, 0.2, 0.5];
  const e = new GaussianEnergy(mean, cov);

  test("∇ₓU matches finite differences", () => {
    checkInputGradient(e, randomPoints(1, 5, 3, 2), 5);
  });

  test("log Z is the Gaussian normaliser", () => {
    // det Σ by cofactor expansion.
    const [a, b, c, , dd, f, , , i] = cov;
    const det = a * (dd * i - f * f) - b * (b * i - f * c) + c * (b * f - dd * c);
    assertClose(e.logZ(), 1.5 * Math.log(2 * Math.PI) + 0.5 * Math.log(det), 1e-12, 1e-12, "log Z");
  });

  test("exact samples have the right mean and covariance", () => {
    const n = 200000;
    const x = new Float64Array(n * 3);
    e.sampleExact(keyFromSeed(3), n, x);
    for (let a = 0; a < 3; a++) {
      let m = 0;
      for (let k = 0; k < n; k++) m += x[k * 3 + a];
      m /= n;
      // SE of a mean = sqrt(Σ_aa / n); allow 5 SE.
      assert.ok(Math.abs(m - mean[a]) < 5 * Math.sqrt(cov[a * 4] / n), `mean ${a}: ${m}`);
      for (let b = 0; b <= a; b++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += (x[k * 3 + a] - mean[a]) * (x[k * 3 + b] - mean[b]);
        s /= n;
        // Var of a sample covariance of Gaussians: (Σ_ab² + Σ_aa Σ_bb) / n; allow 5 SE.
        const se = Math.sqrt((cov[a * 3 + b] ** 2 + cov[a * 4] * cov[b * 4]) / n);
        assert.ok(Math.abs(s - cov[a * 3 + b]) < 5 * se, `cov ${a}${b}: ${s} vs ${cov[a * 3 + b]}`);
      }
    }
  });

  test("rejects a covariance that is not positive definite or not symmetric", () => {
    assert.throws(() => new GaussianEnergy([0, 0], [1, 2, 2, 1]), /positive definite/);
    assert.throws(() => new GaussianEnergy([0, 0], [1, 0.5, 0.4, 1]), /symmetric/);
  });
});

describe("MixtureEnergy", () => {
  const spec = {
    means: [
      [-1, 0.5],
      [2, -1],
      [0, 3],
    ],
    stds: [0.7, 1.2, 0.9],
    offsets: [0.3, -0.4],
    learnMeans: true,
  };

  test("∇ₓU matches finite differences", () => {
    checkInputGradient(new MixtureEnergy(spec), randomPoints(2, 6, 2, 2), 6);
  });

  test("weighted ∂θU matches finite differences of Σ w_i U(x_i)", () => {
    const e = new MixtureEnergy(spec);
    const n = 7;
    const x = randomPoints(4, n, 2, 2);
    const w = new Stream(keyFromSeed(5)).fillUniform(new Float64Array(n));
    const theta = e.getParams();
    const g = new Float64Array(e.numParams);
    e.paramGrad(x, n, w, g);
    for (let p = 0; p < e.numParams; p++) {
      const fd = centralDiff(
        () => {
          e.setParams(theta);
          return weightedEnergy(e, x, n, w);
        },
        theta,
        p,
        EPS,
      );
      assertClose(g[p], fd, ATOL, RTOL, `∂θ[${p}]`);
    }
  });

  test("score matching: J matches ½|∇U|² − ΔU from finite differences, ∂θJ matches finite differences of J", () => {
    const e = new MixtureEnergy(spec);
    const n = 5;
    const x = randomPoints(6, n, 2, 1.5);
    const w = new Stream(keyFromSeed(7)).fillUniform(new Float64Array(n));
    const theta = e.getParams();
    const g = new Float64Array(e.numParams);
    const J = e.scoreMatching(x, n, w, g);
    const u = new Float64Array(n);
    const grad = new Float64Array(n * 2);
    e.energyAndGrad(x, n, u, grad);
    let ref = 0;
    for (let i = 0; i < n; i++) {
      const g2 = grad[i * 2] ** 2 + grad[i * 2 + 1] ** 2;
      ref += w[i] * (0.5 * g2 - laplacianFd(e, x, i));
    }
    // Second differences with h = 1e-4 carry ~1e-8 rounding error per point.
    assertClose(J, ref, 1e-5, 1e-6, "J");
    const scratch = new Float64Array(e.numParams);
    for (let p = 0; p < e.numParams; p++) {
      const fd = centralDiff(
        () => {
          e.setParams(theta);
          return e.scoreMatching(x, n, w, scratch);
        },
        theta,
        p,
        EPS,
      );
      assertClose(g[p], fd, ATOL, RTOL, `∂J/∂θ[${p}]`);
    }
  });

  test("log Z matches quadrature of e^{−U} and masses sum to one", () => {
    const e = MixtureEnergy.twoWell(-3, 4, 0.7);
    const u = new Float64Array(1);
    let s = 0;
    const h = 1e-3;
    for (let x = -20; x <= 20; x += h) {
      e.energy(Float64Array.of(x), 1, u);
      s += Math.exp(-u[0]) * h;
    }
    assertClose(e.logZ(), Math.log(s), 1e-9, 0, "log Z");
    assertClose(
      e.logZ(),
      Math.log(1 + Math.exp(-0.7)) + 0.5 * Math.log(2 * Math.PI),
      1e-12,
      0,
      "closed form",
    );
    const m = e.componentMasses();
    assertClose(m[1], 1 / (1 + Math.exp(0.7)), 1e-12, 0, "mass of mode b");
  });

  test("exact sampler puts mass q in mode b", () => {
    const e = MixtureEnergy.twoWell(-10, 10, Math.log(0.25 / 0.75));
    const n = 100000;
    const x = new Float64Array(n);
    e.sampleExact(keyFromSeed(8), n, x);
    let inB = 0;
    for (const v of x) if (v > 0) inB++;
    // Binomial(n, 0.75): sd = sqrt(n·0.75·0.25); allow 5 sd.
    assert.ok(Math.abs(inB / n - 0.75) < (5 * Math.sqrt(0.75 * 0.25)) / Math.sqrt(n), `fraction ${inB / n}`);
  });
});
