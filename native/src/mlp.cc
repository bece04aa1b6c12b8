// MLP energy kernels: U(x) = MLP_θ(x) + ½·c·|x|², ∇ₓU, Σ_i w_i ∂θMLP(x_i), a fused Langevin proposal, and
// second-order directional derivatives with their parameter gradient (Σ_i ∂θ[a_i v_i·∇ₓMLP + b_i v_iᵀ∇²ₓMLP v_i],
// for denoising and sliced score matching; see run_jet below).
//
// Network and θ layout as src/energies/mlp.ts: widths w[0] = dim, w[1..L−1] hidden, w[L] = 1; θ = W1, b1,
// W2, b2, … with each W stored [in, out] row-major; activation after every hidden layer, linear output.
// Float32 inside (θ arrives as a Float32Array copy), float64 at the boundary (x, U, ∇U, weights, ∂θ).
//
// Rows are processed in tiles of kTile points so that a tile's activations stay in L2: forward pass
// keeping h = f(z) and f′(z) per hidden layer, then the analytic backward pass (δ_L = g·v ⊙ f′(z_L),
// δ_{l−1} = (δ_l W_lᵀ) ⊙ f′(z_{l−1}), ∇ₓ = δ_1 W_1ᵀ, ∂W_l = h_{l−1}ᵀ δ_l, ∂b_l = Σ_rows δ_l), with the wide
// products done by sgemm. Work is handed to the thread pool in parts that the pool's threads take in
// any order: for U and ∇ₓU one part per tile (per-row outputs do not depend on the split at all); for the
// parameter gradient min(tiles, kChunks) contiguous chunks of tiles, each accumulated in float64 (tile by
// tile, in order) into its own accumulator, summed in chunk order at the end. The split depends on n only,
// so every output is bit-identical run to run AND across thread counts.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "activation_jets.h"
#include "activations.h"
#include "gemm.h"
#include "napi_util.h"
#include "registry.h"
#include "threadpool.h"

