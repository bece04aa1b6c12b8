/**
 * `ebm reproduce toy2d` and `ebm reproduce gmm50d` as a user runs them, on tiny budgets: the report folder
 * (figure, report.md, results.json), the --json line with each method's numbers and error bars, and
 * one-line errors for bad options with nothing written.
 *
 * The runs are child processes; the refusals go through the CLI in-process (./in-process.ts: the first also
 * as a child process that must print the same) and, reaching no kernel, are skipped on the wasm pass.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { WASM_PASS_SKIP as skip } from "../helpers.ts";
import { ebmBothWays, ebmInProcess, ebmProcess as ebm } from "./in-process.ts";

const tmp = mkdtempSync(join(tmpdir(), "ebm-reproduce-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("ebm reproduce", () => {
  test("toy2d: figure, report and JSON with KL, masses and log Z traces", () => {
    const out = join(tmp, "toy2d");
    const r = ebm(
      "reproduce",
      "toy2d",
      "--datasets",
      "mog4-unequal",
      "--iters",
      "60",
      "--walkers",
      "200",
      "--hidden",
      "16,16",
      "--out",
      out,
      "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout.trim().split("\n").pop() as string);
    const d = s.datasets[0];
    assert.equal(d.name, "mog4-unequal");
    for (const m of ["cd", "pcd", "jarzynski"]) {
      assert.ok(Number.isFinite(d.methods[m].kl), m);
      assert.equal(d.methods[m].masses.length, 4);
    }
    assert.ok(d.methods.jarzynski.final[0].logZEstimatorSe > 0);
    for (const f of ["toy2d.png", "toy2d.svg", "report.md", "results.json"])
      assert.ok(existsSync(join(out, f)), f);
    assert.ok(readFileSync(join(out, "toy2d.png")).subarray(1, 4).toString() === "PNG");
    assert.match(readFileSync(join(out, "report.md"), "utf8"), /estimator population/);
  });

  test("gmm50d: each method's learned mass with its SE over replicas", () => {
    const out = join(tmp, "gmm50d");
    const r = ebm(
      "reproduce",
      "gmm50d",
      "--dim",
      "5",
      "--iters",
      "50",
      "--walkers",
      "100",
      "--replicas",
      "2",
      "--out",
      out,
      "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout.trim().split("\n").pop() as string);
    for (const m of ["cd", "pcd", "jarzynski"]) {
      assert.ok(s.methods[m].mass > 0 && s.methods[m].mass < 1, m);
      assert.ok(s.methods[m].mass_se >= 0, m);
      assert.equal(s.methods[m].runs.length, 2);
    }
    assert.ok(existsSync(join(out, "gmm50d.png")));
  });

  test("bad options: one line, exit 2, nothing written", { skip }, async () => {
    const out = join(tmp, "never");
    const cases: [string[], RegExp][] = [
      [["toy2d", "--datasets", "nope"], /--datasets: unknown data set 'nope'/],
      [["toy2d", "--methods", "cd,magic"], /--methods: unknown method 'magic'/],
      [["gmm50d", "--mass", "1.5"], /--mass must be in \(0, 1\)/],
      [["gmm50d", "--dim", "0"], /--dim must be an integer/],
      [["gmm50d", "--dim", "1000000000"], /--dim must be an integer from 1 to 1000/],
      [["toy2d", "--walkers", "4000000000"], /--walkers must be at most 2147483647/],
      [
        ["toy2d", "--hidden", "8,0"],
        /--hidden must be comma-separated layer widths from 1 to 4096, got '8,0'/,
      ],
    ];
    for (const [i, [args, re]] of cases.entries()) {
      const r = await (i === 0 ? ebmBothWays : ebmInProcess)("reproduce", ...args, "--out", out);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split("\n").length, 1);
      assert.ok(!existsSync(out));
    }
  });
});
