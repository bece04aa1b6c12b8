/**
 * Discrete energies: flipDelta against energy differences, relaxed gradients against finite differences
 * of the documented relaxations, RBM free energy and conditional fields against the joint energy by
 * enumeration, exact log Z and marginals against brute-force sums, Ising grid structure.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  conditionalProbabilities,
  type DiscreteEnergy,
  EnumerableEnergy,
  type RelaxedGradient,
  softplus,
  stateIndex,
  writeState,
} from "../../src/energies/discrete.ts";
import { IsingEnergy } from "../../src/energies/ising.ts";
import { Rbm } from "../../src/energies/rbm.ts";
import { keyFromSeed } from "../../src/random/key.ts";
import { exactLogZ } from "../../src/rbm/ais.ts";
import { assertClose, centralDiff } from "../helpers.ts";

/** All 2^d states of d sites, in index order. */
function allStates(d: number): Uint8Array {
  const m = 2 ** d;
  const x = new Uint8Array(m * d);
  for (let k = 0; k < m; k++) writeState(k, d, x, k * d);
  return x;
}

/** Brute-force log Σ e^{−βU} over a table of energies (no shared code with EnumerableEnergy). */
function bruteLogZ(u: Float64Array, beta: number): number {
  let min = Number.POSITIVE_INFINITY;
  for (const e of u) min = Math.min(min, e);
  let s = 0;
  for (const e of u) s += Math.exp(-beta * (e - min));
  return -beta * min + Math.log(s);
}

// Relaxations written from the documented formulas, evaluated at real x.
function isingRelaxed(e: IsingEnergy, x: Float64Array): number {
  const d = e.sites;
  let u = 0;
  for (let i = 0; i < d; i++) {
    const si = 2 * x[i] - 1;
    u -= e.field[i] * si;
    for (let j = 0; j < d; j++) u -= 0.5 * e.couplings[i * d + j] * si * (2 * x[j] - 1);
  }
  return u;
}

function rbmFreeRelaxed(r: Rbm, v: Float64Array): number {
  let f = 0;
  for (let i = 0; i < r.visible; i++) f -= r.b[i] * v[i];
  for (let j = 0; j < r.hidden; j++) {
    let a = r.c[j];
    for (let i = 0; i < r.visible; i++) a += v[i] * r.W[i * r.hidden + j];
    f -= softplus(a);
  }
  return f;
}

function rbmJointRelaxed(r: Rbm, x: Float64Array): number {
  const V = r.visible;
  let e = 0;
  for (let i = 0; i < V; i++) e -= r.b[i] * x[i];
  for (let j = 0; j < r.hidden; j++) {
    e -= r.c[j] * x[V + j];
    for (let i = 0; i < V; i++) e -= x[i] * r.W[i * r.hidden + j] * x[V + j];
  }
  return e;
}

const ising8 = IsingEnergy.random(keyFromSeed(101), 8, 0.7, 0.5);
const grid33 = IsingEnergy.grid(3, 3, 0.4, 0.15);
const rbm = Rbm.random(keyFromSeed(102), 7, 4, 0.8, 0.5);
const rbmWide = Rbm.random(keyFromSeed(103), 4, 6, 0.8, 0.5);

const cases: [string, DiscreteEnergy & RelaxedGradient, (x: Float64Array) => number][] = [
  ["random Ising (8)", ising8, (x) => isingRelaxed(ising8, x)],
  ["3×3 grid Ising", grid33, (x) => isingRelaxed(grid33, x)],
  ["RBM free energy (7×4)", rbm, (x) => rbmFreeRelaxed(rbm, x)],
  ["RBM joint (7+4)", rbm.joint(), (x) => rbmJointRelaxed(rbm, x)],
];

