/**
 * `ebm bench`: times named workloads (the same names and definitions as the PyTorch peer in
 * shared/peer/bench.py) and prints a table, or one JSON object with --json. With --compare PEER.json
 * it adds the peer's median and the ratio ours/peer (for matmul, the ratio of GFLOP/s). With --host chromium
 * the core-only workloads run in a headless Chromium's Web Worker instead (bench-browser.ts); --compare then
 * takes a Node run's --json output as well, for the browser/Node ratio.
 */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { allWorkloads } from "../../../bench/registry.ts";
import { DEFAULT_TIMING, timeWorkload, type Workload, type WorkloadResult } from "../../../bench/workload.ts";
import { backendInfo, setBackend, setThreads } from "../../node.ts";
import { parseNumber, printable, UserError } from "../errors.ts";

interface BenchOptions {
  only?: string;
  list?: boolean;
  json?: boolean;
  compare?: string;
  minSeconds: string;
  backend?: string;
  threads?: string;
  host: string;
}

/** Applies --backend and --threads; returns the backend and thread count the workloads will use. */
function configureBackend(opts: BenchOptions): { backend: string; threads: number; why: string } {
  if (opts.backend !== undefined) setBackend(opts.backend, "--backend");
  try {
    const info = backendInfo();
    if (opts.threads !== undefined) {
      const t = parseNumber("--threads", opts.threads);
      if (!(Number.isInteger(t) && t >= 1 && t <= 256))
        throw new UserError("--threads must be an integer in [1, 256]");
      setThreads(t);
    }
    // Say why when a faster backend was expected but passed over.
    const why = info.fallback.map((f) => ` (${f.backend} unavailable: ${f.reason})`).join("");
    return { backend: info.name, threads: backendInfo().threads, why };
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError((err as Error).message.replace(/^threads/, "--threads"));
  }
}

type PeerBench = Record<string, { median_ms?: number; gflops_at_median?: number }>;

