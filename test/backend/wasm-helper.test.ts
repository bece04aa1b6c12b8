/**
 * The wasm-simd kernels shared with a helper thread (src/backend/wasm-kernels/helper.ts): with a second
 * instance in a worker_threads Worker taking half of each large MLP call, every output is the same bits as
 * one instance's — U, ∇ₓU, the fused Langevin move, Σ w_i ∂θU, a network's forward and vjp, for row counts
 * below, at and across tile and chunk boundaries — and so is a seeded Jarzynski training run. A job too
 * large for the shared buffer runs on the caller alone, with the same bits; a helper that stops answering
 * is reported, not waited for forever.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { simdUnsupported } from "../../src/backend/wasm-kernels/instance.ts";
import type { LangevinProposer } from "../../src/energies/contract.ts";
import { createMlpEnergy, type MlpEnergy } from "../../src/energies/mlp.ts";
import { createNetwork } from "../../src/networks/network.ts";
import { foldIn, keyFromSeed, Stream } from "../../src/random/key.ts";
import {
  adam,
  attachWasmKernelsHelper,
  jarzynski,
  KERNEL_HELPER_BYTES,
  KernelHelper,
  trainer,
} from "../../src/node.ts";

const WASM_FILE = fileURLToPath(new URL("../../src/backend/wasm-kernels/ebm_kernels.wasm", import.meta.url));
const skip = !existsSync(WASM_FILE)
  ? "ebm_kernels.wasm not built (node scripts/build-wasm.mjs): skipped"
  : (simdUnsupported() ?? false);
const WASM = { backend: "wasm-simd" };

function normals(seed: number, len: number, scale = 1): Float64Array {
  const v = new Stream(keyFromSeed(seed)).fillNormal(new Float64Array(len)) as Float64Array;
  return v.map((t) => t * scale);
}

/** Starts a helper thread on a new shared buffer of `bytes`; resolves once it serves. */
async function startHelper(bytes = KERNEL_HELPER_BYTES): Promise<{ helper: KernelHelper; worker: Worker }> {
  const buffer = new SharedArrayBuffer(bytes);
  const worker = new Worker(new URL("./wasm-helper-thread.mjs", import.meta.url), {
    execArgv: [],
    workerData: { buffer, wasmFile: WASM_FILE },
  });
  await new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve());
    worker.once("error", reject);
  });
  return { helper: new KernelHelper(buffer), worker };
}

async function stopHelper(h: { helper: KernelHelper; worker: Worker }): Promise<void> {
  h.helper.stop();
  await new Promise((resolve) => h.worker.once("exit", resolve));
}

/** Runs f without and with `helper` attached; returns both results. */
async function both<T>(helper: KernelHelper, f: () => Promise<T> | T): Promise<[T, T]> {
  attachWasmKernelsHelper(undefined);
  const alone = await f();
  attachWasmKernelsHelper(helper);
  try {
    return [alone, await f()];
  } finally {
    attachWasmKernelsHelper(undefined);
  }
}

// Row counts: one tile or less (not shared), two tiles, a partial third, the Jarzynski sizes, more tiles
// than chunks (2000, 2053: chunks of several tiles, the last one partial).
const SIZES = [1, 255, 256, 257, 512, 700, 1000, 2000, 2053, 4096];

