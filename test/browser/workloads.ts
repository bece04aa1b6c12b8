/**
 * Seeded workloads run twice by test/browser/core.test.ts: in headless Chromium (this module bundled by
 * esbuild together with the whole core, src/index.ts) and in the Node test process (imported directly).
 * It imports the core entry only, so what runs in the page is exactly what a browser user gets. Results
 * are plain number arrays, so they cross from the page to Node unchanged (JSON numbers round-trip float64).
 */
import {
  backendInfo,
  ChainStreams,
  foldIn,
  GMM1D_DEFAULTS,
  type Gmm1dOptions,
  GmmEnergy,
  keyFromSeed,
  mala,
  runGmm1d,
  split,
  Stream,
  ZIGGURAT_TABLES,
} from "../../src/index.ts";

export interface RandomWorkloadResult {
  /** [hi, lo] of keyFromSeed, split and foldIn keys. */
  keys: number[][];
  /** uint32 words and uniforms of a Stream: integer and power-of-two arithmetic only. */
  words: number[];
  uniforms: number[];
  /** The ziggurat tables, and standard normals of a Stream and of per-chain streams (wedge and tail draws included). */
  zigX: number[];
  normals: number[];
  chainNormals: number[];
}

/** The random layer: agrees bit for bit on every host (its exp/log are the portable ones). */
export function randomWorkload(): RandomWorkloadResult {
  const root = keyFromSeed(123456789);
  const keys = [root, ...split(root, 3), foldIn(root, 0), foldIn(root, 2 ** 31 + 5), keyFromSeed(-7.5)];
  const s = new Stream(split(root, 1)[0]);
  const words = Array.from({ length: 1000 }, () => s.nextU32());
  const uniforms = Array.from({ length: 1000 }, () => s.uniform());
  // 50 000 normals meet the wedge (≈ 1.2%) and the tail (≈ 0.03%) many times.
  const normals = Array.from(new Stream(foldIn(root, 7)).fillNormal(new Float64Array(50_000)));
  const chains = new ChainStreams(foldIn(root, 8), 50);
  const chainNormals = new Float64Array(50 * 1000);
  for (let i = 0; i < 50; i++) chains.fillNormal(i, chainNormals.subarray(i * 1000, (i + 1) * 1000));
  return {
    keys: keys.map((k) => [k.hi, k.lo]),
    words,
    uniforms,
    zigX: Array.from(ZIGGURAT_TABLES.x),
    normals,
    chainNormals: Array.from(chainNormals),
  };
}

/**
 * The host's Math.exp, log, log1p and expm1 on 2000 fixed arguments, for information: hosts whose V8 has a
 * different libm (Node 20's fdlibm port vs the glibc-derived one of a recent Chromium) differ here in the
 * last bit. The workloads call none of them (the code they reach uses the portable exp/log/log1p of
 * src/random/elementary.ts), so their results do not differ.
 */
export function mathProbe(): Record<string, number[]> {
  const out: Record<string, number[]> = { exp: [], log: [], log1p: [], expm1: [] };
  for (let i = 0; i < 2000; i++) {
    const x = -20 + (40 * (i + 0.5)) / 2000 + i * 1e-7;
    out.exp.push(Math.exp(x));
    out.log.push(Math.log(Math.abs(x)));
    out.log1p.push(Math.log1p(Math.abs(x)));
    out.expm1.push(Math.expm1(x));
  }
  return out;
}

export interface MalaWorkloadResult {
  /** Final positions, chains × 2, row-major. */
  position: number[];
  /** Final U per chain. */
  u: number[];
  /** Accepted proposals per chain. */
  accepted: number[];
  /** Σ over steps of the acceptance probability, per chain. */
  acceptProbSum: number[];
  /** Σ over steps and chains of the first coordinate (depends on every intermediate state). */
  pathSum: number;
}

export const MALA_WORKLOAD = { seed: 2024, chains: 16, steps: 400, step: 0.5 } as const;

/**
 * MALA on an unequal 2-D Gaussian mixture with full covariances: chains start at exact draws (key kInit),
 * step t uses foldIn(kRun, t).
 */
export function malaWorkload(): MalaWorkloadResult {
  const { seed, chains: n, steps, step } = MALA_WORKLOAD;
  const energy = new GmmEnergy({
    weights: [0.3, 0.7],
    means: [
      [-2, 0],
      [2, 1],
    ],
    covs: [
      [1, 0.3, 0.3, 0.5],
      [0.6, -0.2, -0.2, 1.2],
    ],
  });
  const [kInit, kRun] = split(keyFromSeed(seed), 2);
  const x0 = new Float64Array(n * energy.dim);
  energy.sampleExact(kInit, n, x0);
  const sampler = mala(energy);
  const state = sampler.init(x0, n);
  const params = { step };
  const accepted = new Array<number>(n).fill(0);
  const acceptProbSum = new Array<number>(n).fill(0);
  let pathSum = 0;
  for (let t = 0; t < steps; t++) {
    const info = sampler.step(foldIn(kRun, t), state, params);
    for (let i = 0; i < n; i++) {
      accepted[i] += info.accepted[i];
      acceptProbSum[i] += info.acceptProb[i];
      pathSum += state.position[i * energy.dim];
    }
  }
  return {
    position: Array.from(state.position),
    u: Array.from(state.u),
    accepted,
    acceptProbSum,
    pathSum,
  };
}

export interface Gmm1dWorkloadResult {
  dataQ: number;
  /** q after every iteration, per method. */
  qTrace: Record<string, number[]>;
  /** Jarzynski's running log Z estimate, its ESS and the number of resamplings. */
  logZEstimate: number[];
  essTrace: number[];
  resamplings: number;
}

/** Resampling when the ESS falls below 0.99 N, so the 200 iterations resample a few times (5 at seed 11). */
export const GMM1D_WORKLOAD: Gmm1dOptions = { ...GMM1D_DEFAULTS, seed: 11, iterations: 200, resample: 0.99 };

/** The gmm1d experiment (all four methods) for 200 iterations at the default sizes. */
export function gmm1dWorkload(): Gmm1dWorkloadResult {
  const r = runGmm1d(GMM1D_WORKLOAD);
  const qTrace: Record<string, number[]> = {};
  for (const [method, m] of Object.entries(r.methods)) qTrace[method] = Array.from(m.qTrace);
  const j = r.methods.jarzynski!;
  return {
    dataQ: r.dataQ,
    qTrace,
    logZEstimate: Array.from(j.logZEstimate),
    essTrace: Array.from(j.essTrace),
    resamplings: j.resamplings,
  };
}

/** The name of the backend selected on this host (the page has "wasm" and "typescript" only). */
export function selectedBackendName(): string {
  return backendInfo().name;
}
