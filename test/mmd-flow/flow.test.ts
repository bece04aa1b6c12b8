/**
 * The flow kernel of src/mmd-flow/flow.ts and the experiment driver, on small problems:
 *   - β = 0: one step is exactly u − γ·∇f(u), it leaves the caller's particles alone and ignores the key;
 *     a small step lowers the loss on its batch (a descent direction);
 *   - β > 0: the gradient is read at u + β·ε with ε the key's normals, reproducible from the key;
 *   - the noise schedule halves every half-life;
 *   - the experiment is reproducible from its seed, its SE and paired ratio are the formulas applied to
 *     its per-seed numbers, and a diverging run stops with a NumericalError.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runMmdFlowExperiment } from "../../src/experiments/mmd-flow.ts";
import { NumericalError } from "../../src/math/errors.ts";
import { mmdFlowInit, mmdFlowNoiseLevel, mmdFlowStep } from "../../src/mmd-flow/flow.ts";
import { normalUnits, sphereInputs, unitMmdWitness } from "../../src/mmd-flow/student-teacher.ts";
import {
  type UnitModel,
  unitResidual,
  type Units,
  unitSquaredLoss,
  unitWitnessGradient,
} from "../../src/mmd-flow/units.ts";
import { keyFromSeed, normal, split } from "../../src/random/key.ts";
import { assertClose } from "../helpers.ts";

const D = 6;
const model: UnitModel = { activation: "relu", output: "gaussian" };
const [kx, ks, kt, k1, k2] = split(keyFromSeed(5), 5);
const inputs = sphereInputs(kx, 64, D);
const student = normalUnits(ks, 30, D, { a: 0.7, b: 0.7, w: 0.7 });
const teacher = normalUnits(kt, 3, D, { a: 1, b: 1, w: 1 });
const witnessOf = unitMmdWitness(model, inputs, teacher);

test("flow: a noiseless step is u − γ∇f(u), copies its input and ignores the key", () => {
  const before = student.u.slice();
  const s0 = mmdFlowInit(student);
  const { state, info } = mmdFlowStep(k1, s0, witnessOf, 0.5, 0);
  assert.deepEqual(student.u, before, "caller's particles untouched");
  assert.deepEqual(s0.particles.u, before, "old state untouched");
  assert.equal(state.iteration, 1);
  const g = unitWitnessGradient(model, inputs, unitResidual(model, inputs, student, teacher), student);
  for (let i = 0; i < g.length; i++) assert.equal(state.particles.u[i], before[i] - 0.5 * g[i]);
  assertClose(info.mmd2, 2 * unitSquaredLoss(model, inputs, student, teacher), 0, 1e-12, "info.mmd2");
  assert.deepEqual(mmdFlowStep(k2, s0, witnessOf, 0.5, 0).state.particles.u, state.particles.u);
});

test("flow: a small noiseless step lowers the loss", () => {
  let s = mmdFlowInit(student);
  let last = unitSquaredLoss(model, inputs, s.particles, teacher);
  for (let n = 0; n < 5; n++) {
    s = mmdFlowStep(k1, s, witnessOf, 0.2, 0).state;
    const loss = unitSquaredLoss(model, inputs, s.particles, teacher);
    assert.ok(loss < last, `step ${n}: ${loss} ≥ ${last}`);
    last = loss;
  }
});

test("flow: a noisy step reads the witness gradient at u + β·ε, ε the key's normals", () => {
  const beta = 0.3;
  const s0 = mmdFlowInit(student);
  const { state, info } = mmdFlowStep(k1, s0, witnessOf, 0.5, beta);
  assert.equal(info.noise, beta);
  const eps = normal(k1, new Float64Array(student.u.length));
  const at: Units = { u: student.u.map((v, i) => v + beta * eps[i]), n: student.n, dim: student.dim };
  const g = unitWitnessGradient(model, inputs, unitResidual(model, inputs, student, teacher), at);
  for (let i = 0; i < g.length; i++)
    assertClose(state.particles.u[i], student.u[i] - 0.5 * g[i], 1e-15, 0, `u[${i}]`);
  assert.deepEqual(mmdFlowStep(k1, s0, witnessOf, 0.5, beta).state.particles.u, state.particles.u);
  assert.notDeepEqual(mmdFlowStep(k2, s0, witnessOf, 0.5, beta).state.particles.u, state.particles.u);
});

test("flow: bad step size or noise level is refused", () => {
  const s0 = mmdFlowInit(student);
  assert.throws(() => mmdFlowStep(k1, s0, witnessOf, 0, 0), /step size/);
  assert.throws(() => mmdFlowStep(k1, s0, witnessOf, 1, -1), /noise level/);
  assert.throws(() => mmdFlowStep(k1, s0, witnessOf, 1, Number.NaN), /noise level/);
});

test("flow: the noise level halves every half-life", () => {
  assert.equal(mmdFlowNoiseLevel(2, 100, 0), 2);
  assertClose(mmdFlowNoiseLevel(2, 100, 100), 1, 0, 1e-15, "one half-life");
  assertClose(mmdFlowNoiseLevel(2, 100, 350), 2 * 2 ** -3.5, 0, 1e-15, "3.5 half-lives");
  assert.equal(mmdFlowNoiseLevel(2, Number.POSITIVE_INFINITY, 1e6), 2);
});

test("experiment: reproducible from its seed; SE and paired ratio from the per-seed numbers", () => {
  const tiny = {
    dim: 5,
    particles: 20,
    steps: 40,
    batch: 16,
    trainSize: 64,
    validationSize: 64,
    seeds: 3,
    evaluations: 4,
  };
  const a = runMmdFlowExperiment(tiny);
  const b = runMmdFlowExperiment(tiny);
  assert.deepEqual(
    a.seeds.map((s) => [s.runs.plain.validation, s.runs.noisy.validation]),
    b.seeds.map((s) => [s.runs.plain.validation, s.runs.noisy.validation]),
  );
  assert.deepEqual(a.seeds[0].runs.plain.at, [0, 10, 20, 30, 40]);
  for (const s of a.seeds) {
    assert.equal(s.runs.plain.validation[0], s.runs.noisy.validation[0], "shared initial student");
    assert.equal(s.runs.plain.noise.at(-1), 0);
    assertClose(s.runs.noisy.noise.at(-1)!, 2 ** -5, 0, 1e-12, "β at the end: 5 halvings");
  }
  for (const arm of ["plain", "noisy"] as const) {
    const f = a.seeds.map((s) => s.runs[arm].final);
    const m = f.reduce((x, y) => x + y, 0) / f.length;
    const se = Math.sqrt(f.reduce((x, y) => x + (y - m) ** 2, 0) / (f.length - 1) / f.length);
    assertClose(a.arms[arm].final, m, 0, 1e-12, `${arm} mean`);
    assertClose(a.arms[arm].finalSe, se, 0, 1e-12, `${arm} SE`);
  }
  const lr = a.seeds.map((s) => Math.log10(s.runs.plain.final / s.runs.noisy.final));
  assertClose(a.log10Ratio, lr.reduce((x, y) => x + y, 0) / lr.length, 1e-15, 1e-12, "log ratio");
  const other = runMmdFlowExperiment({ ...tiny, seed: 1, seeds: 1 });
  assert.deepEqual(other.seeds[0].runs.noisy.validation, a.seeds[1].runs.noisy.validation, "seed 1 alone");
  assert.throws(() => runMmdFlowExperiment({ ...tiny, particles: 0 }), /particles must be an integer/);
  assert.throws(() => runMmdFlowExperiment({ ...tiny, noise: -1 }), /noise must be ≥ 0/);
  // A step size that blows the particles up is a numerical failure naming the step, not NaN in a report.
  assert.throws(
    () => runMmdFlowExperiment({ ...tiny, activation: "tanh", output: "linear", stepSize: 1e300 }),
    (e: Error) =>
      e instanceof NumericalError &&
      /validation loss is NaN at step 10 \(plain arm, seed 0\)/.test(e.message),
  );
});
