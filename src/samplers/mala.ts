/**
 * MALA = Langevin proposal + MH correction, for ρ ∝ e^{−βU}.
 *
 * Proposal (A = diag(inverseMass), the preconditioner; identity if not given):
 *   y = x − hβ A∇U(x) + √(2h) A^{1/2} ξ,   ξ ~ N(0, I),   i.e.  q(y | x) = N(y; x − hβA∇U(x), 2hA).
 * The proposal is not symmetric, so the MH ratio carries the Hastings term:
 *   log r = −β(U(y) − U(x)) + log q(x | y) − log q(y | x).
 * The correction removes ULA's O(h) bias: the chain is exact for every h, h only sets the acceptance rate
 * (≈ 0.57 is optimal in high dimension). U and ∇U are cached in the state, so a step costs one energy and
 * gradient evaluation (at the proposal).
 */
import type { Energy } from "../energies/contract.ts";
import type { Key } from "../random/key.ts";
import { Stream, ZIGGURAT_TABLES } from "../random/key.ts";
import { defineKernel } from "../kernels/registry.ts";
import { checkParams, metropolisSelect, ProposalBuffers } from "./rwm.ts";
import type { ChainState, KernelParams, MhInfo, Sampler, TemperedOptions } from "./types.ts";
import { initChainState } from "./ula.ts";

export type MalaOptions = KernelParams & TemperedOptions;

/**
 * An accelerated MALA step for energies evaluated by the caller (the native addon provides one; the
 * TypeScript step below is the reference and runs when no backend does). Both draw the same normals from
 * the Stream whose state words are passed, so results are identical.
 */
export interface MalaStepKernels {
  /** y = x − drift∘∇U + noise∘ξ with ξ the Stream's ziggurat normals (tables passed in). */
  malaPropose(
    x: Float64Array,
    g: Float64Array,
    drift: Float64Array,
    noise: Float64Array,
    state: Int32Array,
    zigX: Float64Array,
    zigF: Float64Array,
    zigR: number,
    y: Float64Array,
  ): void;
  /** MALA log ratio, accept/reject and row copy, in place on (x, gx, ux); params = [β, 1/(4h)]. */
  malaSelect(
    x: Float64Array,
    gx: Float64Array,
    ux: Float64Array,
    y: Float64Array,
    gy: Float64Array,
    uy: Float64Array,
    drift: Float64Array,
    invMass: Float64Array,
    params: Float64Array,
    state: Int32Array,
    acceptProb: Float64Array,
    accepted: Uint8Array,
    divergent: Uint8Array,
  ): void;
}

/** No TypeScript implementation: without a backend's, `mala` runs its own loop. */
export const MALA_STEP = defineKernel<MalaStepKernels>("mala.step");

/**
 * log r of the move x → y for the chain whose rows start at `offX` in (x, gx) and `offY` in (y, gy):
 * x, y positions, gx, gy their ∇U, ux, uy their U. Normalizing constants of q cancel (same covariance
 * 2hA both ways), so only the exponents appear: log q(b | a) = −Σ_j (b_j − a_j + hβA_j ∇U(a)_j)² / (4hA_j).
 */
export function malaLogRatio(
  x: Float64Array,
  gx: Float64Array,
  ux: number,
  offX: number,
  y: Float64Array,
  gy: Float64Array,
  uy: number,
  offY: number,
  dim: number,
  h: number,
  beta: number,
  inverseMass?: Float64Array,
): number {
  let forward = 0; // Σ (y − x + hβA∇U(x))² / A
  let backward = 0; // Σ (x − y + hβA∇U(y))² / A
  for (let j = 0; j < dim; j++) {
    const a = inverseMass ? inverseMass[j] : 1;
    const d = y[offY + j] - x[offX + j];
    const f = d + h * beta * a * gx[offX + j];
    const b = -d + h * beta * a * gy[offY + j];
    forward += (f * f) / a;
    backward += (b * b) / a;
  }
  return -beta * (uy - ux) + (forward - backward) / (4 * h);
}

