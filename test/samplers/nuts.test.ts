/**
 * NUTS and Stan's window adaptation.
 *
 * How the statistical bounds are derived: every test runs C independent chains (one key per chain, and
 * after warm-up the step size and inverse mass are fixed, so conditionally on them the chains are i.i.d.
 * Markov chains). A quantity is estimated by the grand mean over chains of each chain's average over W
 * post-warm-up draws. Those C chain averages are i.i.d., so SE = sd(chain averages)/√C — a batch-means
 * estimate with one batch per chain, which accounts for autocorrelation within chains without a model of
 * it (with W ≫ the integrated autocorrelation time, the chain averages are close to normal). Unless stated
 * otherwise a bound is 4·SE per quantity: two-sided p ≈ 6·10⁻⁵ each, ≈ 10⁻³ family-wise for the 20
 * moments of the 5-D test; the seeds are fixed, so a pass is reproducible, and each test also checks that
 * its SEs are small enough to detect a wrong answer of the size a real bug produces.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Energy } from "../../src/energies/contract.ts";
import { GaussianEnergy } from "../../src/energies/gaussian.ts";
import { MixtureEnergy } from "../../src/energies/mixture.ts";
import { foldIn, keyFromSeed, Stream } from "../../src/random/key.ts";
import { dualAveraging, windowAdaptation, windowSchedule } from "../../src/samplers/adaptation.ts";
import { type NutsInfo, nuts } from "../../src/samplers/nuts.ts";
import type { ChainState, KernelParams } from "../../src/samplers/types.ts";

/** Mean and standard error of the mean of i.i.d. values (here: one value per chain). */
function meanSe(v: Float64Array): { mean: number; se: number } {
  const n = v.length;
  let m = 0;
  for (const x of v) m += x;
  m /= n;
  let s2 = 0;
  for (const x of v) s2 += (x - m) ** 2;
  return { mean: m, se: Math.sqrt(s2 / (n - 1) / n) };
}

/**
 * Runs `draws` NUTS transitions with fixed params from `state` (in place) and calls `record` after each
 * one. Returns the mean acceptance statistic, tree depth, leapfrog steps and the number of divergences.
 */
function sample(
  energy: Energy,
  params: KernelParams,
  state: ChainState,
  draws: number,
  seed: number,
  record: (state: ChainState, info: NutsInfo) => void,
  beta = 1,
): { accept: number; depth: number; steps: number; divergent: number } {
  const kernel = nuts(energy, { beta });
  const key = keyFromSeed(seed);
  let accept = 0;
  let depth = 0;
  let steps = 0;
  let divergent = 0;
  for (let t = 0; t < draws; t++) {
    const info = kernel.step(foldIn(key, t), state, params);
    for (let c = 0; c < state.n; c++) {
      accept += info.acceptProb[c];
      depth += info.treeDepth[c];
      steps += info.numSteps[c];
      divergent += info.divergent[c];
    }
    record(state, info);
  }
  const total = draws * state.n;
  return { accept: accept / total, depth: depth / total, steps: steps / total, divergent };
}

/** Largest eigenvalue of a symmetric positive-definite d×d matrix by power iteration. */
function lambdaMax(a: Float64Array, d: number): number {
  let v = new Float64Array(d).fill(1);
  let lambda = 0;
  for (let it = 0; it < 500; it++) {
    const w = new Float64Array(d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) w[i] += a[i * d + j] * v[j];
    let norm = 0;
    for (const x of w) norm += x * x;
    norm = Math.sqrt(norm);
    lambda = norm / Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    v = w.map((x) => x / norm);
  }
  return lambda;
}

