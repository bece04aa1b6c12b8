/**
 * Jarzynski-reweighted sequential Monte Carlo training of the RBM (energies/rbm.ts) through the library's
 * trainer, in the discrete-time form of Carbone, Hua, Coste & Vanden-Eijnden 2023: N walkers X_k (visible
 * states) carry float64 log-weights A_k such that softmax(A_k) makes them weighted samples of
 * ρ_θk(v) ∝ e^{−F_θk(v)}, and (1/N) Σ e^{A_k} estimates Z_θk / Z_base. Per iteration k:
 *   gradient:    ∇_k = E_data[∂θF_θk] − Σ_i softmax(A_k)_i ∂θF_θk(X_k^i) (the trainer's descent convention);
 *   afterUpdate: with θ_{k+1} in the model, the AIS weight update (Neal 2001; Jarzynski 1997)
 *                A_{k+1} = A_k + F_θk(X_k) − F_θk+1(X_k) (free energies, float64 sums), resampling when
 *                ESS < threshold·N, then `sweeps` block-Gibbs sweeps under θ_{k+1}, a kernel that leaves
 *                ρ_θk+1 invariant (so no move term enters the weights).
 * The model term of the gradient is thus the weighted walkers' estimate of E_θk[∂θF], not the biased
 * short-run one of CD/PCD (rbm-cd.ts), and log Z_θk comes for free.
 *
 * The start. The walkers start as exact draws of the "independent units" model with θ₀'s biases and no
 * couplings, p_base(v) = Π_i Bern(v_i; σ(b_i)), whose free energy is F_base(v) = −bᵀv − Σ_j softplus(c_j)
 * and log Z_base = Σ_i softplus(b_i) + Σ_j softplus(c_j) in closed form. They are importance-weighted to
 * θ₀ with A_0 = F_base(v) − F_θ0(v). When W₀ = 0, p_base is θ₀'s own visible marginal: the draws are exact
 * and A_0 = 0 (set exactly, not computed), so log Z_θ0 = log Z_base. With a small random W₀ (the usual
 * initialisation) the weights are nearly equal; with a large one the start's ESS (reported) says how much
 * the importance step cost.
 *
 * Estimates (smc/walkers.ts): log Z_θk = log Z_base + logZRatio, with a Lee–Whiteley standard error (its
 * multinomial-resampling form: NaN under another scheme). The training walkers' own estimate drifts below
 * the truth, because every update is partly driven by their own noise and that part raises F where they
 * sit (about lr·tr Cov(∂θF)/ESS per SGD iteration, as measured in the tests); a decoupled `estimator`
 * population follows the same θ path with its own draws, weights and resamplings, never feeds the
 * gradient, and is free of that bias.
 * Health is recorded per weight update as in objectives/jarzynski.ts (smc/health.ts).
 *
 * Keys: `gradient` draws nothing; `afterUpdate`'s key is split into the resampling key and the sweeps' key
 * (the estimator uses foldIn(key, 0x657374) the same way), so afterUpdate can also be driven along a
 * prescribed θ path without the trainer.
 *
 * State: plain data only (typed arrays, numbers, plain objects; train/state-codec.ts), so a checkpointed
 * run resumes bit for bit. The kernels and their scratch live in the objective, resolved at first use
 * (`kernels` option, else the selected backend's); a run must resume on the same backend to repeat its
 * bits (native and typed-array kernels agree only to float32 rounding).
 *
 * Cost per iteration: one hidden-probability product over data and walkers (gradient), two free-energy
 * products (at the old states under θ_{k+1}, at the new states after the sweeps) and 2·sweeps products for
 * the sweeps, all through the RBM kernels; the weighted outer product of the gradient in float64.
 */
