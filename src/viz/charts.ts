/**
 * Vega-Lite spec builders for the project's figures: multi-series line charts (training curves with a
 * reference line and optional vertical event rules, e.g. resamplings), 1-D sample histograms with an
 * exact-density overlay, 2-D density heatmaps and sample scatter plots, grouped bars with error whiskers
 * (per-mode masses), and multi-panel layouts (a wrapping list of panels, or a grid with row/column labels).
 * Specs are plain JSON objects with inline data; render them with `renderVegaLite` (./render.ts).
 */

/** A Vega-Lite spec as a plain JSON object (typed loosely: these builders emit only inline-data specs). */
export type VegaLiteSpec = Record<string, unknown>;

export interface Point {
  x: number;
  y: number;
}

export interface Series {
  /** Legend label; series keep the order given here (and their colour follows that order). */
  name: string;
  points: Point[];
  /** Draw this series dashed (e.g. an exact reference curve). */
  dash?: boolean;
}

export interface AxisOptions {
  /** Field name used in the inline data (and shown in tooltips / the SVG's aria text). */
  field: string;
  /** Axis title; defaults to `field`. */
  title?: string;
}

export interface YAxisOptions extends AxisOptions {
  /** Fixed axis range; values outside are clipped. Default: fitted to the data (not forced to include 0). */
  domain?: [number, number];
  /** Default "linear". With "log", non-positive y values are dropped (they break the line there). */
  scale?: "linear" | "log";
}

export interface XAxisOptions extends AxisOptions {
  domain?: [number, number];
}

export interface ReferenceLine {
  y: number;
  /** Drawn just right of the plot area at the line's height (clear of the data), e.g. "q* = 0.8". */
  label: string;
}

/** Vertical rules at given x positions (events such as resamplings), one legend entry for all. */
export interface EventRules {
  /** x positions; non-finite ones are dropped. */
  x: number[];
  /** Legend label of the rules, e.g. "resampling". Must differ from the series names. */
  label: string;
}

export interface LineChartOptions {
  title?: string;
  x: XAxisOptions;
  y: YAxisOptions;
  series: Series[];
  /** Plot-area size in px (default 360 × 220). */
  width?: number;
  height?: number;
  /** Horizontal reference line, drawn dashed in grey with its label. */
  hline?: ReferenceLine;
  /** Title over the colour legend (default: none). */
  legendTitle?: string;
  /** Thin translucent vertical rules drawn behind the lines, with their own entry in the colour legend. */
  rules?: EventRules;
}

const RULE_COLOR = "#d62728";
const RULE_OPACITY = 0.35;

export interface HistogramOptions {
  title?: string;
  /** The 1-D samples (e.g. one coordinate of the walkers). Non-finite values are ignored. */
  samples: ArrayLike<number>;
  /** Number of equal-width bins over `domain` (default 40). */
  bins?: number;
  /**
   * Binning range [lo, hi]. Default: the sample range, widened to cover the density curve's x range.
   * Samples outside are not drawn but still count in the normalisation, so bar heights stay comparable
   * with a density that integrates to 1 over the whole line.
   */
  domain?: [number, number];
  /** Exact density p(x) to overlay as a curve (x, density) — should integrate to 1 like the histogram. */
  density?: Point[];
  /** Axis titles (defaults "x" and "density"). */
  xTitle?: string;
  yTitle?: string;
  /** Legend labels (defaults "samples" and "exact density"). */
  sampleLabel?: string;
  densityLabel?: string;
  width?: number;
  height?: number;
}

export interface PanelOptions {
  /**
   * Panels per row. Omitted: a single row (hconcat); 1: a single column (vconcat); otherwise a grid that
   * wraps after `columns` panels.
   */
  columns?: number;
  /** Overall figure title. */
  title?: string;
}

const DEFAULT_WIDTH = 360;
const DEFAULT_HEIGHT = 220;
const SERIES_FIELD = "series";
const REFERENCE_COLOR = "#777777";
const REFERENCE_FONT_SIZE = 11;
/** Colours in series order (Tableau 10, Vega-Lite's default categorical scheme). */
const PALETTE = [
  "#4c78a8",
  "#f58518",
  "#e45756",
  "#72b7b2",
  "#54a24b",
  "#eeca3b",
  "#b279a2",
  "#ff9da6",
  "#9d755d",
  "#bab0ac",
];

