/**
 * Built-in two-dimensional data sets for training and checking energy-based models: the toy sets of the
 * score-matching, FFJORD and Gibbs-with-Gradients papers (8gaussians, 2spirals, checkerboard, rings,
 * moons, pinwheel, swissroll) and an unequal four-mode mixture (mog4-unequal) whose mode masses are known.
 *
 * Every set is a seeded generator `sample(key, n)` → n×2 row-major Float64Array plus what is known about
 * it exactly: the component weights, the component `centres` where nearest-centre (Voronoi) cells recover
 * the weights, and the normalized `logDensity` where it has a closed form. `toy2d(name)` returns a set by
 * name; `TOY2D_NAMES` lists them.
 *
 * Reproducibility: a set draws from one `Stream` of the key, point after point (the component first, then
 * the point's coordinates), so the same key gives the same data on every host, bit for bit, and the first
 * m points of a draw of n are a draw of m. Host-dependent Math.sin/cos/exp/log are not used: sin and cos
 * come from ./trig.ts, exp and log from src/random/elementary.ts; Math.sqrt and Math.floor are exact.
 *
 * Differences from the Python generators, deliberate: every point is an independent draw from the set's
 * distribution — where those generators stratify (equal counts per ring, moon, spiral or arm, evenly
 * spaced angles on rings and moons, n rounded down to a multiple of 2 or 5), the component is drawn here
 * with its probability and the angle uniformly. The distributions are the same; a draw is i.i.d.
 */
import { portableExp, portableLog } from "../random/elementary.ts";
import { type Key, Stream } from "../random/key.ts";
import { logBesselI0e } from "./bessel.ts";
import { portableCos, portableSin } from "./trig.ts";

export type Toy2dName =
  "8gaussians" | "2spirals" | "checkerboard" | "rings" | "moons" | "pinwheel" | "swissroll" | "mog4-unequal";

export const TOY2D_NAMES: readonly Toy2dName[] = Object.freeze([
  "8gaussians",
  "2spirals",
  "checkerboard",
  "rings",
  "moons",
  "pinwheel",
  "swissroll",
  "mog4-unequal",
]);

export interface Toy2dSpec {
  readonly name: Toy2dName;
  /** One line: what the set is. */
  readonly description: string;
  readonly dim: 2;
  /**
   * n points, n×2 row-major, from a fresh stream of `key`. With `labels` (length ≥ n), point i's
   * component (0 … components−1) is written to labels[i]. Throws RangeError unless n is an integer ≥ 0.
   */
  sample(key: Key, n: number, labels?: Int32Array): Float64Array;
  /** How many components a point is drawn from (the arm, ring, square, …); 1 for swissroll. */
  readonly components: number;
  /** The exact probability of each component (length `components`, sums to 1). */
  readonly weights: readonly number[];
  /**
   * components×2 centres, row-major (present for 8gaussians, mog4-unequal, pinwheel, checkerboard). The
   * true mass of centre k's nearest-centre (Voronoi) cell is weights[k]: exactly by symmetry for
   * 8gaussians (8-fold) and pinwheel (5-fold), exactly by containment for checkerboard (each square lies
   * in its own cell), and to within 2e−9 for mog4-unequal (modes 6 standard deviations from the cell
   * edges). So mode masses of a model's samples (nearestCentre / modeMasses in src/eval/masses.ts) can
   * be compared with `weights`. A cell is not quite the component: 99.8% of 8gaussians points and 97.7%
   * of pinwheel points lie in their own component's cell (all of checkerboard's, and of mog4-unequal's
   * but for ~1e−9). A fresh copy per `toy2d()` call.
   */
  readonly centres?: Float64Array;
  /**
   * The normalized log density at n points (n×2 row-major) into `out` (length ≥ n, allocated if
   * omitted); present where it is exact: 8gaussians and mog4-unequal (Gaussian mixtures), checkerboard
   * (piecewise uniform: −log 32 on the squares, −∞ elsewhere), rings (Gaussian-blurred circles, through
   * the Bessel function I₀).
   */
  readonly logDensity?: (x: Float64Array, n: number, out?: Float64Array) => Float64Array;
  /** A box [xmin, xmax, ymin, ymax] outside which the set has (almost) no mass: for plots and grids. */
  readonly extent: readonly [number, number, number, number];
}

