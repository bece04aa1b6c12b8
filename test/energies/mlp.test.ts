/**
 * Tests for the MLP energy (public factory, tfjs backend): layout and initialisation, determinism, the
 * contract's derivatives against float64 central finite differences (FD) of the float32 model, and the
 * exact score-matching objective (second derivatives) and its parameter gradient.
 *
 * Step sizes and tolerances. The model computes in float32 (ε ≈ 1.2e-7), so U carries a rounding error
 * δ ≈ a few ε·(1 + |U|) ≈ 1e-6 here. A central difference with step h then has error ≈ δ/h (rounding) +
 * h²/6·|f‴| (truncation), minimised near h ≈ (3δ)^{1/3} ≈ 1e-2:
 *  - ∇ₓU and ∂θU: h = 5e-3 → ≲ 2e-4 + 4e-6·|f‴|; observed ≤ 2e-5. Tolerance 3e-4 + 1e-3·|FD|, which
 *    still fails on any real error (a wrong index or a missing term is O(0.1)).
 *  - ΔₓU: FD of the float32 gradient (not a second difference of U, whose rounding error δ/h² would be
 *    ~1e-2), step 1e-2: ≲ 1e-5 + 2e-5·|∂³g|. Tolerance on J: 2e-4·(1 + |J|).
 *  - ∂θJ: J is summed in float64 from float32 ∇U and ΔU (δ_J ≈ 1e-6·Σw), step 1e-2: ≲ 1e-4 + 2e-5·|J‴|.
 *    Tolerance 5e-4 + 2e-3·|FD|.
 * ELU is only C¹: ELU″ jumps at 0, so ΔU and J jump where a pre-activation crosses zero. FD of ∂θJ is
 * meaningless across a jump; such coordinates are detected by a large second difference and skipped.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createMlpEnergy, type MlpEnergy, type MlpSpec, mlpNumParams } from "../../src/energies/mlp.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";
import { assertClose } from "../helpers.ts";

const ACTS = ["silu", "softplus", "tanh", "elu"] as const;

function spec(activation: MlpSpec["activation"], confinement = 0.25): MlpSpec {
  return { inputDim: 3, hidden: [8, 6], activation, confinement };
}

/** n standard-normal points of dimension d, and non-uniform positive weights. */
function data(seed: number, n: number, d: number): { x: Float64Array; w: Float64Array } {
  const s = new Stream(keyFromSeed(seed));
  const x = s.fillNormal(new Float64Array(n * d)) as Float64Array;
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.1 + s.uniform();
  return { x, w };
}

/** Float64 reference forward pass of MLP(x) + ½c|x|² from the flat θ (checks the documented layout). */
function reference(sp: MlpSpec, theta: Float64Array, x: Float64Array): number {
  const act = {
    silu: (z: number) => z / (1 + Math.exp(-z)),
    softplus: (z: number) => Math.log1p(Math.exp(z)),
    tanh: Math.tanh,
    elu: (z: number) => (z > 0 ? z : Math.expm1(z)),
  }[sp.activation];
  const widths = [sp.inputDim, ...sp.hidden, 1];
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
  for (const v of x) sq += v * v;
  return h[0] + 0.5 * (sp.confinement ?? 0) * sq;
}

function weightedEnergy(e: MlpEnergy, x: Float64Array, n: number, w: Float64Array): number {
  const u = new Float64Array(n);
  e.energy(x, n, u);
  let s = 0;
  for (let i = 0; i < n; i++) s += w[i] * u[i];
  return s;
}