describe("flipDelta and relaxed gradients", () => {
  for (const [name, e, relaxed] of cases) {
    test(`${name}: flipDelta = U(x') − U(x) for every state and site (batched and per-chain sites)`, () => {
      const d = e.sites;
      const m = 2 ** d;
      const x = allStates(d);
      const u = new Float64Array(m);
      e.energy(x, m, u);
      const delta = new Float64Array(m);
      let maxErr = 0;
      for (let j = 0; j < d; j++) {
        e.flipDelta(x, m, j, delta);
        for (let k = 0; k < m; k++) maxErr = Math.max(maxErr, Math.abs(delta[k] - (u[k ^ (1 << j)] - u[k])));
      }
      // Per-chain sites: state k flips site k mod d.
      const sites = new Int32Array(m);
      for (let k = 0; k < m; k++) sites[k] = k % d;
      e.flipDelta(x, m, sites, delta);
      for (let k = 0; k < m; k++)
        maxErr = Math.max(maxErr, Math.abs(delta[k] - (u[k ^ (1 << (k % d))] - u[k])));
      // |U| ≲ 20 here: the two routes differ by rounding only.
      assert.ok(maxErr < 1e-12, `max |flipDelta − ΔU| = ${maxErr}`);
    });

    test(`${name}: energy of the gradient pass = energy(); relaxed gradient = finite differences of Ũ`, () => {
      const d = e.sites;
      const n = 40;
      const x = allStates(d).subarray(0, 2 ** d * d);
      // 40 states spread over the index range.
      const pick = new Uint8Array(n * d);
      for (let i = 0; i < n; i++)
        pick.set(x.subarray(((i * 37) % 2 ** d) * d, ((i * 37) % 2 ** d) * d + d), i * d);
      const u = new Float64Array(n);
      const u2 = new Float64Array(n);
      const g = new Float64Array(n * d);
      e.energy(pick, n, u);
      e.energyAndRelaxedGrad(pick, n, u2, g);
      for (let i = 0; i < n; i++) {
        assert.equal(u2[i], u[i]);
        const xr = Float64Array.from(pick.subarray(i * d, (i + 1) * d));
        // The relaxation agrees with U on binary points.
        assertClose(relaxed(xr), u[i], 1e-12, 1e-13, `Ũ(x) vs U(x), state ${i}`);
        for (let j = 0; j < d; j++) {
          // Central difference, h = 1e-4: truncation h²/6·|Ũ'''| ≤ 1e-8·Σ|W|³ ≲ 1e-7 (0 for the
          // multilinear energies), rounding ≈ 1e-16·|Ũ|/h ≈ 1e-11.
          const fd = centralDiff(() => relaxed(xr), xr, j, 1e-4);
          assertClose(g[i * d + j], fd, 1e-6, 0, `∂Ũ/∂x_${j}, state ${i}`);
        }
      }
    });
  }

  test("multilinear relaxations (Ising, RBM joint) give exact flip changes: (1 − 2x_j)∂Ũ/∂x_j = Δ_j", () => {
    for (const e of [ising8, rbm.joint()]) {
      const d = e.sites;
      const m = 2 ** d;
      const x = allStates(d);
      const u = new Float64Array(m);
      const g = new Float64Array(m * d);
      e.energyAndRelaxedGrad(x, m, u, g);
      const delta = new Float64Array(m);
      let maxErr = 0;
      for (let j = 0; j < d; j++) {
        e.flipDelta(x, m, j, delta);
        for (let k = 0; k < m; k++)
          maxErr = Math.max(maxErr, Math.abs((1 - 2 * x[k * d + j]) * g[k * d + j] - delta[k]));
      }
      assert.ok(maxErr < 1e-12, `max error ${maxErr}`);
    }
  });
});

