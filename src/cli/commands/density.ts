/**
 * `ebm density --model DIR --grid xmin,xmax,ymin,ymax,n --out FILE.csv`: a trained model's density
 * ρ_θ = e^{−U_θ}/Z on the midpoint grid of the window (eval/grid.ts: n × n cells, their centres listed
 * x-major), normalised on that grid so that Σ density·cell area = 1. A 1-D model takes
 * `--grid xmin,xmax,n` and writes `x,density`. Models of dimension above 2 are refused.
 *
 * Also printed (and in --json): the grid's log Z, its quadrature error indicator |log Z(n) − log Z(n/2)|
 * and the edge mass (the normalised mass in the outermost ring of cells); an edge mass above 1e-3 means
 * the window cuts the density, and a warning says so.
 *
 * `--out FILE.png` draws the figure instead (2-D models): the training data | the model's density | the
 * set's true density (built-in sets), on the same window, with the numbers above in the title.
 *
 * Without --grid the window is the training set's extent when the model was trained on a built-in set,
 * else ±4/√c per axis (four standard deviations of the model's confinement Gaussian), with 200 cells per
 * axis (1000 in 1-D).
 */
import type { Command } from "commander";
import {
  checkOutputFile,
  type GridSpec,
  gridEvaluate,
  heatmapChart,
  isToy2dName,
  NumericalError,
  OutputError,
  panels,
  renderVegaLite,
  scatterChart,
  toy2d,
  type VegaLiteSpec,
  writeFileAtomic,
} from "../../node.ts";
import { loadTrainingData } from "../data.ts";
import { parseNumberList, parseSeed, printable, UserError } from "../errors.ts";
import { loadTrainedModel, type TrainedModel } from "../model.ts";
import { describeModel, fmt, jnum } from "./logz.ts";

interface RawDensityOptions {
  model?: string;
  grid?: string;
  out?: string;
  seed: string;
  json?: boolean;
}

/** Largest cells per axis: 2048² rows of CSV (~150 MB) in 2-D, 10⁶ in 1-D. */
const MAX_N = { 1: 1_000_000, 2: 2048 } as const;

/** Throws a UserError naming --out unless FILE.csv (or, with `png`, FILE.png) can be written (nothing is created). */
export function checkCsvOut(out: string | undefined, required: boolean, png = false): void {
  const what = png ? "FILE.csv or FILE.png" : "FILE.csv";
  if (out === undefined) {
    if (required) throw new UserError(`--out ${what} is required`);
    return;
  }
  if (!(/\.csv$/i.test(out) || (png && /\.png$/i.test(out))))
    throw new UserError(`--out must end in ${png ? ".csv or .png" : ".csv"}, got '${printable(out)}'`);
  try {
    checkOutputFile(out);
  } catch (err) {
    if (err instanceof OutputError) throw new UserError(`--out: ${err.message}`);
    throw err;
  }
}

/**
 * The grid of --grid for a model of dimension `dim` (1 or 2): "xmin,xmax,ymin,ymax,n" or "xmin,xmax,n";
 * every problem is a UserError naming --grid.
 */
export function parseGrid(value: string, dim: number): GridSpec {
  const want = dim === 2 ? "xmin,xmax,ymin,ymax,n" : "xmin,xmax,n";
  const v = parseNumberList("--grid", value, dim === 2 ? 5 : 3);
  const n = v[v.length - 1];
  const max = MAX_N[dim as 1 | 2];
  if (!(Number.isInteger(n) && n >= 4 && n <= max))
    throw new UserError(
      `--grid: n must be an integer from 4 to ${max} (cells per axis), got '${printable(value)}'`,
    );
  if (!(v[1] > v[0]))
    throw new UserError(`--grid (${want}): xmax must exceed xmin, got '${printable(value)}'`);
  if (dim === 2 && !(v[3] > v[2]))
    throw new UserError(`--grid (${want}): ymax must exceed ymin, got '${printable(value)}'`);
  // Cells whose sides or area overflow or vanish in float64 (or whose points coincide) give no density.
  const side = (lo: number, hi: number) => (hi - lo) / n;
  const distinct = (lo: number, hi: number) => Number.isFinite(side(lo, hi)) && lo + side(lo, hi) > lo;
  const area = dim === 2 ? side(v[0], v[1]) * side(v[2], v[3]) : side(v[0], v[1]);
  if (!(
    distinct(v[0], v[1]) &&
    (dim === 1 || distinct(v[2], v[3])) &&
    area > 0 &&
    Number.isFinite(area) &&
    Number.isFinite(1 / area)
  ))
    throw new UserError(
      `--grid (${want}): the cells' size must be positive and finite in float64, got '${printable(value)}'`,
    );
  return dim === 2 ? { xmin: v[0], xmax: v[1], ymin: v[2], ymax: v[3], n } : { xmin: v[0], xmax: v[1], n };
}

