/**
 * The neural critic: the library's MLP energy read as a critic v(x) = −U_θ(x), fitted by Adam to maximise
 *
 *   J(θ) = (1/n_P) Σ_i a(v(x_i)) − (1/n_Q) Σ_j b(v(y_j)) − (λ/2) Π_l ‖W_l‖²_F
 *
 * The penalty is on the weight matrices W_l (the biases are free), and it is a product: Π_l ‖W_l‖_F bounds
 * the network's Lipschitz constant (times the activation's, about 1.1 for silu), so the penalty controls
 * how much the critic can vary over the data — what KALE needs to stay finite when P and Q have disjoint
 * supports (the seed's Lipschitz condition). A plain sum Σ_l ‖W_l‖² would not: scaling every layer by s
 * scales the output like s^L and the penalty only like s², so on disjoint supports the penalised objective
 * would be unbounded. With v = −U the gradient of −J is one weighted parameter gradient of U over the P
 * and Q points together — weights a'(v_i)/n_P on P and −b'(v_j)/n_Q on Q — plus the penalty's
 * λ·W_l·Π_{k≠l} ‖W_k‖²_F: one backward pass per step (src/energies/contract.ts, `paramGrad`).
 *
 * Start: the hidden layers as `createMlpEnergy` initialises them from the key, the last layer's weights
 * zero and its bias −terms.neutral, so the critic starts at the output that is optimal when P = Q, where
 * J = 0. Steps use every training point while a sample has at most `batchSize` of them, else `batchSize`
 * points of each sample drawn with replacement from a stream keyed by the step. The rate decays from lr to
 * lr/10 (cosine), and gradients are clipped to global norm 10.
 *
 * Early stopping (f-divergences): given validation points, the parameters are saved every `checkEvery`
 * steps (not at the start: the constant critic is no candidate); each snapshot's critic, clipped to the
 * quantiles of its training values (src/divergences/select.ts), is evaluated on them and the best
 * snapshot is kept — an MLP trained long on a bound with an unbounded conjugate overfits into a spiky
 * critic. (Not the one-SE rule of the RKHS fit: with a few hundred validation points and heavy-tailed
 * integrands it kept barely trained snapshots.) KALE's critic is not stopped early: KALE is the
 * penalised maximum.
 *
 * For KALE (v = −f, f the seed's energy) the critic's U is f itself: the fitted MLP energy is the
 * energy of the reweighted model Q·e^{−f}/Z that approximates P (Arbel, Zhou & Gretton 2021).
 */
import type { MlpActivation, MlpEnergy } from "../energies/mlp.ts";
import { createMlpEnergy } from "../energies/mlp.ts";
import { NumericalError } from "../math/errors.ts";
import type { Key } from "../random/key.ts";
import { foldIn, Stream } from "../random/key.ts";
import { adam, applyUpdates, chain, clipByGlobalNorm, cosineDecay } from "../train/optim.ts";
import type { BoundTerms } from "./f-divergences.ts";
import { clipRange, clipValues, type ValidationValues, validationBound } from "./select.ts";

export interface MlpCriticOptions {
  /** Hidden widths (default [64, 64]). */
  hidden?: readonly number[];
  /** Hidden activation (default "silu"). */
  activation?: MlpActivation;
  /** Adam steps (default 1000). */
  steps?: number;
  /** Initial learning rate (default 3e-3). */
  lr?: number;
  /** λ ≥ 0 in the Lipschitz penalty (λ/2)Π_l‖W_l‖²_F (default 0; KALE's λ when the critic is KALE's). */
  weightPenalty?: number;
  /** Points of each sample per step (default 2048). */
  batchSize?: number;
  /** Run the MLP on this backend instead of the selected one. */
  backend?: string;
  /** With validation points (f-divergences): check the critic every this many steps (default 25). */
  checkEvery?: number;
}

/** Points the fit is checked on, for early stopping (module comment). */
export interface CriticValidation {
  xP: Float64Array;
  nP: number;
  xQ: Float64Array;
  nQ: number;
}

