/**
 * The playground page (main thread): the settings form, the run controls, the URL, and the views. It never
 * trains: each run shown (A, and B side by side) has its own module Web Worker (worker.ts) that builds the
 * session and posts snapshots; this file only draws them (draw.ts) and keeps their history (history.ts).
 * It does not import the core at all, so the page itself stays small and starts at once.
 *
 * Test hook: `window.__playground` (see `Hook` below) reports each run's state and its numbers as JSON;
 * the playground test (test/browser/playground.test.ts) drives the page through its buttons and the URL
 * and reads the numbers from there.
 */
import { COLORS, drawBars, drawHeatmap, drawLines, fromPixel, prepare, toPixel } from "./draw.ts";
import { addSnapshot, emptyHistory, type RunHistory, type RunSummary, summarize } from "./history.ts";
import type { BackendReport, FromWorker, ToWorker } from "./protocol.ts";
import { mountSampler } from "./sampler/page.ts";
import type { SessionMeta } from "./session.ts";
import {
  checkSettings,
  cloneSettings,
  DATASETS,
  DEFAULT_RUN,
  DEFAULTS,
  LIMITS,
  MAX_POINTS,
  METHOD_HELP,
  METHODS,
  type Method,
  parsePoints,
  type RunSettings,
  type Settings,
  settingsFromHash,
  settingsToHash,
} from "./settings.ts";
import { fieldMaker } from "./form.ts";

type RunName = "a" | "b";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

// ---------------------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------------------

const parsed = settingsFromHash(location.hash);
let settings: Settings = parsed.settings;
/** Problems of the URL as loaded (shown once); the form's own problems are shown as they arise. */
const urlProblems = parsed.problems;
let sessionId = 0;
let wantRunning = false;
let showData = true;
let showWalkers = true;
const workerErrors: string[] = [];

interface RunState {
  name: RunName;
  worker?: Worker;
  ready: boolean;
  meta?: SessionMeta;
  backend?: BackendReport;
  history: RunHistory;
  iteration: number;
  seconds: number;
  running: boolean;
  done: boolean;
  error?: string;
  /** Resampling iterations since the previous frame (for the heatmap badge). */
  freshResamples: number[];
  view?: RunView;
}

const runs: Record<RunName, RunState> = {
  a: newRunState("a"),
  b: newRunState("b"),
};

function newRunState(name: RunName): RunState {
  return {
    name,
    ready: false,
    history: emptyHistory(),
    iteration: 0,
    seconds: 0,
    running: false,
    done: false,
    freshResamples: [],
  };
}

function activeRuns(): RunState[] {
  return settings.b ? [runs.a, runs.b] : [runs.a];
}

// ---------------------------------------------------------------------------------------------------------
// The form
// ---------------------------------------------------------------------------------------------------------

type TopNumber =
  "n" | "width" | "depth" | "confinement" | "lr" | "batch" | "iters" | "seed" | "every" | "grid";
type RunNumber = "walkers" | "step" | "k" | "resample" | "sigma";

interface NumberField<K extends string> {
  key: K;
  label: string;
  help: string;
  step: string;
}

const DATA_HELP =
  "A built-in 2-D set (drawn from the seed) or your own points. Crosses mark the modes whose masses are compared.";

const TOP_FIELDS: Record<string, NumberField<TopNumber>[]> = {
  "fs-data": [
    { key: "n", label: "Points", help: "How many points are drawn from the built-in set.", step: "1" },
  ],
  "fs-energy": [
    {
      key: "width",
      label: "Width",
      help: "Units per hidden layer of U_θ = MLP(x) + ½c|x|² (SiLU).",
      step: "1",
    },
    { key: "depth", label: "Hidden layers", help: "Hidden layers of the MLP.", step: "1" },
    {
      key: "confinement",
      label: "Confinement c",
      help: "The fixed ½c|x|² that keeps e^{−U} normalisable; walkers start from its Gaussian.",
      step: "any",
    },
  ],
  "fs-train": [
    { key: "lr", label: "Learning rate", help: "Adam's step size (constant).", step: "any" },
    { key: "batch", label: "Batch", help: "Data points per iteration, drawn with replacement.", step: "1" },
    { key: "iters", label: "Iterations", help: "Where a run stops.", step: "1" },
    {
      key: "seed",
      label: "Seed",
      help: "Data, initial θ, walkers and every random draw come from it.",
      step: "1",
    },
  ],
  "fs-view": [
    {
      key: "every",
      label: "Snapshot every",
      help: "Iterations between redraws (each costs a grid).",
      step: "1",
    },
    { key: "grid", label: "Grid cells", help: "Cells per axis of the density grid (even).", step: "2" },
  ],
};

