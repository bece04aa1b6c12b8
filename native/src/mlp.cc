// MLP kernels: the networks f_θ : R^k → R^m of src/networks/network.ts (forward, and the vector–Jacobian
// product gᵀ∂f/∂x, Σ_i g_iᵀ∂θf(x_i)), and the MLP energy, the case m = 1 plus a confinement:
// U(x) = MLP_θ(x) + ½·c·|x|², ∇ₓU, Σ_i w_i ∂θMLP(x_i), a fused Langevin proposal, and second-order directional
// derivatives with their parameter gradient (Σ_i ∂θ[a_i v_i·∇ₓMLP + b_i v_iᵀ∇²ₓMLP v_i], for denoising and
// sliced score matching; see run_jet below; energy only).
//
// Network and θ layout as src/networks/network.ts: widths w[0] = k, w[1..L−1] hidden, w[L] = m (1 for the
// energy); θ = W1, b1, W2, b2, … with each W stored [in, out] row-major; activation after every hidden layer,
// linear output. Float32 inside (θ arrives as a Float32Array copy), float64 at the boundary (x, f, U, ∇U,
// cotangents, weights, ∂θ).
//
// Rows are processed in tiles of kTile points so that a tile's activations stay in L2: forward pass
// keeping h = f(z) and f′(z) per hidden layer, then the analytic backward pass seeded with the output
// cotangents G (r×m per tile; the energy's weights or ones when m = 1): ∂W_L = h_{L−1}ᵀ G, ∂b_L = Σ_rows G,
// δ_{L−1} = (G W_Lᵀ) ⊙ f′(z_{L−1}), δ_{l−1} = (δ_l W_lᵀ) ⊙ f′(z_{l−1}), ∇ₓ = δ_1 W_1ᵀ, ∂W_l = h_{l−1}ᵀ δ_l,
// ∂b_l = Σ_rows δ_l, with the wide products done by sgemm. The output layer of a narrow network
// (m ≤ kDotOutputs, the energy included) is done with per-output dot products against the rows of W_Lᵀ
// instead (a GEMM with N = m would be mostly padding). Work is handed to the thread pool in parts that the
// pool's threads take in any order: for per-row outputs (f, U, ∇ₓ) one part per tile (they do not depend on
// the split at all); for the parameter gradient min(tiles, kChunks) contiguous chunks of tiles, each
// accumulated in float64 (tile by tile, in order) into its own accumulator, summed in chunk order at the
// end. The split depends on n only, so every output is bit-identical run to run AND across thread counts.
//
// The kernels are plain functions over pointers (declared in mlp.h): the N-API glue is mlp_napi.cc, the
// WebAssembly exports native/wasm/kernels.cc (built with -DEBM_NO_THREADS: the same parts, run in order).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "activation_jets.h"
#include "activations.h"
#include "gemm.h"
#include "jet_gemm.h"
#include "mlp.h"
#include "simd.h"
#include "threadpool.h"

namespace ebm {
namespace {

constexpr int kTile = 256;
constexpr int kMaxLayers = kMlpMaxLayers;
constexpr int kChunks = 8;  // parameter-gradient accumulators per call (fixed: results independent of threads)
constexpr int kDotOutputs = 8;  // output widths up to this use dot products at the last layer, wider ones sgemm

thread_local std::vector<float> tl_packed;

/** True when layer l's GEMMs use pre-packed weights: fan-in > 4, not the input layer, not a narrow output. */
inline bool packs(const Net& net, int l) {
  if (l == 0 || net.w[l] <= 4) return false;
  return l + 1 < net.layers || net.m() > kDotOutputs;
}

/** Packs the weight matrices the tile GEMMs multiply by (see packs), and W_Lᵀ of a narrow output, into tl_packed. */
void pack_weights(Net& net, bool backward) {
  const int last = net.layers - 1, m = net.m(), wt = net.w[last];
  long total = m > 1 && m <= kDotOutputs ? static_cast<long>(m) * wt : 0;
  for (int l = 1; l < net.layers; l++)
    if (packs(net, l)) total += packed_b_size(net.w[l], net.w[l + 1]) + packed_b_size(net.w[l + 1], net.w[l]);
  if (static_cast<long>(tl_packed.size()) < total) tl_packed.resize(total);
  float* p = tl_packed.data();
  for (int l = 0; l < net.layers; l++) {
    const int K = net.w[l], N = net.w[l + 1];
    net.packW[l] = net.packWt[l] = nullptr;
    if (!packs(net, l)) continue;
    const float* W = net.theta + net.offW[l];
    pack_b_matrix(false, K, N, W, N, p);
    net.packW[l] = p;
    p += packed_b_size(K, N);
    if (backward) {
      pack_b_matrix(true, N, K, W, N, p);  // op(B) = Wᵀ: N×K
      net.packWt[l] = p;
      p += packed_b_size(N, K);
    }
  }
  net.outT = nullptr;
  if (m == 1) {
    net.outT = net.theta + net.offW[last];  // a column is a row
  } else if (m <= kDotOutputs) {
    const float* W = net.theta + net.offW[last];
    for (int o = 0; o < m; o++)
      for (int k = 0; k < wt; k++) p[static_cast<long>(o) * wt + k] = W[static_cast<long>(k) * m + o];
    net.outT = p;
  }
}

struct Workspace {
  std::vector<float> a0, act, der, delta, dh, tmp, out, seed, dxf;
  std::vector<double> bsum;
  void ensure(const Net& net) {
    auto grow = [](std::vector<float>& v, size_t n) {
      if (v.size() < n) v.resize(n);
    };
    grow(a0, static_cast<size_t>(kTile) * net.dim());
    grow(act, static_cast<size_t>(kTile) * net.hiddenTotal);
    grow(der, static_cast<size_t>(kTile) * net.hiddenTotal);
    grow(delta, static_cast<size_t>(kTile) * net.maxw);
    grow(dh, static_cast<size_t>(kTile) * net.maxw);
    grow(tmp, static_cast<size_t>(net.maxWW) + net.maxw);
    grow(out, static_cast<size_t>(kTile) * net.m());
    grow(seed, static_cast<size_t>(kTile) * net.m());
    grow(dxf, static_cast<size_t>(kTile) * net.dim());
    if (bsum.size() < static_cast<size_t>(net.m())) bsum.resize(net.m());
  }
};

thread_local Workspace tl_ws;

inline float dot(const float* a, const float* b, int n) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int j = 0;
  for (; j + 8 <= n; j += 8)
    for (int t = 0; t < 8; t++) s[t] += a[j + t] * b[j + t];
  float r = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; j < n; j++) r += a[j] * b[j];
  return r;
}

