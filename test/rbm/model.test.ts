/**
 * The RBM and its typed-array kernels against brute-force enumeration (test/rbm/helpers.ts) on tiny
 * models: tempered conditional probabilities of ρ_β ∝ e^{−βE} (β = 1 and β ≠ 1), free energies, exact
 * log Z_β (both enumeration directions, Gray-code refreshes); the model's parameter vector and its
 * staleness counter; the matrix helpers against naive float64 products; and determinism (same key →
 * bit-identical chains, gradients and AIS log-weights).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { foldIn, keyFromSeed, Stream } from "../../src/random/key.ts";
import { ais, exactLogZ } from "../../src/rbm/ais.ts";
import {
  createGibbsChains,
  createGradient,
  RbmWorkspace,
  typedArrayRbmKernels as K,
} from "../../src/rbm/kernels.ts";
import {
  binaryMatmul,
  binaryMatmulTransA,
  buildSubsetSums,
  subsetSumTableSize,
  tableMatmul,
  tableMatmulTransA,
  matmul,
  matmulTransA,
  transpose,
} from "../../src/rbm/linalg.ts";
import { Rbm } from "../../src/energies/rbm.ts";
import { cdGradient } from "../../src/rbm/cd.ts";
import { assertClose, centralDiff, checkInputGradient } from "../helpers.ts";
import { freeEnergyBrute, hiddenConditional, jointTable, stateBits, visibleConditional } from "./helpers.ts";

/** Wᵀ (H × V) of the model, as a float64 array. */
function transposeOf(m: Rbm): Float64Array {
  const t = new Float64Array(m.W.length);
  for (let i = 0; i < m.visible; i++)
    for (let j = 0; j < m.hidden; j++) t[j * m.visible + i] = m.W[i * m.hidden + j];
  return t;
}

/** All 2^sites states as rows. */
function allStates(sites: number): Uint8Array {
  const x = new Uint8Array(2 ** sites * sites);
  for (let k = 0; k < 2 ** sites; k++) x.set(stateBits(k, sites), k * sites);
  return x;
}

describe("conditionals and free energy vs enumeration (5 × 3)", () => {
  const m = Rbm.random(keyFromSeed(101), 5, 3, 1);
  const ws = new RbmWorkspace();
  for (const beta of [1, 0.37]) {
    test(`p_β(h | v) and p_β(v | h), β = ${beta}`, () => {
      const v = allStates(5);
      const ph = new Float32Array(32 * 3);
      K.hiddenProbs(m, v, 32, beta, ph, ws);
      for (let kv = 0; kv < 32; kv++) {
        const ref = hiddenConditional(m, kv, beta);
        for (let j = 0; j < 3; j++) assertClose(ph[kv * 3 + j], ref[j], 1e-6, 0, `p(h${j}|v=${kv})`);
      }
      const h = allStates(3);
      const pv = new Float32Array(8 * 5);
      K.visibleProbs(m, h, 8, beta, pv, ws);
      for (let kh = 0; kh < 8; kh++) {
        const ref = visibleConditional(m, kh, beta);
        for (let i = 0; i < 5; i++) assertClose(pv[kh * 5 + i], ref[i], 1e-6, 0, `p(v${i}|h=${kh})`);
      }
    });
  }
  test("free energy F(v) = −log Σ_h e^{−E(v,h)}: the kernel (float32 products) and the model (float64)", () => {
    const v = allStates(5);
    const f = new Float64Array(32);
    K.freeEnergy(m, v, 32, f, ws);
    const f64 = new Float64Array(32);
    m.energy(v, 32, f64);
    for (let kv = 0; kv < 32; kv++) {
      assertClose(f[kv], freeEnergyBrute(m, kv), 1e-5, 0, `F(${kv})`);
      assertClose(f64[kv], freeEnergyBrute(m, kv), 1e-12, 1e-12, `Rbm F(${kv})`);
    }
  });
});