const RUN_FIELDS: (NumberField<RunNumber> & { methods: Method[] })[] = [
  {
    key: "walkers",
    label: "Walkers",
    help: "Model samples that estimate the likelihood gradient's negative term.",
    step: "1",
    methods: ["jarzynski", "cd", "pcd"],
  },
  {
    key: "step",
    label: "Langevin step h",
    help: "ULA move x ← x − h∇U + √(2h)ξ of the walkers.",
    step: "any",
    methods: ["jarzynski", "cd", "pcd"],
  },
  { key: "k", label: "Steps k", help: "Langevin steps per iteration.", step: "1", methods: ["cd", "pcd"] },
  {
    key: "resample",
    label: "Resample below",
    help: "Resample the walkers when ESS < this × N (0: never).",
    step: "any",
    methods: ["jarzynski"],
  },
  {
    key: "sigma",
    label: "Noise σ",
    help: "The noise level of the data blur.",
    step: "any",
    methods: ["dsm"],
  },
];

/** A labelled control with its help line (aria-describedby), appended to `parent`. */
const field = fieldMaker("c");

function numberInput(limits: readonly [number, number, boolean], step: string): HTMLInputElement {
  const input = document.createElement("input");
  input.type = "number";
  input.min = String(limits[0]);
  input.max = String(limits[1]);
  input.step = step;
  input.inputMode = limits[2] ? "numeric" : "decimal";
  return input;
}

function select(options: readonly string[], labels?: Record<string, string>): HTMLSelectElement {
  const s = document.createElement("select");
  for (const o of options) {
    const opt = document.createElement("option");
    opt.value = o;
    opt.textContent = labels?.[o] ?? o;
    s.append(opt);
  }
  return s;
}

/** Parses an input against LIMITS[key]; marks it invalid (with the reason as its title) when it is not. */
function readNumber(input: HTMLInputElement, key: keyof typeof LIMITS): number | undefined {
  const [lo, hi, int] = LIMITS[key];
  const v = Number(input.value);
  const ok =
    input.value.trim() !== "" && Number.isFinite(v) && v >= lo && v <= hi && (!int || Number.isInteger(v));
  input.setAttribute("aria-invalid", ok ? "false" : "true");
  input.title = ok ? "" : `${int ? "an integer" : "a number"} in [${lo}, ${hi}]`;
  return ok ? v : undefined;
}

/** Writes the form from `settings` (after a URL load or a programmatic change). */
const writers: (() => void)[] = [];

const METHOD_LABELS: Record<Method, string> = {
  jarzynski: "Jarzynski SMC",
  cd: "CD",
  pcd: "PCD",
  dsm: "Denoising SM",
  nce: "NCE",
};

