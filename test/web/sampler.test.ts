/**
 * The playground's sampler tab in Node (web/src/sampler/): its targets are the loader's (on the example
 * files and on its own target-file data), their exact moments are right, a run is a function of its settings
 * and seed and is what `ebm sample` computes, the URL keeps both tabs' settings, the diagnostics are
 * honest on the Gaussian (means within 4 MCSE of the exact ones) and flag the funnel, and nothing on the
 * path calls Math's libm functions, so the page can give Node's numbers to the bit
 * (test/browser/sampler-tab.test.ts).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  backendInfo,
  CONTINUOUS_SAMPLERS,
  type ContinuousTarget,
  type Energy,
  FunnelEnergy,
  keyFromSeed,
  loadTarget,
  parseTarget,
  runContinuous,
  setBackend,
  summarize,
  TARGET_ACCEPT,
} from "../../src/node.ts";
import { runSampler, type SamplerResult, targetView } from "../../web/src/sampler/session.ts";
import {
  checkSamplerSettings,
  cliCommand,
  pageHash,
  SAMPLER_DEFAULTS,
  type SamplerSettings,
  SAMPLERS,
  samplerFromHash,
  samplerToHash,
  TARGET_ACCEPTANCE,
  TARGET_FILES,
  TARGETS,
} from "../../web/src/sampler/settings.ts";
import { buildTarget } from "../../web/src/sampler/targets.ts";
import { cloneSettings, DEFAULTS, settingsFromHash, settingsToHash } from "../../web/src/settings.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const EXAMPLES = join(ROOT, "examples", "targets");

function continuous(t: ReturnType<typeof loadTarget>): ContinuousTarget {
  assert.equal(t.kind, "continuous");
  return t as ContinuousTarget;
}

/** U and ∇U of both energies at the same points, bit for bit. */
function assertSameEnergy(a: Energy, b: Energy, what: string): void {
  assert.equal(a.dim, 2, what);
  assert.equal(b.dim, 2, what);
  const pts = Float64Array.from([0, 0, -2, 0.3, 1.7, -1.1, 3.2, 2.5, -0.4, -3.9, 0.01, 7]);
  const n = pts.length / 2;
  const eval2 = (e: Energy) => {
    const u = new Float64Array(n);
    const g = new Float64Array(2 * n);
    e.energyAndGrad(pts, n, u, g);
    const u2 = new Float64Array(n);
    e.energy(pts, n, u2);
    return { u, g, u2 };
  };
  assert.deepStrictEqual(eval2(a), eval2(b), what);
}

test("the tab's targets are the loader's: the example files and the target-file data the page shows", () => {
  for (const name of TARGETS) {
    const file = parseTarget(JSON.stringify(TARGET_FILES[name]), `${name}.json`, "json", ROOT);
    assertSameEnergy(buildTarget(name).energy, continuous(file).energy, `${name} vs its target-file data`);
  }
  const gmm = continuous(loadTarget(join(EXAMPLES, "gmm2d.yaml")));
  assertSameEnergy(buildTarget("gmm2d").energy, gmm.energy, "gmm2d vs examples/targets/gmm2d.yaml");
  // funnel.yaml is 10-D: the tab's funnel is the same file with dim 2 (and the same scale).
  const text = readFileSync(join(EXAMPLES, "funnel.yaml"), "utf8");
  const ten = continuous(loadTarget(join(EXAMPLES, "funnel.yaml")));
  assert.equal(ten.energy.dim, 10);
  const mine = buildTarget("funnel").energy;
  assert.ok(mine instanceof FunnelEnergy && ten.energy instanceof FunnelEnergy);
  assert.equal(mine.scale, ten.energy.scale);
  assert.match(text, /^dim: 10$/m);
  const two = parseTarget(text.replace(/^dim: 10$/m, "dim: 2"), "funnel2.yaml", "yaml", EXAMPLES);
  assertSameEnergy(mine, continuous(two).energy, "funnel vs examples/targets/funnel.yaml in 2-D");
});

