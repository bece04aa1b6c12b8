/**
 * The f-divergence catalogue (src/divergences/f-divergences.ts) and the Gaussian truths
 * (src/divergences/gaussian.ts), without fitting anything:
 * 1. φ*(t) against a numerical sup_{u ≥ 0} (t·u − φ(u)) inside the domain, and the sup growing without
 *    bound outside it; the activation lands in the domain; b = φ* ∘ g; derivatives of a and b against
 *    central differences; Fenchel–Young r·a(v) − b(v) ≤ φ(r), with equality at the optimal critic.
 * 2. Closed forms against the quadrature (1-D and correlated 2-D), TV against 2Φ(Δ/2) − 1 for equal
 *    covariances, known values (the smoothie pair, disjoint limits of JS and TV).
 * 3. The bound at the optimal critic v° = g⁻¹(φ'(p/q)) on samples equals the truth within 3 SE for every
 *    kind (1-D and 2-D), and its CLT standard error is calibrated: over 200 seeds the truth falls within
 *    two reported SE about 95% of the time.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  boundFromCritic,
  F_DIVERGENCE_KINDS,
  F_DIVERGENCES,
  fDivergence,
  KALE_TERMS,
} from "../../src/divergences/f-divergences.ts";
import { gaussianFDivergence, gaussianLogRatio } from "../../src/divergences/gaussian.ts";
import { assertClose } from "../helpers.ts";
import { gaussianSample, PAIR_1D, PAIR_2D } from "./samples.ts";

/** max of the concave h on [0, hi] by golden-section search. */
function concaveMax(h: (u: number) => number, hi: number): number {
  const g = (Math.sqrt(5) - 1) / 2;
  let a = 0;
  let b = hi;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let hc = h(c);
  let hd = h(d);
  for (let it = 0; it < 300; it++) {
    if (hc >= hd) {
      b = d;
      d = c;
      hd = hc;
      c = b - g * (b - a);
      hc = h(c);
    } else {
      a = c;
      c = d;
      hc = hd;
      d = a + g * (b - a);
      hd = h(d);
    }
  }
  return Math.max(hc, hd, h(0));
}

const INSIDE: Record<string, number[]> = {
  kl: [-3, -1, 0, 0.5, 1, 2],
  rkl: [-5, -2, -1, -0.5, -0.2],
  js: [-3, -1, 0, 0.1, 0.25],
  chi2: [-4, -2.5, -1, 0, 1, 3],
  hellinger: [-3, -1, 0, 0.3, 0.7],
  tv: [-2, -0.5, -0.2, 0, 0.3, 0.5],
};
const OUTSIDE: Record<string, number[]> = {
  rkl: [0.05, 1],
  js: [0.4, 1],
  hellinger: [1.1, 2],
  tv: [0.55, 1],
};

