/**
 * Headless figure rendering: Vega-Lite spec → Vega view (renderer "none") → SVG string → PNG via resvg.
 * Fonts come only from the bundled `dejavu-fonts-ttf` package (no system fonts, no network), and vega's
 * text measurement is pointed at the real DejaVu advance widths (read from the TTF files) so that layout
 * computed by vega matches the glyphs resvg draws, without needing node-canvas.
 */

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { type ResvgRenderOptions, renderAsync } from "@resvg/resvg-js";
import type * as Vega from "vega";
import type { TopLevelSpec } from "vega-lite";

// vega and vega-lite take about a second to import; they are loaded at the first figure, so that commands
// which draw nothing (and the library's users) do not pay for them.
type VegaModule = typeof Vega;
let vegaModules: Promise<{ vega: VegaModule; compile: typeof import("vega-lite").compile }> | undefined;
function loadVega() {
  vegaModules ??= Promise.all([import("vega"), import("vega-lite")]).then(([vega, vl]) => ({
    vega,
    compile: vl.compile,
  }));
  return vegaModules;
}

export interface RenderOptions {
  /** Pixel density of the PNG relative to the SVG's CSS pixels (default 2: crisp on screens and in reports). */
  scale?: number;
}

export interface RenderedFigure {
  /** Standalone SVG document (text as <text> in "DejaVu Sans"). */
  svg: string;
  /** PNG bytes, white background. */
  png: Buffer;
}

/** The font family every figure uses; set as the Vega config font and as resvg's default family. */
export const FONT_FAMILY = "DejaVu Sans";

const require = createRequire(import.meta.url);
const fontPath = (file: string): string => require.resolve(`dejavu-fonts-ttf/ttf/${file}`);

const FONT_FILES = {
  regular: "DejaVuSans.ttf",
  bold: "DejaVuSans-Bold.ttf",
  oblique: "DejaVuSans-Oblique.ttf",
  boldOblique: "DejaVuSans-BoldOblique.ttf",
  mono: "DejaVuSansMono.ttf",
} as const;

/** Absolute paths of the TTF files handed to resvg (resolved once). */
let fontFilesCache: string[] | undefined;
function fontFiles(): string[] {
  fontFilesCache ??= Object.values(FONT_FILES).map(fontPath);
  return fontFilesCache;
}

// ---------------------------------------------------------------------------------------------------------
// Text measurement. vega-scenegraph measures text with a canvas 2D context when `canvas` (node-canvas) is
// importable; here it is not, and its fallback estimate (0.8 em per character) overstates widths by ~40%
// for DejaVu Sans, which mis-sizes legends, axis-label padding and truncation. We replace
// `vega.textMetrics.width` (a supported hook: vega checks for a user-defined function) with a sum of
// horizontal advances read from the TTF `hmtx` table via the `cmap` table. Kerning is ignored (sub-pixel).
// ---------------------------------------------------------------------------------------------------------

/** Advance widths of one TTF, in em units, looked up per code point. */
class FontMetrics {
  private readonly cache = new Map<number, number>();
  private readonly advances: Float64Array;
  private readonly lookupGlyph: (cp: number) => number;

  constructor(buf: Buffer) {
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const tables = new Map<string, number>();
    const numTables = dv.getUint16(4);
    for (let i = 0; i < numTables; i++) {
      const rec = 12 + 16 * i;
      tables.set(buf.toString("latin1", rec, rec + 4), dv.getUint32(rec + 8));
    }
    const need = (tag: string): number => {
      const off = tables.get(tag);
      if (off === undefined) throw new Error(`font is missing the '${tag}' table`);
      return off;
    };
    const unitsPerEm = dv.getUint16(need("head") + 18);
    const numHMetrics = dv.getUint16(need("hhea") + 34);
    const numGlyphs = dv.getUint16(need("maxp") + 4);
    const hmtx = need("hmtx");
    this.advances = new Float64Array(Math.max(numGlyphs, numHMetrics));
    for (let g = 0; g < this.advances.length; g++) {
      // Glyphs past numberOfHMetrics repeat the last advance width.
      this.advances[g] = dv.getUint16(hmtx + 4 * Math.min(g, numHMetrics - 1)) / unitsPerEm;
    }
    this.lookupGlyph = FontMetrics.parseCmap(dv, need("cmap"));
  }

