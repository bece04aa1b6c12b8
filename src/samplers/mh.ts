/**
 * The Metropolis–Hastings plumbing shared by RWM, MALA, HMC and metropolized kinetic Langevin: proposal
 * buffers, per-chain info buffers and the accept/reject selection. Buffers belong to a kernel, are
 * reallocated only when the batch size changes, and are reused from step to step: the info a kernel
 * returns is valid until its next step.
 */
import { portableExp, portableLog } from "../random/elementary.ts";
import type { Stream } from "../random/key.ts";
import { rowFinite } from "./state.ts";
import type { ChainState, MhInfo } from "./types.ts";

/** Proposal scratch (positions, U, ∇U) and the per-chain log MH ratio. */
export class ProposalBuffers {
  position = new Float64Array(0);
  u = new Float64Array(0);
  grad = new Float64Array(0);
  logRatio = new Float64Array(0);

  ensure(n: number, dim: number): this {
    if (this.u.length !== n || this.position.length !== n * dim) {
      this.position = new Float64Array(n * dim);
      this.u = new Float64Array(n);
      this.grad = new Float64Array(n * dim);
      this.logRatio = new Float64Array(n);
    }
    return this;
  }

  /** Copies the state's positions and cached U, ∇U (the start of an integrated trajectory). */
  copyFrom(state: ChainState): this {
    this.ensure(state.n, state.dim);
    this.position.set(state.position);
    this.grad.set(state.grad);
    this.u.set(state.u);
    return this;
  }
}

/** MH info in reused buffers. */
export class MhInfoBuffers implements MhInfo {
  divergent = new Uint8Array(0);
  acceptProb = new Float64Array(0);
  accepted = new Uint8Array(0);

  /** Sizes the buffers for n chains and zeroes them (every step starts from a clean slate). */
  reset(n: number): this {
    if (this.divergent.length !== n) {
      this.divergent = new Uint8Array(n);
      this.acceptProb = new Float64Array(n);
      this.accepted = new Uint8Array(n);
    } else {
      this.divergent.fill(0);
      this.acceptProb.fill(0);
      this.accepted.fill(0);
    }
    return this;
  }
}

/**
 * The MH selection, in place: chain i moves to proposal row i with probability min(1, e^{logRatio[i]})
 * (`proposal.logRatio`), writing `info.acceptProb` and `info.accepted`. `info.divergent` comes in holding
 * the proposal's divergence flags (non-finite, or an energy error too large): those proposals are never
 * accepted. One uniform is drawn per chain whatever happens, so the stream's use does not depend on the
 * data. Chains whose kept state is itself non-finite (e.g. started there) are flagged as well: their draws
 * are not valid samples. log u and e^{log r} are the portable log and exp that the per-chain select
 * uses (mala-chains.ts), so decisions and acceptance probabilities are the same on every host.
 */
export function metropolisSelect<I extends MhInfoBuffers>(
  state: ChainState,
  proposal: ProposalBuffers,
  info: I,
  rng: Stream,
): I {
  const { n, dim, position, grad } = state;
  const { logRatio, position: py, grad: gy } = proposal;
  const { divergent, acceptProb, accepted } = info;
  for (let i = 0; i < n; i++) {
    const lu = portableLog(rng.uniformOpen());
    const lr = logRatio[i];
    acceptProb[i] = 0;
    accepted[i] = 0;
    if (divergent[i] || Number.isNaN(lr)) continue;
    acceptProb[i] = lr >= 0 ? 1 : portableExp(lr);
    if (lu < lr) {
      accepted[i] = 1;
      for (let j = i * dim; j < (i + 1) * dim; j++) {
        position[j] = py[j];
        grad[j] = gy[j];
      }
      state.u[i] = proposal.u[i];
    }
  }
  // A chain that stayed put keeps its state: flag it if that state is not finite (e.g. a bad start).
  // Accepted rows were finite proposals.
  for (let i = 0; i < n; i++) if (!accepted[i] && !rowFinite(state.u, grad, i, dim)) divergent[i] = 1;
  return info;
}
