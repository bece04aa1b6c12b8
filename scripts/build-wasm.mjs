// Builds src/backend/wasm-kernels/ebm_kernels.wasm, the "wasm-simd" backend: the kernel layer of native/src
// (the same sources as the addon, without the N-API glue) plus native/wasm/kernels.cc (plain C exports over
// linear-memory pointers; the linker adds malloc/free), for wasm32-wasi with SIMD128, no exceptions, no
// threads (-DEBM_NO_THREADS: the thread pool runs every part serially, in order).
//
// Toolchain: Debian's clang, lld (wasm-ld), wasi-libc and LLVM's libc++ for WASI —
//   apt-get install clang lld wasi-libc libc++-14-dev-wasm32 libc++abi-14-dev-wasm32 libclang-rt-14-dev-wasm32
// The output is deterministic (fixed object names and link order, no debug info, names and the producers
// section stripped): the .wasm is committed and CI rebuilds it and checks it is byte-identical, which holds
// for the same clang version (this one was made by Debian bookworm's clang 14.0.6).
//
// Usage: node scripts/build-wasm.mjs [--out FILE]. Set CXX_WASM to use another clang++.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outArg = process.argv.indexOf("--out");
const out =
  outArg > 0 ? resolve(process.argv[outArg + 1]) : join(root, "src/backend/wasm-kernels/ebm_kernels.wasm");
const objDir = join(root, "native/build/wasm");

/** The kernel layer (N-API-free) and the WebAssembly exports, in link order. */
const SOURCES = [
  "native/src/gemm.cc",
  "native/src/mala_chains.cc",
  "native/src/mlp.cc",
  "native/src/resample.cc",
  "native/src/threadpool.cc",
  "native/wasm/kernels.cc",
];

const CXX = process.env.CXX_WASM || "clang++";
const COMPILE = [
  "--target=wasm32-wasi",
  "--sysroot=/usr",
  "-std=c++17",
  "-O3",
  "-msimd128",
  "-ffp-contract=off",
  "-fno-math-errno",
  "-fno-exceptions",
  "-fno-rtti",
  "-DEBM_NO_THREADS",
  "-DNDEBUG",
  "-Wall",
  "-Wno-unused-function",
  "-Werror",
  "-I",
  "native/src",
];
const LINK = [
  "--target=wasm32-wasi",
  "--sysroot=/usr",
  "-mexec-model=reactor",
  "-fno-exceptions",
  "-Wl,--no-entry",
  "-Wl,--export=malloc",
  "-Wl,--export=free",
  "-Wl,--strip-all",
  "-Wl,-z,stack-size=1048576",
];

function fail(msg) {
  console.error(`build-wasm: ${msg}`);
  process.exit(1);
}

function run(args) {
  const r = spawnSync(CXX, args, { cwd: root, encoding: "utf8" });
  if (r.error) {
    fail(
      `cannot run ${CXX} (${r.error.message}); install Debian's clang lld wasi-libc libc++-14-dev-wasm32 ` +
        "libc++abi-14-dev-wasm32 libclang-rt-14-dev-wasm32",
    );
  }
  if (r.status !== 0) fail(`${CXX} ${args.join(" ")}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

if (!existsSync("/usr/include/wasm32-wasi/stdlib.h"))
  fail("wasi-libc is missing (apt-get install wasi-libc)");
const version = run(["--version"]).split("\n")[0];
mkdirSync(objDir, { recursive: true });
mkdirSync(dirname(out), { recursive: true });
const objects = SOURCES.map((src) => {
  const obj = join(objDir, src.replace(/^native\//, "").replace(/[/.]/g, "_") + ".o");
  run([...COMPILE, "-c", src, "-o", relative(root, obj)]);
  return relative(root, obj);
});
run([...LINK, ...objects, "-o", relative(root, out)]);
const bytes = readFileSync(out);
const sha = createHash("sha256").update(bytes).digest("hex");
console.log(
  `build-wasm: ${relative(root, out)}: ${bytes.length} bytes, sha256 ${sha.slice(0, 16)}… (${version})`,
);
