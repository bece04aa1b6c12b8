// Bernoulli–Bernoulli RBM kernels (the native `RbmKernels` of src/backend/native/rbm.ts): conditional
// probabilities, free energy, block-Gibbs sweeps, CD-k / PCD-k gradients and the AIS sweep.
//
// Same model, conventions and random draws as the typed-array kernels (src/rbm/kernels.ts):
//  - W is nv × nh row-major, float32; states are 0/1 bytes. Temperature is the model's one convention
//    (src/energies/rbm.ts): ρ_β(v, h) ∝ e^{−βE(v,h)}, p_β(h_j = 1 | v) = σ(β(c + vᵀW)_j),
//    p_β(v_i = 1 | h) = σ(β(b + Wh)_i). AIS alone follows its annealing path p_t ∝ exp(bᵀv + t(cᵀh + vᵀWh)),
//    whose visible conditional is σ(b_i + t(Wh)_i).
//  - The CD/PCD gradient is the gradient of the loss, E_data[∂θF] − E_model[∂θF] (descent).
//  - Randomness: one xoshiro128** stream per call (xoshiro.h's generator), seeded from the caller's 64-bit
//    key exactly as src/random/key.ts's Stream; one 32-bit word per Bernoulli draw, x = 1 iff word·2⁻³² < p,
//    in the documented order of each method (e.g. a Gibbs sweep draws all n·nh hiddens, chain-major, then
//    all n·nv visibles). Probabilities used for draws are computed as there: p = σ(β·pre) in float64 from
//    the float32 pre-activation (except CD's h₀, drawn from the float32 p(h|v₀)), so identical
//    probabilities give identical draws.
//  - Matrix products (c + vᵀW, Wh) are float32 GEMMs (gemm.h) on the 0/1 states converted to float, with W
//    and Wᵀ pre-packed by the caller (rbmPack: the packed copy lives in a JavaScript Float32Array that the
//    caller caches per model version). Log-weights, free energies and bias-gradient sums are float64.
//
// Parallelism and determinism: chains (rows) are split into `parts` contiguous ranges of whole 6-row
// micro-panels, parts = min(pool_threads(), panels); a part runs the whole per-chain pipeline of its rows
// (GEMMs through sgemm_packed on its own rows, sigmoid, draws) without synchronising with the others. The
// draws stay those of the single sequential stream: each part jumps its copy of the stream to the index of
// its first draw in every phase (xoshiro128** is GF(2)-linear: jump = product with precomputed powers of
// the transition matrix). Every row's results depend only on its own inputs (the GEMM's results do not depend
// on M or on the row's position), so outputs are bit-identical run to run AND across thread counts.
//
// The CD/PCD weight gradient is one sgemm_parallel: g_W = [v₀/n; −v_k/m]ᵀ·[p(h|v₀); p(h|v_k)].
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "gemm.h"
#include "napi_util.h"
#include "registry.h"
#include "threadpool.h"
#include "xoshiro.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define EBM_RBM_AVX2 1
#endif

namespace ebm {
namespace {

constexpr double kTwoPowM32 = 1.0 / 4294967296.0;
constexpr int kRowUnit = 6;    // rows per split unit (the GEMM micro-kernel's MR)
constexpr int kTileRows = 96;  // rows per tile inside a part (scratch stays in L2)

// --- random stream (src/random/key.ts) ---------------------------------------------------------------------

/** xoshiro.h's xoshiro128** state, seeded from a key like Stream's constructor, with a jump-ahead. */
struct Xoshiro {
  uint32_t s[4];

  Xoshiro(uint32_t hi, uint32_t lo) { xoshiro_seed(hi, lo, s); }

  inline uint32_t next() { return xoshiro_next(s); }

  /** The state after `n` more words (O(log n) GF(2) matrix–vector products). */
  void jump(uint64_t n);
};

/** A 128×128 GF(2) matrix stored by columns: col[j] = M·e_j (4 words). */
struct Mat128 {
  uint32_t col[128][4];
  void apply(const uint32_t* x, uint32_t* out) const {
    uint32_t r0 = 0, r1 = 0, r2 = 0, r3 = 0;
    for (int j = 0; j < 128; j++) {
      const uint32_t m = 0u - ((x[j >> 5] >> (j & 31)) & 1u);
      r0 ^= col[j][0] & m;
      r1 ^= col[j][1] & m;
      r2 ^= col[j][2] & m;
      r3 ^= col[j][3] & m;
    }
    out[0] = r0;
    out[1] = r1;
    out[2] = r2;
    out[3] = r3;
  }
};

/** T^(2^k) for k = 0 … 63 (T = the state transition of one xoshiro_next, which is GF(2)-linear), built once. */
struct JumpTable {
  std::vector<Mat128> pow;
  JumpTable() : pow(64) {
    for (int j = 0; j < 128; j++) {
      uint32_t s[4] = {0, 0, 0, 0};
      s[j >> 5] = 1u << (j & 31);
      xoshiro_next(s);  // advances the state; the output word is not needed
      std::memcpy(pow[0].col[j], s, sizeof s);
    }
    for (int k = 1; k < 64; k++)
      for (int j = 0; j < 128; j++) pow[k - 1].apply(pow[k - 1].col[j], pow[k].col[j]);
  }
};

const JumpTable& jump_table() {
  static const JumpTable t;  // thread-safe initialisation
  return t;
}

void Xoshiro::jump(uint64_t n) {
  if (n == 0) return;
  const JumpTable& t = jump_table();
  for (int k = 0; n != 0; k++, n >>= 1) {
    if (!(n & 1)) continue;
    uint32_t out[4];
    t.pow[k].apply(s, out);
    std::memcpy(s, out, sizeof out);
  }
}

/** The stream of `key` positioned `offset` words in. */
inline Xoshiro stream_at(uint32_t hi, uint32_t lo, uint64_t offset) {
  Xoshiro r(hi, lo);
  r.jump(offset);
  return r;
}

// --- float64 sigmoid / softplus pieces (AVX2 with a scalar fallback) -----------------------------------------

#ifdef EBM_RBM_AVX2
/** e^x for 4 lanes with −708 ≤ x ≤ 0 (≈ 1 ulp): Cody–Waite reduction, degree-13 Taylor polynomial. */
inline __m256d exp_pd(__m256d x) {
  const __m256d k = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(1.4426950408889634)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256d r = _mm256_fnmadd_pd(k, _mm256_set1_pd(6.93147180369123816490e-01), x);
  r = _mm256_fnmadd_pd(k, _mm256_set1_pd(1.90821492927058770002e-10), r);
  __m256d p = _mm256_set1_pd(1.0 / 6227020800.0);
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 479001600.0));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 39916800.0));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 3628800.0));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 362880.0));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 40320.0));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 5040.0));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 720.0));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 120.0));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 24.0));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 6.0));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(0.5));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0));
  const __m128i ki = _mm256_cvtpd_epi32(k);
  const __m256i e = _mm256_slli_epi64(_mm256_add_epi64(_mm256_cvtepi32_epi64(ki), _mm256_set1_epi64x(1023)), 52);
  return _mm256_mul_pd(p, _mm256_castsi256_pd(e));
}

