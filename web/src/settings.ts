/**
 * The playground's settings: what a session is a pure function of (with the seed inside), their defaults,
 * their checks, and their round trip through the page's URL (the part after `#`, as `key=value&…`).
 *
 * Host-free and import-free (no core, no DOM): the page, the worker and the tests share it, and the page
 * stays small because it never loads the core (training happens in the worker).
 */

/** The methods the page offers (a subset of the trainer's: src/train/session.ts). */
export const METHODS = ["jarzynski", "cd", "pcd", "dsm", "nce"] as const;
export type Method = (typeof METHODS)[number];

/** One line per method, shown next to the method's select. */
export const METHOD_HELP: Record<Method, string> = {
  jarzynski:
    "Jarzynski-reweighted SMC: weighted walkers follow the model as it changes; the weights carry mass between modes and give log Z.",
  cd: "Contrastive divergence: k Langevin steps from the data each iteration; cannot move mass between separated modes.",
  pcd: "Persistent CD: walkers continue from where they were; they rarely cross between modes.",
  dsm: "Denoising score matching: matches the model's score to that of the data blurred by σ; no walkers, no log Z.",
  nce: "Noise-contrastive estimation: tells data from Gaussian noise fitted to the data; learns log Z as a parameter.",
};

/** The built-in 2-D sets (src/data/toy2d.ts TOY2D_NAMES; a test checks the two lists agree). */
export const DATASETS = [
  "8gaussians",
  "2spirals",
  "checkerboard",
  "rings",
  "moons",
  "pinwheel",
  "swissroll",
  "mog4-unequal",
] as const;

/** The data source: a built-in set, or points drawn or pasted on the page. */
export type DataChoice = (typeof DATASETS)[number] | "custom";

/** What differs between the two runs shown side by side. */
export interface RunSettings {
  method: Method;
  /** Walkers (negative samples) of jarzynski, cd and pcd. */
  walkers: number;
  /** ULA step size h of the walkers' move. */
  step: number;
  /** Langevin steps per iteration (cd, pcd). */
  k: number;
  /** Jarzynski: resample when ESS < resample·N (0: never). */
  resample: number;
  /** DSM: the noise level σ. */
  sigma: number;
}

export interface Settings {
  data: DataChoice;
  /** Points drawn from a built-in set (from the seed). */
  n: number;
  /** Custom data: x0, y0, x1, y1, … (used when data = "custom"). */
  points: number[];
  /** The energy: an MLP 2 → width^depth → 1 (SiLU) plus ½c|x|². */
  width: number;
  depth: number;
  confinement: number;
  /** Adam's learning rate (constant: see session.ts), the data minibatch, the iterations of a run. */
  lr: number;
  batch: number;
  iters: number;
  seed: number;
  /** A snapshot (grid, masses, walkers) every this many iterations. */
  every: number;
  /** Cells per axis of the density grid. */
  grid: number;
  /** "auto" or a backend name (src/kernels/registry.ts); the worker reports what runs. */
  backend: string;
  a: RunSettings;
  /** The second run (same data, energy size and seed), or null for one run. */
  b: RunSettings | null;
}

export const DEFAULT_RUN: RunSettings = {
  method: "jarzynski",
  walkers: 2000,
  step: 0.01,
  k: 1,
  resample: 0.5,
  sigma: 0.1,
};

export const DEFAULTS: Settings = {
  data: "mog4-unequal",
  n: 2000,
  points: [],
  width: 32,
  depth: 2,
  confinement: 0.25,
  lr: 1e-3,
  batch: 500,
  iters: 1000,
  seed: 0,
  every: 10,
  grid: 64,
  backend: "auto",
  a: { ...DEFAULT_RUN },
  b: { ...DEFAULT_RUN, method: "pcd" },
};