namespace ebm {
namespace {

constexpr int kTile = 256;
constexpr int kMaxLayers = 64;
constexpr int kChunks = 8;  // parameter-gradient accumulators per call (fixed: results independent of threads)

struct Net {
  int layers = 0;  // number of weight layers (hidden layers + 1)
  const int32_t* w = nullptr;
  int act = 0;
  double c = 0;
  const float* theta = nullptr;
  long offW[kMaxLayers] = {}, offB[kMaxLayers] = {};
  long numParams = 0;
  long hiddenTotal = 0;  // Σ hidden widths
  int maxw = 0;
  long maxWW = 0;  // max w[l]·w[l+1]
  // Pre-packed W_l (forward, x·W) and W_lᵀ (backward, δ·Wᵀ) for layers whose GEMMs use sgemm_packed.
  const float* packW[kMaxLayers] = {};
  const float* packWt[kMaxLayers] = {};
  int dim() const { return w[0]; }
};

thread_local std::vector<float> tl_packed;

/** Packs the weight matrices the tile GEMMs multiply by (layers with fan-in > 4), into tl_packed. */
void pack_weights(Net& net, bool backward) {
  long total = 0;
  for (int l = 1; l + 1 < net.layers; l++) total += 2 * packed_b_size(net.w[l], net.w[l + 1]) + packed_b_size(net.w[l + 1], net.w[l]);
  if (static_cast<long>(tl_packed.size()) < total) tl_packed.resize(total);
  float* p = tl_packed.data();
  for (int l = 0; l + 1 < net.layers; l++) {
    const int K = net.w[l], N = net.w[l + 1];
    net.packW[l] = net.packWt[l] = nullptr;
    if (l == 0 || K <= 4) continue;
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
}

struct Workspace {
  std::vector<float> a0, act, der, delta, dh, tmp, uf, seed, dxf;
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
    grow(uf, kTile);
    grow(seed, kTile);
    grow(dxf, static_cast<size_t>(kTile) * net.dim());
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

/** Forward pass of `r` rows starting at x (float64, row-major): ws.uf[i] = MLP(x_i) (float32). */
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
  const int last = net.layers - 1;
  const float* v = net.theta + net.offW[last];
  const float b = net.theta[net.offB[last]];
  for (int i = 0; i < r; i++) ws.uf[i] = b + dot(in + static_cast<long>(i) * K, v, K);
}

/**
 * Backward pass for the tile held in `ws` (after forward_tile with keepDer), seeded with ∂/∂MLP = ws.seed[i]
 * per row. Writes ws.dxf (r×dim) if wantDx; adds Σ_rows seed_i ∂θMLP(x_i) to acc (float64) if acc != null.
 */
void backward_tile(const Net& net, int r, bool wantDx, double* acc, Workspace& ws) {
  const int L = net.layers;
  const int top = L - 2;  // index of the last hidden layer
  const float* g = ws.seed.data();
  float* delta = ws.delta.data();
  float* dh = ws.dh.data();
  float* tmp = ws.tmp.data();
  {
    const int wt = net.w[L - 1];
    const float* v = net.theta + net.offW[L - 1];
    const long off = hidden_offset(net, top);
    const float* D = ws.der.data() + off;
    for (int i = 0; i < r; i++) {
      const float gi = g[i];
      float* d = delta + static_cast<long>(i) * wt;
      const float* Di = D + static_cast<long>(i) * wt;
      for (int j = 0; j < wt; j++) d[j] = gi * v[j] * Di[j];
    }
    if (acc) {
      const float* H = ws.act.data() + off;
      std::fill(tmp, tmp + wt, 0.f);
      double gs = 0;
      for (int i = 0; i < r; i++) {
        const float gi = g[i];
        gs += gi;
        const float* Hi = H + static_cast<long>(i) * wt;
        for (int j = 0; j < wt; j++) tmp[j] += gi * Hi[j];
      }
      double* aw = acc + net.offW[L - 1];
      for (int j = 0; j < wt; j++) aw[j] += tmp[j];
      acc[net.offB[L - 1]] += gs;
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
        u[i0 + i] = static_cast<double>(ws.uf[i]) + (net.c != 0 ? net.c * half_sq(xt + static_cast<long>(i) * dim, dim) : 0.0);
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

void run_param_grad(Net& net, const double* x, long n, const double* w, double* out) {
  pack_weights(net, true);
  const int dim = net.dim();
  const long P = net.numParams;
  const int tiles = num_tiles(n);
  const int parts = std::max(1, std::min(kChunks, tiles));
  std::vector<double> acc(static_cast<size_t>(parts) * P, 0.0);
  parallel_for(parts, [&](int p) {
    Workspace& ws = tl_ws;
    ws.ensure(net);
    double* my = acc.data() + static_cast<long>(p) * P;
    auto [t0, t1] = part_range(tiles, parts, p);
    for (long t = t0; t < t1; t++) {
      const long i0 = t * kTile;
      const int r = static_cast<int>(std::min<long>(kTile, n - i0));
      forward_tile(net, x + i0 * dim, r, true, ws);
      for (int i = 0; i < r; i++) ws.seed[i] = static_cast<float>(w[i0 + i]);
      backward_tile(net, r, false, my, ws);
    }
  });
  for (long q = 0; q < P; q++) {
    double s = acc[q];
    for (int p = 1; p < parts; p++) s += acc[static_cast<long>(p) * P + q];
    out[q] = s;
  }
}

// --- second-order jets along directions: Σ_i ∂θ[a_i·u̇_i + b_i·ü_i] -------------------------------------------
//
// For point x_i and direction v_i, u(t) = MLP(x_i + t·v_i): u̇ = v·∇ₓMLP and ü = vᵀ∇²ₓMLP v at t = 0. The
// forward pass propagates the second-order jet (z, ż, z̈) of every pre-activation and (h, ḣ, ḧ) of every
// activation (ż = ḣ_prev·W, z̈ = ḧ_prev·W; ḣ = f′ż, ḧ = f″ż² + f′z̈; input jet (x, v, 0)); the backward pass
// is reverse mode through that jet pass, seeded with ∂/∂u̇ = a_i and ∂/∂ü = b_i:
//   Z̄ = H̄ f′ + Ḣ̄ f″ż + Ḧ̄ (f‴ż² + f″z̈),   Ż̄ = Ḣ̄ f′ + 2Ḧ̄ f″ż,   Z̈̄ = Ḧ̄ f′,
//   ∂W += [A; Ȧ; Ä]ᵀ[Z̄; Ż̄; Z̈̄],  ∂b += Σ_rows Z̄,  [H̄; Ḣ̄; Ḧ̄]_prev = [Z̄; Ż̄; Z̈̄]·Wᵀ.
// The three streams of a layer are stored stacked (3r rows), so each product is one sgemm over 3r rows.
// With b = null (and no curvature wanted) only the first-order jet runs (2 streams): that is
// Σ_i a_i ∂θ(v_i·∇ₓMLP(x_i)), the score-parameter gradient of denoising score matching with v = r, a = 1.
// Parts, accumulators and their order as run_param_grad: bit-identical across runs and thread counts.

constexpr int kJetTile = 128;

struct JetWorkspace {
  std::vector<float> in0, hs, zd, fd, zbar, hbar, tmp;
  void ensure(const Net& net) {
    auto grow = [](std::vector<float>& v, size_t n) {
      if (v.size() < n) v.resize(n);
    };
    grow(in0, static_cast<size_t>(3) * kJetTile * net.dim());
    grow(hs, static_cast<size_t>(3) * kJetTile * net.hiddenTotal);
    grow(zd, static_cast<size_t>(2) * kJetTile * net.hiddenTotal);
    grow(fd, static_cast<size_t>(3) * kJetTile * net.hiddenTotal);
    grow(zbar, static_cast<size_t>(3) * kJetTile * net.maxw);
    grow(hbar, static_cast<size_t>(3) * kJetTile * net.maxw);
    grow(tmp, static_cast<size_t>(net.maxWW) + net.maxw);
  }
};

thread_local JetWorkspace tl_jet;

/** Offset of hidden layer l's r×N block inside the per-layer jet buffers (in units of one stream). */
inline long jet_offset(const Net& net, int l) {
  long off = 0;
  for (int q = 0; q < l; q++) off += static_cast<long>(kJetTile) * net.w[q + 1];
  return off;
}

/**
 * One tile of r rows: jets forward, then the reverse pass seeded with (a, b) (b == null: first order only,
 * S = 2 streams). Adds the parameter gradient to acc (float64) and writes u̇, ü per row when asked.
 */
void jet_tile(const Net& net, const double* x, const double* v, int r, const double* a, const double* b, int S,
              double* acc, double* slope, double* curv, JetWorkspace& ws) {
  const int dim = net.dim();
  const int L = net.layers;
  const long rd = static_cast<long>(r) * dim;
  float* in0 = ws.in0.data();
  for (long k = 0; k < rd; k++) in0[k] = static_cast<float>(x[k]);
  for (long k = 0; k < rd; k++) in0[rd + k] = static_cast<float>(v[k]);
  if (S == 3) std::fill(in0 + 2 * rd, in0 + 3 * rd, 0.f);

  // Forward: stacked [z; ż; z̈] = [A; Ȧ; Ä]·W (+ b on the first block), then the activation jets.
  const float* A = in0;
  int K = dim;
  for (int l = 0; l + 1 < L; l++) {
    const int N = net.w[l + 1];
    const long off = jet_offset(net, l);
    const long rn = static_cast<long>(r) * N;
    float* H = ws.hs.data() + 3 * off;
    float* Zd = ws.zd.data() + 2 * off;
    float* F = ws.fd.data() + 3 * off;
    const float* W = net.theta + net.offW[l];
    const float* bias = net.theta + net.offB[l];
    sgemm(false, false, S * r, N, K, 1.f, A, K, W, N, 0.f, H, N);
    for (int i = 0; i < r; i++)
      for (int j = 0; j < N; j++) H[static_cast<long>(i) * N + j] += bias[j];
    for (long q = 0; q < rn; q++) {
      const ActJet f = act_jet(net.act, H[q]);
      const float zdot = H[rn + q];
      F[q] = f.f1;
      F[rn + q] = f.f2;
      F[2 * rn + q] = f.f3;
      Zd[q] = zdot;
      H[q] = f.f0;
      H[rn + q] = f.f1 * zdot;
      if (S == 3) {
        const float zdd = H[2 * rn + q];
        Zd[rn + q] = zdd;
        H[2 * rn + q] = f.f2 * zdot * zdot + f.f1 * zdd;
      }
    }
    A = H;
    K = N;
  }
  const float* vL = net.theta + net.offW[L - 1];
  const long rk = static_cast<long>(r) * K;
  for (int i = 0; i < r; i++) {
    if (slope) slope[i] = static_cast<double>(dot(A + rk + static_cast<long>(i) * K, vL, K));
    if (curv) curv[i] = S == 3 ? static_cast<double>(dot(A + 2 * rk + static_cast<long>(i) * K, vL, K)) : 0.0;
  }
  if (!acc) return;

  // Reverse: top layer (u̇ = ḣ·v_L, ü = ḧ·v_L; U itself is not seeded, so H̄ starts at 0).
  float* Hb = ws.hbar.data();
  float* Zb = ws.zbar.data();
  {
    double* aw = acc + net.offW[L - 1];
    for (int i = 0; i < r; i++) {
      const float ai = static_cast<float>(a[i]);
      const float bi = S == 3 && b ? static_cast<float>(b[i]) : 0.f;
      const float* h1 = A + rk + static_cast<long>(i) * K;
      const float* h2 = A + 2 * rk + static_cast<long>(i) * K;
      float* hb0 = Hb + static_cast<long>(i) * K;
      float* hb1 = Hb + rk + static_cast<long>(i) * K;
      float* hb2 = Hb + 2 * rk + static_cast<long>(i) * K;
      for (int j = 0; j < K; j++) {
        hb0[j] = 0.f;
        hb1[j] = ai * vL[j];
        if (S == 3) hb2[j] = bi * vL[j];
        aw[j] += static_cast<double>(ai * h1[j] + (S == 3 ? bi * h2[j] : 0.f));
      }
    }
  }
  for (int l = L - 2; l >= 0; l--) {
    const int N = net.w[l + 1], Kl = net.w[l];
    const long off = jet_offset(net, l);
    const long rn = static_cast<long>(r) * N;
    const float* Zd = ws.zd.data() + 2 * off;
    const float* F = ws.fd.data() + 3 * off;
    for (long q = 0; q < rn; q++) {
      const float f1 = F[q], f2 = F[rn + q], zdot = Zd[q];
      const float h0 = Hb[q], h1 = Hb[rn + q];
      if (S == 3) {
        const float f3 = F[2 * rn + q], zdd = Zd[rn + q], h2 = Hb[2 * rn + q];
        Zb[q] = h0 * f1 + h1 * f2 * zdot + h2 * (f3 * zdot * zdot + f2 * zdd);
        Zb[rn + q] = h1 * f1 + 2.f * h2 * f2 * zdot;
        Zb[2 * rn + q] = h2 * f1;
      } else {
        Zb[q] = h0 * f1 + h1 * f2 * zdot;
        Zb[rn + q] = h1 * f1;
      }
    }
    const float* Ain = l == 0 ? in0 : ws.hs.data() + 3 * jet_offset(net, l - 1);
    float* tmp = ws.tmp.data();
    sgemm(true, false, Kl, N, S * r, 1.f, Ain, Kl, Zb, N, 0.f, tmp, N);
    double* aw = acc + net.offW[l];
    for (long q = 0; q < static_cast<long>(Kl) * N; q++) aw[q] += tmp[q];
    double* ab = acc + net.offB[l];
    for (int i = 0; i < r; i++) {
      const float* z = Zb + static_cast<long>(i) * N;
      for (int j = 0; j < N; j++) ab[j] += z[j];
    }
    if (l > 0) sgemm(false, true, S * r, Kl, N, 1.f, Zb, N, net.theta + net.offW[l], N, 0.f, Hb, Kl);
  }
}

/** out = Σ_i ∂θ[a_i u̇_i + b_i ü_i] (out may be null: values only); slope/curv per row if non-null. */
void run_jet(const Net& net, const double* x, const double* v, long n, const double* a, const double* b,
             double* slope, double* curv, double* out) {
  const int dim = net.dim();
  const long P = net.numParams;
  const int S = (b || curv) ? 3 : 2;
  const int tiles = static_cast<int>((n + kJetTile - 1) / kJetTile);
  const int parts = std::max(1, std::min(kChunks, tiles));
  std::vector<double> acc(out ? static_cast<size_t>(parts) * P : 0, 0.0);
  parallel_for(parts, [&](int p) {
    JetWorkspace& ws = tl_jet;
    ws.ensure(net);
    double* my = out ? acc.data() + static_cast<long>(p) * P : nullptr;
    auto [t0, t1] = part_range(tiles, parts, p);
    for (long t = t0; t < t1; t++) {
      const long i0 = t * kJetTile;
      const int r = static_cast<int>(std::min<long>(kJetTile, n - i0));
      jet_tile(net, x + i0 * dim, v + i0 * dim, r, a ? a + i0 : nullptr, b ? b + i0 : nullptr, S, my,
               slope ? slope + i0 : nullptr, curv ? curv + i0 : nullptr, ws);
    }
  });
  if (!out) return;
  for (long q = 0; q < P; q++) {
    double s = acc[q];
    for (int p = 1; p < parts; p++) s += acc[static_cast<long>(p) * P + q];
    out[q] = s;
  }
}

// --- JavaScript glue ----------------------------------------------------------------------------------------

/** Reads (widths: Int32Array, activation: number, theta: Float32Array) at argument positions iw, iw+1, ith. */
bool parse_net(Args& a, size_t iw, size_t ith, Net& net) {
  size_t nw = 0, nt = 0;
  net.w = a.i32(iw, &nw);
  int64_t act = a.integer(iw + 1);
  net.theta = a.f32(ith, &nt);
  if (!a.ok) return false;
  if (nw < 3 || nw > kMaxLayers + 1) {
    a.fail("ebm_native: mlp: widths must hold input, ≥ 1 hidden and the output width", true);
    return false;
  }
  if (act < 0 || act > 3) {
    a.fail("ebm_native: mlp: unknown activation code", true);
    return false;
  }
  net.act = static_cast<int>(act);
  net.layers = static_cast<int>(nw) - 1;
  if (net.w[net.layers] != 1) {
    a.fail("ebm_native: mlp: the output width must be 1", true);
    return false;
  }
  long off = 0;
  for (int l = 0; l < net.layers; l++) {
    const int fi = net.w[l], fo = net.w[l + 1];
    if (fi < 1 || fo < 1 || fi > (1 << 20) || fo > (1 << 20)) {
      a.fail("ebm_native: mlp: widths must be positive", true);
      return false;
    }
    net.offW[l] = off;
    net.offB[l] = off + static_cast<long>(fi) * fo;
    off += static_cast<long>(fi) * fo + fo;
    net.maxw = std::max(net.maxw, std::max(fi, fo));
    net.maxWW = std::max(net.maxWW, static_cast<long>(fi) * fo);
    if (l + 1 < net.layers) net.hiddenTotal += fo;
  }
  net.numParams = off;
  a.need(nt, static_cast<size_t>(off), "theta");
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
  run_param_grad(net, x, n, w, out);
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

}  // namespace

EBM_EXPORT("mlpEnergy", js_mlp_energy);
EBM_EXPORT("mlpEnergyGrad", js_mlp_energy_grad);
EBM_EXPORT("mlpLangevin", js_mlp_langevin);
EBM_EXPORT("mlpParamGrad", js_mlp_param_grad);
EBM_EXPORT("mlpDirectionalParamGrad", js_mlp_directional_param_grad);

}  // namespace ebm
