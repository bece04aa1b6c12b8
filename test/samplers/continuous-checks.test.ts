/**
 * Continuous kernels, the finer points: MALA removes ULA's bias (negative control), β tempers, the MH
 * ratio of MALA equals a direct computation with the Gaussian proposal densities, kinetic Langevin's
 * O(h²) bias has its documented size and metropolizing removes it, leapfrog is reversible and keeps its
 * shadow energy, divergent proposals are rejected and flagged, and the same key gives the same chains.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Energy } from "../../src/energies/contract.ts";
import { GaussianEnergy } from "../../src/energies/gaussian.ts";
import { MixtureEnergy } from "../../src/energies/mixture.ts";
import { foldIn, keyFromSeed, normal } from "../../src/random/key.ts";
import { hmc } from "../../src/samplers/hmc.ts";
import { kineticEnergy, leapfrog } from "../../src/samplers/integrators.ts";
import { kineticLangevin } from "../../src/samplers/kinetic.ts";
import { mala, malaLogRatio, malaLogRatios } from "../../src/samplers/mala.ts";
import { rwm } from "../../src/samplers/rwm.ts";
import type { ChainState, KernelParams, MhInfo, Sampler, StepInfo } from "../../src/samplers/types.ts";
import { ula } from "../../src/samplers/ula.ts";
import { runChains } from "./run-chains.ts";

/** Mean of x² over a 1-D batch (the variance, the mean being known to be 0). */
function secondMoment(x: Float64Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return s / x.length;
}

// The 1-D runs use 20 000 chains: the sample variance of n iid N(0, v) draws has SE v·√(2/n) = 1% of v.
const N1 = 20000;