/**
 * `malaLogRatio` for a whole batch in one fused loop (the sampler's hot path): drift_j = hβA_j and
 * invMass_j = 1/A_j precomputed, quarterInvH = 1/(4h). Same value as the per-chain function up to rounding.
 */
export function malaLogRatios(
  x: Float64Array,
  gx: Float64Array,
  ux: Float64Array,
  y: Float64Array,
  gy: Float64Array,
  uy: Float64Array,
  n: number,
  dim: number,
  beta: number,
  drift: Float64Array,
  invMass: Float64Array,
  quarterInvH: number,
  out: Float64Array,
): Float64Array {
  for (let i = 0; i < n; i++) {
    let diff = 0; // Σ [(y − x + drift∇U(x))² − (x − y + drift∇U(y))²] / A
    for (let j = 0, k = i * dim; j < dim; j++, k++) {
      const d = y[k] - x[k];
      const f = d + drift[j] * gx[k];
      const b = drift[j] * gy[k] - d;
      diff += (f * f - b * b) * invMass[j];
    }
    out[i] = -beta * (uy[i] - ux[i]) + diff * quarterInvH;
  }
  return out;
}

export function mala(energy: Energy, opts: MalaOptions): Sampler<ChainState, MhInfo> {
  const dim = energy.dim;
  const { step: h, beta, inverseMass } = checkParams(opts, dim, "MALA");
  // Per coordinate: drift factor hβA_j and noise scale √(2hA_j).
  const drift = new Float64Array(dim);
  const noise = new Float64Array(dim);
  const invMass = new Float64Array(dim);
  for (let j = 0; j < dim; j++) {
    const a = inverseMass ? inverseMass[j] : 1;
    drift[j] = h * beta * a;
    noise[j] = Math.sqrt(2 * h * a);
    invMass[j] = 1 / a;
  }
  const params = Float64Array.of(beta, 1 / (4 * h)); // for the native select
  const buf = new ProposalBuffers();
  return {
    init: (position, n) => initChainState(energy, position, n),
    step(key: Key, state: ChainState) {
      const { n } = state;
      const rng = new Stream(key);
      buf.ensure(n, dim);
      const x = state.position;
      const g = state.grad;
      const y = buf.position;
      const native = MALA_STEP.get();
      if (native) {
        // Same step in the addon: proposal with its normals, then (after the energy) the MH select.
        const words = rng.stateWords();
        const zig = ZIGGURAT_TABLES;
        native.malaPropose(x, g, drift, noise, words, zig.x, zig.f, zig.r, y);
        energy.energyAndGrad(y, n, buf.u, buf.grad);
        const acceptProb = new Float64Array(n);
        const accepted = new Uint8Array(n);
        const divergent = new Uint8Array(n);
        native.malaSelect(
          x,
          g,
          state.u,
          y,
          buf.grad,
          buf.u,
          drift,
          invMass,
          params,
          words,
          acceptProb,
          accepted,
          divergent,
        );
        return { state, info: { divergent, acceptProb, accepted } };
      }
      rng.fillNormal(y.subarray(0, n * dim)); // ξ first (bulk draws are faster), then y = x − drift∇U + noise·ξ
      for (let i = 0; i < n; i++)
        for (let j = 0; j < dim; j++) {
          const k = i * dim + j;
          y[k] = x[k] - drift[j] * g[k] + noise[j] * y[k];
        }
      energy.energyAndGrad(y, n, buf.u, buf.grad);
      const divergent = new Uint8Array(n);
      malaLogRatios(
        x,
        g,
        state.u,
        y,
        buf.grad,
        buf.u,
        n,
        dim,
        beta,
        drift,
        invMass,
        1 / (4 * h),
        buf.logRatio,
      );
      // A NaN or infinite U(y) or ∇U(y) makes log r NaN or ±∞, so its finiteness is the divergence test
      // (it also catches a finite gradient so large that the Langevin terms overflow).
      for (let i = 0; i < n; i++) divergent[i] = Number.isFinite(buf.logRatio[i]) ? 0 : 1;
      return { state, info: metropolisSelect(state, buf, divergent, rng) };
    },
    refresh(state) {
      energy.energyAndGrad(state.position, state.n, state.u, state.grad);
      return state;
    },
  };
}
