// MALA's sampler-side kernels on per-chain random streams (mala_chains.cc): plain C++ on pointers, split by
// chains over the thread pool, shared by the N-API glue (mala_chains_napi.cc) and the WebAssembly exports.
// States are chain_streams::kStateWords = 8 uint32 words per chain, advanced in place.
#pragma once

#include <cstdint>

#include "chain_streams.h"

namespace ebm {

/** Row i of out (n × dim) ← chain i's next dim standard normals (chain_streams.h), on the pool. */
void chain_normals(uint32_t* states, long n, long dim, const chain_streams::Ziggurat& zg, double* out);

/** y = x − drift∘g + noise∘ξ (n × dim, row-major), ξ row i = chain i's next dim normals from states. */
void mala_chains_propose(const double* x, const double* g, const double* drift, const double* noise,
                         uint32_t* states, long n, long dim, const chain_streams::Ziggurat& zg, double* y);

/**
 * The MH select of src/samplers/mala-chains.ts, in place on (x, gx, ux): per chain, log r as malaLogRatios,
 * divergent = !finite(log r), log u = portable_log(uniformOpen) from the chain's stream (always drawn),
 * acceptProb = min(1, e^{log r}), the move when log u < log r; a chain that stays with a non-finite state
 * is flagged divergent.
 */
void mala_chains_select(double* x, double* gx, double* ux, const double* y, const double* gy, const double* uy,
                        const double* drift, const double* inv_mass, double beta, double quarter_inv_h,
                        uint32_t* states, long n, long dim, double* accept_prob, uint8_t* accepted,
                        uint8_t* divergent);

}  // namespace ebm
