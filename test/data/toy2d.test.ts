/**
 * The built-in 2-D data sets (src/data/toy2d.ts): the registry; determinism per key (bit-identical
 * repeats, prefixes, pinned checksums); every set finite and inside [−5, 5]²; component frequencies
 * against the exact weights within 4 binomial standard errors (with a negative control); mog4-unequal's
 * and 8gaussians' moments against the exact mixture moments within 4 Monte-Carlo standard errors; the exact
 * log densities integrate to 1 on a grid within a bound derived from the midpoint rule's aliasing and
 * truncation errors, agree with a histogram of the sampler, and (rings) with a direct angular integral.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TOY2D_NAMES, type Toy2dName, toy2d, isToy2dName } from "../../src/data/toy2d.ts";
import { keyFromSeed } from "../../src/random/key.ts";

/** Standard errors allowed for a Monte-Carlo estimate (fixed seeds; the GUIDE's k·MCSE). */
const K = 4;

function nearest(x: Float64Array, n: number, centres: Float64Array): Int32Array {
  const k = centres.length / 2;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestD = Infinity;
    for (let j = 0; j < k; j++) {
      const d = (x[2 * i] - centres[2 * j]) ** 2 + (x[2 * i + 1] - centres[2 * j + 1]) ** 2;
      if (d < bestD) {
        bestD = d;
        best = j;
      }
    }
    out[i] = best;
  }
  return out;
}

function frequencies(labels: Int32Array, k: number): number[] {
  const f = new Array<number>(k).fill(0);
  for (const c of labels) f[c]++;
  return f.map((v) => v / labels.length);
}

/** Each frequency within K binomial standard errors √(w(1−w)/n) of its weight. */
function assertFrequencies(freq: number[], weights: readonly number[], n: number, what: string): void {
  assert.equal(freq.length, weights.length);
  for (let c = 0; c < weights.length; c++) {
    const se = Math.sqrt((weights[c] * (1 - weights[c])) / n);
    assert.ok(
      Math.abs(freq[c] - weights[c]) <= K * se,
      `${what}: component ${c} frequency ${freq[c]} vs weight ${weights[c]} (SE ${se.toExponential(2)})`,
    );
  }
}

