/**
 * RBMs through the command line, on a small binary CSV (12 visible units, noisy copies of 4 prototypes;
 * 8 hidden units, so exact log Z enumerates 2^8 states):
 *  - `ebm train --energy rbm`: model.safetensors holds exactly `weights` [12, 8], `visible_bias` [12],
 *    `hidden_bias` [8] (float64 holding float32 values), config.json the spec {type: "rbm", visible, hidden};
 *    the initial model (--iters 0) has the data's smoothed base rates as visible biases (Hinton 2010);
 *    a run resumed halfway equals the uninterrupted one byte for byte (model, state, metrics) for CD, PCD and
 *    Jarzynski; non-binary data are refused with one line naming the file, row and column, and nothing is
 *    written.
 *  - `ebm logz`: AIS and Jarzynski (base-rate path, 8 replicas, fixed seeds) agree with exact enumeration
 *    within 3 of their reported SEs, the SE small enough (< 0.05 nats) for the check to have power; the same
 *    on a bare .safetensors RBM with large weights (W ~ N(0, 1)), where the path is harder.
 *  - `ebm score`: one free energy per data row, equal to the library's Rbm.energy on the checkpoint's
 *    parameters; non-binary rows refused with one line.
 *
 * The first training run, every resumed run (a fresh process reading only the checkpoint) and the first
 * score are child processes; the other runs go through the CLI in-process (./in-process.ts: the first
 * refusal also as a child process that must print the same). The wasm pass skips the refusals, which reach
 * no kernel; the runs use the RBM kernels, which differ by backend, and run on both passes.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { Rbm } from "../../src/energies/rbm.ts";
import { encodeSafetensors, parseSafetensors } from "../../src/io/safetensors.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";
import { WASM_PASS_SKIP as skip } from "../helpers.ts";
import { ebmBothWays, ebmInProcess, ebmProcess as ebm } from "./in-process.ts";

const lastJson = (s: string) => JSON.parse(s.trim().split("\n").pop() as string);

const tmp = mkdtempSync(join(tmpdir(), "ebm-rbm-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const V = 12;
const H = 8;
const N = 600;

/** N noisy copies (10% flips) of 4 random prototypes, as 0/1 rows. */
function binaryRows(seed: number, n: number): number[][] {
  const rng = new Stream(keyFromSeed(seed));
  const protos = Array.from({ length: 4 }, () =>
    Array.from({ length: V }, () => (rng.uniform() < 0.5 ? 1 : 0)),
  );
  return Array.from({ length: n }, () => {
    const p = protos[rng.integer(4)];
    return p.map((b) => (rng.uniform() < 0.1 ? 1 - b : b));
  });
}

function writeCsv(path: string, rows: number[][]): void {
  const header = Array.from({ length: rows[0].length }, (_, i) => `p${i}`).join(",");
  writeFileSync(path, `${header}\n${rows.map((r) => r.join(",")).join("\n")}\n`);
}

const data = join(tmp, "bits.csv");
writeCsv(data, binaryRows(1, N));
const COMMON = ["--data", data, "--energy", "rbm", "--hidden", String(H), "--no-progress"];

function modelTensors(dir: string) {
  const f = parseSafetensors(new Uint8Array(readFileSync(join(dir, "model.safetensors"))));
  return Object.fromEntries([...f.tensors.keys()].map((k) => [k, f.getFloat64(k)]));
}

