/**
 * A static file server for local pages (the playground, the browser benchmark): node:http, GET and HEAD
 * only, every file of one folder sent as it is with its content type (application/wasm for WebAssembly),
 * no-store caching, and the cross-origin isolation headers (COOP same-origin, COEP require-corp: every file
 * is same-origin) that give the page shared memory, so the wasm-simd kernels can run a helper thread.
 * `isolate: false` leaves them out (the page then runs one thread; the results are the same bits).
 */
import { createReadStream, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";
import { UserError } from "./errors.ts";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

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

export interface StaticServer {
  server: Server;
  /** The port listened on (the free one chosen for port 0). */
  port: number;
  /** http://host:port/ */
  url: string;
  close(): Promise<void>;
}

/** Serves `dir` on host:port (0: a free port); a UserError when the port or host cannot be used. */
export async function serveStatic(
  dir: string,
  port: number,
  host: string,
  opts: { isolate?: boolean } = {},
): Promise<StaticServer> {
  const isolation =
    (opts.isolate ?? true)
      ? { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" }
      : {};
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
      ...isolation,
    });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      fail(
        err.code === "EADDRINUSE"
          ? new UserError(`port ${port} on ${host} is in use: choose another with --port`)
          : err.code === "EADDRNOTAVAIL" || err.code === "ENOTFOUND" || err.code === "EAI_AGAIN"
            ? new UserError(`--host ${host} is not an address of this machine`)
            : err,
      ),
    );
    server.listen(port, host, ok);
  });
  const actual = (server.address() as AddressInfo).port;
  const shown = host.includes(":") ? `[${host}]` : host;
  return {
    server,
    port: actual,
    url: `http://${shown}:${actual}/`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
