/**
 * log Z by annealing (src/eval/logz.ts) against closed forms, with fixed seeds:
 * 1. Bookkeeping: with no moves, AIS is importance sampling from the base, exactly (this checks the
 *    weight increments recovered from the cached U_t, on a schedule with tiny first steps).
 * 2. A 2-D and a 10-D correlated Gaussian and a 2-D mixture of two separated, unequal modes: each of R
 *    replicas within 4 of its own reported SEs of the truth, the mean over replicas within 4 SE, and the
 *    reported SE consistent with the spread over replicas (their ratio within [0.5, 2]: with R = 12 the
 *    sd itself is uncertain by ≈ 1/√22 ≈ 21%). AIS (no resampling) and SMC (ESS < N/2), MALA and HMC.
 * 3. Calibration of the reported SE over 100 seeds: the truth within 2 SE about 95% of the time.
 * 4. The mixture's final weighted walkers give its mode masses (Lee–Whiteley SE).
 * 5. Held-out NLL against E[U] + log Z = d/2 + log Z for Gaussian data, with log Z from AIS.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Energy } from "../../src/energies/contract.ts";
import { GaussianEnergy } from "../../src/energies/gaussian.ts";
import { GmmEnergy } from "../../src/energies/gmm.ts";
import {
  aisLogZ,
  annealedLogZ,
  type AnnealOptions,
  annealingSchedule,
  heldOutNll,
  logZReplicas,
  smcLogZ,
} from "../../src/eval/logz.ts";
import { modeMassesWalkers } from "../../src/eval/masses.ts";
import { logMeanExp } from "../../src/math/logspace.ts";
import { keyFromSeed, normal, split } from "../../src/random/key.ts";
import { mala } from "../../src/samplers/mala.ts";

const gauss2 = new GaussianEnergy([1, -1], [1, 0.8, 0.8, 1]);
const gauss10 = (() => {
  const d = 10;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) cov[i * d + j] = 0.7 ** Math.abs(i - j) * (1 + 0.1 * i) * (1 + 0.1 * j);
  return new GaussianEnergy(
    Array.from({ length: d }, (_, i) => 0.3 * i - 1),
    cov,
  );
})();
const mixture = new GmmEnergy({
  weights: [0.3, 0.7],
  means: [
    [-4, 0],
    [4, 0],
  ],
  stds: [0.7, 0.7],
});

/** R replicas of `run`: each within 4 reported SE, mean within 4 SE, reported SE ≈ spread. */
function checkReplicas(
  name: string,
  energy: Energy & { logZ(): number },
  run: typeof aisLogZ,
  opts: AnnealOptions,
  seed: number,
  replicas = 12,
) {
  const truth = energy.logZ();
  const warnings = new Set<string>();
  const r = logZReplicas(
    (k) => {
      const e = run(energy, k, opts);
      for (const w of e.warnings) warnings.add(w.code);
      return e;
    },
    replicas,
    keyFromSeed(seed),
  );
  const z = Array.from(r.values, (v, i) => (v - truth) / r.ses[i]);
  const ratio = r.rmsReportedSe / r.sd;
  console.log(
    `  ${name}: log Z ${r.mean.toFixed(4)} ± ${r.se.toFixed(4)} over ${replicas} replicas (truth ${truth.toFixed(4)}); ` +
      `reported SE (rms) ${r.rmsReportedSe.toFixed(4)}, sd over replicas ${r.sd.toFixed(4)} (ratio ${ratio.toFixed(2)}); ` +
      `max |z| ${Math.max(...z.map(Math.abs)).toFixed(2)}`,
  );
  for (let i = 0; i < replicas; i++) assert.ok(Math.abs(z[i]) < 4, `${name}: replica ${i} is ${z[i]} SE off`);
  assert.ok(Math.abs(r.mean - truth) < 4 * r.se, `${name}: mean ${r.mean} vs truth ${truth}, SE ${r.se}`);
  assert.ok(ratio > 0.5 && ratio < 2, `${name}: reported SE ${r.rmsReportedSe} vs sd over replicas ${r.sd}`);
  assert.deepEqual([...warnings], [], `${name}: health warnings`);
  return r;
}

