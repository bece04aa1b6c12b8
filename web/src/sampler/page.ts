/**
 * The sampler tab (main thread): the Train/Sampler tab switch, this tab's form and URL keys, and its views —
 * the target's density with the chains' draws, the trace of each coordinate per chain, and the diagnostics
 * table (each estimate ± its Monte-Carlo standard error next to the exact value). It never samples: each run
 * goes to a module Web Worker (sampler-worker.ts), and this file only draws what comes back. Like main.ts it
 * does not import the core, so the page stays small.
 *
 * Test hook: `window.__sampler` (SamplerHook) reports the tab's state and the last run's numbers as plain
 * data; test/browser/sampler-tab.test.ts reads them and compares them with Node's run.
 */
import { COLORS, drawHeatmap, drawLines, toPixel } from "../draw.ts";
import type { FromSamplerWorker, ToSamplerWorker } from "./protocol.ts";
import {
  fixed,
  MAX_RHAT,
  MIN_ESS_PER_CHAIN,
  type ResultNumbers,
  resultNumbers,
  withError,
} from "./report.ts";
import type { SamplerResult, TargetView } from "./session.ts";
import {
  checkSamplerSettings,
  cliCommand,
  cloneSamplerSettings,
  EXAMPLE_FILE,
  pageHash,
  SAMPLER_HELP,
  SAMPLER_LABELS,
  SAMPLER_LIMITS,
  SAMPLERS,
  type SamplerName,
  type SamplerNumber,
  type SamplerSettings,
  samplerFromHash,
  TARGET_ACCEPTANCE,
  TARGET_FILES,
  TARGET_HELP,
  TARGET_LABELS,
  type TargetName,
  TARGETS,
} from "./settings.ts";
import { fieldMaker } from "../form.ts";

type Tab = "train" | "sampler";

/** `window.__sampler`: read-only views of the tab's state for tests and the curious. */
export interface SamplerHook {
  tab(): Tab;
  settings(): SamplerSettings;
  /** `shown`: the settings of the result shown (undefined before the first). */
  status(): { running: boolean; done: boolean; error?: string; runs: number; shown?: SamplerSettings };
  numbers(): ResultNumbers | undefined;
  errors(): string[];
}

