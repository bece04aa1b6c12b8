/**
 * Greedy layer-wise pretraining of a two-layer DBM (energies/dbm.ts) as a stack of two RBMs, each trained
 * by CD/PCD (objectives/rbm-cd.ts) through the library's trainer, then composed.
 *
 * Doubling (Salakhutdinov & Hinton 2009, §3.1; `doubling: true`, the default). In the DBM, h1 receives
 * input from both v and h2; an RBM trained alone would then be counted twice. So each RBM is trained with
 * the layer that will later get the second input doubled:
 *  - bottom: an Rbm over two copies (v, v) of the visibles with tied weights and biases, so that
 *    p(h1 | v) = σ(c + 2vᵀW1) while p(v | h1) = σ(b + W1h1);
 *  - top: an Rbm from h1 to two copies (h2, h2) of the top layer, tied, so that p(h1 | h2) = σ(b′ + 2W2h2)
 *    while p(h2 | h1) = σ(c2 + W2ᵀh1); its data are h1 ~ p(h1 | v) of the trained bottom RBM (one draw per
 *    training row).
 * The ties are kept exactly by `tiedObjective`: the copies start equal, and every tied parameter gets the
 * sum of its copies' gradients (the gradient with respect to the shared parameter), so elementwise
 * optimizers (momentum, weight decay) keep them equal bit for bit. Composed DBM: W1, b from the bottom,
 * W2, c2 from the top, and c1 = (c_bottom + b′_top)/2 — the average of the two RBMs' log-odds for h1, so
 * that the DBM's h1 input c1 + vᵀW1 + W2h2 is the mean of the two doubled inputs.
 *
 * Plain (`doubling: false`): RBMs V×H1 and H1×H2 trained as they are and composed the same way (W1, W2
 * unscaled, c1 averaged); h1 then sees both inputs at full strength, a rougher start.
 *
 * The RBMs hold float32 parameters (energies/rbm.ts); the DBM gets their float64 values.
 */
import { Dbm } from "../energies/dbm.ts";
import { Rbm } from "../energies/rbm.ts";
import { rbmContrastiveDivergence, type RbmCdOptions } from "../objectives/rbm-cd.ts";
import type { Batch, Objective } from "../objectives/objective.ts";
import { type Key, Stream, split } from "../random/key.ts";
import { sigmoid } from "../math/logistic.ts";
import { type Optimizer, sgd } from "../train/optim.ts";
import { train } from "../train/trainer.ts";

/**
 * Wraps an objective so that parameters declared equal stay equal: `pairs` = [p0, q0, p1, q1, …], and after
 * the inner gradient both θ[p] and θ[q] get grad[p] + grad[q].
 */
export function tiedObjective<S>(inner: Objective<S>, pairs: Int32Array): Objective<S> {
  if (pairs.length % 2 !== 0) throw new RangeError("tied parameters come in pairs");
  return {
    ...inner,
    name: `${inner.name}_tied`,
    gradient(key, state, model, batch, grad) {
      inner.gradient(key, state, model, batch, grad);
      for (let t = 0; t < pairs.length; t += 2) {
        const g = grad[pairs[t]] + grad[pairs[t + 1]];
        grad[pairs[t]] = g;
        grad[pairs[t + 1]] = g;
      }
    },
  };
}

/** Tied pairs of the bottom RBM over (v, v): W rows i and V + i, b_i and b_{V+i} (θ = [W, b, c]). */
function bottomPairs(nv: number, nh: number): Int32Array {
  const p: number[] = [];
  for (let i = 0; i < nv; i++) for (let j = 0; j < nh; j++) p.push(i * nh + j, (nv + i) * nh + j);
  const ob = 2 * nv * nh;
  for (let i = 0; i < nv; i++) p.push(ob + i, ob + nv + i);
  return Int32Array.from(p);
}

/** Tied pairs of the top RBM h1 → (h2, h2): W columns k and H2 + k, c_k and c_{H2+k}. */
function topPairs(n1: number, n2: number): Int32Array {
  const p: number[] = [];
  for (let j = 0; j < n1; j++) for (let k = 0; k < n2; k++) p.push(j * 2 * n2 + k, j * 2 * n2 + n2 + k);
  const oc = n1 * 2 * n2 + n1;
  for (let k = 0; k < n2; k++) p.push(oc + k, oc + n2 + k);
  return Int32Array.from(p);
}

/** θ[q] ← θ[p] for every pair. */
function applyTies(model: Rbm, pairs: Int32Array): void {
  const theta = model.getParams();
  for (let t = 0; t < pairs.length; t += 2) theta[pairs[t + 1]] = theta[pairs[t]];
  model.setParams(theta);
}

export interface DbmPretrainOptions {
  hidden1: number;
  hidden2: number;
  /** Salakhutdinov & Hinton's doubled inputs (module comment; default true). */
  doubling?: boolean;
  /** Iterations of each RBM (default 1000), or [bottom, top]. */
  iterations?: number | readonly [number, number];
  /** Minibatch size (default 100). */
  batchSize?: number;
  /** A fresh optimizer for each RBM (default sgd(0.05)); `layer` 0 is the bottom. */
  optimizer?: (layer: 0 | 1, rbm: Rbm) => Optimizer;
  /** CD-k or PCD-k settings of both RBMs (default CD-1). */
  cd?: RbmCdOptions;
  /** Initial weight sd (default 0.01; biases start at 0 unless `visibleBias` is given). */
  weightStd?: number;
  /**
   * Initial visible biases of the bottom RBM (V; each copy when doubling), e.g. the training base rates
   * (rbm/evaluate.ts `baseRateBias`, Hinton 2010 §8.1); default 0.
   */
  visibleBias?: ArrayLike<number>;
  onIteration?: (layer: 0 | 1, k: number) => void;
}

