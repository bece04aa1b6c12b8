/**
 * Target files: every type loads from JSON and YAML fixtures (written to a temporary folder), and every
 * malformed input throws a TargetError whose message is one line naming the file and the field.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { stringify } from "yaml";
import { BananaEnergy } from "../../src/energies/banana.ts";
import { FunnelEnergy } from "../../src/energies/funnel.ts";
import { GaussianEnergy } from "../../src/energies/gaussian.ts";
import { GmmEnergy } from "../../src/energies/gmm.ts";
import { writeSafetensorsFile } from "../../src/io/safetensors.ts";
import { keyFromSeed } from "../../src/random/key.ts";
import {
  type ContinuousTarget,
  type DiscreteTarget,
  type IsingSpec,
  type LoadedTarget,
  type LoadOptions,
  loadTarget,
  type RbmSpec,
  TargetError,
} from "../../src/targets/load.ts";

/** CPU milliseconds of this process since `t0` (the bounds below are about work done, not a loaded machine's wall clock). */
function cpuMs(t0: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

const dir = mkdtempSync(join(tmpdir(), "ebm-targets-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

let fileCounter = 0;
function write(name: string, content: string | Uint8Array): string {
  const sub = join(dir, `f${fileCounter++}`);
  mkdirSync(sub, { recursive: true });
  const path = join(sub, name);
  writeFileSync(path, content);
  return path;
}

/** Writes `obj` as JSON and as YAML and loads both; returns the two results. */
function loadBoth(obj: unknown): [LoadedTarget, LoadedTarget] {
  return [loadTarget(write("t.json", JSON.stringify(obj))), loadTarget(write("t.yaml", stringify(obj)))];
}

function continuous(t: LoadedTarget): ContinuousTarget {
  assert.equal(t.kind, "continuous");
  return t as ContinuousTarget;
}

function discrete(t: LoadedTarget): DiscreteTarget {
  assert.equal(t.kind, "discrete");
  return t as DiscreteTarget;
}

/** Loading `path` throws a one-line TargetError starting with the file name and matching `re`. */
function assertTargetError(path: string, re: RegExp): void {
  assert.throws(
    () => loadTarget(path),
    (err: unknown) => {
      assert.ok(err instanceof TargetError, `expected TargetError, got ${String(err)}`);
      assert.ok(!err.message.includes("\n"), `one line: ${JSON.stringify(err.message)}`);
      assert.ok(err.message.startsWith(`${path}: `), `names the file: ${err.message}`);
      assert.match(err.message.slice(path.length + 2), re);
      return true;
    },
  );
}

describe("loadTarget: every type from JSON and YAML", () => {
  test("gaussian", () => {
    const mean = [1, -2];
    const cov = [
      [2, 0.3],
      [0.3, 1],
    ];
    for (const t of loadBoth({ type: "gaussian", mean, cov })) {
      const c = continuous(t);
      assert.equal(c.type, "gaussian");
      assert.ok(c.energy instanceof GaussianEnergy);
      assert.equal(c.energy.dim, 2);
      assert.equal(c.exact?.logZ, new GaussianEnergy(mean, [2, 0.3, 0.3, 1]).logZ());
      const out = new Float64Array(6);
      c.exact?.sample?.(keyFromSeed(1), 3, out);
      assert.ok(out.every(Number.isFinite) && out.some((v) => v !== 0));
      assert.equal(c.description, "gaussian, d = 2");
    }
  });

  test("gmm with stds: weights normalized", () => {
    for (const t of loadBoth({ type: "gmm", weights: [1, 3], means: [[-5], [5]], stds: [1, 2] })) {
      const c = continuous(t);
      assert.ok(c.energy instanceof GmmEnergy);
      assert.deepEqual([...c.energy.weights], [0.25, 0.75]);
      assert.equal(c.energy.isotropic, true);
      assert.equal(c.exact?.logZ, 0);
      assert.equal(c.description, "gmm, 2 components in d = 1, isotropic");
    }
  });

  test("gmm with full covs", () => {
    const spec = {
      type: "gmm",
      weights: [2, 2, 4],
      means: [
        [0, 0],
        [3, 1],
        [-2, 4],
      ],
      covs: [
        [
          [1, 0.2],
          [0.2, 1],
        ],
        [
          [0.5, 0],
          [0, 2],
        ],
        [
          [1, -0.9],
          [-0.9, 1],
        ],
      ],
    };
    for (const t of loadBoth(spec)) {
      const c = continuous(t);
      assert.ok(c.energy instanceof GmmEnergy);
      assert.deepEqual([...c.energy.weights], [0.25, 0.25, 0.5]);
      assert.equal(c.energy.isotropic, false);
      assert.equal(c.energy.dim, 2);
    }
  });

  test("funnel and banana (defaults and explicit scale)", () => {
    for (const t of loadBoth({ type: "funnel", dim: 10 })) {
      const c = continuous(t);
      assert.ok(c.energy instanceof FunnelEnergy);
      assert.equal(c.energy.dim, 10);
      assert.equal(c.energy.scale, 3);
      assert.equal(c.exact?.logZ, 0);
    }
    for (const t of loadBoth({ type: "funnel", dim: 2, scale: 1.5 }))
      assert.equal((continuous(t).energy as FunnelEnergy).scale, 1.5);
    for (const t of loadBoth({ type: "banana", dim: 2, b: 0.1 })) {
      const c = continuous(t);
      assert.ok(c.energy instanceof BananaEnergy);
      assert.equal(c.energy.b, 0.1);
      assert.equal(c.energy.scale, 10);
      assert.equal(typeof c.exact?.sample, "function");
    }
    for (const t of loadBoth({ type: "banana", dim: 3, b: -0.03, scale: 4 }))
      assert.equal((continuous(t).energy as BananaEnergy).scale, 4);
  });

  test("ising: validated plain data, beta default 1", () => {
    const couplings = [
      [0, 1, -0.5],
      [1, 0, 0.25],
      [-0.5, 0.25, 0],
    ];
    for (const t of loadBoth({ type: "ising", couplings, field: [0.1, 0, -0.2] })) {
      const s = discrete(t).spec as IsingSpec;
      assert.equal(s.type, "ising");
      assert.equal(s.n, 3);
      assert.deepEqual(s.couplings, Float64Array.from(couplings.flat()));
      assert.deepEqual(s.field, Float64Array.of(0.1, 0, -0.2));
      assert.equal(s.beta, 1);
      assert.equal(t.description, "ising, n = 3 spins, beta = 1");
    }
    for (const t of loadBoth({ type: "ising", couplings: [[0]], field: [1], beta: 0.5 }))
      assert.equal((discrete(t).spec as IsingSpec).beta, 0.5);
  });

  const rbm = {
    weights: [
      [0.1, -0.2],
      [0.3, 0.4],
      [-0.5, 0.6],
    ],
    visible_bias: [0.01, 0.02, 0.03],
    hidden_bias: [-1, 1],
  };
  function checkRbm(t: LoadedTarget): void {
    const s = discrete(t).spec as RbmSpec;
    assert.equal(s.type, "rbm");
    assert.equal(s.visible, 3);
    assert.equal(s.hidden, 2);
    assert.deepEqual(s.weights, Float64Array.from(rbm.weights.flat()));
    assert.deepEqual(s.visibleBias, Float64Array.from(rbm.visible_bias));
    assert.deepEqual(s.hiddenBias, Float64Array.from(rbm.hidden_bias));
  }

  test("rbm inline", () => {
    for (const t of loadBoth({ type: "rbm", ...rbm })) {
      checkRbm(t);
      assert.equal(t.description, "rbm, 3 visible × 2 hidden");
    }
  });

  test("rbm from a .safetensors file, resolved relative to the target file", () => {
    const sub = join(dir, "rbm-st");
    mkdirSync(join(sub, "models"), { recursive: true });
    writeSafetensorsFile(join(sub, "models", "rbm.safetensors"), {
      weights: { shape: [3, 2], data: rbm.weights.flat() },
      visible_bias: { shape: [3], data: rbm.visible_bias },
      hidden_bias: { shape: [2], data: rbm.hidden_bias },
    });
    const spec = { type: "rbm", path: "models/rbm.safetensors" };
    const json = join(sub, "t.json");
    const yaml = join(sub, "t.yml");
    writeFileSync(json, JSON.stringify(spec));
    writeFileSync(yaml, stringify(spec));
    for (const p of [json, yaml]) {
      const t = loadTarget(p);
      checkRbm(t);
      assert.equal(t.description, "rbm, 3 visible × 2 hidden (from models/rbm.safetensors)");
    }
  });

  test("format sniffed without a known extension; description override; BOM and comments", () => {
    const a = loadTarget(write("target", '  {"type": "funnel", "dim": 3}'));
    assert.equal(continuous(a).type, "funnel");
    const b = loadTarget(
      write("target.txt", "# a YAML target\ntype: banana\ndim: 2\nb: 0.03\ndescription: my banana\n"),
    );
    assert.equal(continuous(b).type, "banana");
    assert.equal(b.description, "my banana");
    const c = loadTarget(write("t.json", '\ufeff{"type": "funnel", "dim": 2}'));
    assert.equal(continuous(c).energy.dim, 2);
  });
});

describe("loadTarget: malformed input gives one line naming file and field", () => {
  const g = (extra: Record<string, unknown>) => JSON.stringify({ type: "gaussian", mean: [0, 0], ...extra });
  const gmm = (extra: Record<string, unknown>) =>
    JSON.stringify({
      type: "gmm",
      weights: [1, 1],
      means: [
        [0, 0],
        [1, 1],
      ],
      stds: [1, 1],
      ...extra,
    });
  const ising = (extra: Record<string, unknown>) =>
    JSON.stringify({
      type: "ising",
      couplings: [
        [0, 1],
        [1, 0],
      ],
      field: [0, 0],
      ...extra,
    });
  const cases: [string, string, string, RegExp][] = [
    ["empty file", "t.yaml", "", /^file is empty$/],
    ["comment-only YAML", "t.yaml", "# nothing\n", /^file is empty$/],
    ["JSON syntax", "t.json", '{"type": "funnel",\n "dim": }', /^invalid JSON: /],
    ["YAML syntax", "t.yaml", "type: funnel\ndim: [2\nb: 3\n", /^invalid YAML: .*line \d+, column \d+/],
    [
      "YAML duplicate key",
      "t.yaml",
      "type: funnel\ndim: 2\ndim: 3\n",
      /^invalid YAML: duplicate key "dim" at line 3, column 1 \(map keys must be unique\)$/,
    ],
    [
      "top level is a list",
      "t.json",
      "[1, 2]",
      /^top level must be a mapping with a 'type' field, got a list$/,
    ],
    ["top level is a scalar", "t.yaml", "42\n", /^top level must be a mapping/],
    ["missing type", "t.json", '{"dim": 2}', /^type is missing \(expected one of gaussian, gmm, funnel/],
    ["type not a string", "t.json", '{"type": 3}', /^type must be a string, got 3$/],
    ["unknown type", "t.yaml", "type: torus\n", /^type 'torus' is unknown \(expected one of /],
    [
      "unknown field",
      "t.json",
      g({
        cov: [
          [1, 0],
          [0, 1],
        ],
        covv: 1,
      }),
      /^covv is not a field of type gaussian \(expected: mean, cov;/,
    ],
    [
      "description not a string",
      "t.json",
      g({
        cov: [
          [1, 0],
          [0, 1],
        ],
        description: 3,
      }),
      /^description must be/,
    ],
    ["missing field", "t.json", g({}), /^cov is missing$/],
    [
      "wrong number of rows",
      "t.json",
      g({
        cov: [
          [1, 0],
          [0, 1],
          [0, 0],
        ],
      }),
      /^cov has 3 rows, expected 2$/,
    ],
    [
      "wrong row length",
      "t.json",
      g({
        cov: [
          [1, 0],
          [0, 1, 2],
        ],
      }),
      /^cov\[1\] has length 3, expected 2$/,
    ],
    ["not a list", "t.json", g({ cov: 3 }), /^cov must be a list, got 3$/],
    ["row not a list", "t.json", g({ cov: [[1, 0], "x"] }), /^cov\[1\] must be a list, got "x"$/],
    [
      "string entry",
      "t.json",
      g({
        mean: [0, "a"],
        cov: [
          [1, 0],
          [0, 1],
        ],
      }),
      /^mean\[1\] must be a number, got "a"$/,
    ],
    [
      "null entry",
      "t.json",
      g({
        mean: [null, 0],
        cov: [
          [1, 0],
          [0, 1],
        ],
      }),
      /^mean\[0\] must be a number, got null$/,
    ],
    [
      "NaN (YAML .nan)",
      "t.yaml",
      "type: gaussian\nmean: [.nan]\ncov: [[1]]\n",
      /^mean\[0\] must be a finite number, got NaN$/,
    ],
    [
      "Infinity (YAML .inf)",
      "t.yaml",
      "type: gaussian\nmean: [0]\ncov: [[.inf]]\n",
      /^cov\[0\]\[0\] must be a finite number, got Infinity$/,
    ],
    [
      "Infinity (JSON 1e999)",
      "t.json",
      g({
        cov: [
          [1, 0],
          [0, 1],
        ],
      }).replace('"mean":[0,0]', '"mean":[0,-1e999]'),
      /^mean\[1\] must be a finite number, got -Infinity$/,
    ],
    ["empty mean", "t.json", JSON.stringify({ type: "gaussian", mean: [], cov: [] }), /^mean is empty$/],
    [
      "non-symmetric cov",
      "t.json",
      g({
        cov: [
          [1, 0.5],
          [0.4, 1],
        ],
      }),
      /^cov is not symmetric: cov\[0\]\[1\] = 0.5 but cov\[1\]\[0\] = 0.4$/,
    ],
    [
      "non-PD cov",
      "t.json",
      g({
        cov: [
          [1, 2],
          [2, 1],
        ],
      }),
      /^cov is not positive definite \(its leading 2×2 block/,
    ],
    [
      "singular (PSD) cov",
      "t.json",
      g({
        cov: [
          [1, 1],
          [1, 1],
        ],
      }),
      /^cov is not positive definite/,
    ],
    [
      "negative variance",
      "t.json",
      g({
        cov: [
          [-1, 0],
          [0, 1],
        ],
      }),
      /^cov is not positive definite \(its leading 1×1/,
    ],
    ["gmm zero weight", "t.json", gmm({ weights: [1, 0] }), /^weights\[1\] must be positive, got 0$/],
    ["gmm negative weight", "t.json", gmm({ weights: [-1, 2] }), /^weights\[0\] must be positive, got -1$/],
    [
      "gmm mean length",
      "t.yaml",
      "type: gmm\nweights: [1, 1]\nmeans: [[0, 0], [1, 2, 3]]\nstds: [1, 1]\n",
      /^means\[1\] has length 3, expected 2$/,
    ],
    [
      "gmm number of means",
      "t.json",
      gmm({
        means: [
          [0, 0],
          [1, 1],
          [2, 2],
        ],
      }),
      /^means has 3 rows, expected 2 \(one per weight\)$/,
    ],
    ["gmm stds and covs", "t.json", gmm({ covs: [] }), /^stds and covs are both given/],
    [
      "gmm neither stds nor covs",
      "t.json",
      JSON.stringify({ type: "gmm", weights: [1], means: [[0]] }),
      /^stds or covs is missing/,
    ],
    ["gmm stds length", "t.json", gmm({ stds: [1] }), /^stds has length 1, expected 2 \(one per weight\)$/],
    ["gmm negative std", "t.json", gmm({ stds: [1, -2] }), /^stds\[1\] must be positive, got -2$/],
    [
      "gmm number of covs",
      "t.json",
      JSON.stringify({ type: "gmm", weights: [1, 1], means: [[0], [1]], covs: [[[1]]] }),
      /^covs has 1 entries, expected 2/,
    ],
    [
      "gmm cov shape",
      "t.json",
      JSON.stringify({ type: "gmm", weights: [1], means: [[0, 0]], covs: [[[1, 0]]] }),
      /^covs\[0\] has 1 rows, expected 2$/,
    ],
    [
      "gmm non-symmetric cov",
      "t.json",
      JSON.stringify({
        type: "gmm",
        weights: [1, 1],
        means: [
          [0, 0],
          [1, 1],
        ],
        covs: [
          [
            [1, 0],
            [0, 1],
          ],
          [
            [1, 0.1],
            [0, 1],
          ],
        ],
      }),
      /^covs\[1\] is not symmetric: covs\[1\]\[0\]\[1\] = 0.1 but covs\[1\]\[1\]\[0\] = 0$/,
    ],
    [
      "gmm non-PD cov",
      "t.json",
      JSON.stringify({
        type: "gmm",
        weights: [1, 1],
        means: [
          [0, 0],
          [1, 1],
        ],
        covs: [
          [
            [1, 0],
            [0, 1],
          ],
          [
            [1, 3],
            [3, 1],
          ],
        ],
      }),
      /^covs\[1\] is not positive definite/,
    ],
    ["funnel dim 1", "t.yaml", "type: funnel\ndim: 1\n", /^dim must be an integer ≥ 2, got 1$/],
    ["funnel dim 2.5", "t.yaml", "type: funnel\ndim: 2.5\n", /^dim must be an integer ≥ 2, got 2.5$/],
    ["funnel dim string", "t.yaml", "type: funnel\ndim: '3'\n", /^dim must be a number, got "3"$/],
    ["funnel scale 0", "t.yaml", "type: funnel\ndim: 3\nscale: 0\n", /^scale must be positive, got 0$/],
    ["banana missing b", "t.yaml", "type: banana\ndim: 2\n", /^b is missing$/],
    ["banana empty b", "t.yaml", "type: banana\ndim: 2\nb:\n", /^b must be a number, got null$/],
    [
      "ising not symmetric",
      "t.json",
      ising({
        couplings: [
          [0, 1],
          [0.5, 0],
        ],
      }),
      /^couplings is not symmetric: couplings\[0\]\[1\] = 1 but couplings\[1\]\[0\] = 0.5$/,
    ],
    [
      "ising diagonal",
      "t.json",
      ising({
        couplings: [
          [0, 1],
          [1, 0.5],
        ],
      }),
      /^couplings\[1\]\[1\] is 0.5, expected 0 \(no self-coupling\)$/,
    ],
    [
      "ising not square",
      "t.json",
      ising({
        couplings: [
          [0, 1, 2],
          [1, 0, 2],
        ],
      }),
      /^couplings\[0\] has length 3, expected 2$/,
    ],
    [
      "ising field length",
      "t.json",
      ising({ field: [0, 0, 0] }),
      /^field has length 3, expected 2 \(one per spin\)$/,
    ],
    ["ising negative beta", "t.json", ising({ beta: -1 }), /^beta must be ≥ 0, got -1$/],
    [
      "rbm visible_bias length",
      "t.json",
      JSON.stringify({ type: "rbm", weights: [[1, 2]], visible_bias: [0, 0], hidden_bias: [0, 0] }),
      /^visible_bias has length 2, expected 1 \(one per row of weights\)$/,
    ],
    [
      "rbm missing hidden_bias",
      "t.json",
      JSON.stringify({ type: "rbm", weights: [[1, 2]], visible_bias: [0] }),
      /^hidden_bias is missing$/,
    ],
    [
      "rbm ragged weights",
      "t.json",
      JSON.stringify({ type: "rbm", weights: [[1, 2], [3]], visible_bias: [0, 0], hidden_bias: [0, 0] }),
      /^weights\[1\] has length 1, expected 2$/,
    ],
    [
      "rbm weight beyond float32",
      "t.json",
      JSON.stringify({
        type: "rbm",
        weights: [
          [1, 2],
          [3, 1e39],
        ],
        visible_bias: [0, 0],
        hidden_bias: [0, 0],
      }),
      /^weights\[1\]\[1\] is 1e\+39, beyond float32 range \(RBM parameters are float32\)$/,
    ],
    [
      "rbm path and inline",
      "t.json",
      JSON.stringify({ type: "rbm", path: "x.safetensors", weights: [[1]] }),
      /^path and inline weights are both given/,
    ],
    [
      "rbm path not a string",
      "t.json",
      JSON.stringify({ type: "rbm", path: 3 }),
      /^path must be a file name, got 3$/,
    ],
    [
      "rbm missing safetensors file",
      "t.json",
      JSON.stringify({ type: "rbm", path: "nope.safetensors" }),
      /^path 'nope.safetensors' cannot be read: no such file$/,
    ],
  ];
  for (const [name, file, content, re] of cases)
    test(name, () => {
      assertTargetError(write(file, content), re);
    });

  test("file missing or a directory", () => {
    assertTargetError(join(dir, "does-not-exist.yaml"), /^cannot read file: no such file$/);
    const sub = join(dir, "a-dir.json");
    mkdirSync(sub);
    assertTargetError(sub, /^cannot read file: it is a directory$/);
  });

  /** An rbm target next to a safetensors file with the given bytes. */
  function rbmWith(bytes: Uint8Array | ((path: string) => void)): string {
    const sub = join(dir, `rbm${fileCounter++}`);
    mkdirSync(sub);
    const st = join(sub, "m.safetensors");
    if (typeof bytes === "function") bytes(st);
    else writeFileSync(st, bytes);
    const path = join(sub, "t.yaml");
    writeFileSync(path, "type: rbm\npath: m.safetensors\n");
    return path;
  }
  const full = {
    weights: { shape: [3, 2], data: [1, 2, 3, 4, 5, 6] },
    visible_bias: { shape: [3], data: [0, 0, 0] },
    hidden_bias: { shape: [2], data: [0, 0] },
  };

  test("safetensors: corrupt file", () => {
    assertTargetError(
      rbmWith(Uint8Array.of(1, 2, 3)),
      /^path 'm.safetensors' is not a valid safetensors file: file is too short/,
    );
    const bad = new Uint8Array(64);
    new DataView(bad.buffer).setUint32(0, 1000, true);
    assertTargetError(
      rbmWith(bad),
      /^path 'm.safetensors' is not a valid safetensors file: the header length in its first 8 bytes runs past the end of the file \(64 bytes\)/,
    );
  });

  test("safetensors: missing tensor, wrong shape, unsupported dtype, non-finite value", () => {
    assertTargetError(
      rbmWith((p) => writeSafetensorsFile(p, { weights: full.weights, visible_bias: full.visible_bias })),
      /^path 'm.safetensors' has no tensor 'hidden_bias' \(found: visible_bias, weights\)$/,
    );
    assertTargetError(
      rbmWith((p) => writeSafetensorsFile(p, { ...full, visible_bias: { shape: [4], data: [0, 0, 0, 0] } })),
      /^path 'm.safetensors': tensor 'visible_bias' has shape \[4\], expected \[3\]$/,
    );
    assertTargetError(
      rbmWith((p) => writeSafetensorsFile(p, { ...full, weights: { shape: [6], data: [1, 2, 3, 4, 5, 6] } })),
      /^path 'm.safetensors': tensor 'weights' has shape \[6\], expected \[visible, hidden\]/,
    );
    assertTargetError(
      rbmWith((p) =>
        writeSafetensorsFile(p, { ...full, hidden_bias: { shape: [2], data: [0, Number.NaN] } }),
      ),
      /^path 'm.safetensors': tensor 'hidden_bias' has a non-finite value NaN at flat index 1$/,
    );
    assertTargetError(
      rbmWith((p) => writeSafetensorsFile(p, { ...full, visible_bias: { shape: [3], data: [0, -4e38, 0] } })),
      /^path 'm.safetensors': tensor 'visible_bias' has -4e\+38 at flat index 1, beyond float32 range/,
    );
    // An I64 weights tensor: valid file, unsupported dtype.
    const header = JSON.stringify({
      hidden_bias: { dtype: "F64", shape: [1], data_offsets: [0, 8] },
      visible_bias: { dtype: "F64", shape: [1], data_offsets: [8, 16] },
      weights: { dtype: "I64", shape: [1, 1], data_offsets: [16, 24] },
    });
    const h = new TextEncoder().encode(header);
    const bytes = new Uint8Array(8 + h.length + 24);
    new DataView(bytes.buffer).setUint32(0, h.length, true);
    bytes.set(h, 8);
    assertTargetError(
      rbmWith(bytes),
      /^path 'm.safetensors': tensor 'weights': dtype I64 is not supported \(supported: F64, F32, F16, BF16\)$/,
    );
  });
});

describe("loadTarget: limits and hostile files, refused before the work they bound", () => {
  /** The TargetError of loading `path` (asserting one line that names the file). */
  function refusal(path: string, options: LoadOptions = {}): TargetError {
    try {
      loadTarget(path, options);
    } catch (err) {
      assert.ok(err instanceof TargetError, `expected TargetError, got ${String(err)}`);
      assert.ok(!err.message.includes("\n"), err.message);
      assert.ok(err.message.startsWith(`${path}: `), err.message);
      return err;
    }
    assert.fail(`${path} loaded`);
  }

  test("size cap: refused from the size (not read), raised by maxFileBytes", () => {
    const path = write("big.yaml", `type: funnel\ndim: 2\n# ${"x".repeat(3 << 20)}\n`);
    const t0 = process.cpuUsage();
    const err = refusal(path);
    assert.match(err.message, /: file is 3\.0 MiB, over the 1 MiB limit for target files$/);
    assert.equal(err.limit, "file-size");
    assert.ok(cpuMs(t0) < 200);
    assert.equal(continuous(loadTarget(path, { maxFileBytes: 4 << 20 })).energy.dim, 2);
  });

  test("only regular files: a device, a FIFO, a folder", () => {
    assert.match(refusal("/dev/zero").message, /^\/dev\/zero: cannot read file: it is a character device/);
    const fifo = join(dir, "fifo.yaml");
    execFileSync("mkfifo", [fifo]);
    assert.match(
      refusal(fifo).message,
      /: cannot read file: it is a FIFO \(named pipe\), not a regular file$/,
    );
    const sub = join(dir, "folder.yaml");
    mkdirSync(sub);
    assert.match(refusal(sub).message, /: cannot read file: it is a directory$/);
  });

  test("encodings: UTF-16 and UTF-32 marks, NUL bytes, invalid UTF-8 (with offset and line)", () => {
    const text = "type: funnel\ndim: 3\n";
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
    assert.match(
      refusal(write("le.yaml", le)).message,
      /is UTF-16 text \(.*little-endian byte order mark\), not UTF-8; save it as UTF-8$/,
    );
    const be = Buffer.from(le);
    be.swap16();
    assert.match(refusal(write("be.yaml", be)).message, /big-endian byte order mark/);
    assert.match(
      refusal(write("u32.yaml", Buffer.from([0xff, 0xfe, 0, 0, 0x74, 0, 0, 0]))).message,
      /is UTF-32 text/,
    );
    // UTF-16 without a mark: NUL bytes.
    assert.match(
      refusal(write("nomark.yaml", Buffer.from(text, "utf16le"))).message,
      /contains a NUL byte at offset 1 \(line 1\): a binary file or UTF-16 text/,
    );
    const latin1 = Buffer.from("type: funnel\ndim: 3\ndescription: caf\xe9\n", "latin1");
    assert.match(
      refusal(write("latin1.yaml", latin1)).message,
      /is not valid UTF-8: byte 0xe9 at offset 36 \(line 3\) — a binary file, or text in another encoding such as Latin-1/,
    );
    for (const bad of [
      [0xc0, 0x80], // overlong NUL
      [0xed, 0xa0, 0x80], // a UTF-16 surrogate
      [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
      [0xe2, 0x82], // truncated
    ])
      assert.match(
        refusal(write("bad.json", Buffer.from([0x7b, ...bad, 0x7d]))).message,
        /is not valid UTF-8: byte 0x[0-9a-f]{2} at offset 1 /,
      );
    // Valid multi-byte UTF-8 and a UTF-8 byte order mark load.
    const ok = loadTarget(write("ok.yaml", "\ufefftype: funnel\ndim: 2\ndescription: café → ∞ 🙂\n"));
    assert.equal(ok.description, "café → ∞ 🙂");
  });

  test("JSON duplicate keys are refused like YAML's, also nested and when spelled with escapes", () => {
    assert.match(
      refusal(write("d.json", '{"type": "funnel",\n "dim": 3, "\\u0064im": 4}')).message,
      /: invalid JSON: duplicate key "dim" at line 2, column 12 \(keys must be unique, as in YAML\)$/,
    );
    assert.match(
      refusal(
        write(
          "d.json",
          JSON.stringify({ type: "ising", field: [0] }).replace("}", ', "x": {"a": 1, "a": 2}}'),
        ),
      ).message,
      /duplicate key "a"/,
    );
    // The same key in two different objects, and a key-like string value, are fine.
    const g = loadTarget(
      write("ok.json", '{"type": "gmm", "weights": [1], "means": [[0]], "stds": [1], "description": "dim"}'),
    );
    assert.equal(g.description, "dim");
  });

  test("null documents are not objects; empty and comment-only files are empty", () => {
    assert.match(
      refusal(write("n.json", "null")).message,
      /: top level must be a mapping with a 'type' field, got null$/,
    );
    assert.match(refusal(write("n.yaml", "null\n")).message, /got null$/);
    assert.match(refusal(write("n.yaml", "~\n")).message, /got null$/);
    assert.match(refusal(write("e.yaml", "  \n")).message, /: file is empty$/);
  });

  test("YAML aliases: a bomb, an unresolved alias, and aliases expanding a small file into a big one", () => {
    const lines = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]"];
    for (const [x, y] of [
      ["b", "a"],
      ["c", "b"],
      ["d", "c"],
      ["e", "d"],
      ["f", "e"],
      ["g", "f"],
    ])
      lines.push(`${x}: &${x} [${Array(9).fill(`*${y}`).join(", ")}]`);
    const t0 = process.cpuUsage();
    assert.match(
      refusal(write("bomb.yaml", `${lines.join("\n")}\ntype: funnel\n`)).message,
      /: invalid YAML: too many alias expansions \(more than 100/,
    );
    assert.ok(cpuMs(t0) < 1000);
    assert.match(refusal(write("u.yaml", "type: funnel\ndim: *nope\n")).message, /: invalid YAML: .*nope/);
    // 60 uses of a 40-value row: within the alias limit, but 2400 values from a file of < 1000 bytes.
    const row = `[${Array(40).fill(0).join(", ")}]`;
    const amplified = write(
      "amp.yaml",
      `type: ising\nr: &r ${row}\ncouplings: [${Array(60).fill("*r").join(", ")}]\nfield: [0]\n`,
    );
    const err = refusal(amplified, { maxFileBytes: 1000 });
    assert.match(err.message, /: holds more than 1000 values once aliases are expanded/);
  });

  test("nesting: at most 32 levels; very deep files are refused fast, before the YAML composer recurses", () => {
    assert.match(
      refusal(write("deep.json", `{"type": "funnel", "dim": ${"[".repeat(40)}${"]".repeat(40)}}`)).message,
      /: is nested more than 32 levels deep$/,
    );
    // Up to the YAML pre-check's bound, the composer copes (and the 32-level check answers).
    assert.match(
      refusal(write("d.yaml", `${"{a: ".repeat(120)}1${"}".repeat(120)}`)).message,
      /more than 32 levels/,
    );
    const deep = {
      "flow.json": `${"[".repeat(300_000)}${"]".repeat(300_000)}`,
      "flow.yaml": `${"[".repeat(300_000)}${"]".repeat(300_000)}`,
      "maps.yaml": `${"{a: ".repeat(200_000)}1${"}".repeat(200_000)}`,
      "compact.yaml": `${"- ".repeat(300_000)}1\n`,
      "indented.yaml": `a:\n${Array.from({ length: 1000 }, (_, i) => `${" ".repeat(i + 1)}b:`).join("\n")} 1\n`,
    };
    for (const [name, text] of Object.entries(deep)) {
      const t0 = process.cpuUsage();
      const err = refusal(write(name, text), { maxFileBytes: 1 << 21 });
      assert.match(err.message, /nested (more than 32 levels|or indented too deeply)/, name);
      assert.ok(cpuMs(t0) < 1000, `${name}: ${cpuMs(t0)} ms`);
    }
    // Brackets in quoted scalars and comments, and apostrophes in plain scalars, are not nesting.
    const ok = loadTarget(
      write("q.yaml", `# it's [[[[ a comment\ntype: funnel\ndim: 2\ndescription: "${"[".repeat(300)}"\n`),
    );
    assert.equal(ok.description, "[".repeat(300));
    assert.equal(
      loadTarget(write("a.yaml", "type: funnel\ndim: 2\ndescription: Neal's funnel\n")).description,
      "Neal's funnel",
    );
  });

  test("a description: any characters kept as data (printers escape them), at most 1000 characters", () => {
    const evil = "a\u001b[31mb\u009bc\u202ed\ne";
    const t = loadTarget(write("c.json", JSON.stringify({ type: "funnel", dim: 2, description: evil })));
    assert.equal(t.description, evil);
    assert.match(
      refusal(write("c.json", JSON.stringify({ type: "funnel", dim: 2, description: "x".repeat(1001) })))
        .message,
      /: description has 1001 characters, at most 1000 are allowed$/,
    );
    // Keys with control characters are escaped in messages.
    const key = refusal(write("k.json", JSON.stringify({ type: "funnel", dim: 2, "e\u001bvil": 1 }))).message;
    assert.match(key, /: e\\x1bvil is not a field of type funnel/);
  });

  describe("rbm path: resolved against the target file's folder, and kept inside it", () => {
    const weights = {
      weights: { shape: [2, 2], data: [1, 2, 3, 4] },
      visible_bias: { shape: [2], data: [0, 0] },
      hidden_bias: { shape: [2], data: [0, 0] },
    };
    const root = join(dir, "paths");
    const inside = join(root, "model");
    mkdirSync(join(inside, "sub"), { recursive: true });
    writeSafetensorsFile(join(root, "outside.safetensors"), weights);
    writeSafetensorsFile(join(inside, "sub", "w.safetensors"), weights);
    symlinkSync(join(root, "outside.safetensors"), join(inside, "link.safetensors"));
    const target = (name: string, path: string) => {
      const p = join(inside, name);
      writeFileSync(p, `type: rbm\npath: ${JSON.stringify(path)}\n`);
      return p;
    };

    test("below the folder: loads", () => {
      const t = discrete(loadTarget(target("ok.yaml", "sub/w.safetensors")));
      assert.equal((t.spec as RbmSpec).visible, 2);
    });

    test("../, an absolute path, a symbolic link out: refused without reading, unless allowed", () => {
      for (const [name, path, how] of [
        ["up.yaml", "../outside.safetensors", "points"],
        ["abs.yaml", join(root, "outside.safetensors"), "points"],
        ["passwd.yaml", "../../../../../../../../etc/passwd", "points"],
        ["link.yaml", "link.safetensors", "leads \\(through a symbolic link\\)"],
      ]) {
        const err = refusal(target(name, path));
        assert.equal(err.limit, "outside-path");
        assert.match(
          err.message,
          new RegExp(
            `: path '.*' ${how} outside the target file's folder ${inside.replace(/[/.]/g, "\\$&")}: weights must sit in that folder or below it$`,
          ),
        );
      }
      const t = loadTarget(target("up2.yaml", "../outside.safetensors"), { allowOutsidePaths: true });
      assert.equal((discrete(t).spec as RbmSpec).hidden, 2);
    });

    test("allowed outside: a device is refused as such; a text file's bytes are not echoed", () => {
      const opts = { allowOutsidePaths: true };
      assert.match(
        refusal(target("zero.yaml", "/dev/zero"), opts).message,
        /: path '\/dev\/zero' is a character device, not a regular file$/,
      );
      const text = join(root, "notes.txt");
      writeFileSync(text, "root:x:0:0:root:/root:/bin/bash\n");
      const msg = refusal(target("text.yaml", "../notes.txt"), opts).message;
      assert.match(
        msg,
        /is not a valid safetensors file: the header length in its first 8 bytes runs past the end of the file \(32 bytes\)/,
      );
      assert.doesNotMatch(msg.slice(msg.indexOf("path")), /root:|\d{10,}/);
      // A header that is not JSON: no snippet of it either.
      const fake = new Uint8Array(8 + 16);
      new DataView(fake.buffer).setUint32(0, 16, true);
      fake.set(new TextEncoder().encode("secret: password"), 8);
      writeFileSync(join(inside, "fake.safetensors"), fake);
      const m2 = refusal(target("fake.yaml", "fake.safetensors")).message;
      assert.match(m2, /header is not valid JSON \(16 bytes after the length field\)$/);
      assert.doesNotMatch(m2, /secret/);
    });

    test("weights size cap: from the file size, and from the parameter count of 2-byte dtypes", () => {
      const err = refusal(target("big.yaml", "sub/w.safetensors"), { maxWeightsBytes: 100 });
      assert.equal(err.limit, "weights-size");
      assert.match(
        err.message,
        /: path 'sub\/w.safetensors' is \d+ bytes, over the 100 bytes limit for weights files$/,
      );
      // F16: 2 bytes a value on disk, 4 as float32.
      const header = JSON.stringify({
        hidden_bias: { dtype: "F16", shape: [20], data_offsets: [0, 40] },
        visible_bias: { dtype: "F16", shape: [20], data_offsets: [40, 80] },
        weights: { dtype: "F16", shape: [20, 20], data_offsets: [80, 880] },
      });
      const h = new TextEncoder().encode(header);
      const bytes = new Uint8Array(8 + h.length + 880);
      new DataView(bytes.buffer).setUint32(0, h.length, true);
      bytes.set(h, 8);
      writeFileSync(join(inside, "half.safetensors"), bytes);
      const path = target("half.yaml", "half.safetensors");
      assert.equal((discrete(loadTarget(path)).spec as RbmSpec).visible, 20);
      assert.match(
        refusal(path, { maxWeightsBytes: bytes.length + 10 }).message,
        /holds 440 RBM parameters \(1\.7 KiB as float32\), over the 1\.\d KiB limit for weights$/,
      );
    });
  });
});
