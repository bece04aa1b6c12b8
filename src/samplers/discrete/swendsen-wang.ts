/**
 * Swendsen–Wang cluster updates for an Ising model at inverse temperature β (Swendsen & Wang 1987,
 * "Nonuniversal critical dynamics in Monte Carlo simulations", PRL 58, 86).
 *
 * One step is one Gibbs sweep of the Edwards–Sokal joint of spins and bonds (Edwards & Sokal 1988):
 *  1. bonds: every satisfied coupling (J_ij s_i s_j > 0) is frozen with probability
 *     p_ij = 1 − e^{−2β|J_ij|}; unsatisfied couplings are never frozen;
 *  2. spins: each connected cluster C of frozen bonds is flipped as a whole or kept, independently.
 * With a field, step 2 is a heat-bath choice rather than a fair coin: flipping C changes only the field
 * term (bonds inside C stay satisfied, bonds leaving C are free in the joint), so
 *   P(flip C) = σ(−2β H_C),   H_C = Σ_{i∈C} h_i s_i,
 * which is the exact conditional of the joint with the field kept on the sites (no ghost spin, no
 * rejection). Without a field it is the original fair coin.
 *
 * The algorithm is stated for ferromagnets (J ≥ 0), where clusters follow the domains and mixing near
 * the critical point is fast. Negative couplings are accepted: a bond is then satisfied when its spins
 * differ, and flipping a whole cluster keeps it satisfied, so the kernel is still exact, but with
 * frustration the clusters percolate and the speed-up is lost.
 *
 * The state, `init` and `refresh` are those of the other discrete kernels (types.ts); U is recomputed
 * after each step (bonds leaving a cluster change). Info: `divergent` (a non-finite cluster field) and
 * `clusters`, the number of clusters of each chain in this step (a mixing diagnostic: one giant cluster
 * at low temperature, about `sites` at high temperature).
 */
import type { IsingEnergy } from "../../energies/ising.ts";
import { sigmoid, stateIndex } from "../../energies/discrete.ts";
import type { Key } from "../../random/key.ts";
import { Stream } from "../../random/key.ts";
import type { StepInfo } from "../types.ts";
import {
  checkBeta,
  checkEnumerable,
  type DiscreteChainState,
  type DiscreteOptions,
  type DiscreteSampler,
  type ExactTransitions,
  initDiscreteState,
} from "./types.ts";

export interface SwendsenWangInfo extends StepInfo {
  /** Per chain: the number of clusters formed in this step. */
  readonly clusters: Int32Array;
}

/** Largest number of satisfied bonds `transitionRow` enumerates (2^bonds bond configurations). */
const MAX_EXACT_BONDS = 20;

