/** The playground's settings (web/src/settings.ts): lists in step with the core, URL round trip, checks. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { TOY2D_NAMES, TRAIN_METHODS } from "../../src/index.ts";
import {
  checkSettings,
  cloneSettings,
  DATASETS,
  DEFAULTS,
  METHODS,
  parsePoints,
  settingsFromHash,
  settingsToHash,
} from "../../web/src/settings.ts";

test("the page's lists of data sets and methods are the core's", () => {
  assert.deepEqual([...DATASETS], [...TOY2D_NAMES]);
  for (const m of METHODS) assert.ok((TRAIN_METHODS as readonly string[]).includes(m), m);
  assert.deepEqual(checkSettings(DEFAULTS), []);
});

test("settings survive the URL: defaults, changed values, run B off, custom points", () => {
  const s = cloneSettings(DEFAULTS);
  assert.deepEqual(settingsFromHash(`#${settingsToHash(s)}`), { settings: s, problems: [] });
  Object.assign(s, {
    data: "custom",
    points: [-1.5, 0.25, 2, -3.126, 0, 0],
    lr: 2.5e-4,
    seed: 12,
    backend: "wasm",
  });
  s.a = { ...s.a, method: "dsm", sigma: 0.3 };
  s.b = null;
  const hash = settingsToHash(s);
  assert.match(
    hash,
    /^data=custom&lr=0\.00025&seed=12&backend=wasm&a=dsm&a\.sigma=0\.3&b=none&pts=-1\.5,0\.25,2,-3\.13,0,0$/,
  );
  const back = settingsFromHash(hash);
  assert.deepEqual(back.problems, []);
  assert.deepEqual(back.settings, { ...s, points: [-1.5, 0.25, 2, -3.13, 0, 0] }); // two decimals in the URL
  assert.deepEqual(settingsFromHash("").settings, DEFAULTS);
});

test("bad URL values are reported by name and left at their defaults", () => {
  const { settings, problems } = settingsFromHash("#data=nope&lr=abc&a=magic&a.walkers=1.5&grid=15");
  assert.equal(settings.data, DEFAULTS.data);
  assert.equal(settings.lr, DEFAULTS.lr);
  assert.equal(settings.a.method, DEFAULTS.a.method);
  for (const what of ["data: unknown set 'nope'", "lr: 'abc' is not a number", "a: unknown method 'magic'"])
    assert.ok(problems.includes(what), `${what} in ${JSON.stringify(problems)}`);
  assert.ok(problems.some((p) => p.startsWith("a.walkers must be an integer")));
  assert.ok(
    problems.some((p) => p.startsWith("grid must be an integer") || p.startsWith("grid must be even")),
  );
});

test("pasted points: separators, a header, and a bad line named", () => {
  assert.deepEqual(parsePoints("x,y\n1,2\n3\t4\n\n5 6\n-1;0.5\n"), [1, 2, 3, 4, 5, 6, -1, 0.5]);
  assert.throws(() => parsePoints("1,2\n3,oops"), /line 2: expected two numbers/);
});
