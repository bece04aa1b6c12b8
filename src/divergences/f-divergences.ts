/**
 * The f-divergences (φ-divergences) D_φ(P, Q) = ∫ q φ(p/q), φ convex, lower semicontinuous, φ(1) = 0, and
 * what their variational lower bound needs (lecture notes 002; Nowozin, Cseke & Tomioka 2016, "f-GAN").
 *
 * Every φ here is +∞ for u < 0 (a density ratio is never negative), so its convex conjugate
 * φ*(t) = sup_{u ≥ 0} {t·u − φ(u)} is non-decreasing and finite exactly on a half-line (−∞, t_max) or
 * (−∞, t_max]. The bound D_φ(P, Q) ≥ E_P g(v(X)) − E_Q φ*(g(v(Y))) holds for any critic v: ℝᵈ → ℝ once an
 * output activation g maps ℝ into dom φ* (f-GAN's Table 2), so every critic gives a finite value; it is
 * tight at g(v) = φ'(p/q).
 *
 *   kind       φ(u)                                 φ*(t)                            dom φ*      g(v)
 *   kl         u log u                              e^{t−1}                          ℝ           v
 *   rkl        −log u                               −1 − log(−t)                     t < 0       −e^{−v}
 *   js         ½[u log u − (u+1) log((u+1)/2)]      −½ log(2 − e^{2t})               t < ½ log 2 ½ log(2σ(v))
 *   chi2       (u − 1)²                             t + t²/4 (t ≥ −2), −1 (t < −2)   ℝ           v
 *   hellinger  (√u − 1)²                            t/(1 − t)                        t < 1       1 − e^{−v}
 *   tv         ½|u − 1|                             max(t, −½)                       t ≤ ½       ½ tanh v
 *
 * Normalisations: KL(P‖Q) = ∫ p log(p/q); rkl is KL(Q‖P); js is ½KL(P‖M) + ½KL(Q‖M), M = (P + Q)/2, in
 * [0, log 2] (the seed's "D_JS = log 2" on disjoint supports; f-GAN's φ without the ½ gives twice this);
 * chi2 is Pearson's ∫(p − q)²/q; hellinger is ∫(√p − √q)², in [0, 2] (f-GAN's convention; some authors
 * halve it); tv is ½∫|p − q|, in [0, 1]. All in nats.
 *
 * The conjugates are the exact ones over u ≥ 0. For chi2 that differs from f-GAN's t + t²/4 below t = −2
 * (f-GAN's is larger there: a valid but looser bound); for tv f-GAN lists t on [−½, ½], which its
 * activation ½ tanh never leaves.
 *
 * With the activation folded in, the bound is E_P a(v) − E_Q b(v) with a = g and b = φ* ∘ g, written out
 * in stable closed forms (e.g. js: a = ½(log 2 − softplus(−v)), b = ½(softplus(v) − log 2), the GAN
 * discriminator objective). For every kind except tv, a is concave and b convex, so the bound is concave in
 * the critic's output — the RKHS fit is then a concave problem (src/divergences/newton.ts).
 *
 * exp and log are the portable ones (src/random/elementary.ts): the same bits on every host.
 */
import { portableExpFast as exp, portableLog as log, portableLog1p as log1p } from "../random/elementary.ts";

export const F_DIVERGENCE_KINDS = ["kl", "rkl", "js", "chi2", "hellinger", "tv"] as const;
export type FDivergenceKind = (typeof F_DIVERGENCE_KINDS)[number];

export function isFDivergenceKind(s: string): s is FDivergenceKind {
  return (F_DIVERGENCE_KINDS as readonly string[]).includes(s);
}

/**
 * The two integrands of a variational bound, as functions of the critic's raw output v:
 * bound(v) = E_P a(v(X)) − E_Q b(v(Y)), with first and second derivatives for Newton and gradient fits.
 */
export interface BoundTerms {
  a(v: number): number;
  da(v: number): number;
  d2a(v: number): number;
  b(v: number): number;
  db(v: number): number;
  d2b(v: number): number;
  /** a concave and b convex: the bound is concave in v. */
  readonly concave: boolean;
  /** The critic output that is optimal when P = Q (there the bound is 0). */
  readonly neutral: number;
}

export interface FDivergence extends BoundTerms {
  readonly kind: FDivergenceKind;
  /** A human name, e.g. "KL(P‖Q)". */
  readonly label: string;
  /** φ(u); +∞ for u < 0. */
  phi(u: number): number;
  /** φ*(t) = sup_{u ≥ 0} {t·u − φ(u)}; +∞ outside the domain. */
  conjugate(t: number): number;
  /** dom φ* = (−∞, domainSup) or (−∞, domainSup] when `domainClosed`. */
  readonly domainSup: number;
  readonly domainClosed: boolean;
  /** The output activation g: ℝ → dom φ*. */
  activation(v: number): number;
  /** q·φ(p/q) from log p and log q, stable when either density is tiny (for quadrature). */
  perspective(logp: number, logq: number): number;
  /** The critic output v° with g(v°) = φ'(p/q), given log(p/q): the bound's maximiser. */
  optimalCritic(logRatio: number): number;
  /** sup of D_φ over all pairs P, Q (+∞ when unbounded). */
  readonly max: number;
}

