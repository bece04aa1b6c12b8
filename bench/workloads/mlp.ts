/**
 * MLP-energy workloads on the selected backend (src/backend/select.ts: native when the addon is built,
 * else tfjs wasm; `ebm bench --backend` forces one), with the definitions of the PyTorch peer's workloads
 * of the same names (shared/peer/bench.py, common.py): the 2→128→128→1 SiLU MLP with nn.Linear's default
 * init, float32 inside. Randomness comes from our keys (not torch's generator), so the draws differ but
 * their distributions match. The energy's methods are synchronous and return float64 results read back
 * from the backend, so every call includes the whole computation.
 */
import {
  matmulPlan,
  Stream,
  adam,
  createMlpEnergy,
  denoisingScoreMatching,
  foldIn,
  jarzynski,
  keyFromSeed,
  trainer,
  ula as ulaKernel,
  type Key,
  type MlpSpec,
} from "../../src/index.ts";
import type { Workload } from "../workload.ts";

/** The peer's shared energy MLP (no confinement term in the timing workloads). */
const MLP2D: MlpSpec = { inputDim: 2, hidden: [128, 128], activation: "silu" };
/** ULA step used by the MLP workloads. */
const H = 0.01;

/** The peer's 2-D target: 4 isotropic Gaussians, std 0.25, weights 0.2, 0.2, 0.3, 0.3. */
const GMM4_CENTERS = [
  [-1.5, 1.5],
  [1.5, 1.5],
  [1.5, -1.5],
  [-1.5, -1.5],
];
const GMM4_WEIGHTS = [0.2, 0.2, 0.3, 0.3];
const GMM4_STD = 0.25;

/** n points from the 4-Gaussian mixture, row-major [n, 2]. */
export function gmm4Sample(key: Key, n: number): Float64Array {
  const s = new Stream(key);
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const u = s.uniform();
    let k = 0;
    let acc = GMM4_WEIGHTS[0];
    while (u >= acc && k < GMM4_WEIGHTS.length - 1) acc += GMM4_WEIGHTS[++k];
    out[2 * i] = GMM4_CENTERS[k][0] + GMM4_STD * s.normal();
    out[2 * i + 1] = GMM4_CENTERS[k][1] + GMM4_STD * s.normal();
  }
  return out;
}

const ula: Workload = {
  name: "ula_mlp2d_n4096",
  description: "one ULA step x ← x − h∇U(x) + √(2h)ξ, h = 0.01, 4096 walkers, 2-128-128-1 SiLU MLP",
  async setup() {
    const key = keyFromSeed(0);
    const model = await createMlpEnergy(MLP2D, key);
    const n = 4096;
    // The library's ULA kernel: ∇U(x) cached in the state, the move and U, ∇U at the new points in one
    // call when the energy has a fused Langevin move (the native MLP does).
    const kernel = ulaKernel(model);
    const state = kernel.init(new Stream(foldIn(key, 1)).fillNormal(new Float64Array(2 * n)), n);
    const params = { step: H };
    let call = 0;
    return () => kernel.step(foldIn(key, 2 + call++), state, params);
  },
};

const paramgrad: Workload = {
  name: "paramgrad_mlp2d_n4096",
  description: "Σ_i w_i ∂θU(x_i) on 4096 fixed N(0, I) points, w = normalised U(0,1) draws",
  async setup() {
    const key = keyFromSeed(0);
    const model = await createMlpEnergy(MLP2D, key);
    const n = 4096;
    const s = new Stream(foldIn(key, 1));
    const x = s.fillNormal(new Float64Array(2 * n)) as Float64Array;
    const w = s.fillUniform(new Float64Array(n)) as Float64Array;
    const total = w.reduce((a, b) => a + b, 0);
    for (let i = 0; i < n; i++) w[i] /= total;
    const out = new Float64Array(model.numParams);
    return () => model.paramGrad(x, n, w, out);
  },
};

/**
 * One Jarzynski SMC training iteration with n walkers and a data batch of n from a 100k pool: the library's
 * trainer, one iteration per call, state carried over.
 */
