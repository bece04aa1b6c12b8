/**
 * Per-chain random streams: every chain of a batch draws from its own xoshiro128** generators, seeded from
 * (key, chain index) alone. A chain's draws therefore do not depend on how many chains there are, on the
 * order in which chains are drawn, or on which thread or vector lane draws them: a native kernel can split
 * the chains over threads, run eight of them in the lanes of a vector register, and still produce exactly
 * the TypeScript draws (the twin is native/src/chain_streams.h). One `Stream` for the batch cannot be
 * split that way: its draws are one sequence.
 *
 * Derivation. Chain i has two streams:
 * - its main stream, `new Stream(chainKey(key, i))` with chainKey(key, i) = mixKey(mixKey(key, 0xfffffffe), i):
 *   words, `uniform` and `uniformOpen` are that Stream's, bit for bit;
 * - its retry stream, `new Stream(retryKey(key, i))` with retryKey(key, i) = mixKey(mixKey(key, 0xfffffffd), i),
 *   used only by the normals' rare retries (below).
 * mixKey (src/random/key.ts) is built from murmur3's bijective finalizer and is injective in its word, so
 * distinct chains get distinct keys; the domain words keep both families apart from each other and from
 * `split` and `foldIn` children.
 *
 * Normals: the ziggurat of `Stream.normal` (same tables, 64 bits per attempt). A chain's k-th normal makes
 * its first attempt with words 2k and 2k + 1 of the main stream; that attempt succeeds ≈ 98.5% of the
 * time, and otherwise (the wedge test, the tail, further attempts) the draw continues on the chain's retry
 * stream. So after m normals the main stream is exactly 2m words in, whatever the values: vector code can
 * draw eight chains in lock step without branching and finish the rare cases afterwards. The wedge and
 * tail use exp and log from ./elementary.ts (+ − × ÷ only), so the native twin agrees bit for bit; the
 * draws are exact N(0, 1) as with `Stream.normal`, but not the same numbers.
 *
 * State: CHAIN_STATE_WORDS = 8 Int32 words per chain (main stream then retry stream), chain i at
 * 8i … 8i + 7 (`stateWords()`), shared with kernels that advance it in place.
 */
import { defineKernel } from "../kernels/registry.ts";
import { portableExp, portableLog } from "./elementary.ts";
import { type Key, mixKey, ZIGGURAT_TABLES } from "./key.ts";

/** Int32 words of state per chain: the main stream's 4, then the retry stream's 4. */
export const CHAIN_STATE_WORDS = 8;

/** Domain words: chainKey(k, i) = mixKey(mixKey(k, MAIN_DOMAIN), i), retryKey likewise. */
const MAIN_DOMAIN = 0xfffffffe;
const RETRY_DOMAIN = 0xfffffffd;
const TWO_POW_M53 = 2 ** -53;
const TWO_POW_M55 = 2 ** -55;
const ZIG_X = ZIGGURAT_TABLES.x;
const ZIG_F = ZIGGURAT_TABLES.f;
const ZIG_R = ZIGGURAT_TABLES.r;

/** The key whose Stream is chain `chain`'s main stream under `key` (chain: integer in [0, 2^32)). */
export function chainKey(key: Key, chain: number): Key {
  return mixKey(mixKey(key, MAIN_DOMAIN), chain);
}

/** The key whose Stream is chain `chain`'s retry stream under `key`. */
export function retryKey(key: Key, chain: number): Key {
  return mixKey(mixKey(key, RETRY_DOMAIN), chain);
}

/**
 * Writes the states of chains first … first + count − 1 of `key` into out[8i … 8i + 7], i = 0 … count − 1.
 * Runs the selected backend's CHAIN_STREAMS_SEED.
 */
export function seedChainStates(key: Key, first: number, count: number, out: Int32Array): Int32Array {
  if (!(Number.isInteger(first) && first >= 0 && Number.isInteger(count) && count >= 0))
    throw new RangeError(`chains must be non-negative integers, got first ${first}, count ${count}`);
  if (first + count > 2 ** 32) throw new RangeError(`chain indices must be below 2^32`);
  if (out.length < CHAIN_STATE_WORDS * count)
    throw new RangeError(`state must hold ${CHAIN_STATE_WORDS * count} words, got ${out.length}`);
  CHAIN_STREAMS_SEED.get()!(key, first, count, out);
  return out;
}

/**
 * The seeding loop behind seedChainStates (arguments already checked): a kernel, so that a backend can run
 * it (this loop costs ≈ 40 µs per 1000 chains; the native addon's a few µs).
 */
export type ChainSeedKernel = (key: Key, first: number, count: number, out: Int32Array) => void;

