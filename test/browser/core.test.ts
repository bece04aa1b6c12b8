/**
 * The core entry (src/index.ts) bundles for the browser and gives the same seeded numbers there as in
 * Node: esbuild bundles the whole core together with ./workloads.ts (format esm, platform browser), a page
 * on a 127.0.0.1 server loads it as an ES module in headless Chromium (Debian's /usr/bin/chromium driven
 * by playwright-core), runs the workloads, and the results are compared with the same workloads run in
 * this Node process.
 *
 * What "the same" means. Keys and streams (integer and power-of-two arithmetic) must agree bit for bit
 * everywhere. Everything else goes through Math.exp/log, and V8's libm differs between hosts: Node 20's
 * V8 11.3 uses an fdlibm port, while Debian's Chromium 156 gives glibc's results (about one Math.exp or
 * Math.log value in ten or twenty differs in the last bit; measured on this machine). So the test first
 * compares the hosts' Math functions (mathProbe): when they agree the workloads must agree bit for bit;
 * when they do not, every discrete outcome (accept counts, resampling count) must still be identical and
 * every float within 1e-12 relative (the observed gap is ≈ 1e-14).
 *
 * Backends: the page has no addon ("wasm" and "typescript" here); its MALA step and resampling are the
 * TypeScript kernels. Node runs under setBackend("typescript") and under its default backend (native when
 * the addon is built, via test/setup.ts; wasm under EBM_BACKEND=wasm). gmm1d (ULA, multinomial
 * resampling) is held to the same standard on every Node backend. The addon's MALA step is compared to
 * rounding only, with the same accept decisions: when this test was written it differed from the
 * TypeScript step in the last bits (built with -march=native, GCC's default -ffp-contract=fast fuses
 * x − drift·g + noise·ξ and the log-ratio sums into FMAs, and its ziggurat wedge/tail and log u used the C
 * library's exp/log; native/src/langevin.cc promised equality in distribution only).
 *
 * Skipped only when /usr/bin/chromium is absent (.ci/run installs it).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { type Browser, chromium } from "playwright-core";
import { backendInfo, setBackend } from "../../src/index.ts";
import {
  type Gmm1dWorkloadResult,
  gmm1dWorkload,
  MALA_WORKLOAD,
  type MalaWorkloadResult,
  malaWorkload,
  mathProbe,
  type RandomWorkloadResult,
  randomWorkload,
  selectedBackendName,
} from "./workloads.ts";

const CHROMIUM = "/usr/bin/chromium";
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`;
const repo = resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");
/** Relative tolerance when the hosts' Math.exp/log differ (observed gap ≈ 1e-14). */
const TOL = 1e-12;

interface PageResults {
  userAgent: string;
  backend: string;
  available: string[];
  math: Record<string, number[]>;
  random: RandomWorkloadResult;
  mala: MalaWorkloadResult;
  gmm1d: Gmm1dWorkloadResult;
}

