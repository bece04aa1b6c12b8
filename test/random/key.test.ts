/**
 * Tests for splittable keys and xoshiro128** streams.
 *
 * Statistical checks use fixed seeds. Every tolerance is K_SD Monte-Carlo standard errors, with the
 * standard error derived in a comment next to the check; with K_SD = 5 a correct generator fails a given
 * check with probability ≈ 6e-7, and the seeds are fixed, so the outcome is deterministic anyway.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  foldIn,
  type Key,
  keyFromSeed,
  normal,
  Stream,
  split,
  uniform,
  ZIGGURAT_R,
} from "../../src/random/key.ts";

const K_SD = 5;

function u32s(k: Key, n: number): number[] {
  const s = new Stream(k);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(s.nextU32());
  return out;
}

function keyId(k: Key): string {
  return `${k.hi}:${k.lo}`;
}

/** Standard normal CDF via erfc (Abramowitz & Stegun 7.1.26, |error| ≤ 1.5e-7, far below any tolerance here). */
function phi(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erfc = poly * Math.exp(-x * x);
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** Sample mean and central moments m2, m3, m4 (two-pass). */
function moments(x: Float64Array): { mean: number; m2: number; m3: number; m4: number } {
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i];
  mean /= x.length;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i] - mean;
    const d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
  }
  return { mean, m2: m2 / x.length, m3: m3 / x.length, m4: m4 / x.length };
}

function correlation(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** Kolmogorov–Smirnov statistic D = sup |F_n − F| of a sample against a continuous CDF. */
function ksStatistic(sample: Float64Array, cdf: (x: number) => number): number {
  const x = Float64Array.from(sample).sort();
  const n = x.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(x[i]);
    d = Math.max(d, (i + 1) / n - f, f - i / n);
  }
  return d;
}

describe("keys", () => {
  test("keyFromSeed is deterministic and returns frozen uint32 words", () => {
    for (const seed of [0, 1, -1, 2 ** 40, 12345.678, -(2 ** 45) - 3, Number.MAX_SAFE_INTEGER]) {
      const a = keyFromSeed(seed);
      const b = keyFromSeed(seed);
      assert.deepEqual(a, b);
      assert.ok(Object.isFrozen(a));
      for (const w of [a.hi, a.lo]) assert.ok(Number.isInteger(w) && w >= 0 && w < 2 ** 32, `word ${w}`);
      assert.deepEqual(u32s(a, 64), u32s(b, 64));
    }
  });

  test("keyFromSeed rejects NaN and ±Infinity with RangeError", () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      assert.throws(() => keyFromSeed(bad), RangeError);
    }
  });

  test("non-integer seeds are truncated toward zero", () => {
    assert.deepEqual(keyFromSeed(1.9), keyFromSeed(1));
    assert.deepEqual(keyFromSeed(-1.9), keyFromSeed(-1));
    assert.deepEqual(keyFromSeed(-0.5), keyFromSeed(0));
    assert.deepEqual(keyFromSeed(-0), keyFromSeed(0));
    assert.deepEqual(keyFromSeed(2 ** 40 + 0.25), keyFromSeed(2 ** 40));
  });

  test("distinct seeds give distinct keys and distinct streams (incl. 0, 1, −1, 2^32, 2^40, negatives)", () => {
    // The seed → (hi, lo) map is injective on integers in (−2^53, 2^53) and every mixing step is a
    // bijection, so no two of these may collide.
    const seeds = [0, 1, -1, 2, -2, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 40, 2 ** 40 + 1, -(2 ** 40)];
    for (let s = 3; s < 2000; s++) seeds.push(s, -s);
    const keys = new Set<string>();
    const firstWords = new Set<string>();
    for (const s of seeds) {
      const k = keyFromSeed(s);
      keys.add(keyId(k));
      firstWords.add(u32s(k, 4).join(","));
    }
    assert.equal(keys.size, seeds.length);
    assert.equal(firstWords.size, seeds.length);
  });

  test("split is deterministic, prefix-consistent, and its children are distinct from each other and the parent", () => {
    const k = keyFromSeed(7);
    const a = split(k, 1000);
    assert.deepEqual(a, split(k, 1000));
    assert.deepEqual(split(k, 3), a.slice(0, 3));
    assert.deepEqual(split(k), a.slice(0, 2));
    assert.equal(split(k, 0).length, 0);
    const ids = new Set(a.map(keyId));
    ids.add(keyId(k));
    assert.equal(ids.size, 1001);
    // Grandchildren too (a collision here would mean split(split(k)[i])[j] reuses a stream).
    const grand = new Set<string>();
    for (const c of a.slice(0, 50)) for (const g of split(c, 50)) grand.add(keyId(g));
    for (const id of ids) grand.add(id);
    assert.equal(grand.size, 50 * 50 + 1001);
    // Children's streams differ from each other and from the parent's.
    const streams = new Set([k, ...a.slice(0, 20)].map((c) => u32s(c, 4).join(",")));
    assert.equal(streams.size, 21);
  });

  test("foldIn is deterministic, distinct across data values, and distinct from split children", () => {
    const k = keyFromSeed(11);
    assert.deepEqual(foldIn(k, 5), foldIn(k, 5));
    const ids = new Set<string>();
    for (let i = 0; i < 1000; i++) ids.add(keyId(foldIn(k, i)));
    assert.equal(ids.size, 1000);
    for (const c of split(k, 1000)) ids.add(keyId(c));
    ids.add(keyId(k));
    assert.equal(ids.size, 2001);
    assert.notDeepEqual(u32s(foldIn(k, 0), 8), u32s(foldIn(k, 1), 8));
    assert.notDeepEqual(u32s(foldIn(k, 3), 8), u32s(foldIn(keyFromSeed(12), 3), 8));
  });
});

