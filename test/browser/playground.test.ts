/**
 * The browser playground end to end: `ebm playground --port 0 --dir TMP` builds the page into a temporary
 * folder (scripts/build-web.mjs) and serves it on 127.0.0.1; headless Chromium (Debian's /usr/bin/chromium
 * driven by playwright-core) opens it at 1280×800 with the settings in the URL, presses Start, and waits
 * for 300 Jarzynski iterations on mog4-unequal (seed 0; 2000 walkers, MLP 2→32→32→1, Adam 10⁻³, batch 500:
 * resampling when ESS < 0.7·N; small enough
 * for a few seconds per host). Then:
 *
 *  - no console error and no uncaught error in the page or its worker;
 *  - the page says which backend runs ("auto" picks wasm-simd there: the native kernels built for
 *    WebAssembly SIMD, fetched by the worker from the built folder) and that it runs on 2 threads (the
 *    server sends the cross-origin isolation headers, so the worker starts the kernels' helper worker,
 *    which takes half of each large network call);
 *  - the model's grid mode masses moved toward the true 0.2/0.2/0.3/0.3: total variation to the target at
 *    iteration 300 below 0.6× that of the initial model (≈ 0.1: it starts near 0.25 each), and the two
 *    heavy modes ahead of the two light ones by more than 0.04 (0.1 in truth, ≈ 0 at the start). Measured
 *    with these settings: TV 0.098 → 0.025 and a gap of 0.087 (seeds 1 and 2, in Node: TV 0.035 and 0.028);
 *  - the page's numbers equal Node's to the bit: the same session code (web/src/session.ts) run in this
 *    process on the same backend (setBackend("wasm-simd"): the same ebm_kernels.wasm in both hosts; one
 *    thread here, two in the page) gives the same summary (history.ts): θ's digest, the density grid's digest, log Z, NLL,
 *    every mode mass and SE, and every per-iteration ESS, log Z ± SE and resampling. Exact equality is
 *    expected because both hosts run the same wasm binary (IEEE float32 arithmetic, no relaxed SIMD) and
 *    every exp and log on the float64 side is the portable one (see core.test.ts and session.ts);
 *  - with WebAssembly switched off in the browser (V8's --jitless, as in browsers' hardened modes: no
 *    WebAssembly object at all), the page still trains, on the TypeScript kernels, says that WebAssembly is unavailable and why each
 *    WebAssembly backend was passed over, and its numbers after a short run equal Node's on the typescript
 *    backend, to the bit;
 *  - served without the cross-origin isolation headers (as by a plain static host), the page runs the kernels
 *    on one thread, says why, and a short run still equals Node's;
 *  - a screenshot is saved in the test's temporary folder (its path is printed as a diagnostic).
 *
 * With EBM_UPDATE_SCREENSHOTS=1 it also writes docs/playground.png for the README: Jarzynski (A) and PCD
 * (B) side by side after 400 iterations, 1280×800.
 *
 * Skipped when /usr/bin/chromium is absent, and on CI's EBM_BACKEND=wasm pass (both hosts run on wasm here
 * whatever the pass, so a second run would repeat the first).
 */
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { backendInfo, setBackend } from "../../src/node.ts";
import { addSnapshot, emptyHistory, type RunSummary, summarize } from "../../web/src/history.ts";
import type { Hook } from "../../web/src/main.ts";
import { createSession } from "../../web/src/session.ts";
import { cloneSettings, DEFAULTS, type Settings, settingsToHash } from "../../web/src/settings.ts";
import { WASM_PASS_SKIP } from "../helpers.ts";
import { serveStatic } from "../../src/cli/static-server.ts";
import { type PlaygroundServer, startPlayground } from "./playground-server.ts";