function buildForm(): void {
  // Data.
  const fsData = $("fs-data");
  const data = select([...DATASETS, "custom"], { custom: "custom (draw or paste)" });
  field(fsData, "Data set", DATA_HELP, data).classList.add("wide");
  data.addEventListener("change", () => {
    settings.data = data.value as Settings["data"];
    changed();
  });
  writers.push(() => (data.value = settings.data));
  const pointsField = topNumber(fsData, TOP_FIELDS["fs-data"][0]);
  const custom = document.createElement("div");
  custom.id = "custom-data";
  fsData.append(custom);
  buildCustomData(custom);
  writers.push(() => {
    custom.hidden = settings.data !== "custom";
    pointsField.hidden = settings.data === "custom";
  });

  for (const id of ["fs-energy", "fs-train"]) for (const f of TOP_FIELDS[id]) topNumber($(id), f);

  // Runs.
  runFields($("fs-a"), "a");
  const fsB = $("fs-b");
  const on = document.createElement("input");
  on.type = "checkbox";
  const onField = field(fsB, "Compare with a second method", "Same data, energy size and seed.", on);
  onField.classList.add("check");
  onField.prepend(on);
  on.addEventListener("change", () => {
    settings.b = on.checked ? (lastB ?? { ...DEFAULT_RUN, method: "pcd" }) : null;
    if (!on.checked) lastB = null;
    changed();
  });
  writers.push(() => (on.checked = settings.b !== null));
  runFields(fsB, "b");

  // Views and backend.
  const fsView = $("fs-view");
  for (const f of TOP_FIELDS["fs-view"]) topNumber(fsView, f);
  const dataBox = document.createElement("input");
  dataBox.type = "checkbox";
  dataBox.checked = showData;
  const df = field(fsView, "Show the data", "White dots under the walkers.", dataBox);
  df.classList.add("check");
  df.prepend(dataBox);
  dataBox.addEventListener("change", () => {
    showData = dataBox.checked;
    for (const r of activeRuns()) drawRun(r);
  });
  const walkersBox = document.createElement("input");
  walkersBox.type = "checkbox";
  walkersBox.checked = showWalkers;
  const wf = field(fsView, "Show the walkers", "Orange circles over the density.", walkersBox);
  wf.classList.add("check");
  wf.prepend(walkersBox);
  walkersBox.addEventListener("change", () => {
    showWalkers = walkersBox.checked;
    for (const r of activeRuns()) drawRun(r);
  });
  const backend = select(["auto", "wasm-simd", "wasm", "typescript"]);
  backendSelect = backend;
  field(
    fsView,
    "Backend",
    "auto picks the fastest the core offers here; the worker reports what runs (top of the page).",
    backend,
  );
  backend.addEventListener("change", () => {
    settings.backend = backend.value;
    changed();
  });
  writers.push(() => {
    if (!Array.from(backend.options).some((o) => o.value === settings.backend))
      backend.append(new Option(settings.backend));
    backend.value = settings.backend;
  });
}

let lastB: RunSettings | null = null;
let backendSelect: HTMLSelectElement | undefined;

function topNumber(parent: HTMLElement, f: NumberField<TopNumber>): HTMLDivElement {
  const input = numberInput(LIMITS[f.key], f.step);
  const div = field(parent, f.label, f.help, input);
  input.addEventListener("change", () => {
    const v = readNumber(input, f.key);
    if (v === undefined) return;
    settings[f.key] = v;
    changed();
  });
  writers.push(() => {
    input.value = String(settings[f.key]);
    input.setAttribute("aria-invalid", "false");
  });
  return div;
}

function runFields(parent: HTMLElement, name: RunName): void {
  const get = () => (name === "a" ? settings.a : settings.b);
  const wrap = document.createElement("div");
  parent.append(wrap);
  const method = select(METHODS, METHOD_LABELS);
  const methodField = field(wrap, "Method", METHOD_HELP.jarzynski, method);
  methodField.classList.add("wide");
  const methodHelp = methodField.querySelector(".help") as HTMLElement;
  method.addEventListener("change", () => {
    const r = get();
    if (!r) return;
    r.method = method.value as Method;
    changed();
  });
  const inputs: [HTMLDivElement, HTMLInputElement, (typeof RUN_FIELDS)[number]][] = [];
  for (const f of RUN_FIELDS) {
    const input = numberInput(LIMITS[f.key], f.step);
    const div = field(wrap, f.label, f.help, input);
    inputs.push([div, input, f]);
    input.addEventListener("change", () => {
      const r = get();
      const v = readNumber(input, f.key);
      if (!r || v === undefined) return;
      r[f.key] = v;
      changed();
    });
  }
  writers.push(() => {
    const r = get();
    wrap.hidden = !r;
    if (!r) return;
    if (name === "b") lastB = r;
    method.value = r.method;
    methodHelp.textContent = METHOD_HELP[r.method];
    for (const [div, input, f] of inputs) {
      input.value = String(r[f.key]);
      input.setAttribute("aria-invalid", "false");
      div.hidden = !f.methods.includes(r.method);
    }
  });
}

