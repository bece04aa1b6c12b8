/**
 * MALA = Langevin proposal + MH correction, for ρ ∝ e^{−βU}.
 *
 * Proposal (A = M⁻¹ given by `inverseMass`, the preconditioner: diagonal, dense or the identity):
 *   y = x − hβ A∇U(x) + √(2h) A^{1/2} ξ,   ξ ~ N(0, I),   i.e.  q(y | x) = N(y; x − hβA∇U(x), 2hA).
 * The proposal is not symmetric, so the MH ratio carries the Hastings term:
 *   log r = −β(U(y) − U(x)) + log q(x | y) − log q(y | x).
 * The correction removes ULA's O(h) bias: the chain is exact for every h, h only sets the acceptance rate
 * (≈ 0.57 is optimal in high dimension). U and ∇U are cached in the state, so a step costs one energy and
 * gradient evaluation (at the proposal).
 *
 * The proposal and its evaluation run as one call when the energy has a fused Langevin move and A = a·I
 * (langevin.ts); otherwise through the backend's MALA step (`MALA_STEP`) when one is registered, or here.
 * The MH select runs in the backend's step when there is one, else in TypeScript (`metropolisSelect`).
 * A dense A always runs here (the backend's step and the fused move are per-coordinate).
 * Every path draws the same normals and uniforms from the step's stream.
 */
import type { Energy } from "../energies/contract.ts";
import type { Key } from "../random/key.ts";
import { Stream, ZIGGURAT_TABLES } from "../random/key.ts";
import { defineKernel } from "../kernels/registry.ts";
import { applyInverseMass } from "./integrators.ts";
import { LangevinProposal } from "./langevin.ts";
import type { Metric } from "./metric.ts";
import { MhInfoBuffers, metropolisSelect, ProposalBuffers } from "./mh.ts";
import { checkBeta } from "./params.ts";
import { initChainState, refreshChainState } from "./state.ts";
import type { ChainState, KernelParams, MhInfo, Sampler, TemperedOptions } from "./types.ts";

export type MalaOptions = TemperedOptions;

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

/**
 * `malaLogRatios` for a dense preconditioner A = LLᵀ: the quadratic forms are vᵀA⁻¹v = |L⁻¹v|² with
 * v = y − x + hβA∇U(x) (forward) and x − y + hβA∇U(y) (backward).
 */
export function malaLogRatiosDense(
  x: Float64Array,
  gx: Float64Array,
  ux: Float64Array,
  y: Float64Array,
  gy: Float64Array,
  uy: Float64Array,
  n: number,
  dim: number,
  beta: number,
  h: number,
  metric: Metric,
  out: Float64Array,
): Float64Array {
  const f = new Float64Array(dim);
  const b = new Float64Array(dim);
  const a = new Float64Array(dim);
  const c = h * beta;
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    applyInverseMass(metric.inverseMass, dim, gx, o, a, 0);
    for (let j = 0; j < dim; j++) f[j] = y[o + j] - x[o + j] + c * a[j];
    applyInverseMass(metric.inverseMass, dim, gy, o, a, 0);
    for (let j = 0; j < dim; j++) b[j] = x[o + j] - y[o + j] + c * a[j];
    const diff = metric.massQuadratic(f, 0) - metric.massQuadratic(b, 0);
    out[i] = -beta * (uy[i] - ux[i]) + diff / (4 * h);
  }
  return out;
}

export function mala(energy: Energy, opts: MalaOptions = {}): Sampler<ChainState, MhInfo, KernelParams> {
  const dim = energy.dim;
  const beta = checkBeta(opts.beta);
  const move = new LangevinProposal(energy, beta, "MALA");
  const selectParams = Float64Array.of(beta, Number.NaN); // [β, 1/(4h)] for the backend's select
  const buf = new ProposalBuffers();
  const info = new MhInfoBuffers();
  return {
    init: (position, n) => initChainState(energy, position, n),
    step(key: Key, state: ChainState, params: KernelParams) {
      move.update(params);
      const { n } = state;
      const rng = new Stream(key);
      buf.ensure(n, dim);
      info.reset(n);
      const x = state.position;
      const g = state.grad;
      const y = buf.position;
      const { drift, noise, invMass } = move;
      const quarterInvH = 1 / (4 * move.h);
      const dense = move.metric.dense;
      const native = dense ? undefined : MALA_STEP.get();
      if (native && !move.isFused) {
        // The backend's proposal with the stream's own normals, then U, ∇U at the proposals.
        const zig = ZIGGURAT_TABLES;
        native.malaPropose(x, g, drift, noise, rng.stateWords(), zig.x, zig.f, zig.r, y);
        energy.energyAndGrad(y, n, buf.u, buf.grad);
      } else {
        move.propose(rng, x, g, n, y, buf.u, buf.grad);
      }
      if (native) {
        // The stream's state words are shared: the select continues the stream where the proposal stopped.
        selectParams[1] = quarterInvH;
        native.malaSelect(
          x,
          g,
          state.u,
          y,
          buf.grad,
          buf.u,
          drift,
          invMass,
          selectParams,
          rng.stateWords(),
          info.acceptProb,
          info.accepted,
          info.divergent,
        );
        return info;
      }
      if (dense)
        malaLogRatiosDense(
          x,
          g,
          state.u,
          y,
          buf.grad,
          buf.u,
          n,
          dim,
          beta,
          move.h,
          move.metric,
          buf.logRatio,
        );
      else
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
          quarterInvH,
          buf.logRatio,
        );
      // A NaN or infinite U(y) or ∇U(y) makes log r NaN or ±∞, so its finiteness is the divergence test
      // (it also catches a finite gradient so large that the Langevin terms overflow).
      for (let i = 0; i < n; i++) info.divergent[i] = Number.isFinite(buf.logRatio[i]) ? 0 : 1;
      return metropolisSelect(state, buf, info, rng);
    },
    refresh: (state) => refreshChainState(energy, state),
  };
}