const CHROMIUM = "/usr/bin/chromium";
const skip = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is not installed (apt-get install chromium)`
  : WASM_PASS_SKIP;
const repo = resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");

/** The run the test checks (single run: B off). */
function testSettings(): Settings {
  const s = cloneSettings(DEFAULTS);
  Object.assign(s, { data: "mog4-unequal", n: 2000, width: 32, depth: 2, lr: 1e-3, batch: 500, iters: 300 });
  Object.assign(s, { seed: 0, every: 25, grid: 64, backend: "auto" });
  s.a = { ...s.a, method: "jarzynski", walkers: 2000, step: 0.01, resample: 0.7 };
  s.b = null;
  return s;
}

/** The same run in this process, snapshots at the same iterations as the worker's. */
async function runInNode(s: Settings, backend: string): Promise<RunSummary> {
  const prev = backendInfo();
  setBackend(backend);
  try {
    const session = await createSession(s, "a");
    try {
      const h = emptyHistory();
      addSnapshot(h, session.snapshot());
      while (session.iteration < s.iters) {
        session.step();
        if (session.iteration % s.every === 0 || session.iteration === s.iters)
          addSnapshot(h, session.snapshot());
      }
      return summarize(h);
    } finally {
      session.dispose();
    }
  } finally {
    setBackend(prev.requested, prev.source);
  }
}

const TARGET = [0.2, 0.2, 0.3, 0.3];
const tv = (m: (number | string)[]) =>
  m.reduce<number>((a, v, i) => a + Math.abs(Number(v) - TARGET[i]), 0) / 2;
const gap = (m: (number | string)[]) => (Number(m[2]) + Number(m[3]) - Number(m[0]) - Number(m[1])) / 2;

type PlaygroundWindow = { __playground: Hook };

async function runPage(page: Page, base: string, s: Settings, timeout: number): Promise<void> {
  await page.goto("about:blank"); // a full load, not a same-document hash change
  await page.goto(`${base}#${settingsToHash(s)}`);
  await page.waitForFunction(
    () => {
      const st = (window as unknown as PlaygroundWindow).__playground?.status();
      return (
        st && st.a.ready && (!(window as unknown as PlaygroundWindow).__playground.settings().b || st.b.ready)
      );
    },
    null,
    { timeout },
  );
  await page.getByRole("button", { name: "Start" }).click();
  await page.waitForFunction(
    () => {
      const p = (window as unknown as PlaygroundWindow).__playground;
      const st = p.status();
      const runs = p.settings().b ? [st.a, st.b] : [st.a];
      return runs.every((r) => r.done || r.error);
    },
    null,
    { timeout },
  );
}

