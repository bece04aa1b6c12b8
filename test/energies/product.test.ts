/**
 * Products of experts (src/energies/product.ts): θ layout over trainable and frozen experts, which
 * capabilities appear, every derivative against float64 central differences (analytic experts), the exact
 * score-matching objective with its cross terms, the same with an MLP expert (float32), and training
 * through the library's trainer.
 *
 * Tolerances: analytic experts are float64, h = 1e-5 on polynomials: 1e-6·(1 + |FD|) (as
 * test/energies/expfam.test.ts). With an MLP expert (float32 inside, U rounding δ ≈ 1e-6), the J gradient
 * by central differences of J with h = 1e-2 errs by ≲ 1e-4 + 2e-5·|J‴| (test/energies/mlp.test.ts):
 * tolerance 5e-4 + 2e-3·|FD|.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isScoreMatchable } from "../../src/energies/contract.ts";
import {
  ExpFamEnergy,
  polynomialStatistics,
  quadraticStatistics,
  concatStatistics,
  radialStatistics,
} from "../../src/energies/expfam.ts";
import { GaussianEnergy } from "../../src/energies/gaussian.ts";
import { createMlpEnergy } from "../../src/energies/mlp.ts";
import { productOfExperts } from "../../src/energies/product.ts";
import { isDirectionalParamGrad, isScoreParamGrad } from "../../src/energies/score-grad.ts";
import { scoreMatching } from "../../src/objectives/score-matching.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";
import { adam } from "../../src/train/optim.ts";
import { train } from "../../src/train/trainer.ts";
import { assertClose, centralDiff, checkInputGradient } from "../helpers.ts";

function normals(seed: number, n: number, scale = 1): Float64Array {
  return new Stream(keyFromSeed(seed)).fillNormal(new Float64Array(n), 0, scale) as Float64Array;
}

const H = 1e-5;
const TOL = 1e-6;

describe("product of experts: layout and capabilities", () => {
  test("θ is the trainable experts' θ concatenated; frozen experts keep theirs", () => {
    const a = new ExpFamEnergy(polynomialStatistics(2, 2), [0, 0.5, 0, 0.5]);
    const b = new ExpFamEnergy(quadraticStatistics(2), [0.1, 0.2, 0.3, 0.1, 0.4]);
    const c = new ExpFamEnergy(polynomialStatistics(2, 4), [0, 0, 0, 0.1, 0, 0, 0, 0.1]);
    const p = productOfExperts([a, { energy: b, frozen: true }, c]);
    assert.equal(p.numParams, 4 + 8);
    assert.deepEqual(Array.from(p.getParams()), [...a.getParams(), ...c.getParams()]);
    const theta = Float64Array.from({ length: 12 }, (_, k) => k / 10);
    p.setParams(theta);
    assert.deepEqual(Array.from(a.getParams()), [0, 0.1, 0.2, 0.3]);
    assert.deepEqual(Array.from(c.getParams()), Array.from(theta.subarray(4)));
    assert.deepEqual(Array.from(b.getParams()), [0.1, 0.2, 0.3, 0.1, 0.4]);
    assert.ok(p.isTrainable(0) && !p.isTrainable(1) && p.isTrainable(2));
    assert.ok(isScoreParamGrad(p) && isDirectionalParamGrad(p) && isScoreMatchable(p));
  });

  test("capabilities need the experts' capabilities", () => {
    const g = GaussianEnergy.isotropic([0, 0], 1); // frozen, no score capabilities
    const e = new ExpFamEnergy(quadraticStatistics(2), [0, 0, 0.5, 0, 0.5]);
    const p = productOfExperts([g, e]);
    assert.equal(p.numParams, 5);
    assert.ok(isScoreParamGrad(p), "only trainable experts need scoreParamGrad");
    assert.ok(!isDirectionalParamGrad(p), "a frozen expert's curvature is needed too");
    assert.ok(!isScoreMatchable(p));
    assert.throws(() => productOfExperts([g, GaussianEnergy.isotropic([0], 1)]), /same dim/);
    assert.throws(() => productOfExperts([]), /at least one/);
  });
});

describe("product of experts: derivatives (analytic experts, float64)", () => {
  test("U, ∇ₓU, paramGrad, scoreParamGrad, directionalParamGrad and exact J with cross terms", () => {
    const e1 = new ExpFamEnergy(polynomialStatistics(2, 4), normals(1, 8, 0.3).map(Math.abs));
    const e2 = new ExpFamEnergy(quadraticStatistics(2), [0.2, -0.1, 0.6, 0.2, 0.5]);
    const e3 = new ExpFamEnergy(
      concatStatistics(polynomialStatistics(2, 3), quadraticStatistics(2)),
      normals(2, 11, 0.3),
    );
    const p = productOfExperts([e1, { energy: e2, frozen: true }, e3]);
    const n = 5;
    const d = 2;
    const x = normals(3, n * d, 1.1);
    const v = normals(4, n * d);
    const r = normals(5, n * d);
    const w = normals(6, n).map((t) => 0.1 + Math.abs(t));
    const a = normals(7, n);
    const b = normals(8, n);
    checkInputGradient(p, x, n, { eps: H, atol: TOL, rtol: TOL });
    const th = p.getParams();
    const P = p.numParams;
    const u = new Float64Array(n);
    const g = new Float64Array(n * d);
    const curv = new Float64Array(n);
    const scratch = new Float64Array(P);
    const at = (f: () => number) => () => {
      p.setParams(th);
      return f();
    };
    const fns = {
      paramGrad: () => {
        p.energy(x, n, u);
        return u.reduce((s, ui, i) => s + w[i] * ui, 0);
      },
      scoreParamGrad: () => {
        p.energyAndGrad(x, n, u, g);
        return g.reduce((s, gi, q) => s + r[q] * gi, 0);
      },
      directionalParamGrad: () => {
        p.energyAndGrad(x, n, u, g);
        p.directionalParamGrad!(x, v, n, a, b, scratch, curv);
        let s = 0;
        for (let i = 0; i < n; i++) {
          let sv = 0;
          for (let k = 0; k < d; k++) sv += v[i * d + k] * g[i * d + k];
          s += a[i] * sv + b[i] * curv[i];
        }
        return s;
      },
      scoreMatching: () => p.scoreMatching!(x, n, w, scratch),
    };
    p.setParams(th);
    const got = {
      paramGrad: new Float64Array(P),
      scoreParamGrad: new Float64Array(P),
      directionalParamGrad: new Float64Array(P),
      scoreMatching: new Float64Array(P),
    };
    p.paramGrad(x, n, w, got.paramGrad);
    p.scoreParamGrad!(x, n, r, got.scoreParamGrad);
    const kappa = new Float64Array(n);
    p.directionalParamGrad!(x, v, n, a, b, got.directionalParamGrad, kappa);
    const J = p.scoreMatching!(x, n, w, got.scoreMatching);
    for (const [name, f] of Object.entries(fns))
      for (let k = 0; k < P; k++)
        assertClose(
          got[name as keyof typeof got][k],
          centralDiff(at(f), th, k, H),
          TOL,
          TOL,
          `${name}[${k}]`,
        );
    p.setParams(th);
    // κ and J against differences of the product's own gradient (so the cross terms are included).
    const xi = new Float64Array(d);
    const gi = new Float64Array(d);
    const ui = new Float64Array(1);
    const gradAt = (q: Float64Array) => {
      p.energyAndGrad(q, 1, ui, gi);
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
      assertClose(kappa[i], (slope(H) - slope(-H)) / (2 * H), TOL, TOL, `κ[${i}]`);
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
      jRef += w[i] * (0.5 * (g0[0] ** 2 + g0[1] ** 2) - lap);
    }
    assertClose(J, jRef, TOL, TOL, "J of the product");
  });
});

describe("product of experts: an MLP expert", () => {
  test("exact J and ∂θJ of MLP × frozen Gaussian family against central differences (float32 model)", async () => {
    const mlp = await createMlpEnergy(
      { inputDim: 2, hidden: [8], activation: "tanh", confinement: 0.1 },
      keyFromSeed(4),
    );
    try {
      const prior = new ExpFamEnergy(quadraticStatistics(2), [0.3, -0.2, 0.5, 0.2, 0.4]);
      const p = productOfExperts([mlp, { energy: prior, frozen: true }]);
      assert.ok(isScoreMatchable(p) && isScoreParamGrad(p) && isDirectionalParamGrad(p));
      assert.equal(p.numParams, mlp.numParams);
      const n = 6;
      const x = normals(9, n * 2);
      const w = new Float64Array(n).fill(1 / n);
      const th = p.getParams();
      const out = new Float64Array(p.numParams);
      const J = p.scoreMatching!(x, n, w, out);
      // J = J_mlp + J_prior + Σ w g_mlp·g_prior (the cross term).
      const scratch = new Float64Array(p.numParams);
      const jm = mlp.scoreMatching(x, n, w, scratch);
      const jp = prior.scoreMatching(x, n, w, new Float64Array(prior.numParams));
      const gm = new Float64Array(n * 2);
      const gp = new Float64Array(n * 2);
      const u = new Float64Array(n);
      mlp.energyAndGrad(x, n, u, gm);
      prior.energyAndGrad(x, n, u, gp);
      let cross = 0;
      for (let q = 0; q < n * 2; q++) cross += w[q >> 1] * gm[q] * gp[q];
      assertClose(J, jm + jp + cross, 1e-9, 1e-9, "J = J₁ + J₂ + Σ w g₁·g₂");
      const h = 1e-2;
      for (let k = 0; k < p.numParams; k++) {
        const fd = centralDiff(
          () => {
            p.setParams(th);
            return p.scoreMatching!(x, n, w, scratch);
          },
          th,
          k,
          h,
        );
        assertClose(out[k], fd, 5e-4, 2e-3, `∂θJ[${k}]`);
      }
    } finally {
      mlp.dispose();
    }
  });
});

describe("product of experts: training", () => {
  test("exact score matching of (trainable Gaussian family) × (frozen Gaussian family) recovers θ* − θ_frozen", () => {
    // U = (θ + θ_f)·T: score matching's minimiser for the sum is θ* (scoreMatchingSolution), so the
    // trainable part must converge to θ* − θ_f — only if the product's J includes the cross terms.
    const n = 400;
    const x = new Float64Array(n * 2);
    new GaussianEnergy([1, -1], [1, 0.3, 0.3, 0.6]).sampleExact(keyFromSeed(11), n, x);
    const frozenTheta = [0.2, -0.3, 0.25, 0.1, 0.25];
    const frozen = new ExpFamEnergy(quadraticStatistics(2), frozenTheta);
    const trainable = new ExpFamEnergy(quadraticStatistics(2), [0, 0, 0.25, 0, 0.25]);
    const p = productOfExperts([trainable, { energy: frozen, frozen: true }]);
    const { params } = train({
      model: p,
      objective: scoreMatching(),
      optimizer: adam(0.05),
      data: { x, n },
      iterations: 1500,
      key: keyFromSeed(0),
    });
    const star = new ExpFamEnergy(quadraticStatistics(2), frozenTheta).scoreMatchingSolution(x, n);
    for (let k = 0; k < 5; k++) assertClose(params[k], star[k] - frozenTheta[k], 1e-6, 1e-6, `θ[${k}]`);
  });
});

describe("product of experts: a trainable confinement (MLP + radial expert)", () => {
  test("U = MLP(x) + ½λ|x|² with λ the last parameter; score matching learns λ = d·n / Σ|x|² on Gaussian data", async () => {
    // An MLP with all parameters 0 is the constant 0, so the product is exactly ½λ|x|², whose score-matching
    // minimiser on points x_i is λ* = d / mean|x|² (J = ½λ²·mean|x|² − λd). The MLP is trainable here too: its
    // gradient is then a float32 quantity, so λ is compared to 1e-4 relative.
    const mlp = await createMlpEnergy({ inputDim: 2, hidden: [8], activation: "silu" }, keyFromSeed(5));
    try {
      mlp.setParams(new Float64Array(mlp.numParams));
      const radial = new ExpFamEnergy(radialStatistics(2), [1]);
      const p = productOfExperts([{ energy: mlp, frozen: true }, radial]);
      assert.equal(p.numParams, 1);
      const n = 2000;
      const x = normals(11, n * 2, 0.5);
      // ∂λU = ½|x|², exactly (float64 expert).
      const g = new Float64Array(1);
      const w = new Float64Array(n).fill(1 / n);
      p.paramGrad(x, n, w, g);
      let r2 = 0;
      for (let q = 0; q < n * 2; q++) r2 += x[q] * x[q];
      assertClose(g[0], (0.5 * r2) / n, 1e-12, 1e-12, "∂λ Σ w U");
      const { params } = train({
        model: p,
        objective: scoreMatching(),
        optimizer: adam(0.05),
        data: { x, n },
        iterations: 1500,
        key: keyFromSeed(0),
      });
      const star = (2 * n) / r2;
      assertClose(params[0], star, 1e-4 * star, 0, "λ");
      // With σ = 0.5 the minimiser is near 1/σ² = 4 (sampling error of mean|x|²: ≈ 1/√n relative).
      assert.ok(Math.abs(star - 4) < 4 * (4 / Math.sqrt(n)), `λ* = ${star}`);
      // The trainable MLP + radial expert: θ = (φ, λ), the MLP's parameters first.
      const both = productOfExperts([mlp, radial]);
      assert.equal(both.numParams, mlp.numParams + 1);
      const gb = new Float64Array(both.numParams);
      both.paramGrad(x, n, w, gb);
      assertClose(gb[mlp.numParams], (0.5 * r2) / n, 1e-12, 1e-12, "∂λ in the product with a trainable MLP");
    } finally {
      mlp.dispose();
    }
  });
});
