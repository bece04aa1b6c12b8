/**
 * `ebm playground --port 0 --dir DIR` as a child process, for the browser tests: it builds the page into DIR
 * (missing, so built) and serves it on a free port of 127.0.0.1; resolves to the printed URL and a stop
 * function (SIGINT, then wait for the exit). Rejects with the server's stderr if it exits first.
 */
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");

export interface PlaygroundServer {
  base: string;
  stop(): Promise<void>;
}

export async function startPlayground(dir: string): Promise<PlaygroundServer> {
  const server = spawn(
    process.execPath,
    [join(repo, "bin/ebm.js"), "playground", "--port", "0", "--dir", dir],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  server.stderr!.on("data", (d) => (stderr += String(d)));
  const exited = new Promise<number | null>((ok) => server.once("exit", (code) => ok(code)));
  const base = await new Promise<string>((ok, fail) => {
    let out = "";
    server.stdout!.on("data", (d) => {
      out += String(d);
      const m = out.match(/http:\/\/127\.0\.0\.1:\d+\//);
      if (m) ok(m[0]);
    });
    void exited.then((code) => fail(new Error(`ebm playground exited (${code}): ${stderr}`)));
  });
  return {
    base,
    async stop() {
      if (server.exitCode === null) {
        server.kill("SIGINT");
        await exited;
      }
    },
  };
}
