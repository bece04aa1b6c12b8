// A tiny persistent thread pool: the only place in the addon that creates threads.
//
// Kernels split work into `parts` and call parallel_run; part p must write only its own outputs (or its
// own accumulator slot), so results depend on how work was split into parts, never on which thread ran a
// part or when. To get results that are bit-identical run to run, choose `parts` as a function of the
// problem and of pool_threads() only, and combine per-part partial sums in part order after the call.
//
//   struct Ctx { ... };
//   ebm::parallel_for(parts, [&](int p) { ...work of part p... });
//
// The calling thread runs parts too. Calls from inside a running part, or from a second JavaScript thread
// while the pool is busy, run their parts serially on the calling thread (still correct, same results).
// Built without threads (e.g. for WebAssembly, define EBM_NO_THREADS) every call runs serially.
#pragma once

#include <type_traits>
#include <utility>

namespace ebm {

/** Threads parallel_run may use, including the caller (≥ 1). */
int pool_threads();

/** Sets the thread count (clamped to [1, 256]); idle workers are started/stopped as needed. */
void set_pool_threads(int n);

/** Runs fn(ctx, p) for p = 0 … parts−1 on up to pool_threads() threads and returns when all are done. */
void parallel_run(int parts, void (*fn)(void* ctx, int part), void* ctx);

/** parallel_run with a callable: f(int part). */
template <class F>
void parallel_for(int parts, F&& f) {
  parallel_run(
      parts, [](void* c, int p) { (*static_cast<std::remove_reference_t<F>*>(c))(p); },
      const_cast<void*>(static_cast<const void*>(&f)));
}

/** Contiguous split of [0, count) into `parts` ranges: part p gets [begin, end). */
inline std::pair<long, long> part_range(long count, int parts, int p) {
  return {count * p / parts, count * (p + 1) / parts};
}

}  // namespace ebm
