/**
 * The playground's views, drawn directly on <canvas> (fast enough to redraw at every snapshot, and no
 * library to load): the density heatmap with walkers and data, the mode-mass bars with error bars, and
 * line charts with optional ±SE bands and event ticks. Every function takes a canvas and plain numbers;
 * canvases are sized for the device pixel ratio from their CSS size.
 */

export const COLORS = {
  text: "#1d2433",
  muted: "#5b6475",
  grid: "#d9dde5",
  target: "#8a8f99",
  model: "#2060c0",
  walkers: "#d4631b",
  extra: "#1b8a5a",
  event: "#c02040",
};

/** Viridis at nine stops (matplotlib's), interpolated linearly. */
const VIRIDIS = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

function viridis(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i];
  const b = VIRIDIS[i + 1];
  return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
}

/** The 2-D context of `canvas`, resized to its CSS box × devicePixelRatio; returns it and the CSS size. */
export function prepare(canvas: HTMLCanvasElement): { ctx: CanvasRenderingContext2D; w: number; h: number } {
  const ratio = globalThis.devicePixelRatio || 1;
  const rect = canvas.getBoundingClientRect();
  const w = Math.max(1, Math.round(rect.width));
  const h = Math.max(1, Math.round(rect.height));
  if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
  }
  const ctx = canvas.getContext("2d")!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.font = "12px system-ui, sans-serif";
  return { ctx, w, h };
}

export interface HeatmapView {
  window: readonly number[];
  gridN: number;
  /** Normalised density, x-major (cell (ix, iy) at ix·n + iy). */
  density?: Float64Array;
  data?: Float64Array;
  showData: boolean;
  showWalkers: boolean;
  walkers?: Float64Array;
  /** Normalised weights of all walkers (the shown ones first); absent: equal weights. */
  weights?: Float64Array;
  walkerCount: number;
  centres: number[];
  /** Iterations at which the walkers were resampled since the previous frame. */
  resampled: number[];
  /** Custom points being drawn (shown over everything). */
  drawing?: number[];
}

/** Maps data coordinates to canvas pixels for a square plot of side `size`. */
export function toPixel(win: readonly number[], size: number, x: number, y: number): [number, number] {
  return [((x - win[0]) / (win[1] - win[0])) * size, (1 - (y - win[2]) / (win[3] - win[2])) * size];
}

export function fromPixel(win: readonly number[], size: number, px: number, py: number): [number, number] {
  return [win[0] + (px / size) * (win[1] - win[0]), win[2] + (1 - py / size) * (win[3] - win[2])];
}

/**
 * The density as a heatmap (colour ∝ √(p / max p), so that light modes stay visible), the data as small
 * white dots, the walkers as circles of area ∝ weight (equal weights: all the same), mode centres as
 * crosses, and a badge when the walkers were resampled since the last frame.
 */
