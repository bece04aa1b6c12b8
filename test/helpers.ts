/** Shared test helpers: float64 central finite differences, the CI pass. */
import assert from "node:assert/strict";

/**
 * Set on CI's second pass (`EBM_BACKEND=wasm npm test`, .ci/run), which exists to run the code that differs
 * by backend on the portable path. End-to-end tests whose code reaches no backend kernel, or whose kernels
 * this pass checks in their own unit tests, skip it with this reason.
 */
export const WASM_PASS_SKIP =
  process.env.EBM_BACKEND === "wasm" &&
  "backend-independent or covered by unit tests on this pass; run on the native pass";

/** Central difference of a scalar function along coordinate i of `v` (v is restored afterwards). */
export function centralDiff(f: () => number, v: Float64Array, i: number, eps: number): number {
  const old = v[i];
  v[i] = old + eps;
  const up = f();
  v[i] = old - eps;
  const down = f();
  v[i] = old;
  return (up - down) / (2 * eps);
}

/** |a − b| ≤ atol + rtol·|b|, with a message naming the quantity. */
export function assertClose(a: number, b: number, atol: number, rtol: number, what: string): void {
  assert.ok(
    Math.abs(a - b) <= atol + rtol * Math.abs(b),
    `${what}: ${a} vs ${b} (atol ${atol}, rtol ${rtol})`,
  );
}

/**
 * ∇ₓU from energyAndGrad against float64 central differences of energy() (step eps), for every point and
 * coordinate; also checks that energy() and energyAndGrad() give the same U.
 */
export function checkInputGradient(
  e: { dim: number; energy(x: Float64Array, n: number, u: Float64Array): void } & {
    energyAndGrad(x: Float64Array, n: number, u: Float64Array, g: Float64Array): void;
  },
  x: Float64Array,
  n: number,
  tol: { eps: number; atol: number; rtol: number },
): void {
  const d = e.dim;
  const u = new Float64Array(n);
  const g = new Float64Array(n * d);
  e.energyAndGrad(x, n, u, g);
  const u2 = new Float64Array(n);
  e.energy(x, n, u2);
  for (let i = 0; i < n; i++) {
    assert.equal(u[i], u2[i], "energy and energyAndGrad agree");
    for (let a = 0; a < d; a++) {
      const fd = centralDiff(
        () => {
          e.energy(x, n, u2);
          return u2[i];
        },
        x,
        i * d + a,
        tol.eps,
      );
      assertClose(g[i * d + a], fd, tol.atol, tol.rtol, `∂U/∂x[${i},${a}]`);
    }
  }
}
