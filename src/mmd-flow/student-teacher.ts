/**
 * The student–teacher setting of Arbel et al. (2019): a teacher network of a few hidden
 * units ν = (1/M) Σ δ_{u*_j} labels inputs x uniform on the unit sphere of ℝ^d, and a student of N units
 * μ is trained by the MMD flow (flow.ts) with the unit kernel k(u, u') = E_x[ψ(x,u)ψ(x,u')] (units.ts),
 * i.e. by particle gradient descent on ½E_x[(f_μ(x) − f_ν(x))²] in the mean-field scaling, estimated on
 * minibatches of training inputs. All draws come from keys.
 */
import { type Key, Stream } from "../random/key.ts";
import type { MmdWitness, MmdWitnessFn } from "./flow.ts";
import {
  type InputBatch,
  unitResidual,
  type UnitModel,
  type Units,
  unitDim,
  unitWitnessGradient,
} from "./units.ts";

/** `n` inputs uniform on the unit sphere S^(d−1) (normalised standard normals). */
export function sphereInputs(key: Key, n: number, dim: number): InputBatch {
  const x = new Stream(key).fillNormal(new Float64Array(n * dim));
  for (let k = 0; k < n; k++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[k * dim + j] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) x[k * dim + j] *= inv;
  }
  return { x, n, dim };
}

/**
 * `n` units with independent normal coordinates: aᵢ ~ N(0, scale.a²·I_d), bᵢ ~ N(0, scale.b²),
 * wᵢ ~ N(0, scale.w²). For x on the unit sphere aᵀx ~ N(0, scale.a²) exactly, whatever d.
 */
export function normalUnits(
  key: Key,
  n: number,
  inputDim: number,
  scale: { a: number; b: number; w: number },
): Units {
  const dim = unitDim(inputDim);
  const u = new Stream(key).fillNormal(new Float64Array(n * dim));
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    for (let j = 0; j < inputDim; j++) u[o + j] *= scale.a;
    u[o + inputDim] *= scale.b;
    u[o + inputDim + 1] *= scale.w;
  }
  return { u, n, dim };
}

/** The rows `rows` of `inputs`, as a new batch. */
export function selectInputs(inputs: InputBatch, rows: ArrayLike<number>): InputBatch {
  const { dim } = inputs;
  const x = new Float64Array(rows.length * dim);
  for (let k = 0; k < rows.length; k++) x.set(inputs.x.subarray(rows[k] * dim, (rows[k] + 1) * dim), k * dim);
  return { x, n: rows.length, dim };
}

/**
 * The witness of the student μ against the teacher with the unit kernel on `inputs`: its MMD² (twice the
 * squared loss on these inputs) and gradient (units.ts `unitWitnessGradient`).
 */
export function unitMmdWitness(model: UnitModel, inputs: InputBatch, teacher: Units): MmdWitnessFn {
  return (student: Units): MmdWitness => {
    const r = unitResidual(model, inputs, student, teacher);
    let s = 0;
    for (let k = 0; k < r.length; k++) s += r[k] * r[k];
    return {
      mmd2: s / inputs.n,
      gradientAt(points, out) {
        unitWitnessGradient(model, inputs, r, points, out);
      },
    };
  };
}
