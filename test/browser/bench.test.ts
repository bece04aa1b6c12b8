/**
 * `ebm bench --host chromium`: the core-only workloads timed in headless Chromium's Web Worker (the
 * benchmark page is bundled, served on 127.0.0.1 and opened by the command itself). Checked here: a short
 * run prints one JSON object naming the browser and the backend that ran (wasm-simd: the worker loads
 * ebm_kernels.wasm, with its helper worker: 2 threads) with a timing that meets the loop's minimum
 * repetitions, and the options that do not apply in a browser are refused with one line. The figures themselves belong in BENCHMARKS.md.
 *
 * Skipped when /usr/bin/chromium is absent, and on CI's EBM_BACKEND=wasm pass (the browser's backend does
 * not depend on the pass).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import { WASM_PASS_SKIP } from "../helpers.ts";
import { ebmInProcess as ebm } from "../cli/in-process.ts";

const CHROMIUM = "/usr/bin/chromium";
const skip = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is not installed (apt-get install chromium)`
  : WASM_PASS_SKIP;

describe("ebm bench --host chromium", { skip, timeout: 120_000 }, () => {
  test("times a Jarzynski iteration in the browser's worker on wasm-simd", async (t) => {
    const r = await ebm(
      "bench",
      "--host",
      "chromium",
      "--only",
      "jarzynski_iter_mlp2d_n1000",
      "--min-seconds",
      "0.2",
      "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    t.diagnostic(`${out.host}, ${out.backend}: ${JSON.stringify(out.workloads)}`);
    assert.match(out.host, /^Chromium \d+/);
    assert.equal(out.backend, "wasm-simd");
    // The server sends the cross-origin isolation headers, so the kernels' helper worker starts.
    assert.equal(out.threads, 2);
    const w = out.workloads.jarzynski_iter_mlp2d_n1000;
    assert.ok(w.reps >= 20, `reps ${w.reps}`);
    assert.ok(w.min_ms > 0 && w.min_ms <= w.median_ms && w.median_ms <= w.max_ms, JSON.stringify(w));
  });

  test("a workload that needs Node, --threads and an unknown host are one-line errors", async () => {
    for (const [args, re] of [
      [["--only", "rbm_pcd_784x500_b128"], /rbm_pcd_784x500_b128 does not run in the browser/],
      [["--threads", "3"], /--threads with --host chromium is 1 or 2/],
    ] as const) {
      const r = await ebm("bench", "--host", "chromium", ...args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    const r = await ebm("bench", "--host", "firefox");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--host must be node or chromium/);
  });
});
