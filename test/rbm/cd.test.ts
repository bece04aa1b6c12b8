/**
 * CD-k / PCD-k gradients of the RBM kernels on a 5 × 3 model with O(1) weights, against exact formulas
 * (float64, by enumeration). The kernels return the gradient of the loss E_data[F] + log Z, estimated
 * with hidden probabilities in both terms (−∂θF = [v σ(c + vW)ᵀ, v, σ(c + vW)]):
 *   g = M − D,  D = (1/n) Σ_data [v₀σ(c + v₀W)ᵀ, v₀, σ(c + v₀W)],  M = (1/m) Σ_chains [v σ(c + vW)ᵀ, v, σ(c + vW)].
 *  - Data term, exactly: with persistent chains the final chain states are returned, so M is known
 *    exactly and M − g must equal D to float32 rounding.
 *  - CD-k model term, statistically: the chains start at the data and v_k ~ Tᵏ(v₀, ·) with the exact visible
 *    transition T(v, v′) = Σ_h p(h|v) p(v′|h), so E[M] = (1/n) Σ_data Σ_v′ Tᵏ(v₀, v′)[…](v′). Over R
 *    independent keys, each of the 23 components of g + D has its mean within 5 SE of E[M], SE = sample
 *    standard deviation / √R.
 *  - PCD model term at stationarity: 3000 chains burnt in (exact TV < 1e-3) give M within 5 SE of the
 *    model expectation E_p[…], SE from the per-chain sample variance (independent chains).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { foldIn, keyFromSeed, Stream } from "../../src/random/key.ts";
import {
  createGibbsChains,
  createGradient,
  RbmWorkspace,
  typedArrayRbmKernels as K,
} from "../../src/rbm/kernels.ts";
import { Rbm } from "../../src/energies/rbm.ts";
import { cdGradient, sgdUpdate } from "../../src/rbm/cd.ts";
import { assertClose } from "../helpers.ts";
import {
  burnIn,
  hiddenConditional,
  indexOf,
  stateBits,
  visibleConditional,
  visibleDistribution,
} from "./helpers.ts";

const NV = 5;
const NH = 3;
const D = NV * NH + NV + NH;
const model = Rbm.random(keyFromSeed(301), NV, NH, 1);

/** [v σ(c + vW)ᵀ, v, σ(c + vW)] of visible state index kv (float64, from enumeration). */
function stats(kv: number): Float64Array {
  const v = stateBits(kv, NV);
  const ph = hiddenConditional(model, kv);
  const out = new Float64Array(D);
  for (let i = 0; i < NV; i++) for (let j = 0; j < NH; j++) out[i * NH + j] = v[i] * ph[j];
  for (let i = 0; i < NV; i++) out[NV * NH + i] = v[i];
  for (let j = 0; j < NH; j++) out[NV * NH + NV + j] = ph[j];
  return out;
}
const STATS = Array.from({ length: 2 ** NV }, (_, k) => stats(k));

/** Mean of the stats over the n visible rows of x. */
function meanStats(x: Uint8Array, n: number): Float64Array {
  const out = new Float64Array(D);
  for (let s = 0; s < n; s++) {
    const st = STATS[indexOf(x, NV, s * NV)];
    for (let d = 0; d < D; d++) out[d] += st[d] / n;
  }
  return out;
}

/** T(v, v′) = Σ_h p(h|v) p(v′|h), 32 × 32. */
function visibleTransition(): Float64Array {
  const m = 2 ** NV;
  const t = new Float64Array(m * m);
  for (let a = 0; a < m; a++) {
    const ph = hiddenConditional(model, a);
    for (let kh = 0; kh < 2 ** NH; kh++) {
      let w = 1;
      for (let j = 0; j < NH; j++) w *= (kh >> j) & 1 ? ph[j] : 1 - ph[j];
      const pv = visibleConditional(model, kh);
      for (let b = 0; b < m; b++) {
        let q = w;
        for (let i = 0; i < NV; i++) q *= (b >> i) & 1 ? pv[i] : 1 - pv[i];
        t[a * m + b] += q;
      }
    }
  }
  return t;
}

function flatten(g: { W: Float32Array; b: Float32Array; c: Float32Array }): Float64Array {
  const out = new Float64Array(D);
  out.set(g.W, 0);
  out.set(g.b, NV * NH);
  out.set(g.c, NV * NH + NV);
  return out;
}

const n = 16;
const rng = new Stream(keyFromSeed(302));
const data = new Uint8Array(n * NV).map(() => (rng.uniform() < 0.5 ? 1 : 0));
const dataTerm = meanStats(data, n);