/** Limits of the numeric settings: [min, max, integer?]. The page's inputs use the same. */
export const LIMITS = {
  n: [16, 20000, true],
  width: [4, 256, true],
  depth: [1, 4, true],
  confinement: [0.01, 10, false],
  lr: [1e-5, 0.1, false],
  batch: [1, 4096, true],
  iters: [1, 100000, true],
  seed: [0, 2 ** 31 - 1, true],
  every: [1, 1000, true],
  grid: [16, 200, true],
  walkers: [2, 20000, true],
  step: [1e-5, 1, false],
  k: [1, 100, true],
  resample: [0, 1, false],
  sigma: [1e-3, 2, false],
} as const satisfies Record<string, readonly [number, number, boolean]>;

/** Custom data: at most this many points, and at most this many kept in the URL. */
export const MAX_POINTS = 5000;
export const MAX_URL_POINTS = 400;

type Limited = keyof typeof LIMITS;

/** A list of problems (empty when `s` is valid), each naming the setting. */
export function checkSettings(s: Settings): string[] {
  const out: string[] = [];
  const num = (name: Limited, v: number, label: string = name) => {
    const [lo, hi, int] = LIMITS[name];
    if (!(typeof v === "number" && Number.isFinite(v) && v >= lo && v <= hi) || (int && !Number.isInteger(v)))
      out.push(`${label} must be ${int ? "an integer" : "a number"} in [${lo}, ${hi}], got ${v}`);
  };
  if (s.data !== "custom" && !(DATASETS as readonly string[]).includes(s.data))
    out.push(`data must be custom or one of ${DATASETS.join(", ")}, got ${s.data}`);
  if (s.data === "custom") {
    if (s.points.length % 2 !== 0 || s.points.length < 4)
      out.push("custom data need at least two points (x, y pairs)");
    else if (s.points.length / 2 > MAX_POINTS) out.push(`custom data: at most ${MAX_POINTS} points`);
    else if (!s.points.every(Number.isFinite))
      out.push("custom data: every coordinate must be a finite number");
  }
  for (const k of [
    "n",
    "width",
    "depth",
    "confinement",
    "lr",
    "batch",
    "iters",
    "seed",
    "every",
    "grid",
  ] as const)
    num(k, s[k]);
  if (s.grid % 2 !== 0) out.push(`grid must be even (its error bar compares with grid/2), got ${s.grid}`);
  if (!/^[a-z0-9-]+$/.test(s.backend)) out.push(`backend must be auto or a backend name, got ${s.backend}`);
  for (const [label, r] of [
    ["a", s.a],
    ["b", s.b],
  ] as const) {
    if (!r) continue;
    if (!(METHODS as readonly string[]).includes(r.method))
      out.push(`${label}: method must be one of ${METHODS.join(", ")}, got ${r.method}`);
    for (const k of ["walkers", "step", "k", "resample", "sigma"] as const) num(k, r[k], `${label}.${k}`);
  }
  return out;
}

/** A copy of `s` (deep enough: runs and points are copied). */
export function cloneSettings(s: Settings): Settings {
  return { ...s, points: [...s.points], a: { ...s.a }, b: s.b ? { ...s.b } : null };
}

const RUN_KEYS = ["walkers", "step", "k", "resample", "sigma"] as const;
const TOP_KEYS = [
  "n",
  "width",
  "depth",
  "confinement",
  "lr",
  "batch",
  "iters",
  "seed",
  "every",
  "grid",
] as const;

/** Shortest decimal that parses back to the same number (JS's own). */
function numText(v: number): string {
  return String(v);
}

/**
 * The URL fragment for `s`: only what differs from the defaults (always the data and method A), so a
 * link stays short. Custom points go in `pts` (two decimals) when there are at most MAX_URL_POINTS.
 */
