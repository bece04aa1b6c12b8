/**
 * 2-D figure builders: heatmaps (cell data, ±∞/NaN, equal aspect), scatter plots (deterministic thinning),
 * grouped mass bars with error whiskers, and the rows × columns grid figure of a 2-D training experiment —
 * specs compile with vega-lite and render offline to PNG.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { compile, type TopLevelSpec } from "vega-lite";
import {
  gridFigure,
  heatmapChart,
  massBarChart,
  panels,
  renderVegaLite,
  scatterChart,
  type VegaLiteSpec,
} from "../../src/viz/index.ts";

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Checks the PNG signature and reads width/height from the IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.ok(png.length > 24, "PNG too short");
  assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE, "PNG signature");
  assert.equal(png.toString("latin1", 12, 16), "IHDR");
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

function compiles(spec: VegaLiteSpec): void {
  const vg = compile(spec as unknown as TopLevelSpec).spec;
  assert.ok(Array.isArray(vg.marks) && vg.marks.length > 0, "compiled Vega spec has marks");
}

/** True if the SVG draws `text` as the content of a <text> element. */
function hasText(svg: string, text: string): boolean {
  return svg.includes(`>${text}</text>`);
}

/** The items of the first data-mark group of a class (e.g. "mark-rect", not axes), as raw SVG elements. */
function markItems(svg: string, cls: string): string[] {
  const start = svg.indexOf(`class="${cls} role-mark`);
  assert.ok(start >= 0, `SVG has a ${cls} group`);
  const body = svg.slice(svg.indexOf(">", start) + 1, svg.indexOf("</g>", start));
  return body.match(/<(path|line|circle)\b[^>]*>/g) ?? [];
}

interface HeatRow {
  x: number;
  x2: number;
  y: number;
  y2: number;
  v: number;
}

const heatRows = (spec: VegaLiteSpec) => (spec["data"] as { values: HeatRow[] }).values;

test("heatmap: one row per cell in x-major order with the cell's edges and value; square cells", async () => {
  const nx = 8;
  const ny = 6;
  const xs = Float64Array.from({ length: nx }, (_, i) => -2 + 0.5 * i); // spacing 0.5, edges [-2.25, 1.75]
  const ys = Float64Array.from({ length: ny }, (_, j) => 10 + 0.5 * j); // edges [9.75, 12.75]
  const values = Float64Array.from({ length: nx * ny }, (_, k) => 100 * Math.floor(k / ny) + (k % ny));
  const spec = heatmapChart({ title: "log p", xs, ys, values, width: 160 });

  // Equal aspect: x spans 4 units, y spans 3 → 160 × 120 px (square cells of 20 px).
  assert.equal(spec["width"], 160);
  assert.equal(spec["height"], 120);
  const rows = heatRows(spec);
  assert.equal(rows.length, nx * ny);
  for (const [ix, iy] of [
    [0, 0],
    [3, 2],
    [7, 5],
    [5, 0],
  ]) {
    const r = rows[ix * ny + iy];
    assert.equal(r.v, 100 * ix + iy, `value of cell (${ix}, ${iy})`);
    assert.ok(Math.abs(r.x - (xs[ix] - 0.25)) < 1e-12 && Math.abs(r.y - (ys[iy] - 0.25)) < 1e-12);
    // Upper edges reach the next cell (plus a sub-pixel overlap against seams), except on the last ones.
    const overlap = 0.5 * (0.5 / 20); // half a pixel at 20 px per 0.5 units
    assert.ok(Math.abs(r.x2 - (xs[ix] + 0.25 + (ix < nx - 1 ? overlap : 0))) < 1e-12);
    assert.ok(Math.abs(r.y2 - (ys[iy] + 0.25 + (iy < ny - 1 ? overlap : 0))) < 1e-12);
  }
  const colorScale = (spec["encoding"] as { color: { scale: { domain: number[]; scheme: string } } }).color
    .scale;
  assert.deepEqual(colorScale.domain, [0, 705]);
  assert.equal(colorScale.scheme, "viridis");

  compiles(spec);
  const { svg, png } = await renderVegaLite(spec, { scale: 1 });
  const size = pngSize(png);
  assert.ok(size.width > 160 && size.width < 260, `width ${size.width}`);
  assert.ok(size.height > 120 && size.height < 200, `height ${size.height}`);
  assert.ok(hasText(svg, "log p"));
  assert.equal(markItems(svg, "mark-rect").length, nx * ny, "one rect per cell");
});

