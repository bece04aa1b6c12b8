/**
 * The two-layer DBM (src/energies/dbm.ts) against brute-force float64 references written from the energy
 * E(v, h1, h2) = −bᵀv − c1ᵀh1 − c2ᵀh2 − vᵀW1h1 − h1ᵀW2h2 (no shared code with the model's methods):
 *  - θ layout: W1, W2, b, c1, c2 are the documented slices of getParams();
 *  - the three conditionals equal ratios of e^{−E} summed over the conditioned layer's states;
 *  - F(v, h2) equals −log Σ_{h1} e^{−E}, and the exact visible free energy F(v) equals −log Σ_{h1,h2} e^{−E}
 *    (both enumeration branches: H1 ≤ H2 and H1 > H2); its θ-gradient equals the brute-force posterior
 *    expectation of −T, its v-gradient central differences;
 *  - exact log Z by the (v, h2) and h1 groupings and by brute force over all (v, h1, h2) agree to 1e-10;
 *  - mean field converges below its tolerance, satisfies the fixed-point equations, never lowers the
 *    bound from one sweep to the next, and damping reaches the same fixed point;
 *  - the two-phase block-Gibbs kernel leaves the exact (v, h2) marginal invariant (transition matrix built
 *    from brute-force conditionals), and the sampler's chains reproduce the exact unit marginals of all
 *    three layers within 4 Monte Carlo SE; same key, same chains.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { bipartiteLogSum, Dbm } from "../../src/energies/dbm.ts";
import { foldIn, keyFromSeed } from "../../src/random/key.ts";
import { dbmExactLogZ } from "../../src/rbm/dbm-ais.ts";

const bit = (k: number, j: number) => (k >> j) & 1;

/** −E(v, h1, h2) from the definition, for state indices (bits LSB first). */
function negE(m: Dbm, kv: number, k1: number, k2: number): number {
  const { visible: V, hidden1: H1, hidden2: H2 } = m;
  const th = m.getParams();
  const W1 = (i: number, j: number) => th[i * H1 + j];
  const W2 = (j: number, k: number) => th[V * H1 + j * H2 + k];
  const b = (i: number) => th[V * H1 + H1 * H2 + i];
  const c1 = (j: number) => th[V * H1 + H1 * H2 + V + j];
  const c2 = (k: number) => th[V * H1 + H1 * H2 + V + H1 + k];
  let s = 0;
  for (let i = 0; i < V; i++) s += b(i) * bit(kv, i);
  for (let j = 0; j < H1; j++) s += c1(j) * bit(k1, j);
  for (let k = 0; k < H2; k++) s += c2(k) * bit(k2, k);
  for (let i = 0; i < V; i++) for (let j = 0; j < H1; j++) s += W1(i, j) * bit(kv, i) * bit(k1, j);
  for (let j = 0; j < H1; j++) for (let k = 0; k < H2; k++) s += W2(j, k) * bit(k1, j) * bit(k2, k);
  return s;
}

function lse(xs: number[]): number {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((a, x) => a + Math.exp(x - m), 0));
}

function bitsOf(k: number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, j) => bit(k, j));
}

const sig = (z: number) => 1 / (1 + Math.exp(-z));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Exact joint probabilities p[kv][k1][k2] and log Z by brute force. */
function jointTable(m: Dbm): { p: number[][][]; logZ: number } {
  const { visible: V, hidden1: H1, hidden2: H2 } = m;
  const all: number[] = [];
  for (let kv = 0; kv < 2 ** V; kv++)
    for (let k1 = 0; k1 < 2 ** H1; k1++) for (let k2 = 0; k2 < 2 ** H2; k2++) all.push(negE(m, kv, k1, k2));
  const logZ = lse(all);
  const p = range(2 ** V).map((kv) =>
    range(2 ** H1).map((k1) => range(2 ** H2).map((k2) => Math.exp(negE(m, kv, k1, k2) - logZ))),
  );
  return { p, logZ };
}

