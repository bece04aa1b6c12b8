/**
 * RealNVP (src/flows/realnvp.ts), float64, fixed seeds, random (non-identity) parameters:
 * 1. T⁻¹(T(z)) = z and log|det ∂T⁻¹/∂x| = −log|det ∂T/∂z|, d = 2 and d = 5: to 1e-12·(1 + |z|), about 10⁴
 *    ulps (measured: 1.3e-15).
 * 2. log|det ∂T/∂z| against the log-determinant of a central-difference Jacobian (h = 1e-5, LU with
 *    pivoting), d = 2, 3, 5. FD error per entry ≈ h²|T'''|/6 + ε|T|/h ≈ 1e-10; tolerance 1e-7 (measured
 *    ≤ 1e-10), far below what a wrong term would give (O(0.1)).
 * 3. q integrates to 1: Z_window = ∫_window q by midpoint quadrature equals 1 − P(X ∉ window), with P from
 *    the flow's own samples: within 4 binomial SEs plus the quadrature error indicator.
 * 4. ∂θ Σ w_i log q(x_i) (weights of both signs) and ∇ₓ log q against central differences (h = 1e-5),
 *    every parameter, d = 2 and 3: |FD error| ≈ h²|f'''|/6 + ε|f|/h ≲ 1e-9; tolerance 1e-7 + 1e-6·|FD|.
 * 5. sample's log q equals logProb at its draws; same key, same bits. FlowEnergy is −log q with log Z = 0.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { gridEvaluate } from "../../src/eval/grid.ts";
import { FlowEnergy } from "../../src/flows/flow.ts";
import { createRealNvp, RealNvp, realNvpNumParams, type RealNvpSpec } from "../../src/flows/realnvp.ts";
import { keyFromSeed, normal } from "../../src/random/key.ts";
import { assertClose, centralDiff, checkInputGradient } from "../helpers.ts";

function randomFlow(spec: RealNvpSpec, seed: number): RealNvp {
  return createRealNvp(spec, keyFromSeed(seed));
}

/** log |det A| of a d×d row-major matrix by LU with partial pivoting. */
function logAbsDet(a: Float64Array, d: number): number {
  const m = a.slice();
  let s = 0;
  for (let k = 0; k < d; k++) {
    let p = k;
    for (let r = k + 1; r < d; r++) if (Math.abs(m[r * d + k]) > Math.abs(m[p * d + k])) p = r;
    for (let c = 0; c < d && p !== k; c++) [m[k * d + c], m[p * d + c]] = [m[p * d + c], m[k * d + c]];
    s += Math.log(Math.abs(m[k * d + k]));
    for (let r = k + 1; r < d; r++) {
      const f = m[r * d + k] / m[k * d + k];
      for (let c = k; c < d; c++) m[r * d + c] -= f * m[k * d + c];
    }
  }
  return s;
}

