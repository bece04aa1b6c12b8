/**
 * Jarzynski weights for ULA moves under a changing energy.
 * 1. The closed form α_k(x, y) − α_{k+1}(y, x) equals the log of the kernel ratio it was derived from,
 *    log[ρ̃_{k+1}(y) q_{k+1}(y→x)] − log[ρ̃_k(x) q_k(x→y)], computed directly from Gaussian densities.
 * 2. On a prescribed path (a Gaussian whose mean moves and whose width shrinks), the weighted walkers give
 *    log Z_K − log Z_0 and the final variance within Monte-Carlo error, while the unweighted walkers show
 *    ULA's bias: the weights really correct it.
 * 3. The same with exact walker moves (MALA, HMC) and their AIS weights; a move without a known weight
 *    increment is refused.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { TrainableEnergy } from "../../src/energies/contract.ts";
import { jarzynski, type JarzynskiOptions } from "../../src/objectives/jarzynski.ts";
import { hmcMove, malaMove, type WalkerMove } from "../../src/samplers/moves.ts";
import { ula } from "../../src/samplers/ula.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";
import { ulaLogAlpha } from "../../src/smc/jarzynski.ts";
import { walkerWeights } from "../../src/smc/walkers.ts";
import type { Optimizer } from "../../src/train/optim.ts";
import { train } from "../../src/train/trainer.ts";

/** Isotropic Gaussian U(x) = |x − m|² / (2 s²) with θ = (m_1..m_d, log s). */
class MovingGaussian implements TrainableEnergy {
  readonly numParams: number;
  constructor(
    readonly dim: number,
    private theta: Float64Array,
  ) {
    this.numParams = dim + 1;
  }
  getParams() {
    return this.theta.slice();
  }
  setParams(t: Float64Array) {
    this.theta = t.slice();
  }
  energy(x: Float64Array, n: number, u: Float64Array) {
    this.energyAndGrad(x, n, u, new Float64Array(n * this.dim));
  }
  energyAndGrad(x: Float64Array, n: number, u: Float64Array, g: Float64Array) {
    const d = this.dim;
    const inv = Math.exp(-2 * this.theta[d]);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let a = 0; a < d; a++) {
        const r = x[i * d + a] - this.theta[a];
        g[i * d + a] = r * inv;
        s += r * r;
      }
      u[i] = 0.5 * s * inv;
    }
  }
  paramGrad(x: Float64Array, n: number, w: Float64Array, out: Float64Array) {
    const d = this.dim;
    const inv = Math.exp(-2 * this.theta[d]);
    out.fill(0);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let a = 0; a < d; a++) {
        const r = x[i * d + a] - this.theta[a];
        out[a] -= w[i] * r * inv;
        s += r * r;
      }
      out[d] -= w[i] * s * inv;
    }
  }
  logZ() {
    return this.dim * (this.theta[this.dim] + 0.5 * Math.log(2 * Math.PI));
  }
}

/** An "optimizer" that ignores gradients and walks θ along a prescribed straight path. */
function prescribed(delta: Float64Array): Optimizer {
  return { init: () => null, update: (_g, state) => ({ updates: delta.slice(), state }) };
}