/** out[r×N] = A[r×K]·W[K×N] + b (packedW: W pre-packed, or null). */
void linear(const float* A, int r, int K, const float* W, const float* packedW, const float* b, int N, float* out) {
  for (int i = 0; i < r; i++) std::memcpy(out + static_cast<long>(i) * N, b, N * sizeof(float));
  if (K <= 4) {
    for (int i = 0; i < r; i++) {
      float* o = out + static_cast<long>(i) * N;
      for (int k = 0; k < K; k++) {
        const float a = A[static_cast<long>(i) * K + k];
        const float* wk = W + static_cast<long>(k) * N;
        for (int j = 0; j < N; j++) o[j] += a * wk[j];
      }
    }
  } else if (packedW) {
    sgemm_packed(false, r, N, K, 1.f, A, K, packedW, 1.f, out, N);
  } else {
    sgemm(false, false, r, N, K, 1.f, A, K, W, N, 1.f, out, N);
  }
}

/** Hidden layer l's activation buffers inside the tile workspace. */
inline long hidden_offset(const Net& net, int l) {
  long off = 0;
  for (int q = 0; q < l; q++) off += static_cast<long>(kTile) * net.w[q + 1];
  return off;
}

/** Forward pass of `r` rows starting at x (float64, row-major): ws.out (r×m) = f(x_i) (float32). */
void forward_tile(const Net& net, const double* x, int r, bool keepDer, Workspace& ws) {
  const int dim = net.dim();
  for (long k = 0; k < static_cast<long>(r) * dim; k++) ws.a0[k] = static_cast<float>(x[k]);
  const float* in = ws.a0.data();
  int K = dim;
  for (int l = 0; l + 1 < net.layers; l++) {
    const int N = net.w[l + 1];
    const long off = hidden_offset(net, l);
    float* H = ws.act.data() + off;
    float* D = ws.der.data() + off;
    linear(in, r, K, net.theta + net.offW[l], net.packW[l], net.theta + net.offB[l], N, H);
    act_forward(net.act, H, H, keepDer ? D : nullptr, static_cast<long>(r) * N);
    in = H;
    K = N;
  }
  const int last = net.layers - 1, m = net.m();
  const float* b = net.theta + net.offB[last];
  float* out = ws.out.data();
  if (net.outT) {
    for (int i = 0; i < r; i++) {
      const float* hi = in + static_cast<long>(i) * K;
      float* oi = out + static_cast<long>(i) * m;
      for (int o = 0; o < m; o++) oi[o] = b[o] + dot(hi, net.outT + static_cast<long>(o) * K, K);
    }
  } else {
    linear(in, r, K, net.theta + net.offW[last], net.packW[last], b, m, out);
  }
}

/**
 * Backward pass for the tile held in `ws` (after forward_tile with keepDer), seeded with the cotangents
 * ws.seed (r×m, ∂/∂f(x_i)). Writes ws.dxf (r×dim) if wantDx; adds Σ_rows seed_iᵀ ∂θf(x_i) to acc (float64)
 * if acc != null.
 */
