// The WebAssembly build's exports (scripts/build-wasm.mjs → src/backend/wasm-kernels/ebm_kernels.wasm): the
// kernel layer of native/src (mlp.h, resample.h, mala_chains.h, chain_streams.h) behind plain C functions
// over linear-memory pointers, plus malloc/free (exported by the linker) for the caller's buffers. No N-API,
// no threads (built with -DEBM_NO_THREADS: threadpool.cc runs every part serially, in order, so the chunked
// float64 accumulations are the same as in the addon's).
//
// Every pointer is an offset into this module's memory; a null pointer means "not wanted" where the kernel
// takes an optional output. Functions that take a network return 0, or 1 when the widths or the activation
// code are invalid (the TypeScript side checks them first; this is a guard, not the error report). The
// ABI version changes whenever an export's signature or meaning does; the loader refuses another one.
#include <cstddef>
#include <cstdint>

#include "chain_streams.h"
#include "mala_chains.h"
#include "mlp.h"
#include "resample.h"

#define EBM_WASM_EXPORT(name) extern "C" __attribute__((export_name(#name), used))

namespace {

constexpr int32_t kAbiVersion = 2;

bool setup(ebm::Net& net, const int32_t* widths, int32_t nw, int32_t act, const float* theta, bool scalar,
           double c = 0) {
  if (ebm::net_setup(net, widths, static_cast<size_t>(nw < 0 ? 0 : nw), act, theta, scalar)) return false;
  net.c = c;
  return true;
}

ebm::chain_streams::Ziggurat ziggurat(const double* x, const double* f, double r) { return {x, f, r}; }

}  // namespace

// The module never exits and has one thread: thread-local scratch (plain globals in this build) is never
// destroyed, so registering its destructors is a no-op (wasi-libc does not provide this C++ ABI hook).
extern "C" int __cxa_thread_atexit(void (*)(void*), void*, void*) { return 0; }

EBM_WASM_EXPORT(ebm_abi_version) int32_t ebm_abi_version() { return kAbiVersion; }

/** U (n) and, if grad != 0, ∇ₓU (n × dim) of the MLP energy with confinement c. */
EBM_WASM_EXPORT(ebm_mlp_energy)
int32_t ebm_mlp_energy(const int32_t* widths, int32_t nw, int32_t act, double c, const float* theta, const double* x,
                       int32_t n, double* u, double* grad) {
  ebm::Net net;
  if (!setup(net, widths, nw, act, theta, true, c)) return 1;
  ebm::run_energy(net, x, n, u, grad, nullptr, nullptr, 0, nullptr);
  return 0;
}

/** y = x − h·gx + √(2h)·noise, then U(y) and ∇ₓU(y) (in place allowed: y = x, g = gx). */
EBM_WASM_EXPORT(ebm_mlp_langevin)
int32_t ebm_mlp_langevin(const int32_t* widths, int32_t nw, int32_t act, double c, const float* theta,
                         const double* x, const double* gx, const double* noise, int32_t n, double h, double* y,
                         double* u, double* g) {
  ebm::Net net;
  if (!setup(net, widths, nw, act, theta, true, c)) return 1;
  ebm::run_energy(net, x, n, u, g, gx, noise, h, y);
  return 0;
}

/** out = Σ_i ∂θ[a_i u̇_i + b_i ü_i] along v (b, slope, curv may be 0); see mlp.h run_jet. */
EBM_WASM_EXPORT(ebm_mlp_jet)
int32_t ebm_mlp_jet(const int32_t* widths, int32_t nw, int32_t act, const float* theta, const double* x,
                    const double* v, int32_t n, const double* a, const double* b, double* slope, double* curv,
                    double* out) {
  ebm::Net net;
  if (!setup(net, widths, nw, act, theta, true)) return 1;
  ebm::run_jet(net, x, v, n, a, b, slope, curv, out);
  return 0;
}

/** *J = Σ_i w_i[½|∇ₓU|² − ΔₓU] and out = ∂θJ; see mlp.h run_score_matching. */
EBM_WASM_EXPORT(ebm_mlp_score_matching)
int32_t ebm_mlp_score_matching(const int32_t* widths, int32_t nw, int32_t act, double c, const float* theta,
                               const double* x, int32_t n, const double* w, double* out, double* J) {
  ebm::Net net;
  if (!setup(net, widths, nw, act, theta, true, c)) return 1;
  *J = ebm::run_score_matching(net, x, n, w, out);
  return 0;
}

/** y (n × m) = f(x) for widths [k, hidden…, m]. */
EBM_WASM_EXPORT(ebm_net_forward)
int32_t ebm_net_forward(const int32_t* widths, int32_t nw, int32_t act, const float* theta, const double* x,
                        int32_t n, double* y) {
  ebm::Net net;
  if (!setup(net, widths, nw, act, theta, false)) return 1;
  ebm::run_vjp(net, x, n, nullptr, y, nullptr, nullptr);
  return 0;
}