function loadPeer(path: string): PeerBench {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new UserError(`--compare: cannot read ${path}: ${(err as Error).message.split("\n")[0]}`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  const noWorkloads = () => new UserError(`--compare: ${path} has no 'bench.workloads' object`);
  if (!isObject(parsed)) throw noWorkloads();
  const section = parsed.bench ?? parsed;
  if (!isObject(section)) throw noWorkloads();
  const workloads = section.workloads ?? section;
  if (!isObject(workloads)) throw noWorkloads();
  // Each entry's figures must be numbers where present: checked here, before anything is timed.
  for (const [name, entry] of Object.entries(workloads)) {
    if (!isObject(entry)) continue; // not a workload's figures: never looked up
    for (const field of ["median_ms", "gflops_at_median"])
      if (entry[field] !== undefined && !(typeof entry[field] === "number" && Number.isFinite(entry[field])))
        throw new UserError(`--compare: ${path}: ${printable(name)}.${field} must be a number`);
  }
  return workloads as PeerBench;
}

/** One table row: name, median, min, reps (and the peer's median and the ratio with --compare). */
function row(name: string, r: WorkloadResult, peer: PeerBench | undefined): string {
  const cols = [
    name.padEnd(40),
    r.median_ms.toFixed(3).padStart(11),
    r.min_ms.toFixed(3).padStart(11),
    String(r.reps).padStart(6),
  ];
  const p = peer?.[name];
  if (peer) {
    const ratio =
      r.gflops_at_median && p?.gflops_at_median
        ? r.gflops_at_median / p.gflops_at_median
        : p?.median_ms
          ? r.median_ms / p.median_ms
          : Number.NaN;
    cols.push(
      (p?.median_ms?.toFixed(3) ?? "–").padStart(10),
      (Number.isNaN(ratio) ? "–" : ratio.toFixed(2)).padStart(7),
    );
  }
  if (r.gflops_at_median) cols.push(`${r.gflops_at_median.toFixed(1)} GFLOP/s`);
  return cols.join(" ");
}

function header(peer: PeerBench | undefined): string {
  const head = ["workload".padEnd(40), "median ms".padStart(11), "min ms".padStart(11), "reps".padStart(6)];
  if (peer) head.push("peer ms".padStart(10), "ratio".padStart(7));
  return head.join(" ");
}

/** The workloads named by --only (all by default), each checked against `all`. */
function selectWorkloads(all: Workload[], only: string | undefined): Workload[] {
  if (only === undefined) return all;
  const names = only.split(",").map((s) => s.trim());
  if (names.every((n) => n === "")) throw new UserError("--only: no workload named (see ebm bench --list)");
  for (const n of names)
    if (!all.some((w) => w.name === n))
      throw new UserError(`--only: unknown workload '${n}' (see ebm bench --list)`);
  return all.filter((w) => names.includes(w.name));
}

/** `--host chromium`: the core-only workloads in a headless Chromium's Web Worker. */
async function runBenchInChromium(opts: BenchOptions, minSeconds: number): Promise<void> {
  let threads = 2;
  if (opts.threads !== undefined) {
    threads = parseNumber("--threads", opts.threads);
    if (threads !== 1 && threads !== 2)
      throw new UserError(
        "--threads with --host chromium is 1 or 2 (the wasm-simd kernels with or without their helper worker)",
      );
  }
  const { workloads } = await import("../../../bench/workloads/mlp.ts");
  const all = await allWorkloads();
  const browserNames = workloads.map((w) => w.name);
  const selected = selectWorkloads(all, opts.only).filter((w) => {
    if (browserNames.includes(w.name)) return true;
    if (opts.only)
      throw new UserError(
        `--only: ${w.name} does not run in the browser (--host chromium runs: ${browserNames.join(", ")})`,
      );
    return false;
  });
  const peer = opts.compare ? loadPeer(opts.compare) : undefined;
  const { runInChromium } = await import("./bench-browser.ts");
  if (!opts.json) process.stderr.write(`building the benchmark page and starting Chromium…\n`);
  const run = await runInChromium(
    { names: selected.map((w) => w.name), minSeconds, backend: opts.backend ?? "auto", threads },
    (name) => {
      if (!opts.json) process.stderr.write(`  timed ${name}\n`);
    },
  );
  if (opts.json) {
    console.log(
      JSON.stringify({
        host: run.browser,
        backend: run.backend,
        threads: run.threads,
        cpu: cpus()[0]?.model ?? "unknown",
        date: new Date().toISOString(),
        workloads: run.results,
      }),
    );
    return;
  }
  const why = run.fallback.map((f) => ` (${f.backend} unavailable: ${f.reason})`).join("");
  const one = run.threads < threads && run.threadsReason ? ` (1 thread: ${run.threadsReason})` : "";
  console.log(
    `host ${run.browser} (headless, a Web Worker${run.threads > 1 ? " and the kernels' helper worker" : ""}), backend ${run.backend}, threads ${run.threads}${one}${why}`,
  );
  console.log(header(peer));
  for (const w of selected) console.log(row(w.name, run.results[w.name], peer));
}

export async function runBench(opts: BenchOptions): Promise<void> {
  const all = await allWorkloads();
  if (opts.list) {
    for (const w of all) console.log(`${w.name.padEnd(40)} ${w.description}`);
    return;
  }
  const minSeconds = parseNumber("--min-seconds", opts.minSeconds);
  if (!(minSeconds > 0)) throw new UserError("--min-seconds must be positive");
  if (opts.host === "chromium") return runBenchInChromium(opts, minSeconds);
  if (opts.host !== "node")
    throw new UserError(`--host must be node or chromium, got '${printable(opts.host)}'`);
  const { backend, threads, why } = configureBackend(opts);
  const selected = selectWorkloads(all, opts.only);
  const peer = opts.compare ? loadPeer(opts.compare) : undefined;
  const results: Record<string, WorkloadResult> = {};
  if (!opts.json) {
    console.log(`backend ${backend}, threads ${threads}${why}`);
    console.log(header(peer));
  }
  for (const w of selected) {
    const r = await timeWorkload(w, { ...DEFAULT_TIMING, minSeconds });
    results[w.name] = r;
    if (!opts.json) console.log(row(w.name, r, peer));
  }
  if (opts.json) {
    console.log(
      JSON.stringify({
        backend,
        threads,
        cpu: cpus()[0]?.model ?? "unknown",
        node: process.version,
        date: new Date().toISOString(),
        workloads: results,
      }),
    );
  }
}
