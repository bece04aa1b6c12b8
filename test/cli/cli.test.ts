/**
 * The `ebm` command as a user runs it: help, one-line errors naming the bad option (exit 2, no stack
 * trace, nothing written), the gmm1d report folder and its --json line, and reproducibility.
 *
 * Help and refusals run in-process (./in-process.ts), the first refusal also as a child process that must
 * print the same; the gmm1d runs are a child process and an in-process run that must agree. The wasm pass
 * skips this file: only the gmm1d run reaches a kernel (multinomial resampling), which has no wasm
 * implementation, and the TypeScript one that pass falls back to draws the native kernel's ancestors bit
 * for bit (test/native/resample.test.ts).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { WASM_PASS_SKIP } from "../helpers.ts";
import { ebmBothWays, ebmInProcess as ebm, ebmProcess } from "./in-process.ts";

const tmp = mkdtempSync(join(tmpdir(), "ebm-cli-"));
const SMALL = ["--iters", "60", "--walkers", "200", "--data", "1000"];

describe("ebm CLI", { skip: WASM_PASS_SKIP }, () => {
  test("--help lists the commands; gmm1d --help documents every option", async () => {
    const top = await ebm("--help");
    assert.equal(top.code, 0);
    for (const c of ["demo", "reproduce", "bench"]) assert.match(top.stdout, new RegExp(c));
    const sub = await ebm("reproduce", "gmm1d", "--help");
    assert.equal(sub.code, 0);
    for (const o of [
      "--seed",
      "--q",
      "--modes",
      "--walkers",
      "--iters",
      "--step",
      "--lr",
      "--resample",
      "--out",
      "--json",
    ])
      assert.match(sub.stdout, new RegExp(o));
  });

  const bad: [string[], RegExp][] = [
    [["--q", "1.5"], /--q/],
    [["--q", "abc"], /--q/],
    [["--modes", "5,3"], /--modes/],
    [["--modes", "5"], /--modes/],
    [["--walkers", "0"], /--walkers/],
    [["--resample", "sometimes"], /--resample/],
    [["--bogus"], /bogus/],
  ];
  for (const [i, [args, pattern]] of bad.entries()) {
    test(`rejects ${args.join(" ")} with one line naming the option`, async () => {
      const out = join(tmp, `bad-${args.join("_")}`);
      const r = await (i === 0 ? ebmBothWays : ebm)("reproduce", "gmm1d", ...args, "--out", out);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, pattern);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.equal(existsSync(out), false, "nothing written");
    });
  }

  test("reproduce gmm1d writes the report and prints one JSON object last; same seed, same numbers", async () => {
    const outA = join(tmp, "a");
    const outB = join(tmp, "b");
    const a = ebmProcess("reproduce", "gmm1d", ...SMALL, "--out", outA, "--json");
    assert.equal(a.code, 0, a.stderr);
    const lines = a.stdout.trim().split("\n");
    const res = JSON.parse(lines[lines.length - 1]);
    assert.equal(res.target_q, 0.8);
    assert.equal(res.seed, 0);
    assert.deepEqual(res.warnings, [], "a healthy run has no warning");
    assert.equal(res.methods.jarzynski.unreliable, false);
    assert.equal(typeof res.methods.jarzynski.logz_se, "number");
    for (const m of ["score_matching", "cd", "pcd", "jarzynski"])
      assert.equal(typeof res.methods[m].q, "number");
    assert.equal(typeof res.methods.jarzynski.logz_abs_err, "number");
    for (const f of ["report.md", "gmm1d.png", "gmm1d.svg", "results.json", "traces.json"])
      assert.ok(existsSync(join(outA, f)), f);
    assert.deepEqual([...readFileSync(join(outA, "gmm1d.png")).subarray(1, 4)], [0x50, 0x4e, 0x47]);
    assert.match(readFileSync(join(outA, "report.md"), "utf8"), /!\[training curves\]\(gmm1d.png\)/);
    // The second run in-process: the same numbers from a fresh process and from a loaded CLI.
    const b = await ebm("reproduce", "gmm1d", ...SMALL, "--out", outB, "--json");
    assert.equal(b.code, 0, b.stderr);
    const resB = JSON.parse(b.stdout.trim().split("\n").pop()!);
    for (const m of ["score_matching", "cd", "pcd", "jarzynski"])
      assert.equal(resB.methods[m].q, res.methods[m].q);
    assert.equal(resB.methods.jarzynski.logz_estimate, res.methods.jarzynski.logz_estimate);
  });

  test("bench --list names the workloads; unknown --only is a one-line error", async () => {
    const l = await ebm("bench", "--list");
    assert.equal(l.code, 0, l.stderr);
    assert.match(l.stdout, /gmm1d_jarzynski_iter/);
    const r = await ebm("bench", "--only", "nope");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--only/);
    // An empty list names nothing: refused, not taken as "all".
    const e = await ebm("bench", "--only", "");
    assert.equal(e.code, 2);
    assert.match(e.stderr.trim(), /^ebm: error: --only: no workload named/);
    // A --compare file that is not a peer run, or has a figure that is not a number: refused before timing.
    const nullPeer = join(tmpdir(), `ebm-peer-null-${process.pid}.json`);
    const badPeer = join(tmpdir(), `ebm-peer-bad-${process.pid}.json`);
    writeFileSync(nullPeer, "null\n");
    writeFileSync(
      badPeer,
      JSON.stringify({ bench: { workloads: { ula_mlp2d_n4096: { median_ms: "abc" } } } }),
    );
    try {
      const n = await ebm("bench", "--only", "ula_mlp2d_n4096", "--compare", nullPeer);
      assert.equal(n.code, 2);
      assert.match(n.stderr.trim(), /^ebm: error: --compare: .* has no 'bench\.workloads' object$/);
      const b = await ebm("bench", "--only", "ula_mlp2d_n4096", "--compare", badPeer);
      assert.equal(b.code, 2);
      assert.match(b.stderr.trim(), /^ebm: error: --compare: .*ula_mlp2d_n4096\.median_ms must be a number$/);
      assert.equal(b.stdout, "", "nothing timed");
    } finally {
      rmSync(nullPeer, { force: true });
      rmSync(badPeer, { force: true });
    }
  });
});