describe("the playground page in headless Chromium", { skip, timeout: 120_000 }, () => {
  let dir = "";
  let server: PlaygroundServer | undefined;
  let browser: Browser | undefined;
  let base = "";
  let page: Page;
  const consoleErrors: string[] = [];
  const settings = testSettings();
  let pageSummary: RunSummary;
  let nodeSummary: RunSummary;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "ebm-playground-"));
    // The CLI builds the page into dir/web (missing, so built) and serves it on a free port.
    server = await startPlayground(join(dir, "web"));
    base = server.base;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => consoleErrors.push(`uncaught: ${e.message}`));
    await runPage(page, base, settings, 90_000);
    pageSummary = (await page.evaluate(() =>
      (window as unknown as PlaygroundWindow).__playground.summary("a"),
    ))!;
    nodeSummary = await runInNode(settings, "wasm-simd");
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the CLI built the static folder: page, worker and the tfjs wasm binaries", () => {
    for (const f of [
      "index.html",
      "style.css",
      "main.js",
      "worker.js",
      "build.json",
      "tfjs/tfjs-backend-wasm-simd.wasm",
      "ebm_kernels.wasm",
      "kernel-helper-worker.js",
    ])
      assert.ok(statSync(join(dir, "web", f)).size > 0, f);
  });

  test("no console errors; the page says which backend runs", async () => {
    assert.deepEqual(consoleErrors, [], "console errors");
    const errors = await page.evaluate(() => (window as unknown as PlaygroundWindow).__playground.errors());
    assert.deepEqual(errors, [], "worker errors");
    const backend = await page.evaluate(() => (window as unknown as PlaygroundWindow).__playground.backend());
    assert.equal(backend?.name, "wasm-simd");
    assert.deepEqual(backend?.fallback, []);
    assert.ok(!backend?.available.includes("native"), `page backends: ${backend?.available}`);
    assert.match((await page.locator("#backend").textContent()) ?? "", /Web Worker.*backend wasm-simd/);
    // `ebm playground` serves the cross-origin isolation headers: the kernels' helper worker runs.
    assert.equal(backend?.isolated, true);
    assert.equal(backend?.threads, 2, backend?.threadsReason);
    assert.match((await page.locator("#backend").textContent()) ?? "", /2 threads: a helper worker/);
  });

  test("300 Jarzynski iterations on mog4-unequal: the mode masses moved toward the target", (t) => {
    assert.equal(pageSummary.iteration, 300);
    assert.deepEqual(pageSummary.masses.target, TARGET);
    const first = pageSummary.massTrace[0];
    const last = pageSummary.masses.grid;
    t.diagnostic(
      `grid masses ${first.map((v) => Number(v).toFixed(3))} → ${last.map((v) => Number(v).toFixed(3))}`,
    );
    t.diagnostic(
      `TV to the target ${tv(first).toFixed(3)} → ${tv(last).toFixed(3)}; heavy − light ${gap(first).toFixed(3)} → ${gap(last).toFixed(3)}`,
    );
    assert.ok(tv(last) < 0.6 * tv(first), `TV ${tv(first)} → ${tv(last)}`);
    assert.ok(gap(last) > 0.04, `heavy − light modes: ${gap(last)}`);
    // The walkers' weighted masses estimate the same masses: within 4 of their SE (+ the grid's error).
    const w = pageSummary.masses.walkers.map(Number);
    const se = pageSummary.masses.walkersSe.map(Number);
    for (let c = 0; c < 4; c++)
      assert.ok(
        Math.abs(w[c] - Number(last[c])) < 4 * se[c] + 0.01,
        `mode ${c + 1}: walkers ${w[c]} ± ${se[c]} vs grid ${last[c]}`,
      );
  });

  test("the page's numbers equal Node's, to the bit (same settings, seed and backend)", (t) => {
    t.diagnostic(`θ ${pageSummary.theta}; resamplings at ${pageSummary.resampledAt.join(", ")}`);
    assert.ok(pageSummary.resamplings >= 1, "the run resamples (so resampling decisions are compared too)");
    assert.equal(pageSummary.theta, nodeSummary.theta, "θ digest");
    assert.equal(pageSummary.densityDigest, nodeSummary.densityDigest, "density grid digest");
    assert.deepStrictEqual(pageSummary.masses, nodeSummary.masses);
    assert.deepStrictEqual(pageSummary.curves, nodeSummary.curves);
    assert.deepStrictEqual(pageSummary, nodeSummary);
  });

  test("screenshot", async (t) => {
    const path = join(dir, "playground.png");
    await page.screenshot({ path });
    t.diagnostic(`screenshot: ${path} (removed with the temporary folder)`);
    assert.ok(statSync(path).size > 10_000);
    if (process.env.EBM_UPDATE_SCREENSHOTS === "1") {
      // The README's picture: the default comparison (Jarzynski vs PCD), a little longer.
      const s = cloneSettings(settings);
      s.iters = 400;
      s.backend = "auto";
      s.b = { ...s.a, method: "pcd" };
      await runPage(page, base, s, 110_000);
      const shot = join(dir, "readme.png");
      await page.screenshot({ path: shot });
      copyFileSync(shot, join(repo, "docs/playground.png"));
      t.diagnostic("wrote docs/playground.png");
    }
  });
  test("with WebAssembly switched off the page trains on TypeScript, says so, and equals Node's typescript run", async (t) => {
    const noWasm = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--js-flags=--jitless"],
    });
    try {
      const p = await noWasm.newPage({ viewport: { width: 1280, height: 800 } });
      const errors: string[] = [];
      p.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      p.on("pageerror", (e) => errors.push(`uncaught: ${e.message}`));
      const s = cloneSettings(settings);
      Object.assign(s, { iters: 20, every: 10, n: 500, grid: 32 });
      s.a = { ...s.a, walkers: 500 };
      await runPage(p, base, s, 60_000);
      assert.deepEqual(errors, [], "console errors");
      assert.deepEqual(
        await p.evaluate(() => (window as unknown as PlaygroundWindow).__playground.errors()),
        [],
      );
      const backend = await p.evaluate(() => (window as unknown as PlaygroundWindow).__playground.backend());
      assert.equal(backend?.name, "typescript");
      assert.equal(backend?.webassembly, false);
      assert.deepEqual(
        backend?.fallback.map((f) => f.backend),
        ["wasm-simd", "wasm"],
        JSON.stringify(backend?.fallback),
      );
      const text = (await p.locator("#backend").textContent()) ?? "";
      t.diagnostic(text);
      assert.match(text, /backend typescript/);
      assert.match(text, /WebAssembly is unavailable here, so the TypeScript fallback runs/);
      const pageTs = (await p.evaluate(() =>
        (window as unknown as PlaygroundWindow).__playground.summary("a"),
      ))!;
      assert.equal(pageTs.iteration, 20);
      assert.deepStrictEqual(pageTs, await runInNode(s, "typescript"));
    } finally {
      await noWasm.close();
    }
  });

  test("served without the cross-origin isolation headers (a plain static host): one thread, says why, same numbers", async (t) => {
    // The folder the CLI built, served by the same server without COOP/COEP.
    const plain = await serveStatic(join(dir, "web"), 0, "127.0.0.1", { isolate: false });
    try {
      const p = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
      const s = cloneSettings(settings);
      Object.assign(s, { iters: 20, every: 10 });
      await runPage(p, plain.url, s, 60_000);
      const backend = await p.evaluate(() => (window as unknown as PlaygroundWindow).__playground.backend());
      assert.equal(backend?.name, "wasm-simd");
      assert.equal(backend?.isolated, false);
      assert.equal(backend?.threads, 1);
      const text = (await p.locator("#backend").textContent()) ?? "";
      t.diagnostic(text);
      assert.match(text, /1 thread: the page is not cross-origin isolated/);
      const summary = (await p.evaluate(() =>
        (window as unknown as PlaygroundWindow).__playground.summary("a"),
      ))!;
      assert.deepStrictEqual(summary, await runInNode(s, "wasm-simd"));
      await p.close();
    } finally {
      await plain.close();
    }
  });
});
