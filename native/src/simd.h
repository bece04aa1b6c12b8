// A thin float32 SIMD wrapper for the MLP jet kernel (mlp.cc, activation_jets.h): one vector type `V` of
// kWidth lanes — AVX-512 (16 lanes) when the compiler targets it (-march=native on an AVX-512 machine),
// else AVX2+FMA (8 lanes), else WebAssembly SIMD128 (4 lanes, -msimd128), else scalar (1 lane) — with the
// arithmetic, comparisons and selects the activation jets need, plus exp and log1p.
//
// exp is the Cephes-style polynomial of activations.h (same constants, same clamping to [−87, 88], same
// FMA evaluation), so a lane of exp(x) equals activations.h's exp8/exp1 of the same x. WebAssembly SIMD128
// has no fused multiply-add: there `fma(a, b, c)` is a·b + c with two roundings (in activations.h too), so
// the wasm build agrees with the x86 one to float32 rounding, not bit for bit; every wasm engine computes
// the same bits. log1p(e) for
// e ∈ [0, 1] (softplus) is log(1 + e)·e/((1 + e) − 1), exact to a few ulps also for tiny e, with a
// Cephes logf polynomial on the mantissa.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
// GCC 12 reports its own _mm512_undefined_ps() as "may be used uninitialized" when min/max/abs intrinsics are
// inlined (a known false positive): silence it for the intrinsics header only. This header must then be
// included before any other that includes <immintrin.h>.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#elif defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

namespace ebm {
namespace simd {

namespace k {
constexpr float kExpLo = -87.0f, kExpHi = 88.0f;
constexpr float kLog2e = 1.44269504088896341f, kC1 = 0.693359375f, kC2 = -2.12194440e-4f;
constexpr float kP0 = 1.9875691500e-4f, kP1 = 1.3981999507e-3f, kP2 = 8.3334519073e-3f, kP3 = 4.1665795894e-2f,
                kP4 = 1.6666665459e-1f, kP5 = 5.0000001201e-1f;
constexpr float kSqrtHalf = 0.707106781186547524f;
constexpr float kL0 = 7.0376836292e-2f, kL1 = -1.1514610310e-1f, kL2 = 1.1676998740e-1f, kL3 = -1.2420140846e-1f,
                kL4 = 1.4249322787e-1f, kL5 = -1.6668057665e-1f, kL6 = 2.0000714765e-1f, kL7 = -2.4999993993e-1f,
                kL8 = 3.3333331174e-1f;
}  // namespace k

#if defined(__AVX512F__)

#define EBM_SIMD_AVX512 1
constexpr int kWidth = 16;
struct V {
  __m512 v;
};
using M = __mmask16;
inline V load(const float* p) { return {_mm512_loadu_ps(p)}; }
inline void store(float* p, V a) { _mm512_storeu_ps(p, a.v); }
inline V set1(float x) { return {_mm512_set1_ps(x)}; }
inline V zero() { return {_mm512_setzero_ps()}; }
inline V operator+(V a, V b) { return {_mm512_add_ps(a.v, b.v)}; }
inline V operator-(V a, V b) { return {_mm512_sub_ps(a.v, b.v)}; }
inline V operator*(V a, V b) { return {_mm512_mul_ps(a.v, b.v)}; }
inline V operator/(V a, V b) { return {_mm512_div_ps(a.v, b.v)}; }
/** a·b + c, one rounding. */
inline V fma(V a, V b, V c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
/** c − a·b, one rounding. */
inline V fnma(V a, V b, V c) { return {_mm512_fnmadd_ps(a.v, b.v, c.v)}; }
inline V min(V a, V b) { return {_mm512_min_ps(a.v, b.v)}; }
inline V max(V a, V b) { return {_mm512_max_ps(a.v, b.v)}; }
inline V abs(V a) { return {_mm512_abs_ps(a.v)}; }
inline V floor(V a) { return {_mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)}; }
/** Copies the sign of s onto |a|. */
inline V copysign(V a, V s) {
  const __m512i m = _mm512_set1_epi32(0x80000000);
  return {_mm512_castsi512_ps(_mm512_or_si512(_mm512_andnot_si512(m, _mm512_castps_si512(a.v)),
                                              _mm512_and_si512(m, _mm512_castps_si512(s.v))))};
}
inline M gt(V a, V b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ); }
inline M ge(V a, V b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_GE_OQ); }
inline M eq(V a, V b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_EQ_OQ); }
/** m ? a : b, lane by lane. */
inline V select(M m, V a, V b) { return {_mm512_mask_blend_ps(m, b.v, a.v)}; }
/** 2^n for integral-valued n (|n| ≤ 127). */
inline V pow2n(V n) {
  return {_mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvttps_epi32(n.v), _mm512_set1_epi32(127)), 23))};
}
/** Mantissa in [0.5, 1) and exponent (as float) of positive normal x: x = m·2^e. */
inline void frexp(V x, V& m, V& e) {
  const __m512i xi = _mm512_castps_si512(x.v);
  const __m512i ex = _mm512_sub_epi32(_mm512_srli_epi32(xi, 23), _mm512_set1_epi32(126));
  e = {_mm512_cvtepi32_ps(ex)};
  m = {_mm512_castsi512_ps(_mm512_or_si512(_mm512_and_si512(xi, _mm512_set1_epi32(0x007fffff)),
                                           _mm512_set1_epi32(0x3f000000)))};
}
/** Σ lanes, in a fixed order (deterministic). */
inline float hsum(V a) { return _mm512_reduce_add_ps(a.v); }