const TWO_PI = 2 * Math.PI;
const LOG_TWO_PI = portableLog(TWO_PI);

function checkCount(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError(`${name}: the number of points must be an integer ≥ 0, got ${n}`);
}

function checkLabels(name: string, n: number, labels: Int32Array | undefined): void {
  if (labels !== undefined && labels.length < n)
    throw new RangeError(`${name}: labels has length ${labels.length}, need at least ${n}`);
}

/**
 * The generic generator: one stream, per point `draw(s, out, 2i)` writes the point and returns its
 * component.
 */
function generator(
  name: Toy2dName,
  draw: (s: Stream, out: Float64Array, at: number) => number,
): (key: Key, n: number, labels?: Int32Array) => Float64Array {
  return (key, n, labels) => {
    checkCount(name, n);
    checkLabels(name, n, labels);
    const s = new Stream(key);
    const out = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      const c = draw(s, out, 2 * i);
      if (labels !== undefined) labels[i] = c;
    }
    return out;
  };
}

/**
 * log Σ_k w_k N(x; μ_k, σ²I) in 2-D for isotropic components of one common σ, by log-sum-exp over the
 * components (portable exp/log).
 */
function isotropicMixtureLogDensity(
  centres: Float64Array,
  logWeights: readonly number[],
  sigma: number,
): (x: Float64Array, n: number, out?: Float64Array) => Float64Array {
  const k = logWeights.length;
  const inv2s2 = 1 / (2 * sigma * sigma);
  const logNorm = -(LOG_TWO_PI + 2 * portableLog(sigma));
  const terms = new Float64Array(k);
  return (x, n, out = new Float64Array(n)) => {
    checkCount("logDensity", n);
    for (let i = 0; i < n; i++) {
      const px = x[2 * i];
      const py = x[2 * i + 1];
      if (px !== px || py !== py) {
        out[i] = Number.NaN;
        continue;
      }
      let m = -Infinity;
      for (let j = 0; j < k; j++) {
        const dx = px - centres[2 * j];
        const dy = py - centres[2 * j + 1];
        const t = logWeights[j] - (dx * dx + dy * dy) * inv2s2;
        terms[j] = t;
        if (t > m) m = t;
      }
      if (m === -Infinity) {
        out[i] = m; // |x| = ∞
        continue;
      }
      let sum = 0;
      for (let j = 0; j < k; j++) sum += portableExp(terms[j] - m);
      out[i] = m + portableLog(sum) + logNorm;
    }
    return out;
  };
}

// --- 8gaussians ------------------------------------------------------------------------------------------

/**
 * Eight equally weighted isotropic Gaussians: centres 4·u/1.414 for the unit vectors u at multiples of 45°
 * (in the order (1,0), (−1,0), (0,1), (0,−1), (s,s), (s,−s), (−s,s), (−s,−s), s = 1/√2), standard
 * deviation 0.5/1.414 (the FFJORD generator divides by 1.414, not √2).
 */
function eightGaussians(): Toy2dSpec {
  const s = 1 / Math.sqrt(2);
  const units = [1, 0, -1, 0, 0, 1, 0, -1, s, s, s, -s, -s, s, -s, -s];
  const centres = Float64Array.from(units, (u) => (4 * u) / 1.414);
  const sigma = 0.5 / 1.414;
  const weights = new Array<number>(8).fill(1 / 8);
  return {
    name: "8gaussians",
    description: "8 equal Gaussians (sd 0.354) on a circle of radius 2.83",
    dim: 2,
    components: 8,
    weights,
    centres,
    extent: [-5, 5, -5, 5],
    sample: generator("8gaussians", (st, out, at) => {
      const c = st.integer(8);
      out[at] = centres[2 * c] + sigma * st.normal();
      out[at + 1] = centres[2 * c + 1] + sigma * st.normal();
      return c;
    }),
    logDensity: isotropicMixtureLogDensity(
      centres,
      weights.map((w) => portableLog(w)),
      sigma,
    ),
  };
}

// --- mog4-unequal ----------------------------------------------------------------------------------------

