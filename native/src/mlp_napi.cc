// N-API glue of the MLP kernels (mlp.h, mlp.cc): argument checks and the exports mlp*, net*.
#include <cmath>
#include <string>

#include "mlp.h"
#include "napi_util.h"
#include "registry.h"

namespace ebm {
namespace {
/**
 * Reads (widths: Int32Array, activation: number, theta: Float32Array) at argument positions iw, iw+1, ith
 * and sets `net` up (net_setup). scalar: the output width must be 1 (the energy's exports). Error messages
 * start with "ebm_native: <who>: ".
 */
bool parse_net(Args& a, size_t iw, size_t ith, Net& net, bool scalar = true, const char* who = "mlp") {
  size_t nw = 0, nt = 0;
  const int32_t* widths = a.i32(iw, &nw);
  int64_t act = a.integer(iw + 1);
  const float* theta = a.f32(ith, &nt);
  if (!a.ok) return false;
  if (const char* err = net_setup(net, widths, nw, act, theta, scalar)) {
    a.fail(std::string("ebm_native: ") + who + ": " + err, true);
    return false;
  }
  a.need(nt, static_cast<size_t>(net.numParams), "theta");
  return a.ok;
}

bool check_n(Args& a, int64_t n) {
  if (a.ok && (n < 0 || n > (1LL << 40))) a.fail("ebm_native: mlp: n must be ≥ 0", true);
  return a.ok;
}

/** mlpEnergy(widths, act, c, theta, x, n, u) */
napi_value js_mlp_energy(napi_env env, napi_callback_info info) {
  Args a(env, info, 7);
  Net net;
  if (!a.ok || !parse_net(a, 0, 3, net)) return nullptr;
  net.c = a.number(2);
  size_t nx, nu;
  const double* x = a.f64(4, &nx);
  int64_t n = a.integer(5);
  double* u = a.f64(6, &nu);
  if (!check_n(a, n)) return nullptr;
  a.need(nx, n * net.dim(), "x");
  a.need(nu, n, "u");
  if (!a.ok) return nullptr;
  run_energy(net, x, n, u, nullptr, nullptr, nullptr, 0, nullptr);
  return a.undefined();
}

/** mlpEnergyGrad(widths, act, c, theta, x, n, u, grad) */
napi_value js_mlp_energy_grad(napi_env env, napi_callback_info info) {
  Args a(env, info, 8);
  Net net;
  if (!a.ok || !parse_net(a, 0, 3, net)) return nullptr;
  net.c = a.number(2);
  size_t nx, nu, ng;
  const double* x = a.f64(4, &nx);
  int64_t n = a.integer(5);
  double* u = a.f64(6, &nu);
  double* g = a.f64(7, &ng);
  if (!check_n(a, n)) return nullptr;
  a.need(nx, n * net.dim(), "x");
  a.need(nu, n, "u");
  a.need(ng, n * net.dim(), "grad");
  if (!a.ok) return nullptr;
  run_energy(net, x, n, u, g, nullptr, nullptr, 0, nullptr);
  return a.undefined();
}

/** mlpLangevin(widths, act, c, theta, x, gradX, noise, n, h, y, uY, gradY) */
napi_value js_mlp_langevin(napi_env env, napi_callback_info info) {
  Args a(env, info, 12);
  Net net;
  if (!a.ok || !parse_net(a, 0, 3, net)) return nullptr;
  net.c = a.number(2);
  size_t nx, ngx, nz, ny, nu, ng;
  const double* x = a.f64(4, &nx);
  const double* gx = a.f64(5, &ngx);
  const double* z = a.f64(6, &nz);
  int64_t n = a.integer(7);
  double h = a.number(8);
  double* y = a.f64(9, &ny);
  double* u = a.f64(10, &nu);
  double* g = a.f64(11, &ng);
  if (!check_n(a, n)) return nullptr;
  const size_t m = n * net.dim();
  a.need(nx, m, "x");
  a.need(ngx, m, "gradX");
  a.need(nz, m, "noise");
  a.need(ny, m, "y");
  a.need(nu, n, "uY");
  a.need(ng, m, "gradY");
  if (a.ok && !(h >= 0 && std::isfinite(h))) a.fail("ebm_native: mlpLangevin: h must be finite and ≥ 0", true);
  if (!a.ok) return nullptr;
  run_energy(net, x, n, u, g, gx, z, h, y);
  return a.undefined();
}

/** mlpParamGrad(widths, act, theta, x, n, weights, out) */
napi_value js_mlp_param_grad(napi_env env, napi_callback_info info) {
  Args a(env, info, 7);
  Net net;
  if (!a.ok || !parse_net(a, 0, 2, net)) return nullptr;
  size_t nx, nw, no;
  const double* x = a.f64(3, &nx);
  int64_t n = a.integer(4);
  const double* w = a.f64(5, &nw);
  double* out = a.f64(6, &no);
  if (!check_n(a, n)) return nullptr;
  a.need(nx, n * net.dim(), "x");
  a.need(nw, n, "weights");
  a.need(no, net.numParams, "out");
  if (!a.ok) return nullptr;
  run_vjp(net, x, n, w, nullptr, nullptr, out);
  return a.undefined();
}

/**
 * mlpDirectionalParamGrad(widths, act, theta, x, v, n, a, b, slope, curv, out): out = Σ_i ∂θ[a_i u̇_i + b_i ü_i]
 * with u(t) = MLP(x_i + t v_i); b, slope, curv may be null (b null: first order only, unless curv is wanted).
 */
napi_value js_mlp_directional_param_grad(napi_env env, napi_callback_info info) {
  Args a(env, info, 11);
  Net net;
  if (!a.ok || !parse_net(a, 0, 2, net)) return nullptr;
  size_t nx, nv, na, nb = 0, ns = 0, nc = 0, no;
  const double* x = a.f64(3, &nx);
  const double* v = a.f64(4, &nv);
  int64_t n = a.integer(5);
  const double* av = a.f64(6, &na);
  const double* bv = a.nullish(7) ? nullptr : a.f64(7, &nb);
  double* slope = a.nullish(8) ? nullptr : a.f64(8, &ns);
  double* curv = a.nullish(9) ? nullptr : a.f64(9, &nc);
  double* out = a.f64(10, &no);
  if (!check_n(a, n)) return nullptr;
  a.need(nx, n * net.dim(), "x");
  a.need(nv, n * net.dim(), "v");
  a.need(na, n, "a");
  if (bv) a.need(nb, n, "b");
  if (slope) a.need(ns, n, "slope");
  if (curv) a.need(nc, n, "curv");
  a.need(no, net.numParams, "out");
  if (!a.ok) return nullptr;
  run_jet(net, x, v, n, av, bv, slope, curv, out);
  return a.undefined();
}

/**
 * mlpScoreMatching(widths, act, c, theta, x, n, weights, out): returns J = Σ_i w_i[½|∇ₓU(x_i)|² − ΔₓU(x_i)]
 * and writes ∂θJ to out (the forward-Laplacian jets; see run_score_matching).
 */
napi_value js_mlp_score_matching(napi_env env, napi_callback_info info) {
  Args a(env, info, 8);
  Net net;
  if (!a.ok || !parse_net(a, 0, 3, net)) return nullptr;
  net.c = a.number(2);
  size_t nx, nw, no;
  const double* x = a.f64(4, &nx);
  int64_t n = a.integer(5);
  const double* w = a.f64(6, &nw);
  double* out = a.f64(7, &no);
  if (!check_n(a, n)) return nullptr;
  a.need(nx, n * net.dim(), "x");
  a.need(nw, n, "weights");
  a.need(no, net.numParams, "out");
  if (!a.ok) return nullptr;
  return a.make_number(run_score_matching(net, x, n, w, out));
}

/** netForward(widths, act, theta, x, n, y): y (n×m) = f(x) for a network with widths [k, hidden…, m]. */
napi_value js_net_forward(napi_env env, napi_callback_info info) {
  Args a(env, info, 6);
  Net net;
  if (!a.ok || !parse_net(a, 0, 2, net, false, "net")) return nullptr;
  size_t nx, ny;
  const double* x = a.f64(3, &nx);
  int64_t n = a.integer(4);
  double* y = a.f64(5, &ny);
  if (!check_n(a, n)) return nullptr;
  a.need(nx, n * net.dim(), "x");
  a.need(ny, n * net.m(), "y");
  if (!a.ok) return nullptr;
  run_vjp(net, x, n, nullptr, y, nullptr, nullptr);
  return a.undefined();
}

/**
 * netVjp(widths, act, theta, x, n, g, y, gradX, gradParams): cotangents g (n×m); y (n×m) = f(x),
 * gradX (n×k) row i = g_iᵀ∂f/∂x, gradParams = Σ_i g_iᵀ∂θf(x_i) (written); each output may be null.
 */
napi_value js_net_vjp(napi_env env, napi_callback_info info) {
  Args a(env, info, 9);
  Net net;
  if (!a.ok || !parse_net(a, 0, 2, net, false, "net")) return nullptr;
  size_t nx, ng, ny = 0, ngx = 0, ngp = 0;
  const double* x = a.f64(3, &nx);
  int64_t n = a.integer(4);
  const double* g = a.f64(5, &ng);
  double* y = a.nullish(6) ? nullptr : a.f64(6, &ny);
  double* gx = a.nullish(7) ? nullptr : a.f64(7, &ngx);
  double* gp = a.nullish(8) ? nullptr : a.f64(8, &ngp);
  if (!check_n(a, n)) return nullptr;
  a.need(nx, n * net.dim(), "x");
  a.need(ng, n * net.m(), "g");
  if (y) a.need(ny, n * net.m(), "y");
  if (gx) a.need(ngx, n * net.dim(), "gradX");
  if (gp) a.need(ngp, net.numParams, "gradParams");
  if (!a.ok) return nullptr;
  run_vjp(net, x, n, g, y, gx, gp);
  return a.undefined();
}

/** netTapeLength(widths, act, theta, n): the Float32Array length netForwardTape needs for n points. */
napi_value js_net_tape_length(napi_env env, napi_callback_info info) {
  Args a(env, info, 4);
  Net net;
  if (!a.ok || !parse_net(a, 0, 2, net, false, "net")) return nullptr;
  int64_t n = a.integer(3);
  if (!check_n(a, n)) return nullptr;
  return a.make_number(static_cast<double>(tape_floats(net, n)));
}

/** netForwardTape(widths, act, theta, x, n, y, tape): y = f(x), the activations kept in tape. */
napi_value js_net_forward_tape(napi_env env, napi_callback_info info) {
  Args a(env, info, 7);
  Net net;
  if (!a.ok || !parse_net(a, 0, 2, net, false, "net")) return nullptr;
  size_t nx, ny, nt;
  const double* x = a.f64(3, &nx);
  int64_t n = a.integer(4);
  double* y = a.f64(5, &ny);
  float* tape = a.f32(6, &nt);
  if (!check_n(a, n)) return nullptr;
  a.need(nx, n * net.dim(), "x");
  a.need(ny, n * net.m(), "y");
  if (a.ok) a.need(nt, tape_floats(net, n), "tape");
  if (!a.ok) return nullptr;
  run_forward_tape(net, x, n, y, tape);
  return a.undefined();
}

/** netVjpTape(widths, act, theta, tape, n, g, gradX, gradParams): netVjp's outputs from a forward's tape. */
napi_value js_net_vjp_tape(napi_env env, napi_callback_info info) {
  Args a(env, info, 8);
  Net net;
  if (!a.ok || !parse_net(a, 0, 2, net, false, "net")) return nullptr;
  size_t nt, ng, ngx = 0, ngp = 0;
  const float* tape = a.f32(3, &nt);
  int64_t n = a.integer(4);
  const double* g = a.f64(5, &ng);
  double* gx = a.nullish(6) ? nullptr : a.f64(6, &ngx);
  double* gp = a.nullish(7) ? nullptr : a.f64(7, &ngp);
  if (!check_n(a, n)) return nullptr;
  if (a.ok) a.need(nt, tape_floats(net, n), "tape");
  a.need(ng, n * net.m(), "g");
  if (gx) a.need(ngx, n * net.dim(), "gradX");
  if (gp) a.need(ngp, net.numParams, "gradParams");
  if (!a.ok) return nullptr;
  run_vjp_tape(net, tape, n, g, gx, gp);
  return a.undefined();
}

}  // namespace

EBM_EXPORT("mlpEnergy", js_mlp_energy);
EBM_EXPORT("mlpEnergyGrad", js_mlp_energy_grad);
EBM_EXPORT("mlpLangevin", js_mlp_langevin);
EBM_EXPORT("mlpParamGrad", js_mlp_param_grad);
EBM_EXPORT("mlpDirectionalParamGrad", js_mlp_directional_param_grad);
EBM_EXPORT("mlpScoreMatching", js_mlp_score_matching);
EBM_EXPORT("netForward", js_net_forward);
EBM_EXPORT("netVjp", js_net_vjp);
EBM_EXPORT("netTapeLength", js_net_tape_length);
EBM_EXPORT("netForwardTape", js_net_forward_tape);
EBM_EXPORT("netVjpTape", js_net_vjp_tape);

}  // namespace ebm
