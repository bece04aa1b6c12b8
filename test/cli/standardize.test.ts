/**
 * Training on standardised inputs, with every output in the user's coordinates: the same points written
 * as x and as a·x + b (a = 50) give, after training with the same seed, densities whose grid log Z differ
 * by d·log a (the change of variables), and a model whose samples sit where the data are.
 *
 * The first training run is a child process; the others go through the CLI in-process (./in-process.ts).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { foldIn, keyFromSeed, toy2d } from "../../src/index.ts";
import { ebmInProcess, ebmProcess } from "./in-process.ts";

let runs = 0;
/** The first run of the file as a child process, the rest in-process. */
const ebm = async (...args: string[]) => (runs++ === 0 ? ebmProcess(...args) : await ebmInProcess(...args));
const last = (s: string) => JSON.parse(s.trim().split("\n").pop() as string);

const tmp = mkdtempSync(join(tmpdir(), "ebm-std-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

test("a rescaled data file trains to the rescaled model: log Z shifts by d·log a, samples sit on the data", async () => {
  const n = 2000;
  const x = toy2d("mog4-unequal").sample(foldIn(keyFromSeed(5), 1), n);
  const a = 50;
  const b = [1000, -300];
  const rows = (f: (v: number, j: number) => number) =>
    ["x,y", ...Array.from({ length: n }, (_, i) => `${f(x[2 * i], 0)},${f(x[2 * i + 1], 1)}`)].join("\n");
  writeFileSync(
    join(tmp, "unit.csv"),
    rows((v) => v),
  );
  writeFileSync(
    join(tmp, "scaled.csv"),
    rows((v, j) => a * v + b[j]),
  );
  const common = [
    "--hidden",
    "16,16",
    "--iters",
    "150",
    "--walkers",
    "300",
    "--batch",
    "300",
    "--seed",
    "2",
    "--json",
  ];
  const logZ: number[] = [];
  for (const name of ["unit", "scaled"]) {
    const dir = join(tmp, name);
    const t = await ebm("train", "--data", join(tmp, `${name}.csv`), "--out", dir, ...common);
    assert.equal(t.code, 0, t.stderr);
    const d = await ebm("density", "--model", dir, "--out", join(tmp, `${name}-density.csv`), "--json");
    assert.equal(d.code, 0, d.stderr);
    const j = last(d.stdout);
    logZ.push(j.logz ?? j.log_z ?? j.logZ);
  }
  assert.ok(Number.isFinite(logZ[0]) && Number.isFinite(logZ[1]), JSON.stringify(logZ));
  // Both models standardise to the same inputs, so only the change of variables separates them (the
  // float rounding of the standardised data differs in the last bits, which 150 iterations keep small).
  assert.ok(
    Math.abs(logZ[1] - logZ[0] - 2 * Math.log(a)) < 0.02,
    `log Z ${logZ[1]} − ${logZ[0]} vs 2·log ${a}`,
  );
  const s = await ebm(
    "sample",
    "--model",
    join(tmp, "scaled"),
    "--sampler",
    "mala",
    "--chains",
    "4",
    "--draws",
    "500",
    "--json",
  );
  assert.equal(s.code, 0, s.stderr);
  const means = last(s.stdout).dims.map((q: { mean: number }) => q.mean);
  const dataMean = [0, 1].map((j) => {
    let m = 0;
    for (let i = 0; i < n; i++) m += (a * x[2 * i + j] + b[j]) / n;
    return m;
  });
  for (const j of [0, 1])
    assert.ok(Math.abs(means[j] - dataMean[j]) < 2 * a, `mean ${j}: ${means[j]} vs ${dataMean[j]}`);
  const cfg = JSON.parse(readFileSync(join(tmp, "scaled", "config.json"), "utf8"));
  assert.ok(Math.abs(cfg.config.model.inputScale / a - 1.7) < 0.3, `scale ${cfg.config.model.inputScale}`);
});
