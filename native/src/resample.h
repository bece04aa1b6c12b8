// Multinomial resampling (resample.cc): plain C++ on pointers, shared by the N-API glue and the WebAssembly
// exports.
#pragma once

#include <cstdint>

namespace ebm {

/**
 * m ancestors drawn from Categorical(w / total) into `out` (sorted by ancestor), from the stream state
 * `state` (4 words, advanced in place). `total` is Σw computed by the caller in index order; n ≥ 1.
 */
void multinomial_alias(const double* w, int n, double total, uint32_t* state, int m, int32_t* out);

}  // namespace ebm
