// Activations with their first three derivatives, for the MLP jet kernel (mlp.cc: second-order directional
// derivatives of U along v and their parameter gradient). Scalar float32, C library exp/tanh/log1p: this
// path is not the hot loop of sampling (activations.h is), and f″, f‴ are only needed here.
//
// Closed forms (s = σ(z), t = tanh z):
//   SiLU      f = z s,  f′ = s(1 + z(1−s)),  f″ = s(1−s)(2 + z(1−2s)),  f‴ = s(1−s)(3(1−2s) + z(1 − 6s + 6s²))
//   softplus  f = log(1 + eᶻ),  f′ = s,  f″ = s(1−s),  f‴ = s(1−s)(1−2s)
//   tanh      f = t,  f′ = 1−t²,  f″ = −2t(1−t²),  f‴ = (6t² − 2)(1−t²)
//   ELU (α=1) f = z (z > 0) or eᶻ − 1,  f′ = 1 or eᶻ,  f″ = f‴ = 0 or eᶻ  (f″ jumps at 0: only C¹)
#pragma once

#include <cmath>

#include "activations.h"

namespace ebm {

struct ActJet {
  float f0, f1, f2, f3;
};

inline ActJet act_jet(int act, float z) {
  switch (act) {
    case kSilu: {
      const float s = 1.0f / (1.0f + std::exp(-z));
      const float p = s * (1.0f - s);
      return {z * s, s * (1.0f + z * (1.0f - s)), p * (2.0f + z * (1.0f - 2.0f * s)),
              p * (3.0f * (1.0f - 2.0f * s) + z * (1.0f - 6.0f * s + 6.0f * s * s))};
    }
    case kSoftplus: {
      const float e = std::exp(-std::fabs(z));
      const float s = z >= 0 ? 1.0f / (1.0f + e) : e / (1.0f + e);
      const float p = s * (1.0f - s);
      return {std::max(z, 0.0f) + std::log1p(e), s, p, p * (1.0f - 2.0f * s)};
    }
    case kTanh: {
      const float t = std::tanh(z);
      const float q = 1.0f - t * t;
      return {t, q, -2.0f * t * q, (6.0f * t * t - 2.0f) * q};
    }
    default: {
      if (z > 0) return {z, 1.0f, 0.0f, 0.0f};
      const float e = std::exp(z);
      return {e - 1.0f, e, e, e};
    }
  }
}

}  // namespace ebm