/** Cotangents g (n × m): y = f(x), gx row i = g_iᵀ∂f/∂x, gp = Σ_i g_iᵀ∂θf(x_i); each output may be 0. */
EBM_WASM_EXPORT(ebm_net_vjp)
int32_t ebm_net_vjp(const int32_t* widths, int32_t nw, int32_t act, const float* theta, const double* x, int32_t n,
                    const double* g, double* y, double* gx, double* gp) {
  ebm::Net net;
  if (!setup(net, widths, nw, act, theta, false)) return 1;
  ebm::run_vjp(net, x, n, g, y, gx, gp);
  return 0;
}

/** Chunks of run_vjp's parameter gradient for n rows (see mlp.h run_vjp_parts). */
EBM_WASM_EXPORT(ebm_net_vjp_parts_count) int32_t ebm_net_vjp_parts_count(int32_t n) { return ebm::vjp_parts(n); }

/** The first row of chunk p (n for p = the chunk count). */
EBM_WASM_EXPORT(ebm_net_vjp_part_row)
int32_t ebm_net_vjp_part_row(int32_t n, int32_t p) { return static_cast<int32_t>(ebm::vjp_part_row(n, p)); }

/** Chunks [p0, p1) of ebm_net_vjp for n rows: x, g, y, gx from row vjp_part_row(n, p0); acc ((p1−p0)·P). */
EBM_WASM_EXPORT(ebm_net_vjp_parts)
int32_t ebm_net_vjp_parts(const int32_t* widths, int32_t nw, int32_t act, const float* theta, const double* x,
                          int32_t n, const double* g, double* y, double* gx, double* acc, int32_t p0, int32_t p1) {
  ebm::Net net;
  if (!setup(net, widths, nw, act, theta, false)) return 1;
  if (p0 < 0 || p1 < p0 || p1 > ebm::vjp_parts(n)) return 1;
  ebm::run_vjp_parts(net, x, n, g, y, gx, acc, p0, p1);
  return 0;
}

/** out (P) = Σ_p acc[p·P …] in chunk order. */
EBM_WASM_EXPORT(ebm_net_vjp_sum_parts)
void ebm_net_vjp_sum_parts(const double* acc, int32_t parts, int32_t P, double* out) {
  ebm::sum_vjp_parts(acc, parts, P, out);
}

/** m ancestors from Categorical(w / total) (n ≥ 1 weights), the 4-word stream state advanced in place. */
EBM_WASM_EXPORT(ebm_resample_multinomial)
void ebm_resample_multinomial(const double* w, int32_t n, double total, uint32_t* state, int32_t m, int32_t* out) {
  ebm::multinomial_alias(w, n, total, state, m, out);
}

/** The per-chain stream states of chains first … first + count − 1 of the key (hi, lo): 8 words each. */
EBM_WASM_EXPORT(ebm_chain_streams_seed)
void ebm_chain_streams_seed(uint32_t hi, uint32_t lo, uint32_t first, int32_t count, uint32_t* states) {
  ebm::chain_streams::seed_chain_states(hi, lo, first, count, states);
}

/** Row i of out (n × dim) ← chain i's next dim standard normals. */
EBM_WASM_EXPORT(ebm_chain_normals)
void ebm_chain_normals(uint32_t* states, int32_t n, const double* zig_x, const double* zig_f, double zig_r,
                       double* out, int32_t dim) {
  ebm::chain_normals(states, n, dim, ziggurat(zig_x, zig_f, zig_r), out);
}

/** MalaChainsKernels.propose: y = x − drift∘g + noise∘ξ. */
EBM_WASM_EXPORT(ebm_mala_chains_propose)
void ebm_mala_chains_propose(const double* x, const double* g, const double* drift, const double* noise,
                             uint32_t* states, int32_t n, int32_t dim, const double* zig_x, const double* zig_f,
                             double zig_r, double* y) {
  ebm::mala_chains_propose(x, g, drift, noise, states, n, dim, ziggurat(zig_x, zig_f, zig_r), y);
}

/** MalaChainsKernels.select, in place on (x, gx, ux). */
EBM_WASM_EXPORT(ebm_mala_chains_select)
void ebm_mala_chains_select(double* x, double* gx, double* ux, const double* y, const double* gy, const double* uy,
                            const double* drift, const double* inv_mass, double beta, double quarter_inv_h,
                            uint32_t* states, int32_t n, int32_t dim, double* accept_prob, uint8_t* accepted,
                            uint8_t* divergent) {
  ebm::mala_chains_select(x, gx, ux, y, gy, uy, drift, inv_mass, beta, quarter_inv_h, states, n, dim, accept_prob,
                          accepted, divergent);
}