test("closed-form weight increment equals the log ratio of backward and forward ULA kernels", () => {
  const d = 3;
  const h = 0.07;
  const rng = new Stream(keyFromSeed(1));
  const old = new MovingGaussian(d, Float64Array.of(0.1, -0.2, 0.3, Math.log(0.8)));
  const neu = new MovingGaussian(d, Float64Array.of(0.4, 0.1, -0.1, Math.log(0.6)));
  const n = 5;
  const x = rng.fillNormal(new Float64Array(n * d));
  const y = rng.fillNormal(new Float64Array(n * d));
  const [u0, g0, u1, g1] = [
    new Float64Array(n),
    new Float64Array(n * d),
    new Float64Array(n),
    new Float64Array(n * d),
  ];
  old.energyAndGrad(x, n, u0, g0);
  neu.energyAndGrad(y, n, u1, g1);
  const fwd = ulaLogAlpha(u0, g0, x, y, n, d, h, 1, new Float64Array(n));
  const bwd = ulaLogAlpha(u1, g1, y, x, n, d, h, 1, new Float64Array(n));
  for (let i = 0; i < n; i++) {
    // log q(a→b) = −|b − a + h∇U(a)|²/(4h) + const (the constant cancels in the ratio).
    let qf = 0;
    let qb = 0;
    for (let j = 0; j < d; j++) {
      qf += (y[i * d + j] - x[i * d + j] + h * g0[i * d + j]) ** 2;
      qb += (x[i * d + j] - y[i * d + j] + h * g1[i * d + j]) ** 2;
    }
    const direct = -u1[i] - qb / (4 * h) - (-u0[i] - qf / (4 * h));
    const closed = fwd[i] - bwd[i];
    assert.ok(
      Math.abs(direct - closed) < 1e-12 * (1 + Math.abs(direct)),
      `walker ${i}: ${closed} vs ${direct}`,
    );
  }
});

const moves: [string, Pick<JarzynskiOptions, "step" | "move">][] = [
  ["ULA", { step: 0.05 }],
  ["MALA", { move: malaMove(0.05) }],
  ["HMC", { move: hmcMove({ step: 0.2, numSteps: 4 }) }],
];

for (const [moveName, moveOpts] of moves)
  for (const resample of moveName === "ULA" ? [0, 0.5] : [0.5]) {
    test(`prescribed path, ${moveName} moves: log Z ratio and variance within MC error (resample ${resample || "never"})`, () => {
      const d = 2;
      const K = 300;
      const h = 0.05;
      // 16 000 walkers: the unweighted walkers' bias (0.031) is then ≈ 10 SE (see the last check).
      const n = 16000;
      const theta0 = Float64Array.of(0, 0, 0); // mean 0, s = 1
      const thetaK = Float64Array.of(1, 1, Math.log(0.5));
      const delta = thetaK.map((v, i) => (v - theta0[i]) / K);
      const model = new MovingGaussian(d, theta0);
      const obj = jarzynski({
        walkers: n,
        ...moveOpts,
        resample,
        init: (key, _m, count) => ({ x: new Stream(key).fillNormal(new Float64Array(count * d)) }),
      });
      const { state } = train({
        model,
        objective: obj,
        optimizer: prescribed(delta),
        data: { x: new Float64Array(d), n: 1 },
        iterations: K,
        key: keyFromSeed(21),
      });
      const w = state.walkers;
      const exact = model.logZ() - d * 0.5 * Math.log(2 * Math.PI); // log Z_K − log Z_0 = d log s_K
      const est = obj.diagnostics(state).logZRatio!;
      // Delta method on the current stage: SE(log mean e^A) ≈ sqrt(Σ w_i² − 1/n) for normalized weights w
      // (relative variance of the weights over n). Earlier stages folded in at resamplings add comparable
      // variance, so allow 5 SE of the current stage times √(1 + resamplings).
      const weights = walkerWeights(w, new Float64Array(n));
      let sw2 = 0;
      for (const v of weights) sw2 += v * v;
      const se = Math.sqrt(Math.max(sw2 - 1 / n, 1 / n)) * Math.sqrt(1 + w.resamplings);
      assert.ok(Math.abs(est - exact) < 5 * se, `log Z ratio ${est} vs ${exact} (SE ${se})`);

      // Weighted and unweighted variance of coordinate 0 around the known mean 1; exact s_K² = 0.25.
      let vw = 0;
      let vu = 0;
      for (let i = 0; i < n; i++) {
        const r2 = (w.position[i * d] - 1) ** 2;
        vw += weights[i] * r2;
        vu += r2 / n;
      }
      // SE of the self-normalized estimate: sqrt(Σ w_i² (r_i² − v)²).
      let sev = 0;
      for (let i = 0; i < n; i++) sev += weights[i] ** 2 * ((w.position[i * d] - 1) ** 2 - vw) ** 2;
      sev = Math.sqrt(sev);
      assert.ok(Math.abs(vw - 0.25) < 5 * sev, `weighted variance ${vw} (SE ${sev})`);
      if (resample === 0 && moveName === "ULA") {
        // Without resampling the unweighted walkers are exactly the ULA chain from N(0, I) along the path,
        // a Gaussian recursion per coordinate: at step k (moved under θ_k: mean μ_k, scale s_k)
        // m ← m − h(m − μ_k)/s_k², v ← (1 − h/s_k²)² v + 2h. So E[(x₀ − 1)²] = v_K + (m_K − 1)², above 0.25
        // by ULA's bias and the lag; the sample mean of n draws of (x₀ − 1)² has SE ≈ sqrt(2v² + 4v(m−1)²)/√n.
        let m = 0;
        let v = 1;
        for (let k = 0; k < K; k++) {
          const mu = theta0[0] + k * delta[0];
          const s2 = Math.exp(2 * (theta0[d] + k * delta[d]));
          m -= (h * (m - mu)) / s2;
          v = (1 - h / s2) ** 2 * v + 2 * h;
        }
        const predicted = v + (m - 1) ** 2;
        const seU = Math.sqrt(2 * v * v + 4 * v * (m - 1) ** 2) / Math.sqrt(n);
        assert.ok(Math.abs(vu - predicted) < 5 * seU, `unweighted variance ${vu}, predicted ${predicted}`);
        // The prediction is far from the target's 0.25 (≈ 10 SE with 16 000 walkers), so the unweighted
        // walkers are measurably wrong and the weights are what correct them.
        assert.ok(predicted - 0.25 > 8 * seU, `predicted bias ${predicted - 0.25} vs SE ${seU}`);
        assert.ok(vu - 0.25 > 3 * seU, `unweighted variance ${vu} shows no bias (SE ${seU})`);
      }
    });
  }