void backward_tile(const Net& net, int r, bool wantDx, double* acc, Workspace& ws) {
  const int L = net.layers;
  const int top = L - 2;  // index of the last hidden layer
  const int m = net.m();
  const float* g = ws.seed.data();
  float* delta = ws.delta.data();
  float* dh = ws.dh.data();
  float* tmp = ws.tmp.data();
  {
    // Output layer: ∂W_L += Hᵀ G, ∂b_L += Σ_rows G, then δ = (G W_Lᵀ) ⊙ f′ at the last hidden layer.
    const int wt = net.w[L - 1];
    const float* W = net.theta + net.offW[L - 1];
    const long off = hidden_offset(net, top);
    const float* H = ws.act.data() + off;
    const float* D = ws.der.data() + off;
    if (acc) {
      double* bs = ws.bsum.data();  // ∂b_L of the tile, summed in float64 over its rows
      std::fill(bs, bs + m, 0.0);
      for (int i = 0; i < r; i++)
        for (int o = 0; o < m; o++) bs[o] += g[static_cast<long>(i) * m + o];
      double* ab = acc + net.offB[L - 1];
      for (int o = 0; o < m; o++) ab[o] += bs[o];
    }
    if (net.outT) {
      // Narrow output: rows of W_Lᵀ (for m = 1: δ = g·v ⊙ f′ and ∂v += Σ_rows g·h, accumulated row by row).
      const float* Wt = net.outT;
      for (int i = 0; i < r; i++) {
        const float* gi = g + static_cast<long>(i) * m;
        float* d = delta + static_cast<long>(i) * wt;
        const float* Di = D + static_cast<long>(i) * wt;
        if (m == 1) {  // one pass
          for (int j = 0; j < wt; j++) d[j] = gi[0] * Wt[j] * Di[j];
          continue;
        }
        for (int j = 0; j < wt; j++) d[j] = gi[0] * Wt[j];
        for (int o = 1; o < m; o++) {
          const float go = gi[o];
          const float* wo = Wt + static_cast<long>(o) * wt;
          for (int j = 0; j < wt; j++) d[j] += go * wo[j];
        }
        for (int j = 0; j < wt; j++) d[j] *= Di[j];
      }
      if (acc) {
        std::fill(tmp, tmp + static_cast<long>(m) * wt, 0.f);  // (∂W_L)ᵀ: m × wt
        for (int i = 0; i < r; i++) {
          const float* gi = g + static_cast<long>(i) * m;
          const float* Hi = H + static_cast<long>(i) * wt;
          for (int o = 0; o < m; o++) {
            const float go = gi[o];
            float* t = tmp + static_cast<long>(o) * wt;
            for (int j = 0; j < wt; j++) t[j] += go * Hi[j];
          }
        }
        double* aw = acc + net.offW[L - 1];
        for (int j = 0; j < wt; j++)
          for (int o = 0; o < m; o++) aw[static_cast<long>(j) * m + o] += tmp[static_cast<long>(o) * wt + j];
      }
    } else {
      if (acc) {
        sgemm(true, false, wt, m, r, 1.f, H, wt, g, m, 0.f, tmp, m);
        double* aw = acc + net.offW[L - 1];
        for (long q = 0; q < static_cast<long>(wt) * m; q++) aw[q] += tmp[q];
      }
      if (net.packWt[L - 1])
        sgemm_packed(false, r, wt, m, 1.f, g, m, net.packWt[L - 1], 0.f, delta, wt);
      else
        sgemm(false, true, r, wt, m, 1.f, g, m, W, m, 0.f, delta, wt);
      for (long q = 0; q < static_cast<long>(r) * wt; q++) delta[q] *= D[q];
    }
  }
  for (int l = top; l >= 0; l--) {
    const int N = net.w[l + 1], K = net.w[l];
    const float* A = l == 0 ? ws.a0.data() : ws.act.data() + hidden_offset(net, l - 1);
    const float* W = net.theta + net.offW[l];
    if (acc) {
      // ∂W_l += Aᵀ δ, ∂b_l += Σ_rows δ.
      if (K <= 4) {
        std::fill(tmp, tmp + static_cast<long>(K) * N, 0.f);
        for (int i = 0; i < r; i++) {
          const float* d = delta + static_cast<long>(i) * N;
          for (int k = 0; k < K; k++) {
            const float a = A[static_cast<long>(i) * K + k];
            float* t = tmp + static_cast<long>(k) * N;
            for (int j = 0; j < N; j++) t[j] += a * d[j];
          }
        }
      } else {
        sgemm(true, false, K, N, r, 1.f, A, K, delta, N, 0.f, tmp, N);
      }
      double* aw = acc + net.offW[l];
      for (long q = 0; q < static_cast<long>(K) * N; q++) aw[q] += tmp[q];
      double* ab = acc + net.offB[l];
      for (int i = 0; i < r; i++) {
        const float* d = delta + static_cast<long>(i) * N;
        for (int j = 0; j < N; j++) ab[j] += d[j];
      }
    }
    if (l == 0) {
      if (wantDx) {
        float* dx = ws.dxf.data();
        if (K <= 8) {
          for (int i = 0; i < r; i++)
            for (int k = 0; k < K; k++)
              dx[static_cast<long>(i) * K + k] = dot(delta + static_cast<long>(i) * N, W + static_cast<long>(k) * N, N);
        } else {
          sgemm(false, true, r, K, N, 1.f, delta, N, W, N, 0.f, dx, K);
        }
      }
      break;
    }
    // dh = δ W_lᵀ (r×K), then δ ← dh ⊙ f′(z_{l−1}).
    if (net.packWt[l])
      sgemm_packed(false, r, K, N, 1.f, delta, N, net.packWt[l], 0.f, dh, K);
    else
      sgemm(false, true, r, K, N, 1.f, delta, N, W, N, 0.f, dh, K);
    const float* D = ws.der.data() + hidden_offset(net, l - 1);
    for (long q = 0; q < static_cast<long>(r) * K; q++) dh[q] *= D[q];
    std::swap(delta, dh);
  }
}

double half_sq(const double* x, int dim) {
  double s = 0;
  for (int k = 0; k < dim; k++) s += x[k] * x[k];
  return 0.5 * s;
}

int num_tiles(long n) { return static_cast<int>((n + kTile - 1) / kTile); }

void sum_parts(const std::vector<double>& acc, int parts, long P, double* out) { sum_vjp_parts(acc.data(), parts, P, out); }

/**
 * Parts [p0, p1) of an n-row reverse pass whose tiles are split into `parts` contiguous chunks: x, g, y and
 * gx point at part p0's first row; part p accumulates Σ g_iᵀ∂θf(x_i) over its tiles, in order, into
 * acc + (p − p0)·P (zeroed here) when acc != null.
 */
void vjp_range(Net& net, const double* x, long n, const double* g, double* y, double* gx, double* acc, int parts,
               int p0, int p1) {
  const bool back = gx || acc;
  pack_weights(net, back);
  const int dim = net.dim(), m = net.m();
  const long P = net.numParams;
  const int tiles = num_tiles(n);
  const long r0 = part_range(tiles, parts, p0).first * kTile;
  if (acc) std::fill(acc, acc + static_cast<long>(p1 - p0) * P, 0.0);
  parallel_for(p1 - p0, [&](int q) {
    Workspace& ws = tl_ws;
    ws.ensure(net);
    double* my = acc ? acc + static_cast<long>(q) * P : nullptr;
    auto [t0, t1] = part_range(tiles, parts, p0 + q);
    for (long t = t0; t < t1; t++) {
      const long i0 = t * kTile, j0 = i0 - r0;  // the row in the call, and in the caller's arrays
      const int r = static_cast<int>(std::min<long>(kTile, n - i0));
      const long rm = static_cast<long>(r) * m;
      forward_tile(net, x + j0 * dim, r, back, ws);
      if (y)
        for (long k = 0; k < rm; k++) y[j0 * m + k] = static_cast<double>(ws.out[k]);
      if (!back) continue;
      for (long k = 0; k < rm; k++) ws.seed[k] = static_cast<float>(g[j0 * m + k]);
      backward_tile(net, r, gx != nullptr, my, ws);
      if (gx)
        for (long k = 0; k < static_cast<long>(r) * dim; k++) gx[j0 * dim + k] = static_cast<double>(ws.dxf[k]);
    }
  });
}

}  // namespace

int vjp_parts(long n) { return std::max(1, std::min(kChunks, num_tiles(n))); }

long vjp_part_row(long n, int p) {
  return std::min<long>(n, part_range(num_tiles(n), vjp_parts(n), p).first * kTile);
}

