/**
 * The Node entry: the core (src/index.ts) plus what needs Node — files (atomic writes, safetensors,
 * sample files), target files, figure rendering, and the native addon's backend. Importing it registers
 * the native backend, points TensorFlow.js at its installed wasm binaries, hands the "wasm-simd" backend
 * its binary (read when that backend is first selected; by name only: `auto` in Node is unchanged), and
 * passes EBM_BACKEND (if set) to the one backend policy (src/kernels/registry.ts), so `auto` picks the
 * addon when it is built.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { setTfWasmPrefix } from "./backend/tfjs/prefix.ts";
import { provideWasmKernels } from "./backend/wasm-kernels/load.ts";
import { setBackend } from "./kernels/registry.ts";
import "./backend/native/register.ts";

export * from "./index.ts";
export { checkOutputDir, checkOutputFile, ensureDir, OutputError, writeFileAtomic } from "./io/files.ts";
export * from "./io/safetensors.ts";
export * from "./io/checkpoint.ts";
export * from "./io/datasets.ts";
export * from "./io/digits.ts";
export * from "./io/samples.ts";
export * from "./io/png.ts";
export * from "./targets/load.ts";
export * from "./viz/index.ts";
export * from "./viz/image-grid.ts";
export { loadNative, nativeLoadError } from "./backend/native/load.ts";

const tfWasmPackage = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm/package.json");
setTfWasmPrefix(`${join(dirname(tfWasmPackage), "dist")}/`);
const wasmKernelsFile = new URL("./backend/wasm-kernels/ebm_kernels.wasm", import.meta.url);
provideWasmKernels(() => readFileSync(wasmKernelsFile), { auto: false });
if (process.env.EBM_BACKEND) setBackend(process.env.EBM_BACKEND, "EBM_BACKEND");
