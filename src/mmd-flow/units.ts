/**
 * Two-layer networks as measures over their hidden units (the mean-field view used by Arbel et al. 2019):
 * a unit is a particle u = (a, b, w) ∈ ℝ^(d+2) with output
 *
 *   ψ(x, u) = G(w·σ(aᵀx + b)),
 *
 * σ the hidden activation (ReLU or tanh) and G the output map: the identity, or the Gaussian bump
 * G(h) = exp(−h²/2), like the Gaussian output non-linearity of the paper's student–teacher experiment. A
 * network of N units is the equal-weight measure μ = (1/N) Σᵢ δ_{uᵢ}, with output f_μ(x) = (1/N) Σᵢ ψ(x, uᵢ).
 *
 * For a teacher ν and a student μ, the squared loss averaged over inputs x₁..x_B is an MMD:
 *
 *   ½·(1/B) Σ_x (f_μ(x) − f_ν(x))² = ½·MMD²(μ, ν),   k(u, u') = (1/B) Σ_x ψ(x, u) ψ(x, u'),
 *
 * and the witness function of the pair is f_{μ,ν}(z) = ∫k(z,·)dμ − ∫k(z,·)dν = (1/B) Σ_x ψ(x, z)·r(x)
 * with the residual r(x) = f_μ(x) − f_ν(x). Its gradient in z is the velocity of the MMD flow (flow.ts):
 * with h = w·σ(aᵀx + b),
 *
 *   ∇_z f_{μ,ν}(z) = (1/B) Σ_x r(x)·G'(h)·(w·σ'(aᵀx+b)·x, w·σ'(aᵀx+b), σ(aᵀx+b)).
 *
 * Layout: inputs are row-major B×d, particles row-major N×(d+2) as [a₁..a_d, b, w]. Everything is float64;
 * the output and the gradient cost O(B·N·d) and never form the N×N kernel matrix.
 */

export const UNIT_ACTIVATIONS = ["relu", "tanh"] as const;
export type UnitActivation = (typeof UNIT_ACTIVATIONS)[number];

export const UNIT_OUTPUT_MAPS = ["linear", "gaussian"] as const;
/** G: "linear" is G(h) = h, "gaussian" is G(h) = exp(−h²/2). */
export type UnitOutputMap = (typeof UNIT_OUTPUT_MAPS)[number];

/** The unit ψ(x, u) = G(w·σ(aᵀx + b)). */
export interface UnitModel {
  activation: UnitActivation;
  output: UnitOutputMap;
}

/** A batch of inputs: `n` rows of dimension `dim`, row-major. */
export interface InputBatch {
  readonly x: Float64Array;
  readonly n: number;
  readonly dim: number;
}

/** Equal-weight particles (hidden units): `n` rows of dimension `dim` = input dim + 2, row-major. */
export interface Units {
  readonly u: Float64Array;
  readonly n: number;
  readonly dim: number;
}

/** The unit's dimension for inputs of dimension d: a ∈ ℝ^d, b, w. */
export function unitDim(inputDim: number): number {
  return inputDim + 2;
}

function checkShapes(inputs: InputBatch, units: Units, name: string): void {
  if (units.dim !== inputs.dim + 2)
    throw new RangeError(`${name}: units of dimension ${units.dim} for inputs of dimension ${inputs.dim}`);
  if (inputs.x.length < inputs.n * inputs.dim || units.u.length < units.n * units.dim)
    throw new RangeError(`${name}: buffers shorter than their shapes`);
}

/**
 * f_μ(x) = (1/N) Σᵢ ψ(x, uᵢ) at every input, times `scale`, added to `out` (length inputs.n; zeros by
 * default), which is returned: `unitNetworkOutput(m, x, teacher, r, -1)` turns f_μ into the residual f_μ − f_ν.
 */
export function unitNetworkOutput(
  model: UnitModel,
  inputs: InputBatch,
  units: Units,
  out: Float64Array = new Float64Array(inputs.n),
  scale = 1,
): Float64Array {
  checkShapes(inputs, units, "unitNetworkOutput");
  const { x, n: nx, dim: d } = inputs;
  const { u, n: nu, dim: p } = units;
  const relu = model.activation === "relu";
  const gaussian = model.output === "gaussian";
  const c = scale / nu;
  const z = new Float64Array(nx);
  for (let i = 0; i < nu; i++) {
    const o = i * p;
    preActivations(x, nx, d, u, o, z);
    const w = u[o + d + 1];
    for (let k = 0; k < nx; k++) {
      const zk = z[k];
      if (relu && zk <= 0) {
        if (gaussian) out[k] += c; // h = 0, G(0) = 1: no exp for an inactive unit
        continue;
      }
      const h = w * (relu ? zk : Math.tanh(zk));
      out[k] += c * (gaussian ? Math.exp(-0.5 * h * h) : h);
    }
  }
  return out;
}