describe("NUTS after window adaptation", () => {
  test("recovers mean and covariance of a correlated 5-D Gaussian; acceptance hits δ = 0.8", () => {
    const d = 5;
    const stds = [0.5, 1, 2, 3, 1];
    const mu = [1, -1, 0, 2, 0.5];
    const cov = new Float64Array(d * d);
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) cov[i * d + j] = stds[i] * stds[j] * 0.6 ** Math.abs(i - j);
    const target = new GaussianEnergy(mu, cov);
    // Condition number λmax(Σ)·λmax(Σ⁻¹) ≈ 80: strongly correlated and badly scaled, in the 10–100 range.
    const cond = lambdaMax(target.cov, d) * lambdaMax(target.precision, d);
    assert.ok(cond > 10 && cond < 100, `condition number ${cond}`);

    const chains = 200;
    const draws = 200;
    const kernel = nuts(target);
    const state = kernel.init(new Float64Array(chains * d), chains); // all chains start at 0
    const { params, info: wu } = windowAdaptation(kernel, { numWarmup: 300 }).run(keyFromSeed(1), state);
    assert.equal(wu.schedule.windows.length, 3);

    // Per chain: averages of x_i and of (x_i − μ_i)(x_j − μ_j) (true μ, so these are unbiased for Σ_ij).
    const nPair = (d * (d + 1)) / 2;
    const means = Array.from({ length: d }, () => new Float64Array(chains));
    const prods = Array.from({ length: nPair }, () => new Float64Array(chains));
    const hChain = new Float64Array(chains);
    const run = sample(target, params, state, draws, 2, (s, info) => {
      for (let c = 0; c < chains; c++) {
        const x = s.position.subarray(c * d, c * d + d);
        let k = 0;
        for (let i = 0; i < d; i++) {
          means[i][c] += x[i] / draws;
          for (let j = 0; j <= i; j++) prods[k++][c] += ((x[i] - mu[i]) * (x[j] - mu[j])) / draws;
        }
        hChain[c] += info.energy[c] / draws;
      }
    });

    let k = 0;
    for (let i = 0; i < d; i++) {
      const m = meanSe(means[i]);
      // SE ≤ 0.03·σ_i: a bias of 0.15 σ (e.g. a wrong sign in one gradient half-kick) would be > 5 SE.
      assert.ok(m.se < 0.03 * stds[i], `SE of mean ${i} too large: ${m.se}`);
      assert.ok(Math.abs(m.mean - mu[i]) < 4 * m.se, `mean ${i}: ${m.mean} vs ${mu[i]} ± ${m.se}`);
      for (let j = 0; j <= i; j++) {
        const c = meanSe(prods[k++]);
        const truth = cov[i * d + j];
        // SE of each (co)variance < 5% of σ_iσ_j: a 20% error in a variance would be > 4 SE.
        assert.ok(c.se < 0.05 * stds[i] * stds[j], `SE of cov ${i}${j} too large: ${c.se}`);
        assert.ok(Math.abs(c.mean - truth) < 4 * c.se, `cov ${i}${j}: ${c.mean} vs ${truth} ± ${c.se}`);
      }
    }
    // E[H] = E[U] + E[K] = d/2 + d/2 at stationarity (energy__ is H at the returned state).
    const h = meanSe(hChain);
    assert.ok(Math.abs(h.mean - d) < 4 * h.se, `mean Hamiltonian ${h.mean} vs ${d} ± ${h.se}`);
    // Dual averaging: realized mean acceptance within ±0.05 of the target (its MCSE is ≈ 0.002).
    assert.ok(Math.abs(run.accept - 0.8) < 0.05, `mean acceptance ${run.accept}`);
    assert.equal(run.divergent, 0);
    assert.ok(run.depth >= 1 && run.depth <= 5, `mean tree depth ${run.depth}`);
  });

  test("mixture weights 0.3 / 0.7 from chains that all start in the light mode", () => {
    // U = −log(0.3 N((−2,0), I) + 0.7 N((2,0), I)); c₁ = log(3/7) gives masses 0.3, 0.7.
    const target = new MixtureEnergy({
      means: [
        [-2, 0],
        [2, 0],
      ],
      stds: [1, 1],
      offsets: [Math.log(3 / 7)],
    });
    const chains = 200;
    const draws = 300;
    const rng = new Stream(keyFromSeed(5));
    const x0 = new Float64Array(chains * 2);
    for (let c = 0; c < chains; c++) {
      x0[2 * c] = -2 + 0.5 * rng.normal();
      x0[2 * c + 1] = rng.normal();
    }
    const kernel = nuts(target);
    const state = kernel.init(x0, chains);
    const { params } = windowAdaptation(kernel, { numWarmup: 200 }).run(keyFromSeed(6), state);
    // Estimator of the weight of mode 0: the mean responsibility r₀(x) = π₀N₀(x)/ρ(x), since
    // E_ρ[r₀(X)] = π₀ exactly (lower variance than counting x < 0, which is not π₀ anyway).
    const r0 = new Float64Array(chains);
    let crossings = 0;
    const side = new Float64Array(chains);
    for (let c = 0; c < chains; c++) side[c] = Math.sign(state.position[2 * c]);
    sample(target, params, state, draws, 7, (s) => {
      for (let c = 0; c < chains; c++) {
        const x = s.position[2 * c];
        const y = s.position[2 * c + 1];
        const l0 = Math.log(0.3) - 0.5 * ((x + 2) ** 2 + y * y);
        const l1 = Math.log(0.7) - 0.5 * ((x - 2) ** 2 + y * y);
        r0[c] += 1 / (1 + Math.exp(l1 - l0)) / draws;
        if (Math.sign(x) !== side[c]) crossings++;
        side[c] = Math.sign(x);
      }
    });
    const w = meanSe(r0);
    // The chains do move between modes (≈ 0.09 crossings per transition observed): the chain averages
    // are not stuck at 1 or 0, and SE ≈ 0.005 makes a 0.05 error in the weight a 10-SE miss.
    assert.ok(
      crossings / (chains * draws) > 0.02,
      `crossings per transition ${crossings / (chains * draws)}`,
    );
    assert.ok(w.se < 0.01, `SE of the weight ${w.se}`);
    assert.ok(Math.abs(w.mean - 0.3) < 5 * w.se, `weight of mode 0: ${w.mean} vs 0.3 ± ${w.se}`);
  });

  test("mass adaptation recovers the variances (0.01, 1, 100) of an axis-aligned Gaussian", () => {
    const stds = [0.1, 1, 10];
    const d = 3;
    const target = new GaussianEnergy([0, 0, 0], Float64Array.from([0.01, 0, 0, 0, 1, 0, 0, 0, 100]));
    const chains = 100;
    const kernel = nuts(target);
    const rng = new Stream(keyFromSeed(8));
    const state = kernel.init(rng.fillNormal(new Float64Array(chains * d)), chains);
    const { params, info } = windowAdaptation(kernel, { numWarmup: 400 }).run(keyFromSeed(9), state);
    // Stan's schedule for 400: windows [75,99], [100,149], [150,349]; the last one pools 200 × 100 draws.
    assert.deepEqual(info.schedule.windows, [
      [75, 99],
      [100, 149],
      [150, 349],
    ]);
    assert.equal(info.massSamples, 200 * chains);
    const inv = params.inverseMass!;

    // The final window's variance pools N = C·W = 20000 draws; its relative SE is √(2τ/N) for an
    // integrated autocorrelation time τ of x_i². We measure τ with the adapted kernel over W = 200 draws
    // (τ = W·Var(chain means)/Var(x²)) and require τ < 4 — then relative SE ≤ √(8/20000) = 0.02, and the
    // 10% tolerance below is ≥ 5 SE. (Regularization shifts the estimate by 5/(N+5) ≈ 2.5·10⁻⁴: negligible.)
    const W = 200;
    const sq = Array.from({ length: d }, () => new Float64Array(chains));
    const sq2 = new Float64Array(d);
    const run = sample(target, params, state, W, 10, (s) => {
      for (let c = 0; c < chains; c++)
        for (let i = 0; i < d; i++) {
          const v = s.position[c * d + i] ** 2;
          sq[i][c] += v / W;
          sq2[i] += (v * v) / (W * chains);
        }
    });
    for (let i = 0; i < d; i++) {
      const m = meanSe(sq[i]);
      const varSq = sq2[i] - m.mean * m.mean;
      const tau = (W * chains * m.se * m.se) / varSq;
      assert.ok(tau < 4, `autocorrelation time of x${i}² ${tau}`);
      const rel = inv[i] / (stds[i] * stds[i]);
      assert.ok(Math.abs(rel - 1) < 0.1, `inverse mass ${i}: ${inv[i]} vs ${stds[i] ** 2}`);
    }
    // With the metric adapted, the scales no longer limit the trajectory: short trees.
    assert.ok(run.depth < 3.5, `mean tree depth ${run.depth} with adapted mass`);
  });

  test("dense mass adaptation recovers the full covariance of a correlated, badly scaled Gaussian", () => {
    // Σ_ij = s_i s_j 0.9^{|i−j|}, s = (0.2, 1, 5): correlations 0.9 and 0.81, variances over 3 decades.
    const d = 3;
    const s = [0.2, 1, 5];
    const cov = new Float64Array(d * d);
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) cov[i * d + j] = s[i] * s[j] * 0.9 ** Math.abs(i - j);
    const target = new GaussianEnergy([1, 0, -2], cov);
    const chains = 100;
    const kernel = nuts(target);
    const state = kernel.init(new Stream(keyFromSeed(40)).fillNormal(new Float64Array(chains * d)), chains);
    const { params, info } = windowAdaptation(kernel, { numWarmup: 400, metric: "dense" }).run(
      keyFromSeed(41),
      state,
    );
    const inv = params.inverseMass!;
    assert.equal(inv.length, d * d);
    assert.equal(info.massSamples, 200 * chains);
    // Each entry of the last window's estimate pools N = 20000 draws: SE(Σ̂_ab) = √(τ(Σ_aaΣ_bb + Σ_ab²)/N)
    // for an integrated autocorrelation time τ of the products (x_a − μ_a)(x_b − μ_b), measured with the
    // adapted kernel as in the diagonal test above (τ = W·Var(chain means)/Var); with τ < 4 the bound below
    // is 5 SE at τ = 4.
    const W = 200;
    const mu = target.mean;
    const pairs: [number, number][] = [];
    for (let a = 0; a < d; a++) for (let b = 0; b <= a; b++) pairs.push([a, b]);
    const means = pairs.map(() => new Float64Array(chains));
    const second = new Float64Array(pairs.length);
    const run = sample(target, params, state, W, 42, (st) => {
      for (let c = 0; c < chains; c++)
        pairs.forEach(([a, b], k) => {
          const v = (st.position[c * d + a] - mu[a]) * (st.position[c * d + b] - mu[b]);
          means[k][c] += v / W;
          second[k] += (v * v) / (W * chains);
        });
    });
    pairs.forEach(([a, b], k) => {
      const m = meanSe(means[k]);
      const tau = (W * chains * m.se * m.se) / (second[k] - m.mean * m.mean);
      assert.ok(tau < 4, `autocorrelation time of the (${a}, ${b}) product: ${tau}`);
      const se = Math.sqrt((4 * (cov[a * d + a] * cov[b * d + b] + cov[a * d + b] ** 2)) / (200 * chains));
      assert.ok(
        Math.abs(inv[a * d + b] - cov[a * d + b]) < 5 * se,
        `inverse mass (${a}, ${b}): ${inv[a * d + b]} vs ${cov[a * d + b]} ± ${se}`,
      );
    });
    assert.deepEqual(
      Array.from({ length: d * d }, (_, k) => inv[k] === inv[(k % d) * d + Math.floor(k / d)]),
      new Array(d * d).fill(true),
      "symmetric",
    );
    // A dense metric makes the target isotropic for the integrator: the shortest trees of all.
    assert.ok(run.depth < 2.5, `mean tree depth ${run.depth} with the dense metric`);
  });

  test("β = 4 targets N(0, 1/4) on U = x²/2", () => {
    const target = GaussianEnergy.isotropic([0], 1);
    const beta = 4;
    const chains = 500;
    const draws = 200;
    const kernel = nuts(target, { beta });
    const state = kernel.init(new Float64Array(chains).fill(1), chains);
    const { params } = windowAdaptation(kernel, { numWarmup: 150 }).run(keyFromSeed(11), state);
    const x2 = new Float64Array(chains);
    sample(
      target,
      params,
      state,
      draws,
      12,
      (s) => {
        for (let c = 0; c < chains; c++) x2[c] += s.position[c] ** 2 / draws;
      },
      beta,
    );
    const v = meanSe(x2);
    // SE ≈ 0.0015: the untempered variance 1 (or 1/2 for β = 2) is hundreds of SE away.
    assert.ok(v.se < 0.01, `SE ${v.se}`);
    assert.ok(Math.abs(v.mean - 0.25) < 4 * v.se, `E[x²] = ${v.mean} vs 0.25 ± ${v.se}`);
  });
});

