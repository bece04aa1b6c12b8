// The MLP kernels of mlp.cc as plain functions over pointers and sizes (no N-API, no allocation visible to
// the caller, no OS calls): the N-API glue (mlp_napi.cc) and the WebAssembly exports (native/wasm/) both
// call these. See mlp.cc for the network layout, the tiling and why every output is bit-identical across
// runs and thread counts.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ebm {

constexpr int kMlpMaxLayers = 64;

/** A network f_θ : R^k → R^m with widths w[0] = k, w[1..layers−1] hidden, w[layers] = m; θ float32. */
struct Net {
  int layers = 0;  // number of weight layers (hidden layers + 1)
  const int32_t* w = nullptr;
  int act = 0;  // activations.h: kSilu, kSoftplus, kTanh, kElu
  double c = 0;  // the energy's confinement ½·c·|x|² (energy kernels only)
  const float* theta = nullptr;
  long offW[kMlpMaxLayers] = {}, offB[kMlpMaxLayers] = {};
  long numParams = 0;
  long hiddenTotal = 0;  // Σ hidden widths
  int maxw = 0;
  long maxWW = 0;  // max w[l]·w[l+1]
  // Filled by the kernels (mlp.cc), not by the caller: pre-packed W_l (forward, x·W) and W_lᵀ (backward,
  // δ·Wᵀ) for layers whose GEMMs use sgemm_packed, and W_Lᵀ of a narrow output layer.
  const float* packW[kMlpMaxLayers] = {};
  const float* packWt[kMlpMaxLayers] = {};
  const float* outT = nullptr;
  int dim() const { return w[0]; }
  int m() const { return w[layers]; }
};

/**
 * Fills `net` for `nw` widths (input, ≥ 1 hidden, output), activation code `act` and θ (which must hold
 * net.numParams floats: the caller checks). scalar: the output width must be 1 (the energy). Returns
 * nullptr, or what is wrong (a static string).
 */
const char* net_setup(Net& net, const int32_t* widths, size_t nw, int64_t act, const float* theta, bool scalar);

/**
 * U (and ∇ₓU if grad != null) for n points. If y != null, the points are first set to the Langevin proposal
 * y = x − h·gx + √(2h)·noise and the outputs refer to y. The energy (m = 1) with confinement net.c.
 */
void run_energy(Net& net, const double* x, long n, double* u, double* grad, const double* gx, const double* noise,
                double h, double* y);

/**
 * Reverse mode with cotangents g (n×m) for n points: y = f(x) (n×m) if y != null; gx (n×dim), row i = g_iᵀ∂f/∂x,
 * if gx != null; out = Σ_i g_iᵀ ∂θf(x_i) (written) if out != null. The energy's weighted parameter gradient
 * is the case m = 1, y = gx = null.
 */
void run_vjp(Net& net, const double* x, long n, const double* g, double* y, double* gx, double* out);

/**
 * run_vjp's parameter gradient is Σ over vjp_parts(n) fixed chunks of the rows (float64 accumulators,
 * summed in chunk order by sum_vjp_parts): run_vjp_parts computes chunks [p0, p1) alone, so that two
 * callers (threads, or two WebAssembly instances) can each take some and get run_vjp's bits in the end.
 * x, g, y and gx point at row vjp_part_row(n, p0); acc receives (p1 − p0)·P float64 (zeroed first).
 */
int vjp_parts(long n);
long vjp_part_row(long n, int p);  // first row of chunk p (n for p = vjp_parts(n))
void run_vjp_parts(Net& net, const double* x, long n, const double* g, double* y, double* gx, double* acc, int p0,
                   int p1);
/** out[q] = Σ_p acc[p·P + q] in chunk order p = 0 … parts − 1. */
void sum_vjp_parts(const double* acc, int parts, long P, double* out);

/** Floats of the tape of n rows that run_forward_tape fills and run_vjp_tape reads. */
long tape_floats(const Net& net, long n);

/** y = f(x) (n×m) as run_vjp computes it, keeping the activations in `tape` (tape_floats floats). */
void run_forward_tape(Net& net, const double* x, long n, double* y, float* tape);

/** run_vjp's gx and out (each may be null) for the points of `tape`, without a second forward pass. */
void run_vjp_tape(Net& net, const float* tape, long n, const double* g, double* gx, double* out);

/**
 * Energy only (m = 1, without the confinement): out = Σ_i ∂θ[a_i u̇_i + b_i ü_i] along v with
 * u(t) = MLP(x_i + t·v_i) (out may be null: values only); slope (u̇) and curv (ü) per row if non-null.
 */
void run_jet(const Net& net, const double* x, const double* v, long n, const double* a, const double* b,
             double* slope, double* curv, double* out);

/**
 * Exact score matching: returns J = Σ_i w_i[½|∇ₓU(x_i)|² − ΔₓU(x_i)] (U with the confinement net.c) and
 * writes ∂θJ to out.
 */
double run_score_matching(const Net& net, const double* x, long n, const double* w, double* out);

}  // namespace ebm
