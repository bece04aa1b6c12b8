/**
 * AIS log Z of the float32 RBM against exact enumeration on a 10 × 6 RBM whose weights matter
 * (W, b, c ~ N(0, 1): log Z is far from the independent-units value Σ softplus(b) + Σ softplus(c)).
 *
 * Ẑ = Z₀·mean(w) is unbiased for Z, so over R independent runs (keys foldIn(key, r)) the ratios
 * ρ_r = Ẑ_r / Z have mean 1: the test asserts |mean ρ − 1| < 5 SE with SE = sample sd(ρ) / √R. In log
 * space the mean of log Ẑ_r sits below log Z by the Jensen bias ≈ Var(log Ẑ)/2; the test asserts
 * |mean log Ẑ − log Z| < 5·sd(log Ẑ)/√R + Var(log Ẑ) (twice the second-order bias), and that the
 * spread is small enough (sd < 0.1) for both checks to have power.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { logSumExp } from "../../src/math/logspace.ts";
import { foldIn, keyFromSeed } from "../../src/random/key.ts";
import { ais, baseLogZ, exactLogZ, independentUnitsLogZ, linearBetas } from "../../src/rbm/ais.ts";
import { RbmWorkspace } from "../../src/rbm/kernels.ts";
import { Rbm } from "../../src/energies/rbm.ts";
import { assertClose } from "../helpers.ts";
import { jointTable } from "./helpers.ts";

describe("AIS log Z vs exact enumeration (10 × 6, weights ~ N(0, 1))", () => {
  const model = Rbm.random(keyFromSeed(401), 10, 6, 1);
  const exact = exactLogZ(model);

  test("the reference values", () => {
    assertClose(exact, jointTable(model).logZ, 1e-10, 1e-12, "exact log Z vs the full joint");
    assert.ok(Math.abs(exact - independentUnitsLogZ(model)) > 1, "weights too small to matter");
    let b = 6 * Math.LN2;
    for (let i = 0; i < 10; i++) b += Math.log1p(Math.exp(model.b[i]));
    assertClose(baseLogZ(model), b, 1e-12, 1e-12, "log Z₀");
  });

  test("16 independent runs (100 chains, 300 betas): unbiased in Z, close in log Z", () => {
    const R = 16;
    const ws = new RbmWorkspace();
    const logZ = new Float64Array(R);
    for (let r = 0; r < R; r++) {
      const res = ais(model, foldIn(keyFromSeed(402), r), { betas: 300, chains: 100, workspace: ws });
      logZ[r] = res.logZ;
      assertClose(res.logZ, res.logZBase + logSumExp(res.logWeights) - Math.log(100), 1e-12, 1e-12, "log Ẑ");
      assert.ok(res.ess >= 1 && res.ess <= 100, `ESS ${res.ess}`);
    }
    const ratios = logZ.map((l) => Math.exp(l - exact));
    const mr = ratios.reduce((a, b) => a + b, 0) / R;
    const sr = Math.sqrt(ratios.reduce((a, x) => a + (x - mr) ** 2, 0) / (R - 1));
    assert.ok(Math.abs(mr - 1) < (5 * sr) / Math.sqrt(R), `mean Ẑ/Z = ${mr} ± ${sr / Math.sqrt(R)}`);
    const ml = logZ.reduce((a, b) => a + b, 0) / R;
    const sl = Math.sqrt(logZ.reduce((a, x) => a + (x - ml) ** 2, 0) / (R - 1));
    assert.ok(sl > 0 && sl < 0.1, `sd of log Ẑ = ${sl}`);
    const tol = (5 * sl) / Math.sqrt(R) + sl * sl;
    assert.ok(Math.abs(ml - exact) < tol, `mean log Ẑ = ${ml} vs ${exact} (tolerance ${tol}, sd ${sl})`);
  });

  test("schedules: linear betas, explicit schedules, and invalid ones", () => {
    assert.deepEqual([...linearBetas(5)], [0, 0.25, 0.5, 0.75, 1]);
    const a = ais(model, keyFromSeed(403), { betas: 40, chains: 5 });
    const b = ais(model, keyFromSeed(403), { betas: linearBetas(40), chains: 5 });
    assert.deepEqual([...a.logWeights], [...b.logWeights]);
    assert.throws(() => ais(model, keyFromSeed(0), { betas: [0, 0.5] }), RangeError);
    assert.throws(() => ais(model, keyFromSeed(0), { betas: [0, 0.6, 0.5, 1] }), RangeError);
  });
});
