// `npm ci` install step: builds the native addon (native/ → native/build/Release/ebm_native.node) with
// node-gyp. npm puts its bundled node-gyp on PATH inside lifecycle scripts (and names it in
// npm_config_node_gyp); headers come from nodedir (npm config, or the prefix of this node binary when
// it ships include/node), so nothing is downloaded. If the build fails for any reason (no compiler, no
// headers) this prints one line and exits 0: the library then uses its wasm backend. The full build
// log is kept in native/build/build.log. Set EBM_SKIP_NATIVE=1 to skip the build.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const nativeDir = join(root, "native");
const unavailable = (why) => {
  console.log(`ebm: native backend unavailable (${why}); the wasm fallback will be used`);
  process.exit(0);
};

if (process.env.EBM_SKIP_NATIVE === "1") unavailable("EBM_SKIP_NATIVE=1");

/** How to run node-gyp: [command, ...args]. */
function nodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return [process.execPath, fromNpm];
  // npm's bundled copy, next to this node binary (e.g. /usr/lib/node_modules/npm/...).
  const prefix = resolve(dirname(process.execPath), "..");
  for (const lib of ["lib/node_modules", "node_modules"]) {
    const js = join(prefix, lib, "npm/node_modules/node-gyp/bin/node-gyp.js");
    if (existsSync(js)) return [process.execPath, js];
  }
  return ["node-gyp"]; // on PATH (npm lifecycle scripts add node-gyp-bin)
}

function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [`--nodedir=${process.env.npm_config_nodedir}`];
  const prefix = resolve(dirname(process.execPath), "..");
  if (
    existsSync(join(prefix, "include/node/node_api.h")) &&
    existsSync(join(prefix, "include/node/common.gypi"))
  )
    return [`--nodedir=${prefix}`];
  return [];
}

const [cmd, ...pre] = nodeGyp();
const args = [...pre, "rebuild", "--release", ...nodedirArgs()];
const r = spawnSync(cmd, args, { cwd: nativeDir, encoding: "utf8", env: process.env });
const log = `$ ${cmd} ${args.join(" ")}\n${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}`;
try {
  mkdirSync(join(nativeDir, "build"), { recursive: true });
  writeFileSync(join(nativeDir, "build", "build.log"), log);
} catch {
  // the log is a convenience only
}
const addon = join(nativeDir, "build", "Release", "ebm_native.node");
if (r.status !== 0 || !existsSync(addon)) {
  const firstError =
    log.split("\n").find((l) => /error|not found|ENOENT/i.test(l) && !l.startsWith("$")) ??
    `exit ${r.status}`;
  unavailable(`build failed: ${firstError.trim().slice(0, 160)}; see native/build/build.log`);
}
console.log(`ebm: native backend built (${join("native", "build", "Release", "ebm_native.node")})`);
