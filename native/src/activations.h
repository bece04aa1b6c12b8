// Elementwise MLP activations and their first derivatives, vectorised with AVX2+FMA or WebAssembly SIMD128
// when available and a portable scalar path otherwise (same Cephes-style exp polynomial in all, evaluated
// with FMAs on x86; WebAssembly has no FMA, so there every a·b + c of it, vector or scalar, rounds twice).
//
// act_forward(act, z, h, d, count): h = f(z) and, if d != nullptr, d = f′(z). h may alias z.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define EBM_ACT_AVX2 1
#elif defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define EBM_ACT_WASM 1
#endif

namespace ebm {

enum Activation : int { kSilu = 0, kSoftplus = 1, kTanh = 2, kElu = 3 };

namespace act_detail {

constexpr float kExpLo = -87.0f, kExpHi = 88.0f;
constexpr float kLog2e = 1.44269504088896341f, kC1 = 0.693359375f, kC2 = -2.12194440e-4f;
constexpr float kP0 = 1.9875691500e-4f, kP1 = 1.3981999507e-3f, kP2 = 8.3334519073e-3f, kP3 = 4.1665795894e-2f,
                kP4 = 1.6666665459e-1f, kP5 = 5.0000001201e-1f;

/** a·b + c: one rounding (as the AVX2 path's FMAs), except in WebAssembly (two, as its SIMD path). */
inline float fmadd(float a, float b, float c) {
#ifdef __wasm__
  return a * b + c;
#else
  return std::fma(a, b, c);
#endif
}

/** e^x (relative error ≈ 1e-7 on [−87, 88]; clamped outside). */
inline float exp1(float x) {
  x = std::min(std::max(x, kExpLo), kExpHi);
  float fx = std::floor(fmadd(x, kLog2e, 0.5f));
  x = fmadd(-fx, kC1, x);
  x = fmadd(-fx, kC2, x);
  float y = kP0;
  y = fmadd(y, x, kP1);
  y = fmadd(y, x, kP2);
  y = fmadd(y, x, kP3);
  y = fmadd(y, x, kP4);
  y = fmadd(y, x, kP5);
  y = fmadd(y, x * x, x + 1.0f);
  int32_t e = (static_cast<int32_t>(fx) + 127) << 23;
  float scale;
  std::memcpy(&scale, &e, sizeof scale);
  return y * scale;
}

inline void scalar(int act, float z, float* h, float* d) {
  switch (act) {
    case kSilu: {
      float s = 1.0f / (1.0f + exp1(-z));
      *h = z * s;
      if (d) *d = s * fmadd(z, 1.0f - s, 1.0f);
      break;
    }
    case kSoftplus: {
      float e = exp1(-std::fabs(z));
      if (d) *d = z >= 0 ? 1.0f / (1.0f + e) : e / (1.0f + e);
      *h = std::max(z, 0.0f) + std::log1p(e);
      break;
    }
    case kTanh: {
      float e = exp1(-2.0f * std::fabs(z));
      float t = (1.0f - e) / (1.0f + e);
      t = z < 0 ? -t : t;
      *h = t;
      if (d) *d = fmadd(-t, t, 1.0f);
      break;
    }
    default: {  // ELU, α = 1
      float e = exp1(std::min(z, 0.0f));
      *h = z > 0 ? z : e - 1.0f;
      if (d) *d = z > 0 ? 1.0f : e;
      break;
    }
  }
}

#ifdef EBM_ACT_AVX2
inline __m256 exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(kExpLo)), _mm256_set1_ps(kExpHi));
  __m256 fx = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(kLog2e), _mm256_set1_ps(0.5f)));
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(kC1), x);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(kC2), x);
  __m256 y = _mm256_set1_ps(kP0);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(kP1));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(kP2));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(kP3));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(kP4));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(kP5));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(fx), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}
#endif