/** The pad where custom points are drawn (window [−4, 4]²), the paste box and the point count. */
const PAD_WINDOW = [-4, 4, -4, 4];

function buildCustomData(box: HTMLElement): void {
  const pad = document.createElement("canvas");
  pad.className = "pad";
  pad.setAttribute("role", "img");
  pad.setAttribute("aria-label", "Drawing pad for custom points; use the paste box below with a keyboard");
  const count = document.createElement("p");
  count.className = "help";
  const clear = document.createElement("button");
  clear.type = "button";
  clear.textContent = "Clear points";
  const text = document.createElement("textarea");
  text.rows = 4;
  text.placeholder = "x,y per line, e.g.\n-1.5,0.2\n1.1,0.9";
  const textField = field(
    box,
    "Paste points",
    "One x,y pair per line (comma, space or tab); a header line is skipped. Then press Use pasted points.",
    text,
  );
  textField.style.gridTemplateColumns = "1fr";
  const use = document.createElement("button");
  use.type = "button";
  use.textContent = "Use pasted points";
  const row = document.createElement("div");
  row.style.display = "flex";
  row.style.gap = "4px";
  row.append(use, clear);
  const padHelp = document.createElement("p");
  padHelp.className = "help";
  padHelp.textContent = "Or click and drag on the pad ([−4, 4]²) to spray points.";
  box.prepend(padHelp, pad, count);
  box.append(row);

  const redraw = () => {
    const { ctx, w } = prepare(pad);
    ctx.fillStyle = "#20243a";
    ctx.fillRect(0, 0, w, w);
    ctx.strokeStyle = "rgba(255,255,255,0.2)";
    for (const t of [-2, 0, 2]) {
      const [px] = toPixel(PAD_WINDOW, w, t, 0);
      const [, py] = toPixel(PAD_WINDOW, w, 0, t);
      ctx.beginPath();
      ctx.moveTo(px, 0);
      ctx.lineTo(px, w);
      ctx.moveTo(0, py);
      ctx.lineTo(w, py);
      ctx.stroke();
    }
    ctx.fillStyle = "#fff";
    const p = settings.points;
    for (let i = 0; i < p.length / 2; i++) {
      const [px, py] = toPixel(PAD_WINDOW, w, p[2 * i], p[2 * i + 1]);
      ctx.fillRect(px - 1, py - 1, 2, 2);
    }
    count.textContent = `${p.length / 2} points${p.length / 2 > 400 ? " (too many for the URL: not shared)" : ""}`;
  };
  writers.push(redraw);
  let down = false;
  // The spray is a fixed pattern (a golden-angle spiral, radius ≤ 0.25), not random: drawn data are
  // exactly what the pointer did, and the page's main thread needs no random stream (nor the core).
  let sprayIndex = 0;
  const spray = (e: PointerEvent) => {
    const rect = pad.getBoundingClientRect();
    const [x, y] = fromPixel(PAD_WINDOW, rect.width, e.clientX - rect.left, e.clientY - rect.top);
    for (let i = 0; i < 6 && settings.points.length / 2 < MAX_POINTS; i++) {
      const k = sprayIndex++ % 64;
      const r = 0.25 * Math.sqrt((k + 0.5) / 64);
      const angle = 2.399963229728653 * k;
      settings.points.push(
        Math.round((x + r * Math.cos(angle)) * 100) / 100,
        Math.round((y + r * Math.sin(angle)) * 100) / 100,
      );
    }
    redraw();
  };
  pad.addEventListener("pointerdown", (e) => {
    down = true;
    pad.setPointerCapture(e.pointerId);
    spray(e);
  });
  pad.addEventListener("pointermove", (e) => {
    if (down) spray(e);
  });
  const up = () => {
    if (!down) return;
    down = false;
    changed();
  };
  pad.addEventListener("pointerup", up);
  pad.addEventListener("pointercancel", up);
  clear.addEventListener("click", () => {
    settings.points = [];
    changed();
  });
  use.addEventListener("click", () => {
    try {
      settings.points = parsePoints(text.value);
      text.setAttribute("aria-invalid", "false");
      changed();
    } catch (err) {
      text.setAttribute("aria-invalid", "true");
      showProblems([`pasted points: ${(err as Error).message}`]);
    }
  });
}