test("annealedLogZ without moves is importance sampling from the base", () => {
  const key = keyFromSeed(7);
  const n = 300;
  const opts = { base: { mean: [0.5, -0.5], std: 1.8 }, temperatures: 50, power: 4, chains: n, step: 0.1 };
  const r = aisLogZ(gauss2, key, { ...opts, movesPerTemperature: 0 });
  // The same base draw (first child of the key), weighted by e^{−(U − U₀)}.
  const x = normal(split(key, 3)[0], new Float64Array(2 * n));
  const logw = new Float64Array(n);
  const u = new Float64Array(n);
  for (let i = 0; i < 2 * n; i++) x[i] = opts.base.mean[i % 2] + 1.8 * x[i];
  gauss2.energy(x, n, u);
  for (let i = 0; i < n; i++) {
    const u0 = ((x[2 * i] - 0.5) ** 2 + (x[2 * i + 1] + 0.5) ** 2) / (2 * 1.8 * 1.8);
    logw[i] = -(u[i] - u0);
  }
  const expected = Math.log(2 * Math.PI * 1.8 * 1.8) + logMeanExp(logw);
  console.log(`  no moves: ${r.logZ} vs importance sampling ${expected}`);
  assert.ok(Math.abs(r.logZ - expected) < 1e-10, `${r.logZ} vs ${expected}`);
  assert.equal(r.acceptance, Number.NaN);
  // Same key, same result; the schedule is checked.
  assert.equal(aisLogZ(gauss2, key, opts).logZ, aisLogZ(gauss2, key, opts).logZ);
  assert.deepEqual(Array.from(annealingSchedule(3, 2)), [0, 0.25, 1]);
  assert.throws(() => annealingSchedule([0, 0.5, 0.4, 1]), /decreases/);
  assert.throws(() => annealingSchedule([0.1, 1]), /start at t = 0/);
  assert.throws(() => aisLogZ(gauss2, key, { ...opts, base: { mean: [0, 0, 0], std: 1 } }), /length 2/);
});

test("AIS and SMC: 2-D correlated Gaussian", () => {
  const opts: AnnealOptions = { base: { mean: 0, std: 2 }, temperatures: 100, chains: 500, step: 0.2 };
  checkReplicas("2-D Gaussian, AIS/MALA", gauss2, aisLogZ, opts, 11);
  checkReplicas(
    "2-D Gaussian, SMC/HMC",
    gauss2,
    smcLogZ,
    { ...opts, kernel: "hmc", step: 0.3, leapfrogSteps: 5 },
    12,
  );
});

test("AIS and SMC: 10-D correlated Gaussian", () => {
  const opts: AnnealOptions = {
    base: { mean: 0, std: 2 },
    temperatures: 200,
    power: 2,
    chains: 400,
    step: 0.15,
  };
  checkReplicas("10-D Gaussian, AIS/MALA", gauss10, aisLogZ, opts, 21);
  checkReplicas("10-D Gaussian, SMC/MALA", gauss10, smcLogZ, opts, 22);
});

test("AIS and SMC: 2-D mixture of separated unequal modes, and its mode masses", () => {
  const opts: AnnealOptions = { base: { mean: 0, std: 4 }, temperatures: 150, chains: 800, step: 0.1 };
  checkReplicas("2-D mixture, AIS/MALA", mixture, aisLogZ, opts, 31);
  checkReplicas("2-D mixture, SMC/MALA", mixture, smcLogZ, opts, 32);
  // The walkers never cross between the modes (8 sd apart): the weights alone set the masses.
  const r = smcLogZ(mixture, keyFromSeed(33), opts);
  const m = modeMassesWalkers(r.walkers, [
    [-4, 0],
    [4, 0],
  ]);
  console.log(
    `  mixture masses from the SMC walkers: ${m.masses[0].toFixed(4)} ± ${m.se[0].toFixed(4)}, ` +
      `${m.masses[1].toFixed(4)} ± ${m.se[1].toFixed(4)} (truth 0.3, 0.7); ${r.resamplings} resamplings, final ESS ${r.ess.toFixed(0)}`,
  );
  assert.ok(Math.abs(m.masses[0] - 0.3) < 4 * m.se[0], `mass ${m.masses[0]} ± ${m.se[0]}`);
});

