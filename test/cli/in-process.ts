/**
 * `ebm …args` without a child process: the CLI's main() (what bin/ebm.js runs) in a worker thread of the
 * test process, loaded once per test file, with the thread's stdout and stderr captured and the exit code
 * it would have exited with (process.exitCode). A child process spends about 1.5 s of CPU loading the
 * CLI's modules before it reads its first option, more than most checked runs take; this is for the
 * checks that are not about the process: --help texts, bad input refused with one line (nothing written),
 * and runs whose printed output and files are what is checked.
 *
 * What only a real process shows — the exit status itself, signals, a closed stdout, memory and time
 * bounds — is checked with child processes (test/cli/boundary.test.ts, hostile.test.ts), each file keeps
 * real runs, and ebmBothWays checks that both ways print the same. Module state persists between the
 * calls of a file, as it does not between processes: a resumed run that must equal an uninterrupted one
 * runs in a fresh child process, so that it cannot lean on anything but the checkpoint's files.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { Worker } from "node:worker_threads";

const BIN = join(import.meta.dirname, "..", "..", "bin", "ebm.js");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

let worker: Worker | undefined;
let nextId = 0;
const pending = new Map<number, { resolve: (r: CliRun) => void; reject: (e: Error) => void }>();

function failAll(err: Error): void {
  for (const p of pending.values()) p.reject(err);
  pending.clear();
  worker = undefined;
}

function start(): Worker {
  // No execArgv: the test runner's preloads (tsx, test/setup.ts) are not the CLI's; the worker starts as
  // `node bin/ebm.js` does.
  const w = new Worker(new URL("./ebm-worker.mjs", import.meta.url), {
    env: { ...process.env, CI: "1" },
    execArgv: [],
  });
  w.on("message", (m: CliRun & { id: number; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    // Idle, the worker must not keep the test process alive.
    if (pending.size === 0) w.unref();
    if (!p) return;
    if (m.error !== undefined) p.reject(new Error(`ebm ${m.id}: main() threw: ${m.error}`));
    else p.resolve({ code: m.code, stdout: m.stdout, stderr: m.stderr });
  });
  w.on("error", failAll);
  w.on("exit", (code) => failAll(new Error(`the ebm worker exited (${code})`)));
  return w;
}

/** Runs `ebm …args` in this file's CLI worker (calls queue: one at a time). */
export function ebmInProcess(...args: string[]): Promise<CliRun> {
  worker ??= start();
  const w = worker;
  w.ref();
  return new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    w.postMessage({ id, args });
  });
}

/** `ebm …args` as a child process (bin/ebm.js), with CI=1 as the tests set it. */
export function ebmProcess(...args: string[]): CliRun {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, CI: "1" },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * `ebm …args` both ways: as a child process and in this file's worker, which must print the same bytes
 * and end with the same exit code (the check that keeps ebmInProcess honest). Returns the process's run.
 */
export async function ebmBothWays(...args: string[]): Promise<CliRun> {
  const real = ebmProcess(...args);
  assert.deepEqual(await ebmInProcess(...args), real, `ebm ${args.join(" ")}: in-process vs child process`);
  return real;
}