#ifdef EBM_ACT_WASM
/** exp1 on 4 lanes (mul + add where exp8 has FMAs: the same bits as exp1 in this build). */
inline v128_t exp4(v128_t x) {
  x = wasm_f32x4_pmin(wasm_f32x4_splat(kExpHi), wasm_f32x4_pmax(wasm_f32x4_splat(kExpLo), x));
  const auto madd = [](v128_t a, v128_t b, v128_t c) { return wasm_f32x4_add(wasm_f32x4_mul(a, b), c); };
  v128_t fx = wasm_f32x4_floor(madd(x, wasm_f32x4_splat(kLog2e), wasm_f32x4_splat(0.5f)));
  x = wasm_f32x4_sub(x, wasm_f32x4_mul(fx, wasm_f32x4_splat(kC1)));
  x = wasm_f32x4_sub(x, wasm_f32x4_mul(fx, wasm_f32x4_splat(kC2)));
  v128_t y = wasm_f32x4_splat(kP0);
  y = madd(y, x, wasm_f32x4_splat(kP1));
  y = madd(y, x, wasm_f32x4_splat(kP2));
  y = madd(y, x, wasm_f32x4_splat(kP3));
  y = madd(y, x, wasm_f32x4_splat(kP4));
  y = madd(y, x, wasm_f32x4_splat(kP5));
  y = madd(y, wasm_f32x4_mul(x, x), wasm_f32x4_add(x, wasm_f32x4_splat(1.0f)));
  // 2^fx: fx is an integer in [−126, 127], so fx + 1.5·2²³ is exact and its bits are 0x4B400000 + fx; the
  // constant's part vanishes in the shift by 23. The same bits as (trunc(fx) + 127) << 23 in 3 instructions,
  // where V8 spends about 7 on x64 for a saturating conversion.
  const v128_t e = wasm_i32x4_shl(wasm_i32x4_add(wasm_f32x4_add(fx, wasm_f32x4_splat(12582912.0f)), wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(y, e);
}
#endif

}  // namespace act_detail

inline void act_forward(int act, const float* z, float* h, float* d, long count) {
  long i = 0;
#ifdef EBM_ACT_AVX2
  using namespace act_detail;
  const __m256 one = _mm256_set1_ps(1.0f);
  if (act == kSilu) {
    for (; i + 8 <= count; i += 8) {
      __m256 v = _mm256_loadu_ps(z + i);
      __m256 s = _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), v))));
      _mm256_storeu_ps(h + i, _mm256_mul_ps(v, s));
      if (d) _mm256_storeu_ps(d + i, _mm256_mul_ps(s, _mm256_fmadd_ps(v, _mm256_sub_ps(one, s), one)));
    }
  } else if (act == kTanh) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (; i + 8 <= count; i += 8) {
      __m256 v = _mm256_loadu_ps(z + i);
      __m256 av = _mm256_andnot_ps(sign, v);
      __m256 e = exp8(_mm256_mul_ps(_mm256_set1_ps(-2.0f), av));
      __m256 t = _mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e));
      t = _mm256_or_ps(t, _mm256_and_ps(sign, v));
      _mm256_storeu_ps(h + i, t);
      if (d) _mm256_storeu_ps(d + i, _mm256_fnmadd_ps(t, t, one));
    }
  } else if (act == kElu) {
    const __m256 zero = _mm256_setzero_ps();
    for (; i + 8 <= count; i += 8) {
      __m256 v = _mm256_loadu_ps(z + i);
      __m256 e = exp8(_mm256_min_ps(v, zero));
      __m256 pos = _mm256_cmp_ps(v, zero, _CMP_GT_OQ);
      _mm256_storeu_ps(h + i, _mm256_blendv_ps(_mm256_sub_ps(e, one), v, pos));
      if (d) _mm256_storeu_ps(d + i, _mm256_blendv_ps(e, one, pos));
    }
  }
#elif defined(EBM_ACT_WASM)
  // The AVX2 path's operations on 4 lanes, without FMA (as exp1 and scalar in this build).
  using namespace act_detail;
  const v128_t one = wasm_f32x4_splat(1.0f);
  if (act == kSilu) {
    for (; i + 4 <= count; i += 4) {
      const v128_t v = wasm_v128_load(z + i);
      const v128_t s = wasm_f32x4_div(one, wasm_f32x4_add(one, exp4(wasm_f32x4_neg(v))));
      wasm_v128_store(h + i, wasm_f32x4_mul(v, s));
      if (d) wasm_v128_store(d + i, wasm_f32x4_mul(s, wasm_f32x4_add(wasm_f32x4_mul(v, wasm_f32x4_sub(one, s)), one)));
    }
  } else if (act == kTanh) {
    const v128_t sign = wasm_f32x4_splat(-0.0f);
    for (; i + 4 <= count; i += 4) {
      const v128_t v = wasm_v128_load(z + i);
      const v128_t e = exp4(wasm_f32x4_mul(wasm_f32x4_splat(-2.0f), wasm_f32x4_abs(v)));
      v128_t t = wasm_f32x4_div(wasm_f32x4_sub(one, e), wasm_f32x4_add(one, e));
      t = wasm_v128_or(t, wasm_v128_and(sign, v));
      wasm_v128_store(h + i, t);
      if (d) wasm_v128_store(d + i, wasm_f32x4_sub(one, wasm_f32x4_mul(t, t)));
    }
  } else if (act == kElu) {
    const v128_t zero = wasm_f32x4_splat(0.0f);
    for (; i + 4 <= count; i += 4) {
      const v128_t v = wasm_v128_load(z + i);
      const v128_t e = exp4(wasm_f32x4_pmin(zero, v));
      const v128_t pos = wasm_f32x4_gt(v, zero);
      wasm_v128_store(h + i, wasm_v128_bitselect(v, wasm_f32x4_sub(e, one), pos));
      if (d) wasm_v128_store(d + i, wasm_v128_bitselect(one, e, pos));
    }
  }
#endif
  for (; i < count; i++) act_detail::scalar(act, z[i], h + i, d ? d + i : nullptr);
}

}  // namespace ebm
