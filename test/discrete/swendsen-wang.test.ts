/**
 * Swendsen–Wang against exact answers:
 *  - its exact transition rows (bond subsets × cluster flips, enumerated) sum to one and leave π
 *    invariant, with fields and couplings of both signs;
 *  - one `step` from a fixed state samples that row (chi-square over 20 000 chains);
 *  - long runs on a 4×4 ferromagnet with a field reproduce the transfer-matrix E[U] and E[m²] within
 *    4 Monte Carlo standard errors (independent chains), and the same draws reject the values at another
 *    β (the check has power);
 *  - at the critical coupling of a 16×16 torus, the integrated autocorrelation time of |m| per sweep is
 *    far below single-site Gibbs's (Swendsen & Wang 1987);
 *  - same key, same chains.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { EnumerableEnergy, stateIndex, writeState } from "../../src/energies/discrete.ts";
import { IsingEnergy } from "../../src/energies/ising.ts";
import { gridBonds, isingGridExact } from "../../src/energies/ising-exact.ts";
import { essMean } from "../../src/eval/diagnostics.ts";
import { foldIn, keyFromSeed, Stream } from "../../src/random/key.ts";
import { gibbs } from "../../src/samplers/discrete/gibbs.ts";
import { swendsenWang } from "../../src/samplers/discrete/swendsen-wang.ts";
import type { DiscreteChainState, DiscreteSampler } from "../../src/samplers/discrete/types.ts";
import type { StepInfo } from "../../src/samplers/types.ts";
import { chiSquare, chiSquareBound, rowChecks, stationarityError, transitionMatrix } from "./exact.ts";

/** A rows × cols grid with J ~ N(jMean, jStd²) per bond and h ~ N(0, hStd²) per site (free boundary). */
function randomGrid(seed: number, rows: number, cols: number, jMean: number, jStd: number, hStd: number) {
  const rng = new Stream(keyFromSeed(seed));
  const d = rows * cols;
  const J = new Float64Array(d * d);
  const h = new Float64Array(d);
  const bond = (a: number, b: number) => {
    J[a * d + b] = J[b * d + a] = jMean + jStd * rng.normal();
  };
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const k = r * cols + c;
      if (c + 1 < cols) bond(k, k + 1);
      if (r + 1 < rows) bond(k, k + cols);
      h[k] = hStd * rng.normal();
    }
  return new IsingEnergy(J, h);
}

describe("exact transitions", () => {
  const models: [string, IsingEnergy, number][] = [
    ["2×3 ferromagnet with fields, β = 0.8", randomGrid(1, 2, 3, 0.7, 0.3, 0.6), 0.8],
    ["2×3 couplings of both signs, β = 1.2", randomGrid(2, 2, 3, 0, 1, 0.5), 1.2],
    ["dense 5-site spin glass", IsingEnergy.random(keyFromSeed(3), 5, 0.8, 0.5), 1],
  ];
  for (const [name, energy, beta] of models)
    test(`π P = π: ${name}`, () => {
      const k = swendsenWang(energy, { beta });
      const m = 2 ** energy.sites;
      const p = transitionMatrix(k);
      const { rowSumErr, minEntry } = rowChecks(p, m);
      assert.ok(rowSumErr < 1e-12, `row sums off by ${rowSumErr}`);
      assert.ok(minEntry >= 0);
      const pi = new EnumerableEnergy(energy).probabilities(beta);
      const err = stationarityError(pi, p, m);
      assert.ok(err < 1e-13, `stationarity error ${err}`);
    });

  test("the rows fail stationarity for the wrong β (negative control)", () => {
    const energy = randomGrid(1, 2, 3, 0.7, 0.3, 0.6);
    const p = transitionMatrix(swendsenWang(energy, { beta: 0.8 }));
    const pi = new EnumerableEnergy(energy).probabilities(0.9);
    assert.ok(stationarityError(pi, p, 64) > 1e-3);
  });

  test("one step samples the exact row (chi-square, 20 000 chains)", () => {
    const energy = randomGrid(4, 2, 3, 0.5, 0.5, 0.7);
    const k = swendsenWang(energy, { beta: 1 });
    const n = 20000;
    for (const k0 of [0, 21, 50]) {
      const x0 = new Uint8Array(6);
      writeState(k0, 6, x0);
      const row = new Float64Array(64);
      k.transitionRow(x0, row);
      const x = new Uint8Array(n * 6);
      for (let i = 0; i < n; i++) x.set(x0, i * 6);
      const state = k.init(x, n);
      k.step(foldIn(keyFromSeed(5), k0), state);
      const counts = new Float64Array(64);
      for (let i = 0; i < n; i++) counts[stateIndex(state.x, 6, i * 6)]++;
      const { stat, df } = chiSquare(counts, row);
      assert.ok(stat < chiSquareBound(df), `from state ${k0}: chi-square ${stat} on ${df} df`);
      // The cached energies are the energies of the new states.
      const u = new Float64Array(n);
      energy.energy(state.x, n, u);
      assert.deepEqual(state.u, u);
    }
  });
});

