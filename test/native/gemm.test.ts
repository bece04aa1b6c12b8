/**
 * The native SGEMM (native/src/gemm.cc) against a naive float64 loop, on random shapes including odd
 * sizes, every transpose combination, α/β, padded leading dimensions, K beyond one KC block and N beyond
 * one NC panel.
 *
 * Tolerance (rigorous, any summation order): with unit roundoff u = 2⁻²⁴, a float32 dot product of length K
 * has |fl(s) − s| ≤ γ_K·Σ_k|a_k b_k|, γ_K = K·u/(1 − K·u); scaling by α, β and the final add contribute a
 * few more u. So |C − C_ref| ≤ (γ_K + 3u)·(|α|·Σ_k|a_ik b_kj| + |β·c_ij|) + tiny, with Σ|ab| computed in
 * float64 alongside the reference.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { nativeAddon } from "./addon.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";

const addon = nativeAddon;
const skip = addon ? false : "native addon not available (EBM_BACKEND=wasm or not built): skipped";
const U = 2 ** -24;

interface Case {
  tA: boolean;
  tB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
  pad: number;
}

function check(c: Case, seed: number): void {
  const s = new Stream(keyFromSeed(seed));
  const aRows = c.tA ? c.k : c.m;
  const aCols = c.tA ? c.m : c.k;
  const bRows = c.tB ? c.n : c.k;
  const bCols = c.tB ? c.k : c.n;
  const lda = aCols + c.pad;
  const ldb = bCols + c.pad;
  const ldc = c.n + c.pad;
  const a = s.fillNormal(new Float32Array(Math.max(1, aRows * lda))) as Float32Array;
  const b = s.fillNormal(new Float32Array(Math.max(1, bRows * ldb))) as Float32Array;
  const c0 = s.fillNormal(new Float32Array(Math.max(1, c.m * ldc))) as Float32Array;
  const out = c0.slice();
  addon!.sgemm(c.tA, c.tB, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, out, ldc);
  const gamma = (c.k * U) / (1 - c.k * U) + 3 * U;
  let worst = 0;
  for (let i = 0; i < c.m; i++) {
    for (let j = 0; j < c.n; j++) {
      let sum = 0;
      let abs = 0;
      for (let p = 0; p < c.k; p++) {
        const av = c.tA ? a[p * lda + i] : a[i * lda + p];
        const bv = c.tB ? b[j * ldb + p] : b[p * ldb + j];
        sum += av * bv;
        abs += Math.abs(av * bv);
      }
      const cij = c0[i * ldc + j];
      const ref = c.alpha * sum + (c.beta === 0 ? 0 : c.beta * cij);
      const bound = gamma * (Math.abs(c.alpha) * abs + Math.abs(c.beta * cij)) + 1e-30;
      const err = Math.abs(out[i * ldc + j] - ref);
      worst = Math.max(worst, err / bound);
      if (err > bound)
        assert.fail(`C[${i},${j}] = ${out[i * ldc + j]} vs ${ref} (bound ${bound}) for ${JSON.stringify(c)}`);
    }
  }
  // Padding columns of C must be untouched.
  for (let i = 0; i < c.m; i++)
    for (let j = c.n; j < ldc; j++)
      assert.equal(out[i * ldc + j], c0[i * ldc + j], "padding of C was written");
  assert.ok(worst <= 1);
}

describe("native sgemm vs float64", { skip }, () => {
  test("odd shapes, all transposes, α and β", () => {
    const shapes = [
      [1, 1, 1],
      [5, 7, 3],
      [6, 16, 8],
      [7, 17, 9],
      [13, 31, 64],
      [97, 33, 100],
      [200, 45, 257],
      [31, 129, 513],
    ];
    let seed = 0;
    for (const [m, n, k] of shapes) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          check({ tA, tB, m, n, k, alpha: 1, beta: 0, pad: 0 }, seed++);
          check({ tA, tB, m, n, k, alpha: -0.75, beta: 1.5, pad: 3 }, seed++);
        }
      }
    }
  });

  test("N beyond one NC panel, K = 0 and β = 0 ignoring NaNs in C", () => {
    check({ tA: false, tB: true, m: 3, n: 2100, k: 20, alpha: 2, beta: 0.5, pad: 1 }, 100);
    const c = new Float32Array([1, 2, 3, 4]);
    addon!.sgemm(false, false, 2, 2, 0, 1, new Float32Array(1), 1, new Float32Array(2), 2, 0.5, c, 2);
    assert.deepEqual([...c], [0.5, 1, 1.5, 2]);
    const nan = new Float32Array(4).fill(Number.NaN);
    addon!.sgemm(
      false,
      false,
      2,
      2,
      1,
      1,
      new Float32Array([1, 2]),
      1,
      new Float32Array([3, 4]),
      2,
      0,
      nan,
      2,
    );
    assert.deepEqual([...nan], [3, 4, 6, 8]);
  });

  test("1 and 2 threads give bit-identical products; bad shapes throw", () => {
    const n = 300;
    const s = new Stream(keyFromSeed(7));
    const a = s.fillNormal(new Float32Array(n * n)) as Float32Array;
    const b = s.fillNormal(new Float32Array(n * n)) as Float32Array;
    const before = addon!.getThreads();
    try {
      const out: Float32Array[] = [];
      for (const t of [1, 2, 2]) {
        addon!.setThreads(t);
        const c = new Float32Array(n * n);
        addon!.sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n);
        out.push(c);
      }
      assert.deepEqual(out[0], out[1]);
      assert.deepEqual(out[1], out[2]);
    } finally {
      addon!.setThreads(before);
    }
    assert.throws(
      () => addon!.sgemm(false, false, 4, 4, 4, 1, a, 4, b, 4, 0, new Float32Array(15), 4),
      RangeError,
    );
    assert.throws(
      () => addon!.sgemm(false, false, 4, 4, 4, 1, a, 3, b, 4, 0, new Float32Array(16), 4),
      RangeError,
    );
  });
});
