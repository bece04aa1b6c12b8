/**
 * The native RBM kernels (src/backend/native/rbm.ts, native/src/rbm.cc) against the typed-array kernels
 * (src/rbm/kernels.ts) on small, odd-sized RBMs (13×7, 64×33, 50×130; batches not a multiple of the 6-row
 * GEMM tile, of 16 or of the 96-row kernel tile), plus AIS against exact enumeration, determinism and
 * thread-count invariance.
 *
 * Tolerances (unit roundoff u = 2⁻²⁴, γ_K = K·u/(1 − K·u)). Both implementations form the pre-activations
 * c + vᵀW and Wh as float32 sums of the same ≤ K+1 terms (products with 0/1 states are exact) in different
 * orders, so each is within γ_K·S of the exact sum, S = |c_j| + Σ_i v_i|W_ij| (resp. Σ_j h_j|W_ij|), and
 * they differ by ≤ 2γ_K·S; b + Wh adds one float32 rounding per side (≤ 2u(|b_i| + S)). The tempered
 * probabilities are σ(β·pre); σ is 1/4-Lipschitz and both round p ≤ 1 to float32 (≤ 2⁻²⁵ each):
 * |Δp| ≤ β·2γ_K·S/4 (+ the b term) + 2⁻²⁴, evaluated per element. AIS's path conditional σ(b + t·Wh) is
 * bounded the same way against its float64 value. Free energies: softplus is 1-Lipschitz, so |ΔF| ≤ Σ_j 2γ_K·S_j plus float64
 * rounding. Gradients: given identical chain states, the data and model terms differ by the mean |Δp| of
 * each side plus float32 summation (γ_{n+m+2} times the term sums); the visible-bias gradient is then
 * bit-identical (the same float64 sums of bits).
 *
 * Draws: both draw x = [word·2⁻³² < p] from the same stream words in the same order, so they can differ only
 * where u = word·2⁻³² falls between the two implementations' p. Each draw test replays the chain with the
 * stream's words, the typed-array probabilities and the native ones (checked above to agree within the
 * derived tolerance) and computes the margin by which every u avoids the interval between them (widened by
 * the float32 rounding of p). When it is positive no draw can flip and the states must be bit-identical;
 * all cases here have a positive margin (a near tie after a change of seed is reported, not failed).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { backendInfo, setBackend, setThreads } from "../../src/node.ts";
import { nativeAddon, skipNative as skip } from "./addon.ts";
import { nativeRbmKernels as N } from "../../src/backend/native/rbm.ts";
import { foldIn, type Key, keyFromSeed, Stream } from "../../src/random/key.ts";
import { ais, exactLogZ } from "../../src/rbm/ais.ts";
import {
  type AisChains,
  createAisChains,
  createGibbsChains,
  createGradient,
  defaultRbmKernels,
  type RbmGradient,
  RbmWorkspace,
  typedArrayRbmKernels as T,
} from "../../src/rbm/kernels.ts";
import { Rbm } from "../../src/energies/rbm.ts";
import { sgdUpdate } from "../../src/rbm/cd.ts";

const U = 2 ** -24;
const gamma = (k: number) => (k * U) / (1 - k * U);
const P_ROUND = 2 ** -24;
const TWO_M32 = 2 ** -32;

const SHAPES: [nv: number, nh: number, n: number][] = [
  [13, 7, 37],
  [64, 33, 101],
  [50, 130, 23],
];

function bits(key: Key, len: number, p = 0.5): Uint8Array {
  const r = new Stream(key);
  const x = new Uint8Array(len);
  for (let q = 0; q < len; q++) x[q] = r.uniform() < p ? 1 : 0;
  return x;
}

function model(nv: number, nh: number, std = 0.5, seed = 7): Rbm {
  return Rbm.random(keyFromSeed(seed * 1000 + nv * 7 + nh), nv, nh, std);
}

/** Per-element bound on |Δp| between the implementations' p(h = 1 | v) (n × nh). */
function hiddenTol(m: Rbm, v: Uint8Array, n: number, beta: number): Float64Array {
  const { visible: nv, hidden: nh, W, c } = m;
  const g = 2 * gamma(nv + 1);
  const tol = new Float64Array(n * nh);
  for (let s = 0; s < n; s++)
    for (let j = 0; j < nh; j++) {
      let S = Math.abs(c[j]);
      for (let i = 0; i < nv; i++) if (v[s * nv + i]) S += Math.abs(W[i * nh + j]);
      tol[s * nh + j] = (Math.abs(beta) * g * S) / 4 + P_ROUND + 1e-15;
    }
  return tol;
}

