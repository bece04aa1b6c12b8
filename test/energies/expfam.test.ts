/**
 * Exponential-family energies U_θ = θ·T (src/energies/expfam.ts): derivatives against float64 central
 * differences, the closed-form score-matching minimiser, the Gaussian parametrisation, and the MLE fixed
 * point E_θ[T] = E_data[T] reached through the library's trainer.
 *
 * Tolerances. Everything is float64. Central differences with step h = 1e-5 on polynomials of degree ≤ 4 at
 * |x| ≲ 4: truncation h²/6·|f‴| ≲ 1e-8, rounding ≈ 1e-16·|f|/h ≲ 1e-9; tolerance 1e-6·(1 + |FD|). The closed
 * forms (scoreMatchingSolution against the sample moments, the Gaussian round trip) agree to rounding:
 * 1e-9.
 *
 * MLE fixed point. (a) Exact: a test objective whose gradient is E_data[T] − E_θ[T] with E_θ by quadrature
 * (Simpson, 4001 nodes on [−8, 8]: error ≪ 1e-10 for these densities), Fisher-preconditioned (damped
 * Newton with sgd(0.25)), driven by `train`; at the end the
 * gap is compared with the data's own Monte Carlo error SE_k = sd(T_k)/√n and must be below 1e-6·SE_k
 * (measured ≈ 4e-14: the fixed point is reached to rounding).
 * (b) Statistical: the library's contrastive divergence (walkers restarted at data, k = 20 MALA steps) with
 * plain SGD. For SGD, Σ_t g_t = (θ_a − θ_b)/lr over iterations a … b−1, so the walkers' average statistics
 * equal E_data[T] − (θ_a − θ_b)/(lr·K) exactly; the test checks that the model's exact moments along the
 * path, averaged, match them within 4 standard errors sd_θ(T_k)/√(W·K) (W walkers per iteration drawn
 * afresh): that is E_θ[T] = E_data[T] up to MC error. It fails if the walkers do not sample ρ_θ: the
 * negative control runs the same check with ULA at h = 0.2 (stationary variance inflated by ≈ 25%) and
 * requires it to fail (measured −37 SE). (In this well-specified Gaussian case CD-1's walkers, started at
 * data, are already near equilibrium, so the number of steps is not what it probes.) Then the Polyak-averaged θ's mean and variance match the data's
 * (1/n-normalised) moments within 4 SE of that average (SE_μ = s/√(WK), SE_var = s²√(2/(WK))).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  concatStatistics,
  ExpFamEnergy,
  gaussianFromNatural,
  naturalFromGaussian,
  polynomialStatistics,
  quadraticStatistics,
  radialStatistics,
  type SufficientStatistics,
} from "../../src/energies/expfam.ts";
import { GaussianEnergy } from "../../src/energies/gaussian.ts";
import { contrastiveDivergence } from "../../src/objectives/contrastive-divergence.ts";
import type { Objective } from "../../src/objectives/objective.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";
import { malaMove, ulaMove, type WalkerMove } from "../../src/samplers/moves.ts";
import { sgd } from "../../src/train/optim.ts";
import { train } from "../../src/train/trainer.ts";
import { assertClose, centralDiff, checkInputGradient } from "../helpers.ts";

const H = 1e-5;
const TOL = 1e-6;

function normals(seed: number, n: number, scale = 1): Float64Array {
  return new Stream(keyFromSeed(seed)).fillNormal(new Float64Array(n), 0, scale) as Float64Array;
}

function cases(): { name: string; stats: SufficientStatistics; theta: Float64Array }[] {
  const poly = polynomialStatistics(2, 4);
  const quad = quadraticStatistics(3);
  const both = concatStatistics(polynomialStatistics(2, 3), quadraticStatistics(2));
  const radial = radialStatistics(3);
  return [poly, quad, both, radial].map((stats, k) => ({
    name: ["polynomial(2, 4)", "quadratic(3)", "concat", "radial(3)"][k],
    stats,
    theta: normals(10 + k, stats.size, 0.5),
  }));
}

describe("ExpFamEnergy: derivatives against float64 central differences", () => {
  for (const { name, stats, theta } of cases()) {
    test(`${name}: ∇ₓU, paramGrad, scoreParamGrad, directionalParamGrad, scoreMatching`, () => {
      const e = new ExpFamEnergy(stats, theta);
      const d = e.dim;
      const P = e.numParams;
      const n = 6;
      const x = normals(1, n * d, 1.2);
      const v = normals(2, n * d);
      const r = normals(3, n * d);
      const w = normals(4, n);
      const a = normals(5, n);
      const b = normals(6, n);
      checkInputGradient(e, x, n, { eps: H, atol: TOL, rtol: TOL });

      const th = e.getParams();
      const withTheta = (f: () => number) => () => {
        e.setParams(th);
        return f();
      };
      const u = new Float64Array(n);
      const g = new Float64Array(n * d);
      const sumWU = () => {
        e.energy(x, n, u);
        return u.reduce((s, ui, i) => s + w[i] * ui, 0);
      };
      const rDotGrad = () => {
        e.energyAndGrad(x, n, u, g);
        return g.reduce((s, gi, q) => s + r[q] * gi, 0);
      };
      const curv = new Float64Array(n);
      const scratch = new Float64Array(P);
      const dirObjective = () => {
        e.energyAndGrad(x, n, u, g);
        e.directionalParamGrad(x, v, n, a, b, scratch, curv);
        let s = 0;
        for (let i = 0; i < n; i++) {
          let sv = 0;
          for (let k = 0; k < d; k++) sv += v[i * d + k] * g[i * d + k];
          s += a[i] * sv + b[i] * curv[i];
        }
        return s;
      };
      const J = () => e.scoreMatching(x, n, w, scratch);

      const pg = new Float64Array(P);
      const sg = new Float64Array(P);
      const dg = new Float64Array(P);
      const jg = new Float64Array(P);
      e.setParams(th);
      e.paramGrad(x, n, w, pg);
      e.scoreParamGrad(x, n, r, sg);
      const kappa = new Float64Array(n);
      e.directionalParamGrad(x, v, n, a, b, dg, kappa);
      const jVal = e.scoreMatching(x, n, w, jg);
      for (let k = 0; k < P; k++) {
        assertClose(pg[k], centralDiff(withTheta(sumWU), th, k, H), TOL, TOL, `${name} paramGrad[${k}]`);
        assertClose(
          sg[k],
          centralDiff(withTheta(rDotGrad), th, k, H),
          TOL,
          TOL,
          `${name} scoreParamGrad[${k}]`,
        );
        assertClose(
          dg[k],
          centralDiff(withTheta(dirObjective), th, k, H),
          TOL,
          TOL,
          `${name} directional[${k}]`,
        );
        assertClose(jg[k], centralDiff(withTheta(J), th, k, H), TOL, TOL, `${name} ∂θJ[${k}]`);
      }
      e.setParams(th);

      // κ_i = d/dt [v·∇U(x + t v)] and J = Σ w[½|∇U|² − ΔU], the Laplacian by differences of ∇U.
      const xi = new Float64Array(d);
      const gi = new Float64Array(d);
      const ui = new Float64Array(1);
      const gradAt = (p: Float64Array) => {
        e.energyAndGrad(p, 1, ui, gi);
        return gi;
      };
      let jRef = 0;
      for (let i = 0; i < n; i++) {
        const row = x.subarray(i * d, i * d + d);
        const vi = v.subarray(i * d, i * d + d);
        const slope = (t: number) => {
          for (let k = 0; k < d; k++) xi[k] = row[k] + t * vi[k];
          return gradAt(xi).reduce((s, q, k) => s + q * vi[k], 0);
        };
        assertClose(kappa[i], (slope(H) - slope(-H)) / (2 * H), TOL, TOL, `${name} κ[${i}]`);
        let lap = 0;
        for (let c = 0; c < d; c++) {
          const dc = (t: number) => {
            xi.set(row);
            xi[c] += t;
            return gradAt(xi)[c];
          };
          lap += (dc(H) - dc(-H)) / (2 * H);
        }
        const g0 = gradAt(row);
        jRef += w[i] * (0.5 * g0.reduce((s, q) => s + q * q, 0) - lap);
      }
      assertClose(jVal, jRef, TOL, TOL, `${name} J`);
    });
  }
});

/** n points of N(mean, cov) (2-D) and their mean and 1/n-normalised covariance. */
function gaussianData(seed: number, n: number, mean: number[], cov: number[]) {
  const x = new Float64Array(n * 2);
  new GaussianEnergy(mean, cov).sampleExact(keyFromSeed(seed), n, x);
  const m = [0, 0];
  for (let i = 0; i < n; i++) for (let a = 0; a < 2; a++) m[a] += x[i * 2 + a] / n;
  const c = [0, 0, 0, 0];
  for (let i = 0; i < n; i++)
    for (let a = 0; a < 2; a++)
      for (let b = 0; b < 2; b++) c[a * 2 + b] += ((x[i * 2 + a] - m[a]) * (x[i * 2 + b] - m[b])) / n;
  return { x, mean: m, cov: c };
}