import type { TrainableEnergy } from "../energies/contract.ts";
import { Rbm } from "../energies/rbm.ts";
import { sigmoid, softplus } from "../math/logistic.ts";
import type { ResamplingScheme } from "../math/resampling.ts";
import { foldIn, type Key, split, Stream } from "../random/key.ts";
import { independentUnitsLogZ } from "../rbm/ais.ts";
import { defaultRbmKernels, type GibbsChains, type RbmKernels, RbmWorkspace } from "../rbm/kernels.ts";
import {
  type AbsoluteLogZ,
  type EstimatorWalkerDiagnostics,
  estimatorDiagnostics,
  islandEstimatorDiagnostics,
  type WalkerDiagnostics,
  walkerDiagnostics,
} from "../smc/diagnostics.ts";
import {
  incrementSpread,
  recordWeightUpdate,
  type WalkerHealthStats,
  walkerHealthStats,
} from "../smc/health.ts";
import {
  maybeResample,
  retireNonFinite,
  type WeightedWalkers,
  walkerEss,
  walkerWeights,
  weightedWalkers,
} from "../smc/walkers.ts";
import type { Batch, Objective, ObjectiveDiagnostics } from "./objective.ts";

export interface RbmJarzynskiOptions {
  /** Number of training walkers N. */
  walkers: number;
  /** Block-Gibbs sweeps under θ_{k+1} per iteration (default 1). */
  sweeps?: number;
  /** Resample when ESS < resample·N; 0 never resamples. Default 0.5. */
  resample?: number;
  /** Default multinomial (the only scheme with a standard error for log Z). */
  scheme?: ResamplingScheme;
  /**
   * A decoupled estimator population of this many walkers (default none; see the module comment), run as
   * `islands` independent islands whose sizes differ by at most one (default 1; islandEstimatorDiagnostics
   * in smc/diagnostics.ts): with 2 or more, log Z's SE comes from the spread between islands, which a
   * collapsed genealogy does not take away (but not the low bias of populations that lag behind θ, which
   * smaller ones suffer more: see TrainConfig.estimatorIslands in train/session.ts).
   */
  estimator?: { walkers: number; islands?: number };
  /** Default: the selected backend's kernels at first use (native when the addon is loaded). */
  kernels?: RbmKernels;
}

/** One population of weighted RBM walkers. */
export interface RbmWalkerPopulation {
  /**
   * Positions: the visible states as 0/1 float64 (N × V), with u = F_θ(v) under the model's current θ.
   * The walkers move by Gibbs sweeps and carry no ∇F: `grad` stays zero.
   */
  walkers: WeightedWalkers;
  /** The same visible states as bytes (what the kernels read), and the hiddens of the last sweep. */
  v: Uint8Array;
  h: Uint8Array;
  /** Log-weight increments F_θk − F_θk+1 of the last update. */
  increments: Float64Array;
  /** ESS of the last update before resampling (initially the start's ESS), and whether it resampled. */
  essBefore: number;
  resampled: boolean;
  /** Running health statistics of the weight updates (smc/health.ts). */
  health: WalkerHealthStats;
}

export interface RbmJarzynskiState extends RbmWalkerPopulation {
  /** log Z_base = Σ softplus(b₀) + Σ softplus(c₀): the reference of logZRatio (= log Z_θ0 when W₀ = 0). */
  logZBase: number;
  /** The decoupled estimator population (option `estimator`; its first island), or null. */
  estimator: RbmWalkerPopulation | null;
  /** The estimator's other islands (absent with one island). */
  estimatorIslands?: RbmWalkerPopulation[];
}

/** logZBase is log Z_base (see RbmJarzynskiState). */
export type RbmJarzynskiDiagnostics = ObjectiveDiagnostics & WalkerDiagnostics & AbsoluteLogZ;

/** Diagnostics of the decoupled estimator population. */
export type RbmEstimatorDiagnostics = EstimatorWalkerDiagnostics & Pick<AbsoluteLogZ, "logZ">;

export interface RbmJarzynskiObjective extends Objective<RbmJarzynskiState> {
  diagnostics(state: RbmJarzynskiState): RbmJarzynskiDiagnostics & { estimator?: RbmEstimatorDiagnostics };
}

/** The estimator population's key offset ("est"), as in objectives/jarzynski.ts. */
const ESTIMATOR = 0x657374;

function asRbm(model: TrainableEnergy): Rbm {
  if (!(model instanceof Rbm))
    throw new TypeError("the RBM Jarzynski objective trains an Rbm (energies/rbm.ts)");
  return model;
}

