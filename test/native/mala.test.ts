/**
 * The addon's MALA kernels against the TypeScript step: the proposal's normals are the stream's own
 * ziggurat draws, and the select computes the same log ratios, acceptance probabilities and moves from
 * the same uniforms. (Only exp/log in the ziggurat's rare wedge/tail branches and in log u come from the C
 * library instead of JavaScript; a last-bit difference there could change a draw, which these fixed keys
 * do not hit.) The statistical sampler tests in test/samplers run MALA on whichever path is active.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MALA_STEP } from "../../src/samplers/mala.ts";
import { skipNative as skip } from "./addon.ts";
import { keyFromSeed, Stream, ZIGGURAT_TABLES as Z } from "../../src/random/key.ts";
import { malaLogRatios } from "../../src/samplers/mala.ts";

const native = MALA_STEP.get();

test(
  "malaPropose with zero drift and unit noise returns the stream's normals, and advances it",
  { skip },
  () => {
    const n = 200_000;
    const d = 4;
    const zero = new Float64Array(n);
    const y = new Float64Array(n);
    const s = new Stream(keyFromSeed(7));
    native!.malaPropose(
      zero,
      zero,
      new Float64Array(d),
      new Float64Array(d).fill(1),
      s.stateWords(),
      Z.x,
      Z.f,
      Z.r,
      y,
    );
    const ref = new Stream(keyFromSeed(7));
    const want = ref.fillNormal(new Float64Array(n));
    assert.deepEqual(y, want);
    assert.equal(s.nextU32(), ref.nextU32(), "the stream continues where the kernel stopped");
  },
);

test("malaSelect = malaLogRatios + Metropolis select from the same uniforms", { skip }, () => {
  const n = 500;
  const d = 3;
  const r = new Stream(keyFromSeed(8));
  const x = r.fillNormal(new Float64Array(n * d));
  const gx = r.fillNormal(new Float64Array(n * d));
  const ux = r.fillNormal(new Float64Array(n));
  const y = r.fillNormal(new Float64Array(n * d));
  const gy = r.fillNormal(new Float64Array(n * d));
  const uy = r.fillNormal(new Float64Array(n));
  uy[3] = Number.NaN; // a divergent proposal
  const h = 0.3;
  const beta = 1.5;
  const drift = Float64Array.of(h * beta * 1, h * beta * 2, h * beta * 0.5);
  const invMass = Float64Array.of(1, 0.5, 2);
  const lr = malaLogRatios(
    x,
    gx,
    ux,
    y,
    gy,
    uy,
    n,
    d,
    beta,
    drift,
    invMass,
    1 / (4 * h),
    new Float64Array(n),
  );
  const [xs, gs, us] = [x.slice(), gx.slice(), ux.slice()];
  const acceptProb = new Float64Array(n);
  const accepted = new Uint8Array(n);
  const divergent = new Uint8Array(n);
  const s = new Stream(keyFromSeed(9));
  const params = Float64Array.of(beta, 1 / (4 * h));
  native!.malaSelect(
    xs,
    gs,
    us,
    y,
    gy,
    uy,
    drift,
    invMass,
    params,
    s.stateWords(),
    acceptProb,
    accepted,
    divergent,
  );
  const ref = new Stream(keyFromSeed(9));
  let moved = 0;
  for (let i = 0; i < n; i++) {
    const lu = Math.log(ref.uniformOpen());
    if (!Number.isFinite(lr[i])) {
      assert.equal(divergent[i], 1);
      assert.equal(accepted[i], 0);
      continue;
    }
    assert.equal(divergent[i], 0);
    const p = lr[i] >= 0 ? 1 : Math.exp(lr[i]);
    assert.ok(Math.abs(acceptProb[i] - p) <= 1e-12 * (1 + p), `chain ${i}: ${acceptProb[i]} vs ${p}`);
    assert.equal(accepted[i], lu < lr[i] ? 1 : 0, `chain ${i}`);
    const src = accepted[i] ? [y, gy, uy] : [x, gx, ux];
    moved += accepted[i];
    for (let j = 0; j < d; j++) {
      assert.equal(xs[i * d + j], src[0][i * d + j]);
      assert.equal(gs[i * d + j], src[1][i * d + j]);
    }
    assert.equal(us[i], src[2][i]);
  }
  assert.equal(divergent[3], 1);
  assert.ok(moved > 50 && moved < n - 50, `accepted ${moved} of ${n}`);
});
