/**
 * Generalized-EBM training steps (src/gebm/train.ts), each with a PyTorch-CPU peer doing the same work per
 * call in bench/peer/gebm_bench.py (float32, torch.set_num_threads(2), the timing protocol of
 * shared/peer/bench.py). Run both sides on the same machine, back to back:
 *
 *   LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 bench/peer/gebm_bench.py \
 *     --out out/gebm-peer.json
 *   npx ebm bench --only gebm_kale_energy_step_2d_b256,gebm_generator_step_2d_b256 --compare out/gebm-peer.json
 *
 * The model: data and latent dimension 2, generator B_θ 2 → 32 → 32 → 2 and energy E_ψ 2 → 64 → 64 → 1
 * (`ebm reproduce gebm2d` uses the same energy and a smaller generator, 2 → 16 → 2), SiLU, nn.Linear's default init from keyFromSeed(0)
 * (createGebm); the `_h256` variants widen both networks to 256 → 256 hidden units (2 → 256 → 256 → 2 and
 * 2 → 256 → 256 → 1). Data: a pool of 20 000 mog4-unequal points (toy2d, as the experiment's trainPoints),
 * from which each energy step draws its batch by index. Trainer settings: batch 256,
 * Adam 1e-3 on both sides, gradient penalty λ = 0.1, gradients clipped to global norm 10. Model and
 * optimizer state carry over from call to call; randomness comes from our keys on one side and torch's
 * generator on the other, so the draws differ but their distributions match.
 *
 * `gebm_kale_energy_step_*`: one `GebmTrainer.energyStep` — 256 data rows by index, 256 generator draws
 * x_Q = B_θ(z) (one generator forward), interpolates x̂ = t·x_P + (1 − t)·x_Q; E and ∇ₓE on the 768 rows,
 * the KALE ψ-gradient (weights 1/n on data, −e^{−E−c}/n on draws), the penalty's Σ_i ∂ψ[(λ/n)∇ₓE(x̂_i)·∇ₓE(x̂_i)]
 * (scoreParamGrad: the double backward), ∂c = 1 − E_Q[e^{−E−c}]; clip and Adam on (ψ, c).
 *
 * `gebm_generator_step_*`: one `GebmTrainer.generatorStep` — 256 latents, B_θ(z), E and ∇ₓE there,
 * self-normalised weights W ∝ e^{−E}, the vector–Jacobian product Σ_j W_j J_θB(z_j)ᵀ∇ₓE(B(z_j)) (one
 * generator forward + backward), clip and Adam on θ. The energy is the one of the seed-0 start (no energy
 * steps are run in this workload).
 *
 * Backend: both networks on the selected one (native addon when built, else tfjs wasm; `ebm bench --backend`).
 */
import { createGebm, foldIn, GebmTrainer, keyFromSeed, toy2d, type GebmSpec } from "../../src/node.ts";
import type { Workload } from "../workload.ts";

const BATCH = 256;
const POOL = 20_000;
const PENALTY = 0.1;
const LR = 1e-3;

const SMALL: GebmSpec = { dataDim: 2, latentDim: 2, generatorHidden: [32, 32], energyHidden: [64, 64] };
const WIDE: GebmSpec = { dataDim: 2, latentDim: 2, generatorHidden: [256, 256], energyHidden: [256, 256] };

async function makeTrainer(spec: GebmSpec): Promise<GebmTrainer> {
  const key = keyFromSeed(0);
  const model = await createGebm({ ...spec, activation: "silu" }, key);
  const data = toy2d("mog4-unequal").sample(foldIn(key, 1), POOL);
  return new GebmTrainer(model, data, POOL, {
    batchSize: BATCH,
    energyLr: LR,
    generatorLr: LR,
    gradientPenalty: PENALTY,
  });
}

function widths(spec: GebmSpec): string {
  const h = (w: number[] | undefined) => (w ?? []).join("→");
  return (
    `generator ${spec.latentDim}→${h(spec.generatorHidden)}→${spec.dataDim}, ` +
    `energy ${spec.dataDim}→${h(spec.energyHidden)}→1 SiLU`
  );
}

function energyStep(name: string, spec: GebmSpec): Workload {
  return {
    name,
    description:
      `one KALE energy+c Adam step (${widths(spec)}): batch ${BATCH} of mog4-unequal data and ${BATCH} ` +
      `generator draws, gradient penalty λ = ${PENALTY} at interpolates (double backward), clip 10`,
    async setup() {
      const t = await makeTrainer(spec);
      const key = keyFromSeed(2);
      let k = 0;
      return () => t.energyStep(foldIn(key, k++));
    },
  };
}

function generatorStep(name: string, spec: GebmSpec): Workload {
  return {
    name,
    description:
      `one generator Adam step (${widths(spec)}): ${BATCH} latents, Σ_j W_j J_B(z_j)ᵀ∇E(B(z_j)) ` +
      `with W ∝ e^{−E}, clip 10`,
    async setup() {
      const t = await makeTrainer(spec);
      const key = keyFromSeed(3);
      let k = 0;
      return () => t.generatorStep(foldIn(key, k++));
    },
  };
}

export const workloads: Workload[] = [
  energyStep("gebm_kale_energy_step_2d_b256", SMALL),
  generatorStep("gebm_generator_step_2d_b256", SMALL),
  energyStep("gebm_kale_energy_step_2d_h256_b256", WIDE),
  generatorStep("gebm_generator_step_2d_h256_b256", WIDE),
];