test("the ULA move goes through the ULA kernel: the same walkers as the kernel stepped by hand", () => {
  // Jarzynski's move X_{k+1} = X_k − h∇U_θk(X_k) + √(2h)ξ from the θ_k cache, evaluated under θ_{k+1}: one
  // ULA kernel step after the update, with the gradient's key (no resampling here, so nothing else draws).
  const d = 2;
  const n = 64;
  const h = 0.05;
  const model = new MovingGaussian(d, Float64Array.of(0, 0, 0));
  const obj = jarzynski({
    walkers: n,
    step: h,
    resample: 0,
    init: (key, _m, count) => ({ x: new Stream(key).fillNormal(new Float64Array(count * d)) }),
  });
  const state = obj.init(keyFromSeed(30), model);
  const kernel = ula(model);
  const ref = kernel.init(state.walkers.position, n);
  const grad = new Float64Array(model.numParams);
  for (let k = 0; k < 5; k++) {
    const kGrad = keyFromSeed(40 + k);
    obj.gradient(kGrad, state, model, { x: new Float64Array(d), n: 1 }, grad);
    const theta = model.getParams();
    theta[0] += 0.1;
    model.setParams(theta);
    obj.afterUpdate(keyFromSeed(50 + k), state, model);
    kernel.step(kGrad, ref, { step: h });
  }
  assert.deepEqual(state.walkers.position, ref.position);
  assert.deepEqual(state.walkers.u, ref.u);
});

test("moves without a known weight increment are refused with a clear error", () => {
  const unadjusted: WalkerMove = { ...malaMove(0.1), name: "kinetic", exact: false };
  assert.throws(() => jarzynski({ walkers: 10, move: unadjusted }), /no weight increment.*'kinetic'/);
  const preconditioned: WalkerMove = {
    name: "ula",
    exact: false,
    params: { step: 0.1, inverseMass: Float64Array.of(1, 2) },
    build: malaMove(0.1).build,
  };
  assert.throws(() => jarzynski({ walkers: 10, move: preconditioned }), /preconditioner/);
  assert.throws(() => jarzynski({ walkers: 10, step: 0.1, move: malaMove(0.1) }), /either step .* or move/);
  assert.throws(() => jarzynski({ walkers: 10 }), /step .* or move is required/);
});
