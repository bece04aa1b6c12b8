// exp and log from + − × ÷ and exact bit operations only: the twin of src/random/elementary.ts, operation
// for operation, so both give the same bits (the C library's exp/log and V8's differ in the last bit for a
// few percent of arguments). Used where the native and TypeScript paths must draw the same numbers: the
// per-chain ziggurat (chain_streams.h) and MALA's log u and acceptance probability.
//
// Compiled without floating-point contraction (the pragmas below): an a·b + c fused into one FMA rounds
// once instead of twice and would no longer match JavaScript.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif

namespace ebm {
namespace elementary {

constexpr double kLn2Hi = 6.93147180369123816490e-1;  // 0x3fe62e42 fee00000: e·kLn2Hi is exact
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kInvLn2 = 1.4426950408889634;
constexpr double kSqrt2 = 1.4142135623730951;
constexpr double kMinNormal = 2.2250738585072014e-308;
constexpr double kTwoPow54 = 18014398509481984.0;
constexpr double kTwoPowM64 = 5.421010862427522e-20;
constexpr double kExpMax = 709.782712893384;
constexpr double kExpMin = -745.1332191019412;

inline uint64_t bits_of(double x) {
  uint64_t b;
  std::memcpy(&b, &x, 8);
  return b;
}
inline double from_bits(uint64_t b) {
  double x;
  std::memcpy(&x, &b, 8);
  return x;
}
/** 2^k, k ∈ [−1022, 1023]. */
inline double pow2(int k) { return from_bits(static_cast<uint64_t>(k + 1023) << 52); }

}  // namespace elementary

/** portableLog of src/random/elementary.ts. */
inline double portable_log(double x) {
  using namespace elementary;
  if (!(x > 0)) return x == 0 ? -INFINITY : NAN;
  if (x == INFINITY) return x;
  int e = 0;
  if (x < kMinNormal) {
    x *= kTwoPow54;
    e = -54;
  }
  const uint64_t b = bits_of(x);
  e += static_cast<int>((b >> 52) & 0x7ff) - 1023;
  double m = from_bits((b & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);
  if (m > kSqrt2) {
    m *= 0.5;
    e += 1;
  }
  const double f = m - 1;
  const double s = f / (2 + f);
  const double z = s * s;
  double t = 2.0 / 23;
  t = 2.0 / 21 + z * t;
  t = 2.0 / 19 + z * t;
  t = 2.0 / 17 + z * t;
  t = 2.0 / 15 + z * t;
  t = 2.0 / 13 + z * t;
  t = 2.0 / 11 + z * t;
  t = 2.0 / 9 + z * t;
  t = 2.0 / 7 + z * t;
  t = 2.0 / 5 + z * t;
  t = 2.0 / 3 + z * t;
  const double r = z * t;
  const double hfsq = 0.5 * f * f;
  const double ed = static_cast<double>(e);
  return ed * kLn2Hi + (f - (hfsq - (s * (hfsq + r) + ed * kLn2Lo)));
}

/** portableExp of src/random/elementary.ts. */
inline double portable_exp(double x) {
  using namespace elementary;
  if (x != x) return x;
  if (x > kExpMax) return INFINITY;
  if (x < kExpMin) return 0;
  const double k = std::floor(x * kInvLn2 + 0.5);
  const double r = x - k * kLn2Hi - k * kLn2Lo;
  double p = 1.0 / 6227020800;
  p = 1.0 / 479001600 + r * p;
  p = 1.0 / 39916800 + r * p;
  p = 1.0 / 3628800 + r * p;
  p = 1.0 / 362880 + r * p;
  p = 1.0 / 40320 + r * p;
  p = 1.0 / 5040 + r * p;
  p = 1.0 / 720 + r * p;
  p = 1.0 / 120 + r * p;
  p = 1.0 / 24 + r * p;
  p = 1.0 / 6 + r * p;
  p = 0.5 + r * p;
  p = 1 + r * p;
  p = 1 + r * p;
  const int ki = static_cast<int>(k);
  if (ki > 1023) return p * pow2(ki - 1) * 2;
  if (ki < -1022) return p * pow2(ki + 64) * kTwoPowM64;
  return p * pow2(ki);
}

}  // namespace ebm

#if !defined(__clang__) && defined(__GNUC__)
#pragma GCC pop_options
#endif