describe("RealNVP: the map", () => {
  test("parameter count and spec checks", () => {
    const spec = { dim: 3, couplings: 2, hidden: [4] };
    // masks [1,0,1] and [0,1,0]: networks 2→4→2 and 1→4→4, plus μ, σ.
    assert.equal(realNvpNumParams(spec), 2 * 4 + 4 + 4 * 2 + 2 + (1 * 4 + 4 + 4 * 4 + 4) + 6);
    assert.equal(new RealNvp(spec).numParams, realNvpNumParams(spec));
    assert.throws(() => new RealNvp({ dim: 1, couplings: 2, hidden: [4] }), RangeError);
    assert.throws(() => new RealNvp({ dim: 2, couplings: 1, hidden: [4], masks: [[1, 1]] }), RangeError);
    assert.throws(() => new RealNvp({ dim: 2, couplings: 2, hidden: [] }), RangeError);
  });

  test("zero parameters give the identity and log q = log N(0, I)", () => {
    const f = new RealNvp({ dim: 2, couplings: 4, hidden: [8] });
    const z = Float64Array.from([0.3, -1.2, 2, 0.5]);
    const x = new Float64Array(4);
    const ld = new Float64Array(2);
    f.forward(z, 2, x, ld);
    assert.deepEqual(Array.from(x), Array.from(z));
    assert.deepEqual(Array.from(ld), [0, 0]);
    const lq = new Float64Array(2);
    f.logProb(z, 2, lq);
    assertClose(lq[0], -0.5 * (0.09 + 1.44) - Math.log(2 * Math.PI), 1e-15, 0, "log q");
  });

  for (const d of [2, 5]) {
    test(`T⁻¹(T(z)) = z and the log-dets are opposite, d = ${d}`, () => {
      const f = randomFlow({ dim: d, couplings: 6, hidden: [16, 16] }, 1);
      const n = 500;
      const z = normal(keyFromSeed(2), new Float64Array(n * d));
      const x = new Float64Array(n * d);
      const ldF = new Float64Array(n);
      f.forward(z, n, x, ldF);
      const back = new Float64Array(n * d);
      const ldI = new Float64Array(n);
      f.inverse(x, n, back, ldI);
      let worst = 0;
      let moved = 0;
      for (let k = 0; k < n * d; k++) {
        worst = Math.max(worst, Math.abs(back[k] - z[k]) / (1 + Math.abs(z[k])));
        moved = Math.max(moved, Math.abs(x[k] - z[k]));
      }
      let ldWorst = 0;
      for (let i = 0; i < n; i++) ldWorst = Math.max(ldWorst, Math.abs(ldF[i] + ldI[i]));
      console.log(
        `  d = ${d}: max |T⁻¹(T(z)) − z| ${worst.toExponential(1)}, log-det ${ldWorst.toExponential(1)}`,
      );
      assert.ok(moved > 0.5, "the random flow is far from the identity");
      assert.ok(worst < 1e-12 && ldWorst < 1e-12);
    });
  }

  for (const d of [2, 3, 5]) {
    test(`log |det ∂T/∂z| against a finite-difference Jacobian, d = ${d}`, () => {
      const f = randomFlow({ dim: d, couplings: 5, hidden: [12, 12], scaleBound: 1.5 }, 3 + d);
      const n = 20;
      const z = normal(keyFromSeed(4), new Float64Array(n * d));
      const ld = new Float64Array(n);
      f.forward(z, n, new Float64Array(n * d), ld);
      const h = 1e-5;
      const up = new Float64Array(d);
      const down = new Float64Array(d);
      let worst = 0;
      let spread = 0;
      for (let i = 0; i < n; i++) {
        const zi = z.slice(i * d, (i + 1) * d);
        const jac = new Float64Array(d * d);
        for (let a = 0; a < d; a++) {
          zi[a] += h;
          f.forward(zi, 1, up);
          zi[a] -= 2 * h;
          f.forward(zi, 1, down);
          zi[a] += h;
          for (let b = 0; b < d; b++) jac[b * d + a] = (up[b] - down[b]) / (2 * h);
        }
        worst = Math.max(worst, Math.abs(logAbsDet(jac, d) - ld[i]));
        spread = Math.max(spread, Math.abs(ld[i] - ld[0]));
      }
      console.log(
        `  d = ${d}: max |log-det − FD| ${worst.toExponential(1)} (log-dets spread ${spread.toFixed(2)})`,
      );
      assert.ok(spread > 0.1, "the Jacobian varies with z");
      assert.ok(worst < 1e-7, `log-det off by ${worst}`);
    });
  }

  test("q integrates to 1: quadrature on a window against the samples outside it", () => {
    const f = randomFlow({ dim: 2, couplings: 6, hidden: [16, 16] }, 1);
    const window = { xmin: -7, xmax: 7, ymin: -7, ymax: 7 };
    const g = gridEvaluate((x, n, out) => f.logProb(x, n, out), { ...window, n: 240 });
    const m = 20000;
    const { x } = f.sample(keyFromSeed(5), m);
    let outside = 0;
    for (let j = 0; j < m; j++) {
      const a = x[2 * j];
      const b = x[2 * j + 1];
      if (a < window.xmin || a > window.xmax || b < window.ymin || b > window.ymax) outside++;
    }
    const p = outside / m;
    // Binomial SE, floored at the SE of one count so that p̂ = 0 still gets an honest bound.
    const se = Math.sqrt((Math.max(p, 1 / m) * (1 - p)) / m);
    const zWindow = Math.exp(g.logZ);
    const tol = 4 * se + zWindow * g.logZError;
    console.log(
      `  ∫_window q = ${zWindow.toFixed(7)} (quadrature indicator ${g.logZError.toExponential(1)}), ` +
        `1 − P̂(outside) = ${(1 - p).toFixed(5)} ± ${se.toExponential(1)}; edge mass ${g.edgeMass.toExponential(1)}`,
    );
    assert.ok(Math.abs(zWindow - (1 - p)) <= tol, `∫ q = ${zWindow}, expected ${1 - p} ± ${tol}`);
  });
});