export function swendsenWang(
  energy: IsingEnergy,
  opts: DiscreteOptions = {},
): DiscreteSampler<DiscreteChainState, SwendsenWangInfo> & ExactTransitions {
  const beta = checkBeta(opts.beta);
  const d = energy.sites;
  // The coupling graph as an edge list (built once from the dense J).
  const from: number[] = [];
  const to: number[] = [];
  const sign: number[] = [];
  const freeze: number[] = [];
  for (let i = 0; i < d; i++)
    for (let j = i + 1; j < d; j++) {
      const J = energy.couplings[i * d + j];
      if (J === 0) continue;
      from.push(i);
      to.push(j);
      sign.push(J > 0 ? 1 : -1);
      freeze.push(-Math.expm1(-2 * beta * Math.abs(J)));
    }
  const m = from.length;
  const h = energy.field;
  const parent = new Int32Array(d);
  const rootField = new Float64Array(d);
  const flip = new Uint8Array(d);

  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]]; // path halving
      i = parent[i];
    }
    return i;
  };
  const spin = (x: Uint8Array, p: number) => 2 * x[p] - 1;
  const satisfied = (x: Uint8Array, off: number, e: number) =>
    sign[e] * spin(x, off + from[e]) * spin(x, off + to[e]) > 0;

  /** Labels clusters (parent[i] = root) from the frozen bonds `open(e)`; returns their number. */
  const cluster = (open: (e: number) => boolean): number => {
    for (let i = 0; i < d; i++) parent[i] = i;
    let count = d;
    for (let e = 0; e < m; e++) {
      if (!open(e)) continue;
      const a = find(from[e]);
      const b = find(to[e]);
      if (a !== b) {
        // Smaller index as root: the labelling, and with it the order of draws, depends on the state only.
        if (a < b) parent[b] = a;
        else parent[a] = b;
        count--;
      }
    }
    for (let i = 0; i < d; i++) parent[i] = find(i);
    return count;
  };

  return {
    stateSites: d,
    init: (x, n) => initDiscreteState(energy, x, n),
    step(key: Key, state: DiscreteChainState) {
      const rng = new Stream(key);
      const n = state.n;
      const info: SwendsenWangInfo = { divergent: new Uint8Array(n), clusters: new Int32Array(n) };
      for (let c = 0; c < n; c++) {
        const off = c * d;
        const x = state.x;
        // One uniform per satisfied bond, in edge order.
        info.clusters[c] = cluster((e) => satisfied(x, off, e) && rng.uniform() < freeze[e]);
        rootField.fill(0);
        for (let i = 0; i < d; i++) rootField[parent[i]] += h[i] * spin(x, off + i);
        // One uniform per cluster, roots in increasing order.
        for (let i = 0; i < d; i++) {
          if (parent[i] !== i) continue;
          const H = rootField[i];
          if (!Number.isFinite(H)) {
            info.divergent[c] = 1;
            flip[i] = 0;
            continue;
          }
          flip[i] = rng.uniform() < sigmoid(-2 * beta * H) ? 1 : 0;
        }
        for (let i = 0; i < d; i++) if (flip[parent[i]]) x[off + i] ^= 1;
      }
      energy.energy(state.x, n, state.u);
      return { state, info };
    },
    refresh(state) {
      energy.energy(state.x, state.n, state.u);
      return state;
    },
    /**
     * Exact row by enumerating the frozen subsets of the satisfied bonds of `x` (at most 2^20) and, for
     * each, the 2^clusters flip patterns.
     */
    transitionRow(x: Uint8Array, out: Float64Array) {
      checkEnumerable(d, out);
      out.fill(0);
      const sat: number[] = [];
      for (let e = 0; e < m; e++) if (satisfied(x, 0, e)) sat.push(e);
      if (sat.length > MAX_EXACT_BONDS)
        throw new RangeError(`exact Swendsen–Wang rows need ≤ ${MAX_EXACT_BONDS} satisfied bonds`);
      const isOpen = new Uint8Array(m);
      const y = new Uint8Array(d);
      for (let mask = 0; mask < 2 ** sat.length; mask++) {
        let pBonds = 1;
        for (let b = 0; b < sat.length; b++) {
          const open = (mask >> b) & 1;
          isOpen[sat[b]] = open;
          pBonds *= open ? freeze[sat[b]] : 1 - freeze[sat[b]];
        }
        if (pBonds === 0) continue;
        cluster((e) => isOpen[e] === 1);
        const roots: number[] = [];
        rootField.fill(0);
        for (let i = 0; i < d; i++) {
          if (parent[i] === i) roots.push(i);
          rootField[parent[i]] += h[i] * spin(x, i);
        }
        const pFlip = roots.map((r) => sigmoid(-2 * beta * rootField[r]));
        for (let pattern = 0; pattern < 2 ** roots.length; pattern++) {
          let p = pBonds;
          flip.fill(0);
          roots.forEach((r, k) => {
            flip[r] = (pattern >> k) & 1;
            p *= flip[r] ? pFlip[k] : 1 - pFlip[k];
          });
          if (p === 0) continue;
          for (let i = 0; i < d; i++) y[i] = x[i] ^ flip[parent[i]];
          out[stateIndex(y, d)] += p;
        }
        isOpen.fill(0);
      }
    },
  };
}
