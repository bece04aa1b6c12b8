/**
 * `ebm bench --host chromium`: the core-only workloads (bench/workloads/mlp.ts) timed in headless Chromium,
 * in a module Web Worker as the playground trains, with the same timing loop as Node's `ebm bench`.
 *
 * The worker (bench/browser/worker.ts) is bundled with esbuild into a temporary folder together with
 * ebm_kernels.wasm (the wasm-simd backend) and TensorFlow.js's binaries, served on 127.0.0.1 (a free port)
 * (with the cross-origin isolation headers, so the kernels' helper worker can share memory) and opened with
 * playwright-core in Debian's /usr/bin/chromium. Both are dev dependencies and Chromium is a
 * Debian package: this is a developer's measurement, and each missing part is named in a one-line error.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BrowserBenchRequest } from "../../../bench/browser/protocol.ts";
import type { WorkloadResult } from "../../../bench/workload.ts";
import { UserError } from "../errors.ts";
import { serveStatic } from "../static-server.ts";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const CHROMIUM = "/usr/bin/chromium";

const PAGE = `<!doctype html>
<meta charset="utf-8" />
<title>ebm bench</title>
<script type="module">
  window.runBench = (req, onResult) =>
    new Promise((ok, fail) => {
      const w = new Worker("./worker.js", { type: "module" });
      const out = { results: {} };
      w.onerror = (e) => fail(new Error(e.message || "worker failed to load"));
      w.onmessage = (e) => {
        const m = e.data;
        if (m.type === "ready")
          Object.assign(out, {
            backend: m.backend,
            fallback: m.fallback,
            threads: m.threads,
            threadsReason: m.threadsReason,
          });
        else if (m.type === "result") {
          out.results[m.name] = m.result;
          onResult(m.name, m.result);
        } else if (m.type === "done") ok(out);
        else fail(new Error(m.message));
      };
      w.postMessage(req);
    });
</script>
`;

export interface BrowserBenchRun {
  browser: string;
  backend: string;
  fallback: { backend: string; reason: string }[];
  /** Threads of the wasm-simd kernels (2 with the helper worker), and why 1 when fewer than asked. */
  threads: number;
  threadsReason?: string;
  results: Record<string, WorkloadResult>;
}

async function devImport<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch {
    throw new UserError(`--host chromium needs the dev dependency ${name} (npm ci installs it)`);
  }
}

/** Builds the worker's folder into `dir`. */
async function buildBenchPage(dir: string): Promise<void> {
  const { build } = await devImport<typeof import("esbuild")>("esbuild");
  const common = {
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    logLevel: "error",
  } as const;
  await build({
    ...common,
    entryPoints: [join(REPO, "bench/browser/worker.ts")],
    outfile: join(dir, "worker.js"),
  });
  await build({
    ...common,
    entryPoints: [join(REPO, "web/src/kernel-helper-worker.ts")],
    outfile: join(dir, "kernel-helper-worker.js"),
  });
  writeFileSync(join(dir, "index.html"), PAGE);
  copyFileSync(join(REPO, "src/backend/wasm-kernels/ebm_kernels.wasm"), join(dir, "ebm_kernels.wasm"));
  const tf = join(
    dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm/package.json")),
    "dist",
  );
  mkdirSync(join(dir, "tfjs"));
  for (const f of readdirSync(tf).filter((f) => f.endsWith(".wasm")))
    copyFileSync(join(tf, f), join(dir, "tfjs", f));
}

/**
 * Times `names` in a Chromium worker on `backend` ("auto": wasm-simd, else tfjs wasm, else TypeScript);
 * `onResult` is called as each workload finishes.
 */
export async function runInChromium(
  req: BrowserBenchRequest,
  onResult: (name: string, r: WorkloadResult) => void,
): Promise<BrowserBenchRun> {
  if (!existsSync(CHROMIUM))
    throw new UserError(`--host chromium needs ${CHROMIUM} (apt-get install chromium)`);
  const { chromium } = await devImport<typeof import("playwright-core")>("playwright-core");
  const dir = mkdtempSync(join(tmpdir(), "ebm-bench-browser-"));
  try {
    await buildBenchPage(dir);
    const served = await serveStatic(dir, 0, "127.0.0.1");
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.exposeFunction("benchResult", onResult);
      await page.goto(served.url);
      type Out = Omit<BrowserBenchRun, "browser">;
      let out: Out;
      try {
        out = await page.evaluate(
          (r) =>
            (
              window as unknown as {
                runBench: (r: unknown, cb: unknown) => Promise<Out>;
                benchResult: unknown;
              }
            ).runBench(r, (window as unknown as { benchResult: unknown }).benchResult),
          req,
        );
      } catch (err) {
        const why = ((err as Error).message ?? String(err))
          .split("\n")[0]
          .replace(/^page\.evaluate: (Error: )?/, "");
        throw new UserError(`in Chromium: ${why}${errors.length ? ` (${errors[0]})` : ""}`);
      }
      return { browser: `Chromium ${browser.version()}`, ...out };
    } finally {
      await browser.close();
      await served.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