describe("ebm train --energy rbm", () => {
  test("the checkpoint holds weights, visible_bias and hidden_bias with the RBM's shapes", () => {
    const dir = join(tmp, "cd");
    const r = ebm("train", ...COMMON, "--epochs", "10", "--out", dir, "--json");
    assert.equal(r.code, 0, r.stderr);
    const s = lastJson(r.stdout);
    assert.equal(s.iteration, 60); // 10 epochs of ⌈600/100⌉ updates
    assert.deepEqual(s.config.model, { type: "rbm", visible: V, hidden: H });
    assert.equal(s.config.method, "cd");
    const t = modelTensors(dir);
    assert.deepEqual(Object.keys(t).sort(), ["hidden_bias", "visible_bias", "weights"]);
    assert.deepEqual(t.weights.shape, [V, H]);
    assert.deepEqual(t.visible_bias.shape, [V]);
    assert.deepEqual(t.hidden_bias.shape, [H]);
    for (const x of Object.values(t))
      for (const v of x.data) assert.ok(Number.isFinite(v) && Math.fround(v) === v, `${v} is not a float32`);
  });

  test("the initial model: W ~ N(0, 0.01²), visible biases at the data's smoothed base rates, c = 0", async () => {
    const dir = join(tmp, "init");
    assert.equal((await ebmInProcess("train", ...COMMON, "--iters", "0", "--out", dir)).code, 0);
    const t = modelTensors(dir);
    const rows = binaryRows(1, N);
    for (let i = 0; i < V; i++) {
      const k = rows.reduce((a, r) => a + r[i], 0);
      assert.equal(t.visible_bias.data[i], Math.fround(Math.log((k + 1) / (N - k + 1))));
    }
    assert.ok(t.hidden_bias.data.every((c) => c === 0));
    const w = t.weights.data;
    const sd = Math.sqrt(w.reduce((a, x) => a + x * x, 0) / w.length);
    assert.ok(sd > 0.007 && sd < 0.013, `sd(W) = ${sd}`); // 96 draws of N(0, 0.01²): sd within ±30%
  });

  test("jarzynski: the walkers' health warnings are printed and in the JSON; islands give the estimator an SE", async () => {
    // Resampling whenever ESS < N resamples at every update: the `resampling_frequent` warning.
    const dir = join(tmp, "warned");
    const args = [...COMMON, "--method", "jarzynski", "--iters", "30", "--resample", "1", "--walkers", "200"];
    const r = await ebmInProcess(
      "train",
      ...args,
      "--estimator-walkers",
      "400",
      "--estimator-islands",
      "4",
      "--out",
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /warning: training walkers: resampled at 30 of 30 updates/);
    assert.match(r.stdout, /log Z \(estimator population\) +\d+\.\d+ ± \d+\.\d+/);
    const j = await ebmInProcess("train", "--resume", dir, "--iters", "31", "--json");
    assert.equal(j.code, 0, j.stderr);
    const s = lastJson(j.stdout);
    assert.ok(
      s.warnings.some((w: string) => /^training walkers: resampled at 31 of 31 updates/.test(w)),
      s.warnings,
    );
    assert.equal(s.config.estimatorIslands, 4);
    assert.ok(Number.isFinite(s.estimatorLogZSe) && s.estimatorLogZSe > 0);
  });

  for (const method of ["cd", "pcd", "jarzynski"])
    test(`${method}: resume from a checkpoint equals the uninterrupted run byte for byte`, async () => {
      const full = join(tmp, `full-${method}`);
      const part = join(tmp, `part-${method}`);
      const args = [...COMMON, "--method", method, "--walkers", "200"];
      assert.equal((await ebmInProcess("train", ...args, "--iters", "40", "--out", full)).code, 0);
      assert.equal((await ebmInProcess("train", ...args, "--iters", "17", "--out", part)).code, 0);
      // The resumed run in a fresh process: it has only the checkpoint's files to go on.
      const b = ebm("train", "--resume", part, "--iters", "40", "--no-progress");
      assert.equal(b.code, 0, b.stderr);
      for (const f of ["model.safetensors", "state.safetensors", "metrics.jsonl"])
        assert.ok(readFileSync(join(full, f)).equals(readFileSync(join(part, f))), `${method}: ${f}`);
    });

  test(
    "non-binary data are refused with one line naming the file, row and column; nothing is written",
    { skip },
    async () => {
      const bad = join(tmp, "bad.csv");
      const rows = binaryRows(2, 20);
      rows[6][4] = 0.5;
      writeCsv(bad, rows);
      const out = join(tmp, "never");
      const r = await ebmBothWays("train", "--data", bad, "--energy", "rbm", "--hidden", "4", "--out", out);
      assert.equal(r.code, 2);
      assert.match(
        r.stderr,
        /^ebm: error: --data .*bad\.csv: row 7, column 5 \('p4'\) holds 0\.5: an RBM trains on 0\/1 data\n$/,
      );
      assert.equal(r.stdout, "");
      assert.ok(!existsSync(out));
      const noHidden = await ebmInProcess("train", "--data", data, "--energy", "rbm", "--out", out);
      assert.equal(noHidden.code, 2);
      assert.match(noHidden.stderr, /--hidden H is required/);
      const wrong = await ebmInProcess("train", ...COMMON, "--method", "sm", "--out", out);
      assert.match(wrong.stderr, /--method for an RBM must be one of cd, pcd, jarzynski/);
      const fewPerIsland = await ebmInProcess(
        "train",
        ...COMMON,
        "--method",
        "jarzynski",
        "--estimator-walkers",
        "3",
        "--estimator-islands",
        "2",
        "--out",
        out,
      );
      assert.equal(fewPerIsland.code, 2);
      assert.match(
        fewPerIsland.stderr,
        /^ebm: error: --estimator-islands \(2\) needs at least 2 walkers per island, got --estimator-walkers 3\n$/,
      );
      assert.ok(!existsSync(out));
    },
  );

  test(
    "commands for continuous models refuse an RBM folder with one line saying how to sample it",
    { skip },
    async () => {
      const dir = join(tmp, "cd");
      for (const [cmd, ...rest] of [
        ["eval"],
        ["density", "--out", join(tmp, "never.png")],
        ["sample", "--out", join(tmp, "never.csv")],
      ]) {
        const r = await ebmInProcess(cmd, "--model", dir, ...rest);
        assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
        assert.match(
          r.stderr,
          /^ebm: error: --model .* holds an RBM: .*ebm sample --target T\.json.*"type": "rbm"/,
        );
        assert.equal(r.stderr.split("\n").length, 2, r.stderr);
      }
      assert.ok(!existsSync(join(tmp, "never.png")) && !existsSync(join(tmp, "never.csv")));
    },
  );
});