describe("the RBM as a trainable energy: θ, paramGrad and ∇ₓF against float64 finite differences", () => {
  // θ on a grid of 2⁻¹⁶ (|θ| < 4), so θ ± 2⁻¹⁶ is exact in float32 and the central differences of the
  // model's own float64 F see exactly the perturbed parameters: truncation ≈ ε²/6·|F‴| ≈ 1e-10 and
  // rounding ≈ 1e-16·|F|/ε ≈ 1e-10, far below the 1e-8 tolerance.
  const q = 2 ** -16;
  const [V, H] = [6, 4];
  const theta = Rbm.random(keyFromSeed(111), V, H, 0.8, 0.5)
    .getParams()
    .map((x) => Math.round(x / q) * q);
  const m = Rbm.zeros(V, H);
  m.setParams(theta);
  // Three binary rows and two real rows of [0, 1]^V; signed weights (as in data − model gradients).
  const n = 5;
  const rng = new Stream(keyFromSeed(112));
  const x = new Float64Array(n * V).map((_, p) =>
    p < 3 * V ? (rng.uniform() < 0.5 ? 1 : 0) : rng.uniform(),
  );
  const w = Float64Array.of(0.3, -1.2, 0.5, 0.7, -0.25);

  test("θ = [W, b, c]: getParams/setParams round trip, numParams, version, clone, validation", () => {
    assert.equal(m.numParams, V * H + V + H);
    assert.deepEqual(m.getParams(), theta);
    assert.deepEqual([...m.W], [...theta.subarray(0, V * H)]);
    assert.deepEqual([...m.c], [...theta.subarray(V * H + V)]);
    const v0 = m.version;
    m.setParams(theta);
    assert.ok(m.version > v0, "setParams marks the model changed");
    const c = m.clone();
    assert.deepEqual(c.getParams(), theta);
    c.W[0] += 1;
    assert.equal(m.W[0], theta[0], "clone copies");
    assert.throws(() => m.setParams(new Float64Array(3)), RangeError);
    assert.throws(() => new Rbm([1e39], [0], [0]), /not finite in float32/);
    assert.throws(() => new Rbm([1, 2], [0], [0]), RangeError);
    assert.throws(() => Rbm.zeros(0, 3), RangeError);
  });

  test("paramGrad = Σ_s w_s ∂θF(x_s) at binary and real points", () => {
    const g = new Float64Array(m.numParams).fill(Number.NaN);
    m.paramGrad(x, n, w, g);
    const u = new Float64Array(n);
    const t = theta.slice();
    const weighted = () => {
      m.setParams(t);
      m.energy(x, n, u);
      let s = 0;
      for (let i = 0; i < n; i++) s += w[i] * u[i];
      return s;
    };
    for (let k = 0; k < m.numParams; k++)
      assertClose(g[k], centralDiff(weighted, t, k, q), 1e-8, 1e-8, `∂θ[${k}]`);
    m.setParams(theta);
  });

  test("energyAndGrad: ∇ₓF at real points, and energy() agrees", () => {
    checkInputGradient(m, x.slice(), n, { eps: 1e-6, atol: 1e-8, rtol: 1e-7 });
  });
});

describe("exact log Z", () => {
  test("matches the full (v, h) enumeration, enumerating h (5 × 3) or v (3 × 6)", () => {
    for (const [nv, nh, seed] of [
      [5, 3, 102],
      [3, 6, 103],
      [4, 4, 104],
    ]) {
      const m = Rbm.random(keyFromSeed(seed), nv, nh, 1.5);
      for (const beta of [1, 0.4, 1.7])
        assertClose(
          exactLogZ(m, { beta }),
          jointTable(m, beta).logZ,
          1e-12,
          1e-12,
          `${nv}×${nh}, β = ${beta}`,
        );
    }
  });
  test("past the Gray-code refresh (2^13 states) it matches Σ_v e^{−F(v)} by enumeration", () => {
    // Enumerating h (13 < 20) against the visible sum over 2^13 states, and the transposed model.
    const m = Rbm.random(keyFromSeed(105), 20, 13, 0.8);
    const t = new Rbm(transposeOf(m), m.c, m.b);
    const fe = new Float64Array(2 ** 13);
    t.energy(allStates(13), 2 ** 13, fe);
    let max = Number.NEGATIVE_INFINITY;
    for (const f of fe) max = Math.max(max, -f);
    let sum = 0;
    for (const f of fe) sum += Math.exp(-f - max);
    const ref = max + Math.log(sum);
    assertClose(exactLogZ(m), ref, 1e-10, 1e-12, "20 × 13");
    assertClose(exactLogZ(t), ref, 1e-10, 1e-12, "13 × 20");
  });
  test("refuses too many states", () => {
    assert.throws(() => exactLogZ(Rbm.zeros(30, 30)), RangeError);
  });
});