describe("RBM", () => {
  for (const r of [rbm, rbmWide]) {
    const V = r.visible;
    const H = r.hidden;
    test(`${V}×${H}: free energy F(v) = −log Σ_h e^{−E(v,h)} and joint energy = −bᵀv − cᵀh − vᵀWh`, () => {
      const vs = allStates(V);
      const hs = allStates(H);
      const F = new Float64Array(2 ** V);
      r.energy(vs, 2 ** V, F);
      const e = new Float64Array(1);
      const xr = new Float64Array(V + H);
      for (let kv = 0; kv < 2 ** V; kv++) {
        const v = vs.subarray(kv * V, (kv + 1) * V);
        const terms = new Float64Array(2 ** H);
        for (let kh = 0; kh < 2 ** H; kh++) {
          const h = hs.subarray(kh * H, (kh + 1) * H);
          r.jointEnergy(v, h, 1, e);
          xr.set(v);
          xr.set(h, V);
          assertClose(e[0], rbmJointRelaxed(r, xr), 1e-12, 1e-13, "E(v,h)");
          terms[kh] = e[0];
        }
        assertClose(F[kv], -bruteLogZ(terms, 1), 1e-12, 1e-13, `F(v), v = ${kv}`);
      }
    });

    test(`${V}×${H}: fields are the energy differences of the conditionals`, () => {
      const n = 2 ** V;
      const vs = allStates(V);
      const hf = new Float64Array(n * H);
      r.hiddenField(vs, n, hf);
      const hs = allStates(H);
      const vf = new Float64Array(2 ** H * V);
      r.visibleField(hs, 2 ** H, vf);
      const e0 = new Float64Array(1);
      const e1 = new Float64Array(1);
      const h = new Uint8Array(H);
      const v = new Uint8Array(V);
      for (let kv = 0; kv < n; kv += 3) {
        for (let kh = 0; kh < 2 ** H; kh += 5) {
          writeState(kh, H, h);
          writeState(kv, V, v);
          for (let j = 0; j < H; j++) {
            const hj = h[j];
            h[j] = 0;
            r.jointEnergy(v, h, 1, e0);
            h[j] = 1;
            r.jointEnergy(v, h, 1, e1);
            h[j] = hj;
            assertClose(hf[kv * H + j], e0[0] - e1[0], 1e-12, 0, "hidden field");
          }
          for (let i = 0; i < V; i++) {
            const vi = v[i];
            v[i] = 0;
            r.jointEnergy(v, h, 1, e0);
            v[i] = 1;
            r.jointEnergy(v, h, 1, e1);
            v[i] = vi;
            assertClose(vf[kh * V + i], e0[0] - e1[0], 1e-12, 0, "visible field");
          }
        }
      }
    });

    test(`${V}×${H}: exact log Z (over the smaller layer) = brute-force Σ_{v,h} e^{−βE}, several β`, () => {
      const joint = r.joint();
      const m = 2 ** (V + H);
      const u = new Float64Array(m);
      joint.energy(allStates(V + H), m, u);
      const enumJoint = new EnumerableEnergy(joint);
      for (const beta of [1, 0.5, 2.3]) {
        const brute = bruteLogZ(u, beta);
        assertClose(exactLogZ(r, { beta }), brute, 1e-12, 1e-13, `RBM exactLogZ(β=${beta})`);
        assertClose(enumJoint.logZ(beta), brute, 1e-12, 1e-13, `EnumerableEnergy joint logZ(β=${beta})`);
      }
      // At β = 1 the visible marginal integrates to the same Z: Σ_v e^{−F(v)}.
      assertClose(new EnumerableEnergy(r).logZ(), exactLogZ(r), 1e-12, 1e-13, "Σ_v e^{−F}");
    });
  }

  test("relaxed gradient of F equals −b − W σ(c + vᵀW) at random binary points", () => {
    // An explicit formula check (the finite-difference test above checks the same gradient numerically).
    const v = Uint8Array.of(1, 0, 1, 1, 0, 0, 1);
    const u = new Float64Array(1);
    const g = new Float64Array(rbm.visible);
    rbm.energyAndRelaxedGrad(v, 1, u, g);
    for (let i = 0; i < rbm.visible; i++) {
      let want = -rbm.b[i];
      for (let j = 0; j < rbm.hidden; j++) {
        let a = rbm.c[j];
        for (let k = 0; k < rbm.visible; k++) a += v[k] * rbm.W[k * rbm.hidden + j];
        want -= rbm.W[i * rbm.hidden + j] / (1 + Math.exp(-a));
      }
      assertClose(g[i], want, 1e-13, 1e-13, `grad ${i}`);
    }
  });
});

