/**
 * Figures: Vega-Lite spec builders (line charts, histograms, 2-D heatmaps and scatter plots, grouped bars
 * with error bars, panels and grid figures) and the offline SVG/PNG renderer.
 */

export type {
  AxisOptions,
  GridFigureOptions,
  HeatmapOptions,
  HistogramOptions,
  LineChartOptions,
  MassBarChartOptions,
  MassSeries,
  PanelOptions,
  Point,
  ReferenceLine,
  ScatterOptions,
  Series,
  VegaLiteSpec,
  XAxisOptions,
  YAxisOptions,
} from "./charts.ts";
export {
  gridFigure,
  heatmapChart,
  histogramChart,
  lineChart,
  massBarChart,
  panels,
  scatterChart,
} from "./charts.ts";
export type { RenderedFigure, RenderOptions } from "./render.ts";

import type { RenderedFigure, RenderOptions } from "./render.ts";

/** Renders a Vega-Lite spec to SVG and PNG. Vega and resvg load on first use: they cost ~0.7 s to import. */
export async function renderVegaLite(spec: object, opts?: RenderOptions): Promise<RenderedFigure> {
  const render = await import("./render.ts");
  return render.renderVegaLite(spec, opts);
}
