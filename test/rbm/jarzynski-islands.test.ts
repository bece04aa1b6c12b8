/**
 * The RBM Jarzynski estimator population run as independent islands (estimator.islands; the SE from the
 * spread of the islands' Ẑ_r, smc/diagnostics.ts islandEstimatorDiagnostics), against exact enumeration
 * along a prescribed θ path (10 × 12, from W = 0 to W ~ N(0, 4²) with b, c ~ N(0, 1) in 200 steps,
 * resampling at ESS < 0.99·N so that genealogies collapse):
 *  - one population of 1000 walkers: after 16 resamplings its Lee–Whiteley variance estimate
 *    1 − (N/(N−1))^(R+1)·(1 − Σ_e W_e²) comes out negative, so it has no SE (NaN) — as it has none after a
 *    collapsed genealogy (test/smc/health.test.ts);
 *  - 10 islands × 100 walkers, same path: a finite SE at every checkpoint and |log Ẑ − exact| < 3 SE;
 *  - calibration over 12 keys at the end: with 10 islands z = (log Ẑ − exact)/SE is about Student-t with
 *    9 degrees of freedom (E z² = 9/7, sd of z² ≈ 2.3, so of its mean over 12 keys ≈ 0.66): mean z² is
 *    asserted below 9/7 + 3·0.66 ≈ 3.3, and the sd of log Ẑ over keys within a factor 2 of the mean SE.
 *  - with one island the options and state are those of a plain estimator (no `estimatorIslands`); 1005
 *    walkers make 10 islands of 100 or 101 (their log Z within 3 SE of exact); fewer than 2 walkers per
 *    island is refused;
 *  - islandEstimatorDiagnostics on hand-made islands of 2, 3 and 5 walkers: Ẑ = Σ (N_r/N) Ẑ_r and
 *    Var(Ẑ)/Ẑ² = Σ N_r (Ẑ_r/Ẑ − 1)²/((R − 1) N), to 1e-12.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Rbm } from "../../src/energies/rbm.ts";
import { rbmJarzynski } from "../../src/objectives/rbm-jarzynski.ts";
import { foldIn, keyFromSeed } from "../../src/random/key.ts";
import { exactLogZ } from "../../src/rbm/ais.ts";
import { islandEstimatorDiagnostics } from "../../src/smc/diagnostics.ts";
import { walkerHealthStats } from "../../src/smc/health.ts";
import { weightedWalkers } from "../../src/smc/walkers.ts";
import { WASM_PASS_SKIP } from "../helpers.ts";

const V = 10;
const H = 12;
const K = 200;

/** Runs the estimator along the path; returns (log Z, SE, exact) at k = 50, 100, 150, 200 and the last diagnostics. */
function runPath(seed: number, estimator: { walkers: number; islands?: number }) {
  const target = Rbm.random(keyFromSeed(91), V, H, 4, 1);
  const theta = target.getParams();
  const at = (k: number) => theta.map((x, q) => (q < V * H ? (x * k) / K : x));
  const model = Rbm.zeros(V, H);
  model.setParams(at(0));
  const obj = rbmJarzynski({ walkers: 10, resample: 0.99, estimator });
  const s = obj.init(keyFromSeed(seed), model);
  const checks: { k: number; logZ: number; se: number; exact: number }[] = [];
  for (let k = 1; k <= K; k++) {
    model.setParams(at(k));
    obj.afterUpdate(foldIn(keyFromSeed(seed + 1), k), s, model);
    if (k % 50 !== 0) continue;
    const e = obj.diagnostics(s).estimator!;
    checks.push({ k, logZ: e.logZ, se: e.logZSe, exact: exactLogZ(model) });
  }
  return { checks, last: obj.diagnostics(s).estimator!, state: s };
}

