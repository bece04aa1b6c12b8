/**
 * `ebm playground [--port N] [--host H] [--dir DIR]`: the browser playground (web/) on a local server.
 *
 * It first runs scripts/build-web.mjs --if-stale, which builds DIR (default dist/web) when it is missing or
 * was built from other sources (a hash of web/, src/ and the lock file; building needs the dev dependency
 * esbuild), then serves DIR with node:http on 127.0.0.1 (no other host unless --host says so), prints the
 * URL and runs until Ctrl-C. `--port 0` takes a free port (the printed URL has it).
 *
 * The server sends every file of DIR as it is, with its content type (application/wasm for the tfjs
 * binaries), no-store caching, and nothing else: no cross-origin isolation headers, so tfjs runs its
 * single-threaded SIMD build in the page, the binary Node runs, and seeded numbers equal Node's.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { parseIntegerInRange, printable, UserError } from "../errors.ts";
import { serveStatic } from "../static-server.ts";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

interface PlaygroundOptions {
  port: string;
  host: string;
  dir?: string;
}

/** The build replaces DIR whole: a file, or a folder holding anything but an earlier build, is refused. */
function checkDir(dir: string): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new UserError(`--dir ${dir}: exists and is not a folder`);
    if (readdirSync(dir).length > 0 && !existsSync(join(dir, "build.json")))
      throw new UserError(
        `--dir ${dir}: holds files that are not a playground build (no build.json); give a new or empty folder`,
      );
  }
}

/** Builds `dir` when it is missing or stale (scripts/build-web.mjs --if-stale); a UserError when it cannot. */
function ensureBuilt(dir: string): void {
  const r = spawnSync(process.execPath, [join(REPO, "scripts/build-web.mjs"), "--out", dir, "--if-stale"], {
    encoding: "utf8",
  });
  if (r.status === 0) {
    const line = r.stdout.trim();
    if (line) process.stderr.write(`${line}\n`);
    return;
  }
  const why = (r.stderr || r.stdout || String(r.error ?? "")).trim().split("\n")[0];
  if (existsSync(join(dir, "index.html"))) {
    process.stderr.write(`warning: could not rebuild ${dir} (${why}); serving the existing build\n`);
    return;
  }
  throw new UserError(`could not build the playground into ${dir}: ${why} (npm ci installs esbuild)`);
}

export async function runPlayground(opts: PlaygroundOptions): Promise<void> {
  const port = parseIntegerInRange("--port", opts.port, 0, 65535);
  const host = opts.host;
  if (!/^[A-Za-z0-9.:-]+$/.test(host))
    throw new UserError(`--host must be a host name or address, got '${printable(host)}'`);
  const dir = resolve(opts.dir ?? join(REPO, "dist/web"));
  checkDir(dir);
  // Listen first, so that a host or port that cannot be used is refused before anything is built; the
  // server reads files per request, and the URL is printed once the build is there.
  const served = await serveStatic(dir, port, host);
  try {
    ensureBuilt(dir);
  } catch (e) {
    await served.close();
    throw e;
  }
  process.stdout.write(`playground: ${served.url}  (serving ${dir}; Ctrl-C stops)\n`);
  await new Promise<void>((ok) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      void served.close().then(ok);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

export function playgroundCommand(cmd: Command): Command {
  return cmd
    .option("--port <n>", "port to listen on (0: any free port)", "8080")
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option(
      "--dir <folder>",
      "the built page's folder, built there when missing or stale; a new or empty folder, or an earlier build (default: dist/web)",
    )
    .action(runPlayground);
}