/** Per-element bound on |Δp| between the implementations' p(v = 1 | h) (n × nv). */
function visibleTol(m: Rbm, h: Uint8Array, n: number, beta: number): Float64Array {
  const { visible: nv, hidden: nh, W, b } = m;
  const g = 2 * gamma(nh);
  const tol = new Float64Array(n * nv);
  for (let s = 0; s < n; s++)
    for (let i = 0; i < nv; i++) {
      let S = 0;
      for (let j = 0; j < nh; j++) if (h[s * nh + j]) S += Math.abs(W[i * nh + j]);
      const dPre = Math.abs(beta) * (g * S + 2 * U * (Math.abs(b[i]) + S));
      tol[s * nv + i] = dPre / 4 + P_ROUND + 1e-15;
    }
  return tol;
}

/**
 * Draws x = [u < pT] from `rng` (the typed-array rule) and tracks the margin: how far every u stays outside
 * [min(pT, pN) − slack, max(pT, pN) + slack], pN being the native probability of the same draw (the draws
 * use float64 p; the float32 values passed here are within 2⁻²⁵ of them, hence the default slack 2⁻²⁴). A
 * positive margin guarantees that both implementations drew the same bits.
 */
function drawWithMargin(
  rng: Stream,
  pT: ArrayLike<number>,
  pN: ArrayLike<number>,
  x: Uint8Array,
  st: { margin: number },
  slack: number | ArrayLike<number> = P_ROUND,
) {
  for (let q = 0; q < x.length; q++) {
    const u = rng.nextU32() * TWO_M32;
    x[q] = u < pT[q] ? 1 : 0;
    const sl = typeof slack === "number" ? slack : slack[q];
    const lo = Math.min(pT[q], pN[q]) - sl;
    const hi = Math.max(pT[q], pN[q]) + sl;
    st.margin = Math.min(st.margin, u < lo ? lo - u : u > hi ? u - hi : -1);
  }
}

/** The native p(h|v) and p(v|h) for the replays (float32). */
function nativeHidden(m: Rbm, v: Uint8Array, n: number, beta: number): Float32Array {
  const out = new Float32Array(n * m.hidden);
  N.hiddenProbs(m, v, n, beta, out, new RbmWorkspace());
  return out;
}
function nativeVisible(m: Rbm, h: Uint8Array, n: number, beta: number): Float32Array {
  const out = new Float32Array(n * m.visible);
  N.visibleProbs(m, h, n, beta, out, new RbmWorkspace());
  return out;
}

function maxAbsDiffOverTol(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  tol: ArrayLike<number> | number,
): number {
  let worst = 0;
  for (let q = 0; q < a.length; q++) {
    const t = typeof tol === "number" ? tol : tol[q];
    worst = Math.max(worst, Math.abs(a[q] - b[q]) / t);
  }
  return worst;
}

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let q = 0; q < a.length; q++) if (!Object.is(a[q], b[q])) return false;
  return true;
}

/** Checks `check` only when no draw came within rounding distance of its threshold. */
function ifNoNearTie(t: { diagnostic(msg: string): void }, margin: number, what: string, check: () => void) {
  if (margin > 0) check();
  else
    t.diagnostic(
      `${what}: a draw lies within rounding distance of p (margin ${margin}); exact comparison skipped`,
    );
}

