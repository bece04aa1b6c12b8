/**
 * RBM workloads, defined like the PyTorch peer's of the same names (../shared/peer/bench.py): a
 * 784 × 500 Bernoulli RBM with W, b, c ~ 0.01·N(0, 1) (drawn from keyFromSeed(0), W then b then c).
 *
 * `rbm_cd1_784x500_b128`: one CD-1 SGD step on a fixed batch of 128 Bernoulli(0.5) vectors
 * (keyFromSeed(1)), lr 0.01: ph0 = σ(c + v0W), h0 and v1 sampled, ph1 probabilities, the loss gradient
 * g_W = (v1ᵀph1 − v0ᵀph0)/128, g_b = mean(v1 − v0), g_c = mean(ph1 − ph0) (cdGradient), then θ ← θ − lr·g
 * in float32 (sgdUpdate): the peer's ΔW = lr·(v0ᵀph0 − v1ᵀph1)/128. These are the kernel-level steps of the
 * library's CD objective (objectives/rbm-cd.ts) without the trainer's float64 parameter copy. The
 * parameters evolve from call to call, as in the peer.
 *
 * `rbm_ais_784x500_1000betas_100chains`: one AIS estimate of log Z of the (fixed) RBM, 1000 linear betas,
 * 100 chains, base = visible-biases-only model, one Gibbs sweep per beta (keys foldIn(keyFromSeed(2), call)).
 *
 * Both draw Bernoulli variables as u < p. The matrix products act on 0/1 states, so the typed-array kernels
 * add rows of W instead of multiplying (directly or through subset-sum tables, see src/rbm/linalg.ts);
 * `flops` counts the peer's dense GEMMs (5 of 128×784×500 for CD-1; 2 of 100×784×500 per beta for AIS),
 * so the reported GFLOP/s are "peer-equivalent".
 *
 * PCD-1 on the same RBM and batch (`rbm_pcd_784x500_b128`, 128 persistent chains) is in discrete.ts, whose
 * peer is bench/peer/discrete_bench.py.
 *
 * Kernels: defaultRbmKernels() at setup, i.e. native (native/src/rbm.cc: GEMMs on the 0/1 states, thread
 * pool) when the addon is loaded, the typed-array kernels with `--backend wasm` / EBM_BACKEND=wasm.
 */
import {
  Rbm,
  RbmWorkspace,
  Stream,
  ais,
  cdGradient,
  createGradient,
  defaultRbmKernels,
  foldIn,
  independentUnitsLogZ,
  keyFromSeed,
  sgdUpdate,
  type AisResult,
} from "../../src/node.ts";
import type { Workload } from "../workload.ts";

const NV = 784;
const NH = 500;

/** The peer's make_rbm: W, b, c ~ 0.01·N(0, 1), seed 0. */
export function makeBenchRbm(): Rbm {
  return Rbm.random(keyFromSeed(0), NV, NH, 0.01);
}

const rbmCd1: Workload = {
  name: "rbm_cd1_784x500_b128",
  description: "one CD-1 SGD step of a 784×500 Bernoulli RBM on a fixed batch of 128 (lr 0.01)",
  flops: 5 * 2 * 128 * NV * NH,
  async setup() {
    const model = makeBenchRbm();
    const batch = 128;
    const rng = new Stream(keyFromSeed(1));
    const v0 = new Uint8Array(batch * NV);
    for (let i = 0; i < v0.length; i++) v0[i] = rng.uniform() < 0.5 ? 1 : 0;
    const ws = new RbmWorkspace();
    const grad = createGradient(model);
    const key = keyFromSeed(3);
    const kernels = defaultRbmKernels();
    let call = 0;
    return () => {
      cdGradient(model, foldIn(key, call++), v0, batch, { k: 1, kernels, workspace: ws }, grad);
      sgdUpdate(model, grad, 0.01, kernels);
    };
  },
};

/** The last AIS result of the AIS workload (for reporting next to the timing). */
export const lastAis: { result?: AisResult; independentUnits?: number } = {};

const rbmAis: Workload = {
  name: "rbm_ais_784x500_1000betas_100chains",
  description:
    "AIS estimate of log Z of a 784×500 RBM: 1000 linear betas, 100 chains, one Gibbs sweep per beta",
  flops: 999 * 2 * 2 * 100 * NV * NH,
  async setup() {
    const model = makeBenchRbm();
    const ws = new RbmWorkspace();
    const key = keyFromSeed(2);
    lastAis.independentUnits = independentUnitsLogZ(model);
    const kernels = defaultRbmKernels();
    let call = 0;
    return () => {
      lastAis.result = ais(model, foldIn(key, call++), { betas: 1000, chains: 100, kernels, workspace: ws });
    };
  },
};

export const workloads: Workload[] = [rbmCd1, rbmAis];
