/**
 * Fitting a critic that is linear in its parameters, v(x) = wᵀz(x) + c, by maximising a penalised
 * variational bound
 *
 *   J(w, c) = (1/n_P) Σ_i a(v(x_i)) − (1/n_Q) Σ_j b(v(y_j)) − (λ/2)‖w‖²
 *
 * with a damped Newton method: direction A⁻¹∇J with A = −∇²J (A = Σ c_i z̃_i z̃_iᵀ + λI over the points,
 * z̃ = (z, 1)), then backtracking until the Armijo condition J(θ + t·d) ≥ J(θ) + 10⁻⁴·t·∇Jᵀd holds.
 * It stops when ‖∇J‖₂ ≤ tol, when the Newton decrement ∇JᵀA⁻¹∇J/2 (the predicted gain) falls below
 * float64 resolution, 1e-14·(1 + |J|), or below `gainTol` (these count as converged), after maxIter iterations, or when no step
 * size improves J.
 *
 * When a is concave and b convex (every f-divergence here but tv, and KALE) J is concave, and with λ > 0
 * the profile G(w) = max_c J(w, c) is λ-strongly concave in w (a partial maximum of a jointly concave
 * function stays concave; the penalty adds λ). At the returned point the constant c is first profiled
 * (one-dimensional Newton to machine precision), then G* − G(w) ≤ ‖∇_w J(w, c*(w))‖² / (2λ): the reported
 * `gapBound` certifies how far the objective is from its maximum. For tv (a = b = ½ tanh, not concave)
 * the negative curvatures are clipped to zero in A (a modified Newton method); it stops at a stationary
 * point and reports no certificate.
 *
 * Cost per iteration: O(n·p²) to build A (p = parameters), O(p³) to factor it.
 */
import { cholesky } from "../energies/gaussian.ts";
import { NumericalError } from "../math/errors.ts";
import type { BoundTerms } from "./f-divergences.ts";

export interface LinearCriticProblem {
  /** Features of the P points, n_P × m, row-major. */
  zP: Float64Array;
  nP: number;
  /** Features of the Q points, n_Q × m, row-major. */
  zQ: Float64Array;
  nQ: number;
  /** Number of features. */
  m: number;
  /** Add an unpenalised constant c to the critic. */
  bias: boolean;
  /** λ ≥ 0 in the penalty (λ/2)‖w‖². */
  lambda: number;
  terms: BoundTerms;
}

export interface NewtonOptions {
  /** Stop when ‖∇J‖₂ ≤ tol (default 1e-9). */
  tol?: number;
  /** Largest number of Newton iterations (default 200). */
  maxIter?: number;
  /**
   * Also stop (as converged) when the predicted gain ∇JᵀA⁻¹∇J/2 is at most this (default 0: only the
   * float64 floor 1e-14·(1 + |J|)); a loose value suits fits whose value matters to a few digits only.
   */
  gainTol?: number;
  /** Starting point (length m + bias); default w = 0, c = terms.neutral (where J = 0 when P = Q). */
  init?: Float64Array;
}

export interface NewtonReport {
  method: "newton";
  iterations: number;
  /** ‖∇J‖₂ ≤ tol, or the predicted gain fell below float64 resolution. */
  converged: boolean;
  /** Why it stopped. */
  stop: "gradient" | "precision" | "max-iter" | "no-ascent";
  /** ‖∇J‖₂ at the returned point (w and c). */
  gradNorm: number;
  /** A certified bound on max J − J at the returned point (module comment); null without one. */
  gapBound: number | null;
  /** The penalised objective J at the returned point. */
  objective: number;
  /** The penalty (λ/2)‖w‖² at the returned point. */
  penalty: number;
}

/** v = Z w + c for n points. */
export function linearCriticValues(
  theta: Float64Array,
  z: Float64Array,
  n: number,
  m: number,
  bias: boolean,
  out = new Float64Array(n),
): Float64Array {
  const c = bias ? theta[m] : 0;
  for (let i = 0; i < n; i++) {
    let s = c;
    const o = i * m;
    for (let k = 0; k < m; k++) s += z[o + k] * theta[k];
    out[i] = s;
  }
  return out;
}

/**
 * J(θ) (module comment). `vP`, `vQ` (lengths n_P, n_Q) receive the critic's values, which
 * `penalizedBoundGradient` then uses.
 */
export function penalizedBound(
  problem: LinearCriticProblem,
  theta: Float64Array,
  vP = new Float64Array(problem.nP),
  vQ = new Float64Array(problem.nQ),
): number {
  const { zP, nP, zQ, nQ, m, bias, lambda, terms } = problem;
  linearCriticValues(theta, zP, nP, m, bias, vP);
  linearCriticValues(theta, zQ, nQ, m, bias, vQ);
  let sa = 0;
  for (let i = 0; i < nP; i++) sa += terms.a(vP[i]);
  let sb = 0;
  for (let j = 0; j < nQ; j++) sb += terms.b(vQ[j]);
  let ww = 0;
  for (let k = 0; k < m; k++) ww += theta[k] * theta[k];
  return sa / nP - sb / nQ - 0.5 * lambda * ww;
}

