/**
 * Figures: Vega-Lite spec builders (line charts, histograms, panels) and the offline SVG/PNG renderer.
 */

export type {
  AxisOptions,
  HistogramOptions,
  LineChartOptions,
  PanelOptions,
  Point,
  ReferenceLine,
  Series,
  VegaLiteSpec,
  XAxisOptions,
  YAxisOptions,
} from "./charts.ts";
export { histogramChart, lineChart, panels } from "./charts.ts";
export type { RenderedFigure, RenderOptions } from "./render.ts";

import type { RenderedFigure, RenderOptions } from "./render.ts";

/** Renders a Vega-Lite spec to SVG and PNG. Vega and resvg load on first use: they cost ~0.7 s to import. */
export async function renderVegaLite(spec: object, opts?: RenderOptions): Promise<RenderedFigure> {
  const render = await import("./render.ts");
  return render.renderVegaLite(spec, opts);
}