describe("native RBM kernels vs typed-array kernels", { skip }, () => {
  test("the stream's jump-ahead reproduces xoshiro128** word for word", () => {
    const a = nativeAddon!;
    const key = keyFromSeed(42);
    const s = new Stream(key);
    const offsets = [0, 1, 31, 12345, (1 << 20) + 7];
    const total = offsets[offsets.length - 1] + 64;
    const words = new Float64Array(total);
    for (let q = 0; q < total; q++) words[q] = s.nextU32();
    for (const off of offsets) {
      const out = new Float64Array(64);
      a.rbmStreamWords(key.hi, key.lo, off, out);
      assert.ok(sameBits(out, words.subarray(off, off + 64)), `words at offset ${off}`);
    }
  });

  for (const [nv, nh, n] of SHAPES) {
    test(`conditionals and free energy within float32 tolerance (${nv}×${nh}, n = ${n})`, () => {
      const m = model(nv, nh);
      const v = bits(keyFromSeed(nv), n * nv);
      const h = bits(keyFromSeed(nh), n * nh);
      for (const beta of [1, 0.37]) {
        const pt = new Float32Array(n * nh);
        const pn = new Float32Array(n * nh);
        T.hiddenProbs(m, v, n, beta, pt, new RbmWorkspace());
        N.hiddenProbs(m, v, n, beta, pn, new RbmWorkspace());
        const rh = maxAbsDiffOverTol(pn, pt, hiddenTol(m, v, n, beta));
        assert.ok(rh <= 1, `hidden probabilities: worst |Δ|/tol = ${rh}`);
        const qt = new Float32Array(n * nv);
        const qn = new Float32Array(n * nv);
        T.visibleProbs(m, h, n, beta, qt, new RbmWorkspace());
        N.visibleProbs(m, h, n, beta, qn, new RbmWorkspace());
        const rv = maxAbsDiffOverTol(qn, qt, visibleTol(m, h, n, beta));
        assert.ok(rv <= 1, `visible probabilities: worst |Δ|/tol = ${rv}`);
      }
      const ft = new Float64Array(n);
      const fn = new Float64Array(n);
      T.freeEnergy(m, v, n, ft, new RbmWorkspace());
      N.freeEnergy(m, v, n, fn, new RbmWorkspace());
      const tolH = hiddenTol(m, v, n, 1); // (|Δpre|)/4 + …: |Δpre| ≤ 4·tol
      for (let s = 0; s < n; s++) {
        let tol = 1e-12 * (Math.abs(ft[s]) + nh);
        for (let j = 0; j < nh; j++) tol += 4 * tolH[s * nh + j];
        assert.ok(Math.abs(fn[s] - ft[s]) <= tol, `F(v_${s}): ${fn[s]} vs ${ft[s]} (tol ${tol})`);
      }
    });

    test(`Gibbs sweeps draw the same states (${nv}×${nh}, n = ${n})`, (t) => {
      const m = model(nv, nh);
      const beta = 0.8;
      const sweeps = 3;
      const key = keyFromSeed(11 + nv);
      const v0 = bits(keyFromSeed(5), n * nv);
      // Replay with the typed-array probabilities (float32) and the stream's words.
      const rng = new Stream(key);
      const st = { margin: Number.POSITIVE_INFINITY };
      const v = v0.slice();
      const h = new Uint8Array(n * nh);
      const ph = new Float32Array(n * nh);
      const pv = new Float32Array(n * nv);
      const ws = new RbmWorkspace();
      for (let s = 0; s < sweeps; s++) {
        T.hiddenProbs(m, v, n, beta, ph, ws);
        drawWithMargin(rng, ph, nativeHidden(m, v, n, beta), h, st);
        T.visibleProbs(m, h, n, beta, pv, ws);
        drawWithMargin(rng, pv, nativeVisible(m, h, n, beta), v, st);
      }
      const ct = createGibbsChains(m, n);
      const cn = createGibbsChains(m, n);
      ct.v.set(v0);
      cn.v.set(v0);
      T.gibbsSweep(m, key, ct, sweeps, beta, new RbmWorkspace());
      N.gibbsSweep(m, key, cn, sweeps, beta, new RbmWorkspace());
      ifNoNearTie(t, st.margin, "gibbs", () => {
        assert.deepEqual(cn.v, ct.v);
        assert.deepEqual(cn.h, ct.h);
        assert.deepEqual(cn.v, v);
      });
    });

    test(`Gibbs sweeps with a tracked pre = c + vᵀW (${nv}×${nh}, n = ${n}, β = 1.3)`, (t) => {
      const m = model(nv, nh);
      const beta = 1.3;
      const sweeps = 2;
      const key = keyFromSeed(13 + nh);
      const v0 = bits(keyFromSeed(6), n * nv);
      const field = (v: Uint8Array) => {
        const f = new Float64Array(n * nh);
        m.hiddenField(v, n, f);
        return f;
      };
      const pre0 = Float32Array.from(field(v0));
      // Replay: the first hiddens from σ(β·pre0) (the same float32 input on both sides: p equal up to the
      // last bits of exp), then each kernel's own products, as in the test above.
      const rng = new Stream(key);
      const st = { margin: Number.POSITIVE_INFINITY };
      const v = v0.slice();
      const h = new Uint8Array(n * nh);
      const ph = new Float32Array(n * nh);
      const pv = new Float32Array(n * nv);
      const ws = new RbmWorkspace();
      for (let s = 0; s < sweeps; s++) {
        if (s === 0) {
          const p0 = Float64Array.from(pre0, (x) => 1 / (1 + Math.exp(-beta * x)));
          drawWithMargin(rng, p0, p0, h, st, 1e-14);
        } else {
          T.hiddenProbs(m, v, n, beta, ph, ws);
          drawWithMargin(rng, ph, nativeHidden(m, v, n, beta), h, st);
        }
        T.visibleProbs(m, h, n, beta, pv, ws);
        drawWithMargin(rng, pv, nativeVisible(m, h, n, beta), v, st);
      }
      const ct = createGibbsChains(m, n);
      const cn = createGibbsChains(m, n);
      ct.v.set(v0);
      cn.v.set(v0);
      const pt = pre0.slice();
      const pn = pre0.slice();
      T.gibbsSweep(m, key, ct, sweeps, beta, new RbmWorkspace(), pt);
      N.gibbsSweep(m, key, cn, sweeps, beta, new RbmWorkspace(), pn);
      ifNoNearTie(t, st.margin, "gibbs with pre", () => {
        assert.deepEqual(ct.v, v);
        assert.deepEqual(cn.v, v);
        assert.deepEqual(cn.h, ct.h);
        const exact = field(v);
        const tolPre = hiddenTol(m, v, n, 1).map((x) => 4 * x);
        assert.ok(maxAbsDiffOverTol(pt, exact, tolPre) <= 1, "typed-array pre = c + vᵀW at the final v");
        assert.ok(maxAbsDiffOverTol(pn, exact, tolPre) <= 1, "native pre = c + vᵀW at the final v");
      });
    });

    test(`CD-2 and PCD-1 gradients (${nv}×${nh}, n = ${n})`, (t) => {
      const m = model(nv, nh);
      const data = bits(keyFromSeed(17 + nh), n * nv, 0.4);
      // CD-2, replayed: h₀ from the float32 p(h|v₀), then v₁, h₁, v₂ and p(h|v₂).
      const key = keyFromSeed(23 + nv);
      const k = 2;
      const ws = new RbmWorkspace();
      const rng = new Stream(key);
      const st = { margin: Number.POSITIVE_INFINITY };
      const ph0 = new Float32Array(n * nh);
      T.hiddenProbs(m, data, n, 1, ph0, ws);
      const tol0 = hiddenTol(m, data, n, 1);
      const h = new Uint8Array(n * nh);
      drawWithMargin(rng, ph0, nativeHidden(m, data, n, 1), h, st, 0); // both draw from these float32 values
      const v = new Uint8Array(n * nv);
      const pv = new Float32Array(n * nv);
      const ph = new Float32Array(n * nh);
      for (let s = 1; s <= k; s++) {
        T.visibleProbs(m, h, n, 1, pv, ws);
        drawWithMargin(rng, pv, nativeVisible(m, h, n, 1), v, st);
        T.hiddenProbs(m, v, n, 1, ph, ws);
        if (s < k) drawWithMargin(rng, ph, nativeHidden(m, v, n, 1), h, st);
      }
      const tolK = hiddenTol(m, v, n, 1);
      const gt = createGradient(m);
      const gn = createGradient(m);
      T.cdGradient(m, key, data, n, k, gt, new RbmWorkspace());
      N.cdGradient(m, key, data, n, k, gn, new RbmWorkspace());
      ifNoNearTie(t, st.margin, "CD-2", () => {
        // Float64 gradient from the replayed states and typed-array probabilities.
        const ref = createGradient(m);
        const mag = new Float64Array(nv * nh);
        for (let i = 0; i < nv; i++)
          for (let j = 0; j < nh; j++) {
            let d = 0;
            let e = 0;
            for (let s = 0; s < n; s++) {
              if (data[s * nv + i]) d += ph0[s * nh + j];
              if (v[s * nv + i]) e += ph[s * nh + j];
            }
            ref.W[i * nh + j] = e / n - d / n; // the loss gradient: model term − data term
            mag[i * nh + j] = d / n + e / n;
          }
        let max0 = 0;
        let max1 = 0;
        for (let q = 0; q < n * nh; q++) {
          max0 = Math.max(max0, tol0[q]);
          max1 = Math.max(max1, tolK[q]);
        }
        const g = gamma(2 * n + 2);
        for (let q = 0; q < nv * nh; q++) {
          const tol = max0 + max1 + 3 * g * mag[q] + 1e-12;
          assert.ok(
            Math.abs(gn.W[q] - ref.W[q]) <= tol,
            `gW[${q}] native ${gn.W[q]} vs ${ref.W[q]} (tol ${tol})`,
          );
          assert.ok(Math.abs(gt.W[q] - ref.W[q]) <= tol, `gW[${q}] typed ${gt.W[q]} vs ${ref.W[q]}`);
        }
        assert.deepEqual(gn.b, gt.b, "visible-bias gradient (same bits, same float64 sums)");
        for (let j = 0; j < nh; j++)
          assert.ok(Math.abs(gn.c[j] - gt.c[j]) <= max0 + max1 + 4 * U, `gc[${j}]: ${gn.c[j]} vs ${gt.c[j]}`);
      });

      // PCD-1 with m ≠ n persistent chains: the stored states come back and must match.
      const mc = n + 5;
      const pkey = keyFromSeed(29 + nh);
      const start = bits(keyFromSeed(31), mc * nv);
      const pt = createGibbsChains(m, mc);
      const pn = createGibbsChains(m, mc);
      pt.v.set(start);
      pn.v.set(start);
      const prng = new Stream(pkey);
      const pst = { margin: Number.POSITIVE_INFINITY };
      const hh = new Uint8Array(mc * nh);
      const pp = new Float32Array(mc * nh);
      T.hiddenProbs(m, start, mc, 1, pp, ws);
      drawWithMargin(prng, pp, nativeHidden(m, start, mc, 1), hh, pst);
      const vv = new Uint8Array(mc * nv);
      const pvv = new Float32Array(mc * nv);
      T.visibleProbs(m, hh, mc, 1, pvv, ws);
      drawWithMargin(prng, pvv, nativeVisible(m, hh, mc, 1), vv, pst);
      const g2t = createGradient(m);
      const g2n = createGradient(m);
      T.cdGradient(m, pkey, data, n, 1, g2t, new RbmWorkspace(), pt);
      N.cdGradient(m, pkey, data, n, 1, g2n, new RbmWorkspace(), pn);
      ifNoNearTie(t, pst.margin, "PCD-1", () => {
        assert.deepEqual(pn.v, vv);
        assert.deepEqual(pn.h, hh);
        assert.deepEqual(pn.v, pt.v);
        assert.deepEqual(pn.h, pt.h);
        assert.deepEqual(g2n.b, g2t.b);
        // |Δp| of the data term and of the chains' term, plus float32 sums (each mean's terms are ≤ 1).
        const tolW = Math.max(...tol0) + Math.max(...hiddenTol(m, vv, mc, 1)) + 3 * gamma(n + mc + 2) * 2;
        const r = maxAbsDiffOverTol(g2n.W, g2t.W, tolW);
        assert.ok(r <= 1, `PCD gW: worst |Δ|/tol = ${r}`);
      });
    });

    test(`AIS: same draws and log-weights from the same chains (${nv}×${nh}, n = ${n})`, (t) => {
      const m = model(nv, nh, 0.3);
      const key = keyFromSeed(37 + nv);
      // Base draw: identical (same σ(b) up to float64 ulps, same words).
      const ct = createAisChains(m, n);
      const cn = createAisChains(m, n);
      const wt = new RbmWorkspace();
      const wn = new RbmWorkspace();
      T.aisInit(m, foldIn(key, 0), ct, wt);
      N.aisInit(m, foldIn(key, 0), cn, wn);
      assert.deepEqual(cn.v, ct.v);
      assert.ok(
        maxAbsDiffOverTol(
          cn.pre,
          ct.pre,
          hiddenTol(m, ct.v, n, 1).map((x) => 4 * x),
        ) <= 1,
      );
      for (let k = 1; k <= 3; k++) T.aisSweep(m, foldIn(key, k), ct, (k - 1) / 10, k / 10, wt);
      // One step from the SAME chain state (so the hidden probabilities are the same float64 numbers).
      const copy: AisChains = {
        n,
        v: ct.v.slice(),
        h: ct.h.slice(),
        pre: ct.pre.slice(),
        logw: ct.logw.slice(),
      };
      const [tp, t1] = [0.3, 0.45];
      const skey = foldIn(key, 4);
      const rng = new Stream(skey);
      const st = { margin: Number.POSITIVE_INFINITY };
      const p = new Float64Array(n * nh);
      const sp = (y: number) => Math.max(y, 0) + Math.log1p(Math.exp(-Math.abs(y)));
      const dl = new Float64Array(n);
      const mag = new Float64Array(n);
      for (let q = 0; q < n * nh; q++) {
        const x = copy.pre[q];
        p[q] = 1 / (1 + Math.exp(-t1 * x));
        const s = Math.floor(q / nh);
        dl[s] += sp(t1 * x) - sp(tp * x);
        mag[s] += sp(t1 * x) + sp(tp * x);
      }
      const h = new Uint8Array(n * nh);
      drawWithMargin(rng, p, p, h, st, 1e-14); // same pre → same float64 p up to exp's last bits
      // The path's visible conditional σ(b_i + t·(Wh)_i) in float64; both kernels form b + t·Wh from a
      // float32 product (within γ_nh·S of the exact sum) rounded to float32, so their p lie within `slack`.
      const pv = new Float64Array(n * nv);
      const slack = new Float64Array(n * nv);
      for (let s = 0; s < n; s++)
        for (let i = 0; i < nv; i++) {
          let wh = 0;
          let S = 0;
          for (let j = 0; j < nh; j++)
            if (h[s * nh + j]) {
              wh += m.W[i * nh + j];
              S += Math.abs(m.W[i * nh + j]);
            }
          pv[s * nv + i] = 1 / (1 + Math.exp(-(m.b[i] + t1 * wh)));
          const dPre = t1 * gamma(nh) * S + U * (Math.abs(m.b[i]) + t1 * S);
          slack[s * nv + i] = dPre / 4 + P_ROUND + 1e-15;
        }
      const v = new Uint8Array(n * nv);
      drawWithMargin(rng, pv, pv, v, st, slack);
      T.aisSweep(m, skey, ct, tp, t1, wt);
      N.aisSweep(m, skey, copy, tp, t1, wn);
      for (let s = 0; s < n; s++) {
        const tol = 1e-13 * (mag[s] + Math.abs(ct.logw[s]) + 1);
        assert.ok(Math.abs(copy.logw[s] - ct.logw[s]) <= tol, `logw[${s}]: ${copy.logw[s]} vs ${ct.logw[s]}`);
      }
      ifNoNearTie(t, st.margin, "AIS sweep", () => {
        assert.deepEqual(copy.h, h);
        assert.deepEqual(copy.h, ct.h);
        assert.deepEqual(copy.v, ct.v);
        const tolPre = hiddenTol(m, v, n, 1).map((x) => 4 * x);
        assert.ok(maxAbsDiffOverTol(copy.pre, ct.pre, tolPre) <= 1, "pre = c + vᵀW at the new v");
      });
    });
  }

  test("SGD update is bit-identical to the typed-array update", () => {
    const m = model(64, 33);
    const g = createGradient(m);
    N.cdGradient(m, keyFromSeed(3), bits(keyFromSeed(4), 20 * 64), 20, 1, g, new RbmWorkspace());
    const a = m.clone();
    const b = m.clone();
    sgdUpdate(a, g, 0.0137);
    sgdUpdate(b, g, 0.0137, N);
    assert.ok(sameBits(a.W, b.W) && sameBits(a.b, b.b) && sameBits(a.c, b.c));
  });

  test("AIS log Z of a 13×7 RBM matches exact enumeration", () => {
    const m = model(13, 7, 0.6, 3);
    const exact = exactLogZ(m);
    const R = 8;
    const est: number[] = [];
    const ws = new RbmWorkspace();
    for (let r = 0; r < R; r++)
      est.push(ais(m, keyFromSeed(1000 + r), { betas: 300, chains: 64, kernels: N, workspace: ws }).logZ);
    const mean = est.reduce((s, x) => s + x, 0) / R;
    const sd = Math.sqrt(est.reduce((s, x) => s + (x - mean) ** 2, 0) / (R - 1));
    // log Ẑ is biased low by ≈ Var(log Ẑ)/2; 4 standard errors of the mean of R runs for the noise.
    const tol = (4 * sd) / Math.sqrt(R) + (sd * sd) / 2 + 1e-9;
    assert.ok(Math.abs(mean - exact) <= tol, `AIS ${mean} ± ${sd} (R = ${R}) vs exact ${exact} (tol ${tol})`);
    // The typed-array kernels estimate the same quantity.
    const ref = ais(m, keyFromSeed(1000), { betas: 300, chains: 64, kernels: T }).logZ;
    assert.ok(Math.abs(ref - exact) <= 4 * sd + (sd * sd) / 2 + 1e-9, `typed-array AIS ${ref} vs ${exact}`);
  });
});

