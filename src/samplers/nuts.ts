/**
 * The No-U-Turn Sampler (Hoffman & Gelman 2014) in its current Stan form (Betancourt 2017): multinomial
 * sampling of the trajectory states, the generalized U-turn criterion on the summed momentum ρ with
 * "sharp" momenta p♯ = M⁻¹p, and Stan's extra checks across the two halves of every merged tree.
 *
 * Target e^{−βU} with inverse mass M⁻¹ (KernelParams.inverseMass: diagonal or dense, default I):
 *   H(q, p) = βU(q) + ½ pᵀM⁻¹p,  p ~ N(0, M),  leapfrog with step ε (KernelParams.step).
 *
 * One transition per chain (chains loop inside `step`, each with its own stream `foldIn(key, chain)`):
 *   1. draw p, H₀ = H(q, p); the trajectory is the single state {(q, p)} with log-weight 0;
 *   2. for depth = 0, 1, …, maxTreeDepth−1: pick a direction uniformly and build a subtree of 2^depth
 *      leapfrog steps from that end of the trajectory (recursively: two half subtrees, uniform /
 *      multinomial choice of the subtree's proposal in proportion to the summed weights e^{H₀−H});
 *      a subtree is invalid when one of its inner trees U-turns or a step diverges (H − H₀ > 1000, NaN
 *      counts as +∞); an invalid subtree is thrown away (its states can never be the sample) and the
 *      tree stops; otherwise the sample moves to the subtree's proposal with the biased progressive
 *      probability min(1, W_subtree / W_old), the weights merge, and the tree stops when the merged
 *      trajectory U-turns.
 * This is Stan's `base_nuts::transition` (recursive build_tree, U-turn checks on the full ρ including
 * the end points, and the two extra checks at every merge). BlackJAX builds the same trees iteratively
 * and checks U-turns numpyro-style on ρ minus half of the two end momenta, without the extra checks;
 * both are exact, the trees differ in where they stop. Energies are evaluated one point at a time
 * (n = 1 calls) through hmc.ts's leapfrog.
 *
 * The energy, β, the maximum depth and the divergence threshold are fixed when the kernel is built; the step
 * size and inverse mass are step parameters. One tree (every buffer of a transition) is allocated per
 * kernel and reused by every transition and every parameter value.
 *
 * Info per chain (reused buffers, valid until the next step), as Stan's sampler parameters:
 *   acceptProb — mean over all leapfrog states of min(1, e^{H₀−H}), including the states of a rejected
 *                final subtree (Stan's accept_stat__, the statistic dual averaging adapts on);
 *   treeDepth  — number of doublings merged into the trajectory (Stan's treedepth__: a subtree that
 *                U-turned inside or diverged is not counted);
 *   numSteps   — leapfrog steps taken (n_leapfrog__), between 2^depth − 1 and 2^(depth+1) − 1;
 *   divergent  — 1 when a step's energy error exceeded maxDeltaEnergy. Unlike ULA's flag, the returned
 *                draw is still a valid NUTS draw (from the part of the tree built before the
 *                divergence); a cluster of divergences means the draws may be biased (the step cannot
 *                resolve the geometry there). Also 1, with the chain left in place, when the start
 *                point itself has a non-finite energy;
 *   energy     — H at the returned state with its momentum (energy__);
 *   accepted   — 1 when the returned state differs from the starting point.
 */
import type { Energy } from "../energies/contract.ts";
import type { Key } from "../random/key.ts";
import { portableExp, portableLog1p } from "../random/elementary.ts";
import { foldIn, Stream } from "../random/key.ts";
import { leapfrog, MAX_ENERGY_ERROR } from "./integrators.ts";
import { Metric } from "./metric.ts";
import { checkBeta, ParamsKey } from "./params.ts";
import { initChainState, refreshChainState } from "./state.ts";
import type { ChainState, KernelParams, MhInfo, Sampler, TemperedOptions } from "./types.ts";

export interface NutsOptions extends TemperedOptions {
  /** Maximum number of doublings (default 10: at most 1023 leapfrog steps per transition). */
  maxTreeDepth?: number;
  /** Energy error H − H₀ above which a step counts as divergent (default 1000, as Stan and BlackJAX). */
  maxDeltaEnergy?: number;
}

