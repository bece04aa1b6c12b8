/**
 * `ebm reproduce rbm-mnist --quick` end to end (784 × 16 RBM, 200 updates of CD-1, PCD-1 and Jarzynski from
 * the same start; about half a minute on 2 idle cores): it writes its report, results, figure and image
 * grids; for the untrained and every trained model AIS's log Z (16 replicas of 25 chains, delta-method SE) is within 3 SE
 * of exact enumeration of the 2^16 hidden states, with an SE under 0.1 nats so that the check has power; and
 * every trained model's test log-likelihood beats the untrained one's by more than 10 nats (measured: CD-1
 * −181.49, PCD-1 −187.33, Jarzynski −178.22 against −207.17, exact) and by more than 10 combined SEs. The
 * report states the digits' split and that the published −86.34 nats was measured on the full MNIST.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { MNIST_DIGITS_SPLIT } from "../../src/data/digits.ts";

const BIN = join(import.meta.dirname, "..", "..", "bin", "ebm.js");
const tmp = mkdtempSync(join(tmpdir(), "ebm-rbm-mnist-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Likelihood {
  test_ll: number;
  test_ll_se: number;
  logz: number;
  logz_se: number;
  logz_exact: number;
  test_ll_exact: number;
}

test("reproduce rbm-mnist --quick: files, AIS within 3 SE of exact, trained models beat the untrained one", () => {
  const out = join(tmp, "out");
  const r = spawnSync(process.execPath, [BIN, "reproduce", "rbm-mnist", "--quick", "--out", out, "--json"], {
    encoding: "utf8",
    env: { ...process.env, CI: "1" },
  });
  assert.equal(r.status, 0, r.stderr);
  const printed = JSON.parse(r.stdout.trim().split("\n").pop() as string);
  const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
  assert.deepEqual(printed, results);
  const files = ["report.md", "rbm-mnist.png", "rbm-mnist.svg", "data.png"];
  for (const m of ["cd", "pcd", "jarzynski"]) files.push(`samples-${m}.png`, `filters-${m}.png`);
  for (const f of files) assert.ok(statSync(join(out, f)).size > 100, f);

  assert.equal(results.split, MNIST_DIGITS_SPLIT);
  assert.equal(results.n_train, 8000);
  assert.equal(results.n_test, 2000);
  assert.equal(results.options.hidden, 16);
  const report = readFileSync(join(out, "report.md"), "utf8");
  assert.ok(report.includes(MNIST_DIGITS_SPLIT), "the report states the split");
  assert.match(report, /−86\.34 nats .* full MNIST/);
  assert.match(report, /no comparison is claimed/);

  const models: [string, Likelihood][] = [
    ["untrained", results.untrained],
    ...Object.entries(results.methods as Record<string, Likelihood>),
  ];
  assert.equal(models.length, 4);
  const rows = models.map(
    ([name, l]) =>
      `${name}: test LL ${l.test_ll.toFixed(3)} ± ${l.test_ll_se.toFixed(3)} (exact ${l.test_ll_exact.toFixed(3)})`,
  );
  console.log(`rbm-mnist --quick: ${rows.join("; ")}`);
  for (const [name, l] of models) {
    assert.ok(l.logz_se > 0 && l.logz_se < 0.1, `${name}: SE ${l.logz_se}`);
    assert.ok(
      Math.abs(l.logz - l.logz_exact) < 3 * l.logz_se,
      `${name}: AIS ${l.logz} ± ${l.logz_se} vs ${l.logz_exact}`,
    );
  }
  const u = results.untrained as Likelihood;
  for (const [name, l] of models.slice(1)) {
    const gain = l.test_ll - u.test_ll;
    assert.ok(gain > 10 && gain > 10 * Math.hypot(l.test_ll_se, u.test_ll_se), `${name}: gain ${gain} nats`);
  }
});