function seedLoop(key: Key, first: number, count: number, out: Int32Array): void {
  seedFamily(mixKey(key, MAIN_DOMAIN), first, count, out, 0);
  seedFamily(mixKey(key, RETRY_DOMAIN), first, count, out, 4);
}

/** fmix32 of key.ts on int32 values (the same bits, as an int32). */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b | 0);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35 | 0);
  return h ^ (h >>> 16);
}

/**
 * out[8i + at … 8i + at + 3] ← the state of new Stream(mixKey(base, first + i)), in int32 arithmetic (V8
 * keeps int32 values unboxed; the same bits as key.ts's uint32 forms, which the tests check).
 */
function seedFamily(base: Key, first: number, count: number, out: Int32Array, at: number): void {
  const bhi = base.hi | 0;
  const blo = base.lo | 0;
  for (let i = 0; i < count; i++) {
    const d = (first + i) | 0;
    const a = fmix(bhi ^ Math.imul((d + 0x9e3779b9) | 0, 0x7feb352d));
    const lo = fmix(blo ^ a ^ Math.imul((d + 0x632be5ab) | 0, 0x846ca68b | 0));
    const hi = fmix(a ^ Math.imul(lo, 0x27d4eb2f));
    const x = lo ^ (0x9e3779b9 | 0);
    const y = hi ^ 0x7f4a7c15;
    const s0 = fmix((x + 0x9e3779b9) | 0);
    const s1 = fmix(((y + 0x6a09e667) | 0) ^ s0);
    const s2 = fmix(((x + 0x3c6ef372) | 0) ^ s1);
    const s3 = fmix(((y + 0xbb67ae85) | 0) ^ s2);
    const o = CHAIN_STATE_WORDS * i + at;
    out[o] = (s0 | s1 | s2 | s3) === 0 ? 1 : s0;
    out[o + 1] = s1;
    out[o + 2] = s2;
    out[o + 3] = s3;
  }
}

export const CHAIN_STREAMS_SEED = defineKernel<ChainSeedKernel>("random.chainStreams.seed", seedLoop);

/** Next word (uint32) of the xoshiro128** state at s[o … o + 3] (Stream.nextU32). */
export function chainNextU32(s: Int32Array, o: number): number {
  const s0 = s[o];
  const s1 = s[o + 1];
  const s2 = s[o + 2];
  const s3 = s[o + 3];
  const m = Math.imul(s1, 5);
  const r = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
  const t = s1 << 9;
  const n2 = s2 ^ s0;
  const n3 = s3 ^ s1;
  s[o + 1] = s1 ^ n2;
  s[o] = s0 ^ n3;
  s[o + 2] = n2 ^ t;
  s[o + 3] = (n3 << 11) | (n3 >>> 21);
  return r;
}

/** Stream.uniform on the state at s[o]: [0, 1), 53 bits. */
export function chainUniform(s: Int32Array, o: number): number {
  const a = chainNextU32(s, o) >>> 5;
  const b = chainNextU32(s, o) >>> 6;
  return (a * 67108864 + b) * TWO_POW_M53;
}

/** Stream.uniformOpen on the state at s[o]: (0, 1). */
export function chainUniformOpen(s: Int32Array, o: number): number {
  const a = chainNextU32(s, o) >>> 5;
  const b = chainNextU32(s, o) >>> 6;
  const u = (a * 67108864 + b + 0.5) * TWO_POW_M53;
  return u < 1 ? u : 1 - TWO_POW_M53;
}

/**
 * Finishes a ziggurat attempt whose words a, b came from a chain's main stream: the box test, then
 * (rarely) the tail or wedge test and further attempts, drawing from the retry stream at s[r … r + 3].
 */
function normalFrom(s: Int32Array, r: number, a: number, b: number): number {
  for (;;) {
    const i = a & 0xff;
    const neg = (a & 0x100) !== 0;
    const z = ((a >>> 9) * 4294967296 + b) * TWO_POW_M55 * ZIG_X[i];
    if (z < ZIG_X[i + 1]) return neg ? -z : z;
    if (i === 0) {
      // The tail past r, by Marsaglia's exponential rejection.
      let x: number;
      let y: number;
      do {
        x = -portableLog(chainUniformOpen(s, r)) / ZIG_R;
        y = -portableLog(chainUniformOpen(s, r));
      } while (y + y < x * x);
      return neg ? -(ZIG_R + x) : ZIG_R + x;
    }
    if (ZIG_F[i] + chainUniform(s, r) * (ZIG_F[i + 1] - ZIG_F[i]) < portableExp(-0.5 * z * z))
      return neg ? -z : z;
    a = chainNextU32(s, r);
    b = chainNextU32(s, r);
  }
}

