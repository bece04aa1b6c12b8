/**
 * Denoising a 64×64 synthetic binary image (two rectangles, a disc, a ring) with exactly 10% of its
 * pixels flipped: every method brings the error rate far down with the default J = 1, h = 1.1, and not
 * at all without a prior (J = 0: the negative control); ICM stops at a local minimum of U; Gibbs is
 * reproducible from its key; and on an 8×8 image the Gibbs marginals match the exact posterior marginals
 * of the transfer matrix (the posterior is an Ising model with field h·y) within 4.5 standard errors
 * over independent runs.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { gridBonds, isingGridExact } from "../../src/energies/ising-exact.ts";
import { IsingEnergy } from "../../src/energies/ising.ts";
import {
  type BinaryImage,
  DENOISE_METHODS,
  denoise,
  flipPixels,
  pixelErrorRate,
  pixelsDiffering,
  posteriorEnergy,
} from "../../src/experiments/denoise.ts";
import { foldIn, keyFromSeed } from "../../src/random/key.ts";
import { shapesImage } from "./denoise-image.ts";

const clean = shapesImage(64, 64);

describe("denoising a 64×64 image with 10% of its pixels flipped", () => {
  test("flipPixels flips exactly round(p·N) pixels, reproducibly", () => {
    const a = flipPixels(keyFromSeed(1), clean, 0.1);
    assert.equal(pixelsDiffering(a.pixels, clean.pixels), Math.round(0.1 * 64 * 64));
    assert.deepEqual(flipPixels(keyFromSeed(1), clean, 0.1).pixels, a.pixels);
    assert.notDeepEqual(flipPixels(keyFromSeed(2), clean, 0.1).pixels, a.pixels);
  });

  for (const seed of [1, 2])
    for (const method of DENOISE_METHODS)
      test(`${method}, noise seed ${seed}: error 10% → below 2.5%; J = 0 leaves the noise`, (t) => {
        const noisy = flipPixels(keyFromSeed(seed), clean, 0.1);
        const key = keyFromSeed(100 + seed);
        const res = denoise(noisy, { method, key });
        const after = pixelErrorRate(res.pixels, clean.pixels);
        t.diagnostic(`${method}: ${(100 * after).toFixed(2)}% after ${res.sweeps} sweeps`);
        // Measured 0.6–1.6% over noise seeds 1–3 (ICM the highest).
        assert.ok(after < 0.025, `${method}: error rate ${after}`);
        assert.ok(res.energy < posteriorEnergy(noisy.pixels, noisy, 1, 1.1));
        const none = denoise(noisy, { method, coupling: 0, key });
        assert.equal(pixelErrorRate(none.pixels, clean.pixels), pixelErrorRate(noisy.pixels, clean.pixels));
      });

  test("icm converges to a local minimum of U: no single flip lowers it", () => {
    const noisy = flipPixels(keyFromSeed(3), clean, 0.1);
    const res = denoise(noisy, { method: "icm", coupling: 0.8, fidelity: 1.2 });
    assert.ok(res.converged);
    const u0 = posteriorEnergy(res.pixels, noisy, 0.8, 1.2);
    assert.equal(u0, res.energy);
    const s = res.pixels.slice();
    for (let i = 0; i < s.length; i++) {
      s[i] ^= 1;
      assert.ok(posteriorEnergy(s, noisy, 0.8, 1.2) >= u0, `flip ${i} lowers U`);
      s[i] ^= 1;
    }
  });

  test("gibbs: same key, same image and marginals; another key, other marginals", () => {
    const noisy = flipPixels(keyFromSeed(4), clean, 0.1);
    const a = denoise(noisy, { method: "gibbs", sweeps: 30, key: keyFromSeed(9) });
    const b = denoise(noisy, { method: "gibbs", sweeps: 30, key: keyFromSeed(9) });
    const c = denoise(noisy, { method: "gibbs", sweeps: 30, key: keyFromSeed(10) });
    assert.deepEqual(a.pixels, b.pixels);
    assert.deepEqual(a.marginals, b.marginals);
    assert.notDeepEqual(a.marginals, c.marginals);
  });

  test("bad options are refused", () => {
    const noisy: BinaryImage = { rows: 2, cols: 2, pixels: new Uint8Array([0, 1, 1, 0]) };
    assert.throws(() => denoise(noisy, { method: "gibbs" }), /key/);
    assert.throws(() => denoise(noisy, { method: "icm", coupling: -1 }), /coupling/);
    assert.throws(() => denoise(noisy, { method: "meanfield", damping: 0 }), /damping/);
    assert.throws(() => denoise(noisy, { method: "icm", sweeps: 0 }), /sweeps/);
    assert.throws(() => denoise({ rows: 2, cols: 3, pixels: new Uint8Array(4) }, { method: "icm" }), /2×3/);
  });
});

describe("gibbs marginals against the exact posterior", () => {
  test("8×8 image: every pixel's marginal within 4.5 SE of the transfer matrix's (16 runs)", (t) => {
    const small = flipPixels(keyFromSeed(5), shapesImage(8, 8), 0.15);
    const [J, h] = [0.6, 0.8];
    // The posterior is an Ising model: couplings J on the grid, field h·y_i.
    const prior = IsingEnergy.grid(8, 8, J, 0);
    const field = Array.from(small.pixels, (b) => h * (2 * b - 1));
    const exact = isingGridExact({ ...gridBonds(prior, 8, 8), field }, { marginals: true }).marginals!;
    const runs = 16;
    const est = Array.from(
      { length: runs },
      (_, r) =>
        denoise(small, {
          method: "gibbs",
          coupling: J,
          fidelity: h,
          sweeps: 1200,
          key: foldIn(keyFromSeed(6), r),
        }).marginals!,
    );
    const zScores = (target: Float64Array) => {
      const z = new Float64Array(64);
      for (let i = 0; i < 64; i++) {
        const v = est.map((m) => m[i]);
        const mean = v.reduce((a, b) => a + b, 0) / runs;
        const se = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (runs - 1) / runs);
        z[i] = Math.abs(mean - target[i]) / se;
      }
      return z;
    };
    const z = zScores(exact);
    const worst = Math.max(...z);
    t.diagnostic(`largest |z| over 64 pixels: ${worst.toFixed(2)}`);
    assert.ok(worst < 4.5, `pixel ${z.indexOf(worst)}: |z| = ${worst}`);
    // Power: the exact marginals at another fidelity (1.2 instead of 0.8) are rejected.
    const wrong = isingGridExact(
      { ...gridBonds(prior, 8, 8), field: field.map((f) => f * 1.5) },
      { marginals: true },
    ).marginals!;
    assert.ok(Math.max(...zScores(wrong)) > 10);
  });
});
