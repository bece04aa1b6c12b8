// N-API glue of the MALA chain kernels (mala_chains.h) and of the per-chain streams (chain_streams.h):
// the exports chainStreamsSeed, chainStreamsNormal, portableLogExp, malaChainsPropose, malaChainsSelect.
// Compiled without floating-point contraction, as mala_chains.cc (portableLogExp must match JavaScript).
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <cstdint>

#include "chain_streams.h"
#include "elementary.h"
#include "mala_chains.h"
#include "napi_util.h"
#include "registry.h"

namespace ebm {

using chain_streams::Ziggurat;

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
  chain_normals(words(st), n, dim, z, out);
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
