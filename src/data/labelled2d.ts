/**
 * Labelled 2-D sets for conditional models: the Gaussian-mixture sets of ./toy2d.ts (mog4-unequal,
 * 8gaussians) with each point's component as its label, and what is known about them exactly — the joint
 * log density log p(x, y) = log w_y + log N(x; μ_y, σ²I), the Bayes posterior p(y | x), the Bayes
 * classifier argmax_y p(y | x).
 *
 * `sigma` rescales the components (the classes then overlap, and the Bayes accuracy drops below 1): a point
 * of component y is drawn by toy2d's generator and moved to μ_y + (σ/σ₀)(x − μ_y), which is an exact draw
 * of N(μ_y, σ²I) from the same stream. With the set's own σ₀ the points are toy2d's, bit for bit.
 */
import { portableExpFast, portableLog } from "../random/elementary.ts";
import type { Key } from "../random/key.ts";
import { toy2d } from "./toy2d.ts";

export type LabelledToy2dName = "mog4-unequal" | "8gaussians";

export const LABELLED_TOY2D_NAMES: readonly LabelledToy2dName[] = Object.freeze([
  "mog4-unequal",
  "8gaussians",
]);

/** The component standard deviations of toy2d's generators (checked against its logDensity by a test). */
const NATIVE_SIGMA: Record<LabelledToy2dName, number> = { "mog4-unequal": 0.25, "8gaussians": 0.5 / 1.414 };

export interface LabelledMixture2d {
  readonly name: LabelledToy2dName;
  readonly dim: 2;
  /** Number K of labels (components). */
  readonly classes: number;
  /** The true p(y). */
  readonly weights: readonly number[];
  /** K × 2 component means, row-major: also the centres of the Voronoi cells used to score samples. */
  readonly centres: Float64Array;
  /** The common component standard deviation. */
  readonly sigma: number;
  /** n points (n × 2) and their labels, from `key`. */
  sample(key: Key, n: number): { x: Float64Array; labels: Int32Array };
  /** log p(x_i, y) for every label: n × K into `out` (allocated when omitted). */
  logJoint(x: Float64Array, n: number, out?: Float64Array): Float64Array;
  /** The Bayes posterior p(y | x_i): n × K into `out` (allocated when omitted). */
  posterior(x: Float64Array, n: number, out?: Float64Array): Float64Array;
}

/** The labelled mixture `name`, optionally with component standard deviation `sigma`. */
export function labelledMixture2d(name: LabelledToy2dName, opts: { sigma?: number } = {}): LabelledMixture2d {
  if (!LABELLED_TOY2D_NAMES.includes(name))
    throw new RangeError(`labelled sets: ${LABELLED_TOY2D_NAMES.join(", ")}; got ${name}`);
  const base = toy2d(name);
  const sigma0 = NATIVE_SIGMA[name];
  const sigma = opts.sigma ?? sigma0;
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new RangeError(`sigma must be positive, got ${sigma}`);
  const K = base.components;
  const centres = Float64Array.from(base.centres!);
  const weights = [...base.weights];
  const logW = weights.map((w) => portableLog(w));
  const logNorm = -portableLog(2 * Math.PI * sigma * sigma);
  const scale = sigma / sigma0;
  const logJoint = (x: Float64Array, n: number, out: Float64Array = new Float64Array(n * K)) => {
    for (let i = 0; i < n; i++)
      for (let y = 0; y < K; y++) {
        const dx = x[2 * i] - centres[2 * y];
        const dy = x[2 * i + 1] - centres[2 * y + 1];
        out[i * K + y] = logW[y] + logNorm - (dx * dx + dy * dy) / (2 * sigma * sigma);
      }
    return out;
  };
  return {
    name,
    dim: 2,
    classes: K,
    weights,
    centres,
    sigma,
    sample(key, n) {
      const labels = new Int32Array(n);
      const x = base.sample(key, n, labels);
      if (scale !== 1)
        for (let i = 0; i < n; i++)
          for (let a = 0; a < 2; a++) {
            const m = centres[2 * labels[i] + a];
            x[2 * i + a] = m + scale * (x[2 * i + a] - m);
          }
      return { x, labels };
    },
    logJoint,
    posterior(x, n, out = new Float64Array(n * K)) {
      logJoint(x, n, out);
      for (let i = 0; i < n; i++) {
        let m = Number.NEGATIVE_INFINITY;
        for (let y = 0; y < K; y++) m = Math.max(m, out[i * K + y]);
        let s = 0;
        for (let y = 0; y < K; y++) s += out[i * K + y] = portableExpFast(out[i * K + y] - m);
        for (let y = 0; y < K; y++) out[i * K + y] /= s;
      }
      return out;
    },
  };
}
