/**
 * Splittable random keys and the streams drawn from them.
 *
 * A `Key` is an immutable 64-bit value (two uint32 words). Randomness is never global: a function that
 * needs it takes a key, `split`s it into independent children, and draws from a `Stream` seeded by one
 * key. Same key, same numbers, bit for bit. Streams are xoshiro128** seeded through a SplitMix-style
 * mixer, and child keys are derived by hashing (parent, index), so sibling streams do not overlap in
 * practice.
 */

export interface Key {
  readonly hi: number;
  readonly lo: number;
}

/** murmur3's 32-bit finalizer: a bijective avalanche mix. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Mixes a key with a 32-bit word into a new key (the basis of split and foldIn). */
function mixKey(k: Key, data: number): Key {
  const d = data >>> 0;
  const a = fmix32((k.hi ^ Math.imul(d + 0x9e3779b9, 0x7feb352d)) >>> 0);
  const b = fmix32((k.lo ^ a ^ Math.imul(d + 0x632be5ab, 0x846ca68b)) >>> 0);
  const c = fmix32((a ^ Math.imul(b, 0x27d4eb2f)) >>> 0);
  return Object.freeze({ hi: c, lo: b });
}

/** A key from a user seed (any finite number; non-integers are truncated, negatives wrap). */
export function keyFromSeed(seed: number): Key {
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const s = Math.trunc(seed);
  const lo = s >>> 0;
  const hi = Math.floor(s / 4294967296) >>> 0;
  return mixKey({ hi: fmix32(hi ^ 0x243f6a88), lo: fmix32(lo ^ 0x85a308d3) }, 0);
}

/** `n` independent child keys of `k`. */
export function split(k: Key, n = 2): Key[] {
  const out: Key[] = [];
  for (let i = 0; i < n; i++) out.push(mixKey(k, i + 1));
  return out;
}

/** A key derived from `k` and an integer, e.g. an iteration number. */
export function foldIn(k: Key, data: number): Key {
  return mixKey(mixKey(k, 0xffffffff), data);
}

const TWO_POW_M32 = 2 ** -32;
const TWO_POW_M53 = 2 ** -53;

/** A fast sequential generator (xoshiro128**) seeded from a key. Not shared: one per consumer. */
export class Stream {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare = 0;
  private hasSpare = false;

  constructor(k: Key) {
    // SplitMix-style expansion of the 64-bit key into 128 bits of state.
    const x = k.lo ^ 0x9e3779b9;
    const y = k.hi ^ 0x7f4a7c15;
    this.s0 = fmix32((x + 0x9e3779b9) >>> 0);
    this.s1 = fmix32(((y + 0x6a09e667) >>> 0) ^ this.s0);
    this.s2 = fmix32(((x + 0x3c6ef372) >>> 0) ^ this.s1);
    this.s3 = fmix32(((y + 0xbb67ae85) >>> 0) ^ this.s2);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next uniform uint32. */
  nextU32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2;
    const s3 = this.s3;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    this.s1 = s1 ^ n2;
    this.s0 = s0 ^ n3;
    this.s2 = n2 ^ t;
    this.s3 = rotl(n3, 11);
    return r;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextU32() >>> 5; // 27 bits
    const b = this.nextU32() >>> 6; // 26 bits
    return (a * 67108864 + b) * TWO_POW_M53;
  }

  /** Uniform double in (0, 1): safe to take the log of. */
  uniformOpen(): number {
    const a = this.nextU32() >>> 5;
    const b = this.nextU32() >>> 6;
    // For a·2^26 + b = 2^53 − 1, adding 0.5 rounds (ties to even) to 2^53, i.e. exactly 1: clamp that one case.
    const u = (a * 67108864 + b + 0.5) * TWO_POW_M53;
    return u < 1 ? u : 1 - TWO_POW_M53;
  }

  /** Standard normal (polar Box–Muller; the second variate is kept for the next call). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = this.nextU32() * (2 * TWO_POW_M32) - 1;
      v = this.nextU32() * (2 * TWO_POW_M32) - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * f;
    this.hasSpare = true;
    return u * f;
  }

  /** Integer uniform on {0, …, n−1}, without modulo bias (n ≤ 2^32). */
  integer(n: number): number {
    if (n <= 0) throw new RangeError("integer(n) needs n ≥ 1");
    const limit = 4294967296 - (4294967296 % n);
    let r: number;
    do r = this.nextU32();
    while (r >= limit);
    return r % n;
  }

  fillUniform<T extends Float64Array | Float32Array>(out: T): T {
    for (let i = 0; i < out.length; i++) {
      out[i] = this.uniform();
      // A Float32Array rounds draws above 1 − 2^−25 up to 1; keep them in [0, 1).
      if (out[i] === 1) out[i] = 1 - 2 ** -24;
    }
    return out;
  }

  fillNormal<T extends Float64Array | Float32Array>(out: T, mean = 0, std = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Fills `out` with U[0,1) draws from a fresh stream of `k`. */
export function uniform<T extends Float64Array | Float32Array>(k: Key, out: T): T {
  new Stream(k).fillUniform(out);
  return out;
}

/** Fills `out` with standard normal draws from a fresh stream of `k`. */
export function normal<T extends Float64Array | Float32Array>(k: Key, out: T): T {
  new Stream(k).fillNormal(out);
  return out;
}