export interface NutsInfo extends MhInfo {
  /** Per chain: number of trajectory doublings merged (Stan's treedepth__). */
  readonly treeDepth: Int32Array;
  /** Per chain: leapfrog steps of the transition (Stan's n_leapfrog__). */
  readonly numSteps: Int32Array;
  /** Per chain: the Hamiltonian βU + ½pᵀM⁻¹p at the returned state (Stan's energy__). */
  readonly energy: Float64Array;
}

/** A phase-space point with its cached potential: position, momentum, ∇U, U and H. */
class PsPoint {
  readonly q: Float64Array;
  readonly p: Float64Array;
  readonly g: Float64Array;
  u = 0;
  h = 0;
  constructor(dim: number) {
    this.q = new Float64Array(dim);
    this.p = new Float64Array(dim);
    this.g = new Float64Array(dim);
  }
  copyFrom(o: PsPoint): void {
    this.q.set(o.q);
    this.p.set(o.p);
    this.g.set(o.g);
    this.u = o.u;
    this.h = o.h;
  }
}

/** log(e^a + e^b), exact for −∞ arguments (portable exp/log1p: the same bits on every host). */
function logAddExp(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b;
  if (b === Number.NEGATIVE_INFINITY) return a;
  return a > b ? a + portableLog1p(portableExp(b - a)) : b + portableLog1p(portableExp(a - b));
}

/** Scratch of one recursion level of build_tree (at most one active frame per level). */
interface Level {
  pInitEnd: Float64Array;
  pFinalBeg: Float64Array;
  rhoInit: Float64Array;
  rhoFinal: Float64Array;
  proposeFinal: PsPoint;
}

/**
 * One chain's NUTS machinery for a fixed energy and β, with every buffer preallocated: a transition
 * allocates nothing. ε and M⁻¹ are set by `setParams` between transitions.
 */
class NutsTree {
  private readonly d: number;
  private eps = Number.NaN;
  private readonly invMass: Float64Array;
  private readonly sqrtMass: Float64Array;
  /** The metric when M⁻¹ is dense (the diagonal path keeps invMass and sqrtMass); M⁻¹ρ scratch. */
  private readonly metric: Metric;
  private readonly mRho: Float64Array;
  private readonly uBuf = new Float64Array(1);
  private readonly z: PsPoint;
  private readonly zFwd: PsPoint;
  private readonly zBck: PsPoint;
  private readonly zSample: PsPoint;
  private readonly zPropose: PsPoint;
  private readonly pFwdFwd: Float64Array;
  private readonly pFwdBck: Float64Array;
  private readonly pBckFwd: Float64Array;
  private readonly pBckBck: Float64Array;
  private readonly rho: Float64Array;
  private readonly rhoFwd: Float64Array;
  private readonly rhoBck: Float64Array;
  private readonly rhoExt: Float64Array;
  private readonly levels: Level[] = [];

  // Per-transition accumulators (Stan's by-reference arguments).
  private rng!: Stream;
  private h0 = 0;
  private nLeapfrog = 0;
  private sumMetroProb = 0;
  private divergent = false;
  /** log Σ e^{H₀−H} of the subtree just built. */
  private lswOut = Number.NEGATIVE_INFINITY;

  // Transition results.
  depth = 0;
  moved = false;

  constructor(
    private readonly energy: Energy,
    private readonly beta: number,
    private readonly maxDepth: number,
    private readonly maxDeltaH: number,
  ) {
    const d = energy.dim;
    this.d = d;
    this.invMass = new Float64Array(d);
    this.sqrtMass = new Float64Array(d);
    this.metric = new Metric(d);
    this.mRho = new Float64Array(d);
    const pt = () => new PsPoint(d);
    const vec = () => new Float64Array(d);
    this.z = pt();
    this.zFwd = pt();
    this.zBck = pt();
    this.zSample = pt();
    this.zPropose = pt();
    this.pFwdFwd = vec();
    this.pFwdBck = vec();
    this.pBckFwd = vec();
    this.pBckBck = vec();
    this.rho = vec();
    this.rhoFwd = vec();
    this.rhoBck = vec();
    this.rhoExt = vec();
    for (let l = 0; l < maxDepth; l++)
      this.levels.push({
        pInitEnd: vec(),
        pFinalBeg: vec(),
        rhoInit: vec(),
        rhoFinal: vec(),
        proposeFinal: pt(),
      });
  }