describe("bias and tempering on N(0, σ²)", () => {
  test("MALA removes ULA's bias: at h = 0.2 MALA's variance is σ², ULA's σ²/(1 − h/(2σ²))", (t) => {
    const h = 0.2;
    const e = GaussianEnergy.isotropic([0], 1);
    // Both start at 0. ULA is the AR(1) x' = (1 − h)x + √(2h)ξ: after 100 steps the variance is within
    // (1 − h)^{200} ≈ 4e-20 of stationary. MALA moves like it when it accepts (acceptance ≈ 0.98 here), so
    // 100 steps are as many relaxation times.
    const u = ula(e);
    const us = u.init(new Float64Array(N1), N1);
    runChains(u, us, 100, keyFromSeed(21), { step: h });
    const m = mala(e);
    const ms = m.init(new Float64Array(N1), N1);
    const { accept } = runChains(m, ms, 100, keyFromSeed(22), { step: h });
    const vUla = secondMoment(us.position);
    const vMala = secondMoment(ms.position);
    const predicted = 1 / (1 - h / 2);
    const se = (v: number) => v * Math.sqrt(2 / N1);
    t.diagnostic(`MALA acceptance ${accept.toFixed(3)}; variances: MALA ${vMala}, ULA ${vUla}`);
    assert.ok(Math.abs(vMala - 1) < 5 * se(1), `MALA variance ${vMala}, expected 1 ± ${se(1)}`);
    assert.ok(Math.abs(vUla - predicted) < 5 * se(predicted), `ULA variance ${vUla}, predicted ${predicted}`);
    // The ULA bias (0.111) is 10 SE: the same check that passes MALA fails ULA.
    assert.ok(Math.abs(vUla - 1) > 5 * se(1), `ULA bias not visible: ${vUla}`);
  });

  test("β = 4: MALA, HMC and RWM on N(0, 1) have variance 1/4", (t) => {
    const beta = 4;
    const e = GaussianEnergy.isotropic([0], 1);
    const se = 0.25 * Math.sqrt(2 / N1);
    // Start at the untempered N(0, 1), four times too wide. MALA with hβ = 0.2 relaxes like the AR(1)
    // above (100 steps); HMC with a path of ~1 (half the period π/√β is 1.57) forgets the start within a
    // few transitions (|cos(√β·path)|² ≤ 0.2 per step), so 30 are ample. RWM with step 1: the excess
    // variance (0.75 at the start) shrinks ~7-fold per 5 steps (measured), so 60 steps leave nothing.
    const x0 = normal(keyFromSeed(30), new Float64Array(N1));
    const m = mala(e, { beta });
    const ms = m.init(x0, N1);
    const ma = runChains(m, ms, 100, keyFromSeed(31), { step: 0.05 });
    const hm = hmc(e, { jitter: 0.5, beta });
    const hs = hm.init(x0, N1);
    const ha = runChains(hm, hs, 30, keyFromSeed(32), { step: 0.2, numSteps: 5 });
    const r = rwm(e, { beta });
    const rs = r.init(x0, N1);
    const ra = runChains(r, rs, 60, keyFromSeed(33), { step: 1 });
    const vm = secondMoment(ms.position);
    const vh = secondMoment(hs.position);
    const vr = secondMoment(rs.position);
    t.diagnostic(
      `acceptance MALA ${ma.accept.toFixed(3)}, HMC ${ha.accept.toFixed(3)}, RWM ${ra.accept.toFixed(3)}; ` +
        `variances ${vm}, ${vh}, ${vr}`,
    );
    assert.ok(Math.abs(vm - 0.25) < 5 * se, `MALA variance ${vm}, expected 0.25 ± ${se}`);
    assert.ok(Math.abs(vh - 0.25) < 5 * se, `HMC variance ${vh}, expected 0.25 ± ${se}`);
    assert.ok(Math.abs(vr - 0.25) < 5 * se, `RWM variance ${vr}, expected 0.25 ± ${se}`);
  });

  test("kinetic Langevin: unmetropolized variance s²/(1 − h²/(4s²)) with its β and mass, metropolized s²", (t) => {
    // N(0, 1) at β = 2 with M⁻¹ = 0.5: s² = 1/β = 0.5, and the stationary variance (βP − h²β²P M⁻¹P/4)⁻¹
    // = 1/(2 − 0.49·4·0.5/4) = 0.5698 at h = 0.7: +14%, 14 SE. Here ω² = βM⁻¹/σ² = 1 > (γ/2)², so the
    // dynamics is underdamped and the variance relaxes at rate ≈ γ = 1 per unit time: 60 steps are 42
    // time units, e^{−42}. Start: exact N(0, 1/β) positions and N(0, M) momenta (the unbiased law).
    const h = 0.7;
    const beta = 2;
    const inverseMass = Float64Array.of(0.5);
    const e = GaussianEnergy.isotropic([0], 1);
    const x0 = normal(keyFromSeed(40), new Float64Array(N1)).map((v) => v / Math.sqrt(beta));
    const p0 = normal(keyFromSeed(41), new Float64Array(N1)).map((v) => v / Math.sqrt(0.5));
    const plain = kineticLangevin(e, { beta });
    const ps = plain.init(x0, N1, p0);
    runChains(plain, ps, 60, keyFromSeed(42), { step: h, inverseMass });
    const exact = kineticLangevin(e, { beta, metropolize: true });
    const es = exact.init(x0, N1, p0);
    const { accept } = runChains(exact, es, 60, keyFromSeed(43), { step: h, inverseMass });
    const predicted = 1 / (beta - (h * h * beta * beta * 0.5) / 4);
    const vp = secondMoment(ps.position);
    const ve = secondMoment(es.position);
    const se = (v: number) => v * Math.sqrt(2 / N1);
    t.diagnostic(
      `unmetropolized ${vp} (predicted ${predicted}); metropolized ${ve}, acceptance ${accept.toFixed(3)}`,
    );
    assert.ok(
      Math.abs(vp - predicted) < 5 * se(predicted),
      `unmetropolized variance ${vp}, predicted ${predicted}`,
    );
    assert.ok(Math.abs(vp - 0.5) > 5 * se(0.5), `bias not visible: ${vp}`);
    assert.ok(Math.abs(ve - 0.5) < 5 * se(0.5), `metropolized variance ${ve}, expected 0.5 ± ${se(0.5)}`);
  });
});

