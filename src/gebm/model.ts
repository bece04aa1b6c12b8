/**
 * Generalized energy-based models (Arbel, Zhou & Gretton, ICLR 2021): a generator B_θ : R^k → R^d pushes a
 * latent Z ~ η = N(0, I_k) forward to the base Q_θ, and an energy E_ψ on the data space reweights it:
 *
 *   dQ_{B,E}(x) = e^{−E(x)} dQ_θ(x) / Z_{Q,E},    Z_{Q,E} = E_{Z~η}[e^{−E(B(Z))}].
 *
 * Q_θ need not have a density (k < d: it lives on a k-dimensional manifold), so this is not an ordinary
 * EBM; sampling goes through the latent posterior ν(z) ∝ η(z) e^{−E(B(z))} (./latent.ts). The model also
 * carries the scalar c of the KALE objective, whose optimum is log Z_{Q,E} (./train.ts).
 */
import type { Activation } from "../networks/network.ts";
import { createMlpEnergy, type MlpEnergy } from "../energies/mlp.ts";
import { createNetwork, type Network } from "../networks/network.ts";
import type { Key } from "../random/key.ts";
import { split, Stream } from "../random/key.ts";

export interface GebmSpec {
  /** d, the data dimension. */
  dataDim: number;
  /** k, the latent dimension. */
  latentDim: number;
  /** Hidden widths of the generator R^k → R^d (default [64, 64]). */
  generatorHidden?: number[];
  /** Hidden widths of the energy R^d → R (default [64, 64]). */
  energyHidden?: number[];
  /** Activation of both networks (default "silu"). */
  activation?: Activation;
}

export interface Gebm {
  readonly spec: Readonly<Required<GebmSpec>>;
  /** B_θ. */
  readonly generator: Network;
  /** E_ψ (an MLP energy without confinement). */
  readonly energy: MlpEnergy;
  /** c: the KALE objective's estimate of log Z_{Q,E} (updated by training). */
  logZ: number;
  dispose(): void;
}

/** Fills defaults and checks `spec` (RangeError naming the field). */
export function resolveGebmSpec(spec: GebmSpec): Required<GebmSpec> {
  const posInt = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 1;
  if (!posInt(spec.dataDim)) throw new RangeError(`dataDim must be a positive integer, got ${spec.dataDim}`);
  if (!posInt(spec.latentDim))
    throw new RangeError(`latentDim must be a positive integer, got ${spec.latentDim}`);
  return {
    dataDim: spec.dataDim,
    latentDim: spec.latentDim,
    generatorHidden: [...(spec.generatorHidden ?? [64, 64])],
    energyHidden: [...(spec.energyHidden ?? [64, 64])],
    activation: spec.activation ?? "silu",
  };
}

/** Builds B_θ and E_ψ from independent subkeys of `key` on the selected backend; c starts at 0. */
export async function createGebm(spec: GebmSpec, key: Key, opts: { backend?: string } = {}): Promise<Gebm> {
  const s = resolveGebmSpec(spec);
  const [kg, ke] = split(key, 2);
  const generator = await createNetwork(
    { inputDim: s.latentDim, hidden: s.generatorHidden, outputDim: s.dataDim, activation: s.activation },
    kg,
    opts,
  );
  let energy: MlpEnergy;
  try {
    energy = await createMlpEnergy(
      { inputDim: s.dataDim, hidden: s.energyHidden, activation: s.activation },
      ke,
      opts,
    );
  } catch (e) {
    generator.dispose();
    throw e;
  }
  return {
    spec: Object.freeze(s),
    generator,
    energy,
    logZ: 0,
    dispose() {
      generator.dispose();
      energy.dispose();
    },
  };
}

/** n latent draws z ~ N(0, I_k) from a fresh stream of `key` (n × k). */
export function sampleLatent(model: Gebm, key: Key, n: number): Float64Array {
  return new Stream(key).fillNormal(new Float64Array(n * model.spec.latentDim)) as Float64Array;
}

/** n draws of the base Q_θ: x = B_θ(z), z ~ η from `key` (n × d), and the z used. */
export function sampleBase(model: Gebm, key: Key, n: number): { x: Float64Array; z: Float64Array } {
  const z = sampleLatent(model, key, n);
  const x = new Float64Array(n * model.spec.dataDim);
  model.generator.forward(z, n, x);
  return { x, z };
}
