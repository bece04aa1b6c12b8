/**
 * Training sessions and checkpoints: a run resumed from an encoded state continues bit for bit, the state
 * codec round-trips every value type, a checkpoint refuses truncation and edits, and non-finite values
 * stop a run with the iteration named.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CheckpointError, readCheckpoint, writeCheckpoint } from "../../src/io/checkpoint.ts";
import {
  buildModel,
  decodeState,
  defaultRbmTrainConfig,
  defaultTrainConfig,
  encodeState,
  keyFromSeed,
  modelNumParams,
  NumericalError,
  paramsFromTensors,
  paramsToTensors,
  resumeTraining,
  startTraining,
  Stream,
  type TrainConfig,
  trainedConfinement,
} from "../../src/index.ts";

function smallConfig(method: TrainConfig["method"]): TrainConfig {
  const c = defaultTrainConfig(2);
  c.model.hidden = [16, 16];
  c.method = method;
  c.iters = 20;
  c.walkers = 64;
  c.estimatorWalkers = method === "jarzynski" ? 32 : 0;
  c.batch = 50;
  c.reinit = method === "pcd" ? 0.1 : 0;
  c.optimizer.weightDecay = 1e-3;
  c.optimizer.clip = 10;
  c.optimizer.schedule = "cosine";
  c.optimizer.horizon = 20;
  c.seed = 3;
  return c;
}

/** 200 points from four unit-spread clusters at (±1.5, ±1.5). */
function clusters(n: number): { x: Float64Array; n: number } {
  const rng = new Stream(keyFromSeed(1));
  const x = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const c = rng.integer(4);
    x[2 * i] = (c & 1 ? 1.5 : -1.5) + 0.25 * rng.normal();
    x[2 * i + 1] = (c & 2 ? 1.5 : -1.5) + 0.25 * rng.normal();
  }
  return { x, n };
}

const data = clusters(200);

test("state codec round-trips typed arrays, numbers (NaN, ±∞), nesting and undefined", () => {
  const state = {
    a: new Float64Array([1.5, Number.NaN, -0]),
    b: { c: new Int32Array([3, -7]), d: [1, Number.POSITIVE_INFINITY, { e: new Uint8Array([0, 255]) }] },
    f: undefined,
    g: null,
    h: "s",
    t: true,
    k: { hi: 12, lo: 34 },
  };
  const enc = encodeState(state, "state");
  const back = decodeState(JSON.parse(JSON.stringify(enc.skeleton)), enc.tensors) as typeof state;
  assert.deepEqual(back, state);
  assert.ok(back.b.c instanceof Int32Array);
  assert.throws(() => encodeState({ a: state.a, b: state.a }, "s"), /shared or cyclic/);
});

for (const method of ["jarzynski", "pcd", "cd", "mle", "dsm", "ssm", "nce"] as const) {
  test(`${method}: resuming from the encoded state after 8 iterations equals the uninterrupted run`, async () => {
    const c = smallConfig(method);
    const full = await startTraining(c, data);
    for (let i = 0; i < c.iters; i++) full.step();
    const part = await startTraining(c, data);
    for (let i = 0; i < 8; i++) part.step();
    const enc = part.encode();
    const saved = JSON.parse(JSON.stringify({ skeleton: enc.skeleton }));
    const resumed = await resumeTraining(c, data, { skeleton: saved.skeleton, tensors: enc.tensors });
    assert.equal(resumed.state.iteration, 8);
    for (let i = 8; i < c.iters; i++) resumed.step();
    assert.deepEqual(resumed.state.params, full.state.params);
    assert.deepEqual(resumed.encode().tensors, full.encode().tensors);
    assert.deepEqual(resumed.info(), full.info());
  });
}

test("model tensors: stable names and shapes, round trip, and clear errors", () => {
  const c = smallConfig("cd");
  const theta = Float64Array.from({ length: 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1 }, (_, i) => i / 7);
  const t = paramsToTensors(c.model, theta);
  assert.deepEqual(Object.keys(t), [
    "mlp.layers.0.weight",
    "mlp.layers.0.bias",
    "mlp.layers.1.weight",
    "mlp.layers.1.bias",
    "mlp.layers.2.weight",
    "mlp.layers.2.bias",
  ]);
  assert.deepEqual(t["mlp.layers.0.weight"].shape, [2, 16]);
  assert.deepEqual(t["mlp.layers.2.weight"].shape, [16, 1]);
  assert.deepEqual(
    paramsFromTensors(c.model, (n) => t[n]),
    theta,
  );
  assert.throws(
    () => paramsFromTensors(c.model, (n) => (n === "mlp.layers.1.bias" ? undefined : t[n])),
    /mlp\.layers\.1\.bias is missing/,
  );
  const bad: typeof t = {
    ...t,
    "mlp.layers.0.weight": { shape: [16, 2], data: t["mlp.layers.0.weight"].data },
  };
  assert.throws(() => paramsFromTensors(c.model, (n) => bad[n]), /shape \[16, 2\], expected \[2, 16\]/);
});