  /** Step size ε and inverse mass M⁻¹ (identity when undefined) of the next transitions. */
  setParams(eps: number, inverseMass: Float64Array | undefined): void {
    this.eps = eps;
    this.metric.set(inverseMass);
    if (this.metric.dense) return;
    for (let i = 0; i < this.d; i++) {
      this.invMass[i] = inverseMass ? inverseMass[i] : 1;
      this.sqrtMass[i] = 1 / Math.sqrt(this.invMass[i]);
    }
  }

  private hamiltonian(z: PsPoint): number {
    if (this.metric.dense) return this.beta * z.u + this.metric.kinetic(z.p, 0);
    const m = this.invMass;
    let k = 0;
    for (let i = 0; i < this.d; i++) k += m[i] * z.p[i] * z.p[i];
    return this.beta * z.u + 0.5 * k;
  }

  /** One leapfrog step of z in place (hmc.ts's integrator on a batch of one), signed step size e. */
  private leapfrog(z: PsPoint, e: number): void {
    this.uBuf[0] = z.u;
    const m = this.metric.dense ? this.metric.inverseMass : this.invMass;
    leapfrog(this.energy, this.beta, z.q, z.p, z.g, this.uBuf, e, m, 1, this.d);
    z.u = this.uBuf[0];
  }

  /** The generalized no-U-turn criterion: p♯₋·ρ > 0 and p♯₊·ρ > 0 with p♯ = M⁻¹p. */
  private criterion(pMinus: Float64Array, pPlus: Float64Array, rho: Float64Array): boolean {
    let a = 0;
    let b = 0;
    if (this.metric.dense) {
      // p♯·ρ = pᵀM⁻¹ρ (M⁻¹ symmetric).
      const mr = this.mRho;
      this.metric.applyInverseMass(rho, 0, mr, 0);
      for (let i = 0; i < this.d; i++) {
        a += pMinus[i] * mr[i];
        b += pPlus[i] * mr[i];
      }
      return a > 0 && b > 0;
    }
    const m = this.invMass;
    for (let i = 0; i < this.d; i++) {
      const mr = m[i] * rho[i];
      a += pMinus[i] * mr;
      b += pPlus[i] * mr;
    }
    return a > 0 && b > 0;
  }