export function drawHeatmap(canvas: HTMLCanvasElement, v: HeatmapView): void {
  const { ctx, w } = prepare(canvas);
  const size = w;
  const n = v.gridN;
  if (v.density && v.density.length === n * n) {
    let max = 0;
    for (let i = 0; i < v.density.length; i++) max = Math.max(max, v.density[i]);
    const img = new ImageData(n, n);
    for (let ix = 0; ix < n; ix++)
      for (let iy = 0; iy < n; iy++) {
        const [r, g, b] = viridis(max > 0 ? Math.sqrt(v.density[ix * n + iy] / max) : 0);
        const p = 4 * ((n - 1 - iy) * n + ix);
        img.data[p] = r;
        img.data[p + 1] = g;
        img.data[p + 2] = b;
        img.data[p + 3] = 255;
      }
    const off = new OffscreenCanvas(n, n);
    off.getContext("2d")!.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(off, 0, 0, size, size);
  } else {
    ctx.fillStyle = "#20243a";
    ctx.fillRect(0, 0, size, size);
  }
  if (v.showData && v.data) {
    ctx.fillStyle = "rgba(255,255,255,0.55)";
    for (let i = 0; i < v.data.length / 2; i++) {
      const [px, py] = toPixel(v.window, size, v.data[2 * i], v.data[2 * i + 1]);
      ctx.fillRect(px - 0.75, py - 0.75, 1.5, 1.5);
    }
  }
  if (v.walkers && v.showWalkers) {
    const m = v.walkers.length / 2;
    ctx.lineWidth = 0.6;
    ctx.strokeStyle = "rgba(60,20,0,0.8)";
    for (let i = 0; i < m; i++) {
      const [px, py] = toPixel(v.window, size, v.walkers[2 * i], v.walkers[2 * i + 1]);
      if (px < -5 || py < -5 || px > size + 5 || py > size + 5) continue;
      // Area ∝ weight: radius ∝ √(N·w), 1.1 px for a walker of average weight.
      const rel = v.weights ? v.weights[i] * v.walkerCount : 1;
      if (rel <= 0) continue;
      const r = Math.min(8, Math.max(0.5, 1.1 * Math.sqrt(rel)));
      ctx.beginPath();
      ctx.arc(px, py, r, 0, 2 * Math.PI);
      ctx.fillStyle = "rgba(255,150,70,0.6)";
      ctx.fill();
      if (r > 1.6) ctx.stroke();
    }
  }
  ctx.strokeStyle = "rgba(255,255,255,0.85)";
  ctx.lineWidth = 1.5;
  for (let c = 0; c < v.centres.length / 2; c++) {
    const [px, py] = toPixel(v.window, size, v.centres[2 * c], v.centres[2 * c + 1]);
    ctx.beginPath();
    ctx.moveTo(px - 4, py);
    ctx.lineTo(px + 4, py);
    ctx.moveTo(px, py - 4);
    ctx.lineTo(px, py + 4);
    ctx.stroke();
    ctx.fillStyle = "rgba(255,255,255,0.9)";
    ctx.fillText(String(c + 1), px + 5, py - 5);
  }
  if (v.drawing) {
    ctx.fillStyle = "#ffffff";
    for (let i = 0; i < v.drawing.length / 2; i++) {
      const [px, py] = toPixel(v.window, size, v.drawing[2 * i], v.drawing[2 * i + 1]);
      ctx.fillRect(px - 1.25, py - 1.25, 2.5, 2.5);
    }
  }
  if (v.resampled.length > 0) {
    const text = `resampled at ${v.resampled.slice(-3).join(", ")}`;
    ctx.font = "bold 12px system-ui, sans-serif";
    const tw = ctx.measureText(text).width;
    ctx.fillStyle = COLORS.event;
    ctx.fillRect(6, 6, tw + 12, 20);
    ctx.fillStyle = "#fff";
    ctx.fillText(text, 12, 20);
  }
  // Axis extent labels.
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "rgba(255,255,255,0.8)";
  ctx.fillText(`${v.window[0]}`, 4, size - 4);
  const right = `${v.window[1]}`;
  ctx.fillText(right, size - ctx.measureText(right).width - 4, size - 4);
  ctx.fillText(`${v.window[3]}`, 4, 14 + (v.resampled.length > 0 ? 24 : 0));
}

export interface BarsView {
  target: number[];
  model?: number[];
  modelError?: number[];
  walkers?: number[];
  walkersSe?: number[];
}

