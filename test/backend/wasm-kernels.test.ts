/**
 * The "wasm-simd" backend (src/backend/wasm-kernels/, the native kernels compiled to WebAssembly SIMD by
 * scripts/build-wasm.mjs) against the native addon on the same θ and inputs, and its determinism. Skipped,
 * saying why, when ebm_kernels.wasm is not built or the host has no WebAssembly SIMD; the comparisons with
 * the addon are skipped when it is not built or on CI's portable pass (EBM_BACKEND=wasm, which stands for a
 * machine without a compiler).
 *
 * Networks: within float32 tolerance, not bitwise. Both builds run the same operations in the same order
 * (same tiles, same GEMM accumulation order over k, same chunked float64 parameter-gradient sums), but the
 * x86 build fuses products into FMAs (one rounding) where WebAssembly SIMD128 has none (two). Each such
 * difference is one unit roundoff u = 2⁻²⁴ of one product; propagated through ≤ 4 layers forward and
 * backward as in test/native/mlp.test.ts (≈ 4·γ_K·κ with γ_K ≈ K·u, K ≤ 128, κ ≲ 5) that is ≲ 1e-4
 * relative in the worst case, and a wrong index or a missing term is O(1). So: Σ|a − b| ≤ 1e-4·Σ|b| and,
 * elementwise, |a − b| ≤ 1e-4·(|b| + mean|b|).
 *
 * Random kernels (multinomial resampling, per-chain normals, MALA propose/select): bit-identical to the
 * TypeScript kernels and to the addon (no contraction in those files, portable exp/log).
 *
 * Determinism: the same call twice, two energies from the same key, and a row evaluated alone or inside a
 * batch of several tiles give the same bits; a seeded Jarzynski training run twice gives the same θ.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { simdUnsupported } from "../../src/backend/wasm-kernels/instance.ts";
import { loadNative } from "../../src/backend/native/load.ts";
import { type MlpEnergy, type MlpSpec, createMlpEnergy, mlpBackend } from "../../src/energies/mlp.ts";
import type { LangevinProposer } from "../../src/energies/contract.ts";
import type { DirectionalParamGrad, ScoreParamGrad } from "../../src/energies/score-grad.ts";
import { MULTINOMIAL } from "../../src/math/resampling.ts";
import { createNetwork, type NetworkSpec, networkBackend } from "../../src/networks/network.ts";
import { CHAIN_NORMALS, CHAIN_STATE_WORDS, CHAIN_STREAMS_SEED } from "../../src/random/chains.ts";
import { foldIn, keyFromSeed, Stream } from "../../src/random/key.ts";
import { MALA_CHAINS_STEP } from "../../src/samplers/mala-chains.ts";
import {
  adam,
  backendInfo,
  jarzynski,
  provideWasmKernels,
  selectedBackend,
  setBackend,
  trainer,
} from "../../src/node.ts";

const WASM_FILE = fileURLToPath(new URL("../../src/backend/wasm-kernels/ebm_kernels.wasm", import.meta.url));
const skip = !existsSync(WASM_FILE)
  ? "ebm_kernels.wasm not built (node scripts/build-wasm.mjs): skipped"
  : (simdUnsupported() ?? false);
const skipNative =
  skip ||
  (process.env.EBM_BACKEND === "wasm"
    ? "portable pass (EBM_BACKEND=wasm): the addon is not used"
    : loadNative()
      ? false
      : "native addon not built: no comparison");

const ACTS = ["silu", "softplus", "tanh", "elu"] as const;
const WASM = { backend: "wasm-simd" };
const NATIVE = { backend: "native" };

type FullMlp = MlpEnergy & LangevinProposer & ScoreParamGrad & DirectionalParamGrad;

function normals(seed: number, len: number, scale = 1): Float64Array {
  const v = new Stream(keyFromSeed(seed)).fillNormal(new Float64Array(len)) as Float64Array;
  return v.map((t) => t * scale);
}

/** Σ|a − b| ≤ 1e-4·Σ|b| and |a_i − b_i| ≤ 1e-4·(|b_i| + mean|b|) (see the header). */
function assertNear(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  let sumAbs = 0;
  let sumDiff = 0;
  for (let i = 0; i < b.length; i++) {
    sumAbs += Math.abs(b[i]);
    sumDiff += Math.abs(a[i] - b[i]);
  }
  const mean = sumAbs / Math.max(1, b.length);
  assert.ok(sumDiff <= 1e-4 * sumAbs + 1e-300, `${what}: Σ|diff| ${sumDiff} vs Σ|ref| ${sumAbs}`);
  for (let i = 0; i < b.length; i++) {
    const tol = 1e-4 * (Math.abs(b[i]) + mean);
    assert.ok(Math.abs(a[i] - b[i]) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]} (tol ${tol})`);
  }
}

/** Every output of the energy's methods on fixed inputs, in one record. */
function energyOutputs(e: FullMlp, n: number): Record<string, Float64Array | number[]> {
  const d = e.dim;
  const x = normals(11, n * d, 1.5);
  const v = normals(12, n * d);
  const noise = normals(13, n * d);
  const w = normals(14, n).map((t) => Math.abs(t) / n);
  const a = normals(15, n);
  const b = normals(16, n);
  const u = new Float64Array(n);
  const g = new Float64Array(n * d);
  e.energyAndGrad(x, n, u, g);
  const u1 = new Float64Array(n);
  e.energy(x, n, u1);
  const pg = new Float64Array(e.numParams);
  e.paramGrad(x, n, w, pg);
  const y = new Float64Array(n * d);
  const uy = new Float64Array(n);
  const gy = new Float64Array(n * d);
  e.langevinStep(x, g, noise, n, 0.01, y, uy, gy);
  const spg = new Float64Array(e.numParams);
  e.scoreParamGrad(x, n, v, spg);
  const dpg = new Float64Array(e.numParams);
  const curv = new Float64Array(n);
  e.directionalParamGrad(x, v, n, a, b, dpg, curv);
  const smg = new Float64Array(e.numParams);
  const J = e.scoreMatching(x, n, w, smg);
  return { u, u1, g, pg, y, uy, gy, spg, dpg, curv, smg, J: [J] };
}

function netOutputs(net: Awaited<ReturnType<typeof createNetwork>>, n: number): Record<string, Float64Array> {
  const x = normals(21, n * net.inputDim, 1.5);
  const g = normals(22, n * net.outputDim);
  const y = new Float64Array(n * net.outputDim);
  net.forward(x, n, y);
  const y2 = new Float64Array(n * net.outputDim);
  const gx = new Float64Array(n * net.inputDim);
  const gp = new Float64Array(net.numParams);
  net.vjp(x, n, g, y2, gx, gp);
  return { y, y2, gx, gp };
}

describe("wasm-simd backend", { skip }, () => {
  test("selected by name; in Node, auto passes over it (native or TensorFlow.js stay as before)", async () => {
    const e = await createMlpEnergy({ inputDim: 2, hidden: [8], activation: "silu" }, keyFromSeed(1), WASM);
    try {
      assert.equal(mlpBackend(e), "wasm-simd");
    } finally {
      e.dispose();
    }
    assert.ok(backendInfo().available.includes("wasm-simd"));
    if (process.env.EBM_BACKEND === undefined) assert.notEqual(selectedBackend(), "wasm-simd");
  });

  for (const act of ACTS) {
    test(
      `${act} MLP energy: every kernel agrees with the addon (float32 tolerance)`,
      { skip: skipNative },
      async () => {
        for (const spec of [
          { inputDim: 2, hidden: [128, 128], activation: act, confinement: 0.3 },
          { inputDim: 5, hidden: [17, 9], activation: act },
        ] as MlpSpec[]) {
          const ew = (await createMlpEnergy(spec, keyFromSeed(3), WASM)) as FullMlp;
          const en = (await createMlpEnergy(spec, keyFromSeed(3), NATIVE)) as FullMlp;
          try {
            assert.deepEqual(ew.getParams(), en.getParams(), "same θ from the same key");
            // 600 rows: three 256-row tiles (the last partial), and several jet tiles.
            const ow = energyOutputs(ew, 600);
            const on = energyOutputs(en, 600);
            for (const k of Object.keys(on)) assertNear(ow[k], on[k], `${act} ${spec.hidden}: ${k}`);
            assert.deepEqual(ow.u, ow.u1, "energy and energyAndGrad give the same U");
          } finally {
            ew.dispose();
            en.dispose();
          }
        }
      },
    );
  }

  test(
    "vector-output networks agree with the addon (narrow and wide outputs)",
    { skip: skipNative },
    async () => {
      for (const spec of [
        { inputDim: 3, hidden: [32, 24], outputDim: 3, activation: "tanh" },
        { inputDim: 6, hidden: [40], outputDim: 12, activation: "silu" },
        { inputDim: 2, hidden: [128, 128], outputDim: 2, activation: "elu" },
      ] as NetworkSpec[]) {
        const nw = await createNetwork(spec, keyFromSeed(5), WASM);
        const nn = await createNetwork(spec, keyFromSeed(5), NATIVE);
        try {
          assert.equal(networkBackend(nw), "wasm-simd");
          const ow = netOutputs(nw, 300);
          const on = netOutputs(nn, 300);
          for (const k of Object.keys(on)) assertNear(ow[k], on[k], `${JSON.stringify(spec)}: ${k}`);
          assert.deepEqual(ow.y, ow.y2, "forward and vjp give the same y");
        } finally {
          nw.dispose();
          nn.dispose();
        }
      }
    },
  );

  test("deterministic: repeated calls, energies from the same key, a row alone or in a batch", async () => {
    const spec: MlpSpec = { inputDim: 3, hidden: [33, 20], activation: "softplus", confinement: 0.1 };
    const e1 = (await createMlpEnergy(spec, keyFromSeed(7), WASM)) as FullMlp;
    const e2 = (await createMlpEnergy(spec, keyFromSeed(7), WASM)) as FullMlp;
    try {
      const a = energyOutputs(e1, 700);
      const b = energyOutputs(e1, 700);
      const c = energyOutputs(e2, 700);
      for (const k of Object.keys(a)) {
        assert.deepEqual(b[k], a[k], `${k}: same call twice`);
        assert.deepEqual(c[k], a[k], `${k}: another energy from the same key`);
      }
      const x = normals(11, 700 * 3, 1.5);
      const u = new Float64Array(700);
      const g = new Float64Array(700 * 3);
      e1.energyAndGrad(x, 700, u, g);
      for (const i of [0, 255, 256, 699]) {
        const ui = new Float64Array(1);
        const gi = new Float64Array(3);
        e1.energyAndGrad(x.subarray(3 * i, 3 * i + 3), 1, ui, gi);
        assert.equal(ui[0], u[i], `U of row ${i}`);
        assert.deepEqual([...gi], [...g.subarray(3 * i, 3 * i + 3)], `∇U of row ${i}`);
      }
    } finally {
      e1.dispose();
      e2.dispose();
    }
  });

  test("multinomial resampling, per-chain normals and MALA steps: the TypeScript bits", async () => {
    const backends = ["typescript", "wasm-simd", ...(skipNative ? [] : ["native"])];
    const results = backends.map((backend) => {
      const w = normals(31, 1000).map((t) => Math.exp(2 * t));
      const total = w.reduce((s, t) => s + t, 0);
      const rng = new Stream(keyFromSeed(32));
      const out = new Int32Array(1500);
      MULTINOMIAL.from(backend).impl!(w, total, rng, out);
      const after = rng.nextU32();
      const n = 300;
      const dim = 3;
      const states = new Int32Array(CHAIN_STATE_WORDS * n);
      CHAIN_STREAMS_SEED.from(backend).impl!(keyFromSeed(33), 5, n, states);
      const seeded = [...states];
      const z = new Float64Array(n * 40);
      CHAIN_NORMALS.from(backend).impl!(states, z, 40);
      const mala = MALA_CHAINS_STEP.from(backend).impl!;
      const x = normals(34, n * dim);
      const gx = normals(35, n * dim);
      const ux = normals(36, n);
      const drift = Float64Array.from([0.01, 0.02, 0.015]);
      const noise = drift.map((t) => Math.sqrt(2 * t));
      const y = new Float64Array(n * dim);
      mala.propose(x, gx, drift, noise, states, y);
      const gy = normals(37, n * dim);
      const uy = ux.map((t, i) => t + 0.3 * Math.sin(i));
      const acceptProb = new Float64Array(n);
      const accepted = new Uint8Array(n);
      const divergent = new Uint8Array(n);
      const params = Float64Array.from([1, 1 / (4 * 0.01)]);
      mala.select(
        x,
        gx,
        ux,
        y,
        gy,
        uy,
        drift,
        Float64Array.from([1, 1, 1]),
        params,
        states,
        acceptProb,
        accepted,
        divergent,
      );
      return {
        out: [...out],
        after,
        seeded,
        z: [...z],
        y: [...y],
        x: [...x],
        gx: [...gx],
        ux: [...ux],
        acceptProb: [...acceptProb],
        accepted: [...accepted],
        states: [...states],
      };
    });
    for (let b = 1; b < backends.length; b++) {
      for (const k of Object.keys(results[0]) as (keyof (typeof results)[0])[]) {
        assert.deepEqual(results[b][k], results[0][k], `${backends[b]} vs typescript: ${k}`);
      }
    }
    assert.ok(results[0].accepted.some((t) => t === 1) && results[0].accepted.some((t) => t === 0));
  });

  test("a seeded Jarzynski training run is reproducible", async () => {
    const run = async () => {
      const key = keyFromSeed(41);
      const model = await createMlpEnergy({ inputDim: 2, hidden: [32, 32], activation: "silu" }, key, WASM);
      try {
        const data = normals(42, 2 * 2000);
        const t = trainer({
          model,
          objective: jarzynski({
            walkers: 500,
            step: 0.01,
            resample: 0.5,
            init: (k, _m, count) => ({ x: new Stream(k).fillNormal(new Float64Array(2 * count)) }),
          }),
          optimizer: adam(1e-3),
          data: { x: data, n: 2000 },
          batchSize: 256,
        });
        const state = t.init(foldIn(key, 1));
        for (let i = 0; i < 5; i++) await t.step(foldIn(key, 10 + i), state);
        return model.getParams();
      } finally {
        model.dispose();
      }
    };
    const a = await run();
    const b = await run();
    assert.deepEqual(b, a);
  });

  test("unavailable: a one-line reason (file missing, wrong binary), and back once the binary is handed over", () => {
    const prev = backendInfo();
    const restore = () => setBackend(prev.requested, prev.source);
    try {
      provideWasmKernels(
        () => {
          throw new Error("ENOENT: no such file or directory, open 'ebm_kernels.wasm'");
        },
        { auto: false },
      );
      setBackend("wasm-simd", "test");
      assert.throws(
        () => selectedBackend(),
        (err: Error) =>
          /^wasm-simd backend requested \(test\) but unavailable: cannot read ebm_kernels\.wasm \(ENOENT/.test(
            err.message,
          ) && !err.message.includes("\n"),
      );
      provideWasmKernels(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]), { auto: false });
      assert.throws(
        () => selectedBackend(),
        (err: Error) =>
          /^wasm-simd backend requested \(test\) but unavailable: .*speaks ABI -1/.test(err.message),
      );
      provideWasmKernels(() => readFileSync(WASM_FILE), { auto: false });
      assert.equal(selectedBackend(), "wasm-simd");
    } finally {
      provideWasmKernels(() => readFileSync(WASM_FILE), { auto: false });
      restore();
    }
  });
});