export interface MountOptions {
  /** The Train tab's part of the URL fragment (its settings), kept in front of this tab's keys. */
  trainHash: () => string;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** One colour per chain (cycled past eight), readable on the density's dark colours and on white. */
const CHAIN_COLORS = ["#f28e2b", "#e8467c", "#17becf", "#f1ce3a", "#b07aa1", "#d62728", "#8c9eff", "#9c755f"];
const chainColor = (c: number) => CHAIN_COLORS[c % CHAIN_COLORS.length];
/** At most this many draws are drawn as dots (evenly thinned beyond; every draw enters the numbers). */
const MAX_DOTS = 12000;
const SUB = ["₁", "₂"];

interface View {
  title: HTMLElement;
  status: HTMLElement;
  density: HTMLCanvasElement;
  densityCaption: HTMLElement;
  traces: HTMLCanvasElement[];
  table: HTMLTableSectionElement;
  run: HTMLTableSectionElement;
  warnings: HTMLElement;
  targetFile: HTMLElement;
  command: HTMLElement;
}

export function mountSampler(opts: MountOptions): void {
  const parsed = samplerFromHash(location.hash);
  let tab: Tab = parsed.tab;
  let settings = parsed.settings;
  let runId = 0;
  let worker: Worker | undefined;
  let running = false;
  let runs = 0;
  let error: string | undefined;
  let progress = "";
  let target: TargetView | undefined;
  let result: SamplerResult | undefined;
  let seconds = 0;
  let backend = "";
  /** Settings of the result (or run) shown, to know whether the form changed since. */
  let shownKey = "";
  const errors: string[] = [];
  const writers: (() => void)[] = [];
  let view: View | undefined;

  // -------------------------------------------------------------------------------------------------------
  // Tabs

  const tabs: Record<Tab, HTMLButtonElement> = { train: $("tab-train"), sampler: $("tab-sampler") };
  const panels: Record<Tab, HTMLElement> = { train: $("panel-train"), sampler: $("panel-sampler") };

  /** Shows a tab; `user`: the reader switched (the URL then follows), not the page's start. */
  function showTab(next: Tab, user = true, focus = false): void {
    tab = next;
    for (const t of ["train", "sampler"] as const) {
      const on = t === next;
      tabs[t].setAttribute("aria-selected", String(on));
      if (on) tabs[t].setAttribute("aria-current", "page");
      else tabs[t].removeAttribute("aria-current");
      tabs[t].tabIndex = on ? 0 : -1;
      panels[t].hidden = !on;
    }
    // The header's line says what runs on the tab shown.
    $("backend").hidden = next !== "train";
    $("sampler-backend").hidden = next !== "sampler";
    document.title =
      next === "sampler"
        ? "ebm playground — MCMC samplers on 2-D targets"
        : "ebm playground — train an energy on 2-D data";
    if (focus) tabs[next].focus();
    if (next === "sampler") {
      if (!view) view = buildView();
      if (user) writeUrl();
      if (keyOf(settings) !== shownKey) run();
      else draw();
    } else if (user) history.replaceState(null, "", `#${opts.trainHash()}`);
  }

  for (const t of ["train", "sampler"] as const) {
    tabs[t].addEventListener("click", () => showTab(t));
    // Arrow keys move between tabs (the ARIA tabs pattern); Tab goes on into the panel.
    tabs[t].addEventListener("keydown", (e) => {
      const other: Tab = t === "train" ? "sampler" : "train";
      const dest =
        e.key === "ArrowRight" || e.key === "ArrowLeft"
          ? other
          : e.key === "Home"
            ? "train"
            : e.key === "End"
              ? "sampler"
              : undefined;
      if (dest) {
        e.preventDefault();
        showTab(dest, true, true);
      }
    });
  }
  // The skip link goes to the views of the tab shown (as a link it would replace the URL's settings).
  document.querySelector<HTMLAnchorElement>("a.skip")?.addEventListener("click", (e) => {
    e.preventDefault();
    const main = panels[tab].querySelector("main");
    main?.focus();
  });

  // -------------------------------------------------------------------------------------------------------
  // The form

  const field = fieldMaker("s");

  function select<T extends string>(options: readonly T[], labels: Record<T, string>): HTMLSelectElement {
    const s = document.createElement("select");
    for (const o of options) s.append(new Option(labels[o], o));
    return s;
  }

  function numberField(parent: HTMLElement, key: SamplerNumber, label: string, help: string): HTMLDivElement {
    const [lo, hi, int] = SAMPLER_LIMITS[key];
    const input = document.createElement("input");
    input.type = "number";
    input.min = String(lo);
    input.max = String(hi);
    input.step = int ? "1" : "any";
    input.inputMode = int ? "numeric" : "decimal";
    const div = field(parent, label, help, input);
    input.addEventListener("change", () => {
      const v = Number(input.value);
      const ok =
        input.value.trim() !== "" &&
        Number.isFinite(v) &&
        v >= lo &&
        v <= hi &&
        (!int || Number.isInteger(v));
      input.setAttribute("aria-invalid", ok ? "false" : "true");
      input.title = ok ? "" : `${int ? "an integer" : "a number"} in [${lo}, ${hi}]`;
      if (!ok) return;
      settings[key] = v;
      changed();
    });
    writers.push(() => {
      input.value = String(settings[key]);
      input.setAttribute("aria-invalid", "false");
      input.title = "";
    });
    return div;
  }

  function buildForm(): void {
    const fsTarget = $("s-fs-target");
    const targetSelect = select(TARGETS, TARGET_LABELS);
    const targetField = field(fsTarget, "Target", TARGET_HELP[settings.target], targetSelect);
    targetField.classList.add("wide");
    targetSelect.addEventListener("change", () => {
      settings.target = targetSelect.value as TargetName;
      changed();
    });
    writers.push(() => {
      targetSelect.value = settings.target;
      targetField.querySelector(".help")!.textContent = TARGET_HELP[settings.target];
    });

    const fsSampler = $("s-fs-sampler");
    const samplerSelect = select(SAMPLERS, SAMPLER_LABELS);
    const samplerField = field(fsSampler, "Kernel", SAMPLER_HELP[settings.sampler], samplerSelect);
    samplerField.classList.add("wide");
    samplerSelect.addEventListener("change", () => {
      settings.sampler = samplerSelect.value as SamplerName;
      changed();
    });
    const adapt = document.createElement("input");
    adapt.type = "checkbox";
    const adaptField = field(
      fsSampler,
      "Adapt in warm-up",
      "Tune the step size (to the kernel's target acceptance) and the mass matrix during warm-up, as Stan does.",
      adapt,
    );
    adaptField.classList.add("check");
    adaptField.prepend(adapt);
    adapt.addEventListener("change", () => {
      settings.adapt = adapt.checked;
      changed();
    });
    const stepField = numberField(
      fsSampler,
      "step",
      "Step size",
      "Used as given, with an identity mass matrix (the proposal scale for RWM, h for MALA, ε for HMC and NUTS).",
    );
    const leapField = numberField(
      fsSampler,
      "leapfrog",
      "Leapfrog steps",
      "HMC's longest trajectory: each transition draws its length from 1 to this.",
    );
    writers.push(() => {
      samplerSelect.value = settings.sampler;
      samplerField.querySelector(".help")!.textContent = SAMPLER_HELP[settings.sampler];
      adapt.checked = settings.adapt;
      stepField.hidden = settings.adapt;
      leapField.hidden = settings.sampler !== "hmc";
    });

    const fsRun = $("s-fs-run");
    numberField(fsRun, "draws", "Draws", "Draws kept per chain, after warm-up.");
    numberField(
      fsRun,
      "warmup",
      "Warm-up",
      "Iterations per chain before the draws (adaptation happens here); never shown.",
    );
    numberField(
      fsRun,
      "chains",
      "Chains",
      "Independent chains, each started uniformly in [−2, 2]²; R-hat compares them.",
    );
    numberField(
      fsRun,
      "seed",
      "Seed",
      "Starting points and every random draw come from it: a seed gives the same numbers everywhere.",
    );
  }

  function writeForm(): void {
    for (const w of writers) w();
  }

  function showProblems(list: string[]): void {
    const p = $("s-problems");
    p.hidden = list.length === 0;
    p.textContent = list.join(" · ");
  }

  let runTimer: ReturnType<typeof setTimeout> | undefined;

  function writeUrl(): void {
    history.replaceState(null, "", `#${pageHash(opts.trainHash(), settings)}`);
  }

  /** A setting changed: the URL and the form follow, and the run restarts (debounced). */
  function changed(): void {
    writeUrl();
    writeForm();
    clearTimeout(runTimer);
    runTimer = setTimeout(run, 250);
  }

  // -------------------------------------------------------------------------------------------------------
  // The worker

  const keyOf = (s: SamplerSettings) => JSON.stringify(s);

  function newWorker(): Worker {
    const w = new Worker(new URL("./sampler-worker.js", import.meta.url), {
      type: "module",
      name: "sampler",
    });
    w.onmessage = (e: MessageEvent<FromSamplerWorker>) => onMessage(e.data);
    w.onerror = (e) => {
      error = `the sampler worker failed: ${e.message || "could not load sampler-worker.js"}`;
      errors.push(error);
      running = false;
      worker = undefined;
      draw();
    };
    return w;
  }

  function run(): void {
    clearTimeout(runTimer);
    const problems = checkSamplerSettings(settings);
    showProblems(problems);
    if (problems.length > 0) return;
    // A run in progress cannot be interrupted from inside (it is one synchronous loop): end its worker.
    if (running && worker) {
      worker.terminate();
      worker = undefined;
    }
    worker ??= newWorker();
    runId++;
    running = true;
    error = undefined;
    progress = "starting";
    result = undefined;
    shownKey = keyOf(settings);
    const m: ToSamplerWorker = { type: "run", id: runId, settings: cloneSamplerSettings(settings) };
    worker.postMessage(m);
    draw();
  }

  function stop(): void {
    if (!running || !worker) return;
    worker.terminate();
    worker = undefined;
    running = false;
    runId++;
    progress = "stopped";
    draw();
  }

  function onMessage(m: FromSamplerWorker): void {
    if (m.id !== runId) return;
    if (m.type === "target") target = m.view;
    else if (m.type === "progress")
      progress = `${m.phase === "warmup" ? "warm-up" : "sampling"} ${m.done} / ${m.total}`;
    else if (m.type === "result") {
      result = m.result;
      seconds = m.seconds;
      backend = m.backend;
      running = false;
      runs++;
    } else {
      error = m.message;
      errors.push(m.message);
      running = false;
    }
    draw();
  }

  // -------------------------------------------------------------------------------------------------------
  // Views

  function figure(parent: HTMLElement, cls: string): [HTMLCanvasElement, HTMLElement] {
    const fig = document.createElement("figure");
    const canvas = document.createElement("canvas");
    canvas.className = cls;
    canvas.setAttribute("role", "img");
    const cap = document.createElement("figcaption");
    fig.append(canvas, cap);
    parent.append(fig);
    return [canvas, cap];
  }

  function buildView(): View {
    const main = $("sampler-views");
    const section = document.createElement("section");
    section.className = "run";
    const title = document.createElement("h2");
    title.id = "s-title";
    section.setAttribute("aria-labelledby", title.id);
    const status = document.createElement("p");
    status.className = "run-status";
    status.setAttribute("role", "status");
    const views = document.createElement("div");
    views.className = "views sampler-views";
    const [density, densityCaption] = figure(views, "square");
    const traces: HTMLCanvasElement[] = [];
    for (let j = 0; j < 2; j++) {
      const [c, cap] = figure(views, "chart");
      cap.textContent = `Trace of x${SUB[j]}: every kept draw of each chain, in order (colours as on the left); grey: the exact mean. Chains that agree overlap like noise.`;
      traces.push(c);
    }
    const tables = document.createElement("div");
    tables.className = "sampler-tables";
    const [tableWrap, , tableBody] = makeTable(
      "Diagnostics per coordinate: estimates ± Monte-Carlo standard error (MCSE) from the bulk ESS, next to the exact values.",
      ["", "x₁", "x₂"],
    );
    const [runWrap, runTable, runBody] = makeTable("The run", ["", ""]);
    runTable.classList.add("facts");
    tables.append(tableWrap, runWrap);
    const warnings = document.createElement("ul");
    warnings.className = "warnings";
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = "The same run in Node";
    const note = document.createElement("p");
    note.className = "help";
    note.textContent =
      "Save the target below as target.json (or use the example file named) and run the command: it prints this table's numbers, to the last digit.";
    const targetFile = document.createElement("pre");
    const command = document.createElement("pre");
    details.append(summary, note, targetFile, command);
    section.append(title, status, views, tables, warnings, details);
    main.append(section);
    const v = {
      title,
      status,
      density,
      densityCaption,
      traces,
      table: tableBody,
      run: runBody,
      warnings,
      targetFile,
      command,
    };
    const ro = new ResizeObserver(() => draw());
    ro.observe(density);
    return v;
  }

  function makeTable(
    caption: string,
    head: string[],
  ): [HTMLElement, HTMLTableElement, HTMLTableSectionElement] {
    const wrap = document.createElement("div");
    wrap.className = "table-wrap";
    const table = document.createElement("table");
    table.createCaption().textContent = caption;
    const thead = table.createTHead();
    const row = thead.insertRow();
    for (const h of head) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = h;
      row.append(th);
    }
    const body = table.createTBody();
    wrap.append(table);
    return [wrap, table, body];
  }

