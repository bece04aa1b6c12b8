/** Shared test helpers: float64 central finite differences. */
import assert from "node:assert/strict";

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
