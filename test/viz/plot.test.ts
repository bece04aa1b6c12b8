/**
 * Figure rendering: Vega-Lite specs from the chart builders render offline to SVG + PNG, with the expected
 * text, plausible image size and byte-identical output for identical input.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { histogramChart, lineChart, panels, renderVegaLite } from "../../src/viz/index.ts";

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Checks the PNG signature and reads width/height from the IHDR chunk (the first 24 bytes). */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.ok(png.length > 24, "PNG too short");
  assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE, "PNG signature");
  assert.equal(png.readUInt32BE(8), 13, "IHDR length");
  assert.equal(png.toString("latin1", 12, 16), "IHDR");
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

function svgSize(svg: string): { width: number; height: number } {
  const m = svg.match(/^<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/);
  assert.ok(m, "SVG root has width/height");
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** True if the SVG draws `text` as the content of a <text> element (not just in an aria label). */
function hasText(svg: string, text: string): boolean {
  return svg.includes(`>${text}</text>`);
}

const ITERS = Array.from({ length: 41 }, (_, i) => i * 50);

function trainingFigure() {
  const curve = (target: number, rate: number) =>
    ITERS.map((t) => ({ x: t, y: 0.5 + (target - 0.5) * (1 - Math.exp(-t / rate)) + 0.01 * Math.sin(t) }));
  const q = lineChart({
    title: "mode weight q over training",
    x: { field: "iteration" },
    y: { field: "q", title: "mode weight q", domain: [0, 1] },
    series: [
      { name: "score_matching", points: curve(0.5, 100) },
      { name: "cd", points: curve(0.6, 400) },
      { name: "pcd", points: curve(0.7, 500) },
      { name: "jarzynski", points: curve(0.8, 300) },
    ],
    hline: { y: 0.8, label: "target q* = 0.8" },
    width: 240,
    height: 140,
  });
  const logZ = lineChart({
    title: "log Z: Jarzynski estimate vs exact",
    x: { field: "iteration" },
    y: { field: "logZ", title: "log Z" },
    series: [
      {
        name: "Jarzynski estimate",
        points: ITERS.map((t) => ({ x: t, y: 2 - Math.exp(-t / 300) + 0.02 * Math.cos(t) })),
      },
      { name: "exact", points: ITERS.map((t) => ({ x: t, y: 2 - Math.exp(-t / 300) })), dash: true },
    ],
    width: 240,
    height: 140,
  });
  return panels([q, logZ], { columns: 1 });
}

test("two-panel line chart renders to PNG + SVG with titles, legend labels and reference line", async () => {
  const { svg, png } = await renderVegaLite(trainingFigure(), { scale: 1 });
  const size = pngSize(png);
  const vb = svgSize(svg);
  assert.equal(size.width, Math.round(vb.width));
  assert.equal(size.height, Math.round(vb.height));
  // Two stacked 240×140 panels plus axes, titles and a right-hand legend.
  assert.ok(size.width > 300 && size.width < 900, `width ${size.width}`);
  assert.ok(size.height > 300 && size.height < 700, `height ${size.height}`);

  for (const t of ["mode weight q over training", "log Z: Jarzynski estimate vs exact", "target q* = 0.8"]) {
    assert.ok(hasText(svg, t), `SVG draws "${t}"`);
  }
  for (const label of ["score_matching", "cd", "pcd", "jarzynski", "Jarzynski estimate", "exact"]) {
    assert.ok(hasText(svg, label), `legend label "${label}"`);
  }
  assert.ok(hasText(svg, "mode weight q") && hasText(svg, "iteration"), "axis titles");
  assert.match(svg, /font-family="DejaVu Sans"/);
  assert.match(svg, /stroke-dasharray="6,4"/, "dashed 'exact' series");
});

test("rendering is deterministic and `scale` multiplies the pixel size", async () => {
  const spec = trainingFigure();
  const a = await renderVegaLite(spec, { scale: 1 });
  const b = await renderVegaLite(spec, { scale: 1 });
  assert.equal(a.svg, b.svg);
  assert.ok(a.png.equals(b.png), "identical PNG bytes");
  const c = await renderVegaLite(spec, { scale: 2 });
  const s1 = pngSize(a.png);
  const s2 = pngSize(c.png);
  assert.equal(s2.width, 2 * s1.width);
  assert.equal(s2.height, 2 * s1.height);
});

test("histogram with exact density overlay renders, and bar heights integrate to 1", async () => {
  const samples: number[] = [];
  for (let i = 0; i < 2000; i++)
    samples.push(Math.sqrt(-2 * Math.log((i + 0.5) / 2000)) * Math.cos(i * 2.399963));
  const density = Array.from({ length: 121 }, (_, i) => {
    const x = -4 + i / 15;
    return { x, y: Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI) };
  });
  const spec = histogramChart({
    title: "walker samples vs model density",
    samples,
    density,
    bins: 30,
    domain: [-6, 6],
    xTitle: "x1",
  });

  const bars = (spec["layer"] as { data: { values: { x0: number; x1: number; density: number }[] } }[])[0]
    .data.values;
  assert.equal(bars.length, 30);
  const mass = bars.reduce((s, b) => s + b.density * (b.x1 - b.x0), 0);
  assert.ok(Math.abs(mass - 1) < 1e-12, `histogram mass ${mass}`);

  const { svg, png } = await renderVegaLite(spec, { scale: 1 });
  const size = pngSize(png);
  assert.ok(size.width > 360 && size.width < 700, `width ${size.width}`);
  assert.ok(size.height > 220 && size.height < 400, `height ${size.height}`);
  for (const t of ["walker samples vs model density", "samples", "exact density", "x1", "density"]) {
    assert.ok(hasText(svg, t), `SVG draws "${t}"`);
  }
});

test("external data is refused (rendering never touches the network)", async () => {
  const spec = { data: { url: "https://example.com/data.json" }, mark: "point" };
  await assert.rejects(renderVegaLite(spec), /not allowed/);
});