export function settingsToHash(s: Settings): string {
  const p: [string, string][] = [["data", s.data]];
  for (const k of TOP_KEYS) if (s[k] !== DEFAULTS[k]) p.push([k, numText(s[k])]);
  if (s.backend !== DEFAULTS.backend) p.push(["backend", s.backend]);
  const run = (label: "a" | "b", r: RunSettings) => {
    p.push([label, r.method]);
    for (const k of RUN_KEYS) if (r[k] !== DEFAULT_RUN[k]) p.push([`${label}.${k}`, numText(r[k])]);
  };
  run("a", s.a);
  if (s.b) run("b", s.b);
  else p.push(["b", "none"]);
  if (s.data === "custom" && s.points.length / 2 <= MAX_URL_POINTS)
    p.push(["pts", s.points.map((v) => numText(Math.round(v * 100) / 100)).join(",")]);
  return p.map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%2C/g, ",")}`).join("&");
}

/**
 * Settings from a URL fragment (with or without the `#`): defaults for what is absent; values that do
 * not parse are reported in `problems` and left at their defaults.
 */
export function settingsFromHash(hash: string): { settings: Settings; problems: string[] } {
  const s = cloneSettings(DEFAULTS);
  const problems: string[] = [];
  const text = hash.startsWith("#") ? hash.slice(1) : hash;
  if (!text) return { settings: s, problems };
  const params = new Map<string, string>();
  for (const part of text.split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const key = eq < 0 ? part : part.slice(0, eq);
    let value = eq < 0 ? "" : part.slice(eq + 1);
    try {
      value = decodeURIComponent(value);
    } catch {
      problems.push(`${key}: not a valid URL value`);
      continue;
    }
    params.set(key, value);
  }
  const number = (key: string): number | undefined => {
    const v = params.get(key);
    if (v === undefined) return undefined;
    const x = Number(v);
    if (v.trim() === "" || !Number.isFinite(x)) {
      problems.push(`${key}: '${v}' is not a number`);
      return undefined;
    }
    return x;
  };
  const data = params.get("data");
  if (data !== undefined) {
    if (data === "custom" || (DATASETS as readonly string[]).includes(data)) s.data = data as DataChoice;
    else problems.push(`data: unknown set '${data}'`);
  }
  for (const k of TOP_KEYS) {
    const v = number(k);
    if (v !== undefined) s[k] = v;
  }
  const backend = params.get("backend");
  if (backend !== undefined) s.backend = backend;
  const run = (label: "a" | "b", base: RunSettings): RunSettings | null => {
    const m = params.get(label);
    const r = { ...base };
    if (m === "none") return null;
    if (m !== undefined) {
      if ((METHODS as readonly string[]).includes(m)) r.method = m as Method;
      else problems.push(`${label}: unknown method '${m}'`);
    }
    for (const k of RUN_KEYS) {
      const v = number(`${label}.${k}`);
      if (v !== undefined) r[k] = v;
    }
    return r;
  };
  s.a = run("a", DEFAULT_RUN) ?? { ...DEFAULT_RUN };
  s.b = run("b", { ...DEFAULT_RUN, method: DEFAULTS.b?.method ?? "pcd" });
  const pts = params.get("pts");
  if (pts !== undefined && pts !== "") {
    const v = pts.split(",").map(Number);
    if (v.every(Number.isFinite) && v.length % 2 === 0) s.points = v;
    else problems.push("pts: not a list of x,y numbers");
  }
  problems.push(...checkSettings(s));
  return { settings: s, problems };
}

/**
 * Points from pasted text: one point per line, two numbers separated by a comma, tab, semicolon or spaces;
 * a first line that is not numeric (a header) is skipped. Throws an Error naming the line otherwise.
 */
export function parsePoints(text: string): number[] {
  const out: number[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line || line.startsWith("#")) continue;
    const parts = line.split(/[\s,;]+/).filter(Boolean);
    const v = parts.map(Number);
    if (parts.length < 2 || !Number.isFinite(v[0]) || !Number.isFinite(v[1])) {
      if (out.length === 0 && i === lines.findIndex((l) => l.trim() !== "")) continue; // a header
      throw new Error(`line ${i + 1}: expected two numbers (x, y), got '${line.slice(0, 40)}'`);
    }
    out.push(v[0], v[1]);
    if (out.length / 2 > MAX_POINTS) throw new Error(`more than ${MAX_POINTS} points`);
  }
  return out;
}