export interface AdamReport {
  method: "adam";
  steps: number;
  /** With validation points: the step whose parameters were kept (early stopping). */
  keptStep?: number;
  /** The penalised objective J on all training points after the last step. */
  objective: number;
  /** (λ/2)Π_l‖W_l‖²_F after the last step. */
  penalty: number;
}

export interface FittedMlpCritic {
  /** v(x_i) = −U_θ(x_i) for the n points of x, into out. */
  values(x: Float64Array, n: number, out?: Float64Array): Float64Array;
  readonly energy: MlpEnergy;
  report: AdamReport;
  dispose(): void;
}

/** For every entry of θ, its layer's index if it is a weight-matrix entry, −1 for a bias (src/energies/mlp.ts). */
function weightLayers(widths: number[]): Int8Array {
  let n = 0;
  for (let l = 0; l + 1 < widths.length; l++) n += widths[l] * widths[l + 1] + widths[l + 1];
  const layer = new Int8Array(n).fill(-1);
  let off = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    layer.fill(l, off, off + widths[l] * widths[l + 1]);
    off += widths[l] * widths[l + 1] + widths[l + 1];
  }
  return layer;
}

/**
 * The Lipschitz penalty (λ/2)·Π_l ‖W_l‖²_F and, into `grad` (added), its gradient λ·W_l·Π_{k≠l} ‖W_k‖²_F.
 */
export function lipschitzPenalty(
  theta: Float64Array,
  layer: Int8Array,
  layers: number,
  lambda: number,
  grad?: Float64Array,
): number {
  if (lambda === 0) return 0;
  const sq = new Float64Array(layers);
  for (let i = 0; i < theta.length; i++) if (layer[i] >= 0) sq[layer[i]] += theta[i] * theta[i];
  let prod = 1;
  for (const v of sq) prod *= v;
  if (grad) {
    const others = Array.from(sq, (_, l) => sq.reduce((acc, v, k) => (k === l ? acc : acc * v), 1));
    for (let i = 0; i < theta.length; i++) if (layer[i] >= 0) grad[i] += lambda * others[layer[i]] * theta[i];
  }
  return 0.5 * lambda * prod;
}

