/**
 * Sliced score matching (src/objectives/sliced-score-matching.ts), and the score-matching family's
 * blindness to the masses of separated modes.
 *
 * Gradients. For a fixed key the projections are fixed, so the returned gradient must be the θ-gradient of
 * the returned loss: float64 central differences on the exponential family (h = 1e-5, 1e-6·(1 + |FD|)) and
 * on the MLP, both backends, with the float32 tolerance of test/energies/mlp.test.ts (h = 1e-2,
 * 5e-4 + 2e-3·|FD|).
 *
 * Unbiasedness. Over projections, E_v[J_ssm] = E_v[J_ssm-vr] = J_exact and the same for ∂θJ (E[vvᵀ] = I).
 * Averaged over R = 400 keys, the difference from exact SM (the contract's ScoreMatchable) must be within
 * 4 standard errors of that average (sample sd/√R, per coordinate). In d = 1 with Rademacher v the two are
 * equal for every key (v² = 1).
 *
 * Mode masses. On the seed's two-well U_z (modes at ∓10, θ = z; mass of mode b is e^{−z}/(1 + e^{−z})),
 * the score ∇ₓU depends on z only through r(1 − r) (r: the responsibility of mode b), ≈ e^{−50} or less at
 * every data point. So the z-gradients of exact SM, DSM with σ ≤ 1 and SSM are ~0 (asserted < 1e-15 in
 * absolute value, against the likelihood gradient E_data[r] − q ≈ 0.3), and training leaves q at 0.5. The
 * negative control: DSM with σ = 10, comparable to the separation, sees the masses of the noised mixture
 * (gradient ≫ 1e-15, and training moves q towards q*). The two-well energy's score capabilities are written
 * here in closed form (MixtureEnergy itself has none yet) and checked against central differences.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ScoreMatchable, TrainableEnergy } from "../../src/energies/contract.ts";
import { ExpFamEnergy, polynomialStatistics, quadraticStatistics } from "../../src/energies/expfam.ts";
import { GaussianEnergy } from "../../src/energies/gaussian.ts";
import { MixtureEnergy } from "../../src/energies/mixture.ts";
import { createMlpEnergy } from "../../src/energies/mlp.ts";
import type { DirectionalParamGrad, ScoreParamGrad } from "../../src/energies/score-grad.ts";
import { denoisingScoreMatching } from "../../src/objectives/denoising-score-matching.ts";
import type { Objective } from "../../src/objectives/objective.ts";
import { scoreMatching } from "../../src/objectives/score-matching.ts";
import { slicedScoreMatching, type SlicedOptions } from "../../src/objectives/sliced-score-matching.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";
import { sgd } from "../../src/train/optim.ts";
import { train } from "../../src/train/trainer.ts";
import { assertClose, centralDiff } from "../helpers.ts";
import { skipNative } from "../native/addon.ts";

function normals(seed: number, n: number, scale = 1): Float64Array {
  return new Stream(keyFromSeed(seed)).fillNormal(new Float64Array(n), 0, scale) as Float64Array;
}

function checkGradient(
  objective: Objective<{ loss: number }>,
  model: TrainableEnergy,
  x: Float64Array,
  n: number,
  tol: { h: number; atol: number; rtol: number },
  what: string,
): void {
  const key = keyFromSeed(78);
  const state = objective.init(key, model);
  const theta = model.getParams();
  const grad = new Float64Array(model.numParams);
  objective.gradient(key, state, model, { x, n }, grad);
  assert.ok(Number.isFinite(state.loss), `${what}: loss ${state.loss}`);
  const scratch = new Float64Array(model.numParams);
  const loss = () => {
    model.setParams(theta);
    objective.gradient(key, state, model, { x, n }, scratch);
    return state.loss;
  };
  for (let k = 0; k < model.numParams; k++)
    assertClose(grad[k], centralDiff(loss, theta, k, tol.h), tol.atol, tol.rtol, `${what} ∂θJ[${k}]`);
  model.setParams(theta);
}

const VARIANTS: SlicedOptions[] = [
  { variant: "ssm" },
  { variant: "ssm", projection: "gaussian", projections: 3 },
  { variant: "ssm-vr" },
  { variant: "ssm-vr", projection: "gaussian", projections: 2 },
];
const label = (o: SlicedOptions) => `${o.variant} ${o.projection ?? "rademacher"} ×${o.projections ?? 1}`;

describe("SSM: gradient = ∂θ of the loss for the same projections", () => {
  for (const opts of VARIANTS) {
    test(`exponential family (float64): ${label(opts)}`, () => {
      const model = new ExpFamEnergy(polynomialStatistics(2, 4), [0.1, 0.5, 0, 0.1, -0.2, 0.4, 0.1, 0.2]);
      checkGradient(
        slicedScoreMatching(opts),
        model,
        normals(1, 12),
        6,
        { h: 1e-5, atol: 1e-6, rtol: 1e-6 },
        label(opts),
      );
    });
  }
  for (const backend of skipNative ? ["wasm"] : ["wasm", "native"]) {
    test(`MLP on ${backend} (float32), both variants`, async () => {
      const model = await createMlpEnergy(
        { inputDim: 3, hidden: [8, 6], activation: "softplus", confinement: 0.3 },
        keyFromSeed(5),
        { backend },
      );
      try {
        for (const opts of [VARIANTS[1], VARIANTS[2]])
          checkGradient(
            slicedScoreMatching(opts),
            model,
            normals(2, 15),
            5,
            { h: 1e-2, atol: 5e-4, rtol: 2e-3 },
            `${backend} ${label(opts)}`,
          );
      } finally {
        model.dispose();
      }
    });
  }
  test("options are checked; an energy without the capability is refused", () => {
    assert.throws(() => slicedScoreMatching({ projections: 0 }), /projections/);
    assert.throws(() => slicedScoreMatching({ variant: "x" as "ssm" }), /variant/);
    const g = GaussianEnergy.isotropic([0], 1) as unknown as TrainableEnergy;
    assert.throws(() => slicedScoreMatching().init(keyFromSeed(0), g), /directionalParamGrad/);
  });
});

describe("SSM is unbiased for exact score matching", () => {
  /** Mean and SE over R keys of (J_ssm − J_exact, ∂θJ_ssm − ∂θJ_exact). */
  function bias(
    model: TrainableEnergy & ScoreMatchable,
    opts: SlicedOptions,
    x: Float64Array,
    n: number,
    R: number,
  ) {
    const P = model.numParams;
    const exact = new Float64Array(P);
    const jExact = model.scoreMatching(x, n, new Float64Array(n).fill(1 / n), exact);
    const obj = slicedScoreMatching(opts);
    const s = obj.init(keyFromSeed(0), model);
    const g = new Float64Array(P);
    const sum = new Float64Array(P + 1);
    const sum2 = new Float64Array(P + 1);
    for (let t = 0; t < R; t++) {
      obj.gradient(keyFromSeed(1000 + t), s, model, { x, n }, g);
      const diff = [s.loss - jExact, ...Array.from(g, (v, k) => v - exact[k])];
      diff.forEach((v, k) => {
        sum[k] += v;
        sum2[k] += v * v;
      });
    }
    const mean = Array.from(sum, (v) => v / R);
    const se = Array.from(sum2, (v, k) => Math.sqrt(Math.max(0, v / R - mean[k] ** 2) / (R - 1)));
    return { mean, se };
  }

  for (const opts of [VARIANTS[0], VARIANTS[1], VARIANTS[2]]) {
    test(`exponential family, d = 3: ${label(opts)}`, () => {
      const model = new ExpFamEnergy(
        quadraticStatistics(3),
        normals(3, 9, 0.3).map((v, k) => (k >= 3 ? v + 0.5 : v)),
      );
      const { mean, se } = bias(model, opts, normals(4, 60), 20, 400);
      for (let k = 0; k < mean.length; k++)
        assert.ok(
          Math.abs(mean[k]) <= 4 * se[k] + 1e-12,
          `${label(opts)} [${k}]: bias ${mean[k]} (SE ${se[k]})`,
        );
    });
  }

  test("MLP (selected backend), ssm with Gaussian projections", async () => {
    const model = await createMlpEnergy(
      { inputDim: 2, hidden: [8], activation: "tanh", confinement: 0.2 },
      keyFromSeed(6),
    );
    try {
      const { mean, se } = bias(model, { projection: "gaussian" }, normals(5, 40), 20, 200);
      // float32 evaluation adds ≈ 1e-6 relative rounding to each term: allowed on top of 4 SE.
      for (let k = 0; k < mean.length; k++)
        assert.ok(Math.abs(mean[k]) <= 4 * se[k] + 1e-5, `[${k}]: bias ${mean[k]} (SE ${se[k]})`);
    } finally {
      model.dispose();
    }
  });

  test("d = 1, Rademacher: SSM equals exact SM for every key", () => {
    const model = new ExpFamEnergy(polynomialStatistics(1, 4), [0.2, 0.3, -0.1, 0.05]);
    const { mean, se } = bias(model, { variant: "ssm" }, normals(6, 30), 30, 5);
    for (let k = 0; k < mean.length; k++)
      assert.ok(Math.abs(mean[k]) < 1e-12 && se[k] < 1e-12, `[${k}] ${mean[k]}`);
  });
});

