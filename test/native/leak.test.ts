/**
 * No leaks in the native path: 10⁵ calls of each entry point on small batches, with the process's RSS and
 * external memory compared before and after (after a warm-up that lets thread-local workspaces and the
 * thread pool reach their steady size). The native energy allocates no JavaScript objects per call and
 * the kernels only reuse grow-only buffers, so both should stay flat; a leak of even 64 bytes per call
 * would add 6.4 MB per 10⁵ calls. Margins: RSS +8 MB (allocator and GC noise, a heap that settles after
 * warm-up), external memory +1 MB.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { nativeAddon, skipNative as skip } from "./addon.ts";
import { nativeRbmKernels } from "../../src/backend/native/rbm.ts";
import { createMlpEnergy } from "../../src/energies/mlp.ts";
import { foldIn, keyFromSeed, Stream } from "../../src/random/key.ts";
import { createAisChains, createGibbsChains, createGradient, RbmWorkspace } from "../../src/rbm/kernels.ts";
import { Rbm } from "../../src/energies/rbm.ts";

/** A full garbage collection, so that short-lived JavaScript objects (keys, views) do not count as leaks. */
function collect(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

describe("native memory", { skip }, () => {
  test("10⁵ calls of energy, energyAndGrad, paramGrad, langevinStep and sgemm keep RSS and external flat", async () => {
    const addon = nativeAddon!;
    const e = await createMlpEnergy({ inputDim: 2, hidden: [16, 16], activation: "silu" }, keyFromSeed(0), {
      backend: "native",
    });
    const n = 8;
    const x = new Stream(keyFromSeed(1)).fillNormal(new Float64Array(2 * n)) as Float64Array;
    const xi = new Float64Array(2 * n).fill(0.1);
    const y = new Float64Array(2 * n);
    const u = new Float64Array(n);
    const g = new Float64Array(2 * n);
    const w = new Float64Array(n).fill(1 / n);
    const pg = new Float64Array(e.numParams);
    const a = new Float32Array(64).fill(0.5);
    const c = new Float32Array(64);
    const lp = e as unknown as {
      langevinStep(...args: (Float64Array | number)[]): void;
    };
    const round = (calls: number) => {
      for (let i = 0; i < calls; i++) {
        switch (i % 5) {
          case 0:
            e.energy(x, n, u);
            break;
          case 1:
            e.energyAndGrad(x, n, u, g);
            break;
          case 2:
            e.paramGrad(x, n, w, pg);
            break;
          case 3:
            lp.langevinStep(x, g, xi, n, 0.01, y, u, g);
            break;
          default:
            addon.sgemm(false, true, 8, 8, 8, 1, a, 8, a, 8, 0, c, 8);
        }
      }
    };
    try {
      round(20_000);
      const m0 = process.memoryUsage();
      round(100_000);
      const m1 = process.memoryUsage();
      const drss = (m1.rss - m0.rss) / 2 ** 20;
      const dext = (m1.external - m0.external) / 2 ** 20;
      assert.ok(drss < 8, `RSS grew by ${drss.toFixed(2)} MB over 10⁵ calls`);
      assert.ok(dext < 1, `external memory grew by ${dext.toFixed(2)} MB over 10⁵ calls`);
    } finally {
      e.dispose();
    }
  });

  test("10⁵ calls of the RBM kernels (conditionals, free energy, Gibbs, CD, AIS) keep RSS and external flat", () => {
    const K = nativeRbmKernels;
    const m = Rbm.random(keyFromSeed(2), 13, 7, 0.5);
    const ws = new RbmWorkspace();
    const n = 5;
    const v = new Uint8Array(n * 13).map((_, i) => i % 2);
    const h = new Uint8Array(n * 7).map((_, i) => (i >> 1) % 2);
    const ph = new Float32Array(n * 7);
    const pv = new Float32Array(n * 13);
    const f = new Float64Array(n);
    const gibbs = createGibbsChains(m, n);
    const aisChains = createAisChains(m, n);
    const grad = createGradient(m);
    const key = keyFromSeed(3);
    K.aisInit(m, key, aisChains, ws);
    const round = (calls: number) => {
      for (let i = 0; i < calls; i++) {
        switch (i % 6) {
          case 0:
            K.hiddenProbs(m, v, n, 1, ph, ws);
            break;
          case 1:
            K.visibleProbs(m, h, n, 0.5, pv, ws);
            break;
          case 2:
            K.freeEnergy(m, v, n, f, ws);
            break;
          case 3:
            K.gibbsSweep(m, foldIn(key, i), gibbs, 1, 1, ws);
            break;
          case 4:
            K.cdGradient(m, foldIn(key, i), v, n, 1, grad, ws);
            break;
          default:
            K.aisSweep(m, foldIn(key, i), aisChains, 0.4, 0.5, ws);
        }
      }
    };
    round(20_000);
    collect();
    const m0 = process.memoryUsage();
    round(100_000);
    collect();
    const m1 = process.memoryUsage();
    const drss = (m1.rss - m0.rss) / 2 ** 20;
    const dext = (m1.external - m0.external) / 2 ** 20;
    assert.ok(drss < 8, `RSS grew by ${drss.toFixed(2)} MB over 10⁵ calls`);
    assert.ok(dext < 1, `external memory grew by ${dext.toFixed(2)} MB over 10⁵ calls`);
  });
});
