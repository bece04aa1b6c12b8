/**
 * Tests for the conditional MLP energy E_θ(x, y) = f_θ(x)_y + ½c|x|² (src/energies/conditional.ts): the
 * documented θ layout against an independent float64 forward pass; ∇ₓ and ∂θ of every view (class,
 * marginal, labelled) and of the cross-entropy against float64 central differences, for every activation;
 * p(y | x) against brute force; MALA on a class view against quadrature.
 *
 * Finite differences: the network is float64, so with step h = 1e-5 a central difference has truncation
 * error ≈ h²|f‴|/6 ≈ 1e-10 and rounding error ≈ ε|U|/h ≈ 1e-10 here (|U| ≲ 10). Tolerance 1e-7 + 1e-6·|FD|:
 * three orders above both, and far below what a wrong index or a missing term gives (≳ 1e-2).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  ConditionalMlp,
  type ConditionalMlpSpec,
  conditionalMlpNumParams,
  labelledRows,
  splitLabelledRows,
} from "../../src/energies/conditional.ts";
import { gridEvaluate } from "../../src/eval/grid.ts";
import { foldIn, keyFromSeed, Stream } from "../../src/random/key.ts";
import { mala } from "../../src/samplers/mala.ts";
import { assertClose, centralDiff } from "../helpers.ts";

const ACTS = ["silu", "softplus", "tanh", "elu"] as const;
const FD = { eps: 1e-5, atol: 1e-7, rtol: 1e-6 };

function spec(activation: ConditionalMlpSpec["activation"], confinement = 0.3): ConditionalMlpSpec {
  return { inputDim: 3, classes: 4, hidden: [6, 5], activation, confinement };
}

function normals(seed: number, m: number): Float64Array {
  return new Stream(keyFromSeed(seed)).fillNormal(new Float64Array(m)) as Float64Array;
}

/** Independent float64 forward pass of E(x, ·) from the flat θ (checks the documented layout). */
function reference(sp: ConditionalMlpSpec, theta: Float64Array, x: ArrayLike<number>): number[] {
  const act = {
    silu: (z: number) => z / (1 + Math.exp(-z)),
    softplus: (z: number) => Math.log1p(Math.exp(z)),
    tanh: Math.tanh,
    elu: (z: number) => (z > 0 ? z : Math.expm1(z)),
  }[sp.activation];
  const widths = [sp.inputDim, ...sp.hidden, sp.classes];
  let h = Array.from(x);
  let off = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    const [fi, fo] = [widths[l], widths[l + 1]];
    const z = new Array<number>(fo).fill(0);
    for (let o = 0; o < fo; o++) {
      for (let i = 0; i < fi; i++) z[o] += h[i] * theta[off + i * fo + o];
      z[o] += theta[off + fi * fo + o];
    }
    off += fi * fo + fo;
    h = l + 2 < widths.length ? z.map(act) : z;
  }
  let sq = 0;
  for (let a = 0; a < x.length; a++) sq += x[a] * x[a];
  return h.map((v) => v + 0.5 * (sp.confinement ?? 0) * sq);
}

