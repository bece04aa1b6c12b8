/**
 * The "wasm-simd" backend gives the same seeded numbers in a browser as in Node, bit for bit: esbuild
 * bundles the core entry with ./wasm-workload.ts for the browser, a page on a 127.0.0.1 server hands the
 * backend its binary with loadWasmKernels("./ebm_kernels.wasm") (fetched, compiled, instantiated) and runs
 * the workload in headless Chromium (Debian's /usr/bin/chromium through playwright-core); this process runs
 * the same workload on the binary the Node entry reads. WebAssembly arithmetic (SIMD128 included, without
 * the relaxed-SIMD instructions) is deterministic, and the JavaScript around it uses the portable exp/log
 * (see test/browser/core.test.ts), so the two must agree exactly.
 *
 * Skipped when /usr/bin/chromium is absent (.ci/run installs it) or ebm_kernels.wasm is not built.
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
import { type WasmSimdWorkloadResult, wasmSimdWorkload } from "./wasm-workload.ts";

const CHROMIUM = "/usr/bin/chromium";
const repo = resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");
const WASM_FILE = join(repo, "src/backend/wasm-kernels/ebm_kernels.wasm");
const skip = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is not installed (apt-get install chromium)`
  : !existsSync(WASM_FILE)
    ? "ebm_kernels.wasm not built (node scripts/build-wasm.mjs)"
    : false;

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>ebm wasm-simd</title></head><body>
<script type="module">
import * as m from "./bundle.js";
try {
  const reason = await m.ebm.loadWasmKernels("./ebm_kernels.wasm");
  if (reason) throw new Error(reason);
  window.ebmResults = { ok: true, info: m.ebm.backendInfo(), results: await m.wasmSimdWorkload() };
} catch (err) {
  window.ebmResults = { ok: false, error: String((err && err.stack) || err) };
}
</script>
</body></html>`;

describe("wasm-simd in headless Chromium", { skip, timeout: 90_000 }, () => {
  let dir = "";
  let server: Server | undefined;
  let browser: Browser | undefined;
  let page: { info: { name: string; available: string[] }; results: WasmSimdWorkloadResult };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "ebm-wasm-simd-"));
    await build({
      stdin: {
        contents:
          'export * as ebm from "./src/index.ts";\nexport * from "./test/backend/wasm-workload.ts";\n',
        resolveDir: repo,
        sourcefile: "wasm-simd-entry.ts",
        loader: "ts",
      },
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      outfile: join(dir, "bundle.js"),
      logLevel: "silent",
    });
    const files: Record<string, { type: string; body: string | Buffer }> = {
      "/": { type: "text/html", body: PAGE },
      "/bundle.js": { type: "text/javascript", body: readFileSync(join(dir, "bundle.js")) },
      "/ebm_kernels.wasm": { type: "application/wasm", body: readFileSync(WASM_FILE) },
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
      timeout: 75_000,
    });
    const out = (await handle.jsonValue()) as { ok: boolean; error?: string } & typeof page;
    assert.deepEqual(pageErrors, [], "no uncaught error in the page");
    assert.ok(out.ok, `the workload threw in the page: ${out.error}`);
    page = out;
  });

  after(async () => {
    await browser?.close();
    if (server) await new Promise((ok) => server!.close(ok));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the page loads the kernels; auto then selects wasm-simd (no addon there)", () => {
    assert.equal(page.info.name, "wasm-simd");
    assert.ok(!page.info.available.includes("native"));
    assert.equal(page.results.backend, "wasm-simd");
  });

  test("kernels and a seeded Jarzynski run: browser = Node, bit for bit", async () => {
    const node = await wasmSimdWorkload();
    assert.equal(node.backend, "wasm-simd");
    for (const k of Object.keys(node) as (keyof WasmSimdWorkloadResult)[])
      assert.deepStrictEqual(page.results[k], node[k], k);
  });
});
