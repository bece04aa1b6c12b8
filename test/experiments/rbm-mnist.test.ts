/**
 * `ebm reproduce rbm-mnist --quick` end to end (784 × 16 RBM, 200 updates of CD-1, PCD-1 and Jarzynski from
 * the same start, and a 784 × 12 × 8 DBM, 200 updates per phase; about 45 s on 2 idle cores): it writes its
 * report, results, figure and image grids; for the untrained and every trained RBM AIS's log Z (16 replicas
 * of 25 chains, delta-method SE) is within 3 SE of exact enumeration of the 2^16 hidden states, with an SE
 * under 0.1 nats so that the check has power; and every trained RBM's test log-likelihood beats the untrained
 * one's by more than 10 nats (measured: CD-1 −181.49, PCD-1 −187.33, Jarzynski −178.22 against −207.17,
 * exact) and by more than 10 combined SEs. The report states the digits' split and that the published
 * −86.34 nats was measured on the full MNIST.
 *
 * The DBM: the trained model's AIS log Z (300 temperatures, 16 × 25 chains) is within 3 SE of the exact
 * log Z (2^12 states of h1 enumerated), with an SE under 0.15 nats; its mean-field bound with the exact log Z
 * is below the exact mean test log p(v) (2^8 states of h2 enumerated per image), and the reported bound
 * (AIS log Z) is within 3 SE of that; it beats the untrained DBM's bound by more than 10 nats and 10 combined
 * SEs, and pretraining alone already improves on the untrained model (measured: untrained −207.17,
 * pretrained −181.37, trained −170.87 ± 0.08 against the exact −170.79). The report says the DBM's number is a
 * lower bound and that the published −84.62 nats was on the full MNIST.
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
  test_ll_kind: string;
  test_ll: number;
  test_ll_se: number;
  logz: number;
  logz_se: number;
  logz_exact: number;
  test_ll_exact: number;
}

test("reproduce rbm-mnist --quick: files, AIS within 3 SE of exact, trained models beat the untrained one", (t) => {
  if (process.env.EBM_BACKEND === "wasm") {
    // The typed-array RBM kernels this pass selects are checked against enumeration in test/rbm/; the run
    // itself takes minutes on them.
    t.skip("end to end on the native pass only (typed-array RBM kernels: test/rbm/)");
    return;
  }
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
  for (const m of ["cd", "pcd", "jarzynski", "dbm"]) files.push(`samples-${m}.png`, `filters-${m}.png`);
  for (const f of files) assert.ok(statSync(join(out, f)).size > 100, f);

  assert.equal(results.split, MNIST_DIGITS_SPLIT);
  assert.equal(results.n_train, 8000);
  assert.equal(results.n_test, 2000);
  assert.equal(results.options.hidden, 16);
  const report = readFileSync(join(out, "report.md"), "utf8");
  assert.ok(report.includes(MNIST_DIGITS_SPLIT), "the report states the split");
  assert.match(report, /−86\.34 nats .* full MNIST/);
  assert.match(report, /no comparison is claimed/);

  const { dbm, ...rbms } = results.methods as Record<string, Likelihood>;
  const models: [string, Likelihood][] = [["untrained", results.untrained], ...Object.entries(rbms)];
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
    assert.match(l.test_ll_kind, /^estimate/);
    const gain = l.test_ll - u.test_ll;
    assert.ok(gain > 10 && gain > 10 * Math.hypot(l.test_ll_se, u.test_ll_se), `${name}: gain ${gain} nats`);
  }

  // The DBM.
  const d = dbm as Likelihood & {
    model: string;
    hidden: number[];
    test_bound_exact_logz: number;
    untrained: Likelihood;
    pretrained: Likelihood;
  };
  assert.equal(d.model, "dbm");
  assert.deepEqual(d.hidden, [12, 8]);
  assert.match(d.test_ll_kind, /^lower bound/);
  console.log(
    `rbm-mnist --quick DBM: test LL bound untrained ${d.untrained.test_ll.toFixed(3)}, pretrained ${d.pretrained.test_ll.toFixed(3)}, ` +
      `trained ${d.test_ll.toFixed(3)} ± ${d.test_ll_se.toFixed(3)} (with exact log Z ${d.test_bound_exact_logz.toFixed(3)}; ` +
      `exact log p(v) ${d.test_ll_exact.toFixed(3)}); log Z AIS ${d.logz.toFixed(3)} ± ${d.logz_se.toFixed(3)} vs exact ${d.logz_exact.toFixed(3)}`,
  );
  assert.ok(d.logz_se > 0 && d.logz_se < 0.15, `DBM: SE ${d.logz_se}`);
  assert.ok(
    Math.abs(d.logz - d.logz_exact) < 3 * d.logz_se,
    `DBM: AIS ${d.logz} ± ${d.logz_se} vs ${d.logz_exact}`,
  );
  assert.ok(d.test_bound_exact_logz <= d.test_ll_exact, "the bound is below the exact log-likelihood");
  assert.ok(Math.abs(d.test_ll - d.test_bound_exact_logz) < 3 * d.test_ll_se);
  const dGain = d.test_ll - d.untrained.test_ll;
  assert.ok(
    dGain > 10 && dGain > 10 * Math.hypot(d.test_ll_se, d.untrained.test_ll_se),
    `DBM: gain ${dGain} nats`,
  );
  assert.ok(d.pretrained.test_ll > d.untrained.test_ll + 10, "pretraining improves on the untrained DBM");
  assert.match(report, /lower bound/);
  assert.match(report, /−84\.62 nats .* full MNIST/);
});

test("reproduce rbm-mnist: a bad --jarzynski-lr is a one-line error, nothing written", () => {
  const out = join(tmp, "bad-lr");
  for (const v of ["0", "-0.01", "abc"]) {
    const r = spawnSync(
      process.execPath,
      [BIN, "reproduce", "rbm-mnist", "--quick", "--jarzynski-lr", v, "--out", out],
      { encoding: "utf8", env: { ...process.env, CI: "1" } },
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /jarzynski-lr/);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.throws(() => statSync(out));
  }
});