test("exact moments: within 4 standard errors of 200 000 exact draws (the funnel's x₂ sd by quadrature)", () => {
  const n = 200_000;
  for (const name of TARGETS) {
    const t = buildTarget(name);
    const energy = t.energy as Energy & {
      sampleExact(key: ReturnType<typeof keyFromSeed>, n: number, out: Float64Array): void;
    };
    const x = new Float64Array(2 * n);
    energy.sampleExact(keyFromSeed(7), n, x);
    for (let j = 0; j < 2; j++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += x[2 * i + j];
      m /= n;
      let m2 = 0;
      let m4 = 0;
      for (let i = 0; i < n; i++) {
        const d = (x[2 * i + j] - m) ** 2;
        m2 += d;
        m4 += d * d;
      }
      m2 /= n;
      m4 /= n;
      const se = Math.sqrt(m2 / n);
      assert.ok(
        Math.abs(m - t.mean[j]) < 4 * se,
        `${name} x${j + 1}: mean ${m} vs exact ${t.mean[j]} (SE ${se})`,
      );
      // The funnel's x₂ has E x⁴ = 3e^{2σ²}: its sample variance has no usable standard error.
      if (name === "funnel" && j === 1) continue;
      const seVar = Math.sqrt((m4 - m2 * m2) / n);
      const v = t.sd[j] ** 2;
      assert.ok(
        Math.abs(m2 - v) < 4 * seVar,
        `${name} x${j + 1}: variance ${m2} vs exact ${v} (SE ${seVar})`,
      );
    }
  }
  // Var x₂ = E eᵛ under v ~ N(0, σ²): Simpson's rule on ±12σ.
  const f = buildTarget("funnel");
  const s = f.sd[0];
  const steps = 20_000;
  const h = (24 * s) / steps;
  let sum = 0;
  for (let i = 0; i <= steps; i++) {
    const v = -12 * s + i * h;
    const w = i === 0 || i === steps ? 1 : i % 2 === 1 ? 4 : 2;
    sum += w * Math.exp(v) * Math.exp((-0.5 * v * v) / (s * s));
  }
  const varX2 = (sum * h) / 3 / Math.sqrt(2 * Math.PI * s * s);
  assert.ok(Math.abs(f.sd[1] ** 2 / varX2 - 1) < 1e-9, `funnel Var x₂ ${f.sd[1] ** 2} vs ${varX2}`);
});

const small = (o: Partial<SamplerSettings>): SamplerSettings => ({
  ...SAMPLER_DEFAULTS,
  draws: 200,
  warmup: 200,
  ...o,
});

test("a run is a function of its settings and seed, and is what `ebm sample` computes", () => {
  for (const sampler of SAMPLERS) {
    const s = small({ sampler, target: "banana", seed: 3 });
    const a = runSampler(s);
    const b = runSampler({ ...s });
    assert.deepStrictEqual(b, a, `${sampler}: same settings, same run`);
    assert.notDeepStrictEqual(runSampler({ ...s, seed: 4 }).draws, a.draws, `${sampler}: another seed`);
    // `ebm sample --target FILE --sampler S --chains … --seed …` runs runContinuous with these options
    // (src/cli/commands/sample.ts) on the loaded file: the same draws and the same table.
    const file = continuous(parseTarget(JSON.stringify(TARGET_FILES.banana), "t.json", "json", ROOT));
    const cli = runContinuous(file.energy, {
      sampler,
      chains: s.chains,
      warmup: s.warmup,
      draws: s.draws,
      thin: 1,
      beta: 1,
      leapfrogSteps: 10,
      metric: "auto",
      friction: 1,
      key: keyFromSeed(s.seed),
    });
    assert.deepStrictEqual(a.draws, cli.draws, sampler);
    assert.deepStrictEqual(a.summaries, summarize(cli.draws, s.chains, 2), sampler);
    assert.deepEqual(
      [a.acceptance, a.divergences, a.warmupDivergences, a.step],
      [cli.acceptance, cli.divergences, cli.warmupDivergences, cli.step],
    );
    assert.match(
      cliCommand(s, "t.json"),
      /^npx ebm sample --target t\.json --sampler \w+ --chains 4 --warmup 200 --draws 200 --seed 3$/,
    );
  }
  // A fixed step (no adaptation) is `--step`; HMC's path length `--leapfrog-steps`.
  const fixed = small({ sampler: "hmc", adapt: false, step: 0.3, leapfrog: 7 });
  const r = runSampler(fixed);
  assert.equal(r.step, 0.3);
  assert.equal(r.inverseMass, undefined);
  assert.match(cliCommand(fixed, "t.json"), / --step 0\.3 --leapfrog-steps 7$/);
});