/** Escapes a field name so Vega-Lite does not read "." or "[" in it as nested access. */
function fieldRef(name: string): string {
  return name.replace(/([.[\]\\])/g, "\\$1");
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** An empty title is no title (no space is reserved for it). */
function titleSpec(title: string | undefined): Record<string, unknown> {
  return title ? { title: { text: title } } : {};
}

/** Several named series against a shared x, with a colour legend and an optional dashed reference line. */
export function lineChart(opts: LineChartOptions): VegaLiteSpec {
  const { x, y, series } = opts;
  if (x.field === SERIES_FIELD || y.field === SERIES_FIELD || x.field === y.field) {
    throw new Error(`lineChart: x/y fields must differ from each other and from "${SERIES_FIELD}"`);
  }
  const log = y.scale === "log";
  const names = series.map((s) => s.name);
  if (new Set(names).size !== names.length) throw new Error("lineChart: series names must be unique");
  const rules = opts.rules;
  if (rules && names.includes(rules.label))
    throw new Error("lineChart: the rules' label must differ from the series names");

  const values: Record<string, string | number | null>[] = [];
  for (const s of series) {
    for (const p of s.points) {
      // Invalid y becomes null, which breaks the line rather than dropping the point silently into a join.
      const yv = log && !(p.y > 0) ? null : finiteOrNull(p.y);
      if (!Number.isFinite(p.x)) continue;
      values.push({ [x.field]: p.x, [y.field]: yv, [SERIES_FIELD]: s.name });
    }
  }

  // Not forced through 0: training curves and log Z values live far from it. (Log scales have no "zero".)
  const yScale: Record<string, unknown> = log ? { type: "log" } : { type: "linear", zero: false };
  if (y.domain) Object.assign(yScale, { domain: y.domain, clamp: true, nice: false });
  const xScale: Record<string, unknown> = { zero: false, nice: false };
  if (x.domain) Object.assign(xScale, { domain: x.domain, clamp: true });

  // The reference label sits right of the plot area; vega does not move the legend for free-standing marks,
  // so push it right by an estimate of the label's width: DejaVu Sans averages ~0.6 em per char.
  const legend = {
    title: opts.legendTitle ?? null,
    symbolType: "stroke",
    symbolStrokeWidth: 2.5,
    labelLimit: 260,
    // Full-strength symbols even when the translucent rules share the legend.
    symbolOpacity: 1,
    offset: opts.hline ? 18 + Math.ceil(0.6 * REFERENCE_FONT_SIZE * opts.hline.label.length) : 18,
  };
  // The rules' label joins the colour scale (after the series), so the legend shows it as one more entry.
  const colorDomain = rules ? [...names, rules.label] : names;
  const colorRange = names.map((_, i) => PALETTE[i % PALETTE.length]);
  if (rules) colorRange.push(RULE_COLOR);
  const colorScale = { domain: colorDomain, range: colorRange };
  const encoding: Record<string, unknown> = {
    x: { field: fieldRef(x.field), type: "quantitative", title: x.title ?? x.field, scale: xScale },
    y: { field: fieldRef(y.field), type: "quantitative", title: y.title ?? y.field, scale: yScale },
    color: { field: SERIES_FIELD, type: "nominal", sort: null, scale: colorScale, legend },
  };
  if (series.some((s) => s.dash)) {
    // Same field and legend settings as colour → Vega-Lite merges both into one legend showing the dashes.
    const dashes = series.map((s) => (s.dash ? [6, 4] : [1, 0]));
    if (rules) dashes.push([1, 0]);
    encoding["strokeDash"] = {
      field: SERIES_FIELD,
      type: "nominal",
      sort: null,
      scale: { domain: colorDomain, range: dashes },
      legend,
    };
  }

  const layers: VegaLiteSpec[] = [];
  if (rules) {
    layers.push({
      data: {
        values: rules.x.filter(Number.isFinite).map((v) => ({ [x.field]: v, [SERIES_FIELD]: rules.label })),
      },
      mark: { type: "rule", strokeWidth: 1, opacity: RULE_OPACITY, clip: true },
      encoding: {
        x: { field: fieldRef(x.field), type: "quantitative", scale: xScale },
        color: { field: SERIES_FIELD, type: "nominal", sort: null, scale: colorScale, legend },
      },
    });
  }
  layers.push({
    data: { values },
    mark: { type: "line", strokeWidth: 2, clip: true, interpolate: "linear" },
    encoding,
  });
  if (opts.hline) {
    const { y: yRef, label } = opts.hline;
    const yDatum = { datum: yRef, type: "quantitative" };
    layers.push(
      {
        // A one-row data source: a layer without data of its own draws nothing here (no top-level data).
        data: { values: [{}] },
        mark: { type: "rule", color: REFERENCE_COLOR, strokeDash: [5, 4], strokeWidth: 1.5 },
        encoding: { y: yDatum },
      },
      {
        data: { values: [{}] },
        mark: {
          type: "text",
          text: label,
          align: "left",
          baseline: "middle",
          dx: 5,
          fontSize: REFERENCE_FONT_SIZE,
          color: "#555555",
        },
        encoding: { y: yDatum, x: { value: "width" } },
      },
    );
  }

  return {
    ...titleSpec(opts.title),
    width: opts.width ?? DEFAULT_WIDTH,
    height: opts.height ?? DEFAULT_HEIGHT,
    layer: layers,
  };
}

/** Density-normalised histogram of 1-D samples, optionally with the exact density drawn over it. */
export function histogramChart(opts: HistogramOptions): VegaLiteSpec {
  const bins = opts.bins ?? 40;
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`histogramChart: bins must be a positive integer`);
  const n = opts.samples.length;
  let count = 0;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const v = opts.samples[i];
    if (!Number.isFinite(v)) continue;
    count++;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (opts.domain) [lo, hi] = opts.domain;
  else
    for (const p of opts.density ?? []) {
      if (!Number.isFinite(p.x)) continue;
      if (p.x < lo) lo = p.x;
      if (p.x > hi) hi = p.x;
    }
  if (!(lo < hi)) {
    // Empty or degenerate sample: centre a unit-width window on it so the chart still renders.
    const c = Number.isFinite(lo) ? lo : 0;
    lo = c - 0.5;
    hi = c + 0.5;
  }

  const width = (hi - lo) / bins;
  const counts = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const v = opts.samples[i];
    if (!Number.isFinite(v) || v < lo || v > hi) continue;
    counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
  }
  const sampleLabel = opts.sampleLabel ?? "samples";
  const densityLabel = opts.densityLabel ?? "exact density";
  const barValues = Array.from(counts, (c, i) => ({
    x0: lo + i * width,
    x1: lo + (i + 1) * width,
    density: count > 0 ? c / (count * width) : 0,
  }));

  const xScale = { domain: [lo, hi], nice: false, zero: false };
  const color = (label: string) => ({
    datum: label,
    type: "nominal",
    scale: {
      domain: opts.density ? [sampleLabel, densityLabel] : [sampleLabel],
      range: ["#9ecae9", "#e45756"],
    },
    legend: { title: null, labelLimit: 260 },
  });

  const layers: VegaLiteSpec[] = [
    {
      data: { values: barValues },
      mark: { type: "rect", stroke: "#4c78a8", strokeWidth: 0.5, strokeOpacity: 0.8 },
      encoding: {
        x: { field: "x0", type: "quantitative", title: opts.xTitle ?? "x", scale: xScale },
        x2: { field: "x1" },
        y: {
          field: "density",
          type: "quantitative",
          title: opts.yTitle ?? "density",
          // An empty sample would otherwise give a degenerate [0, 0] axis.
          scale: count > 0 || opts.density ? { zero: true } : { domain: [0, 1] },
        },
        y2: { datum: 0 },
        color: color(sampleLabel),
      },
    },
  ];
  if (opts.density) {
    layers.push({
      data: {
        values: opts.density
          .filter((p) => Number.isFinite(p.x))
          .map((p) => ({ x: p.x, density: finiteOrNull(p.y) })),
      },
      mark: { type: "line", strokeWidth: 2, clip: true },
      encoding: {
        x: { field: "x", type: "quantitative", scale: xScale },
        y: { field: "density", type: "quantitative" },
        color: color(densityLabel),
      },
    });
  }

  return {
    ...titleSpec(opts.title),
    width: opts.width ?? DEFAULT_WIDTH,
    height: opts.height ?? DEFAULT_HEIGHT,
    layer: layers,
  };
}