/**
 * z_k = aᵀx_k + b for every input, for the unit at offset `o` of `u`, into `z`: four inputs at a time, so
 * each coordinate of a is loaded once per four dot products (about twice as fast as one at a time).
 */
function preActivations(
  x: Float64Array,
  nx: number,
  d: number,
  u: Float64Array,
  o: number,
  z: Float64Array,
): void {
  const b = u[o + d];
  let k = 0;
  for (; k + 4 <= nx; k += 4) {
    const x0 = k * d;
    const x1 = x0 + d;
    const x2 = x1 + d;
    const x3 = x2 + d;
    let z0 = b;
    let z1 = b;
    let z2 = b;
    let z3 = b;
    for (let j = 0; j < d; j++) {
      const a = u[o + j];
      z0 += a * x[x0 + j];
      z1 += a * x[x1 + j];
      z2 += a * x[x2 + j];
      z3 += a * x[x3 + j];
    }
    z[k] = z0;
    z[k + 1] = z1;
    z[k + 2] = z2;
    z[k + 3] = z3;
  }
  for (; k < nx; k++) {
    const xo = k * d;
    let zk = b;
    for (let j = 0; j < d; j++) zk += u[o + j] * x[xo + j];
    z[k] = zk;
  }
}

/** r(x) = f_μ(x) − f_ν(x) at every input (μ the student, ν the teacher). */
export function unitResidual(
  model: UnitModel,
  inputs: InputBatch,
  student: Units,
  teacher: Units,
): Float64Array {
  return unitNetworkOutput(model, inputs, teacher, unitNetworkOutput(model, inputs, student), -1);
}

/** The loss ½·(1/B) Σ_x (f_μ(x) − f_ν(x))² = ½·MMD²(μ, ν) on these inputs, from the networks' outputs. */
export function unitSquaredLoss(
  model: UnitModel,
  inputs: InputBatch,
  student: Units,
  teacher: Units,
): number {
  const r = unitResidual(model, inputs, student, teacher);
  let s = 0;
  for (let k = 0; k < r.length; k++) s += r[k] * r[k];
  return (0.5 * s) / inputs.n;
}

/**
 * ∇_z f_{μ,ν}(z) at every row z of `at` (unit-shaped, any number of rows) into `out` (at.n × dim), given
 * the residual r = f_μ − f_ν on `inputs` (see `unitResidual`). `out` is returned. For ReLU, σ'(0) = 0.
 */