describe("MLP energy: construction", () => {
  test("numParams, layout and the float64 reference forward pass agree", async () => {
    const sp = spec("tanh", 0.5);
    const e = await createMlpEnergy(sp, keyFromSeed(1));
    try {
      assert.equal(e.numParams, 3 * 8 + 8 + 8 * 6 + 6 + 6 + 1);
      assert.equal(e.numParams, mlpNumParams(sp));
      assert.equal(e.dim, 3);
      const { x } = data(2, 7, 3);
      const u = new Float64Array(7);
      e.energy(x, 7, u);
      const theta = e.getParams();
      for (let i = 0; i < 7; i++) {
        // float32 forward of O(1) values through 3 small layers: ~1e-6 absolute.
        assertClose(u[i], reference(sp, theta, x.subarray(3 * i, 3 * i + 3)), 1e-5, 1e-5, `U(x_${i})`);
      }
    } finally {
      e.dispose();
    }
  });

  test("initialisation: each layer ~ U(±1/√fan_in), like nn.Linear", async () => {
    const sp: MlpSpec = { inputDim: 2, hidden: [128, 128], activation: "silu" };
    const e = await createMlpEnergy(sp, keyFromSeed(0));
    try {
      const theta = e.getParams();
      const widths = [2, 128, 128, 1];
      let off = 0;
      for (let l = 0; l < 3; l++) {
        const size = widths[l] * widths[l + 1] + widths[l + 1];
        const bound = 1 / Math.sqrt(widths[l]);
        const layer = theta.subarray(off, off + size);
        off += size;
        let max = 0;
        let mean = 0;
        let sq = 0;
        for (const v of layer) {
          max = Math.max(max, Math.abs(v));
          mean += v / size;
          sq += (v * v) / size;
        }
        assert.ok(max <= bound, `layer ${l}: |θ| ≤ 1/√fan_in`);
        if (size > 100) {
          // Uniform on ±b: mean 0 (SE b/√(3·size)), second moment b²/3 (SE ≈ 0.3·b²/√size); 5 SE.
          assert.ok(max > 0.95 * bound, `layer ${l} fills its range`);
          assert.ok(Math.abs(mean) < (5 * bound) / Math.sqrt(3 * size), `layer ${l} mean ${mean}`);
          assert.ok(Math.abs(sq - bound ** 2 / 3) < (1.5 * bound ** 2) / Math.sqrt(size), `layer ${l} E[θ²]`);
        }
      }
      assert.equal(off, e.numParams);
    } finally {
      e.dispose();
    }
  });

  test("same key → identical parameters and outputs; another key → different", async () => {
    const sp = spec("silu");
    const [a, b, c] = await Promise.all([
      createMlpEnergy(sp, keyFromSeed(5)),
      createMlpEnergy(sp, keyFromSeed(5)),
      createMlpEnergy(sp, keyFromSeed(6)),
    ]);
    try {
      assert.deepEqual(a.getParams(), b.getParams());
      assert.notDeepEqual(a.getParams(), c.getParams());
      const { x } = data(3, 9, 3);
      const [ua, ub, ga, gb] = [
        new Float64Array(9),
        new Float64Array(9),
        new Float64Array(27),
        new Float64Array(27),
      ];
      a.energyAndGrad(x, 9, ua, ga);
      b.energyAndGrad(x, 9, ub, gb);
      assert.deepEqual(ua, ub);
      assert.deepEqual(ga, gb);
    } finally {
      for (const e of [a, b, c]) e.dispose();
    }
  });

  test("setParams/getParams round trip exactly (float64 master copy) and change the outputs", async () => {
    const e = await createMlpEnergy(spec("softplus"), keyFromSeed(7));
    try {
      const theta = new Stream(keyFromSeed(8)).fillNormal(
        new Float64Array(e.numParams),
        0,
        0.3,
      ) as Float64Array;
      const { x } = data(9, 4, 3);
      const u0 = new Float64Array(4);
      e.energy(x, 4, u0);
      e.setParams(theta);
      assert.deepEqual(e.getParams(), theta);
      const got = e.getParams();
      got[0] += 1; // a copy: mutating it changes nothing
      assert.deepEqual(e.getParams(), theta);
      const u1 = new Float64Array(4);
      e.energy(x, 4, u1);
      assert.notDeepEqual(u0, u1);
      assertClose(
        u1[0],
        reference(spec("softplus"), theta, x.subarray(0, 3)),
        1e-5,
        1e-5,
        "U after setParams",
      );
      assert.throws(() => e.setParams(new Float64Array(3)), RangeError);
    } finally {
      e.dispose();
    }
  });

  test("invalid specs are rejected", async () => {
    const bad: MlpSpec[] = [
      { inputDim: 0, hidden: [4], activation: "silu" },
      { inputDim: 2, hidden: [], activation: "silu" },
      { inputDim: 2, hidden: [4, 0], activation: "silu" },
      { inputDim: 2, hidden: [4], activation: "relu" as MlpSpec["activation"] },
      { inputDim: 2, hidden: [4], activation: "silu", confinement: -1 },
    ];
    for (const s of bad) await assert.rejects(createMlpEnergy(s, keyFromSeed(0)), RangeError);
  });
});

