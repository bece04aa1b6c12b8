// MALA's sampler-side work for energies evaluated in JavaScript: the Langevin proposal (with standard
// normals drawn by the ziggurat of src/random/key.ts from the caller's xoshiro128** state) and the
// Metropolis–Hastings log ratio, accept/reject and row copy. The energy itself stays with the caller, so
// a step is propose (here) → U, ∇U at the proposals (caller) → select (here).
//
// Draws follow the TypeScript stream word for word: the same ziggurat tables (passed in), the same words
// per attempt and per accept test. The fast path (≈ 99.3% of normals) is exact arithmetic plus one
// product; the wedge and tail tests call exp/log from the C library, which may differ from JavaScript's in
// the last bit, so the native and TypeScript paths are equal in distribution, not promised bit for bit.
// Each path is deterministic for a given seed.
#include <cmath>
#include <cstdint>

#include "napi_util.h"
#include "registry.h"
#include "xoshiro.h"

namespace ebm {
namespace {

struct Xoshiro {
  uint32_t s[4];
  inline uint32_t next() { return xoshiro_next(s); }
  inline double uniform() { return xoshiro_uniform(s); }
  inline double uniform_open() { return xoshiro_uniform_open(s); }
};

struct Ziggurat {
  const double* X;  // 257 layer edges
  const double* F;  // e^{−X²/2}
  double r;
};

/** Stream.normal(): one ziggurat draw. */
inline double normal(Xoshiro& g, const Ziggurat& z) {
  for (;;) {
    const uint32_t a = g.next();
    const uint32_t b = g.next();
    const int i = a & 0xff;
    const double sign = (a & 0x100) ? -1.0 : 1.0;
    const double x = (static_cast<double>(a >> 9) * 4294967296.0 + b) * 0x1p-55 * z.X[i];
    if (x < z.X[i + 1]) return sign * x;
    if (i == 0) {
      double t, y;
      do {
        t = -std::log(g.uniform_open()) / z.r;
        y = -std::log(g.uniform_open());
      } while (y + y < t * t);
      return sign * (z.r + t);
    }
    if (z.F[i] + g.uniform() * (z.F[i + 1] - z.F[i]) < std::exp(-0.5 * x * x)) return sign * x;
  }
}

void load_state(Xoshiro& g, const int32_t* st) {
  for (int j = 0; j < 4; j++) g.s[j] = static_cast<uint32_t>(st[j]);
}
void store_state(const Xoshiro& g, int32_t* st) {
  for (int j = 0; j < 4; j++) st[j] = static_cast<int32_t>(g.s[j]);
}

// malaPropose(x, g, drift, noise, state, zigX, zigF, zigR, y): y = x − drift_j·g + noise_j·ξ, row-major
// n × dim with dim = drift.length.
napi_value js_mala_propose(napi_env env, napi_callback_info info) {
  Args a(env, info, 9);
  size_t nx, ng, nd, nn, ns, nzx, nzf, ny;
  const double* x = a.f64(0, &nx);
  const double* gr = a.f64(1, &ng);
  const double* drift = a.f64(2, &nd);
  const double* noise = a.f64(3, &nn);
  int32_t* st = a.i32(4, &ns);
  const double* zx = a.f64(5, &nzx);
  const double* zf = a.f64(6, &nzf);
  const double zr = a.number(7);
  double* y = a.f64(8, &ny);
  if (!a.ok) return nullptr;
  a.need(ns, 4, "state");
  a.need(nzx, 257, "zigX");
  a.need(nzf, 257, "zigF");
  a.need(nn, nd, "noise");
  a.need(ng, nx, "g");
  a.need(ny, nx, "y");
  if (!a.ok) return nullptr;
  const size_t dim = nd;
  if (dim == 0 || nx % dim != 0) {
    a.fail("malaPropose: x length is not a multiple of dim", true);
    return nullptr;
  }
  Xoshiro g;
  load_state(g, st);
  const Ziggurat z{zx, zf, zr};
  for (size_t k = 0; k < nx; k += dim)
    for (size_t j = 0; j < dim; j++) y[k + j] = x[k + j] - drift[j] * gr[k + j] + noise[j] * normal(g, z);
  store_state(g, st);
  return a.undefined();
}

// malaSelect(x, gx, ux, y, gy, uy, drift, invMass, params [beta, 1/(4h)], state, acceptProb, accepted,
// divergent): log r per chain as malaLogRatios, divergent = !finite(log r); then, per chain in order,
// log u = log(uniformOpen()) and the move when log u < log r (row of y, gy, uy copied into x, gx, ux).
// A chain that stays is flagged divergent if its own state is not finite.
napi_value js_mala_select(napi_env env, napi_callback_info info) {
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
  const size_t n = nux;
  const size_t dim = nd;
  a.need(np, 2, "params");
  a.need(ns, 4, "state");
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
  const double beta = params[0];
  const double quarter_inv_h = params[1];
  Xoshiro g;
  load_state(g, st);
  for (size_t i = 0; i < n; i++) {
    const size_t o = i * dim;
    double diff = 0;
    for (size_t j = 0; j < dim; j++) {
      const double d = y[o + j] - x[o + j];
      const double f = d + drift[j] * gx[o + j];
      const double b = drift[j] * gy[o + j] - d;
      diff += (f * f - b * b) * inv_mass[j];
    }
    const double lr = -beta * (uy[i] - ux[i]) + diff * quarter_inv_h;
    const double lu = std::log(g.uniform_open());
    accepted[i] = 0;
    accept_prob[i] = 0;
    divergent[i] = std::isfinite(lr) ? 0 : 1;
    if (divergent[i]) continue;
    accept_prob[i] = lr >= 0 ? 1 : std::exp(lr);
    if (lu < lr) {
      accepted[i] = 1;
      for (size_t j = 0; j < dim; j++) {
        x[o + j] = y[o + j];
        gx[o + j] = gy[o + j];
      }
      ux[i] = uy[i];
    }
  }
  for (size_t i = 0; i < n; i++) {
    if (accepted[i]) continue;
    bool finite = std::isfinite(ux[i]);
    for (size_t j = 0; finite && j < dim; j++) finite = std::isfinite(gx[i * dim + j]);
    if (!finite) divergent[i] = 1;
  }
  store_state(g, st);
  return a.undefined();
}

}  // namespace
}  // namespace ebm

EBM_EXPORT("malaPropose", ebm::js_mala_propose);
EBM_EXPORT("malaSelect", ebm::js_mala_select);