/** ∇J(θ) into g, given the critic's values vP, vQ at θ (from `penalizedBound`). */
export function penalizedBoundGradient(
  problem: LinearCriticProblem,
  theta: Float64Array,
  vP: Float64Array,
  vQ: Float64Array,
  g: Float64Array,
): void {
  const { zP, nP, zQ, nQ, m, bias, lambda, terms } = problem;
  g.fill(0);
  const acc = (z: Float64Array, v: Float64Array, n: number, d: (v: number) => number, scale: number) => {
    for (let i = 0; i < n; i++) {
      const wgt = scale * d(v[i]);
      if (wgt === 0) continue;
      const o = i * m;
      for (let k = 0; k < m; k++) g[k] += wgt * z[o + k];
      if (bias) g[m] += wgt;
    }
  };
  acc(zP, vP, nP, terms.da, 1 / nP);
  acc(zQ, vQ, nQ, terms.db, -1 / nQ);
  for (let k = 0; k < m; k++) g[k] -= lambda * theta[k];
}

/** Maximises J (module comment); returns θ = (w, c) and how the solver stopped. */
export function fitLinearCritic(
  problem: LinearCriticProblem,
  opts: NewtonOptions = {},
): { theta: Float64Array; report: NewtonReport } {
  const { zP, nP, zQ, nQ, m, bias, lambda, terms } = problem;
  const tol = opts.tol ?? 1e-9;
  const maxIter = opts.maxIter ?? 200;
  const gainTol = opts.gainTol ?? 0;
  if (!(lambda >= 0 && Number.isFinite(lambda))) throw new RangeError(`lambda must be ≥ 0, got ${lambda}`);
  if (!(tol > 0)) throw new RangeError(`tol must be positive, got ${tol}`);
  if (nP < 1 || nQ < 1) throw new RangeError("fitting a critic needs points of both samples");
  const p = m + (bias ? 1 : 0);
  const theta = opts.init ? Float64Array.from(opts.init) : new Float64Array(p);
  if (theta.length !== p) throw new RangeError(`init has length ${theta.length}, expected ${p}`);
  if (!opts.init && bias) theta[m] = terms.neutral;

  const vP = new Float64Array(nP);
  const vQ = new Float64Array(nQ);
  const trial = new Float64Array(p);

  const objective = (th: Float64Array): number => penalizedBound(problem, th, vP, vQ);
  const gradient = (th: Float64Array, g: Float64Array): void =>
    penalizedBoundGradient(problem, th, vP, vQ, g);

  /**
   * A = −∇²J with negative curvature clipped (vP, vQ must hold the current values): Σ c_i z̃_i z̃_iᵀ + λI,
   * the upper triangle accumulated four points at a time (a quarter of the passes over A).
   */
  const rows = new Float64Array(4 * p);
  const cs = new Float64Array(4);
  const negHessian = (h: Float64Array): void => {
    h.fill(0);
    let filled = 0;
    const flush = () => {
      for (let r = filled; r < 4; r++) cs[r] = 0;
      const [c0, c1, c2, c3] = cs;
      for (let k = 0; k < p; k++) {
        const a0 = c0 * rows[k];
        const a1 = c1 * rows[p + k];
        const a2 = c2 * rows[2 * p + k];
        const a3 = c3 * rows[3 * p + k];
        const row = k * p;
        for (let l = k; l < p; l++)
          h[row + l] += a0 * rows[l] + a1 * rows[p + l] + a2 * rows[2 * p + l] + a3 * rows[3 * p + l];
      }
      filled = 0;
    };
    const acc = (z: Float64Array, v: Float64Array, n: number, weight: (v: number) => number) => {
      for (let i = 0; i < n; i++) {
        const c = weight(v[i]);
        if (!(c > 0)) continue;
        const o = filled * p;
        for (let k = 0; k < m; k++) rows[o + k] = z[i * m + k];
        if (bias) rows[o + m] = 1;
        cs[filled++] = c;
        if (filled === 4) flush();
      }
    };
    acc(zP, vP, nP, (v) => -terms.d2a(v) / nP);
    acc(zQ, vQ, nQ, (v) => terms.d2b(v) / nQ);
    if (filled > 0) {
      for (let r = filled; r < 4; r++) rows.fill(0, r * p, r * p + p);
      flush();
    }
    for (let k = 0; k < m; k++) h[k * p + k] += lambda;
    for (let k = 0; k < p; k++) for (let l = 0; l < k; l++) h[k * p + l] = h[l * p + k];
  };

  const g = new Float64Array(p);
  const h = new Float64Array(p * p);
  const dir = new Float64Array(p);
  let j = objective(theta);
  if (!Number.isFinite(j)) throw new NumericalError("the bound is not finite at the critic's starting point");
  gradient(theta, g);
  let gn = norm(g);
  let iterations = 0;
  let stop: NewtonReport["stop"] = "max-iter";
  for (;;) {
    if (gn <= tol) {
      stop = "gradient";
      break;
    }
    if (iterations >= maxIter) break;
    negHessian(h);
    solveRidged(h, g, p, dir);
    let slope = 0;
    for (let k = 0; k < p; k++) slope += g[k] * dir[k];
    if (0.5 * slope <= Math.max(gainTol, 1e-14 * (1 + Math.abs(j)))) {
      stop = "precision";
      break;
    }
    let t = 1;
    let accepted = false;
    for (let halvings = 0; halvings < 60; halvings++, t *= 0.5) {
      for (let k = 0; k < p; k++) trial[k] = theta[k] + t * dir[k];
      const jt = objective(trial);
      if (Number.isFinite(jt) && jt >= j + 1e-4 * t * slope) {
        theta.set(trial);
        j = jt;
        accepted = true;
        break;
      }
    }
    iterations++;
    if (!accepted) {
      objective(theta);
      stop = "no-ascent";
      break;
    }
    gradient(theta, g);
    gn = norm(g);
  }

  // Certificate: profile the constant, then ‖∇_w J‖²/(2λ).
  let gapBound: number | null = null;
  if (terms.concave && lambda > 0) {
    if (bias) {
      j = profileConstant(theta, m, objective, vP, vQ, nP, nQ, terms, j);
      gradient(theta, g);
    }
    let gw = 0;
    for (let k = 0; k < m; k++) gw += g[k] * g[k];
    gapBound = gw / (2 * lambda);
    gn = norm(g);
  }
  objective(theta);
  let ww = 0;
  for (let k = 0; k < m; k++) ww += theta[k] * theta[k];
  return {
    theta,
    report: {
      method: "newton",
      iterations,
      converged: stop === "gradient" || stop === "precision" || gn <= tol,
      stop,
      gradNorm: gn,
      gapBound,
      objective: j,
      penalty: 0.5 * lambda * ww,
    },
  };
}

