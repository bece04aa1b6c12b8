/**
 * "Never wrong in silence" on the gmm1d experiment: a Jarzynski run whose weights cannot be trusted is
 * flagged everywhere a user looks — the library result, the text report, the JSON `warnings` and the
 * figure (ESS before resampling, resampling marks) — a healthy run is not, the reported standard errors
 * cover the truth, and numerical failures end in one line with exit 3 (bad option ranges: exit 2).
 *
 * Why these runs fire for a real reason, at small sizes: ULA with step 1.9 in wells of curvature 1 is
 * past hλ = 1 (it overshoots the minimum; its stationary variance is 20× the target's), so every update
 * spreads the log-weights over ≫ 1.5·log N and the ESS falls below N/2 at almost every update (measured
 * at 200 walkers and 60 iterations: 59 resamplings, median spread 28 against 1.5·log 200 = 7.9). 20
 * walkers is below the 100 the checks need whatever the run does. The healthy default (step 0.01) has
 * spreads of 0.01–0.04 and no resampling.
 *
 * The CLI's text report is a child process; its other cases go through the CLI in-process
 * (../cli/in-process.ts). The wasm pass skips the CLI cases: the library runs above cover that pass (the
 * run reaches no kernel with a wasm implementation, and the TypeScript resampling it falls back to draws
 * the native kernel's ancestors bit for bit: test/native/resample.test.ts).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ESS_SERIES, gmm1dFigureSpec, RESAMPLING_RULES } from "../../src/cli/commands/gmm1d.ts";
import { GMM1D_DEFAULTS, type Gmm1dOptions, runGmm1d } from "../../src/experiments/gmm1d.ts";
import { ebmInProcess } from "../cli/in-process.ts";
import { WASM_PASS_SKIP as skip } from "../helpers.ts";

const SMALL: Partial<Gmm1dOptions> = { iterations: 60, walkers: 200, dataSize: 1000, methods: ["jarzynski"] };
const small = (extra: Partial<Gmm1dOptions>) => runGmm1d({ ...GMM1D_DEFAULTS, ...SMALL, ...extra });

/** Every object in a (Vega-Lite) spec tree. */
function* walk(v: unknown): Generator<Record<string, unknown>> {
  if (Array.isArray(v)) for (const x of v) yield* walk(x);
  else if (v && typeof v === "object") {
    yield v as Record<string, unknown>;
    for (const x of Object.values(v)) yield* walk(x);
  }
}

/** The inline data rows of the layers whose mark is `mark`, for series `name`. */
function rows(spec: object, mark: string, name: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const o of walk(spec)) {
    const m = o.mark as { type?: string } | undefined;
    const values = (o.data as { values?: Record<string, unknown>[] } | undefined)?.values;
    if (m?.type === mark && values) out.push(...values.filter((r) => r.series === name));
  }
  return out;
}

describe("gmm1d: unreliable Jarzynski runs are flagged in the library result", () => {
  const bad = small({ step: 1.9 });
  const j = bad.methods.jarzynski!;
  const n = bad.options.walkers;

  test("step 1.9: resampling at almost every update and an overshooting move", (t) => {
    t.diagnostic(j.warnings.map((w) => `${w.code}: ${w.message}`).join(" | "));
    const codes = j.warnings.map((w) => w.code);
    assert.ok(codes.includes("resampling_frequent"), codes.join());
    assert.ok(codes.includes("move_unstable"), codes.join());
    assert.equal(j.unreliable, true);
    assert.deepEqual(
      bad.warnings.map((w) => [w.method, w.code]),
      j.warnings.map((w) => ["jarzynski", w.code]),
    );
  });

  test("the ESS trace is taken before resampling; the resampling iterations are recorded", () => {
    assert.equal(j.resampledAt.length, j.resamplings);
    assert.ok(j.resamplings > 30, `${j.resamplings} resamplings`);
    // Resampling happens exactly when the ESS before it is below the threshold 0.5·N.
    for (let k = 1; k < j.essTrace.length; k++)
      assert.equal(
        j.resampledAt.includes(k),
        j.essTrace[k] < 0.5 * n,
        `iteration ${k}: ESS ${j.essTrace[k]}`,
      );
    assert.ok(j.essTrace[j.essTrace.length - 1] < n, "the last ESS is not the post-resampling N");
    assert.equal(j.health.updates, SMALL.iterations);
  });

  test("the figure plots the ESS before resampling and marks every resampling", () => {
    const spec = gmm1dFigureSpec(bad);
    const ess = rows(spec, "line", ESS_SERIES);
    assert.ok(ess.length > 0, "ESS series present");
    assert.ok(
      ess.some((r) => (r["ESS / N"] as number) < 0.5),
      "it shows the drops below the threshold",
    );
    const marks = rows(spec, "rule", RESAMPLING_RULES);
    assert.deepEqual(
      marks.map((r) => r.iteration),
      j.resampledAt,
    );
    assert.ok(JSON.stringify(spec).includes("UNRELIABLE"), "the log Z panel says so");
  });

  test("20 walkers are too few to trust, whatever the weights look like", () => {
    const r = small({ walkers: 20 });
    assert.deepEqual(
      r.methods.jarzynski!.warnings.map((w) => w.code),
      ["few_walkers"],
    );
    assert.equal(r.methods.jarzynski!.unreliable, true);
  });

  test("a healthy small run: no warning, ESS series without resampling marks", () => {
    const r = small({});
    assert.deepEqual(r.warnings, []);
    assert.equal(r.methods.jarzynski!.unreliable, false);
    const spec = gmm1dFigureSpec(r);
    assert.ok(rows(spec, "line", ESS_SERIES).length > 0);
    assert.equal(rows(spec, "rule", RESAMPLING_RULES).length, 0);
  });
});

