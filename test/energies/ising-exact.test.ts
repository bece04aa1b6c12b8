/**
 * The transfer-matrix log Z, moments and marginals of grid Ising models against brute-force enumeration
 * (random couplings of both signs and random fields, free and periodic boundaries, both orientations), the
 * closed forms of the 1-D chain and ring (including sizes whose Z overflows a double), the derivatives
 * of log Z in β on a grid too large to enumerate, and the refusals.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { EnumerableEnergy, writeState } from "../../src/energies/discrete.ts";
import { IsingEnergy } from "../../src/energies/ising.ts";
import {
  gridBonds,
  type IsingExact,
  type IsingGridBonds,
  isingFromBonds,
  isingGridExact,
} from "../../src/energies/ising-exact.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";

/** Every quantity of IsingExact by enumerating the 2^sites states. */
function bruteForce(energy: IsingEnergy, beta: number): Required<IsingExact> {
  const en = new EnumerableEnergy(energy);
  const d = energy.sites;
  const p = en.probabilities(beta);
  const x = new Uint8Array(d);
  let e1 = 0;
  let e2 = 0;
  let m1 = 0;
  let m2 = 0;
  for (let k = 0; k < en.numStates; k++) {
    writeState(k, d, x);
    let m = 0;
    for (let j = 0; j < d; j++) m += 2 * x[j] - 1;
    m /= d;
    const u = en.energies[k];
    e1 += p[k] * u;
    e2 += p[k] * u * u;
    m1 += p[k] * m;
    m2 += p[k] * m * m;
  }
  return {
    logZ: en.logZ(beta),
    meanEnergy: e1,
    energyVariance: e2 - e1 * e1,
    magnetization: m1,
    magnetizationSq: m2,
    marginals: en.marginals(beta),
  };
}

/** Grid bonds with J ~ N(jMean, jStd²) on every bond (wraps only when `periodic`) and h ~ N(0, hStd²). */
function randomBonds(
  seed: number,
  rows: number,
  cols: number,
  o: { jMean?: number; jStd?: number; hStd?: number; periodic?: boolean } = {},
): IsingGridBonds {
  const rng = new Stream(keyFromSeed(seed));
  const d = rows * cols;
  const horizontal = new Float64Array(d);
  const vertical = new Float64Array(d);
  const field = new Float64Array(d);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const k = r * cols + c;
      if (c + 1 < cols || (o.periodic && cols >= 2))
        horizontal[k] = (o.jMean ?? 0) + (o.jStd ?? 1) * rng.normal();
      if (r + 1 < rows || (o.periodic && rows >= 2))
        vertical[k] = (o.jMean ?? 0) + (o.jStd ?? 1) * rng.normal();
      field[k] = (o.hStd ?? 0.5) * rng.normal();
    }
  return { rows, cols, horizontal, vertical, field };
}

function assertMatches(got: IsingExact, want: Required<IsingExact>, tol: number, what: string): void {
  for (const key of ["logZ", "meanEnergy", "energyVariance", "magnetization", "magnetizationSq"] as const)
    assert.ok(
      Math.abs(got[key] - want[key]) <= tol * Math.max(1, Math.abs(want[key])),
      `${what}: ${key} ${got[key]} vs enumeration ${want[key]}`,
    );
  if (got.marginals)
    for (let i = 0; i < want.marginals.length; i++)
      assert.ok(
        Math.abs(got.marginals[i] - want.marginals[i]) <= tol,
        `${what}: marginal ${i} ${got.marginals[i]} vs ${want.marginals[i]}`,
      );
}

describe("transfer matrix against enumeration (1e-10)", () => {
  const cases: [string, IsingGridBonds, number][] = [
    ["3×3 spin glass, β = 1", randomBonds(1, 3, 3), 1],
    ["2×5 ferromagnet with fields, β = 0.8", randomBonds(2, 2, 5, { jMean: 0.6, jStd: 0.3 }), 0.8],
    ["5×2 (transposed orientation), β = 1.3", randomBonds(3, 5, 2, { jStd: 0.8, hStd: 1 }), 1.3],
    ["4×4 spin glass, β = 0.9", randomBonds(4, 4, 4), 0.9],
    ["3×5 torus, random couplings", randomBonds(5, 3, 5, { periodic: true }), 1],
    ["4×4 torus ferromagnet, β = 0.45", randomBonds(6, 4, 4, { jMean: 1, jStd: 0.2, periodic: true }), 0.45],
    ["1×12 chain with fields", randomBonds(7, 1, 12, { jStd: 1.5 }), 1],
    ["2×2 with doubled wrap bonds", randomBonds(8, 2, 2, { periodic: true }), 1],
  ];
  for (const [name, bonds, beta] of cases)
    test(name, () => {
      const exact = isingGridExact(bonds, { beta, marginals: true });
      assertMatches(exact, bruteForce(isingFromBonds(bonds), beta), 1e-10, name);
    });

  test("a periodic grid built by IsingEnergy.grid: bonds read back, same answers", () => {
    const energy = IsingEnergy.grid(3, 4, 0.7, -0.2, { periodic: true });
    const bonds = gridBonds(energy, 3, 4);
    assert.deepEqual(isingFromBonds(bonds).couplings, energy.couplings);
    assertMatches(
      isingGridExact(bonds, { beta: 0.6, marginals: true }),
      bruteForce(energy, 0.6),
      1e-10,
      "3×4 torus",
    );
  });
});

