/**
 * Block Gibbs for an RBM (energies/rbm.ts) at inverse temperature β: one step draws the whole hidden
 * layer given the visibles, then the whole visible layer given the new hiddens,
 *   h' ~ p_β(h | v) = Π_j Bern(σ(β(c + vᵀW)_j)),   v' ~ p_β(v | h') = Π_i Bern(σ(β(b + Wh')_i)),
 * which leaves ρ_β(v, h) ∝ e^{−βE(v,h)} invariant (the RBM's one temperature convention; the visible
 * marginal of ρ_β is e^{−βF} only at β = 1). The sweep is not reversible on (v, h); the visible chain
 * v → v' alone is reversible w.r.t. the visible marginal. The move from (v, h) does not read h.
 *
 * A step is one `gibbsSweep` of the RBM kernels (rbm/kernels.ts: typed-array, or native when the addon is
 * selected) — the same kernels CD/PCD and AIS use, with their draw rule (one 32-bit word per bit,
 * x = 1 iff word·2⁻³² < p) and order (all n·H hiddens, then all n·V visibles).
 *
 * The state keeps the hidden units (`h`), `pre` = c + vᵀW at the current visibles (float32, left current
 * by the kernel's sweep, so a step costs two matrix products), U = F(v) (the RBM's energy as a
 * DiscreteEnergy) and the joint energy E(v, h), both from `pre` without another product:
 *   F(v) = −bᵀv − Σ_j softplus(pre_j),   E(v, h) = −bᵀv − hᵀpre,
 * in float64 from the float32 `pre`, so they equal the model's float64 energies up to the float32
 * rounding of the products. `pre` is recomputed by `init`, by `refresh`, and by `step` when the model's
 * `version` changed since. Info: `divergent` flags chains whose F is NaN.
 *
 * `transitionRow` gives the exact probabilities of one step from the model's float64 fields (the kernels
 * form the same probabilities to float32 rounding).
 */
import { stateIndex } from "../../energies/discrete.ts";
import type { Rbm } from "../../energies/rbm.ts";
import { sigmoid, softplus } from "../../math/logistic.ts";
import type { Key } from "../../random/key.ts";
import { defaultRbmKernels, type RbmKernels, RbmWorkspace } from "../../rbm/kernels.ts";
import type { StepInfo } from "../types.ts";
import {
  checkBeta,
  checkEnumerable,
  copyStates,
  type DiscreteChainState,
  type DiscreteOptions,
  type DiscreteSampler,
  type ExactTransitions,
} from "./types.ts";

export interface BlockGibbsState extends DiscreteChainState {
  /** Number of hidden units. */
  readonly hidden: number;
  /** n × hidden bits. */
  readonly h: Uint8Array;
  /** n × hidden: c + vᵀW at the current visibles (p_β(h_j = 1 | v) = σ(β·pre)), float32. */
  readonly pre: Float32Array;
  /** E(v, h) per chain (not scaled by β). */
  readonly uJoint: Float64Array;
  /** The model's `version` when `pre` was computed. */
  version: number;
}

export interface BlockGibbsOptions extends DiscreteOptions {
  /** The RBM kernels (default: the selected backend's, when the sampler is built). */
  kernels?: RbmKernels;
}

export interface BlockGibbsSampler extends DiscreteSampler<BlockGibbsState, StepInfo>, ExactTransitions {
  /** Chains at visibles `v` (n × visible) and hiddens `h` (n × hidden, default 0; the next step ignores them). */
  init(v: Uint8Array, n: number, h?: Uint8Array): BlockGibbsState;
}

export function blockGibbs(rbm: Rbm, opts: BlockGibbsOptions = {}): BlockGibbsSampler {
  const beta = checkBeta(opts.beta);
  const kernels = opts.kernels ?? defaultRbmKernels();
  const vdim = rbm.visible;
  const hdim = rbm.hidden;
  const ws = new RbmWorkspace();

  /** u = F(v), uJoint = E(v, h) of every chain from `pre`; flags NaN energies. */
  const energies = (state: BlockGibbsState, divergent?: Uint8Array) => {
    const { b } = rbm;
    for (let i = 0; i < state.n; i++) {
      let bv = 0;
      for (let a = 0; a < vdim; a++) if (state.x[i * vdim + a] === 1) bv += b[a];
      let f = -bv;
      let e = -bv;
      for (let j = 0; j < hdim; j++) {
        const p = state.pre[i * hdim + j];
        f -= softplus(p);
        if (state.h[i * hdim + j] === 1) e -= p;
      }
      state.u[i] = f;
      state.uJoint[i] = e;
      if (divergent && Number.isNaN(f)) divergent[i] = 1;
    }
  };

  /** pre = c + vᵀW (float64 sums of the float32 parameters, rounded to float32). */
  const computePre = (state: BlockGibbsState) => {
    const field = new Float64Array(state.n * hdim);
    rbm.hiddenField(state.x, state.n, field);
    state.pre.set(field);
    state.version = rbm.version;
  };

  const refresh = (state: BlockGibbsState) => {
    computePre(state);
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
        pre: new Float32Array(n * hdim),
        u: new Float64Array(n),
        uJoint: new Float64Array(n),
        version: -1,
      };
      return refresh(state);
    },
    step(key: Key, state: BlockGibbsState) {
      if (state.version !== rbm.version) computePre(state);
      kernels.gibbsSweep(rbm, key, { n: state.n, v: state.x, h: state.h }, 1, beta, ws, state.pre);
      const divergent = new Uint8Array(state.n);
      energies(state, divergent);
      return { state, info: { divergent } };
    },
    refresh,
    transitionRow(x: Uint8Array, out: Float64Array) {
      checkEnumerable(vdim + hdim, out);
      out.fill(0);
      const hf = new Float64Array(hdim);
      rbm.hiddenField(x.subarray(0, vdim), 1, hf);
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
        rbm.visibleField(h, 1, vf);
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
