/**
 * The playground's Sampler tab end to end: `ebm playground --port 0 --dir TMP` builds and serves the page;
 * headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) opens it at 1280×800 with the
 * tab's settings in the URL (NUTS on the banana, seed 1), which runs at once in the sampler worker. Then:
 *
 *  - no console error and no uncaught error in the page or its workers;
 *  - the diagnostics table shows numbers for both coordinates, and the header says the sampling runs in a
 *    Web Worker;
 *  - the page's numbers equal Node's run of the same session code (web/src/sampler/session.ts) to the bit:
 *    every draw, each coordinate's mean, sd, bulk and tail ESS, R-hat and MCSEs, the acceptance, the
 *    divergences, the adapted step and mass matrix. Exact equality holds because nothing on the path calls
 *    the host's Math.exp/log/pow/sin/cos (test/web/sampler.test.ts checks that);
 *  - keyboard: choosing MALA and the Gaussian in the form runs again (again Node's numbers), arrow keys on
 *    the tabs switch between Train and Sampler, and the URL follows (Train's keys stay, the sampler's go
 *    and come back).
 *
 * Skipped when /usr/bin/chromium is absent, and on CI's EBM_BACKEND=wasm pass (both hosts run the
 * TypeScript kernels whatever the pass).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import type { SamplerHook } from "../../web/src/sampler/page.ts";
import { type ResultNumbers, resultNumbers } from "../../web/src/sampler/report.ts";
import { runSampler } from "../../web/src/sampler/session.ts";
import { pageHash, SAMPLER_DEFAULTS, type SamplerSettings } from "../../web/src/sampler/settings.ts";
import { cloneSettings, DEFAULTS, settingsToHash } from "../../web/src/settings.ts";
import { WASM_PASS_SKIP } from "../helpers.ts";
import { type PlaygroundServer, startPlayground } from "./playground-server.ts";

const CHROMIUM = "/usr/bin/chromium";
const skip = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is not installed (apt-get install chromium)`
  : WASM_PASS_SKIP;
const repo = resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");

type SamplerWindow = { __sampler: SamplerHook };

/** The Train tab's part of the URL: its settings must survive the sampler's keys. */
const TRAIN = settingsToHash({ ...cloneSettings(DEFAULTS), data: "moons", b: null });

/** Waits until the tab shows the result of `settings` (or failed), and returns its numbers. */
async function numbersOf(page: Page, settings: SamplerSettings): Promise<ResultNumbers> {
  await page.waitForFunction(
    (want) => {
      const st = (window as unknown as SamplerWindow).__sampler?.status();
      return st && ((st.done && JSON.stringify(st.shown) === want) || st.error !== undefined);
    },
    JSON.stringify(settings),
    { timeout: 20_000 },
  );
  const st = await page.evaluate(() => (window as unknown as SamplerWindow).__sampler.status());
  assert.equal(st.error, undefined, `the run failed: ${st.error}`);
  return (await page.evaluate(() => (window as unknown as SamplerWindow).__sampler.numbers()))!;
}

