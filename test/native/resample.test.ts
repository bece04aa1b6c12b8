/**
 * Native multinomial resampling gives exactly the TypeScript alias method's ancestors (same stream, same
 * floating-point operations), over sizes, weight spreads from flat to degenerate, zeros, and m ≠ n.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { skipNative as skip } from "./addon.ts";
import { multinomial, multinomialAlias } from "../../src/math/resampling.ts";
import { foldIn, keyFromSeed, Stream } from "../../src/random/key.ts";

test("native multinomial = TypeScript alias method, bit for bit (300 cases)", { skip }, () => {
  for (let t = 0; t < 300; t++) {
    const r = new Stream(keyFromSeed(t));
    const n = 1 + (r.nextU32() % 3000);
    const m = 1 + (r.nextU32() % 3000);
    const spread = [0.1, 3, 30, 200][t % 4];
    const z = new Float64Array(n).map(() => spread * r.normal());
    let mx = Number.NEGATIVE_INFINITY;
    for (const v of z) mx = Math.max(mx, v);
    const w = z.map((v) => Math.exp(v - mx));
    if (t % 7 === 0) for (let i = 1; i < n; i += 3) w[i] = 0;
    let s = 0;
    for (const v of w) s += v;
    const key = foldIn(keyFromSeed(99), t);
    const native = multinomial(key, w, m);
    const ts = new Int32Array(m);
    multinomialAlias(w, s, new Stream(key), ts);
    assert.deepEqual(native, ts, `case ${t}: n = ${n}, m = ${m}, spread ${spread}`);
  }
});
