/**
 * The playground's session (web/src/session.ts), in Node: every method runs and snapshots; a run is a
 * function of (settings, seed) only — not of when snapshots are taken; custom points are trained in their
 * own coordinates; and nothing on the path calls Math's libm functions (whose last bit differs between
 * Node and a browser), so the page can give Node's numbers to the bit (test/browser/playground.test.ts).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { backendInfo, setBackend } from "../../src/index.ts";
import { addSnapshot, emptyHistory, type RunSummary, summarize } from "../../web/src/history.ts";
import { createSession } from "../../web/src/session.ts";
import { cloneSettings, DEFAULTS, METHODS, type Settings } from "../../web/src/settings.ts";

function small(method: Settings["a"]["method"]): Settings {
  const s = cloneSettings(DEFAULTS);
  Object.assign(s, { n: 400, width: 16, lr: 5e-3, iters: 12, batch: 100, every: 4, grid: 24 });
  s.a = { ...s.a, method, walkers: 200, resample: 0.95 };
  s.b = null;
  return s;
}

/** Runs `s` to the end, snapshotting at the given iterations (always 0 and the last). */
async function run(s: Settings, snapAt: (it: number) => boolean): Promise<RunSummary & { all: RunSummary }> {
  const session = await createSession(s, "a");
  try {
    const h = emptyHistory();
    addSnapshot(h, session.snapshot());
    while (session.iteration < s.iters) {
      session.step();
      if (snapAt(session.iteration) || session.iteration === s.iters) addSnapshot(h, session.snapshot());
    }
    const all = summarize(h);
    return { ...all, all };
  } finally {
    session.dispose();
  }
}

test("every method of the page trains and reports what it has", async () => {
  for (const method of METHODS) {
    const s = small(method);
    const r = await run(s, (it) => it % s.every === 0);
    assert.equal(r.iteration, s.iters, method);
    assert.equal(r.curves.ess.length, s.iters, method);
    assert.equal(r.masses.grid.length, 4, method);
    const total = r.masses.grid.reduce<number>((a, v) => a + Number(v), 0);
    assert.ok(Math.abs(total - 1) < 1e-12, `${method}: grid masses sum to ${total}`);
    assert.ok(Number.isFinite(r.logZGrid) && Number.isFinite(r.nll), method);
    const walkers = method === "jarzynski" || method === "cd" || method === "pcd";
    assert.equal(r.walkers, walkers ? 200 : 0, method);
    assert.equal("walkers" in r.masses, walkers, method);
    if (method === "jarzynski") assert.ok(r.resamplings > 0, "jarzynski resamples at ESS < 0.95·N");
    if (method === "dsm" || method === "nce")
      assert.ok(
        r.curves.loss.every((v) => Number.isFinite(v)),
        method,
      );
  }
});

test("a run depends on the settings and seed only, not on when snapshots are taken", async () => {
  const s = small("jarzynski");
  const every = await run(s, () => true);
  const sparse = await run(s, () => false);
  for (const k of ["theta", "densityDigest", "masses", "walkerDigest", "resampledAt"] as const)
    assert.deepStrictEqual(sparse[k], every[k], k);
  assert.deepStrictEqual(sparse.curves.logZ, every.curves.logZ);
  assert.deepStrictEqual(sparse.curves.ess, every.curves.ess);
  s.seed = 1;
  const other = await run(s, () => false);
  assert.notEqual(other.theta, every.theta, "another seed, another run");
});

test("custom points: trained standardised, shown in their own coordinates", async () => {
  const s = small("pcd");
  s.data = "custom";
  // Two clusters far from the origin: the window and the walkers must follow the points.
  const pts: number[] = [];
  for (let i = 0; i < 60; i++)
    pts.push(20 + (i % 7) * 0.1, -10 + (i % 5) * 0.1, 26 + (i % 6) * 0.1, -10 + (i % 4) * 0.1);
  s.points = pts;
  const session = await createSession(s, "a");
  try {
    for (let i = 0; i < 5; i++) session.step();
    const snap = session.snapshot();
    const [x0, x1, y0, y1] = session.meta.window;
    assert.ok(x0 < 20 && x1 > 26.6 && y0 < -10 && y1 > -9.6, `window ${session.meta.window}`);
    assert.deepEqual(session.meta.centres, []);
    assert.equal(snap.masses, undefined);
    let mx = 0;
    for (let i = 0; i < snap.walkers!.length / 2; i++)
      mx += snap.walkers![2 * i] / (snap.walkers!.length / 2);
    assert.ok(mx > 15 && mx < 31, `walkers' mean x ${mx}`);
  } finally {
    session.dispose();
  }
});

test("no Math libm call on the path: the same numbers with every one of them one ulp off (wasm)", async () => {
  const LIBM =
    "exp expm1 log log1p log2 log10 pow sin cos tan asin acos atan atan2 sinh cosh tanh asinh acosh atanh cbrt hypot";
  const prev = backendInfo();
  setBackend("wasm");
  try {
    for (const method of METHODS) {
      const s = small(method);
      const plain = await run(s, (it) => it % 4 === 0);
      const f64 = new Float64Array(1);
      const i64 = new BigInt64Array(f64.buffer);
      const math = Math as unknown as Record<string, (...args: number[]) => number>;
      const saved = LIBM.split(" ").map((name) => [name, math[name]] as const);
      const calls: Record<string, number> = {};
      for (const [name, fn] of saved)
        math[name] = (...args: number[]) => {
          calls[name] = (calls[name] ?? 0) + 1;
          const y = fn(...args);
          if (!Number.isFinite(y) || y === 0) return y;
          f64[0] = y;
          i64[0] += 1n;
          return f64[0];
        };
      let perturbed: Awaited<ReturnType<typeof run>>;
      try {
        perturbed = await run(s, (it) => it % 4 === 0);
      } finally {
        for (const [name, fn] of saved) math[name] = fn;
      }
      assert.deepEqual(calls, {}, `${method}: calls of Math's libm functions`);
      assert.deepStrictEqual(perturbed.all, plain.all, method);
    }
  } finally {
    setBackend(prev.requested, prev.source);
  }
});
