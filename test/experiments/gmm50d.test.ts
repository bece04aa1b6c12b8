/**
 * The mixture experiment in d = 10 on a small budget: PCD's persistent walkers collapse the mass onto one
 * mode and CD-1 barely moves it from ½, while Jarzynski's weights carry it towards the target; Jarzynski's
 * KL(data‖model) is below both, by more than 3 Monte Carlo standard errors of each KL.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runGmm50d } from "../../src/index.ts";

test("gmm50d (d = 10): Jarzynski's KL is below CD's and PCD's; PCD's mass collapses", () => {
  const r = runGmm50d({
    dim: 10,
    iters: 600,
    walkers: 500,
    lr: 0.01,
    optimizer: "adam",
    estimatorWalkers: 0,
    replicas: 1,
    klSamples: 10000,
  });
  const by = Object.fromEntries(r.methods.map((m) => [m.method, m]));
  const j = by.jarzynski;
  for (const other of [by.cd, by.pcd])
    assert.ok(
      j.kl + 3 * j.klSe < other.kl - 3 * other.klSe,
      `KL: jarzynski ${j.kl} ± ${j.klSe}, ${other.method} ${other.kl} ± ${other.klSe}`,
    );
  assert.ok(Math.abs(by.pcd.mass - 0.75) > 0.2, `pcd mass ${by.pcd.mass}`);
  assert.ok(Math.abs(j.mass - 0.75) < Math.abs(by.cd.mass - 0.75), `jarzynski ${j.mass} vs cd ${by.cd.mass}`);
  assert.ok(
    Math.abs(r.dataMass - 0.75) < 4 * Math.sqrt((0.75 * 0.25) / r.options.dataSize),
    `data ${r.dataMass}`,
  );
});
