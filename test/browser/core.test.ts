/**
 * The core entry (src/index.ts) bundles for the browser and gives the same seeded numbers there as in
 * Node, bit for bit: esbuild bundles the whole core together with ./workloads.ts (format esm, platform
 * browser), a page on a 127.0.0.1 server loads it as an ES module in headless Chromium (Debian's
 * /usr/bin/chromium driven by playwright-core), runs the workloads, and the results are compared with the
 * same workloads run in this Node process with assert.deepStrictEqual: keys, random words, normals, MALA
 * positions, energies and acceptance probabilities, the gmm1d q(t) curves, log Z estimates and ESS, and
 * every accept and resampling decision.
 *
 * Why that can hold. V8's Math.exp/log differ between hosts: Node 20's V8 11.3 uses an fdlibm port, while
 * Debian's Chromium 156 gives glibc's results (about one Math.exp or Math.log value in ten or twenty
 * differs in the last bit; mathProbe measures it, reported as information). So nothing the workloads
 * reach calls them: the random layer, the log-space helpers, the mixture energies, log Z, MH and MALA
 * selection and the gmm1d experiment use the portable exp/log/log1p of src/random/elementary.ts (+ − × ÷
 * and exact bit operations), and the rest is IEEE-exact arithmetic and Math.sqrt. The first test checks
 * that in this process, whichever libm the two hosts have (and without Chromium): the workloads call none
 * of Math's libm functions, and give the same bits when those are made one ulp off.
 *
 * Backends: the page has no addon ("wasm" and "typescript" here); its MALA step and resampling are the
 * TypeScript kernels. Node runs under setBackend("typescript") and under its default backend (native when
 * the addon is built, via test/setup.ts; wasm under EBM_BACKEND=wasm), held to the same standard: the
 * addon's MALA step (native/src/mala_chains.cc, compiled without FMA contraction, with the C++ twin of the
 * portable exp/log) and its multinomial resampling give the TypeScript kernels' bits.
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
/** Math's functions that V8 computes in software, host by host (they may differ in the last bit). */
const LIBM =
  "exp expm1 log log1p log2 log10 pow sin cos tan asin acos atan atan2 sinh cosh tanh asinh acosh atanh cbrt hypot";

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

/**
 * Runs `f` with every LIBM function of Math returning its value one ulp up (finite non-zero results), then
 * restores them; returns f's result and the number of calls of each function that was called.
 */
function withPerturbedLibm<T>(f: () => T): { result: T; calls: Record<string, number> } {
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
  try {
    const result = f();
    return { result, calls };
  } finally {
    for (const [name, fn] of saved) math[name] = fn;
  }
}

/** Runs without Chromium too: what makes the browser comparison below exact whatever the two hosts' libm. */
test("the workloads call none of Math's libm functions: the same bits with them one ulp off", () => {
  const run = () => ({ random: randomWorkload(), ...runInNode("typescript") });
  const plain = run();
  const { result: perturbed, calls } = withPerturbedLibm(run);
  // Module constants were computed at import, before this; the runs themselves must call none.
  assert.deepEqual(calls, {}, "calls of Math's libm functions during the workloads");
  for (const k of Object.keys(plain) as (keyof typeof plain)[])
    assert.deepStrictEqual(perturbed[k], plain[k], k);
});

describe("the core in headless Chromium", { skip, timeout: 60_000 }, () => {
  let dir = "";
  let server: Server | undefined;
  let browser: Browser | undefined;
  let page: PageResults;

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
    // Information only: the workloads call none of these (see the test above).
    t.diagnostic(`Math values differing from Node's (of 2000 each): ${differ.join(", ")}`);
  });

  test("keys and streams are bit-identical", () => {
    assert.deepStrictEqual(page.random, randomWorkload());
  });

  test("MALA on a 2-D mixture: browser = Node on the TypeScript backend", () => {
    const node = runInNode("typescript");
    assert.equal(node.backend, "typescript");
    assert.deepStrictEqual(page.mala.accepted, node.mala.accepted);
    assert.deepStrictEqual(page.mala, node.mala);
    const { chains, steps } = MALA_WORKLOAD;
    const acceptance = page.mala.accepted.reduce((a, b) => a + b, 0) / (chains * steps);
    assert.ok(acceptance > 0.5 && acceptance < 0.9, `acceptance ${acceptance}: the run sees rejections`);
  });

  test("MALA: browser = Node on its default backend (native when built)", (t) => {
    const node = runInNode();
    t.diagnostic(`Node backend: ${node.backend}`);
    assert.deepStrictEqual(page.mala.accepted, node.mala.accepted);
    assert.deepStrictEqual(page.mala, node.mala);
  });

  test("gmm1d, 200 iterations: browser = Node on the default and the TypeScript backend", () => {
    assert.ok(page.gmm1d.resamplings > 0, "the run resamples");
    assert.deepEqual(Object.keys(page.gmm1d.qTrace).sort(), ["cd", "jarzynski", "pcd", "score_matching"]);
    for (const name of [undefined, "typescript"]) {
      const node = runInNode(name);
      assert.equal(page.gmm1d.resamplings, node.gmm1d.resamplings, node.backend);
      assert.deepStrictEqual(page.gmm1d, node.gmm1d, node.backend);
    }
  });
});