#elif defined(__AVX2__) && defined(__FMA__)

#define EBM_SIMD_AVX2 1
constexpr int kWidth = 8;
struct V {
  __m256 v;
};
using M = __m256;
inline V load(const float* p) { return {_mm256_loadu_ps(p)}; }
inline void store(float* p, V a) { _mm256_storeu_ps(p, a.v); }
inline V set1(float x) { return {_mm256_set1_ps(x)}; }
inline V zero() { return {_mm256_setzero_ps()}; }
inline V operator+(V a, V b) { return {_mm256_add_ps(a.v, b.v)}; }
inline V operator-(V a, V b) { return {_mm256_sub_ps(a.v, b.v)}; }
inline V operator*(V a, V b) { return {_mm256_mul_ps(a.v, b.v)}; }
inline V operator/(V a, V b) { return {_mm256_div_ps(a.v, b.v)}; }
inline V fma(V a, V b, V c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
inline V fnma(V a, V b, V c) { return {_mm256_fnmadd_ps(a.v, b.v, c.v)}; }
inline V min(V a, V b) { return {_mm256_min_ps(a.v, b.v)}; }
inline V max(V a, V b) { return {_mm256_max_ps(a.v, b.v)}; }
inline V abs(V a) { return {_mm256_andnot_ps(_mm256_set1_ps(-0.0f), a.v)}; }
inline V floor(V a) { return {_mm256_floor_ps(a.v)}; }
inline V copysign(V a, V s) {
  const __m256 m = _mm256_set1_ps(-0.0f);
  return {_mm256_or_ps(_mm256_andnot_ps(m, a.v), _mm256_and_ps(m, s.v))};
}
inline M gt(V a, V b) { return _mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ); }
inline M ge(V a, V b) { return _mm256_cmp_ps(a.v, b.v, _CMP_GE_OQ); }
inline M eq(V a, V b) { return _mm256_cmp_ps(a.v, b.v, _CMP_EQ_OQ); }
inline V select(M m, V a, V b) { return {_mm256_blendv_ps(b.v, a.v, m)}; }
inline V pow2n(V n) {
  return {_mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(n.v), _mm256_set1_epi32(127)), 23))};
}
inline void frexp(V x, V& m, V& e) {
  const __m256i xi = _mm256_castps_si256(x.v);
  const __m256i ex = _mm256_sub_epi32(_mm256_srli_epi32(xi, 23), _mm256_set1_epi32(126));
  e = {_mm256_cvtepi32_ps(ex)};
  m = {_mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(xi, _mm256_set1_epi32(0x007fffff)),
                                           _mm256_set1_epi32(0x3f000000)))};
}
inline float hsum(V a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

#elif defined(__wasm_simd128__)

#define EBM_SIMD_WASM 1
constexpr int kWidth = 4;
struct V {
  v128_t v;
};
using M = v128_t;
inline V load(const float* p) { return {wasm_v128_load(p)}; }
inline void store(float* p, V a) { wasm_v128_store(p, a.v); }
inline V set1(float x) { return {wasm_f32x4_splat(x)}; }
inline V zero() { return {wasm_f32x4_splat(0.0f)}; }
inline V operator+(V a, V b) { return {wasm_f32x4_add(a.v, b.v)}; }
inline V operator-(V a, V b) { return {wasm_f32x4_sub(a.v, b.v)}; }
inline V operator*(V a, V b) { return {wasm_f32x4_mul(a.v, b.v)}; }
inline V operator/(V a, V b) { return {wasm_f32x4_div(a.v, b.v)}; }
/** a·b + c: two roundings (SIMD128 has no fused multiply-add). */
inline V fma(V a, V b, V c) { return {wasm_f32x4_add(wasm_f32x4_mul(a.v, b.v), c.v)}; }
/** c − a·b: two roundings. */
inline V fnma(V a, V b, V c) { return {wasm_f32x4_sub(c.v, wasm_f32x4_mul(a.v, b.v))}; }
/** min/max with x86's rule (a < b ? a : b): pmin(b, a) is that, one instruction on x86 engines. */
inline V min(V a, V b) { return {wasm_f32x4_pmin(b.v, a.v)}; }
inline V max(V a, V b) { return {wasm_f32x4_pmax(b.v, a.v)}; }
inline V abs(V a) { return {wasm_f32x4_abs(a.v)}; }
inline V floor(V a) { return {wasm_f32x4_floor(a.v)}; }
inline V copysign(V a, V s) {
  const v128_t m = wasm_i32x4_splat(static_cast<int32_t>(0x80000000u));
  return {wasm_v128_bitselect(s.v, a.v, m)};
}
inline M gt(V a, V b) { return wasm_f32x4_gt(a.v, b.v); }
inline M ge(V a, V b) { return wasm_f32x4_ge(a.v, b.v); }
inline M eq(V a, V b) { return wasm_f32x4_eq(a.v, b.v); }
inline V select(M m, V a, V b) { return {wasm_v128_bitselect(a.v, b.v, m)}; }
inline V pow2n(V n) {
  return {wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n.v), wasm_i32x4_splat(127)), 23)};
}
inline void frexp(V x, V& m, V& e) {
  const v128_t ex = wasm_i32x4_sub(wasm_u32x4_shr(x.v, 23), wasm_i32x4_splat(126));
  e = {wasm_f32x4_convert_i32x4(ex)};
  m = {wasm_v128_or(wasm_v128_and(x.v, wasm_i32x4_splat(0x007fffff)), wasm_i32x4_splat(0x3f000000))};
}
/** Σ lanes, in a fixed order: (l0 + l2) + (l1 + l3). */
inline float hsum(V a) {
  const v128_t s = wasm_f32x4_add(a.v, wasm_i32x4_shuffle(a.v, a.v, 2, 3, 0, 1));
  return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1);
}