describe("HMC path lengths", () => {
  test("a fixed path of half a period only mirrors the chains; the default jitter mixes them", (t) => {
    // On U = x²/2 one leapfrog step of size ε is a rotation by θ (cos θ = 1 − ε²/2) in suitably scaled
    // phase-space coordinates, so L steps with Lθ = π map (q, p) to (−q, −p) exactly: ΔH = 0, every
    // proposal is accepted and x² never changes, whatever the momentum. With the default jitter each chain
    // takes k ~ U{1..L} steps, a rotation by kπ/L with E[cos²] = ½ over k, so the excess of E[x²] over 1
    // roughly halves per transition (≈ 3·2^{−30} after 30 transitions, far below the SE √(2/N)).
    const e = GaussianEnergy.isotropic([0], 1);
    const L = 10;
    const params = { step: 2 * Math.sin(Math.PI / (2 * L)), numSteps: L };
    const x0 = new Float64Array(N1).fill(2);
    const fixed = hmc(e, { jitter: 0 });
    const fs = fixed.init(x0, N1);
    const fa = runChains(fixed, fs, 30, keyFromSeed(90), params);
    const jittered = hmc(e);
    const js = jittered.init(x0, N1);
    const ja = runChains(jittered, js, 30, keyFromSeed(91), params);
    const vFixed = secondMoment(fs.position);
    const vJitter = secondMoment(js.position);
    t.diagnostic(`E[x²]: fixed ${vFixed} (acceptance ${fa.accept}), jittered ${vJitter} (${ja.accept})`);
    assert.ok(Math.abs(vFixed - 4) < 1e-9, `fixed path: E[x²] = ${vFixed}, the chains moved`);
    const se = Math.sqrt(2 / N1);
    assert.ok(Math.abs(vJitter - 1) < 5 * se, `jittered: E[x²] = ${vJitter}, expected 1 ± ${se}`);
  });
});