describe("RBM Jarzynski estimator islands", { skip: WASM_PASS_SKIP }, () => {
  test("one population has no Lee–Whiteley SE here; 10 islands have an SE that covers exact", () => {
    const one = runPath(100, { walkers: 1000 });
    console.log(
      `one population: log Z ${one.last.logZ.toFixed(4)} (SE ${one.last.logZSe}), exact ` +
        `${one.checks.at(-1)!.exact.toFixed(4)}, ${one.last.resamplings} resamplings; warnings ${one.last.warnings.map((w) => w.code)}`,
    );
    assert.ok(Number.isNaN(one.last.logZSe));
    const isl = runPath(100, { walkers: 1000, islands: 10 });
    for (const c of isl.checks) {
      const z = (c.logZ - c.exact) / c.se;
      console.log(
        `10 islands, k = ${c.k}: ${c.logZ.toFixed(4)} ± ${c.se.toFixed(4)} vs exact ${c.exact.toFixed(4)} (z ${z.toFixed(2)})`,
      );
      assert.ok(Number.isFinite(c.se) && c.se > 0 && c.se < 0.1, `SE ${c.se}`);
      assert.ok(Math.abs(z) < 3, `k = ${c.k}: z = ${z}`);
    }
    assert.equal(isl.last.islands, 10);
    assert.equal(isl.last.walkers, 1000);
    assert.equal(isl.last.islandLogZRatios!.length, 10);
    assert.ok(!isl.last.warnings.some((w) => w.code === "genealogy_collapsed"));
    assert.equal(isl.state.estimatorIslands!.length, 9);
  });

  test("calibration over 12 keys: mean z² below 3.3, spread of log Ẑ within a factor 2 of the mean SE", () => {
    const z2: number[] = [];
    const est: number[] = [];
    const ses: number[] = [];
    let exact = 0;
    for (let r = 0; r < 12; r++) {
      const c = runPath(200 + 10 * r, { walkers: 1000, islands: 10 }).checks.at(-1)!;
      exact = c.exact;
      z2.push(((c.logZ - c.exact) / c.se) ** 2);
      est.push(c.logZ);
      ses.push(c.se);
    }
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const m = mean(est);
    const sd = Math.sqrt(est.reduce((a, x) => a + (x - m) ** 2, 0) / (est.length - 1));
    console.log(
      `12 keys: mean z² ${mean(z2).toFixed(3)}; log Ẑ mean ${m.toFixed(4)} (exact ${exact.toFixed(4)}), sd ${sd.toFixed(4)}, mean SE ${mean(ses).toFixed(4)}`,
    );
    assert.ok(mean(z2) < 3.3, `mean z² ${mean(z2)}`);
    assert.ok(sd < 2 * mean(ses) && sd > mean(ses) / 2, `sd ${sd} vs mean SE ${mean(ses)}`);
  });

  test("one island is a plain estimator; uneven islands; at least 2 walkers per island", () => {
    const plain = runPath(300, { walkers: 200 });
    const single = runPath(300, { walkers: 200, islands: 1 });
    assert.equal(single.state.estimatorIslands, undefined);
    assert.deepEqual(single.checks, plain.checks);
    // 1005 walkers in 10 islands: sizes 100 or 101, all walkers used.
    const uneven = runPath(400, { walkers: 1005, islands: 10 });
    const sizes = [uneven.state.estimator!, ...uneven.state.estimatorIslands!].map((p) => p.walkers.n);
    assert.deepEqual([...new Set(sizes)].sort(), [100, 101]);
    assert.equal(uneven.last.walkers, 1005);
    const c = uneven.checks.at(-1)!;
    assert.ok(Math.abs(c.logZ - c.exact) < 3 * c.se, `${c.logZ} ± ${c.se} vs ${c.exact}`);
    assert.throws(
      () => rbmJarzynski({ walkers: 10, estimator: { walkers: 9, islands: 5 } }),
      /at least 2 walkers each/,
    );
    assert.throws(() => rbmJarzynski({ walkers: 10, estimator: { walkers: 1000, islands: 0 } }), RangeError);
  });
});

test(
  "islandEstimatorDiagnostics: the size-weighted pool and its SE, by hand",
  { skip: WASM_PASS_SKIP },
  () => {
    // Three islands of 2, 3 and 5 walkers with no resampling: Ẑ_r = mean of e^{A}.
    const logws = [
      [0, Math.log(3)],
      [Math.log(2), 0, Math.log(0.5)],
      [0, 0, 0, 0, Math.log(6)],
    ];
    const islands = logws.map((lw) => ({
      walkers: weightedWalkers(
        {
          n: lw.length,
          dim: 1,
          position: new Float64Array(lw.length),
          u: new Float64Array(lw.length),
          grad: new Float64Array(lw.length),
        },
        Float64Array.from(lw),
      ),
      increments: new Float64Array(lw.length),
      essBefore: lw.length,
      resampled: false,
      health: walkerHealthStats(lw.length),
    }));
    const z = [2, 3.5 / 3, 2];
    const sizes = [2, 3, 5];
    const pooled = (2 * z[0] + 3 * z[1] + 5 * z[2]) / 10;
    let s2 = 0;
    for (let r = 0; r < 3; r++) s2 += sizes[r] * (z[r] / pooled - 1) ** 2;
    s2 /= 2 * 10;
    const d = islandEstimatorDiagnostics(islands, 1.5);
    assert.ok(Math.abs(d.logZRatio - Math.log(pooled)) < 1e-12, `${d.logZRatio} vs ${Math.log(pooled)}`);
    assert.ok(Math.abs(d.logZ - (1.5 + Math.log(pooled))) < 1e-12);
    assert.ok(Math.abs(d.logZSe - Math.sqrt(s2)) < 1e-12, `${d.logZSe} vs ${Math.sqrt(s2)}`);
    assert.equal(d.walkers, 10);
    assert.equal(d.islands, 3);
    assert.throws(() => islandEstimatorDiagnostics(islands.slice(0, 1)), RangeError);
  },
);