function writeForm(): void {
  for (const w of writers) w();
}

function showProblems(list: string[]): void {
  const p = $("problems");
  p.hidden = list.length === 0;
  p.textContent = list.join(" · ");
}

let resetTimer: ReturnType<typeof setTimeout> | undefined;

/** A setting changed: update the URL and the form, and reset the runs (debounced). */
function changed(): void {
  history.replaceState(null, "", `#${settingsToHash(settings)}`);
  writeForm();
  clearTimeout(resetTimer);
  resetTimer = setTimeout(reset, 250);
}

// ---------------------------------------------------------------------------------------------------------
// Workers
// ---------------------------------------------------------------------------------------------------------

function send(r: RunState, m: ToWorker): void {
  r.worker?.postMessage(m);
}

function ensureWorker(r: RunState): Worker {
  if (!r.worker) {
    r.worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: `run ${r.name}` });
    r.worker.onmessage = (e: MessageEvent<FromWorker>) => onMessage(r, e.data);
    r.worker.onerror = (e) => {
      r.error = `the worker failed: ${e.message || "could not load worker.js"}`;
      workerErrors.push(r.error);
      drawRun(r);
      updateStatus();
    };
  }
  return r.worker;
}

function onMessage(r: RunState, m: FromWorker): void {
  if (m.id !== sessionId) return;
  if (m.type === "ready") {
    r.ready = true;
    r.meta = m.meta;
    r.backend = m.backend;
    showBackend(m.backend);
    if (wantRunning) send(r, { type: "run", id: sessionId });
  } else if (m.type === "snapshot") {
    addSnapshot(r.history, m.snapshot);
    for (const row of m.snapshot.trace) if (row.resampled) r.freshResamples.push(row.iteration);
    r.iteration = m.snapshot.iteration;
    r.seconds = m.seconds;
    r.running = m.running;
    r.done = m.done;
    drawRun(r);
    r.freshResamples = [];
    if (activeRuns().every((x) => x.done || x.error)) wantRunning = false;
  } else if (m.type === "error") {
    r.error = m.message;
    r.running = false;
    workerErrors.push(`run ${r.name}: ${m.message}`);
    drawRun(r);
  }
  updateStatus();
}

function reset(): void {
  clearTimeout(resetTimer);
  const problems = checkSettings(settings);
  showProblems(problems);
  sessionId++;
  for (const name of ["a", "b"] as const) {
    const r = runs[name];
    const keep = { worker: r.worker, view: r.view };
    Object.assign(r, newRunState(name), keep);
  }
  layoutRuns();
  if (problems.length > 0) {
    wantRunning = false;
    updateStatus();
    return;
  }
  for (const r of activeRuns()) {
    ensureWorker(r);
    send(r, { type: "init", id: sessionId, settings: cloneSettings(settings), run: r.name });
  }
  if (!settings.b && runs.b.worker) {
    runs.b.worker.terminate();
    runs.b.worker = undefined;
  }
  updateStatus();
}

function startPause(): void {
  const active = activeRuns();
  if (wantRunning) {
    wantRunning = false;
    for (const r of active) send(r, { type: "pause", id: sessionId });
  } else {
    if (active.every((r) => r.done)) reset();
    wantRunning = true;
    for (const r of active) if (r.ready) send(r, { type: "run", id: sessionId });
  }
  updateStatus();
}

function stepOnce(): void {
  wantRunning = false;
  for (const r of activeRuns()) if (r.ready) send(r, { type: "step", id: sessionId, count: 1 });
  updateStatus();
}

// ---------------------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------------------