// ---------------------------------------------------------------------------------------------------------
// 2-D figures: density heatmaps, sample scatter plots and per-mode mass bars (the grid figure of a 2-D EBM
// training experiment: rows = data sets; columns = data, true density, one model density per method, and
// the mode masses).
// ---------------------------------------------------------------------------------------------------------

/** Longer side (px) of a 2-D panel whose width and height are both left to the builder. */
const DEFAULT_PANEL_SIZE = 200;

/**
 * Plot-area size with equal aspect (one data unit is as long on x as on y) for data ranges `xRange` ×
 * `yRange`: both sizes given → used as given; one given → the other follows from the aspect; none → the
 * longer side is DEFAULT_PANEL_SIZE.
 */
function equalAspectSize(
  xRange: number,
  yRange: number,
  width: number | undefined,
  height: number | undefined,
): { width: number; height: number } {
  const aspect = xRange > 0 && yRange > 0 && Number.isFinite(xRange / yRange) ? yRange / xRange : 1;
  if (width !== undefined && height !== undefined) return { width, height };
  if (width !== undefined) return { width, height: Math.max(1, Math.round(width * aspect)) };
  if (height !== undefined) return { width: Math.max(1, Math.round(height / aspect)), height };
  return aspect <= 1
    ? { width: DEFAULT_PANEL_SIZE, height: Math.max(1, Math.round(DEFAULT_PANEL_SIZE * aspect)) }
    : { width: Math.max(1, Math.round(DEFAULT_PANEL_SIZE / aspect)), height: DEFAULT_PANEL_SIZE };
}

