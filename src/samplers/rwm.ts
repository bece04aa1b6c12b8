/**
 * Random-walk Metropolis for ρ ∝ e^{−βU}: propose y = x + step·√(M⁻¹) ⊙ ξ (ξ ~ N(0, I), M⁻¹ the optional
 * diagonal `inverseMass`; y = x + step·Lξ with M⁻¹ = LLᵀ when it is dense) and accept with probability min(1, e^{−β(U(y) − U(x))}). The proposal is
 * symmetric, so there is no Hastings term and the kernel is exact for every step size; the step only sets
 * the acceptance rate (≈ 0.23 is optimal in high dimension). Proposals are evaluated with their gradient so
 * the state's cached ∇U stays valid: a state can be handed from one kernel of this folder to another.
 */
import type { Energy } from "../energies/contract.ts";
import type { Key } from "../random/key.ts";
import { Stream } from "../random/key.ts";
import { Metric } from "./metric.ts";
import { MhInfoBuffers, metropolisSelect, ProposalBuffers } from "./mh.ts";
import { checkBeta, ParamsKey } from "./params.ts";
import { initChainState, refreshChainState, rowFinite } from "./state.ts";
import type { ChainState, KernelParams, MhInfo, Sampler, TemperedOptions } from "./types.ts";

export type RwmOptions = TemperedOptions;

export function rwm(energy: Energy, opts: RwmOptions = {}): Sampler<ChainState, MhInfo, KernelParams> {
  const dim = energy.dim;
  const beta = checkBeta(opts.beta);
  const key = new ParamsKey(dim, "RWM");
  // Per-coordinate proposal scale step·√(M⁻¹_j), for the current parameters.
  const scale = new Float64Array(dim);
  const metric = new Metric(dim);
  const buf = new ProposalBuffers();
  const info = new MhInfoBuffers();
  return {
    init: (position, n) => initChainState(energy, position, n),
    step(k: Key, state: ChainState, params: KernelParams) {
      if (key.changed(params)) {
        const m = metric.set(params.inverseMass).inverseMass;
        if (!metric.dense) for (let j = 0; j < dim; j++) scale[j] = params.step * Math.sqrt(m ? m[j] : 1);
      }
      const { n } = state;
      const rng = new Stream(k);
      buf.ensure(n, dim);
      info.reset(n);
      const x = state.position;
      const y = buf.position;
      rng.fillNormal(y.subarray(0, n * dim));
      if (metric.dense) {
        metric.scaleNoise(y, n);
        for (let k = 0; k < n * dim; k++) y[k] = x[k] + params.step * y[k];
      } else
        for (let i = 0; i < n; i++)
          for (let j = 0; j < dim; j++) y[i * dim + j] = x[i * dim + j] + scale[j] * y[i * dim + j];
      energy.energyAndGrad(y, n, buf.u, buf.grad);
      for (let i = 0; i < n; i++) {
        info.divergent[i] = rowFinite(buf.u, buf.grad, i, dim) ? 0 : 1;
        buf.logRatio[i] = -beta * (buf.u[i] - state.u[i]);
      }
      return metropolisSelect(state, buf, info, rng);
    },
    refresh: (state) => refreshChainState(energy, state),
  };
}
