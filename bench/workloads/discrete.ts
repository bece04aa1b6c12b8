/**
 * Discrete-state workloads, each with a PyTorch-CPU peer doing the same work per call in
 * bench/peer/discrete_bench.py (float32, torch.set_num_threads(2), the timing protocol of
 * shared/peer/bench.py). Run both sides on the same machine, back to back:
 *
 *   npx ebm bench --only gwg_step_gray32_n1024,rbm_pcd_784x500_b128
 *   LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 bench/peer/discrete_bench.py \
 *     --out out/discrete-peer.json
 *   npx ebm bench --only gwg_step_gray32_n1024,rbm_pcd_784x500_b128 --compare out/discrete-peer.json
 *
 * (/usr/bin/python3 is Debian's python, where python3-torch lives; LD_LIBRARY_PATH picks the OpenMP
 * OpenBLAS build as shared/peer/run.sh does — without it torch falls back to whatever libblas.so.3 the
 * system alternative points at.) Randomness comes from our keys on one side and torch's generator on the
 * other, so the draws differ but their distributions match. For a like-for-like check of the arithmetic,
 * `npx tsx bench/peer/discrete-init.ts DIR` writes this file's initial network, chains, RBM and batch as
 * .npy files and prints the first call's acceptance rate and ‖ΔW‖_F here; `discrete_bench.py --init-from
 * DIR --check` starts from the very same values and prints the same quantities, plus the deterministic
 * differences: U and ∇U at the initial chains, and the log MH ratio of a fixed move (chain i flips site
 * i mod 32). Measured: U within 7e-8 (|U| ≤ 0.13), ∇U within 2e-8, log A within 5e-7 (range ±1e-3);
 * first-call acceptance 1.0 on both sides (this seed-0 network is nearly flat under single flips, so GWG
 * accepts almost everything: 0.9998 over 20 calls); first-call ‖ΔW‖_F 0.2292 (ebm) vs 0.2276 (torch).
 *
 * `gwg_step_gray32_n1024`: one Gibbs-with-Gradients step (Grathwohl et al. 2021; samplers/discrete/gwg.ts)
 * of 1024 chains on {0,1}^32 under the energy `ebm reproduce gray2d` trains at its defaults: the MLP
 * 32 → 256 → 256 → 1 (SiLU, no confinement; GRAY2D_DEFAULTS: bits 16, hidden [256, 256]) read at 0/1
 * inputs through BinaryView, its real-input gradient being the relaxation. The network is fixed at its
 * seed-0 initialisation (createMlpEnergy(…, keyFromSeed(0)): nn.Linear's default U(±1/√fan_in)); the
 * chains start at uniform random bits (foldIn(key, 1)) and carry over from call to call. Per call and
 * chain: the proposal q(i|x) = softmax_i(−½(1 − 2x_i)∇_iU(x)) from the cached U(x), ∇U(x); one site drawn
 * and flipped; U and ∇U at the 1024 proposals (one batched forward + input-gradient backward of the MLP);
 * the reverse proposal q(i|x') from ∇U(x'); accept with min(1, e^{−(U(x')−U(x))} q(i|x')/q(i|x)); on
 * acceptance the state, U and ∇U are replaced. The running acceptance rate is in `gwgStats`.
 *
 * `rbm_pcd_784x500_b128`: one PCD-1 SGD step (Tieleman 2008) of the 784 × 500 Bernoulli RBM of
 * `rbm_cd1_784x500_b128` (rbm.ts: makeBenchRbm, W, b, c ~ 0.01·N(0, 1) from keyFromSeed(0)) on the same
 * fixed batch of 128 Bernoulli(0.5) vectors (keyFromSeed(1)), lr 0.01, with 128 persistent chains carried
 * over between calls. The chains start where the library's PCD objective starts them
 * (rbmContrastiveDivergence({ persistentChains: 128 }).init, objectives/rbm-cd.ts: v ~ Bern(σ(b)), key
 * keyFromSeed(4)). Per call: ph0 = σ(c + v0W) on the batch; h ~ p(h | v) from the stored chains, v ~ p(v | h),
 * ph = σ(c + vW); g_W = (vᵀph − v0ᵀph0)/128, g_b = mean(v − v0), g_c = mean(ph − ph0) (cdGradient with
 * `persistent`, the kernel the objective calls); θ ← θ − 0.01·g in float32 (sgdUpdate). As for CD-1 this is
 * the objective's kernel-level work without the trainer's float64 parameter copy. `flops` counts the peer's
 * dense GEMMs: 4 products with W or Wᵀ (batch, chains, chains back, chains again) and 2 outer products, each
 * 2·128·784·500.
 *
 * Kernels and backend: the MLP runs on the selected backend (native addon when built, else tfjs wasm;
 * `ebm bench --backend`), the RBM on defaultRbmKernels() (native, or the typed-array kernels with
 * `--backend wasm`).
 */
