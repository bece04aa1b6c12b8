// The worker thread behind test/cli/in-process.ts: loads the CLI once, as bin/ebm.js does (tsx's loader,
// then src/cli/main.ts), and runs main() for each message { id, args } in turn, with this thread's stdout
// and stderr captured and the exit code read from process.exitCode (what the process would exit with).
import { Buffer } from "node:buffer";
import { parentPort } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
const { main } = await import("../../src/cli/main.ts");

/** A stream's write() that appends to `sink` instead. */
function capture(sink) {
  return (chunk, encoding, callback) => {
    sink.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    const done = typeof encoding === "function" ? encoding : callback;
    if (done) done();
    return true;
  };
}

async function run(args) {
  const stdout = [];
  const stderr = [];
  const writes = [process.stdout.write, process.stderr.write];
  // main() adds an EPIPE handler to stdout on every call: drop this call's, or they pile up.
  const listeners = process.stdout.listeners("error");
  process.stdout.write = capture(stdout);
  process.stderr.write = capture(stderr);
  process.exitCode = undefined;
  try {
    await main([process.execPath, "ebm", ...args]);
  } finally {
    [process.stdout.write, process.stderr.write] = writes;
    for (const l of process.stdout.listeners("error"))
      if (!listeners.includes(l)) process.stdout.off("error", l);
  }
  const code = process.exitCode ?? 0;
  process.exitCode = undefined;
  return { code, stdout: stdout.join(""), stderr: stderr.join("") };
}

// One call at a time: the captures are this thread's only stdout and stderr.
let queue = Promise.resolve();
parentPort.on("message", ({ id, args }) => {
  queue = queue.then(async () => {
    try {
      parentPort.postMessage({ id, ...(await run(args)) });
    } catch (err) {
      // main() catches everything it can; anything else is a bug the test must see.
      parentPort.postMessage({ id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  });
});