/** The default window (module comment). */
export function defaultGrid(tm: TrainedModel): GridSpec {
  const dim = tm.energy.dim;
  const data = tm.data as { kind?: string; name?: unknown } | null;
  if (dim === 2 && data?.kind === "builtin" && typeof data.name === "string" && isToy2dName(data.name)) {
    const [xmin, xmax, ymin, ymax] = toy2d(data.name).extent;
    return { xmin, xmax, ymin, ymax, n: 200 };
  }
  // Four standard deviations of the base around its mean (±4/√c without standardisation).
  const w = 4 * tm.base.std;
  const [mx, my] = [tm.base.mean[0], tm.base.mean[1] ?? 0];
  return dim === 2
    ? { xmin: mx - w, xmax: mx + w, ymin: my - w, ymax: my + w, n: 200 }
    : { xmin: mx - w, xmax: mx + w, n: 1000 };
}

/** "[a, b] × [c, d], n × n cells" for text output. */
export function describeGrid(s: GridSpec): string {
  return s.ymin === undefined
    ? `[${s.xmin}, ${s.xmax}], ${s.n} cells`
    : `[${s.xmin}, ${s.xmax}] × [${s.ymin}, ${s.ymax}], ${s.n} × ${s.n} cells`;
}

export async function runDensityCommand(raw: RawDensityOptions): Promise<void> {
  if (raw.model === undefined)
    throw new UserError("--model DIR is required (a folder written by `ebm train`)");
  checkCsvOut(raw.out, true, true);
  const out = raw.out as string;
  const png = /\.png$/i.test(out);
  const seed = parseSeed("--seed", raw.seed);
  // The numbers of --grid are checked before the model is read; their count needs the model's dimension.
  if (raw.grid !== undefined) parseNumberList("--grid", raw.grid);
  const tm = await loadTrainedModel(raw.model);
  const dim = tm.energy.dim;
  if (dim > 2)
    throw new UserError(
      `--model ${printable(raw.model)}: the model has dimension ${dim}; ebm density evaluates 1-D and 2-D models only (use ebm sample --model for higher dimensions)`,
    );
  if (png && dim !== 2)
    throw new UserError(`--out ${printable(out)}: the figure is drawn for 2-D models; write a .csv instead`);
  const spec = raw.grid === undefined ? defaultGrid(tm) : parseGrid(raw.grid, dim);
  let g: ReturnType<typeof gridEvaluate>;
  try {
    g = gridEvaluate(tm.energy, spec);
  } catch (e) {
    if (e instanceof RangeError) throw new NumericalError(`the model's density on the grid: ${e.message}`);
    throw e;
  }
  const { grid, density } = g;
  const warnings: string[] = [];
  let content: string | Buffer;
  if (png) {
    const f = await densityFigure(tm, spec, g, warnings);
    content = f;
  } else {
    const lines: string[] = [dim === 2 ? "x,y,density" : "x,density"];
    for (let i = 0; i < grid.nx; i++)
      for (let j = 0; j < grid.ny; j++) {
        const k = i * grid.ny + j;
        lines.push(dim === 2 ? `${grid.xs[i]},${grid.ys[j]},${density[k]}` : `${grid.xs[i]},${density[k]}`);
      }
    content = `${lines.join("\n")}\n`;
  }
  try {
    writeFileAtomic(out, content);
  } catch (err) {
    if (err instanceof OutputError) throw new UserError(`--out: ${err.message}`);
    throw err;
  }
  if (g.edgeMass > 1e-3)
    warnings.push(
      `the window cuts the density: ${fmt(g.edgeMass, 4)} of the mass lies in the outermost ring of cells; widen --grid`,
    );
  if (raw.json) {
    console.log(
      JSON.stringify({
        out,
        model: tm.dir,
        dim,
        grid: { ...spec },
        cells: grid.nx * grid.ny,
        cell_area: jnum(grid.cellArea),
        logz: jnum(g.logZ),
        logz_error: jnum(g.logZError, 3),
        edge_mass: jnum(g.edgeMass, 3),
        seed,
        warnings,
      }),
    );
    return;
  }
  const text = [
    describeModel(tm),
    `density on ${describeGrid(spec)} (cell ${dim === 2 ? "area" : "length"} ${fmt(grid.cellArea, 6)}), normalised on the grid`,
    `  grid log Z = ${fmt(g.logZ, 4)} ± ${fmt(g.logZError, 4)} (quadrature error |n − n/2|), edge mass ${fmt(g.edgeMass, 4)}`,
    ...warnings.map((w) => `  warning: ${w}`),
    `written to ${printable(out, 1000)}`,
  ];
  console.log(text.join("\n"));
}

