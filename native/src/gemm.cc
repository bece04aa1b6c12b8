// SGEMM (see gemm.h); its JavaScript export sgemm(...) is in gemm_napi.cc.
#include "gemm.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "threadpool.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define EBM_GEMM_AVX2 1
#elif defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define EBM_GEMM_WASM 1
#endif

namespace ebm {
namespace {

#ifdef EBM_GEMM_WASM
// 4 lanes and no FMA; V8 keeps v128 values in 15 x86 registers. 4×8 (8 accumulators, 2 B vectors, a splat
// and a product): in V8 on the 2-core EPYC about 2× faster than 6×8 (whose 12 accumulators spill), 1.5×
// faster than 4×12 and 3× faster than 8×4; 3×8 and 2×16 come close.
constexpr int MR = 4;
constexpr int NR = 8;
#else
constexpr int MR = 6;
constexpr int NR = 16;
#endif
#ifndef EBM_MC
#define EBM_MC 24
#endif
#ifndef EBM_KC
#define EBM_KC 1024
#endif
constexpr int MC = EBM_MC;  // MC×KC block of A: 96 KB, stays in L2 (measured best on the 2-core EPYC)
constexpr int KC = EBM_KC;  // KC×NR micro-panel of B: 64 KB (L2); C is then rarely re-read
constexpr int NC = 2048;  // KC×NC panel of B: ≤ 8 MB (L3)

/** A 64-byte aligned float buffer that only grows. */
struct Buffer {
  float* data = nullptr;
  size_t size = 0;
  float* get(size_t n) {
    if (n > size) {
      std::free(data);
      size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
      data = static_cast<float*>(std::aligned_alloc(64, bytes));
      size = n;
    }
    return data;
  }
  ~Buffer() { std::free(data); }
};

thread_local Buffer tl_apack, tl_bpack;

/** Packs op(A)[i0:i0+mc, p0:p0+kc] into MR-row micro-panels (k-major inside a panel), zero-padded. */
void pack_a(bool trans, const float* A, int lda, int i0, int mc, int p0, int kc, float* out) {
  for (int ir = 0; ir < mc; ir += MR) {
    int mr = std::min(MR, mc - ir);
    for (int p = 0; p < kc; p++) {
      float* dst = out + p * MR;
      for (int i = 0; i < mr; i++) {
        int row = i0 + ir + i, col = p0 + p;
        dst[i] = trans ? A[static_cast<long>(col) * lda + row] : A[static_cast<long>(row) * lda + col];
      }
      for (int i = mr; i < MR; i++) dst[i] = 0.f;
    }
    out += static_cast<long>(kc) * MR;
  }
}

/** Packs op(B)[p0:p0+kc, j0:j0+nc] into NR-column micro-panels (k-major inside a panel), zero-padded. */
void pack_b(bool trans, const float* B, int ldb, int p0, int kc, int j0, int nc, float* out) {
  for (int jr = 0; jr < nc; jr += NR) {
    int nr = std::min(NR, nc - jr);
    if (!trans && nr == NR) {
      for (int p = 0; p < kc; p++)
        std::memcpy(out + p * NR, B + static_cast<long>(p0 + p) * ldb + j0 + jr, NR * sizeof(float));
    } else {
      for (int p = 0; p < kc; p++) {
        float* dst = out + p * NR;
        for (int j = 0; j < nr; j++) {
          int row = p0 + p, col = j0 + jr + j;
          dst[j] = trans ? B[static_cast<long>(col) * ldb + row] : B[static_cast<long>(row) * ldb + col];
        }
        for (int j = nr; j < NR; j++) dst[j] = 0.f;
      }
    }
    out += static_cast<long>(kc) * NR;
  }
}

/** C[mr×nr] ← α·acc + β·C (β = 0: C not read), from a full MR×NR accumulator tile. */
inline void store_tile(const float* acc, float* C, int ldc, int mr, int nr, float alpha, float beta) {
  for (int i = 0; i < mr; i++) {
    float* c = C + static_cast<long>(i) * ldc;
    const float* a = acc + i * NR;
    if (beta == 0.f)
      for (int j = 0; j < nr; j++) c[j] = alpha * a[j];
    else
      for (int j = 0; j < nr; j++) c[j] = alpha * a[j] + beta * c[j];
  }
}

#ifdef EBM_GEMM_AVX2

/**
 * 6×16 micro-kernel: acc = Σ_p a(:,p) b[p,:] over kc steps, then C ← α·acc + β·C. Element (i, p) of the A
 * micro-panel is a[i·rsa + p·csa]: (1, MR) when packed, (lda, 1) or (1, lda) read in place.
 */
void micro_kernel(int kc, const float* a, long rsa, long csa, const float* b, float* C, int ldc, int mr, int nr,
                  float alpha, float beta) {
  const float *r0 = a, *r1 = a + rsa, *r2 = a + 2 * rsa, *r3 = a + 3 * rsa, *r4 = a + 4 * rsa, *r5 = a + 5 * rsa;
  long off = 0;
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int p = 0; p < kc; p++) {
    __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 a0 = _mm256_broadcast_ss(r0 + off);
    c00 = _mm256_fmadd_ps(a0, b0, c00);
    c01 = _mm256_fmadd_ps(a0, b1, c01);
    __m256 a1 = _mm256_broadcast_ss(r1 + off);
    c10 = _mm256_fmadd_ps(a1, b0, c10);
    c11 = _mm256_fmadd_ps(a1, b1, c11);
    __m256 a2 = _mm256_broadcast_ss(r2 + off);
    c20 = _mm256_fmadd_ps(a2, b0, c20);
    c21 = _mm256_fmadd_ps(a2, b1, c21);
    __m256 a3 = _mm256_broadcast_ss(r3 + off);
    c30 = _mm256_fmadd_ps(a3, b0, c30);
    c31 = _mm256_fmadd_ps(a3, b1, c31);
    __m256 a4 = _mm256_broadcast_ss(r4 + off);
    c40 = _mm256_fmadd_ps(a4, b0, c40);
    c41 = _mm256_fmadd_ps(a4, b1, c41);
    __m256 a5 = _mm256_broadcast_ss(r5 + off);
    c50 = _mm256_fmadd_ps(a5, b0, c50);
    c51 = _mm256_fmadd_ps(a5, b1, c51);
    off += csa;
    b += NR;
  }
  if (mr == MR && nr == NR) {
    const __m256 va = _mm256_set1_ps(alpha);
    __m256 acc[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    if (beta == 0.f) {
      for (int i = 0; i < MR; i++) {
        float* c = C + static_cast<long>(i) * ldc;
        _mm256_storeu_ps(c, _mm256_mul_ps(va, acc[2 * i]));
        _mm256_storeu_ps(c + 8, _mm256_mul_ps(va, acc[2 * i + 1]));
      }
    } else {
      const __m256 vb = _mm256_set1_ps(beta);
      for (int i = 0; i < MR; i++) {
        float* c = C + static_cast<long>(i) * ldc;
        _mm256_storeu_ps(c, _mm256_fmadd_ps(va, acc[2 * i], _mm256_mul_ps(vb, _mm256_loadu_ps(c))));
        _mm256_storeu_ps(c + 8, _mm256_fmadd_ps(va, acc[2 * i + 1], _mm256_mul_ps(vb, _mm256_loadu_ps(c + 8))));
      }
    }
    return;
  }
  alignas(32) float tile[MR * NR];
  __m256 acc[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
  for (int i = 0; i < 12; i++) _mm256_store_ps(tile + 8 * i, acc[i]);
  // Same rounding as the full-tile path: α·acc then fused β·C for the fmadd path above is
  // fma(α, acc, β·c); reproduce it exactly so edge and interior elements round alike.
  for (int i = 0; i < mr; i++) {
    float* c = C + static_cast<long>(i) * ldc;
    const float* t = tile + i * NR;
    if (beta == 0.f)
      for (int j = 0; j < nr; j++) c[j] = alpha * t[j];
    else
      for (int j = 0; j < nr; j++) c[j] = std::fma(alpha, t[j], beta * c[j]);
  }
}

#elif defined(EBM_GEMM_WASM)

/** MR×NR micro-kernel on WebAssembly SIMD128 (a·b + c rounds twice: no FMA), as the AVX2 one. */
void micro_kernel(int kc, const float* a, long rsa, long csa, const float* b, float* C, int ldc, int mr, int nr,
                  float alpha, float beta) {
  constexpr int NV = NR / 4;
  v128_t acc[MR][NV];
#pragma clang loop unroll(full)
  for (int i = 0; i < MR; i++)
#pragma clang loop unroll(full)
    for (int v = 0; v < NV; v++) acc[i][v] = wasm_f32x4_splat(0.f);
  long off = 0;
  for (int p = 0; p < kc; p++) {
    v128_t bv[NV];
#pragma clang loop unroll(full)
    for (int v = 0; v < NV; v++) bv[v] = wasm_v128_load(b + 4 * v);
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; i++) {
      const v128_t ai = wasm_v128_load32_splat(a + i * rsa + off);
#pragma clang loop unroll(full)
      for (int v = 0; v < NV; v++) acc[i][v] = wasm_f32x4_add(acc[i][v], wasm_f32x4_mul(ai, bv[v]));
    }
    off += csa;
    b += NR;
  }
  if (mr == MR && nr == NR) {
    // store_tile's α·acc + β·C (β = 0: C not read), on whole vectors: the same roundings.
    const v128_t va = wasm_f32x4_splat(alpha), vb = wasm_f32x4_splat(beta);
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; i++) {
      float* c = C + static_cast<long>(i) * ldc;
#pragma clang loop unroll(full)
      for (int v = 0; v < NV; v++) {
        const v128_t r = wasm_f32x4_mul(va, acc[i][v]);
        wasm_v128_store(c + 4 * v, beta == 0.f ? r : wasm_f32x4_add(r, wasm_f32x4_mul(vb, wasm_v128_load(c + 4 * v))));
      }
    }
    return;
  }
  alignas(16) float tile[MR * NR];
#pragma clang loop unroll(full)
  for (int i = 0; i < MR; i++)
#pragma clang loop unroll(full)
    for (int v = 0; v < NV; v++) wasm_v128_store(tile + i * NR + 4 * v, acc[i][v]);
  store_tile(tile, C, ldc, mr, nr, alpha, beta);
}

#else

/** Portable micro-kernel (compilers vectorise the j loop). */
void micro_kernel(int kc, const float* a, long rsa, long csa, const float* b, float* C, int ldc, int mr, int nr,
                  float alpha, float beta) {
  float acc[MR * NR] = {};
  for (int p = 0; p < kc; p++) {
    for (int i = 0; i < MR; i++) {
      const float ai = a[i * rsa + p * csa];
      for (int j = 0; j < NR; j++) acc[i * NR + j] += ai * b[j];
    }
    b += NR;
  }
  store_tile(acc, C, ldc, mr, nr, alpha, beta);
}

#endif

}  // namespace

