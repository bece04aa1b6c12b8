/**
 * The addon's per-chain streams and per-chain MALA step (native/src/chain_streams.h, mala_chains.cc)
 * against the TypeScript reference, bit for bit: seeding, normals (eight chains per vector, the retried
 * draws finished afterwards), the portable exp/log, and MALA's propose and select — for several
 * (n, dim, key) with 1 and 2 threads. Chains are independent, so the thread count cannot change a bit.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CHAIN_STATE_WORDS, CHAIN_STREAMS_SEED, ChainStreams } from "../../src/random/chains.ts";
import { portableExp, portableLog } from "../../src/random/elementary.ts";
import { type Key, keyFromSeed, Stream, ZIGGURAT_TABLES as Z } from "../../src/random/key.ts";
import {
  MALA_CHAINS_STEP,
  MalaChainsBuffers,
  malaChainsCoefficients,
  malaChainsStep,
  type MalaChainsKernels,
} from "../../src/samplers/mala-chains.ts";
import { MhInfoBuffers } from "../../src/samplers/mh.ts";
import type { ChainState } from "../../src/samplers/types.ts";
import type { Energy } from "../../src/energies/contract.ts";
import { backendInfo, setThreads } from "../../src/node.ts";
import { nativeAddon as addon, skipNative as skip } from "./addon.ts";

/**
 * (chains, dim, seed): batches that are and are not multiples of the 8-lane groups, small and long rows.
 * The kernels use a second thread only from 2^18 normals (propose) or row elements (select) on: the first
 * two cases are split over two threads by both (the second into ranges that end inside a vector group).
 */
const CASES: [number, number, number][] = [
  [4096, 128, 7],
  [4203, 125, 8],
  [1000, 100, 1],
  [13, 7, 2],
  [37, 1000, 3],
  [5, 3, 4],
  [64, 1, 5],
  [200, 33, 6],
];
const THREADS = [1, 2];

/** Indices where two arrays differ bitwise (Object.is), at most 5. */
function diffs(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const out: number[] = [];
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length && out.length < 5; i++) if (!Object.is(a[i], b[i])) out.push(i);
  return out;
}

function assertSame(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  const d = diffs(a, b);
  assert.deepEqual(d, [], `${what}: first differences at ${d.map((i) => `${i}: ${a[i]} vs ${b[i]}`)}`);
}

