// Small helpers for N-API glue code: argument parsing with JavaScript exceptions on bad input.
//
//   static napi_value fn(napi_env env, napi_callback_info info) {
//     ebm::Args a(env, info, 3);                  // expects at least 3 arguments
//     size_t nx; const double* x = a.f64(0, &nx); // a Float64Array (pointer to its first element)
//     int64_t n = a.integer(1);
//     double h = a.number(2);
//     if (!a.ok) return nullptr;                  // a TypeError/RangeError is pending
//     ...
//     return a.undefined();
//   }
//
// Typed-array pointers alias the JavaScript memory: valid for the duration of the call only. Glue code
// stays here and in the *_napi parts of each .cc; kernels (gemm.h, mlp kernels) never see napi types.
#pragma once

#include <node_api.h>

#include <cstdint>
#include <string>

namespace ebm {

class Args {
 public:
  static constexpr size_t kMax = 16;

  Args(napi_env env, napi_callback_info info, size_t required) : env_(env) {
    argc_ = kMax;
    if (napi_get_cb_info(env, info, &argc_, argv_, nullptr, nullptr) != napi_ok) {
      fail("ebm_native: cannot read arguments");
    } else if (argc_ < required) {
      fail("ebm_native: expected " + std::to_string(required) + " arguments, got " + std::to_string(argc_));
    }
  }

  bool ok = true;

  napi_env env() const { return env_; }
  size_t count() const { return argc_; }

  /** Throws a TypeError (once) and marks the call failed. */
  void fail(const std::string& msg, bool range = false) {
    if (!ok) return;
    ok = false;
    if (range)
      napi_throw_range_error(env_, nullptr, msg.c_str());
    else
      napi_throw_type_error(env_, nullptr, msg.c_str());
  }

  double number(size_t i) {
    double v = 0;
    if (ok && napi_get_value_double(env_, argv_[i], &v) != napi_ok) fail(what(i, "a number"));
    return v;
  }

  int64_t integer(size_t i) {
    double v = number(i);
    if (ok && !(v == static_cast<double>(static_cast<int64_t>(v)))) fail(what(i, "an integer"));
    return static_cast<int64_t>(v);
  }

  bool boolean(size_t i) {
    bool v = false;
    if (ok && napi_get_value_bool(env_, argv_[i], &v) != napi_ok) fail(what(i, "a boolean"));
    return v;
  }

  float* f32(size_t i, size_t* len) { return static_cast<float*>(typed(i, napi_float32_array, "a Float32Array", len)); }
  double* f64(size_t i, size_t* len) { return static_cast<double*>(typed(i, napi_float64_array, "a Float64Array", len)); }
  int32_t* i32(size_t i, size_t* len) { return static_cast<int32_t*>(typed(i, napi_int32_array, "an Int32Array", len)); }
  uint8_t* u8(size_t i, size_t* len) { return static_cast<uint8_t*>(typed(i, napi_uint8_array, "a Uint8Array", len)); }

  /** Fails with a RangeError unless `have >= need`. */
  void need(size_t have, size_t need, const char* name) {
    if (ok && have < need)
      fail(std::string("ebm_native: ") + name + " must hold at least " + std::to_string(need) + " values, got " +
               std::to_string(have),
           true);
  }

  /** True when argument i is null or undefined (an optional argument left out). */
  bool nullish(size_t i) {
    napi_valuetype t;
    return ok && napi_typeof(env_, argv_[i], &t) == napi_ok && (t == napi_null || t == napi_undefined);
  }

  // Typed arrays that must hold at least `min` elements (a RangeError naming `name` otherwise).
  float* f32(size_t i, size_t min, const char* name) {
    size_t len = 0;
    float* p = f32(i, &len);
    return at_least(p, len, min, name);
  }
  double* f64(size_t i, size_t min, const char* name) {
    size_t len = 0;
    double* p = f64(i, &len);
    return at_least(p, len, min, name);
  }
  uint8_t* u8(size_t i, size_t min, const char* name) {
    size_t len = 0;
    uint8_t* p = u8(i, &len);
    return at_least(p, len, min, name);
  }

  napi_value undefined() {
    napi_value v;
    napi_get_undefined(env_, &v);
    return v;
  }
  napi_value make_number(double d) {
    napi_value v;
    napi_create_double(env_, d, &v);
    return v;
  }

 private:
  template <class T>
  T* at_least(T* p, size_t len, size_t min, const char* name) {
    need(len, min, name);
    return ok ? p : nullptr;
  }

  std::string what(size_t i, const char* kind) {
    return "ebm_native: argument " + std::to_string(i) + " must be " + kind;
  }

  void* typed(size_t i, napi_typedarray_type want, const char* kind, size_t* len) {
    *len = 0;
    if (!ok) return nullptr;
    bool is = false;
    napi_is_typedarray(env_, argv_[i], &is);
    if (!is) {
      fail(what(i, kind));
      return nullptr;
    }
    napi_typedarray_type type;
    void* data = nullptr;
    napi_value buf;
    size_t off = 0;
    if (napi_get_typedarray_info(env_, argv_[i], &type, len, &data, &buf, &off) != napi_ok || type != want) {
      *len = 0;
      fail(what(i, kind));
      return nullptr;
    }
    return data;
  }

  napi_env env_;
  size_t argc_ = 0;
  napi_value argv_[kMax];
};

}  // namespace ebm