  /** Returns code point → glyph id from the best Unicode subtable (format 12 preferred, else format 4). */
  private static parseCmap(dv: DataView, cmap: number): (cp: number) => number {
    const n = dv.getUint16(cmap + 2);
    let fmt4 = -1;
    let fmt12 = -1;
    for (let i = 0; i < n; i++) {
      const rec = cmap + 4 + 8 * i;
      const platform = dv.getUint16(rec);
      const encoding = dv.getUint16(rec + 2);
      const sub = cmap + dv.getUint32(rec + 4);
      const format = dv.getUint16(sub);
      const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
      if (!unicode) continue;
      if (format === 12 && fmt12 < 0) fmt12 = sub;
      if (format === 4 && fmt4 < 0) fmt4 = sub;
    }
    if (fmt12 >= 0) {
      const groups = dv.getUint32(fmt12 + 12);
      return (cp) => {
        let lo = 0;
        let hi = groups - 1;
        while (lo <= hi) {
          const mid = (lo + hi) >>> 1;
          const g = fmt12 + 16 + 12 * mid;
          const start = dv.getUint32(g);
          const end = dv.getUint32(g + 4);
          if (cp < start) hi = mid - 1;
          else if (cp > end) lo = mid + 1;
          else return dv.getUint32(g + 8) + (cp - start);
        }
        return 0;
      };
    }
    if (fmt4 < 0) return () => 0;
    const segX2 = dv.getUint16(fmt4 + 6);
    const ends = fmt4 + 14;
    const starts = ends + segX2 + 2;
    const deltas = starts + segX2;
    const rangeOffsets = deltas + segX2;
    return (cp) => {
      if (cp > 0xffff) return 0;
      for (let s = 0; s < segX2; s += 2) {
        if (cp > dv.getUint16(ends + s)) continue;
        const start = dv.getUint16(starts + s);
        if (cp < start) return 0;
        const delta = dv.getUint16(deltas + s);
        const ro = dv.getUint16(rangeOffsets + s);
        if (ro === 0) return (cp + delta) & 0xffff;
        const glyph = dv.getUint16(rangeOffsets + s + ro + 2 * (cp - start));
        return glyph === 0 ? 0 : (glyph + delta) & 0xffff;
      }
      return 0;
    };
  }

  /** Advance width of a code point in em; unknown characters get the width of '?' (the fallback glyph). */
  advance(cp: number): number {
    let w = this.cache.get(cp);
    if (w === undefined) {
      const g = this.lookupGlyph(cp);
      w = g > 0 && g < this.advances.length ? this.advances[g] : this.advances[this.lookupGlyph(63)] || 0.6;
      this.cache.set(cp, w);
    }
    return w;
  }

  /** Width of a string in em. */
  width(text: string): number {
    let w = 0;
    for (const ch of text) w += this.advance(ch.codePointAt(0)!);
    return w;
  }
}

interface TextItem {
  font?: string;
  fontSize?: number | string;
  fontWeight?: string | number;
}

let metrics: { regular: FontMetrics; bold: FontMetrics; mono: FontMetrics } | undefined;

function isBold(weight: string | number | undefined): boolean {
  if (weight === undefined || weight === null) return false;
  if (typeof weight === "number") return weight >= 600;
  return weight === "bold" || weight === "bolder" || Number(weight) >= 600;
}

/**
 * Text width in px as vega-scenegraph expects from `textMetrics.width(item, text)`. Returns the width of the
 * whole (trimmed) string: vega's own truncation (labelLimit etc.) calls this to find where to cut, so it
 * must not truncate itself.
 */
function measureText(item: TextItem, text: unknown): number {
  const size = item.fontSize != null ? +item.fontSize || 0 : 11;
  const s = text == null ? "" : String(text).trim();
  if (size <= 0 || s.length === 0 || !metrics) return 0;
  const family = String(item.font ?? "").toLowerCase();
  const m = family.includes("mono") ? metrics.mono : isBold(item.fontWeight) ? metrics.bold : metrics.regular;
  return m.width(s) * size;
}

interface VegaTextMetrics {
  width: (item: TextItem, text: unknown) => number;
}

/** Installs DejaVu-based text measurement into vega (idempotent; process-wide, as vega's hook is global). */
function installTextMetrics(vega: VegaModule): void {
  if (metrics) return;
  const load = (file: string) => new FontMetrics(readFileSync(fontPath(file)));
  metrics = { regular: load(FONT_FILES.regular), bold: load(FONT_FILES.bold), mono: load(FONT_FILES.mono) };
  // `textMetrics` is exported at runtime by vega (from vega-scenegraph) but absent from vega's typings.
  const tm = (vega as unknown as { textMetrics?: VegaTextMetrics }).textMetrics;
  if (!tm) throw new Error("vega.textMetrics not found: cannot install text measurement");
  tm.width = measureText;
}

