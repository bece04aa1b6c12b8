/**
 * Splittable random keys and the streams drawn from them.
 *
 * A `Key` is an immutable 64-bit value (two uint32 words). Randomness is never global: a function that
 * needs it takes a key, `split`s it into independent children, and draws from a `Stream` seeded by one
 * key. Same key, same numbers, bit for bit. Streams are xoshiro128** seeded through a SplitMix-style
 * mixer, and child keys are derived by hashing (parent, index), so sibling streams do not overlap in
 * practice.
 */

import { portableExp, portableLog } from "./elementary.ts";

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
export function mixKey(k: Key, data: number): Key {
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

const TWO_POW_M53 = 2 ** -53;
const TWO_POW_M55 = 2 ** -55;

/**
 * Ziggurat tables for the half normal f(x) = e^{−x²/2} with 256 layers of equal area v:
 * X[1] = r > X[2] > … > X[256] = 0, layer i ≥ 1 is the box [0, X[i]] × [f(X[i]), f(X[i+1])], and layer 0 is
 * the box [0, r] × [0, f(r)] plus the tail past r, drawn as a box of width X[0] = v / f(r).
 * r is solved here (bisection, float64) so that the layers close exactly at the top: equal areas are what
 * makes the method exact, so the tables are computed rather than copied. F[i] = f(X[i]). The tables and
 * the wedge and tail tests use the portable exp/log of elementary.ts, not Math's: hosts' libms differ in
 * the last bit (Node 20 against Chromium), and so would the tables, the accept decisions and the normals.
 */
const ZIG_LAYERS = 256;
const ZIG_X = new Float64Array(ZIG_LAYERS + 1);
const ZIG_F = new Float64Array(ZIG_LAYERS + 1);
const ZIG_R = solveZiggurat();

/** ∫_x^∞ e^{−t²/2} dt = e^{−x²/2}·M(x), Mills' ratio M by its continued fraction (x ≳ 3: 16 digits). */
function normalTail(x: number): number {
  let cf = x;
  for (let k = 200; k >= 1; k--) cf = x + k / cf;
  return portableExp(-0.5 * x * x) / cf;
}

/** Fills ZIG_X for base r; returns f(X[255]) + v/X[255] − 1 (zero when the top layer closes). */
function zigguratGap(r: number): number {
  const f = (x: number) => portableExp(-0.5 * x * x);
  const v = r * f(r) + normalTail(r);
  ZIG_X[0] = v / f(r);
  ZIG_X[1] = r;
  for (let i = 1; i < ZIG_LAYERS - 1; i++) {
    const y = v / ZIG_X[i] + f(ZIG_X[i]);
    if (y >= 1) return 1; // closed too early: r too small
    ZIG_X[i + 1] = Math.sqrt(-2 * portableLog(y));
  }
  return f(ZIG_X[ZIG_LAYERS - 1]) + v / ZIG_X[ZIG_LAYERS - 1] - 1;
}

function solveZiggurat(): number {
  let lo = 3.6;
  let hi = 3.7;
  for (let it = 0; it < 200 && hi - lo > 0; it++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi) break;
    if (zigguratGap(mid) > 0) lo = mid;
    else hi = mid;
  }
  zigguratGap(hi);
  ZIG_X[ZIG_LAYERS] = 0;
  for (let i = 0; i <= ZIG_LAYERS; i++) ZIG_F[i] = portableExp(-0.5 * ZIG_X[i] * ZIG_X[i]);
  return hi;
}

/** The ziggurat's base r (exported for tests; Marsaglia & Tsang give 3.6541528853610088). */
export const ZIGGURAT_R = ZIG_R;

/** The ziggurat tables, for native kernels that draw the same normals from a stream's state (read-only). */
export const ZIGGURAT_TABLES: { readonly x: Float64Array; readonly f: Float64Array; readonly r: number } = {
  x: ZIG_X,
  f: ZIG_F,
  r: ZIG_R,
};

/** A fast sequential generator (xoshiro128**) seeded from a key. Not shared: one per consumer. */
export class Stream {
  /**
   * xoshiro128** state. An Int32Array rather than four number fields: uint32 values above 2^30 do not fit
   * V8's small integers, so number fields would box a heap number on every store (measured 2.7× slower).
   */
  private readonly s = new Int32Array(4);