// --- separated modes --------------------------------------------------------------------------------------

/**
 * The seed's two-well U_z(x) = −log(e^{−(x−a)²/2} + e^{−z} e^{−(x−b)²/2}) (MixtureEnergy.twoWell) with its
 * score capabilities in closed form. With r = σ(−z − (x−b)²/2 + (x−a)²/2) (responsibility of mode b) and
 * p = r(1 − r): U′ = (x − a) − (b − a) r, U″ = 1 − (b − a)² p, ∂zU′ = (b − a) p, ∂zU″ = (b − a)² p (1 − 2r).
 */
class TwoWell implements TrainableEnergy, ScoreMatchable, ScoreParamGrad, DirectionalParamGrad {
  readonly dim = 1;
  readonly numParams = 1;
  readonly m: MixtureEnergy;
  constructor(
    readonly a: number,
    readonly b: number,
    z: number,
  ) {
    this.m = MixtureEnergy.twoWell(a, b, z);
  }
  private rp(x: number): [number, number] {
    const z = this.m.getParams()[0];
    const l = -z - 0.5 * (x - this.b) ** 2 + 0.5 * (x - this.a) ** 2;
    const r = l >= 0 ? 1 / (1 + Math.exp(-l)) : Math.exp(l) / (1 + Math.exp(l));
    return [r, l >= 0 ? r * (Math.exp(-l) / (1 + Math.exp(-l))) : r * (1 / (1 + Math.exp(l)))];
  }
  getParams = () => this.m.getParams();
  setParams = (t: Float64Array) => this.m.setParams(t);
  energy = (x: Float64Array, n: number, u: Float64Array) => this.m.energy(x, n, u);
  energyAndGrad = (x: Float64Array, n: number, u: Float64Array, g: Float64Array) =>
    this.m.energyAndGrad(x, n, u, g);
  paramGrad = (x: Float64Array, n: number, w: Float64Array, out: Float64Array) =>
    this.m.paramGrad(x, n, w, out);
  scoreMatching = (x: Float64Array, n: number, w: Float64Array, out: Float64Array) =>
    this.m.scoreMatching(x, n, w, out);
  scoreParamGrad(x: Float64Array, n: number, r: Float64Array, out: Float64Array): void {
    let s = 0;
    for (let i = 0; i < n; i++) s += r[i] * (this.b - this.a) * this.rp(x[i])[1];
    out[0] = s;
  }
  directionalParamGrad(
    x: Float64Array,
    v: Float64Array,
    n: number,
    A: Float64Array,
    B: Float64Array,
    out: Float64Array,
    curv: Float64Array,
  ): void {
    const ba = this.b - this.a;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const [r, p] = this.rp(x[i]);
      s += A[i] * v[i] * ba * p + B[i] * v[i] * v[i] * ba * ba * p * (1 - 2 * r);
      curv[i] = v[i] * v[i] * (1 - ba * ba * p);
    }
    out[0] = s;
  }
}

