/**
 * `ebm train` as a user runs it: a checkpoint folder, resume that equals the uninterrupted run byte for
 * byte (model, state and metrics), refusal of changed settings and of damaged checkpoints, a numerical
 * failure that keeps the last good checkpoint, Ctrl-C that saves one, and bad input that writes nothing.
 *
 * The resumed runs, the first run of each kind and Ctrl-C are child processes; --help, refusals and the
 * other runs go through the CLI in-process (./in-process.ts: the first refusal also as a child process
 * that must print the same). The wasm pass runs what reaches the MLP there (resume, divergence,
 * the trainable confinement) and skips the rest, which is the same on every backend.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { WASM_PASS_SKIP } from "../helpers.ts";
import { ebmBothWays, ebmInProcess, ebmProcess as ebm } from "./in-process.ts";

const BIN = join(import.meta.dirname, "..", "..", "bin", "ebm.js");
const skip = WASM_PASS_SKIP;

const tmp = mkdtempSync(join(tmpdir(), "ebm-train-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
const SMALL = [
  "--data",
  "mog4-unequal",
  "--data-size",
  "2000",
  "--hidden",
  "16,16",
  "--walkers",
  "200",
  "--estimator-walkers",
  "100",
  "--batch",
  "200",
];

describe("ebm train", () => {
  test("--help documents the options", { skip }, async () => {
    const r = await ebmInProcess("train", "--help");
    assert.equal(r.code, 0);
    for (const o of [
      "--data",
      "--method",
      "--hidden",
      "--iters",
      "--walkers",
      "--step",
      "--lr",
      "--config",
      "--out",
      "--resume",
      "--seed",
      "--json",
    ])
      assert.match(r.stdout, new RegExp(o));
  });

  test("resume from a checkpoint equals the uninterrupted run byte for byte", async () => {
    const full = join(tmp, "full");
    const part = join(tmp, "part");
    // A constant rate: a cosine schedule's horizon is the run's first --iters, so a run extended past it
    // continues at the final rate and differs from one planned with 60 from the start.
    const a = await ebmInProcess(
      ...["train", ...SMALL, "--schedule", "constant", "--iters", "60", "--out", full, "--json"],
    );
    assert.equal(a.code, 0, a.stderr);
    const summary = JSON.parse(a.stdout.trim().split("\n").pop() as string);
    assert.equal(summary.iteration, 60);
    assert.ok(Number.isFinite(summary.estimatorLogZ) && summary.estimatorLogZSe > 0);
    const p = await ebmInProcess("train", ...SMALL, "--schedule", "constant", "--iters", "25", "--out", part);
    assert.equal(p.code, 0, p.stderr);
    // The resumed run in a fresh process: it has only the checkpoint's files to go on.
    const b = ebm("train", "--resume", part, "--iters", "60");
    assert.equal(b.code, 0, b.stderr);
    for (const f of ["model.safetensors", "state.safetensors", "metrics.jsonl"])
      assert.ok(readFileSync(join(full, f)).equals(readFileSync(join(part, f))), f);
    assert.equal(readFileSync(join(full, "metrics.jsonl"), "utf8").trim().split("\n").length, 60);
    // Asking for fewer iterations than the checkpoint holds is refused, and the checkpoint is left alone.
    const before = readFileSync(join(part, "model.safetensors"));
    const c = await ebmInProcess("train", "--resume", part, "--iters", "30");
    assert.equal(c.code, 2, c.stderr);
    assert.match(
      c.stderr.trim(),
      /^ebm: error: --iters 30: .*part is already at iteration 60; give a larger --iters/,
    );
    assert.ok(readFileSync(join(part, "model.safetensors")).equals(before));
  });

  test("resume refuses other settings, and damaged checkpoints, with one line", { skip }, async () => {
    const dir = join(tmp, "full");
    const r = await ebmBothWays("train", "--resume", dir, "--lr", "0.1");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^ebm: error: --resume .*--lr\)\n$/);
    // A copy of the finished run's checkpoint with one byte of the parameters flipped.
    const damaged = join(tmp, "damaged");
    cpSync(dir, damaged, { recursive: true });
    const model = join(damaged, "model.safetensors");
    const bytes = readFileSync(model);
    bytes[bytes.length - 1] ^= 0x10;
    writeFileSync(model, bytes);
    const d = await ebmInProcess("train", "--resume", damaged, "--iters", "70");
    assert.equal(d.code, 2);
    assert.match(d.stderr, /model\.safetensors: does not match the checksum in config\.json/);
    assert.equal(d.stderr.trim().split("\n").length, 1);
    const missing = await ebmInProcess("train", "--resume", join(tmp, "nope"));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no such checkpoint folder/);
  });

  test("a run that diverges stops with the iteration named and keeps the last good checkpoint", async () => {
    const dir = join(tmp, "nan");
    const r = ebm(
      "train",
      ...SMALL,
      "--iters",
      "100",
      "--checkpoint-every",
      "2",
      "--optimizer",
      "sgd",
      "--lr",
      "300",
      "--out",
      dir,
    );
    assert.equal(r.code, 3, r.stderr);
    const m = /iteration (\d+): .*the last good checkpoint \(iteration (\d+)\)/.exec(r.stderr);
    assert.ok(m, r.stderr);
    assert.ok(Number(m[2]) < Number(m[1]));
    const cfg = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    assert.equal(cfg.iteration, Number(m[2]));
    // The kept checkpoint is whole: resuming reads it (and fails again, at the same iteration).
    const again = await ebmInProcess("train", "--resume", dir, "--iters", "100");
    assert.equal(again.code, 3);
    assert.match(again.stderr, new RegExp(`iteration ${m[1]}: `));
  });

  test("bad input: one line, exit 2, nothing written", { skip }, async () => {
    const csv = join(tmp, "bad.csv");
    writeFileSync(csv, "x,y\n1,2\n3\n");
    const cases: [string[], RegExp][] = [
      [["--data", csv], /bad\.csv: line 3/],
      [["--data", "nosuchset"], /--data: 'nosuchset' is neither a built-in set/],
      [["--data", "moons", "--method", "magic"], /--method must be one of/],
      [["--data", "moons", "--hidden", "0,3"], /--hidden/],
      [["--data", "moons", "--step", "-1"], /--step must be positive/],
      [["--data", "moons", "--method", "pcd", "--confinement", "0"], /confinement must be > 0/],
      [
        ["--data", "moons", "--estimator-islands", "2"],
        /--estimator-islands applies to --energy rbm --method jarzynski/,
      ],
    ];
    for (const [args, re] of cases) {
      const out = join(tmp, "never");
      const r = await ebmInProcess("train", ...args, "--out", out);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split("\n").length, 1);
      assert.ok(!existsSync(out), `${args.join(" ")} wrote ${out}`);
    }
    const cfg = join(tmp, "cfg.yaml");
    writeFileSync(cfg, "data: moons\nwalkrs: 10\n");
    const c = await ebmInProcess("train", "--config", cfg, "--out", join(tmp, "never"));
    assert.equal(c.code, 2);
    assert.match(c.stderr, /cfg\.yaml: unknown setting 'walkrs'/);
    const existing = await ebmInProcess("train", ...SMALL, "--out", join(tmp, "full"));
    assert.equal(existing.code, 2);
    assert.match(existing.stderr, /already holds a checkpoint/);
  });

  test("a config file sets options and flags override it", { skip }, async () => {
    const cfg = join(tmp, "run.yaml");
    writeFileSync(
      cfg,
      "data: mog4-unequal\ndata-size: 500\nmethod: pcd\nhidden: [8, 8]\niters: 7\nwalkers: 50\nbatch: 50\n",
    );
    const dir = join(tmp, "fromcfg");
    const r = await ebmInProcess("train", "--config", cfg, "--iters", "9", "--out", dir, "--json");
    assert.equal(r.code, 0, r.stderr);
    const saved = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    assert.equal(saved.config.method, "pcd");
    assert.deepEqual(saved.config.model.hidden, [8, 8]);
    assert.equal(saved.iteration, 9);
  });

  test(
    "an exponential-family energy trains, saves expfam.theta, and refuses MLP-only flags",
    { skip },
    async () => {
      const dir = join(tmp, "expfam");
      const r = ebm(
        "train",
        "--data",
        "mog4-unequal",
        "--data-size",
        "2000",
        "--energy",
        "expfam",
        "--statistics",
        "poly:4",
        "--iters",
        "30",
        "--walkers",
        "200",
        "--out",
        dir,
        "--json",
      );
      assert.equal(r.code, 0, r.stderr);
      const cfg = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
      assert.deepEqual(cfg.config.model, { type: "expfam", dim: 2, statistics: "poly", degree: 4 });
      const header = readFileSync(join(dir, "model.safetensors"));
      assert.match(
        header.subarray(8, 8 + Number(header.readBigUInt64LE(0))).toString(),
        /"expfam\.theta":\{"dtype":"F64","shape":\[8\]/,
      );
      const bad = await ebmInProcess(
        "train",
        "--data",
        "moons",
        "--energy",
        "expfam",
        "--hidden",
        "8",
        "--out",
        join(tmp, "never"),
      );
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--hidden applies to --energy mlp, not expfam/);
      const odd = await ebmInProcess(
        "train",
        "--data",
        "moons",
        "--energy",
        "expfam",
        "--statistics",
        "poly:3",
        "--out",
        join(tmp, "never"),
      );
      assert.equal(odd.code, 2);
      assert.match(odd.stderr, /degree must be an even integer/);
    },
  );

  test("a trainable confinement is learned, saved as confinement.lambda and reported", async () => {
    const dir = join(tmp, "lambda");
    const r = ebm("train", ...SMALL, "--trainable-confinement", "--iters", "30", "--out", dir, "--json");
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1) as string);
    assert.ok(out.confinement > 0 && out.confinement !== 0.25, `λ = ${out.confinement}`);
    assert.equal(out.config.model.trainableConfinement, true);
    const header = readFileSync(join(dir, "model.safetensors"));
    assert.match(
      header.subarray(8, 8 + Number(header.readBigUInt64LE(0))).toString(),
      /"confinement\.lambda":\{"dtype":"F64","shape":\[1\]/,
    );
    const ev = await ebmInProcess("eval", "--model", dir, "--json");
    assert.equal(ev.code, 0, ev.stderr);
    const bad = await ebmInProcess(
      "train",
      "--data",
      "moons",
      "--energy",
      "expfam",
      "--trainable-confinement",
      "--out",
      join(tmp, "never"),
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--trainable-confinement applies to --energy mlp, not expfam/);
    assert.equal(existsSync(join(tmp, "never")), false);
  });

  test("Ctrl-C saves a checkpoint of the last finished iteration and exits 130", { skip }, async () => {
    const dir = join(tmp, "sigint");
    const child = spawn(process.execPath, [BIN, "train", ...SMALL, "--iters", "100000", "--out", dir], {
      env: { ...process.env, CI: "1" },
    });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    // Wait for the first checkpoint (written before iteration 1), then interrupt.
    for (let i = 0; i < 200 && !existsSync(join(dir, "config.json")); i++)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    child.kill("SIGINT");
    const code = await new Promise<number | null>((r) => child.on("close", r));
    assert.equal(code, 130, stderr);
    const m = /interrupted at iteration (\d+); checkpoint saved/.exec(stderr);
    assert.ok(m, stderr);
    const cfg = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    assert.equal(cfg.iteration, Number(m[1]));
    assert.ok(cfg.iteration > 0);
  });
});