describe("enumeration", () => {
  test("EnumerableEnergy: log Z, probabilities and marginals equal brute-force sums", () => {
    const en = new EnumerableEnergy(ising8);
    const m = 256;
    const x = allStates(8);
    const u = new Float64Array(m);
    ising8.energy(x, m, u);
    assert.deepEqual(en.energies, u);
    for (const beta of [1, 0.3, 3]) {
      const lz = bruteLogZ(u, beta);
      assertClose(en.logZ(beta), lz, 1e-12, 1e-13, "logZ");
      const p = en.probabilities(beta);
      const marg = en.marginals(beta);
      let total = 0;
      for (let k = 0; k < m; k++) {
        assertClose(p[k], Math.exp(-beta * u[k] - lz), 1e-15, 1e-12, "π_k");
        total += p[k];
      }
      assertClose(total, 1, 1e-13, 0, "Σπ");
      for (let j = 0; j < 8; j++) {
        let s = 0;
        for (let k = 0; k < m; k++) if (x[k * 8 + j] === 1) s += Math.exp(-beta * u[k] - lz);
        assertClose(marg[j], s, 1e-14, 1e-12, `marginal ${j}`);
      }
    }
  });

  test("conditional probabilities P_β(x_j = 1 | rest) = π_β(x|x_j=1) / (π_β(x|x_j=0) + π_β(x|x_j=1))", () => {
    const en = new EnumerableEnergy(rbm);
    const d = rbm.sites;
    const m = 2 ** d;
    const x = allStates(d);
    const out = new Float64Array(m);
    for (const beta of [1, 0.4]) {
      const p = en.probabilities(beta);
      for (let j = 0; j < d; j++) {
        conditionalProbabilities(rbm, x, m, j, beta, out);
        for (let k = 0; k < m; k++) {
          const p1 = p[k | (1 << j)];
          const p0 = p[k & ~(1 << j)];
          assertClose(out[k], p1 / (p0 + p1), 1e-15, 1e-12, `P(x_${j} = 1 | state ${k})`);
        }
      }
    }
  });

  test("state indices: site j is bit j; writeState and stateIndex are inverse", () => {
    const x = new Uint8Array(11);
    for (const k of [0, 1, 2, 5, 1023, 2047, 1234]) {
      writeState(k, 11, x);
      for (let j = 0; j < 11; j++) assert.equal(x[j], (k >> j) & 1);
      assert.equal(stateIndex(x, 11), k);
    }
    assert.throws(() => new EnumerableEnergy(IsingEnergy.grid(3, 7, 1)), /sites ≤ 20/);
  });
});

describe("Ising construction", () => {
  const bonds = (e: IsingEnergy) => {
    let b = 0;
    for (const v of e.couplings) if (v !== 0) b++;
    return b / 2;
  };

  test("grids: free boundary has 2rc − r − c bonds, periodic 2rc with every site of degree 4", () => {
    assert.equal(bonds(IsingEnergy.grid(3, 3, 1)), 12);
    assert.equal(bonds(IsingEnergy.grid(2, 5, 1)), 13);
    const torus = IsingEnergy.grid(4, 5, 0.3, -0.2, { periodic: true });
    assert.equal(bonds(torus), 40);
    for (let i = 0; i < 20; i++) {
      let deg = 0;
      for (let j = 0; j < 20; j++) if (torus.couplings[i * 20 + j] !== 0) deg++;
      assert.equal(deg, 4);
      assert.equal(torus.field[i], -0.2);
    }
    assert.throws(() => IsingEnergy.grid(2, 5, 1, 0, { periodic: true }), /rows, cols ≥ 3/);
  });

  test("U(s) = −Σ_{i<j} J_ij s_i s_j − Σ h_i s_i on the all-up and a checkerboard state of a grid", () => {
    const e = IsingEnergy.grid(3, 3, 0.4, 0.15);
    const u = new Float64Array(2);
    const x = new Uint8Array(18);
    x.fill(1, 0, 9);
    for (let k = 0; k < 9; k++) x[9 + k] = (Math.floor(k / 3) + (k % 3)) % 2;
    e.energy(x, 2, u);
    assertClose(u[0], -12 * 0.4 - 9 * 0.15, 1e-14, 0, "all up");
    // Checkerboard: every bond is anti-aligned; 4 up spins (odd parity sites), 5 down.
    assertClose(u[1], 12 * 0.4 - (4 - 5) * 0.15, 1e-14, 0, "checkerboard");
  });

  test("invalid couplings are rejected", () => {
    assert.throws(() => new IsingEnergy([0, 1, 2, 0], [0, 0]), /not symmetric/);
    assert.throws(() => new IsingEnergy([1, 0, 0, 0], [0, 0]), /diagonal/);
    assert.throws(() => new IsingEnergy([0, 1, 1], [0, 0]), /2×2/);
  });
});
