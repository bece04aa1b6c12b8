// MALA's sampler-side work on per-chain random streams (src/samplers/mala-chains.ts is the TypeScript
// reference): the Langevin proposal y = x − drift∘∇U(x) + noise∘ξ with ξ chain i's own normals, and the
// Metropolis–Hastings select (log ratio as malaLogRatios in src/samplers/mala.ts, log u from chain i's own
// uniform, accept/reject, row copy). Every chain's numbers depend only on its own stream and rows, so both
// kernels split the chains over the thread pool and give the same bits as TypeScript for any thread count.
// Also the per-chain normals on the pool. The JavaScript exports (these, and the per-chain streams' seeding
// and the portable exp/log for tests) are in mala_chains_napi.cc.
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
#include "mala_chains.h"
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

void chain_normals(uint32_t* states, long n, long dim, const Ziggurat& zg, double* out) {
  for_chain_ranges(n, chains_for(kMinNormalsPerThread, dim),
                   [&](long c0, long c1) { chain_streams::chain_normal_rows(states, c0, c1, dim, zg, out, dim); });
}

}  // namespace ebm