/**
 * Four isotropic Gaussians of standard deviation 0.25 at (−1.5, 1.5), (1.5, 1.5), (1.5, −1.5),
 * (−1.5, −1.5) with weights 0.2, 0.2, 0.3, 0.3. The component is drawn exactly: integer(10) ∈ {0,1} → 0,
 * {2,3} → 1, {4,5,6} → 2, {7,8,9} → 3.
 */
function mog4Unequal(): Toy2dSpec {
  const centres = Float64Array.of(-1.5, 1.5, 1.5, 1.5, 1.5, -1.5, -1.5, -1.5);
  const weights = [0.2, 0.2, 0.3, 0.3];
  const sigma = 0.25;
  const componentOf = Int32Array.of(0, 0, 1, 1, 2, 2, 2, 3, 3, 3);
  return {
    name: "mog4-unequal",
    description: "4 Gaussians (sd 0.25) at (±1.5, ±1.5) with weights 0.2, 0.2, 0.3, 0.3",
    dim: 2,
    components: 4,
    weights,
    centres,
    extent: [-3, 3, -3, 3],
    sample: generator("mog4-unequal", (st, out, at) => {
      const c = componentOf[st.integer(10)];
      out[at] = centres[2 * c] + sigma * st.normal();
      out[at + 1] = centres[2 * c + 1] + sigma * st.normal();
      return c;
    }),
    logDensity: isotropicMixtureLogDensity(
      centres,
      weights.map((w) => portableLog(w)),
      sigma,
    ),
  };
}

// --- checkerboard ----------------------------------------------------------------------------------------

/**
 * Uniform on 8 of the 16 squares of side 2 tiling [−4, 4]², in a checkerboard pattern: square (a, b)
 * = [2a, 2a+2) × [2b, 2b+2), a, b ∈ {−2, …, 1}, is filled when a + b is even. As in FFJORD: x₁ ~ U[−2, 2),
 * x₂ = U[0, 1) − 2·B + (⌊x₁⌋ mod 2), B ∈ {0, 1} uniform, point 2·(x₁, x₂). Component (a + 2)·2 + B.
 * Density 1/32 on the squares.
 */
function checkerboard(): Toy2dSpec {
  const centres = new Float64Array(16);
  for (let a = -2; a <= 1; a++) {
    const parity = ((a % 2) + 2) % 2;
    for (let b = 0; b <= 1; b++) {
      const c = (a + 2) * 2 + b;
      centres[2 * c] = 2 * (a + 0.5);
      centres[2 * c + 1] = 2 * (parity - 2 * b + 0.5);
    }
  }
  const inside = -portableLog(32);
  return {
    name: "checkerboard",
    description: "uniform on 8 squares of side 2 in a checkerboard pattern on [−4, 4]²",
    dim: 2,
    components: 8,
    weights: new Array<number>(8).fill(1 / 8),
    centres,
    extent: [-4, 4, -4, 4],
    sample: generator("checkerboard", (st, out, at) => {
      const x1 = st.uniform() * 4 - 2;
      const b = st.integer(2);
      const a = Math.floor(x1);
      const parity = ((a % 2) + 2) % 2;
      const x2 = st.uniform() - 2 * b + parity;
      out[at] = 2 * x1;
      out[at + 1] = 2 * x2;
      return (a + 2) * 2 + b;
    }),
    logDensity: (x, n, out = new Float64Array(n)) => {
      checkCount("logDensity", n);
      for (let i = 0; i < n; i++) {
        const px = x[2 * i];
        const py = x[2 * i + 1];
        if (px !== px || py !== py) {
          out[i] = Number.NaN;
          continue;
        }
        const a = Math.floor(px / 2);
        const b = Math.floor(py / 2);
        const on = a >= -2 && a <= 1 && b >= -2 && b <= 1 && (a + b) % 2 === 0;
        out[i] = on ? inside : -Infinity;
      }
      return out;
    },
  };
}

// --- rings -----------------------------------------------------------------------------------------------

/**
 * Four concentric circles of radii 3, 2.25, 1.5, 0.75 (components 0–3, equally likely), uniform angle,
 * blurred by isotropic Gaussian noise of standard deviation 0.08. Density of ring k at radius r:
 * e^{−(r−R_k)²/(2σ²)} · e^{−rR_k/σ²}I₀(rR_k/σ²) / (2πσ²).
 */