interface RunView {
  section: HTMLElement;
  title: HTMLElement;
  status: HTMLElement;
  heat: HTMLCanvasElement;
  heatCaption: HTMLElement;
  bars: HTMLCanvasElement;
  logz: HTMLCanvasElement;
  ess: HTMLCanvasElement;
  nll: HTMLCanvasElement;
  loss: HTMLCanvasElement;
  lossFigure: HTMLElement;
  warnings: HTMLElement;
}

function figure(
  parent: HTMLElement,
  cls: string,
  caption: string,
): [HTMLCanvasElement, HTMLElement, HTMLElement] {
  const fig = document.createElement("figure");
  const canvas = document.createElement("canvas");
  canvas.className = cls;
  canvas.setAttribute("role", "img");
  const cap = document.createElement("figcaption");
  cap.textContent = caption;
  fig.append(canvas, cap);
  parent.append(fig);
  return [canvas, cap, fig];
}

function buildView(name: RunName): RunView {
  const section = document.createElement("section");
  section.className = "run";
  section.id = `run-${name}`;
  const title = document.createElement("h2");
  title.id = `run-${name}-title`;
  section.setAttribute("aria-labelledby", title.id);
  const status = document.createElement("p");
  status.className = "run-status";
  const views = document.createElement("div");
  views.className = "views";
  const [heat, heatCaption] = figure(views, "square", "");
  const [bars] = figure(
    views,
    "square",
    "Mode masses: true; the model's by grid quadrature (± |fine − coarse grid|); the walkers' (± 2 SE).",
  );
  const [logz] = figure(
    views,
    "chart",
    "log Z: grid quadrature over the window vs the method's own estimate (± SE band).",
  );
  const [ess] = figure(
    views,
    "chart",
    "ESS/N of the walker weights before resampling; red ticks: resamplings.",
  );
  const [nll] = figure(views, "chart", "Negative log-likelihood of the data (mean U + grid log Z).");
  const [loss, , lossFigure] = figure(views, "chart", "The method's own loss (its objective).");
  const warnings = document.createElement("p");
  warnings.className = "warnings";
  warnings.setAttribute("role", "status");
  section.append(title, status, views, warnings);
  const view = {
    section,
    title,
    status,
    heat,
    heatCaption,
    bars,
    logz,
    ess,
    nll,
    loss,
    lossFigure,
    warnings,
  };
  new ResizeObserver(() => drawRun(runs[name])).observe(heat);
  return view;
}

function layoutRuns(): void {
  const main = $("runs");
  main.classList.toggle("two", settings.b !== null);
  for (const r of [runs.a, runs.b]) {
    const on = r.name === "a" || settings.b !== null;
    if (on && !r.view) {
      r.view = buildView(r.name);
      main.append(r.view.section);
    }
    if (r.view) r.view.section.hidden = !on;
    if (on) drawRun(r);
  }
}

function fmt(v: number | undefined, digits = 3): string {
  return v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits);
}

