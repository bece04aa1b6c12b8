// Single-precision GEMM: C ← α·op(A)·op(B) + β·C, row-major, op(X) = X or Xᵀ.
//
//   op(A) is M×K: A is M×K (lda ≥ K) when !transA, K×M (lda ≥ M) when transA.
//   op(B) is K×N: B is K×N (ldb ≥ N) when !transB, N×K (ldb ≥ K) when transB.
//   C is M×N (ldc ≥ N). With β = 0, C is not read (it may hold NaNs).
//
// Cache- and register-blocked (BLIS-style loops: KC×NC panels of B, MC×KC blocks of A, packed into
// contiguous micro-panels; small A blocks such as a 256-row tile of activations are read in place) around
// an MR×NR register micro-kernel (6×16 with AVX2+FMA, 4×8 with WebAssembly SIMD128, a portable scalar
// kernel otherwise). Blocking on the 2-core EPYC: MC = 24, KC = 1024, NC = 2048 (see gemm_blocking()).
// Packing buffers are thread_local and reused, so calls do not allocate after warm-up.
//
// Results are deterministic: every C element is accumulated over k in increasing order in blocks of KC,
// whatever M, N, the position of the element or the thread count, so sgemm and sgemm_parallel give
// bit-identical results for the same inputs.
//
// sgemm runs on the calling thread (safe to call from inside a parallel_for part); sgemm_parallel packs
// each panel of B once, cooperatively, and hands row blocks of C to the pool's threads (inside a part it
// runs serially).
#pragma once

namespace ebm {

void sgemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
           int ldb, float beta, float* C, int ldc);

void sgemm_parallel(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
                    const float* B, int ldb, float beta, float* C, int ldc);

/**
 * Pre-packed B, for a B that is multiplied many times (e.g. a weight matrix against tiles of activations):
 * pack op(B) (K×N) once with pack_b_matrix into a buffer of packed_b_size(K, N) floats, then call
 * sgemm_packed any number of times (from any thread). Same results as sgemm with the unpacked B.
 */
long packed_b_size(int K, int N);
void pack_b_matrix(bool transB, int K, int N, const float* B, int ldb, float* out);
void sgemm_packed(bool transA, int M, int N, int K, float alpha, const float* A, int lda, const float* packedB,
                  float beta, float* C, int ldc);

/** Register tile of the micro-kernel and cache blocking (exposed for tests and tuning). */
struct GemmBlocking {
  int mr, nr, mc, kc, nc;
};
GemmBlocking gemm_blocking();

}  // namespace ebm