describe("MALA's Metropolis–Hastings ratio", () => {
  // A non-quadratic target (∇U is not linear) at β ≠ 1 so no term can hide.
  const mix = new MixtureEnergy({
    means: [
      [-1, 0.5],
      [1.5, -1],
    ],
    stds: [1, 0.7],
    offsets: [0.4],
  });
  const beta = 1.5;
  const h = 0.3;

  /** log N(z; mean, diag(variance)), every constant included. */
  function logNormal(z: number[], mean: number[], variance: number[]): number {
    let s = 0;
    for (let j = 0; j < z.length; j++)
      s += -0.5 * Math.log(2 * Math.PI * variance[j]) - (z[j] - mean[j]) ** 2 / (2 * variance[j]);
    return s;
  }

  /** log[ρ(y) q(x|y) / (ρ(x) q(y|x))] straight from the definitions, q(b|a) = N(b; a − hβA∇U(a), 2hA). */
  function direct(x: number[], y: number[], a: number[]): number {
    const ux = new Float64Array(1);
    const uy = new Float64Array(1);
    const gx = new Float64Array(2);
    const gy = new Float64Array(2);
    mix.energyAndGrad(Float64Array.from(x), 1, ux, gx);
    mix.energyAndGrad(Float64Array.from(y), 1, uy, gy);
    const variance = a.map((aj) => 2 * h * aj);
    const meanFromX = x.map((xj, j) => xj - h * beta * a[j] * gx[j]);
    const meanFromY = y.map((yj, j) => yj - h * beta * a[j] * gy[j]);
    return (
      -beta * uy[0] + beta * ux[0] + logNormal(x, meanFromY, variance) - logNormal(y, meanFromX, variance)
    );
  }

  test("malaLogRatio equals the direct computation on hand points", () => {
    const cases: [number[], number[], number[] | undefined][] = [
      [[0.3, -0.2], [0.9, 0.4], undefined],
      [[-1.7, 1.1], [-0.4, 0.2], undefined],
      [
        [0.3, -0.2],
        [0.9, 0.4],
        [0.5, 2],
      ],
      [
        [2.2, -1.3],
        [1.0, -0.1],
        [3, 0.25],
      ],
    ];
    for (const [x, y, a] of cases) {
      const xs = Float64Array.from(x);
      const ys = Float64Array.from(y);
      const ux = new Float64Array(1);
      const uy = new Float64Array(1);
      const gx = new Float64Array(2);
      const gy = new Float64Array(2);
      mix.energyAndGrad(xs, 1, ux, gx);
      mix.energyAndGrad(ys, 1, uy, gy);
      const inv = a ? Float64Array.from(a) : undefined;
      const got = malaLogRatio(xs, gx, ux[0], 0, ys, gy, uy[0], 0, 2, h, beta, inv);
      const want = direct(x, y, a ?? [1, 1]);
      assert.ok(Math.abs(got - want) < 1e-12 * (1 + Math.abs(want)), `x ${x} → y ${y}: ${got} vs ${want}`);
      // Reversal flips the sign: r(x→y)·r(y→x) = 1.
      const back = malaLogRatio(ys, gy, uy[0], 0, xs, gx, ux[0], 0, 2, h, beta, inv);
      assert.ok(Math.abs(got + back) < 1e-12 * (1 + Math.abs(want)));
      // The kernel's fused batch form gives the same value.
      const am = a ?? [1, 1];
      const drift = Float64Array.from(am, (v) => h * beta * v);
      const invMass = Float64Array.from(am, (v) => 1 / v);
      const [fused] = malaLogRatios(
        xs,
        gx,
        ux,
        ys,
        gy,
        uy,
        1,
        2,
        beta,
        drift,
        invMass,
        1 / (4 * h),
        new Float64Array(1),
      );
      assert.ok(Math.abs(fused - want) < 1e-12 * (1 + Math.abs(want)), `fused ${fused} vs ${want}`);
    }
  });

  /** The direct log ratio with a dense 2 × 2 preconditioner A (row-major): q(b|a) = N(b; a − hβA∇U(a), 2hA). */
  function directDense(x: number[], y: number[], a: number[]): number {
    const ux = new Float64Array(1);
    const uy = new Float64Array(1);
    const gx = new Float64Array(2);
    const gy = new Float64Array(2);
    mix.energyAndGrad(Float64Array.from(x), 1, ux, gx);
    mix.energyAndGrad(Float64Array.from(y), 1, uy, gy);
    const c = a.map((v) => 2 * h * v); // covariance 2hA
    const det = c[0] * c[3] - c[1] * c[2];
    const inv = [c[3] / det, -c[1] / det, -c[2] / det, c[0] / det];
    const logN = (z: number[], m: number[]) => {
      const r = [z[0] - m[0], z[1] - m[1]];
      const q = r[0] * (inv[0] * r[0] + inv[1] * r[1]) + r[1] * (inv[2] * r[0] + inv[3] * r[1]);
      return -Math.log(2 * Math.PI) - 0.5 * Math.log(det) - 0.5 * q;
    };
    const drift = (z: number[], g: Float64Array) => [
      z[0] - h * beta * (a[0] * g[0] + a[1] * g[1]),
      z[1] - h * beta * (a[2] * g[0] + a[3] * g[1]),
    ];
    return -beta * uy[0] + beta * ux[0] + logN(x, drift(y, gy)) - logN(y, drift(x, gx));
  }

  for (const [what, a, want] of [
    ["diagonal", [0.5, 2], direct],
    ["dense", [0.8, 0.5, 0.5, 1.5], directDense],
  ] as const)
    test(`the kernel's acceptance probabilities are min(1, e^{log r}) of its proposals, and acceptance follows them (${what} A)`, () => {
      // 4000 chains at one point x, one step: an accepted chain reveals its proposal y, for which the
      // reported probability must equal the direct computation. Over all chains, E[accepted] = E[acceptProb]:
      // the accepted count is a sum of independent Bernoulli(α_i), SE = √(Σ α_i(1 − α_i)).
      const n = 4000;
      const x = [0.3, -0.2];
      const direct = want;
      const s = mala(mix, { beta });
      const x0 = new Float64Array(2 * n);
      for (let i = 0; i < n; i++) x0.set(x, 2 * i);
      const state = s.init(x0, n);
      const info = s.step(keyFromSeed(50), state, { step: h, inverseMass: Float64Array.from(a) });
      let acceptedCount = 0;
      let probSum = 0;
      let varSum = 0;
      for (let i = 0; i < n; i++) {
        const alpha = info.acceptProb[i];
        probSum += alpha;
        varSum += alpha * (1 - alpha);
        if (!info.accepted[i]) continue;
        acceptedCount++;
        const y = [state.position[2 * i], state.position[2 * i + 1]];
        const want = Math.min(1, Math.exp(direct(x, y, [...a])));
        assert.ok(Math.abs(alpha - want) < 1e-12, `chain ${i}: acceptProb ${alpha}, direct ${want}`);
      }
      const rate = acceptedCount / n;
      assert.ok(rate > 0.2 && rate < 0.95, `acceptance ${rate}: the test needs both outcomes`);
      assert.ok(
        Math.abs(acceptedCount - probSum) < 5 * Math.sqrt(varSum),
        `${acceptedCount} accepted, E = ${probSum}`,
      );
      // Rejected chains did not move.
      for (let i = 0; i < n; i++)
        if (!info.accepted[i]) assert.deepEqual([state.position[2 * i], state.position[2 * i + 1]], x);
    });
});