describe("φ and φ*", () => {
  for (const kind of F_DIVERGENCE_KINDS) {
    const f = F_DIVERGENCES[kind];
    test(`${kind}: φ(1) = 0 and φ* = sup_u (t·u − φ(u)) inside the domain`, () => {
      assert.ok(f.phi(1) === 0, `φ(1) = ${f.phi(1)}`);
      for (const t of INSIDE[kind]) {
        const numeric = concaveMax((u) => t * u - f.phi(u), 1e4);
        assertClose(f.conjugate(t), numeric, 1e-7, 1e-7, `φ*(${t})`);
      }
    });
    test(`${kind}: outside the domain φ* = ∞ and the sup grows without bound`, () => {
      for (const t of OUTSIDE[kind] ?? []) {
        assert.equal(f.conjugate(t), Infinity, `φ*(${t})`);
        const small = concaveMax((u) => t * u - f.phi(u), 1e3);
        const large = concaveMax((u) => t * u - f.phi(u), 1e6);
        assert.ok(large > small + 10, `${kind} t=${t}: sup on [0, 1e6] ${large} vs [0, 1e3] ${small}`);
      }
      assert.equal(f.domainSup === Infinity, OUTSIDE[kind] === undefined);
    });
    test(`${kind}: g(ℝ) ⊂ dom φ*, b = φ*∘g, derivatives, Fenchel–Young`, () => {
      for (let v = -8; v <= 8; v += 0.37) {
        const g = f.activation(v);
        assert.ok(g < f.domainSup || (f.domainClosed && g <= f.domainSup), `g(${v}) = ${g} in the domain`);
        assertClose(f.a(v), g, 1e-12, 1e-12, `a(${v})`);
        assertClose(f.b(v), f.conjugate(g), 1e-10, 1e-10, `b(${v}) = φ*(g(${v}))`);
        const h = 1e-5;
        assertClose(f.da(v), (f.a(v + h) - f.a(v - h)) / (2 * h), 1e-7, 1e-6, `a'(${v})`);
        assertClose(f.db(v), (f.b(v + h) - f.b(v - h)) / (2 * h), 1e-7, 1e-6, `b'(${v})`);
        assertClose(f.d2a(v), (f.da(v + h) - f.da(v - h)) / (2 * h), 1e-6, 1e-5, `a''(${v})`);
        if (kind !== "chi2" || Math.abs(v + 2) > 1e-3)
          assertClose(f.d2b(v), (f.db(v + h) - f.db(v - h)) / (2 * h), 1e-6, 1e-5, `b''(${v})`);
        for (const r of [0.05, 0.5, 1, 1.7, 9])
          assert.ok(r * f.a(v) - f.b(v) <= f.phi(r) + 1e-12, `Fenchel–Young at v=${v}, r=${r}`);
      }
      for (const r of [0.05, 0.5, 1, 1.7, 9]) {
        const v = f.optimalCritic(Math.log(r));
        assertClose(r * f.a(v) - f.b(v), f.phi(r), 1e-12, 1e-9, `equality at the optimal critic, r=${r}`);
      }
      // At P = Q the neutral critic is optimal and the bound is 0.
      assertClose(f.a(f.neutral) - f.b(f.neutral), 0, 1e-15, 0, "bound at the neutral critic");
    });
  }

  test("concavity flags: a concave, b convex for all but tv", () => {
    for (const kind of F_DIVERGENCE_KINDS) {
      const f = F_DIVERGENCES[kind];
      let ok = true;
      for (let v = -10; v <= 10; v += 0.1) ok &&= f.d2a(v) <= 0 && f.d2b(v) >= 0;
      assert.equal(ok, f.concave, kind);
    }
  });

  test("KALE's integrands are the KL bound's, shifted by one", () => {
    for (let v = -5; v <= 5; v += 0.5) {
      assertClose(KALE_TERMS.a(v), F_DIVERGENCES.kl.a(v + 1), 1e-15, 0, `a(${v})`);
      assertClose(KALE_TERMS.b(v), F_DIVERGENCES.kl.b(v + 1), 0, 1e-15, `b(${v})`);
    }
    assert.throws(() => fDivergence("bogus"), /unknown f-divergence 'bogus'/);
  });
});

