/**
 * The mode-change counter behind gray2d's ModeHops (PCD's persistent chains): on hand-made moves of three
 * chains over three iterations on a 4-bit box with two centres, it counts a change of nearest centre per
 * chain and iteration (not flips that stay in a mode), gives the rate's SE over chains, and attributes only
 * the changes made by one flip to that flip's bit position within the coordinate.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { grayQuantizer } from "../../src/data/gray.ts";
import { modeHopCounter } from "../../src/experiments/gray2d.ts";
import { WASM_PASS_SKIP } from "../helpers.ts";

test(
  "modeHopCounter: mode changes per chain and iteration, by the bit that made them",
  { skip: WASM_PASS_SKIP },
  () => {
    const q = grayQuantizer(-1, 1, 4);
    const centres = Float64Array.of(-0.5, 0, 0.5, 0);
    const n = 3;
    const x = q.encode(Float64Array.of(-0.55, 0.1, 0.6, -0.1, -0.45, 0), n);
    const counter = modeHopCounter(q, centres, n);
    const flip = (chain: number, site: number) => {
      x[chain * q.sites + site] ^= 1;
    };
    // Iteration 1: chain 0's first x bit (a reflection across the box: −0.55 ↦ 0.55, another mode);
    // chain 1 flips its last x bit (a neighbouring cell, same mode).
    counter.before(x);
    flip(0, 0);
    flip(1, 3);
    counter.after(x);
    assert.deepEqual(
      Array.from(q.decode(x, n)).map((v) => Math.round(v * 100) / 100),
      [0.56, 0.06, 0.69, -0.06, -0.44, 0.06],
    );
    // Iteration 2: nothing moves. Iteration 3: chain 2 changes mode by two flips (first and second x bits).
    counter.before(x);
    counter.after(x);
    counter.before(x);
    flip(2, 0);
    flip(2, 1);
    counter.after(x);
    const h = counter.result();
    assert.equal(h.chains, 3);
    assert.equal(h.iterations, 3);
    // Rates 1/3, 0, 1/3: mean 2/9, SE = sd/√3.
    assert.ok(Math.abs(h.perChainIteration - 2 / 9) < 1e-12);
    const sd = Math.sqrt(((1 / 3 - 2 / 9) ** 2 * 2 + (2 / 9) ** 2) / 2);
    assert.ok(Math.abs(h.se - sd / Math.sqrt(3)) < 1e-12);
    assert.deepEqual(h.byBit, [1, 0, 0, 0]);
  },
);
