// Small float32 matrix products for the MLP jet kernel (mlp.cc), on operands whose row lengths are padded
// to multiples of kPad = 16 floats (the kernel keeps every activation and weight row padded with zeros):
//
//   small_gemm(M, N, K, A, rsa, csa, B, ldb, C, ldc):  C[i, j] = Σ_{p<K} A(i, p)·B[p, j],  i < M, j < N,
//
// with A(i, p) = A[i·rsa + p·csa] (a row-major A: rsa = lda, csa = 1; a transposed one: rsa = 1, csa = lda),
// B row-major (ldb), N a multiple of 16. Both operands are read in place: no packing, so the parameter
// product Aᵀ·B of two activation tiles costs no copies. Every C element is ONE sequential float32 FMA
// chain over p = 0 … K−1 starting from 0, whatever M, N, the element's position or the register tiling,
// so results do not depend on how a caller splits its work (nor on the x86 instruction set; WebAssembly has no
// FMA, so there each step rounds twice).
//
// Register micro-kernels: MR × NR = 6 × 64 (24 zmm accumulators) with AVX-512, 6 × 16 (12 ymm) with
// AVX2+FMA, 4 × 8 (8 v128) with WebAssembly SIMD128 (which has no FMA: there the chain is of products and
// sums, each rounded), a scalar loop otherwise. Loop order: 64-column panels of B outside (a K × 64 panel of a weight
// matrix stays in L1), 6-row blocks of A inside.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#elif defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

