/**
 * The CLI's error boundary and output checks: --version, integer seeds, --out validated before the run
 * (under a file, a pseudo file system) with one line and exit 2, a reader that closes stdout early, and
 * atomic writes that keep an existing file's mode and follow symbolic links.
 *
 * The refusals of seeds and of --out go through the CLI in-process (./in-process.ts), the first of each also
 * as a child process that must print the same; the time bound ("before the run": a default gmm1d run takes
 * minutes) is on the in-process call, which a busy machine does not slow from milliseconds to seconds as it
 * does a process start. None of the boundary reaches a backend kernel: the wasm pass skips it.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { writeFileAtomic } from "../../src/node.ts";
import { WASM_PASS_SKIP } from "../helpers.ts";
import { ebmInProcess, ebmProcess } from "./in-process.ts";

const BIN = join(import.meta.dirname, "..", "..", "bin", "ebm.js");
const tmp = mkdtempSync(join(tmpdir(), "ebm-boundary-"));

function ebm(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, CI: "1" },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertOneLineError(r: { code: number | null; stderr: string }, pattern: RegExp, code = 2) {
  assert.equal(r.code, code, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

describe("ebm error boundary", { skip: WASM_PASS_SKIP }, () => {
  test("--version prints the package version", () => {
    const r = ebm("--version");
    assert.equal(r.code, 0);
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "package.json"), "utf8"));
    assert.equal(r.stdout.trim(), pkg.version);
  });

  test("a bad EBM_BACKEND is one line and exit 2, even for a command that reaches no kernel", () => {
    const r = spawnSync(process.execPath, [BIN, "reproduce", "gmm1d", "--out", join(tmp, "b")], {
      encoding: "utf8",
      env: { ...process.env, CI: "1", EBM_BACKEND: "foo" },
    });
    assertOneLineError(
      { code: r.status, stderr: r.stderr },
      /^ebm: error: EBM_BACKEND must be auto or one of /,
    );
    assert.equal(existsSync(join(tmp, "b")), false);
  });

  test("seeds must be integers within 2^53", async () => {
    for (const [i, seed] of ["1.5", "1e300", "abc"].entries()) {
      const args = ["reproduce", "gmm1d", "--seed", seed, "--out", join(tmp, "s")];
      const r = await ebmInProcess(...args);
      if (i === 0) assert.deepEqual(ebmProcess(...args), r, "in-process vs child process");
      assertOneLineError(r, /--seed/);
    }
    assert.equal(existsSync(join(tmp, "s")), false);
  });

  test("--out under a file or in /proc fails before the run, in about a second, writing nothing", async () => {
    const file = join(tmp, "a-file");
    writeFileSync(file, "x");
    await ebmInProcess("--version"); // the worker's start (loading the CLI) is not part of what is timed
    for (const [i, out] of [join(file, "report"), file, "/proc/ebm-no-such-dir/out"].entries()) {
      const t0 = performance.now();
      const r = await ebmInProcess("reproduce", "gmm1d", "--out", out);
      assert.ok(performance.now() - t0 < 5_000, "refused before the run");
      if (i === 0)
        assert.deepEqual(ebmProcess("reproduce", "gmm1d", "--out", out), r, "in-process vs process");
      assertOneLineError(r, /^ebm: error: --out: /);
    }
    assert.equal(readFileSync(file, "utf8"), "x");
  });

  test("a reader that closes stdout early ends the process quietly", async () => {
    const child = spawn(
      process.execPath,
      [BIN, "reproduce", "gmm1d", "--iters", "20", "--methods", "cd", "--out", join(tmp, "pipe"), "--json"],
      { env: { ...process.env, CI: "1" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const code = await new Promise<number | null>((res) => child.on("close", (c) => res(c)));
    assert.equal(code, 0, stderr);
    assert.equal(stderr, "");
  });
});

describe("writeFileAtomic", () => {
  test("overwriting keeps the file's mode", () => {
    const p = join(tmp, "mode.txt");
    writeFileSync(p, "old");
    chmodSync(p, 0o600);
    writeFileAtomic(p, "new");
    assert.equal(readFileSync(p, "utf8"), "new");
    assert.equal(statSync(p).mode & 0o777, 0o600);
  });

  test("a symbolic link is kept and its target replaced", () => {
    const target = join(tmp, "target.txt");
    const link = join(tmp, "link.txt");
    writeFileSync(target, "old");
    symlinkSync(target, link);
    writeFileAtomic(link, "new");
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(readlinkSync(link), target);
    assert.equal(readFileSync(target, "utf8"), "new");
  });
});
