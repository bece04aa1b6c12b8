// xoshiro128** as src/random/key.ts's Stream draws it: the key mixer, the seeding of a Stream from a key,
// the next 32-bit word, and the two uniform doubles built from two words (53 random bits). Kernels that
// must reproduce a Stream's draws use these on a copy of its 4-word state.
#pragma once

#include <cstdint>

namespace ebm {

inline uint32_t rotl32(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

/** murmur3's 32-bit finalizer (key.ts fmix32). */
inline uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

/** key.ts mixKey: (hi, lo) ← the key (hi, lo) mixed with the word d. */
inline void mix_key(uint32_t& hi, uint32_t& lo, uint32_t d) {
  const uint32_t a = fmix32(hi ^ ((d + 0x9e3779b9u) * 0x7feb352du));
  const uint32_t b = fmix32(lo ^ a ^ ((d + 0x632be5abu) * 0x846ca68bu));
  hi = fmix32(a ^ (b * 0x27d4eb2fu));
  lo = b;
}

/** new Stream({hi, lo}): the 4-word state, into s. */
inline void xoshiro_seed(uint32_t hi, uint32_t lo, uint32_t* s) {
  const uint32_t x = lo ^ 0x9e3779b9u;
  const uint32_t y = hi ^ 0x7f4a7c15u;
  s[0] = fmix32(x + 0x9e3779b9u);
  s[1] = fmix32((y + 0x6a09e667u) ^ s[0]);
  s[2] = fmix32((x + 0x3c6ef372u) ^ s[1]);
  s[3] = fmix32((y + 0xbb67ae85u) ^ s[2]);
  if ((s[0] | s[1] | s[2] | s[3]) == 0) s[0] = 1;
}

/** Stream.nextU32: the next word; advances s. */
inline uint32_t xoshiro_next(uint32_t* s) {
  const uint32_t r = rotl32(s[1] * 5u, 7) * 9u;
  const uint32_t t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl32(s[3], 11);
  return r;
}

/** Stream.uniform: [0, 1). */
inline double xoshiro_uniform(uint32_t* s) {
  const double a = static_cast<double>(xoshiro_next(s) >> 5);
  const double b = static_cast<double>(xoshiro_next(s) >> 6);
  return (a * 67108864.0 + b) * 0x1p-53;
}

/** Stream.uniformOpen: (0, 1), safe to take the log of. */
inline double xoshiro_uniform_open(uint32_t* s) {
  const double a = static_cast<double>(xoshiro_next(s) >> 5);
  const double b = static_cast<double>(xoshiro_next(s) >> 6);
  const double u = (a * 67108864.0 + b + 0.5) * 0x1p-53;
  return u < 1 ? u : 1 - 0x1p-53;
}

}  // namespace ebm
