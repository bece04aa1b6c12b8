/**
 * Brute-force float64 references for the RBM tests, written from the definitions (no shared code with
 * src/rbm): the tempered joint ρ_β(v, h) ∝ e^{−βE(v,h)} = exp(β(bᵀv + cᵀh + vᵀWh)) enumerated state by
 * state.
 */
import type { Rbm } from "../../src/energies/rbm.ts";
import { blockGibbs } from "../../src/samplers/discrete/block-gibbs.ts";
import { exactTvFromZero, transitionMatrix } from "../discrete/exact.ts";

/** Bit j of state index k. */
export function bit(k: number, j: number): number {
  return (k >> j) & 1;
}

/** log of the unnormalized tempered joint −βE(v, h) = β(bᵀv + cᵀh + vᵀWh) for state indices kv, kh. */
export function logJoint(m: Rbm, kv: number, kh: number, beta = 1): number {
  let s = 0;
  for (let i = 0; i < m.visible; i++) if (bit(kv, i)) s += m.b[i];
  for (let j = 0; j < m.hidden; j++) {
    if (!bit(kh, j)) continue;
    s += m.c[j];
    for (let i = 0; i < m.visible; i++) if (bit(kv, i)) s += m.W[i * m.hidden + j];
  }
  return beta * s;
}

/** The whole tempered joint, normalized: p[kv + 2^nv·kh], and log Z. */
export function jointTable(m: Rbm, beta = 1): { p: Float64Array; logZ: number } {
  const nV = 2 ** m.visible;
  const nH = 2 ** m.hidden;
  const lp = new Float64Array(nV * nH);
  let max = Number.NEGATIVE_INFINITY;
  for (let kh = 0; kh < nH; kh++)
    for (let kv = 0; kv < nV; kv++) {
      lp[kv + nV * kh] = logJoint(m, kv, kh, beta);
      max = Math.max(max, lp[kv + nV * kh]);
    }
  let s = 0;
  for (let q = 0; q < lp.length; q++) s += Math.exp(lp[q] - max);
  const logZ = max + Math.log(s);
  const p = lp.map((x) => Math.exp(x - logZ));
  return { p, logZ };
}

/** Visible marginal P(v) over the 2^nv states of the tempered joint. */
export function visibleDistribution(m: Rbm, beta = 1): Float64Array {
  const { p } = jointTable(m, beta);
  const nV = 2 ** m.visible;
  const out = new Float64Array(nV);
  for (let q = 0; q < p.length; q++) out[q % nV] += p[q];
  return out;
}

/** Per-unit marginals P(v_i = 1) and P(h_j = 1) of the tempered joint. */
export function unitMarginals(m: Rbm, beta = 1): { v: Float64Array; h: Float64Array } {
  const { p } = jointTable(m, beta);
  const nV = 2 ** m.visible;
  const v = new Float64Array(m.visible);
  const h = new Float64Array(m.hidden);
  for (let q = 0; q < p.length; q++) {
    const kv = q % nV;
    const kh = Math.floor(q / nV);
    for (let i = 0; i < m.visible; i++) if (bit(kv, i)) v[i] += p[q];
    for (let j = 0; j < m.hidden; j++) if (bit(kh, j)) h[j] += p[q];
  }
  return { v, h };
}

/** p_β(h_j = 1 | v) by summing the joint over h (for visible state index kv). */
export function hiddenConditional(m: Rbm, kv: number, beta = 1): Float64Array {
  const out = new Float64Array(m.hidden);
  let z = 0;
  for (let kh = 0; kh < 2 ** m.hidden; kh++) {
    const w = Math.exp(logJoint(m, kv, kh, beta));
    z += w;
    for (let j = 0; j < m.hidden; j++) if (bit(kh, j)) out[j] += w;
  }
  return out.map((x) => x / z);
}

/** p_β(v_i = 1 | h) by summing the joint over v (for hidden state index kh). */
export function visibleConditional(m: Rbm, kh: number, beta = 1): Float64Array {
  const out = new Float64Array(m.visible);
  let z = 0;
  for (let kv = 0; kv < 2 ** m.visible; kv++) {
    const w = Math.exp(logJoint(m, kv, kh, beta));
    z += w;
    for (let i = 0; i < m.visible; i++) if (bit(kv, i)) out[i] += w;
  }
  return out.map((x) => x / z);
}

/** F(v) = −log Σ_h exp(−E(v, h)) by summing over h. */
export function freeEnergyBrute(m: Rbm, kv: number): number {
  let s = 0;
  for (let kh = 0; kh < 2 ** m.hidden; kh++) s += Math.exp(logJoint(m, kv, kh));
  return -Math.log(s);
}

/** The bits of state index k as a Uint8Array row. */
export function stateBits(k: number, sites: number): Uint8Array {
  const x = new Uint8Array(sites);
  for (let j = 0; j < sites; j++) x[j] = bit(k, j);
  return x;
}

/** Index of the state stored at x[off … off+sites). */
export function indexOf(x: Uint8Array, sites: number, off = 0): number {
  let k = 0;
  for (let j = 0; j < sites; j++) k |= x[off + j] << j;
  return k;
}

/**
 * Smallest number of block-Gibbs sweeps from the all-zero (v, h) after which the exact total-variation
 * distance to the tempered joint is < tol. Uses the exact transition matrix of samplers/discrete/block-gibbs.ts
 * at β, whose joint states are indexed v + 2^V·h, like jointTable.
 */
export function burnIn(m: Rbm, beta: number, tol = 1e-3): number {
  const p = transitionMatrix(blockGibbs(m, { beta }));
  const pi = jointTable(m, beta).p;
  for (let t = 1; t < 500; t++) if (exactTvFromZero(p, pi, t) < tol) return t;
  throw new Error("no burn-in below 500 sweeps");
}
