// The helper thread of test/backend/wasm-helper.test.ts: another instance of ebm_kernels.wasm serving the
// shared buffer it is given, as a page's helper worker does.
import { readFileSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { serveKernelHelper } from "../../src/index.ts";

const { buffer, wasmFile } = workerData as { buffer: SharedArrayBuffer; wasmFile: string };
serveKernelHelper(buffer, readFileSync(wasmFile), () => parentPort?.postMessage("ready"));