describe("RealNVP: gradients and sampling", () => {
  for (const d of [2, 3]) {
    test(`∂θ Σ w_i log q(x_i) and ∇ₓ log q against central differences, d = ${d}`, () => {
      const f = randomFlow({ dim: d, couplings: 3, hidden: [6, 5], scaleBound: 1.5 }, 10 + d);
      const theta = f.getParams();
      for (let k = theta.length - 2 * d; k < theta.length; k++) theta[k] = 0.2 * Math.sin(k); // μ, σ ≠ 0
      f.setParams(theta);
      const n = 4;
      const x = normal(keyFromSeed(20 + d), new Float64Array(n * d));
      const w = Float64Array.from([0.7, -0.3, 1.1, 0.25]);
      const grad = new Float64Array(f.numParams);
      const total = f.logProbParamGrad(x, n, w, grad);
      const lq = new Float64Array(n);
      const objective = () => {
        f.setParams(theta);
        f.logProb(x, n, lq);
        return lq.reduce((s, v, i) => s + w[i] * v, 0);
      };
      assertClose(total, objective(), 1e-12, 1e-12, "Σ w log q");
      let worst = 0;
      for (let k = 0; k < f.numParams; k++) {
        const fd = centralDiff(objective, theta, k, 1e-5);
        worst = Math.max(worst, Math.abs(grad[k] - fd) / (1e-7 + 1e-6 * Math.abs(fd)));
        assertClose(grad[k], fd, 1e-7, 1e-6, `∂θ[${k}]`);
      }
      f.setParams(theta);
      console.log(`  d = ${d}: ${f.numParams} parameters, worst |error| / tolerance ${worst.toFixed(3)}`);
      checkInputGradient(new FlowEnergy(f), x, n, { eps: 1e-5, atol: 1e-7, rtol: 1e-6 });
    });
  }

  test("sample: log q at the draws, reproducible from the key", () => {
    const f = randomFlow({ dim: 3, couplings: 4, hidden: [8] }, 30);
    const a = f.sample(keyFromSeed(31), 200);
    const b = f.sample(keyFromSeed(31), 200);
    assert.deepEqual(a.x, b.x);
    assert.deepEqual(a.logq, b.logq);
    const lq = new Float64Array(200);
    f.logProb(a.x, 200, lq);
    for (let i = 0; i < 200; i++) assertClose(lq[i], a.logq[i], 1e-12, 1e-12, `log q[${i}]`);
  });

  test("FlowEnergy: U = −log q, log Z = 0, paramGrad = −∂θ log q, exact samples", () => {
    const f = randomFlow({ dim: 2, couplings: 2, hidden: [5] }, 40);
    const e = new FlowEnergy(f);
    assert.equal(e.logZ(), 0);
    assert.equal(e.numParams, f.numParams);
    const x = normal(keyFromSeed(41), new Float64Array(6));
    const u = new Float64Array(3);
    const lq = new Float64Array(3);
    e.energy(x, 3, u);
    f.logProb(x, 3, lq);
    assert.deepEqual(
      Array.from(u),
      Array.from(lq, (v) => -v),
    );
    const w = Float64Array.from([0.2, 0.5, 0.3]);
    const gE = new Float64Array(e.numParams);
    const gF = new Float64Array(f.numParams);
    e.paramGrad(x, 3, w, gE);
    f.logProbParamGrad(x, 3, w, gF);
    assert.deepEqual(
      Array.from(gE),
      Array.from(gF, (v) => -v),
    );
    const out = new Float64Array(8);
    e.sampleExact(keyFromSeed(42), 4, out);
    assert.deepEqual(out, f.sample(keyFromSeed(42), 4).x);
  });
});
