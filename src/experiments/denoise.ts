/**
 * Binary image denoising with an Ising prior (seed 001's example). A noisy image y ∈ {−1, +1}^N (each
 * pixel of the clean image flipped independently) and a smoothness prior on the clean image s give the
 * posterior ρ(s | y) ∝ e^{−U(s)},
 *
 *   U(s) = −J Σ_{⟨ij⟩} s_i s_j − h Σ_i s_i y_i,
 *
 * ⟨ij⟩ the 4-neighbour pairs of the grid (free boundary). For flip noise of rate p the likelihood term
 * is exactly h = ½ log((1 − p)/p) (h ≈ 1.1 for p = 0.1); J sets how strongly the prior prefers smooth
 * images (J = 1 is well inside the ordered phase of the prior, J_c ≈ 0.44, so isolated flips are undone
 * while edges, held by the data, stay).
 *
 * Three estimates of s:
 *  - `gibbs`: single-site Gibbs sampling of the posterior (raster scan, started at y), then the
 *    maximiser of the posterior marginals (MPM): s_i = sign(P(s_i = +1 | y) − ½). The marginals are
 *    averaged after burn-in as Rao–Blackwellised conditionals P(s_i = +1 | neighbours), which have a
 *    smaller variance than the sampled spins.
 *  - `icm`: iterated conditional modes (Besag 1986, "On the statistical analysis of dirty pictures",
 *    JRSS B 48): each pixel in turn takes the value that minimises U given its neighbours, started at y,
 *    until a sweep changes nothing: a local minimum of U, deterministic.
 *  - `meanfield`: naive mean field, m_i = tanh(J Σ_j m_j + h y_i), by damped parallel updates
 *    m ← (1 − λ) m + λ tanh(…) (undamped parallel updates can oscillate between two states), started at
 *    m = y, until the largest change is below the tolerance; s_i = sign(m_i).
 *
 * Images are bits as elsewhere in the library: pixel value 1 is s = +1 (white), 0 is s = −1 (black),
 * row-major rows × cols. Ties (a zero field or a marginal of exactly ½) keep the noisy pixel.
 */
import { sigmoid } from "../math/logistic.ts";
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";

export const DENOISE_METHODS = ["gibbs", "icm", "meanfield"] as const;
export type DenoiseMethod = (typeof DENOISE_METHODS)[number];

/** A binary image: `pixels` holds rows·cols bits (1 = white, s = +1), row-major. */
export interface BinaryImage {
  readonly rows: number;
  readonly cols: number;
  readonly pixels: Uint8Array;
}

export interface DenoiseOptions {
  method: DenoiseMethod;
  /** Prior coupling J ≥ 0 (default 1). */
  coupling?: number;
  /** Data fidelity h ≥ 0 (default 1.1 ≈ ½ log 9, matched to 10% flip noise). */
  fidelity?: number;
  /**
   * Sweeps over the image: gibbs runs exactly this many (default 100); icm and meanfield stop earlier
   * when converged (defaults 50 and 200).
   */
  sweeps?: number;
  /** gibbs: sweeps discarded before the marginals are averaged (default ⌊sweeps/5⌋). */
  burnIn?: number;
  /** meanfield: damping λ ∈ (0, 1] (default 0.5). */
  damping?: number;
  /** meanfield: stop when max_i |Δm_i| < tolerance (default 1e-4; the signs settle long before). */
  tolerance?: number;
  /** gibbs: the key of the chain (required for gibbs, unused otherwise). */
  key?: Key;
}

export interface DenoiseResult {
  /** The restored image's bits. */
  pixels: Uint8Array;
  /** gibbs: estimated P(s_i = +1 | y); meanfield: (1 + m_i)/2. Absent for icm. */
  marginals?: Float64Array;
  /** Sweeps performed. */
  sweeps: number;
  /** icm: a sweep changed nothing; meanfield: the tolerance was reached; gibbs: always true. */
  converged: boolean;
  /** U of the restored image. */
  energy: number;
}

export const DENOISE_DEFAULTS = {
  coupling: 1,
  fidelity: 1.1,
  sweeps: { gibbs: 100, icm: 50, meanfield: 200 },
  damping: 0.5,
  tolerance: 1e-4,
} as const;

