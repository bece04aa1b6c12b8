// Per-chain random streams, the twin of src/random/chains.ts: chain i's two xoshiro128** streams (main and
// retry) are seeded from (key, i) alone, so any thread or vector lane can draw any chain's numbers and get
// the TypeScript draws bit for bit. Here: the seeding, one chain's normals (the ziggurat of
// src/random/key.ts; the first attempt of the k-th normal uses main-stream words 2k and 2k + 1, the rare
// rest — wedge, tail, further attempts — the retry stream, with the portable exp/log of elementary.h), and
// `chain_normal_rows`, which fills row i of a matrix with chain i's next normals for a range of chains,
// 32 chains at a time in the lanes of four AVX2 registers. Because the main stream's position never depends
// on the values, the lanes run in lock step without branches; the ≈ 1.5% of attempts that fail the box test
// are recorded and finished afterwards, chain by chain in order, on their retry streams.
//
// States are kStateWords = 8 uint32 words per chain (main 4, retry 4; chain i at 8i … 8i + 7), read and
// advanced in place. Plain C++ on pointers (no N-API, no threads: callers split chains over the pool),
// compiled without floating-point contraction (the pragmas below), so every double operation rounds as in
// JavaScript.
#pragma once

#include <algorithm>
#include <cstdint>

#include "elementary.h"
#include "xoshiro.h"

#if defined(__AVX2__)
#include <immintrin.h>
#define EBM_CHAIN_STREAMS_AVX2 1
#endif

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif

namespace ebm {
namespace chain_streams {

constexpr uint32_t kMainDomain = 0xfffffffeu;
constexpr uint32_t kRetryDomain = 0xfffffffdu;
/** uint32 words of state per chain: the main stream's 4, then the retry stream's 4. */
constexpr long kStateWords = 8;

/** Stream's constructor for the key mixKey(base, d), into s[0 … 3]. */
inline void seed_stream(uint32_t base_hi, uint32_t base_lo, uint32_t d, uint32_t* s) {
  uint32_t hi = base_hi, lo = base_lo;
  mix_key(hi, lo, d);
  xoshiro_seed(hi, lo, s);
}

/** seedChainStates: the states of chains first … first + count − 1 of the key (hi, lo) into out[8i …]. */
inline void seed_chain_states(uint32_t key_hi, uint32_t key_lo, uint32_t first, long count, uint32_t* out) {
  uint32_t mhi = key_hi, mlo = key_lo, rhi = key_hi, rlo = key_lo;
  mix_key(mhi, mlo, kMainDomain);
  mix_key(rhi, rlo, kRetryDomain);
  for (long i = 0; i < count; i++) {
    const uint32_t d = first + static_cast<uint32_t>(i);
    seed_stream(mhi, mlo, d, out + kStateWords * i);
    seed_stream(rhi, rlo, d, out + kStateWords * i + 4);
  }
}

/** The ziggurat tables of src/random/key.ts (ZIGGURAT_TABLES, passed in by the caller). */
struct Ziggurat {
  const double* X;  // 257 layer edges
  const double* F;  // e^{−X²/2}
  double r;
};

/** First try of a ziggurat attempt from its two words: the value, whose magnitude is valid if < X[i+1]. */
inline double attempt(uint32_t a, uint32_t b, const Ziggurat& z) {
  return (static_cast<double>(a >> 9) * 4294967296.0 + static_cast<double>(b)) * 0x1p-55 * z.X[a & 0xff];
}

/**
 * normalFrom of src/random/chains.ts: finishes the attempt (a, b) drawn from a main stream, drawing from the
 * retry stream s as needed.
 */
inline double normal_from(uint32_t* s, uint32_t a, uint32_t b, const Ziggurat& zg) {
  for (;;) {
    const int i = a & 0xff;
    const bool neg = (a & 0x100) != 0;
    const double z = attempt(a, b, zg);
    if (z < zg.X[i + 1]) return neg ? -z : z;
    if (i == 0) {
      double x, y;
      do {
        x = -portable_log(xoshiro_uniform_open(s)) / zg.r;
        y = -portable_log(xoshiro_uniform_open(s));
      } while (y + y < x * x);
      return neg ? -(zg.r + x) : zg.r + x;
    }
    if (zg.F[i] + xoshiro_uniform(s) * (zg.F[i + 1] - zg.F[i]) < portable_exp(-0.5 * z * z)) return neg ? -z : z;
    a = xoshiro_next(s);
    b = xoshiro_next(s);
  }
}

/** chainFillNormal: out[0 … len − 1] ← the next normals of the chain whose state (8 words) is st. */
inline void fill_normal(uint32_t* st, double* out, long len, const Ziggurat& zg) {
  uint32_t m[4] = {st[0], st[1], st[2], st[3]};
  for (long k = 0; k < len; k++) {
    const uint32_t a = xoshiro_next(m);
    const uint32_t b = xoshiro_next(m);
    const double z = attempt(a, b, zg);
    out[k] = z < zg.X[(a & 0xff) + 1] ? ((a & 0x100) ? -z : z) : normal_from(st + 4, a, b, zg);
  }
  for (int j = 0; j < 4; j++) st[j] = m[j];
}

#ifdef EBM_CHAIN_STREAMS_AVX2

template <int K>
inline __m256i rotl8(__m256i x) {
  return _mm256_or_si256(_mm256_slli_epi32(x, K), _mm256_srli_epi32(x, 32 - K));
}

/** Eight xoshiro128** streams, one per 32-bit lane. */
struct Lanes8 {
  __m256i s0, s1, s2, s3;