describe("conditional MLP: layout and probabilities", () => {
  test("numParams, θ layout and energies match an independent float64 forward pass", () => {
    for (const act of ACTS) {
      const sp = spec(act);
      const net = ConditionalMlp.create(sp, keyFromSeed(1));
      assert.equal(net.numParams, 3 * 6 + 6 + 6 * 5 + 5 + 5 * 4 + 4);
      assert.equal(net.numParams, conditionalMlpNumParams(sp));
      const n = 300; // more than one block of 256
      const x = normals(2, n * 3);
      const e = new Float64Array(n * 4);
      net.energies(x, n, e);
      const theta = net.getParams();
      for (const i of [0, 1, 255, 256, 299]) {
        const ref = reference(sp, theta, x.subarray(i * 3, i * 3 + 3));
        for (let y = 0; y < 4; y++) assertClose(e[i * 4 + y], ref[y], 1e-13, 1e-13, `${act} E[${i},${y}]`);
      }
    }
  });

  test("p(y|x) sums to 1 and equals softmax(−E) by brute force; U = −log Σ e^{−E}; −log p(y|x) = E − U", () => {
    const net = ConditionalMlp.create(spec("silu"), keyFromSeed(3));
    const n = 50;
    const x = normals(4, n * 3);
    for (let j = 0; j < x.length; j++) x[j] *= 3;
    const e = new Float64Array(n * 4);
    const p = new Float64Array(n * 4);
    const u = new Float64Array(n);
    net.energies(x, n, e);
    net.classProbabilities(x, n, p);
    net.marginalEnergy().energy(x, n, u);
    const labels = Int32Array.from({ length: n }, (_, i) => i % 4);
    let ce = 0;
    for (let i = 0; i < n; i++) {
      let z = 0;
      for (let y = 0; y < 4; y++) z += Math.exp(-e[i * 4 + y]);
      let sum = 0;
      for (let y = 0; y < 4; y++) {
        assertClose(p[i * 4 + y], Math.exp(-e[i * 4 + y]) / z, 1e-15, 1e-13, `p(${y}|x_${i})`);
        sum += p[i * 4 + y];
      }
      assertClose(sum, 1, 1e-15, 0, `Σ_y p(y|x_${i})`);
      assertClose(u[i], -Math.log(z), 1e-13, 1e-13, `U(x_${i})`);
      ce += e[i * 4 + labels[i]] - u[i];
      const pred = net.predict(x.subarray(i * 3, i * 3 + 3), 1)[0];
      for (let y = 0; y < 4; y++) assert.ok(p[i * 4 + pred] >= p[i * 4 + y], "predict is the argmax");
    }
    assertClose(net.crossEntropy(x, labels, n), ce / n, 1e-13, 1e-13, "cross-entropy");
  });

  test("the confinement shifts every E(x, ·) alike, so p(y|x) does not see it", () => {
    const a = ConditionalMlp.create(spec("tanh", 0), keyFromSeed(5));
    const b = ConditionalMlp.create(spec("tanh", 2), keyFromSeed(5));
    const x = normals(6, 20 * 3);
    const pa = new Float64Array(80);
    const pb = new Float64Array(80);
    a.classProbabilities(x, 20, pa);
    b.classProbabilities(x, 20, pb);
    for (let j = 0; j < 80; j++) assertClose(pa[j], pb[j], 1e-15, 1e-12, `p[${j}]`);
  });

  test("labelled rows round trip; bad labels are refused", () => {
    const x = normals(7, 10 * 2);
    const labels = Int32Array.from({ length: 10 }, (_, i) => (i * 7) % 3);
    const rows = labelledRows(x, labels, 10, 2);
    const back = splitLabelledRows(rows, 10, 2, 3);
    assert.deepEqual(back.x, x);
    assert.deepEqual(back.labels, labels);
    rows[5] = 1.5;
    assert.throws(() => splitLabelledRows(rows, 10, 2, 3), /row 1 has label 1.5/);
    rows[5] = 3;
    assert.throws(() => splitLabelledRows(rows, 10, 2, 3), /not an integer in \[0, 3\)/);
    const net = ConditionalMlp.create({ ...spec("silu"), inputDim: 2, classes: 3 }, keyFromSeed(1));
    assert.throws(() => net.crossEntropy(x, [0, 1, 5], 3), /label 2 is 5/);
    assert.throws(() => net.classEnergy(3), /label must be an integer in \[0, 3\)/);
    assert.throws(() => ConditionalMlp.create({ ...spec("silu"), classes: 1 }, keyFromSeed(1)), /classes/);
  });
});