/** e^{−|y|} for 4 lanes (any y; lanes below −708 or NaN go through std::exp). */
inline __m256d exp_neg_abs_pd(__m256d y) {
  const __m256d a = _mm256_andnot_pd(_mm256_set1_pd(-0.0), y);  // |y|
  const __m256d x = _mm256_sub_pd(_mm256_setzero_pd(), a);
  const __m256d ok = _mm256_cmp_pd(x, _mm256_set1_pd(-708.0), _CMP_GE_OQ);
  if (_mm256_movemask_pd(ok) == 0xf) return exp_pd(x);
  alignas(32) double xs[4], es[4];
  _mm256_store_pd(xs, x);
  _mm256_store_pd(es, exp_pd(_mm256_max_pd(x, _mm256_set1_pd(-708.0))));
  const int m = _mm256_movemask_pd(ok);
  for (int l = 0; l < 4; l++)
    if (!(m & (1 << l))) es[l] = std::exp(xs[l]);
  return _mm256_load_pd(es);
}

/** σ(y) from e = e^{−|y|}: 1/(1+e) for y ≥ 0, e/(1+e) otherwise (as kernels.ts's sig). */
inline __m256d sig_from_e(__m256d y, __m256d e) {
  const __m256d one = _mm256_set1_pd(1.0);
  const __m256d d = _mm256_add_pd(one, e);
  const __m256d pos = _mm256_cmp_pd(y, _mm256_setzero_pd(), _CMP_GE_OQ);
  return _mm256_div_pd(_mm256_blendv_pd(e, one, pos), d);
}
#endif

inline double sig_scalar(double y) {
  if (y >= 0) return 1.0 / (1.0 + std::exp(-y));
  const double e = std::exp(y);
  return e / (1.0 + e);
}

/** p[q] = σ(β·x[q]) in float64 for q < len. */
void sigmoid_f64(const float* x, long len, double beta, double* p) {
  long q = 0;
#ifdef EBM_RBM_AVX2
  const __m256d vb = _mm256_set1_pd(beta);
  for (; q + 4 <= len; q += 4) {
    const __m256d y = _mm256_mul_pd(vb, _mm256_cvtps_pd(_mm_loadu_ps(x + q)));
    _mm256_storeu_pd(p + q, sig_from_e(y, exp_neg_abs_pd(y)));
  }
#endif
  for (; q < len; q++) p[q] = sig_scalar(beta * static_cast<double>(x[q]));
}

/** out[q] = (float) σ(β·x[q]) (float64 sigmoid rounded to float32, as a Float32Array store does). */
void sigmoid_to_f32(const float* x, long len, double beta, float* out, double* scratch) {
  sigmoid_f64(x, len, beta, scratch);
  for (long q = 0; q < len; q++) out[q] = static_cast<float>(scratch[q]);
}

/** x[q] = [word_q·2⁻³² < p[q]] for q < len, one word each from rng. */
inline void draw_f64(Xoshiro& rng, const double* p, long len, uint8_t* x) {
  Xoshiro r = rng;
  for (long q = 0; q < len; q++) x[q] = static_cast<double>(r.next()) * kTwoPowM32 < p[q] ? 1 : 0;
  rng = r;
}

inline void draw_f32(Xoshiro& rng, const float* p, long len, uint8_t* x) {
  Xoshiro r = rng;
  for (long q = 0; q < len; q++)
    x[q] = static_cast<double>(r.next()) * kTwoPowM32 < static_cast<double>(p[q]) ? 1 : 0;
  rng = r;
}

/**
 * AIS weight increment and hidden probabilities of one chain: returns Σ_j softplus(β·pre_j) −
 * softplus(β′·pre_j) and writes p[j] = σ(β·pre_j) (float64). Per j the increment is
 * max(y,0) − max(y′,0) + log((1+e)/(1+e′)) with e = e^{−|y|}; the logs of a chunk are taken once on the
 * product of the ratios (each in [½, 2], so a chunk of 256 cannot overflow).
 */
