/**
 * The synthetic clean image of the denoising tests: white (1) on black (0), rows × cols (64 × 64 by
 * default) with two rectangles, a disc and a ring, so it has straight edges, corners and curved edges.
 */
import type { BinaryImage } from "../../src/experiments/denoise.ts";

export function shapesImage(rows = 64, cols = 64): BinaryImage {
  const pixels = new Uint8Array(rows * cols);
  const y = (f: number) => f * rows;
  const x = (f: number) => f * cols;
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const inRect1 = r >= y(0.1) && r < y(0.45) && c >= x(0.08) && c < x(0.5);
      const inRect2 = r >= y(0.6) && r < y(0.9) && c >= x(0.15) && c < x(0.35);
      const d1 = Math.hypot(r - y(0.3), c - x(0.75));
      const inDisc = d1 < 0.16 * Math.min(rows, cols);
      const d2 = Math.hypot(r - y(0.72), c - x(0.68));
      const inRing = d2 < 0.2 * Math.min(rows, cols) && d2 >= 0.1 * Math.min(rows, cols);
      pixels[r * cols + c] = inRect1 || inRect2 || inDisc || inRing ? 1 : 0;
    }
  return { rows, cols, pixels };
}