void sum_vjp_parts(const double* acc, int parts, long P, double* out) {
  for (long q = 0; q < P; q++) {
    double s = acc[q];
    for (int p = 1; p < parts; p++) s += acc[static_cast<long>(p) * P + q];
    out[q] = s;
  }
}

void run_vjp_parts(Net& net, const double* x, long n, const double* g, double* y, double* gx, double* acc, int p0,
                   int p1) {
  vjp_range(net, x, n, g, y, gx, acc, vjp_parts(n), p0, p1);
}

// --- the operations -----------------------------------------------------------------------------------------

/** U (and ∇ₓU if grad != null) for n points. If y != null, the points are first set to the Langevin proposal
 *  y = x − h·gx + √(2h)·noise and the outputs refer to y. */
void run_energy(Net& net, const double* x, long n, double* u, double* grad, const double* gx,
                const double* noise, double h, double* y) {
  pack_weights(net, grad != nullptr);
  const int dim = net.dim();
  const int tiles = num_tiles(n);
  const double sq = std::sqrt(2.0 * h);
  parallel_for(tiles, [&](int t) {
    Workspace& ws = tl_ws;
    ws.ensure(net);
    {
      const long i0 = static_cast<long>(t) * kTile;
      const int r = static_cast<int>(std::min<long>(kTile, n - i0));
      const double* xt = x + i0 * dim;
      if (y) {
        double* yt = y + i0 * dim;
        const double* gt = gx + i0 * dim;
        const double* nt = noise + i0 * dim;
        for (long k = 0; k < static_cast<long>(r) * dim; k++) yt[k] = xt[k] - h * gt[k] + sq * nt[k];
        xt = yt;
      }
      forward_tile(net, xt, r, grad != nullptr, ws);
      for (int i = 0; i < r; i++)
        u[i0 + i] = static_cast<double>(ws.out[i]) + (net.c != 0 ? net.c * half_sq(xt + static_cast<long>(i) * dim, dim) : 0.0);
      if (grad) {
        std::fill(ws.seed.begin(), ws.seed.begin() + r, 1.f);
        backward_tile(net, r, true, nullptr, ws);
        double* gt = grad + i0 * dim;
        for (long k = 0; k < static_cast<long>(r) * dim; k++)
          gt[k] = static_cast<double>(ws.dxf[k]) + net.c * xt[k];
      }
    }
  });
}

/**
 * Reverse mode with cotangents g (n×m) for n points: y = f(x) (n×m) if y != null; gx (n×dim), row i = g_iᵀ∂f/∂x,
 * if gx != null; out = Σ_i g_iᵀ ∂θf(x_i) (written) if out != null. The energy's weighted parameter gradient
 * is the case m = 1, y = gx = null.
 */
void run_vjp(Net& net, const double* x, long n, const double* g, double* y, double* gx, double* out) {
  // The parameter gradient needs the fixed chunks; per-row outputs alone take one part per tile.
  const int parts = out ? vjp_parts(n) : num_tiles(n);
  std::vector<double> acc(out ? static_cast<size_t>(parts) * net.numParams : 0, 0.0);
  vjp_range(net, x, n, g, y, gx, out ? acc.data() : nullptr, parts, 0, parts);
  if (out) sum_parts(acc, parts, net.numParams, out);
}

/** Floats a tape of n rows holds: per tile, the tile workspace's input, activations and derivatives. */
long tape_floats(const Net& net, long n) {
  return static_cast<long>(num_tiles(n)) * kTile * (net.dim() + 2L * net.hiddenTotal);
}

/**
 * y = f(x) (n×m), keeping every tile's activations in `tape` (tape_floats(net, n) floats) for run_vjp_tape:
 * the forward pass of run_vjp, so that a cotangent computed from y needs no second forward pass.
 */
void run_forward_tape(Net& net, const double* x, long n, double* y, float* tape) {
  pack_weights(net, true);
  const int dim = net.dim(), m = net.m();
  const int tiles = num_tiles(n);
  const long a0n = static_cast<long>(kTile) * dim, hn = static_cast<long>(kTile) * net.hiddenTotal;
  parallel_for(tiles, [&](int t) {
    Workspace& ws = tl_ws;
    ws.ensure(net);
    const long i0 = static_cast<long>(t) * kTile;
    const int r = static_cast<int>(std::min<long>(kTile, n - i0));
    forward_tile(net, x + i0 * dim, r, true, ws);
    for (long k = 0; k < static_cast<long>(r) * m; k++) y[i0 * m + k] = static_cast<double>(ws.out[k]);
    float* tp = tape + t * (a0n + 2 * hn);
    std::memcpy(tp, ws.a0.data(), a0n * sizeof(float));
    std::memcpy(tp + a0n, ws.act.data(), hn * sizeof(float));
    std::memcpy(tp + a0n + hn, ws.der.data(), hn * sizeof(float));
  });
}

/** run_vjp's backward pass (same parts, accumulators and order: the same bits) from run_forward_tape's tape. */
void run_vjp_tape(Net& net, const float* tape, long n, const double* g, double* gx, double* out) {
  pack_weights(net, true);
  const int dim = net.dim(), m = net.m();
  const long P = net.numParams;
  const int tiles = num_tiles(n);
  const long a0n = static_cast<long>(kTile) * dim, hn = static_cast<long>(kTile) * net.hiddenTotal;
  const int parts = out ? std::max(1, std::min(kChunks, tiles)) : tiles;
  std::vector<double> acc(out ? static_cast<size_t>(parts) * P : 0, 0.0);
  parallel_for(parts, [&](int p) {
    Workspace& ws = tl_ws;
    ws.ensure(net);
    double* my = out ? acc.data() + static_cast<long>(p) * P : nullptr;
    auto [t0, t1] = part_range(tiles, parts, p);
    for (long t = t0; t < t1; t++) {
      const long i0 = t * kTile;
      const int r = static_cast<int>(std::min<long>(kTile, n - i0));
      const float* tp = tape + t * (a0n + 2 * hn);
      std::memcpy(ws.a0.data(), tp, a0n * sizeof(float));
      std::memcpy(ws.act.data(), tp + a0n, hn * sizeof(float));
      std::memcpy(ws.der.data(), tp + a0n + hn, hn * sizeof(float));
      for (long k = 0; k < static_cast<long>(r) * m; k++) ws.seed[k] = static_cast<float>(g[i0 * m + k]);
      backward_tile(net, r, gx != nullptr, my, ws);
      if (gx)
        for (long k = 0; k < static_cast<long>(r) * dim; k++) gx[i0 * dim + k] = static_cast<double>(ws.dxf[k]);
    }
  });
  if (out) sum_parts(acc, parts, P, out);
}