describe("the playground's Sampler tab in headless Chromium", { skip, timeout: 60_000 }, () => {
  let dir = "";
  let server: PlaygroundServer | undefined;
  let browser: Browser | undefined;
  let base = "";
  let page: Page;
  const consoleErrors: string[] = [];
  const nuts: SamplerSettings = { ...SAMPLER_DEFAULTS, target: "banana", sampler: "nuts", seed: 1 };
  let first: ResultNumbers;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "ebm-sampler-tab-"));
    server = await startPlayground(join(dir, "web"));
    base = server.base;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => consoleErrors.push(`uncaught: ${e.message}`));
    await page.goto(`${base}#${pageHash(TRAIN, nuts)}`);
    first = await numbersOf(page, nuts);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the CLI built the sampler worker next to the page", () => {
    for (const f of ["index.html", "main.js", "sampler-worker.js"])
      assert.ok(statSync(join(dir, "web", f)).size > 0, f);
  });

  test("NUTS on the banana: the page shows the diagnostics, and its numbers are Node's to the bit", async () => {
    assert.deepEqual(
      await page.evaluate(() => (window as unknown as SamplerWindow).__sampler.settings()),
      nuts,
    );
    assert.equal(first.draws.length, nuts.draws * nuts.chains * 2);
    assert.deepStrictEqual(first, resultNumbers(runSampler(nuts)));
    const cells = await page.locator("#sampler-views table tbody td").allTextContents();
    assert.ok(cells.length >= 16, `table cells: ${cells.join(" | ")}`);
    const mean = await page.locator("#sampler-views table tbody tr").first().locator("td").allTextContents();
    for (const c of mean) assert.match(c, /^-?\d+\.\d+ ± \d+\.\d+$/, "mean ± MCSE");
    const text = (await page.locator("#sampler-views").textContent()) ?? "";
    assert.match(text, /R-hat/);
    assert.match(text, /divergences\d+ after warm-up/);
    assert.match((await page.locator("#sampler-backend").textContent()) ?? "", /Web Worker/);
    assert.ok(await page.locator("#panel-train").isHidden(), "the Train tab is hidden");
  });

  test("MALA on the Gaussian from the form: runs again, Node's numbers again", async () => {
    await page.getByLabel("Kernel").selectOption("mala");
    await page.getByLabel("Target").selectOption("gaussian");
    const mala: SamplerSettings = { ...nuts, sampler: "mala", target: "gaussian" };
    const numbers = await numbersOf(page, mala);
    assert.deepEqual(
      await page.evaluate(() => (window as unknown as SamplerWindow).__sampler.settings()),
      mala,
    );
    assert.deepStrictEqual(numbers, resultNumbers(runSampler(mala)));
    assert.equal(new URL(page.url()).hash, `#${pageHash(TRAIN, mala)}`);
  });

  test("the tabs from the keyboard; the URL keeps Train's settings and follows the tab shown", async () => {
    const runs = (await page.evaluate(() => (window as unknown as SamplerWindow).__sampler.status())).runs;
    await page.locator("#tab-sampler").focus();
    await page.keyboard.press("ArrowLeft");
    assert.ok(await page.locator("#panel-train").isVisible());
    assert.ok(await page.locator("#panel-sampler").isHidden());
    assert.equal(await page.evaluate(() => document.activeElement?.id), "tab-train");
    assert.equal(new URL(page.url()).hash, `#${TRAIN}`);
    await page.keyboard.press("ArrowRight");
    assert.ok(await page.locator("#panel-sampler").isVisible());
    assert.equal(
      new URL(page.url()).hash,
      `#${pageHash(TRAIN, { ...nuts, sampler: "mala", target: "gaussian" })}`,
    );
    // Same settings as shown: no new run.
    const st = await page.evaluate(() => (window as unknown as SamplerWindow).__sampler.status());
    assert.equal(st.runs, runs);
    assert.equal(st.running, false);
  });

  test("no console errors, and no worker errors", async () => {
    assert.deepEqual(consoleErrors, [], "console errors");
    assert.deepEqual(await page.evaluate(() => (window as unknown as SamplerWindow).__sampler.errors()), []);
  });
  test("screenshot", async (t) => {
    const path = join(dir, "sampler.png");
    await page.screenshot({ path });
    assert.ok(statSync(path).size > 10_000);
    t.diagnostic(`screenshot: ${path} (removed with the temporary folder)`);
    if (process.env.EBM_UPDATE_SCREENSHOTS === "1") {
      // The README's picture: NUTS on the two-Gaussian example file, the default run.
      const readme: SamplerSettings = { ...SAMPLER_DEFAULTS, sampler: "nuts" };
      await page.goto("about:blank");
      await page.goto(`${base}#${pageHash(TRAIN, readme)}`);
      await numbersOf(page, readme);
      await page.screenshot({ path: join(repo, "docs/sampler.png") });
      t.diagnostic("wrote docs/sampler.png");
    }
  });
});
