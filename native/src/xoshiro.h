// xoshiro128** as src/random/key.ts's Stream draws it: the next 32-bit word, and the two uniform doubles
// built from two words (53 random bits). Kernels that must reproduce a Stream's draws use these on a copy
// of its 4-word state.
#pragma once

#include <cstdint>

namespace ebm {

inline uint32_t rotl32(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

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