test("heatmap: −∞ takes the lowest colour, +∞ the highest, NaN cells are left out", async () => {
  const xs = [0, 1, 2];
  const ys = [0, 1];
  const values = [-Infinity, 1, 2, NaN, 4, Infinity];
  const fitted = heatRows(heatmapChart({ xs, ys, values }));
  assert.equal(fitted.length, 5, "NaN cell omitted");
  // The fitted colour range covers the finite values only: [1, 4].
  assert.deepEqual(
    fitted.map((r) => r.v),
    [1, 1, 2, 4, 4],
  );
  const spec = heatmapChart({ xs, ys, values, domain: [-10, 3], showLegend: true, legendTitle: "log p" });
  assert.deepEqual(
    heatRows(spec).map((r) => r.v),
    [-10, 1, 2, 4, 3],
  );
  // No cells at all are fine too (all NaN).
  compiles(heatmapChart({ xs, ys, values: values.map(() => NaN) }));

  const { svg, png } = await renderVegaLite(spec, { scale: 1 });
  pngSize(png);
  assert.ok(hasText(svg, "log p"), "legend title");
  assert.equal(markItems(svg, "mark-rect").length, 5);
  // The −∞ cell is drawn in viridis' first colour, the +∞ cell in its last.
  assert.match(svg, /fill="rgb\(68, 1, 84\)"/);
  assert.match(svg, /fill="rgb\(253, 231, 37\)"/);
});

test("heatmap: invalid input is rejected", () => {
  assert.throws(() => heatmapChart({ xs: [0, 1], ys: [0, 1], values: [1, 2, 3] }), /nx·ny = 4/);
  assert.throws(() => heatmapChart({ xs: [0, 0], ys: [0], values: [1, 2] }), /strictly increasing/);
  assert.throws(() => heatmapChart({ xs: [0], ys: [0], values: [1], domain: [1, 1] }), /lo < hi/);
});

test("scatter: deterministic thinning to every k-th point; non-finite points skipped", async () => {
  const n = 5000;
  const points = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    points[2 * i] = Math.cos(i);
    points[2 * i + 1] = 0.5 * Math.sin(1.7 * i);
  }
  const spec = scatterChart({ title: "data", points, width: 150 });
  const values = (spec["data"] as { values: { x: number; y: number }[] }).values;
  // Default maxPoints 2000 → stride ⌈5000 / 2000⌉ = 3 → points 0, 3, 6, …, 4998.
  assert.equal(values.length, 1667);
  for (const j of [0, 1, 500, 1666]) assert.deepEqual(values[j], { x: points[6 * j], y: points[6 * j + 1] });
  assert.deepEqual(scatterChart({ title: "data", points, width: 150 }), spec, "same input, same spec");
  assert.equal(
    (scatterChart({ points, maxPoints: 100 })["data"] as { values: unknown[] }).values.length,
    100,
  );
  assert.equal((scatterChart({ points, maxPoints: n })["data"] as { values: unknown[] }).values.length, n);
  const holes = scatterChart({ points: [0, 0, NaN, 1, 2, Infinity, 3, 3] });
  assert.deepEqual((holes["data"] as { values: unknown[] }).values, [
    { x: 0, y: 0 },
    { x: 3, y: 3 },
  ]);
  assert.throws(() => scatterChart({ points: [1, 2, 3] }), /n × 2/);

  // Given domains fix the aspect: [-2, 2] × [-1, 1] at width 150 → height 75.
  const boxed = scatterChart({ points, width: 150, xDomain: [-2, 2], yDomain: [-1, 1] });
  assert.equal(boxed["height"], 75);
  compiles(boxed);
  const { svg, png } = await renderVegaLite(spec, { scale: 1 });
  pngSize(png);
  assert.ok(hasText(svg, "data"));
  assert.equal(markItems(svg, "mark-symbol").length, 1667);
});