describe("ebm logz on an RBM", () => {
  const check = async (model: string, extra: string[] = []) => {
    const exact = await ebmInProcess("logz", "--model", model, "--method", "exact", "--json");
    assert.equal(exact.code, 0, exact.stderr);
    const z = lastJson(exact.stdout).logz as number;
    const rows: string[] = [];
    for (const method of ["ais", "jarzynski"]) {
      const r = await ebmInProcess(
        "logz",
        "--model",
        model,
        "--method",
        method,
        "--betas",
        "300",
        "--seed",
        "7",
        "--json",
        ...extra,
      );
      assert.equal(r.code, 0, r.stderr);
      const e = lastJson(r.stdout);
      rows.push(`${method} ${e.logz} ± ${e.stderr} (exact ${z})`);
      assert.equal(e.method, method);
      assert.equal(e.replicas, 8);
      assert.ok(e.stderr > 0 && e.stderr < 0.05, rows.at(-1));
      assert.ok(Math.abs(e.logz - z) < 3 * e.stderr, rows.at(-1));
    }
    return rows;
  };

  test("exact, AIS and Jarzynski agree within 3 SE on the trained checkpoint (base rates of its data)", async () => {
    const rows = await check(join(tmp, "cd"));
    const r = await ebmInProcess("logz", "--model", join(tmp, "cd"), "--json");
    assert.match(lastJson(r.stdout).base_source, /base rates of the training data/);
    console.log(`trained 12 × 8 RBM: ${rows.join("; ")}`);
  });

  test("the same on a bare .safetensors RBM with large weights (base: the data's base rates via --data)", async () => {
    const m = Rbm.random(keyFromSeed(11), V, H, 1, 0.5);
    const file = join(tmp, "big.safetensors");
    writeFileSync(
      file,
      encodeSafetensors({
        weights: { shape: [V, H], data: m.W, dtype: "F32" },
        visible_bias: { shape: [V], data: m.b, dtype: "F32" },
        hidden_bias: { shape: [H], data: m.c, dtype: "F32" },
      }),
    );
    const rows = await check(file, ["--data", data]);
    console.log(`W ~ N(0, 1) 12 × 8 RBM: ${rows.join("; ")}`);
    if (skip) return; // a refusal: backend-independent
    const smc = await ebmInProcess("logz", "--model", file, "--method", "smc");
    assert.equal(smc.code, 2);
    assert.match(
      smc.stderr,
      /^ebm: error: --method for an RBM must be exact, ais or jarzynski, got 'smc'\n$/,
    );
  });
});

