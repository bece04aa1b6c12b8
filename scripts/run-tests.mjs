// Runs every test file under test/ with node's built-in runner through tsx, prints the spec report,
// and ends with a plain "N passed, N failed" line read from a TAP copy of the same run.
// Extra arguments are passed to `node --test` (e.g. test files or --test-name-pattern).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

const args = process.argv.slice(2);
const files = args.some((a) => a.endsWith(".ts")) ? [] : findTests("test");
const dir = mkdtempSync(join(tmpdir(), "ebm-test-"));
const tap = join(dir, "report.tap");
const result = spawnSync(
  process.execPath,
  [
    "--import",
    "tsx",
    "--import",
    "./test/setup.ts",
    "--test",
    // Two files at a time: much of a CLI test is a child process starting up, so on the 2-core machines
    // this is a quarter faster than node's default (one file per core less one). The tests' time bounds
    // are on CPU time or far above what they measure, so a shared core does not fail them.
    "--test-concurrency=2",
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    "--test-reporter=tap",
    `--test-reporter-destination=${tap}`,
    ...args,
    ...files,
  ],
  { stdio: "inherit" },
);
const report = readFileSync(tap, "utf8");
rmSync(dir, { recursive: true, force: true });
const count = (key) => Number(report.match(new RegExp(`^# ${key} (\\d+)$`, "m"))?.[1] ?? 0);
console.log(`${count("pass")} passed, ${count("fail")} failed`);
process.exit(result.status ?? 1);