function drawRun(r: RunState): void {
  const v = r.view;
  if (!v || v.section.hidden) return;
  const rs = r.name === "a" ? settings.a : settings.b;
  const method = r.meta?.method ?? rs?.method ?? "jarzynski";
  v.title.textContent = `${r.name.toUpperCase()} · ${METHOD_LABELS[method]} on ${settings.data}`;
  const s = r.history.last;
  const meta = r.meta;
  const h = r.history;
  const rate = r.seconds > 0 && r.iteration > 0 ? `${(r.iteration / r.seconds).toFixed(0)} it/s · ` : "";
  v.status.textContent = r.error
    ? `error: ${r.error}`
    : !r.ready
      ? "building the model…"
      : `iteration ${r.iteration} / ${settings.iters}${r.done ? " (done)" : r.running ? " (running)" : ""} · ${rate}θ ${s?.theta.slice(0, 8) ?? ""}`;
  v.heatCaption.textContent =
    `Density e^{−U}/Z on ${meta ? meta.window.join(", ") : "the window"} (colour ∝ √density)` +
    (meta?.hasWalkers
      ? meta.weighted
        ? "; walkers: circle area ∝ weight."
        : "; walkers (equal weights)."
      : "; no walkers for this method.");
  drawHeatmap(v.heat, {
    window: meta?.window ?? PAD_WINDOW,
    gridN: s?.gridN ?? 0,
    density: s?.density,
    data: meta?.data,
    showData,
    showWalkers,
    walkers: s?.walkers,
    weights: s?.weights,
    walkerCount: s?.walkerCount ?? 0,
    centres: meta?.centres ?? [],
    resampled: r.freshResamples,
  });
  v.heat.setAttribute(
    "aria-label",
    s
      ? `Density heatmap at iteration ${s.iteration}; grid log Z ${fmt(s.logZGrid)}; ${s.walkers ? `${s.walkers.length / 2} walkers shown` : "no walkers"}; ${s.resamplings} resamplings so far`
      : "Density heatmap (no snapshot yet)",
  );
  const m = s?.masses;
  drawBars(v.bars, {
    target: meta?.target ?? [],
    model: m?.grid,
    modelError: m?.gridError,
    walkers: m?.walkers,
    walkersSe: m?.walkersSe,
  });
  v.bars.setAttribute(
    "aria-label",
    m
      ? "Mode masses: " +
          m.target
            .map(
              (t, c) =>
                `mode ${c + 1} true ${fmt(t, 2)}, model ${fmt(m.grid[c])} ± ${fmt(m.gridError[c])}` +
                (m.walkers ? `, walkers ${fmt(m.walkers[c])} ± ${fmt(m.walkersSe?.[c])}` : ""),
            )
            .join("; ")
      : "Mode masses: none for these data",
  );
  const xmax = settings.iters;
  const logZSeries = [
    {
      name: "grid",
      color: COLORS.model,
      x: h.snapIteration,
      y: h.logZGrid,
      band: h.logZGridError,
    },
  ];
  if (meta?.hasLogZ)
    logZSeries.push({
      name: meta.weighted ? "walkers ± SE" : "NCE ĉ ± SE",
      color: COLORS.walkers,
      x: h.iteration,
      y: h.logZ,
      band: h.logZSe,
    });
  drawLines(v.logz, { series: logZSeries, xmax });
  v.logz.setAttribute(
    "aria-label",
    `log Z: grid ${fmt(h.logZGrid.at(-1))}${meta?.hasLogZ ? `, method ${fmt(h.logZ.at(-1))} ± ${fmt(h.logZSe.at(-1))}` : ""}`,
  );
  drawLines(v.ess, {
    series: meta?.weighted ? [{ name: "ESS/N", color: COLORS.walkers, x: h.iteration, y: h.ess }] : [],
    events: h.resampledAt,
    eventName: "resampled",
    xmax,
    ylim: [0, 1],
    empty: "no weights for this method",
  });
  v.ess.setAttribute(
    "aria-label",
    meta?.weighted
      ? `ESS/N ${fmt(h.ess.at(-1))}; ${h.resampledAt.length} resamplings`
      : "no walker weights for this method",
  );
  drawLines(v.nll, { series: [{ name: "NLL", color: COLORS.extra, x: h.snapIteration, y: h.nll }], xmax });
  v.nll.setAttribute("aria-label", `negative log-likelihood ${fmt(h.nll.at(-1))}`);
  v.lossFigure.hidden = !meta?.hasLoss;
  if (meta?.hasLoss) {
    drawLines(v.loss, {
      series: [{ name: `${method} loss`, color: COLORS.text, x: h.iteration, y: h.loss }],
      xmax,
    });
    v.loss.setAttribute("aria-label", `${method} loss ${fmt(h.loss.at(-1))}`);
  }
  v.warnings.textContent = s?.warnings.length ? `Weights: ${s.warnings.join(" ")}` : "";
}