describe("ExpFamEnergy: the Gaussian family in closed form", () => {
  test("naturalFromGaussian ∘ gaussianFromNatural is the identity; log Z; U differs from the Gaussian by a constant", () => {
    const mean = [0.7, -1.2];
    const cov = [1.5, 0.4, 0.4, 0.8];
    const theta = naturalFromGaussian(mean, cov);
    const g = gaussianFromNatural(theta, 2);
    for (let a = 0; a < 2; a++) assertClose(g.mean[a], mean[a], 1e-12, 1e-12, `mean[${a}]`);
    for (let q = 0; q < 4; q++) assertClose(g.cov[q], cov[q], 1e-12, 1e-12, `cov[${q}]`);
    const ref = new GaussianEnergy(mean, cov);
    const e = ExpFamEnergy.gaussian(mean, cov);
    const x = normals(7, 10);
    const u1 = new Float64Array(5);
    const u2 = new Float64Array(5);
    e.energy(x, 5, u1);
    ref.energy(x, 5, u2);
    // U_θ = ½(x−μ)ᵀP(x−μ) − ½μᵀPμ, so log Z_θ = log Z_Gaussian + ½μᵀPμ = log Z_Gaussian + (U_ref − U_θ).
    for (let i = 0; i < 5; i++) assertClose(u2[i] - u1[i], u2[0] - u1[0], 1e-12, 1e-12, "constant offset");
    assertClose(g.logZ, ref.logZ() + (u2[0] - u1[0]), 1e-12, 1e-12, "log Z");
    assert.throws(() => gaussianFromNatural([0, 0, -1, 0, 1], 2), /not positive definite/);
  });

  test("scoreMatchingSolution is the sample mean and (1/n) covariance, and zeroes ∂θJ", () => {
    const { x, mean, cov } = gaussianData(3, 500, [1, -2], [2, 0.6, 0.6, 0.5]);
    const e = ExpFamEnergy.gaussian([0, 0], [1, 0, 0, 1]);
    const theta = e.scoreMatchingSolution(x, 500);
    const g = gaussianFromNatural(theta, 2);
    for (let a = 0; a < 2; a++) assertClose(g.mean[a], mean[a], 1e-9, 1e-9, `mean[${a}]`);
    for (let q = 0; q < 4; q++) assertClose(g.cov[q], cov[q], 1e-9, 1e-9, `cov[${q}]`);
    e.setParams(theta);
    const grad = new Float64Array(e.numParams);
    e.scoreMatching(x, 500, new Float64Array(500).fill(1 / 500), grad);
    for (let k = 0; k < grad.length; k++) assert.ok(Math.abs(grad[k]) < 1e-10, `∂θJ[${k}] = ${grad[k]}`);
  });
});