double ais_increment(const float* pre, int nh, double betaPrev, double beta, double* p) {
  double lin = 0, logs = 0;
  int j = 0;
#ifdef EBM_RBM_AVX2
  const __m256d vb = _mm256_set1_pd(beta), vbp = _mm256_set1_pd(betaPrev), one = _mm256_set1_pd(1.0);
  const __m256d zero = _mm256_setzero_pd();
  __m256d vlin = zero;
  while (j + 4 <= nh) {
    __m256d prod = one;
    const int end = std::min(nh - (nh - j) % 4, j + 256);
    for (; j < end; j += 4) {
      const __m256d x = _mm256_cvtps_pd(_mm_loadu_ps(pre + j));
      const __m256d y = _mm256_mul_pd(vb, x), yp = _mm256_mul_pd(vbp, x);
      const __m256d e = exp_neg_abs_pd(y), ep = exp_neg_abs_pd(yp);
      vlin = _mm256_add_pd(vlin, _mm256_sub_pd(_mm256_max_pd(y, zero), _mm256_max_pd(yp, zero)));
      prod = _mm256_mul_pd(prod, _mm256_div_pd(_mm256_add_pd(one, e), _mm256_add_pd(one, ep)));
      _mm256_storeu_pd(p + j, sig_from_e(y, e));
    }
    alignas(32) double pr[4];
    _mm256_store_pd(pr, prod);
    logs += std::log((pr[0] * pr[1]) * (pr[2] * pr[3]));
  }
  alignas(32) double l4[4];
  _mm256_store_pd(l4, vlin);
  lin = (l4[0] + l4[1]) + (l4[2] + l4[3]);
#endif
  for (; j < nh; j++) {
    const double x = pre[j], y = beta * x, yp = betaPrev * x;
    const double e = std::exp(-std::fabs(y)), ep = std::exp(-std::fabs(yp));
    lin += (y > 0 ? y : 0) - (yp > 0 ? yp : 0);
    logs += std::log1p(e) - std::log1p(ep);
    p[j] = y >= 0 ? 1 / (1 + e) : e / (1 + e);
  }
  return lin + logs;
}

// --- the model and the row pipeline ---------------------------------------------------------------------------

struct Rbm {
  int nv = 0, nh = 0;
  const float* packW = nullptr;   // W packed as B of (n×nv)·(nv×nh)
  const float* packWt = nullptr;  // Wᵀ packed as B of (n×nh)·(nh×nv)
  const float* b = nullptr;
  const float* c = nullptr;
};

long pack_size_w(int nv, int nh) { return packed_b_size(nv, nh); }
long pack_size(int nv, int nh) { return packed_b_size(nv, nh) + packed_b_size(nh, nv); }

void pack_rbm(const float* W, int nv, int nh, float* out) {
  parallel_for(2, [&](int p) {
    if (p == 0)
      pack_b_matrix(false, nv, nh, W, nh, out);
    else
      pack_b_matrix(true, nh, nv, W, nh, out + pack_size_w(nv, nh));
  });
}

/** Per-thread scratch, grow-only. */
struct Scratch {
  std::vector<float> a, pre, pre2;
  std::vector<double> p;
  float* fa(size_t n) {
    if (a.size() < n) a.resize(n);
    return a.data();
  }
  float* fpre(size_t n) {
    if (pre.size() < n) pre.resize(n);
    return pre.data();
  }
  float* fpre2(size_t n) {
    if (pre2.size() < n) pre2.resize(n);
    return pre2.data();
  }
  double* dp(size_t n) {
    if (p.size() < n) p.resize(n);
    return p.data();
  }
};

thread_local Scratch tl_scratch;

inline void bits_to_float(const uint8_t* x, long len, float* out) {
  for (long q = 0; q < len; q++) out[q] = static_cast<float>(x[q]);
}

/** pre (r × nh) = c + vᵀW for r rows of visible bits. */
void hidden_pre(const Rbm& m, const uint8_t* v, int r, float* pre, Scratch& s) {
  float* a = s.fa(static_cast<size_t>(r) * m.nv);
  bits_to_float(v, static_cast<long>(r) * m.nv, a);
  for (int i = 0; i < r; i++) std::memcpy(pre + static_cast<long>(i) * m.nh, m.c, m.nh * sizeof(float));
  sgemm_packed(false, r, m.nh, m.nv, 1.f, a, m.nv, m.packW, 1.f, pre, m.nh);
}

/**
 * pre (r × nv) = b + t·Wh for r rows of hidden bits: t = 1 for the model's conditionals (a float32 add, as
 * kernels.ts; p_β(v = 1 | h) = σ(β·pre)), t < 1 on the AIS path.
 */
void visible_pre(const Rbm& m, const uint8_t* h, int r, double t, float* pre, Scratch& s) {
  float* a = s.fa(static_cast<size_t>(r) * m.nh);
  bits_to_float(h, static_cast<long>(r) * m.nh, a);
  sgemm_packed(false, r, m.nv, m.nh, 1.f, a, m.nh, m.packWt, 0.f, pre, m.nv);
  for (int i = 0; i < r; i++) {
    float* o = pre + static_cast<long>(i) * m.nv;
    if (t == 1.0)
      for (int q = 0; q < m.nv; q++) o[q] += m.b[q];
    else
      for (int q = 0; q < m.nv; q++) o[q] = static_cast<float>(static_cast<double>(m.b[q]) + t * o[q]);
  }
}