  /** Replaces the rows of `body`: [label, help, ...cells], a cell being text or [text, bad]. */
  function fillRows(
    body: HTMLTableSectionElement,
    rows: [string, string, ...(string | [string, boolean])[]][],
  ): void {
    body.replaceChildren();
    for (const [label, help, ...cells] of rows) {
      const tr = body.insertRow();
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = label;
      if (help) th.title = help;
      tr.append(th);
      for (const c of cells) {
        const td = tr.insertCell();
        const [text, bad] = typeof c === "string" ? [c, false] : c;
        td.textContent = text;
        if (bad) td.className = "bad";
      }
    }
  }

  function draw(): void {
    const v = view;
    if (!v || tab !== "sampler") return;
    const s = result?.settings ?? settings;
    v.title.textContent = `${SAMPLER_LABELS[s.sampler]} on ${TARGET_LABELS[s.target]} · ${s.chains} chain${s.chains === 1 ? "" : "s"} × ${s.draws} draws`;
    const stale = result && keyOf(settings) !== keyOf(result.settings) && !running;
    v.status.textContent = error
      ? `error: ${error}`
      : running
        ? `running in a Web Worker: ${progress}…`
        : result
          ? `done in ${seconds.toFixed(2)} s (seed ${s.seed}; warm-up ${s.warmup}${s.adapt ? ", adapted" : `, fixed step ${s.step}`})${stale ? " · the settings changed: press Run" : ""}`
          : progress === "stopped"
            ? "stopped"
            : "";
    $("sampler-backend").textContent = backend
      ? `Sampling in a Web Worker · ${backend} kernels (the core's portable float64 TypeScript); analytic targets, nothing fetched.`
      : "Sampling in a Web Worker.";
    const runButton = $<HTMLButtonElement>("s-run");
    runButton.textContent = running ? "Stop" : "Run";
    $("s-status").textContent = running ? progress : result ? `${runs} run${runs === 1 ? "" : "s"} done` : "";

    drawDensity(v);
    drawTraces(v);
    fillTables(v);
    const file = TARGET_FILES[s.target];
    const example = EXAMPLE_FILE[s.target];
    v.targetFile.textContent = `target.json: ${JSON.stringify(file)}${example ? `\n(the target of ${example}${s.target === "funnel" ? ", which has dim: 10" : ""})` : ""}`;
    v.command.textContent = cliCommand(
      s,
      s.target === "gmm2d" ? "examples/targets/gmm2d.yaml" : "target.json",
    );
  }