test("MALA's chains are the same on the TypeScript kernels as on this process's default backend", () => {
  const s = small({ sampler: "mala", adapt: false, step: 0.2, target: "gaussian" });
  const here = runSampler(s);
  const prev = backendInfo();
  setBackend("typescript");
  try {
    assert.deepStrictEqual(runSampler(s), here, `typescript vs ${prev.name}`);
  } finally {
    setBackend(prev.requested, prev.source);
  }
});

test("the URL: both tabs' settings survive, defaults stay out, bad values are reported", () => {
  const s: SamplerSettings = {
    ...SAMPLER_DEFAULTS,
    target: "funnel",
    sampler: "hmc",
    adapt: false,
    step: 0.05,
    leapfrog: 25,
    seed: 12,
  };
  assert.equal(
    samplerToHash(s),
    "tab=sampler&s.target=funnel&s.sampler=hmc&s.adapt=0&s.step=0.05&s.leapfrog=25&s.seed=12",
  );
  const train = cloneSettings(DEFAULTS);
  Object.assign(train, { data: "moons", lr: 2.5e-4, seed: 9 });
  train.b = null;
  const hash = `#${pageHash(settingsToHash(train), s)}`;
  assert.deepEqual(samplerFromHash(hash), { tab: "sampler", settings: s, problems: [] });
  // The Train tab reads its own keys and ignores the sampler's.
  assert.deepEqual(settingsFromHash(hash), { settings: train, problems: [] });
  assert.deepEqual(samplerFromHash(`#${settingsToHash(train)}`), {
    tab: "train",
    settings: SAMPLER_DEFAULTS,
    problems: [],
  });
  assert.deepEqual(samplerFromHash(""), { tab: "train", settings: SAMPLER_DEFAULTS, problems: [] });
  assert.equal(pageHash("", SAMPLER_DEFAULTS), "tab=sampler&s.target=gmm2d&s.sampler=nuts");
  const bad = samplerFromHash(
    "#tab=sampler&s.target=donut&s.sampler=gibbs&s.draws=abc&s.chains=0&s.adapt=yes",
  );
  assert.deepEqual(bad.problems, [
    "s.target: unknown target 'donut'",
    "s.sampler: unknown sampler 'gibbs'",
    "s.adapt: 'yes' is not 0 or 1",
    "s.draws: 'abc' is not a number",
    "chains must be an integer in [1, 16], got 0",
  ]);
  assert.equal(bad.tab, "sampler");
  assert.deepEqual(checkSamplerSettings({ ...SAMPLER_DEFAULTS, warmup: 5 }), [
    "warm-up must be at least 20 to adapt, got 5 (or switch adaptation off)",
  ]);
  assert.deepEqual(checkSamplerSettings({ ...SAMPLER_DEFAULTS, warmup: 0, adapt: false }), []);
  assert.throws(
    () => runSampler({ ...SAMPLER_DEFAULTS, draws: 3 }),
    /draws must be an integer in \[10, 20000\]/,
  );
});

test("the page's kernel list and target acceptances are the core's", () => {
  for (const s of SAMPLERS) {
    assert.ok((CONTINUOUS_SAMPLERS as readonly string[]).includes(s), s);
    assert.equal(TARGET_ACCEPTANCE[s], TARGET_ACCEPT[s], s);
  }
});

/** (mean − exact) / MCSE per coordinate. */
const zScores = (r: SamplerResult) => r.summaries.map((q, j) => (q.mean - r.exactMean[j]) / q.mcse_mean);

