/**
 * The native MLP energy (src/backend/native/mlp.ts, native/src/mlp.cc) against a float64 reference, the
 * tfjs backend and float64 finite differences, for every activation, with and without confinement, several
 * widths/depths and n not a multiple of the 256-point tile; plus determinism and thread-count invariance (bit-identical).
 *
 * Tolerances. Both backends compute in float32 (unit roundoff u = 2⁻²⁴ ≈ 6e-8) from the same float32 θ and
 * x. A dot product of length K then errs by at most γ_K·Σ|terms| (γ_K ≈ K·u ≈ 3e-6 for K ≤ 48 here), the
 * activations by a few u; across ≤ 4 layers (forward and backward) the worst case is ≈ 4·γ_K·κ, where κ =
 * Σ|terms|/|Σ terms| is ≲ 5 for these random nets, i.e. ≈ 6e-5 relative. So: aggregate errors
 * Σ_i|a_i − ref_i| ≤ 1e-4·Σ_i|ref_i| against the float64 reference (evaluated at the float32-rounded θ and
 * x, which is what both backends see), and 2e-4 between the two backends (both errors add). Elementwise,
 * |a_i − ref_i| ≤ 1e-4·(|ref_i| + mean|ref|) (the mean guards entries that cancel to ≈ 0). A wrong index or
 * a missing term gives O(1) relative errors. Finite differences (float64 central differences of the float32
 * model, h = 5e-3) follow test/energies/mlp.test.ts: error ≲ 2e-4, tolerance 3e-4 + 1e-3·|FD|.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { backendInfo, setThreads } from "../../src/node.ts";
import { skipNative as skip } from "./addon.ts";
import { isLangevinProposer } from "../../src/energies/contract.ts";
import { createMlpEnergy, type MlpEnergy, type MlpSpec, mlpBackend } from "../../src/energies/mlp.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";
import { assertClose } from "../helpers.ts";

const ACTS = ["silu", "softplus", "tanh", "elu"] as const;

const ACT64 = {
  silu: (z: number) => z / (1 + Math.exp(-z)),
  softplus: (z: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))),
  tanh: Math.tanh,
  elu: (z: number) => (z > 0 ? z : Math.expm1(z)),
};
const DACT64 = {
  silu: (z: number) => {
    const s = 1 / (1 + Math.exp(-z));
    return s * (1 + z * (1 - s));
  },
  softplus: (z: number) => 1 / (1 + Math.exp(-z)),
  tanh: (z: number) => 1 - Math.tanh(z) ** 2,
  elu: (z: number) => (z > 0 ? 1 : Math.exp(z)),
};

interface Ref {
  u: Float64Array;
  grad: Float64Array;
  pgrad: Float64Array;
}

/** Float64 U, ∇ₓU and Σ w_i ∂θU at the float32-rounded θ and x (confinement on the exact x). */
function reference(sp: MlpSpec, theta: Float64Array, x: Float64Array, n: number, w: Float64Array): Ref {
  const th = Float64Array.from(Float32Array.from(theta));
  const widths = [sp.inputDim, ...sp.hidden, 1];
  const L = widths.length - 1;
  const f = ACT64[sp.activation];
  const df = DACT64[sp.activation];
  const c = sp.confinement ?? 0;
  const d = sp.inputDim;
  const offW: number[] = [];
  let off = 0;
  for (let l = 0; l < L; l++) {
    offW.push(off);
    off += widths[l] * widths[l + 1] + widths[l + 1];
  }
  const u = new Float64Array(n);
  const grad = new Float64Array(n * d);
  const pgrad = new Float64Array(off);
  for (let i = 0; i < n; i++) {
    const hs: number[][] = [Array.from(x.subarray(i * d, i * d + d), Math.fround)];
    const ds: number[][] = [];
    for (let l = 0; l < L; l++) {
      const [fi, fo] = [widths[l], widths[l + 1]];
      const z = new Array<number>(fo).fill(0);
      for (let o = 0; o < fo; o++) {
        for (let k = 0; k < fi; k++) z[o] += hs[l][k] * th[offW[l] + k * fo + o];
        z[o] += th[offW[l] + fi * fo + o];
      }
      if (l + 1 < L) {
        hs.push(z.map(f));
        ds.push(z.map(df));
      } else hs.push(z);
    }
    let sq = 0;
    for (let k = 0; k < d; k++) sq += x[i * d + k] ** 2;
    u[i] = hs[L][0] + 0.5 * c * sq;
    // Backward: dz of the output layer is 1.
    let dz = [1];
    for (let l = L - 1; l >= 0; l--) {
      const [fi, fo] = [widths[l], widths[l + 1]];
      for (let k = 0; k < fi; k++)
        for (let o = 0; o < fo; o++) pgrad[offW[l] + k * fo + o] += w[i] * hs[l][k] * dz[o];
      for (let o = 0; o < fo; o++) pgrad[offW[l] + fi * fo + o] += w[i] * dz[o];
      const dh = new Array<number>(fi).fill(0);
      for (let k = 0; k < fi; k++) for (let o = 0; o < fo; o++) dh[k] += th[offW[l] + k * fo + o] * dz[o];
      dz = l > 0 ? dh.map((v, k) => v * ds[l - 1][k]) : dh;
    }
    for (let k = 0; k < d; k++) grad[i * d + k] = dz[k] + c * x[i * d + k];
  }
  return { u, grad, pgrad };
}

