/**
 * `ebm playground --dir` and `scripts/build-web.mjs --out` replace their folder whole, so they must refuse a
 * folder that holds anything but an earlier build, and a path that is a file: one line naming it, a
 * non-zero exit, and the user's files left as they were. Both refuse before building or serving anything.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { WASM_PASS_SKIP } from "../helpers.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const tmp = mkdtempSync(join(tmpdir(), "ebm-playground-dir-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[]) {
  return spawnSync(process.execPath, args, {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, CI: "1" },
  });
}

describe("the playground's output folder", { skip: WASM_PASS_SKIP }, () => {
  test("ebm playground --dir refuses a folder with other files in it and leaves them alone", () => {
    const dir = join(tmp, "userdata");
    mkdirSync(dir);
    writeFileSync(join(dir, "notes.txt"), "mine\n");
    const r = run([join(ROOT, "bin/ebm.js"), "playground", "--port", "0", "--dir", dir]);
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^ebm: error: --dir .*userdata: holds files that are not a playground build/);
    assert.deepEqual(readdirSync(dir), ["notes.txt"]);
    assert.equal(readFileSync(join(dir, "notes.txt"), "utf8"), "mine\n");
    assert.doesNotMatch(r.stdout, /playground: http/);
  });

  test("ebm playground --dir refuses a file", () => {
    const file = join(tmp, "victim.txt");
    writeFileSync(file, "keep\n");
    const r = run([join(ROOT, "bin/ebm.js"), "playground", "--port", "0", "--dir", file]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr.trimEnd(), /^ebm: error: --dir .*victim\.txt: exists and is not a folder$/);
    assert.equal(readFileSync(file, "utf8"), "keep\n");
  });

  test("a port in use or a host that is not this machine's is refused before anything is built", async () => {
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(0, "127.0.0.1", ok));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const dir = join(tmp, "never-built");
      const r = run([join(ROOT, "bin/ebm.js"), "playground", "--port", String(port), "--dir", dir]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr.trimEnd(), new RegExp(`^ebm: error: port ${port} on 127\\.0\\.0\\.1 is in use`));
      const h = run([join(ROOT, "bin/ebm.js"), "playground", "--host", "nonexistent.invalid", "--dir", dir]);
      assert.equal(h.status, 2, h.stderr);
      assert.match(
        h.stderr.trimEnd(),
        /^ebm: error: --host nonexistent\.invalid is not an address of this machine$/,
      );
      assert.equal(existsSync(dir), false, "nothing built");
    } finally {
      await new Promise<void>((ok) => blocker.close(() => ok()));
    }
  });

  test("scripts/build-web.mjs --out refuses the same, before building", () => {
    const dir = join(tmp, "other");
    mkdirSync(dir);
    writeFileSync(join(dir, "data.csv"), "x\n1\n");
    const r = run([join(ROOT, "scripts/build-web.mjs"), "--out", dir]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr.trimEnd(), /^build-web: .*other holds files that are not a playground build/);
    assert.deepEqual(readdirSync(dir), ["data.csv"]);
  });
});
