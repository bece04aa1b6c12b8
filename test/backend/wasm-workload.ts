/**
 * A seeded workload on the "wasm-simd" backend, run by test/backend/wasm-kernels-browser.test.ts in headless
 * Chromium (bundled with the core entry, after the page's loadWasmKernels) and in Node: every MLP-energy
 * kernel on fixed inputs, then a short Jarzynski training run (Langevin moves, weights, resampling, Adam)
 * and its final θ. It imports the core entry only. Results are plain number arrays (JSON round-trips them).
 */
import {
  adam,
  createMlpEnergy,
  foldIn,
  jarzynski,
  keyFromSeed,
  type LangevinProposer,
  type MlpEnergy,
  mlpBackend,
  Stream,
  trainer,
} from "../../src/index.ts";

export interface WasmSimdWorkloadResult {
  backend: string;
  u: number[];
  grad: number[];
  paramGrad: number[];
  langevin: number[];
  scoreMatching: number[];
  theta: number[];
}

function normals(seed: number, len: number): Float64Array {
  return new Stream(keyFromSeed(seed)).fillNormal(new Float64Array(len)) as Float64Array;
}

export async function wasmSimdWorkload(): Promise<WasmSimdWorkloadResult> {
  const key = keyFromSeed(2024);
  const spec = { inputDim: 2, hidden: [64, 64], activation: "silu" as const, confinement: 0.05 };
  const model = (await createMlpEnergy(spec, key, { backend: "wasm-simd" })) as MlpEnergy & LangevinProposer;
  try {
    const n = 300;
    const x = normals(1, 2 * n);
    const w = new Float64Array(n).fill(1 / n);
    const u = new Float64Array(n);
    const grad = new Float64Array(2 * n);
    model.energyAndGrad(x, n, u, grad);
    const pg = new Float64Array(model.numParams);
    model.paramGrad(x, n, w, pg);
    const y = new Float64Array(2 * n);
    const uy = new Float64Array(n);
    const gy = new Float64Array(2 * n);
    model.langevinStep(x, grad, normals(2, 2 * n), n, 0.01, y, uy, gy);
    const sm = new Float64Array(model.numParams);
    const J = model.scoreMatching(x, n, w, sm);
    const t = trainer({
      model,
      objective: jarzynski({
        walkers: 400,
        step: 0.01,
        resample: 0.5,
        init: (k, _m, count) => ({ x: new Stream(k).fillNormal(new Float64Array(2 * count)) }),
      }),
      optimizer: adam(1e-3),
      data: { x: normals(3, 2 * 1000).map((v, i) => v * 0.3 + (i % 2 ? 1 : -1)), n: 1000 },
      batchSize: 200,
    });
    const state = t.init(foldIn(key, 1));
    for (let i = 0; i < 8; i++) await t.step(foldIn(key, 10 + i), state);
    return {
      backend: mlpBackend(model) ?? "",
      u: [...u],
      grad: [...grad],
      paramGrad: [...pg],
      langevin: [...y, ...uy, ...gy],
      scoreMatching: [J, ...sm],
      theta: [...model.getParams()],
    };
  } finally {
    model.dispose();
  }
}
