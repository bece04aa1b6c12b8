/**
 * The RKHS critic's pieces (src/divergences/rkhs.ts, src/divergences/newton.ts):
 * 1. Nyström features: z(x)ᵀz(y) reproduces the Gaussian kernel on the landmarks, ‖z(x)‖² ≤ 1 anywhere.
 * 2. Newton on the penalised bound: the returned point is a maximum (no random perturbation improves
 *    it), and the certificate is honest — after one iteration, max J − J (from a converged run) is at most
 *    the reported gap bound, which shrinks to ~0 at convergence. tv (not concave) reports no certificate.
 * 3. The gradient Newton uses against float64 central differences.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { F_DIVERGENCES, KALE_TERMS } from "../../src/divergences/f-divergences.ts";
import {
  fitLinearCritic,
  linearCriticValues,
  penalizedBound,
  penalizedBoundGradient,
} from "../../src/divergences/newton.ts";
import { GaussianLandmarkFeatures } from "../../src/divergences/rkhs.ts";
import { keyFromSeed, normal } from "../../src/random/key.ts";
import { assertClose, centralDiff } from "../helpers.ts";

const dim = 2;

function points(seed: number, n: number, shift: number): Float64Array {
  const x = normal(keyFromSeed(seed), new Float64Array(n * dim));
  for (let i = 0; i < n; i++) x[i * dim] += shift;
  return x;
}

test("Nyström features reproduce the kernel on the landmarks and are bounded", () => {
  const pool = points(1, 60, 0);
  const sigma = 0.9;
  const f = GaussianLandmarkFeatures.fromPool(pool, 60, dim, 25, sigma, keyFromSeed(2), 1e-10);
  assert.equal(f.m, 25);
  const zl = f.map(f.landmarks, 25);
  for (let i = 0; i < 25; i++)
    for (let j = 0; j < 25; j++) {
      let dot = 0;
      let d2 = 0;
      for (let k = 0; k < 25; k++) dot += zl[i * 25 + k] * zl[j * 25 + k];
      for (let a = 0; a < dim; a++) d2 += (f.landmarks[i * dim + a] - f.landmarks[j * dim + a]) ** 2;
      assertClose(dot, Math.exp(-d2 / (2 * sigma * sigma)), 1e-6, 0, `z(l${i})·z(l${j})`);
    }
  const x = points(3, 200, 0.5).map((v) => 3 * v);
  const z = f.map(x, 200);
  for (let i = 0; i < 200; i++) {
    let s = 0;
    for (let k = 0; k < 25; k++) s += z[i * 25 + k] ** 2;
    assert.ok(s <= 1 + 1e-6, `‖z(x)‖² = ${s}`);
  }
  // More landmarks than points: all of them.
  assert.equal(GaussianLandmarkFeatures.fromPool(pool, 60, dim, 500, sigma, keyFromSeed(2)).m, 60);
});

function problem(kind: "kl" | "js" | "tv" | "kale", lambda: number) {
  const nP = 300;
  const nQ = 250;
  const xp = points(4, nP, 0);
  const xq = points(5, nQ, 1);
  const pool = new Float64Array((nP + nQ) * dim);
  pool.set(xp);
  pool.set(xq, nP * dim);
  const f = GaussianLandmarkFeatures.fromPool(pool, nP + nQ, dim, 40, 1, keyFromSeed(6));
  const terms = kind === "kale" ? KALE_TERMS : F_DIVERGENCES[kind];
  return { zP: f.map(xp, nP), nP, zQ: f.map(xq, nQ), nQ, m: f.m, bias: true, lambda, terms };
}

/** J from its definition, independently of the solver's code. */
function objective(pr: ReturnType<typeof problem>, theta: Float64Array): number {
  const vP = linearCriticValues(theta, pr.zP, pr.nP, pr.m, true);
  const vQ = linearCriticValues(theta, pr.zQ, pr.nQ, pr.m, true);
  let j = 0;
  for (const v of vP) j += pr.terms.a(v) / pr.nP;
  for (const v of vQ) j -= pr.terms.b(v) / pr.nQ;
  for (let k = 0; k < pr.m; k++) j -= 0.5 * pr.lambda * theta[k] ** 2;
  return j;
}

test("Newton reaches the maximum and its gap certificate is honest", () => {
  for (const kind of ["kl", "js", "kale"] as const)
    for (const lambda of [0.1, 1e-3]) {
      const pr = problem(kind, lambda);
      const full = fitLinearCritic(pr);
      assert.ok(full.report.converged, `${kind} λ=${lambda}: ${JSON.stringify(full.report)}`);
      assert.ok(
        full.report.gapBound !== null && full.report.gapBound < 1e-12,
        `${kind}: gap ${full.report.gapBound}`,
      );
      assertClose(objective(pr, full.theta), full.report.objective, 1e-12, 1e-12, "reported objective");
      // No perturbation improves the maximum.
      const z = normal(keyFromSeed(9), new Float64Array(full.theta.length * 20));
      for (let r = 0; r < 20; r++) {
        const t = full.theta.map((v, k) => v + 1e-3 * z[r * full.theta.length + k]);
        assert.ok(objective(pr, t) <= full.report.objective + 1e-14, `${kind}: perturbation ${r} improves`);
      }
      // One iteration from the start: the certificate bounds the true remaining gap.
      const one = fitLinearCritic(pr, { maxIter: 1 });
      const gap = full.report.objective - one.report.objective;
      assert.ok(one.report.gapBound !== null, "certificate after one iteration");
      assert.ok(
        gap >= -1e-14 && gap <= one.report.gapBound! * (1 + 1e-9) + 1e-15,
        `${kind} λ=${lambda}: gap ${gap} vs bound ${one.report.gapBound}`,
      );
    }
});

test("tv: a stationary point, no certificate", () => {
  const pr = problem("tv", 0.01);
  const fit = fitLinearCritic(pr);
  assert.equal(fit.report.gapBound, null);
  assert.ok(fit.report.converged && fit.report.gradNorm < 1e-6, JSON.stringify(fit.report));
  assert.ok(fit.report.objective > 0);
});

test("the gradient Newton follows, against central differences", () => {
  for (const kind of ["kl", "js", "tv", "kale"] as const) {
    const pr = problem(kind, 0.05);
    const theta = new Float64Array(pr.m + 1).map((_, k) => 0.3 * Math.sin(k + 1));
    const vP = new Float64Array(pr.nP);
    const vQ = new Float64Array(pr.nQ);
    penalizedBound(pr, theta, vP, vQ);
    const g = new Float64Array(theta.length);
    penalizedBoundGradient(pr, theta, vP, vQ, g);
    for (const k of [0, 7, 19, pr.m - 1, pr.m]) {
      const fd = centralDiff(() => penalizedBound(pr, theta), theta, k, 1e-5);
      assertClose(g[k], fd, 1e-9, 1e-6, `${kind}: ∂J/∂θ[${k}]`);
    }
  }
});