export function unitWitnessGradient(
  model: UnitModel,
  inputs: InputBatch,
  r: Float64Array,
  at: Units,
  out: Float64Array = new Float64Array(at.n * at.dim),
): Float64Array {
  checkShapes(inputs, at, "unitWitnessGradient");
  if (r.length < inputs.n) throw new RangeError("unitWitnessGradient: residual shorter than the inputs");
  if (out.length < at.n * at.dim) throw new RangeError("unitWitnessGradient: output shorter than at.n × dim");
  const { x, n: nx, dim: d } = inputs;
  const { u, n: nz, dim: p } = at;
  const relu = model.activation === "relu";
  const gaussian = model.output === "gaussian";
  const inv = 1 / nx;
  const z = new Float64Array(nx);
  // c_k = r(x_k)·G'(h)·w·σ'(z_k): the coefficient of x_k in ∇_a; only the inputs with c_k ≠ 0 are kept.
  const coef = new Float64Array(nx);
  const rows = new Int32Array(nx);
  for (let i = 0; i < nz; i++) {
    const o = i * p;
    preActivations(x, nx, d, u, o, z);
    const w = u[o + d + 1];
    let gb = 0;
    let gw = 0;
    let m = 0;
    for (let k = 0; k < nx; k++) {
      const zk = z[k];
      let s: number;
      let ds: number;
      if (relu) {
        if (zk <= 0) continue; // σ = σ' = 0: ψ is constant in z here, no contribution
        s = zk;
        ds = 1;
      } else {
        s = Math.tanh(zk);
        ds = 1 - s * s;
      }
      let rg = r[k]; // r(x)·G'(h)
      if (gaussian) {
        const h = w * s;
        rg *= -h * Math.exp(-0.5 * h * h);
      }
      gw += rg * s;
      const c = rg * w * ds;
      gb += c;
      coef[m] = c;
      rows[m++] = k;
    }
    // ∇_a = (1/B) Σ_k c_k x_k, four inputs at a time.
    for (let j = 0; j < d; j++) out[o + j] = 0;
    let t = 0;
    for (; t + 4 <= m; t += 4) {
      const c0 = coef[t];
      const c1 = coef[t + 1];
      const c2 = coef[t + 2];
      const c3 = coef[t + 3];
      const x0 = rows[t] * d;
      const x1 = rows[t + 1] * d;
      const x2 = rows[t + 2] * d;
      const x3 = rows[t + 3] * d;
      for (let j = 0; j < d; j++)
        out[o + j] += c0 * x[x0 + j] + c1 * x[x1 + j] + c2 * x[x2 + j] + c3 * x[x3 + j];
    }
    for (; t < m; t++) {
      const c0 = coef[t];
      const x0 = rows[t] * d;
      for (let j = 0; j < d; j++) out[o + j] += c0 * x[x0 + j];
    }
    for (let j = 0; j < d; j++) out[o + j] *= inv;
    out[o + d] = gb * inv;
    out[o + d + 1] = gw * inv;
  }
  return out;
}

/** The unit features ψ(x_k, uᵢ), row-major units.n × inputs.n. */
export function unitFeatures(model: UnitModel, inputs: InputBatch, units: Units): Float64Array {
  const f = new Float64Array(units.n * inputs.n);
  for (let i = 0; i < units.n; i++) {
    const one: Units = { u: units.u.subarray(i * units.dim, (i + 1) * units.dim), n: 1, dim: units.dim };
    unitNetworkOutput(model, inputs, one, f.subarray(i * inputs.n, (i + 1) * inputs.n));
  }
  return f;
}

/** The witness f_{μ,ν}(z) = (1/B) Σ_x ψ(x, z)·r(x) at every row of `at` (for checks and plots). */
export function unitWitnessValues(
  model: UnitModel,
  inputs: InputBatch,
  r: Float64Array,
  at: Units,
): Float64Array {
  const f = unitFeatures(model, inputs, at);
  const out = new Float64Array(at.n);
  for (let i = 0; i < at.n; i++) {
    let s = 0;
    for (let k = 0; k < inputs.n; k++) s += f[i * inputs.n + k] * r[k];
    out[i] = s / inputs.n;
  }
  return out;
}

/**
 * The kernel matrix K[i][j] = k(uᵢ, u'ⱼ) = (1/B) Σ_x ψ(x, uᵢ) ψ(x, u'ⱼ), row-major rows.n × cols.n.
 * O(B·n·m): for checks and small sets; the flow never forms it.
 */
export function unitKernelMatrix(
  model: UnitModel,
  inputs: InputBatch,
  rows: Units,
  cols: Units,
): Float64Array {
  const fr = unitFeatures(model, inputs, rows);
  const fc = cols === rows ? fr : unitFeatures(model, inputs, cols);
  const nx = inputs.n;
  const k = new Float64Array(rows.n * cols.n);
  for (let i = 0; i < rows.n; i++)
    for (let j = 0; j < cols.n; j++) {
      let s = 0;
      for (let t = 0; t < nx; t++) s += fr[i * nx + t] * fc[j * nx + t];
      k[i * cols.n + j] = s / nx;
    }
  return k;
}

/**
 * MMD²(μ, ν) in its kernel form, mean k(μ,μ) − 2·mean k(μ,ν) + mean k(ν,ν), with k the unit kernel on
 * these inputs and every pair counted (the V-form: the particles are the measures, not samples of them).
 */
export function unitKernelMmd2(model: UnitModel, inputs: InputBatch, mu: Units, nu: Units): number {
  const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
  return (
    mean(unitKernelMatrix(model, inputs, mu, mu)) -
    2 * mean(unitKernelMatrix(model, inputs, mu, nu)) +
    mean(unitKernelMatrix(model, inputs, nu, nu))
  );
}
