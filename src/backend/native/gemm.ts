/** Native SGEMM helpers for code outside src/backend (benchmarks, tests): thin wrappers over the addon. */
import { loadNative } from "./load.ts";

/**
 * Dense float32 matmul benchmark on the native GEMM: two n×n matrices with N(0,1) entries from `normals`
 * (2n² draws: a then b, row-major). Each call computes c = a·b on the thread pool and returns c[0][0].
 */
export function createNativeMatmulBenchmark(n: number, normals: Float32Array): () => number {
  const addon = loadNative();
  if (!addon) throw new Error("native backend unavailable (addon not built or EBM_BACKEND=wasm)");
  if (normals.length < 2 * n * n) throw new RangeError(`need ${2 * n * n} normal draws`);
  const a = normals.slice(0, n * n);
  const b = normals.slice(n * n, 2 * n * n);
  const c = new Float32Array(n * n);
  return () => {
    addon.sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n);
    return c[0];
  };
}