/** Fits an MLP critic on P (nP × dim) and Q (nQ × dim) (module comment). */
export async function fitMlpCritic(
  terms: BoundTerms,
  xP: Float64Array,
  nP: number,
  xQ: Float64Array,
  nQ: number,
  dim: number,
  key: Key,
  opts: MlpCriticOptions = {},
  validation?: CriticValidation,
): Promise<FittedMlpCritic> {
  const hidden = [...(opts.hidden ?? [64, 64])];
  const steps = opts.steps ?? 1000;
  const lr = opts.lr ?? 3e-3;
  const lambda = opts.weightPenalty ?? 0;
  const batchSize = opts.batchSize ?? 2048;
  const checkEvery = opts.checkEvery ?? 25;
  if (!(Number.isInteger(checkEvery) && checkEvery >= 1))
    throw new RangeError(`checkEvery must be an integer ≥ 1, got ${checkEvery}`);
  if (!(Number.isInteger(steps) && steps >= 0))
    throw new RangeError(`steps must be an integer ≥ 0, got ${steps}`);
  if (!(lr > 0)) throw new RangeError(`lr must be positive, got ${lr}`);
  if (!(lambda >= 0 && Number.isFinite(lambda)))
    throw new RangeError(`weightPenalty must be ≥ 0, got ${lambda}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 1))
    throw new RangeError(`batchSize must be an integer ≥ 1, got ${batchSize}`);
  const [initKey, batchKey] = [foldIn(key, 1), foldIn(key, 2)];
  const energy = await createMlpEnergy(
    { inputDim: dim, hidden, activation: opts.activation ?? "silu" },
    initKey,
    opts.backend === undefined ? {} : { backend: opts.backend },
  );
  try {
    const widths = [dim, ...hidden, 1];
    const layer = weightLayers(widths);
    const layers = widths.length - 1;
    const theta = energy.getParams();
    const last = hidden[hidden.length - 1];
    theta.fill(0, theta.length - last - 1, theta.length - 1);
    theta[theta.length - 1] = -terms.neutral;
    energy.setParams(theta);

    const bP = Math.min(nP, batchSize);
    const bQ = Math.min(nQ, batchSize);
    const full = bP === nP && bQ === nQ;
    const nb = bP + bQ;
    const xb = new Float64Array(nb * dim);
    if (full) {
      xb.set(xP.subarray(0, nP * dim));
      xb.set(xQ.subarray(0, nQ * dim), nP * dim);
    }
    const u = new Float64Array(nb);
    const w = new Float64Array(nb);
    const grad = new Float64Array(energy.numParams);
    const opt = chain(clipByGlobalNorm(10), adam(cosineDecay(lr, Math.max(1, steps), 0.1)));
    let state = opt.init(theta);
    const values = (x: Float64Array, n: number, out = new Float64Array(n)) => {
      energy.energy(x, n, out);
      for (let i = 0; i < n; i++) out[i] = -out[i];
      return out;
    };
    const snapshots: (ValidationValues & { step: number; theta: Float64Array })[] = [];
    const snapshot = (step: number) => {
      if (!validation) return;
      const range = clipRange(values(xP, nP), values(xQ, nQ));
      snapshots.push({
        step,
        theta: theta.slice(),
        vP: clipValues(values(validation.xP, validation.nP), range),
        vQ: clipValues(values(validation.xQ, validation.nQ), range),
      });
    };
    for (let t = 0; t < steps; t++) {
      if (!full) {
        const s = new Stream(foldIn(batchKey, t));
        for (let i = 0; i < bP; i++) {
          const r = s.integer(nP);
          xb.set(xP.subarray(r * dim, r * dim + dim), i * dim);
        }
        for (let j = 0; j < bQ; j++) {
          const r = s.integer(nQ);
          xb.set(xQ.subarray(r * dim, r * dim + dim), (bP + j) * dim);
        }
      }
      energy.energy(xb, nb, u);
      for (let i = 0; i < bP; i++) w[i] = terms.da(-u[i]) / bP;
      for (let j = 0; j < bQ; j++) w[bP + j] = -terms.db(-u[bP + j]) / bQ;
      energy.paramGrad(xb, nb, w, grad);
      lipschitzPenalty(theta, layer, layers, lambda, grad);
      for (let i = 0; i < grad.length; i++)
        if (!Number.isFinite(grad[i]))
          throw new NumericalError(
            `the MLP critic's gradient is not finite at step ${t}: lower the learning rate or add a weight penalty`,
          );
      const r = opt.update(grad, state, theta);
      state = r.state;
      applyUpdates(theta, r.updates);
      energy.setParams(theta);
      if ((t + 1) % checkEvery === 0 || t + 1 === steps) snapshot(t + 1);
    }
    let keptStep: number | undefined;
    if (snapshots.length > 0) {
      const scores = snapshots.map((c) => validationBound(terms, c));
      const kept = snapshots[bestIndex(scores)];
      keptStep = kept.step;
      theta.set(kept.theta);
      energy.setParams(theta);
    }
    const vP = values(xP, nP);
    const vQ = values(xQ, nQ);
    let sa = 0;
    for (let i = 0; i < nP; i++) sa += terms.a(vP[i]);
    let sb = 0;
    for (let j = 0; j < nQ; j++) sb += terms.b(vQ[j]);
    const penalty = lipschitzPenalty(theta, layer, layers, lambda);
    const objective = sa / nP - sb / nQ - penalty;
    if (!Number.isFinite(objective))
      throw new NumericalError("the MLP critic's objective is not finite: lower the learning rate");
    return {
      values,
      energy,
      report: { method: "adam", steps, ...(keptStep !== undefined ? { keptStep } : {}), objective, penalty },
      dispose: () => energy.dispose(),
    };
  } catch (e) {
    energy.dispose();
    throw e;
  }
}

function bestIndex(scores: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  return best;
}