describe("leapfrog", () => {
  const e = new GaussianEnergy([0.5, -1], [2, 0.6, 0.6, 0.5]);
  const inverseMass = Float64Array.of(0.7, 1.8);
  const denseInverseMass = Float64Array.of(0.7, -0.4, -0.4, 1.8);
  const beta = 1.3;

  function setup(n: number, seed: number) {
    const q = normal(keyFromSeed(seed), new Float64Array(2 * n));
    const p = normal(keyFromSeed(seed + 1), new Float64Array(2 * n));
    const u = new Float64Array(n);
    const grad = new Float64Array(2 * n);
    e.energyAndGrad(q, n, u, grad);
    return { q, p, u, grad };
  }

  test("is reversible: L steps, flip p, L steps returns to the start (dense M⁻¹ too)", () => {
    for (const inverseMass of [Float64Array.of(0.7, 1.8), denseInverseMass]) {
      const n = 3;
      const z = setup(n, 60);
      const q0 = z.q.slice();
      const p0 = z.p.slice();
      leapfrog(e, beta, z.q, z.p, z.grad, z.u, 0.2, inverseMass, n, 2, 25);
      assert.ok(Math.abs(z.q[0] - q0[0]) > 0.01, "did not move");
      for (let k = 0; k < z.p.length; k++) z.p[k] = -z.p[k];
      leapfrog(e, beta, z.q, z.p, z.grad, z.u, 0.2, inverseMass, n, 2, 25);
      for (let k = 0; k < q0.length; k++) {
        assert.ok(Math.abs(z.q[k] - q0[k]) < 1e-12, `q[${k}]`);
        assert.ok(Math.abs(z.p[k] + p0[k]) < 1e-12, `p[${k}]`);
      }
    }
  });

  for (const [what, m] of [
    ["diagonal", inverseMass],
    ["dense", denseInverseMass],
  ] as const)
    test(`keeps the shadow energy ½pᵀM⁻¹p + ½(q−μ)ᵀ(βP − h²/4·βP M⁻¹ βP)(q−μ) of a Gaussian exactly (${what} M⁻¹)`, () => {
      // This is the identity behind kinetic Langevin's documented bias; H itself drifts by O(h²).
      const inverseMass = m;
      const full = m.length === 4 ? m : Float64Array.of(m[0], 0, 0, m[1]);
      const n = 2;
      const h = 0.3;
      const z = setup(n, 62);
      const P = e.precision;
      const bp = P.map((v) => beta * v);
      const k = new Float64Array(4); // βP M⁻¹ βP
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 2; j++)
          for (let l = 0; l < 2; l++)
            for (let r = 0; r < 2; r++) k[i * 2 + j] += bp[i * 2 + l] * full[l * 2 + r] * bp[r * 2 + j];
      const shadow = (i: number) => {
        const r = [z.q[2 * i] - 0.5, z.q[2 * i + 1] + 1];
        let s = kineticEnergy(z.p, i, 2, inverseMass);
        for (let a = 0; a < 2; a++)
          for (let b = 0; b < 2; b++) s += 0.5 * r[a] * r[b] * (bp[a * 2 + b] - ((h * h) / 4) * k[a * 2 + b]);
        return s;
      };
      const before = [shadow(0), shadow(1)];
      const hBefore = beta * z.u[0] + kineticEnergy(z.p, 0, 2, inverseMass);
      leapfrog(e, beta, z.q, z.p, z.grad, z.u, h, inverseMass, n, 2, 40);
      for (let i = 0; i < n; i++) assert.ok(Math.abs(shadow(i) - before[i]) < 1e-12, `chain ${i}`);
      const hAfter = beta * z.u[0] + kineticEnergy(z.p, 0, 2, inverseMass);
      assert.ok(Math.abs(hAfter - hBefore) > 1e-4, "H is not conserved exactly; the shadow energy is");
    });

  test("per-chain steps (a negative one runs backward) and the active mask", () => {
    const n = 3;
    const a = setup(n, 64);
    const b = setup(n, 64);
    // Chain 0 forward, chain 1 backward, chain 2 masked.
    leapfrog(
      e,
      beta,
      a.q,
      a.p,
      a.grad,
      a.u,
      Float64Array.of(0.2, -0.2, 0.2),
      inverseMass,
      n,
      2,
      5,
      Uint8Array.of(1, 1, 0),
    );
    // Reference: the batch forward, and the batch backward via p → −p (backward in time = forward with −p).
    const fwd = setup(n, 64);
    leapfrog(e, beta, fwd.q, fwd.p, fwd.grad, fwd.u, 0.2, inverseMass, n, 2, 5);
    const bwd = setup(n, 64);
    for (let k = 0; k < bwd.p.length; k++) bwd.p[k] = -bwd.p[k];
    leapfrog(e, beta, bwd.q, bwd.p, bwd.grad, bwd.u, 0.2, inverseMass, n, 2, 5);
    for (let j = 0; j < 2; j++) {
      assert.ok(Math.abs(a.q[j] - fwd.q[j]) < 1e-14);
      assert.ok(Math.abs(a.p[j] - fwd.p[j]) < 1e-14);
      assert.ok(Math.abs(a.q[2 + j] - bwd.q[2 + j]) < 1e-14);
      assert.ok(Math.abs(a.p[2 + j] + bwd.p[2 + j]) < 1e-14);
      assert.equal(a.q[4 + j], b.q[4 + j]);
      assert.equal(a.p[4 + j], b.p[4 + j]);
    }
    assert.equal(a.u[2], b.u[2]);
  });
});