  /**
   * Builds a subtree of 2^depth steps from the integrator state `z` in direction `sign`, leaving `z` at
   * its far end. Writes the subtree's multinomial proposal to `propose`, its end momenta to pBeg (next
   * to the existing trajectory) and pEnd (far end), adds its summed momentum to `rho`, and its log
   * summed weight to `lswOut`. Returns false when the subtree diverged or U-turned inside.
   */
  private buildTree(
    depth: number,
    propose: PsPoint,
    pBeg: Float64Array,
    pEnd: Float64Array,
    rho: Float64Array,
    sign: number,
  ): boolean {
    const z = this.z;
    const d = this.d;
    if (depth === 0) {
      this.leapfrog(z, sign * this.eps);
      this.nLeapfrog++;
      let h = this.hamiltonian(z);
      if (Number.isNaN(h)) h = Number.POSITIVE_INFINITY;
      z.h = h;
      if (h - this.h0 > this.maxDeltaH) this.divergent = true;
      const logW = this.h0 - h;
      this.lswOut = logW;
      this.sumMetroProb += logW > 0 ? 1 : portableExp(logW);
      propose.copyFrom(z);
      for (let i = 0; i < d; i++) rho[i] += z.p[i];
      pBeg.set(z.p);
      pEnd.set(z.p);
      return !this.divergent;
    }
    const lv = this.levels[depth];
    lv.rhoInit.fill(0);
    if (!this.buildTree(depth - 1, propose, pBeg, lv.pInitEnd, lv.rhoInit, sign)) return false;
    const lswInit = this.lswOut;
    lv.rhoFinal.fill(0);
    if (!this.buildTree(depth - 1, lv.proposeFinal, lv.pFinalBeg, pEnd, lv.rhoFinal, sign)) return false;
    const lswFinal = this.lswOut;
    const lswSubtree = logAddExp(lswInit, lswFinal);
    this.lswOut = lswSubtree;
    // Multinomial (uniform-progressive) choice within the subtree: final half with prob W_final/W_subtree.
    if (lswFinal > lswSubtree || this.rng.uniform() < portableExp(lswFinal - lswSubtree))
      propose.copyFrom(lv.proposeFinal);
    const ext = this.rhoExt;
    for (let i = 0; i < d; i++) rho[i] += lv.rhoInit[i] + lv.rhoFinal[i];
    // U-turn across the whole subtree …
    for (let i = 0; i < d; i++) ext[i] = lv.rhoInit[i] + lv.rhoFinal[i];
    let ok = this.criterion(pBeg, pEnd, ext);
    // … and across its two halves extended by one state of the other half (Stan's extra checks).
    for (let i = 0; i < d; i++) ext[i] = lv.rhoInit[i] + lv.pFinalBeg[i];
    ok &&= this.criterion(pBeg, lv.pFinalBeg, ext);
    for (let i = 0; i < d; i++) ext[i] = lv.rhoFinal[i] + lv.pInitEnd[i];
    ok &&= this.criterion(lv.pInitEnd, pEnd, ext);
    return ok;
  }

  /**
   * One transition of chain `c` of `state`, in place. Returns the acceptance statistic; the other
   * results are left in depth, nLeapfrog (via `steps`), divergent, zSample.h and moved.
   */
  transition(rng: Stream, state: ChainState, c: number): number {
    const d = this.d;
    const off = c * d;
    const z = this.z;
    this.rng = rng;
    z.q.set(state.position.subarray(off, off + d));
    z.g.set(state.grad.subarray(off, off + d));
    z.u = state.u[c];
    if (this.metric.dense) this.metric.sampleMomentum(rng, z.p, 1);
    else for (let i = 0; i < d; i++) z.p[i] = this.sqrtMass[i] * rng.normal();
    const h0 = this.hamiltonian(z);
    z.h = h0;
    this.h0 = h0;
    this.nLeapfrog = 0;
    this.sumMetroProb = 0;
    this.depth = 0;
    this.moved = false;
    this.divergent = false;
    this.zSample.h = h0;
    if (!Number.isFinite(h0)) {
      // Nothing can be built from a point with a non-finite energy: flag it and stay.
      this.divergent = true;
      return 0;
    }
    this.zFwd.copyFrom(z);
    this.zBck.copyFrom(z);
    this.zSample.copyFrom(z);
    this.pFwdFwd.set(z.p);
    this.pFwdBck.set(z.p);
    this.pBckFwd.set(z.p);
    this.pBckBck.set(z.p);
    this.rho.set(z.p);
    let logSumWeight = 0; // log e^{H₀−H₀}
    const rho = this.rho;
    const rhoFwd = this.rhoFwd;
    const rhoBck = this.rhoBck;
    const ext = this.rhoExt;

    while (this.depth < this.maxDepth) {
      rhoFwd.fill(0);
      rhoBck.fill(0);
      let valid: boolean;
      if (rng.uniform() > 0.5) {
        // Extend forward: the old trajectory becomes the backward subtree.
        z.copyFrom(this.zFwd);
        rhoBck.set(rho);
        this.pBckFwd.set(this.pFwdFwd);
        valid = this.buildTree(this.depth, this.zPropose, this.pFwdBck, this.pFwdFwd, rhoFwd, 1);
        this.zFwd.copyFrom(z);
      } else {
        z.copyFrom(this.zBck);
        rhoFwd.set(rho);
        this.pFwdBck.set(this.pBckBck);
        valid = this.buildTree(this.depth, this.zPropose, this.pBckFwd, this.pBckBck, rhoBck, -1);
        this.zBck.copyFrom(z);
      }
      if (!valid) break;
      this.depth++;
      const lswSub = this.lswOut;
      // Biased progressive sampling: move to the new subtree with probability min(1, W_new / W_old).
      if (lswSub > logSumWeight || rng.uniform() < portableExp(lswSub - logSumWeight)) {
        this.zSample.copyFrom(this.zPropose);
        this.moved = true;
      }
      logSumWeight = logAddExp(logSumWeight, lswSub);
      for (let i = 0; i < d; i++) rho[i] = rhoBck[i] + rhoFwd[i];
      let persist = this.criterion(this.pBckBck, this.pFwdFwd, rho);
      for (let i = 0; i < d; i++) ext[i] = rhoBck[i] + this.pFwdBck[i];
      persist &&= this.criterion(this.pBckBck, this.pFwdBck, ext);
      for (let i = 0; i < d; i++) ext[i] = rhoFwd[i] + this.pBckFwd[i];
      persist &&= this.criterion(this.pBckFwd, this.pFwdFwd, ext);
      if (!persist) break;
    }

    if (this.moved) {
      state.position.set(this.zSample.q, off);
      state.grad.set(this.zSample.g, off);
      state.u[c] = this.zSample.u;
    }
    return this.sumMetroProb / this.nLeapfrog;
  }

