/**
 * CD-k and PCD-k for the RBM (energies/rbm.ts) as an Objective, so that an RBM trains through the
 * library's trainer and optimizers like every other model:
 *
 *   train({ model: rbm, objective: rbmContrastiveDivergence({ k: 1 }), optimizer: sgd(0.01), data, … })
 *
 * The loss is the negative log-likelihood E_data[F] + log Z. `gradient` writes the CD/PCD estimate of its
 * gradient, E_data[∂θF] − E_model[∂θF] (the trainer's descent convention, as for every objective),
 * computed by the RBM kernels (native when the addon is selected; RbmKernels.cdGradient) with the hidden
 * probabilities p(h | v) in both terms, at β = 1.
 *  - CD-k: m = n negative chains start at the batch and take k block-Gibbs sweeps under θ_k.
 *  - PCD-k (`persistentChains: m`): m chains persist across iterations; each iteration moves them k sweeps
 *    under θ_k, then takes the model term from them (Tieleman 2008). They start at independent draws of
 *    the initial model's visible-bias-only approximation, v_i ~ Bern(σ(b_i)).
 *
 * Data: the batch rows (float64, n × V) must be 0/1 visible states; they are converted to bytes at every
 * iteration. Precision: θ in the trainer and the optimizer is float64; the model holds its float32
 * rounding (Rbm.setParams), which is what the kernels read.
 */
import type { TrainableEnergy } from "../energies/contract.ts";
import { Rbm } from "../energies/rbm.ts";
import { sigmoid } from "../math/logistic.ts";
import { type Key, Stream } from "../random/key.ts";
import {
  createGibbsChains,
  createGradient,
  defaultRbmKernels,
  type GibbsChains,
  type RbmGradient,
  type RbmKernels,
  RbmWorkspace,
} from "../rbm/kernels.ts";
import type { Batch, Objective } from "./objective.ts";

export interface RbmCdOptions {
  /** Block-Gibbs sweeps of the negative chains per iteration (default 1). */
  k?: number;
  /** Number of persistent chains: PCD-k. Without it, CD-k (chains restart at the batch). */
  persistentChains?: number;
  /** Default: the selected backend's kernels at `init` (native when the addon is loaded). */
  kernels?: RbmKernels;
}

export interface RbmCdState {
  readonly kernels: RbmKernels;
  readonly workspace: RbmWorkspace;
  /** The last gradient, float32 in the parameters' shapes. */
  readonly grad: RbmGradient;
  /** The batch as bits (grown as needed). */
  bits: Uint8Array;
  /** PCD's chains (undefined for CD). */
  readonly persistent?: GibbsChains;
}

function asRbm(model: TrainableEnergy): Rbm {
  if (!(model instanceof Rbm))
    throw new TypeError("the RBM CD/PCD objective trains an Rbm (energies/rbm.ts)");
  return model;
}

/** The batch rows as 0/1 bytes; throws on any other value. */
function toBits(batch: Batch, dim: number, out: Uint8Array): Uint8Array {
  const len = batch.n * dim;
  const bits = out.length >= len ? out : new Uint8Array(len);
  for (let q = 0; q < len; q++) {
    const x = batch.x[q];
    if (x !== 0 && x !== 1)
      throw new RangeError(
        `RBM training data must be 0/1, found ${x} at row ${Math.floor(q / dim)}, column ${q % dim}`,
      );
    bits[q] = x;
  }
  return bits;
}

export function rbmContrastiveDivergence(opts: RbmCdOptions = {}): Objective<RbmCdState> {
  const k = opts.k ?? 1;
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`CD needs k ≥ 1 sweeps, got ${k}`);
  const m = opts.persistentChains;
  if (m !== undefined && !(Number.isInteger(m) && m >= 1))
    throw new RangeError(`persistentChains must be an integer ≥ 1, got ${m}`);
  return {
    name: m === undefined ? "rbm_cd" : "rbm_pcd",
    init(key, model) {
      const rbm = asRbm(model);
      let persistent: GibbsChains | undefined;
      if (m !== undefined) {
        persistent = createGibbsChains(rbm, m);
        const rng = new Stream(key);
        const nv = rbm.visible;
        for (let s = 0; s < m; s++)
          for (let i = 0; i < nv; i++) persistent.v[s * nv + i] = rng.uniform() < sigmoid(rbm.b[i]) ? 1 : 0;
      }
      return {
        kernels: opts.kernels ?? defaultRbmKernels(),
        workspace: new RbmWorkspace(),
        grad: createGradient(rbm),
        bits: new Uint8Array(0),
        persistent,
      };
    },
    gradient(key: Key, s, model, batch, grad) {
      const rbm = asRbm(model);
      s.bits = toBits(batch, rbm.visible, s.bits);
      s.kernels.cdGradient(rbm, key, s.bits, batch.n, k, s.grad, s.workspace, s.persistent);
      grad.set(s.grad.W, 0);
      grad.set(s.grad.b, s.grad.W.length);
      grad.set(s.grad.c, s.grad.W.length + rbm.visible);
    },
    afterUpdate() {},
    diagnostics: () => ({}),
  };
}
