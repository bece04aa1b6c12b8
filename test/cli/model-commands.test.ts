/**
 * The commands that read a trained checkpoint (`ebm density`, `ebm logz`, `ebm eval`, `ebm sample
 * --model`) as a user runs them: the density CSV and its normalisation, log Z by SMC against the grid
 * quadrature within 4 SE, the fields of eval's --json, and one-line errors (exit 2) that name the option or
 * file and leave nothing written. One tiny checkpoint is trained once for the whole file.
 *
 * The training run, the density CSV and logz --json are child processes; the other commands, --help and
 * the refusals go through the CLI in-process (./in-process.ts: the first refusal also as a child process
 * that must print the same). The wasm pass skips --help and the refusals, which reach no kernel.
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { defaultTrainConfig, modelNumParams, paramsToTensors, writeCheckpoint } from "../../src/node.ts";
import { WASM_PASS_SKIP as skip } from "../helpers.ts";
import { type CliRun as Run, ebmBothWays, ebmInProcess, ebmProcess as ebm } from "./in-process.ts";

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

/** Exit code 2, one line on stderr matching `pattern`, no stack trace. */
function assertUserError(r: Run, pattern: RegExp, what: string): void {
  assert.equal(r.code, 2, `${what}: ${r.stderr}`);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
  assert.match(lines[0], pattern, what);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
}

const tmp = mkdtempSync(join(tmpdir(), "ebm-model-cmds-"));
const model = join(tmp, "model");
const corrupted = join(tmp, "corrupted");
const model3d = join(tmp, "model3d");

