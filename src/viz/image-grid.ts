/**
 * Image grids as PNG files: samples of a binary model, data digits, RBM filters. The tiling is
 * src/data/images.ts (host-free); this encodes its raster with pngjs (8-bit RGB, no Vega: a grid of raw
 * pixels needs no layout) and writes the file atomically.
 */
import { PNG } from "pngjs";
import { imageGrid, type ImageGridOptions, type RgbaRaster } from "../data/images.ts";
import { writeFileAtomic } from "../io/files.ts";

/** PNG bytes (8-bit RGB) of a raster. */
export function encodePng(raster: RgbaRaster): Buffer {
  const png = new PNG({ width: raster.width, height: raster.height });
  png.data = Buffer.from(raster.rgba.buffer, raster.rgba.byteOffset, raster.rgba.byteLength);
  return PNG.sync.write(png, { colorType: 2 });
}

/** PNG bytes of `images` tiled as imageGrid does. */
export function imageGridPng(images: ArrayLike<number>, opts?: ImageGridOptions): Buffer {
  return encodePng(imageGrid(images, opts));
}

/** Writes `images` tiled as imageGrid does to the PNG file `path` (atomically; folders created). */
export function writeImageGrid(path: string, images: ArrayLike<number>, opts?: ImageGridOptions): void {
  writeFileAtomic(path, imageGridPng(images, opts));
}