GemmBlocking gemm_blocking() { return {MR, NR, MC, KC, NC}; }

namespace {

/**
 * C[M×N] (β·C first) += α·op(A)·B for ONE packed KC×NC block of B (kc, nc). A is packed block by block
 * into `ap`, except when op(A) is small (≤ 64 K elements, e.g. a tile of activations, which then stays in
 * L1/L2): full micro-panels are then read in place and only a partial last micro-panel is packed.
 */
void block_product(bool transA, int M, int nc, int kc, int pc, float alpha, const float* A, int lda, const float* bp,
                   float beta, float* C, int ldc, float* ap) {
  const bool direct = static_cast<long>(M) * kc <= 65536;
  const long rsa = transA ? 1 : lda, csa = transA ? lda : 1;
  for (int ic = 0; ic < M; ic += MC) {
    const int mc = std::min(MC, M - ic);
    if (!direct)
      pack_a(transA, A, lda, ic, mc, pc, kc, ap);
    else if (mc % MR != 0)
      pack_a(transA, A, lda, ic + mc - mc % MR, mc % MR, pc, kc, ap);
    for (int jr = 0; jr < nc; jr += NR) {
      const int nr = std::min(NR, nc - jr);
      const float* bpanel = bp + static_cast<long>(jr / NR) * kc * NR;
      for (int ir = 0; ir < mc; ir += MR) {
        const int mr = std::min(MR, mc - ir);
        float* c = C + static_cast<long>(ic + ir) * ldc + jr;
        if (!direct)
          micro_kernel(kc, ap + static_cast<long>(ir / MR) * kc * MR, 1, MR, bpanel, c, ldc, mr, nr, alpha, beta);
        else if (mr == MR)
          micro_kernel(kc, A + (ic + ir) * rsa + static_cast<long>(pc) * csa, rsa, csa, bpanel, c, ldc, mr, nr, alpha,
                       beta);
        else
          micro_kernel(kc, ap, 1, MR, bpanel, c, ldc, mr, nr, alpha, beta);
      }
    }
  }
}

/** Handles K ≤ 0 or α = 0: C ← β·C. Returns true if done. */
bool trivial(int M, int N, int K, float alpha, float beta, float* C, int ldc) {
  if (M <= 0 || N <= 0) return true;
  if (K > 0 && alpha != 0.f) return false;
  for (int i = 0; i < M; i++) {
    float* c = C + static_cast<long>(i) * ldc;
    for (int j = 0; j < N; j++) c[j] = beta == 0.f ? 0.f : beta * c[j];
  }
  return true;
}

}  // namespace

void sgemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
           int ldb, float beta, float* C, int ldc) {
  if (trivial(M, N, K, alpha, beta, C, ldc)) return;
  const int ncMax = std::min(NC, ((N + NR - 1) / NR) * NR);
  const int kcMax = std::min(KC, K);
  const int mcMax = std::min(MC, ((M + MR - 1) / MR) * MR);
  float* bp = tl_bpack.get(static_cast<size_t>(kcMax) * ncMax);
  float* ap = tl_apack.get(static_cast<size_t>(kcMax) * mcMax);
  for (int jc = 0; jc < N; jc += NC) {
    const int nc = std::min(NC, N - jc);
    for (int pc = 0; pc < K; pc += KC) {
      const int kc = std::min(KC, K - pc);
      pack_b(transB, B, ldb, pc, kc, jc, nc, bp);
      block_product(transA, M, nc, kc, pc, alpha, A, lda, bp, pc == 0 ? beta : 1.f, C + jc, ldc, ap);
    }
  }
}

long packed_b_size(int K, int N) {
  return static_cast<long>((N + NR - 1) / NR) * NR * std::max(K, 0);
}

// Layout: blocks in (jc, pc) loop order; block (jc, pc) starts at jc·K + pc·roundup(nc, NR).
void pack_b_matrix(bool transB, int K, int N, const float* B, int ldb, float* out) {
  for (int jc = 0; jc < N; jc += NC) {
    const int nc = std::min(NC, N - jc);
    const int ncr = ((nc + NR - 1) / NR) * NR;
    for (int pc = 0; pc < K; pc += KC)
      pack_b(transB, B, ldb, pc, std::min(KC, K - pc), jc, nc, out + static_cast<long>(jc) * K + static_cast<long>(pc) * ncr);
  }
}