export interface DbmPretrainResult {
  model: Dbm;
  /** The trained RBMs (with their copies when doubling). */
  bottom: Rbm;
  top: Rbm;
}

/**
 * Pretrains and composes a DBM on binary data (n × V rows of 0/1). Keys: split(key, 5) — bottom init,
 * bottom training, h1 draws, top init, top training.
 */
export function pretrainDbm(
  key: Key,
  data: Batch,
  visible: number,
  opts: DbmPretrainOptions,
): DbmPretrainResult {
  const { hidden1: n1, hidden2: n2 } = opts;
  const nv = visible;
  const doubling = opts.doubling ?? true;
  const [it0, it1] =
    typeof opts.iterations === "object"
      ? opts.iterations
      : [opts.iterations ?? 1000, opts.iterations ?? 1000];
  const batchSize = opts.batchSize ?? 100;
  const makeOpt = opts.optimizer ?? (() => sgd(0.05));
  const std = opts.weightStd ?? 0.01;
  const n = data.n;
  if (data.x.length < n * nv) throw new RangeError(`data holds fewer than ${n} rows of ${nv}`);
  for (let q = 0; q < n * nv; q++)
    if (data.x[q] !== 0 && data.x[q] !== 1)
      throw new RangeError(`DBM training data must be 0/1, found ${data.x[q]} at row ${Math.floor(q / nv)}`);
  const [kInit0, kTrain0, kDraw, kInit1, kTrain1] = split(key, 5);
  const mult = doubling ? 2 : 1;

  // Bottom RBM over (v, v) (or v).
  const bottom = Rbm.random(kInit0, mult * nv, n1, std, 0);
  if (opts.visibleBias !== undefined) {
    const vb = opts.visibleBias;
    if (vb.length !== nv) throw new RangeError(`visibleBias must hold ${nv} values, got ${vb.length}`);
    const theta = bottom.getParams();
    const ob = mult * nv * n1;
    for (let c = 0; c < mult; c++)
      for (let i = 0; i < nv; i++) {
        if (!Number.isFinite(vb[i])) throw new RangeError(`visibleBias[${i}] = ${vb[i]} is not finite`);
        theta[ob + c * nv + i] = vb[i];
      }
    bottom.setParams(theta);
  }
  const bottomTies = doubling ? bottomPairs(nv, n1) : new Int32Array(0);
  applyTies(bottom, bottomTies);
  const x0 = new Float64Array(n * mult * nv);
  for (let s = 0; s < n; s++)
    for (let c = 0; c < mult; c++) x0.set(data.x.subarray(s * nv, (s + 1) * nv), (s * mult + c) * nv);
  train({
    model: bottom,
    objective: tiedObjective(rbmContrastiveDivergence(opts.cd), bottomTies),
    optimizer: makeOpt(0, bottom),
    data: { x: x0, n },
    batchSize,
    iterations: it0,
    key: kTrain0,
    onIteration: opts.onIteration && ((k) => opts.onIteration!(0, k)),
  });

  // h1 ~ p(h1 | v) of the bottom RBM (σ(c + 2vᵀW1) when doubled): the top RBM's data.
  const bits = Uint8Array.from(x0);
  const field = new Float64Array(n * n1);
  bottom.hiddenField(bits, n, field);
  const rng = new Stream(kDraw);
  const x1 = new Float64Array(n * n1);
  for (let q = 0; q < n * n1; q++) x1[q] = rng.uniform() < sigmoid(field[q]) ? 1 : 0;

  // Top RBM h1 → (h2, h2) (or h2).
  const top = Rbm.random(kInit1, n1, mult * n2, std, 0);
  const topTies = doubling ? topPairs(n1, n2) : new Int32Array(0);
  applyTies(top, topTies);
  train({
    model: top,
    objective: tiedObjective(rbmContrastiveDivergence(opts.cd), topTies),
    optimizer: makeOpt(1, top),
    data: { x: x1, n },
    batchSize,
    iterations: it1,
    key: kTrain1,
    onIteration: opts.onIteration && ((k) => opts.onIteration!(1, k)),
  });

  // Compose (module comment).
  const model = new Dbm(nv, n1, n2);
  for (let q = 0; q < nv * n1; q++) model.W1[q] = bottom.W[q];
  for (let j = 0; j < n1; j++) for (let k = 0; k < n2; k++) model.W2[j * n2 + k] = top.W[j * mult * n2 + k];
  for (let i = 0; i < nv; i++) model.b[i] = bottom.b[i];
  for (let j = 0; j < n1; j++) model.c1[j] = 0.5 * (bottom.c[j] + top.b[j]);
  for (let k = 0; k < n2; k++) model.c2[k] = top.c[k];
  return { model, bottom, top };
}
