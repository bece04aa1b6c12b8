/**
 * The portable exp, log and log1p (src/random/elementary.ts) against Math.exp, Math.log and Math.log1p:
 * within 1 ulp on arguments spread over their whole ranges, exact on the special values; the table of
 * portableExpFast against 2^(j/128) by exact integer arithmetic. (Bit-for-bit agreement of portableExp and
 * portableLog with the native twin is tested in test/native/chain-streams.test.ts.)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  EXP_FAST_TABLES,
  portableExp,
  portableExpFast,
  portableLog,
  portableLog1p,
} from "../../src/random/elementary.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";

const f64 = new Float64Array(1);
const i64 = new BigInt64Array(f64.buffer);

/** Distance in units in the last place between two finite doubles of the same sign. */
function ulps(a: number, b: number): number {
  f64[0] = a;
  const x = i64[0];
  f64[0] = b;
  return Math.abs(Number(x - i64[0]));
}

test("portableLog is within 1 ulp of Math.log over (0, ∞), subnormals included", () => {
  const s = new Stream(keyFromSeed(1));
  let worst = 0;
  for (let t = 0; t < 300_000; t++) {
    // A uniform mantissa times 2^e, e uniform in [−1074, 1023].
    const e = Math.floor(s.uniform() * 2098) - 1074;
    const x = (1 + s.uniform()) * 2 ** e;
    if (!(x > 0 && Number.isFinite(x))) continue;
    const d = ulps(portableLog(x), Math.log(x));
    worst = Math.max(worst, d);
    if (d > 1) assert.fail(`log(${x}) = ${portableLog(x)}, Math.log ${Math.log(x)}`);
  }
  // Near 1, where log is small and relative accuracy is hardest.
  for (let t = 0; t < 100_000; t++) {
    const x = 1 + (s.uniform() - 0.5) * 2 ** -Math.floor(s.uniform() * 50);
    assert.ok(ulps(portableLog(x), Math.log(x)) <= 1, `log(${x})`);
  }
  assert.ok(worst <= 1);
});

test("portableExp is within 1 ulp of Math.exp over its range, subnormal results included", () => {
  const s = new Stream(keyFromSeed(2));
  for (let t = 0; t < 300_000; t++) {
    const x = (s.uniform() * 2 - 1) * 745;
    const want = Math.exp(x);
    const got = portableExp(x);
    if (want < 2 ** -1022) {
      // Subnormal results carry fewer bits: within 1 ulp of the subnormal grid.
      assert.ok(Math.abs(got - want) <= 2 ** -1074, `exp(${x}) = ${got}, Math.exp ${want}`);
    } else assert.ok(ulps(got, want) <= 1, `exp(${x}) = ${got}, Math.exp ${want}`);
  }
  for (let t = 0; t < 100_000; t++) {
    const x = (s.uniform() - 0.5) * 2 ** -Math.floor(s.uniform() * 60);
    assert.ok(ulps(portableExp(x), Math.exp(x)) <= 1, `exp(${x})`);
  }
});

test("portableExpFast is within 1 ulp of Math.exp over its range, subnormal results included", () => {
  const s = new Stream(keyFromSeed(3));
  const check = (x: number) => {
    const want = Math.exp(x);
    const got = portableExpFast(x);
    if (want < 2 ** -1022)
      assert.ok(Math.abs(got - want) <= 2 ** -1074, `exp(${x}) = ${got}, Math.exp ${want}`);
    else assert.ok(ulps(got, want) <= 1, `exp(${x}) = ${got}, Math.exp ${want}`);
  };
  for (let t = 0; t < 300_000; t++) check((s.uniform() * 2 - 1) * 746);
  for (let t = 0; t < 100_000; t++) check((s.uniform() - 0.5) * 2 ** -Math.floor(s.uniform() * 60));
  // Around the table's nodes (x = m·ln2/128, where the table index j changes) and the range ends.
  for (let m = -137_600; m <= 131_072; m += 97)
    for (const d of [-1e-12, 0, 1e-12]) check((m * Math.LN2) / 128 + d);
  for (let t = 0; t < 10_000; t++) {
    check(709.78 + s.uniform() * 0.0028);
    check(-745.13 + s.uniform() * 40);
  }
});

/** A double as m·2^e with m an integer (BigInt) and e an integer. */
function exact(x: number): { m: bigint; e: number } {
  f64[0] = x;
  const bits = BigInt.asUintN(64, i64[0]);
  const be = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const m = be === 0 ? frac : frac | (1n << 52n);
  return { m: x < 0 ? -m : m, e: (be === 0 ? 1 : be) - 1075 };
}

