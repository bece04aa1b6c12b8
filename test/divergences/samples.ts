/** Test samples for the divergence tests: Gaussians (any covariance) and the seed's parallel lines. */
import { cholesky } from "../../src/energies/gaussian.ts";
import type { GaussianParams } from "../../src/divergences/gaussian.ts";
import type { SampleSet } from "../../src/divergences/estimate.ts";
import { keyFromSeed, normal, uniform } from "../../src/random/key.ts";

/** n draws of N(mean, cov) from the seed, as a SampleSet. */
export function gaussianSample(g: GaussianParams, n: number, seed: number): SampleSet {
  const d = g.mean.length;
  const l = cholesky(Float64Array.from(g.cov), d);
  const z = normal(keyFromSeed(seed), new Float64Array(n * d));
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < d; a++) {
      let s = g.mean[a];
      for (let b = 0; b <= a; b++) s += l[a * d + b] * z[i * d + b];
      x[i * d + a] = s;
    }
  return { x, n, dim: d };
}

/**
 * The seed's disjoint-support example (Arjovsky & Bottou 2017): n points uniform on the vertical segment
 * {x0} × [0, 1] of the plane.
 */
export function segmentSample(x0: number, n: number, seed: number): SampleSet {
  const u = uniform(keyFromSeed(seed), new Float64Array(n));
  const x = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = x0;
    x[2 * i + 1] = u[i];
  }
  return { x, n, dim: 2 };
}

/**
 * Gaussian pairs with a common covariance: p/q is then e^{linear}, so every integrand of every bound has
 * finite moments (with different covariances the tails of p/q or q/p are too heavy for KL(Q‖P)'s or χ²'s
 * terms to have a finite variance, and a standard error means little).
 */
export const PAIR_1D = {
  p: { mean: [0], cov: [1] },
  q: { mean: [0.7], cov: [1] },
} as const;

export const PAIR_2D = {
  p: { mean: [0, 0], cov: [1, 0.3, 0.3, 0.8] },
  q: { mean: [0.5, -0.4], cov: [1, 0.3, 0.3, 0.8] },
} as const;