test("checkpoint: written atomically, read back, truncation and edits refused with one line", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ebm-ckpt-"));
  try {
    const c = smallConfig("jarzynski");
    const s = await startTraining(c, data);
    for (let i = 0; i < 3; i++) s.step();
    const enc = s.encode();
    writeCheckpoint(dir, {
      iteration: 3,
      config: c,
      data: { kind: "builtin" },
      state: enc.skeleton,
      modelTensors: paramsToTensors(c.model, s.state.params),
      stateTensors: Object.fromEntries(
        Object.entries(enc.tensors).map(([k, v]) => [k, { shape: [v.length], data: v }]),
      ),
    });
    const back = readCheckpoint(dir);
    assert.equal(back.iteration, 3);
    assert.deepEqual(
      paramsFromTensors(c.model, (n) => back.modelTensors[n] as never),
      s.state.params,
    );
    const model = join(dir, "model.safetensors");
    const bytes = readFileSync(model);
    writeFileSync(model, bytes.subarray(0, bytes.length - 5));
    assert.throws(
      () => readCheckpoint(dir),
      (e: Error) =>
        e instanceof CheckpointError &&
        /model\.safetensors: does not match the checksum/.test(e.message) &&
        !e.message.includes("\n"),
    );
    const edited = Uint8Array.from(bytes);
    edited[edited.length - 3] ^= 1;
    writeFileSync(model, edited);
    assert.throws(() => readCheckpoint(dir), /does not match the checksum/);
    writeFileSync(model, bytes);
    readCheckpoint(dir);
    writeFileSync(join(dir, "config.json"), "{ not json");
    assert.throws(() => readCheckpoint(dir), /config\.json: not valid JSON/);
    rmSync(join(dir, "config.json"));
    assert.throws(() => readCheckpoint(dir), /not a checkpoint \(no config\.json\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a non-finite gradient stops training with the iteration named", async () => {
  const c = smallConfig("cd");
  const s = await startTraining(c, data);
  s.step();
  const poisoned = { x: data.x.slice(), n: data.n };
  poisoned.x.fill(Number.NaN);
  const t = await startTraining(c, poisoned);
  assert.throws(
    () => t.step(),
    (e: Error) => e instanceof NumericalError && /^iteration 1: /.test(e.message),
  );
});

test("trainable confinement: U = MLP + ½λ|x|² with λ₀ = confinement, tensor confinement.lambda, λ learned, λ ≤ 0 stops", async () => {
  const fixed = smallConfig("jarzynski");
  const c = smallConfig("jarzynski");
  c.model = { ...fixed.model, trainableConfinement: true } as typeof c.model;
  assert.equal(modelNumParams(c.model), modelNumParams(fixed.model) + 1);
  const mf = await buildModel(fixed.model, keyFromSeed(5));
  const mt = await buildModel(c.model, keyFromSeed(5));
  try {
    // Same network from the same key, so at λ₀ the two energies agree.
    const x = Float64Array.from({ length: 20 }, (_, i) => Math.sin(i) * 2);
    const uf = new Float64Array(10);
    const ut = new Float64Array(10);
    mf.energy(x, 10, uf);
    mt.energy(x, 10, ut);
    for (let i = 0; i < 10; i++) assert.ok(Math.abs(uf[i] - ut[i]) < 1e-9 * (1 + Math.abs(uf[i])));
    const theta = mt.getParams();
    assert.equal(theta[theta.length - 1], c.model.type === "mlp" ? c.model.confinement : NaN);
    // ∂U/∂λ = ½|x|²: the last entry of Σ_i w_i ∂θU(x_i).
    const w = Float64Array.from({ length: 10 }, (_, i) => (i + 1) / 10);
    const g = new Float64Array(theta.length);
    mt.paramGrad(x, 10, w, g);
    let want = 0;
    for (let i = 0; i < 10; i++) want += w[i] * 0.5 * (x[2 * i] ** 2 + x[2 * i + 1] ** 2);
    assert.ok(Math.abs(g[g.length - 1] - want) < 1e-9 * want);
    const t = paramsToTensors(c.model, theta);
    assert.deepEqual(t["confinement.lambda"].shape, [1]);
    assert.deepEqual(
      paramsFromTensors(c.model, (n) => t[n]),
      theta,
    );
  } finally {
    mf.dispose();
    mt.dispose();
  }
  const s = await startTraining(c, data);
  for (let i = 0; i < c.iters; i++) s.step();
  const lambda = trainedConfinement(c.model, s.state.params) as number;
  assert.ok(lambda > 0 && lambda !== 0.25, `λ = ${lambda}`);
  assert.equal(trainedConfinement(fixed.model, s.state.params), undefined);
  const bad = await startTraining({ ...c, optimizer: { ...c.optimizer, lr: 1e-9 } }, data);
  bad.state.params[bad.state.params.length - 1] = -0.5;
  bad.model.setParams(bad.state.params);
  assert.throws(
    () => bad.step(),
    (e: Error) => e instanceof NumericalError && /^iteration 1: the trainable confinement λ/.test(e.message),
  );
});

test("RBM defaults: SGD at 0.05, except Jarzynski on a wide hidden layer, at min(0.05, 1/H)", () => {
  for (const method of ["cd", "pcd"] as const)
    for (const h of [8, 100, 500])
      assert.equal(defaultRbmTrainConfig(784, h, 8000, method).optimizer.lr, 0.05);
  assert.equal(defaultRbmTrainConfig(784, 16, 8000, "jarzynski").optimizer.lr, 0.05);
  assert.equal(defaultRbmTrainConfig(784, 100, 8000, "jarzynski").optimizer.lr, 0.01);
  assert.equal(defaultRbmTrainConfig(784, 500, 8000, "jarzynski").optimizer.lr, 0.002);
});