function rings(): Toy2dSpec {
  const radii = [3, 2.25, 1.5, 0.75];
  const sigma = 0.08;
  const s2 = sigma * sigma;
  const logNorm = -(LOG_TWO_PI + portableLog(s2));
  const logQuarter = portableLog(0.25);
  const terms = new Float64Array(4);
  return {
    name: "rings",
    description: "4 concentric circles (radii 3, 2.25, 1.5, 0.75) blurred by noise of sd 0.08",
    dim: 2,
    components: 4,
    weights: [0.25, 0.25, 0.25, 0.25],
    extent: [-3.5, 3.5, -3.5, 3.5],
    sample: generator("rings", (st, out, at) => {
      const c = st.integer(4);
      const theta = TWO_PI * st.uniform();
      const r = radii[c];
      out[at] = r * portableCos(theta) + sigma * st.normal();
      out[at + 1] = r * portableSin(theta) + sigma * st.normal();
      return c;
    }),
    logDensity: (x, n, out = new Float64Array(n)) => {
      checkCount("logDensity", n);
      for (let i = 0; i < n; i++) {
        const r = Math.sqrt(x[2 * i] * x[2 * i] + x[2 * i + 1] * x[2 * i + 1]);
        if (r !== r) {
          out[i] = r;
          continue;
        }
        if (r === Infinity) {
          out[i] = -Infinity;
          continue;
        }
        let m = -Infinity;
        for (let k = 0; k < 4; k++) {
          const d = r - radii[k];
          const t = -(d * d) / (2 * s2) + logBesselI0e((r * radii[k]) / s2);
          terms[k] = t;
          if (t > m) m = t;
        }
        let sum = 0;
        for (let k = 0; k < 4; k++) sum += portableExp(terms[k] - m);
        out[i] = logQuarter + m + portableLog(sum) + logNorm;
      }
      return out;
    },
  };
}

// --- moons -----------------------------------------------------------------------------------------------

/**
 * Two interleaved half circles (scikit-learn's make_moons with noise 0.1, then ×2 and shifted by
 * (−1, −0.2), as in FFJORD): component 0 is (cos t, sin t), component 1 is (1 − cos t, 0.5 − sin t),
 * t ~ U[0, π), plus N(0, 0.1²) noise per coordinate, before the scaling.
 */
function moons(): Toy2dSpec {
  return {
    name: "moons",
    description: "2 interleaved half circles of radius 2, noise sd 0.2",
    dim: 2,
    components: 2,
    weights: [0.5, 0.5],
    extent: [-4, 4, -3, 3],
    sample: generator("moons", (st, out, at) => {
      const c = st.integer(2);
      const t = Math.PI * st.uniform();
      const ct = portableCos(t);
      const snt = portableSin(t);
      const u = c === 0 ? ct : 1 - ct;
      const v = c === 0 ? snt : 1 - snt - 0.5;
      out[at] = 2 * (u + 0.1 * st.normal()) - 1;
      out[at + 1] = 2 * (v + 0.1 * st.normal()) - 0.2;
      return c;
    }),
  };
}

// --- pinwheel --------------------------------------------------------------------------------------------

const PINWHEEL_ARMS = 5;
const PINWHEEL_RATE = 0.25;

/**
 * Five curved arms (FFJORD's pinwheel): arm c, feature f = (1 + 0.3·z₁, 0.1·z₂), angle
 * a = 2πc/5 + 0.25·e^{f₀}, point 2·(f₀ cos a + f₁ sin a, −f₀ sin a + f₁ cos a) (f times the rotation
 * [[cos a, −sin a], [sin a, cos a]] from the right). Centres: the arm's point at f = (1, 0).
 */
