// Activations with their first three derivatives, for the MLP jet kernel (mlp.cc: first- and second-order
// derivatives of U along directions, the exact Laplacian, and their parameter gradients).
//
// `jet<ACT>(z, f0, f1, f2, f3)` evaluates kWidth lanes at once on simd.h's vector type (AVX-512, AVX2 or
// scalar), with simd.h's exp (the polynomial of activations.h) and log1p; unused outputs are removed by the
// compiler. `act_jet(act, z)` is the same formula on one float (scalar lanes of simd.h's exp). The forms
// avoid cancellation: 1 − σ(z) is computed as e·σ(z) with e = e^{−z}, 1 − tanh² z as 4e/(1 + e)².
//
// Closed forms (s = σ(z), q = 1 − s, p = s·q, t = tanh z):
//   SiLU      f = z s,  f′ = s(1 + z q),  f″ = p(2 + z(q − s)),  f‴ = p(3(q − s) + z(1 − 6p))
//   softplus  f = log(1 + eᶻ),  f′ = s,  f″ = p,  f‴ = p(q − s)
//   tanh      f = t,  f′ = 1 − t²,  f″ = −2t(1 − t²),  f‴ = (4 − 6(1 − t²))(1 − t²)
//   ELU (α=1) f = z (z > 0) or eᶻ − 1,  f′ = 1 or eᶻ,  f″ = f‴ = 0 or eᶻ  (f″ jumps at 0: only C¹)
#pragma once

#include "simd.h"  // first: see the note on <immintrin.h> there
#include "activations.h"

namespace ebm {

template <int ACT>
inline void jet(simd::V z, simd::V& f0, simd::V& f1, simd::V& f2, simd::V& f3) {
  using namespace simd;
  const V one = set1(1.0f);
  if constexpr (ACT == kSilu) {
    const V e = exp(zero() - z);
    const V s = one / (one + e);
    const V q = e * s;  // 1 − s
    const V p = s * q;
    const V qs = q - s;
    f0 = z * s;
    f1 = s * fma(z, q, one);
    f2 = p * fma(z, qs, set1(2.0f));
    f3 = p * fma(z, fnma(set1(6.0f), p, one), set1(3.0f) * qs);
  } else if constexpr (ACT == kSoftplus) {
    const V e = exp(zero() - abs(z));  // e^{−|z|} ∈ (0, 1]
    const V t = one / (one + e);
    const V et = e * t;
    const M pos = ge(z, zero());
    const V s = select(pos, t, et);
    const V q = select(pos, et, t);
    const V p = s * q;
    f0 = max(z, zero()) + log1p01(e);
    f1 = s;
    f2 = p;
    f3 = p * (q - s);
  } else if constexpr (ACT == kTanh) {
    const V e = exp(set1(-2.0f) * abs(z));  // e^{−2|z|}
    const V den = one + e;
    const V t = copysign((one - e) / den, z);
    const V q = set1(4.0f) * e / (den * den);  // 1 − t²
    f0 = t;
    f1 = q;
    f2 = set1(-2.0f) * t * q;
    f3 = fnma(set1(6.0f), q, set1(4.0f)) * q;
  } else {
    const V e = exp(min(z, zero()));
    const M pos = gt(z, zero());
    f0 = select(pos, z, e - one);
    f1 = select(pos, one, e);
    f2 = select(pos, zero(), e);
    f3 = f2;
  }
}

struct ActJet {
  float f0, f1, f2, f3;
};

/** Scalar form (tests and debugging): lane 0 of jet<act>. */
inline ActJet act_jet(int act, float zf) {
  alignas(64) float zs[simd::kWidth];
  for (int i = 0; i < simd::kWidth; i++) zs[i] = zf;
  simd::V f0, f1, f2, f3;
  const simd::V z = simd::load(zs);
  switch (act) {
    case kSilu: jet<kSilu>(z, f0, f1, f2, f3); break;
    case kSoftplus: jet<kSoftplus>(z, f0, f1, f2, f3); break;
    case kTanh: jet<kTanh>(z, f0, f1, f2, f3); break;
    default: jet<kElu>(z, f0, f1, f2, f3); break;
  }
  alignas(64) float o[4][simd::kWidth];
  simd::store(o[0], f0);
  simd::store(o[1], f1);
  simd::store(o[2], f2);
  simd::store(o[3], f3);
  return {o[0][0], o[1][0], o[2][0], o[3][0]};
}

}  // namespace ebm