  inline __m256i next() {
    const __m256i m = rotl8<7>(_mm256_add_epi32(s1, _mm256_slli_epi32(s1, 2)));  // rotl(s1·5, 7)
    const __m256i r = _mm256_add_epi32(m, _mm256_slli_epi32(m, 3));               // ·9
    const __m256i t = _mm256_slli_epi32(s1, 9);
    s2 = _mm256_xor_si256(s2, s0);
    s3 = _mm256_xor_si256(s3, s1);
    s1 = _mm256_xor_si256(s1, s2);
    s0 = _mm256_xor_si256(s0, s3);
    s2 = _mm256_xor_si256(s2, t);
    s3 = rotl8<11>(s3);
    return r;
  }
  /** Loads the main streams of chains 0 … 7 of `st` (kStateWords words each). */
  inline void load(const uint32_t* st) {
    const __m256i idx = _mm256_setr_epi32(0, 8, 16, 24, 32, 40, 48, 56);
    const int* p = reinterpret_cast<const int*>(st);
    s0 = _mm256_i32gather_epi32(p, idx, 4);
    s1 = _mm256_i32gather_epi32(p + 1, idx, 4);
    s2 = _mm256_i32gather_epi32(p + 2, idx, 4);
    s3 = _mm256_i32gather_epi32(p + 3, idx, 4);
  }
  /** Word j of lane l to and from w[j][l]. */
  inline void store_lanes(uint32_t (*w)[8]) const {
    _mm256_store_si256(reinterpret_cast<__m256i*>(w[0]), s0);
    _mm256_store_si256(reinterpret_cast<__m256i*>(w[1]), s1);
    _mm256_store_si256(reinterpret_cast<__m256i*>(w[2]), s2);
    _mm256_store_si256(reinterpret_cast<__m256i*>(w[3]), s3);
  }
  inline void load_lanes(const uint32_t (*w)[8]) {
    s0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w[0]));
    s1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w[1]));
    s2 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w[2]));
    s3 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w[3]));
  }
  /** Stores the main streams back into st (chain l at kStateWords·l …). */
  inline void store(uint32_t* st) const {
    alignas(32) uint32_t w[4][8];
    store_lanes(w);
    for (int l = 0; l < 8; l++)
      for (int j = 0; j < 4; j++) st[kStateWords * l + j] = w[j][l];
  }
};

/** attempt() for four lanes: words a, b (low 32 bits of 64-bit lanes hold nothing: a, b are 4 × uint32). */
inline __m256d attempt4(__m128i a, __m128i b, __m256d x) {
  const __m256d hi = _mm256_cvtepi32_pd(_mm_srli_epi32(a, 9));  // < 2^23: exact
  // uint32 → double, exact: convert b − 2^31 as int32, add 2^31 back.
  const __m256d lo = _mm256_add_pd(_mm256_cvtepi32_pd(_mm_xor_si128(b, _mm_set1_epi32(INT32_MIN))),
                                   _mm256_set1_pd(2147483648.0));
  const __m256d t = _mm256_add_pd(_mm256_mul_pd(hi, _mm256_set1_pd(4294967296.0)), lo);
  return _mm256_mul_pd(_mm256_mul_pd(t, _mm256_set1_pd(0x1p-55)), x);
}

/** X[i] for four int32 indices (the masked gather: GCC 12 warns about the plain one's unset source). */
inline __m256d gather4(const double* X, __m128i i) {
  const __m256d all = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
  return _mm256_mask_i32gather_pd(_mm256_setzero_pd(), X, i, all, 8);
}

/** Sign of four lanes: bit 8 of a moved to bit 63. */
inline __m256d sign4(__m128i a) {
  const __m256i a64 = _mm256_cvtepu32_epi64(a);
  return _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_and_si256(a64, _mm256_set1_epi64x(0x100)), 55));
}

/**
 * Chains 0 … 8G − 1 of `st`: out[c·ld + k] ← chain c's k-th next normal, k < len. Per block of draws:
 * (1) the G groups of eight lanes draw their main-stream words, interleaved (one group's xoshiro is a
 * dependency chain; G of them keep the core busy); (2) the box test and value of every attempt, vector by
 * vector (no loop-carried dependency), written to the rows through 4 × 4 transposes; (3) the attempts that
 * failed the test (≈ 1.5%), finished by normal_from on their chain's retry stream, in k order per chain.
 */
