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
 * With a diagonal A, each chain draws its normals and its accept uniform from its own stream
 * (mala-chains.ts): the proposal and the select split over threads and vector lanes in the backend's
 * kernel (`MALA_CHAINS_STEP`, native when the addon is loaded) with the same bits as the TypeScript
 * reference. When the energy has a fused Langevin move and A = a·I (langevin.ts), the proposal and its
 * evaluation are one call, fed the same per-chain normals (`CHAIN_NORMALS`), so both paths give the same
 * chains up to rounding. A dense A runs here, with its draws from the step's Stream.
 */
import type { Energy } from "../energies/contract.ts";
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";
import { LangevinProposal } from "./langevin.ts";
import { CHAIN_NORMALS } from "../random/chains.ts";
import {
  type ChainProposal,
  MALA_CHAINS_STEP,
  type MalaChainsCoefficients,
  MalaChainsBuffers,
  malaChainsStep,
} from "./mala-chains.ts";
import { malaLogRatiosDense } from "./mala-ratios.ts";
import { MhInfoBuffers, metropolisSelect, ProposalBuffers } from "./mh.ts";
import { checkBeta } from "./params.ts";
import { initChainState, refreshChainState } from "./state.ts";
import type { ChainState, KernelParams, MhInfo, Sampler, TemperedOptions } from "./types.ts";

export type MalaOptions = TemperedOptions;

export { malaLogRatio, malaLogRatios, malaLogRatiosDense } from "./mala-ratios.ts";

export function mala(energy: Energy, opts: MalaOptions = {}): Sampler<ChainState, MhInfo, KernelParams> {
  const dim = energy.dim;
  const beta = checkBeta(opts.beta);
  const move = new LangevinProposal(energy, beta, "MALA");
  // The per-chain step reads the move's coefficient arrays (updated in place by move.update).
  const coef: MalaChainsCoefficients = {
    drift: move.drift,
    noise: move.noise,
    invMass: move.invMass,
    params: Float64Array.of(beta, Number.NaN), // [β, 1/(4h)]
  };
  const chainBuf = new MalaChainsBuffers();
  // The energy's fused move with the chains' own normals: the same draws as the unfused path.
  const fused: ChainProposal = (states, x, g, n, y, uy, gy) => {
    const xi = move.noiseFor(n);
    CHAIN_NORMALS.require()(states, xi, dim);
    move.proposeFrom(xi, x, g, n, y, uy, gy);
  };
  const buf = new ProposalBuffers();
  const info = new MhInfoBuffers();
  return {
    init: (position, n) => initChainState(energy, position, n),
    step(key: Key, state: ChainState, params: KernelParams) {
      move.update(params);
      const quarterInvH = 1 / (4 * move.h);
      const dense = move.metric.dense;
      if (!dense) {
        coef.params[1] = quarterInvH;
        const kernels = MALA_CHAINS_STEP.require();
        return malaChainsStep(
          energy,
          key,
          state,
          coef,
          chainBuf,
          info,
          kernels,
          move.isFused ? fused : undefined,
        );
      }
      const { n } = state;
      const rng = new Stream(key);
      buf.ensure(n, dim);
      info.reset(n);
      const x = state.position;
      const g = state.grad;
      const y = buf.position;
      move.propose(rng, x, g, n, y, buf.u, buf.grad);
      malaLogRatiosDense(x, g, state.u, y, buf.grad, buf.u, n, dim, beta, move.h, move.metric, buf.logRatio);
      // A NaN or infinite U(y) or ∇U(y) makes log r NaN or ±∞, so its finiteness is the divergence test
      // (it also catches a finite gradient so large that the Langevin terms overflow).
      for (let i = 0; i < n; i++) info.divergent[i] = Number.isFinite(buf.logRatio[i]) ? 0 : 1;
      return metropolisSelect(state, buf, info, rng);
    },
    refresh: (state) => refreshChainState(energy, state),
  };
}
