/**
 * Registers the "wasm-simd" backend (priority 15: below the native addon, above TensorFlow.js's "wasm"):
 * the native addon's kernels compiled to WebAssembly SIMD (native/wasm/kernels.cc, built into
 * ./ebm_kernels.wasm by scripts/build-wasm.mjs), one thread per instance (a host with shared memory may
 * attach a helper instance in a second thread: ./helper.ts). Its MLP energy and vector-output
 * networks, multinomial resampling, per-chain normals and MALA steps each replace the kernel the domain
 * module declares; every other kernel comes from the backends below it. Usable once a host has handed the
 * binary over (./load.ts: `provideWasmKernels`, `loadWasmKernels`); until then, or without WebAssembly SIMD,
 * it reports why in one line. Resampling, the per-chain streams and MALA give the same bits as TypeScript
 * and the addon; the networks agree with the addon to float32 rounding (no FMA in WebAssembly) and give
 * the same bits on every WebAssembly engine.
 */
import { MLP_FACTORY } from "../../energies/mlp.ts";
import { registerKernel } from "../../kernels/registry.ts";
import { MULTINOMIAL } from "../../math/resampling.ts";
import { NETWORK_FACTORY } from "../../networks/network.ts";
import { CHAIN_NORMALS, CHAIN_STATE_WORDS, CHAIN_STREAMS_SEED } from "../../random/chains.ts";
import { ZIGGURAT_TABLES } from "../../random/key.ts";
import { MALA_CHAINS_STEP } from "../../samplers/mala-chains.ts";
import type { WasmKernels } from "./instance.ts";
import { registerWasmSimdBackend, requireWasmKernels, WASM_SIMD } from "./load.ts";
import { createWasmMlpEnergy } from "./mlp.ts";
import { createWasmNetwork } from "./network.ts";

registerWasmSimdBackend();
registerKernel(WASM_SIMD, MLP_FACTORY, createWasmMlpEnergy);
registerKernel(WASM_SIMD, NETWORK_FACTORY, createWasmNetwork);

registerKernel(WASM_SIMD, MULTINOMIAL, (w, total, rng, out) => {
  const n = w.length;
  if (n < 1) throw new RangeError("multinomial resampling: no weights");
  const k = requireWasmKernels();
  const m = out.length;
  const state = rng.stateWords();
  const [pw, ps, po] = k.frame(8 * n, 16, 4 * m);
  k.write(pw, w, n);
  k.write(ps, state, 4);
  k.exports.ebm_resample_multinomial(pw, n, total, ps, m, po);
  k.read(ps, state, 4);
  k.read(po, out, m);
});

registerKernel(WASM_SIMD, CHAIN_STREAMS_SEED, (key, first, count, out) => {
  const k = requireWasmKernels();
  const words = CHAIN_STATE_WORDS * count;
  const [ps] = k.frame(4 * words);
  k.exports.ebm_chain_streams_seed(key.hi >>> 0, key.lo >>> 0, first >>> 0, count, ps);
  k.read(ps, out, words);
});

/** The ziggurat tables in the module's memory (written once per instance). */
const zigguratPtrs = new WeakMap<WasmKernels, { x: number; f: number }>();
function ziggurat(k: WasmKernels): { x: number; f: number } {
  let z = zigguratPtrs.get(k);
  if (!z) {
    const t = ZIGGURAT_TABLES;
    const x = k.malloc(8 * (t.x.length + t.f.length));
    const f = x + 8 * t.x.length;
    k.write(x, t.x, t.x.length);
    k.write(f, t.f, t.f.length);
    z = { x, f };
    zigguratPtrs.set(k, z);
  }
  return z;
}

registerKernel(WASM_SIMD, CHAIN_NORMALS, (states, out, dim) => {
  const k = requireWasmKernels();
  const z = ziggurat(k);
  const n = states.length / CHAIN_STATE_WORDS;
  const [ps, po] = k.frame(4 * states.length, 8 * n * dim);
  k.write(ps, states, states.length);
  k.exports.ebm_chain_normals(ps, n, z.x, z.f, ZIGGURAT_TABLES.r, po, dim);
  k.read(ps, states, states.length);
  k.read(po, out, n * dim);
});

registerKernel(WASM_SIMD, MALA_CHAINS_STEP, {
  propose: (x, g, drift, noise, states, y) => {
    const k = requireWasmKernels();
    const z = ziggurat(k);
    const dim = drift.length;
    const n = states.length / CHAIN_STATE_WORDS;
    const nd = n * dim;
    const [px, pg, pd, pn, ps, py] = k.frame(8 * nd, 8 * nd, 8 * dim, 8 * dim, 4 * states.length, 8 * nd);
    k.write(px, x, nd);
    k.write(pg, g, nd);
    k.write(pd, drift, dim);
    k.write(pn, noise, dim);
    k.write(ps, states, states.length);
    k.exports.ebm_mala_chains_propose(px, pg, pd, pn, ps, n, dim, z.x, z.f, ZIGGURAT_TABLES.r, py);
    k.read(ps, states, states.length);
    k.read(py, y, nd);
  },
  select: (x, gx, ux, y, gy, uy, drift, invMass, params, states, acceptProb, accepted, divergent) => {
    const k = requireWasmKernels();
    const n = ux.length;
    const dim = drift.length;
    const nd = n * dim;
    const [px, pgx, pux, py, pgy, puy, pd, pim, ps, pap, pacc, pdiv] = k.frame(
      8 * nd,
      8 * nd,
      8 * n,
      8 * nd,
      8 * nd,
      8 * n,
      8 * dim,
      8 * dim,
      4 * CHAIN_STATE_WORDS * n,
      8 * n,
      n,
      n,
    );
    k.write(px, x, nd);
    k.write(pgx, gx, nd);
    k.write(pux, ux, n);
    k.write(py, y, nd);
    k.write(pgy, gy, nd);
    k.write(puy, uy, n);
    k.write(pd, drift, dim);
    k.write(pim, invMass, dim);
    k.write(ps, states, CHAIN_STATE_WORDS * n);
    k.exports.ebm_mala_chains_select(
      px,
      pgx,
      pux,
      py,
      pgy,
      puy,
      pd,
      pim,
      params[0],
      params[1],
      ps,
      n,
      dim,
      pap,
      pacc,
      pdiv,
    );
    k.read(px, x, nd);
    k.read(pgx, gx, nd);
    k.read(pux, ux, n);
    k.read(ps, states, CHAIN_STATE_WORDS * n);
    k.read(pap, acceptProb, n);
    k.read(pacc, accepted, n);
    k.read(pdiv, divergent, n);
  },
});
