// MALA's sampler-side work on per-chain random streams (src/samplers/mala-chains.ts is the TypeScript
// reference): the Langevin proposal y = x − drift∘∇U(x) + noise∘ξ with ξ chain i's own normals, and the
// Metropolis–Hastings select (log ratio as malaLogRatios in src/samplers/mala.ts, log u from chain i's own
// uniform, accept/reject, row copy). Every chain's numbers depend only on its own stream and rows, so both
// kernels split the chains over the thread pool and give the same bits as TypeScript for any thread count.
// Also the per-chain streams' own exports (seeding, normals, the portable exp/log) for tests.
//
// The whole file is compiled without floating-point contraction (pragma below): a fused multiply-add
// rounds differently from JavaScript's separate × and +.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "chain_streams.h"
#include "elementary.h"
#include "napi_util.h"
#include "registry.h"
#include "threadpool.h"
#include "xoshiro.h"

namespace ebm {

using chain_streams::Ziggurat;

namespace {

/** Chains per block of the proposal: one pass of chain_streams.h's fill (32 chains), rows still in cache. */
constexpr long kGroup = 32;
/** Chains per unit of the thread split: whole blocks, and 64 bytes of the per-chain byte outputs. */
constexpr long kUnit = 64;

/**
 * Runs f(c0, c1) over contiguous ranges covering chains [0, n), on as many of the pool's threads as the work
 * pays for: one per `min_chains` chains. Below that the call stays on the calling thread (waking a worker
 * costs more than it saves). The proposal and the select both split at 1000 × 100: measured on 2 cores, the
 * step went from 0.60 ms (both serial) and 0.64 ms (only the proposal split: the energy, in JavaScript,
 * then reads rows another core wrote) to 0.54 ms (both split: the select reads the rows in parallel too).
 * Ranges are whole units, up to 8 parts per thread taken dynamically, so a thread the OS holds back (the
 * machine is shared) delays little work. Chains are independent: the split never changes the results.
 */
template <class F>
void for_chain_ranges(long n, long min_chains, F&& f) {
  const long units = (n + kUnit - 1) / kUnit;
  const long useful = std::max(1L, n / std::max(1L, min_chains));
  const int threads = static_cast<int>(std::min<long>(pool_threads(), useful));
  const int parts = static_cast<int>(std::min<long>(units, threads > 1 ? 8L * threads : 1L));
  if (parts <= 1) {
    if (n > 0) f(0L, n);
    return;
  }
  parallel_for(parts, [&](int p) {
    const auto [u0, u1] = part_range(units, parts, p);
    f(u0 * kUnit, std::min(u1 * kUnit, n));
  });
}

/** Per thread at least this many normals (propose) or row elements (select); see for_chain_ranges. */
constexpr long kMinNormalsPerThread = 1L << 15;
constexpr long kMinSelectPerThread = 1L << 15;

inline long chains_for(long elements, long dim) { return (elements + dim - 1) / std::max(1L, dim); }

}  // namespace

/** y = x − drift∘g + noise∘ξ (n × dim, row-major), ξ row i = chain i's next dim normals from states. */
void mala_chains_propose(const double* x, const double* g, const double* drift, const double* noise,
                         uint32_t* states, long n, long dim, const Ziggurat& zg, double* y) {
  for_chain_ranges(n, chains_for(kMinNormalsPerThread, dim), [&](long c0, long c1) {
    for (long b0 = c0; b0 < c1; b0 += kGroup) {
      const long b1 = std::min(b0 + kGroup, c1);
      chain_streams::chain_normal_rows(states, b0, b1, dim, zg, y, dim);  // ξ into y, then y in place
      for (long k = b0 * dim; k < b1 * dim; k += dim)
        for (long j = 0; j < dim; j++) y[k + j] = x[k + j] - drift[j] * g[k + j] + noise[j] * y[k + j];
    }
  });
}

/**
 * The MH select of src/samplers/mala-chains.ts, in place on (x, gx, ux): per chain, log r as malaLogRatios,
 * divergent = !finite(log r), log u = portable_log(uniformOpen) from the chain's stream (always drawn),
 * acceptProb = min(1, e^{log r}), the move when log u < log r; a chain that stays with a non-finite state
 * is flagged divergent.
 */
void mala_chains_select(double* x, double* gx, double* ux, const double* y, const double* gy, const double* uy,
                        const double* drift, const double* inv_mass, double beta, double quarter_inv_h,
                        uint32_t* states, long n, long dim, double* accept_prob, uint8_t* accepted,
                        uint8_t* divergent) {
  for_chain_ranges(n, chains_for(kMinSelectPerThread, dim), [&](long c0, long c1) {
    for (long i = c0; i < c1; i++) {
      const long o = i * dim;
      double diff = 0;
      for (long j = 0; j < dim; j++) {
        const double d = y[o + j] - x[o + j];
        const double f = d + drift[j] * gx[o + j];
        const double b = drift[j] * gy[o + j] - d;
        diff += (f * f - b * b) * inv_mass[j];
      }
      const double lr = -beta * (uy[i] - ux[i]) + diff * quarter_inv_h;
      const double lu = portable_log(xoshiro_uniform_open(states + chain_streams::kStateWords * i));
      accepted[i] = 0;
      accept_prob[i] = 0;
      divergent[i] = std::isfinite(lr) ? 0 : 1;
      if (!divergent[i]) {
        accept_prob[i] = lr >= 0 ? 1 : portable_exp(lr);
        if (lu < lr) {
          accepted[i] = 1;
          for (long j = 0; j < dim; j++) {
            x[o + j] = y[o + j];
            gx[o + j] = gy[o + j];
          }
          ux[i] = uy[i];
          continue;
        }
      }
      bool finite = std::isfinite(ux[i]);
      for (long j = 0; finite && j < dim; j++) finite = std::isfinite(gx[o + j]);
      if (!finite) divergent[i] = 1;
    }
  });
}

namespace {

uint32_t* words(int32_t* p) { return reinterpret_cast<uint32_t*>(p); }

bool key_word(Args& a, size_t i, uint32_t* w) {
  const int64_t v = a.integer(i);
  if (a.ok && (v < 0 || v > 0xffffffffLL)) a.fail("ebm_native: key words must be uint32", true);
  *w = static_cast<uint32_t>(v);
  return a.ok;
}

bool ziggurat(Args& a, size_t i, Ziggurat* z) {
  size_t nx, nf;
  z->X = a.f64(i, &nx);
  z->F = a.f64(i + 1, &nf);
  z->r = a.number(i + 2);
  a.need(nx, 257, "zigX");
  a.need(nf, 257, "zigF");
  return a.ok;
}

// chainStreamsSeed(keyHi, keyLo, first, states: Int32Array): states.length / 8 chains from chain `first`.
napi_value js_seed(napi_env env, napi_callback_info info) {
  Args a(env, info, 4);
  uint32_t hi, lo;
  if (!key_word(a, 0, &hi) || !key_word(a, 1, &lo)) return nullptr;
  const int64_t first = a.integer(2);
  size_t ns;
  int32_t* st = a.i32(3, &ns);
  if (!a.ok) return nullptr;
  const long count = static_cast<long>(ns / chain_streams::kStateWords);
  if (first < 0 || first + count > (int64_t{1} << 32)) {
    a.fail("chainStreamsSeed: chain indices must lie in [0, 2^32)", true);
    return nullptr;
  }
  chain_streams::seed_chain_states(hi, lo, static_cast<uint32_t>(first), count, words(st));
  return a.undefined();
}

// chainStreamsNormal(states, zigX, zigF, zigR, out, dim): row i of out (n × dim, n = states.length / 8) ←
// chain i's next dim normals, on the thread pool.
napi_value js_normal(napi_env env, napi_callback_info info) {
  Args a(env, info, 6);
  size_t ns, no;
  int32_t* st = a.i32(0, &ns);
  Ziggurat z;
  if (!a.ok || !ziggurat(a, 1, &z)) return nullptr;
  double* out = a.f64(4, &no);
  const int64_t dim = a.integer(5);
  if (!a.ok) return nullptr;
  const long n = static_cast<long>(ns / chain_streams::kStateWords);
  if (dim < 0) a.fail("chainStreamsNormal: dim must be ≥ 0", true);
  a.need(no, static_cast<size_t>(n * dim), "out");
  if (!a.ok) return nullptr;
  uint32_t* s = words(st);
  for_chain_ranges(n, chains_for(kMinNormalsPerThread, dim),
                   [&](long c0, long c1) { chain_streams::chain_normal_rows(s, c0, c1, dim, z, out, dim); });
  return a.undefined();
}

// portableLogExp(x, log, exp): log[i] = portable_log(x[i]), exp[i] = portable_exp(x[i]) (tests).
napi_value js_log_exp(napi_env env, napi_callback_info info) {
  Args a(env, info, 3);
  size_t nx, nl, ne;
  const double* x = a.f64(0, &nx);
  double* lg = a.f64(1, &nl);
  double* ex = a.f64(2, &ne);
  a.need(nl, nx, "log");
  a.need(ne, nx, "exp");
  if (!a.ok) return nullptr;
  for (size_t i = 0; i < nx; i++) {
    lg[i] = portable_log(x[i]);
    ex[i] = portable_exp(x[i]);
  }
  return a.undefined();
}

// malaChainsPropose(x, g, drift, noise, states, zigX, zigF, zigR, y): n = states.length / 8 chains,
// dim = drift.length.
napi_value js_propose(napi_env env, napi_callback_info info) {
  Args a(env, info, 9);
  size_t nx, ng, nd, nn, ns, ny;
  const double* x = a.f64(0, &nx);
  const double* g = a.f64(1, &ng);
  const double* drift = a.f64(2, &nd);
  const double* noise = a.f64(3, &nn);
  int32_t* st = a.i32(4, &ns);
  Ziggurat z;
  if (!a.ok || !ziggurat(a, 5, &z)) return nullptr;
  double* y = a.f64(8, &ny);
  if (!a.ok) return nullptr;
  const long n = static_cast<long>(ns / chain_streams::kStateWords);
  const long dim = static_cast<long>(nd);
  a.need(nn, nd, "noise");
  a.need(nx, n * dim, "x");
  a.need(ng, n * dim, "g");
  a.need(ny, n * dim, "y");
  if (!a.ok) return nullptr;
  mala_chains_propose(x, g, drift, noise, words(st), n, dim, z, y);
  return a.undefined();
}

// malaChainsSelect(x, gx, ux, y, gy, uy, drift, invMass, params [β, 1/(4h)], states, acceptProb, accepted,
// divergent): n = ux.length chains, dim = drift.length.
napi_value js_select(napi_env env, napi_callback_info info) {
  Args a(env, info, 13);
  size_t nx, ngx, nux, ny, ngy, nuy, nd, nim, np, ns, nap, nacc, ndiv;
  double* x = a.f64(0, &nx);
  double* gx = a.f64(1, &ngx);
  double* ux = a.f64(2, &nux);
  const double* y = a.f64(3, &ny);
  const double* gy = a.f64(4, &ngy);
  const double* uy = a.f64(5, &nuy);
  const double* drift = a.f64(6, &nd);
  const double* inv_mass = a.f64(7, &nim);
  const double* params = a.f64(8, &np);
  int32_t* st = a.i32(9, &ns);
  double* accept_prob = a.f64(10, &nap);
  uint8_t* accepted = a.u8(11, &nacc);
  uint8_t* divergent = a.u8(12, &ndiv);
  if (!a.ok) return nullptr;
  const long n = static_cast<long>(nux);
  const long dim = static_cast<long>(nd);
  a.need(np, 2, "params");
  a.need(ns, chain_streams::kStateWords * n, "states");
  a.need(nim, dim, "invMass");
  a.need(nx, n * dim, "x");
  a.need(ngx, n * dim, "gx");
  a.need(ny, n * dim, "y");
  a.need(ngy, n * dim, "gy");
  a.need(nuy, n, "uy");
  a.need(nap, n, "acceptProb");
  a.need(nacc, n, "accepted");
  a.need(ndiv, n, "divergent");
  if (!a.ok) return nullptr;
  mala_chains_select(x, gx, ux, y, gy, uy, drift, inv_mass, params[0], params[1], words(st), n, dim, accept_prob,
                     accepted, divergent);
  return a.undefined();
}

}  // namespace
}  // namespace ebm

EBM_EXPORT("chainStreamsSeed", ebm::js_seed);
EBM_EXPORT("chainStreamsNormal", ebm::js_normal);
EBM_EXPORT("portableLogExp", ebm::js_log_exp);
EBM_EXPORT("malaChainsPropose", ebm::js_propose);
EBM_EXPORT("malaChainsSelect", ebm::js_select);
