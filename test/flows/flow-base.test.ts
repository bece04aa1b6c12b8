/**
 * A generalized EBM with a flow base (src/flows/flow-base.ts): a RealNVP fitted briefly to the moons set,
 * reweighted by an energy E, normalised two independent ways, fixed seeds:
 * 1. The brief fit raises the held-out log-likelihood by more than 4 SEs of the paired difference.
 * 2. Importance sampling with the base as proposal (log Ẑ, delta-method SE) against the energy view
 *    U = E − log q normalised by grid quadrature: log Z, the held-out log-likelihood of every point, and the
 *    first and second moments of importance-resampled draws against the grid density's. Each agreement
 *    within 4 of its Monte Carlo SEs plus the quadrature error indicator |·(n) − ·(n/2)| (and, for log Z,
 *    the weighted mass outside the window, which the grid does not see). E: an MLP energy (createMlpEnergy,
 *    random parameters) and an analytic two-component mixture (GmmEnergy, e^{−E} its density).
 * 3. The SE of log Ẑ is calibrated: over 100 seeds (m = 1000) the grid's log Z lies within 2 reported SEs
 *    in ≥ 88 (Binomial(100, 0.95) has sd 2.2, so 88 is 3 sd below 95).
 * 4. Negative control: a sampler displaced by 0.1 from its density fails the same check.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { toy2d } from "../../src/data/toy2d.ts";
import type { Energy } from "../../src/energies/contract.ts";
import { GmmEnergy } from "../../src/energies/gmm.ts";
import { createMlpEnergy, type MlpEnergy } from "../../src/energies/mlp.ts";
import { gridEvaluate, type GridSpec } from "../../src/eval/grid.ts";
import { fitFlow } from "../../src/flows/fit.ts";
import type { Flow } from "../../src/flows/flow.ts";
import {
  checkFlowBase,
  type FlowBaseCheck,
  flowBaseEnergy,
  flowBaseImportance,
  flowBaseResample,
} from "../../src/flows/flow-base.ts";
import { createRealNvp, RealNvp } from "../../src/flows/realnvp.ts";
import { keyFromSeed } from "../../src/random/key.ts";

const SPEC = { dim: 2, couplings: 6, hidden: [16, 16] };
const GRID: GridSpec = { xmin: -6, xmax: 6, ymin: -6, ymax: 6, n: 240 };
const moons = toy2d("moons");
const train = moons.sample(keyFromSeed(10), 5000);
const heldOut = moons.sample(keyFromSeed(11), 1000);

const initial = createRealNvp(SPEC, keyFromSeed(1), { outputScale: 0.1 });
const base = new RealNvp(SPEC, initial.getParams());
const fitStart = performance.now();
const fit = fitFlow(base, train, 5000, keyFromSeed(2), { steps: 300, batch: 128, lr: 1e-2 });
const fitMs = performance.now() - fitStart;

const mixture = new GmmEnergy({
  weights: [0.5, 0.5],
  means: [
    [-1, 0.5],
    [1.5, -0.5],
  ],
  stds: [1, 1],
});

/** E for the GEBM: a random MLP energy (float32 inside, on the selected backend). */
function makeMlpEnergy(): Promise<MlpEnergy> {
  return createMlpEnergy({ inputDim: 2, hidden: [32, 32], activation: "silu" }, keyFromSeed(5));
}

/** The agreements of a check that fail at k SEs (plus the deterministic error indicators). */
function failures(r: FlowBaseCheck, k = 4): string[] {
  const out: string[] = [];
  const budget = k * r.importance.se + r.grid.logZError + r.outside.mass + k * r.outside.se;
  if (Math.abs(r.logZDifference) > budget) out.push(`log Z: ${r.logZDifference} > ${budget}`);
  if (r.heldOut && r.heldOut.maxAbsDifference > budget)
    out.push(`held-out log p: ${r.heldOut.maxAbsDifference} > ${budget}`);
  for (const m of r.moments)
    if (Math.abs(m.resampled - m.grid) > k * m.se + m.gridError)
      out.push(`E[${m.name}]: ${m.resampled} vs ${m.grid} (z ${m.z.toFixed(2)})`);
  return out;
}