describe("commands on a trained model", () => {
  before(() => {
    const r = ebm(
      "train",
      "--data",
      "mog4-unequal",
      "--data-size",
      "2000",
      "--iters",
      "200",
      "--hidden",
      "16,16",
      "--walkers",
      "200",
      "--out",
      model,
      "--no-progress",
    );
    assert.equal(r.code, 0, r.stderr);
    // A copy with one byte of the parameters flipped: its checksum no longer matches config.json.
    cpSync(model, corrupted, { recursive: true });
    const path = join(corrupted, "model.safetensors");
    const bytes = readFileSync(path);
    bytes[bytes.length - 5] ^= 0xff;
    writeFileSync(path, bytes);
    // A 3-D model (the density command refuses it), written directly: only its shape matters.
    const config = defaultTrainConfig(3);
    config.model.hidden = [4];
    writeCheckpoint(model3d, {
      iteration: 0,
      config,
      data: { kind: "builtin", name: "mog4-unequal", size: 10, seed: 0 },
      state: null,
      modelTensors: paramsToTensors(config.model, new Float64Array(modelNumParams(config.model)).fill(0.1)),
      stateTensors: {},
    });
  });

  after(() => rmSync(tmp, { recursive: true, force: true }));

  test("--help documents the options of density, logz and eval", { skip }, async () => {
    const expected: Record<string, string[]> = {
      density: ["--model", "--grid", "--out", "--seed", "--json"],
      logz: [
        "--model",
        "--method",
        "--replicas",
        "--temperatures",
        "--walkers",
        "--kernel",
        "--step",
        "--seed",
        "--json",
      ],
      eval: ["--model", "--data", "--data-size", "--mmd-points", "--grid", "--replicas", "--seed", "--json"],
    };
    for (const [cmd, options] of Object.entries(expected)) {
      const r = await ebmInProcess(cmd, "--help");
      assert.equal(r.code, 0, r.stderr);
      for (const o of options) assert.match(r.stdout, new RegExp(o), `${cmd} --help lacks ${o}`);
    }
  });

  test("density: CSV x,y,density normalised on the grid (Σ density·cell area = 1), grid log Z in --json", () => {
    const out = join(tmp, "density.csv");
    const r = ebm("density", "--model", model, "--grid", "-9,9,-8,8,60", "--out", out, "--json");
    assert.equal(r.code, 0, r.stderr);
    const j = lastJson(r.stdout);
    const lines = readFileSync(out, "utf8").trim().split("\n");
    assert.equal(lines[0], "x,y,density");
    assert.equal(lines.length, 1 + 60 * 60);
    const cellArea = (18 / 60) * (16 / 60);
    let total = 0;
    for (const line of lines.slice(1)) {
      const [x, y, p] = line.split(",").map(Number);
      assert.ok(x > -9 && x < 9 && y > -8 && y < 8 && p >= 0, line);
      total += p * cellArea;
    }
    assert.ok(Math.abs(total - 1) < 1e-9, `Σ density·dA = ${total}`);
    assert.ok(Math.abs((j.cell_area as number) / cellArea - 1) < 1e-6);
    for (const k of ["logz", "logz_error", "edge_mass"]) assert.equal(typeof j[k], "number", k);
    assert.ok((j.logz_error as number) < 0.01);
    assert.deepEqual(j.warnings, []);
  });

  test("density warns when the window cuts the density (edge mass > 1e-3)", async () => {
    const out = join(tmp, "narrow.csv");
    const r = await ebmInProcess("density", "--model", model, "--grid", "0,1,0,1,20", "--out", out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /warning: the window cuts the density/);
    assert.match(r.stdout, /edge mass/);
  });

  test("density --out FILE.png draws data | model | true density", async () => {
    const out = join(tmp, "density.png");
    const r = await ebmInProcess("density", "--model", model, "--out", out, "--json");
    assert.equal(r.code, 0, r.stderr);
    const png = readFileSync(out);
    assert.ok(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])));
    // Three panels side by side: much wider than tall.
    const [w, h] = [png.readUInt32BE(16), png.readUInt32BE(20)];
    assert.ok(w > 2.2 * h, `${w} × ${h}`);
    assert.ok(Number.isFinite(lastJson(r.stdout).logz));
  });

  test("logz --json: fields, and the SMC value within 4 SE of the grid quadrature", async () => {
    const r = ebm("logz", "--model", model, "--json");
    assert.equal(r.code, 0, r.stderr);
    const j = lastJson(r.stdout);
    assert.equal(j.method, "smc");
    assert.equal(j.replicas, 8);
    assert.equal((j.values as number[]).length, 8);
    const logz = j.logz as number;
    const se = j.stderr as number;
    assert.ok(Number.isFinite(logz) && se > 0 && se < 0.05, `log Z ${logz} ± ${se}`);
    const grid = j.grid as { logz: number; error: number; edge_mass: number };
    assert.ok(grid.edge_mass < 1e-6, `edge mass ${grid.edge_mass}`);
    const tol = 4 * Math.hypot(se, grid.error);
    assert.ok(Math.abs(logz - grid.logz) < tol, `smc ${logz} ± ${se}, grid ${grid.logz}`);
    // The text form says the same in one line.
    const t = await ebmInProcess(
      ...["logz", "--model", model, "--replicas", "2", "--walkers", "100", "--temperatures", "20"],
    );
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /log Z = -?\d+\.\d+ ± \d+\.\d+ \(smc, 2 replicas, nats\)/);
    assert.match(t.stdout, /grid quadrature: log Z = /);
  });

  test("eval --json: log Z, held-out NLL, MMD², grid KL and mode masses, each with an error bar", async () => {
    const r = await ebmInProcess(
      "eval",
      "--model",
      model,
      "--data-size",
      "2000",
      "--mmd-points",
      "300",
      "--replicas",
      "4",
      "--walkers",
      "200",
      "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    const j = lastJson(r.stdout);
    assert.deepEqual(j.data, { kind: "builtin", name: "mog4-unequal", n: 2000, seed: 1_000_000 });
    for (const k of ["logz", "logz_se", "nll", "nll_se", "nll_true", "mmd2", "mmd2_se"])
      assert.ok(Number.isFinite(j[k] as number), `${k} = ${j[k]}`);
    assert.ok((j.nll_se as number) > 0 && (j.mmd2_se as number) > 0);
    // The exact density is the best any model can do (up to the SE of the difference).
    assert.ok((j.nll as number) > (j.nll_true as number) - 4 * (j.nll_se as number));
    const kl = j.kl as { value: number; error: number };
    assert.ok(kl.value >= 0 && Number.isFinite(kl.error));
    const m = j.mode_masses as { masses: number[]; errors: number[]; weights: number[] };
    assert.equal(m.masses.length, 4);
    assert.equal(m.errors.length, 4);
    assert.deepEqual(m.weights, [0.2, 0.2, 0.3, 0.3]);
    assert.ok(Math.abs(m.masses.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  });

  test("sample --model draws from the trained model, with the usual diagnostics and output", async () => {
    const out = join(tmp, "draws.csv");
    const r = await ebmInProcess(
      "sample",
      "--model",
      model,
      "--sampler",
      "mala",
      "--chains",
      "4",
      "--warmup",
      "200",
      "--draws",
      "200",
      "--out",
      out,
      "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    const j = lastJson(r.stdout);
    assert.match(j.target as string, /^model .*mlp 2→16→16→1/);
    assert.equal((j.dims as unknown[]).length, 2);
    assert.equal(readFileSync(out, "utf8").split("\n")[0], "chain,draw,x0,x1");
  });

  test(
    "score matches columns by position and warns when their names differ from the training file's",
    { skip },
    async () => {
      const train = join(tmp, "xy.csv");
      const rows = Array.from({ length: 100 }, (_, i) => `${Math.sin(i)},${Math.cos(3 * i)}`);
      writeFileSync(train, `x,y\n${rows.join("\n")}\n`);
      const dir = join(tmp, "model-xy");
      const t = await ebmInProcess(
        "train",
        "--data",
        train,
        "--iters",
        "5",
        "--hidden",
        "8",
        "--out",
        dir,
        "--no-progress",
      );
      assert.equal(t.code, 0, t.stderr);
      const same = join(tmp, "same.csv");
      const renamed = join(tmp, "renamed.csv");
      writeFileSync(same, "x,y\n0.1,0.2\n0.3,-0.4\n");
      writeFileSync(renamed, "a,b\n0.1,0.2\n0.3,-0.4\n");
      const a = await ebmInProcess("score", "--model", dir, "--data", same);
      const b = await ebmInProcess("score", "--model", dir, "--data", renamed);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(a.stderr, "");
      assert.match(
        b.stderr.trim(),
        /^warning: --data .*renamed\.csv has columns a,b, the model was trained on x,y: scored by position$/,
      );
      assert.equal(b.stdout, a.stdout, "the same rows score the same");
    },
  );

  test("bad input: one line naming the option or file, exit 2, nothing written", { skip }, async () => {
    const out = join(tmp, "never.csv");
    // Copies whose config.json has no model, a null one, or a configuration that is not an object.
    const broken = (name: string, edit: (c: Record<string, unknown>) => void) => {
      const dir = join(tmp, name);
      cpSync(model, dir, { recursive: true });
      const c = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
      edit(c);
      writeFileSync(join(dir, "config.json"), JSON.stringify(c));
      return dir;
    };
    const noModel = broken("no-model", (c) => delete (c.config as Record<string, unknown>).model);
    const nullModel = broken("null-model", (c) => ((c.config as Record<string, unknown>).model = null));
    const stringConfig = broken("string-config", (c) => (c.config = "mlp"));
    const cases: [string[], RegExp][] = [
      [
        ["density", "--model", join(tmp, "missing"), "--out", out],
        /--model.*missing.*no such checkpoint folder/,
      ],
      [["density", "--model", corrupted, "--out", out], /model\.safetensors.*checksum/],
      [["eval", "--model", corrupted], /model\.safetensors/],
      [["sample", "--model", corrupted, "--out", out], /model\.safetensors/],
      [
        ["sample", "--model", model, "--target", "examples/targets/gmm2d.yaml", "--out", out],
        /--target and --model/,
      ],
      [["sample", "--out", out], /--target FILE .* or --model DIR/],
      [["density", "--model", model, "--grid", "-4,4,-4,4", "--out", out], /--grid needs 5/],
      [
        ["density", "--model", model, "--grid", "4,-4,-4,4,50", "--out", out],
        /--grid.*xmax must exceed xmin/,
      ],
      [["density", "--model", model, "--grid", "-4,4,-4,4,2", "--out", out], /--grid: n must be/],
      [
        ["density", "--model", model, "--grid=0,1e-320,-3,3,10", "--out", out],
        /--grid .*cells' size must be positive and finite/,
      ],
      [
        ["density", "--model", model, "--grid=-1e308,1e308,-3,3,10", "--out", out],
        /--grid .*cells' size must be positive and finite/,
      ],
      [["density", "--model", model, "--out", join(tmp, "never.txt")], /--out must end in \.csv or \.png/],
      [["density", "--model", model3d, "--out", join(tmp, "never.png")], /--model .*dimension 3/],
      [["density", "--model", model3d, "--out", out], /--model .*dimension 3/],
      [["logz", "--model", model, "--replicas", "1"], /--replicas/],
      [["eval", "--model", model, "--data", "nosuchset"], /--data: 'nosuchset'/],
      [["eval", "--model", model, "--data", join(tmp, "absent.csv")], /--data: .*absent\.csv/],
      [
        ["density", "--model", noModel, "--out", out],
        /--model: .*config\.json: model must be an object with a type, got undefined/,
      ],
      [
        ["logz", "--model", nullModel],
        /--model: .*config\.json: model must be an object with a type, got null/,
      ],
      [
        ["sample", "--model", stringConfig, "--out", out],
        /config\.json: the configuration must be an object, got string/,
      ],
    ];
    for (const [i, [args, pattern]] of cases.entries())
      assertUserError(await (i === 0 ? ebmBothWays : ebmInProcess)(...args), pattern, args.join(" "));
    assert.equal(existsSync(out), false, `an error case wrote ${out}`);
    assert.equal(existsSync(join(tmp, "never.txt")), false);
  });
});