// --- jets: Σ_i ∂θ[a_i·u̇_i + b_i·ü_i] along directions, and the exact Laplacian ------------------------------
//
// For the energy only (one output, m = 1).
//
// For point x_i and tangent directions t_1 … t_D, the forward pass propagates, through every layer, the
// pre-activation z, its directional derivatives ż_k = ḣ_{k,prev}·W (k = 1 … D) and one summed second-order
// stream z̈ = ḧ_prev·W, and the activation's
//     h = f(z),   ḣ_k = f′ ż_k,   ḧ = f″ Σ_k ż_k² + f′ z̈        (input: x, t_k, 0),
// so that at the (linear) output u̇_k = t_k·∇ₓMLP and ü = Σ_k t_kᵀ∇²ₓMLP t_k. Two uses:
//   - directions (D = 1, t = v_i per row): u̇ = v·∇ₓMLP, ü = vᵀ∇²ₓMLP v: denoising (first order only, no z̈
//     stream) and sliced score matching;
//   - the coordinate axes (D = dim, t_k = e_k): u̇_k = ∂_k MLP and ü = ΔₓMLP — the "forward Laplacian": the
//     exact Laplacian in dim + 2 streams, where dim second-order directional passes would need 3·dim.
// The backward pass is reverse mode through that jet pass, seeded with ∂/∂u̇_k = a_ik and ∂/∂ü = b_i
// (Ḣ̄_k = a_ik·v_L, Ḧ̄ = b_i·v_L and H̄ = 0 at the last hidden layer, v_L the output weights):
//   Z̄ = H̄ f′ + f″ Σ_k Ḣ̄_k ż_k + Ḧ̄ (f‴ Σ_k ż_k² + f″ z̈),   Ż̄_k = Ḣ̄_k f′ + 2Ḧ̄ f″ ż_k,   Z̈̄ = Ḧ̄ f′,
//   ∂W += [A; Ȧ_1…Ȧ_D; Ä]ᵀ[Z̄; Ż̄_1…Ż̄_D; Z̈̄],  ∂b += Σ_rows Z̄,  [H̄; Ḣ̄; Ḧ̄]_prev = [Z̄; Ż̄; Z̈̄]·Wᵀ.
// The S = 1 + D (+ 1) streams of a layer are stacked (S·r rows for a tile of r points), so each layer costs
// three products over S·r rows (jet_gemm.h: in place, AVX-512 or AVX2 register tiles, no packing), plus
// one vectorised elementwise pass forward and one backward (activation_jets.h). Every row is padded to a
// multiple of 16 floats with zeros (weights included), so vectors never need masks.
//
// Exact score matching, J = Σ_i w_i[½|∇ₓU|² − ΔₓU] with U = MLP + ½c|x|², is the axes mode with seeds
// a_ik = w_i(u̇_ik + c·x_ik) and b_i = −w_i, set per tile from the forward pass's u̇ (the confinement has no
// θ; it adds c·x to ∇ₓU and c·dim to ΔₓU).
//
// Parts, accumulators and their order as run_vjp (min(tiles, kChunks) chunks of tiles, float64
// accumulators combined in chunk order; the tile size depends on the streams only), and every float32
// product is one FMA chain in a fixed order: bit-identical across runs and thread counts.