function data(seed: number, n: number, d: number, scale = 1.5): { x: Float64Array; w: Float64Array } {
  const s = new Stream(keyFromSeed(seed));
  const x = s.fillNormal(new Float64Array(n * d), 0, scale) as Float64Array;
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = (0.1 + s.uniform()) / n;
  return { x, w };
}

/** Aggregate and elementwise closeness (see the header for the tolerances). */
function assertNear(a: Float64Array, ref: Float64Array, rtol: number, what: string): void {
  let sumErr = 0;
  let sumRef = 0;
  for (let i = 0; i < ref.length; i++) {
    sumErr += Math.abs(a[i] - ref[i]);
    sumRef += Math.abs(ref[i]);
  }
  assert.ok(sumErr <= rtol * sumRef, `${what}: Σ|err| = ${sumErr} > ${rtol}·Σ|ref| = ${rtol * sumRef}`);
  const mean = sumRef / ref.length;
  for (let i = 0; i < ref.length; i++) {
    const tol = rtol * (Math.abs(ref[i]) + mean);
    if (!(Math.abs(a[i] - ref[i]) <= tol)) assert.fail(`${what}[${i}]: ${a[i]} vs ${ref[i]} (tol ${tol})`);
  }
}

interface Outputs {
  u: Float64Array;
  grad: Float64Array;
  pgrad: Float64Array;
}

function evaluate(e: MlpEnergy, x: Float64Array, n: number, w: Float64Array): Outputs {
  const u = new Float64Array(n);
  const grad = new Float64Array(n * e.dim);
  const pgrad = new Float64Array(e.numParams);
  e.energyAndGrad(x, n, u, grad);
  e.paramGrad(x, n, w, pgrad);
  const u2 = new Float64Array(n);
  e.energy(x, n, u2);
  assert.deepEqual(u2, u, "energy() and energyAndGrad() give the same U");
  return { u, grad, pgrad };
}

const NETS: { inputDim: number; hidden: number[] }[] = [
  { inputDim: 2, hidden: [16] },
  { inputDim: 3, hidden: [24, 17] },
  { inputDim: 7, hidden: [33, 8, 48] }, // fan-in > 4 on the first layer: the GEMM path
];

