// Multinomial resampling (Walker's alias method + counting sort), the native twin of `multinomial` in
// src/math/resampling.ts. It consumes the caller's xoshiro128** stream state in place and performs the
// same floating-point operations in the same order, so its ancestors are bit-identical to the TypeScript
// version's for the same key. The one product followed by an addition whose rounding matters, u = U·n then
// u − col, is kept from being fused into an FMA by an empty asm barrier on u (x86; WebAssembly has no FMA
// to fuse into). Its JavaScript export resampleMultinomial is in resample_napi.cc.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "resample.h"
#include "xoshiro.h"

namespace ebm {

void multinomial_alias(const double* w, int n, double total, uint32_t* state, int m, int32_t* out) {
  thread_local std::vector<double> prob_buf;
  thread_local std::vector<int32_t> alias_buf, work_buf;
  prob_buf.resize(n);
  alias_buf.resize(n);
  work_buf.resize(n + 1);
  // Plain pointers: indexing the thread_local vectors inside the loops would look up the TLS block each time.
  double* prob = prob_buf.data();
  int32_t* alias = alias_buf.data();
  int32_t* work = work_buf.data();
  int small = 0;
  int large = n;
  const double scale = n / total;
  // Branch-free partition (the small/large test is a coin flip for the branch predictor): write i at both
  // stack tops, advance one of them. Same stacks, in the same order, as the branching form.
  for (int i = 0; i < n; i++) {
    const double p = w[i] * scale;
    prob[i] = p;
    alias[i] = i;
    const int isSmall = p < 1;
    work[small] = i;
    work[large - 1] = i;
    small += isSmall;
    large -= 1 - isSmall;
  }
  while (small > 0 && large < n) {
    const int l = work[--small];
    const int g = work[large];
    alias[l] = g;
    const double pg = (prob[g] + prob[l]) - 1;
    prob[g] = pg;
    if (pg < 1) {
      large++;
      work[small++] = g;
    }
  }
  while (small > 0) prob[work[--small]] = 1;
  for (int k = large; k < n; k++) prob[work[k]] = 1;
  int32_t* counts = work;
  for (int i = 0; i < n; i++) counts[i] = 0;
  uint32_t st[4] = {state[0], state[1], state[2], state[3]};  // local: `counts` may alias the caller's state
  for (int k = 0; k < m; k++) {
    double u = xoshiro_uniform(st) * n;
#if defined(__x86_64__) || defined(__i386__)
    asm("" : "+x"(u));  // u is rounded to a double here, as in JavaScript
#endif
    int col = static_cast<int>(u);
    if (col > n - 1) col = n - 1;
    const int other = alias[col];
    counts[other + static_cast<int>(u - col < prob[col]) * (col - other)]++;
  }
  for (int j = 0; j < 4; j++) state[j] = st[j];
  // Emit ancestors in order. Counts are Poisson-like (mostly 0–3): write four copies unconditionally into a
  // padded scratch and advance by the count, looping only for the rare larger counts.
  thread_local std::vector<int32_t> emit_buf;
  emit_buf.resize(static_cast<size_t>(m) + 4);
  int32_t* emit = emit_buf.data();
  int k = 0;
  for (int i = 0; i < n; i++) {
    const int c = counts[i];
    emit[k] = i;
    emit[k + 1] = i;
    emit[k + 2] = i;
    emit[k + 3] = i;
    if (c > 4)
      for (int j = 4; j < c; j++) emit[k + j] = i;
    k += c;
  }
  for (int j = 0; j < m; j++) out[j] = emit[j];
}

}  // namespace ebm