// --- MLE fixed point -------------------------------------------------------------------------------------

/** E_θ[T] and Cov_θ[T] (m × m) in 1-D by Simpson's rule on [−8, 8] (log-space weights). */
function modelMoments(stats: SufficientStatistics, theta: Float64Array): Float64Array {
  return modelCov(stats, theta).mean;
}

function modelCov(
  stats: SufficientStatistics,
  theta: Float64Array,
): { mean: Float64Array; cov: Float64Array } {
  const nodes = 4001;
  const lo = -8;
  const h = 16 / (nodes - 1);
  const m = stats.size;
  const x = new Float64Array(nodes);
  for (let j = 0; j < nodes; j++) x[j] = lo + j * h;
  const t = new Float64Array(nodes * m);
  stats.evaluate(x, nodes, t);
  const lw = new Float64Array(nodes);
  let max = -Infinity;
  for (let j = 0; j < nodes; j++) {
    let u = 0;
    for (let k = 0; k < m; k++) u += theta[k] * t[j * m + k];
    lw[j] = -u + Math.log(j === 0 || j === nodes - 1 ? 1 : j % 2 ? 4 : 2);
    max = Math.max(max, lw[j]);
  }
  const mean = new Float64Array(m);
  const second = new Float64Array(m * m);
  let z = 0;
  for (let j = 0; j < nodes; j++) {
    const wj = Math.exp(lw[j] - max);
    z += wj;
    for (let k = 0; k < m; k++) {
      mean[k] += wj * t[j * m + k];
      for (let l = 0; l < m; l++) second[k * m + l] += wj * t[j * m + k] * t[j * m + l];
    }
  }
  for (let k = 0; k < m; k++) mean[k] /= z;
  const cov = second.map((v, q) => v / z - mean[Math.floor(q / m)] * mean[q % m]);
  return { mean, cov };
}