/** Every output of a fixed workload on the native kernels (Gibbs states and pre, CD/PCD gradients, AIS chains). */
function runAll(): (Uint8Array | Float32Array | Float64Array)[] {
  const nv = 64;
  const nh = 33;
  const n = 250; // > 2 kernel tiles per part on 1 thread
  const m = model(nv, nh);
  const ws = new RbmWorkspace();
  const out: (Uint8Array | Float32Array | Float64Array)[] = [];
  const c = createGibbsChains(m, n);
  c.v.set(bits(keyFromSeed(1), n * nv));
  N.gibbsSweep(m, keyFromSeed(2), c, 2, 0.9, ws);
  out.push(c.v.slice(), c.h.slice());
  const field = new Float64Array(n * nh);
  m.hiddenField(c.v, n, field);
  const pre = Float32Array.from(field);
  N.gibbsSweep(m, keyFromSeed(6), c, 2, 1.1, ws, pre);
  out.push(c.v.slice(), c.h.slice(), pre);
  const probs = new Float32Array(n * nh);
  N.hiddenProbs(m, c.v, n, 0.9, probs, ws);
  out.push(probs);
  const fe = new Float64Array(n);
  N.freeEnergy(m, c.v, n, fe, ws);
  out.push(fe);
  const g: RbmGradient = createGradient(m);
  N.cdGradient(m, keyFromSeed(3), c.v, n, 2, g, ws);
  out.push(g.W, g.b, g.c);
  const pc = createGibbsChains(m, 77);
  const g2 = createGradient(m);
  N.cdGradient(m, keyFromSeed(4), c.v, n, 1, g2, ws, pc);
  out.push(g2.W, g2.b, g2.c, pc.v, pc.h);
  const a = createAisChains(m, n);
  N.aisInit(m, keyFromSeed(5), a, ws);
  for (let k = 1; k <= 4; k++) N.aisSweep(m, foldIn(keyFromSeed(5), k), a, (k - 1) / 4, k / 4, ws);
  out.push(a.v, a.h, a.pre, a.logw);
  return out;
}

