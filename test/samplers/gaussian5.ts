/** The correlated 5-D Gaussian the sampler tests share, and the moment check against it. */
import assert from "node:assert/strict";
import { GaussianEnergy } from "../../src/energies/gaussian.ts";

/**
 * Σ_ij = s_i s_j 0.6^{|i−j|}, s = (1.2, 1, 0.9, 1.1, 1); eigenvalues 0.26 … 2.84, so the condition number is
 * 10.9; mean (1, −1, 0.5, 2, 0).
 */
export function gaussian5() {
  const d = 5;
  const s = [1.2, 1, 0.9, 1.1, 1];
  const cov = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) cov[i * d + j] = s[i] * s[j] * 0.6 ** Math.abs(i - j);
  const energy = new GaussianEnergy([1, -1, 0.5, 2, 0], cov);
  const diagCov = Float64Array.from({ length: d }, (_, i) => cov[i * d + i]);
  return { energy, d, cov, diagCov, mean: energy.mean };
}

/**
 * Checks the sample mean and covariance of n iid rows against (mean, cov) at 5 SE. SE of a mean:
 * √(Σ_jj/n). The covariance is estimated around the known mean, so entry (j, k) is the mean of n iid
 * products (x_j − μ_j)(x_k − μ_k), whose variance for a Gaussian is Σ_jj Σ_kk + Σ_jk² (Isserlis):
 * SE = √((Σ_jj Σ_kk + Σ_jk²)/n). Returns the largest |error|/SE seen.
 */
export function checkMoments(
  x: Float64Array,
  n: number,
  mean: Float64Array,
  cov: Float64Array,
  d: number,
  what = "",
): number {
  const tag = what ? `${what}: ` : "";
  let worst = 0;
  for (let j = 0; j < d; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += x[i * d + j];
    m /= n;
    const z = Math.abs(m - mean[j]) / Math.sqrt(cov[j * d + j] / n);
    worst = Math.max(worst, z);
    assert.ok(z < 5, `${tag}mean[${j}] = ${m}, expected ${mean[j]} (${z.toFixed(2)} SE)`);
  }
  for (let j = 0; j < d; j++)
    for (let k = 0; k <= j; k++) {
      let c = 0;
      for (let i = 0; i < n; i++) c += (x[i * d + j] - mean[j]) * (x[i * d + k] - mean[k]);
      c /= n;
      const sjk = cov[j * d + k];
      const z = Math.abs(c - sjk) / Math.sqrt((cov[j * d + j] * cov[k * d + k] + sjk * sjk) / n);
      worst = Math.max(worst, z);
      assert.ok(z < 5, `${tag}cov[${j},${k}] = ${c}, expected ${sjk} (${z.toFixed(2)} SE)`);
    }
  return worst;
}