describe("NUTS divergences", () => {
  test("a NaN region is never entered, divergences are flagged, and the truncated target is exact", () => {
    // U = x²/2 for x < 1, NaN beyond: the target is N(0,1) truncated to x < 1. A trajectory step into
    // the NaN region has H = +∞ whatever the start, so discarding its subtree is a symmetric stopping
    // rule: NUTS stays exact for the truncated density (mean −φ(1)/Φ(1), var 1 − φ(1)/Φ(1) − mean²).
    const wall: Energy = {
      dim: 1,
      energy(x, n, u) {
        for (let i = 0; i < n; i++) u[i] = x[i] < 1 ? 0.5 * x[i] * x[i] : Number.NaN;
      },
      energyAndGrad(x, n, u, g) {
        for (let i = 0; i < n; i++) {
          u[i] = x[i] < 1 ? 0.5 * x[i] * x[i] : Number.NaN;
          g[i] = x[i] < 1 ? x[i] : Number.NaN;
        }
      },
    };
    const phi = Math.exp(-0.5) / Math.sqrt(2 * Math.PI);
    const Phi = 0.841344746068543;
    const tMean = -phi / Phi;
    const tVar = 1 - phi / Phi - tMean * tMean;
    const chains = 500;
    const draws = 200;
    const kernel = nuts(wall);
    const state = kernel.init(new Float64Array(chains), chains);
    // 50 transitions from x = 0 to forget the start (not recorded).
    for (let t = 0; t < 50; t++) kernel.step(foldIn(keyFromSeed(13), t), state, { step: 0.5 });
    const m1 = new Float64Array(chains);
    const m2 = new Float64Array(chains);
    let maxX = Number.NEGATIVE_INFINITY;
    const run = sample(wall, { step: 0.5 }, state, draws, 14, (s, info) => {
      for (let c = 0; c < chains; c++) {
        const x = s.position[c];
        m1[c] += x / draws;
        m2[c] += (x - tMean) ** 2 / draws;
        maxX = Math.max(maxX, x);
        assert.ok(Number.isFinite(s.u[c]) && Number.isFinite(info.energy[c]));
      }
    });
    assert.ok(maxX < 1, `a draw entered the NaN region: ${maxX}`);
    assert.ok(run.divergent > 0.05 * chains * draws, `only ${run.divergent} divergences flagged`);
    const a = meanSe(m1);
    const b = meanSe(m2);
    // SEs ≈ 0.005: the untruncated N(0,1) moments (0, 1) are ≫ 5 SE away.
    assert.ok(Math.abs(a.mean - tMean) < 4 * a.se, `mean ${a.mean} vs ${tMean} ± ${a.se}`);
    assert.ok(Math.abs(b.mean - tVar) < 4 * b.se, `variance ${b.mean} vs ${tVar} ± ${b.se}`);
  });

  test("an energy error above 1000 is a divergence and the diverging state is not returned", () => {
    // U = x⁴ from x = 1.5 with ε = 2: the first half-kick is 13.5, the drift lands near |x| ≈ 27 with
    // U ≈ 5·10⁵, in either direction. The first subtree is invalid: depth 0, one step, chain stays.
    const quartic: Energy = {
      dim: 1,
      energy(x, n, u) {
        for (let i = 0; i < n; i++) u[i] = x[i] ** 4;
      },
      energyAndGrad(x, n, u, g) {
        for (let i = 0; i < n; i++) {
          u[i] = x[i] ** 4;
          g[i] = 4 * x[i] ** 3;
        }
      },
    };
    const chains = 16;
    const kernel = nuts(quartic);
    const state = kernel.init(new Float64Array(chains).fill(1.5), chains);
    const info = kernel.step(keyFromSeed(15), state, { step: 2 });
    for (let c = 0; c < chains; c++) {
      assert.equal(info.divergent[c], 1);
      assert.equal(info.treeDepth[c], 0);
      assert.equal(info.numSteps[c], 1);
      assert.equal(info.accepted[c], 0);
      assert.ok(info.acceptProb[c] < 1e-100);
      assert.equal(state.position[c], 1.5);
      assert.equal(state.u[c], 1.5 ** 4);
    }
    // A modest step on the same energy does not diverge (the threshold is not hit by ordinary errors).
    const ok = nuts(quartic);
    const s2 = ok.init(new Float64Array(chains).fill(0.5), chains);
    for (let t = 0; t < 20; t++) {
      const r = ok.step(foldIn(keyFromSeed(16), t), s2, { step: 0.05 });
      assert.equal(
        r.divergent.reduce((x, y) => x + y, 0),
        0,
      );
    }
  });
});

