/**
 * How often persistent chains change mode: the nearest centre (Voronoi cell, as for the mode masses in
 * ./masses.ts) of each chain, compared between consecutive observations. The seed's case against PCD is
 * chains that cannot cross between separated modes, so their share of each mode stays where it started;
 * this counts whether they cross.
 */
import { centresArray, type Centres, nearestCentre } from "./masses.ts";

export interface ModeChanges {
  /** Mode changes per chain per counted observation (one observation = one training iteration). */
  perChainIteration: number;
  /** Its SE over the chains (sd of the chains' own rates / √chains). */
  se: number;
  chains: number;
  /** Observations counted (each against the one before it). */
  iterations: number;
}

export class ModeChangeCounter {
  private readonly centres: Float64Array;
  private readonly mode: Int32Array;
  private readonly previous: Int32Array;
  private readonly perChain: Float64Array;
  /** Whether chain i changed mode at the last counted observation. */
  readonly changed: Uint8Array;
  private iterations = 0;
  private primed = false;

  constructor(
    centres: Centres | Float64Array,
    readonly chains: number,
    readonly dim: number,
  ) {
    this.centres = centres instanceof Float64Array ? centres : centresArray(centres, dim);
    this.mode = new Int32Array(chains);
    this.previous = new Int32Array(chains);
    this.perChain = new Float64Array(chains);
    this.changed = new Uint8Array(chains);
  }

  /**
   * The chains' positions (chains × dim): with `count`, their mode changes since the last observation are
   * counted; without, they only become the reference for the next one.
   */
  observe(positions: Float64Array, count: boolean): void {
    nearestCentre(positions, this.chains, this.dim, this.centres, this.mode);
    if (count && this.primed) {
      this.iterations++;
      for (let i = 0; i < this.chains; i++) {
        const c = this.mode[i] !== this.previous[i] ? 1 : 0;
        this.changed[i] = c;
        this.perChain[i] += c;
      }
    } else this.changed.fill(0);
    this.previous.set(this.mode);
    this.primed = true;
  }

  result(): ModeChanges {
    const n = this.chains;
    const t = this.iterations;
    if (t === 0) return { perChainIteration: Number.NaN, se: Number.NaN, chains: n, iterations: 0 };
    let mean = 0;
    for (let i = 0; i < n; i++) mean += this.perChain[i] / t / n;
    let s2 = 0;
    for (let i = 0; i < n; i++) s2 += (this.perChain[i] / t - mean) ** 2;
    const se = n > 1 ? Math.sqrt(s2 / (n - 1) / n) : Number.NaN;
    return { perChainIteration: mean, se, chains: n, iterations: t };
  }
}