describe("Gaussian truths", () => {
  const corr2d = {
    p: { mean: [0.2, -0.1], cov: [1, 0.4, 0.4, 0.8] },
    q: { mean: [0.9, 0.3], cov: [1.6, -0.2, -0.2, 1.1] },
  };
  test("closed forms agree with the quadrature (1-D and correlated 2-D)", () => {
    for (const pair of [PAIR_1D, corr2d])
      for (const kind of ["kl", "rkl", "chi2", "hellinger"] as const) {
        const closed = gaussianFDivergence(kind, pair.p, pair.q);
        const quad = gaussianFDivergence(kind, pair.p, pair.q, { method: "quadrature" });
        assertClose(closed, quad, 1e-6, 1e-6, `${kind} ${pair.p.mean.length}-D`);
      }
  });

  test("known values: KL of the smoothie pair, χ² of a shift, TV for equal covariances", () => {
    const n01 = { mean: [0], cov: [1] };
    const n04 = { mean: [0], cov: [4] };
    assertClose(
      gaussianFDivergence("kl", n01, n04),
      Math.log(2) + 1 / 8 - 1 / 2,
      1e-14,
      0,
      "KL(N(0,1)‖N(0,4))",
    );
    assertClose(
      gaussianFDivergence("rkl", n01, n04),
      -Math.log(2) + 2 - 1 / 2,
      1e-14,
      0,
      "KL(N(0,4)‖N(0,1))",
    );
    assertClose(
      gaussianFDivergence("chi2", n01, { mean: [1], cov: [1] }),
      Math.E - 1,
      1e-13,
      0,
      "χ² shift 1",
    );
    assert.equal(gaussianFDivergence("chi2", n04, n01), Infinity, "χ²(N(0,4)‖N(0,1)) = ∞");
    // Equal covariances: TV = 2Φ(Δ/2) − 1 = erf(Δ/(2√2)), Δ the Mahalanobis distance.
    const erf = (x: number) => {
      // Abramowitz–Stegun 7.1.26 is too coarse; integrate e^{−t²} by Simpson instead.
      const n = 20000;
      let s = 0;
      for (let i = 0; i <= n; i++) {
        const t = (x * i) / n;
        s += (i === 0 || i === n ? 1 : i % 2 ? 4 : 2) * Math.exp(-t * t);
      }
      return ((2 / Math.sqrt(Math.PI)) * s * x) / (3 * n);
    };
    const p = { mean: [0, 0], cov: [1, 0.5, 0.5, 2] };
    const q = { mean: [1, -0.5], cov: [1, 0.5, 0.5, 2] };
    const inv = [2 / 1.75, -0.5 / 1.75, -0.5 / 1.75, 1 / 1.75];
    const delta = Math.sqrt(inv[0] * 1 + 2 * inv[1] * 1 * -0.5 + inv[3] * 0.25);
    assertClose(gaussianFDivergence("tv", p, q), erf(delta / (2 * Math.SQRT2)), 1e-4, 0, "TV 2-D");
    assertClose(
      gaussianFDivergence("tv", n01, { mean: [1], cov: [1] }),
      erf(1 / (2 * Math.SQRT2)),
      1e-6,
      0,
      "TV 1-D",
    );
    // Far apart: JS → log 2, TV → 1, H² → 2.
    const far = { mean: [40], cov: [1] };
    assertClose(gaussianFDivergence("js", n01, far), Math.log(2), 1e-9, 0, "JS of far-apart Gaussians");
    assertClose(gaussianFDivergence("tv", n01, far), 1, 1e-9, 0, "TV of far-apart Gaussians");
    assertClose(gaussianFDivergence("hellinger", n01, far), 2, 1e-12, 0, "H² of far-apart Gaussians");
  });
});

describe("the bound at the optimal critic", () => {
  for (const [name, pair] of [
    ["1-D", PAIR_1D],
    ["2-D", PAIR_2D],
  ] as const)
    test(`${name}: every kind within 3 SE of the truth`, () => {
      const n = 4000;
      const xp = gaussianSample(pair.p, n, 11);
      const xq = gaussianSample(pair.q, n, 12);
      const lrP = gaussianLogRatio(pair.p, pair.q, xp.x, n);
      const lrQ = gaussianLogRatio(pair.p, pair.q, xq.x, n);
      for (const kind of F_DIVERGENCE_KINDS) {
        const f = F_DIVERGENCES[kind];
        const truth = gaussianFDivergence(kind, pair.p, pair.q);
        const b = boundFromCritic(f, lrP.map(f.optimalCritic), lrQ.map(f.optimalCritic));
        assert.ok(
          Math.abs(b.value - truth) <= 3 * b.stderr,
          `${kind} ${name}: ${b.value} ± ${b.stderr} vs ${truth}`,
        );
      }
    });

  test("the CLT standard error is calibrated (coverage of ±2 SE over 200 seeds)", () => {
    for (const kind of ["kl", "js", "hellinger"] as const) {
      const f = F_DIVERGENCES[kind];
      const truth = gaussianFDivergence(kind, PAIR_1D.p, PAIR_1D.q);
      let inside = 0;
      const reps = 200;
      for (let r = 0; r < reps; r++) {
        const n = 300;
        const xp = gaussianSample(PAIR_1D.p, n, 1000 + 2 * r);
        const xq = gaussianSample(PAIR_1D.q, n, 1001 + 2 * r);
        const vP = gaussianLogRatio(PAIR_1D.p, PAIR_1D.q, xp.x, n).map(f.optimalCritic);
        const vQ = gaussianLogRatio(PAIR_1D.p, PAIR_1D.q, xq.x, n).map(f.optimalCritic);
        const b = boundFromCritic(f, vP, vQ);
        if (Math.abs(b.value - truth) <= 2 * b.stderr) inside++;
      }
      // 95% ± 3 binomial SDs (1.5%).
      assert.ok(inside / reps >= 0.9 && inside / reps <= 0.995, `${kind}: coverage ${inside / reps}`);
    }
  });
});