test("the reported SE is calibrated over 100 seeds (2-D Gaussian, AIS)", () => {
  const truth = gauss2.logZ();
  const opts: AnnealOptions = { base: { mean: 0, std: 2 }, temperatures: 30, chains: 200, step: 0.2 };
  const r = logZReplicas((k) => aisLogZ(gauss2, k, opts), 100, keyFromSeed(41));
  let within = 0;
  for (let i = 0; i < 100; i++) if (Math.abs(r.values[i] - truth) < 2 * r.ses[i]) within++;
  console.log(
    `  truth within 2 reported SE in ${within} of 100 runs (nominal 95); rms SE ${r.rmsReportedSe.toFixed(4)}, sd ${r.sd.toFixed(4)}`,
  );
  // Binomial(100, 0.95): sd ≈ 2.2, so [88, 100] is ≈ 3 sd below.
  assert.ok(within >= 88, `coverage ${within}/100`);
  assert.ok(Math.abs(r.logMeanExp - truth) < 4 * r.se, `pooled ${r.logMeanExp} vs ${truth}`);
});

test("heldOutNll: mean U + log Z ± SE, with log Z from AIS", () => {
  const n = 5000;
  const x = new Float64Array(2 * n);
  gauss2.sampleExact(keyFromSeed(51), n, x);
  const exact = heldOutNll(gauss2, x, gauss2.logZ());
  // E[U] = d/2 for Gaussian data under its own energy.
  const truth = 1 + gauss2.logZ();
  console.log(
    `  NLL with exact log Z: ${exact.nll.toFixed(4)} ± ${exact.se.toFixed(4)} (truth ${truth.toFixed(4)})`,
  );
  assert.ok(Math.abs(exact.nll - truth) < 4 * exact.se, `${exact.nll} vs ${truth}`);
  assert.equal(exact.logZSe, 0);
  const ais = aisLogZ(gauss2, keyFromSeed(52), {
    base: { mean: 0, std: 2 },
    temperatures: 100,
    chains: 500,
    step: 0.2,
  });
  const est = heldOutNll(gauss2, x, ais.logZ, ais.se);
  console.log(
    `  NLL with AIS log Z: ${est.nll.toFixed(4)} ± ${est.se.toFixed(4)} (data ${est.dataSe.toFixed(4)}, log Z ${est.logZSe.toFixed(4)})`,
  );
  assert.ok(Math.abs(est.nll - truth) < 4 * est.se, `${est.nll} vs ${truth}`);
  assert.ok(Math.abs(est.se ** 2 - (est.dataSe ** 2 + ais.se ** 2)) < 1e-15, "SEs combine in quadrature");
  assert.equal(heldOutNll(gauss2, x, 0, 0, 10).n, 10);
});

test("annealedLogZ: custom kernel builder and resampling bookkeeping", () => {
  let built = 0;
  const r = annealedLogZ(gauss2, keyFromSeed(61), {
    base: { std: 3 },
    temperatures: 40,
    chains: 200,
    step: 0.2,
    resample: 1, // resample at every update: the Lee–Whiteley SE still applies
    kernel: (e) => {
      built++;
      return aisKernel(e);
    },
  });
  assert.equal(built, 1);
  assert.equal(r.resamplings, 39);
  console.log(
    `  resampling at every step: log Z ${r.logZ.toFixed(4)} ± ${r.se.toFixed(4)} (truth ${gauss2.logZ().toFixed(4)})`,
  );
  assert.ok(Math.abs(r.logZ - gauss2.logZ()) < 4 * r.se, `${r.logZ} ± ${r.se}`);
  assert.ok(
    r.warnings.some((w) => w.code === "resampling_frequent"),
    "resampling at every update is flagged",
  );
});

/** A kernel builder as a user would pass it: here MALA itself. */
function aisKernel(e: Energy) {
  return mala(e);
}
