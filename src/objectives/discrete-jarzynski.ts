/**
 * Jarzynski-reweighted SMC training on binary data (seed 000, the discrete section, eqs. 4–6) for a
 * network energy U_θ read at 0/1 points (any TrainableEnergy whose inputs are the d sites). N walkers
 * X_k ∈ {0,1}^d carry float64 log-weights A_k such that softmax(A_k) makes them weighted samples of
 * ρ_θk ∝ e^{−U_θk} and (1/N) Σ e^{A_k} estimates Z_θk / 2^d. Per iteration k:
 *   gradient:    ∇_k = E_data[∂θU_θk] − Σ_i softmax(A_k)_i ∂θU_θk(X_k^i) (the trainer's descent convention);
 *   afterUpdate: with θ_{k+1} in the model, A_{k+1} = A_k + U_θk(X_k) − U_θk+1(X_k) (eq. 5; the AIS weight,
 *                Neal 2001), resampling when ESS < threshold·N, then `steps` moves under θ_{k+1}
 *                (Gibbs-with-Gradients, Grathwohl et al. 2021, or DMALA, Zhang et al. 2022; discrete-move.ts),
 *                kernels that leave ρ_θk+1 invariant (eq. 4), so no move term enters the weights.
 * Then E_θk[∂θU] = E[e^{A_k} ∂θU(X_k)]/E[e^{A_k}] and Z_θk = 2^d·E[e^{A_k}] (eq. 6 with the uniform start).
 *
 * The start: N exact uniform draws from {0,1}^d with A_0 = −U_θ0(X_0): importance weights from the uniform
 * distribution (Z = 2^d) to ρ_θ0, so log Z_θ0 = d·log 2 + log mean e^{−U_θ0(X_0)}, and every later estimate
 * is log Z_θk = d·log 2 + logZRatio (smc/walkers.ts), with a Lee–Whiteley standard error (multinomial
 * resampling only; NaN under another scheme).
 *
 * The estimator population. The training walkers' own estimate drifts below the truth: every update is
 * partly driven by their own noise, and that part raises U where they sit (objectives/jarzynski.ts). A
 * decoupled population (`estimator`) follows the same θ path with its own draws, weights, resamplings and
 * moves, never feeds the gradient, and so gives an unbiased running estimate of Z_θk with its SE.
 * Health is recorded per weight update as in objectives/jarzynski.ts (smc/health.ts).
 *
 * Keys: `gradient` draws nothing; `afterUpdate`'s key is split into the resampling key and the moves' key
 * (the estimator uses foldIn(key, 0x657374) the same way), so afterUpdate can also be driven along a
 * prescribed θ path without the trainer.
 *
 * Cost per iteration: the parameter gradient over minibatch and walkers, one U and ∇U at the old states
 * under θ_{k+1} (the weight update, and the cache the first move needs), one per move step at the proposals.
 */
