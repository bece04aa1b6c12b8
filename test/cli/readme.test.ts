/**
 * The README's `ebm sample` example outputs are what the commands print (seeded runs: the same numbers on
 * every run), so they cannot go stale. A README line "…" stands for any number of printed lines; run
 * times ("in 1.63 s") are not compared.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

const ROOT = join(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "bin", "ebm.js");

interface Example {
  args: string[];
  expected: string[];
}

function examples(): Example[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const out: Example[] = [];
  for (const block of readme.matchAll(/```\n(\$ npx ebm sample [^\n]*)\n([\s\S]*?)```/g)) {
    const args = block[1].slice("$ npx ebm ".length).split(/\s+/);
    out.push({ args, expected: block[2].trimEnd().split("\n") });
  }
  return out;
}

const mask = (line: string) => line.replace(/ in \d+(\.\d+)? s\b/, " in ‹t› s");

/** Matches printed lines against the README's, "…" skipping printed lines up to the next README line. */
function matchLines(expected: string[], actual: string[]): void {
  let k = 0;
  for (let i = 0; i < expected.length; i++) {
    if (expected[i].trim() === "…") {
      const next = expected[i + 1];
      while (k < actual.length && (next === undefined || mask(actual[k]) !== mask(next))) k++;
      continue;
    }
    assert.equal(
      mask(actual[k] ?? "(missing line)"),
      mask(expected[i]),
      `README line ${i + 1} of the example`,
    );
    k++;
  }
  assert.equal(k, actual.length, `printed lines past the README's: ${actual.slice(k).join(" | ")}`);
}

test("README sample examples print what the README shows", () => {
  const list = examples();
  assert.ok(list.length >= 2, "the README has its sample examples");
  for (const ex of list) {
    const cwd = mkdtempSync(join(tmpdir(), "ebm-readme-"));
    const args = ex.args.map((a) => (a.startsWith("examples/") ? join(ROOT, a) : a));
    const r = spawnSync(process.execPath, [BIN, ...args], {
      cwd,
      encoding: "utf8",
      env: { ...process.env, CI: "1" },
    });
    assert.equal(r.status, 0, r.stderr);
    const printed = (r.stdout + r.stderr).trimEnd().split("\n");
    matchLines(ex.expected, printed);
  }
});