function jarzynskiIter(n: number, width = 128, note = ""): Workload {
  const spec: MlpSpec = { ...MLP2D, hidden: [width, width] };
  return {
    name: `jarzynski_iter_mlp2d${width === 128 ? "" : `_w${width}`}_n${n}`,
    description: `one Jarzynski SMC training iteration: ${n} walkers, data batch ${n} from a 100k pool, h = 0.01, Adam 1e-3, resampling at ESS < N/2${note}`,
    async setup() {
      const key = keyFromSeed(0);
      const model = await createMlpEnergy(spec, key);
      const pool = gmm4Sample(foldIn(key, 3), 100000);
      const objective = jarzynski({
        walkers: n,
        step: H,
        resample: 0.5,
        // As the peer: X₀ ~ N(0, I) with A₀ = 0 (the reference for log Z is then this weighted ensemble).
        init: (k, _m, count) => ({ x: new Stream(k).fillNormal(new Float64Array(2 * count)) }),
      });
      const t = trainer({
        model,
        objective,
        optimizer: adam(1e-3),
        data: { x: pool, n: 100000 },
        batchSize: n,
      });
      const state = t.init(foldIn(key, 1));
      let k = 0;
      return () => t.step(foldIn(key, 100 + k++), state);
    },
  };
}

const exactSm: Workload = {
  name: "exact_sm_step_mlp2d_b1024",
  description:
    "batch 1024 drawn by index from a 100k 4-Gaussian pool; mean_i[½|∇U|² − ΔU] (Laplacian by a loop over " +
    "the 2 dims) and its parameter gradient",
  async setup() {
    const key = keyFromSeed(0);
    const model = await createMlpEnergy(MLP2D, key);
    const poolSize = 100_000;
    const pool = gmm4Sample(foldIn(key, 123), poolSize);
    const b = 1024;
    const batch = new Float64Array(2 * b);
    const w = new Float64Array(b).fill(1 / b);
    const out = new Float64Array(model.numParams);
    const idx = new Stream(foldIn(key, 1));
    return () => {
      for (let i = 0; i < b; i++) {
        const j = idx.integer(poolSize);
        batch[2 * i] = pool[2 * j];
        batch[2 * i + 1] = pool[2 * j + 1];
      }
      return model.scoreMatching(batch, b, w, out);
    };
  },
};

const dsm: Workload = {
  name: "dsm_step_mlp2d_b1024",
  description:
    "batch 1024 drawn by index from a 100k 4-Gaussian pool, x̃ = x + σε (σ = 0.1); the denoising score-matching " +
    "loss ½·mean|∇U(x̃) − ε/σ|² (λ = 1) and its parameter gradient, through the library's objective",
  async setup() {
    const key = keyFromSeed(0);
    const model = await createMlpEnergy(MLP2D, key);
    const poolSize = 100_000;
    const pool = gmm4Sample(foldIn(key, 123), poolSize);
    const b = 1024;
    const batch = new Float64Array(2 * b);
    const grad = new Float64Array(model.numParams);
    const objective = denoisingScoreMatching({ sigma: 0.1, weighting: "none" });
    const state = objective.init(foldIn(key, 2), model);
    const idx = new Stream(foldIn(key, 1));
    let k = 0;
    return () => {
      for (let i = 0; i < b; i++) {
        const j = idx.integer(poolSize);
        batch[2 * i] = pool[2 * j];
        batch[2 * i + 1] = pool[2 * j + 1];
      }
      objective.gradient(foldIn(key, 1000 + k++), state, model, { x: batch, n: b }, grad);
    };
  },
};

const matmul: Workload = {
  name: "matmul_1024_f32",
  description:
    "1024×1024 float32 matmul a·b (native GEMM on the thread pool, or tfjs wasm), product read back",
  flops: 2 * 1024 ** 3,
  async setup() {
    const n = 1024;
    const normals = new Stream(keyFromSeed(0)).fillNormal(new Float32Array(2 * n * n)) as Float32Array;
    const product = await matmulPlan(normals.subarray(0, n * n), normals.subarray(n * n), n, n, n);
    return () => product()[0];
  },
};

export const workloads: Workload[] = [
  ula,
  paramgrad,
  jarzynskiIter(4096),
  // The playground's scale (no peer workloads of these names): `ebm bench --host chromium` times them in a
  // browser's Web Worker, to compare with Node.
  jarzynskiIter(1000, 128, " (the browser comparison's size)"),
  jarzynskiIter(1000, 32, ", MLP 2→32→32→1 (the playground's default energy)"),
  dsm,
  exactSm,
  matmul,
];