import type { TrainableEnergy } from "../energies/contract.ts";
import type { ResamplingScheme } from "../math/resampling.ts";
import { foldIn, type Key, split } from "../random/key.ts";
import {
  type AbsoluteLogZ,
  type EstimatorWalkerDiagnostics,
  estimatorDiagnostics,
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
import {
  chainsOf,
  copyBitsToRows,
  copyRowsToBits,
  type DiscreteMoveOptions,
  type MoveStats,
  moveStats,
  resolveDiscreteMove,
  runMoves,
  uniformStates,
} from "./discrete-move.ts";
import { likelihoodGradient, type Objective, type ObjectiveDiagnostics } from "./objective.ts";

export interface DiscreteJarzynskiOptions extends DiscreteMoveOptions {
  /** Number of training walkers N. */
  walkers: number;
  /** Resample when ESS < resample·N; 0 never resamples. Default 0.5. */
  resample?: number;
  /** Default multinomial (the only scheme with a standard error for log Z). */
  scheme?: ResamplingScheme;
  /** A decoupled estimator population of this many walkers (default none; see the module comment). */
  estimator?: { walkers: number };
}

/** One population of weighted binary walkers. */
export interface DiscreteWalkerPopulation {
  /** Positions as 0/1 float64 rows (N × d) with U_θ and ∇ₓU_θ at them under the model's current θ. */
  walkers: WeightedWalkers;
  /** The same states as bytes (what the kernels read). */
  x: Uint8Array;
  /** Log-weight increments U_θk − U_θk+1 of the last update. */
  increments: Float64Array;
  /** ESS of the last update before resampling (initially the start's ESS), and whether it resampled. */
  essBefore: number;
  resampled: boolean;
  health: WalkerHealthStats;
  moves: MoveStats;
}

export interface DiscreteJarzynskiState extends DiscreteWalkerPopulation {
  /** d·log 2: log Z of the uniform start, the reference of logZRatio. */
  logZBase: number;
  /** Scratch for the normalised weights of the gradient. */
  weights: Float64Array;
  estimator: DiscreteWalkerPopulation | null;
}

interface MoveAcceptance {
  /** Mean acceptance of the moves so far (NaN before any). */
  acceptance: number;
}

/** logZBase is d·log 2 (the uniform start). */
export type DiscreteJarzynskiDiagnostics = ObjectiveDiagnostics &
  WalkerDiagnostics &
  AbsoluteLogZ &
  MoveAcceptance;

export type DiscreteEstimatorDiagnostics = EstimatorWalkerDiagnostics &
  Pick<AbsoluteLogZ, "logZ"> &
  MoveAcceptance;

export interface DiscreteJarzynskiObjective extends Objective<DiscreteJarzynskiState> {
  diagnostics(
    state: DiscreteJarzynskiState,
  ): DiscreteJarzynskiDiagnostics & { estimator?: DiscreteEstimatorDiagnostics };
}

/** The estimator population's key offset ("est"), as in objectives/jarzynski.ts. */
const ESTIMATOR = 0x657374;

export function discreteJarzynski(opts: DiscreteJarzynskiOptions): DiscreteJarzynskiObjective {
  const n = opts.walkers;
  if (!(Number.isInteger(n) && n >= 1))
    throw new RangeError(`jarzynski: walkers must be an integer ≥ 1, got ${n}`);
  const threshold = opts.resample ?? 0.5;
  if (!(threshold >= 0 && threshold <= 1)) throw new RangeError("resample threshold must be in [0, 1]");
  const nEst = opts.estimator?.walkers ?? 0;
  if (!(Number.isInteger(nEst) && nEst >= 0))
    throw new RangeError(`estimator walkers must be an integer ≥ 0, got ${nEst}`);
  const move = resolveDiscreteMove(opts, "discrete jarzynski");
  const multinomial = (opts.scheme ?? "multinomial") === "multinomial";
  const what = `discrete jarzynski (${move.name} move)`;

  function start(key: Key, model: TrainableEnergy, m: number): DiscreteWalkerPopulation {
    const d = model.dim;
    const x = uniformStates(key, m, d);
    const position = new Float64Array(m * d);
    copyBitsToRows(x, position);
    const u = new Float64Array(m);
    const grad = new Float64Array(m * d);
    move.kernel(model).refresh(chainsOf(x, u, grad, d));
    // A_0 = −U_θ0: importance weights from the uniform start to ρ_θ0.
    const logw = new Float64Array(m);
    for (let i = 0; i < m; i++) logw[i] = -u[i];
    const walkers = weightedWalkers({ n: m, dim: d, position, u, grad }, logw);
    return {
      walkers,
      x,
      increments: new Float64Array(m),
      essBefore: walkerEss(walkers),
      resampled: false,
      health: walkerHealthStats(m),
      moves: moveStats(),
    };
  }

  /** Reweights one population from θ_k (its cached U) to θ_{k+1} (the model now), resamples, moves. */
  function advance(key: Key, p: DiscreteWalkerPopulation, model: TrainableEnergy): void {
    const [kResample, kMove] = split(key, 2);
    const w = p.walkers;
    const m = w.n;
    const kernel = move.kernel(model);
    const chains = chainsOf(p.x, w.u, w.grad, w.dim);
    const inc = p.increments;
    inc.set(w.u);
    kernel.refresh(chains); // U_θk+1 and its gradient at X_k: the weight update and the first move's cache
    for (let i = 0; i < m; i++) {
      inc[i] -= w.u[i];
      w.logw[i] += inc[i];
    }
    const spread = incrementSpread(inc, m);
    const retired = retireNonFinite(w, what);
    p.essBefore = walkerEss(w);
    p.resampled = maybeResample(kResample, w, threshold, opts.scheme, p.essBefore);
    recordWeightUpdate(p.health, p.essBefore, p.resampled, spread);
    if (p.resampled || retired > 0) copyRowsToBits(w.position, p.x);
    runMoves(kMove, kernel, chains, move.steps, p.moves);
    copyBitsToRows(p.x, w.position);
  }

  const acceptance = (s: MoveStats) => (s.proposals > 0 ? s.acceptSum / s.proposals : Number.NaN);

  return {
    name: "jarzynski",
    init(key, model) {
      const main = start(key, model, n);
      // Its own key, so that adding an estimator leaves the training run unchanged.
      const estimator = nEst > 0 ? start(foldIn(key, ESTIMATOR), model, nEst) : null;
      return { ...main, logZBase: model.dim * Math.LN2, weights: new Float64Array(n), estimator };
    },
    gradient(_key, s, model, batch, grad) {
      walkerWeights(s.walkers, s.weights);
      likelihoodGradient(model, batch, s.walkers.position, n, s.weights, grad);
    },
    afterUpdate(key, s, model) {
      advance(key, s, model);
      if (s.estimator) advance(foldIn(key, ESTIMATOR), s.estimator, model);
    },
    diagnostics(s) {
      const est = s.estimator;
      return Object.assign(walkerDiagnostics(s, multinomial, s.logZBase), {
        acceptance: acceptance(s.moves),
        ...(est
          ? {
              estimator: Object.assign(estimatorDiagnostics(est, multinomial, s.logZBase), {
                acceptance: acceptance(est.moves),
              }),
            }
          : {}),
      });
    },
  };
}