function checkCount(name: string, n: number): void {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`${name} must be an integer ≥ 1, got ${n}`);
}

export function rbmJarzynski(opts: RbmJarzynskiOptions): RbmJarzynskiObjective {
  const n = opts.walkers;
  checkCount("walkers", n);
  const sweeps = opts.sweeps ?? 1;
  checkCount("sweeps", sweeps);
  const threshold = opts.resample ?? 0.5;
  if (!(threshold >= 0 && threshold <= 1)) throw new RangeError("resample threshold must be in [0, 1]");
  const nEst = opts.estimator?.walkers ?? 0;
  if (!(Number.isInteger(nEst) && nEst >= 0))
    throw new RangeError(`estimator walkers must be an integer ≥ 0, got ${nEst}`);
  const islands = opts.estimator?.islands ?? 1;
  if (!(Number.isInteger(islands) && islands >= 1))
    throw new RangeError(`estimator islands must be an integer ≥ 1, got ${islands}`);
  if (nEst > 0 && 2 * islands > nEst)
    throw new RangeError(`estimator islands (${islands}) need at least 2 walkers each, got ${nEst} walkers`);
  /** Island r's walkers: the N walkers split into blocks whose sizes differ by at most one. */
  const islandSize = (r: number) => Math.floor(((r + 1) * nEst) / islands) - Math.floor((r * nEst) / islands);
  const multinomial = (opts.scheme ?? "multinomial") === "multinomial";
  const what = "rbm_jarzynski";

  // Scratch (no state: every value is recomputed before it is read).
  let kernels: RbmKernels | undefined = opts.kernels;
  const ws = new RbmWorkspace();
  let rows = new Uint8Array(0);
  let probs = new Float32Array(0);
  let omega = new Float64Array(0);
  const weights = new Float64Array(n);
  let pw = new Float64Array(0);
  const kern = () => (kernels ??= defaultRbmKernels());

  function start(key: Key, rbm: Rbm, m: number): RbmWalkerPopulation {
    const { visible: nv, hidden: nh } = rbm;
    const v = new Uint8Array(m * nv);
    const rng = new Stream(key);
    for (let s = 0; s < m; s++)
      for (let i = 0; i < nv; i++) v[s * nv + i] = rng.uniform() < sigmoid(rbm.b[i]) ? 1 : 0;
    const u = new Float64Array(m);
    kern().freeEnergy(rbm, v, m, u, ws);
    const logw = new Float64Array(m);
    if (rbm.W.some((x) => x !== 0)) {
      let cTerm = 0;
      for (let j = 0; j < nh; j++) cTerm += softplus(rbm.c[j]);
      for (let s = 0; s < m; s++) {
        let fBase = -cTerm;
        for (let i = 0; i < nv; i++) if (v[s * nv + i] !== 0) fBase -= rbm.b[i];
        logw[s] = fBase - u[s];
      }
    }
    const walkers = weightedWalkers(
      { n: m, dim: nv, position: Float64Array.from(v), u, grad: new Float64Array(m * nv) },
      logw,
    );
    return {
      walkers,
      v,
      h: new Uint8Array(m * nh),
      increments: new Float64Array(m),
      essBefore: walkerEss(walkers),
      resampled: false,
      health: walkerHealthStats(m),
    };
  }

  /** Reweights one population from θ_k (its cached u) to θ_{k+1} (the model now), resamples, moves. */
  function advance(key: Key, p: RbmWalkerPopulation, rbm: Rbm): void {
    const [kResample, kMove] = split(key, 2);
    const k = kern();
    const w = p.walkers;
    const m = w.n;
    const inc = p.increments;
    k.freeEnergy(rbm, p.v, m, inc, ws);
    for (let i = 0; i < m; i++) {
      const fNew = inc[i];
      inc[i] = w.u[i] - fNew;
      w.u[i] = fNew;
      w.logw[i] += inc[i];
    }
    const spread = incrementSpread(inc, m);
    const retired = retireNonFinite(w, what);
    p.essBefore = walkerEss(w);
    p.resampled = maybeResample(kResample, w, threshold, opts.scheme, p.essBefore);
    recordWeightUpdate(p.health, p.essBefore, p.resampled, spread);
    if (p.resampled || retired > 0) for (let q = 0; q < p.v.length; q++) p.v[q] = w.position[q];
    const chains: GibbsChains = { n: m, v: p.v, h: p.h };
    k.gibbsSweep(rbm, kMove, chains, sweeps, 1, ws);
    for (let q = 0; q < p.v.length; q++) w.position[q] = p.v[q];
    k.freeEnergy(rbm, p.v, m, w.u, ws);
  }

  return {
    name: "rbm_jarzynski",
    init(key, model) {
      const rbm = asRbm(model);
      const main = start(key, rbm, n);
      // Its own key, so that adding an estimator leaves the training run unchanged; island r > 0 folds r in.
      const kEst = foldIn(key, ESTIMATOR);
      const estimator = nEst > 0 ? start(kEst, rbm, islandSize(0)) : null;
      const state: RbmJarzynskiState = { ...main, logZBase: independentUnitsLogZ(rbm), estimator };
      if (nEst > 0 && islands > 1)
        state.estimatorIslands = Array.from({ length: islands - 1 }, (_, r) =>
          start(foldIn(kEst, r + 1), rbm, islandSize(r + 1)),
        );
      return state;
    },
    gradient(_key: Key, s, model, batch: Batch, grad) {
      const rbm = asRbm(model);
      const { visible: nv, hidden: nh } = rbm;
      const nb = batch.n;
      const total = nb + n;
      // Data rows then walker rows, one product for all their hidden probabilities.
      if (rows.length < total * nv) rows = new Uint8Array(total * nv);
      if (probs.length < total * nh) probs = new Float32Array(total * nh);
      if (omega.length < total) omega = new Float64Array(total);
      if (pw.length < nh) pw = new Float64Array(nh);
      for (let q = 0; q < nb * nv; q++) {
        const x = batch.x[q];
        if (x !== 0 && x !== 1)
          throw new RangeError(
            `RBM training data must be 0/1, found ${x} at row ${Math.floor(q / nv)}, column ${q % nv}`,
          );
        rows[q] = x;
      }
      rows.set(s.v, nb * nv);
      kern().hiddenProbs(rbm, rows, total, 1, probs, ws);
      walkerWeights(s.walkers, weights);
      omega.fill(1 / nb, 0, nb);
      for (let i = 0; i < n; i++) omega[nb + i] = -weights[i];
      // grad = Σ_r ω_r ∂θF(v_r), with ∂F/∂W_ij = −v_i σ_j, ∂F/∂b_i = −v_i, ∂F/∂c_j = −σ_j.
      const ob = nv * nh;
      const oc = ob + nv;
      grad.fill(0);
      for (let r = 0; r < total; r++) {
        const om = omega[r];
        if (om === 0) continue;
        for (let j = 0; j < nh; j++) {
          pw[j] = om * probs[r * nh + j];
          grad[oc + j] -= pw[j];
        }
        for (let i = 0; i < nv; i++) {
          if (rows[r * nv + i] === 0) continue;
          grad[ob + i] -= om;
          const row = i * nh;
          for (let j = 0; j < nh; j++) grad[row + j] -= pw[j];
        }
      }
    },
    afterUpdate(key, s, model) {
      const rbm = asRbm(model);
      advance(key, s, rbm);
      const kEst = foldIn(key, ESTIMATOR);
      if (s.estimator) advance(kEst, s.estimator, rbm);
      s.estimatorIslands?.forEach((p, r) => advance(foldIn(kEst, r + 1), p, rbm));
    },
    diagnostics(s) {
      const est = s.estimator;
      const more = s.estimatorIslands ?? [];
      return Object.assign(
        walkerDiagnostics(s, multinomial, s.logZBase),
        est
          ? {
              estimator:
                more.length > 0
                  ? islandEstimatorDiagnostics([est, ...more], s.logZBase)
                  : estimatorDiagnostics(est, multinomial, s.logZBase),
            }
          : {},
      );
    },
  };
}