namespace {

using jetmm::AlignedBuf;
using jetmm::pad16;
using jetmm::small_gemm;

/** Target stacked rows per tile (S·r): the activations of a tile stay in L2. */
constexpr int kJetStreamRows = 256;
constexpr int kJetMaxRows = 128;

struct JetSpec {
  int D = 1;          // first-order (tangent) streams
  bool so = false;    // the summed second-order stream
  bool axes = false;  // tangents are e_1 … e_dim (D = dim) rather than the rows of v (D = 1)
  int S() const { return 1 + D + (so ? 1 : 0); }
  int rows() const { return std::max(1, std::min(kJetMaxRows, kJetStreamRows / S())); }
};

/** θ in zero-padded rows, built once per call on the calling thread and read by every part. */
struct JetNet {
  int L = 0;
  int w[kMaxLayers + 1] = {}, ld[kMaxLayers + 1] = {};
  const float* W[kMaxLayers] = {};   // w[l] × ld[l+1]
  const float* Wt[kMaxLayers] = {};  // W_lᵀ: w[l+1] × ld[l] (l ≥ 1)
  const float* b[kMaxLayers] = {};   // ld[l+1]
  const float* v = nullptr;          // output weights, ld[L−1]
  long hoff[kMaxLayers] = {};        // Σ_{q<l} ld[q+1]: hidden layer l's column offset in the tile buffers
  long hiddenLd = 0;
  int maxld = 0, maxw = 0;
};

thread_local AlignedBuf tl_jetnet;

inline void copy_row(float* dst, const float* src, int n, int ld) {
  std::memcpy(dst, src, n * sizeof(float));
  std::fill(dst + n, dst + ld, 0.f);
}

JetNet prepare_jet_net(const Net& net) {
  JetNet jn;
  jn.L = net.layers;
  for (int l = 0; l <= jn.L; l++) {
    jn.w[l] = net.w[l];
    jn.ld[l] = pad16(net.w[l]);
    jn.maxld = std::max(jn.maxld, jn.ld[l]);
    jn.maxw = std::max(jn.maxw, jn.w[l]);
  }
  long total = jn.ld[jn.L - 1];
  for (int l = 0; l + 1 < jn.L; l++) {
    jn.hoff[l] = jn.hiddenLd;
    jn.hiddenLd += jn.ld[l + 1];
    total += static_cast<long>(jn.w[l]) * jn.ld[l + 1] + jn.ld[l + 1];
    if (l >= 1) total += static_cast<long>(jn.w[l + 1]) * jn.ld[l];
  }
  float* p = tl_jetnet.get(total);
  for (int l = 0; l + 1 < jn.L; l++) {
    const int K = jn.w[l], N = jn.w[l + 1], ldN = jn.ld[l + 1], ldK = jn.ld[l];
    const float* W = net.theta + net.offW[l];
    for (int k = 0; k < K; k++) copy_row(p + static_cast<long>(k) * ldN, W + static_cast<long>(k) * N, N, ldN);
    jn.W[l] = p;
    p += static_cast<long>(K) * ldN;
    copy_row(p, net.theta + net.offB[l], N, ldN);
    jn.b[l] = p;
    p += ldN;
    if (l >= 1) {
      for (int j = 0; j < N; j++) {
        float* row = p + static_cast<long>(j) * ldK;
        for (int k = 0; k < K; k++) row[k] = W[static_cast<long>(k) * N + j];
        std::fill(row + K, row + ldK, 0.f);
      }
      jn.Wt[l] = p;
      p += static_cast<long>(N) * ldK;
    }
  }
  copy_row(p, net.theta + net.offW[jn.L - 1], jn.w[jn.L - 1], jn.ld[jn.L - 1]);
  jn.v = p;
  return jn;
}

struct JetWs {
  AlignedBuf in0, hs, zd, fd, zb, hb, cw, vacc, bacc, seedA, seedB, u1, u2;
  void ensure(const JetNet& jn, const JetSpec& sp, int r) {
    const long S = sp.S(), sr = S * r;
    in0.get(sr * jn.ld[0]);
    hs.get(sr * jn.hiddenLd);
    zd.get((sp.D + sp.so) * static_cast<long>(r) * jn.hiddenLd);
    fd.get((2 + sp.so) * static_cast<long>(r) * jn.hiddenLd);
    zb.get(sr * jn.maxld);
    hb.get(sr * jn.maxld);
    cw.get(static_cast<long>(jn.maxw) * jn.maxld);
    vacc.get(jn.maxld);
    bacc.get(jn.maxld);
    seedA.get(static_cast<long>(r) * sp.D);
    seedB.get(r);
    u1.get(static_cast<long>(r) * sp.D);
    u2.get(r);
  }
};

thread_local JetWs tl_jetws;

/** One tile's inputs and outputs (pointers at the tile's first row). */
struct JetRows {
  const double* x = nullptr;
  const double* v = nullptr;  // directions (not in axes mode)
  const double* a = nullptr;  // seeds ∂/∂u̇ (directions)
  const double* b = nullptr;  // seeds ∂/∂ü (directions; null: 0)
  const double* w = nullptr;  // score-matching weights (axes mode)
  double c = 0;               // confinement (axes mode)
  double* u1 = nullptr;       // u̇, r × D (optional)
  double* u2 = nullptr;       // ü, r (optional)
};

/** Forward elementwise pass of a hidden layer: H (S streams, pre-activations in, activation jets out). */
template <int ACT>
void jet_forward_act(float* H, float* Z, float* F, const float* bias, int r, int N, int D, bool so) {
  using namespace simd;
  const long rn = static_cast<long>(r) * N;
  for (int i = 0; i < r; i++) {
    for (int j = 0; j < N; j += kWidth) {
      const long q = static_cast<long>(i) * N + j;
      V f0, f1, f2, f3;
      jet<ACT>(load(H + q) + load(bias + j), f0, f1, f2, f3);
      V s2 = zero();
      for (int t = 1; t <= D; t++) {
        const V zt = load(H + t * rn + q);
        store(Z + (t - 1) * rn + q, zt);
        store(H + t * rn + q, f1 * zt);
        s2 = fma(zt, zt, s2);
      }
      if (so) {
        const V zz = load(H + (D + 1) * rn + q);
        store(Z + D * rn + q, zz);
        store(H + (D + 1) * rn + q, fma(f2, s2, f1 * zz));
        store(F + 2 * rn + q, f3);
      }
      store(H + q, f0);
      store(F + q, f1);
      store(F + rn + q, f2);
    }
  }
}

/**
 * Backward elementwise pass of a hidden layer: Zb (S streams) from Hb, or, at the last hidden layer (top),
 * from the seeds (Ḣ̄_k = a_ik v, Ḧ̄ = b_i v, H̄ = 0). bacc (N) ← Σ_rows Z̄.
 */
template <int ACT>
void jet_backward_act(bool top, const float* Hb, float* Zb, const float* Z, const float* F, const float* seedA,
                      const float* seedB, const float* vtop, int r, int N, int D, bool so, float* bacc) {
  using namespace simd;
  const long rn = static_cast<long>(r) * N;
  const int S = 1 + D + (so ? 1 : 0);
  for (int j = 0; j < N; j += kWidth) store(bacc + j, zero());
  for (int i = 0; i < r; i++) {
    const V bi = set1(so ? seedB[i] : 0.f);
    for (int j = 0; j < N; j += kWidth) {
      const long q = static_cast<long>(i) * N + j;
      const V f1 = load(F + q), f2 = load(F + rn + q);
      const V vj = top ? load(vtop + j) : zero();
      V zbar = top ? zero() : load(Hb + q) * f1;
      const V hbs = so ? (top ? bi * vj : load(Hb + (S - 1) * rn + q)) : zero();
      const V two_hbs_f2 = set1(2.0f) * hbs * f2;
      V s2 = zero();
      for (int t = 1; t <= D; t++) {
        const V hbt = top ? set1(seedA[static_cast<long>(i) * D + t - 1]) * vj : load(Hb + t * rn + q);
        const V zt = load(Z + (t - 1) * rn + q);
        zbar = fma(f2 * hbt, zt, zbar);
        V zbt = hbt * f1;
        if (so) {
          zbt = fma(two_hbs_f2, zt, zbt);
          s2 = fma(zt, zt, s2);
        }
        store(Zb + t * rn + q, zbt);
      }
      if (so) {
        const V f3 = load(F + 2 * rn + q), zz = load(Z + D * rn + q);
        zbar = fma(hbs, fma(f3, s2, f2 * zz), zbar);
        store(Zb + (S - 1) * rn + q, hbs * f1);
      }
      store(Zb + q, zbar);
      store(bacc + j, load(bacc + j) + zbar);
    }
  }
}

inline float dot_padded(const float* a, const float* b, int n) {
  using namespace simd;
  V s = zero();
  for (int j = 0; j < n; j += kWidth) s = fma(load(a + j), load(b + j), s);
  return hsum(s);
}

/** One tile of r rows: jets forward, the seeds, then (acc != null) the reverse pass, added to acc. */
template <int ACT>
void jet_tile(const Net& net, const JetNet& jn, const JetSpec& sp, int r, const JetRows& io, double* acc, JetWs& ws) {
  using namespace simd;
  const int S = sp.S(), D = sp.D, L = jn.L, dim = jn.w[0], ld0 = jn.ld[0];
  const bool so = sp.so;
  const long sr = static_cast<long>(S) * r;

  // Input streams [x; t_1 … t_D; 0].
  float* in0 = ws.in0.data;
  const long r0 = static_cast<long>(r) * ld0;
  for (int i = 0; i < r; i++) {
    float* row = in0 + static_cast<long>(i) * ld0;
    for (int k = 0; k < dim; k++) row[k] = static_cast<float>(io.x[static_cast<long>(i) * dim + k]);
    std::fill(row + dim, row + ld0, 0.f);
  }
  if (sp.axes) {
    std::fill(in0 + r0, in0 + (1 + D) * r0, 0.f);
    for (int t = 0; t < D; t++)
      for (int i = 0; i < r; i++) in0[(1 + t) * r0 + static_cast<long>(i) * ld0 + t] = 1.f;
  } else {
    for (int i = 0; i < r; i++) {
      float* row = in0 + r0 + static_cast<long>(i) * ld0;
      for (int k = 0; k < dim; k++) row[k] = static_cast<float>(io.v[static_cast<long>(i) * dim + k]);
      std::fill(row + dim, row + ld0, 0.f);
    }
  }
  if (so) std::fill(in0 + (1 + D) * r0, in0 + (2 + D) * r0, 0.f);

  // Forward.
  const float* A = in0;
  int ldA = ld0;
  for (int l = 0; l + 1 < L; l++) {
    const int N = jn.ld[l + 1];
    float* H = ws.hs.data + sr * jn.hoff[l];
    float* Z = ws.zd.data + (D + so) * static_cast<long>(r) * jn.hoff[l];
    float* F = ws.fd.data + (2 + so) * static_cast<long>(r) * jn.hoff[l];
    small_gemm(static_cast<int>(sr), N, jn.w[l], A, ldA, 1, jn.W[l], N, H, N);
    jet_forward_act<ACT>(H, Z, F, jn.b[l], r, N, D, so);
    A = H;
    ldA = N;
  }

  // Output layer: u̇_k = ḣ_k·v, ü = ḧ·v; then the seeds.
  const int ldT = jn.ld[L - 1];
  const long rk = static_cast<long>(r) * ldT;
  float* u1 = ws.u1.data;
  float* u2 = ws.u2.data;
  float* sa = ws.seedA.data;
  float* sb = ws.seedB.data;
  for (int i = 0; i < r; i++) {
    for (int t = 0; t < D; t++)
      u1[static_cast<long>(i) * D + t] = dot_padded(A + (1 + t) * rk + static_cast<long>(i) * ldT, jn.v, ldT);
    u2[i] = so ? dot_padded(A + (S - 1) * rk + static_cast<long>(i) * ldT, jn.v, ldT) : 0.f;
  }
  if (io.u1)
    for (long k = 0; k < static_cast<long>(r) * D; k++) io.u1[k] = static_cast<double>(u1[k]);
  if (io.u2)
    for (int i = 0; i < r; i++) io.u2[i] = static_cast<double>(u2[i]);
  if (!acc) return;
  for (int i = 0; i < r; i++) {
    if (sp.axes) {
      const double wi = io.w[i];
      for (int t = 0; t < D; t++) {
        const long k = static_cast<long>(i) * D + t;
        sa[k] = static_cast<float>(wi * (static_cast<double>(u1[k]) + io.c * io.x[static_cast<long>(i) * dim + t]));
      }
      sb[i] = static_cast<float>(-wi);
    } else {
      sa[i] = static_cast<float>(io.a[i]);
      sb[i] = io.b ? static_cast<float>(io.b[i]) : 0.f;
    }
  }

  // ∂v_L = Σ_i Σ_k a_ik ḣ_k + b_i ḧ (the output bias does not move u̇ or ü).
  {
    float* va = ws.vacc.data;
    for (int j = 0; j < ldT; j += kWidth) store(va + j, zero());
    for (int i = 0; i < r; i++) {
      for (int t = 0; t < D; t++) {
        const V ai = set1(sa[static_cast<long>(i) * D + t]);
        const float* h = A + (1 + t) * rk + static_cast<long>(i) * ldT;
        for (int j = 0; j < ldT; j += kWidth) store(va + j, fma(ai, load(h + j), load(va + j)));
      }
      if (so) {
        const V bi = set1(sb[i]);
        const float* h = A + (S - 1) * rk + static_cast<long>(i) * ldT;
        for (int j = 0; j < ldT; j += kWidth) store(va + j, fma(bi, load(h + j), load(va + j)));
      }
    }
    double* aw = acc + net.offW[L - 1];
    for (int j = 0; j < jn.w[L - 1]; j++) aw[j] += va[j];
  }

  // Reverse, from the last hidden layer down.
  float* Zb = ws.zb.data;
  float* Hb = ws.hb.data;
  for (int l = L - 2; l >= 0; l--) {
    const int N = jn.ld[l + 1], Nr = jn.w[l + 1], K = jn.w[l];
    const float* Z = ws.zd.data + (D + so) * static_cast<long>(r) * jn.hoff[l];
    const float* F = ws.fd.data + (2 + so) * static_cast<long>(r) * jn.hoff[l];
    jet_backward_act<ACT>(l == L - 2, Hb, Zb, Z, F, sa, sb, jn.v, r, N, D, so, ws.bacc.data);
    const float* Ain = l == 0 ? in0 : ws.hs.data + sr * jn.hoff[l - 1];
    const int ldIn = jn.ld[l];
    float* C = ws.cw.data;
    small_gemm(K, N, static_cast<int>(sr), Ain, 1, ldIn, Zb, N, C, N);
    double* aw = acc + net.offW[l];
    for (int k = 0; k < K; k++) {
      const float* c = C + static_cast<long>(k) * N;
      double* o = aw + static_cast<long>(k) * Nr;
      for (int j = 0; j < Nr; j++) o[j] += c[j];
    }
    double* ab = acc + net.offB[l];
    for (int j = 0; j < Nr; j++) ab[j] += ws.bacc.data[j];
    if (l > 0) small_gemm(static_cast<int>(sr), ldIn, Nr, Zb, N, 1, jn.Wt[l], ldIn, Hb, ldIn);
  }
}

/**
 * The jets of `sp` for n rows (io: pointers at row 0), parameter gradient into out (null: values only).
 * Rows are split into tiles of sp.rows() points; see the section comment for parts and determinism.
 */
void run_jets(const Net& net, const JetSpec& sp, long n, const JetRows& io, double* out) {
  const JetNet jn = prepare_jet_net(net);
  const int dim = net.dim();
  const long P = net.numParams;
  const int r = sp.rows();
  const long tiles = (n + r - 1) / r;
  const int parts = static_cast<int>(std::max<long>(1, std::min<long>(kChunks, tiles)));
  std::vector<double> acc(out ? static_cast<size_t>(parts) * P : 0, 0.0);
  parallel_for(parts, [&](int p) {
    JetWs& ws = tl_jetws;
    ws.ensure(jn, sp, r);
    double* my = out ? acc.data() + static_cast<long>(p) * P : nullptr;
    auto [t0, t1] = part_range(tiles, parts, p);
    for (long t = t0; t < t1; t++) {
      const long i0 = t * r;
      const int rr = static_cast<int>(std::min<long>(r, n - i0));
      JetRows tio = io;
      tio.x = io.x + i0 * dim;
      if (io.v) tio.v = io.v + i0 * dim;
      if (io.a) tio.a = io.a + i0;
      if (io.b) tio.b = io.b + i0;
      if (io.w) tio.w = io.w + i0;
      if (io.u1) tio.u1 = io.u1 + i0 * sp.D;
      if (io.u2) tio.u2 = io.u2 + i0;
      switch (net.act) {
        case kSilu: jet_tile<kSilu>(net, jn, sp, rr, tio, my, ws); break;
        case kSoftplus: jet_tile<kSoftplus>(net, jn, sp, rr, tio, my, ws); break;
        case kTanh: jet_tile<kTanh>(net, jn, sp, rr, tio, my, ws); break;
        default: jet_tile<kElu>(net, jn, sp, rr, tio, my, ws); break;
      }
    }
  });
  if (out) sum_parts(acc, parts, P, out);
}

}  // namespace

