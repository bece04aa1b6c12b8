/**
 * Gray codes and the Gray-coded quantisation of 2-D points (src/data/gray.ts):
 *  - encode/decode are inverse on every integer below 2^16 and on random ones below 2^24; consecutive
 *    integers' codes differ in exactly one bit (the Gray property) — and so do the states of neighbouring
 *    cells;
 *  - the box is [m − Δ/8, M + Δ/8] of the data; a point decodes to the centre of its cell (within half a
 *    cell); every state of a 2 × 5-bit space decodes and re-encodes to itself; points outside the box go to
 *    the edge cells and are counted;
 *  - flipping a coordinate's b-th Gray bit (b = 0 the most significant) reflects its cell within its aligned
 *    block of 2^(bits−b) cells: the first bit reflects the point across the box, x ↦ lo + hi − x (what
 *    lets one single-site move jump between mirror-image modes).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { grayDecode, grayEncode, grayQuantizer, grayQuantizerFor } from "../../src/data/gray.ts";
import { toy2d } from "../../src/data/toy2d.ts";
import { stateIndex, writeState } from "../../src/energies/discrete.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";

const popcount = (v: number) => {
  let c = 0;
  for (let x = v >>> 0; x; x &= x - 1) c++;
  return c;
};

describe("Gray code", () => {
  test("decode inverts encode; consecutive integers differ in one bit", () => {
    for (let k = 0; k < 1 << 16; k++) {
      assert.equal(grayDecode(grayEncode(k)), k);
      assert.equal(popcount(grayEncode(k) ^ grayEncode(k + 1)), 1, `k = ${k}`);
    }
    const rng = new Stream(keyFromSeed(1));
    for (let t = 0; t < 1000; t++) {
      const k = rng.integer(1 << 24);
      assert.equal(grayDecode(grayEncode(k)), k);
      assert.equal(grayEncode(grayDecode(k)), k);
    }
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map(grayEncode), [0, 1, 3, 2, 6, 7, 5, 4]);
  });
});

describe("grayQuantizer", () => {
  test("the box is the data's range widened by Δ/8; points decode to their cell centres", () => {
    const n = 3000;
    const pts = toy2d("8gaussians").sample(keyFromSeed(2), n);
    const q = grayQuantizerFor(pts, n, 16);
    let m = Infinity;
    let big = -Infinity;
    for (const v of pts) {
      m = Math.min(m, v);
      big = Math.max(big, v);
    }
    const delta = big - m;
    assert.equal(q.lo, m - delta / 8);
    assert.equal(q.hi, big + delta / 8);
    assert.equal(q.sites, 32);
    assert.equal(q.width, (q.hi - q.lo) / 65536);
    const states = q.encode(pts, n);
    assert.ok(states.every((b) => b === 0 || b === 1));
    const back = q.decode(states, n);
    for (let i = 0; i < 2 * n; i++)
      assert.ok(
        Math.abs(back[i] - pts[i]) <= q.width / 2 + 1e-12,
        `coordinate ${i}: ${back[i]} vs ${pts[i]}`,
      );
    // Decoding is idempotent: a cell centre encodes to its own cell.
    assert.deepEqual(q.encode(back, n), states);
    assert.equal(q.countOutside(pts, n), 0);
  });

  test("every state of a 2 × 5-bit space round-trips; neighbouring cells differ in one site", () => {
    const q = grayQuantizer(-1, 1, 5);
    const d = q.sites;
    const all = new Uint8Array(1024 * d);
    for (let s = 0; s < 1024; s++) writeState(s, d, all, s * d);
    const again = q.encode(q.decode(all, 1024), 1024);
    for (let s = 0; s < 1024; s++) assert.equal(stateIndex(again, d, s * d), s);
    const cells = q.cellIndices(all, 1024);
    const seen = new Set<number>();
    for (let s = 0; s < 1024; s++) seen.add(cells[2 * s] * 32 + cells[2 * s + 1]);
    assert.equal(seen.size, 1024, "states and cells are in bijection");
    // Cells (kx, ky) and (kx + 1, ky): their states differ in exactly one of the x sites.
    const pt = new Float64Array(4);
    for (let kx = 0; kx + 1 < 32; kx++)
      for (let ky = 0; ky < 32; ky += 7) {
        pt.set([q.centreOf(kx), q.centreOf(ky), q.centreOf(kx + 1), q.centreOf(ky)]);
        const st = q.encode(pt, 2);
        let diff = 0;
        for (let j = 0; j < d; j++) diff += st[j] ^ st[d + j];
        assert.equal(diff, 1, `cells ${kx} and ${kx + 1}`);
      }
  });

  test("points outside the box go to the edge cells", () => {
    const q = grayQuantizer(0, 1, 4);
    const pts = Float64Array.of(-5, 0.5, 7, 0.5, 0.99, 1);
    assert.equal(q.countOutside(pts, 3), 3);
    const cells = q.cellIndices(q.encode(pts, 3), 3);
    assert.deepEqual(Array.from(cells), [0, 8, 15, 8, 15, 15]);
  });

  test("flipping a coordinate's b-th Gray bit reflects it within an aligned block of 2^(bits−b) cells", () => {
    const bits = 6;
    const q = grayQuantizer(-2, 3, bits);
    const st = new Stream(keyFromSeed(5));
    for (let t = 0; t < 200; t++) {
      const pt = Float64Array.of(-2 + 5 * st.uniform(), -2 + 5 * st.uniform());
      const s = q.encode(pt, 1);
      const [kx, ky] = q.cellIndices(s, 1);
      for (let b = 0; b < bits; b++) {
        const block = 2 ** (bits - b);
        const flipped = s.slice();
        flipped[b] ^= 1;
        const [fx, fy] = q.cellIndices(flipped, 1);
        assert.equal(fy, ky);
        const start = kx - (kx % block);
        assert.equal(fx, start + block - 1 - (kx - start), `cell ${kx}, bit ${b}`);
      }
      // The first bit: x ↦ lo + hi − x for the cell centres.
      const flipped = s.slice();
      flipped[0] ^= 1;
      const c = q.decode(s, 1);
      const r = q.decode(flipped, 1);
      assert.ok(Math.abs(r[0] - (-2 + 3 - c[0])) < 1e-12, `${r[0]} vs ${1 - c[0]}`);
      assert.equal(r[1], c[1]);
    }
  });

  test("bad arguments are refused", () => {
    assert.throws(() => grayQuantizer(0, 1, 0), RangeError);
    assert.throws(() => grayQuantizer(0, 1, 25), RangeError);
    assert.throws(() => grayQuantizer(1, 1, 8), RangeError);
    assert.throws(() => grayQuantizerFor(new Float64Array(4).fill(2), 2, 8), /no spread/);
    assert.throws(() => grayQuantizerFor(Float64Array.of(0, Number.NaN), 1, 8), /non-finite/);
  });
});