#else

constexpr int kWidth = 1;
struct V {
  float v;
};
using M = bool;
inline V load(const float* p) { return {*p}; }
inline void store(float* p, V a) { *p = a.v; }
inline V set1(float x) { return {x}; }
inline V zero() { return {0.0f}; }
inline V operator+(V a, V b) { return {a.v + b.v}; }
inline V operator-(V a, V b) { return {a.v - b.v}; }
inline V operator*(V a, V b) { return {a.v * b.v}; }
inline V operator/(V a, V b) { return {a.v / b.v}; }
inline V fma(V a, V b, V c) { return {std::fma(a.v, b.v, c.v)}; }
inline V fnma(V a, V b, V c) { return {std::fma(-a.v, b.v, c.v)}; }
inline V min(V a, V b) { return {std::min(a.v, b.v)}; }
inline V max(V a, V b) { return {std::max(a.v, b.v)}; }
inline V abs(V a) { return {std::fabs(a.v)}; }
inline V floor(V a) { return {std::floor(a.v)}; }
inline V copysign(V a, V s) { return {std::copysign(a.v, s.v)}; }
inline M gt(V a, V b) { return a.v > b.v; }
inline M ge(V a, V b) { return a.v >= b.v; }
inline M eq(V a, V b) { return a.v == b.v; }
inline V select(M m, V a, V b) { return m ? a : b; }
inline V pow2n(V n) {
  int32_t e = (static_cast<int32_t>(n.v) + 127) << 23;
  float r;
  std::memcpy(&r, &e, sizeof r);
  return {r};
}
inline void frexp(V x, V& m, V& e) {
  int ex = 0;
  m = {std::frexp(x.v, &ex)};
  e = {static_cast<float>(ex)};
}
inline float hsum(V a) { return a.v; }