test("the reported standard errors of log Z and of the weighted mass cover the truth ~95% of the time", (t) => {
  // 100 seeds at 200 walkers, 100 iterations. The truth: the exact log Z of the final model, and its mass
  // q(z) of mode b (what the weighted walkers estimate). Hits ~ Binomial(100, 0.95): mean 95, sd 2.2;
  // allow 3 sd below (measured: 95/100 and 96/100 over these seeds).
  const seeds = 100;
  let hitZ = 0;
  let hitM = 0;
  for (let seed = 0; seed < seeds; seed++) {
    const r = runGmm1d({ ...GMM1D_DEFAULTS, ...SMALL, iterations: 100, dataSize: 500, seed });
    const j = r.methods.jarzynski!;
    const T = j.logZEstimate.length - 1;
    assert.deepEqual(j.warnings, [], `seed ${seed}`);
    if (Math.abs(j.logZEstimate[T] - j.logZExact[T]) < 2 * j.logZSe) hitZ++;
    if (Math.abs(j.walkerMassB! - j.q) < 2 * j.walkerMassBSe!) hitM++;
  }
  t.diagnostic(`log Z coverage ${hitZ}/${seeds}, mass coverage ${hitM}/${seeds}`);
  assert.ok(hitZ >= 95 - 3 * 2.2, `log Z: ${hitZ}/${seeds}`);
  assert.ok(hitM >= 95 - 3 * 2.2, `mass: ${hitM}/${seeds}`);
});

const BIN = join(import.meta.dirname, "..", "..", "bin", "ebm.js");
const tmp = mkdtempSync(join(tmpdir(), "ebm-health-"));
const CLI_SMALL = ["--iters", "60", "--walkers", "200", "--data", "1000", "--methods", "jarzynski"];

function ebm(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, CI: "1" },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertOneLineError(r: { code: number | null; stderr: string }, code: number, pattern: RegExp) {
  assert.equal(r.code, code, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at |internal error/);
}

describe("gmm1d CLI: warnings in the text and JSON reports; one-line failures", { skip }, () => {
  test("step 1.9: the text report marks log Z and the mass unreliable, one line per warning; results.json too", () => {
    const out = join(tmp, "text");
    const r = ebm("reproduce", "gmm1d", ...CLI_SMALL, "--step", "1.9", "--seed", "7", "--out", out);
    assert.equal(r.code, 0, r.stderr);
    const warnings = r.stdout.split("\n").filter((l) => /^ {2}warning: jarzynski: /.test(l));
    assert.ok(warnings.length >= 2, r.stdout);
    assert.match(r.stdout, /Jarzynski SMC .*unreliable/);
    assert.match(r.stdout, /Jarzynski: UNRELIABLE .*log Z/);
    const md = readFileSync(join(out, "report.md"), "utf8");
    assert.match(md, /\*\*Warnings\*\*/);
    assert.match(md, /`resampling_frequent`/);
    // results.json is the --json object.
    const res = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    assert.equal(res.seed, 7);
    const codes = res.warnings.map((w: { code: string }) => w.code);
    assert.ok(codes.includes("resampling_frequent") && codes.includes("move_unstable"), codes.join());
    assert.equal(warnings.length, codes.length);
    for (const w of res.warnings) assert.equal(w.method, "jarzynski");
    assert.equal(res.methods.jarzynski.unreliable, true);
    assert.equal(typeof res.methods.jarzynski.logz_se, "number");
    assert.ok(res.methods.jarzynski.final_ess < 200, "final ESS is taken before resampling");
    // The rendered figure shows the ESS before resampling and the resampling marks in its legend.
    const svg = readFileSync(join(out, "gmm1d.svg"), "utf8");
    for (const label of [ESS_SERIES, RESAMPLING_RULES]) assert.ok(svg.includes(`>${label}</text>`), label);
    const traces = JSON.parse(readFileSync(join(out, "traces.json"), "utf8"));
    assert.equal(traces.jarzynski.resampled_at.length, res.methods.jarzynski.resamplings);
  });

  test("20 walkers: the --json line carries the seed and the warning", async () => {
    const r = await ebmInProcess(
      ...["reproduce", "gmm1d", ...CLI_SMALL, "--walkers", "20", "--out", join(tmp, "few"), "--json"],
    );
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout.trim().split("\n").pop()!);
    assert.equal(res.seed, 0);
    assert.deepEqual(
      res.warnings.map((w: { code: string }) => w.code),
      ["few_walkers"],
    );
    assert.equal(res.methods.jarzynski.unreliable, true);
  });

  test("--step 10: PCD's walkers diverge; one line naming --step, exit 3, no report folder", async () => {
    const out = join(tmp, "step10", "report");
    const r = await ebmInProcess(
      "reproduce",
      "gmm1d",
      "--step",
      "10",
      "--methods",
      "pcd",
      "--walkers",
      "100",
      "--data",
      "100",
      "--iters",
      "400",
      "--out",
      out,
    );
    assertOneLineError(r, 3, /^ebm: numerical failure: pcd: the walkers diverged: .*--step/);
    assert.equal(r.stdout, "");
    assert.equal(existsSync(join(tmp, "step10")), false, "no folder left behind");
  });

  test("modes whose energies overflow are refused before the run: exit 2, one line naming --modes", async () => {
    const out = join(tmp, "huge");
    const r = await ebmInProcess("reproduce", "gmm1d", "--modes=-1e308,1e308", "--out", out);
    assertOneLineError(r, 2, /^ebm: error: --modes/);
    assert.equal(existsSync(out), false);
  });
});