function checkDomain(name: string, d: [number, number] | undefined): void {
  if (d !== undefined && !(Number.isFinite(d[0]) && Number.isFinite(d[1]) && d[0] < d[1])) {
    throw new Error(`${name} must be finite [lo, hi] with lo < hi, got [${d.join(", ")}]`);
  }
}

/** Cell edges (n + 1) around strictly increasing cell centres: midpoints, the ends half a spacing out. */
function cellEdges(centres: ArrayLike<number>, name: string): Float64Array {
  const n = centres.length;
  if (n === 0) throw new Error(`heatmapChart: ${name} is empty`);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(centres[i])) throw new Error(`heatmapChart: ${name}[${i}] is not finite`);
    if (i > 0 && !(centres[i] > centres[i - 1]))
      throw new Error(`heatmapChart: ${name} must be strictly increasing`);
  }
  const edges = new Float64Array(n + 1);
  if (n === 1) {
    edges[0] = centres[0] - 0.5;
    edges[1] = centres[0] + 0.5;
    return edges;
  }
  for (let i = 1; i < n; i++) edges[i] = 0.5 * (centres[i - 1] + centres[i]);
  edges[0] = centres[0] - 0.5 * (centres[1] - centres[0]);
  edges[n] = centres[n - 1] + 0.5 * (centres[n - 1] - centres[n - 2]);
  return edges;
}

/** Axis settings shared by the small 2-D panels: few ticks, no grid, optional title. */
function compactAxis(title: string | undefined, show: boolean): Record<string, unknown> | null {
  return show ? { title: title ?? null, grid: false, tickCount: 5, labelFlush: true } : null;
}

export interface HeatmapOptions {
  title?: string;
  /** Cell centres along x (nx values, strictly increasing; need not be evenly spaced). */
  xs: ArrayLike<number>;
  /** Cell centres along y (ny values, strictly increasing). */
  ys: ArrayLike<number>;
  /**
   * nx·ny cell values, x-major: cell (ix, iy) at `ix * ny + iy` (e.g. a log density on a grid). −∞ draws
   * as the lowest colour and +∞ as the highest; NaN cells are left out (the background shows through).
   */
  values: ArrayLike<number>;
  /**
   * Plot-area size in px. Default: equal aspect (square cells when the x and y spacings are equal) with the
   * longer side 200 px; give one of them to scale the other by the aspect, both to override it.
   */
  width?: number;
  height?: number;
  /** Colour range [lo, hi]; values outside clamp to the end colours. Default: the finite values' range. */
  domain?: [number, number];
  /** Vega colour scheme name (default "viridis"). */
  scheme?: string;
  /** Draw the colour-bar legend (default false). */
  showLegend?: boolean;
  /** Title over the colour bar (default none). */
  legendTitle?: string;
  /** Axis ranges; cells outside are clipped. Default: the outer cell edges. */
  xDomain?: [number, number];
  yDomain?: [number, number];
  /** Axis titles (default none: grid figures label rows and columns instead). */
  xTitle?: string;
  yTitle?: string;
  /** Draw the axes (default true). */
  axes?: boolean;
}

/**
 * Overlap (px) of each cell over its right and upper neighbours. Anti-aliased edges of abutting rects let
 * the background show through as faint seams; overlapping by a fraction of a pixel hides them (each cell is
 * drawn over by the next, so the visible cell boundaries stay where they belong).
 */
const CELL_OVERLAP_PX = 0.5;

