/**
 * Drawing from a generalized EBM: independent chains on the latent posterior ν_β(z) ∝ η(z)e^{−βE(B(z))}
 * (./latent.ts), run for `steps` transitions of ULA, MALA, HMC or kinetic Langevin (src/samplers/), and
 * mapped through the generator: X = B(Z).
 *
 * Starting points: by default sampling–importance–resampling from the prior — `proposals`·n draws z ~ η,
 * weights e^{−βE(B(z))} (exactly ν_β's density ratio to η), n of them resampled multinomially — so the
 * chains start with ν_β's mass in each of its modes up to importance-sampling error, which local moves
 * alone would not fix: ν_β is multimodal when the data are, and a chain started in one basin of the prior
 * rarely crosses to another, so chains started at prior draws keep the generator's mode masses. The MCMC
 * transitions then remove the duplicates and the finite-proposal bias. `init: "prior"` starts at prior
 * draws instead (the paper's procedure). MALA, HMC and kinetic
 * Langevin (Metropolis-adjusted, as src/samplers/run.ts builds it) adapt their step size and inverse mass
 * during those steps unless a step is given; ULA needs one. The last state of every chain is kept, so the
 * n draws are independent given the model.
 */
import type { Key } from "../random/key.ts";
import { split } from "../random/key.ts";
import { gatherRows, multinomial } from "../math/resampling.ts";
import { runContinuous } from "../samplers/run.ts";
import { LatentPosterior } from "./latent.ts";
import { type Gebm, sampleLatent } from "./model.ts";

export const LATENT_SAMPLERS = ["ula", "mala", "hmc", "kinetic"] as const;
export type LatentSamplerName = (typeof LATENT_SAMPLERS)[number];

export interface GebmSampleOptions {
  /** Number of draws (independent chains). */
  n: number;
  /** Inverse temperature of the energy term (default 1: the model itself). */
  beta?: number;
  /** Default "mala". */
  sampler?: LatentSamplerName;
  /** Transitions per chain (default 300). */
  steps?: number;
  /** Fixed step size (required for ULA; adapted for the others when omitted). */
  step?: number;
  /** Friction of kinetic Langevin (default 1). */
  friction?: number;
  /** HMC's maximum leapfrog steps (default 10). */
  leapfrogSteps?: number;
  /** Chain starts: "resampled" (default; module comment) or "prior". */
  init?: "resampled" | "prior";
  /** Prior draws per chain for the resampled start (default 16). */
  proposals?: number;
}

export interface GebmSamples {
  /** n × d draws X = B(Z). */
  x: Float64Array;
  /** n × k latent draws. */
  z: Float64Array;
  /** Mean MH acceptance of the last transition (NaN for ULA). */
  acceptance: number;
  /** Step size used (adapted or given). */
  step: number | undefined;
  /** Divergent transitions (non-finite energy or gradient) over all steps. */
  divergences: number;
  /** Effective sample size 1/ΣW² of the resampled start's weights, over its proposals (NaN for "prior"). */
  initEss: number;
}

export function sampleGebm(model: Gebm, key: Key, o: GebmSampleOptions): GebmSamples {
  const sampler = o.sampler ?? "mala";
  if (!LATENT_SAMPLERS.includes(sampler))
    throw new RangeError(`sampler must be one of ${LATENT_SAMPLERS.join(", ")}, got ${sampler}`);
  if (!(Number.isInteger(o.n) && o.n >= 1)) throw new RangeError(`n must be an integer ≥ 1, got ${o.n}`);
  const steps = o.steps ?? 300;
  if (!(Number.isInteger(steps) && steps >= 1))
    throw new RangeError(`steps must be an integer ≥ 1, got ${steps}`);
  if (sampler === "ula" && o.step === undefined) throw new RangeError("ULA needs a step size (--step)");
  const [kInit, kRun, kPick] = split(key, 3);
  const beta = o.beta ?? 1;
  const posterior = new LatentPosterior(model, beta);
  const k = model.spec.latentDim;
  let z0: Float64Array;
  let initEss = Number.NaN;
  if ((o.init ?? "resampled") === "resampled") {
    const m = o.n * (o.proposals ?? 16);
    if (!(Number.isInteger(m) && m >= o.n)) throw new RangeError(`proposals must be an integer ≥ 1`);
    const zs = sampleLatent(model, kInit, m);
    const x = new Float64Array(m * model.spec.dataDim);
    model.generator.forward(zs, m, x);
    const e = new Float64Array(m);
    model.energy.energy(x, m, e);
    let lo = Number.POSITIVE_INFINITY;
    for (const v of e) if (v < lo) lo = v;
    const w = new Float64Array(m);
    let sw = 0;
    let sw2 = 0;
    for (let i = 0; i < m; i++) {
      w[i] = Math.exp(-beta * (e[i] - lo));
      sw += w[i];
      sw2 += w[i] * w[i];
    }
    initEss = (sw * sw) / sw2;
    const idx = multinomial(kPick, w, o.n);
    z0 = gatherRows(zs, k, idx, new Float64Array(o.n * k));
  } else if (o.init === "prior") {
    z0 = sampleLatent(model, kInit, o.n);
  } else {
    throw new RangeError(`init must be resampled or prior, got ${o.init}`);
  }
  // All but the last transition are warm-up (adaptation when no step is given); the last is the draw.
  const r = runContinuous(posterior, {
    sampler,
    chains: o.n,
    warmup: steps - 1,
    draws: 1,
    step: o.step,
    friction: o.friction,
    leapfrogSteps: o.leapfrogSteps,
    metric: "diagonal",
    key: kRun,
    init: z0,
  });
  const z = r.draws.slice(0, o.n * model.spec.latentDim);
  const x = new Float64Array(o.n * model.spec.dataDim);
  model.generator.forward(z, o.n, x);
  return {
    x,
    z,
    acceptance: r.acceptance,
    step: r.step,
    divergences: r.divergences + r.warmupDivergences,
    initEss,
  };
}