function describeCheck(name: string, r: FlowBaseCheck, ms: number): void {
  console.log(
    `  ${name}: log Ẑ_IS ${r.importance.logZ.toFixed(5)} ± ${r.importance.se.toExponential(2)} ` +
      `(ESS ${r.importance.ess.toFixed(0)}/${r.importance.m}), log Z_grid ${r.grid.logZ.toFixed(5)} ` +
      `(quadrature ${r.grid.logZError.toExponential(1)}, outside ${r.outside.mass.toExponential(1)}): ` +
      `${r.logZZ.toFixed(2)} SE; held-out log-lik ${r.heldOut!.importance.mean.toFixed(4)} (IS) vs ` +
      `${r.heldOut!.grid.mean.toFixed(4)} (grid) ± ${r.heldOut!.importance.se.toFixed(4)}; moments z ` +
      `${r.moments.map((m) => `${m.name} ${m.z.toFixed(2)}`).join(", ")}; ${ms.toFixed(0)} ms`,
  );
}

describe("generalized EBM with a RealNVP base", () => {
  test("a brief maximum-likelihood fit raises the held-out log-likelihood", () => {
    const n = heldOut.length / 2;
    const before = new Float64Array(n);
    const after = new Float64Array(n);
    initial.logProb(heldOut, n, before);
    base.logProb(heldOut, n, after);
    let mean = 0;
    let m2 = 0;
    for (let i = 0; i < n; i++) {
      const dlt = after[i] - before[i];
      const delta = dlt - mean;
      mean += delta / (i + 1);
      m2 += delta * (dlt - mean);
    }
    const se = Math.sqrt(m2 / (n - 1) / n);
    console.log(
      `  300 Adam steps in ${fitMs.toFixed(0)} ms: minibatch NLL ${fit.losses[0].toFixed(3)} → ` +
        `${fit.losses[299].toFixed(3)}; held-out log-lik +${mean.toFixed(3)} ± ${se.toFixed(3)}`,
    );
    assert.ok(mean > 4 * se, `held-out gain ${mean} ± ${se}`);
  });

  const cases: [string, () => Promise<Energy>][] = [
    ["MLP energy", makeMlpEnergy],
    ["mixture energy", async () => mixture],
  ];
  for (const [name, make] of cases) {
    test(`importance sampling and grid quadrature agree: ${name}`, async () => {
      const energy = await make();
      const t = performance.now();
      const r = checkFlowBase(base, energy, keyFromSeed(3), { grid: GRID, proposals: 20000, heldOut });
      describeCheck(name, r, performance.now() - t);
      assert.deepEqual(failures(r), []);
      assert.ok(r.grid.edgeMass < 1e-4, `the window cuts the density: edge mass ${r.grid.edgeMass}`);
      (energy as { dispose?: () => void }).dispose?.();
    });
  }

  test("the SE of log Ẑ is calibrated over 100 seeds", () => {
    const truth = gridEvaluate(flowBaseEnergy(base, mixture), GRID);
    let within = 0;
    let sumZ2 = 0;
    for (let s = 0; s < 100; s++) {
      const is = flowBaseImportance(base, mixture, keyFromSeed(1000 + s), 1000);
      const z = (is.logZ - truth.logZ) / is.se;
      if (Math.abs(z) <= 2) within++;
      sumZ2 += z * z;
    }
    console.log(
      `  truth within 2 SE in ${within}/100, rms z ${Math.sqrt(sumZ2 / 100).toFixed(2)} ` +
        `(grid log Z ${truth.logZ.toFixed(5)} ± ${truth.logZError.toExponential(1)})`,
    );
    assert.ok(within >= 88, `coverage ${within}/100`);
  });

  test("negative control: a sampler displaced by 0.1 from its density is caught", async () => {
    const energy = await makeMlpEnergy();
    const theta = base.getParams();
    theta[theta.length - 4] += 0.1; // μ_x
    const moved = new RealNvp(SPEC, theta);
    const broken: Flow = {
      dim: 2,
      sample: (key, n) => moved.sample(key, n),
      logProb: (x, n, out) => base.logProb(x, n, out),
      logProbAndGrad: (x, n, lq, g) => base.logProbAndGrad(x, n, lq, g),
    };
    const r = checkFlowBase(broken, energy, keyFromSeed(3), { grid: GRID, proposals: 20000 });
    energy.dispose();
    const fails = failures(r);
    console.log(`  ${fails.length} of 6 agreements fail: ${fails.join("; ")}`);
    assert.ok(fails.length > 0);
  });

  test("resampled draws and the energy view's parameters", () => {
    const a = flowBaseResample(base, mixture, keyFromSeed(7), 500);
    const b = flowBaseResample(base, mixture, keyFromSeed(7), 500);
    assert.equal(a.x.length, 1000);
    assert.deepEqual(a.x, b.x);
    assert.ok(a.ess > 1000 && a.ess <= 2000, `ESS ${a.ess} of 2000 proposals`);
    assert.equal(flowBaseEnergy(base, mixture).numParams, 0);
    assert.equal(flowBaseEnergy(base, mixture, { trainBase: true }).numParams, base.numParams);
  });
});
