// Builds the browser playground (web/) into a static folder any static host can serve:
//   index.html, style.css       copied from web/
//   main.js                     the page (web/src/main.ts, bundled; it does not load the core)
//   worker.js                   the training worker (web/src/worker.ts + the core, bundled; module worker)
//   sampler-worker.js           the Sampler tab's worker (web/src/sampler-worker.ts + the core; module worker)
//   kernel-helper-worker.js     the wasm-simd kernels' helper thread (web/src/kernel-helper-worker.ts), started
//                               by worker.js where the page is cross-origin isolated
//   tfjs/*.wasm                 TensorFlow.js's wasm binaries, copied from node_modules (nothing is fetched
//                               from a CDN at run time)
//   ebm_kernels.wasm            the native kernels built for WebAssembly SIMD (the committed
//                               src/backend/wasm-kernels/ebm_kernels.wasm; scripts/build-wasm.mjs rebuilds it)
//   build.json                  the hash of the inputs, for --if-stale
//
//   node scripts/build-web.mjs [--out DIR] [--if-stale] [--quiet]
//
// Default DIR: dist/web. With --if-stale the build is skipped when DIR/build.json holds the hash of the
// current inputs (web/, src/ but for src/cli/, package-lock.json and this script). Needs the dev dependency
// esbuild only when it builds. Used by `npm run build:web` and `ebm playground` (which runs this script).
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function files(dir, skip = () => false) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (skip(path)) continue;
    if (statSync(path).isDirectory()) out.push(...files(path, skip));
    else out.push(path);
  }
  return out;
}

/** Hash of every input of the build (paths and contents). */
export function inputsHash() {
  const h = createHash("sha256");
  const inputs = [
    ...files(join(repo, "web")),
    ...files(join(repo, "src"), (p) => p === join(repo, "src", "cli")),
    join(repo, "package-lock.json"),
    fileURLToPath(import.meta.url),
  ];
  for (const f of inputs) {
    if (!existsSync(f)) continue;
    h.update(relative(repo, f));
    h.update("\0");
    h.update(readFileSync(f));
    h.update("\0");
  }
  return h.digest("hex");
}

/** True when `out` lacks a build of the current inputs. */
export function isStale(out) {
  try {
    return JSON.parse(readFileSync(join(out, "build.json"), "utf8")).inputs !== inputsHash();
  } catch {
    return true;
  }
}

/**
 * Throws unless `out` may be (re)built: missing, an empty folder, or a folder holding an earlier build (its
 * build.json). The build replaces the folder whole, so anything else there would be lost.
 */
export function checkOut(out) {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new Error(`${out} exists and is not a folder`);
  if (readdirSync(out).length > 0 && !existsSync(join(out, "build.json")))
    throw new Error(
      `${out} holds files that are not a playground build (no build.json); give a new or empty folder`,
    );
}

/** Builds into `out` (replacing what the build writes there); returns the list of files written. */
export async function buildWeb(out) {
  checkOut(out);
  const { build } = await import("esbuild");
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, "tfjs"), { recursive: true });
  const common = {
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    logLevel: "error",
    legalComments: "none",
    minify: true,
    sourcemap: false,
  };
  await build({ ...common, entryPoints: [join(repo, "web/src/main.ts")], outfile: join(tmp, "main.js") });
  await build({ ...common, entryPoints: [join(repo, "web/src/worker.ts")], outfile: join(tmp, "worker.js") });
  await build({ ...common, entryPoints: [join(repo, "web/src/sampler-worker.ts")], outdir: tmp });
  await build({ ...common, entryPoints: [join(repo, "web/src/kernel-helper-worker.ts")], outdir: tmp });
  for (const f of ["index.html", "style.css"]) copyFileSync(join(repo, "web", f), join(tmp, f));
  const tfWasm = join(
    dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm/package.json")),
    "dist",
  );
  for (const f of readdirSync(tfWasm).filter((f) => f.endsWith(".wasm")))
    copyFileSync(join(tfWasm, f), join(tmp, "tfjs", f));
  copyFileSync(join(repo, "src/backend/wasm-kernels/ebm_kernels.wasm"), join(tmp, "ebm_kernels.wasm"));
  writeFileSync(
    join(tmp, "build.json"),
    `${JSON.stringify({ inputs: inputsHash(), built: new Date().toISOString() }, null, 2)}\n`,
  );
  // Swap in the new folder whole, so a server never serves half a build.
  rmSync(out, { recursive: true, force: true });
  mkdirSync(dirname(out), { recursive: true });
  const { renameSync } = await import("node:fs");
  renameSync(tmp, out);
  return files(out).map((f) => relative(out, f));
}

async function cli(argv) {
  const outIdx = argv.indexOf("--out");
  const out = resolve(outIdx >= 0 ? argv[outIdx + 1] : join(repo, "dist/web"));
  const quiet = argv.includes("--quiet");
  checkOut(out);
  if (argv.includes("--if-stale") && !isStale(out)) {
    if (!quiet) console.log(`${relative(process.cwd(), out) || "."} is up to date`);
    return;
  }
  const t0 = performance.now();
  const written = await buildWeb(out);
  if (!quiet)
    console.log(
      `built the playground into ${relative(process.cwd(), out) || "."} (${written.length} files, ${((performance.now() - t0) / 1000).toFixed(1)} s); serve that folder, or run: npx ebm playground`,
    );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli(process.argv.slice(2)).catch((err) => {
    console.error(`build-web: ${err && err.message ? err.message : err}`);
    process.exit(1);
  });
}
