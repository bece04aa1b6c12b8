/**
 * Gray-coded quantisation of 2-D points into binary states, the discrete version of the toy sets used by
 * Dai et al. 2020 (ALOE), Grathwohl et al. 2021 (Gibbs-with-Gradients) and seed 000's figure 2.
 *
 * Each coordinate is cut into 2^bits equal cells on a box [lo, hi] fitted to the training data: with
 * m = the smallest and M = the largest coordinate of the data (over both axes, so cells are square) and
 * Δ = M − m, lo = m − Δ/8 and hi = M + Δ/8 (a margin so that the data's tails do not pile up in the edge
 * cells). A coordinate x goes to the cell k = ⌊(x − lo)/w⌋ (w = (hi − lo)/2^bits, clamped to the box) and
 * the cell's index is written as its binary-reflected Gray code g = k ⊕ (k ≫ 1), most significant bit
 * first. A point is 2·bits sites: x's code then y's. Decoding gives the cell centre lo + (k + ½)w.
 *
 * Why Gray codes: neighbouring cells differ in exactly one bit, so a sampler that flips one bit at a time
 * can walk across the plane cell by cell (in plain binary, 0111… → 1000… flips every bit).
 *
 * The box is part of the data: it is computed once from the training data and stored (`lo`, `hi`) so that
 * held-out data and model samples are read on the same grid.
 */

/** The largest number of bits per coordinate (cell indices stay exact 32-bit integers). */
export const MAX_GRAY_BITS = 24;

/** The binary-reflected Gray code of an integer k ∈ [0, 2^31). */
export function grayEncode(k: number): number {
  return (k ^ (k >>> 1)) >>> 0;
}

/** The integer whose Gray code is g (the prefix XOR of g's bits from the top). */
export function grayDecode(g: number): number {
  let k = g >>> 0;
  for (let shift = 1; shift < 32; shift <<= 1) k ^= k >>> shift;
  return k >>> 0;
}

export interface GrayQuantizer {
  /** Bits per coordinate. */
  readonly bits: number;
  /** Number of binary sites of a point: 2·bits. */
  readonly sites: number;
  /** Cells per axis: 2^bits. */
  readonly cells: number;
  /** The box [lo, hi] (the same on both axes) and the cell width w = (hi − lo)/2^bits. */
  readonly lo: number;
  readonly hi: number;
  readonly width: number;
  /** Cell index of coordinate value v (clamped into [0, cells − 1]). */
  cellOf(v: number): number;
  /** Centre of cell k. */
  centreOf(k: number): number;
  /**
   * n points (n × 2, row-major) to n states (n × sites bytes, 0/1), into `out` if given. Points outside the
   * box go to the nearest edge cell.
   */
  encode(points: Float64Array, n: number, out?: Uint8Array): Uint8Array;
  /** n states to their cells' centres (n × 2) into `out` if given. */
  decode(states: Uint8Array | Float64Array, n: number, out?: Float64Array): Float64Array;
  /** n states to their cell indices (kx, ky) (n × 2) into `out` if given. */
  cellIndices(states: Uint8Array | Float64Array, n: number, out?: Int32Array): Int32Array;
  /** Number of the n points (n × 2) that lie outside the box. */
  countOutside(points: Float64Array, n: number): number;
}

function checkBits(bits: number): void {
  if (!(Number.isInteger(bits) && bits >= 1 && bits <= MAX_GRAY_BITS))
    throw new RangeError(`bits must be an integer from 1 to ${MAX_GRAY_BITS}, got ${bits}`);
}

/**
 * The quantiser on the box fitted to `data` (n × 2; module comment): lo = m − Δ/8, hi = M + Δ/8 with m and
 * M the smallest and largest coordinate over both axes. Throws on empty or non-finite data, or when every
 * coordinate is the same.
 */
export function grayQuantizerFor(data: Float64Array, n: number, bits = 16): GrayQuantizer {
  checkBits(bits);
  if (!(Number.isInteger(n) && n >= 1 && data.length >= 2 * n))
    throw new RangeError(`need n ≥ 1 points of dimension 2, got n = ${n} and ${data.length} values`);
  let m = Number.POSITIVE_INFINITY;
  let big = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < 2 * n; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) throw new RangeError(`point ${i >> 1} has a non-finite coordinate`);
    if (v < m) m = v;
    if (v > big) big = v;
  }
  const delta = big - m;
  if (!(delta > 0)) throw new RangeError("the data have no spread: every coordinate is the same");
  return grayQuantizer(m - delta / 8, big + delta / 8, bits);
}

/** The quantiser of the box [lo, hi]² with 2^bits cells per axis (module comment). */
export function grayQuantizer(lo: number, hi: number, bits = 16): GrayQuantizer {
  checkBits(bits);
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo))
    throw new RangeError(`need a box lo < hi, got [${lo}, ${hi}]`);
  const cells = 2 ** bits;
  const width = (hi - lo) / cells;
  const sites = 2 * bits;
  const cellOf = (v: number) => {
    const k = Math.floor((v - lo) / width);
    return k < 0 ? 0 : k >= cells ? cells - 1 : k;
  };
  const centreOf = (k: number) => lo + (k + 0.5) * width;
  /** The cell index stored Gray-coded, most significant bit first, at states[off … off + bits − 1]. */
  const readCell = (s: Uint8Array | Float64Array, off: number) => {
    let g = 0;
    for (let j = 0; j < bits; j++) g = (g << 1) | (s[off + j] === 1 ? 1 : 0);
    return grayDecode(g);
  };
  return {
    bits,
    sites,
    cells,
    lo,
    hi,
    width,
    cellOf,
    centreOf,
    encode(points, n, out = new Uint8Array(n * sites)) {
      if (out.length < n * sites) throw new RangeError(`out needs ${n * sites} entries`);
      for (let i = 0; i < n; i++)
        for (let c = 0; c < 2; c++) {
          const g = grayEncode(cellOf(points[2 * i + c]));
          const off = i * sites + c * bits;
          for (let j = 0; j < bits; j++) out[off + j] = (g >>> (bits - 1 - j)) & 1;
        }
      return out;
    },
    decode(states, n, out = new Float64Array(2 * n)) {
      for (let i = 0; i < n; i++)
        for (let c = 0; c < 2; c++) out[2 * i + c] = centreOf(readCell(states, i * sites + c * bits));
      return out;
    },
    cellIndices(states, n, out = new Int32Array(2 * n)) {
      for (let i = 0; i < n; i++)
        for (let c = 0; c < 2; c++) out[2 * i + c] = readCell(states, i * sites + c * bits);
      return out;
    },
    countOutside(points, n) {
      let k = 0;
      for (let i = 0; i < n; i++) {
        const x = points[2 * i];
        const y = points[2 * i + 1];
        if (!(x >= lo && x < hi && y >= lo && y < hi)) k++;
      }
      return k;
    },
  };
}