describe("native MLP vs float64 reference and tfjs", { skip }, () => {
  for (const activation of ACTS) {
    test(`${activation}: U, ∇ₓU, Σw∂θU on random θ, with and without confinement`, async () => {
      let seed = 10;
      for (const net of NETS) {
        for (const confinement of [0, 0.3]) {
          const sp: MlpSpec = { ...net, activation, confinement };
          const key = keyFromSeed(seed++);
          const nat = await createMlpEnergy(sp, key, { backend: "native" });
          const tfj = await createMlpEnergy(sp, key, { backend: "wasm" });
          try {
            assert.equal(mlpBackend(nat), "native");
            assert.equal(mlpBackend(tfj), "wasm");
            assert.deepEqual(nat.getParams(), tfj.getParams(), "same θ for the same key");
            // Random θ with larger weights than the init, so that activations leave their linear range.
            const theta = new Stream(keyFromSeed(seed++)).fillNormal(
              new Float64Array(nat.numParams),
              0,
              0.6,
            ) as Float64Array;
            nat.setParams(theta);
            tfj.setParams(theta);
            for (const n of [1, 37, 300]) {
              const { x, w } = data(seed++, n, sp.inputDim);
              const ref = reference(sp, theta, x, n, w);
              const a = evaluate(nat, x, n, w);
              const b = evaluate(tfj, x, n, w);
              const tag = `${activation} ${JSON.stringify(net.hidden)} c=${confinement} n=${n}`;
              assertNear(a.u, ref.u, 1e-4, `${tag} U`);
              assertNear(a.grad, ref.grad, 1e-4, `${tag} ∇ₓU`);
              assertNear(a.pgrad, ref.pgrad, 1e-4, `${tag} ∂θ`);
              assertNear(a.u, b.u, 2e-4, `${tag} U vs tfjs`);
              assertNear(a.grad, b.grad, 2e-4, `${tag} ∇ₓU vs tfjs`);
              assertNear(a.pgrad, b.pgrad, 2e-4, `${tag} ∂θ vs tfjs`);
            }
          } finally {
            nat.dispose();
            tfj.dispose();
          }
        }
      }
    });
  }

  test("∇ₓU and ∂θU against float64 central differences of U", async () => {
    for (const activation of ACTS) {
      const sp: MlpSpec = { inputDim: 3, hidden: [8, 6], activation, confinement: 0.25 };
      const e = await createMlpEnergy(sp, keyFromSeed(3), { backend: "native" });
      try {
        const n = 5;
        const { x, w } = data(4, n, 3, 1);
        const out = evaluate(e, x, n, w);
        const u = new Float64Array(n);
        const h = 5e-3;
        for (let k = 0; k < n * 3; k++) {
          const i = Math.floor(k / 3);
          const old = x[k];
          x[k] = old + h;
          e.energy(x, n, u);
          const up = u[i];
          x[k] = old - h;
          e.energy(x, n, u);
          const down = u[i];
          x[k] = old;
          const fd = (up - down) / (2 * h);
          assertClose(out.grad[k], fd, 3e-4, 1e-3, `${activation} ∂U/∂x[${k}]`);
        }
        const theta = e.getParams();
        const weighted = () => {
          e.setParams(theta);
          e.energy(x, n, u);
          let s = 0;
          for (let i = 0; i < n; i++) s += w[i] * u[i];
          return s;
        };
        for (let p = 0; p < e.numParams; p += 7) {
          const old = theta[p];
          theta[p] = old + h;
          const up = weighted();
          theta[p] = old - h;
          const down = weighted();
          theta[p] = old;
          assertClose(out.pgrad[p], (up - down) / (2 * h), 3e-4, 1e-3, `${activation} ∂/∂θ[${p}]`);
        }
        e.setParams(theta);
      } finally {
        e.dispose();
      }
    }
  });

  test("exact score matching follows setParams (native jet kernel vs tfjs)", async () => {
    const sp: MlpSpec = { inputDim: 2, hidden: [12], activation: "tanh", confinement: 0.1 };
    const nat = await createMlpEnergy(sp, keyFromSeed(5), { backend: "native" });
    const tfj = await createMlpEnergy(sp, keyFromSeed(5), { backend: "wasm" });
    try {
      const theta = new Stream(keyFromSeed(6)).fillNormal(new Float64Array(nat.numParams)) as Float64Array;
      nat.setParams(theta);
      tfj.setParams(theta);
      const { x, w } = data(7, 50, 2);
      const ga = new Float64Array(nat.numParams);
      const gb = new Float64Array(nat.numParams);
      // Both float32 (score-grad.test.ts checks each against a float64 reference): they agree to 6e-4.
      const ja = nat.scoreMatching(x, 50, w, ga);
      const jb = tfj.scoreMatching(x, 50, w, gb);
      assert.ok(Math.abs(ja - jb) <= 6e-4 * (Math.abs(jb) + 1), `J ${ja} vs ${jb}`);
      let err = 0;
      let ref = 0;
      for (let k = 0; k < ga.length; k++) {
        err += Math.abs(ga[k] - gb[k]);
        ref += Math.abs(gb[k]);
      }
      assert.ok(err <= 6e-4 * ref, `Σ|Δ∂θJ| = ${err} vs Σ|∂θJ| = ${ref}`);
    } finally {
      nat.dispose();
      tfj.dispose();
    }
  });
});