describe("closed forms of the chain and the ring", () => {
  test("free chain, h = 0: log Z = log 2 + (n−1) log(2 cosh βJ), E[U], Var U, E[m²]", () => {
    for (const [n, J, beta] of [
      [20, 0.8, 1],
      [300, 5, 1.5], // Z ≈ e^{2240}: only log-space survives
    ]) {
      const ex = isingGridExact(gridBonds(IsingEnergy.grid(1, n, J), 1, n), { beta });
      const t = Math.tanh(beta * J);
      const logZ = Math.log(2) + (n - 1) * (beta * J + Math.log1p(Math.exp(-2 * beta * J)));
      let m2 = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m2 += t ** Math.abs(i - j);
      const close = (a: number, b: number, what: string) =>
        assert.ok(Math.abs(a - b) <= 1e-11 * Math.max(1, Math.abs(b)), `n = ${n}: ${what} ${a} vs ${b}`);
      close(ex.logZ, logZ, "log Z");
      close(ex.meanEnergy, -(n - 1) * J * t, "E[U]");
      close(ex.energyVariance, (n - 1) * J * J * (1 - t * t), "Var U");
      close(ex.magnetizationSq, m2 / (n * n), "E[m²]");
      close(ex.magnetization, 0, "E[m]");
    }
  });

  test("ring with a field: log Z = log(λ₊ⁿ + λ₋ⁿ), periodic path with a fixed first spin", () => {
    for (const [n, J, h, beta] of [
      [9, 0.7, 0.3, 1],
      [400, 1.2, -0.4, 2], // log Z ≈ 1150
    ]) {
      const bonds: IsingGridBonds = {
        rows: 1,
        cols: n,
        horizontal: new Float64Array(n).fill(J),
        vertical: new Float64Array(n),
        field: new Float64Array(n).fill(h),
      };
      const ex = isingGridExact(bonds, { beta });
      // λ± = e^{βJ}(cosh βh ± √(sinh² βh + e^{−4βJ})); log(λ₊ⁿ + λ₋ⁿ) = n log λ₊ + log1p((λ₋/λ₊)ⁿ).
      const root = Math.sqrt(Math.sinh(beta * h) ** 2 + Math.exp(-4 * beta * J));
      const lp = beta * J + Math.log(Math.cosh(beta * h) + root);
      const ratio = (Math.cosh(beta * h) - root) / (Math.cosh(beta * h) + root);
      const logZ = n * lp + Math.log1p(ratio ** n);
      assert.ok(Math.abs(ex.logZ - logZ) <= 1e-12 * Math.abs(logZ), `n = ${n}: ${ex.logZ} vs ${logZ}`);
    }
  });
});

describe("larger grids", () => {
  test("10×10 ferromagnet with a field: E[U] = −∂ log Z/∂β and Var U = ∂² log Z/∂β² (finite differences)", () => {
    const bonds = randomBonds(9, 10, 10, { jMean: 0.5, jStd: 0.1, hStd: 0.1 });
    const beta = 0.8;
    const eps = 1e-4;
    const lz = (b: number) => isingGridExact(bonds, { beta: b }).logZ;
    const ex = isingGridExact(bonds, { beta });
    const [lp, l0, lm] = [lz(beta + eps), ex.logZ, lz(beta - eps)];
    const d1 = (lp - lm) / (2 * eps);
    const d2 = (lp - 2 * l0 + lm) / (eps * eps);
    assert.ok(Math.abs(ex.meanEnergy + d1) < 1e-6 * Math.abs(d1), `E[U] ${ex.meanEnergy} vs ${-d1}`);
    assert.ok(Math.abs(ex.energyVariance - d2) < 1e-3 * d2, `Var U ${ex.energyVariance} vs ${d2}`);
  });

  test("14 wide is accepted either way round; wider grids and non-grid couplings are refused", () => {
    const wide = isingGridExact(randomBonds(10, 14, 30, { jMean: 0.4 }), { beta: 1 });
    assert.ok(Number.isFinite(wide.logZ));
    assert.throws(() => isingGridExact(randomBonds(11, 15, 15)), /narrower side .* at most 14/);
    assert.throws(
      () => isingGridExact(randomBonds(12, 11, 11, { periodic: true })),
      /11×11 grid .*\(10 when the boundary along the other side is periodic\)/,
    );
    const j = new Float64Array(16);
    j[0 * 4 + 3] = j[3 * 4 + 0] = 1; // sites 0 and 3 of a 2×2 grid are diagonal neighbours
    assert.throws(() => gridBonds(new IsingEnergy(j, new Float64Array(4)), 2, 2), /coupling \(0, 3\)/);
    assert.throws(() => isingGridExact(randomBonds(13, 3, 3), { beta: 0 }), /beta/);
  });
});
