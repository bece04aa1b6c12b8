/**
 * The wasm fallback: with EBM_BACKEND=wasm the MLP factory must use tfjs and give the same numbers as an
 * explicitly requested wasm energy. With the addon missing (EBM_NATIVE_ADDON pointing nowhere) auto
 * selection falls back to wasm and `ebm bench --backend native` fails with one line. These run whether or
 * not the addon is built (child processes get the environment).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createMlpEnergy, type MlpSpec } from "../../src/energies/mlp.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SPEC: MlpSpec = { inputDim: 2, hidden: [16, 8], activation: "softplus", confinement: 0.2 };
const N = 20;

const CHILD = `
import { createMlpEnergy, mlpBackend, selectedBackend, setBackend, keyFromSeed, Stream } from "./src/node.ts";
const spec = ${JSON.stringify(SPEC)};
const e = await createMlpEnergy(spec, keyFromSeed(4));
const x = new Stream(keyFromSeed(5)).fillNormal(new Float64Array(${2 * N}));
const u = new Float64Array(${N});
const g = new Float64Array(${2 * N});
e.energyAndGrad(x, ${N}, u, g);
let forced = "";
const selected = selectedBackend();
try { setBackend("native"); selectedBackend(); } catch (err) { forced = err.message; }
console.log(JSON.stringify({ backend: mlpBackend(e), selected, u: [...u], g: [...g], forced }));
`;

describe("wasm fallback (EBM_BACKEND=wasm)", () => {
  test("the factory uses tfjs and gives the same numbers as an energy asking for wasm", async () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", CHILD], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, EBM_BACKEND: "wasm" },
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
    assert.equal(out.backend, "wasm");
    assert.equal(out.selected, "wasm");
    const e = await createMlpEnergy(SPEC, keyFromSeed(4), { backend: "wasm" });
    try {
      const x = new Stream(keyFromSeed(5)).fillNormal(new Float64Array(2 * N)) as Float64Array;
      const u = new Float64Array(N);
      const g = new Float64Array(2 * N);
      e.energyAndGrad(x, N, u, g);
      assert.deepEqual(out.u, [...u]);
      assert.deepEqual(out.g, [...g]);
    } finally {
      e.dispose();
    }
  });

  test("addon missing: auto selects wasm; ebm bench --backend native fails with one line, exit 2", () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      EBM_NATIVE_ADDON: join(root, "native", "no-such-addon.node"),
    };
    delete env.EBM_BACKEND;
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", CHILD], {
      cwd: root,
      encoding: "utf8",
      env,
    });
    assert.equal(child.status, 0, child.stderr);
    const out = JSON.parse(child.stdout.trim().split("\n").pop()!);
    assert.equal(out.backend, "wasm");
    assert.match(out.forced, /^native backend requested \(setBackend\(\)\) but unavailable: addon not built/);
    const r = spawnSync(
      process.execPath,
      ["bin/ebm.js", "bench", "--backend", "native", "--only", "matmul_1024_f32"],
      {
        cwd: root,
        encoding: "utf8",
        env,
      },
    );
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(
      r.stderr,
      /^ebm: error: native backend requested \(--backend\) but unavailable: addon not built/,
    );
  });
});