describe("native MLP: Langevin proposal, determinism, threads", { skip }, () => {
  const sp: MlpSpec = { inputDim: 2, hidden: [64, 64], activation: "silu", confinement: 0.05 };

  test("langevinStep = move + energyAndGrad at the proposal (also in place)", async () => {
    const e = await createMlpEnergy(sp, keyFromSeed(8), { backend: "native" });
    try {
      assert.ok(isLangevinProposer(e));
      const n = 700;
      const { x } = data(9, n, 2);
      const xi = new Stream(keyFromSeed(10)).fillNormal(new Float64Array(2 * n)) as Float64Array;
      const h = 0.01;
      const u = new Float64Array(n);
      const g = new Float64Array(2 * n);
      e.energyAndGrad(x, n, u, g);
      const y = new Float64Array(2 * n);
      const uy = new Float64Array(n);
      const gy = new Float64Array(2 * n);
      e.langevinStep(x, g, xi, n, h, y, uy, gy);
      // The move is computed in float64 natively (possibly with fused multiply-adds): equal to the JS
      // formula up to float64 rounding; U and ∇U must then be exactly those at the native y.
      const sq = Math.sqrt(2 * h);
      for (let k = 0; k < 2 * n; k++) {
        const ref = x[k] - h * g[k] + sq * xi[k];
        const scale = Math.abs(x[k]) + Math.abs(h * g[k]) + Math.abs(sq * xi[k]);
        assert.ok(Math.abs(y[k] - ref) <= 4 * Number.EPSILON * scale, `y[${k}] = ${y[k]} vs ${ref}`);
      }
      const yRef = y.slice();
      const uRef = new Float64Array(n);
      const gRef = new Float64Array(2 * n);
      e.energyAndGrad(yRef, n, uRef, gRef);
      assert.deepEqual(uy, uRef);
      assert.deepEqual(gy, gRef);
      e.langevinStep(x, g, xi, n, h, x, u, g); // in place
      assert.deepEqual(x, yRef);
      assert.deepEqual(u, uRef);
      assert.deepEqual(g, gRef);
    } finally {
      e.dispose();
    }
  });

  test("bit-identical run to run and across thread counts (1, 2, 3)", async () => {
    // The kernels split work by tile (U, ∇ₓU) and into a fixed number of float64 accumulators (∂θ) that
    // depend on n only, so the thread count changes who computes what, never how.
    const e = await createMlpEnergy(sp, keyFromSeed(11), { backend: "native" });
    const before = backendInfo().threads;
    try {
      for (const n of [1500, 4096 + 77]) {
        const { x, w } = data(12, n, 2);
        const runs: Outputs[] = [];
        for (const t of [2, 2, 1, 3]) {
          setThreads(t);
          runs.push(evaluate(e, x, n, w));
        }
        assert.deepEqual(runs[0], runs[1], "2 threads, twice");
        assert.deepEqual(runs[0], runs[2], "2 vs 1 threads");
        assert.deepEqual(runs[0], runs[3], "2 vs 3 threads");
      }
    } finally {
      setThreads(before);
      e.dispose();
    }
  });

  test("n = 0, bad arguments", async () => {
    const e = await createMlpEnergy(sp, keyFromSeed(13), { backend: "native" });
    try {
      const out = new Float64Array(e.numParams).fill(7);
      e.paramGrad(new Float64Array(0), 0, new Float64Array(0), out);
      assert.ok(out.every((v) => v === 0));
      e.energy(new Float64Array(0), 0, new Float64Array(0));
      assert.throws(() => e.energy(new Float64Array(3), 2, new Float64Array(2)), RangeError);
      assert.throws(
        () => e.energyAndGrad(new Float64Array(4), 2, new Float64Array(2), new Float64Array(3)),
        RangeError,
      );
      assert.throws(() => e.energy(new Float64Array(4), 1.5, new Float64Array(2)), RangeError);
      e.dispose();
      assert.throws(() => e.energy(new Float64Array(4), 2, new Float64Array(2)), /dispose/);
    } finally {
      e.dispose();
    }
  });
});