describe("ebm score on an RBM", () => {
  test("one free energy per row, equal to the library's Rbm.energy", async () => {
    const dir = join(tmp, "cd");
    const r = ebm("score", "--model", dir, "--data", data);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines[0], "free_energy");
    assert.equal(lines.length, N + 1);
    const t = modelTensors(dir);
    const rbm = new Rbm(t.weights.data, t.visible_bias.data, t.hidden_bias.data);
    const rows = binaryRows(1, N);
    const f = new Float64Array(N);
    rbm.energy(Float64Array.from(rows.flat()), N, f);
    for (let i = 0; i < N; i++) assert.equal(Number(lines[i + 1]), f[i], `row ${i + 1}`);
    const out = join(tmp, "scores.csv");
    const j = await ebmInProcess("score", "--model", dir, "--data", data, "--out", out, "--json");
    assert.equal(j.code, 0, j.stderr);
    const s = lastJson(j.stdout);
    assert.equal(s.n, N);
    assert.equal(readFileSync(out, "utf8"), r.stdout);
    const bad = join(tmp, "bad-score.csv");
    const badRows = binaryRows(2, 20);
    badRows[6][4] = 0.5;
    writeCsv(bad, badRows);
    const b = await ebmInProcess("score", "--model", dir, "--data", bad);
    assert.equal(b.code, 2);
    assert.match(
      b.stderr,
      /^ebm: error: --data .*bad-score\.csv: row 7, column 5 holds 0\.5: an RBM scores 0\/1 data\n$/,
    );
  });
});

describe("ebm score on a continuous model", () => {
  test("U_θ(x) per row for an exponential family, equal to the loaded model's energy", async () => {
    const dir = join(tmp, "expfam");
    const t = await ebmInProcess(
      "train",
      ...["--data", "mog4-unequal", "--data-size", "500", "--energy", "expfam", "--iters", "5"],
      ...["--walkers", "100", "--estimator-walkers", "0", "--batch", "100", "--out", dir, "--no-progress"],
    );
    assert.equal(t.code, 0, t.stderr);
    const points = join(tmp, "points.csv");
    const x = [0, 0, 1.5, -2, -3, 0.25];
    writeFileSync(points, `x0,x1\n0,0\n1.5,-2\n-3,0.25\n`);
    const r = ebm("score", "--model", dir, "--data", points, "--json");
    assert.equal(r.code, 0, r.stderr);
    const s = lastJson(r.stdout);
    assert.equal(s.kind, "energy");
    const { loadTrainedModel } = await import("../../src/cli/model.ts");
    const tm = await loadTrainedModel(dir);
    const u = new Float64Array(3);
    tm.energy.energy(Float64Array.from(x), 3, u);
    assert.deepEqual(s.values, Array.from(u));
    const wide = await ebmInProcess("score", "--model", dir, "--data", data);
    assert.equal(wide.code, 2);
    assert.match(wide.stderr, /12 columns, but the model expects 2/);
  });
});