#endif

/** e^x, the polynomial of activations.h (relative error ≈ 1e-7 on [−87, 88]; clamped outside). */
inline V exp(V x) {
  using namespace k;
  x = min(max(x, set1(kExpLo)), set1(kExpHi));
  const V fx = floor(fma(x, set1(kLog2e), set1(0.5f)));
  x = fnma(fx, set1(kC1), x);
  x = fnma(fx, set1(kC2), x);
  V y = set1(kP0);
  y = fma(y, x, set1(kP1));
  y = fma(y, x, set1(kP2));
  y = fma(y, x, set1(kP3));
  y = fma(y, x, set1(kP4));
  y = fma(y, x, set1(kP5));
  y = fma(y, x * x, x + set1(1.0f));
  return y * pow2n(fx);
}

/** log x for positive normal x (Cephes logf: relative error ≈ 1e-7). */
inline V log(V x) {
  using namespace k;
  V m, e;
  frexp(x, m, e);
  // m ∈ [0.5, 1): use m − 1 on [√½, 1), else 2m − 1 with e − 1, so that the argument is in [√½ − 1, √2 − 1).
  const M small = gt(set1(kSqrtHalf), m);
  e = select(small, e - set1(1.0f), e);
  const V t = select(small, m + m, m) - set1(1.0f);
  const V z = t * t;
  V y = set1(kL0);
  y = fma(y, t, set1(kL1));
  y = fma(y, t, set1(kL2));
  y = fma(y, t, set1(kL3));
  y = fma(y, t, set1(kL4));
  y = fma(y, t, set1(kL5));
  y = fma(y, t, set1(kL6));
  y = fma(y, t, set1(kL7));
  y = fma(y, t, set1(kL8));
  y = y * t * z;
  y = fma(e, set1(kC2), y);
  y = fnma(set1(0.5f), z, y);
  return fma(e, set1(kC1), t + y);
}

/** log(1 + e) for e ∈ [0, 1]: log(u)·e/(u − 1) with u = 1 + e (the rounding of u cancels), e when u = 1. */
inline V log1p01(V e) {
  const V one = set1(1.0f);
  const V u = e + one;
  const V d = u - one;
  const M exact = eq(d, zero());
  const V r = log(u) * e / select(exact, one, d);
  return select(exact, e, r);
}

}  // namespace simd
}  // namespace ebm