  function drawDensity(v: View): void {
    const t = target && target.target === (result?.settings.target ?? settings.target) ? target : undefined;
    const win = t?.window ?? [-4, 4, -4, 4];
    drawHeatmap(v.density, {
      window: win,
      gridN: t?.gridN ?? 0,
      density: t?.density,
      showData: false,
      showWalkers: false,
      walkerCount: 0,
      centres: [],
      resampled: [],
    });
    const ctx = v.density.getContext("2d")!;
    const size = Math.max(1, Math.round(v.density.getBoundingClientRect().width)); // as draw.ts's prepare
    const r = result;
    if (r) {
      const n = r.numDraws * r.chains;
      const every = Math.max(1, Math.ceil(n / MAX_DOTS));
      ctx.globalAlpha = 0.75;
      for (let i = 0; i < n; i += every) {
        const [px, py] = toPixel(win, size, r.draws[2 * i], r.draws[2 * i + 1]);
        if (px < -2 || py < -2 || px > size + 2 || py > size + 2) continue;
        ctx.fillStyle = chainColor(i % r.chains);
        ctx.fillRect(px - 1.1, py - 1.1, 2.2, 2.2);
      }
      ctx.globalAlpha = 1;
      // Draws a divergent transition led to (every one, thinned or not): red rings.
      ctx.strokeStyle = "#e0001b";
      ctx.lineWidth = 1.5;
      for (let i = 0; i < n; i++) {
        if (!r.divergent[i]) continue;
        const [px, py] = toPixel(win, size, r.draws[2 * i], r.draws[2 * i + 1]);
        ctx.beginPath();
        ctx.arc(px, py, 3.5, 0, 2 * Math.PI);
        ctx.stroke();
      }
    }
    if (t) {
      // The exact mean: a white cross.
      const [px, py] = toPixel(win, size, t.mean[0], t.mean[1]);
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(px - 6, py);
      ctx.lineTo(px + 6, py);
      ctx.moveTo(px, py - 6);
      ctx.lineTo(px, py + 6);
      ctx.stroke();
    }
    const thin =
      r && r.numDraws * r.chains > MAX_DOTS
        ? ` (1 draw in ${Math.ceil((r.numDraws * r.chains) / MAX_DOTS)} shown)`
        : "";
    v.densityCaption.textContent =
      `Density e^{−U}/Z on [${win[0]}, ${win[1]}] × [${win[2]}, ${win[3]}] (colour ∝ √density, x₁ across, x₂ up); ` +
      `dots: the draws, one colour per chain${thin}; ` +
      (r && r.divergences > 0
        ? `red rings: the ${r.divergent.reduce((a, v) => a + v, 0)} draws after a divergent transition; `
        : "") +
      "white cross: the exact mean.";
    v.density.setAttribute(
      "aria-label",
      r
        ? `Density of ${TARGET_LABELS[r.settings.target]} with ${r.numDraws} draws of each of ${r.chains} chains; sample mean ` +
            r.summaries
              .map(
                (q, j) => `x${SUB[j]} ${withError(q.mean, q.mcse_mean)} (exact ${fixed(r.exactMean[j], 3)})`,
              )
              .join(", ")
        : "Density of the target (no draws yet)",
    );
  }

