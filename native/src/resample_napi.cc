// N-API glue of the multinomial resampling (resample.h): the export resampleMultinomial.
#include <cstdint>

#include "napi_util.h"
#include "registry.h"
#include "resample.h"

namespace {

// resampleMultinomial(w: Float64Array, total: number, state: Int32Array(4), out: Int32Array)
napi_value js_resample_multinomial(napi_env env, napi_callback_info info) {
  ebm::Args a(env, info, 4);
  size_t n = 0, ns = 0, m = 0;
  const double* w = a.f64(0, &n);
  const double total = a.number(1);
  int32_t* state = a.i32(2, &ns);
  int32_t* out = a.i32(3, &m);
  if (!a.ok) return nullptr;
  a.need(ns, 4, "state");
  if (!a.ok) return nullptr;
  if (n < 1) {
    a.fail("resampleMultinomial: no weights", true);
    return nullptr;
  }
  ebm::multinomial_alias(w, static_cast<int>(n), total, reinterpret_cast<uint32_t*>(state),
                         static_cast<int>(m), out);
  return a.undefined();
}

}  // namespace

EBM_EXPORT("resampleMultinomial", js_resample_multinomial);
