/**
 * `ebm sample` as a user runs it: every option documented, the --json summary (checked against the
 * target's exact moments with MCSE-based bounds), the .csv/.npy output, reproducibility, discrete
 * targets, and one-line errors that leave nothing written.
 *
 * The runs whose draws are checked are child processes; --help, refusals, and the second and third runs of
 * a comparison go through the CLI in-process (./in-process.ts: the first refusal also as a child process
 * that must print the same).
 *
 * The wasm pass skips the file: on these analytic targets no kernel has a wasm implementation, and the
 * TypeScript kernels that pass falls back to give the native kernels' draws bit for bit (checked on the
 * native pass by test/native/chain-streams.test.ts and resample.test.ts; test/cli/readme.test.ts prints
 * the same `ebm sample` numbers on both passes), so it would repeat these runs exactly.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { diagnosticWarnings, type QuantitySummary } from "../../src/node.ts";
import { WASM_PASS_SKIP } from "../helpers.ts";
import { ebmBothWays, ebmInProcess, ebmProcess as ebm } from "./in-process.ts";

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

interface DimSummary {
  mean: number;
  sd: number;
  ess_bulk: number;
  ess_tail: number;
  rhat: number;
  mcse: number;
}

const tmp = mkdtempSync(join(tmpdir(), "ebm-sample-"));
const gaussian = join(tmp, "gauss.yaml");
// Mean (1, −2), sds (1, 0.5), correlation 0.6.
writeFileSync(gaussian, "type: gaussian\nmean: [1, -2]\ncov: [[1, 0.3], [0.3, 0.25]]\n");
const ising = join(tmp, "ising.json");
// A 4-spin ring with coupling 0.5 and no field: E[s_i] = 0 by symmetry.
writeFileSync(
  ising,
  JSON.stringify({
    type: "ising",
    couplings: [
      [0, 0.5, 0, 0.5],
      [0.5, 0, 0.5, 0],
      [0, 0.5, 0, 0.5],
      [0.5, 0, 0.5, 0],
    ],
    field: [0, 0, 0, 0],
  }),
);

describe("ebm sample", { skip: WASM_PASS_SKIP }, () => {
  test("--help documents every option", async () => {
    const r = await ebmInProcess("sample", "--help");
    assert.equal(r.code, 0);
    for (const o of [
      "--target",
      "--sampler",
      "--chains",
      "--warmup",
      "--draws",
      "--step",
      "--beta",
      "--seed",
      "--thin",
      "--out",
      "--json",
    ])
      assert.match(r.stdout, new RegExp(o));
    for (const s of ["rwm", "ula", "mala", "hmc", "nuts", "kinetic", "gibbs", "flip", "gwg", "dmala"])
      assert.match(r.stdout, new RegExp(s));
  });

  test("NUTS on a correlated 2-D Gaussian: --json means within 5 MCSE of the truth, R-hat ≈ 1", () => {
    const r = ebm(
      "sample",
      "--target",
      gaussian,
      "--chains",
      "4",
      "--warmup",
      "500",
      "--draws",
      "1000",
      "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    const j = lastJson(r.stdout) as { dims: DimSummary[]; acceptance: number; divergences: number };
    const truth = [
      { mean: 1, sd: 1 },
      { mean: -2, sd: 0.5 },
    ];
    assert.equal(j.dims.length, 2);
    j.dims.forEach((d, i) => {
      assert.ok(Math.abs(d.mean - truth[i].mean) < 5 * d.mcse, `x${i} mean ${d.mean} ± ${d.mcse}`);
      // sd of the sd estimate ≈ sd/√(2·ESS) for a Gaussian coordinate.
      const sdErr = truth[i].sd / Math.sqrt(2 * d.ess_bulk);
      assert.ok(Math.abs(d.sd - truth[i].sd) < 5 * sdErr, `x${i} sd ${d.sd}`);
      assert.ok(d.rhat < 1.01, `x${i} rhat ${d.rhat}`);
      assert.ok(d.ess_bulk > 400, `x${i} ess ${d.ess_bulk}`);
    });
    assert.equal(j.divergences, 0);
    // A good run: nothing to warn about.
    assert.deepEqual((j as unknown as { warnings: unknown[] }).warnings, []);
    // Dual averaging targets δ = 0.8; the realised mean acceptance lands near it.
    assert.ok(j.acceptance > 0.6 && j.acceptance < 0.97, `acceptance ${j.acceptance}`);
  });

  test("--out writes a .csv with header x0,x1 and chains×draws rows; same seed, identical file", async () => {
    const a = join(tmp, "a.csv");
    const b = join(tmp, "b.csv");
    const args = ["sample", "--target", gaussian, "--sampler", "mala", "--chains", "3"];
    const more = ["--warmup", "100", "--draws", "50", "--seed", "7", "--json"];
    assert.equal(ebm(...args, ...more, "--out", a).code, 0);
    assert.equal((await ebmInProcess(...args, ...more, "--out", b)).code, 0);
    const text = readFileSync(a, "utf8");
    const lines = text.trim().split("\n");
    assert.equal(lines[0], "chain,draw,x0,x1");
    assert.equal(lines.length, 1 + 3 * 50);
    assert.ok(
      lines
        .slice(1)
        .every((l) => l.split(",").length === 4 && l.split(",").every((v) => Number.isFinite(Number(v)))),
    );
    // Draw-major: row t·chains + c holds draw t of chain c.
    assert.deepEqual(
      lines.slice(1, 5).map((l) => l.split(",").slice(0, 2).join(",")),
      ["0,0", "1,0", "2,0", "0,1"],
    );
    assert.equal(readFileSync(b, "utf8"), text);
    const c = join(tmp, "c.csv");
    const r = await ebmInProcess(...args, "--warmup", "100", "--draws", "50", "--seed", "8", "--out", c);
    assert.equal(r.code, 0);
    assert.notEqual(readFileSync(c, "utf8"), text);
  });

  test("--out .npy: a float64 array of shape (chains·draws, dim)", async () => {
    const f = join(tmp, "d.npy");
    const rwm = ["sample", "--target", gaussian, "--sampler", "rwm", "--chains", "2", "--draws", "30"];
    assert.equal((await ebmInProcess(...rwm)).code, 0);
    assert.equal(ebm(...rwm, "--out", f).code, 0);
    const buf = readFileSync(f);
    assert.equal(buf.subarray(0, 6).toString("latin1"), "\x93NUMPY");
    const header = buf.subarray(10, 10 + buf.readUInt16LE(8)).toString("latin1");
    assert.match(header, /'descr': '<f8'/);
    assert.match(header, /'shape': \(60, 2\)/);
    assert.equal(buf.length - 10 - buf.readUInt16LE(8), 60 * 2 * 8);
  });

  test("Ising ring with Gibbs: spins written as −1/1, magnetisation within 5 MCSE of 0", () => {
    const f = join(tmp, "spins.csv");
    const r = ebm(
      "sample",
      ...["--target", ising, "--sampler", "gibbs", "--chains", "4", "--warmup", "100"],
      ...["--draws", "2000", "--out", f, "--json"],
    );
    assert.equal(r.code, 0, r.stderr);
    const rows = readFileSync(f, "utf8").trim().split("\n");
    assert.equal(rows[0], "chain,draw,x0,x1,x2,x3");
    assert.ok(rows.slice(1).every((l) => /^\d,\d+(,(-1|1)){4}$/.test(l)));
    const j = lastJson(r.stdout) as { dims: DimSummary[] };
    for (const d of j.dims) assert.ok(Math.abs(d.mean) < 5 * d.mcse, `mean ${d.mean} ± ${d.mcse}`);
  });

  test("--draws 3: the NaN diagnostics are a warning with the reason; --json carries seed and warnings", async () => {
    const args = ["sample", "--target", gaussian, "--draws", "3", "--warmup", "50"];
    const r = await ebmInProcess(...args, "--seed", "11", "--json");
    assert.equal(r.code, 0, r.stderr);
    const j = lastJson(r.stdout) as { seed: number; warnings: { code: string; message: string }[] };
    assert.equal(j.seed, 11);
    assert.deepEqual(
      j.warnings.map((w) => w.code),
      ["too-few-draws"],
    );
    assert.match(j.warnings[0].message, /at least 4 draws per chain, got 3: they are NaN/);
    const text = await ebmInProcess(...args);
    assert.match(text.stdout, /warning: ESS, R-hat and MCSE need at least 4 draws per chain, got 3/);
  });

  test("a short funnel run: low ESS and R-hat warnings name the coordinates, worst first", async () => {
    const funnel = join(import.meta.dirname, "..", "..", "examples", "targets", "funnel.yaml");
    const args = ["--target", funnel, "--warmup", "100", "--draws", "100", "--seed", "3", "--json"];
    const r = await ebmInProcess("sample", ...args);
    assert.equal(r.code, 0, r.stderr);
    const j = lastJson(r.stdout) as { dims: DimSummary[]; warnings: { code: string; message: string }[] };
    const low = j.warnings.find((w) => w.code === "low-ess");
    assert.ok(low, JSON.stringify(j.warnings));
    // 4 chains: the threshold is 400 (100 per chain); the message names the worst coordinates and counts.
    assert.match(low.message, /^bulk or tail ESS < 400 \(100 per chain\) for x\d+ \(bulk \d+, tail \d+\)/);
    assert.match(low.message, /— \d+ of 10 coordinates/);
    const worst = Number(/for x(\d+)/.exec(low.message)?.[1]);
    const ess = (d: DimSummary) => Math.min(d.ess_bulk, d.ess_tail);
    assert.equal(ess(j.dims[worst]), Math.min(...j.dims.map(ess)));
    const rhat = j.warnings.find((w) => w.code === "rhat");
    if (rhat) assert.match(rhat.message, /^R-hat > 1\.01 for x\d+ \(\d\.\d{3}\)/);
  });

  test("diagnosticWarnings: NaN never passes silently, each with its reason", () => {
    const s = (o: Partial<QuantitySummary>): QuantitySummary => ({
      mean: 0,
      sd: 1,
      ess_bulk: 5000,
      ess_tail: 5000,
      rhat: 1,
      mcse_mean: 0.01,
      mcse_sd: 0.01,
      ...o,
    });
    const nan = Number.NaN;
    const w = diagnosticWarnings(
      [
        s({}),
        s({ mean: nan, sd: nan, ess_bulk: nan, ess_tail: nan, rhat: nan }),
        s({ sd: 0, ess_bulk: nan, ess_tail: nan, rhat: nan }),
        s({ rhat: nan }),
        s({ ess_tail: nan }), // two-valued coordinate: not flagged
        s({ rhat: 1.2, ess_bulk: 50 }),
      ],
      4,
      1000,
    );
    assert.deepEqual(
      w.map((x) => [x.code, x.coordinates]),
      [
        ["non-finite-draws", [1]],
        ["constant-draws", [2]],
        ["nan-rhat", [3]],
        ["rhat", [5]],
        ["low-ess", [5]],
      ],
    );
    assert.match(w[3].message, /^R-hat > 1\.01 for x5 \(1\.200\) — 1 of 6 coordinates/);
    const many = diagnosticWarnings(
      Array.from({ length: 9 }, (_, j) => s({ ess_bulk: 10 + j })),
      2,
      100,
    );
    assert.match(
      many[0].message,
      /< 200 \(100 per chain\) for x0 \(bulk 10, tail 5000\), x1 .* and 4 more — 9 of 9 coordinates/,
    );
  });

  for (const [what, args, pattern] of [
    ["a missing --target", [], /--target/],
    ["an unknown sampler", ["--target", "T", "--sampler", "slice"], /--sampler/],
    ["a non-integer --chains", ["--target", "T", "--chains", "2.5"], /--chains/],
    ["a negative --beta", ["--target", "T", "--beta", "-1"], /--beta/],
    ["ULA without --step", ["--target", "T", "--sampler", "ula"], /--step/],
    ["a discrete kernel on a continuous target", ["--target", "T", "--sampler", "gibbs"], /gibbs/],
  ] as [string, string[], RegExp][]) {
    test(`rejects ${what} with one line, exit ≠ 0, nothing written`, async () => {
      const out = join(tmp, `never-${what.replace(/\W+/g, "_")}.csv`);
      const run = what === "a missing --target" ? ebmBothWays : ebmInProcess;
      const r = await run("sample", ...args.map((a) => (a === "T" ? gaussian : a)), "--out", out);
      assert.notEqual(r.code, 0);
      const lines = r.stderr
        .trim()
        .split("\n")
        .filter((l) => l && !/nodedir/.test(l));
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], pattern);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.ok(!existsSync(out));
    });
  }

  test("a malformed target file names the file and the field", async () => {
    const bad = join(tmp, "bad.yaml");
    writeFileSync(bad, "type: gaussian\nmean: [0, 0]\ncov: [[1, 2], [2, 1]]\n");
    const r = await ebmInProcess("sample", "--target", bad);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /bad\.yaml/);
    assert.match(r.stderr, /cov/);
  });
});