/** Splits `rows` rows into parts of whole kRowUnit-row units; f(part, r0, r1) for non-empty parts. */
template <class F>
void for_row_parts(long rows, F&& f) {
  const long units = (rows + kRowUnit - 1) / kRowUnit;
  const int parts = static_cast<int>(std::max<long>(1, std::min<long>(pool_threads(), units)));
  parallel_for(parts, [&](int p) {
    auto [u0, u1] = part_range(units, parts, p);
    const long r0 = std::min(rows, u0 * kRowUnit), r1 = std::min(rows, u1 * kRowUnit);
    if (r1 > r0) f(p, r0, r1);
  });
}

/** Tiles [r0, r1) into ≤ kTileRows rows: g(t0, rows). */
template <class G>
void for_tiles(long r0, long r1, G&& g) {
  for (long t = r0; t < r1; t += kTileRows) g(t, static_cast<int>(std::min<long>(kTileRows, r1 - t)));
}

// --- the operations -----------------------------------------------------------------------------------------

void hidden_probs(const Rbm& m, const uint8_t* v, long n, double beta, float* out) {
  for_row_parts(n, [&](int, long r0, long r1) {
    Scratch& s = tl_scratch;
    for_tiles(r0, r1, [&](long t, int r) {
      float* o = out + t * m.nh;
      hidden_pre(m, v + t * m.nv, r, o, s);
      sigmoid_to_f32(o, static_cast<long>(r) * m.nh, beta, o, s.dp(static_cast<size_t>(r) * m.nh));
    });
  });
}

void visible_probs(const Rbm& m, const uint8_t* h, long n, double beta, float* out) {
  for_row_parts(n, [&](int, long r0, long r1) {
    Scratch& s = tl_scratch;
    for_tiles(r0, r1, [&](long t, int r) {
      float* o = out + t * m.nv;
      visible_pre(m, h + t * m.nh, r, 1.0, o, s);
      sigmoid_to_f32(o, static_cast<long>(r) * m.nv, beta, o, s.dp(static_cast<size_t>(r) * m.nv));
    });
  });
}

void free_energy(const Rbm& m, const uint8_t* v, long n, double* out) {
  for_row_parts(n, [&](int, long r0, long r1) {
    Scratch& s = tl_scratch;
    for_tiles(r0, r1, [&](long t, int r) {
      float* pre = s.fpre(static_cast<size_t>(r) * m.nh);
      hidden_pre(m, v + t * m.nv, r, pre, s);
      for (int i = 0; i < r; i++) {
        const uint8_t* vi = v + (t + i) * m.nv;
        const float* pi = pre + static_cast<long>(i) * m.nh;
        double f = 0;
        for (int q = 0; q < m.nv; q++)
          if (vi[q]) f -= m.b[q];
        for (int j = 0; j < m.nh; j++) {
          const double y = pi[j];
          f -= (y > 0 ? y : 0) + std::log1p(std::exp(-std::fabs(y)));
        }
        out[t + i] = f;
      }
    });
  });
}

/**
 * `sweeps` block-Gibbs sweeps of ρ_β on n chains (v, h in place). Draw order per sweep: n·nh, then n·nv.
 * `cpre` (n × nh, or null): c + vᵀW at the current v, read instead of recomputed for the first draw of h
 * and left at c + vᵀW of the final v.
 */
void gibbs(const Rbm& m, uint32_t khi, uint32_t klo, uint8_t* v, uint8_t* h, float* cpre, long n, int sweeps,
           double beta) {
  const uint64_t perSweep = static_cast<uint64_t>(n) * (m.nh + m.nv);
  for_row_parts(n, [&](int, long r0, long r1) {
    Scratch& s = tl_scratch;
    for (int t = 0; t < sweeps; t++) {
      const uint64_t base = perSweep * t;
      Xoshiro rh = stream_at(khi, klo, base + static_cast<uint64_t>(r0) * m.nh);
      Xoshiro rv = stream_at(khi, klo, base + static_cast<uint64_t>(n) * m.nh + static_cast<uint64_t>(r0) * m.nv);
      for_tiles(r0, r1, [&](long t0, int r) {
        float* pre = s.fpre(static_cast<size_t>(r) * std::max(m.nh, m.nv));
        double* p = s.dp(static_cast<size_t>(r) * std::max(m.nh, m.nv));
        float* ph = cpre ? cpre + t0 * m.nh : pre;
        if (!cpre) hidden_pre(m, v + t0 * m.nv, r, ph, s);
        sigmoid_f64(ph, static_cast<long>(r) * m.nh, beta, p);
        draw_f64(rh, p, static_cast<long>(r) * m.nh, h + t0 * m.nh);
        visible_pre(m, h + t0 * m.nh, r, 1.0, pre, s);
        sigmoid_f64(pre, static_cast<long>(r) * m.nv, beta, p);
        draw_f64(rv, p, static_cast<long>(r) * m.nv, v + t0 * m.nv);
        if (cpre) hidden_pre(m, v + t0 * m.nv, r, ph, s);
      });
    }
  });
}

thread_local std::vector<float> tl_cd_a, tl_cd_p;
thread_local std::vector<uint8_t> tl_cd_v, tl_cd_h;

/**
 * CD-k / PCD-k estimate of E_data[∂θF] − E_model[∂θF] (kernels.ts's cdGradient, same draws): g written to
 * gW, gb, gc. persistent: the m chains pv (m×nv), ph (m×nh), updated in place; otherwise m = n chains start
 * at the data.
 */
