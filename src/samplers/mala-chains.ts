/**
 * MALA whose randomness is per chain: the same Markov kernel as `mala` (Langevin proposal + MH correction
 * for ρ ∝ e^{−βU}, log ratio by `malaLogRatios`), but chain i's normals and its accept uniform come from
 * chain i's own stream (src/random/chains.ts, seeded from (key, i)) instead of one Stream for the batch.
 * A chain's step then depends only on its own rows and stream, so an accelerated implementation can split
 * the chains over threads and vector lanes and still give the TypeScript reference's bits (the native
 * addon's does, for any thread count). Different numbers from `mala` for the same key; the same law.
 *
 * A step is propose (kernel) → U, ∇U at the proposals (the caller's energy) → select (kernel). Where the
 * rare exp/log enter (the ziggurat's wedge and tail, log u, the acceptance probability) they are the
 * portable functions of src/random/elementary.ts, so that the native twin can match them bit for bit.
 */
import type { Energy } from "../energies/contract.ts";
import { defineKernel } from "../kernels/registry.ts";
import { CHAIN_STATE_WORDS, chainFillNormal, chainUniformOpen, seedChainStates } from "../random/chains.ts";
import { portableExp, portableLog } from "../random/elementary.ts";
import type { Key } from "../random/key.ts";
import { malaLogRatios } from "./mala-ratios.ts";
import { MhInfoBuffers } from "./mh.ts";
import { checkBeta, checkInverseMass, checkStep } from "./params.ts";
import type { ChainState, KernelParams } from "./types.ts";

/**
 * The sampler-side work of one step on per-chain streams. n = states.length / 8 chains (CHAIN_STATE_WORDS
 * = 8 state words each, advanced in place), dim = drift.length, positions row-major n × dim.
 */
export interface MalaChainsKernels {
  /** y = x − drift∘∇U(x) + noise∘ξ, row i of ξ = chain i's next dim standard normals. */
  propose(
    x: Float64Array,
    g: Float64Array,
    drift: Float64Array,
    noise: Float64Array,
    states: Int32Array,
    y: Float64Array,
  ): void;
  /**
   * In place on (x, gx, ux), n = ux.length: per chain, log r as `malaLogRatios` (params = [β, 1/(4h)]),
   * divergent = log r not finite; log u = portableLog(uniformOpen) from the chain's stream, drawn whatever
   * happens; acceptProb = min(1, portableExp(log r)) (0 when divergent); the move to (y, gy, uy) when
   * log u < log r. A chain that stays with a non-finite U or ∇U is flagged divergent too.
   */
  select(
    x: Float64Array,
    gx: Float64Array,
    ux: Float64Array,
    y: Float64Array,
    gy: Float64Array,
    uy: Float64Array,
    drift: Float64Array,
    invMass: Float64Array,
    params: Float64Array,
    states: Int32Array,
    acceptProb: Float64Array,
    accepted: Uint8Array,
    divergent: Uint8Array,
  ): void;
}

/** The reference implementation (backend "typescript"). */
const typescriptKernels: MalaChainsKernels = {
  propose(x, g, drift, noise, states, y) {
    const dim = drift.length;
    const n = states.length / CHAIN_STATE_WORDS;
    for (let i = 0; i < n; i++) {
      const o = i * dim;
      chainFillNormal(states, CHAIN_STATE_WORDS * i, y, o, o + dim);
      for (let j = 0, k = o; j < dim; j++, k++) y[k] = x[k] - drift[j] * g[k] + noise[j] * y[k];
    }
  },
  select(x, gx, ux, y, gy, uy, drift, invMass, params, states, acceptProb, accepted, divergent) {
    const n = ux.length;
    const dim = drift.length;
    const lr = malaLogRatios(
      x,
      gx,
      ux,
      y,
      gy,
      uy,
      n,
      dim,
      params[0],
      drift,
      invMass,
      params[1],
      new Float64Array(n),
    );
    for (let i = 0; i < n; i++) {
      const lu = portableLog(chainUniformOpen(states, CHAIN_STATE_WORDS * i));
      const r = lr[i];
      accepted[i] = 0;
      acceptProb[i] = 0;
      divergent[i] = Number.isFinite(r) ? 0 : 1;
      const o = i * dim;
      if (!divergent[i]) {
        acceptProb[i] = r >= 0 ? 1 : portableExp(r);
        if (lu < r) {
          accepted[i] = 1;
          for (let k = o; k < o + dim; k++) {
            x[k] = y[k];
            gx[k] = gy[k];
          }
          ux[i] = uy[i];
          continue;
        }
      }
      let finite = Number.isFinite(ux[i]);
      for (let k = o; finite && k < o + dim; k++) finite = Number.isFinite(gx[k]);
      if (!finite) divergent[i] = 1;
    }
  },
};

