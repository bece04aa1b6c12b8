/**
 * Block Gibbs for a bipartite energy E(v, h) (an RBM): one step draws the whole hidden layer given the
 * visibles, then the whole visible layer given the new hiddens,
 *   h' ~ p_β(h | v) = Π_j Bern(σ(β·hiddenField(v)_j)),   v' ~ p_β(v | h') = Π_i Bern(σ(β·visibleField(h')_i)),
 * which leaves the joint ρ_β(v, h) ∝ e^{−βE(v,h)} invariant (not reversible on (v, h); the visible chain
 * v → v' alone is reversible w.r.t. the visible marginal). The move from (v, h) does not read h.
 *
 * The state keeps the hidden units (`h`), the hidden field of the current visibles (computed at the end
 * of each step and reused by the next, so a step costs two matrix products), U = F(v) (the free energy
 * at β = 1, the RBM's energy as a DiscreteEnergy) and the joint energy E(v, h). Both are obtained from
 * the fields without another product, using that a bipartite binary energy is
 *   E(v, h) = E(0, 0) − vᵀ·visibleField(0) − hᵀ·hiddenField(v),   F(v) = E(v, 0) − Σ_j softplus(hiddenField(v)_j).
 * Info: `divergent` flags chains whose fields were NaN.
 */
import { type BipartiteEnergy, sigmoid, softplus, stateIndex } from "../../energies/discrete.ts";
import type { Key } from "../../random/key.ts";
import { Stream } from "../../random/key.ts";
import type { StepInfo } from "../types.ts";
import {
  checkBeta,
  checkEnumerable,
  copyStates,
  type DiscreteChainState,
  type DiscreteOptions,
  type DiscreteSampler,
  type ExactTransitions,
  Scratch,
} from "./types.ts";

export interface BlockGibbsState extends DiscreteChainState {
  /** Number of hidden units. */
  readonly hidden: number;
  /** n × hidden bits. */
  readonly h: Uint8Array;
  /** n × hidden: hiddenField(v) at the current visibles (p(h_j = 1 | v) = σ(β·field)). */
  readonly hiddenField: Float64Array;
  /** E(v, h) per chain (not scaled by β). */
  readonly uJoint: Float64Array;
}

export interface BlockGibbsSampler extends DiscreteSampler<BlockGibbsState, StepInfo>, ExactTransitions {
  /** Chains at visibles `v` (n × visible) and hiddens `h` (n × hidden, default 0; the next step ignores them). */
  init(v: Uint8Array, n: number, h?: Uint8Array): BlockGibbsState;
}

export function blockGibbs(energy: BipartiteEnergy, opts: DiscreteOptions = {}): BlockGibbsSampler {
  const beta = checkBeta(opts.beta);
  const vdim = energy.visible;
  const hdim = energy.hidden;
  const scratch = new Scratch();
  // E(0, 0) and visibleField(h = 0): properties of the energy, recomputed by init and refresh.
  let e00 = 0;
  let field0 = new Float64Array(vdim);
  const readConstants = () => {
    field0 = new Float64Array(vdim);
    energy.visibleField(new Uint8Array(hdim), 1, field0);
    const e = new Float64Array(1);
    energy.jointEnergy(new Uint8Array(vdim), new Uint8Array(hdim), 1, e);
    e00 = e[0];
  };

  /** u = F(v), uJoint = E(v, h) of every chain from the cached hidden field; flags NaN fields. */
  const energies = (state: BlockGibbsState, divergent?: Uint8Array) => {
    for (let i = 0; i < state.n; i++) {
      let ev0 = e00;
      for (let a = 0; a < vdim; a++) if (state.x[i * vdim + a] === 1) ev0 -= field0[a];
      let f = ev0;
      let e = ev0;
      for (let j = 0; j < hdim; j++) {
        const hf = state.hiddenField[i * hdim + j];
        f -= softplus(hf);
        if (state.h[i * hdim + j] === 1) e -= hf;
      }
      state.u[i] = f;
      state.uJoint[i] = e;
      if (divergent && Number.isNaN(f)) divergent[i] = 1;
    }
  };

  const refresh = (state: BlockGibbsState) => {
    readConstants();
    energy.hiddenField(state.x, state.n, state.hiddenField);
    energies(state);
    return state;
  };

  return {
    stateSites: vdim + hdim,
    init(v: Uint8Array, n: number, h?: Uint8Array) {
      const state: BlockGibbsState = {
        n,
        sites: vdim,
        hidden: hdim,
        x: copyStates(v, n, vdim),
        h: h ? copyStates(h, n, hdim) : new Uint8Array(n * hdim),
        hiddenField: new Float64Array(n * hdim),
        u: new Float64Array(n),
        uJoint: new Float64Array(n),
      };
      return refresh(state);
    },
    step(key: Key, state: BlockGibbsState) {
      const rng = new Stream(key);
      const n = state.n;
      const divergent = new Uint8Array(n);
      for (let p = 0; p < n * hdim; p++)
        state.h[p] = rng.uniform() < sigmoid(beta * state.hiddenField[p]) ? 1 : 0;
      const vf = scratch.float64("vf", n * vdim);
      energy.visibleField(state.h, n, vf);
      for (let p = 0; p < n * vdim; p++) {
        if (Number.isNaN(vf[p])) divergent[Math.floor(p / vdim)] = 1;
        state.x[p] = rng.uniform() < sigmoid(beta * vf[p]) ? 1 : 0;
      }
      energy.hiddenField(state.x, n, state.hiddenField);
      energies(state, divergent);
      return { state, info: { divergent } };
    },
    refresh,
    transitionRow(x: Uint8Array, out: Float64Array) {
      checkEnumerable(vdim + hdim, out);
      out.fill(0);
      const hf = new Float64Array(hdim);
      energy.hiddenField(x.subarray(0, vdim), 1, hf);
      const h = new Uint8Array(hdim);
      const v = new Uint8Array(vdim);
      const vf = new Float64Array(vdim);
      const nv = 2 ** vdim;
      for (let kh = 0; kh < 2 ** hdim; kh++) {
        let ph = 1;
        for (let j = 0; j < hdim; j++) {
          h[j] = (kh >> j) & 1;
          ph *= sigmoid(h[j] === 1 ? beta * hf[j] : -beta * hf[j]);
        }
        energy.visibleField(h, 1, vf);
        for (let kv = 0; kv < nv; kv++) {
          let pv = ph;
          for (let a = 0; a < vdim; a++) {
            v[a] = (kv >> a) & 1;
            pv *= sigmoid(v[a] === 1 ? beta * vf[a] : -beta * vf[a]);
          }
          out[stateIndex(v, vdim) + nv * kh] = pv;
        }
      }
    },
  };
}