/** The next standard normal of the chain whose state starts at s[o] (8 words). */
export function chainNormal(s: Int32Array, o: number): number {
  const a = chainNextU32(s, o);
  return normalFrom(s, o + 4, a, chainNextU32(s, o));
}

/**
 * out[start … end − 1] ← the next standard normals of the chain whose state starts at s[o] (as repeated
 * chainNormal calls; the main generator and the box test inlined with the state in locals).
 */
export function chainFillNormal(
  s: Int32Array,
  o: number,
  out: Float64Array | Float32Array,
  start: number,
  end: number,
): void {
  let s0 = s[o];
  let s1 = s[o + 1];
  let s2 = s[o + 2];
  let s3 = s[o + 3];
  for (let k = start; k < end; k++) {
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
    out[k] = z < ZIG_X[i + 1] ? (a & 0x100 ? -z : z) : normalFrom(s, o + 4, a, b);
  }
  s[o] = s0;
  s[o + 1] = s1;
  s[o + 2] = s2;
  s[o + 3] = s3;
}

/**
 * The chain-normals kernel: row i of `out` (n × dim, n = states.length / 8) ← chain i's next dim standard
 * normals, states advanced (as chainFillNormal per chain). Native backends split the chains over threads.
 */
export type ChainNormalsKernel = (states: Int32Array, out: Float64Array, dim: number) => void;

export const CHAIN_NORMALS = defineKernel<ChainNormalsKernel>(
  "random.chainStreams.normal",
  (states, out, dim) => {
    const n = states.length / CHAIN_STATE_WORDS;
    for (let i = 0; i < n; i++) chainFillNormal(states, CHAIN_STATE_WORDS * i, out, i * dim, (i + 1) * dim);
  },
);

/**
 * n chains' streams, chain i's being chain first + i of `key`. Use one per batch and step (e.g. from
 * `foldIn(key, t)`), like a Stream; the chains' draws are independent of each other and of n.
 */
export class ChainStreams {
  readonly n: number;
  private readonly s: Int32Array;

  constructor(key: Key, n: number, first = 0) {
    this.n = n;
    this.s = seedChainStates(key, first, n, new Int32Array(CHAIN_STATE_WORDS * n));
  }

  /** The 8n state words (chain i at 8i … 8i + 7), shared: kernels that draw from it advance it in place. */
  stateWords(): Int32Array {
    return this.s;
  }

  private offset(chain: number): number {
    if (!(Number.isInteger(chain) && chain >= 0 && chain < this.n))
      throw new RangeError(`chain must be an integer in [0, ${this.n}), got ${chain}`);
    return CHAIN_STATE_WORDS * chain;
  }

  /** Chain `chain`'s next uniform uint32 (main stream). */
  nextU32(chain: number): number {
    return chainNextU32(this.s, this.offset(chain));
  }

  /** Chain `chain`'s next uniform double in [0, 1). */
  uniform(chain: number): number {
    return chainUniform(this.s, this.offset(chain));
  }

  /** Chain `chain`'s next uniform double in (0, 1). */
  uniformOpen(chain: number): number {
    return chainUniformOpen(this.s, this.offset(chain));
  }

  /** Chain `chain`'s next standard normal. */
  normal(chain: number): number {
    return chainNormal(this.s, this.offset(chain));
  }

  /** out[start … end − 1] ← chain `chain`'s next standard normals. */
  fillNormal<T extends Float64Array | Float32Array>(chain: number, out: T, start = 0, end = out.length): T {
    chainFillNormal(this.s, this.offset(chain), out, start, end);
    return out;
  }

  /** out[start … end − 1] ← chain `chain`'s next uniforms in [0, 1). */
  fillUniform<T extends Float64Array | Float32Array>(chain: number, out: T, start = 0, end = out.length): T {
    const o = this.offset(chain);
    for (let k = start; k < end; k++) {
      out[k] = chainUniform(this.s, o);
      if (out[k] === 1) out[k] = 1 - 2 ** -24; // a Float32Array rounds draws above 1 − 2^−25 up to 1
    }
    return out;
  }

  /** Row i of the n × dim matrix `out` ← chain i's next dim standard normals, for every chain. */
  fillNormalRows<T extends Float64Array | Float32Array>(out: T, dim: number): T {
    if (out.length < this.n * dim) throw new RangeError(`out must hold ${this.n * dim} values`);
    for (let i = 0; i < this.n; i++)
      chainFillNormal(this.s, CHAIN_STATE_WORDS * i, out, i * dim, (i + 1) * dim);
    return out;
  }
}