  function drawTraces(v: View): void {
    const r = result;
    for (let j = 0; j < 2; j++) {
      const canvas = v.traces[j];
      if (!r) {
        drawLines(canvas, {
          series: [],
          xmax: settings.draws,
          empty: running ? "sampling…" : "no draws yet",
        });
        canvas.setAttribute("aria-label", `Trace of x${SUB[j]} (no draws yet)`);
        continue;
      }
      const x = Float64Array.from({ length: r.numDraws }, (_, t) => t + 1);
      const series = [];
      for (let c = 0; c < r.chains; c++) {
        const y = new Float64Array(r.numDraws);
        for (let t = 0; t < r.numDraws; t++) y[t] = r.draws[(t * r.chains + c) * 2 + j];
        series.push({ name: `chain ${c + 1}`, color: chainColor(c), x, y });
      }
      const m = r.exactMean[j];
      series.push({ name: "exact mean", color: COLORS.target, x: [0, r.numDraws], y: [m, m] });
      drawLines(canvas, { series, xmax: r.numDraws });
      const q = r.summaries[j];
      canvas.setAttribute(
        "aria-label",
        `Trace of x${SUB[j]}: ${r.chains} chains × ${r.numDraws} draws; R-hat ${fixed(q.rhat, 3)}, bulk ESS ${fixed(q.ess_bulk, 0)}`,
      );
    }
  }

