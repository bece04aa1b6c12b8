/**
 * exp and log from + − × ÷ and exact bit operations only, so that another language doing the same IEEE-754
 * double operations in the same order gets the same bits (native/src/elementary.h is the C++ twin).
 * Math.exp and Math.log are not usable for that: V8's and the C library's differ in the last bit for a
 * few percent of arguments. The random draws that must agree between the TypeScript and native paths
 * (src/random/chains.ts: the ziggurat's wedge and tail, MALA's log u and acceptance probability) use these.
 *
 * Accuracy: about 1 ulp (tests compare with Math.exp/Math.log to 2 ulp), not correctly rounded.
 * Reduction as in Cody & Waite: log(2^e·m) = e·ln2 + log(m) with m ∈ (√½, √2], log(m) = 2 atanh(s),
 * s = (m − 1)/(m + 1), by its Taylor series in s²; exp(x) = 2^k·exp(r), k = ⌊x/ln2 + ½⌋, |r| ≤ ln2/2, by
 * the Taylor series of exp to degree 13. ln2 = LN2_HI + LN2_LO with LN2_HI's low 21 bits zero, so that
 * e·LN2_HI is exact for every exponent e.
 */

const LN2_HI = 6.9314718036912381649e-1; // 0x3fe62e42 fee00000
const LN2_LO = 1.90821492927058770002e-10; // ln2 − LN2_HI
const INV_LN2 = 1.4426950408889634;
const SQRT2 = 1.4142135623730951;
const MIN_NORMAL = 2.2250738585072014e-308;
const TWO_POW_54 = 18014398509481984;
const TWO_POW_M64 = 5.421010862427522e-20;
/** Above: exp overflows. Below EXP_MIN: exp is under half the least subnormal and rounds to 0. */
const EXP_MAX = 709.782712893384;
const EXP_MIN = -745.1332191019412;

// Series coefficients, each a correctly rounded quotient (the same double in every language).
const L1 = 2 / 3;
const L2 = 2 / 5;
const L3 = 2 / 7;
const L4 = 2 / 9;
const L5 = 2 / 11;
const L6 = 2 / 13;
const L7 = 2 / 15;
const L8 = 2 / 17;
const L9 = 2 / 19;
const L10 = 2 / 21;
const L11 = 2 / 23;
const E2 = 1 / 2;
const E3 = 1 / 6;
const E4 = 1 / 24;
const E5 = 1 / 120;
const E6 = 1 / 720;
const E7 = 1 / 5040;
const E8 = 1 / 40320;
const E9 = 1 / 362880;
const E10 = 1 / 3628800;
const E11 = 1 / 39916800;
const E12 = 1 / 479001600;
const E13 = 1 / 6227020800;

// The two 32-bit words of a double (little-endian hosts: word 1 holds sign, exponent and the top of the
// mantissa).
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
F64[0] = 1;
if (U32[1] !== 0x3ff00000) throw new Error("src/random/elementary.ts assumes a little-endian host");

/** 2^k for an integer k ∈ [−1022, 1023], built from its bits. */
function pow2(k: number): number {
  U32[0] = 0;
  U32[1] = (k + 1023) << 20;
  return F64[0];
}

/** Natural logarithm (log(0) = −∞, log(x < 0) = NaN, log(∞) = ∞). */
export function portableLog(x: number): number {
  if (!(x > 0)) return x === 0 ? -Infinity : Number.NaN;
  if (x === Infinity) return x;
  let e = 0;
  if (x < MIN_NORMAL) {
    x *= TWO_POW_54; // subnormal: scale into the normal range (exact)
    e = -54;
  }
  F64[0] = x;
  const hi = U32[1];
  e += ((hi >>> 20) & 0x7ff) - 1023;
  U32[1] = (hi & 0x000fffff) | 0x3ff00000; // the mantissa m ∈ [1, 2)
  let m = F64[0];
  if (m > SQRT2) {
    m *= 0.5;
    e += 1;
  }
  const f = m - 1; // exact (Sterbenz)
  const s = f / (2 + f);
  const z = s * s;
  let t = L11;
  t = L10 + z * t;
  t = L9 + z * t;
  t = L8 + z * t;
  t = L7 + z * t;
  t = L6 + z * t;
  t = L5 + z * t;
  t = L4 + z * t;
  t = L3 + z * t;
  t = L2 + z * t;
  t = L1 + z * t;
  const r = z * t; // 2 atanh(s)/s − 2
  // log(1 + f) = 2 atanh(s) = f − (f²/2 − s·(f²/2 + r)), the form that keeps f's bits.
  const hfsq = 0.5 * f * f;
  return e * LN2_HI + (f - (hfsq - (s * (hfsq + r) + e * LN2_LO)));
}

/** e^x (exp(−∞) = 0, exp(∞) = ∞, NaN for NaN). */
export function portableExp(x: number): number {
  if (x !== x) return x;
  if (x > EXP_MAX) return Infinity;
  if (x < EXP_MIN) return 0;
  const k = Math.floor(x * INV_LN2 + 0.5);
  const r = x - k * LN2_HI - k * LN2_LO;
  // Horner, innermost first (the same order in native/src/elementary.h).
  let p = E13;
  p = E12 + r * p;
  p = E11 + r * p;
  p = E10 + r * p;
  p = E9 + r * p;
  p = E8 + r * p;
  p = E7 + r * p;
  p = E6 + r * p;
  p = E5 + r * p;
  p = E4 + r * p;
  p = E3 + r * p;
  p = E2 + r * p;
  p = 1 + r * p;
  p = 1 + r * p;
  if (k > 1023) return p * pow2(k - 1) * 2;
  if (k < -1022) return p * pow2(k + 64) * TWO_POW_M64; // one rounding, into the subnormals
  return p * pow2(k);
}