void cd_gradient(const Rbm& m, uint32_t khi, uint32_t klo, const uint8_t* data, long n, int k, float* gW, float* gb,
                 float* gc, uint8_t* pv, uint8_t* ph, long mc) {
  const bool persistent = pv != nullptr;
  const long M = persistent ? mc : n;
  const int nv = m.nv, nh = m.nh;
  // Stacked operands of the weight gradient: A = [−v₀/n; v_k/m] ((n+M) × nv), P = [p(h|v₀); p(h|v_k)].
  if (tl_cd_a.size() < static_cast<size_t>(n + M) * nv) tl_cd_a.resize(static_cast<size_t>(n + M) * nv);
  if (tl_cd_p.size() < static_cast<size_t>(n + M) * nh) tl_cd_p.resize(static_cast<size_t>(n + M) * nh);
  float* A = tl_cd_a.data();
  float* P = tl_cd_p.data();
  float* ph0 = P;
  float* phk = P + static_cast<long>(n) * nh;
  uint8_t *v, *h;
  if (persistent) {
    v = pv;
    h = ph;
  } else {
    if (tl_cd_v.size() < static_cast<size_t>(n) * nv) tl_cd_v.resize(static_cast<size_t>(n) * nv);
    if (tl_cd_h.size() < static_cast<size_t>(n) * nh) tl_cd_h.resize(static_cast<size_t>(n) * nh);
    v = tl_cd_v.data();
    h = tl_cd_h.data();
  }
  // Data term: p(h|v₀).
  hidden_probs(m, data, n, 1.0, ph0);
  // Negative chains. Draws: h (M·nh: from p(h|v₀) for CD, from p(h|v) at the stored v for PCD), then for
  // t = 1 … k: v (M·nv), and h (M·nh) if t < k.
  for_row_parts(M, [&](int, long r0, long r1) {
    Scratch& s = tl_scratch;
    const long rows = r1 - r0;
    float* pre = s.fpre2(static_cast<size_t>(rows) * std::max(nh, nv));
    double* p = s.dp(static_cast<size_t>(rows) * std::max(nh, nv));
    uint64_t base = 0;
    {
      Xoshiro r = stream_at(khi, klo, static_cast<uint64_t>(r0) * nh);
      if (persistent) {
        for_tiles(r0, r1, [&](long t0, int rr) {
          float* pt = pre + (t0 - r0) * nh;
          hidden_pre(m, v + t0 * nv, rr, pt, s);
        });
        sigmoid_f64(pre, rows * nh, 1.0, p);
        draw_f64(r, p, rows * nh, h + r0 * nh);
      } else {
        draw_f32(r, ph0 + r0 * nh, rows * nh, h + r0 * nh);
      }
      base += static_cast<uint64_t>(M) * nh;
    }
    for (int t = 1; t <= k; t++) {
      Xoshiro rv = stream_at(khi, klo, base + static_cast<uint64_t>(r0) * nv);
      base += static_cast<uint64_t>(M) * nv;
      for_tiles(r0, r1, [&](long t0, int rr) { visible_pre(m, h + t0 * nh, rr, 1.0, pre + (t0 - r0) * nv, s); });
      sigmoid_f64(pre, rows * nv, 1.0, p);
      draw_f64(rv, p, rows * nv, v + r0 * nv);
      for_tiles(r0, r1, [&](long t0, int rr) { hidden_pre(m, v + t0 * nv, rr, pre + (t0 - r0) * nh, s); });
      if (t < k) {
        Xoshiro rh = stream_at(khi, klo, base + static_cast<uint64_t>(r0) * nh);
        base += static_cast<uint64_t>(M) * nh;
        sigmoid_f64(pre, rows * nh, 1.0, p);
        draw_f64(rh, p, rows * nh, h + r0 * nh);
      } else {
        sigmoid_to_f32(pre, rows * nh, 1.0, phk + r0 * nh, p);
      }
    }
  });
  // Bias gradients (float64 column sums in row order; columns split over parts), then A's rows.
  const float negInvN = static_cast<float>(-1.0 / static_cast<double>(n));
  const float invM = static_cast<float>(1.0 / static_cast<double>(M));
  const int cols = nv + nh;
  const int parts = std::max(1, std::min(pool_threads(), cols / 64 + 1));
  parallel_for(parts, [&](int part) {
    auto [q0, q1] = part_range(cols, parts, part);
    for (long q = q0; q < q1; q++) {
      double a0 = 0, a1 = 0;
      if (q < nv) {
        for (long i = 0; i < n; i++) a0 += data[i * nv + q];
        for (long i = 0; i < M; i++) a1 += v[i * nv + q];
        const float g = static_cast<float>(-(a0 / n));
        gb[q] = static_cast<float>(static_cast<double>(g) + a1 / M);
      } else {
        const long j = q - nv;
        for (long i = 0; i < n; i++) a0 += ph0[i * nh + j];
        for (long i = 0; i < M; i++) a1 += phk[i * nh + j];
        const float g = static_cast<float>(-(a0 / n));
        gc[j] = static_cast<float>(static_cast<double>(g) + a1 / M);
      }
    }
  });
  for_row_parts(n + M, [&](int, long r0, long r1) {
    for (long i = r0; i < r1; i++) {
      const uint8_t* src = i < n ? data + i * nv : v + (i - n) * nv;
      const float sc = i < n ? negInvN : invM;
      float* dst = A + i * nv;
      for (int q = 0; q < nv; q++) dst[q] = src[q] ? sc : 0.f;
    }
  });
  sgemm_parallel(true, false, nv, nh, static_cast<int>(n + M), 1.f, A, nv, P, nh, 0.f, gW, nh);
}

