/**
 * log(e^{−|z|}·I₀(z)), the logarithm of the exponentially scaled modified Bessel function of order 0, for
 * the exact density of a Gaussian-blurred circle (the "rings" data set): the average of e^{z·cos θ} over
 * θ ∈ [0, 2π) is I₀(z). Portable like the rest of src/data (portable log, no Math.exp/Math.log).
 *
 * |z| ≤ 25: the power series I₀(z) = Σ_k (z²/4)^k / (k!)², all terms positive, summed until they stop
 * changing the sum (at most ~90 terms). |z| > 25: the asymptotic expansion
 * I₀(z) ~ e^z / √(2πz) · Σ_k a_k z^{−k}, a_k = Π_{j≤k} (2j − 1)² / (8j), whose smallest term at z > 25 is
 * below e^{−2z} < 1e−21: summed until the terms fall under 1e−17 of the sum. Relative accuracy of
 * e^{−|z|}I₀(z) about 1e−14 (tested against quadrature of the integral).
 */
import { portableExp, portableLog } from "../random/elementary.ts";

const SERIES_LIMIT = 25;
const LOG_TWO_PI = portableLog(2 * Math.PI);

/** log(e^{−|z|} I₀(z)); −∞ never (I₀ ≥ 1), NaN for NaN. */
export function logBesselI0e(z: number): number {
  if (z !== z) return z;
  const a = Math.abs(z);
  if (a === Infinity) return -Infinity; // e^{−z}I₀(z) ~ 1/√(2πz) → 0
  if (a <= SERIES_LIMIT) {
    const q = 0.25 * a * a;
    let term = 1;
    let sum = 1;
    for (let k = 1; k < 200; k++) {
      term *= q / (k * k);
      const next = sum + term;
      if (next === sum) break;
      sum = next;
    }
    return portableLog(sum) - a;
  }
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 100; k++) {
    const m = 2 * k - 1;
    const nextTerm = (term * m * m) / (8 * k * a);
    if (nextTerm > term || nextTerm < 1e-17 * sum) break; // past the smallest term, or negligible
    term = nextTerm;
    sum += term;
  }
  return portableLog(sum) - 0.5 * (LOG_TWO_PI + portableLog(a));
}

/** e^{−|z|} I₀(z). */
export function besselI0e(z: number): number {
  return portableExp(logBesselI0e(z));
}