describe("MLP energy: first derivatives vs finite differences", () => {
  for (const act of ACTS) {
    test(`${act}: energyAndGrad (∇ₓU) and weighted paramGrad (∂θ Σ w_i U(x_i))`, async () => {
      const e = await createMlpEnergy(spec(act), keyFromSeed(11));
      try {
        const n = 5;
        const { x, w } = data(12, n, 3);
        const u = new Float64Array(n);
        const g = new Float64Array(3 * n);
        e.energyAndGrad(x, n, u, g);
        const u2 = new Float64Array(n);
        e.energy(x, n, u2);
        assert.deepEqual(u, u2, "energy and energyAndGrad agree");
        const h = 5e-3;
        for (let k = 0; k < 3 * n; k++) {
          const i = Math.floor(k / 3);
          const xi = x.slice(3 * i, 3 * i + 3);
          const f = (v: number) => {
            xi[k % 3] = x[k] + v;
            const out = new Float64Array(1);
            e.energy(xi, 1, out);
            return out[0];
          };
          const fd = (f(h) - f(-h)) / (2 * h);
          assertClose(g[k], fd, 3e-4, 1e-3, `${act} ∂U/∂x[${k}]`);
        }
        const pg = new Float64Array(e.numParams);
        e.paramGrad(x, n, w, pg);
        const theta = e.getParams();
        for (let k = 0; k < e.numParams; k++) {
          const t = theta.slice();
          t[k] = theta[k] + h;
          e.setParams(t);
          const up = weightedEnergy(e, x, n, w);
          t[k] = theta[k] - h;
          e.setParams(t);
          const down = weightedEnergy(e, x, n, w);
          assertClose(pg[k], (up - down) / (2 * h), 3e-4, 1e-3, `${act} ∂θ[${k}]`);
        }
        e.setParams(theta);
      } finally {
        e.dispose();
      }
    });
  }

  test("paramGrad is linear in the weights and writes zeros for n = 0", async () => {
    const e = await createMlpEnergy(spec("silu"), keyFromSeed(13));
    try {
      const n = 6;
      const { x, w } = data(14, n, 3);
      const a = new Float64Array(e.numParams);
      const b = new Float64Array(e.numParams);
      e.paramGrad(x, n, w, a);
      e.paramGrad(
        x,
        n,
        w.map((v) => 2 * v),
        b,
      );
      a.forEach((v, k) => {
        assertClose(b[k], 2 * v, 1e-6, 1e-6, `linearity ${k}`);
      });
      b.fill(1);
      e.paramGrad(x, 0, w, b);
      assert.ok(b.every((v) => v === 0));
    } finally {
      e.dispose();
    }
  });
});

