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
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { parseIntegerInRange, printable, UserError } from "../errors.ts";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

interface PlaygroundOptions {
  port: string;
  host: string;
  dir?: string;
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

/** The file under `root` for a request path, or undefined (outside root, not a file). */
function fileFor(root: string, url: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(new URL(url, "http://x").pathname);
  } catch {
    return undefined;
  }
  if (path.endsWith("/")) path += "index.html";
  const file = normalize(join(root, path));
  if (file !== root && !file.startsWith(root + sep)) return undefined;
  try {
    return statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

export async function runPlayground(opts: PlaygroundOptions): Promise<void> {
  const port = parseIntegerInRange("--port", opts.port, 0, 65535);
  const host = opts.host;
  if (!/^[A-Za-z0-9.:-]+$/.test(host))
    throw new UserError(`--host must be a host name or address, got '${printable(host)}'`);
  const dir = resolve(opts.dir ?? join(REPO, "dist/web"));
  ensureBuilt(dir);
  const server = createServer((req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    const file = fileFor(dir, req.url ?? "/");
    if (!file) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
      return;
    }
    res.writeHead(200, {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      fail(
        err.code === "EADDRINUSE"
          ? new UserError(`port ${port} on ${host} is in use: choose another with --port`)
          : err.code === "EADDRNOTAVAIL" || err.code === "ENOTFOUND"
            ? new UserError(`--host ${host} is not an address of this machine`)
            : err,
      ),
    );
    server.listen(port, host, ok);
  });
  const { port: actual } = server.address() as AddressInfo;
  const shown = host.includes(":") ? `[${host}]` : host;
  process.stdout.write(`playground: http://${shown}:${actual}/  (serving ${dir}; Ctrl-C stops)\n`);
  await new Promise<void>((ok) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      server.closeAllConnections();
      server.close(() => ok());
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
      "the built page's folder, built there when missing or stale (default: dist/web)",
    )
    .action(runPlayground);
}
