/**
 * Walker moves: a kernel together with the parameters of its steps, as SMC and the training objectives take
 * it (BlackJAX's `mcmc_step_fn` with its `mcmc_parameters`). The objective builds the kernel once on its
 * model (`build`); every step then reads the model's current θ. All moves target e^{−U_θ} (β = 1).
 */
import type { Energy } from "../energies/contract.ts";
import { type HmcOptions, type HmcParams, hmc } from "./hmc.ts";
import { mala } from "./mala.ts";
import type { ChainState, KernelParams, Sampler, StepInfo } from "./types.ts";
import { ula } from "./ula.ts";

export interface WalkerMove<P extends KernelParams = KernelParams> {
  /** The kernel's name ("ula", "mala", "hmc", …), for messages. */
  readonly name: string;
  /**
   * True when every step leaves e^{−U_θ} exactly invariant (Metropolis-adjusted kernels): reweighting
   * schemes then use the AIS increment. False for ULA, whose Jarzynski weights correct its bias.
   */
  readonly exact: boolean;
  /** Parameters passed to every step. */
  readonly params: Readonly<P>;
  build(energy: Energy): Sampler<ChainState, StepInfo, P>;
}

/** ULA with step size h (no preconditioner): the unadjusted move of CD, PCD and Jarzynski training. */
export function ulaMove(step: number): WalkerMove {
  return { name: "ula", exact: false, params: { step }, build: (energy) => ula(energy) };
}

/** MALA with step size h and an optional diagonal preconditioner. */
export function malaMove(step: number, inverseMass?: Float64Array): WalkerMove {
  const params = inverseMass ? { step, inverseMass: Float64Array.from(inverseMass) } : { step };
  return { name: "mala", exact: true, params, build: (energy) => mala(energy) };
}

/** HMC with the given step parameters (jitter on by default, see hmc.ts). */
export function hmcMove(params: HmcParams, opts: Omit<HmcOptions, "beta"> = {}): WalkerMove<HmcParams> {
  const p: HmcParams = { ...params };
  if (params.inverseMass) p.inverseMass = Float64Array.from(params.inverseMass);
  return { name: "hmc", exact: true, params: p, build: (energy) => hmc(energy, opts) };
}