const MODES = ["mode 1", "mode 2", "mode 3", "mode 4"];
const MASS_SERIES = [
  { name: "true", values: [0.1, 0.2, 0.3, 0.4] },
  { name: "CD", values: [0.25, 0.25, 0.25, 0.25], errors: [0.02, 0.02, 0.03, 0.02] },
  { name: "PCD", values: [0.4, 0.2, 0.2, 0.2], errors: [0.03, 0.02, 0.02, 0.02] },
  { name: "Jarzynski", values: [0.11, 0.19, 0.31, 0.39], errors: [0.01, 0.01, 0.02, 0.01] },
];

test("mass bars: one bar per (mode, series), ±1 SE whiskers in the data and the legend", async () => {
  const spec = massBarChart({ title: "mode masses", groups: MODES, series: MASS_SERIES });
  const layers = spec["layer"] as { data: { values: Record<string, number | string>[] } }[];
  assert.equal(layers.length, 2);
  const bars = layers[0].data.values;
  const whiskers = layers[1].data.values;
  assert.equal(bars.length, 16);
  assert.equal(whiskers.length, 12, "no whiskers for the error-free 'true' series");
  const pcd3 = whiskers.find((w) => w["series"] === "PCD" && w["group"] === "mode 3")!;
  assert.deepEqual(pcd3, {
    group: "mode 3",
    series: "PCD",
    value: 0.2,
    error: 0.02,
    lo: 0.2 - 0.02,
    hi: 0.22,
  });

  const twoSe = massBarChart({ groups: MODES, series: MASS_SERIES, errorScale: 2 });
  const w2 = (twoSe["layer"] as typeof layers)[1].data.values[0];
  assert.ok(Math.abs((w2["hi"] as number) - (w2["lo"] as number) - 4 * (w2["error"] as number)) < 1e-12);

  compiles(spec);
  const { svg, png } = await renderVegaLite(spec, { scale: 1 });
  const size = pngSize(png);
  assert.ok(size.width > 240 && size.width < 500, `width ${size.width}`);
  for (const t of ["mode masses", "error bars: ± 1 SE", "true", "CD", "PCD", "Jarzynski", "mode 4", "mass"]) {
    assert.ok(hasText(svg, t), `SVG draws "${t}"`);
  }
  assert.equal(markItems(svg, "mark-rect").length, 16, "bars");
  assert.equal(markItems(svg, "mark-rule").length, 12, "whiskers");
  const twoSeSvg = (await renderVegaLite(twoSe, { scale: 1 })).svg;
  assert.ok(hasText(twoSeSvg, "error bars: ± 2 SE"));

  assert.throws(() => massBarChart({ groups: MODES, series: [{ name: "a", values: [1] }] }), /1 values/);
});