describe("native per-chain streams", { skip }, () => {
  let threads0 = 1;
  before(() => {
    threads0 = backendInfo().threads;
  });
  after(() => {
    setThreads(threads0);
  });

  test("seeding equals the TypeScript loop", () => {
    const seedTs = CHAIN_STREAMS_SEED.from("typescript").impl!;
    for (const [n, , seed] of CASES)
      for (const first of [0, 12345, 2 ** 32 - n]) {
        const key = keyFromSeed(seed);
        const want = new Int32Array(CHAIN_STATE_WORDS * n);
        seedTs(key, first, n, want);
        const got = new Int32Array(CHAIN_STATE_WORDS * n);
        addon!.chainStreamsSeed(key.hi, key.lo, first, got);
        assertSame(got, want, `seed n=${n} first=${first}`);
      }
  });

  test("normals equal the TypeScript draws, and the states end equal, for 1 and 2 threads", () => {
    for (const [n, dim, seed] of CASES) {
      const key = keyFromSeed(seed);
      const ref = new ChainStreams(key, n);
      const want = ref.fillNormalRows(new Float64Array(n * dim), dim);
      const wantU = Float64Array.from({ length: n }, (_, i) => ref.uniformOpen(i));
      for (const t of THREADS) {
        setThreads(t);
        const states = new ChainStreams(key, n).stateWords();
        const got = new Float64Array(n * dim);
        addon!.chainStreamsNormal(states, Z.x, Z.f, Z.r, got, dim);
        assertSame(got, want, `normals n=${n} dim=${dim} threads=${t}`);
        // The states continue identically: the next uniform of every chain agrees.
        const cont = new Int32Array(states);
        const gotU = Float64Array.from({ length: n }, (_, i) => {
          const s = new Stream(keyFromSeed(0));
          s.stateWords().set(cont.subarray(CHAIN_STATE_WORDS * i, CHAIN_STATE_WORDS * i + 4));
          return s.uniformOpen();
        });
        assertSame(gotU, wantU, `next uniform n=${n} threads=${t}`);
      }
    }
  });

  test("retried draws are exercised: 10^6 normals, with wedge and tail retries, bit for bit", () => {
    // ≈ 1.5% of first attempts fail the box test, ≈ 250 per 10^6 reach the tail: all must agree.
    const n = 1000;
    const dim = 1000;
    const key = keyFromSeed(77);
    const want = new ChainStreams(key, n).fillNormalRows(new Float64Array(n * dim), dim);
    let tail = 0;
    for (const v of want) if (Math.abs(v) > Z.r) tail++;
    assert.ok(tail > 100, `${tail} tail draws`);
    setThreads(2);
    const got = new Float64Array(n * dim);
    addon!.chainStreamsNormal(new ChainStreams(key, n).stateWords(), Z.x, Z.f, Z.r, got, dim);
    assertSame(got, want, "10^6 normals");
  });

  test("portable exp and log: native equals TypeScript bit for bit", () => {
    const s = new Stream(keyFromSeed(8));
    const m = 200_000;
    const x = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      const r = i % 4;
      if (r === 0)
        x[i] = s.uniformOpen(); // log u, as MALA's select
      else if (r === 1)
        x[i] = -s.uniform() * 40; // log ratios, wedge exponents
      else if (r === 2)
        x[i] = (s.uniform() * 2 - 1) * 750; // the whole exp range, over- and underflow
      else x[i] = (1 + s.uniform()) * 2 ** (Math.floor(s.uniform() * 2098) - 1074); // all magnitudes
    }
    x.set([0, -0, 1, -1, Infinity, -Infinity, Number.NaN, 5e-324, 1e-310, 709.78, -745.13, 0.5], 0);
    const lg = new Float64Array(m);
    const ex = new Float64Array(m);
    addon!.portableLogExp(x, lg, ex);
    assertSame(lg, Array.from(x, portableLog), "log");
    assertSame(ex, Array.from(x, portableExp), "exp");
  });
});

/** U = Σ_j (x_j − μ_j)²/(2σ_j²) with a NaN energy at the chains listed in `nanAt` (divergent proposals). */
function gaussian(dim: number, nanAt: Set<number> = new Set()): Energy {
  const mu = Float64Array.from({ length: dim }, (_, j) => Math.sin(j));
  const prec = Float64Array.from({ length: dim }, (_, j) => 1 / (0.5 + (j % 3)));
  return {
    dim,
    energy() {
      throw new Error("not used");
    },
    energyAndGrad(x, n, u, g) {
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < dim; j++) {
          const d = x[i * dim + j] - mu[j];
          s += 0.5 * d * d * prec[j];
          g[i * dim + j] = d * prec[j];
        }
        u[i] = nanAt.has(i) ? Number.NaN : s;
      }
    },
  };
}

function initState(energy: Energy, n: number, key: Key): ChainState {
  const dim = energy.dim;
  const position = new Stream(key).fillNormal(new Float64Array(n * dim));
  const state = { n, dim, position, u: new Float64Array(n), grad: new Float64Array(n * dim) };
  energy.energyAndGrad(position, n, state.u, state.grad);
  return state;
}

function cloneState(s: ChainState): ChainState {
  return { n: s.n, dim: s.dim, position: s.position.slice(), u: s.u.slice(), grad: s.grad.slice() };
}