/** Grouped bars per mode: true, model (grid, ± quadrature error), walkers (± 2 SE). */
export function drawBars(canvas: HTMLCanvasElement, v: BarsView): void {
  const { ctx, w, h } = prepare(canvas);
  const k = v.target.length;
  if (k === 0) {
    ctx.fillStyle = COLORS.muted;
    ctx.fillText("no mode centres for these data", 10, h / 2);
    return;
  }
  const left = 36;
  const bottom = h - 22;
  const series: [string, string, number[] | undefined, number[] | undefined, number][] = [
    ["true", COLORS.target, v.target, undefined, 1],
    ["model", COLORS.model, v.model, v.modelError, 1],
    ["walkers", COLORS.walkers, v.walkers, v.walkersSe, 2],
  ];
  const present = series.filter((s) => s[2]);
  const top =
    legend(
      ctx,
      left,
      14,
      present.map(([name, color]) => [name, color]),
    ) + 6;
  const tops = [...v.target];
  v.model?.forEach((m, c) => tops.push(m + (v.modelError?.[c] || 0)));
  v.walkers?.forEach((m, c) => tops.push(m + 2 * (v.walkersSe?.[c] || 0)));
  let ymax = Math.max(0.05, ...tops.filter(Number.isFinite)) * 1.15;
  ymax = Math.ceil(ymax * 20) / 20;
  const y = (m: number) => bottom - (m / ymax) * (bottom - top);
  axisY(ctx, left, w, top, bottom, 0, ymax, y);
  const group = (w - left - 8) / k;
  const bw = Math.max(2, Math.min(22, (group * 0.8) / present.length));
  for (let c = 0; c < k; c++) {
    const x0 = left + c * group + (group - bw * present.length) / 2;
    present.forEach(([, color, vals, errs, mult], si) => {
      const m = vals![c];
      const bx = x0 + si * bw;
      ctx.fillStyle = color;
      ctx.fillRect(bx + 1, y(m), bw - 2, bottom - y(m));
      const e = errs?.[c];
      if (e !== undefined && Number.isFinite(e) && e > 0) {
        ctx.strokeStyle = COLORS.text;
        ctx.lineWidth = 1.2;
        const cx = bx + bw / 2;
        ctx.beginPath();
        ctx.moveTo(cx, y(Math.max(0, m - mult * e)));
        ctx.lineTo(cx, y(m + mult * e));
        ctx.moveTo(cx - 3, y(m + mult * e));
        ctx.lineTo(cx + 3, y(m + mult * e));
        ctx.moveTo(cx - 3, y(Math.max(0, m - mult * e)));
        ctx.lineTo(cx + 3, y(Math.max(0, m - mult * e)));
        ctx.stroke();
      }
    });
    if (k <= 16) {
      ctx.fillStyle = COLORS.muted;
      const label = String(c + 1);
      ctx.fillText(label, left + c * group + group / 2 - ctx.measureText(label).width / 2, h - 6);
    }
  }
}

/** Draws the legend from (x, y), wrapping at the canvas's right edge; returns the y below it. */
function legend(
  ctx: CanvasRenderingContext2D,
  x: number,
  y: number,
  items: [string, string][],
  draw = true,
): number {
  ctx.font = "11px system-ui, sans-serif";
  const x0 = x;
  const right = ctx.canvas.width / (globalThis.devicePixelRatio || 1) - 4;
  for (const [name, color] of items) {
    const width = 13 + ctx.measureText(name).width;
    if (x > x0 && x + width > right) {
      x = x0;
      y += 13;
    }
    if (draw) {
      ctx.fillStyle = color;
      ctx.fillRect(x, y - 8, 10, 10);
      ctx.fillStyle = COLORS.text;
      ctx.fillText(name, x + 13, y + 1);
    }
    x += width + 10;
  }
  return y + 9;
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 4): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    out.push(Number(t.toPrecision(12)));
  return out;
}

function tickText(t: number): string {
  if (t === 0) return "0";
  const a = Math.abs(t);
  if (a >= 1e4 || a < 1e-3) return t.toExponential(0);
  return String(Number(t.toPrecision(3)));
}

function axisY(
  ctx: CanvasRenderingContext2D,
  left: number,
  right: number,
  top: number,
  bottom: number,
  lo: number,
  hi: number,
  y: (v: number) => number,
): void {
  ctx.font = "11px system-ui, sans-serif";
  ctx.lineWidth = 1;
  for (const t of niceTicks(lo, hi, 4)) {
    const py = y(t);
    if (py < top - 1 || py > bottom + 1) continue;
    ctx.strokeStyle = COLORS.grid;
    ctx.beginPath();
    ctx.moveTo(left, py);
    ctx.lineTo(right - 4, py);
    ctx.stroke();
    ctx.fillStyle = COLORS.muted;
    const s = tickText(t);
    ctx.fillText(s, left - 4 - ctx.measureText(s).width, py + 4);
  }
}