/** Solves A y = b (A symmetric positive definite, m × m) by Gaussian elimination. */
function solve(A: Float64Array, b: Float64Array): Float64Array {
  const m = b.length;
  const M = A.slice();
  const y = b.slice();
  for (let c = 0; c < m; c++) {
    for (let r = c + 1; r < m; r++) {
      const f = M[r * m + c] / M[c * m + c];
      for (let q = c; q < m; q++) M[r * m + q] -= f * M[c * m + q];
      y[r] -= f * y[c];
    }
  }
  for (let r = m - 1; r >= 0; r--) {
    let sum = y[r];
    for (let q = r + 1; q < m; q++) sum -= M[r * m + q] * y[q];
    y[r] = sum / M[r * m + r];
  }
  return y;
}

/**
 * Test objective: the exact likelihood gradient E_data[T] − E_θ[T] (E_θ by quadrature, 1-D), preconditioned
 * by the inverse Fisher information Cov_θ[T] (the Hessian of the negative log-likelihood): with sgd(lr) this
 * is damped Newton (Fisher scoring), whose fixed point is the MLE E_θ[T] = E_data[T].
 */
function quadratureMle(stats: SufficientStatistics): Objective<null> {
  return {
    name: "quadrature_mle",
    init: () => null,
    gradient(_key, _s, model, batch, grad) {
      model.paramGrad(batch.x, batch.n, new Float64Array(batch.n).fill(1 / batch.n), grad);
      const { mean, cov } = modelCov(stats, model.getParams());
      for (let k = 0; k < grad.length; k++) grad[k] -= mean[k];
      grad.set(solve(cov, grad));
    },
    afterUpdate() {},
    diagnostics: () => ({}),
  };
}

/** Mean and sd of each statistic over the data. */
function dataMoments(stats: SufficientStatistics, x: Float64Array, n: number) {
  const m = stats.size;
  const t = new Float64Array(n * m);
  stats.evaluate(x, n, t);
  const mean = new Float64Array(m);
  const sd = new Float64Array(m);
  for (let i = 0; i < n; i++) for (let k = 0; k < m; k++) mean[k] += t[i * m + k] / n;
  for (let i = 0; i < n; i++) for (let k = 0; k < m; k++) sd[k] += (t[i * m + k] - mean[k]) ** 2 / (n - 1);
  for (let k = 0; k < m; k++) sd[k] = Math.sqrt(sd[k]);
  return { mean, sd };
}

