// N-API glue of the SGEMM (gemm.h): the export sgemm(...).
#include <algorithm>
#include <cstdint>

#include "gemm.h"
#include "napi_util.h"
#include "registry.h"

namespace ebm {

namespace {

/**
 * sgemm(transA, transB, M, N, K, alpha, A: Float32Array, lda, B: Float32Array, ldb, beta, C: Float32Array,
 * ldc): C ← α·op(A)·op(B) + β·C on the thread pool. Throws on shapes that do not fit the arrays.
 */
napi_value js_sgemm(napi_env env, napi_callback_info info) {
  Args a(env, info, 13);
  bool tA = a.boolean(0), tB = a.boolean(1);
  int64_t M = a.integer(2), N = a.integer(3), K = a.integer(4);
  double alpha = a.number(5);
  size_t na, nb, nc;
  const float* A = a.f32(6, &na);
  int64_t lda = a.integer(7);
  const float* B = a.f32(8, &nb);
  int64_t ldb = a.integer(9);
  double beta = a.number(10);
  float* C = a.f32(11, &nc);
  int64_t ldc = a.integer(12);
  if (!a.ok) return nullptr;
  const int64_t lim = 1LL << 30;
  if (M < 0 || N < 0 || K < 0 || M > lim || N > lim || K > lim) a.fail("ebm_native: sgemm: bad sizes", true);
  const int64_t aRows = tA ? K : M, aCols = tA ? M : K, bRows = tB ? N : K, bCols = tB ? K : N;
  if (a.ok && (lda < std::max<int64_t>(aCols, 1) || ldb < std::max<int64_t>(bCols, 1) ||
               ldc < std::max<int64_t>(N, 1)))
    a.fail("ebm_native: sgemm: leading dimension too small", true);
  if (!a.ok) return nullptr;
  if (aRows > 0 && aCols > 0) a.need(na, static_cast<size_t>((aRows - 1) * lda + aCols), "A");
  if (bRows > 0 && bCols > 0) a.need(nb, static_cast<size_t>((bRows - 1) * ldb + bCols), "B");
  if (M > 0 && N > 0) a.need(nc, static_cast<size_t>((M - 1) * ldc + N), "C");
  if (!a.ok) return nullptr;
  sgemm_parallel(tA, tB, static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), static_cast<float>(alpha), A,
                 static_cast<int>(lda), B, static_cast<int>(ldb), static_cast<float>(beta), C, static_cast<int>(ldc));
  return a.undefined();
}

}  // namespace

EBM_EXPORT("sgemm", js_sgemm);

}  // namespace ebm