/** The figure of a 2-D training experiment: 4 data sets × (data | true | CD | PCD | Jarzynski | masses). */
function experimentRows(n: number, width: number): VegaLiteSpec[][] {
  const L = 4;
  const xs = Float64Array.from({ length: n }, (_, i) => -L + (2 * L * (i + 0.5)) / n);
  const box: [number, number] = [-L, L];
  const centres = [
    [-2, -2],
    [2, -2],
    [-2, 2],
    [2, 2],
  ];
  const heat = (w: number[], s: number) => {
    const values = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let p = 0;
        centres.forEach(([cx, cy], k) => {
          p += w[k] * Math.exp(-((xs[i] - cx) ** 2 + (xs[j] - cy) ** 2) / (2 * s * s));
        });
        values[i * n + j] = Math.log(p); // −∞ far out for small s: drawn in the lowest colour
      }
    return heatmapChart({ xs, ys: xs, values, width, domain: [-12, 0], xDomain: box, yDomain: box });
  };
  return [0, 1, 2, 3].map((d) => {
    const w = [0.1 + 0.1 * d, 0.2, 0.3, 0.4 - 0.1 * d];
    const points = new Float64Array(2 * 3000);
    for (let i = 0; i < 3000; i++) {
      const k = i % 4;
      points[2 * i] = centres[k][0] + 0.5 * Math.cos(2.4 * i) * Math.sqrt((i % 97) / 97);
      points[2 * i + 1] = centres[k][1] + 0.5 * Math.sin(2.4 * i) * Math.sqrt((i % 97) / 97);
    }
    return [
      scatterChart({ points, width, xDomain: box, yDomain: box }),
      heat(w, 0.5),
      heat([0.25, 0.25, 0.25, 0.25], 0.6),
      heat([0.4, 0.2, 0.2, 0.2], 0.15),
      heat(w, 0.52),
      massBarChart({ groups: MODES, series: MASS_SERIES, width, height: width, showLegend: d === 0 }),
    ];
  });
}

const COLUMNS = ["data", "true density", "CD", "PCD", "Jarzynski", "mode masses"];
const DATA_SETS = ["four Gaussians", "set B", "set C", "set D"];

test("grid figure: 4 data sets × 6 columns with 64×64 heatmaps renders in a few seconds", async (t) => {
  const rows = experimentRows(64, 150);
  const spec = gridFigure(rows, { title: "2-D EBM training", rowTitles: DATA_SETS, columnTitles: COLUMNS });
  assert.equal(spec["columns"], 7, "row-title column + 6 panels");
  compiles(spec);

  const t0 = performance.now();
  const { svg, png } = await renderVegaLite(spec);
  const ms = performance.now() - t0;
  t.diagnostic(`4×6 figure (20 heatmaps of 64×64) rendered in ${ms.toFixed(0)} ms, PNG ${png.length} B`);
  // Generous bound: a few seconds on an idle machine; the test machine's cores may be shared.
  assert.ok(ms < 20000, `render took ${ms.toFixed(0)} ms`);

  const size = pngSize(png);
  // Scale 2: 6 panels of 150 px + row titles, axes, spacing and one legend across; 4 rows + titles down.
  assert.ok(size.width > 2 * 6 * 150 && size.width < 2 * 1600, `width ${size.width}`);
  assert.ok(size.height > 2 * 4 * 150 && size.height < 2 * 1000, `height ${size.height}`);
  for (const text of [...COLUMNS, ...DATA_SETS, "2-D EBM training", "error bars: ± 1 SE"]) {
    assert.ok(hasText(svg, text), `SVG draws "${text}"`);
  }
  assert.equal(svg.split(">Jarzynski</text>").length - 1, 2, "column title + the one legend entry");
});

test("panels with columns: 6 lays out the same 24 mixed panels (empty titles reserve no space)", () => {
  const rows = experimentRows(8, 150);
  const flat = rows.flat().map((c, i) => ({ ...c, ...(i < 6 ? { title: COLUMNS[i] } : {}) }));
  const spec = panels(flat, { columns: 6 });
  assert.equal((spec["concat"] as unknown[]).length, 24);
  compiles(spec);
  assert.ok(!("title" in heatmapChart({ title: "", xs: [0], ys: [0], values: [1] })));

  // Ragged rows are padded with blank cells; titles must match the grid's shape.
  const ragged = gridFigure([rows[0], rows[1].slice(0, 4)]);
  assert.equal((ragged["concat"] as unknown[]).length, 12);
  compiles(ragged);
  assert.throws(() => gridFigure(rows, { rowTitles: ["a"] }), /1 row titles for 4 rows/);
});