/** U = Gaussian where x₀ ≤ 1, NaN (energy and gradient) beyond: a region no chain may enter. */
class NanBeyondOne implements Energy {
  readonly dim = 2;
  private readonly g = GaussianEnergy.isotropic([0, 0], 1);
  energy(x: Float64Array, n: number, u: Float64Array): void {
    this.g.energy(x, n, u);
    for (let i = 0; i < n; i++) if (!(x[2 * i] <= 1)) u[i] = Number.NaN;
  }
  energyAndGrad(x: Float64Array, n: number, u: Float64Array, grad: Float64Array): void {
    this.g.energyAndGrad(x, n, u, grad);
    for (let i = 0; i < n; i++) if (!(x[2 * i] <= 1)) u[i] = grad[2 * i] = grad[2 * i + 1] = Number.NaN;
  }
}

describe("divergences", () => {
  const e = new NanBeyondOne();
  const kernels: [string, Sampler<ChainState, StepInfo & Partial<MhInfo>>, KernelParams][] = [
    ["RWM", rwm(e), { step: 1 }],
    ["MALA", mala(e), { step: 0.5 }],
    ["HMC", hmc(e, { jitter: 0.5 }), { step: 0.3, numSteps: 5 } as KernelParams],
    ["kinetic (MH)", kineticLangevin(e, { metropolize: true }), { step: 0.5 }],
    ["kinetic", kineticLangevin(e), { step: 0.5 }],
  ];

  for (const [name, s, params] of kernels)
    test(`${name}: proposals into a NaN region are rejected and flagged; the chain stays`, () => {
      const n = 200;
      const x0 = new Float64Array(2 * n);
      for (let i = 0; i < n; i++) x0[2 * i] = 0.8;
      const state = s.init(x0, n);
      let flagged = 0;
      for (let t = 0; t < 20; t++) {
        const before = state.position.slice();
        const info = s.step(foldIn(keyFromSeed(70), t), state, params);
        for (let i = 0; i < n; i++) {
          assert.ok(state.position[2 * i] <= 1, `${name}: chain ${i} entered the NaN region`);
          if (!info.divergent[i]) continue;
          flagged++;
          assert.deepEqual(
            [state.position[2 * i], state.position[2 * i + 1]],
            [before[2 * i], before[2 * i + 1]],
          );
          if (info.accepted) assert.equal(info.accepted[i], 0);
          if (info.acceptProb) assert.equal(info.acceptProb[i], 0);
        }
      }
      // Starting 0.2 from the edge with steps of order 1, many proposals cross it.
      assert.ok(flagged > 50, `${name}: only ${flagged} divergences flagged`);
    });

  test("HMC: an energy error above 1000 is divergent and rejected", () => {
    // N(0, 0.01²) with step 0.1: ΔH ~ (step/σ)^{2L} blows up while staying finite.
    const stiff = GaussianEnergy.isotropic([0], 0.01);
    const s = hmc(stiff, { jitter: 0 });
    const x0 = Float64Array.of(0.005, -0.01, 0.02);
    const state = s.init(x0, 3);
    const info = s.step(keyFromSeed(71), state, { step: 0.1, numSteps: 4 });
    for (let i = 0; i < 3; i++) {
      assert.ok(
        Number.isFinite(info.energyError[i]) && info.energyError[i] > 1000,
        `ΔH ${info.energyError[i]}`,
      );
      assert.equal(info.divergent[i], 1);
      assert.equal(info.accepted[i], 0);
    }
    assert.deepEqual(state.position, x0);
  });

  test("a chain started at a non-finite point is flagged at every step and never moves", () => {
    for (const [name, s, params] of kernels) {
      const state = s.init(Float64Array.of(0, 0, 5, 0), 2);
      for (let t = 0; t < 3; t++) {
        const info = s.step(foldIn(keyFromSeed(72), t), state, params);
        assert.equal(info.divergent[1], 1, name);
        assert.deepEqual([state.position[2], state.position[3]], [5, 0], name);
      }
    }
  });
});

