/**
 * One training run of the playground, as the worker drives it: `createSession(settings, run)` builds the
 * data, the MLP energy and the trainer (src/train/session.ts, as `ebm train` does); `step()` runs one
 * iteration and records its per-iteration diagnostics; `snapshot()` measures the model on a grid and the
 * walkers. It uses the core entry (src/index.ts) only, and runs unchanged in Node (the playground test
 * imports it there to compare with the page).
 *
 * A pure function of (settings, seed): the data come from the seed (as `ebm reproduce toy2d`), the keys of
 * model, walkers and iterations from the seed (src/train/session.ts), and snapshots only read the state.
 * So iteration k's numbers do not depend on when snapshots were taken, how the worker chunked its steps,
 * or whether the run was paused. Host-independent to the bit, given the same backend: every exp and log
 * here is the portable one of src/random/elementary.ts (through logSumExp and portableExp), never Math's,
 * whose last bit differs between Node and Chromium (test/browser/core.test.ts); the rest is IEEE
 * arithmetic and Math.sqrt. For the same reason Adam's learning rate is constant: the trainer's cosine
 * schedule calls Math.cos.
 */
import {
  defaultTrainConfig,
  foldIn,
  keyFromSeed,
  logSumExp,
  normalizedWeights,
  portableExp,
  portableLog,
  standardisation,
  startTraining,
  toy2d,
  type TrainConfig,
  type TrainSession,
  userEnergy,
  type Energy,
  type WeightedWalkers,
  weightedMeanSe,
  walkerHealth,
  type WalkerHealthStats,
} from "../../src/index.ts";
import { checkSettings, type Method, type RunSettings, type Settings } from "./settings.ts";

/** Where the data come from in the seed's key (the value `ebm reproduce toy2d` uses). */
const DATA_STREAM = 0x64617461;
/** Walkers sent to the page per snapshot (the first ones: they are exchangeable). */
const MAX_SHOWN_WALKERS = 2000;
/** Data points used for the NLL curve and sent to the page. */
const MAX_EVAL_POINTS = 1000;

/** Static facts about a run: sent once. */
export interface SessionMeta {
  run: "a" | "b";
  method: Method;
  description: string;
  /** [xmin, xmax, ymin, ymax]: the window of the grid and of the plots. */
  window: [number, number, number, number];
  /** Mode centres (flat x, y) and their true masses, when the set has them. */
  centres: number[];
  target: number[];
  /** Up to MAX_EVAL_POINTS training points (flat x, y). */
  data: Float64Array;
  numParams: number;
  /** Whether the method has walkers, weights, a log Z estimate, its own loss. */
  hasWalkers: boolean;
  weighted: boolean;
  hasLogZ: boolean;
  hasLoss: boolean;
}

/** Per-iteration diagnostics (recorded at every iteration, sent with the next snapshot). */
export interface TraceRow {
  iteration: number;
  /** Jarzynski: ESS/N before the iteration's resampling, and whether it resampled. */
  ess?: number;
  resampled?: boolean;
  /** The method's running log Z estimate (Jarzynski walkers, NCE's normaliser) and its SE. */
  logZ?: number;
  logZSe?: number;
  /** The method's own loss (DSM, NCE). */
  loss?: number;
}

export interface ModeMasses {
  target: number[];
  /** Model masses by grid quadrature in each centre's Voronoi cell, and |fine − coarse grid|. */
  grid: number[];
  gridError: number[];
  /** Walkers' (weighted) masses ± SE (Lee–Whiteley for Jarzynski; iid binomial for CD/PCD chains). */
  walkers?: number[];
  walkersSe?: number[];
}

