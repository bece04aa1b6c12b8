/**
 * Vega-Lite spec builders for the project's figures: multi-series line charts (training curves with a
 * reference line and optional vertical event rules, e.g. resamplings), 1-D sample histograms with an
 * exact-density overlay, and multi-panel layouts.
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

function titleSpec(title: string | undefined): Record<string, unknown> {
  return title === undefined ? {} : { title: { text: title } };
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

/**
 * Puts several chart specs into one figure. Each panel keeps its own scales and legend. Top-level-only
 * keys of the panels (`$schema`, `config`) are dropped; put configuration on the returned spec instead.
 */
export function panels(charts: VegaLiteSpec[], opts: PanelOptions = {}): VegaLiteSpec {
  if (charts.length === 0) throw new Error("panels: need at least one chart");
  const views = charts.map((c) => {
    const { $schema: _schema, config: _config, ...rest } = c;
    return rest;
  });
  const columns = opts.columns;
  const layout =
    columns === undefined
      ? { hconcat: views }
      : columns === 1
        ? { vconcat: views }
        : { concat: views, columns };
  return {
    ...(opts.title === undefined ? {} : { title: { text: opts.title, anchor: "middle", fontSize: 15 } }),
    ...layout,
    spacing: 24,
    resolve: {
      scale: { color: "independent", strokeDash: "independent" },
      legend: { color: "independent", strokeDash: "independent" },
    },
  };
}
