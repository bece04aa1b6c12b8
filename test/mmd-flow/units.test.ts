/**
 * The unit kernel and the witness of src/mmd-flow/units.ts, for every activation × output map:
 *   - the witness gradient ∇_z f_{μ,ν}(z) against float64 central differences of the witness value, at
 *     random points (far from the particles, where a noisy step reads it);
 *   - the loss gradient: ∂/∂uᵢ ½·mean (f_μ − f_ν)² = (1/N)·∇f_{μ,ν}(uᵢ), against central differences of
 *     the directly computed loss;
 *   - the kernel form of MMD² (mean k(μ,μ) − 2 mean k(μ,ν) + mean k(ν,ν), the N×N kernel matrices formed
 *     explicitly) equals twice the directly computed loss, and the witness equals
 *     mean k(z, μ) − mean k(z, ν);
 *   - a ReLU unit that no input activates gets no gradient (the flat region noise injection escapes).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { normalUnits, sphereInputs } from "../../src/mmd-flow/student-teacher.ts";
import {
  UNIT_ACTIVATIONS,
  UNIT_OUTPUT_MAPS,
  unitKernelMatrix,
  unitKernelMmd2,
  type UnitModel,
  unitNetworkOutput,
  unitResidual,
  type Units,
  unitSquaredLoss,
  unitWitnessGradient,
  unitWitnessValues,
} from "../../src/mmd-flow/units.ts";
import { keyFromSeed, split } from "../../src/random/key.ts";
import { assertClose, centralDiff } from "../helpers.ts";

const D = 5;
const [kx, ks, kt, kz] = split(keyFromSeed(11), 4);
const inputs = sphereInputs(kx, 40, D);
const student = normalUnits(ks, 7, D, { a: 1, b: 0.5, w: 1 });
const teacher = normalUnits(kt, 3, D, { a: 1, b: 0.5, w: 1.5 });
const points = normalUnits(kz, 6, D, { a: 1.2, b: 0.8, w: 1.2 });

for (const activation of UNIT_ACTIVATIONS)
  for (const output of UNIT_OUTPUT_MAPS) {
    const model: UnitModel = { activation, output };
    describe(`units: ${activation}, ${output} output`, () => {
      test("witness gradient = central differences of the witness", () => {
        const r = unitResidual(model, inputs, student, teacher);
        const g = unitWitnessGradient(model, inputs, r, points);
        const z = points.u.slice();
        const zs: Units = { u: z, n: points.n, dim: points.dim };
        for (let i = 0; i < points.n; i++)
          for (let j = 0; j < points.dim; j++) {
            const fd = centralDiff(
              () => unitWitnessValues(model, inputs, r, zs)[i],
              z,
              i * points.dim + j,
              1e-6,
            );
            assertClose(g[i * points.dim + j], fd, 1e-8, 1e-5, `∂f/∂z[${i}][${j}]`);
          }
        assert.ok(
          g.some((v) => Math.abs(v) > 1e-3),
          "a nonzero gradient somewhere",
        );
      });

      test("loss gradient = (1/N)·witness gradient at the particles", () => {
        const r = unitResidual(model, inputs, student, teacher);
        const g = unitWitnessGradient(model, inputs, r, student);
        const u = student.u.slice();
        const us: Units = { u, n: student.n, dim: student.dim };
        for (let i = 0; i < student.n; i++)
          for (let j = 0; j < student.dim; j++) {
            const fd = centralDiff(
              () => unitSquaredLoss(model, inputs, us, teacher),
              u,
              i * student.dim + j,
              1e-6,
            );
            assertClose(g[i * student.dim + j] / student.n, fd, 1e-9, 1e-5, `∂L/∂u[${i}][${j}]`);
          }
      });

      test("kernel-form MMD² = 2 × the direct loss; witness = mean k(z, μ) − mean k(z, ν)", () => {
        const loss = unitSquaredLoss(model, inputs, student, teacher);
        const mmd2 = unitKernelMmd2(model, inputs, student, teacher);
        assert.ok(loss > 1e-4, `a nontrivial loss (${loss})`);
        assertClose(mmd2, 2 * loss, 1e-14, 1e-11, "MMD² against 2·loss");
        // The direct loss from the outputs, written out once more.
        const fs = unitNetworkOutput(model, inputs, student);
        const ft = unitNetworkOutput(model, inputs, teacher);
        let s = 0;
        for (let k = 0; k < inputs.n; k++) s += (fs[k] - ft[k]) ** 2;
        assertClose(loss, (0.5 * s) / inputs.n, 0, 1e-13, "loss from the outputs");

        const r = unitResidual(model, inputs, student, teacher);
        const w = unitWitnessValues(model, inputs, r, points);
        const kmu = unitKernelMatrix(model, inputs, points, student);
        const knu = unitKernelMatrix(model, inputs, points, teacher);
        for (let i = 0; i < points.n; i++) {
          let a = 0;
          for (let j = 0; j < student.n; j++) a += kmu[i * student.n + j];
          let b = 0;
          for (let j = 0; j < teacher.n; j++) b += knu[i * teacher.n + j];
          assertClose(w[i], a / student.n - b / teacher.n, 1e-14, 1e-11, `witness at point ${i}`);
        }
      });
    });
  }

test("units: the kernel matrix is symmetric positive semi-definite on the diagonal", () => {
  const model: UnitModel = { activation: "relu", output: "gaussian" };
  const k = unitKernelMatrix(model, inputs, student, student);
  for (let i = 0; i < student.n; i++) {
    assert.ok(k[i * student.n + i] >= 0);
    for (let j = 0; j < i; j++) assert.equal(k[i * student.n + j], k[j * student.n + i]);
  }
});

test("units: a ReLU unit that no input activates gets no gradient", () => {
  // b < −|a| and |x| = 1: aᵀx + b < 0 on the whole sphere.
  const dead = new Float64Array(D + 2);
  dead[0] = 0.5;
  dead[D] = -1;
  dead[D + 1] = 2;
  const at: Units = { u: dead, n: 1, dim: D + 2 };
  for (const output of UNIT_OUTPUT_MAPS) {
    const model: UnitModel = { activation: "relu", output };
    const r = unitResidual(model, inputs, student, teacher);
    assert.deepEqual([...unitWitnessGradient(model, inputs, r, at)], new Array(D + 2).fill(0));
  }
});

test("units: mismatched shapes are refused", () => {
  const model: UnitModel = { activation: "relu", output: "linear" };
  const wrong: Units = { u: new Float64Array(4 * (D + 3)), n: 4, dim: D + 3 };
  assert.throws(() => unitNetworkOutput(model, inputs, wrong), /dimension/);
  const r = new Float64Array(inputs.n - 1);
  assert.throws(() => unitWitnessGradient(model, inputs, r, student), /residual shorter/);
});
