/**
 * Generalized EBMs from the command line: `ebm train --method kale --generator` writes a checkpoint (from
 * flags or a --config file alike) with the documented tensors; a run resumed after its iterations and
 * again inside its final energy steps equals the uninterrupted run byte for byte (model, state, metrics,
 * config); `ebm sample --model DIR --latent` writes one finite draw per chain (x and z columns, .csv or
 * .npy); and every misuse (kale without --generator, options of other methods, a GEBM folder given to
 * commands that need a density, --latent on another model) stops with one line, exit code 2 and nothing
 * written. Tiny networks and schedules: a few seconds on either backend (so both passes run it).
 *
 * The uninterrupted run and one refusal go through a child process as a user's would; the rest call the
 * same entry point, `main(argv)` of src/cli/main.ts, in this process with stdout and stderr captured (a
 * process start costs more than these runs).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { main } from "../../src/cli/main.ts";
import { defaultTrainConfig, parseNpy, readSafetensorsFile, writeCheckpoint } from "../../src/node.ts";

const BIN = join(import.meta.dirname, "..", "..", "bin", "ebm.js");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI in a child process. */
function ebmProcess(...args: string[]): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, CI: "1" },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `main(argv)` in this process, stdout and stderr captured; process.exitCode restored afterwards. */
async function ebm(...args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const writeOut = process.stdout.write;
  const writeErr = process.stderr.write;
  const before = process.exitCode;
  const listeners = process.stdout.listeners("error");
  process.exitCode = undefined;
  // The test runner's own messages to its parent travel on this stdout as binary chunks: pass them on.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    if (typeof chunk !== "string") return writeOut.call(process.stdout, chunk, ...rest);
    out.push(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  let code: number;
  try {
    await main(["node", "ebm", ...args]);
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
    code = Number(process.exitCode ?? 0);
    process.exitCode = before;
    // main() adds an EPIPE handler to stdout on every call.
    for (const l of process.stdout.listeners("error"))
      if (!listeners.includes(l)) process.stdout.off("error", l as () => void);
  }
  return { code, stdout: out.join(""), stderr: err.join("") };
}

const tmp = mkdtempSync(join(tmpdir(), "ebm-gebm-cli-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A tiny GEBM on 2-D data with a 3-D latent: 12 generator iterations, then 20 final energy steps. */
const SMALL = [
  "--data",
  "mog4-unequal",
  "--data-size",
  "1000",
  "--latent-dim",
  "3",
  "--generator-hidden",
  "6",
  "--hidden",
  "8,8",
  "--warmup-iterations",
  "2",
  "--warmup-energy-steps",
  "6",
  "--energy-steps",
  "2",
  "--batch",
  "32",
];
const full = join(tmp, "full");

describe("ebm train --method kale --generator, ebm sample --latent", () => {
  before(() => {
    // The uninterrupted run, its settings from a config file (flags and file must give the same run).
    const cfg = join(tmp, "run.yaml");
    writeFileSync(
      cfg,
      [
        "method: kale",
        "generator: true",
        "data: mog4-unequal",
        "data-size: 1000",
        "latent-dim: 3",
        "generator-hidden: [6]",
        "hidden: [8, 8]",
        "warmup-iterations: 2",
        "warmup-energy-steps: 6",
        "energy-steps: 2",
        "batch: 32",
        "iters: 12",
        "final-energy-steps: 20",
        "",
      ].join("\n"),
    );
    const r = ebmProcess("train", "--config", cfg, "--out", full, "--json");
    assert.equal(r.code, 0, r.stderr);
  });

  test("train writes a checkpoint: config, generator and energy tensors, c, one metrics line per unit", () => {
    for (const f of ["config.json", "model.safetensors", "state.safetensors", "metrics.jsonl"])
      assert.ok(existsSync(join(full, f)), f);
    const config = JSON.parse(readFileSync(join(full, "config.json"), "utf8"));
    assert.equal(config.iteration, 12);
    assert.deepEqual(config.config.model, {
      type: "gebm",
      dim: 2,
      latentDim: 3,
      generatorHidden: [6],
      energyHidden: [8, 8],
      activation: "silu",
    });
    assert.equal(config.config.method, "kale");
    const t = readSafetensorsFile(join(full, "model.safetensors"));
    const shapes = Object.fromEntries([...t.tensors.keys()].map((k) => [k, t.getFloat64(k).shape.join(",")]));
    assert.deepEqual(shapes, {
      "generator.layers.0.weight": "3,6",
      "generator.layers.0.bias": "6",
      "generator.layers.1.weight": "6,2",
      "generator.layers.1.bias": "2",
      "energy.layers.0.weight": "2,8",
      "energy.layers.0.bias": "8",
      "energy.layers.1.weight": "8,8",
      "energy.layers.1.bias": "8",
      "energy.layers.2.weight": "8,1",
      "energy.layers.2.bias": "1",
      c: "1",
    });
    const c = t.getFloat64("c").data[0];
    assert.ok(Number.isFinite(c) && c !== 0, `c = ${c}`);
    const lines = readFileSync(join(full, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 12 + 20);
    assert.deepEqual(lines[11].iteration, 12);
    assert.deepEqual([lines[31].iteration, lines[31].finalStep], [12, 20]);
    assert.ok(lines.every((l) => Number.isFinite(l.kale) && Number.isFinite(l.c)));
    assert.equal(lines[31].c, c);
  });

  test("resume after the iterations and inside the final energy steps equals the uninterrupted run", async () => {
    const part = join(tmp, "part");
    let r = await ebm(
      "train",
      "--method",
      "kale",
      "--generator",
      ...SMALL,
      "--iters",
      "5",
      "--final-energy-steps",
      "0",
      "--out",
      part,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^kale: 5 generator iterations and 0 final energy steps on mog4-unequal/);
    r = await ebm("train", "--resume", part, "--iters", "12", "--final-energy-steps", "8", "--no-progress");
    assert.equal(r.code, 0, r.stderr);
    r = await ebm("train", "--resume", part, "--final-energy-steps", "20", "--json");
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split("\n").pop() as string);
    assert.deepEqual([summary.iteration, summary.finalStep], [12, 20]);
    for (const f of ["model.safetensors", "state.safetensors", "metrics.jsonl", "config.json"])
      assert.ok(readFileSync(join(full, f)).equals(readFileSync(join(part, f))), f);
  });

  test("sample --latent writes one finite draw per chain: x and z columns (.csv), or the n × (d + k) array (.npy)", async () => {
    const csv = join(tmp, "draws.csv");
    const r = await ebm(
      "sample",
      "--model",
      full,
      "--latent",
      "--chains",
      "64",
      "--steps",
      "20",
      "--out",
      csv,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /mala on the latent posterior \(k = 3, β = 1\): 64 chains × 20 steps/);
    assert.match(r.stdout, /start: importance resampling of 1024 prior draws, ESS \d+/);
    assert.match(r.stdout, /acceptance 0\.\d+, step \d/);
    const rows = readFileSync(csv, "utf8").trim().split("\n");
    assert.equal(rows[0], "chain,draw,x0,x1,z0,z1,z2");
    assert.equal(rows.length, 65);
    for (const [i, row] of rows.slice(1).entries()) {
      const v = row.split(",").map(Number);
      assert.equal(v.length, 7);
      assert.deepEqual(v.slice(0, 2), [i, 0]);
      assert.ok(v.every(Number.isFinite), row);
    }
    const npy = join(tmp, "draws.npy");
    const j = await ebm(
      "sample",
      "--model",
      full,
      "--latent",
      "--sampler",
      "hmc",
      "--chains",
      "16",
      "--steps",
      "10",
      "--beta",
      "5",
      "--init",
      "prior",
      "--out",
      npy,
      "--json",
    );
    assert.equal(j.code, 0, j.stderr);
    const out = JSON.parse(j.stdout.trim().split("\n").pop() as string);
    assert.equal(out.sampler, "hmc");
    assert.deepEqual(
      out.dims.map((d: { name: string }) => d.name),
      ["x0", "x1", "z0", "z1", "z2"],
    );
    assert.equal(out.init_ess, null);
    const a = parseNpy(new Uint8Array(readFileSync(npy)));
    assert.deepEqual(a.shape, [16, 5]);
    assert.ok(Array.from(a.data).every(Number.isFinite));
  });

  test("misuse stops with one line naming what to use, exit code 2, nothing written", async () => {
    const notGebm = join(tmp, "mlp");
    writeCheckpoint(notGebm, {
      iteration: 0,
      config: defaultTrainConfig(2),
      data: { kind: "builtin", name: "mog4-unequal", size: 10, seed: 0 },
      state: null,
      modelTensors: {},
      stateTensors: {},
    });
    const out = join(tmp, "never");
    const csv = join(tmp, "never.csv");
    const cases: [string[], RegExp][] = [
      [
        ["train", "--method", "kale", ...SMALL, "--out", out],
        /--method kale trains a generalized EBM: add --generator/,
      ],
      [
        ["train", "--generator", "--method", "pcd", ...SMALL, "--out", out],
        /give --method kale with it, not 'pcd'/,
      ],
      [
        ["train", "--method", "kale", "--generator", ...SMALL, "--walkers", "9", "--out", out],
        /--walkers does not apply to --method kale --generator/,
      ],
      [
        ["train", "--data", "mog4-unequal", "--latent-dim", "2", "--out", out],
        /--latent-dim applies to --method kale --generator/,
      ],
      [
        ["train", "--resume", full, "--hidden", "4"],
        /only --iters and --checkpoint-every may change.*\(got --hidden\)/,
      ],
      [["sample", "--model", full, "--out", csv], /holds a generalized EBM.*ebm sample --model DIR --latent/],
      [
        ["sample", "--model", notGebm, "--latent", "--out", csv],
        /--latent samples a generalized EBM's latent posterior; .* sample it without --latent/,
      ],
      [
        ["sample", "--model", full, "--latent", "--sampler", "nuts", "--out", csv],
        /--sampler for --latent must be one of ula, mala, hmc, kinetic/,
      ],
      [
        ["sample", "--model", full, "--latent", "--draws", "5", "--out", csv],
        /--draws does not apply to --latent/,
      ],
      [
        ["train", "--resume", notGebm, "--final-energy-steps", "3"],
        /--final-energy-steps applies to GEBM runs/,
      ],
      [["eval", "--model", full], /holds a generalized EBM/],
      [["logz", "--model", full], /holds a generalized EBM/],
      [["density", "--model", full, "--out", join(tmp, "never.png")], /holds a generalized EBM/],
    ];
    const before = readFileSync(join(full, "config.json"));
    const results: Run[] = [];
    for (const [args] of cases) results.push(await ebm(...args));
    // One of them as a user meets it: a process that prints one line and exits with code 2.
    results.push(ebmProcess(...cases[0][0]));
    cases.push(cases[0]);
    for (const [i, r] of results.entries()) {
      const what = cases[i][0].join(" ");
      assert.equal(r.code, 2, `${what}: ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
      assert.match(lines[0], /^ebm: error: /, what);
      assert.match(lines[0], cases[i][1], what);
    }
    for (const p of [out, csv, join(tmp, "never.png")]) assert.ok(!existsSync(p), p);
    assert.ok(
      readFileSync(join(full, "config.json")).equals(before),
      "the refused resume left the checkpoint alone",
    );
  });
});