/** The page: imports the bundle as an ES module, runs the workloads, leaves the results (or the error). */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>ebm core</title></head><body>
<script type="module">
import * as core from "./core.js";
try {
  const results = {
    userAgent: navigator.userAgent,
    backend: core.selectedBackendName(),
    available: [...core.ebm.backendInfo().available],
    math: core.mathProbe(),
    random: core.randomWorkload(),
    mala: core.malaWorkload(),
    gmm1d: core.gmm1dWorkload(),
  };
  window.ebmResults = { ok: true, results };
} catch (err) {
  window.ebmResults = { ok: false, error: String((err && err.stack) || err) };
}
</script>
</body></html>`;

/** The workloads in this process under the backend `name` (default: the process's), restoring the request. */
function runInNode(name?: string): { backend: string; mala: MalaWorkloadResult; gmm1d: Gmm1dWorkloadResult } {
  const prev = backendInfo();
  if (name) setBackend(name);
  try {
    return { backend: selectedBackendName(), mala: malaWorkload(), gmm1d: gmm1dWorkload() };
  } finally {
    if (name) setBackend(prev.requested, prev.source);
  }
}

/** Same shape, same integers, every number within `tol` relative (floor 1). */
function assertClose(actual: unknown, expected: unknown, tol: number, path = "result"): void {
  if (typeof actual === "number" && typeof expected === "number") {
    const ok =
      Object.is(actual, expected) ||
      Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(actual), Math.abs(expected));
    assert.ok(ok, `${path}: ${actual} vs ${expected}`);
    return;
  }
  assert.equal(typeof actual, "object", path);
  assert.deepEqual(Object.keys(actual as object), Object.keys(expected as object), path);
  for (const [k, v] of Object.entries(actual as object))
    assertClose(v, (expected as Record<string, unknown>)[k], tol, `${path}.${k}`);
}

describe("the core in headless Chromium", { skip, timeout: 60_000 }, () => {
  let dir = "";
  let server: Server | undefined;
  let browser: Browser | undefined;
  let page: PageResults;
  /** Whether the two hosts' Math.exp/log/log1p/expm1 agree bit for bit: then so must the workloads. */
  let sameMath = false;

  /** Bit for bit when the hosts' libm agree; else identical discrete outcomes and floats within TOL. */
  function assertSame(actual: unknown, expected: unknown): void {
    if (sameMath) assert.deepStrictEqual(actual, expected);
    else assertClose(actual, expected, TOL);
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "ebm-browser-"));
    // The whole core (export *, so nothing of src/index.ts is tree-shaken away) plus the workloads.
    await build({
      stdin: {
        contents: 'export * as ebm from "./src/index.ts";\nexport * from "./test/browser/workloads.ts";\n',
        resolveDir: repo,
        sourcefile: "core-entry.ts",
        loader: "ts",
      },
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      outfile: join(dir, "core.js"),
      logLevel: "silent",
    });
    const files: Record<string, { type: string; body: string | Buffer }> = {
      "/": { type: "text/html", body: PAGE },
      "/core.js": { type: "text/javascript", body: readFileSync(join(dir, "core.js")) },
    };
    server = createServer((req, res) => {
      const f = files[req.url ?? ""];
      if (f) res.writeHead(200, { "content-type": f.type }).end(f.body);
      else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server!.listen(0, "127.0.0.1", ok));
    const { port } = server.address() as AddressInfo;

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    const tab = await browser.newPage();
    const pageErrors: string[] = [];
    tab.on("pageerror", (e) => pageErrors.push(e.message));
    await tab.goto(`http://127.0.0.1:${port}/`);
    const handle = await tab.waitForFunction(() => (window as { ebmResults?: unknown }).ebmResults, null, {
      timeout: 45_000,
    });
    const out = (await handle.jsonValue()) as { ok: boolean; results?: PageResults; error?: string };
    assert.deepEqual(pageErrors, [], "no uncaught error in the page");
    assert.ok(out.ok, `the workloads threw in the page: ${out.error}`);
    page = out.results!;
    sameMath = isDeepStrictEqual(page.math, mathProbe());
  });

  after(async () => {
    await browser?.close();
    if (server) await new Promise((ok) => server!.close(ok));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the page runs the bundled core on its own backends (no addon)", (t) => {
    assert.ok(!page.available.includes("native"), `page backends: ${page.available}`);
    assert.ok(page.available.includes("typescript"), `page backends: ${page.available}`);
    assert.notEqual(page.backend, "native");
    const node = mathProbe();
    const differ = Object.keys(node).map(
      (f) => `${f} ${node[f].filter((v, i) => !Object.is(v, page.math[f][i])).length}`,
    );
    t.diagnostic(`${page.userAgent}; Node ${process.version}`);
    t.diagnostic(`Math values differing from Node's (of 2000 each): ${differ.join(", ")}`);
    t.diagnostic(
      sameMath ? "same libm: comparing bit for bit" : `libm differs: comparing to ${TOL} relative`,
    );
  });

  test("keys and streams are bit-identical", () => {
    assert.deepStrictEqual(page.random, randomWorkload());
  });

  test("MALA on a 2-D mixture: browser = Node on the TypeScript backend", () => {
    const node = runInNode("typescript");
    assert.equal(node.backend, "typescript");
    assert.deepStrictEqual(page.mala.accepted, node.mala.accepted);
    assertSame(page.mala, node.mala);
    const { chains, steps } = MALA_WORKLOAD;
    const acceptance = page.mala.accepted.reduce((a, b) => a + b, 0) / (chains * steps);
    assert.ok(acceptance > 0.5 && acceptance < 0.9, `acceptance ${acceptance}: the run sees rejections`);
  });

  test("MALA: browser = Node on its default backend (native: to rounding)", () => {
    const node = runInNode();
    assert.deepStrictEqual(page.mala.accepted, node.mala.accepted);
    if (node.backend === "native") assertClose(page.mala, node.mala, TOL);
    else assertSame(page.mala, node.mala);
  });

  test("gmm1d, 200 iterations: browser = Node on the default and the TypeScript backend", () => {
    assert.ok(page.gmm1d.resamplings > 0, "the run resamples");
    assert.deepEqual(Object.keys(page.gmm1d.qTrace).sort(), ["cd", "jarzynski", "pcd", "score_matching"]);
    for (const name of [undefined, "typescript"]) {
      const node = runInNode(name);
      assert.equal(page.gmm1d.resamplings, node.gmm1d.resamplings, node.backend);
      assertSame(page.gmm1d, node.gmm1d);
    }
  });
});
