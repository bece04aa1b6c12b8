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
export { FONT_FAMILY, renderVegaLite } from "./render.ts";