export interface Snapshot {
  run: "a" | "b";
  iteration: number;
  /** Normalised density on the grid (n × n cells, x-major: cell (ix, iy) at ix·n + iy), Σ p·dA = 1. */
  gridN: number;
  density: Float64Array;
  /** digest() of `density`. */
  densityDigest: string;
  /** log ∫_window e^{−U} by quadrature, and |log Z(n) − log Z(n/2)|. */
  logZGrid: number;
  logZGridError: number;
  /** Mean U on the evaluation points + grid log Z: the negative log-likelihood (window-normalised). */
  nll: number;
  masses?: ModeMasses;
  /** Walkers shown: positions (flat x, y, in data coordinates) and normalised weights (sum 1 over all walkers). */
  walkers?: Float64Array;
  weights?: Float64Array;
  /** Walkers in the run (the shown ones are the first `walkers.length / 2`). */
  walkerCount: number;
  /** Per-iteration rows since the previous snapshot. */
  trace: TraceRow[];
  /** Resamplings so far (Jarzynski). */
  resamplings: number;
  /** Walker-health warnings (Jarzynski: smc/health.ts). */
  warnings: string[];
  /** FNV-1a of θ's float64 bytes, 16 hex digits: equal digests, equal parameters (to the bit). */
  theta: string;
}

export interface PlaygroundSession {
  readonly meta: SessionMeta;
  readonly iteration: number;
  readonly iters: number;
  /** One iteration; throws a NumericalError (naming the iteration) on non-finite values. */
  step(): void;
  snapshot(): Snapshot;
  dispose(): void;
}

/** The trainer's configuration for run `r` of `s`. */
export function trainConfig(s: Settings, r: RunSettings): TrainConfig {
  const c = defaultTrainConfig(2);
  c.model.hidden = new Array<number>(s.depth).fill(s.width);
  c.model.confinement = s.confinement;
  c.method = r.method;
  c.iters = s.iters;
  c.batch = s.batch;
  c.walkers = r.walkers;
  c.step = r.step;
  c.k = r.k;
  c.resample = r.resample;
  c.estimatorWalkers = 0;
  c.sigma = [r.sigma];
  c.optimizer = { ...c.optimizer, lr: s.lr, schedule: "constant" };
  c.seed = s.seed;
  return c;
}

/** The training data of `s`: the built-in set drawn from the seed, or the custom points. */
export function sessionData(s: Settings): { x: Float64Array; n: number } {
  if (s.data === "custom") return { x: Float64Array.from(s.points), n: s.points.length / 2 };
  return { x: toy2d(s.data).sample(foldIn(keyFromSeed(s.seed), DATA_STREAM), s.n), n: s.n };
}

function customWindow(x: Float64Array, n: number): [number, number, number, number] {
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    x0 = Math.min(x0, x[2 * i]);
    x1 = Math.max(x1, x[2 * i]);
    y0 = Math.min(y0, x[2 * i + 1]);
    y1 = Math.max(y1, x[2 * i + 1]);
  }
  // A square window around the points with a quarter of their span as margin (at least 0.5).
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const half = Math.max(x1 - x0, y1 - y0, 1) * 0.75;
  return [cx - half, cx + half, cy - half, cy + half];
}

/** FNV-1a (64-bit, as two 32-bit halves) of the float64 bytes. */
export function digest(v: Float64Array): string {
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < bytes.length; i++) h = BigInt.asUintN(64, (h ^ BigInt(bytes[i])) * 0x100000001b3n);
  return h.toString(16).padStart(16, "0");
}

interface GridResult {
  logq: Float64Array;
  logZ: number;
  cellArea: number;
}

/** −U at the n × n cell centres of the window (x-major) and log Σ e^{−U}·dA. */
function evalGrid(energy: Energy, win: readonly number[], n: number): GridResult {
  const [x0, x1, y0, y1] = win;
  const dx = (x1 - x0) / n;
  const dy = (y1 - y0) / n;
  const pts = new Float64Array(2 * n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      pts[2 * (i * n + j)] = x0 + (i + 0.5) * dx;
      pts[2 * (i * n + j) + 1] = y0 + (j + 0.5) * dy;
    }
  const u = new Float64Array(n * n);
  energy.energy(pts, n * n, u);
  for (let i = 0; i < u.length; i++) u[i] = -u[i];
  const cellArea = dx * dy;
  return { logq: u, logZ: logSumExp(u) + portableLog(cellArea), cellArea };
}