describe("Stream", () => {
  test("matches the xoshiro128** reference implementation", () => {
    // Reference vector from the C implementation (prng.di.unimi.it/xoshiro128starstar.c), as used by
    // edorfaus/xoshiro-6502 test data: state words and the first four outputs of xoshiro128**.
    const s = new Stream(keyFromSeed(0));
    const state = (s as unknown as { s: Int32Array }).s;
    state.set([0x964d4a0c, 0xd40ab895, 0xad7fdecb, 0x3006f0f0]);
    const got = [s.nextU32(), s.nextU32(), s.nextU32(), s.nextU32()];
    assert.deepEqual(got, [0xf1391922, 0x6fe53806, 0xa5be2840, 0xf510ee70]);
    assert.deepEqual(
      Array.from(state, (w) => w >>> 0),
      [0xfc65379c, 0x52006d70, 0x87487639, 0xf1908343],
    );
  });

  test("same key gives bit-identical streams for every draw method", () => {
    const k = keyFromSeed(2024);
    const a = new Stream(k);
    const b = new Stream(k);
    for (let i = 0; i < 2000; i++) {
      assert.equal(a.nextU32(), b.nextU32());
      assert.ok(Object.is(a.uniform(), b.uniform()));
      assert.ok(Object.is(a.uniformOpen(), b.uniformOpen()));
      assert.ok(Object.is(a.normal(), b.normal()));
      assert.equal(a.integer(7), b.integer(7));
    }
    assert.deepEqual(uniform(k, new Float64Array(100)), new Stream(k).fillUniform(new Float64Array(100)));
    assert.deepEqual(normal(k, new Float64Array(101)), new Stream(k).fillNormal(new Float64Array(101)));
  });

  test("nextU32 returns uint32 and each of the 32 bits is set half the time", () => {
    // Over N draws, the count of ones in bit b ~ Binomial(N, 1/2): sd = sqrt(N/4). We allow 5 sd.
    const N = 200_000;
    const s = new Stream(keyFromSeed(3));
    const ones = new Array<number>(32).fill(0);
    for (let i = 0; i < N; i++) {
      const r = s.nextU32();
      assert.ok(Number.isInteger(r) && r >= 0 && r < 2 ** 32);
      for (let b = 0; b < 32; b++) ones[b] += (r >>> b) & 1;
    }
    const sd = Math.sqrt(N / 4);
    for (let b = 0; b < 32; b++) assert.ok(Math.abs(ones[b] - N / 2) < K_SD * sd, `bit ${b}: ${ones[b]}`);
  });

  test("uniform is in [0,1) and uniformOpen in (0,1), on random draws and at the extreme generator outputs", () => {
    const s = new Stream(keyFromSeed(4));
    let outside = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const u = s.uniform();
      const v = s.uniformOpen();
      if (!(u >= 0 && u < 1) || !(v > 0 && v < 1)) outside++;
    }
    assert.equal(outside, 0);
    const f32 = uniform(keyFromSeed(4), new Float32Array(1_000_000));
    assert.ok(f32.every((u) => u >= 0 && u < 1));
    // The extremes: a generator returning only all-ones words (resp. all-zero words) produces the
    // largest (resp. smallest) value each method can ever return.
    class AllOnes extends Stream {
      override nextU32(): number {
        return 0xffffffff;
      }
    }
    class AllZeros extends Stream {
      override nextU32(): number {
        return 0;
      }
    }
    const hi = new AllOnes(keyFromSeed(0));
    const lo = new AllZeros(keyFromSeed(0));
    assert.equal(hi.uniform(), 1 - 2 ** -53);
    assert.equal(lo.uniform(), 0);
    const top = hi.uniformOpen();
    assert.ok(top < 1, `uniformOpen can return ${top}`);
    assert.ok(-Math.log(top) > 0);
    const bottom = lo.uniformOpen();
    assert.ok(bottom > 0 && Number.isFinite(Math.log(bottom)));
    // Single precision: the largest double draw rounds to 1 in a Float32Array unless kept below it.
    const top32 = hi.fillUniform(new Float32Array(2))[0];
    assert.ok(top32 < 1, `fillUniform(Float32Array) can return ${top32}`);
    assert.equal(lo.fillUniform(new Float32Array(2))[0], 0);
  });

  test("uniform uses all 53 bits: the lowest mantissa bit is set half the time", () => {
    // count ~ Binomial(N, 1/2): sd = sqrt(N/4); 5 sd.
    const N = 200_000;
    const s = new Stream(keyFromSeed(5));
    let odd = 0;
    for (let i = 0; i < N; i++) odd += (s.uniform() * 2 ** 53) % 2;
    assert.ok(Math.abs(odd - N / 2) < K_SD * Math.sqrt(N / 4), `odd ${odd}`);
  });

  test("uniform moments: mean 1/2, variance 1/12 (10^6 draws)", () => {
    const N = 1_000_000;
    const x = uniform(keyFromSeed(6), new Float64Array(N));
    const { mean, m2 } = moments(x);
    // SE(mean) = sqrt(Var U / N) = sqrt(1/(12 N)).
    assert.ok(Math.abs(mean - 0.5) < K_SD * Math.sqrt(1 / 12 / N), `mean ${mean}`);
    // Sample variance ≈ mean of (U − 1/2)²; Var((U − 1/2)²) = E(U − 1/2)^4 − (1/12)² = 1/80 − 1/144 = 1/180,
    // so SE = sqrt(1/(180 N)) (the O(1/N) bias from estimating the mean is negligible).
    assert.ok(Math.abs(m2 - 1 / 12) < K_SD * Math.sqrt(1 / 180 / N), `var ${m2}`);
  });

  test("uniform passes a Kolmogorov–Smirnov test against U(0,1)", () => {
    // n = 10^5; asymptotic KS critical value at α = 0.001 is 1.949/sqrt(n).
    const n = 100_000;
    const d = ksStatistic(uniform(keyFromSeed(8), new Float64Array(n)), (x) => x);
    assert.ok(d < 1.949 / Math.sqrt(n), `D = ${d}`);
  });

  test("normal moments: mean 0, variance 1, skewness 0, kurtosis 3 (10^6 draws)", () => {
    const N = 1_000_000;
    const x = normal(keyFromSeed(9), new Float64Array(N));
    const { mean, m2, m3, m4 } = moments(x);
    // SE(mean) = 1/sqrt(N); SE(var) = sqrt(Var Z² / N) = sqrt(2/N).
    assert.ok(Math.abs(mean) < K_SD / Math.sqrt(N), `mean ${mean}`);
    assert.ok(Math.abs(m2 - 1) < K_SD * Math.sqrt(2 / N), `var ${m2}`);
    // Under normality the sample skewness and kurtosis are asymptotically normal with
    // SE = sqrt(6/N) and sqrt(24/N) (from E Z^6 = 15 and E Z^8 = 105 by the delta method).
    const skew = m3 / m2 ** 1.5;
    const kurt = m4 / (m2 * m2);
    assert.ok(Math.abs(skew) < K_SD * Math.sqrt(6 / N), `skew ${skew}`);
    assert.ok(Math.abs(kurt - 3) < K_SD * Math.sqrt(24 / N), `kurtosis ${kurt}`);
  });

  test("successive draws are uncorrelated (lags 1–3)", () => {
    // Under independence the lag-ℓ sample correlation has SE ≈ 1/sqrt(n). We allow 5 SE. For normals,
    // lag 1 pairs the two variates of one polar Box–Muller step (even i) and neighbouring steps (odd i);
    // both sub-series are checked, plus the correlation of squares, which catches dependent magnitudes.
    const n = 400_000;
    const u = uniform(keyFromSeed(22), new Float64Array(n + 3));
    const z = normal(keyFromSeed(23), new Float64Array(n + 3));
    for (const lag of [1, 2, 3]) {
      const ru = correlation(u.subarray(0, n), u.subarray(lag, n + lag));
      const rz = correlation(z.subarray(0, n), z.subarray(lag, n + lag));
      assert.ok(Math.abs(ru) < K_SD / Math.sqrt(n), `uniform lag ${lag}: ${ru}`);
      assert.ok(Math.abs(rz) < K_SD / Math.sqrt(n), `normal lag ${lag}: ${rz}`);
    }
    const half = n / 2;
    const first = new Float64Array(half);
    const second = new Float64Array(half);
    for (let i = 0; i < half; i++) {
      first[i] = z[2 * i];
      second[i] = z[2 * i + 1];
    }
    const rPair = correlation(first, second);
    const rSq = correlation(
      first.map((v) => v * v),
      second.map((v) => v * v),
    );
    assert.ok(Math.abs(rPair) < K_SD / Math.sqrt(half), `within-pair corr ${rPair}`);
    assert.ok(Math.abs(rSq) < K_SD / Math.sqrt(half), `within-pair corr of squares ${rSq}`);
  });

  test("normal CDF matches Φ at fixed quantiles and in a full KS test", () => {
    const N = 1_000_000;
    const x = normal(keyFromSeed(10), new Float64Array(N));
    // Φ at the check points (exact to 15 digits).
    const points: [number, number][] = [
      [-3, 0.00134989803163],
      [-2, 0.022750131948179],
      [-1, 0.158655253931457],
      [-0.5, 0.308537538725987],
      [0, 0.5],
      [0.5, 0.691462461274013],
      [1, 0.841344746068543],
      [2, 0.977249868051821],
      [3, 0.99865010196837],
    ];
    for (const [z, p] of points) {
      assert.ok(Math.abs(phi(z) - p) < 2e-7, "reference Φ");
      let below = 0;
      for (let i = 0; i < N; i++) if (x[i] <= z) below++;
      // #{x ≤ z} ~ Binomial(N, Φ(z)): SE of the empirical CDF = sqrt(Φ(1 − Φ)/N).
      const se = Math.sqrt((p * (1 - p)) / N);
      assert.ok(Math.abs(below / N - p) < K_SD * se, `F(${z}) = ${below / N}, Φ = ${p}`);
    }
    // Full KS on the first 10^5 draws; critical value at α = 0.001 is 1.949/sqrt(n).
    const n = 100_000;
    const d = ksStatistic(x.subarray(0, n), phi);
    assert.ok(d < 1.949 / Math.sqrt(n), `D = ${d}`);
  });

  test("integer(7) is uniform on {0..6} (chi-square)", () => {
    // Pearson X² with 7 cells has 6 df under H0; the α = 0.001 critical value of χ²_6 is 22.458.
    const n = 7;
    const N = 700_000;
    const s = new Stream(keyFromSeed(13));
    const counts = new Array<number>(n).fill(0);
    for (let i = 0; i < N; i++) {
      const r = s.integer(n);
      assert.ok(Number.isInteger(r) && r >= 0 && r < n);
      counts[r]++;
    }
    const e = N / n;
    const x2 = counts.reduce((acc, c) => acc + (c - e) ** 2 / e, 0);
    assert.ok(x2 < 22.458, `X² = ${x2}, counts ${counts}`);
  });

  test("integer(n) has no modulo bias where naive r % n would be grossly biased", () => {
    // For n = 3·2^30, 2^32 mod n = 2^30, so naive `r % n` would put probability 1/2 (not 1/3) on the
    // first third [0, 2^30). Bin draws by thirds; X² with 3 cells has 2 df; χ²_2 critical value at
    // α = 0.001 is 13.816. (Naive reduction would give X² ≈ N/4 ≈ 15000 here.)
    const n = 3 * 2 ** 30;
    const N = 60_000;
    const s = new Stream(keyFromSeed(14));
    const counts = [0, 0, 0];
    for (let i = 0; i < N; i++) {
      const r = s.integer(n);
      assert.ok(Number.isInteger(r) && r >= 0 && r < n);
      counts[Math.floor(r / 2 ** 30)]++;
    }
    const e = N / 3;
    const x2 = counts.reduce((acc, c) => acc + (c - e) ** 2 / e, 0);
    assert.ok(x2 < 13.816, `X² = ${x2}, counts ${counts}`);
  });

  test("integer edge cases: n = 1, n = 2^32, n ≤ 0 throws", () => {
    const s = new Stream(keyFromSeed(15));
    for (let i = 0; i < 100; i++) assert.equal(s.integer(1), 0);
    const t = new Stream(keyFromSeed(15));
    const ref = new Stream(keyFromSeed(15));
    for (let i = 0; i < 100; i++) assert.equal(t.integer(2 ** 32), ref.nextU32());
    assert.throws(() => s.integer(0), RangeError);
    assert.throws(() => s.integer(-3), RangeError);
  });

  test("sibling split streams are uncorrelated", () => {
    // Under independence the sample correlation of n pairs has SE ≈ 1/sqrt(n). We allow 5 SE.
    const n = 200_000;
    const kids = split(keyFromSeed(16), 4);
    const draws = kids.map((c) => uniform(c, new Float64Array(n)));
    for (let i = 0; i < kids.length; i++)
      for (let j = i + 1; j < kids.length; j++) {
        const r = correlation(draws[i], draws[j]);
        assert.ok(Math.abs(r) < K_SD / Math.sqrt(n), `corr(${i},${j}) = ${r}`);
      }
    // The same across consecutive seeds and consecutive foldIn values.
    const base = keyFromSeed(17);
    const pairs: [Key, Key][] = [
      [keyFromSeed(0), keyFromSeed(1)],
      [foldIn(base, 0), foldIn(base, 1)],
      [base, split(base)[0]],
    ];
    for (const [a, b] of pairs) {
      const r = correlation(uniform(a, new Float64Array(n)), uniform(b, new Float64Array(n)));
      assert.ok(Math.abs(r) < K_SD / Math.sqrt(n), `corr = ${r}`);
    }
  });

  test("first draws across many sibling keys are uniform and uncorrelated between neighbours", () => {
    // One key per walker, a few draws each, is the common usage: this checks the key derivation itself.
    const n = 100_000;
    for (const [name, keyAt] of [
      [
        "split",
        (() => {
          const kids = split(keyFromSeed(18), n + 1);
          return (i: number) => kids[i];
        })(),
      ],
      ["foldIn", (i: number) => foldIn(keyFromSeed(19), i)],
    ] as [string, (i: number) => Key][]) {
      const first = new Float64Array(n + 1);
      const second = new Float64Array(n + 1);
      for (let i = 0; i <= n; i++) {
        const s = new Stream(keyAt(i));
        first[i] = s.uniform();
        second[i] = s.uniform();
      }
      // SE of a correlation ≈ 1/sqrt(n); KS critical value at α = 0.001 is 1.949/sqrt(n).
      const rNeighbour = correlation(first.subarray(0, n), first.subarray(1));
      const rWithin = correlation(first, second);
      assert.ok(Math.abs(rNeighbour) < K_SD / Math.sqrt(n), `${name}: neighbour corr ${rNeighbour}`);
      assert.ok(Math.abs(rWithin) < K_SD / Math.sqrt(n), `${name}: within-stream corr ${rWithin}`);
      const d = ksStatistic(first, (x) => x);
      assert.ok(d < 1.949 / Math.sqrt(n), `${name}: D = ${d}`);
    }
  });

  test("fillNormal with mean and std, into Float64Array and Float32Array", () => {
    const k = keyFromSeed(20);
    const mu = 3;
    const sigma = 2;
    const x = new Stream(k).fillNormal(new Float64Array(200_001), mu, sigma);
    // Exactly mean + std · (the standard normal sequence of the same key).
    const z = new Stream(k);
    for (let i = 0; i < 1000; i++) assert.equal(x[i], mu + sigma * z.normal());
    // SE(mean) = σ/sqrt(N); SE(var) = sqrt(2σ⁴/N).
    const { mean, m2 } = moments(x);
    const N = x.length;
    assert.ok(Math.abs(mean - mu) < (K_SD * sigma) / Math.sqrt(N), `mean ${mean}`);
    assert.ok(Math.abs(m2 - sigma ** 2) < K_SD * Math.sqrt((2 * sigma ** 4) / N), `var ${m2}`);
    // Float32 output holds the same draws rounded to single precision.
    const y = new Stream(k).fillNormal(new Float32Array(1001), mu, sigma);
    for (let i = 0; i < y.length; i++) assert.equal(y[i], Math.fround(x[i]));
    const f = new Stream(k).fillUniform(new Float32Array(10));
    const g = new Stream(k).fillUniform(new Float64Array(10));
    for (let i = 0; i < 10; i++) assert.equal(f[i], Math.fround(g[i]));
  });

  test("ziggurat: the solved base r is Marsaglia & Tsang's; tail and wedge regions carry the right mass", () => {
    assert.ok(Math.abs(ZIGGURAT_R - 3.6541528853610088) < 1e-12, `r = ${ZIGGURAT_R}`);
    // 4·10^6 draws. P(|Z| > r) ≈ 2.6e−4 is produced only by the tail branch; |Z| in (0.2, 0.3) and (2.2, 2.4)
    // lie in layers whose edges are crossed, so wedge tests decide part of them. Counts are binomial.
    const N = 4_000_000;
    const x = normal(keyFromSeed(31), new Float64Array(N));
    for (const [lo, hi] of [
      [ZIGGURAT_R, Number.POSITIVE_INFINITY],
      [4.5, Number.POSITIVE_INFINITY],
      [0.2, 0.3],
      [2.2, 2.4],
    ]) {
      const p = 2 * ((hi === Number.POSITIVE_INFINITY ? 1 : phi(hi)) - phi(lo));
      let c = 0;
      for (let i = 0; i < N; i++) {
        const a = Math.abs(x[i]);
        if (a > lo && a <= hi) c++;
      }
      const se = Math.sqrt(N * p * (1 - p));
      // Φ's approximation error (1.5e−7) is far below these standard errors (≥ 1.7e−6·N … at N = 4e6).
      assert.ok(Math.abs(c - N * p) < K_SD * se + 1, `|Z| in (${lo}, ${hi}]: ${c} vs ${N * p}`);
    }
  });

  test("normal draws continue the same sequence across fills", () => {
    const k = keyFromSeed(21);
    const s = new Stream(k);
    const a = s.fillNormal(new Float64Array(3));
    const b = s.fillNormal(new Float64Array(4));
    const all = new Stream(k).fillNormal(new Float64Array(7));
    assert.deepEqual([...a, ...b], [...all]);
  });
});