describe("reproducibility", () => {
  const e = new GaussianEnergy([0, 1], [1, 0.3, 0.3, 0.5]);
  const inverseMass = Float64Array.of(1, 0.5);
  const kernels: [string, () => Sampler<ChainState, StepInfo>, KernelParams][] = [
    ["RWM", () => rwm(e), { step: 0.8, inverseMass }],
    ["MALA", () => mala(e), { step: 0.3, inverseMass }],
    ["HMC", () => hmc(e, { jitter: 1 }), { step: 0.3, numSteps: 6, inverseMass } as KernelParams],
    ["kinetic (MH)", () => kineticLangevin(e, { metropolize: true }), { step: 0.4, inverseMass }],
    ["kinetic", () => kineticLangevin(e), { step: 0.4, inverseMass }],
    ["ULA", () => ula(e), { step: 0.1, inverseMass }],
  ];

  test("same key → identical chains (separately built kernels too); another key → other chains", () => {
    const x0 = Float64Array.of(0.1, 0.2, -0.3, 0.4, 1, 1);
    const copy = x0.slice();
    for (const [name, make, params] of kernels) {
      const s1 = make();
      const s2 = make();
      const a = s1.init(x0, 3);
      const b = s2.init(x0, 3);
      const c = s1.init(x0, 3);
      for (let t = 0; t < 15; t++) {
        s1.step(foldIn(keyFromSeed(80), t), a, params);
        s2.step(foldIn(keyFromSeed(80), t), b, params);
        s1.step(foldIn(keyFromSeed(81), t), c, params);
      }
      assert.deepEqual(a, b, name);
      assert.notDeepEqual(a.position, c.position, name);
      assert.deepEqual(x0, copy, `${name} changed the caller's positions`);
    }
  });

  test("parameters are step arguments: one kernel follows changed values (new objects or in place) exactly as fresh kernels", () => {
    // Adaptation changes the step size every iteration and the inverse mass in place after each window;
    // a kernel's cached coefficients must follow the values, whatever object carries them.
    const x0 = Float64Array.of(0.1, 0.2, -0.3, 0.4, 1, 1);
    for (const [name, make, base] of kernels) {
      const one = make();
      const a = one.init(x0, 3);
      const b = make().init(x0, 3);
      const mass = Float64Array.from(base.inverseMass!);
      const params = { ...base, inverseMass: mass };
      for (let t = 0; t < 12; t++) {
        params.step = base.step * (t % 3 === 0 ? 0.5 : 1);
        if (t === 6) mass[1] *= 2; // in place, as window adaptation does
        const key = foldIn(keyFromSeed(82), t);
        one.step(key, a, params);
        make().step(key, b, { ...params, inverseMass: Float64Array.from(mass) });
      }
      assert.deepEqual(a.position, b.position, name);
      assert.deepEqual(a.u, b.u, name);
    }
  });

  test("the info buffers are reused: the returned info is valid until the next step", () => {
    const s = mala(e);
    const state = s.init(Float64Array.of(0.1, 0.2, -0.3, 0.4), 2);
    const first = s.step(keyFromSeed(83), state, { step: 0.3 });
    const copy = first.acceptProb.slice();
    const second = s.step(keyFromSeed(84), state, { step: 3 });
    assert.equal(second.acceptProb, first.acceptProb);
    assert.notDeepEqual(second.acceptProb, copy);
  });

  test("refresh recomputes the cache after the energy changed", () => {
    const m = MixtureEnergy.twoWell(-1, 1, 0);
    const s = mala(m);
    const state = s.init(Float64Array.of(0.3, -0.7), 2);
    m.setParams(Float64Array.of(1.5));
    s.refresh(state);
    const u = new Float64Array(2);
    const g = new Float64Array(2);
    m.energyAndGrad(state.position, 2, u, g);
    assert.deepEqual(state.u, u);
    assert.deepEqual(state.grad, g);
  });
});