/** FNV-1a over the bytes of a Float64Array: a checksum of a data set's exact bits. */
function fnv1a(x: Float64Array): string {
  const bytes = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

/** Upper bound on P(Z > t) for t > 0 (Mills' ratio): φ(t)/t. */
function normalTailBound(t: number): number {
  return Math.exp(-0.5 * t * t) / (t * Math.sqrt(2 * Math.PI));
}

describe("registry", () => {
  test("eight sets by name; an unknown name is a RangeError listing every valid one", () => {
    assert.deepEqual(
      [...TOY2D_NAMES],
      ["8gaussians", "2spirals", "checkerboard", "rings", "moons", "pinwheel", "swissroll", "mog4-unequal"],
    );
    for (const name of TOY2D_NAMES) {
      const s = toy2d(name);
      assert.equal(s.name, name);
      assert.equal(s.dim, 2);
      assert.ok(isToy2dName(name));
      assert.equal(s.weights.length, s.components);
      assert.ok(Math.abs(s.weights.reduce((a, b) => a + b, 0) - 1) < 1e-15, `${name} weights sum to 1`);
      if (s.centres) assert.equal(s.centres.length, 2 * s.components, `${name} centres`);
    }
    assert.ok(!isToy2dName("toString"));
    assert.ok(!isToy2dName("8Gaussians"));
    assert.throws(
      () => toy2d("8-gaussians"),
      (e: Error) => {
        assert.ok(e instanceof RangeError);
        assert.match(e.message, /unknown data set '8-gaussians'/);
        for (const name of TOY2D_NAMES) assert.ok(e.message.includes(name), `lists ${name}`);
        return true;
      },
    );
    assert.throws(() => toy2d("__proto__"), RangeError);
    assert.throws(
      () => toy2d("moons\n"),
      (e: Error) => /unknown data set 'moons\\x0a'/.test(e.message),
    );
  });

  test("centres are a fresh copy per call", () => {
    const a = toy2d("8gaussians");
    a.centres![0] = 99;
    assert.notEqual(toy2d("8gaussians").centres![0], 99);
  });

  test("exact values: mog4-unequal as specified", () => {
    const s = toy2d("mog4-unequal");
    assert.deepEqual([...s.centres!], [-1.5, 1.5, 1.5, 1.5, 1.5, -1.5, -1.5, -1.5]);
    assert.deepEqual([...s.weights], [0.2, 0.2, 0.3, 0.3]);
  });
});

describe("determinism", () => {
  test("same key, same bits; another key, other data; the first m points of n are the draw of m", () => {
    for (const name of TOY2D_NAMES) {
      const s = toy2d(name);
      const la = new Int32Array(500);
      const a = s.sample(keyFromSeed(7), 500, la);
      assert.equal(a.length, 1000);
      const lb = new Int32Array(500);
      const b = toy2d(name).sample(keyFromSeed(7), 500, lb);
      assert.deepEqual(b, a, `${name}: repeat`);
      assert.deepEqual(lb, la, `${name}: labels repeat`);
      const c = s.sample(keyFromSeed(8), 500);
      assert.notDeepEqual(c, a, `${name}: another seed`);
      const p = s.sample(keyFromSeed(7), 123);
      assert.deepEqual(p, a.subarray(0, 246), `${name}: prefix`);
      for (const l of la) assert.ok(l >= 0 && l < s.components && Number.isInteger(l), `${name}: label ${l}`);
      assert.equal(s.sample(keyFromSeed(7), 0).length, 0);
    }
  });

  test("bad counts and short label buffers are RangeErrors", () => {
    const s = toy2d("moons");
    for (const n of [-1, 1.5, Number.NaN, Infinity])
      assert.throws(() => s.sample(keyFromSeed(1), n), RangeError);
    assert.throws(() => s.sample(keyFromSeed(1), 10, new Int32Array(9)), /labels has length 9/);
  });

  test("pinned checksums of seed 0 (1000 points): the data of a seed never change silently", () => {
    // Computed once with this implementation; portable sin/cos/exp/log make them host-independent. A
    // deliberate change of a generator must update its line here (and say so: old runs change data).
    const expected: Record<Toy2dName, string> = {
      "8gaussians": "aa4636d0",
      "2spirals": "9babc41e",
      checkerboard: "da09756f",
      rings: "3f49858d",
      moons: "67848165",
      pinwheel: "74a1eb95",
      swissroll: "20148274",
      "mog4-unequal": "399660a4",
    };
    const got: Record<string, string> = {};
    for (const name of TOY2D_NAMES) got[name] = fnv1a(toy2d(name).sample(keyFromSeed(0), 1000));
    assert.deepEqual(got, expected);
  });
});

describe("shape and range", () => {
  test("every set: n×2 finite values inside [−5, 5]², and within its extent but for < 0.1%", () => {
    const n = 20000;
    for (const name of TOY2D_NAMES) {
      const s = toy2d(name);
      const x = s.sample(keyFromSeed(11), n);
      assert.equal(x.length, 2 * n);
      const [x0, x1, y0, y1] = s.extent;
      let outside = 0;
      for (let i = 0; i < n; i++) {
        const px = x[2 * i];
        const py = x[2 * i + 1];
        assert.ok(Number.isFinite(px) && Number.isFinite(py), `${name}: point ${i} finite`);
        // The largest tail among the sets: pinwheel beyond radius 5 needs z > 5 (3e−7 per point).
        assert.ok(Math.abs(px) <= 5 && Math.abs(py) <= 5, `${name}: point ${i} (${px}, ${py}) in [−5, 5]²`);
        if (px < x0 || px > x1 || py < y0 || py > y1) outside++;
      }
      assert.ok(outside <= n / 1000, `${name}: ${outside} of ${n} points outside its extent`);
    }
  });
});

describe("component weights", () => {
  const n = 40000;

  test("label frequencies of every set within 4 binomial SEs of its weights", () => {
    for (const name of TOY2D_NAMES) {
      const s = toy2d(name);
      const labels = new Int32Array(n);
      s.sample(keyFromSeed(21), n, labels);
      assertFrequencies(frequencies(labels, s.components), s.weights, n, name);
    }
  });

  test("Voronoi cells of the centres hold the weights (8gaussians, pinwheel, checkerboard, mog4-unequal)", () => {
    for (const name of ["8gaussians", "pinwheel", "checkerboard", "mog4-unequal"] as const) {
      const s = toy2d(name);
      const labels = new Int32Array(n);
      const x = s.sample(keyFromSeed(22), n, labels);
      const cells = nearest(x, n, s.centres!);
      assertFrequencies(frequencies(cells, s.components), s.weights, n, `${name} cells`);
      let agree = 0;
      for (let i = 0; i < n; i++) if (cells[i] === labels[i]) agree++;
      // Exact containment for checkerboard, 6σ margins for mog4-unequal (a miss has probability ~4e−9).
      if (name === "checkerboard" || name === "mog4-unequal") assert.equal(agree, n, `${name}: cell = label`);
    }
  });

  test("negative control: the same test rejects mog4-unequal's weights in the wrong order", () => {
    const labels = new Int32Array(n);
    toy2d("mog4-unequal").sample(keyFromSeed(21), n, labels);
    assert.throws(
      () => assertFrequencies(frequencies(labels, 4), [0.3, 0.3, 0.2, 0.2], n, "swapped"),
      assert.AssertionError,
    );
  });
});

/**
 * Exact mean, sd and fourth central moment per coordinate of an isotropic Gaussian mixture: with d the
 * offset of a component's mean from the mixture mean, E(d + σZ)² = d² + σ², E(d + σZ)⁴ = d⁴ + 6d²σ² + 3σ⁴.
 */
function mixtureMoments(means: number[], weights: readonly number[], sigma: number) {
  const mean = means.reduce((a, m, k) => a + weights[k] * m, 0);
  let v = 0;
  let m4 = 0;
  for (let k = 0; k < means.length; k++) {
    const d = means[k] - mean;
    v += weights[k] * (d * d + sigma * sigma);
    m4 += weights[k] * (d ** 4 + 6 * d * d * sigma * sigma + 3 * sigma ** 4);
  }
  return { mean, sd: Math.sqrt(v), m4 };
}

describe("moments", () => {
  for (const [name, sigma] of [
    ["mog4-unequal", 0.25],
    ["8gaussians", 0.5 / 1.414],
  ] as const) {
    test(`${name}: mean and sd per coordinate, overall and per component, within 4 MC standard errors`, () => {
      const n = 40000;
      const s = toy2d(name);
      const labels = new Int32Array(n);
      const x = s.sample(keyFromSeed(31), n, labels);
      const c = s.centres!;
      for (let a = 0; a < 2; a++) {
        const means = Array.from({ length: s.components }, (_, k) => c[2 * k + a]);
        const truth = mixtureMoments(means, s.weights, sigma);
        let m = 0;
        for (let i = 0; i < n; i++) m += x[2 * i + a];
        m /= n;
        let v = 0;
        for (let i = 0; i < n; i++) v += (x[2 * i + a] - m) ** 2;
        const sd = Math.sqrt(v / (n - 1));
        // SE of the mean σ/√n; of the sd, by the delta method, √((μ₄ − σ⁴)/n) / (2σ).
        const seMean = truth.sd / Math.sqrt(n);
        const seSd = Math.sqrt((truth.m4 - truth.sd ** 4) / n) / (2 * truth.sd);
        assert.ok(Math.abs(m - truth.mean) <= K * seMean, `${name} x${a} mean ${m} vs ${truth.mean}`);
        assert.ok(Math.abs(sd - truth.sd) <= K * seSd, `${name} x${a} sd ${sd} vs ${truth.sd}`);
        // Per component: a Gaussian N(μ_k, σ²): SE σ/√n_k for the mean and σ/√(2(n_k − 1)) for the sd.
        for (let k = 0; k < s.components; k++) {
          let nk = 0;
          let mk = 0;
          for (let i = 0; i < n; i++)
            if (labels[i] === k) {
              nk++;
              mk += x[2 * i + a];
            }
          mk /= nk;
          let vk = 0;
          for (let i = 0; i < n; i++) if (labels[i] === k) vk += (x[2 * i + a] - mk) ** 2;
          const sdk = Math.sqrt(vk / (nk - 1));
          assert.ok(
            Math.abs(mk - means[k]) <= (K * sigma) / Math.sqrt(nk),
            `${name} comp ${k} x${a} mean ${mk}`,
          );
          assert.ok(
            Math.abs(sdk - sigma) <= (K * sigma) / Math.sqrt(2 * (nk - 1)),
            `${name} comp ${k} x${a} sd ${sdk}`,
          );
        }
      }
    });
  }
});

/** Σ exp(logDensity) over the midpoint grid of [lo, hi]² with spacing h, times h² (and the points). */
function gridIntegral(
  f: (x: Float64Array, n: number, out?: Float64Array) => Float64Array,
  lo: number,
  hi: number,
  h: number,
): number {
  const m = Math.round((hi - lo) / h);
  const pts = new Float64Array(2 * m * m);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < m; j++) {
      pts[2 * (i * m + j)] = lo + (i + 0.5) * h;
      pts[2 * (i * m + j) + 1] = lo + (j + 0.5) * h;
    }
  const ld = f(pts, m * m);
  let s = 0;
  for (const v of ld) s += Math.exp(v);
  return s * h * h;
}