/** The PNG of `--out FILE.png`: data | model density | true density (module comment). */
async function densityFigure(
  tm: TrainedModel,
  spec: GridSpec,
  g: ReturnType<typeof gridEvaluate>,
  warnings: string[],
): Promise<Buffer> {
  const size = 220;
  const xDomain: [number, number] = [spec.xmin, spec.xmax];
  const yDomain: [number, number] = [spec.ymin as number, spec.ymax as number];
  const charts: VegaLiteSpec[] = [];
  let trueDensity: Float64Array | undefined;
  try {
    const data = loadTrainingData(tm.data, 2);
    charts.push(
      scatterChart({
        title: `data: ${data.description}`,
        points: data.batch.x,
        xDomain,
        yDomain,
        width: size,
        height: size,
      }),
    );
    const toy = data.toy;
    if (toy?.logDensity) trueDensity = gridEvaluate((x, n, out) => toy.logDensity?.(x, n, out), spec).density;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    warnings.push(`the training data are not drawn: ${e.message}`);
  }
  const heat = (title: string, values: Float64Array) =>
    heatmapChart({
      title,
      xs: g.grid.xs,
      ys: g.grid.ys,
      values,
      xDomain,
      yDomain,
      width: size,
      height: size,
    });
  charts.push(heat(`model (iteration ${tm.iteration}), log Z ${fmt(g.logZ, 3)}`, g.density));
  if (trueDensity) charts.push(heat("true density", trueDensity));
  const figure = await renderVegaLite(
    panels(charts, { title: `${tm.config.method}: density normalised on the grid` }),
  );
  return figure.png;
}

export function densityCommand(cmd: Command): Command {
  return cmd
    .option("--model <dir>", "checkpoint folder written by `ebm train` (a 1-D or 2-D model)")
    .option(
      "--grid <spec>",
      "window and cells per axis: xmin,xmax,ymin,ymax,n (xmin,xmax,n for a 1-D model); default: the built-in training set's extent, else ±4 standard deviations of the model's base Gaussian around its mean (±4/√c for unstandardised inputs), with 200 cells per axis",
    )
    .option(
      "--out <file>",
      "FILE.csv: header x,y,density (x,density in 1-D); FILE.png: the figure data | model | true density (2-D); checked before any work",
    )
    .option("--seed <n>", "random seed (accepted for uniformity: the grid involves no randomness)", "0")
    .option("--json", "print one JSON object on the last line of stdout")
    .action(runDensityCommand);
}
