/**
 * The seed's claims on the 1-D two-well experiment, with tolerances derived from Monte-Carlo error:
 *
 * Jarzynski. Walkers never cross the barrier, so the weighted mass of mode b is f·e^{−Δz}/(f·e^{−Δz} + 1 − f)
 * with f the initial fraction of walkers in b (f ~ Binomial(N, ½)/N). Training stops where it equals the
 * data mass q̂, giving odds(q_final) = odds(q̂)/odds(f). Linearising at f = ½: sd from the walkers
 * q(1−q)·2/√N, from the data √(q(1−q)/n). The log Z estimate is log Z₀ + log(f e^{−Δz} + 1 − f), whose
 * sd is |odds − 1|/((odds + 1)/2) · ½/√N at the current odds = e^{−Δz}.
 * CD-1. Walkers are N random data points moved once: E[∂zU] over them equals the data term up to sampling
 * noise of variance q̂(1−q̂)/N per iteration, so z performs a random walk with sd lr·√(T q̂(1−q̂)/N) and
 * q = ½ − z/4 + …
 * PCD. The walkers keep f ≈ ½ forever, so the gradient stays ≈ q̂ − ½ and z runs off linearly: q → 1
 * (q* > ½) or 0 (q* < ½).
 * Score matching. ∂zJ is of order the density at the barrier (< e^{−20} here): q stays at ½.
 * Health: both runs are the healthy reference of smc/health.ts (no warning, ESS before resampling ≈ 0.76 N
 * and 0.88 N, increment spreads below 0.04), and their reported SEs contain the truth.
 *
 * The wasm pass skips the file: the experiment's energy is analytic, and the one kernel it reaches
 * (multinomial resampling) has no wasm implementation; the TypeScript version that pass runs draws the
 * native kernel's ancestors bit for bit (test/native/resample.test.ts), so the pass would repeat these
 * runs exactly (measured: the same results, hash for hash, on both).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { GMM1D_DEFAULTS, type Gmm1dOptions, runGmm1d } from "../../src/experiments/gmm1d.ts";
import { WASM_PASS_SKIP as skip } from "../helpers.ts";

const K = 4; // number of standard deviations allowed

for (const extra of [{}, { q: 0.3, modes: [-6, 7] as [number, number], seed: 5 }]) {
  const o: Gmm1dOptions = { ...GMM1D_DEFAULTS, ...extra };
  describe(`gmm1d q* = ${o.q}, modes ${o.modes.join(",")}`, { skip }, () => {
    const r = runGmm1d(o);
    const { walkers: N, dataSize: n, iterations: T, lr, q } = o;

    test("Jarzynski learns q* within a few hundredths", () => {
      const qj = r.methods.jarzynski!.q;
      const sd = Math.sqrt((q * (1 - q) * 2) ** 2 / N + (q * (1 - q)) / n);
      assert.ok(Math.abs(qj - q) < K * sd, `q = ${qj}, target ${q}, allowed ${K * sd}`);
      assert.ok(K * sd < 0.1, "the derived bound is a few hundredths");
    });

    test("Jarzynski log Z estimate tracks the exact log Z over training", () => {
      const j = r.methods.jarzynski!;
      for (let k = 0; k <= T; k += 50) {
        const qk = j.qTrace[k];
        const oddsK = qk / (1 - qk);
        const sd = (Math.abs(oddsK - 1) / ((oddsK + 1) / 2)) * (0.5 / Math.sqrt(N));
        const err = Math.abs(j.logZEstimate[k] - j.logZExact[k]);
        assert.ok(err <= K * sd + 1e-9, `iteration ${k}: |error| ${err} > ${K * sd}`);
      }
      assert.equal(j.logzAbsErr, Math.abs(j.logZEstimate[T] - j.logZExact[T]));
    });

    test("no false alarm: the Jarzynski weights are healthy and its estimates come with standard errors", () => {
      const j = r.methods.jarzynski!;
      assert.deepEqual(r.warnings, []);
      assert.equal(j.unreliable, false);
      assert.ok(j.essMedianFraction > 0.5, `median ESS/N before resampling ${j.essMedianFraction}`);
      assert.ok(j.health.maxSpread < 0.1, `increment spread ${j.health.maxSpread}`);
      // The weighted walkers estimate log Z and the model's mass q(z) of mode b: within K reported SEs.
      assert.ok(j.logzAbsErr < K * j.logZSe, `|log Z error| ${j.logzAbsErr}, SE ${j.logZSe}`);
      assert.ok(
        Math.abs(j.walkerMassB! - j.q) < K * j.walkerMassBSe!,
        `mass ${j.walkerMassB} ± ${j.walkerMassBSe}`,
      );
    });

    test("score matching does not move", () => {
      assert.ok(Math.abs(r.methods.score_matching!.q - 0.5) < 1e-9, `q = ${r.methods.score_matching!.q}`);
    });

    test("CD-1 barely moves from 0.5", () => {
      const qcd = r.methods.cd!.q;
      const sd = 0.25 * lr * Math.sqrt((T * r.dataQ * (1 - r.dataQ)) / N);
      assert.ok(Math.abs(qcd - 0.5) < K * sd, `q = ${qcd}, allowed ${K * sd}`);
      assert.ok(Math.abs(qcd - q) > 0.15, "CD-1 should stay far from q*");
    });

    test("PCD collapses onto one mode, away from q*", () => {
      const qp = r.methods.pcd!.q;
      if (q > 0.5) assert.ok(qp > 0.99, `q = ${qp}`);
      else assert.ok(qp < 0.01, `q = ${qp}`);
    });
  });
}

test("same seed, same results", { skip }, () => {
  const o = { ...GMM1D_DEFAULTS, iterations: 50, dataSize: 500, walkers: 100 };
  const a = runGmm1d(o);
  const b = runGmm1d(o);
  for (const m of ["score_matching", "cd", "pcd", "jarzynski"] as const)
    assert.deepEqual(a.methods[m]!.qTrace, b.methods[m]!.qTrace);
  assert.deepEqual(a.methods.jarzynski!.logZEstimate, b.methods.jarzynski!.logZEstimate);
});