/** AIS chains at β = 0: v ~ Π Bern(σ(b)) (n·nv draws, chain-major), pre = c + vᵀW, logw = 0, h = 0. */
void ais_init(const Rbm& m, uint32_t khi, uint32_t klo, uint8_t* v, uint8_t* h, float* pre, double* logw, long n) {
  std::vector<double> pb(m.nv);
  for (int q = 0; q < m.nv; q++) pb[q] = sig_scalar(static_cast<double>(m.b[q]));
  for_row_parts(n, [&](int, long r0, long r1) {
    Scratch& s = tl_scratch;
    Xoshiro r = stream_at(khi, klo, static_cast<uint64_t>(r0) * m.nv);
    for (long i = r0; i < r1; i++) draw_f64(r, pb.data(), m.nv, v + i * m.nv);
    std::memset(h + r0 * m.nh, 0, static_cast<size_t>(r1 - r0) * m.nh);
    for (long i = r0; i < r1; i++) logw[i] = 0;
    for_tiles(r0, r1, [&](long t0, int rr) { hidden_pre(m, v + t0 * m.nv, rr, pre + t0 * m.nh, s); });
  });
}

/** One AIS step t′ → t along the path (kernels.ts's aisSweep): logw += Δ, h ~ p_t(h|v) (n·nh), v ~ p_t(v|h) (n·nv), pre. */
void ais_sweep(const Rbm& m, uint32_t khi, uint32_t klo, uint8_t* v, uint8_t* h, float* pre, double* logw, long n,
               double betaPrev, double beta) {
  for_row_parts(n, [&](int, long r0, long r1) {
    Scratch& s = tl_scratch;
    Xoshiro rh = stream_at(khi, klo, static_cast<uint64_t>(r0) * m.nh);
    Xoshiro rv = stream_at(khi, klo, static_cast<uint64_t>(n) * m.nh + static_cast<uint64_t>(r0) * m.nv);
    for_tiles(r0, r1, [&](long t0, int r) {
      double* p = s.dp(static_cast<size_t>(r) * std::max(m.nh, m.nv));
      for (int i = 0; i < r; i++) {
        const long c = t0 + i;
        logw[c] += ais_increment(pre + c * m.nh, m.nh, betaPrev, beta, p + static_cast<long>(i) * m.nh);
      }
      draw_f64(rh, p, static_cast<long>(r) * m.nh, h + t0 * m.nh);
      float* pv = s.fpre(static_cast<size_t>(r) * m.nv);
      visible_pre(m, h + t0 * m.nh, r, beta, pv, s);
      sigmoid_f64(pv, static_cast<long>(r) * m.nv, 1.0, p);
      draw_f64(rv, p, static_cast<long>(r) * m.nv, v + t0 * m.nv);
      hidden_pre(m, v + t0 * m.nv, r, pre + t0 * m.nh, s);
    });
  });
}

/**
 * θ ← θ + α·g elementwise in float32, each as float32(θ + α·g) computed in float64 without contraction
 * (the SGD step of src/rbm/cd.ts's sgdUpdate with α = −lr: the same bits as its θ − lr·g). Fixed chunks: any
 * split gives the same result.
 */
__attribute__((optimize("fp-contract=off"))) void axpy_f32(float* x, const float* g, long len, double alpha) {
  for (long q = 0; q < len; q++) {
    const double t = alpha * static_cast<double>(g[q]);
    x[q] = static_cast<float>(static_cast<double>(x[q]) + t);
  }
}

void sgd_update(float* W, float* b, float* c, const float* gW, const float* gb, const float* gc, long nw, int nv,
                int nh, double alpha) {
  constexpr long kChunk = 1 << 16;
  const long chunks = (nw + kChunk - 1) / kChunk;
  parallel_for(static_cast<int>(std::max<long>(1, std::min<long>(pool_threads(), chunks))), [&](int p) {
    const int parts = static_cast<int>(std::max<long>(1, std::min<long>(pool_threads(), chunks)));
    auto [q0, q1] = part_range(nw, parts, p);
    axpy_f32(W + q0, gW + q0, q1 - q0, alpha);
    if (p == 0) {
      axpy_f32(b, gb, nv, alpha);
      axpy_f32(c, gc, nh, alpha);
    }
  });
}

// --- JavaScript glue ----------------------------------------------------------------------------------------

constexpr int64_t kMaxDim = 1 << 24;
constexpr int64_t kMaxRows = 1LL << 31;

/** Arguments 0–4 of every model call: nv, nh, pack, b, c. */
bool parse_model(Args& a, Rbm& m) {
  const int64_t nv = a.integer(0), nh = a.integer(1);
  if (!a.ok) return false;
  if (nv < 1 || nh < 1 || nv > kMaxDim || nh > kMaxDim || nv * nh > (1LL << 31)) {
    a.fail("ebm_native: RBM bad sizes nv, nh", true);
    return false;
  }
  m.nv = static_cast<int>(nv);
  m.nh = static_cast<int>(nh);
  const float* pack = a.f32(2, static_cast<size_t>(pack_size(m.nv, m.nh)), "pack");
  m.b = a.f32(3, m.nv, "b");
  m.c = a.f32(4, m.nh, "c");
  if (!a.ok) return false;
  m.packW = pack;
  m.packWt = pack + pack_size_w(m.nv, m.nh);
  return true;
}

int64_t rows_arg(Args& a, size_t i) {
  const int64_t n = a.integer(i);
  if (a.ok && (n < 0 || n > kMaxRows)) a.fail("ebm_native: RBM bad number of rows", true);
  return n;
}