/**
 * Error bound of the midpoint rule for a mixture of components each a probability measure blurred by an
 * isotropic Gaussian of sd σ (`reach[k]` = the farthest any unblurred point of component k lies from
 * the origin along an axis): Poisson summation bounds the infinite grid sum's error by the Fourier
 * transform at the nonzero dual lattice points, Σ_{m≠0} exp(−2π²σ²|m|²/h²) (|the blurred measure's
 * transform| ≤ the Gaussian factor); truncating to [−L, L]² loses at most twice the mass outside,
 * Σ_k w_k · 4·P(Z > (L − reach_k)/σ). Plus float rounding of the sum, 1e−11.
 */
function quadratureBound(
  sigma: number,
  h: number,
  L: number,
  reach: number[],
  weights: readonly number[],
): number {
  let aliasing = 0;
  for (let a = -10; a <= 10; a++)
    for (let b = -10; b <= 10; b++)
      if (a !== 0 || b !== 0)
        aliasing += Math.exp((-2 * Math.PI ** 2 * sigma ** 2 * (a * a + b * b)) / (h * h));
  let outside = 0;
  for (let k = 0; k < reach.length; k++) outside += weights[k] * 4 * normalTailBound((L - reach[k]) / sigma);
  return aliasing + 2 * outside + 1e-11;
}