describe("native RBM kernels: determinism, threads, selection", { skip }, () => {
  test("same key → bit-identical outputs; 1 and 2 threads agree bit for bit", () => {
    const before = backendInfo().threads;
    try {
      setThreads(2);
      const a = runAll();
      const b = runAll();
      setThreads(1);
      const c = runAll();
      for (let q = 0; q < a.length; q++) {
        assert.ok(sameBits(a[q], b[q]), `output ${q}: run to run`);
        assert.ok(sameBits(a[q], c[q]), `output ${q}: 1 vs 2 threads`);
      }
    } finally {
      setThreads(before);
    }
  });

  test("defaultRbmKernels: native when selected, typed-array under setBackend('wasm')", () => {
    assert.equal(defaultRbmKernels().name, "native");
    try {
      setBackend("wasm");
      assert.equal(defaultRbmKernels().name, "typed-array");
    } finally {
      setBackend("auto");
    }
  });
});

describe("RBM kernel selection without the addon", () => {
  test("defaultRbmKernels falls back to the typed-array kernels when the addon is missing", () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
    const child = `import { defaultRbmKernels } from "./src/node.ts"; console.log(defaultRbmKernels().name);`;
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", child], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, EBM_BACKEND: "", EBM_NATIVE_ADDON: join(root, "native", "no-such-addon.node") },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "typed-array");
  });
});