describe("CD / PCD gradients against exact formulas (5 × 3 RBM)", () => {
  test("data term exactly: M(returned persistent chains) − g = D", () => {
    const chains = createGibbsChains(model, 7);
    chains.v.set(data.subarray(0, 7 * NV));
    const ws = new RbmWorkspace();
    for (const k of [1, 3]) {
      const g = flatten(
        cdGradient(model, keyFromSeed(303 + k), data, n, { k, persistent: chains, workspace: ws }),
      );
      const m = meanStats(chains.v, 7);
      for (let d = 0; d < D; d++) assertClose(m[d] - g[d], dataTerm[d], 1e-6, 1e-6, `k=${k}, component ${d}`);
    }
  });

  for (const [k, R] of [
    [1, 2000],
    [3, 1000],
  ]) {
    test(`CD-${k}: E[g + D] = exact expected model term (R = ${R} keys, 5 SE per component)`, () => {
      const m = 2 ** NV;
      const t = visibleTransition();
      let dist = new Float64Array(m * n); // row s: Tᵏ(v₀ˢ, ·)
      for (let s = 0; s < n; s++) dist[s * m + indexOf(data, NV, s * NV)] = 1;
      for (let step = 0; step < k; step++) {
        const next = new Float64Array(m * n);
        for (let s = 0; s < n; s++)
          for (let a = 0; a < m; a++) {
            const w = dist[s * m + a];
            if (w !== 0) for (let b = 0; b < m; b++) next[s * m + b] += w * t[a * m + b];
          }
        dist = next;
      }
      const expected = new Float64Array(D);
      for (let s = 0; s < n; s++)
        for (let a = 0; a < m; a++)
          for (let d = 0; d < D; d++) expected[d] += (dist[s * m + a] * STATS[a][d]) / n;
      const ws = new RbmWorkspace();
      const grad = createGradient(model);
      const sum = new Float64Array(D);
      const sum2 = new Float64Array(D);
      for (let r = 0; r < R; r++) {
        const g = flatten(
          cdGradient(model, foldIn(keyFromSeed(310 + k), r), data, n, { k, workspace: ws }, grad),
        );
        for (let d = 0; d < D; d++) {
          const x = g[d] + dataTerm[d];
          sum[d] += x;
          sum2[d] += x * x;
        }
      }
      for (let d = 0; d < D; d++) {
        const mean = sum[d] / R;
        const se = Math.sqrt((sum2[d] / R - mean * mean) / (R - 1));
        assert.ok(se > 0, `component ${d} has no spread`);
        assert.ok(Math.abs(mean - expected[d]) < 5 * se, `component ${d}: ${mean} vs ${expected[d]} ± ${se}`);
      }
    });
  }

  test("PCD-1 at stationarity: model term = E_p[…] within 5 SE (3000 chains)", () => {
    const chainsN = 3000;
    const ws = new RbmWorkspace();
    const chains = createGibbsChains(model, chainsN);
    K.gibbsSweep(model, keyFromSeed(320), chains, burnIn(model, 1), 1, ws);
    // The 1e-6 identity below is the typed-array kernels' float64 accumulation; the native kernels agree
    // within float32 rounding, checked in test/native/rbm.test.ts.
    const g = flatten(
      cdGradient(model, keyFromSeed(321), data, n, {
        persistent: chains,
        workspace: ws,
        kernels: K,
      }),
    );
    const pv = visibleDistribution(model);
    const exact = new Float64Array(D);
    for (let a = 0; a < 2 ** NV; a++) for (let d = 0; d < D; d++) exact[d] += pv[a] * STATS[a][d];
    const sum = new Float64Array(D);
    const sum2 = new Float64Array(D);
    for (let s = 0; s < chainsN; s++) {
      const st = STATS[indexOf(chains.v, NV, s * NV)];
      for (let d = 0; d < D; d++) {
        sum[d] += st[d];
        sum2[d] += st[d] * st[d];
      }
    }
    for (let d = 0; d < D; d++) {
      const mean = sum[d] / chainsN;
      assertClose(g[d] + dataTerm[d], mean, 1e-6, 1e-6, `M from the gradient vs from the chains, ${d}`);
      const se = Math.sqrt((sum2[d] / chainsN - mean * mean) / (chainsN - 1));
      assert.ok(Math.abs(mean - exact[d]) < 5 * se, `component ${d}: ${mean} vs ${exact[d]} ± ${se}`);
    }
  });

  test("sgdUpdate applies θ ← θ − lr·g in float32 and marks the model changed", () => {
    const m = model.clone();
    const before = m.getParams();
    const v0 = m.version;
    const grad = cdGradient(m, keyFromSeed(330), data, n);
    const g = flatten(grad);
    sgdUpdate(m, grad, 0.1);
    const after = m.getParams();
    for (let d = 0; d < D; d++) assert.equal(after[d], Math.fround(before[d] - 0.1 * g[d]));
    assert.ok(m.version > v0);
    assert.throws(() => sgdUpdate(m, grad, 0), RangeError);
  });
});