/** Per-chain time averages of U and m² over `draws` sweeps after `burn`, from the all-minus state. */
function chainMeans(
  k: DiscreteSampler<DiscreteChainState, StepInfo>,
  sites: number,
  chains: number,
  burn: number,
  draws: number,
  seed: number,
) {
  const state = k.init(new Uint8Array(chains * sites), chains);
  const u = new Float64Array(chains);
  const m2 = new Float64Array(chains);
  for (let t = 0; t < burn + draws; t++) {
    k.step(foldIn(keyFromSeed(seed), t), state);
    if (t < burn) continue;
    for (let c = 0; c < chains; c++) {
      let m = 0;
      for (let i = 0; i < sites; i++) m += 2 * state.x[c * sites + i] - 1;
      u[c] += state.u[c] / draws;
      m2[c] += (m / sites) ** 2 / draws;
    }
  }
  return { u, m2 };
}

/** Mean and standard error of independent values. */
function meanSe(v: Float64Array): { mean: number; se: number } {
  const n = v.length;
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, se: Math.sqrt(variance / n) };
}

describe("long runs", () => {
  test("4×4 ferromagnet with a field: E[U] and E[m²] within 4 MCSE of the transfer matrix", (t) => {
    const energy = IsingEnergy.grid(4, 4, 0.45, 0.05);
    const exact = isingGridExact(gridBonds(energy, 4, 4), { beta: 1 });
    const other = isingGridExact(gridBonds(energy, 4, 4), { beta: 0.9 });
    const { u, m2 } = chainMeans(swendsenWang(energy), 16, 100, 50, 400, 7);
    const eu = meanSe(u);
    const em = meanSe(m2);
    t.diagnostic(`E[U] ${eu.mean} ± ${eu.se} (exact ${exact.meanEnergy})`);
    t.diagnostic(`E[m²] ${em.mean} ± ${em.se} (exact ${exact.magnetizationSq})`);
    assert.ok(
      Math.abs(eu.mean - exact.meanEnergy) < 4 * eu.se,
      `E[U] ${eu.mean} ± ${eu.se} vs exact ${exact.meanEnergy}`,
    );
    assert.ok(
      Math.abs(em.mean - exact.magnetizationSq) < 4 * em.se,
      `E[m²] ${em.mean} ± ${em.se} vs exact ${exact.magnetizationSq}`,
    );
    // Power: the values at β = 0.9 are far outside the same error bars.
    assert.ok(Math.abs(eu.mean - other.meanEnergy) > 10 * eu.se);
    assert.ok(Math.abs(em.mean - other.magnetizationSq) > 10 * em.se);
  });

  test("16×16 torus at the critical coupling: τ_int(|m|) of Swendsen–Wang ≪ single-site Gibbs", (t) => {
    const L = 16;
    const d = L * L;
    const betaC = Math.log(1 + Math.SQRT2) / 2;
    const energy = IsingEnergy.grid(L, L, 1, 0, { periodic: true });
    const chains = 8;
    const burn = 200;
    const draws = 2000;
    const tau = (k: DiscreteSampler<DiscreteChainState, StepInfo>) => {
      const state = k.init(new Uint8Array(chains * d), chains);
      const absM = new Float64Array(chains * draws);
      for (let s = 0; s < burn + draws; s++) {
        k.step(foldIn(keyFromSeed(11), s), state);
        if (s < burn) continue;
        for (let c = 0; c < chains; c++) {
          let m = 0;
          for (let i = 0; i < d; i++) m += 2 * state.x[c * d + i] - 1;
          absM[c * draws + s - burn] = Math.abs(m) / d;
        }
      }
      // τ = N / ESS (= 1 + 2 Σ ρ_t), per sweep.
      return (chains * draws) / essMean(absM, chains, draws);
    };
    const tSw = tau(swendsenWang(energy, { beta: betaC }));
    const tGibbs = tau(gibbs(energy, { beta: betaC }));
    t.diagnostic(`τ(|m|) per sweep: Swendsen–Wang ${tSw}, Gibbs ${tGibbs}`);
    // Measured: about 6 sweeps for Swendsen–Wang and 50–80 for Gibbs on seeds 1–4.
    assert.ok(tSw < 10, `Swendsen–Wang τ = ${tSw}`);
    assert.ok(tGibbs > 4 * tSw, `Gibbs τ = ${tGibbs} vs Swendsen–Wang τ = ${tSw}`);
  });

  test("same key, same chains", () => {
    const energy = IsingEnergy.grid(5, 5, 0.5, 0.1);
    const k = swendsenWang(energy);
    const run = () => {
      const s = k.init(new Uint8Array(4 * 25), 4);
      let clusters = 0;
      for (let t = 0; t < 20; t++) clusters += k.step(foldIn(keyFromSeed(3), t), s).info.clusters[0];
      return { x: Array.from(s.x), clusters };
    };
    assert.deepEqual(run(), run());
  });
});
