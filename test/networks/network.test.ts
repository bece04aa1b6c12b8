/**
 * Vector-output networks on the selected backend (the suite runs once on native, once with
 * EBM_BACKEND=wasm) and on the portable TypeScript backend: layout and initialisation against a float64 reference, the vector–Jacobian products
 * with respect to inputs and parameters against float64 central differences of the float32 network, and
 * the scalar MLP energy as the one-output case (same θ from the same key, same values and gradients).
 *
 * Tolerances as test/energies/mlp.test.ts: float32 rounding δ ≈ 1e-6 per output, central step h = 5e-3,
 * so FD error ≲ δ/h + h²·|f‴|/6 ≈ 2e-4; tolerance 3e-4 + 1e-3·|FD|, while a wrong index or a missing term
 * is O(0.1).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createMlpEnergy } from "../../src/energies/mlp.ts";
import {
  createNetwork,
  NETWORK_FACTORY,
  initNetworkParams,
  type Network,
  type NetworkSpec,
  networkNumParams,
} from "../../src/networks/network.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";

const ACTS = ["silu", "softplus", "tanh", "elu"] as const;

function normals(seed: number, len: number): Float64Array {
  return new Stream(keyFromSeed(seed)).fillNormal(new Float64Array(len)) as Float64Array;
}

function act(name: NetworkSpec["activation"], z: number): number {
  switch (name) {
    case "silu":
      return z / (1 + Math.exp(-z));
    case "softplus":
      return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
    case "tanh":
      return Math.tanh(z);
    case "elu":
      return z > 0 ? z : Math.expm1(z);
  }
}

/** Float64 reference forward pass from the documented flat layout (W [in, out] row-major, then b). */
function reference(spec: NetworkSpec, theta: Float64Array, x: Float64Array): Float64Array {
  const widths = [spec.inputDim, ...spec.hidden, spec.outputDim];
  let h = Array.from(x);
  let off = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    const K = widths[l];
    const N = widths[l + 1];
    const z = new Array<number>(N).fill(0);
    for (let j = 0; j < N; j++) {
      let s = theta[off + K * N + j];
      for (let k = 0; k < K; k++) s += h[k] * theta[off + k * N + j];
      z[j] = s;
    }
    off += K * N + N;
    h = l + 2 < widths.length ? z.map((v) => act(spec.activation, v)) : z;
  }
  return Float64Array.from(h);
}

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (tol ${tol})`);
}

/** ⟨g, f(x)⟩ summed over rows: the scalar whose gradients vjp returns. */
function pairing(net: Network, x: Float64Array, n: number, g: Float64Array): number {
  const y = new Float64Array(n * net.outputDim);
  net.forward(x, n, y);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += g[i] * y[i];
  return s;
}

// The selected backend, and the portable TypeScript one on every pass (it is the fallback everywhere).
const BACKENDS = [...new Set([NETWORK_FACTORY.backend(), "typescript"])];

for (const backend of BACKENDS)
  describe(`vector-output network (${backend})`, () => {
    const opts = { backend };
    for (const activation of ACTS) {
      test(`${activation}: forward matches the float64 reference of the documented layout`, async () => {
        const spec: NetworkSpec = { inputDim: 3, hidden: [8, 6], outputDim: 4, activation };
        const net = await createNetwork(spec, keyFromSeed(1), opts);
        try {
          assert.equal(net.numParams, networkNumParams(spec));
          const theta = net.getParams();
          assert.deepEqual(theta, initNetworkParams(spec, keyFromSeed(1)));
          const n = 5;
          const x = normals(2, n * 3);
          const y = new Float64Array(n * 4);
          net.forward(x, n, y);
          for (let i = 0; i < n; i++) {
            const r = reference(spec, theta, x.subarray(i * 3, i * 3 + 3));
            for (let j = 0; j < 4; j++)
              close(y[i * 4 + j], r[j], 2e-5 * (1 + Math.abs(r[j])), `y[${i},${j}]`);
          }
        } finally {
          net.dispose();
        }
      });

      test(`${activation}: vjp with respect to x and θ matches central differences`, async () => {
        const spec: NetworkSpec = { inputDim: 3, hidden: [7, 5], outputDim: 2, activation };
        const net = await createNetwork(spec, keyFromSeed(3), opts);
        try {
          const n = 4;
          const x = normals(4, n * 3);
          const g = normals(5, n * 2);
          const y = new Float64Array(n * 2);
          const gx = new Float64Array(n * 3);
          const gp = new Float64Array(net.numParams).fill(Number.NaN);
          net.vjp(x, n, g, y, gx, gp);
          const yRef = new Float64Array(n * 2);
          net.forward(x, n, yRef);
          assert.deepEqual(y, yRef, "vjp's y equals forward's");
          const h = 5e-3;
          for (let q = 0; q < x.length; q++) {
            const xp = x.slice();
            const xm = x.slice();
            xp[q] += h;
            xm[q] -= h;
            const fd = (pairing(net, xp, n, g) - pairing(net, xm, n, g)) / (2 * h);
            close(gx[q], fd, 3e-4 + 1e-3 * Math.abs(fd), `∂x[${q}]`);
          }
          const theta = net.getParams();
          for (let q = 0; q < theta.length; q++) {
            const tp = theta.slice();
            tp[q] += h;
            net.setParams(tp);
            const fp = pairing(net, x, n, g);
            tp[q] -= 2 * h;
            net.setParams(tp);
            const fm = pairing(net, x, n, g);
            const fd = (fp - fm) / (2 * h);
            close(gp[q], fd, 3e-4 + 1e-3 * Math.abs(fd), `∂θ[${q}]`);
          }
          net.setParams(theta);
          // Null outputs are skipped; gradParams alone equals the full call's.
          const gp2 = new Float64Array(net.numParams);
          net.vjp(x, n, g, null, null, gp2);
          assert.deepEqual(gp2, gp);
          const gx2 = new Float64Array(n * 3);
          net.vjp(x, n, g, null, gx2, null);
          assert.deepEqual(gx2, gx);
        } finally {
          net.dispose();
        }
      });
    }

    test("many rows (several tiles): vjp's parameter gradient is the sum of per-row ones, deterministic", async () => {
      const spec: NetworkSpec = { inputDim: 2, hidden: [32, 32], outputDim: 3, activation: "silu" };
      const net = await createNetwork(spec, keyFromSeed(6), opts);
      try {
        const n = 1000;
        const x = normals(7, n * 2);
        const g = normals(8, n * 3);
        const all = new Float64Array(net.numParams);
        net.vjp(x, n, g, null, null, all);
        const again = new Float64Array(net.numParams);
        net.vjp(x, n, g, null, null, again);
        assert.deepEqual(again, all, "same inputs, same bits");
        const parts = new Float64Array(net.numParams);
        const one = new Float64Array(net.numParams);
        for (const [a, b] of [
          [0, 300],
          [300, 1000],
        ]) {
          net.vjp(x.subarray(a * 2, b * 2), b - a, g.subarray(a * 3, b * 3), null, null, one);
          for (let q = 0; q < one.length; q++) parts[q] += one[q];
        }
        for (let q = 0; q < all.length; q++)
          close(all[q], parts[q], 1e-4 * (1 + Math.abs(parts[q])), `θ[${q}]`);
      } finally {
        net.dispose();
      }
    });

    test("forwardThenVjp, where the backend has it, gives forward's outputs and vjp's gradients to the bit", async (t) => {
      for (const [spec, n] of [
        [{ inputDim: 2, hidden: [64, 48], outputDim: 2, activation: "silu" }, 600], // 3 tiles, narrow output
        [{ inputDim: 5, hidden: [40], outputDim: 12, activation: "tanh" }, 256], // 1 tile, wide output
      ] as [NetworkSpec, number][]) {
        const net = await createNetwork(spec, keyFromSeed(9), opts);
        try {
          if (!net.forwardThenVjp) {
            t.diagnostic(`${backend}: no forwardThenVjp (callers run forward, then vjp)`);
            return;
          }
          const x = normals(10, n * spec.inputDim);
          const g = normals(11, n * spec.outputDim);
          const y = new Float64Array(n * spec.outputDim);
          const gx = new Float64Array(n * spec.inputDim);
          const gp = new Float64Array(net.numParams);
          let seen: Float64Array | undefined;
          net.forwardThenVjp(x, n, y, (ys) => ((seen = ys.slice()), g), gx, gp);
          const y0 = new Float64Array(y.length);
          net.forward(x, n, y0);
          const gx0 = new Float64Array(gx.length);
          const gp0 = new Float64Array(gp.length);
          net.vjp(x, n, g, null, gx0, gp0);
          assert.deepEqual(seen, y0, "the cotangent function saw forward's outputs");
          assert.deepEqual(y, y0, "y");
          assert.deepEqual(gx, gx0, "gradX");
          assert.deepEqual(gp, gp0, "gradParams");
        } finally {
          net.dispose();
        }
      }
    });

    test("the MLP energy is the one-output network: same θ, U = f + ½c|x|², same gradients", async () => {
      const mlpSpec = { inputDim: 3, hidden: [9, 4], activation: "tanh" as const, confinement: 0.3 };
      const key = keyFromSeed(9);
      const e = await createMlpEnergy(mlpSpec, key, opts);
      const net = await createNetwork(
        { inputDim: 3, hidden: [9, 4], outputDim: 1, activation: "tanh" },
        key,
        opts,
      );
      try {
        assert.deepEqual(net.getParams(), e.getParams());
        const n = 6;
        const x = normals(10, n * 3);
        const u = new Float64Array(n);
        const gradU = new Float64Array(n * 3);
        e.energyAndGrad(x, n, u, gradU);
        const ones = new Float64Array(n).fill(1);
        const y = new Float64Array(n);
        const gx = new Float64Array(n * 3);
        net.vjp(x, n, ones, y, gx, null);
        for (let i = 0; i < n; i++) {
          let sq = 0;
          for (let k = 0; k < 3; k++) sq += x[i * 3 + k] ** 2;
          close(u[i], y[i] + 0.15 * sq, 1e-5 * (1 + Math.abs(u[i])), `U[${i}]`);
          for (let k = 0; k < 3; k++) {
            const q = i * 3 + k;
            close(gradU[q], gx[q] + 0.3 * x[q], 1e-5 * (1 + Math.abs(gradU[q])), `∇U[${q}]`);
          }
        }
        const w = normals(11, n);
        const pe = new Float64Array(e.numParams);
        e.paramGrad(x, n, w, pe);
        const pn = new Float64Array(net.numParams);
        net.vjp(x, n, w, null, null, pn);
        for (let q = 0; q < pe.length; q++) close(pn[q], pe[q], 1e-5 * (1 + Math.abs(pe[q])), `∂θ[${q}]`);
      } finally {
        e.dispose();
        net.dispose();
      }
    });

    test("malformed specs are refused naming the field", async () => {
      await assert.rejects(
        createNetwork({ inputDim: 2, hidden: [4], outputDim: 0, activation: "silu" }, keyFromSeed(0)),
        /outputDim/,
      );
      await assert.rejects(
        createNetwork({ inputDim: 2, hidden: [], outputDim: 2, activation: "silu" }, keyFromSeed(0)),
        /hidden/,
      );
    });
  });