describe("two-layer DBM: model", () => {
  test("θ layout: W1 (V×H1), W2 (H1×H2), b, c1, c2", () => {
    const m = Dbm.random(keyFromSeed(1), 3, 4, 2, 1, 1);
    const th = m.getParams();
    assert.equal(m.numParams, 3 * 4 + 4 * 2 + 3 + 4 + 2);
    assert.equal(m.weightCount, 3 * 4 + 4 * 2);
    assert.deepEqual([...m.W1], [...th.subarray(0, 12)]);
    assert.deepEqual([...m.W2], [...th.subarray(12, 20)]);
    assert.deepEqual([...m.b], [...th.subarray(20, 23)]);
    assert.deepEqual([...m.c1], [...th.subarray(23, 27)]);
    assert.deepEqual([...m.c2], [...th.subarray(27, 29)]);
    const m2 = new Dbm(3, 4, 2, th);
    assert.deepEqual(m2.getParams(), th);
    assert.throws(() => m.setParams(new Float64Array(5)), RangeError);
    assert.throws(() => m.setParams(th.map((x, q) => (q === 3 ? Number.NaN : x))), /not finite/);
    assert.throws(() => new Dbm(0, 2, 2), RangeError);
  });

  test("conditionals equal brute-force ratios of e^{−E}", () => {
    const m = Dbm.random(keyFromSeed(2), 3, 3, 2, 1.2, 0.8);
    const { visible: V, hidden1: H1, hidden2: H2 } = m;
    const f1 = new Float64Array(H1);
    const fv = new Float64Array(V);
    const f2 = new Float64Array(H2);
    let worst = 0;
    // p(h1_j = 1 | v, h2) by summing over h1.
    for (let kv = 0; kv < 2 ** V; kv++)
      for (let k2 = 0; k2 < 2 ** H2; k2++) {
        m.hidden1Field(bitsOf(kv, V), bitsOf(k2, H2), 1, f1);
        const w = range(2 ** H1).map((k1) => Math.exp(negE(m, kv, k1, k2)));
        const z = w.reduce((a, x) => a + x, 0);
        for (let j = 0; j < H1; j++) {
          const p = w.reduce((a, x, k1) => a + x * bit(k1, j), 0) / z;
          worst = Math.max(worst, Math.abs(p - sig(f1[j])));
        }
      }
    // p(v_i = 1 | h1, h2) (for every h2: it must not depend on it) and p(h2_k = 1 | v, h1).
    for (let k1 = 0; k1 < 2 ** H1; k1++) {
      m.visibleField(bitsOf(k1, H1), 1, fv);
      m.hidden2Field(bitsOf(k1, H1), 1, f2);
      for (let k2 = 0; k2 < 2 ** H2; k2++) {
        const w = range(2 ** V).map((kv) => Math.exp(negE(m, kv, k1, k2)));
        const z = w.reduce((a, x) => a + x, 0);
        for (let i = 0; i < V; i++)
          worst = Math.max(worst, Math.abs(w.reduce((a, x, kv) => a + x * bit(kv, i), 0) / z - sig(fv[i])));
      }
      for (let kv = 0; kv < 2 ** V; kv++) {
        const w = range(2 ** H2).map((k2) => Math.exp(negE(m, kv, k1, k2)));
        const z = w.reduce((a, x) => a + x, 0);
        for (let k = 0; k < H2; k++)
          worst = Math.max(worst, Math.abs(w.reduce((a, x, k2) => a + x * bit(k2, k), 0) / z - sig(f2[k])));
      }
    }
    assert.ok(worst < 1e-13, `largest conditional error ${worst}`);
  });

  test("F(v, h2) = −log Σ_{h1} e^{−E}; the visible F(v), its θ- and v-gradients by enumeration", () => {
    for (const [V, H1, H2] of [
      [3, 3, 2],
      [3, 2, 3],
    ]) {
      const m = Dbm.random(keyFromSeed(3 + H1), V, H1, H2, 1, 0.7);
      const out = new Float64Array(1);
      let worst = 0;
      for (let kv = 0; kv < 2 ** V; kv++)
        for (let k2 = 0; k2 < 2 ** H2; k2++) {
          m.freeEnergy(bitsOf(kv, V), bitsOf(k2, H2), 1, out);
          const ref = -lse(range(2 ** H1).map((k1) => negE(m, kv, k1, k2)));
          worst = Math.max(worst, Math.abs(out[0] - ref));
        }
      // Visible free energy and ∂θF(v) = −E_{p(h|v)}[T] (T = v h1ᵀ, h1 h2ᵀ, v, h1, h2).
      const L = m.layout;
      const g = new Float64Array(m.numParams);
      for (let kv = 0; kv < 2 ** V; kv++) {
        const x = Float64Array.from(bitsOf(kv, V));
        m.energy(x, 1, out);
        const terms: number[] = [];
        for (let k1 = 0; k1 < 2 ** H1; k1++)
          for (let k2 = 0; k2 < 2 ** H2; k2++) terms.push(negE(m, kv, k1, k2));
        const lz = lse(terms);
        worst = Math.max(worst, Math.abs(out[0] + lz));
        const ref = new Float64Array(m.numParams);
        for (let k1 = 0; k1 < 2 ** H1; k1++)
          for (let k2 = 0; k2 < 2 ** H2; k2++) {
            const p = Math.exp(negE(m, kv, k1, k2) - lz);
            for (let i = 0; i < V; i++) {
              ref[L.b + i] -= p * bit(kv, i);
              for (let j = 0; j < H1; j++) ref[L.W1 + i * H1 + j] -= p * bit(kv, i) * bit(k1, j);
            }
            for (let j = 0; j < H1; j++) {
              ref[L.c1 + j] -= p * bit(k1, j);
              for (let k = 0; k < H2; k++) ref[L.W2 + j * H2 + k] -= p * bit(k1, j) * bit(k2, k);
            }
            for (let k = 0; k < H2; k++) ref[L.c2 + k] -= p * bit(k2, k);
          }
        m.paramGrad(x, 1, Float64Array.of(1), g);
        for (let q = 0; q < m.numParams; q++) worst = Math.max(worst, Math.abs(g[q] - ref[q]));
      }
      assert.ok(worst < 1e-12, `${V}×${H1}×${H2}: largest error ${worst}`);
      // ∇ᵥF at a real point against central differences.
      const x = Float64Array.from({ length: V }, (_, i) => 0.2 + 0.25 * i);
      const u = new Float64Array(1);
      const grad = new Float64Array(V);
      m.energyAndGrad(x, 1, u, grad);
      const eps = 1e-5;
      for (let i = 0; i < V; i++) {
        const xp = x.slice();
        const xm = x.slice();
        xp[i] += eps;
        xm[i] -= eps;
        const fp = new Float64Array(1);
        const fm = new Float64Array(1);
        m.energy(xp, 1, fp);
        m.energy(xm, 1, fm);
        const fd = (fp[0] - fm[0]) / (2 * eps);
        assert.ok(Math.abs(fd - grad[i]) < 1e-8, `∂F/∂v_${i}: ${grad[i]} vs ${fd}`);
      }
    }
  });

  test("exact log Z: the (v, h2) and h1 groupings and brute force agree to 1e-10 (6 × 5 × 4)", () => {
    for (const std of [0.5, 2]) {
      const m = Dbm.random(keyFromSeed(5), 6, 5, 4, std, 0.5);
      const a = dbmExactLogZ(m, { route: "v,h2" });
      const b = dbmExactLogZ(m, { route: "h1" });
      const brute = jointTable(m).logZ;
      console.log(`weights sd ${std}: log Z (v,h2) ${a}, (h1) ${b}, brute force ${brute}`);
      assert.ok(Math.abs(a - b) < 1e-10, `${a} vs ${b}`);
      assert.ok(Math.abs(a - brute) < 1e-10, `${a} vs ${brute}`);
    }
    // The Gray-code enumerator's periodic recomputation: more than 1024 states, against a plain sum.
    const m = Dbm.random(keyFromSeed(6), 8, 3, 4, 1, 1);
    const a = new Float64Array(12).map((_, q) => (q < 8 ? m.b[q] : m.c2[q - 8]));
    const C = new Float64Array(12 * 3);
    for (let i = 0; i < 8; i++) for (let j = 0; j < 3; j++) C[i * 3 + j] = m.W1[i * 3 + j];
    for (let k = 0; k < 4; k++) for (let j = 0; j < 3; j++) C[(8 + k) * 3 + j] = m.W2[j * 4 + k];
    assert.ok(Math.abs(bipartiteLogSum(a, C, m.c1) - jointTable(m).logZ) < 1e-10);
    assert.throws(() => dbmExactLogZ(m, { route: "v,h2", maxBits: 10 }), /2\^12/);
  });

  test("mean field converges, solves the fixed-point equations and never lowers the bound", () => {
    const m = Dbm.random(keyFromSeed(7), 6, 5, 4, 1, 0.5);
    const n = 64;
    const v = new Float64Array(n * 6);
    for (let k = 0; k < n; k++) v.set(bitsOf(k, 6), k * 6);
    const tol = 1e-9;
    const mf = m.meanField(v, n, { tolerance: tol, maxIterations: 500 });
    assert.equal(mf.converged, n);
    let maxIt = 0;
    for (let s = 0; s < n; s++) {
      assert.ok(mf.residual[s] < tol);
      maxIt = Math.max(maxIt, mf.iterations[s]);
    }
    // μ1 = σ(c1 + vᵀW1 + W2μ2), μ2 = σ(c2 + W2ᵀμ1).
    const f1 = new Float64Array(n * 5);
    const f2 = new Float64Array(n * 4);
    m.hidden1Field(v, mf.mu2, n, f1);
    m.hidden2Field(mf.mu1, n, f2);
    let fp = 0;
    for (let q = 0; q < f1.length; q++) fp = Math.max(fp, Math.abs(sig(f1[q]) - mf.mu1[q]));
    for (let q = 0; q < f2.length; q++) fp = Math.max(fp, Math.abs(sig(f2[q]) - mf.mu2[q]));
    assert.ok(fp < 10 * tol, `fixed-point residual ${fp}`);
    // The variational free energy after t sweeps is non-increasing in t (layer-wise coordinate ascent).
    const prev = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
    const cur = new Float64Array(n);
    for (let t = 1; t <= 12; t++) {
      const r = m.meanField(v, n, { tolerance: 1e-300, maxIterations: t });
      m.variationalFreeEnergy(v, r.mu1, r.mu2, n, cur);
      for (let s = 0; s < n; s++)
        assert.ok(cur[s] <= prev[s] + 1e-12, `row ${s}, sweep ${t}: ${cur[s]} > ${prev[s]}`);
      prev.set(cur);
    }
    // Damping changes the path, not the fixed point (unique here: weights of sd 1 and 0.5 give a
    // contraction for these rows).
    const damped = m.meanField(v, n, { tolerance: tol, maxIterations: 2000, damping: 0.5 });
    assert.equal(damped.converged, n);
    let d = 0;
    for (let q = 0; q < mf.mu1.length; q++) d = Math.max(d, Math.abs(damped.mu1[q] - mf.mu1[q]));
    assert.ok(d < 1e-7, `damped vs undamped fixed point: ${d}`);
    console.log(
      `mean field: all ${n} rows below ${tol} in ≤ ${maxIt} sweeps; fixed-point residual ${fp.toExponential(1)}`,
    );
    assert.throws(() => m.meanField(v, n, { damping: 1 }), RangeError);
  });

  test("block Gibbs: the two-phase kernel keeps the exact marginal, and chains reproduce it within 4 SE", () => {
    const m = Dbm.random(keyFromSeed(8), 4, 3, 3, 1, 0.7);
    const { visible: V, hidden1: H1, hidden2: H2 } = m;
    const { p } = jointTable(m);
    // Exact π(v, h2) and the transition matrix of one sweep on x = (v, h2), from brute-force conditionals:
    // P(x → x') = Σ_{h1} p(h1 | x) p(v' | h1) p(h2' | h1).
    const nx = 2 ** (V + H2);
    const idx = (kv: number, k2: number) => kv + 2 ** V * k2;
    const pi = new Float64Array(nx);
    for (let kv = 0; kv < 2 ** V; kv++)
      for (let k1 = 0; k1 < 2 ** H1; k1++)
        for (let k2 = 0; k2 < 2 ** H2; k2++) pi[idx(kv, k2)] += p[kv][k1][k2];
    const given = (k1: number) => {
      // p(v, h2 | h1) ∝ p(v, h1, h2).
      const row = new Float64Array(nx);
      let z = 0;
      for (let kv = 0; kv < 2 ** V; kv++)
        for (let k2 = 0; k2 < 2 ** H2; k2++) {
          row[idx(kv, k2)] = p[kv][k1][k2];
          z += p[kv][k1][k2];
        }
      return row.map((x) => x / z);
    };
    const T = new Float64Array(nx * nx);
    const rows1 = range(2 ** H1).map(given);
    for (let kv = 0; kv < 2 ** V; kv++)
      for (let k2 = 0; k2 < 2 ** H2; k2++) {
        const x = idx(kv, k2);
        const z = range(2 ** H1).reduce((a, k1) => a + p[kv][k1][k2], 0);
        for (let k1 = 0; k1 < 2 ** H1; k1++) {
          const w = p[kv][k1][k2] / z;
          for (let y = 0; y < nx; y++) T[x * nx + y] += w * rows1[k1][y];
        }
      }
    let stat = 0;
    for (let y = 0; y < nx; y++) {
      let s = 0;
      for (let x = 0; x < nx; x++) s += pi[x] * T[x * nx + y];
      stat = Math.max(stat, Math.abs(s - pi[y]));
    }
    assert.ok(stat < 1e-15, `πT − π: ${stat}`);
    // The chains start from the independent-bias draw; after 40 sweeps the exact TV distance is tiny.
    const sweeps = 40;
    let dist = new Float64Array(nx);
    for (let kv = 0; kv < 2 ** V; kv++)
      for (let k2 = 0; k2 < 2 ** H2; k2++) {
        let q = 1;
        for (let i = 0; i < V; i++) q *= bit(kv, i) ? sig(m.b[i]) : 1 - sig(m.b[i]);
        for (let k = 0; k < H2; k++) q *= bit(k2, k) ? sig(m.c2[k]) : 1 - sig(m.c2[k]);
        dist[idx(kv, k2)] = q;
      }
    for (let t = 0; t < sweeps; t++) {
      const next = new Float64Array(nx);
      for (let x = 0; x < nx; x++) for (let y = 0; y < nx; y++) next[y] += dist[x] * T[x * nx + y];
      dist = next;
    }
    const tv = 0.5 * dist.reduce((a, x, y) => a + Math.abs(x - pi[y]), 0);
    assert.ok(tv < 1e-6, `TV after ${sweeps} sweeps: ${tv}`);

    const N = 4000;
    const chains = m.initChains(keyFromSeed(9), N);
    m.gibbs(keyFromSeed(10), chains, sweeps);
    const again = m.initChains(keyFromSeed(9), N);
    m.gibbs(keyFromSeed(10), again, sweeps);
    assert.deepEqual(again, chains, "same keys, same chains");
    // Exact unit marginals of the three layers against the chains' frequencies.
    const exact = { v: new Float64Array(V), h1: new Float64Array(H1), h2: new Float64Array(H2) };
    for (let kv = 0; kv < 2 ** V; kv++)
      for (let k1 = 0; k1 < 2 ** H1; k1++)
        for (let k2 = 0; k2 < 2 ** H2; k2++) {
          const q = p[kv][k1][k2];
          for (let i = 0; i < V; i++) exact.v[i] += q * bit(kv, i);
          for (let j = 0; j < H1; j++) exact.h1[j] += q * bit(k1, j);
          for (let k = 0; k < H2; k++) exact.h2[k] += q * bit(k2, k);
        }
    let worstZ = 0;
    for (const layer of ["v", "h1", "h2"] as const) {
      const size = exact[layer].length;
      for (let u = 0; u < size; u++) {
        let c = 0;
        for (let s = 0; s < N; s++) c += chains[layer][s * size + u];
        const pe = exact[layer][u];
        const z = (c / N - pe) / Math.sqrt((pe * (1 - pe)) / N);
        worstZ = Math.max(worstZ, Math.abs(z));
        assert.ok(Math.abs(z) < 4, `${layer}[${u}]: ${c / N} vs exact ${pe} (z = ${z.toFixed(2)})`);
      }
    }
    console.log(
      `block Gibbs: ${N} chains × ${sweeps} sweeps, largest |z| over 10 unit marginals ${worstZ.toFixed(2)}`,
    );
    // A different key gives different chains.
    const other = m.initChains(keyFromSeed(9), N);
    m.gibbs(foldIn(keyFromSeed(10), 1), other, sweeps);
    assert.notDeepEqual(other.v, chains.v);
  });
});
