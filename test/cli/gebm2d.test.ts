/**
 * `ebm reproduce gebm2d` as a user runs it: `--quick --json` end to end (figure, report.md, results.json,
 * one JSON object on stdout's last line), with the experiment's claims asserted on the quick run — GEBM
 * samples (β = 1) beat the generator's on MMD² and histogram KL, paired over seeds by more than 2 SE, and
 * the low temperature concentrates the samples on the modes — and one-line errors (exit 2, nothing
 * written) for bad options. The wasm pass skips it (the networks' kernels are tested there by unit tests).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { WASM_PASS_SKIP } from "../helpers.ts";

const BIN = join(import.meta.dirname, "..", "..", "bin", "ebm.js");

function ebm(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, CI: "1" },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = mkdtempSync(join(tmpdir(), "ebm-gebm2d-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("ebm reproduce gebm2d", { skip: WASM_PASS_SKIP }, () => {
  test("--quick --json: files, and GEBM beats the generator alone", () => {
    const out = join(tmp, "quick");
    const r = ebm("reproduce", "gebm2d", "--quick", "--out", out, "--json");
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout.trim().split("\n").pop() as string);
    assert.equal(s.experiment, "gebm2d");
    for (const f of ["gebm2d.png", "gebm2d.svg", "report.md", "results.json"])
      assert.ok(existsSync(join(out, f)), f);
    assert.equal(readFileSync(join(out, "gebm2d.png")).subarray(1, 4).toString(), "PNG");
    assert.deepEqual(JSON.parse(readFileSync(join(out, "results.json"), "utf8")), s);
    const d = s.datasets[0];
    assert.equal(d.name, "mog4-unequal");
    const p = d.paired_gebm_minus_generator;
    for (const k of ["mmd2", "gridKl"])
      assert.ok(p[k].mean + 2 * p[k].se < 0, `${k}: ${JSON.stringify(p[k])}`);
    const mld = (a: string) => d.summary[a].meanLogDensity;
    assert.ok(mld("gebm").mean - 2 * mld("gebm").se > mld("generator").mean + 2 * mld("generator").se);
    assert.ok(mld("gebmCold").mean - 2 * mld("gebmCold").se > mld("gebm").mean + 2 * mld("gebm").se);
    for (const seed of d.seeds) assert.ok(seed.kale.stderr > 0 && Number.isFinite(seed.kale.estimate));
    const report = readFileSync(join(out, "report.md"), "utf8");
    assert.match(report, /GEBM β = 1 − generator, paired over seeds/);
  });

  test("bad options: one line, exit 2, nothing written", () => {
    for (const [args, pattern] of [
      [["--datasets", "moons"], /--datasets: 'moons' is not one of/],
      [["--seeds", "1"], /--seeds must be an integer ≥ 2/],
      [["--sampler", "ula"], /--sampler: expected mala, hmc or kinetic/],
      [["--beta", "-1"], /--beta/],
    ] as const) {
      const out = join(tmp, "bad");
      const r = ebm("reproduce", "gebm2d", ...args, "--out", out);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.ok(!existsSync(out));
    }
  });
});