describe("log densities", () => {
  const L = 5;
  const h = 0.05;

  test("only the sets with a closed form have one", () => {
    const withDensity = TOY2D_NAMES.filter((name) => toy2d(name).logDensity !== undefined);
    assert.deepEqual(withDensity, ["8gaussians", "checkerboard", "rings", "mog4-unequal"]);
  });

  test("each integrates to 1 on a 200×200 midpoint grid of [−5, 5]² within the derived bound", () => {
    const cases: { name: Toy2dName; bound: number }[] = [];
    {
      const s = toy2d("8gaussians");
      const c = s.centres!;
      const reach = Array.from({ length: 8 }, (_, k) => Math.max(Math.abs(c[2 * k]), Math.abs(c[2 * k + 1])));
      cases.push({ name: "8gaussians", bound: quadratureBound(0.5 / 1.414, h, L, reach, s.weights) });
    }
    cases.push({
      name: "mog4-unequal",
      bound: quadratureBound(0.25, h, L, [1.5, 1.5, 1.5, 1.5], toy2d("mog4-unequal").weights),
    });
    cases.push({
      name: "rings",
      bound: quadratureBound(0.08, h, L, [3, 2.25, 1.5, 0.75], [0.25, 0.25, 0.25, 0.25]),
    });
    // Piecewise constant with every square edge on a grid line (h divides 2, −5 + 20h = −4): exact but
    // for rounding.
    cases.push({ name: "checkerboard", bound: 1e-11 });
    for (const { name, bound } of cases) {
      const z = gridIntegral(toy2d(name).logDensity!, -L, L, h);
      assert.ok(Math.abs(z - 1) <= bound, `${name}: ∫ = ${z}, |∫ − 1| = ${Math.abs(z - 1)} > ${bound}`);
    }
  });

  test("agree with the sampler: 10×10 cell frequencies vs the density's cell masses within 4.5 binomial SEs", () => {
    const n = 50000;
    const side = 10;
    const hFine = 0.025;
    for (const name of ["8gaussians", "checkerboard", "rings", "mog4-unequal"] as const) {
      const s = toy2d(name);
      const x = s.sample(keyFromSeed(41), n);
      const counts = new Float64Array(side * side);
      let outside = 0;
      for (let i = 0; i < n; i++) {
        const a = Math.floor(x[2 * i] + L);
        const b = Math.floor(x[2 * i + 1] + L);
        if (a < 0 || a >= side || b < 0 || b >= side) outside++;
        else counts[a * side + b]++;
      }
      assert.equal(outside, 0, `${name}: points outside [−5, 5]²`);
      for (let a = 0; a < side; a++)
        for (let b = 0; b < side; b++) {
          // Cell mass by the midpoint rule at hFine and 2·hFine: their difference bounds the error.
          const cell = (hh: number) => {
            const m = Math.round(1 / hh);
            const pts = new Float64Array(2 * m * m);
            for (let i = 0; i < m; i++)
              for (let j = 0; j < m; j++) {
                pts[2 * (i * m + j)] = a - L + (i + 0.5) * hh;
                pts[2 * (i * m + j) + 1] = b - L + (j + 0.5) * hh;
              }
            let t = 0;
            for (const v of s.logDensity!(pts, m * m)) t += Math.exp(v);
            return t * hh * hh;
          };
          const p = cell(hFine);
          const quadErr = Math.abs(cell(2 * hFine) - p);
          const f = counts[a * side + b] / n;
          const tol = 4.5 * Math.sqrt((p * (1 - p)) / n) + quadErr + 1e-12;
          assert.ok(
            Math.abs(f - p) <= tol || (p < 1e-7 && counts[a * side + b] <= 1),
            `${name}: cell [${a - L}, ${a - L + 1}) × [${b - L}, ${b - L + 1}) frequency ${f} vs mass ${p}`,
          );
        }
    }
  });

  test("rings: the Bessel closed form equals a direct angular integral of the blurred circles", () => {
    const s = toy2d("rings");
    const sigma = 0.08;
    const radii = [3, 2.25, 1.5, 0.75];
    const pts = [
      0,
      0,
      3,
      0,
      2.25 * Math.cos(1),
      2.25 * Math.sin(1),
      1.1,
      0.3,
      -0.85,
      0.05,
      0,
      -1.9,
      2.6,
      0.4,
    ];
    const x = Float64Array.from(pts);
    const got = s.logDensity!(x, pts.length / 2);
    const M = 20000;
    for (let i = 0; i < pts.length / 2; i++) {
      let p = 0;
      for (const R of radii) {
        let t = 0;
        for (let j = 0; j < M; j++) {
          const th = (2 * Math.PI * j) / M;
          const d2 = (x[2 * i] - R * Math.cos(th)) ** 2 + (x[2 * i + 1] - R * Math.sin(th)) ** 2;
          t += Math.exp(-d2 / (2 * sigma * sigma));
        }
        p += (0.25 * t) / M / (2 * Math.PI * sigma * sigma);
      }
      assert.ok(
        Math.abs(got[i] - Math.log(p)) < 1e-10,
        `rings at (${x[2 * i]}, ${x[2 * i + 1]}): ${got[i]} vs ${Math.log(p)}`,
      );
    }
  });

  test("checkerboard: −log 32 on the squares, −∞ off them; NaN in, NaN out", () => {
    const f = toy2d("checkerboard").logDensity!;
    const x = Float64Array.of(-3, -3, 0.5, 0.5, 0.5, 2.5, -4.5, 0, 4, 0, Number.NaN, 0);
    const out = f(x, 6);
    assert.ok(Math.abs(out[0] + Math.log(32)) < 1e-15 && out[1] === out[0], `${out[0]}`);
    assert.deepEqual([...out.subarray(2, 5)], [-Infinity, -Infinity, -Infinity]);
    assert.ok(Number.isNaN(out[5]));
    // Every sampled point is on a square.
    const pts = toy2d("checkerboard").sample(keyFromSeed(5), 5000);
    for (const v of f(pts, 5000)) assert.equal(v, out[0]);
  });

  test("Gaussian mixtures: log density at a centre, far away, and NaN", () => {
    const s = toy2d("mog4-unequal");
    const out = s.logDensity!(Float64Array.of(1.5, -1.5, 1e200, 0, Number.NaN, 1), 3);
    // At a centre of weight 0.3 the others are ≥ 3/0.25 = 12 sd away (e^{−72}): log(0.3/(2π·0.0625)).
    assert.ok(Math.abs(out[0] - Math.log(0.3 / (2 * Math.PI * 0.0625))) < 1e-14, `${out[0]}`);
    assert.equal(out[1], -Infinity);
    assert.ok(Number.isNaN(out[2]));
  });
});
