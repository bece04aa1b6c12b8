/**
 * The hybrid objective of the classification RBM (energies/class-rbm.ts; Larochelle & Bengio 2008), on
 * labelled rows [v, y] through the model `classRbm.labelled()`:
 *
 *   L(θ) = E_data[−log p(y | v)] + α·E_data[−log p(v, y)].
 *
 * The discriminative part is exact (a sum over the K labels):
 *   ∂θ[−log p(y|v)] = ∂θF(v, y) − Σ_y' p(y'|v) ∂θF(v, y').
 * The generative part is ∂θ[−log p(v, y)] = ∂θF(v, y) − E_{p(v,y)}[∂θF], with the model expectation taken
 * at negative samples (v⁻, y⁻) of block Gibbs on the joint (h | v, y, then v | h and y | h, y exact over
 * the K labels), each row contributing ∂θF(v⁻, y⁻) (h summed out analytically):
 *  - CD-k: the chains start at the batch and take k sweeps under θ_k;
 *  - PCD-k (`persistentChains: m`): m chains persist across iterations (Tieleman 2008), started at
 *    v ~ Bern(σ(b)) under the initial model and uniform labels.
 * So grad = (1/n) Σ_s [(1 + α)∂θF(v_s, y_s) − Σ_y p(y|v_s)∂θF(v_s, y)] − (α/m) Σ_r ∂θF(v⁻_r, y⁻_r), the
 * data part in one pass per row (its free energies give p(y|v) and the σ's of the gradient).
 * α = 0 is the purely discriminative RBM (no chains are run); the paper's hybrid used α = 0.01.
 *
 * The batch rows' visible part must be 0/1 (checked). Diagnostics: `loss` is the batch's mean
 * −log p(y | v) at θ_k (the discriminative part; the generative one needs Z).
 */
import { ClassRbm, type FreeEnergyCotangent, LabelledClassRbm } from "../energies/class-rbm.ts";
import type { TrainableEnergy } from "../energies/contract.ts";
import { foldIn, type Key, Stream } from "../random/key.ts";
import type { Batch, Objective, ObjectiveDiagnostics } from "./objective.ts";

export interface ClassRbmHybridOptions {
  /** α, the weight of −log p(v, y); default 0.01. 0: discriminative only. */
  alpha?: number;
  /** Gibbs sweeps of the negative chains per iteration (default 1). */
  k?: number;
  /** Number of persistent chains: PCD-k. Without it, CD-k (chains restart at the batch). */
  persistentChains?: number;
}

export interface ClassRbmChains {
  readonly n: number;
  /** n × V visible bits. */
  readonly v: Uint8Array;
  /** n × H hidden bits of the last sweep. */
  readonly h: Uint8Array;
  /** n labels. */
  readonly y: Int32Array;
}

export interface ClassRbmHybridState {
  /** PCD's chains (undefined for CD and for α = 0). */
  persistent?: ClassRbmChains;
  /** Mean −log p(y | v) over the last batch, at θ_k. */
  loss: number;
}

export const CLASS_RBM_DEFAULT_ALPHA = 0.01;

function asClassRbm(model: TrainableEnergy): ClassRbm {
  if (!(model instanceof LabelledClassRbm))
    throw new TypeError("the classification-RBM objective trains ClassRbm.labelled() (rows [v, y])");
  return model.model;
}

function chains(model: ClassRbm, n: number): ClassRbmChains {
  return {
    n,
    v: new Uint8Array(n * model.visible),
    h: new Uint8Array(n * model.hidden),
    y: new Int32Array(n),
  };
}

export function classRbmHybrid(opts: ClassRbmHybridOptions = {}): Objective<ClassRbmHybridState> {
  const alpha = opts.alpha ?? CLASS_RBM_DEFAULT_ALPHA;
  if (!(Number.isFinite(alpha) && alpha >= 0))
    throw new RangeError(`alpha must be finite and ≥ 0, got ${alpha}`);
  const k = opts.k ?? 1;
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`CD needs k ≥ 1 sweeps, got ${k}`);
  const m = opts.persistentChains;
  if (m !== undefined && !(Number.isInteger(m) && m >= 1))
    throw new RangeError(`persistentChains must be an integer ≥ 1, got ${m}`);
  const persistent = alpha > 0 && m !== undefined;
  return {
    name:
      alpha === 0 ? "class_rbm_discriminative" : persistent ? "class_rbm_hybrid_pcd" : "class_rbm_hybrid_cd",
    init(key, model) {
      const rbm = asClassRbm(model);
      if (!persistent) return { loss: Number.NaN };
      const c = chains(rbm, m);
      const rng = new Stream(key);
      const V = rbm.visible;
      for (let s = 0; s < m; s++) {
        for (let i = 0; i < V; i++) c.v[s * V + i] = rng.uniform() < 1 / (1 + Math.exp(-rbm.b[i])) ? 1 : 0;
        c.y[s] = rng.integer(rbm.classes);
      }
      return { persistent: c, loss: Number.NaN };
    },
    gradient(key: Key, state, model, batch: Batch, grad) {
      const rbm = asClassRbm(model);
      const V = rbm.visible;
      const K = rbm.classes;
      const D = V + 1;
      const n = batch.n;
      const labels = (model as LabelledClassRbm).labels(batch.x, n);
      for (let s = 0; s < n; s++)
        for (let i = 0; i < V; i++) {
          const x = batch.x[s * D + i];
          if (x !== 0 && x !== 1)
            throw new RangeError(
              `classification-RBM training data must be 0/1, found ${x} at row ${s}, pixel ${i}`,
            );
        }
      // Data part: cotangent ((1 + α)·one-hot(y) − p(·|v)) / n.
      const p = new Float64Array(K);
      let loss = 0;
      const cot: FreeEnergyCotangent = (s, fe, coef) => {
        const y = labels[s];
        let mn = Number.POSITIVE_INFINITY;
        for (let c = 0; c < K; c++) if (fe[c] < mn) mn = fe[c];
        let z = 0;
        for (let c = 0; c < K; c++) z += p[c] = Math.exp(mn - fe[c]);
        loss += fe[y] - mn + Math.log(z);
        for (let c = 0; c < K; c++) coef[c] = ((c === y ? 1 + alpha : 0) - p[c] / z) / n;
      };
      rbm.freeEnergyVjp(batch.x, n, cot, grad, false, D);
      state.loss = loss / n;
      if (alpha === 0) return;
      // Model part: −α · mean ∂θF at the negative samples.
      let neg: ClassRbmChains;
      if (state.persistent) neg = state.persistent;
      else {
        neg = chains(rbm, n);
        for (let s = 0; s < n; s++) {
          for (let i = 0; i < V; i++) neg.v[s * V + i] = batch.x[s * D + i];
          neg.y[s] = labels[s];
        }
      }
      rbm.gibbsJoint(foldIn(key, 1), neg, neg.n, k);
      const w = new Float64Array(neg.n).fill(-alpha / neg.n);
      rbm.freeEnergyGrad(neg.v, neg.y, neg.n, w, grad, true);
    },
    afterUpdate() {},
    diagnostics: (state): ObjectiveDiagnostics => ({ loss: state.loss }),
  };
}