const LOG2 = Math.LN2;

/** log(1 + e^v), stable. */
function softplus(v: number): number {
  return v > 0 ? v + log1p(exp(-v)) : log1p(exp(v));
}

/** 1/(1 + e^{−v}), stable. */
function sigmoid(v: number): number {
  if (v >= 0) return 1 / (1 + exp(-v));
  const e = exp(v);
  return e / (1 + e);
}

function tanh(v: number): number {
  const e = exp(-2 * Math.abs(v));
  const t = (1 - e) / (1 + e);
  return v < 0 ? -t : t;
}

/** u log u with 0 log 0 = 0. */
function xlogx(u: number): number {
  return u === 0 ? 0 : u * log(u);
}

const kl: FDivergence = {
  kind: "kl",
  label: "KL(P‖Q)",
  phi: (u) => (u < 0 ? Infinity : xlogx(u)),
  conjugate: (t) => exp(t - 1),
  domainSup: Infinity,
  domainClosed: false,
  activation: (v) => v,
  perspective: (lp, lq) => exp(lp) * (lp - lq),
  optimalCritic: (lr) => 1 + lr,
  max: Infinity,
  a: (v) => v,
  da: () => 1,
  d2a: () => 0,
  b: (v) => exp(v - 1),
  db: (v) => exp(v - 1),
  d2b: (v) => exp(v - 1),
  concave: true,
  neutral: 1,
};

const rkl: FDivergence = {
  kind: "rkl",
  label: "KL(Q‖P)",
  phi: (u) => (u < 0 ? Infinity : u === 0 ? Infinity : -log(u)),
  conjugate: (t) => (t < 0 ? -1 - log(-t) : Infinity),
  domainSup: 0,
  domainClosed: false,
  activation: (v) => -exp(-v),
  perspective: (lp, lq) => exp(lq) * (lq - lp),
  optimalCritic: (lr) => lr,
  max: Infinity,
  // a = −e^{−v}; b = φ*(−e^{−v}) = v − 1.
  a: (v) => -exp(-v),
  da: (v) => exp(-v),
  d2a: (v) => -exp(-v),
  b: (v) => v - 1,
  db: () => 1,
  d2b: () => 0,
  concave: true,
  neutral: 0,
};

const js: FDivergence = {
  kind: "js",
  label: "JS(P, Q)",
  phi: (u) => (u < 0 ? Infinity : 0.5 * (xlogx(u) - (u + 1) * log((u + 1) / 2))),
  conjugate: (t) => (t < 0.5 * LOG2 ? -0.5 * log(2 - exp(2 * t)) : Infinity),
  domainSup: 0.5 * LOG2,
  domainClosed: false,
  activation: (v) => 0.5 * (LOG2 - softplus(-v)),
  perspective: (lp, lq) => {
    // ½[p log(2p/(p+q)) + q log(2q/(p+q))], with log(p+q) = max + log1p(e^{−|lp−lq|}).
    const lsum = Math.max(lp, lq) + log1p(exp(-Math.abs(lp - lq)));
    return 0.5 * (exp(lp) * (LOG2 + lp - lsum) + exp(lq) * (LOG2 + lq - lsum));
  },
  optimalCritic: (lr) => lr,
  max: LOG2,
  // a = ½(log 2 − softplus(−v)); b = φ*(a) = ½(softplus(v) − log 2).
  a: (v) => 0.5 * (LOG2 - softplus(-v)),
  da: (v) => 0.5 * sigmoid(-v),
  d2a: (v) => -0.5 * sigmoid(v) * sigmoid(-v),
  b: (v) => 0.5 * (softplus(v) - LOG2),
  db: (v) => 0.5 * sigmoid(v),
  d2b: (v) => 0.5 * sigmoid(v) * sigmoid(-v),
  concave: true,
  neutral: 0,
};

const chi2: FDivergence = {
  kind: "chi2",
  label: "χ²(P‖Q)",
  phi: (u) => (u < 0 ? Infinity : (u - 1) * (u - 1)),
  conjugate: (t) => (t >= -2 ? t + 0.25 * t * t : -1),
  domainSup: Infinity,
  domainClosed: false,
  activation: (v) => v,
  perspective: (lp, lq) => {
    const p = exp(lp);
    const q = exp(lq);
    return exp(2 * lp - lq) - 2 * p + q;
  },
  optimalCritic: (lr) => 2 * (exp(lr) - 1),
  max: Infinity,
  a: (v) => v,
  da: () => 1,
  d2a: () => 0,
  b: (v) => (v >= -2 ? v + 0.25 * v * v : -1),
  db: (v) => (v >= -2 ? 1 + 0.5 * v : 0),
  d2b: (v) => (v >= -2 ? 0.5 : 0),
  concave: true,
  neutral: 0,
};