bool key_args(Args& a, size_t i, uint32_t* hi, uint32_t* lo) {
  const int64_t h = a.integer(i), l = a.integer(i + 1);
  if (a.ok && (h < 0 || l < 0 || h > 0xffffffffLL || l > 0xffffffffLL)) a.fail("ebm_native: RBM key words must be uint32", true);
  *hi = static_cast<uint32_t>(h);
  *lo = static_cast<uint32_t>(l);
  return a.ok;
}

/** rbmPackSize(nv, nh): floats of the packed W and Wᵀ. */
napi_value js_pack_size(napi_env env, napi_callback_info info) {
  Args a(env, info, 2);
  const int64_t nv = a.integer(0), nh = a.integer(1);
  if (a.ok && (nv < 1 || nh < 1 || nv > kMaxDim || nh > kMaxDim)) a.fail("ebm_native: RBM bad sizes", true);
  if (!a.ok) return nullptr;
  return a.make_number(static_cast<double>(pack_size(static_cast<int>(nv), static_cast<int>(nh))));
}

/** rbmPack(nv, nh, W, pack) */
napi_value js_pack(napi_env env, napi_callback_info info) {
  Args a(env, info, 4);
  const int64_t nv = a.integer(0), nh = a.integer(1);
  if (a.ok && (nv < 1 || nh < 1 || nv > kMaxDim || nh > kMaxDim || nv * nh > (1LL << 31))) a.fail("ebm_native: RBM bad sizes", true);
  if (!a.ok) return nullptr;
  const float* W = a.f32(2, static_cast<size_t>(nv * nh), "W");
  float* pack = a.f32(3, static_cast<size_t>(pack_size(static_cast<int>(nv), static_cast<int>(nh))), "pack");
  if (!a.ok) return nullptr;
  pack_rbm(W, static_cast<int>(nv), static_cast<int>(nh), pack);
  return a.undefined();
}

/** rbmHiddenProbs(nv, nh, pack, b, c, v, n, beta, out) */
napi_value js_hidden_probs(napi_env env, napi_callback_info info) {
  Args a(env, info, 9);
  Rbm m;
  if (!parse_model(a, m)) return nullptr;
  const int64_t n = rows_arg(a, 6);
  const double beta = a.number(7);
  const uint8_t* v = a.u8(5, static_cast<size_t>(n) * m.nv, "v");
  float* out = a.f32(8, static_cast<size_t>(n) * m.nh, "out");
  if (!a.ok) return nullptr;
  hidden_probs(m, v, n, beta, out);
  return a.undefined();
}

/** rbmVisibleProbs(nv, nh, pack, b, c, h, n, beta, out) */
napi_value js_visible_probs(napi_env env, napi_callback_info info) {
  Args a(env, info, 9);
  Rbm m;
  if (!parse_model(a, m)) return nullptr;
  const int64_t n = rows_arg(a, 6);
  const double beta = a.number(7);
  const uint8_t* h = a.u8(5, static_cast<size_t>(n) * m.nh, "h");
  float* out = a.f32(8, static_cast<size_t>(n) * m.nv, "out");
  if (!a.ok) return nullptr;
  visible_probs(m, h, n, beta, out);
  return a.undefined();
}

/** rbmFreeEnergy(nv, nh, pack, b, c, v, n, out) */
napi_value js_free_energy(napi_env env, napi_callback_info info) {
  Args a(env, info, 8);
  Rbm m;
  if (!parse_model(a, m)) return nullptr;
  const int64_t n = rows_arg(a, 6);
  const uint8_t* v = a.u8(5, static_cast<size_t>(n) * m.nv, "v");
  double* out = a.f64(7, static_cast<size_t>(n), "out");
  if (!a.ok) return nullptr;
  free_energy(m, v, n, out);
  return a.undefined();
}

/** rbmGibbs(nv, nh, pack, b, c, keyHi, keyLo, v, h, pre | null, n, sweeps, beta) */
napi_value js_gibbs(napi_env env, napi_callback_info info) {
  Args a(env, info, 13);
  Rbm m;
  uint32_t hi, lo;
  if (!parse_model(a, m) || !key_args(a, 5, &hi, &lo)) return nullptr;
  const int64_t n = rows_arg(a, 10);
  const int64_t sweeps = a.integer(11);
  const double beta = a.number(12);
  if (a.ok && (sweeps < 0 || sweeps > (1LL << 30))) a.fail("ebm_native: RBM bad number of sweeps", true);
  uint8_t* v = a.u8(7, static_cast<size_t>(n) * m.nv, "v");
  uint8_t* h = a.u8(8, static_cast<size_t>(n) * m.nh, "h");
  float* pre = a.nullish(9) ? nullptr : a.f32(9, static_cast<size_t>(n) * m.nh, "pre");
  if (!a.ok) return nullptr;
  gibbs(m, hi, lo, v, h, pre, n, static_cast<int>(sweeps), beta);
  return a.undefined();
}

/** rbmCdGradient(nv, nh, pack, b, c, keyHi, keyLo, data, n, k, gW, gb, gc, pv | null, ph | null, m) */
napi_value js_cd_gradient(napi_env env, napi_callback_info info) {
  Args a(env, info, 16);
  Rbm m;
  uint32_t hi, lo;
  if (!parse_model(a, m) || !key_args(a, 5, &hi, &lo)) return nullptr;
  const int64_t n = rows_arg(a, 8);
  const int64_t k = a.integer(9);
  if (a.ok && (n < 1 || k < 1 || k > (1LL << 30))) a.fail("ebm_native: RBM need n ≥ 1 and k ≥ 1", true);
  const uint8_t* data = a.u8(7, static_cast<size_t>(n) * m.nv, "data");
  float* gW = a.f32(10, static_cast<size_t>(m.nv) * m.nh, "gW");
  float* gb = a.f32(11, m.nv, "gb");
  float* gc = a.f32(12, m.nh, "gc");
  const bool persistent = !a.nullish(13);
  int64_t mc = 0;
  uint8_t *pv = nullptr, *ph = nullptr;
  if (a.ok && persistent) {
    mc = rows_arg(a, 15);
    if (a.ok && mc < 1) a.fail("ebm_native: RBM need m ≥ 1 persistent chains", true);
    pv = a.u8(13, static_cast<size_t>(mc) * m.nv, "persistent.v");
    ph = a.u8(14, static_cast<size_t>(mc) * m.nh, "persistent.h");
  }
  if (!a.ok) return nullptr;
  cd_gradient(m, hi, lo, data, n, static_cast<int>(k), gW, gb, gc, pv, ph, mc);
  return a.undefined();
}