describe("ExpFamEnergy: the MLE fixed point E_θ[T] = E_data[T] through the trainer", () => {
  test("quartic family (T = x, x², x³, x⁴) on bimodal data, exact likelihood gradient", () => {
    const n = 2000;
    const s = new Stream(keyFromSeed(21));
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = (s.uniform() < 0.35 ? -1.5 : 1.2) + 0.5 * s.normal();
    const stats = polynomialStatistics(1, 4);
    const model = new ExpFamEnergy(stats, [-0.11, 0.25, 0, 0.01]); // ≈ the moment-matched Gaussian
    const { params } = train({
      model,
      objective: quadratureMle(stats),
      optimizer: sgd(0.25),
      data: { x, n },
      iterations: 150,
      key: keyFromSeed(0),
    });
    const em = modelMoments(stats, params);
    const dm = dataMoments(stats, x, n);
    let worst = 0;
    for (let k = 0; k < 4; k++) {
      const se = dm.sd[k] / Math.sqrt(n);
      worst = Math.max(worst, Math.abs(em[k] - dm.mean[k]) / se);
    }
    console.log(`quartic MLE: max |E_θ[T] − E_data[T]| / SE = ${worst.toExponential(2)}`);
    assert.ok(worst < 1e-6, `gap ${worst} SE`);
    // The fit is bimodal: the learned density has a dip between the modes.
    const u = new Float64Array(3);
    model.energy(Float64Array.from([-1.5, -0.1, 1.2]), 3, u);
    assert.ok(u[1] > u[0] && u[1] > u[2], `U at the modes and between: ${Array.from(u)}`);
  });

  /**
   * CD on N(1, 0.7²) data with plain SGD; returns the z-scores of (path average of E_θ[T]) − (walkers'
   * average of T), and the Polyak-averaged mean and variance with their targets and SEs.
   */
  function cdRun(move: WalkerMove) {
    const n = 2000;
    const x = normals(31, n, 0.7).map((v) => v + 1);
    const stats = polynomialStatistics(1, 2);
    const model = new ExpFamEnergy(stats, [0, 0.5]); // N(0, 1)
    const W = 400;
    const K = 500;
    const burn = 200;
    const lr = 0.2;
    const path: Float64Array[] = [];
    train({
      model,
      objective: contrastiveDivergence({ walkers: W, k: 20, move }),
      optimizer: sgd(lr),
      data: { x, n },
      iterations: K,
      key: keyFromSeed(5),
      onIteration: (_k, p) => path.push(p.slice()),
    });
    const dm = dataMoments(stats, x, n);
    // path[j] = θ_{j+1}. Gradients of iterations burn+1 … K−1 are taken at θ_t = path[t − 1]:
    // Σ g_t = (θ_{burn+1} − θ_K)/lr, so the walkers' average of T is E_data[T] − that/(lr·K2).
    const K2 = K - burn - 1;
    const thA = path[burn];
    const thB = path[K - 1];
    const walkerAvg = dm.mean.map((m, k) => m - (thA[k] - thB[k]) / (lr * K2));
    const modelAvg = new Float64Array(2);
    const sdAvg = new Float64Array(2);
    const thetaBar = new Float64Array(2);
    for (let t = burn; t < K - 1; t++) {
      const mu = -path[t][0] / (2 * path[t][1]);
      const v = 1 / (2 * path[t][1]);
      modelAvg[0] += mu / K2;
      modelAvg[1] += (v + mu * mu) / K2;
      sdAvg[0] += Math.sqrt(v) / K2; // sd of x under N(μ, v)
      sdAvg[1] += Math.sqrt(2 * v * v + 4 * mu * mu * v) / K2; // sd of x²
      thetaBar[0] += path[t][0] / K2;
      thetaBar[1] += path[t][1] / K2;
    }
    const z = [0, 1].map((k) => (modelAvg[k] - walkerAvg[k]) / (sdAvg[k] / Math.sqrt(W * K2)));
    const m1 = dm.mean[0];
    const s2 = dm.mean[1] - m1 * m1; // 1/n-normalised variance
    return {
      z,
      mean: -thetaBar[0] / (2 * thetaBar[1]),
      variance: 1 / (2 * thetaBar[1]),
      dataMean: m1,
      dataVariance: s2,
      seMean: Math.sqrt(s2 / (W * K2)),
      seVariance: s2 * Math.sqrt(2 / (W * K2)),
    };
  }

  test("Gaussian family (T = x, x²) by contrastive divergence with MALA: moments match within MC error", () => {
    const r = cdRun(malaMove(0.4));
    console.log(`CD/MALA: E_θ[T] path average − walkers' average = ${r.z.map((z) => z.toFixed(2))} SE`);
    for (const z of r.z) assert.ok(Math.abs(z) < 4, `E_θ[T] vs walkers: ${z} SE`);
    console.log(
      `CD/MALA: mean ${r.mean.toFixed(4)} vs ${r.dataMean.toFixed(4)} (SE ${r.seMean.toExponential(1)}), ` +
        `variance ${r.variance.toFixed(4)} vs ${r.dataVariance.toFixed(4)} (SE ${r.seVariance.toExponential(1)})`,
    );
    assert.ok(Math.abs(r.mean - r.dataMean) < 4 * r.seMean, `mean ${r.mean} vs ${r.dataMean}`);
    assert.ok(
      Math.abs(r.variance - r.dataVariance) < 4 * r.seVariance,
      `variance ${r.variance} vs ${r.dataVariance}`,
    );
  });

  test("negative control: biased walkers (ULA, h = 0.2) are detected by the same check", () => {
    const r = cdRun(ulaMove(0.2));
    console.log(`CD/ULA: E_θ[T] path average − walkers' average = ${r.z.map((z) => z.toFixed(2))} SE`);
    assert.ok(Math.max(...r.z.map(Math.abs)) > 4, `ULA's bias went unnoticed: ${r.z}`);
  });
});
