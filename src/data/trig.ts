/**
 * sin and cos from + − × ÷ and Math.floor only, so that every host computes the same bits (the toy data
 * sets of toy2d.ts must be identical in Node and a browser; hosts' Math.sin/Math.cos are not specified to
 * the last bit and differ between engines). The companion of src/random/elementary.ts (exp, log).
 *
 * Accuracy: within about 1 ulp (tests compare with Math.sin/Math.cos), not correctly rounded, for
 * |x| ≤ 2^19·π/2 ≈ 8.2e5; larger arguments are a RangeError (the data sets use |x| < 100).
 *
 * Reduction (Cody & Waite): x = k·π/2 + r, k = ⌊x·2/π + ½⌋, |r| ≲ π/4, with π/2 = P1 + P2 + P3 where P1 and
 * P2 have 33 significant bits, so that k·P1 and k·P2 are exact for |k| < 2^20 and x − k·P1 is exact
 * (Sterbenz). Kernels: the Taylor series of sin and cos on |r| ≤ π/4 to degree 21 and 20 (the first
 * omitted terms are below 2^−60 relative), coefficients the correctly rounded quotients ±1/m! (the same
 * double in every language).
 */

/** π/2 to 33 bits: 0x3ff921fb_54400000. */
const P1 = 1.5707963267341256;
/** The next 33 bits of π/2: 0x3dd0b461_1a600000. */
const P2 = 6.077100506303966e-11;
/** π/2 − P1 − P2, rounded: 0x3ba3198a_2e037073. */
const P3 = 2.0222662487959506e-21;
const TWO_OVER_PI = 0.6366197723675814;
/** Largest |x| accepted: k stays below 2^19 + 1, far inside the exact range of k·P1. */
export const TRIG_MAX_ARGUMENT = 2 ** 19 * P1;

const S1 = -1 / 6;
const S2 = 1 / 120;
const S3 = -1 / 5040;
const S4 = 1 / 362880;
const S5 = -1 / 39916800;
const S6 = 1 / 6227020800;
const S7 = -1 / 1307674368000;
const S8 = 1 / 355687428096000;
const S9 = -1 / 121645100408832000;
const S10 = 1 / 51090942171709440000;

const C2 = 1 / 24;
const C3 = -1 / 720;
const C4 = 1 / 40320;
const C5 = -1 / 3628800;
const C6 = 1 / 479001600;
const C7 = -1 / 87178291200;
const C8 = 1 / 20922789888000;
const C9 = -1 / 6402373705728000;
const C10 = 1 / 2432902008176640000;

/** sin r for |r| ≤ π/4 + ε: r + r³·(S1 + r²·(S2 + …)). */
function kernelSin(r: number): number {
  const z = r * r;
  let p = S10;
  p = S9 + z * p;
  p = S8 + z * p;
  p = S7 + z * p;
  p = S6 + z * p;
  p = S5 + z * p;
  p = S4 + z * p;
  p = S3 + z * p;
  p = S2 + z * p;
  p = S1 + z * p;
  return r + r * z * p;
}

/**
 * cos r for |r| ≤ π/4 + ε: 1 − r²/2 + r⁴·(C2 + r²·(C3 + …)). w = 1 − r²/2 is rounded; the rounding error
 * (1 − w) − r²/2 is exact and added back, so the result keeps the bits of the small terms.
 */
function kernelCos(r: number): number {
  const z = r * r;
  let q = C10;
  q = C9 + z * q;
  q = C8 + z * q;
  q = C7 + z * q;
  q = C6 + z * q;
  q = C5 + z * q;
  q = C4 + z * q;
  q = C3 + z * q;
  q = C2 + z * q;
  const hz = 0.5 * z;
  const w = 1 - hz;
  return w + (1 - w - hz + z * z * q);
}

/** k and r with x = k·π/2 + r; throws for |x| > TRIG_MAX_ARGUMENT. */
function reduce(x: number): { k: number; r: number } {
  if (!(Math.abs(x) <= TRIG_MAX_ARGUMENT))
    throw new RangeError(`portable sin/cos: |x| must be at most ${TRIG_MAX_ARGUMENT}, got ${x}`);
  const k = Math.floor(x * TWO_OVER_PI + 0.5);
  return { k, r: x - k * P1 - k * P2 - k * P3 };
}

/** sin x (NaN for NaN and ±∞; sin(−0) = −0). */
export function portableSin(x: number): number {
  if (x !== x || x === Infinity || x === -Infinity) return Number.NaN;
  if (x === 0) return x;
  const { k, r } = reduce(x);
  switch (k & 3) {
    case 0:
      return kernelSin(r);
    case 1:
      return kernelCos(r);
    case 2:
      return -kernelSin(r);
    default:
      return -kernelCos(r);
  }
}

/** cos x (NaN for NaN and ±∞). */
export function portableCos(x: number): number {
  if (x !== x || x === Infinity || x === -Infinity) return Number.NaN;
  const { k, r } = reduce(x);
  switch (k & 3) {
    case 0:
      return kernelCos(r);
    case 1:
      return -kernelSin(r);
    case 2:
      return -kernelCos(r);
    default:
      return kernelSin(r);
  }
}