/** rbmAisInit(nv, nh, pack, b, c, keyHi, keyLo, v, h, pre, logw, n) */
napi_value js_ais_init(napi_env env, napi_callback_info info) {
  Args a(env, info, 12);
  Rbm m;
  uint32_t hi, lo;
  if (!parse_model(a, m) || !key_args(a, 5, &hi, &lo)) return nullptr;
  const int64_t n = rows_arg(a, 11);
  uint8_t* v = a.u8(7, static_cast<size_t>(n) * m.nv, "v");
  uint8_t* h = a.u8(8, static_cast<size_t>(n) * m.nh, "h");
  float* pre = a.f32(9, static_cast<size_t>(n) * m.nh, "pre");
  double* logw = a.f64(10, static_cast<size_t>(n), "logw");
  if (!a.ok) return nullptr;
  ais_init(m, hi, lo, v, h, pre, logw, n);
  return a.undefined();
}

/** rbmAisSweep(nv, nh, pack, b, c, keyHi, keyLo, v, h, pre, logw, n, betaPrev, beta) */
napi_value js_ais_sweep(napi_env env, napi_callback_info info) {
  Args a(env, info, 14);
  Rbm m;
  uint32_t hi, lo;
  if (!parse_model(a, m) || !key_args(a, 5, &hi, &lo)) return nullptr;
  const int64_t n = rows_arg(a, 11);
  const double betaPrev = a.number(12), beta = a.number(13);
  uint8_t* v = a.u8(7, static_cast<size_t>(n) * m.nv, "v");
  uint8_t* h = a.u8(8, static_cast<size_t>(n) * m.nh, "h");
  float* pre = a.f32(9, static_cast<size_t>(n) * m.nh, "pre");
  double* logw = a.f64(10, static_cast<size_t>(n), "logw");
  if (!a.ok) return nullptr;
  ais_sweep(m, hi, lo, v, h, pre, logw, n, betaPrev, beta);
  return a.undefined();
}

/** rbmSgdUpdate(nv, nh, W, b, c, gW, gb, gc, alpha): W, b, c += alpha·g (float32; α = −lr for SGD). */
napi_value js_sgd_update(napi_env env, napi_callback_info info) {
  Args a(env, info, 9);
  const int64_t nv = a.integer(0), nh = a.integer(1);
  if (a.ok && (nv < 1 || nh < 1 || nv > kMaxDim || nh > kMaxDim || nv * nh > (1LL << 31))) a.fail("ebm_native: RBM bad sizes", true);
  if (!a.ok) return nullptr;
  const size_t nw = static_cast<size_t>(nv * nh);
  float* W = a.f32(2, nw, "W");
  float* b = a.f32(3, nv, "b");
  float* c = a.f32(4, nh, "c");
  const float* gW = a.f32(5, nw, "gW");
  const float* gb = a.f32(6, nv, "gb");
  const float* gc = a.f32(7, nh, "gc");
  const double alpha = a.number(8);
  if (!a.ok) return nullptr;
  sgd_update(W, b, c, gW, gb, gc, static_cast<long>(nw), static_cast<int>(nv), static_cast<int>(nh), alpha);
  return a.undefined();
}

/** rbmStreamWords(keyHi, keyLo, offset, out: Float64Array): words offset … offset+len−1 of the key's stream
 *  (through the jump-ahead; for tests). */
napi_value js_stream_words(napi_env env, napi_callback_info info) {
  Args a(env, info, 4);
  uint32_t hi, lo;
  if (!key_args(a, 0, &hi, &lo)) return nullptr;
  const int64_t off = a.integer(2);
  if (a.ok && off < 0) a.fail("ebm_native: RBM offset must be ≥ 0", true);
  size_t len = 0;
  double* out = a.f64(3, &len);
  if (!a.ok) return nullptr;
  Xoshiro r = stream_at(hi, lo, static_cast<uint64_t>(off));
  for (size_t q = 0; q < len; q++) out[q] = r.next();
  return a.undefined();
}

}  // namespace

EBM_EXPORT("rbmPackSize", js_pack_size);
EBM_EXPORT("rbmPack", js_pack);
EBM_EXPORT("rbmHiddenProbs", js_hidden_probs);
EBM_EXPORT("rbmVisibleProbs", js_visible_probs);
EBM_EXPORT("rbmFreeEnergy", js_free_energy);
EBM_EXPORT("rbmGibbs", js_gibbs);
EBM_EXPORT("rbmCdGradient", js_cd_gradient);
EBM_EXPORT("rbmAisInit", js_ais_init);
EBM_EXPORT("rbmAisSweep", js_ais_sweep);
EBM_EXPORT("rbmStreamWords", js_stream_words);
EBM_EXPORT("rbmSgdUpdate", js_sgd_update);

}  // namespace ebm