function checkImage(img: BinaryImage, what = "image"): void {
  const { rows, cols, pixels } = img;
  if (!(Number.isInteger(rows) && Number.isInteger(cols) && rows >= 1 && cols >= 1))
    throw new RangeError(`${what} needs positive integer sizes, got ${rows}×${cols}`);
  if (pixels.length !== rows * cols)
    throw new RangeError(`${what} has ${pixels.length} pixels, not ${rows}×${cols}`);
  for (let i = 0; i < pixels.length; i++)
    if (pixels[i] > 1) throw new RangeError(`${what} pixels must be 0/1, found ${pixels[i]} at ${i}`);
}

function checkNonNegative(name: string, v: number): number {
  if (!(v >= 0 && Number.isFinite(v))) throw new RangeError(`${name} must be finite and ≥ 0, got ${v}`);
  return v;
}

function checkSweeps(name: string, v: number, min: number): number {
  if (!(Number.isInteger(v) && v >= min))
    throw new RangeError(`${name} must be an integer ≥ ${min}, got ${v}`);
  return v;
}

/** Σ of the neighbours' values v[·] of pixel (r, c) (free boundary). */
function neighbourSum(v: ArrayLike<number>, rows: number, cols: number, r: number, c: number): number {
  const k = r * cols + c;
  let s = 0;
  if (c > 0) s += v[k - 1];
  if (c + 1 < cols) s += v[k + 1];
  if (r > 0) s += v[k - cols];
  if (r + 1 < rows) s += v[k + cols];
  return s;
}

/** U(s) = −J Σ_⟨ij⟩ s_i s_j − h Σ_i s_i y_i for the bits `s` of an image of y's size. */
export function posteriorEnergy(
  s: Uint8Array,
  noisy: BinaryImage,
  coupling: number,
  fidelity: number,
): number {
  checkImage(noisy, "noisy image");
  const { rows, cols, pixels: y } = noisy;
  if (s.length !== rows * cols) throw new RangeError(`s has ${s.length} pixels, not ${rows}×${cols}`);
  let pair = 0;
  let data = 0;
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const k = r * cols + c;
      const sk = 2 * s[k] - 1;
      if (c + 1 < cols) pair += sk * (2 * s[k + 1] - 1);
      if (r + 1 < rows) pair += sk * (2 * s[k + cols] - 1);
      data += sk * (2 * y[k] - 1);
    }
  return -coupling * pair - fidelity * data;
}

/** The posterior estimate of the clean image under `opts.method` (module comment). */
export function denoise(noisy: BinaryImage, opts: DenoiseOptions): DenoiseResult {
  checkImage(noisy, "noisy image");
  const J = checkNonNegative("coupling", opts.coupling ?? DENOISE_DEFAULTS.coupling);
  const h = checkNonNegative("fidelity", opts.fidelity ?? DENOISE_DEFAULTS.fidelity);
  const method = opts.method;
  if (!(DENOISE_METHODS as readonly string[]).includes(method))
    throw new RangeError(`method must be one of ${DENOISE_METHODS.join(", ")}, got ${method}`);
  const sweeps = checkSweeps("sweeps", opts.sweeps ?? DENOISE_DEFAULTS.sweeps[method], 1);
  const { rows, cols, pixels: y } = noisy;
  const n = rows * cols;
  // Spins of the noisy image, ±1.
  const ys = new Int8Array(n);
  for (let i = 0; i < n; i++) ys[i] = 2 * y[i] - 1;
  let out: Omit<DenoiseResult, "energy">;
  if (method === "icm") out = icm(ys, rows, cols, J, h, sweeps);
  else if (method === "meanfield") {
    const damping = opts.damping ?? DENOISE_DEFAULTS.damping;
    if (!(damping > 0 && damping <= 1)) throw new RangeError(`damping must be in (0, 1], got ${damping}`);
    const tol = opts.tolerance ?? DENOISE_DEFAULTS.tolerance;
    if (!(tol >= 0)) throw new RangeError(`tolerance must be ≥ 0, got ${tol}`);
    out = meanField(ys, rows, cols, J, h, sweeps, damping, tol);
  } else {
    if (!opts.key) throw new RangeError("gibbs needs a key");
    const burnIn = checkSweeps("burnIn", opts.burnIn ?? Math.floor(sweeps / 5), 0);
    if (burnIn >= sweeps) throw new RangeError(`burnIn (${burnIn}) must be below sweeps (${sweeps})`);
    out = gibbsMpm(ys, rows, cols, J, h, sweeps, burnIn, opts.key);
  }
  return { ...out, energy: posteriorEnergy(out.pixels, noisy, J, h) };
}