describe("MLP energy: score matching (second derivatives)", () => {
  for (const act of ACTS) {
    test(`${act}: J = Σ w[½|∇U|² − ΔU] matches FD of ∇U, and ∂θJ matches FD of J`, async () => {
      const e = await createMlpEnergy(spec(act), keyFromSeed(21));
      try {
        // Weights 2.5× the init scale: deeper in the nonlinear regime, so that the second and third
        // derivatives of the activation carry a large share of ΔU and ∂θΔU (at init scale they are small
        // next to the first-order terms, and an error in them could hide under the FD tolerance).
        e.setParams(e.getParams().map((v) => 2.5 * v));
        const n = 5;
        const d = 3;
        const { x, w } = data(22, n, d);
        const sg = new Float64Array(e.numParams);
        const J = e.scoreMatching(x, n, w, sg);
        // Reference J: ∇U from energyAndGrad, ΔU = Σ_j ∂g_j/∂x_j by central differences of ∇U.
        const u = new Float64Array(n);
        const g = new Float64Array(n * d);
        e.energyAndGrad(x, n, u, g);
        const hl = 1e-2;
        const fdLaplacian = (i: number, h: number) => {
          let lap = 0;
          for (let j = 0; j < d; j++) {
            const gp = new Float64Array(d);
            const gm = new Float64Array(d);
            const one = new Float64Array(1);
            const xp = x.slice(i * d, i * d + d);
            xp[j] += h;
            e.energyAndGrad(xp, 1, one, gp);
            xp[j] -= 2 * h;
            e.energyAndGrad(xp, 1, one, gm);
            lap += (gp[j] - gm[j]) / (2 * h);
          }
          return lap;
        };
        let jRef = 0;
        let jKept = J;
        let kept = 0;
        for (let i = 0; i < n; i++) {
          let sq = 0;
          for (let j = 0; j < d; j++) sq += g[i * d + j] ** 2;
          const lap = fdLaplacian(i, hl);
          // ELU: a pre-activation within hl of 0 puts ELU″'s jump inside the difference window, and the
          // FD Laplacian is then off by O(1). Halving h moves it by O(1) too (smooth: by O(h²)), so such a
          // point is detected and its term dropped from both sides.
          if (act === "elu" && Math.abs(fdLaplacian(i, hl / 2) - lap) > 1e-3) {
            const wi = Float64Array.of(w[i]);
            jKept -= e.scoreMatching(x.slice(i * d, i * d + d), 1, wi, new Float64Array(e.numParams));
            continue;
          }
          kept++;
          jRef += w[i] * (0.5 * sq - lap);
        }
        // With weights at 2.5× init scale some of the 5 points do straddle a kink; at least 2 must remain.
        assert.ok(kept >= 2, `${act}: ${n - kept} of ${n} points straddle a kink`);
        assertClose(jKept, jRef, 2e-4, 2e-4, `${act} J`);

        // ∂θJ on a spread of coordinates (every 3rd, plus the last layer) to keep the run short.
        const theta = e.getParams();
        const jAt = (t: Float64Array) => {
          e.setParams(t);
          return e.scoreMatching(x, n, w, new Float64Array(e.numParams));
        };
        const hs = 1e-2;
        let checked = 0;
        let tried = 0;
        for (let k = 0; k < e.numParams; k++) {
          if (k % 3 !== 0 && k < e.numParams - 7) continue;
          tried++;
          const t = theta.slice();
          t[k] = theta[k] + hs;
          const up = jAt(t);
          t[k] = theta[k] - hs;
          const down = jAt(t);
          if (act === "elu" && Math.abs(up + down - 2 * J) > 1e-3) continue; // a jump: see header
          checked++;
          assertClose(sg[k], (up - down) / (2 * hs), 5e-4, 2e-3, `${act} ∂θJ[${k}]`);
        }
        assert.equal(sg[e.numParams - 1], 0, "the last bias does not affect ∇ₓU");
        assert.ok(checked >= 0.6 * tried, `${act}: checked ${checked} of ${tried} coordinates`);
        e.setParams(theta);
      } finally {
        e.dispose();
      }
    });
  }

  test("confinement enters exactly: J(c) − J(0) = Σ w[c x·∇MLP + ½c²|x|² − c·dim]", async () => {
    const [e0, e1] = await Promise.all([
      createMlpEnergy(spec("silu", 0), keyFromSeed(31)),
      createMlpEnergy(spec("silu", 0.7), keyFromSeed(31)),
    ]);
    try {
      const n = 4;
      const d = 3;
      const { x, w } = data(32, n, d);
      const j0 = e0.scoreMatching(x, n, w, new Float64Array(e0.numParams));
      const j1 = e1.scoreMatching(x, n, w, new Float64Array(e1.numParams));
      const u = new Float64Array(n);
      const g = new Float64Array(n * d);
      e0.energyAndGrad(x, n, u, g);
      let delta = 0;
      for (let i = 0; i < n; i++) {
        let xg = 0;
        let xx = 0;
        for (let j = 0; j < d; j++) {
          xg += x[i * d + j] * g[i * d + j];
          xx += x[i * d + j] ** 2;
        }
        delta += w[i] * (0.7 * xg + 0.5 * 0.49 * xx - 0.7 * d);
      }
      assertClose(j1 - j0, delta, 1e-5, 1e-5, "J(c) − J(0)");
    } finally {
      e0.dispose();
      e1.dispose();
    }
  });
});