void run_jet(const Net& net, const double* x, const double* v, long n, const double* a, const double* b,
             double* slope, double* curv, double* out) {
  JetSpec sp;
  sp.D = 1;
  sp.so = b || curv;
  JetRows io;
  io.x = x;
  io.v = v;
  io.a = a;
  io.b = b;
  io.u1 = slope;
  io.u2 = curv;
  run_jets(net, sp, n, io, out);
}

namespace {
thread_local std::vector<double> tl_sm_grad, tl_sm_lap;
}  // namespace

/**
 * Exact score matching: returns J = Σ_i w_i[½|∇ₓU(x_i)|² − ΔₓU(x_i)] and writes ∂θJ to out (the forward
 * Laplacian: axes mode). J is summed in float64, in row order, from the float32 ∇ₓMLP and ΔₓMLP, with the
 * confinement's exact contributions (c·x to the gradient, c·dim to the Laplacian).
 */
double run_score_matching(const Net& net, const double* x, long n, const double* w, double* out) {
  const int dim = net.dim();
  JetSpec sp;
  sp.D = dim;
  sp.so = true;
  sp.axes = true;
  std::vector<double>& g = tl_sm_grad;
  std::vector<double>& lap = tl_sm_lap;
  if (static_cast<long>(g.size()) < n * dim) g.resize(n * dim);
  if (static_cast<long>(lap.size()) < n) lap.resize(n);
  JetRows io;
  io.x = x;
  io.w = w;
  io.c = net.c;
  io.u1 = g.data();
  io.u2 = lap.data();
  run_jets(net, sp, n, io, out);
  double J = 0;
  for (long i = 0; i < n; i++) {
    double sq = 0;
    for (int k = 0; k < dim; k++) {
      const double gk = g[i * dim + k] + net.c * x[i * dim + k];
      sq += gk * gk;
    }
    J += w[i] * (0.5 * sq - (lap[i] + net.c * dim));
  }
  return J;
}

const char* net_setup(Net& net, const int32_t* widths, size_t nw, int64_t act, const float* theta, bool scalar) {
  net = Net();
  if (nw < 3 || nw > kMaxLayers + 1) return "widths must hold input, ≥ 1 hidden and the output width";
  if (act < 0 || act > 3) return "unknown activation code";
  net.w = widths;
  net.theta = theta;
  net.act = static_cast<int>(act);
  net.layers = static_cast<int>(nw) - 1;
  if (scalar && net.w[net.layers] != 1) return "the output width must be 1";
  long off = 0;
  for (int l = 0; l < net.layers; l++) {
    const int fi = net.w[l], fo = net.w[l + 1];
    if (fi < 1 || fo < 1 || fi > (1 << 20) || fo > (1 << 20)) return "widths must be positive";
    net.offW[l] = off;
    net.offB[l] = off + static_cast<long>(fi) * fo;
    off += static_cast<long>(fi) * fo + fo;
    net.maxw = std::max(net.maxw, std::max(fi, fo));
    net.maxWW = std::max(net.maxWW, static_cast<long>(fi) * fo);
    if (l + 1 < net.layers) net.hiddenTotal += fo;
  }
  net.numParams = off;
  return nullptr;
}

}  // namespace ebm