  constructor(k: Key) {
    // SplitMix-style expansion of the 64-bit key into 128 bits of state.
    const x = k.lo ^ 0x9e3779b9;
    const y = k.hi ^ 0x7f4a7c15;
    const s = this.s;
    s[0] = fmix32((x + 0x9e3779b9) >>> 0);
    s[1] = fmix32(((y + 0x6a09e667) >>> 0) ^ s[0]);
    s[2] = fmix32(((x + 0x3c6ef372) >>> 0) ^ s[1]);
    s[3] = fmix32(((y + 0xbb67ae85) >>> 0) ^ s[2]);
    if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  }

  /**
   * The generator's 4-word state, shared (not copied): native kernels that draw from this stream read and
   * advance it in place, so the stream continues where they stopped.
   */
  stateWords(): Int32Array {
    return this.s;
  }

  /** Next uniform uint32. */
  nextU32(): number {
    const s = this.s;
    const s0 = s[0];
    const s1 = s[1];
    const s2 = s[2];
    const s3 = s[3];
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    s[1] = s1 ^ n2;
    s[0] = s0 ^ n3;
    s[2] = n2 ^ t;
    s[3] = rotl(n3, 11);
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

  /**
   * Standard normal by Marsaglia & Tsang's ziggurat (256 layers, tables below). One attempt takes 64 bits:
   * 8 pick the layer, 1 the sign and 55 the position in the layer, so draws have full double resolution;
   * about 99% of attempts return at once (one table compare), the rest test the wedge or sample the tail.
   */
  normal(): number {
    const a = this.nextU32();
    return this.normalFrom(a, this.nextU32());
  }

  /** Finishes a ziggurat attempt whose two words a, b are drawn; retries (drawing more) until accepted. */
  private normalFrom(a: number, b: number): number {
    for (;;) {
      const i = a & 0xff;
      const sign = a & 0x100 ? -1 : 1;
      const z = ((a >>> 9) * 4294967296 + b) * TWO_POW_M55 * ZIG_X[i];
      if (z < ZIG_X[i + 1]) return sign * z;
      if (i === 0) {
        // The base strip past r: the tail of the half normal, by Marsaglia's exponential rejection.
        let x: number;
        let y: number;
        do {
          x = -portableLog(this.uniformOpen()) / ZIG_R;
          y = -portableLog(this.uniformOpen());
        } while (y + y < x * x);
        return sign * (ZIG_R + x);
      }
      if (ZIG_F[i] + this.uniform() * (ZIG_F[i + 1] - ZIG_F[i]) < portableExp(-0.5 * z * z)) return sign * z;
      a = this.nextU32();
      b = this.nextU32();
    }
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

  /**
   * mean + std·(the same normals as repeated `normal()` calls). The generator and the ziggurat's fast path
   * are inlined with the state in local variables (2× faster than calling normal() per element); the rare
   * wedge and tail cases go through normalFrom with the state written back.
   */
  fillNormal<T extends Float64Array | Float32Array>(out: T, mean = 0, std = 1): T {
    const st = this.s;
    let s0 = st[0];
    let s1 = st[1];
    let s2 = st[2];
    let s3 = st[3];
    for (let k = 0; k < out.length; k++) {
      // Two xoshiro128** words, as nextU32 computes them.
      let m = Math.imul(s1, 5);
      const a = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
      let t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      m = Math.imul(s1, 5);
      const b = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      const i = a & 0xff;
      const z = ((a >>> 9) * 4294967296 + b) * TWO_POW_M55 * ZIG_X[i];
      if (z < ZIG_X[i + 1]) {
        out[k] = mean + std * (a & 0x100 ? -z : z);
        continue;
      }
      st[0] = s0;
      st[1] = s1;
      st[2] = s2;
      st[3] = s3;
      out[k] = mean + std * this.normalFrom(a, b);
      s0 = st[0];
      s1 = st[1];
      s2 = st[2];
      s3 = st[3];
    }
    st[0] = s0;
    st[1] = s1;
    st[2] = s2;
    st[3] = s3;
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
