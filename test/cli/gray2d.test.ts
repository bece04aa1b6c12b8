/**
 * `ebm reproduce gray2d` as a user runs it: `--quick --json` end to end (the figure, report.md and
 * results.json in the report folder, one JSON object on stdout's last line with each method's held-out
 * NLL and its SE), the exact 8-bit variant's report, and one-line errors with exit code 2 for bad options,
 * with nothing written.
 *
 * The end-to-end runs pass --quick with a tiny budget on top (20 iterations of an 8-unit MLP, 100
 * walkers): what is checked here is the command (files, JSON fields, report lines); the numbers of the
 * --quick budget itself are asserted in-process by test/experiments/gray2d-quick.test.ts. Bad options and
 * --help run in-process (./in-process.ts; the first also as a child process that must print the same).
 *
 * The wasm pass skips the file: the command's own code is the same on every backend, and the kernel it
 * reaches there (the MLP on TensorFlow.js, as energies of 0/1 states with GWG and annealed log Z) is
 * checked on that pass by test/energies/binary-view.test.ts and test/objectives/discrete-objectives.test.ts
 * (against enumeration); the run's evaluation alone took ~45 s of CPU on it.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { WASM_PASS_SKIP } from "../helpers.ts";
import { ebmBothWays, ebmInProcess, ebmProcess as ebm } from "./in-process.ts";

const tmp = mkdtempSync(join(tmpdir(), "ebm-gray2d-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
const small = ["--iters", "20", "--hidden", "8", "--walkers", "100"];

describe("ebm reproduce gray2d", { skip: WASM_PASS_SKIP }, () => {
  test("--quick --json: figure, report, results and one JSON line", () => {
    const out = join(tmp, "quick");
    const r = ebm("reproduce", "gray2d", "--quick", ...small, "--out", out, "--json");
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout.trim().split("\n").pop() as string);
    assert.equal(s.experiment, "gray2d");
    assert.equal(s.options.bits, 16);
    // The training pool defaults to as many points as the minibatches draw (20 iterations × 200).
    assert.equal(s.options.dataSize, 20 * 200);
    const d = s.datasets[0];
    assert.equal(d.name, "8gaussians");
    assert.equal(d.sites, 32);
    for (const m of ["cd", "pcd", "jarzynski"]) {
      assert.ok(Number.isFinite(d.methods[m].nll) && d.methods[m].nll_se > 0, m);
      assert.ok(Number.isFinite(d.methods[m].nll_smc), m);
      assert.equal(d.methods[m].masses.length, 8, m);
      assert.ok(d.methods[m].max_mass_error >= 0 && d.methods[m].max_mass_error_se > 0, m);
    }
    assert.equal(d.methods.jarzynski.log_z_source, "estimator");
    // PCD's chains' mode changes (last quarter: 5 of the 20 iterations, 100 chains); none for CD or Jarzynski.
    assert.equal(d.methods.pcd.mode_hops.chains, 100);
    assert.equal(d.methods.pcd.mode_hops.iterations, 5);
    assert.ok(d.methods.pcd.mode_hops.per_chain_iteration >= 0);
    assert.equal(d.methods.cd.mode_hops, null);
    assert.equal(d.methods.jarzynski.mode_hops, null);
    assert.ok(d.methods.jarzynski.trace.at(-1).logZEstimatorSe > 0);
    for (const f of ["gray2d.png", "gray2d.svg", "report.md", "results.json"])
      assert.ok(existsSync(join(out, f)), f);
    assert.equal(readFileSync(join(out, "gray2d.png")).subarray(1, 4).toString(), "PNG");
    const report = readFileSync(join(out, "report.md"), "utf8");
    assert.match(report, /held-out NLL/);
    assert.match(report, /from 4000 training points \(as many as the minibatches draw/);
    assert.match(report, /estimator population/);
    assert.deepEqual(JSON.parse(readFileSync(join(out, "results.json"), "utf8")), s);
  });

  test("--bits 8: exact evaluation by enumeration, and exact maximum likelihood as a method", () => {
    const out = join(tmp, "bits8");
    const r = ebm(
      "reproduce",
      "gray2d",
      "--quick",
      ...small,
      "--bits",
      "8",
      "--methods",
      "jarzynski,exact",
      "--data-size",
      "500",
      "--out",
      out,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /16 sites \(2\^16 states\).*exact evaluation by enumeration/);
    assert.match(r.stdout, /Jarzynski\s+\d+\.\d+ ± \d+\.\d+\s+KL \d+\.\d+/);
    assert.match(r.stdout, /exact ML\s+\d+\.\d+ ± \d+\.\d+\s+KL \d+\.\d+/);
    assert.match(r.stdout, /exact ML − Jarzynski -?\d+\.\d+ ± \d+\.\d+/);
    const report = readFileSync(join(out, "report.md"), "utf8");
    assert.match(report, /estimator − exact \(in SE\)/);
    assert.match(report, /from 500 training points \(a fixed sample: each point is drawn about 8\.0 times\)/);
  });

  test("bad options: one line, exit 2, nothing written", async () => {
    const out = join(tmp, "never");
    const cases: [string[], RegExp][] = [
      [["--datasets", "nope"], /--datasets: unknown data set 'nope'/],
      [["--methods", "cd,magic"], /--methods: unknown method 'magic'/],
      [["--bits", "40"], /--bits must be an integer from 2 to 16/],
      [["--methods", "pcd,exact"], /--methods: 'exact' needs an enumerable model, .*got bits 16/],
      [["--box", "3,1"], /--box: expected two numbers LO,HI with LO < HI, got '3,1'/],
      [["--box", "1"], /--box: expected two numbers LO,HI/],
      [["--move", "hmc"], /--move: expected gwg or dmala, got 'hmc'/],
      [["--iters", "0"], /--iters must be an integer ≥ 1/],
      [["--data-size", "1"], /--data-size must be an integer ≥ 2/],
      [["--lr", "-1"], /--lr must be positive/],
      [["--hidden", "16,x"], /--hidden must be a number/],
      [["--seed", "1.5"], /--seed must be an integer/],
    ];
    for (const [i, [args, re]] of cases.entries()) {
      const r = await (i === 0 ? ebmBothWays : ebmInProcess)("reproduce", "gray2d", ...args, "--out", out);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.ok(!existsSync(out));
    }
  });

  test("--help lists the options", async () => {
    const r = await ebmInProcess("reproduce", "gray2d", "--help");
    assert.equal(r.code, 0);
    for (const o of [
      "--quick",
      "--datasets",
      "--bits",
      "--box",
      "--move",
      "--steps",
      "--data-size",
      "--json",
      "--seed",
      "--out",
    ])
      assert.ok(r.stdout.includes(o), o);
  });
});