/**
 * A heatmap of values on a rectilinear grid (one rect per cell, no gaps), e.g. a model's log density
 * over a 2-D box. Data rows are `{ x, x2, y, y2, v }` in x-major cell order (NaN cells omitted): cell edges
 * (x2 and y2 extended by the sub-pixel overlap, except on the last column/row) and the value, ±∞ already
 * replaced by the colour range's ends.
 */
export function heatmapChart(opts: HeatmapOptions): VegaLiteSpec {
  const nx = opts.xs.length;
  const ny = opts.ys.length;
  if (opts.values.length !== nx * ny) {
    throw new Error(`heatmapChart: values has ${opts.values.length} entries, expected nx·ny = ${nx * ny}`);
  }
  const xe = cellEdges(opts.xs, "xs");
  const ye = cellEdges(opts.ys, "ys");
  checkDomain("heatmapChart: xDomain", opts.xDomain);
  checkDomain("heatmapChart: yDomain", opts.yDomain);
  checkDomain("heatmapChart: domain", opts.domain);
  const xDomain = opts.xDomain ?? [xe[0], xe[nx]];
  const yDomain = opts.yDomain ?? [ye[0], ye[ny]];
  const { width, height } = equalAspectSize(
    xDomain[1] - xDomain[0],
    yDomain[1] - yDomain[0],
    opts.width,
    opts.height,
  );

  let lo: number;
  let hi: number;
  if (opts.domain) [lo, hi] = opts.domain;
  else {
    lo = Number.POSITIVE_INFINITY;
    hi = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < opts.values.length; i++) {
      const v = opts.values[i];
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!(lo <= hi)) [lo, hi] = [0, 1];
    else if (lo === hi) [lo, hi] = [lo - 0.5, hi + 0.5];
  }

  // Overlap in data units; the last column/row is not extended (it would poke out of the grid's box).
  const dx = (CELL_OVERLAP_PX * (xDomain[1] - xDomain[0])) / width;
  const dy = (CELL_OVERLAP_PX * (yDomain[1] - yDomain[0])) / height;
  const rows: { x: number; x2: number; y: number; y2: number; v: number }[] = [];
  for (let ix = 0; ix < nx; ix++) {
    const x = xe[ix];
    const x2 = ix < nx - 1 ? xe[ix + 1] + dx : xe[ix + 1];
    for (let iy = 0; iy < ny; iy++) {
      let v = opts.values[ix * ny + iy];
      if (Number.isNaN(v)) continue;
      if (v === Number.NEGATIVE_INFINITY) v = lo;
      else if (v === Number.POSITIVE_INFINITY) v = hi;
      rows.push({ x, x2, y: ye[iy], y2: iy < ny - 1 ? ye[iy + 1] + dy : ye[iy + 1], v });
    }
  }

  const showAxes = opts.axes ?? true;
  const legend = opts.showLegend
    ? { title: opts.legendTitle ?? null, gradientLength: Math.max(40, height - 10), gradientThickness: 10 }
    : null;
  return {
    ...titleSpec(opts.title),
    width,
    height,
    data: { values: rows },
    // aria: false drops the per-cell aria-label (a formatted description of every datum): with thousands of
    // cells it dominated encoding time and SVG size.
    mark: { type: "rect", clip: true, aria: false },
    encoding: {
      x: {
        field: "x",
        type: "quantitative",
        scale: { domain: xDomain, nice: false, zero: false },
        axis: compactAxis(opts.xTitle, showAxes),
      },
      x2: { field: "x2" },
      y: {
        field: "y",
        type: "quantitative",
        scale: { domain: yDomain, nice: false, zero: false },
        axis: compactAxis(opts.yTitle, showAxes),
      },
      y2: { field: "y2" },
      color: {
        field: "v",
        type: "quantitative",
        scale: { scheme: opts.scheme ?? "viridis", domain: [lo, hi], clamp: true, nice: false, zero: false },
        legend,
      },
    },
  };
}

export interface ScatterOptions {
  title?: string;
  /** n points, row-major n × 2: point i at (points[2i], points[2i+1]). Non-finite points are skipped. */
  points: ArrayLike<number>;
  /**
   * At most this many points are drawn (default 2000): with n > maxPoints, every k-th point from the first,
   * k = ⌈n / maxPoints⌉ (deterministic; ordered samples are thinned evenly over their order).
   */
  maxPoints?: number;
  /**
   * Plot-area size in px; as for heatmapChart, equal aspect by default (over the axis domains, or the data's
   * range where a domain is not given), longer side 200 px.
   */
  width?: number;
  height?: number;
  /** Axis ranges; points outside are clipped. Default: the (thinned) points' range plus a 3% margin. */
  xDomain?: [number, number];
  yDomain?: [number, number];
  /** Point area in px² (default 6). */
  size?: number;
  /** Point opacity (default 0.4: dense regions read darker). */
  opacity?: number;
  /** Point colour (default the first series colour, "#4c78a8"). */
  color?: string;
  /** Axis titles (default none). */
  xTitle?: string;
  yTitle?: string;
  /** Draw the axes (default true). */
  axes?: boolean;
}