import {
  BinaryView,
  RbmWorkspace,
  Stream,
  cdGradient,
  createGradient,
  createMlpEnergy,
  defaultRbmKernels,
  foldIn,
  gibbsWithGradients,
  keyFromSeed,
  rbmContrastiveDivergence,
  sgdUpdate,
  type DiscreteGradState,
  type GibbsChains,
  type Key,
  type MlpEnergy,
  type MlpSpec,
  type Rbm,
  type RbmGradient,
  type RbmKernels,
} from "../../src/node.ts";
import type { Workload } from "../workload.ts";
import { makeBenchRbm } from "./rbm.ts";

/** gray2d's default energy: 2·16 Gray-coded bits in, 256 → 256 SiLU hidden layers (GRAY2D_DEFAULTS). */
export const GRAY32_MLP: MlpSpec = { inputDim: 32, hidden: [256, 256], activation: "silu", confinement: 0 };
export const GWG_CHAINS = 1024;

export interface GwgBench {
  model: MlpEnergy;
  kernel: ReturnType<typeof gibbsWithGradients>;
  state: DiscreteGradState;
  /** Step keys are foldIn(key, 2 + call). */
  key: Key;
}

/** The GWG workload's fixed network and its 1024 chains at uniform random bits (U and ∇U cached). */
export async function makeGwgBench(): Promise<GwgBench> {
  const key = keyFromSeed(0);
  const model = await createMlpEnergy(GRAY32_MLP, key);
  const kernel = gibbsWithGradients(new BinaryView(model));
  const s = new Stream(foldIn(key, 1));
  const x0 = new Uint8Array(GWG_CHAINS * GRAY32_MLP.inputDim);
  for (let i = 0; i < x0.length; i++) x0[i] = s.uniform() < 0.5 ? 1 : 0;
  return { model, kernel, state: kernel.init(x0, GWG_CHAINS), key };
}

/** One GWG step of every chain (the workload's call number `call`); returns the number of accepted moves. */
export function gwgStep(b: GwgBench, call: number): number {
  const { info } = b.kernel.step(foldIn(b.key, 2 + call), b.state);
  let a = 0;
  for (let i = 0; i < GWG_CHAINS; i++) a += info.accepted[i];
  return a;
}

/** Acceptance of the GWG workload's calls since its setup: accepted moves / (calls · chains). */
export const gwgStats = { calls: 0, accepted: 0, firstCallAcceptance: Number.NaN };

const gwgGray32: Workload = {
  name: "gwg_step_gray32_n1024",
  description:
    "one Gibbs-with-Gradients step of 1024 chains on {0,1}^32 under gray2d's seed-0 MLP 32→256→256→1 (SiLU)",
  async setup() {
    const b = await makeGwgBench();
    gwgStats.calls = 0;
    gwgStats.accepted = 0;
    return () => {
      const a = gwgStep(b, gwgStats.calls);
      if (gwgStats.calls === 0) gwgStats.firstCallAcceptance = a / GWG_CHAINS;
      gwgStats.calls++;
      gwgStats.accepted += a;
    };
  },
};

const NV = 784;
const NH = 500;
export const PCD_BATCH = 128;
export const PCD_CHAINS = 128;
export const PCD_LR = 0.01;

export interface PcdBench {
  model: Rbm;
  /** The fixed batch, PCD_BATCH × 784 bits. */
  v0: Uint8Array;
  chains: GibbsChains;
  kernels: RbmKernels;
  workspace: RbmWorkspace;
  grad: RbmGradient;
  /** Step keys are foldIn(key, call). */
  key: Key;
}

/** The PCD workload's RBM, batch (as rbm_cd1_784x500_b128's) and persistent chains (as the PCD objective's). */
export function makePcdBench(): PcdBench {
  const model = makeBenchRbm();
  const rng = new Stream(keyFromSeed(1));
  const v0 = new Uint8Array(PCD_BATCH * NV);
  for (let i = 0; i < v0.length; i++) v0[i] = rng.uniform() < 0.5 ? 1 : 0;
  const kernels = defaultRbmKernels();
  const st = rbmContrastiveDivergence({ k: 1, persistentChains: PCD_CHAINS, kernels }).init(
    keyFromSeed(4),
    model,
  );
  return {
    model,
    v0,
    chains: st.persistent!,
    kernels,
    workspace: st.workspace,
    grad: createGradient(model),
    key: keyFromSeed(3),
  };
}

/** One PCD-1 SGD step (the workload's call). */
export function pcdStep(b: PcdBench, key: Key): void {
  const { model, v0, chains, kernels, workspace, grad } = b;
  cdGradient(model, key, v0, PCD_BATCH, { k: 1, persistent: chains, kernels, workspace }, grad);
  sgdUpdate(model, grad, PCD_LR, kernels);
}

const rbmPcd: Workload = {
  name: "rbm_pcd_784x500_b128",
  description:
    "one PCD-1 SGD step of a 784×500 Bernoulli RBM: fixed batch of 128, 128 persistent chains (lr 0.01)",
  flops: 6 * 2 * PCD_BATCH * NV * NH,
  async setup() {
    const b = makePcdBench();
    let call = 0;
    return () => pcdStep(b, foldIn(b.key, call++));
  },
};

export const workloads: Workload[] = [gwgGray32, rbmPcd];