describe("NUTS mechanics", () => {
  test("same key, same draws and parameters; another key, other draws", () => {
    const target = new GaussianEnergy([0, 1], [1, 0.5, 0.5, 2]);
    const kernel = nuts(target);
    const go = (seed: number) => {
      const state = kernel.init(Float64Array.of(0, 0, 1, 1, -1, 2), 3);
      const { params, info } = windowAdaptation(kernel, { numWarmup: 60 }).run(keyFromSeed(seed), state);
      const depths: number[] = [];
      sample(target, params, state, 10, seed + 1, (_s, i) => depths.push(...i.treeDepth));
      return { position: state.position, params, stepTrace: info.stepTrace, depths };
    };
    const a = go(21);
    const b = go(21);
    const c = go(22);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.position, c.position);
  });

  test("tree depth, leapfrog counts and the maximum depth are consistent", () => {
    const target = GaussianEnergy.isotropic([0, 0, 0], 1);
    const chains = 50;
    // Free trees: 2^depth − 1 ≤ steps ≤ 2^(depth+1) − 1 (merged doublings, plus at most one rejected one).
    const free = nuts(target);
    const s = free.init(new Float64Array(chains * 3).fill(0.5), chains);
    for (let t = 0; t < 20; t++) {
      const info = free.step(foldIn(keyFromSeed(31), t), s, { step: 0.3 });
      for (let c = 0; c < chains; c++) {
        const dd = info.treeDepth[c];
        assert.ok(info.numSteps[c] >= 2 ** dd - 1 && info.numSteps[c] <= 2 ** (dd + 1) - 1);
        assert.ok(info.acceptProb[c] > 0 && info.acceptProb[c] <= 1);
      }
    }
    // A tiny step never U-turns within 7 steps: the tree stops at maxTreeDepth = 3 with exactly 7 steps.
    const capped = nuts(target, { maxTreeDepth: 3 });
    const s2 = capped.init(new Float64Array(chains * 3).fill(0.5), chains);
    const info = capped.step(keyFromSeed(32), s2, { step: 1e-3 });
    assert.deepEqual(Array.from(info.treeDepth), new Array(chains).fill(3));
    assert.deepEqual(Array.from(info.numSteps), new Array(chains).fill(7));
  });

  test("a non-finite starting energy is flagged and the chain stays", () => {
    const target = GaussianEnergy.isotropic([0], 1);
    const kernel = nuts(target);
    const state = kernel.init(Float64Array.of(0.3, Number.NaN), 2);
    const info = kernel.step(keyFromSeed(0), state, { step: 0.5 });
    assert.deepEqual(Array.from(info.divergent), [0, 1]);
    assert.ok(Number.isNaN(state.position[1]));
    assert.equal(info.numSteps[1], 0);
  });
});