describe("conditional MLP: derivatives against float64 central differences", () => {
  for (const act of ACTS) {
    test(`${act}: ∇ₓ and ∂θ of the class, marginal and labelled views, and of the cross-entropy`, () => {
      const net = ConditionalMlp.create(spec(act), keyFromSeed(11));
      const n = 5;
      const x = normals(12, n * 3);
      const labels = Int32Array.from([2, 0, 3, 1, 2]);
      const rows = labelledRows(x, labels, n, 3);
      const w = normals(13, n);
      const views = [
        { name: "class 2", e: net.classEnergy(2), pts: x, d: 3 },
        { name: "marginal", e: net.marginalEnergy(), pts: x, d: 3 },
        { name: "labelled", e: net.labelledEnergy(), pts: rows, d: 4 },
      ];
      for (const { name, e, pts, d } of views) {
        const u = new Float64Array(n);
        const g = new Float64Array(n * d);
        e.energyAndGrad(pts, n, u, g);
        const u2 = new Float64Array(n);
        e.energy(pts, n, u2);
        assert.deepEqual(u2, u, `${name}: energy and energyAndGrad agree`);
        // ∇ₓ: every point and input coordinate (the labelled view's label coordinate has gradient 0).
        for (let i = 0; i < n; i++)
          for (let a = 0; a < 3; a++) {
            const fd = centralDiff(
              () => {
                e.energy(pts, n, u2);
                return u2[i];
              },
              pts,
              i * d + a,
              FD.eps,
            );
            assertClose(g[i * d + a], fd, FD.atol, FD.rtol, `${act} ${name} ∂U/∂x[${i},${a}]`);
          }
        if (d === 4) for (let i = 0; i < n; i++) assert.equal(g[i * 4 + 3], 0);
        // ∂θ of Σ_i w_i U(x_i), every parameter.
        const gt = new Float64Array(net.numParams);
        e.paramGrad(pts, n, w, gt);
        const theta = net.getParams();
        const f = () => {
          net.setParams(theta);
          e.energy(pts, n, u2);
          let s = 0;
          for (let i = 0; i < n; i++) s += w[i] * u2[i];
          return s;
        };
        for (let p = 0; p < theta.length; p++)
          assertClose(gt[p], centralDiff(f, theta, p, FD.eps), FD.atol, FD.rtol, `${act} ${name} ∂θ[${p}]`);
        net.setParams(theta);
      }
      const gt = new Float64Array(net.numParams);
      net.crossEntropy(x, labels, n, gt);
      const theta = net.getParams();
      const f = () => {
        net.setParams(theta);
        return net.crossEntropy(x, labels, n);
      };
      for (let p = 0; p < theta.length; p++)
        assertClose(
          gt[p],
          centralDiff(f, theta, p, FD.eps),
          FD.atol,
          FD.rtol,
          `${act} cross-entropy ∂θ[${p}]`,
        );
    });
  }
});

describe("conditional MLP: samplers on a class view", () => {
  test("MALA on U_y = E(·, y) has the mean of p(x | y) by quadrature (within 4 SE over independent chains)", () => {
    // A random network in 2-D with c = 1: p(x | y) is a bent, skewed bump; its mean by a 200² midpoint grid
    // on [−7, 7]² (the mass outside is < e^{−20}).
    const net = ConditionalMlp.create(
      { inputDim: 2, classes: 3, hidden: [16], activation: "tanh", confinement: 1 },
      keyFromSeed(21),
    );
    // Larger first-layer weights and biases, so the bump differs clearly from the confinement's Gaussian.
    const th = net.getParams();
    for (let p = 0; p < 2 * 16 + 16; p++) th[p] *= 6;
    net.setParams(th);
    const y = 1;
    const energy = net.classEnergy(y);
    const grid = gridEvaluate(energy, { xmin: -7, xmax: 7, ymin: -7, ymax: 7, n: 200 });
    const truth = [0, 0];
    for (let k = 0; k < grid.density.length; k++)
      for (let a = 0; a < 2; a++)
        truth[a] += grid.density[k] * grid.grid.points[2 * k + a] * grid.grid.cellArea;
    const chains = 200;
    const start = normals(22, chains * 2);
    const kernel = mala(energy);
    const state = kernel.init(start, chains);
    const sums = new Float64Array(chains * 2);
    const warm = 200;
    const keep = 300;
    for (let t = 0; t < warm + keep; t++) {
      kernel.step(foldIn(keyFromSeed(23), t), state, { step: 0.1 });
      if (t >= warm) for (let j = 0; j < chains * 2; j++) sums[j] += state.position[j];
    }
    for (let a = 0; a < 2; a++) {
      // Chains are independent: the SE of the mean is the sd of the per-chain time averages over √chains.
      const m = Float64Array.from({ length: chains }, (_, i) => sums[i * 2 + a] / keep);
      const mean = m.reduce((s, v) => s + v, 0) / chains;
      const sd = Math.sqrt(m.reduce((s, v) => s + (v - mean) ** 2, 0) / (chains - 1));
      const se = sd / Math.sqrt(chains);
      assert.ok(
        Math.abs(mean - truth[a]) <= 4 * se,
        `coordinate ${a}: MALA ${mean} vs quadrature ${truth[a]} (SE ${se})`,
      );
    }
  });
});
