/**
 * Like-for-like check of the discrete workloads (bench/workloads/discrete.ts) against their PyTorch peer
 * (bench/peer/discrete_bench.py): writes the workloads' initial values as .npy files, then runs the first
 * CALLS calls of each here and prints what the peer's `--check` prints for the same start.
 *
 *   npx tsx bench/peer/discrete-init.ts DIR
 *   /usr/bin/python3 bench/peer/discrete_bench.py --init-from DIR --check
 *
 * Files (C order, little-endian): gwg_theta.npy (the MLP's θ, float64, layer order W1 [in, out], b1, W2, …),
 * gwg_x0.npy (uint8 1024 × 32, the chains' start), gwg_u0.npy / gwg_g0.npy (U and ∇U there, as our MLP
 * computes them), gwg_logA_fixed.npy (float64 1024: the log MH ratio of the deterministic move "chain i flips site
 * i mod 32" from x0, through the kernel's gwgLogProposal), rbm_W.npy (float32 784 × 500), rbm_b.npy, rbm_c.npy, rbm_v0.npy (uint8 128 × 784, the
 * fixed batch), rbm_vp.npy (uint8 128 × 784, the persistent chains' start). Also DIR/ebm_check.json.
 * The two sides then draw different random numbers, so the printed statistics agree only up to Monte
 * Carlo error (acceptance over 1024 chains: SE ≈ 0.015 at most).
 */
import { join } from "node:path";
import { BinaryView, ensureDir, foldIn, gwgLogProposal, npyHeader, writeFileAtomic } from "../../src/node.ts";
import {
  GWG_CHAINS,
  GRAY32_MLP,
  PCD_BATCH,
  PCD_CHAINS,
  gwgStep,
  makeGwgBench,
  makePcdBench,
  pcdStep,
} from "../workloads/discrete.ts";

const CALLS = 20;

function npy(descr: string, shape: number[], data: Float64Array | Float32Array | Uint8Array): Uint8Array {
  const header = npyHeader(descr, shape);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), header.length);
  return out;
}

function diffNorm(after: Float32Array, before: Float32Array): number {
  let s = 0;
  for (let i = 0; i < after.length; i++) s += (after[i] - before[i]) ** 2;
  return Math.sqrt(s);
}

const dir = process.argv[2];
if (!dir) {
  process.stderr.write("usage: npx tsx bench/peer/discrete-init.ts OUT_DIR\n");
  process.exit(2);
}
ensureDir(dir);
const write = (name: string, bytes: Uint8Array) => writeFileAtomic(join(dir, name), bytes);

// GWG: network, chains and their cached U, ∇U.
const g = await makeGwgBench();
const d = GRAY32_MLP.inputDim;
write("gwg_theta.npy", npy("<f8", [g.model.numParams], g.model.getParams()));
write("gwg_x0.npy", npy("|u1", [GWG_CHAINS, d], g.state.x));
write("gwg_u0.npy", npy("<f8", [GWG_CHAINS], g.state.u));
write("gwg_g0.npy", npy("<f8", [GWG_CHAINS, d], g.state.grad));
// The log MH ratio of a deterministic move from x0 (chain i flips site i mod 32), from the kernel's own
// proposal function: checks the peer's proposal and ratio arithmetic without any random draw.
const view = new BinaryView(g.model);
const xf = g.state.x.slice();
for (let i = 0; i < GWG_CHAINS; i++) xf[i * d + (i % d)] ^= 1;
const uf = new Float64Array(GWG_CHAINS);
const gf = new Float64Array(GWG_CHAINS * d);
view.energyAndRelaxedGrad(xf, GWG_CHAINS, uf, gf);
const fwd = new Float64Array(d);
const rev = new Float64Array(d);
const logA = new Float64Array(GWG_CHAINS);
for (let i = 0; i < GWG_CHAINS; i++) {
  gwgLogProposal(g.state.x, g.state.grad, i * d, d, 1, fwd);
  gwgLogProposal(xf, gf, i * d, d, 1, rev);
  logA[i] = -(uf[i] - g.state.u[i]) + rev[i % d] - fwd[i % d];
}
write("gwg_logA_fixed.npy", npy("<f8", [GWG_CHAINS], logA));
const accepted: number[] = [];
for (let call = 0; call < CALLS; call++) accepted.push(gwgStep(g, call) / GWG_CHAINS);
g.model.dispose();

// PCD: RBM, batch, persistent chains; the first call's update.
const p = makePcdBench();
write("rbm_W.npy", npy("<f4", [p.model.visible, p.model.hidden], p.model.W));
write("rbm_b.npy", npy("<f4", [p.model.visible], p.model.b));
write("rbm_c.npy", npy("<f4", [p.model.hidden], p.model.c));
write("rbm_v0.npy", npy("|u1", [PCD_BATCH, p.model.visible], p.v0));
write("rbm_vp.npy", npy("|u1", [PCD_CHAINS, p.model.visible], p.chains.v));
const W0 = p.model.W.slice();
const b0 = p.model.b.slice();
const c0 = p.model.c.slice();
pcdStep(p, foldIn(p.key, 0));
const first = {
  dW_fro: diffNorm(p.model.W, W0),
  db_norm: diffNorm(p.model.b, b0),
  dc_norm: diffNorm(p.model.c, c0),
};
const Wa = p.model.W.slice();
for (let call = 1; call < CALLS; call++) pcdStep(p, foldIn(p.key, call));

const result = {
  side: "ebm",
  gwg: {
    fixed_flip_logA: {
      mean: logA.reduce((a, b) => a + b, 0) / GWG_CHAINS,
      min: Math.min(...logA),
      max: Math.max(...logA),
    },
    first_call_acceptance: accepted[0],
    [`mean_acceptance_${CALLS}_calls`]: accepted.reduce((a, b) => a + b, 0) / CALLS,
  },
  pcd: {
    first_call: first,
    [`dW_fro_calls_2_to_${CALLS}`]: diffNorm(p.model.W, Wa),
  },
};
write("ebm_check.json", new TextEncoder().encode(`${JSON.stringify(result, null, 2)}\n`));
console.log(JSON.stringify(result));