  function fillTables(v: View): void {
    const r = result;
    if (!r) {
      fillRows(v.table, []);
      fillRows(v.run, []);
      v.warnings.replaceChildren();
      return;
    }
    const q = r.summaries;
    const minEss = MIN_ESS_PER_CHAIN * r.chains;
    const both = (f: (j: number) => string | [string, boolean]) => [f(0), f(1)];
    fillRows(v.table, [
      [
        "mean ± MCSE",
        "The average of all draws, ± its Monte-Carlo standard error.",
        ...both((j) => withError(q[j].mean, q[j].mcse_mean)),
      ],
      ["exact mean", "The target's mean, in closed form.", ...both((j) => fixed(r.exactMean[j], 3))],
      [
        "(mean − exact) / MCSE",
        "Within ±2 about 95% of the time when the MCSE is right and the chains are unbiased.",
        ...both((j): [string, boolean] => {
          const z = (q[j].mean - r.exactMean[j]) / q[j].mcse_mean;
          return [fixed(z, 2), Math.abs(z) > 3];
        }),
      ],
      [
        "sd ± MCSE",
        "The standard deviation of all draws, ± its Monte-Carlo standard error.",
        ...both((j) => withError(q[j].sd, q[j].mcse_sd)),
      ],
      [
        "exact sd",
        "The target's standard deviation, in closed form.",
        ...both((j) => fixed(r.exactSd[j], 3)),
      ],
      [
        "ESS bulk",
        `Effective sample size of the rank-normalized draws (Vehtari et al. 2021); below ${minEss} (100 per chain) is flagged.`,
        ...both((j): [string, boolean] => [fixed(q[j].ess_bulk, 0), !(q[j].ess_bulk >= minEss)]),
      ],
      [
        "ESS tail",
        "Effective sample size of the 5% and 95% quantiles (the smaller).",
        ...both((j): [string, boolean] => [fixed(q[j].ess_tail, 0), !(q[j].ess_tail >= minEss)]),
      ],
      [
        "R-hat",
        `Rank-normalized split R-hat: chains (and their halves) agree near 1; above ${MAX_RHAT} is flagged.`,
        ...both((j): [string, boolean] => [fixed(q[j].rhat, 3), !(q[j].rhat <= MAX_RHAT)]),
      ],
    ]);
    const s = r.settings;
    fillRows(v.run, [
      [
        "acceptance",
        "Mean acceptance probability of the draws' transitions (NUTS: Stan's accept_stat).",
        `${fixed(r.acceptance, 3)}${s.adapt ? ` (adapted toward ${TARGET_ACCEPTANCE[s.sampler]})` : ""}`,
      ],
      ["step size", "The step the draws used.", `${fixed(r.step, 4)}${s.adapt ? " (adapted)" : " (fixed)"}`],
      [
        "divergences",
        "Transitions whose energy error passed 1000 or was not finite (HMC, NUTS; for RWM and MALA: a non-finite energy).",
        [`${r.divergences} after warm-up, ${r.warmupDivergences} in warm-up`, r.divergences > 0],
      ],
      [
        "mass matrix",
        "M⁻¹ adapted in warm-up (dense in 2-D; RWM adapts only its step); identity otherwise.",
        r.inverseMass ? `[${r.inverseMass.map((x) => fixed(x, 3)).join(", ")}]` : "identity",
      ],
    ]);
    v.warnings.replaceChildren(
      ...r.warnings.map((w) => {
        const li = document.createElement("li");
        li.textContent = w;
        return li;
      }),
    );
  }

