/**
 * The portable exp and log (src/random/elementary.ts) against Math.exp and Math.log: within 1 ulp on
 * arguments spread over their whole ranges, exact on the special values. (Bit-for-bit agreement with the
 * native twin is tested in test/native/chain-streams.test.ts.)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { portableExp, portableLog } from "../../src/random/elementary.ts";
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
});