/** The per-chain-stream MALA step: TypeScript reference here, the native addon's when it is loaded. */
export const MALA_CHAINS_STEP = defineKernel<MalaChainsKernels>("mala.chains.step", typescriptKernels);

/** Per-coordinate constants of a MALA step (A = diag(inverseMass), identity if absent). */
export interface MalaChainsCoefficients {
  /** hβA_j. */
  readonly drift: Float64Array;
  /** √(2hA_j). */
  readonly noise: Float64Array;
  /** 1/A_j. */
  readonly invMass: Float64Array;
  /** [β, 1/(4h)]. */
  readonly params: Float64Array;
}

/** The coefficients for β and the step parameters (checked), into `out` when given. */
export function malaChainsCoefficients(
  dim: number,
  beta: number,
  params: KernelParams,
  out?: MalaChainsCoefficients,
): MalaChainsCoefficients {
  checkBeta(beta);
  checkStep(params.step, "MALA");
  checkInverseMass(params.inverseMass, dim);
  if (params.inverseMass && params.inverseMass.length !== dim)
    throw new RangeError("per-chain MALA coefficients need a diagonal inverse mass (dense runs in mala())");
  const h = params.step;
  const m = params.inverseMass;
  const c = out ?? {
    drift: new Float64Array(dim),
    noise: new Float64Array(dim),
    invMass: new Float64Array(dim),
    params: new Float64Array(2),
  };
  for (let j = 0; j < dim; j++) {
    const a = m ? m[j] : 1;
    c.drift[j] = h * beta * a;
    c.noise[j] = Math.sqrt(2 * h * a);
    c.invMass[j] = 1 / a;
  }
  c.params[0] = beta;
  c.params[1] = 1 / (4 * h);
  return c;
}

/** Scratch of a step: proposals, their U and ∇U, the chains' stream states; regrown when n or dim change. */
export class MalaChainsBuffers {
  y = new Float64Array(0);
  uy = new Float64Array(0);
  gy = new Float64Array(0);
  states = new Int32Array(0);

  ensure(n: number, dim: number): this {
    if (this.uy.length !== n || this.y.length !== n * dim) {
      this.y = new Float64Array(n * dim);
      this.uy = new Float64Array(n);
      this.gy = new Float64Array(n * dim);
      this.states = new Int32Array(CHAIN_STATE_WORDS * n);
    }
    return this;
  }
}

/**
 * A proposal on the chains' streams that also evaluates U and ∇U at the proposals: (states, x, ∇U(x), n)
 * → (y, U(y), ∇U(y)). The default is the kernel's `propose` followed by the energy; an energy with a fused
 * Langevin move supplies its own (mala.ts), drawing ξ with CHAIN_NORMALS so the chains see the same draws.
 */
export type ChainProposal = (
  states: Int32Array,
  x: Float64Array,
  g: Float64Array,
  n: number,
  y: Float64Array,
  uy: Float64Array,
  gy: Float64Array,
) => void;

/**
 * One MALA step of every chain of `state`, in place (U and ∇U cached in the state, one energy evaluation
 * at the proposals). Chain i's randomness is chain i of `key`'s chain streams. The info is written into
 * `info` (valid until it is reused). `kernels` defaults to the selected backend's implementation.
 */
export function malaChainsStep(
  energy: Energy,
  key: Key,
  state: ChainState,
  coef: MalaChainsCoefficients,
  buf: MalaChainsBuffers = new MalaChainsBuffers(),
  info: MhInfoBuffers = new MhInfoBuffers(),
  kernels: MalaChainsKernels = MALA_CHAINS_STEP.require(),
  propose?: ChainProposal,
): MhInfoBuffers {
  const { n, dim } = state;
  if (coef.drift.length !== dim)
    throw new RangeError(`coefficients are for dim ${coef.drift.length}, the state has dim ${dim}`);
  buf.ensure(n, dim);
  info.reset(n);
  seedChainStates(key, 0, n, buf.states);
  if (propose) propose(buf.states, state.position, state.grad, n, buf.y, buf.uy, buf.gy);
  else {
    kernels.propose(state.position, state.grad, coef.drift, coef.noise, buf.states, buf.y);
    energy.energyAndGrad(buf.y, n, buf.uy, buf.gy);
  }
  kernels.select(
    state.position,
    state.grad,
    state.u,
    buf.y,
    buf.gy,
    buf.uy,
    coef.drift,
    coef.invMass,
    coef.params,
    buf.states,
    info.acceptProb,
    info.accepted,
    info.divergent,
  );
  return info;
}
