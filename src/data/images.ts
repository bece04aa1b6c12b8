/**
 * Sets of small grey images (n × (h·w) values in [0, 1], row-major, or 0/1 bits) as one picture: tiled into
 * a grid with 1-pixel separators as an RGBA raster (what a PNG encoder or a canvas's ImageData takes; the
 * PNG file is written by src/viz/image-grid.ts), and a layer's weights as images (the "filters" of an RBM).
 */

/** Pixels, row-major, 4 bytes (R, G, B, A) each. */
export interface RgbaRaster {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8Array;
}

export interface ImageGridOptions {
  /** Tile height in pixels (default 28). */
  height?: number;
  /** Tile width in pixels (default: height). */
  width?: number;
  /** Tiles per row (default: rows given ? ⌈n / rows⌉ : ⌈√n⌉). */
  cols?: number;
  /**
   * Tile rows (default ⌈n / cols⌉). More than rows·cols images is an error; empty cells are separator colour.
   */
  rows?: number;
  /** Each image pixel becomes scale × scale pixels (integer ≥ 1, default 1); separators stay 1 pixel. */
  scale?: number;
  /** Draw 1 as black and 0 as white (default false: 0 black, 1 white, as ink on the digits' black). */
  invert?: boolean;
  /** Separator colour, RGB 0–255 (default a blue, which no grey of a tile can be mistaken for). */
  separator?: readonly [number, number, number];
}

const DEFAULT_SEPARATOR: readonly [number, number, number] = [48, 96, 160];

function positiveInteger(v: number, what: string): number {
  if (!(Number.isInteger(v) && v >= 1)) throw new RangeError(`${what} must be an integer ≥ 1, got ${v}`);
  return v;
}

/** Tiles n = images.length / (height·width) images into a rows × cols grid (see ImageGridOptions). */
export function imageGrid(images: ArrayLike<number>, opts: ImageGridOptions = {}): RgbaRaster {
  const th = positiveInteger(opts.height ?? 28, "tile height");
  const tw = positiveInteger(opts.width ?? th, "tile width");
  const scale = positiveInteger(opts.scale ?? 1, "scale");
  const size = th * tw;
  const n = images.length / size;
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`${images.length} values are not a whole number (≥ 1) of ${th}×${tw} images`);
  const cols = positiveInteger(
    opts.cols ?? (opts.rows !== undefined ? Math.ceil(n / opts.rows) : Math.ceil(Math.sqrt(n))),
    "cols",
  );
  const rows = positiveInteger(opts.rows ?? Math.ceil(n / cols), "rows");
  if (rows * cols < n) throw new RangeError(`${n} images do not fit in ${rows} × ${cols} tiles`);
  const sep = opts.separator ?? DEFAULT_SEPARATOR;
  if (sep.length !== 3 || !sep.every((v) => Number.isInteger(v) && v >= 0 && v <= 255))
    throw new RangeError(`separator must be three integers 0–255, got ${JSON.stringify(sep)}`);

  const cellH = th * scale;
  const cellW = tw * scale;
  const width = cols * cellW + (cols - 1);
  const height = rows * cellH + (rows - 1);
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    rgba[4 * p] = sep[0];
    rgba[4 * p + 1] = sep[1];
    rgba[4 * p + 2] = sep[2];
    rgba[4 * p + 3] = 255;
  }
  for (let k = 0; k < n; k++) {
    const x0 = (k % cols) * (cellW + 1);
    const y0 = Math.floor(k / cols) * (cellH + 1);
    for (let r = 0; r < th; r++)
      for (let c = 0; c < tw; c++) {
        const q = k * size + r * tw + c;
        const v = images[q];
        if (!(v >= 0 && v <= 1)) throw new RangeError(`value ${v} at index ${q} is not in [0, 1]`);
        const grey = Math.round(255 * (opts.invert ? 1 - v : v));
        for (let dy = 0; dy < scale; dy++) {
          let p = ((y0 + r * scale + dy) * width + x0 + c * scale) * 4;
          for (let dx = 0; dx < scale; dx++, p += 4) {
            rgba[p] = grey;
            rgba[p + 1] = grey;
            rgba[p + 2] = grey;
          }
        }
      }
  }
  return { width, height, rgba };
}

/**
 * The columns of a visible × hidden weight matrix (row-major: W[i·hidden + j] couples visible unit i and
 * hidden unit j, as Rbm.W) as `hidden` images of `visible` pixels, each rescaled to [0, 1] by its own
 * minimum and maximum (a constant column becomes 0.5): hidden × visible values, ready for imageGrid with
 * the images' height and width (28 × 28 for digits).
 */
export function weightFilters(W: ArrayLike<number>, visible: number, hidden: number): Float32Array {
  positiveInteger(visible, "visible");
  positiveInteger(hidden, "hidden");
  if (W.length !== visible * hidden)
    throw new RangeError(`weights: ${W.length} values for ${visible} × ${hidden}`);
  const out = new Float32Array(hidden * visible);
  for (let j = 0; j < hidden; j++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < visible; i++) {
      const w = W[i * hidden + j];
      if (!Number.isFinite(w)) throw new RangeError(`weight ${w} at (${i}, ${j}) is not finite`);
      if (w < lo) lo = w;
      if (w > hi) hi = w;
    }
    const range = hi - lo;
    for (let i = 0; i < visible; i++)
      out[j * visible + i] = range > 0 ? (W[i * hidden + j] - lo) / range : 0.5;
  }
  return out;
}