/** A scatter plot of 2-D samples (e.g. a data set), thinned deterministically to at most `maxPoints`. */
export function scatterChart(opts: ScatterOptions): VegaLiteSpec {
  if (opts.points.length % 2 !== 0) throw new Error("scatterChart: points must hold n × 2 values");
  const maxPoints = opts.maxPoints ?? 2000;
  if (!Number.isInteger(maxPoints) || maxPoints < 1)
    throw new Error("scatterChart: maxPoints must be a positive integer");
  checkDomain("scatterChart: xDomain", opts.xDomain);
  checkDomain("scatterChart: yDomain", opts.yDomain);
  const n = opts.points.length / 2;
  const stride = n > maxPoints ? Math.ceil(n / maxPoints) : 1;
  const values: Point[] = [];
  const ext = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < n; i += stride) {
    const x = opts.points[2 * i];
    const y = opts.points[2 * i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    values.push({ x, y });
    if (x < ext[0]) ext[0] = x;
    if (x > ext[1]) ext[1] = x;
    if (y < ext[2]) ext[2] = y;
    if (y > ext[3]) ext[3] = y;
  }
  // Fitted domains get a 3% margin so that the extreme points are not cut in half by the clip.
  const fit = (lo: number, hi: number): [number, number] =>
    lo < hi
      ? [lo - 0.03 * (hi - lo), hi + 0.03 * (hi - lo)]
      : Number.isFinite(lo)
        ? [lo - 0.5, lo + 0.5]
        : [0, 1];
  const xDomain = opts.xDomain ?? fit(ext[0], ext[1]);
  const yDomain = opts.yDomain ?? fit(ext[2], ext[3]);
  const { width, height } = equalAspectSize(
    xDomain[1] - xDomain[0],
    yDomain[1] - yDomain[0],
    opts.width,
    opts.height,
  );
  const showAxes = opts.axes ?? true;
  return {
    ...titleSpec(opts.title),
    width,
    height,
    data: { values },
    mark: {
      type: "circle",
      clip: true,
      aria: false,
      size: opts.size ?? 6,
      opacity: opts.opacity ?? 0.4,
      color: opts.color ?? PALETTE[0],
    },
    encoding: {
      x: {
        field: "x",
        type: "quantitative",
        scale: { domain: xDomain, nice: false, zero: false },
        axis: compactAxis(opts.xTitle, showAxes),
      },
      y: {
        field: "y",
        type: "quantitative",
        scale: { domain: yDomain, nice: false, zero: false },
        axis: compactAxis(opts.yTitle, showAxes),
      },
    },
  };
}

export interface MassSeries {
  /** Legend label, e.g. "true", "CD", "PCD", "Jarzynski". Series keep their order (bars and colours). */
  name: string;
  /** One value per group (e.g. the mass of each mode); non-finite values draw no bar. */
  values: number[];
  /** Standard errors, one per group: whiskers span value ± errorScale · error (non-finite: no whisker). */
  errors?: number[];
}

export interface MassBarChartOptions {
  title?: string;
  /** Group labels along x, e.g. ["mode 1", …, "mode 4"]. */
  groups: string[];
  series: MassSeries[];
  /** Plot-area size in px (default 240 × 160). */
  width?: number;
  height?: number;
  /** y-axis title (default "mass"). */
  yTitle?: string;
  /** y-axis range (default: from 0 to fit the bars and whiskers). */
  yDomain?: [number, number];
  /** Whisker half-length in standard errors (default 1). */
  errorScale?: number;
  /**
   * What the whiskers show, in the legend's title "error bars: <errorLabel>" when any series has errors
   * (default "± 1 SE", or "± k SE" for errorScale k). Not shown when the legend is hidden.
   */
  errorLabel?: string;
  /** Draw the colour legend (default true). */
  showLegend?: boolean;
  /** Bar colours in series order (default the Tableau 10 palette, as lineChart). */
  colors?: string[];
}

const GROUP_FIELD = "group";
const ERROR_COLOR = "#222222";