describe("wasm-simd kernels with a helper thread", { skip }, () => {
  let h: { helper: KernelHelper; worker: Worker };
  before(async () => {
    h = await startHelper();
  });
  after(async () => {
    await stopHelper(h);
  });

  test("the MLP energy's U, ∇ₓU, Langevin move and Σ w_i ∂θU are the same bits with and without it", async () => {
    const spec = { inputDim: 3, hidden: [64, 48], activation: "silu" as const, confinement: 0.01 };
    const e = (await createMlpEnergy(spec, keyFromSeed(3), WASM)) as MlpEnergy & LangevinProposer;
    const jobs0 = h.helper.jobs;
    const chunks0 = h.helper.chunks;
    try {
      for (const n of SIZES) {
        const x = normals(10 + n, 3 * n, 1.5);
        const noise = normals(20 + n, 3 * n);
        const w = normals(30 + n, n);
        const [a, b] = await both(h.helper, () => {
          const u = new Float64Array(n);
          const g = new Float64Array(3 * n);
          e.energyAndGrad(x, n, u, g);
          const u0 = new Float64Array(n);
          e.energy(x, n, u0);
          const y = new Float64Array(3 * n);
          const uy = new Float64Array(n);
          const gy = new Float64Array(3 * n);
          e.langevinStep(x, g, noise, n, 0.01, y, uy, gy);
          const pg = new Float64Array(e.numParams);
          e.paramGrad(x, n, w, pg);
          return { u, g, u0, y, uy, gy, pg };
        });
        assert.deepEqual(b, a, `n = ${n}`);
      }
      // Shared: the 4 calls at each of the 7 sizes above one tile; the helper computed some of the chunks.
      assert.equal(h.helper.jobs - jobs0, 4 * 7);
      assert.ok(h.helper.chunks - chunks0 > 0, "the helper computed no chunk");
    } finally {
      e.dispose();
    }
  });

  test("the Langevin move in place (y = x, gradY = gradX) is the same bits", async () => {
    const e = (await createMlpEnergy(
      { inputDim: 2, hidden: [32, 32], activation: "softplus" },
      keyFromSeed(4),
      WASM,
    )) as MlpEnergy & LangevinProposer;
    try {
      const n = 1000;
      const [a, b] = await both(h.helper, () => {
        const x = normals(1, 2 * n);
        const u = new Float64Array(n);
        const g = new Float64Array(2 * n);
        e.energyAndGrad(x, n, u, g);
        e.langevinStep(x, g, normals(2, 2 * n), n, 0.02, x, u, g);
        return { x, u, g };
      });
      assert.deepEqual(b, a);
    } finally {
      e.dispose();
    }
  });

  test("a network's forward and vjp (y, gx, Σ gᵀ∂θf, each alone or together) are the same bits", async () => {
    const spec = { inputDim: 2, outputDim: 3, hidden: [40, 40], activation: "tanh" as const };
    const net = await createNetwork(spec, keyFromSeed(5), WASM);
    try {
      for (const n of [300, 1000, 2053]) {
        const x = normals(40 + n, 2 * n);
        const g = normals(50 + n, 3 * n);
        const [a, b] = await both(h.helper, () => {
          const f = new Float64Array(3 * n);
          net.forward(x, n, f);
          const y = new Float64Array(3 * n);
          const gx = new Float64Array(2 * n);
          const gp = new Float64Array(net.numParams);
          net.vjp(x, n, g, y, gx, gp);
          const gxAlone = new Float64Array(2 * n);
          net.vjp(x, n, g, null, gxAlone, null);
          const gpAlone = new Float64Array(net.numParams);
          net.vjp(x, n, g, null, null, gpAlone);
          return { f, y, gx, gp, gxAlone, gpAlone };
        });
        assert.deepEqual(b, a, `n = ${n}`);
      }
    } finally {
      net.dispose();
    }
  });

  test("a seeded Jarzynski training run gives the same θ, walkers and log weights", async () => {
    const run = async () => {
      const key = keyFromSeed(41);
      const model = await createMlpEnergy({ inputDim: 2, hidden: [32, 32], activation: "silu" }, key, WASM);
      try {
        const data = normals(42, 2 * 4000);
        const t = trainer({
          model,
          objective: jarzynski({
            walkers: 1000,
            step: 0.01,
            resample: 0.5,
            init: (k, _m, count) => ({ x: new Stream(k).fillNormal(new Float64Array(2 * count)) }),
          }),
          optimizer: adam(1e-3),
          data: { x: data, n: 4000 },
          batchSize: 1000,
        });
        const state = t.init(foldIn(key, 1));
        for (let i = 0; i < 5; i++) await t.step(foldIn(key, 10 + i), state);
        const s = state.objective as unknown as { walkers: { position: Float64Array; logw: Float64Array } };
        return { theta: model.getParams(), x: s.walkers.position.slice(), logw: s.walkers.logw.slice() };
      } finally {
        model.dispose();
      }
    };
    const jobs0 = h.helper.jobs;
    const [a, b] = await both(h.helper, run);
    assert.deepEqual(b, a);
    assert.ok(h.helper.jobs - jobs0 >= 10, `${h.helper.jobs - jobs0} jobs shared`);
  });

  test("a job larger than the shared buffer runs on the caller alone, with the same bits", async () => {
    const small = await startHelper(256 << 10);
    try {
      const e = await createMlpEnergy(
        { inputDim: 2, hidden: [128, 128], activation: "silu" },
        keyFromSeed(6),
        WASM,
      );
      try {
        const n = 2000;
        const x = normals(7, 2 * n);
        const w = normals(8, n);
        // In 256 KiB: θ (16 897 float32) and the energy's rows fit; the helper's 4 chunks of the parameter
        // gradient (4 × 16 897 float64, 528 KiB) do not.
        const [a, b] = await both(small.helper, () => {
          const pg = new Float64Array(e.numParams);
          e.paramGrad(x, n, w, pg);
          const u = new Float64Array(n);
          e.energy(x, n, u);
          return { pg, u };
        });
        assert.deepEqual(b, a);
        assert.equal(small.helper.jobs, 1, "the energy call fits, the parameter gradient does not");
      } finally {
        e.dispose();
      }
    } finally {
      await stopHelper(small);
    }
  });

  test("a helper that does not answer is reported after the timeout", async () => {
    // A buffer nobody serves: the job is posted, never taken.
    const dead = new KernelHelper(new SharedArrayBuffer(KERNEL_HELPER_BYTES), 200);
    const e = await createMlpEnergy({ inputDim: 2, hidden: [16], activation: "silu" }, keyFromSeed(9), WASM);
    attachWasmKernelsHelper(dead);
    try {
      const n = 600;
      assert.throws(
        () => e.energy(normals(1, 2 * n), n, new Float64Array(n)),
        /kernel helper did not answer within 0.2 s/,
      );
    } finally {
      attachWasmKernelsHelper(undefined);
      e.dispose();
    }
  });
});