void sgemm_packed(bool transA, int M, int N, int K, float alpha, const float* A, int lda, const float* packedB,
                  float beta, float* C, int ldc) {
  if (trivial(M, N, K, alpha, beta, C, ldc)) return;
  const int kcMax = std::min(KC, K);
  const int mcMax = std::min(MC, ((M + MR - 1) / MR) * MR);
  float* ap = tl_apack.get(static_cast<size_t>(kcMax) * mcMax);
  for (int jc = 0; jc < N; jc += NC) {
    const int nc = std::min(NC, N - jc);
    const int ncr = ((nc + NR - 1) / NR) * NR;
    for (int pc = 0; pc < K; pc += KC) {
      const int kc = std::min(KC, K - pc);
      block_product(transA, M, nc, kc, pc, alpha, A, lda, packedB + static_cast<long>(jc) * K + static_cast<long>(pc) * ncr,
                    pc == 0 ? beta : 1.f, C + jc, ldc, ap);
    }
  }
}

thread_local Buffer tl_bshared;

void sgemm_parallel(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
                    const float* B, int ldb, float beta, float* C, int ldc) {
  const int threads = pool_threads();
  const long work = static_cast<long>(M) * N * std::max(K, 1);
  if (threads <= 1 || work < (1L << 18) || M < 2 * MR) {
    sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  if (trivial(M, N, K, alpha, beta, C, ldc)) return;
  // BLIS-style: for each KC×NC panel of B, the threads pack it together into one shared buffer, then take
  // row blocks of C (≤ MC rows, whole micro-panels, balanced) dynamically, each packing its own block of A.
  // Every C element sees the same operations as in sgemm, so the results are identical to it.
  const int ncMax = std::min(NC, ((N + NR - 1) / NR) * NR);
  const int kcMax = std::min(KC, K);
  float* bp = tl_bshared.get(static_cast<size_t>(kcMax) * ncMax);
  const int panelsM = (M + MR - 1) / MR;
  int blocks = (M + MC - 1) / MC;
  blocks = ((blocks + threads - 1) / threads) * threads;
  blocks = std::min(blocks, panelsM);
  for (int jc = 0; jc < N; jc += NC) {
    const int nc = std::min(NC, N - jc);
    const int panelsN = (nc + NR - 1) / NR;
    for (int pc = 0; pc < K; pc += KC) {
      const int kc = std::min(KC, K - pc);
      const int packParts = std::min(threads, panelsN);
      parallel_for(packParts, [&](int p) {
        auto [q0, q1] = part_range(panelsN, packParts, p);
        if (q1 <= q0) return;
        const int j0 = static_cast<int>(q0) * NR, j1 = std::min(nc, static_cast<int>(q1) * NR);
        pack_b(transB, B, ldb, pc, kc, jc + j0, j1 - j0, bp + static_cast<long>(q0) * kc * NR);
      });
      const float betaEff = pc == 0 ? beta : 1.f;
      parallel_for(blocks, [&](int b) {
        auto [q0, q1] = part_range(panelsM, blocks, b);
        const int i0 = static_cast<int>(q0) * MR, i1 = std::min(M, static_cast<int>(q1) * MR);
        if (i1 <= i0) return;
        const float* Ab = transA ? A + i0 : A + static_cast<long>(i0) * lda;
        float* ap = tl_apack.get(static_cast<size_t>(kcMax) * ((i1 - i0 + MR - 1) / MR) * MR);
        block_product(transA, i1 - i0, nc, kc, pc, alpha, Ab, lda, bp, betaEff, C + static_cast<long>(i0) * ldc + jc,
                      ldc, ap);
      });
    }
  }
}

}  // namespace ebm