function showBackend(b: BackendReport): void {
  // Every backend the core registered here can be asked for (each appears by registering itself with the
  // core).
  const choice = backendSelect;
  if (choice)
    for (const name of b.available)
      if (!Array.from(choice.options).some((o) => o.value === name)) choice.append(new Option(name));
  const what =
    b.name === "wasm-simd"
      ? `wasm-simd (the native C++ kernels built for WebAssembly SIMD, ${
          b.threads > 1
            ? `${b.threads} threads: a helper worker takes half of each large call`
            : `1 thread: ${b.threadsReason ?? "no helper"}`
        }) for the network`
      : b.name === "wasm"
        ? `wasm (TensorFlow.js WebAssembly${b.simd ? ", SIMD" : ""}, single-threaded as in Node) for the network`
        : b.name === "typescript"
          ? "typescript (the core's portable kernels, float64) for the network"
          : `${b.name} for the network`;
  const passed = b.fallback.length
    ? ` (passed over: ${b.fallback.map((f) => `${f.backend}: ${f.reason}`).join("; ")})`
    : "";
  const noWasm = b.webassembly ? "" : " WebAssembly is unavailable here, so the TypeScript fallback runs.";
  $("backend").textContent =
    `Training in a Web Worker · backend ${what}${passed}; walkers, weights and the optimizer in float64 TypeScript.${noWasm} ` +
    `Registered backends: ${b.available.join(", ")}.`;
}

function updateStatus(): void {
  const active = activeRuns();
  const start = $<HTMLButtonElement>("start");
  start.textContent = wantRunning ? "Pause" : active.every((r) => r.done) ? "Restart" : "Start";
  start.setAttribute("aria-pressed", String(wantRunning));
  const ready = active.every((r) => r.ready && !r.error);
  start.disabled = !ready && !wantRunning;
  $<HTMLButtonElement>("step").disabled = !ready || active.every((r) => r.done);
  const errs = active.filter((r) => r.error).map((r) => `${r.name.toUpperCase()}: ${r.error}`);
  $("status").textContent = errs.length
    ? errs.join(" · ")
    : active.map((r) => `${r.name.toUpperCase()} ${r.ready ? `it ${r.iteration}` : "loading"}`).join(" · ") +
      (wantRunning ? " · running" : "");
}

// ---------------------------------------------------------------------------------------------------------
// Start-up and the test hook
// ---------------------------------------------------------------------------------------------------------

/** `window.__playground`: read-only views of the page's state for tests and the curious. */
export interface Hook {
  settings(): Settings;
  status(): Record<
    RunName,
    { ready: boolean; iteration: number; done: boolean; running: boolean; error?: string }
  >;
  summary(run: RunName): RunSummary | undefined;
  backend(): BackendReport | undefined;
  errors(): string[];
}

const hook: Hook = {
  settings: () => cloneSettings(settings),
  status: () => {
    const one = (r: RunState) => ({
      ready: r.ready,
      iteration: r.iteration,
      done: r.done,
      running: r.running,
      error: r.error,
    });
    return { a: one(runs.a), b: one(runs.b) };
  },
  summary: (run) => (runs[run].history.last ? summarize(runs[run].history) : undefined),
  backend: () => runs.a.backend,
  errors: () => [...workerErrors],
};
(globalThis as unknown as { __playground: Hook }).__playground = hook;

buildForm();
writeForm();
$("start").addEventListener("click", startPause);
$("step").addEventListener("click", stepOnce);
$("reset").addEventListener("click", () => {
  wantRunning = false;
  reset();
});
$("next-seed").addEventListener("click", () => {
  settings.seed = settings.seed + 1 > LIMITS.seed[1] ? 0 : settings.seed + 1;
  changed();
});
addEventListener("hashchange", () => {
  const next = settingsFromHash(location.hash);
  if (next.settings.data === "custom" && next.settings.points.length === 0)
    next.settings.points = settings.points;
  if (settingsToHash(next.settings) === settingsToHash(settings)) return;
  settings = next.settings;
  showProblems(next.problems);
  writeForm();
  reset();
});
if (urlProblems.length > 0) showProblems(urlProblems);
if (location.hash === "") history.replaceState(null, "", `#${settingsToHash(DEFAULTS)}`);
reset();
if (urlProblems.length > 0)
  showProblems([...urlProblems, ...checkSettings(settings)].filter((p, i, a) => a.indexOf(p) === i));

// The Sampler tab (sampler/page.ts) owns the tab switch; it keeps this tab's settings in front of its own in
// the URL.
mountSampler({ trainHash: () => settingsToHash(settings) });
