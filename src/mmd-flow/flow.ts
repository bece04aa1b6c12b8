/**
 * The MMD gradient flow of Arbel, Korba, Salim & Gretton (NeurIPS 2019) on equal-weight particles, with
 * their noise injection (Algorithm 1, eq. 21):
 *
 *   u_i ← u_i − γ·∇f_{μₙ,ν}(u_i + βₙ·ε_i),   ε_i ~ N(0, I),
 *
 * where μₙ = (1/N) Σ δ_{u_i} is the current particle measure, ν the target and f_{μ,ν} = ∫k(·,z)dμ(z) −
 * ∫k(·,z)dν(z) the witness function: −∇f_{μ,ν} is the Wasserstein gradient of ½·MMD²(μ, ν). The witness is
 * always that of the noiseless particles; only the point where its gradient is read is perturbed. βₙ = 0
 * is the plain forward-Euler flow. A noise level that decreases to 0 lets the particles leave the
 * stationary points of the noiseless flow early on and still converge (the paper gives a bound on βₙ
 * under which MMD² keeps decreasing).
 *
 * Written as a kernel (`init`, `step(key, state, …)`): the witness (which carries the kernel and the
 * target), the step size and the noise level are arguments of `step`, so a schedule or a minibatch is the
 * caller's; randomness comes only from the key.
 */
import { type Key, Stream } from "../random/key.ts";
import type { Units } from "./units.ts";

/** The witness of one particle measure μ against the target: its MMD² and ∇f_{μ,ν} at any points. */
export interface MmdWitness {
  /** MMD²(μ, ν) (as estimated where the witness is; for the unit kernel, on its input batch). */
  readonly mmd2: number;
  /** ∇_z f_{μ,ν}(z) at every row z of `points` into `out` (points.n × points.dim). */
  gradientAt(points: Units, out: Float64Array): void;
}

/** Builds the witness of μ = (1/N) Σ δ_{particles_i} against the (fixed, closed-over) target. */
export type MmdWitnessFn = (particles: Units) => MmdWitness;

export interface MmdFlowState {
  /** The particles (owned by the state: `step` never writes into a caller's buffer). */
  readonly particles: Units;
  readonly iteration: number;
}

export interface MmdFlowInfo {
  /** MMD²(μₙ, ν) before the step. */
  mmd2: number;
  /** The noise level βₙ used. */
  noise: number;
  /** Root mean square over particles of the displacement's norm, γ·|∇f|. */
  rmsMove: number;
}

/** The flow's state at `particles` (copied). */
export function mmdFlowInit(particles: Units): MmdFlowState {
  if (particles.u.length < particles.n * particles.dim)
    throw new RangeError("mmdFlowInit: particle buffer shorter than n × dim");
  return {
    particles: { u: particles.u.slice(0, particles.n * particles.dim), n: particles.n, dim: particles.dim },
    iteration: 0,
  };
}

/**
 * One step of the (noisy) MMD flow: γ = `stepSize`, βₙ = `noise` (0: no injection, and no normals drawn).
 * Returns a new state; the old one is left as it was.
 */
export function mmdFlowStep(
  key: Key,
  state: MmdFlowState,
  witnessOf: MmdWitnessFn,
  stepSize: number,
  noise: number,
): { state: MmdFlowState; info: MmdFlowInfo } {
  if (!(stepSize > 0)) throw new RangeError(`mmdFlowStep: step size must be positive, got ${stepSize}`);
  if (!(noise >= 0)) throw new RangeError(`mmdFlowStep: noise level must be ≥ 0, got ${noise}`);
  const { particles } = state;
  const { n, dim } = particles;
  const w = witnessOf(particles);
  let points = particles;
  if (noise > 0) {
    const eps = new Stream(key).fillNormal(new Float64Array(n * dim));
    const u = particles.u;
    for (let i = 0; i < eps.length; i++) eps[i] = u[i] + noise * eps[i];
    points = { u: eps, n, dim };
  }
  const grad = new Float64Array(n * dim);
  w.gradientAt(points, grad);
  const next = particles.u.slice();
  let sq = 0;
  for (let i = 0; i < next.length; i++) {
    const m = stepSize * grad[i];
    next[i] -= m;
    sq += m * m;
  }
  return {
    state: { particles: { u: next, n, dim }, iteration: state.iteration + 1 },
    info: { mmd2: w.mmd2, noise, rmsMove: Math.sqrt(sq / n) },
  };
}

/** βₙ = β₀·2^(−n/halfLife): the noise level at iteration n (halfLife = ∞ keeps it constant). */
export function mmdFlowNoiseLevel(beta0: number, halfLife: number, iteration: number): number {
  return beta0 * 2 ** (-iteration / halfLife);
}