test("portableExpFast's table: T[j] is 2^(j/128) correctly rounded, T[j]·(1 + TAIL[j]) is it to 2^−100", () => {
  const { t, tail } = EXP_FAST_TABLES;
  assert.equal(t.length, 128);
  assert.equal(tail.length, 128);
  for (let j = 0; j < 128; j++) {
    // T = M·2^−52 with M < 2^53: T ± ½ulp = (2M ± 1)·2^−53, and x ↦ x^128 is increasing, so T is the correctly
    // rounded 2^(j/128) exactly when (2M − 1)^128 < 2^(j + 128·53) < (2M + 1)^128.
    const { m: M, e } = exact(t[j]);
    assert.equal(e, -52, `T[${j}] = ${t[j]} is in [1, 2)`);
    const target = 1n << BigInt(j + 128 * 53);
    assert.ok((2n * M - 1n) ** 128n < target && target < (2n * M + 1n) ** 128n, `T[${j}] = ${t[j]}`);
    // v = T(1 + tail) = M·(2^−et + mt)·2^(et − 52) =: V·2^−g; v^128 = 2^j(1 + δ)^128, and |δ| < 2^−100 is
    // implied by |V^128 − 2^(j + 128g)| < 2^(j + 128g)·2^−94 (|(1 + δ)^128 − 1| ≥ 64|δ| for |δ| small).
    if (tail[j] === 0) {
      assert.ok(j === 0, `TAIL[${j}] is 0`);
      continue;
    }
    const { m: mt, e: et } = exact(tail[j]);
    assert.ok(et < -60, `TAIL[${j}] = ${tail[j]} is small`);
    const V = M * ((1n << BigInt(-et)) + mt);
    const g = 52 - et;
    const err = V ** 128n - (1n << BigInt(j + 128 * g));
    const bound = 1n << BigInt(j + 128 * g - 94);
    assert.ok(err < bound && -err < bound, `TAIL[${j}] = ${tail[j]}`);
  }
});

test("portableLog1p is within 1 ulp of Math.log1p over (−1, ∞)", () => {
  const s = new Stream(keyFromSeed(4));
  const check = (x: number) => {
    const got = portableLog1p(x);
    const want = Math.log1p(x);
    assert.ok(ulps(got, want) <= 1, `log1p(${x}) = ${got}, Math.log1p ${want}`);
  };
  for (let t = 0; t < 100_000; t++) {
    const small = (s.uniform() * 2 - 1) * 2 ** -Math.floor(s.uniform() * 70); // both signs, down to 2^−70
    check(small);
    check(-1 + s.uniform()); // (−1, 0]: u = 1 + x exact
    check(s.uniform() * 10);
    const e = Math.floor(s.uniform() * 2098) - 1074; // tiny (subnormal) to huge
    const x = (1 + s.uniform()) * 2 ** e;
    if (Number.isFinite(x)) check(x);
  }
});

test("special values", () => {
  assert.equal(portableLog(1), 0);
  assert.equal(portableLog(0), -Infinity);
  assert.equal(portableLog(-0), -Infinity);
  assert.ok(Number.isNaN(portableLog(-1)));
  assert.ok(Number.isNaN(portableLog(Number.NaN)));
  assert.equal(portableLog(Infinity), Infinity);
  assert.equal(portableLog(5e-324), Math.log(5e-324));
  assert.equal(portableLog(Number.MAX_VALUE), Math.log(Number.MAX_VALUE));
  assert.equal(portableExp(0), 1);
  assert.equal(portableExp(-0), 1);
  assert.equal(portableExp(-Infinity), 0);
  assert.equal(portableExp(Infinity), Infinity);
  assert.ok(Number.isNaN(portableExp(Number.NaN)));
  assert.equal(portableExp(710), Infinity);
  assert.equal(portableExp(-746), 0);
  assert.equal(portableExp(709.78), Math.exp(709.78));
  assert.equal(portableExp(-745.13), 5e-324);
  assert.equal(portableExpFast(0), 1);
  assert.equal(portableExpFast(-0), 1);
  assert.equal(portableExpFast(-Infinity), 0);
  assert.equal(portableExpFast(Infinity), Infinity);
  assert.ok(Number.isNaN(portableExpFast(Number.NaN)));
  assert.equal(portableExpFast(710), Infinity);
  assert.equal(portableExpFast(-746), 0);
  assert.equal(portableExpFast(709.78), Math.exp(709.78));
  assert.equal(portableExpFast(709.782712893384), Math.exp(709.782712893384)); // the largest finite result
  assert.equal(portableExpFast(-745.13), 5e-324);
  assert.equal(portableExpFast(Math.LN2), 2);
  assert.equal(portableLog1p(0), 0);
  assert.ok(Object.is(portableLog1p(-0), -0));
  assert.equal(portableLog1p(5e-324), 5e-324);
  assert.equal(portableLog1p(-1), -Infinity);
  assert.ok(Number.isNaN(portableLog1p(-1.5)));
  assert.ok(Number.isNaN(portableLog1p(-Infinity)));
  assert.ok(Number.isNaN(portableLog1p(Number.NaN)));
  assert.equal(portableLog1p(Infinity), Infinity);
  assert.equal(portableLog1p(Number.MAX_VALUE), Math.log(Number.MAX_VALUE));
  assert.equal(portableLog1p(1), Math.LN2);
});