  get steps(): number {
    return this.nLeapfrog;
  }
  get diverged(): boolean {
    return this.divergent;
  }
  get sampleEnergy(): number {
    return this.zSample.h;
  }
}

/** NUTS info in reused buffers. */
class NutsInfoBuffers implements NutsInfo {
  divergent = new Uint8Array(0);
  acceptProb = new Float64Array(0);
  accepted = new Uint8Array(0);
  treeDepth = new Int32Array(0);
  numSteps = new Int32Array(0);
  energy = new Float64Array(0);
  ensure(n: number): this {
    if (this.divergent.length !== n) {
      this.divergent = new Uint8Array(n);
      this.acceptProb = new Float64Array(n);
      this.accepted = new Uint8Array(n);
      this.treeDepth = new Int32Array(n);
      this.numSteps = new Int32Array(n);
      this.energy = new Float64Array(n);
    }
    return this;
  }
}

/** NUTS on e^{−βU}; every step takes the step size and diagonal inverse mass as `params`. */
export function nuts(energy: Energy, opts: NutsOptions = {}): Sampler<ChainState, NutsInfo, KernelParams> {
  const beta = checkBeta(opts.beta);
  const maxDepth = opts.maxTreeDepth ?? 10;
  const maxDeltaH = opts.maxDeltaEnergy ?? MAX_ENERGY_ERROR;
  if (!(Number.isInteger(maxDepth) && maxDepth >= 1 && maxDepth <= 30))
    throw new RangeError(`maxTreeDepth must be an integer in [1, 30], got ${maxDepth}`);
  if (!(maxDeltaH > 0)) throw new RangeError(`maxDeltaEnergy must be positive, got ${maxDeltaH}`);
  const key = new ParamsKey(energy.dim, "NUTS");
  const tree = new NutsTree(energy, beta, maxDepth, maxDeltaH);
  const info = new NutsInfoBuffers();

  return {
    init: (position, n) => initChainState(energy, position, n),
    step(k: Key, state: ChainState, params: KernelParams) {
      if (key.changed(params)) tree.setParams(params.step, params.inverseMass);
      const n = state.n;
      info.ensure(n);
      for (let c = 0; c < n; c++) {
        const rng = new Stream(foldIn(k, c));
        info.acceptProb[c] = tree.transition(rng, state, c);
        info.treeDepth[c] = tree.depth;
        info.numSteps[c] = tree.steps;
        info.divergent[c] = tree.diverged ? 1 : 0;
        info.accepted[c] = tree.moved ? 1 : 0;
        info.energy[c] = tree.sampleEnergy;
      }
      return info;
    },
    refresh: (state) => refreshChainState(energy, state),
  };
}