describe("matrix helpers vs naive float64 products (sizes off the unroll widths)", () => {
  const rng = new Stream(keyFromSeed(107));
  const [m, k, n] = [7, 41, 13];
  const a = rng.fillNormal(new Float32Array(m * k));
  a[3] = 0; // zero coefficients are skipped
  a.fill(0, k, k + 4);
  const at = new Float32Array(k * m);
  transpose(a, m, k, at);
  const b = rng.fillNormal(new Float32Array(k * n));
  const bits = new Uint8Array(m * k).map(() => (rng.uniform() < 0.4 ? 1 : 0));
  const bitsT = new Uint8Array(k * m);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) bitsT[p * m + i] = bits[i * k + p];
  const ref = (x: ArrayLike<number>, alpha = 1) => {
    const c = new Float64Array(m * n);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += x[i * k + p] * b[p * n + j];
        c[i * n + j] = alpha * s;
      }
    return c;
  };
  const check = (c: Float32Array, r: Float64Array, what: string) => {
    for (let q = 0; q < m * n; q++) assertClose(c[q], r[q], 1e-5, 1e-5, `${what}[${q}]`);
  };
  const idx = new Int32Array(k);
  test("transpose", () => {
    for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) assert.equal(at[p * m + i], a[i * k + p]);
  });
  test("matmul and matmulTransA (write and accumulate)", () => {
    const c = new Float32Array(m * n).fill(Number.NaN);
    matmul(a, b, c, m, k, n);
    check(c, ref(a), "A·B");
    matmul(a, b, c, m, k, n, true);
    check(c, ref(a, 2), "A·B + A·B");
    matmulTransA(at, b, c, m, k, n, -0.5);
    check(c, ref(a, -0.5), "−½ AᵀᵀB");
    matmulTransA(at, b, c, m, k, n, 1.5, true);
    check(c, ref(a, 1), "accumulated");
  });
  test("binaryMatmul and binaryMatmulTransA", () => {
    const c = new Float32Array(m * n).fill(Number.NaN);
    binaryMatmul(bits, b, c, m, k, n, idx);
    check(c, ref(bits), "bits·B");
    binaryMatmul(bits, b, c, m, k, n, idx, true);
    check(c, ref(bits, 2), "bits·B accumulated");
    binaryMatmulTransA(bitsT, b, c, m, k, n, idx, 0.25);
    check(c, ref(bits, 0.25), "¼ bitsᵀᵀB");
    binaryMatmulTransA(bitsT, b, c, m, k, n, idx, -1.25, true);
    check(c, ref(bits, -1), "accumulated");
  });
  test("subset-sum table products (groups of 2 … 6 rows, last group partial)", () => {
    for (const g of [2, 3, 4, 5, 6]) {
      const table = new Float32Array(subsetSumTableSize(k, n, g));
      buildSubsetSums(b, k, n, g, table);
      const c = new Float32Array(m * n).fill(Number.NaN);
      tableMatmul(bits, table, c, m, k, n, g, idx);
      check(c, ref(bits), `g=${g}: bits·B`);
      tableMatmul(bits, table, c, m, k, n, g, idx, true);
      check(c, ref(bits, 2), `g=${g}: accumulated`);
      tableMatmulTransA(bitsT, table, c, m, k, n, g, idx, 0.5);
      check(c, ref(bits, 0.5), `g=${g}: ½ bitsᵀᵀB`);
      tableMatmulTransA(bitsT, table, c, m, k, n, g, idx, -1.5, true);
      check(c, ref(bits, -1), `g=${g}: accumulated`);
    }
  });
});

describe("same key, same results (bit for bit); another key, other results", () => {
  const m = Rbm.random(keyFromSeed(108), 9, 7, 0.7);
  const data = new Uint8Array(12 * 9).map((_, i) => ((i * 7919) % 3 === 0 ? 1 : 0));
  const gibbs = (seed: number) => {
    const ch = createGibbsChains(m, 20);
    K.gibbsSweep(m, keyFromSeed(seed), ch, 5, 0.8, new RbmWorkspace());
    return [...ch.v, ...ch.h];
  };
  const cd = (seed: number, persistent: boolean) => {
    const ch = createGibbsChains(m, 6);
    const g = cdGradient(m, keyFromSeed(seed), data, 12, {
      k: 2,
      persistent: persistent ? ch : undefined,
      workspace: new RbmWorkspace(),
    });
    return [...g.W, ...g.b, ...g.c, ...ch.v];
  };
  const logw = (seed: number) => [...ais(m, keyFromSeed(seed), { betas: 50, chains: 10 }).logWeights];
  test("block Gibbs", () => {
    assert.deepEqual(gibbs(1), gibbs(1));
    assert.notDeepEqual(gibbs(1), gibbs(2));
  });
  test("CD-2 and PCD-2 gradients (fresh and reused workspaces)", () => {
    assert.deepEqual(cd(3, false), cd(3, false));
    assert.notDeepEqual(cd(3, false), cd(4, false));
    assert.deepEqual(cd(3, true), cd(3, true));
    const ws = new RbmWorkspace();
    const g1 = createGradient(m);
    const g2 = createGradient(m);
    cdGradient(m, foldIn(keyFromSeed(5), 1), data, 12, { workspace: ws }, g1);
    cdGradient(m, foldIn(keyFromSeed(5), 2), data, 12, { workspace: ws }, g2);
    cdGradient(m, foldIn(keyFromSeed(5), 1), data, 12, { workspace: ws }, g2);
    assert.deepEqual([...g1.W, ...g1.b, ...g1.c], [...g2.W, ...g2.b, ...g2.c]);
  });
  test("AIS log-weights", () => {
    assert.deepEqual(logw(6), logw(6));
    assert.notDeepEqual(logw(6), logw(7));
  });
});