const hellinger: FDivergence = {
  kind: "hellinger",
  label: "H²(P, Q)",
  phi: (u) => (u < 0 ? Infinity : (Math.sqrt(u) - 1) ** 2),
  conjugate: (t) => (t < 1 ? t / (1 - t) : Infinity),
  domainSup: 1,
  domainClosed: false,
  activation: (v) => 1 - exp(-v),
  perspective: (lp, lq) => (exp(0.5 * lp) - exp(0.5 * lq)) ** 2,
  optimalCritic: (lr) => 0.5 * lr,
  max: 2,
  // a = 1 − e^{−v}; b = φ*(a) = e^{v} − 1.
  a: (v) => 1 - exp(-v),
  da: (v) => exp(-v),
  d2a: (v) => -exp(-v),
  b: (v) => exp(v) - 1,
  db: (v) => exp(v),
  d2b: (v) => exp(v),
  concave: true,
  neutral: 0,
};

const tv: FDivergence = {
  kind: "tv",
  label: "TV(P, Q)",
  phi: (u) => (u < 0 ? Infinity : 0.5 * Math.abs(u - 1)),
  conjugate: (t) => (t <= 0.5 ? Math.max(t, -0.5) : Infinity),
  domainSup: 0.5,
  domainClosed: true,
  activation: (v) => 0.5 * tanh(v),
  perspective: (lp, lq) => 0.5 * Math.abs(exp(lp) - exp(lq)),
  // φ'(u) = ±½ is reached by ½ tanh only in the limit; 20 gives ½ to 2e-17.
  optimalCritic: (lr) => (lr > 0 ? 20 : lr < 0 ? -20 : 0),
  max: 1,
  a: (v) => 0.5 * tanh(v),
  da: (v) => {
    const t = tanh(v);
    return 0.5 * (1 - t * t);
  },
  d2a: (v) => {
    const t = tanh(v);
    return -t * (1 - t * t);
  },
  b: (v) => 0.5 * tanh(v),
  db: (v) => {
    const t = tanh(v);
    return 0.5 * (1 - t * t);
  },
  d2b: (v) => {
    const t = tanh(v);
    return -t * (1 - t * t);
  },
  concave: false,
  neutral: 0,
};

export const F_DIVERGENCES: Readonly<Record<FDivergenceKind, FDivergence>> = Object.freeze({
  kl,
  rkl,
  js,
  chi2,
  hellinger,
  tv,
});

/** The catalogue entry of `kind` (a RangeError for an unknown kind). */
export function fDivergence(kind: string): FDivergence {
  if (!isFDivergenceKind(kind))
    throw new RangeError(`unknown f-divergence '${kind}': use one of ${F_DIVERGENCE_KINDS.join(", ")}`);
  return F_DIVERGENCES[kind];
}

/**
 * KALE's integrands in the critic output v = −f, f the seed's energy:
 * KALE objective 1 − E_P f − E_Q e^{−f} = E_P (1 + v) − E_Q e^{v}. This is the KL bound with v_KL = v + 1
 * (the seed: "D_KL(P, Q) ≥ sup_f −E_P f + 1 − E_Q e^{−f}"); KALE differs by its function class and penalty.
 */
export const KALE_TERMS: BoundTerms = Object.freeze({
  a: (v: number) => 1 + v,
  da: () => 1,
  d2a: () => 0,
  b: (v: number) => exp(v),
  db: (v: number) => exp(v),
  d2b: (v: number) => exp(v),
  concave: true,
  neutral: 0,
});

/** The value of a bound at fixed critic outputs, with its CLT standard error. */
export interface BoundValue {
  /** mean_P a(v) − mean_Q b(v). */
  value: number;
  /** √(s²_a/n_P + s²_b/n_Q): the two samples are independent, the critic is held fixed. */
  stderr: number;
  meanA: number;
  meanB: number;
}

/**
 * E_P a(v(X)) − E_Q b(v(Y)) from critic outputs vP (n_P ≥ 2) and vQ (n_Q ≥ 2), with the CLT standard error
 * over the points (sample variances of a(v) on P and b(v) on Q). For a critic fitted on other points this
 * is an unbiased estimate of the population bound at that critic, itself ≤ D_φ(P, Q).
 */
export function boundFromCritic(terms: BoundTerms, vP: ArrayLike<number>, vQ: ArrayLike<number>): BoundValue {
  const nP = vP.length;
  const nQ = vQ.length;
  if (nP < 2 || nQ < 2)
    throw new RangeError(`a bound needs at least 2 points of each sample, got ${nP}, ${nQ}`);
  const moments = (v: ArrayLike<number>, f: (v: number) => number): [number, number] => {
    let mean = 0;
    for (let i = 0; i < v.length; i++) mean += (f(v[i]) - mean) / (i + 1);
    let ss = 0;
    for (let i = 0; i < v.length; i++) ss += (f(v[i]) - mean) ** 2;
    return [mean, ss / (v.length - 1)];
  };
  const [meanA, varA] = moments(vP, terms.a);
  const [meanB, varB] = moments(vQ, terms.b);
  return { value: meanA - meanB, stderr: Math.sqrt(varA / nP + varB / nQ), meanA, meanB };
}