export interface Series {
  name: string;
  color: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Half-width of a shaded band around y (e.g. one SE), same length as y. */
  band?: ArrayLike<number>;
}

export interface LineView {
  series: Series[];
  /** x positions of event ticks (e.g. resamplings), drawn at the bottom. */
  events?: number[];
  eventName?: string;
  xmax: number;
  /** Fixed y range (else from the data, with the bands). */
  ylim?: [number, number];
  empty?: string;
}

/** Line chart over iterations [0, xmax]; NaN points break a line. */
export function drawLines(canvas: HTMLCanvasElement, v: LineView): void {
  const { ctx, w, h } = prepare(canvas);
  const left = 44;
  const right = w - 6;
  const bottom = h - 20;
  const items: [string, string][] = v.series.map((s) => [s.name, s.color]);
  if (v.events?.length) items.push([v.eventName ?? "events", COLORS.event]);
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of v.series)
    for (let i = 0; i < s.y.length; i++) {
      const b = s.band && Number.isFinite(s.band[i]) ? s.band[i] : 0;
      if (Number.isFinite(s.y[i])) {
        lo = Math.min(lo, s.y[i] - b);
        hi = Math.max(hi, s.y[i] + b);
      }
    }
  if (!Number.isFinite(lo) || v.series.length === 0) {
    ctx.fillStyle = COLORS.muted;
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillText(v.empty ?? "no data yet", 8, h / 2);
    return;
  }
  const top = legend(ctx, left, 13, items) + 6;
  if (v.ylim) [lo, hi] = v.ylim;
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  } else if (!v.ylim) {
    const pad = (hi - lo) * 0.08;
    lo -= pad;
    hi += pad;
  }
  const xmax = Math.max(1, v.xmax);
  const X = (t: number) => left + (t / xmax) * (right - left);
  const Y = (t: number) => bottom - ((t - lo) / (hi - lo)) * (bottom - top);
  axisY(ctx, left, w, top, bottom, lo, hi, Y);
  ctx.fillStyle = COLORS.muted;
  for (const t of niceTicks(0, xmax, Math.max(2, Math.min(4, Math.floor((right - left) / 55))))) {
    const s = tickText(t);
    ctx.fillText(s, Math.min(right - ctx.measureText(s).width, X(t) - ctx.measureText(s).width / 2), h - 5);
  }
  if (v.events?.length) {
    ctx.strokeStyle = COLORS.event;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (const e of v.events) {
      ctx.moveTo(X(e), bottom);
      ctx.lineTo(X(e), bottom - 7);
    }
    ctx.stroke();
  }
  for (const s of v.series) {
    if (s.band) {
      ctx.fillStyle = s.color + "33";
      let open = false;
      const upper: [number, number][] = [];
      const lower: [number, number][] = [];
      const flush = () => {
        if (upper.length > 1) {
          ctx.beginPath();
          ctx.moveTo(upper[0][0], upper[0][1]);
          for (const p of upper) ctx.lineTo(p[0], p[1]);
          for (const p of lower.reverse()) ctx.lineTo(p[0], p[1]);
          ctx.closePath();
          ctx.fill();
        }
        upper.length = 0;
        lower.length = 0;
      };
      for (let i = 0; i < s.y.length; i++) {
        const b = s.band[i];
        if (Number.isFinite(s.y[i]) && Number.isFinite(b)) {
          upper.push([X(s.x[i]), Y(Math.min(hi, s.y[i] + b))]);
          lower.push([X(s.x[i]), Y(Math.max(lo, s.y[i] - b))]);
          open = true;
        } else if (open) {
          flush();
          open = false;
        }
      }
      flush();
    }
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.6;
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < s.y.length; i++) {
      if (!Number.isFinite(s.y[i])) {
        pen = false;
        continue;
      }
      const px = X(s.x[i]);
      const py = Y(Math.min(hi, Math.max(lo, s.y[i])));
      if (pen) ctx.lineTo(px, py);
      else ctx.moveTo(px, py);
      pen = true;
    }
    ctx.stroke();
  }
}