function norm(g: Float64Array): number {
  let s = 0;
  for (let k = 0; k < g.length; k++) s += g[k] * g[k];
  return Math.sqrt(s);
}

/** Solves A·x = g (A symmetric positive semidefinite), adding a growing ridge until Cholesky succeeds. */
function solveRidged(a: Float64Array, g: Float64Array, p: number, x: Float64Array): void {
  let maxDiag = 0;
  for (let k = 0; k < p; k++) maxDiag = Math.max(maxDiag, a[k * p + k]);
  let ridge = 0;
  for (let attempt = 0; attempt < 40; attempt++) {
    const m = ridge === 0 ? a : a.map((v, i) => (i % (p + 1) === 0 ? v + ridge : v));
    let l: Float64Array;
    try {
      l = cholesky(m, p);
    } catch {
      ridge = ridge === 0 ? 1e-12 * (1 + maxDiag) : ridge * 10;
      continue;
    }
    const y = new Float64Array(p);
    for (let i = 0; i < p; i++) {
      let s = g[i];
      for (let k = 0; k < i; k++) s -= l[i * p + k] * y[k];
      y[i] = s / l[i * p + i];
    }
    for (let i = p - 1; i >= 0; i--) {
      let s = y[i];
      for (let k = i + 1; k < p; k++) s -= l[k * p + i] * x[k];
      x[i] = s / l[i * p + i];
    }
    return;
  }
  throw new NumericalError("the critic's Newton system could not be factored (non-finite curvature)");
}

/**
 * max_c J(w, c) by one-dimensional Newton steps from the current c (J is concave in c); theta[m] is updated
 * in place and the objective returned (vP, vQ hold the final values).
 */
function profileConstant(
  theta: Float64Array,
  m: number,
  objective: (th: Float64Array) => number,
  vP: Float64Array,
  vQ: Float64Array,
  nP: number,
  nQ: number,
  terms: BoundTerms,
  j0: number,
): number {
  let j = objective(theta);
  if (!Number.isFinite(j)) j = j0;
  for (let it = 0; it < 50; it++) {
    let g = 0;
    let hh = 0;
    for (let i = 0; i < nP; i++) {
      g += terms.da(vP[i]) / nP;
      hh += terms.d2a(vP[i]) / nP;
    }
    for (let i = 0; i < nQ; i++) {
      g -= terms.db(vQ[i]) / nQ;
      hh -= terms.d2b(vQ[i]) / nQ;
    }
    if (g === 0 || !(hh < 0)) break;
    const c0 = theta[m];
    let step = -g / hh;
    let improved = false;
    for (let halvings = 0; halvings < 30; halvings++, step *= 0.5) {
      theta[m] = c0 + step;
      const jt = objective(theta);
      if (Number.isFinite(jt) && jt >= j) {
        j = jt;
        improved = true;
        break;
      }
    }
    if (!improved || theta[m] === c0) {
      theta[m] = c0;
      j = objective(theta);
      break;
    }
  }
  return j;
}