// ---------------------------------------------------------------------------------------------------------
// Rendering.
// ---------------------------------------------------------------------------------------------------------

/** Config merged under every spec (the spec's own `config` wins key by key at the top level). */
const BASE_CONFIG = {
  font: FONT_FAMILY,
  background: "white",
};

/**
 * A loader that refuses every load: figures carry their data inline, and rendering must never touch the
 * network or disk. Vega only logs a failed load as a warning and renders on, so refusals are also recorded
 * in `refused` for the caller to turn into an error.
 */
function offlineLoader(vega: VegaModule, refused: string[]): Vega.Loader {
  const loader = vega.loader();
  const refuse = async (uri: string): Promise<never> => {
    refused.push(uri);
    throw new Error(`external data/resources are not allowed (tried to load "${uri}")`);
  };
  loader.load = refuse;
  loader.sanitize = refuse;
  loader.http = refuse;
  loader.file = refuse;
  return loader;
}

type VegaLogger = NonNullable<NonNullable<ConstructorParameters<typeof Vega.View>[1]>["logger"]>;

/**
 * A vega logger that prints warnings but collects errors: vega reports failures inside the dataflow (e.g. a
 * refused load, a bad expression) by logging them and rendering anyway, and we want those to reject.
 */
function collectingLogger(vega: VegaModule, errors: string[]): VegaLogger {
  const text = (args: unknown[]) => args.map((a) => (a instanceof Error ? a.message : String(a))).join(" ");
  let level = vega.Warn;
  const logger: VegaLogger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: unknown[]) {
      errors.push(text(args));
      return logger;
    },
    warn(...args: unknown[]) {
      // Refused loads are reported by renderVegaLite itself (as an error), so don't echo vega's warning.
      if (args[0] === "Loading failed") return logger;
      if (level >= vega.Warn) console.warn("[vega]", text(args));
      return logger;
    },
    info(...args: unknown[]) {
      if (level >= vega.Info) console.info("[vega]", text(args));
      return logger;
    },
    debug(...args: unknown[]) {
      if (level >= vega.Debug) console.debug("[vega]", text(args));
      return logger;
    },
  };
  return logger;
}

/**
 * Renders a Vega-Lite spec to SVG and PNG, fully offline and deterministically (same spec → same bytes).
 * Data must be inline (`data: { values: [...] }`). Text is set in DejaVu Sans.
 */
export async function renderVegaLite(spec: object, opts: RenderOptions = {}): Promise<RenderedFigure> {
  const scale = opts.scale ?? 2;
  if (!(scale > 0) || !Number.isFinite(scale))
    throw new Error(`renderVegaLite: scale must be > 0, got ${scale}`);
  const { vega, compile } = await loadVega();
  installTextMetrics(vega);

  const userConfig = (spec as { config?: Record<string, unknown> }).config ?? {};
  const vlSpec = { ...spec, config: { ...BASE_CONFIG, ...userConfig } } as TopLevelSpec;
  const vgSpec = compile(vlSpec).spec;

  const errors: string[] = [];
  const refused: string[] = [];
  const view = new vega.View(vega.parse(vgSpec), {
    renderer: "none",
    loader: offlineLoader(vega, refused),
    logger: collectingLogger(vega, errors),
  });
  let svg: string;
  try {
    // Clip-path / gradient ids come from a process-wide counter; reset it so output is reproducible.
    vega.resetSVGDefIds();
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  if (refused.length > 0) {
    throw new Error(`renderVegaLite: external data/resources are not allowed (tried: ${refused.join(", ")})`);
  }
  if (errors.length > 0) throw new Error(`renderVegaLite: vega reported errors: ${errors.join("; ")}`);

  const resvgOpts: ResvgRenderOptions = {
    background: "white",
    fitTo: { mode: "zoom", value: scale },
    font: {
      fontFiles: fontFiles(),
      loadSystemFonts: false,
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
      serifFamily: FONT_FAMILY,
      monospaceFamily: "DejaVu Sans Mono",
    },
    logLevel: "off",
  };
  // renderAsync rasterises on a libuv worker thread, so a CLI progress display keeps ticking meanwhile.
  const png = (await renderAsync(svg, resvgOpts)).asPng();
  return { svg, png };
}