/**
 * Grouped bar chart (one bar per series inside each group) with error whiskers, e.g. the probability mass
 * of each mode under the true density and under each trained model. Data: the bar layer has rows
 * `{ group, series, value }`, the whisker layer `{ group, series, value, error, lo, hi }`.
 */
export function massBarChart(opts: MassBarChartOptions): VegaLiteSpec {
  const { groups, series } = opts;
  if (groups.length === 0 || series.length === 0)
    throw new Error("massBarChart: need at least one group and one series");
  if (new Set(groups).size !== groups.length) throw new Error("massBarChart: group labels must be unique");
  const names = series.map((s) => s.name);
  if (new Set(names).size !== names.length) throw new Error("massBarChart: series names must be unique");
  const errorScale = opts.errorScale ?? 1;
  if (!(errorScale > 0) || !Number.isFinite(errorScale))
    throw new Error("massBarChart: errorScale must be > 0");
  checkDomain("massBarChart: yDomain", opts.yDomain);

  const bars: { group: string; series: string; value: number }[] = [];
  const whiskers: { group: string; series: string; value: number; error: number; lo: number; hi: number }[] =
    [];
  for (const s of series) {
    if (s.values.length !== groups.length)
      throw new Error(
        `massBarChart: series "${s.name}" has ${s.values.length} values for ${groups.length} groups`,
      );
    if (s.errors && s.errors.length !== groups.length)
      throw new Error(
        `massBarChart: series "${s.name}" has ${s.errors.length} errors for ${groups.length} groups`,
      );
    groups.forEach((group, g) => {
      const value = s.values[g];
      if (!Number.isFinite(value)) return;
      bars.push({ group, series: s.name, value });
      const error = s.errors?.[g];
      if (error === undefined || !Number.isFinite(error) || error < 0) return;
      const half = errorScale * error;
      whiskers.push({ group, series: s.name, value, error, lo: value - half, hi: value + half });
    });
  }

  const colors = opts.colors ?? PALETTE;
  const colorScale = { domain: names, range: names.map((_, i) => colors[i % colors.length]) };
  const legend =
    opts.showLegend === false
      ? null
      : {
          title: whiskers.length > 0 ? `error bars: ${opts.errorLabel ?? `± ${errorScale} SE`}` : null,
          labelLimit: 160,
          symbolType: "square",
        };
  const width = opts.width ?? 240;
  const step = width / groups.length;
  const longest = Math.max(...groups.map((g) => g.length));
  const x = {
    field: GROUP_FIELD,
    type: "nominal",
    sort: null,
    scale: { domain: groups, paddingInner: 0.25, paddingOuter: 0.1 },
    // Tilt the labels when they would collide: DejaVu Sans at the default 10 px averages ~6.2 px per char.
    axis: { title: null, labelAngle: 6.2 * longest > step - 4 ? -40 : 0, labelLimit: 80 },
  };
  const xOffset = {
    field: SERIES_FIELD,
    type: "nominal",
    sort: null,
    scale: { domain: names, paddingInner: 0.08 },
  };
  const yScale: Record<string, unknown> = opts.yDomain
    ? { domain: opts.yDomain, nice: false, clamp: true }
    : { zero: true };
  const layers: VegaLiteSpec[] = [
    {
      data: { values: bars },
      mark: { type: "bar", clip: true },
      encoding: {
        x,
        xOffset,
        y: { field: "value", type: "quantitative", title: opts.yTitle ?? "mass", scale: yScale },
        color: { field: SERIES_FIELD, type: "nominal", sort: null, scale: colorScale, legend },
      },
    },
  ];
  if (whiskers.length > 0) {
    layers.push({
      data: { values: whiskers },
      mark: { type: "rule", color: ERROR_COLOR, strokeWidth: 1.2, clip: true },
      encoding: {
        x,
        xOffset,
        y: { field: "lo", type: "quantitative", scale: yScale },
        y2: { field: "hi" },
      },
    });
  }
  return {
    ...titleSpec(opts.title),
    width,
    height: opts.height ?? 160,
    layer: layers,
  };
}

/** A chart spec without the keys only a top-level spec may carry (`$schema`, `config`). */
function stripTopLevel(c: VegaLiteSpec): VegaLiteSpec {
  const { $schema: _schema, config: _config, ...rest } = c;
  return rest;
}

/**
 * Puts several chart specs into one figure. Each panel keeps its own scales and legend. Top-level-only
 * keys of the panels (`$schema`, `config`) are dropped; put configuration on the returned spec instead.
 */