function icm(ys: Int8Array, rows: number, cols: number, J: number, h: number, sweeps: number) {
  const s = Int8Array.from(ys);
  let done = 0;
  let converged = false;
  while (done < sweeps && !converged) {
    done++;
    let changed = 0;
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) {
        const k = r * cols + c;
        const f = J * neighbourSum(s, rows, cols, r, c) + h * ys[k];
        const v = f > 0 ? 1 : f < 0 ? -1 : s[k];
        if (v !== s[k]) {
          s[k] = v;
          changed++;
        }
      }
    converged = changed === 0;
  }
  return { pixels: toBits(s), sweeps: done, converged };
}

function meanField(
  ys: Int8Array,
  rows: number,
  cols: number,
  J: number,
  h: number,
  sweeps: number,
  damping: number,
  tol: number,
) {
  const n = rows * cols;
  let m = Float64Array.from(ys);
  let next = new Float64Array(n);
  let done = 0;
  let converged = false;
  while (done < sweeps && !converged) {
    done++;
    let change = 0;
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) {
        const k = r * cols + c;
        const target = Math.tanh(J * neighbourSum(m, rows, cols, r, c) + h * ys[k]);
        next[k] = (1 - damping) * m[k] + damping * target;
        const dv = Math.abs(next[k] - m[k]);
        if (dv > change) change = dv;
      }
    [m, next] = [next, m];
    converged = change < tol;
  }
  const pixels = new Uint8Array(n);
  const marginals = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    pixels[k] = m[k] > 0 ? 1 : m[k] < 0 ? 0 : (ys[k] + 1) / 2;
    marginals[k] = (1 + m[k]) / 2;
  }
  return { pixels, marginals, sweeps: done, converged };
}

function gibbsMpm(
  ys: Int8Array,
  rows: number,
  cols: number,
  J: number,
  h: number,
  sweeps: number,
  burnIn: number,
  key: Key,
) {
  const n = rows * cols;
  const rng = new Stream(key);
  const s = Int8Array.from(ys);
  const acc = new Float64Array(n);
  for (let t = 0; t < sweeps; t++) {
    const keep = t >= burnIn;
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) {
        const k = r * cols + c;
        // P(s_k = +1 | rest) = σ(2 f), f = J Σ_nbr s_j + h y_k.
        const p = sigmoid(2 * (J * neighbourSum(s, rows, cols, r, c) + h * ys[k]));
        if (keep) acc[k] += p;
        s[k] = rng.uniform() < p ? 1 : -1;
      }
  }
  const kept = sweeps - burnIn;
  const pixels = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    acc[k] /= kept;
    pixels[k] = acc[k] > 0.5 ? 1 : acc[k] < 0.5 ? 0 : (ys[k] + 1) / 2;
  }
  return { pixels, marginals: acc, sweeps, converged: true };
}

function toBits(s: Int8Array): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s[i] > 0 ? 1 : 0;
  return out;
}

/**
 * A copy of `image` with exactly round(fraction·N) pixels flipped, chosen uniformly without replacement
 * (a partial Fisher–Yates shuffle drawn from `key`), so the noise level is known exactly.
 */
export function flipPixels(key: Key, image: BinaryImage, fraction: number): BinaryImage {
  checkImage(image);
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`fraction must be in [0, 1], got ${fraction}`);
  const n = image.pixels.length;
  const count = Math.round(fraction * n);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const rng = new Stream(key);
  const pixels = image.pixels.slice();
  for (let i = 0; i < count; i++) {
    const j = i + rng.integer(n - i);
    [order[i], order[j]] = [order[j], order[i]];
    pixels[order[i]] ^= 1;
  }
  return { rows: image.rows, cols: image.cols, pixels };
}

/** Number of pixels where two bit images of the same length differ. */
export function pixelsDiffering(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length)
    throw new RangeError(`images differ in size (${a.length} vs ${b.length} pixels)`);
  let k = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) k++;
  return k;
}

/** Fraction of pixels where `a` and `b` differ. */
export function pixelErrorRate(a: Uint8Array, b: Uint8Array): number {
  return pixelsDiffering(a, b) / a.length;
}