describe("adaptation building blocks", () => {
  test("Stan's window schedule", () => {
    // Stan, 1000 warm-up: windows end at 99, 149, 249, 449, 949 (the 5th stretched to the term buffer).
    assert.deepEqual(windowSchedule(1000).windows, [
      [75, 99],
      [100, 149],
      [150, 249],
      [250, 449],
      [450, 949],
    ]);
    // Too short for 75 + 25 + 50: 15% / 75% / 10%.
    assert.deepEqual(windowSchedule(100), { initBuffer: 15, termBuffer: 10, windows: [[15, 89]] });
    // Exactly fitting, and below 20 iterations (no variance estimation at all).
    assert.deepEqual(windowSchedule(150).windows, [[75, 99]]);
    assert.deepEqual(windowSchedule(19).windows, []);
  });

  test("dual averaging solves α(ε) = δ on a known acceptance curve at the predicted rate", () => {
    // α(ε) = e^{−ε} equals δ = 0.8 at ε* = −log 0.8. Deterministic, so the error can be predicted: with
    // y_t = log ε_t − log ε* and a = −dα/d(log ε) at ε* = 0.8·ε*, the recursion (t+t₀)H̄_t ≈ Σ a·y_i,
    // y_t = (μ − log ε*) − √t H̄_t/γ has the asymptotic solution y_t ≈ γ(μ − log ε*)/(2a√t). The iterate
    // must follow that law (10% slack for the O(t₀/t) terms), and the averaged step must be within 2%.
    const da = dualAveraging({ targetAccept: 0.8 });
    let s = da.init(1);
    assert.equal(s.mu, Math.log(10));
    const epsStar = -Math.log(0.8);
    const a = 0.8 * epsStar;
    const t = 2000;
    for (let i = 0; i < t; i++) s = da.update(s, Math.exp(-da.step(s)));
    const predicted = (0.05 * (Math.log(10) - Math.log(epsStar))) / (2 * a * Math.sqrt(t));
    const y = Math.log(da.step(s) / epsStar);
    assert.ok(Math.abs(y / predicted - 1) < 0.1, `log-step error ${y}, predicted ${predicted}`);
    assert.ok(Math.abs(Math.log(da.final(s) / epsStar)) < 0.02, `final step ${da.final(s)}`);
    // A wrong sign in the update would run away instead of converging.
    assert.ok(s.count === t && Number.isFinite(s.logStepAvg));
  });
});