export function panels(charts: VegaLiteSpec[], opts: PanelOptions = {}): VegaLiteSpec {
  if (charts.length === 0) throw new Error("panels: need at least one chart");
  const views = charts.map(stripTopLevel);
  const columns = opts.columns;
  const layout =
    columns === undefined
      ? { hconcat: views }
      : columns === 1
        ? { vconcat: views }
        : { concat: views, columns };
  return {
    ...(opts.title ? { title: { text: opts.title, anchor: "middle", fontSize: 15 } } : {}),
    ...layout,
    spacing: 24,
    resolve: {
      scale: { color: "independent", strokeDash: "independent" },
      legend: { color: "independent", strokeDash: "independent" },
    },
  };
}

export interface GridFigureOptions {
  /** Overall figure title. */
  title?: string;
  /** One label per row, drawn rotated left of the row (e.g. the data set names). */
  rowTitles?: string[];
  /**
   * One label per column, replacing the titles of the first row's panels (e.g. "data", "true density",
   * "CD", …). An empty string keeps that panel's own title.
   */
  columnTitles?: string[];
  /** Gaps between panels in px (default 16 between rows, 14 between columns). */
  rowSpacing?: number;
  columnSpacing?: number;
}

const ROW_TITLE_FONT_SIZE = 13;

/** A blank cell (pads short rows of a grid figure). */
function blankView(width: number, height: number): VegaLiteSpec {
  return { width, height, data: { values: [] }, mark: { type: "point" }, view: { stroke: null } };
}

/**
 * Lays out `rows[r][c]` as a grid with optional row labels (left, rotated) and column labels (on the first
 * row), e.g. rows = data sets and columns = data | true density | model densities | mode masses. Each
 * column is as wide as its widest panel (legends included) and each row as tall as its tallest; panels keep
 * their own scales and legends. Short rows are padded with blank cells.
 */
export function gridFigure(rows: VegaLiteSpec[][], opts: GridFigureOptions = {}): VegaLiteSpec {
  if (rows.length === 0 || rows.every((r) => r.length === 0))
    throw new Error("gridFigure: need at least one panel");
  const ncols = Math.max(...rows.map((r) => r.length));
  const { rowTitles, columnTitles } = opts;
  if (rowTitles && rowTitles.length !== rows.length)
    throw new Error(`gridFigure: ${rowTitles.length} row titles for ${rows.length} rows`);
  if (columnTitles && columnTitles.length !== ncols)
    throw new Error(`gridFigure: ${columnTitles.length} column titles for ${ncols} columns`);
  const sizeOf = (c: VegaLiteSpec, key: "width" | "height"): number =>
    typeof c[key] === "number" ? (c[key] as number) : DEFAULT_PANEL_SIZE;

  const cells: VegaLiteSpec[] = [];
  rows.forEach((row, r) => {
    const rowHeight = Math.max(...row.map((c) => sizeOf(c, "height")), 1);
    if (rowTitles) {
      cells.push({
        width: ROW_TITLE_FONT_SIZE + 4,
        height: rowHeight,
        data: { values: [{}] },
        mark: {
          type: "text",
          text: rowTitles[r],
          angle: 270,
          align: "center",
          baseline: "middle",
          fontSize: ROW_TITLE_FONT_SIZE,
          fontWeight: "bold",
        },
        encoding: { x: { value: (ROW_TITLE_FONT_SIZE + 4) / 2 }, y: { value: rowHeight / 2 } },
        view: { stroke: null },
      });
    }
    for (let c = 0; c < ncols; c++) {
      if (c >= row.length) {
        cells.push(blankView(sizeOf(rows.find((rr) => rr.length > c)![c], "width"), rowHeight));
        continue;
      }
      let cell = stripTopLevel(row[c]);
      const colTitle = columnTitles?.[c];
      if (r === 0 && colTitle) {
        const own = cell["title"];
        const base = own !== null && typeof own === "object" ? (own as Record<string, unknown>) : {};
        cell = { ...cell, title: { ...base, text: colTitle } };
      }
      cells.push(cell);
    }
  });
  return {
    ...(opts.title ? { title: { text: opts.title, anchor: "middle", fontSize: 15 } } : {}),
    concat: cells,
    columns: ncols + (rowTitles ? 1 : 0),
    align: "each",
    spacing: { row: opts.rowSpacing ?? 16, column: opts.columnSpacing ?? 14 },
    resolve: {
      scale: { color: "independent", strokeDash: "independent" },
      legend: { color: "independent", strokeDash: "independent" },
    },
  };
}
