/**
 * Image grids (src/data/images.ts, src/viz/image-grid.ts): a small grid written as PNG and read back
 * (size, tile pixels with upscaling, separators, empty cells, inversion, bits as input), the atomic write,
 * the option checks; weight filters: column j as image j, rescaled per filter to [0, 1].
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { PNG } from "pngjs";
import { imageGrid, weightFilters } from "../../src/data/images.ts";
import { Rbm } from "../../src/energies/rbm.ts";
import { keyFromSeed, normal } from "../../src/random/key.ts";
import { imageGridPng, writeImageGrid } from "../../src/viz/image-grid.ts";

const dir = mkdtempSync(join(tmpdir(), "ebm-image-grid-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const SEP = [48, 96, 160];

/** RGB of pixel (x, y) of a decoded PNG. */
function rgb(png: PNG, x: number, y: number): number[] {
  const p = (y * png.width + x) * 4;
  return [png.data[p], png.data[p + 1], png.data[p + 2]];
}

/** Three 2×3 images: image k has value (k·6 + pixel)/17 at its pixel (row-major). */
const three = Float64Array.from({ length: 18 }, (_, i) => i / 17);

describe("image grid", () => {
  test("written PNG read back: size, upscaled tiles, 1-pixel separators, empty cell", () => {
    const path = join(dir, "sub", "grid.png");
    writeImageGrid(path, three, { height: 2, width: 3, cols: 2, scale: 2 });
    assert.deepEqual(readdirSync(join(dir, "sub")), ["grid.png"]); // no temporary file left
    const png = PNG.sync.read(readFileSync(path));
    // 2 × 2 tiles of 4 × 6 pixels, one separator column and row between them.
    assert.equal(png.width, 2 * 6 + 1);
    assert.equal(png.height, 2 * 4 + 1);
    const grey = (v: number) => [Math.round(255 * v), Math.round(255 * v), Math.round(255 * v)];
    // Image 0, pixel (row 1, col 2) = value 5/17, drawn as the 2×2 block at x 4–5, y 2–3.
    for (const [x, y] of [
      [4, 2],
      [5, 2],
      [4, 3],
      [5, 3],
    ])
      assert.deepEqual(rgb(png, x, y), grey(5 / 17));
    assert.deepEqual(rgb(png, 0, 0), grey(0));
    // Image 1 starts after the separator column x = 6; image 2 below the separator row y = 4.
    assert.deepEqual(rgb(png, 7, 0), grey(6 / 17));
    assert.deepEqual(rgb(png, 0, 5), grey(12 / 17));
    assert.deepEqual(rgb(png, 12, 3), grey(11 / 17));
    for (let y = 0; y < png.height; y++) assert.deepEqual(rgb(png, 6, y), SEP);
    for (let x = 0; x < png.width; x++) assert.deepEqual(rgb(png, x, 4), SEP);
    // The fourth cell has no image: separator colour.
    assert.deepEqual(rgb(png, 7, 5), SEP);
    assert.deepEqual(rgb(png, 12, 8), SEP);
  });

  test("bits, inversion, separator colour, default layout", () => {
    const bits = Uint8Array.from([1, 0, 0, 1, 0, 1, 1, 0]); // two 2×2 images
    const png = PNG.sync.read(imageGridPng(bits, { height: 2, invert: true, separator: [255, 0, 0] }));
    // ⌈√2⌉ = 2 columns, 1 row.
    assert.equal(png.width, 5);
    assert.equal(png.height, 2);
    assert.deepEqual(rgb(png, 0, 0), [0, 0, 0]); // 1 → black when inverted
    assert.deepEqual(rgb(png, 1, 0), [255, 255, 255]);
    assert.deepEqual(rgb(png, 2, 1), [255, 0, 0]);
    assert.deepEqual(rgb(png, 3, 1), [0, 0, 0]); // image 1, row 1: bits 1, 0
    assert.deepEqual(rgb(png, 4, 1), [255, 255, 255]);
    // 100 digit-sized images default to 10 × 10 tiles of 28 × 28.
    const r = imageGrid(new Float32Array(100 * 784));
    assert.equal(r.width, 10 * 28 + 9);
    assert.equal(r.height, 10 * 28 + 9);
    assert.equal(imageGrid(new Float32Array(5 * 784), { rows: 1 }).width, 5 * 28 + 4);
  });

  test("refuses values outside [0, 1], partial images, too few cells, bad options", () => {
    assert.throws(() => imageGrid([0.5, 1.2, 0, 0], { height: 2 }), RangeError);
    assert.throws(() => imageGrid([0.5, NaN, 0, 0], { height: 2 }), RangeError);
    assert.throws(() => imageGrid([0, 0, 0], { height: 2 }), RangeError);
    assert.throws(() => imageGrid(new Float32Array(12), { height: 2, rows: 1, cols: 2 }), RangeError);
    assert.throws(() => imageGrid(new Float32Array(4), { height: 2, scale: 1.5 }), RangeError);
    assert.throws(() => imageGrid(new Float32Array(4), { height: 2, separator: [0, 0, 256] }), RangeError);
  });
});

describe("weight filters", () => {
  test("column j as image j, rescaled by its own minimum and maximum", () => {
    // V = 4 visible, H = 3 hidden; W[i·3 + j].
    const W = [1, -2, 5, 3, 0, 5, 2, 2, 5, 5, -1, 5];
    const f = weightFilters(W, 4, 3);
    assert.equal(f.length, 12);
    assert.deepEqual(Array.from(f.subarray(0, 4)), [0, 0.5, 0.25, 1]); // column 0: 1, 3, 2, 5
    assert.deepEqual(Array.from(f.subarray(4, 8)), [0, 0.5, 1, 0.25]); // column 1: −2, 0, 2, −1
    assert.deepEqual(Array.from(f.subarray(8, 12)), [0.5, 0.5, 0.5, 0.5]); // constant column
    assert.throws(() => weightFilters(W, 4, 4), RangeError);
    assert.throws(() => weightFilters([1, NaN], 2, 1), RangeError);
  });

  test("an RBM's 784 × 16 weights: 16 filters in [0, 1] with 0 and 1 reached, ready for a grid", () => {
    const V = 784;
    const H = 16;
    const rbm = new Rbm(
      normal(keyFromSeed(5), new Float64Array(V * H)),
      new Float64Array(V),
      new Float64Array(H),
    );
    const f = weightFilters(rbm.W, V, H);
    for (let j = 0; j < H; j++) {
      const img = f.subarray(j * V, (j + 1) * V);
      assert.equal(Math.min(...img), 0);
      assert.equal(Math.max(...img), 1);
      // Order kept: the largest weight of column j is where filter j is 1.
      let arg = 0;
      for (let i = 1; i < V; i++) if (rbm.W[i * H + j] > rbm.W[arg * H + j]) arg = i;
      assert.equal(img[arg], 1);
    }
    const png = PNG.sync.read(imageGridPng(f, { cols: 8, scale: 2 }));
    assert.equal(png.width, 8 * 56 + 7);
    assert.equal(png.height, 2 * 56 + 1);
  });
});
