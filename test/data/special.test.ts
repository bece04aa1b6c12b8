/**
 * The portable functions behind the toy data sets: sin and cos (src/data/trig.ts) within 1 ulp of
 * Math.sin/Math.cos over the range the sets use and near every multiple of π/2 there, the reduction
 * constants against π/2 to 60 digits; log I₀e (src/data/bessel.ts) against quadrature of its integral on
 * both sides of the switch from the power series to the asymptotic expansion.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { besselI0e, logBesselI0e } from "../../src/data/bessel.ts";
import { portableCos, portableSin, TRIG_MAX_ARGUMENT } from "../../src/data/trig.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";

const f64 = new Float64Array(1);
const i64 = new BigInt64Array(f64.buffer);

/** Distance in units in the last place between two doubles (through their ordered bit patterns). */
function ulps(a: number, b: number): number {
  const key = (v: number) => {
    f64[0] = v;
    const bits = i64[0];
    return bits < 0n ? -(bits & 0x7fffffffffffffffn) : bits;
  };
  const d = key(a) - key(b);
  return Number(d < 0n ? -d : d);
}

test("portableSin and portableCos are within 1 ulp of Math.sin and Math.cos on [−100, 100]", () => {
  const s = new Stream(keyFromSeed(3));
  let worst = 0;
  for (let t = 0; t < 400_000; t++) {
    // Uniform on [−100, 100] and log-uniform small arguments down to 1e−12.
    const x =
      t % 2 === 0 ? 200 * s.uniform() - 100 : (s.uniform() < 0.5 ? -1 : 1) * 10 ** (-12 * s.uniform());
    const ds = ulps(portableSin(x), Math.sin(x));
    const dc = ulps(portableCos(x), Math.cos(x));
    worst = Math.max(worst, ds, dc);
    if (ds > 1 || dc > 1)
      assert.fail(
        `x = ${x}: sin ${portableSin(x)} vs ${Math.sin(x)}, cos ${portableCos(x)} vs ${Math.cos(x)}`,
      );
  }
  assert.ok(worst <= 1);
});

test("near multiples of π/2 (|k| ≤ 64) the absolute error stays at rounding level", () => {
  for (let k = -64; k <= 64; k++) {
    const c = (k * Math.PI) / 2;
    for (let j = -8; j <= 8; j++) {
      const x = c + j * Number.EPSILON * Math.max(1, Math.abs(c));
      const es = Math.abs(portableSin(x) - Math.sin(x));
      const ec = Math.abs(portableCos(x) - Math.cos(x));
      // Results near 0 are ~1e−16·|x|: compare absolutely, at 2^−60 (far below the values' own size).
      assert.ok(es <= 2 ** -60 || ulps(portableSin(x), Math.sin(x)) <= 1, `sin(${x})`);
      assert.ok(ec <= 2 ** -60 || ulps(portableCos(x), Math.cos(x)) <= 1, `cos(${x})`);
    }
  }
});

test("special values and the argument limit", () => {
  assert.ok(Object.is(portableSin(0), 0));
  assert.ok(Object.is(portableSin(-0), -0));
  assert.equal(portableCos(0), 1);
  assert.equal(portableCos(-0), 1);
  for (const v of [Number.NaN, Infinity, -Infinity]) {
    assert.ok(Number.isNaN(portableSin(v)));
    assert.ok(Number.isNaN(portableCos(v)));
  }
  assert.ok(Number.isFinite(portableSin(TRIG_MAX_ARGUMENT)));
  assert.ok(ulps(portableSin(TRIG_MAX_ARGUMENT), Math.sin(TRIG_MAX_ARGUMENT)) <= 1);
  assert.throws(() => portableSin(TRIG_MAX_ARGUMENT * 1.0001), RangeError);
  assert.throws(() => portableCos(-1e10), RangeError);
});

test("the reduction constants: P1 + P2 + P3 = π/2 to 2^−120, P1 and P2 with 33 significant bits", () => {
  // π/2 to 60 decimal digits, as an integer scaled by 10^60.
  const halfPi = 1570796326794896619231321691639751442098584699687552910487472n;
  const scale = 10n ** 60n;
  /** A double as an exact fraction m·2^e, returned as the integer round(v·10^60·2^200) / 2^200 pieces. */
  const exact = (v: number): { m: bigint; e: number } => {
    f64[0] = v;
    const bits = i64[0];
    const e = Number((bits >> 52n) & 0x7ffn) - 1075;
    const m = (bits & 0xfffffffffffffn) | 0x10000000000000n;
    return { m, e };
  };
  const P1 = 1.5707963267341256;
  const P2 = 6.077100506303966e-11;
  const P3 = 2.0222662487959506e-21;
  // Σ P_i scaled by 2^300 and 10^60, against π/2 scaled the same way.
  let sum = 0n;
  for (const p of [P1, P2, P3]) {
    const { m, e } = exact(p);
    sum += m * scale * 2n ** BigInt(300 + e);
  }
  const target = halfPi * 2n ** 300n;
  const diff = sum > target ? sum - target : target - sum;
  // |Σ − π/2| ≤ 2^−120 (π/2 is known to 10^−60 ≈ 2^−199 here).
  assert.ok(diff * 2n ** 120n <= scale * 2n ** 300n, "P1 + P2 + P3 ≠ π/2");
  for (const p of [P1, P2]) {
    const { m } = exact(p);
    assert.equal(m & ((1n << 20n) - 1n), 0n, `${p} has its low 20 bits zero`);
  }
});

/** e^{−z} I₀(z) = (1/π) ∫_0^π e^{z(cos t − 1)} dt by the trapezoid rule (periodic: spectrally accurate). */
function i0eQuadrature(z: number): number {
  // 4000 intervals: the integrand's peak at t = 0 is 1/√z wide, ≥ 9 steps even at z = 5000. Kahan sum.
  const m = 4000;
  let s = 0;
  let c = 0;
  for (let j = 0; j <= m; j++) {
    const w = j === 0 || j === m ? 0.5 : 1;
    const y = w * Math.exp(z * (Math.cos((Math.PI * j) / m) - 1)) - c;
    const t = s + y;
    c = t - s - y;
    s = t;
  }
  return s / m;
}

test("log I₀e against quadrature, series and asymptotic branches, to 1e−13 relative", () => {
  for (const z of [0, 1e-8, 0.5, 1, 3, 10, 20, 24.999, 25, 25.001, 30, 100, 1000, 5000]) {
    const q = i0eQuadrature(z);
    const got = besselI0e(z);
    assert.ok(Math.abs(got / q - 1) < 1e-13, `I0e(${z}) = ${got}, quadrature ${q}`);
    assert.equal(logBesselI0e(-z), logBesselI0e(z), "even");
  }
  assert.equal(logBesselI0e(0), 0);
  assert.equal(logBesselI0e(Infinity), -Infinity);
  assert.ok(Number.isNaN(logBesselI0e(Number.NaN)));
  // Large z: e^{−z} I₀(z) → 1/√(2πz).
  assert.ok(Math.abs(logBesselI0e(1e12) + 0.5 * Math.log(2 * Math.PI * 1e12)) < 1e-12);
});