function pinwheel(): Toy2dSpec {
  const centres = new Float64Array(2 * PINWHEEL_ARMS);
  const e = portableExp(1);
  for (let c = 0; c < PINWHEEL_ARMS; c++) {
    const a = (TWO_PI / PINWHEEL_ARMS) * c + PINWHEEL_RATE * e;
    centres[2 * c] = 2 * portableCos(a);
    centres[2 * c + 1] = -2 * portableSin(a);
  }
  return {
    name: "pinwheel",
    description: "5 curved arms (radial sd 0.6, tangential sd 0.2)",
    dim: 2,
    components: PINWHEEL_ARMS,
    weights: new Array<number>(PINWHEEL_ARMS).fill(1 / PINWHEEL_ARMS),
    centres,
    extent: [-5, 5, -5, 5],
    sample: generator("pinwheel", (st, out, at) => {
      const c = st.integer(PINWHEEL_ARMS);
      const f0 = 1 + 0.3 * st.normal();
      const f1 = 0.1 * st.normal();
      const a = (TWO_PI / PINWHEEL_ARMS) * c + PINWHEEL_RATE * portableExp(f0);
      const ca = portableCos(a);
      const sa = portableSin(a);
      out[at] = 2 * (f0 * ca + f1 * sa);
      out[at + 1] = 2 * (-f0 * sa + f1 * ca);
      return c;
    }),
  };
}

// --- 2spirals --------------------------------------------------------------------------------------------

/**
 * Two interleaved spirals (FFJORD's 2spirals): t = √U·3π (540°), p = (−t cos t + 0.5·U′, t sin t + 0.5·U″),
 * component 1 is −p; then p/3 + N(0, 0.1²) per coordinate.
 */
function twoSpirals(): Toy2dSpec {
  const threePi = 3 * Math.PI;
  return {
    name: "2spirals",
    description: "2 interleaved spirals of 1.5 turns, noise sd 0.1",
    dim: 2,
    components: 2,
    weights: [0.5, 0.5],
    extent: [-4, 4, -4, 4],
    sample: generator("2spirals", (st, out, at) => {
      const c = st.integer(2);
      const t = Math.sqrt(st.uniform()) * threePi;
      let px = -portableCos(t) * t + 0.5 * st.uniform();
      let py = portableSin(t) * t + 0.5 * st.uniform();
      if (c === 1) {
        px = -px;
        py = -py;
      }
      out[at] = px / 3 + 0.1 * st.normal();
      out[at + 1] = py / 3 + 0.1 * st.normal();
      return c;
    }),
  };
}

// --- swissroll -------------------------------------------------------------------------------------------

/**
 * scikit-learn's make_swiss_roll with noise 1, coordinates (x, z) divided by 5 (as in FFJORD):
 * t = 1.5π(1 + 2U), point ((t cos t + z₁)/5, (t sin t + z₂)/5). The roll's height is not drawn.
 */
function swissroll(): Toy2dSpec {
  return {
    name: "swissroll",
    description: "a spiral of 1.5 turns (radius 0.94 to 2.83), noise sd 0.2",
    dim: 2,
    components: 1,
    weights: [1],
    extent: [-4, 4, -4, 4],
    sample: generator("swissroll", (st, out, at) => {
      const t = 1.5 * Math.PI * (1 + 2 * st.uniform());
      out[at] = (t * portableCos(t) + st.normal()) / 5;
      out[at + 1] = (t * portableSin(t) + st.normal()) / 5;
      return 0;
    }),
  };
}

// --- registry --------------------------------------------------------------------------------------------

const BUILDERS: Record<Toy2dName, () => Toy2dSpec> = {
  "8gaussians": eightGaussians,
  "2spirals": twoSpirals,
  checkerboard,
  rings,
  moons,
  pinwheel,
  swissroll,
  "mog4-unequal": mog4Unequal,
};

export function isToy2dName(name: string): name is Toy2dName {
  return Object.prototype.hasOwnProperty.call(BUILDERS, name);
}

/** The built-in set `name`; a RangeError naming the valid names for any other. */
export function toy2d(name: string): Toy2dSpec {
  if (!isToy2dName(name)) {
    // The name as typed, on one line: control characters escaped, cut at 60 characters.
    let shown = "";
    for (const ch of name.slice(0, 60)) {
      const c = ch.charCodeAt(0);
      shown += c < 0x20 || (c >= 0x7f && c <= 0x9f) ? `\\x${c.toString(16).padStart(2, "0")}` : ch;
    }
    throw new RangeError(
      `unknown data set '${shown}${name.length > 60 ? "…" : ""}': the built-in sets are ${TOY2D_NAMES.join(", ")}`,
    );
  }
  return BUILDERS[name]();
}
