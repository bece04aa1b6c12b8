/**
 * `ebm reproduce mmd-flow` as a user runs it: `--quick --json` end to end (the figure, report.md and
 * results.json in the report folder, one JSON object on stdout's last line) and its numbers — every run's
 * validation loss falls, and noise injection ends lower than the plain flow by more than twice the SE of
 * the paired log ratio over seeds; one-line errors with exit code 2 for bad options, nothing written.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";

const BIN = join(import.meta.dirname, "..", "..", "bin", "ebm.js");

function ebm(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, CI: "1" },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = mkdtempSync(join(tmpdir(), "ebm-mmd-flow-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  final: number;
  validation: number[];
  near_origin: number;
}

describe("ebm reproduce mmd-flow", () => {
  test("--quick --json: files, and noise injection ends lower by more than 2 SE", () => {
    const out = join(tmp, "quick");
    const r = ebm("reproduce", "mmd-flow", "--quick", "--out", out, "--json");
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout.trim().split("\n").pop() as string);
    assert.equal(s.experiment, "mmd-flow");
    assert.equal(s.options.seeds, 3);
    assert.equal(s.seeds.length, 3);
    for (const f of ["mmd-flow.png", "mmd-flow.svg", "report.md", "results.json"])
      assert.ok(existsSync(join(out, f)), f);
    assert.equal(readFileSync(join(out, "mmd-flow.png")).subarray(1, 4).toString(), "PNG");
    assert.deepEqual(JSON.parse(readFileSync(join(out, "results.json"), "utf8")), s);
    const report = readFileSync(join(out, "report.md"), "utf8");
    assert.match(report, /\| no noise \| \d\.\d+e-\d+ ± \d\.\d+e-\d+ \|/);
    assert.match(report, /!\[validation-loss curves\]\(mmd-flow\.png\)/);

    for (const seed of s.seeds as { seed: number; initial: number; runs: Record<string, Run> }[])
      for (const arm of ["plain", "noisy"]) {
        const run = seed.runs[arm];
        assert.equal(run.validation[0], seed.initial);
        assert.ok(run.final < seed.initial / 4, `seed ${seed.seed} ${arm}: ${run.final} vs ${seed.initial}`);
      }
    // Paired by seed (both arms share the teacher, data and start): the noisy arm must win by more than
    // twice the standard error of the mean log ratio, and that SE must be the one of the per-seed ratios.
    const ratios = s.seeds.map((x: { log10_ratio: number }) => x.log10_ratio) as number[];
    const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
    const se = Math.sqrt(
      ratios.reduce((a, b) => a + (b - mean) ** 2, 0) / (ratios.length - 1) / ratios.length,
    );
    assert.ok(Math.abs(s.log10_ratio - mean) < 1e-12 && Math.abs(s.log10_ratio_se - se) < 1e-12);
    assert.ok(mean > 2 * se, `log10(plain/noisy) = ${mean} ± ${se}`);
    assert.ok(s.arms.noisy.final < s.arms.plain.final);
    assert.equal(s.noisy_wins, 3);
    // The mechanism: most plain-flow units never leave the flat region around the origin.
    assert.ok(s.arms.plain.near_origin > 0.5 && s.arms.noisy.near_origin < 0.2, JSON.stringify(s.arms));
  });

  // A few of the parser's refusals (each a CLI start-up of ~2 s; the parsers are shared with other commands).
  test("bad options: one line, exit 2, nothing written", () => {
    const out = join(tmp, "never");
    const cases: [string[], RegExp][] = [
      [["--seeds", "0"], /--seeds must be an integer from 1 to 1000/],
      [["--noise", "-1"], /--noise must be ≥ 0/],
      [["--output", "sigmoid"], /--output: expected linear or gaussian, got 'sigmoid'/],
    ];
    for (const [args, re] of cases) {
      const r = ebm("reproduce", "mmd-flow", ...args, "--out", out);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.ok(!existsSync(out));
    }
  });
});
