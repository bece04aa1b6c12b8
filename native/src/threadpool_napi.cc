// N-API glue of the thread pool (threadpool.h): the exports getThreads(), setThreads(n).
#include <cstdint>

#include "napi_util.h"
#include "registry.h"
#include "threadpool.h"

namespace ebm {

namespace {

napi_value js_get_threads(napi_env env, napi_callback_info info) {
  Args a(env, info, 0);
  return a.make_number(pool_threads());
}

napi_value js_set_threads(napi_env env, napi_callback_info info) {
  Args a(env, info, 1);
  int64_t n = a.integer(0);
  if (a.ok && (n < 1 || n > 256)) a.fail("ebm_native: setThreads: n must be in [1, 256]", true);
  if (!a.ok) return nullptr;
  set_pool_threads(static_cast<int>(n));
  return a.make_number(pool_threads());
}

}  // namespace

EBM_EXPORT("getThreads", js_get_threads);
EBM_EXPORT("setThreads", js_set_threads);

}  // namespace ebm