namespace ebm {
namespace jetmm {

constexpr int kPad = 16;
inline int pad16(int w) { return (w + kPad - 1) / kPad * kPad; }

/** A 64-byte aligned float buffer that only grows (contents are not preserved when it grows). */
struct AlignedBuf {
  float* data = nullptr;
  size_t size = 0;
  float* get(size_t n) {
    if (n > size) {
      std::free(data);
      const size_t bytes = ((std::max<size_t>(n, 1) * sizeof(float) + 63) / 64) * 64;
      data = static_cast<float*>(std::aligned_alloc(64, bytes));
      std::memset(data, 0, bytes);
      size = n;
    }
    return data;
  }
  AlignedBuf() = default;
  AlignedBuf(const AlignedBuf&) = delete;
  AlignedBuf& operator=(const AlignedBuf&) = delete;
  ~AlignedBuf() { std::free(data); }
};

#if defined(__wasm_simd128__) && !defined(__AVX2__)
constexpr int kMR = 4;  // 4 × 8 in WebAssembly: 6 × 8's 12 accumulators spill (see gemm.cc)
#else
constexpr int kMR = 6;
#endif

#if defined(__AVX512F__)

constexpr int kNV = 4;  // vectors per micro-tile row
constexpr int kVec = 16;  // floats per vector: NR = 64

template <int MR, int NV>
void micro(int K, const float* a, long rsa, long csa, const float* b, long ldb, float* c, long ldc) {
  __m512 acc[MR][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
  for (int p = 0; p < K; p++) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) bv[v] = _mm512_loadu_ps(b + 16 * v);
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
      const __m512 ai = _mm512_set1_ps(a[i * rsa]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
    }
    a += csa;
    b += ldb;
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) _mm512_storeu_ps(c + i * ldc + 16 * v, acc[i][v]);
}

#elif defined(__AVX2__) && defined(__FMA__)

constexpr int kNV = 2;
constexpr int kVec = 8;  // NR = 16

template <int MR, int NV>
void micro(int K, const float* a, long rsa, long csa, const float* b, long ldb, float* c, long ldc) {
  __m256 acc[MR][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 2
    for (int v = 0; v < NV; v++) acc[i][v] = _mm256_setzero_ps();
  for (int p = 0; p < K; p++) {
    __m256 bv[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; v++) bv[v] = _mm256_loadu_ps(b + 8 * v);
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
      const __m256 ai = _mm256_broadcast_ss(a + i * rsa);
#pragma GCC unroll 2
      for (int v = 0; v < NV; v++) acc[i][v] = _mm256_fmadd_ps(ai, bv[v], acc[i][v]);
    }
    a += csa;
    b += ldb;
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 2
    for (int v = 0; v < NV; v++) _mm256_storeu_ps(c + i * ldc + 8 * v, acc[i][v]);
}

#elif defined(__wasm_simd128__)

constexpr int kNV = 2;
constexpr int kVec = 4;  // NR = 8

template <int MR, int NV>
void micro(int K, const float* a, long rsa, long csa, const float* b, long ldb, float* c, long ldc) {
  v128_t acc[MR][NV];
#pragma clang loop unroll(full)
  for (int i = 0; i < MR; i++)
#pragma clang loop unroll(full)
    for (int v = 0; v < NV; v++) acc[i][v] = wasm_f32x4_splat(0.f);
  for (int p = 0; p < K; p++) {
    v128_t bv[NV];
#pragma clang loop unroll(full)
    for (int v = 0; v < NV; v++) bv[v] = wasm_v128_load(b + 4 * v);
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; i++) {
      const v128_t ai = wasm_v128_load32_splat(a + i * rsa);
#pragma clang loop unroll(full)
      for (int v = 0; v < NV; v++) acc[i][v] = wasm_f32x4_add(acc[i][v], wasm_f32x4_mul(ai, bv[v]));
    }
    a += csa;
    b += ldb;
  }
#pragma clang loop unroll(full)
  for (int i = 0; i < MR; i++)
#pragma clang loop unroll(full)
    for (int v = 0; v < NV; v++) wasm_v128_store(c + i * ldc + 4 * v, acc[i][v]);
}

#else

constexpr int kNV = 16;  // scalar "vectors"
constexpr int kVec = 1;  // NR = 16

template <int MR, int NV>
void micro(int K, const float* a, long rsa, long csa, const float* b, long ldb, float* c, long ldc) {
  float acc[MR][NV] = {};
  for (int p = 0; p < K; p++) {
    for (int i = 0; i < MR; i++) {
      const float ai = a[i * rsa];
      for (int v = 0; v < NV; v++) acc[i][v] = std::fma(ai, b[v], acc[i][v]);
    }
    a += csa;
    b += ldb;
  }
  for (int i = 0; i < MR; i++)
    for (int v = 0; v < NV; v++) c[i * ldc + v] = acc[i][v];
}

#endif

constexpr int kNR = kNV * kVec;  // floats per micro-tile row

using MicroFn = void (*)(int, const float*, long, long, const float*, long, float*, long);

template <int MR>
constexpr MicroFn micro_for_nv(int nv) {
  if constexpr (kNV == 4) {
    return nv == 4 ? &micro<MR, 4> : nv == 3 ? &micro<MR, 3> : nv == 2 ? &micro<MR, 2> : &micro<MR, 1>;
  } else if constexpr (kNV == 2) {
    return nv == 2 ? &micro<MR, 2> : &micro<MR, 1>;
  } else {
    return &micro<MR, kNV>;
  }
}

inline MicroFn micro_for(int mr, int nv) {
  switch (mr) {
    case 1: return micro_for_nv<1>(nv);
    case 2: return micro_for_nv<2>(nv);
    case 3: return micro_for_nv<3>(nv);
    case 4: return micro_for_nv<4>(nv);
    case 5: return micro_for_nv<5>(nv);
    default: return micro_for_nv<6>(nv);
  }
}

/** C (M × N, N a multiple of 16) = A·B as described at the top of the file. K = 0 gives C = 0. */
inline void small_gemm(int M, int N, int K, const float* A, long rsa, long csa, const float* B, long ldb, float* C,
                       long ldc) {
  for (int j0 = 0; j0 < N; j0 += kNR) {
    const int nv = std::min(kNV, (N - j0) / kVec);
    const MicroFn full = micro_for(kMR, nv);
    int i0 = 0;
    for (; i0 + kMR <= M; i0 += kMR) full(K, A + i0 * rsa, rsa, csa, B + j0, ldb, C + i0 * ldc + j0, ldc);
    if (i0 < M) micro_for(M - i0, nv)(K, A + i0 * rsa, rsa, csa, B + j0, ldb, C + i0 * ldc + j0, ldc);
  }
}

}  // namespace jetmm
}  // namespace ebm
