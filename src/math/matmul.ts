/**
 * Dense float32 products c = a·b (row-major a: m×k, b: k×n) as a plan: operands are given once, the
 * returned function computes the product into its own buffer and returns it. Backends register faster
 * plans (native: the addon's SGEMM on its thread pool; wasm: TensorFlow.js with resident operands); the
 * TypeScript plan below is the reference (i-k-j loop order, float32 rounding of each accumulation).
 */
import { defineKernel } from "../kernels/registry.ts";

export type MatmulPlan = (
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
) => Promise<() => Float32Array>;

async function typescriptMatmul(
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
): Promise<() => Float32Array> {
  const c = new Float32Array(m * n);
  return () => {
    c.fill(0);
    for (let i = 0; i < m; i++)
      for (let p = 0; p < k; p++) {
        const aip = a[i * k + p];
        const row = i * n;
        const brow = p * n;
        for (let j = 0; j < n; j++) c[row + j] += aip * b[brow + j];
      }
    return c;
  };
}

export const MATMUL = defineKernel<MatmulPlan>("matmul.f32", typescriptMatmul);

/** A plan for c = a·b on the selected backend; throws if the operands are too short. */
export async function matmulPlan(
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
): Promise<() => Float32Array> {
  for (const [name, v] of [
    ["m", m],
    ["k", k],
    ["n", n],
  ] as const)
    if (!(Number.isInteger(v) && v >= 1))
      throw new RangeError(`matmulPlan: ${name} must be a positive integer, got ${v}`);
  if (a.length < m * k || b.length < k * n)
    throw new RangeError("matmulPlan: operands shorter than m×k and k×n");
  return MATMUL.require()(a, b, m, k, n);
}