describe("score matching variants cannot learn the masses of separated modes", () => {
  test("the two-well's closed forms against central differences (near the barrier, where they are not 0)", () => {
    const e = new TwoWell(-2, 2, 0.3);
    const n = 5;
    const x = Float64Array.from([-1, -0.3, 0, 0.4, 1.2]);
    const v = Float64Array.from([1, -0.5, 2, 0.7, -1]);
    const A = Float64Array.from([0.3, -1, 0.5, 0.2, 1]);
    const B = Float64Array.from([1, 0.4, -0.6, 0.3, 0.8]);
    const th = e.getParams();
    const u = new Float64Array(n);
    const g = new Float64Array(n);
    const h = 1e-5;
    const slopeAt = (xs: Float64Array) => {
      e.energyAndGrad(xs, n, u, g);
      return g.slice();
    };
    const F = () => {
      e.setParams(th);
      const g0 = slopeAt(x);
      const up = slopeAt(x.map((xi, i) => xi + h * v[i]));
      const down = slopeAt(x.map((xi, i) => xi - h * v[i]));
      let s = 0;
      for (let i = 0; i < n; i++) s += A[i] * v[i] * g0[i] + (B[i] * v[i] * (up[i] - down[i])) / (2 * h);
      return s;
    };
    const out = new Float64Array(1);
    const curv = new Float64Array(n);
    e.setParams(th);
    e.directionalParamGrad(x, v, n, A, B, out, curv);
    assertClose(out[0], centralDiff(F, th, 0, 1e-4), 1e-6, 1e-5, "directionalParamGrad");
    e.setParams(th);
    const up = slopeAt(x.map((xi, i) => xi + h * v[i]));
    const down = slopeAt(x.map((xi, i) => xi - h * v[i]));
    for (let i = 0; i < n; i++)
      assertClose(curv[i], (v[i] * (up[i] - down[i])) / (2 * h), 1e-6, 1e-6, `κ[${i}]`);
    const sp = new Float64Array(1);
    e.scoreParamGrad(x, n, A, sp);
    const G = () => {
      e.setParams(th);
      return slopeAt(x).reduce((s, gi, i) => s + A[i] * gi, 0);
    };
    assertClose(sp[0], centralDiff(G, th, 0, 1e-5), 1e-7, 1e-6, "scoreParamGrad");
  });

  const n = 2000;
  const data = new Float64Array(n);
  MixtureEnergy.twoWell(-10, 10, Math.log(0.25)).sampleExact(keyFromSeed(1), n, data); // q* = 0.8
  const blind: [string, () => Objective<{ loss: number }>][] = [
    ["exact SM", () => scoreMatching()],
    ["DSM σ ∈ {0.1, 0.5, 1}", () => denoisingScoreMatching({ sigma: [0.1, 0.5, 1] })],
    ["SSM", () => slicedScoreMatching()],
    ["SSM-VR", () => slicedScoreMatching({ variant: "ssm-vr", projection: "gaussian" })],
  ];
  const massOf = (e: TwoWell) => e.m.componentMasses()[1];

  test("the likelihood gradient is O(1): E_data[r] − q ≈ 0.3", () => {
    const e = new TwoWell(-10, 10, 0);
    const g = new Float64Array(1);
    e.paramGrad(data, n, new Float64Array(n).fill(1 / n), g);
    const mle = g[0] - massOf(e);
    console.log(`likelihood z-gradient ${mle.toFixed(4)}`);
    assert.ok(Math.abs(mle - 0.3) < 0.05, `${mle}`);
  });

  for (const [name, objective] of blind) {
    test(`${name}: ∂z J ≈ 0 and 200 SGD steps leave q at 0.5`, () => {
      const e = new TwoWell(-10, 10, 0);
      const obj = objective();
      const s = obj.init(keyFromSeed(0), e);
      const g = new Float64Array(1);
      obj.gradient(keyFromSeed(2), s, e, { x: data, n }, g);
      assert.ok(Math.abs(g[0]) < 1e-15, `${name}: ∂z J = ${g[0]}`);
      train({
        model: e,
        objective: obj,
        optimizer: sgd(0.1),
        data: { x: data, n },
        iterations: 200,
        key: keyFromSeed(3),
      });
      assert.ok(Math.abs(massOf(e) - 0.5) < 1e-12, `${name}: q = ${massOf(e)}`);
    });
  }

  test("negative control: DSM with σ = 10 (noise as wide as the separation) does see the masses", () => {
    const e = new TwoWell(-10, 10, 0);
    const obj = denoisingScoreMatching({ sigma: 10, copies: 4 });
    const s = obj.init(keyFromSeed(0), e);
    const g = new Float64Array(1);
    obj.gradient(keyFromSeed(2), s, e, { x: data, n }, g);
    console.log(`DSM σ = 10: ∂z J = ${g[0].toExponential(2)}`);
    assert.ok(Math.abs(g[0]) > 1e-3, `∂z J = ${g[0]}`);
    train({
      model: e,
      objective: obj,
      optimizer: sgd(0.5),
      data: { x: data, n },
      iterations: 200,
      key: keyFromSeed(3),
    });
    console.log(`DSM σ = 10: q after 200 steps ${massOf(e).toFixed(3)} (q* = 0.8)`);
    assert.ok(massOf(e) > 0.6, `q = ${massOf(e)}`);
  });
});