/** Normalised mass of each centre's Voronoi cell on the grid (ties to the lower index). */
function gridMasses(g: GridResult, win: readonly number[], n: number, centres: number[]): number[] {
  const k = centres.length / 2;
  const out = new Array<number>(k).fill(0);
  const [x0, x1, y0, y1] = win;
  const dx = (x1 - x0) / n;
  const dy = (y1 - y0) / n;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const x = x0 + (i + 0.5) * dx;
      const y = y0 + (j + 0.5) * dy;
      let best = 0;
      let bestD = Infinity;
      for (let c = 0; c < k; c++) {
        const d = sq(x - centres[2 * c]) + sq(y - centres[2 * c + 1]);
        if (d < bestD) {
          bestD = d;
          best = c;
        }
      }
      out[best] += portableExp(g.logq[i * n + j] - g.logZ) * g.cellArea;
    }
  return out;
}

/** x·x (not x ** 2: exponentiation is the host's pow). */
function sq(x: number): number {
  return x * x;
}

function nearest(x: number, y: number, centres: number[]): number {
  let best = 0;
  let bestD = Infinity;
  for (let c = 0; c < centres.length / 2; c++) {
    const d = sq(x - centres[2 * c]) + sq(y - centres[2 * c + 1]);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

interface WalkerView {
  /** Positions in the network's coordinates, n × 2. */
  position: Float64Array;
  n: number;
  /** Weighted walkers (Jarzynski), else undefined (equal weights). */
  weighted?: WeightedWalkers;
  health?: WalkerHealthStats;
}

/** The walkers inside the objective's state (duck-typed: Jarzynski's population, CD/PCD's chains). */
function walkersOf(state: unknown): WalkerView | undefined {
  const s = state as {
    walkers?: WeightedWalkers;
    health?: WalkerHealthStats;
    chains?: { position: Float64Array; n: number };
  };
  if (s.walkers?.logw)
    return { position: s.walkers.position, n: s.walkers.n, weighted: s.walkers, health: s.health };
  if (s.chains?.position) return { position: s.chains.position, n: s.chains.n };
  return undefined;
}

/** Builds run `run` ("a" or "b") of `settings`; rejects with the settings' problems when they are invalid. */
export async function createSession(settings: Settings, run: "a" | "b" = "a"): Promise<PlaygroundSession> {
  const problems = checkSettings(settings);
  if (problems.length > 0) throw new RangeError(problems.join("; "));
  const r = run === "a" ? settings.a : settings.b;
  if (!r) throw new RangeError("run b is off in these settings");
  const data = sessionData(settings);
  const config = trainConfig(settings, r);
  const custom = settings.data === "custom";
  // Custom points are standardised for the network (as `ebm train` does for files); outputs stay in the
  // points' own coordinates.
  if (custom) Object.assign(config.model, standardisation(data.x, data.n, 2));
  const spec = custom ? undefined : toy2d(settings.data);
  const win: [number, number, number, number] = spec
    ? [spec.extent[0], spec.extent[1], spec.extent[2], spec.extent[3]]
    : customWindow(data.x, data.n);
  const centres = spec?.centres ? Array.from(spec.centres) : [];
  const target = spec?.centres ? [...spec.weights] : [];
  const session: TrainSession = await startTraining(config, data);
  const energy = userEnergy(config.model, session.model);
  const shift = config.model.type === "mlp" && config.model.inputShift ? config.model.inputShift : [0, 0];
  const scale = config.model.type === "mlp" && config.model.inputScale ? config.model.inputScale : 1;
  // log Z of the walkers' start (the confinement Gaussian in data coordinates), with the portable log.
  const baseLogZ = portableLog((2 * Math.PI * scale * scale) / settings.confinement);
  const nEval = Math.min(data.n, MAX_EVAL_POINTS);
  const evalX = data.x.slice(0, 2 * nEval);
  const evalU = new Float64Array(nEval);
  const method = r.method;
  const weighted = method === "jarzynski";
  const hasWalkers = weighted || method === "cd" || method === "pcd";
  let trace: TraceRow[] = [];

  const record = () => {
    const d = session.objective.diagnostics(session.state.objective) as {
      ess?: number;
      resampled?: boolean;
      logZRatio?: number;
      logZSe?: number;
      loss?: number;
      logNormalizer?: number;
      logNormalizerSe?: number;
    };
    const row: TraceRow = { iteration: session.state.iteration };
    if (weighted) {
      row.ess = (d.ess ?? Number.NaN) / r.walkers;
      row.resampled = d.resampled ?? false;
      row.logZ = baseLogZ + (d.logZRatio ?? Number.NaN);
      row.logZSe = d.logZSe;
    }
    if (d.logNormalizer !== undefined) {
      row.logZ = d.logNormalizer;
      row.logZSe = d.logNormalizerSe;
    }
    if (d.loss !== undefined) row.loss = d.loss;
    trace.push(row);
  };

  const meta: SessionMeta = {
    run,
    method,
    description: spec ? spec.description : `${data.n} points drawn or pasted on the page`,
    window: win,
    centres,
    target,
    data: evalX,
    numParams: session.state.params.length,
    hasWalkers,
    weighted,
    hasLogZ: weighted || method === "nce",
    hasLoss: method === "dsm" || method === "nce",
  };

  return {
    meta,
    get iteration() {
      return session.state.iteration;
    },
    iters: settings.iters,
    step() {
      session.step();
      record();
    },
    snapshot(): Snapshot {
      const n = settings.grid;
      const fine = evalGrid(energy, win, n);
      const coarse = evalGrid(energy, win, n / 2);
      const density = new Float64Array(n * n);
      for (let i = 0; i < n * n; i++) density[i] = portableExp(fine.logq[i] - fine.logZ);
      energy.energy(evalX, nEval, evalU);
      let meanU = 0;
      for (let i = 0; i < nEval; i++) meanU += evalU[i];
      meanU /= nEval;
      const snap: Snapshot = {
        run,
        iteration: session.state.iteration,
        gridN: n,
        density,
        densityDigest: digest(density),
        logZGrid: fine.logZ,
        logZGridError: Math.abs(fine.logZ - coarse.logZ),
        nll: meanU + fine.logZ,
        walkerCount: hasWalkers ? r.walkers : 0,
        trace,
        resamplings: 0,
        warnings: [],
        theta: digest(session.state.params),
      };
      trace = [];
      if (centres.length > 0) {
        const mf = gridMasses(fine, win, n, centres);
        const mc = gridMasses(coarse, win, n / 2, centres);
        snap.masses = { target, grid: mf, gridError: mf.map((m, j) => Math.abs(m - mc[j])) };
      }
      const w = walkersOf(session.state.objective);
      if (w) {
        const shown = Math.min(w.n, MAX_SHOWN_WALKERS);
        const pos = new Float64Array(2 * shown);
        for (let i = 0; i < shown; i++)
          for (let a = 0; a < 2; a++) pos[2 * i + a] = shift[a] + scale * w.position[2 * i + a];
        snap.walkers = pos;
        if (w.weighted) {
          const all = new Float64Array(w.n);
          normalizedWeights(w.weighted.logw, all);
          snap.weights = all.slice(0, shown);
          snap.resamplings = w.weighted.resamplings;
          if (w.health) snap.warnings = walkerHealth(w.health).map((h) => h.message);
        }
        if (centres.length > 0 && snap.masses) {
          const k = centres.length / 2;
          const assign = new Int32Array(w.n);
          for (let i = 0; i < w.n; i++)
            assign[i] = nearest(
              shift[0] + scale * w.position[2 * i],
              shift[1] + scale * w.position[2 * i + 1],
              centres,
            );
          const masses: number[] = [];
          const se: number[] = [];
          const phi = new Float64Array(w.n);
          for (let c = 0; c < k; c++) {
            for (let i = 0; i < w.n; i++) phi[i] = assign[i] === c ? 1 : 0;
            if (w.weighted) {
              const m = weightedMeanSe(w.weighted, phi);
              masses.push(m.mean);
              se.push(m.se);
            } else {
              let q = 0;
              for (let i = 0; i < w.n; i++) q += phi[i];
              q /= w.n;
              masses.push(q);
              se.push(w.n > 1 ? Math.sqrt((q * (1 - q)) / (w.n - 1)) : Number.NaN);
            }
          }
          snap.masses.walkers = masses;
          snap.masses.walkersSe = se;
        }
      }
      return snap;
    },
    dispose() {
      session.model.dispose();
    },
  };
}