template <int G>
inline void fill_normal_lanes(uint32_t* st, double* out, long ld, long len, const Ziggurat& zg) {
  constexpr int kBlock = 32;  // draws per block: words 2 × G KiB, values 2 KiB
  Lanes8 lanes[G];
  for (int g = 0; g < G; g++) lanes[g].load(st + kStateWords * 8 * g);
  const __m256i low8 = _mm256_set1_epi32(0xff);
  alignas(32) uint32_t wa[G][kBlock][8], wb[G][kBlock][8];
  alignas(32) double v[kBlock][8];
  int ok[kBlock];
  for (long k0 = 0; k0 < len; k0 += kBlock) {
    const int m = static_cast<int>(std::min<long>(kBlock, len - k0));
    for (int q = 0; q < m; q++)
      for (int g = 0; g < G; g++) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(wa[g][q]), lanes[g].next());
        _mm256_store_si256(reinterpret_cast<__m256i*>(wb[g][q]), lanes[g].next());
      }
    for (int g = 0; g < G; g++) {
      double* rows = out + 8 * g * ld;
      for (int q = 0; q < m; q++) {
        const __m256i a = _mm256_load_si256(reinterpret_cast<const __m256i*>(wa[g][q]));
        const __m256i b = _mm256_load_si256(reinterpret_cast<const __m256i*>(wb[g][q]));
        const __m256i i = _mm256_and_si256(a, low8);
        const __m128i i0 = _mm256_castsi256_si128(i), i1 = _mm256_extracti128_si256(i, 1);
        const __m128i a0 = _mm256_castsi256_si128(a), a1 = _mm256_extracti128_si256(a, 1);
        const __m128i b0 = _mm256_castsi256_si128(b), b1 = _mm256_extracti128_si256(b, 1);
        const __m256d z0 = attempt4(a0, b0, gather4(zg.X, i0));
        const __m256d z1 = attempt4(a1, b1, gather4(zg.X, i1));
        ok[q] = _mm256_movemask_pd(_mm256_cmp_pd(z0, gather4(zg.X + 1, i0), _CMP_LT_OQ)) |
                _mm256_movemask_pd(_mm256_cmp_pd(z1, gather4(zg.X + 1, i1), _CMP_LT_OQ)) << 4;
        _mm256_store_pd(v[q], _mm256_xor_pd(z0, sign4(a0)));
        _mm256_store_pd(v[q] + 4, _mm256_xor_pd(z1, sign4(a1)));
      }
      // v[q][l] → rows[l·ld + k0 + q]: 4 × 4 transposes, then the leftover draws.
      int q = 0;
      for (; q + 4 <= m; q += 4)
        for (int l0 = 0; l0 < 8; l0 += 4) {
          const __m256d r0 = _mm256_load_pd(v[q] + l0), r1 = _mm256_load_pd(v[q + 1] + l0);
          const __m256d r2 = _mm256_load_pd(v[q + 2] + l0), r3 = _mm256_load_pd(v[q + 3] + l0);
          const __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
          const __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
          double* o = rows + l0 * ld + k0 + q;
          _mm256_storeu_pd(o, _mm256_permute2f128_pd(t0, t2, 0x20));
          _mm256_storeu_pd(o + ld, _mm256_permute2f128_pd(t1, t3, 0x20));
          _mm256_storeu_pd(o + 2 * ld, _mm256_permute2f128_pd(t0, t2, 0x31));
          _mm256_storeu_pd(o + 3 * ld, _mm256_permute2f128_pd(t1, t3, 0x31));
        }
      for (; q < m; q++)
        for (int l = 0; l < 8; l++) rows[l * ld + k0 + q] = v[q][l];
      for (q = 0; q < m; q++) {
        if (ok[q] == 0xff) continue;
        for (int l = 0; l < 8; l++)
          if (!(ok[q] >> l & 1)) {
            uint32_t* retry = st + kStateWords * (8 * g + l) + 4;
            rows[l * ld + k0 + q] = normal_from(retry, wa[g][q][l], wb[g][q][l], zg);
          }
      }
    }
  }
  for (int g = 0; g < G; g++) lanes[g].store(st + kStateWords * 8 * g);
}

#endif  // EBM_CHAIN_STREAMS_AVX2

/**
 * Chains c0 … c1 − 1: out[i·ld + k] ← chain i's next len normals (k < len), states[8i …] advanced. Eight
 * chains at a time in vector lanes where available, the rest one by one: the same numbers either way.
 */
inline void chain_normal_rows(uint32_t* states, long c0, long c1, long len, const Ziggurat& zg, double* out,
                              long ld) {
  long i = c0;
#ifdef EBM_CHAIN_STREAMS_AVX2
  for (; i + 32 <= c1; i += 32) fill_normal_lanes<4>(states + kStateWords * i, out + i * ld, ld, len, zg);
  for (; i + 8 <= c1; i += 8) fill_normal_lanes<1>(states + kStateWords * i, out + i * ld, ld, len, zg);
#endif
  for (; i < c1; i++) fill_normal(states + kStateWords * i, out + i * ld, len, zg);
}

}  // namespace chain_streams
}  // namespace ebm

#if !defined(__clang__) && defined(__GNUC__)
#pragma GCC pop_options
#endif