test("diagnostics on the Gaussian: NUTS, HMC and MALA means within 4 MCSE of the exact mean (seed 0)", () => {
  for (const sampler of ["nuts", "hmc", "mala"] as const) {
    const r = runSampler({ ...SAMPLER_DEFAULTS, target: "gaussian", sampler });
    const z = zScores(r);
    for (let j = 0; j < 2; j++) {
      const q = r.summaries[j];
      assert.ok(
        Math.abs(z[j]) < 4,
        `${sampler} x${j + 1}: mean ${q.mean} ± ${q.mcse_mean}, exact ${r.exactMean[j]}`,
      );
      assert.ok(q.rhat < 1.01, `${sampler} x${j + 1}: R-hat ${q.rhat}`);
      assert.ok(
        q.ess_bulk > 400 && q.ess_tail > 400,
        `${sampler} x${j + 1}: ESS ${q.ess_bulk}, ${q.ess_tail}`,
      );
      const zSd = (q.sd - r.exactSd[j]) / q.mcse_sd;
      assert.ok(Math.abs(zSd) < 4, `${sampler} x${j + 1}: sd ${q.sd} ± ${q.mcse_sd}, exact ${r.exactSd[j]}`);
    }
    assert.equal(r.divergences, 0, sampler);
    assert.ok(
      r.divergent.every((v) => v === 0),
      sampler,
    );
    assert.deepEqual(r.warnings, [], sampler);
  }
});

test("negative control: the same check fails on the funnel, where NUTS diverges (seed 0)", () => {
  const r = runSampler({ ...SAMPLER_DEFAULTS, target: "funnel", sampler: "nuts" });
  assert.ok(r.divergences > 0, "divergences after warm-up");
  // Every divergent transition flags the draw it led to (no thinning here), and they sit in the funnel's
  // neck: their mean of x₁ = v is below the mean of all the draws' (the neck is at v ≪ 0).
  const flagged: number[] = [];
  r.divergent.forEach((v, i) => v && flagged.push(i));
  assert.equal(flagged.length, r.divergences);
  assert.equal(r.divergent.length, r.numDraws * r.chains);
  const meanV = flagged.reduce((a, i) => a + r.draws[2 * i], 0) / flagged.length;
  assert.ok(meanV < r.summaries[0].mean - 1, `divergent draws' mean v ${meanV}, all ${r.summaries[0].mean}`);
  assert.ok(Math.max(...zScores(r).map(Math.abs)) > 4, `z-scores ${zScores(r)}`);
  assert.ok(r.warnings.some((w) => /divergent transitions after warm-up/.test(w)));
});

test("no Math libm call on the path: the same numbers with every one of them one ulp off", () => {
  const LIBM =
    "exp expm1 log log1p log2 log10 pow sin cos tan asin acos atan atan2 sinh cosh tanh asinh acosh atanh cbrt hypot";
  const work = () =>
    TARGETS.map((target) => ({
      view: targetView(target, 24),
      runs: SAMPLERS.map((sampler) => runSampler(small({ target, sampler, draws: 100, warmup: 100 }))),
    }));
  const f64 = new Float64Array(1);
  const i64 = new BigInt64Array(f64.buffer);
  const math = Math as unknown as Record<string, (...args: number[]) => number>;
  const saved = LIBM.split(" ").map((name) => [name, math[name]] as const);
  const calls: Record<string, number> = {};
  for (const [name, fn] of saved)
    math[name] = (...args: number[]) => {
      calls[name] = (calls[name] ?? 0) + 1;
      const y = fn(...args);
      if (!Number.isFinite(y) || y === 0) return y;
      f64[0] = y;
      i64[0] += 1n;
      return f64[0];
    };
  let perturbed: ReturnType<typeof work>;
  try {
    perturbed = work();
  } finally {
    for (const [name, fn] of saved) math[name] = fn;
  }
  // Unperturbed second: what the first run computed once and cached (the FFT's twiddles) was perturbed.
  const plain = work();
  assert.deepEqual(calls, {}, "calls of Math's libm functions");
  assert.deepStrictEqual(perturbed, plain);
});
