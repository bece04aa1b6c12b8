/**
 * Writes the binarised digits of `ebm reproduce rbm-mnist` (same split, same stochastic binarisation and
 * seed: experiments/rbm-mnist.ts binarizeDigitSplit) as float32 .npy files of 0/1 rows, for peers such as
 * bench/peer/sklearn_rbm.py:
 *
 *   npx tsx bench/peer/rbm-digits.ts OUT_DIR   →   OUT_DIR/train.npy (8000 × 784), OUT_DIR/test.npy (2000 × 784)
 */
import { join } from "node:path";
import {
  binarizeDigitSplit,
  DIGIT_PIXELS,
  ensureDir,
  loadDigits,
  npyHeader,
  RBM_MNIST_DEFAULTS,
  writeFileAtomic,
} from "../../src/node.ts";

function npyFloat32(bits: Uint8Array, rows: number): Uint8Array {
  const header = npyHeader("<f4", [rows, DIGIT_PIXELS]);
  const data = Float32Array.from(bits);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header);
  out.set(new Uint8Array(data.buffer), header.length);
  return out;
}

const dir = process.argv[2];
if (!dir) {
  process.stderr.write("usage: npx tsx bench/peer/rbm-digits.ts OUT_DIR\n");
  process.exit(2);
}
const digits = loadDigits();
const bits = binarizeDigitSplit(digits, RBM_MNIST_DEFAULTS.binarizeSeed);
ensureDir(dir);
writeFileAtomic(join(dir, "train.npy"), npyFloat32(bits.train, digits.train.n));
writeFileAtomic(join(dir, "test.npy"), npyFloat32(bits.test, digits.test.n));
console.log(`${digits.train.n} train / ${digits.test.n} test rows written to ${dir} (${digits.description})`);
