/**
 * Binary images from and to PNG files (pngjs), for denoising (src/experiments/denoise.ts).
 *
 * Reading accepts every PNG pngjs decodes (grey, grey + alpha, RGB, RGBA, palette; 1–16 bits, 16-bit
 * rescaled to 8) and thresholds the luminance Y = 0.2126 R + 0.7152 G + 0.0722 B (Rec. 709 weights on
 * the stored values), composited over white where the image is transparent: Y ≥ 50% is white (bit 1,
 * s = +1), below is black (bit 0, s = −1). Writing gives an 8-bit greyscale PNG of pure black and white,
 * atomically (src/io/files.ts).
 *
 * Problems are `ImageFileError`s whose one-line message starts with the file: missing, not a regular
 * file, larger than `maxBytes` (default 256 MiB), not a PNG (checked from the signature), more than
 * `maxPixels` pixels (default 2^25, checked from the header before decoding), or corrupt.
 */
import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import { PNG } from "pngjs";
import type { BinaryImage } from "../experiments/denoise.ts";
import { writeFileAtomic } from "./files.ts";

/** An image file that cannot be read; `message` is one line and starts with the file. */
export class ImageFileError extends Error {
  override name = "ImageFileError";
  readonly file: string;
  constructor(file: string, detail: string) {
    super(`${printablePath(file)}: ${detail}`);
    this.file = file;
  }
}

export interface ReadPngOptions {
  /** Largest file read, in bytes (default 256 MiB). */
  maxBytes?: number;
  /** Largest width·height decoded (default 2^25). */
  maxPixels?: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Control characters of a path shown as \xNN (a message stays one line). */
function printablePath(s: string): string {
  let out = "";
  for (const ch of s.length > 300 ? `${s.slice(0, 300)}…` : s) {
    const c = ch.charCodeAt(0);
    out += c < 0x20 || (c >= 0x7f && c <= 0x9f) ? `\\x${c.toString(16).padStart(2, "0")}` : ch;
  }
  return out;
}

function readBytes(path: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ImageFileError(
      path,
      code === "ENOENT" ? "no such file" : `cannot open (${code ?? (err as Error).message})`,
    );
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ImageFileError(path, "not a regular file");
    if (st.size > maxBytes)
      throw new ImageFileError(path, `file of ${st.size} bytes exceeds the limit of ${maxBytes} bytes`);
    return readFileSync(fd);
  } catch (err) {
    if (err instanceof ImageFileError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ImageFileError(path, `cannot read (${code ?? (err as Error).message})`);
  } finally {
    closeSync(fd);
  }
}

/** The PNG at `path` as a binary image (module comment: luminance ≥ 50% over white is 1). */
export function readBinaryPng(path: string, opts: ReadPngOptions = {}): BinaryImage {
  const maxPixels = opts.maxPixels ?? 2 ** 25;
  const bytes = readBytes(path, opts.maxBytes ?? 256 * 2 ** 20);
  if (bytes.length < 24 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b))
    throw new ImageFileError(path, "not a PNG file (bad signature)");
  // The first chunk must be IHDR: width and height are bytes 16–23.
  if (bytes.toString("latin1", 12, 16) !== "IHDR")
    throw new ImageFileError(path, "corrupt PNG (no IHDR chunk)");
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  if (width === 0 || height === 0) throw new ImageFileError(path, `corrupt PNG (size ${width}×${height})`);
  if (width * height > maxPixels)
    throw new ImageFileError(path, `${width}×${height} pixels exceed the limit of ${maxPixels}`);
  let png: PNG;
  try {
    png = PNG.sync.read(bytes);
  } catch (err) {
    throw new ImageFileError(path, `corrupt PNG (${printablePath(String((err as Error).message ?? err))})`);
  }
  const n = png.width * png.height;
  const pixels = new Uint8Array(n);
  const d = png.data;
  for (let i = 0; i < n; i++) {
    const y = 0.2126 * d[4 * i] + 0.7152 * d[4 * i + 1] + 0.0722 * d[4 * i + 2];
    const a = d[4 * i + 3] / 255;
    pixels[i] = a * y + (1 - a) * 255 >= 127.5 ? 1 : 0;
  }
  return { rows: png.height, cols: png.width, pixels };
}

/** PNG bytes (8-bit greyscale, 0 or 255) of a binary image. */
export function encodeBinaryPng(image: BinaryImage): Uint8Array {
  const { rows, cols, pixels } = image;
  if (pixels.length !== rows * cols)
    throw new RangeError(`image has ${pixels.length} pixels, not ${rows}×${cols}`);
  const png = new PNG({ width: cols, height: rows, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  const grey = Buffer.alloc(rows * cols);
  for (let i = 0; i < grey.length; i++) grey[i] = pixels[i] ? 255 : 0;
  png.data = grey;
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
}

/** Writes a binary image as a black-and-white PNG to `path`, atomically (folders created). */
export function writeBinaryPng(path: string, image: BinaryImage): void {
  writeFileAtomic(path, encodeBinaryPng(image));
}