  // -------------------------------------------------------------------------------------------------------
  // Start-up

  buildForm();
  writeForm();
  $("s-run").addEventListener("click", () => (running ? stop() : run()));
  $("s-next-seed").addEventListener("click", () => {
    settings.seed = settings.seed + 1 > SAMPLER_LIMITS.seed[1] ? 0 : settings.seed + 1;
    changed();
  });
  addEventListener("hashchange", () => {
    const next = samplerFromHash(location.hash);
    if (keyOf(next.settings) !== keyOf(settings)) {
      settings = next.settings;
      showProblems(next.problems);
      writeForm();
    }
    // Shows the tab, and runs the new settings if it is this one.
    if (next.tab !== tab || tab === "train") showTab(next.tab, false);
    else if (keyOf(settings) !== shownKey) run();
  });
  if (parsed.problems.length > 0) showProblems(parsed.problems);
  showTab(tab, false);

  const hook: SamplerHook = {
    tab: () => tab,
    settings: () => cloneSamplerSettings(settings),
    status: () => ({
      running,
      done: result !== undefined && !running,
      error,
      runs,
      shown: result ? cloneSamplerSettings(result.settings) : undefined,
    }),
    numbers: () => (result ? resultNumbers(result) : undefined),
    errors: () => [...errors],
  };
  (globalThis as unknown as { __sampler: SamplerHook }).__sampler = hook;
}
