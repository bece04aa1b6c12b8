/**
 * Binary PNG images: write/read round trip (8-bit greyscale, 0 and 255 only); reading thresholds the
 * luminance of grey, grey + alpha, RGB, RGBA (over white) and 16-bit files at 50%; bad files
 * are ImageFileErrors naming the file, and the pixel limit is checked before decoding.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { type ColorType, PNG } from "pngjs";
import { ImageFileError, readBinaryPng, writeBinaryPng } from "../../src/io/png.ts";
import { shapesImage } from "../experiments/denoise-image.ts";

const dir = mkdtempSync(join(tmpdir(), "ebm-png-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a 4×1 PNG from RGBA pixels with pngjs, in the given colour type and bit depth. */
function writeRgba(name: string, rgba: number[][], colorType: ColorType): string {
  const png = new PNG({ width: rgba.length, height: 1 });
  rgba.forEach((p, i) => png.data.set(p, 4 * i));
  const path = join(dir, name);
  writeFileSync(path, PNG.sync.write(png, { colorType }));
  return path;
}

/** Writes a 16-bit greyscale n×1 PNG (pngjs takes 16-bit RGBA input in host byte order). */
function writeGrey16(name: string, values: number[]): string {
  const png = new PNG({ width: values.length, height: 1 });
  const u16 = new Uint16Array(4 * values.length);
  values.forEach((v, i) => u16.set([v, v, v, 65535], 4 * i));
  png.data = Buffer.from(u16.buffer);
  const path = join(dir, name);
  writeFileSync(path, PNG.sync.write(png, { colorType: 0, bitDepth: 16 }));
  return path;
}

describe("binary PNG files", () => {
  test("round trip of a 64×40 image; the file is 8-bit greyscale with values 0 and 255", () => {
    const img = shapesImage(40, 64);
    const path = join(dir, "shapes.png");
    writeBinaryPng(path, img);
    const back = readBinaryPng(path);
    assert.equal(back.rows, 40);
    assert.equal(back.cols, 64);
    assert.deepEqual(back.pixels, img.pixels);
    const raw = PNG.sync.read(readFileSync(path));
    const colorType = readFileSync(path)[25];
    assert.equal(colorType, 0);
    for (let i = 0; i < raw.data.length; i += 4) assert.ok(raw.data[i] === 0 || raw.data[i] === 255);
  });

  test("luminance threshold at 50%, transparency over white, in every colour type", () => {
    // Rec. 709 luminance: pure green 0.7152 (white), pure red 0.2126 (black), grey 128 ≥ 127.5 (white),
    // grey 127 (black), a transparent black pixel (white background).
    const pixels = [
      [0, 255, 0, 255],
      [255, 0, 0, 255],
      [128, 128, 128, 255],
      [127, 127, 127, 255],
    ];
    for (const [ct, name] of [
      [2, "rgb"],
      [6, "rgba"],
    ] as const) {
      const img = readBinaryPng(writeRgba(`${name}.png`, pixels, ct));
      assert.deepEqual(Array.from(img.pixels), [1, 0, 1, 0], name);
    }
    const grey = [
      [200, 200, 200, 255],
      [40, 40, 40, 255],
      [128, 128, 128, 255],
      [127, 127, 127, 255],
    ];
    assert.deepEqual(Array.from(readBinaryPng(writeRgba("grey.png", grey, 0)).pixels), [1, 0, 1, 0]);
    const grey16 = writeGrey16("grey16.png", [60000, 1000, 32768, 32767]);
    assert.equal(readFileSync(grey16)[24], 16, "bit depth");
    assert.deepEqual(Array.from(readBinaryPng(grey16).pixels), [1, 0, 1, 0]);
    const alpha = [
      [0, 0, 0, 0],
      [0, 0, 0, 255],
      [0, 0, 0, 100],
      [0, 0, 0, 160],
    ];
    // Over white: 255 − A: 255, 0, 155, 95.
    assert.deepEqual(Array.from(readBinaryPng(writeRgba("alpha.png", alpha, 6)).pixels), [1, 0, 1, 0]);
    assert.deepEqual(Array.from(readBinaryPng(writeRgba("greyalpha.png", alpha, 4)).pixels), [1, 0, 1, 0]);
  });

  test("bad files: one-line ImageFileError naming the file", () => {
    const notPng = join(dir, "text.png");
    writeFileSync(notPng, "hello, this is not an image at all");
    const truncated = join(dir, "truncated.png");
    const good = readFileSync(writeRgba("t.png", [[1, 2, 3, 255]], 2));
    writeFileSync(truncated, good.subarray(0, good.length - 20));
    const cases: [string, RegExp][] = [
      [join(dir, "missing.png"), /missing\.png: no such file/],
      [dir, /not a regular file/],
      [notPng, /text\.png: not a PNG file/],
      [truncated, /truncated\.png: corrupt PNG/],
    ];
    for (const [path, pattern] of cases) {
      assert.throws(
        () => readBinaryPng(path),
        (err: unknown) =>
          err instanceof ImageFileError && pattern.test(err.message) && !err.message.includes("\n"),
      );
    }
    const big = join(dir, "big.png");
    writeBinaryPng(big, shapesImage(64, 64));
    assert.throws(() => readBinaryPng(big, { maxPixels: 4000 }), /64×64 pixels exceed the limit of 4000/);
    assert.throws(() => readBinaryPng(big, { maxBytes: 10 }), /exceeds the limit of 10 bytes/);
  });
});