describe("native per-chain MALA step", { skip }, () => {
  let threads0 = 1;
  before(() => {
    threads0 = backendInfo().threads;
  });
  after(() => {
    setThreads(threads0);
  });
  const ts = (): MalaChainsKernels => MALA_CHAINS_STEP.from("typescript").impl!;
  const nat = (): MalaChainsKernels => MALA_CHAINS_STEP.from("native").impl!;

  test("the native backend provides the kernel", () => {
    assert.equal(MALA_CHAINS_STEP.backend(), "native");
  });

  test("propose and select equal the TypeScript kernels bit for bit (1 and 2 threads, preconditioned, β ≠ 1)", () => {
    for (const [n, dim, seed] of CASES) {
      const energy = gaussian(dim);
      const key = keyFromSeed(100 + seed);
      const inverseMass = Float64Array.from({ length: dim }, (_, j) => 0.5 + (j % 4) * 0.25);
      const coef = malaChainsCoefficients(dim, 1.5, { step: 0.2, inverseMass });
      const x0 = initState(energy, n, key);
      // A chain that starts from a non-finite state (flagged divergent unless it moves).
      x0.u[n - 1] = Number.POSITIVE_INFINITY;
      // Reference: TypeScript kernels.
      const refState = cloneState(x0);
      const refStates = new ChainStreams(key, n).stateWords();
      const y = new Float64Array(n * dim);
      ts().propose(refState.position, refState.grad, coef.drift, coef.noise, refStates, y);
      const uy = new Float64Array(n);
      const gy = new Float64Array(n * dim);
      energy.energyAndGrad(y, n, uy, gy);
      uy[0] = Number.NaN; // a divergent proposal
      const refInfo = new MhInfoBuffers().reset(n);
      ts().select(
        refState.position,
        refState.grad,
        refState.u,
        y,
        gy,
        uy,
        coef.drift,
        coef.invMass,
        coef.params,
        refStates,
        refInfo.acceptProb,
        refInfo.accepted,
        refInfo.divergent,
      );
      assert.equal(refInfo.divergent[0], 1);
      let moved = 0;
      for (const a of refInfo.accepted) moved += a;
      assert.ok(n < 10 || (moved > 0 && moved < n), `accepted ${moved} of ${n}`);
      for (const t of THREADS) {
        setThreads(t);
        const s = cloneState(x0);
        const states = new ChainStreams(key, n).stateWords();
        const y2 = new Float64Array(n * dim);
        nat().propose(s.position, s.grad, coef.drift, coef.noise, states, y2);
        assertSame(y2, y, `proposal n=${n} dim=${dim} threads=${t}`);
        const info = new MhInfoBuffers().reset(n);
        nat().select(
          s.position,
          s.grad,
          s.u,
          y2,
          gy,
          uy,
          coef.drift,
          coef.invMass,
          coef.params,
          states,
          info.acceptProb,
          info.accepted,
          info.divergent,
        );
        const what = `n=${n} dim=${dim} threads=${t}`;
        assertSame(s.position, refState.position, `x ${what}`);
        assertSame(s.grad, refState.grad, `∇U ${what}`);
        assertSame(s.u, refState.u, `U ${what}`);
        assertSame(info.acceptProb, refInfo.acceptProb, `acceptProb ${what}`);
        assertSame(info.accepted, refInfo.accepted, `accepted ${what}`);
        assertSame(info.divergent, refInfo.divergent, `divergent ${what}`);
        assertSame(states, refStates, `stream states ${what}`);
      }
    }
  });

  test("whole steps: 20 steps of malaChainsStep on native and TypeScript kernels stay bit-identical", () => {
    const n = 300;
    const dim = 20;
    const energy = gaussian(dim, new Set([7]));
    const coef = malaChainsCoefficients(dim, 1, { step: 0.3 });
    const a = initState(energy, n, keyFromSeed(9));
    const b = cloneState(a);
    const bufA = new MalaChainsBuffers();
    const bufB = new MalaChainsBuffers();
    const infoA = new MhInfoBuffers();
    const infoB = new MhInfoBuffers();
    for (let t = 0; t < 20; t++) {
      setThreads(1 + (t % 2));
      const key = keyFromSeed(1000 + t);
      malaChainsStep(energy, key, a, coef, bufA, infoA, ts());
      malaChainsStep(energy, key, b, coef, bufB, infoB, nat());
      assertSame(b.position, a.position, `step ${t}`);
      assertSame(infoB.acceptProb, infoA.acceptProb, `acceptProb step ${t}`);
      assertSame(infoB.divergent, infoA.divergent, `divergent step ${t}`);
    }
    assert.equal(infoA.divergent[7], 1, "the chain whose proposals have a NaN energy is flagged");
  });
});
