#!/usr/bin/python3
"""PyTorch (CPU) peer of the generalized-EBM workloads in bench/workloads/gebm.ts: the same work per call.

Run with Debian's python (python3-torch lives under /usr/bin/python3, not the python3 first on PATH),
from the repository root, with the OpenMP OpenBLAS build as shared/peer/run.sh picks it:

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \\
        /usr/bin/python3 bench/peer/gebm_bench.py [--out out/gebm-peer.json] [--only NAME,...]
    npx ebm bench --only gebm_kale_energy_step_2d_b256,gebm_generator_step_2d_b256 --compare out/gebm-peer.json

Prints one JSON object on stdout (and writes it to --out): {"label", "meta", "workloads": {name: {median_ms,
min_ms, mean_ms, max_ms, reps, warmup_reps, timed_s, settings, extra}}}, the layout of shared/peer/bench.py,
so `ebm bench --compare` reads it. Progress lines go to stderr.

Timing (timing.py, as shared/peer/bench.py, common.time_fn): warm-up of 1-3 calls (stop after 1 s), then
time.perf_counter() around each call until >= 20 calls and >= 2 s (--min-seconds) are timed, or 2 s and the
--budget (15 s) are both spent; median, min, mean, max. float32, torch.set_num_threads(2). Model and optimizer
state carry over from call to call, as on our side.

Model (ebm's GEBM2D_DEFAULTS): generator B = nn.Sequential(Linear(2,H_G), SiLU, Linear(H_G,H_G), SiLU,
Linear(H_G,2)), energy E = nn.Sequential(Linear(2,H_E), SiLU, Linear(H_E,H_E), SiLU, Linear(H_E,1)) with
(H_G, H_E) = (32, 64), or (256, 256) for the _h256 workloads; default nn.Linear init, torch.manual_seed(0);
the KALE constant c a scalar starting at 0. Data: 20000 mog4-unequal points (4 Gaussians, sd 0.25, at
(+-1.5, +-1.5), weights 0.2, 0.2, 0.3, 0.3). Batch 256, Adam(lr 1e-3, betas (0.9, 0.999), eps 1e-8) for
(E, c) and for B, gradient penalty lambda = 0.1, clip_grad_norm_ 10 over each optimizer's parameters.

Workloads:
  gebm_kale_energy_step_2d_b256 (and _h256_b256)  one energy+c step: x_P = 256 pool rows by torch.randint;
      x_Q = B(z), z ~ N(0, I_2), under no_grad; x_hat = t x_P + (1 - t) x_Q, t ~ U(0, 1), requires_grad;
      one forward of E over the 768 rows; grad_x E(x_hat) by autograd.grad(create_graph=True); loss
      -F + (lambda/2) mean |grad_x E(x_hat)|^2 with -F = mean E(x_P) + c + mean exp(-E(x_Q) - c) - 1;
      loss.backward() (the double backward through the penalty); clip; Adam step; F returned as a float
      (ebm's energyStep returns it too).
  gebm_generator_step_2d_b256 (and _h256_b256)  one generator step: x = B(z), z ~ N(0, I_2), 256 rows;
      E(x) and g = grad_x E at x.detach() (autograd.grad; E's parameters get no gradient);
      W = softmax(-E); x.backward(W[:, None] * g) (the weighted vector-Jacobian product into B's
      parameters); clip; Adam step. E stays at its seed-0 initialisation.
"""
import argparse
import os

import torch
import torch.nn as nn

import timing

NUM_THREADS = 2

DIM, LATENT, BATCH, POOL = 2, 2, 256, 20000
LR, PENALTY, CLIP = 1e-3, 0.1, 10.0
MOG4_CENTRES = [[-1.5, 1.5], [1.5, 1.5], [1.5, -1.5], [-1.5, -1.5]]
MOG4_WEIGHTS = [0.2, 0.2, 0.3, 0.3]
MOG4_SD = 0.25


# --------------------------------------------------------------------------------------------------
# The model, the data and the two steps
# --------------------------------------------------------------------------------------------------

def mlp(n_in, hidden, n_out):
    return nn.Sequential(nn.Linear(n_in, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                         nn.Linear(hidden, n_out))


def mog4_unequal(n):
    comp = torch.multinomial(torch.tensor(MOG4_WEIGHTS), n, replacement=True)
    return torch.tensor(MOG4_CENTRES)[comp] + MOG4_SD * torch.randn(n, DIM)


class Gebm:
    def __init__(self, gen_hidden, energy_hidden):
        torch.manual_seed(0)
        self.generator = mlp(LATENT, gen_hidden, DIM)
        self.energy = mlp(DIM, energy_hidden, 1)
        self.c = torch.zeros((), requires_grad=True)
        torch.manual_seed(1)
        self.data = mog4_unequal(POOL)
        self.e_params = [*self.energy.parameters(), self.c]
        self.g_params = list(self.generator.parameters())
        self.e_opt = torch.optim.Adam(self.e_params, lr=LR, betas=(0.9, 0.999), eps=1e-8)
        self.g_opt = torch.optim.Adam(self.g_params, lr=LR, betas=(0.9, 0.999), eps=1e-8)
        self.first_kale = None
        self.last_kale = None

    def energy_step(self):
        n = BATCH
        x_p = self.data[torch.randint(POOL, (n,))]
        with torch.no_grad():
            x_q = self.generator(torch.randn(n, LATENT))
        t = torch.rand(n, 1)
        x_hat = (t * x_p + (1 - t) * x_q).requires_grad_(True)
        self.e_opt.zero_grad(set_to_none=True)
        u = self.energy(torch.cat([x_p, x_q, x_hat])).squeeze(-1)
        u_p, u_q, u_hat = u[:n], u[n:2 * n], u[2 * n:]
        g_hat, = torch.autograd.grad(u_hat.sum(), x_hat, create_graph=True)
        neg_f = u_p.mean() + self.c + torch.exp(-u_q - self.c).mean() - 1
        loss = neg_f + 0.5 * PENALTY * g_hat.pow(2).sum(1).mean()
        loss.backward()
        nn.utils.clip_grad_norm_(self.e_params, CLIP)
        self.e_opt.step()
        kale = -float(neg_f)
        if self.first_kale is None:
            self.first_kale = kale
        self.last_kale = kale
        return kale

    def generator_step(self):
        n = BATCH
        self.g_opt.zero_grad(set_to_none=True)
        x = self.generator(torch.randn(n, LATENT))
        xd = x.detach().requires_grad_(True)
        u = self.energy(xd).squeeze(-1)
        g, = torch.autograd.grad(u.sum(), xd)
        w = torch.softmax(-u.detach(), dim=0)
        x.backward(w[:, None] * g)
        nn.utils.clip_grad_norm_(self.g_params, CLIP)
        self.g_opt.step()


def settings(gen_hidden, energy_hidden, notes):
    return {"data": f"mog4-unequal pool of {POOL}", "batch": BATCH, "latent_dim": LATENT, "data_dim": DIM,
            "generator": f"{LATENT}-{gen_hidden}-{gen_hidden}-{DIM} SiLU",
            "energy": f"{DIM}-{energy_hidden}-{energy_hidden}-1 SiLU", "init": "nn.Linear default, seed 0",
            "adam_lr": LR, "gradient_penalty": PENALTY, "clip_global_norm": CLIP, "notes": notes}


def wl_energy(gen_hidden, energy_hidden):
    def factory():
        m = Gebm(gen_hidden, energy_hidden)
        return m.energy_step, {**settings(gen_hidden, energy_hidden,
                                          "one forward of E over data, draws and interpolates; grad_x E at "
                                          "the interpolates with create_graph; loss.backward (double "
                                          "backward); clip; Adam on (E, c)"),
                               "_extra": lambda: {"first_call_kale": m.first_kale, "last_kale": m.last_kale,
                                                  "c": float(m.c)}}
    return factory


def wl_generator(gen_hidden, energy_hidden):
    def factory():
        m = Gebm(gen_hidden, energy_hidden)
        return m.generator_step, settings(gen_hidden, energy_hidden,
                                          "B(z); grad_x E at B(z) (detached); softmax(-E) weights; "
                                          "x.backward(W g); clip; Adam on B")
    return factory


WORKLOADS = [
    ("gebm_kale_energy_step_2d_b256", wl_energy(32, 64)),
    ("gebm_generator_step_2d_b256", wl_generator(32, 64)),
    ("gebm_kale_energy_step_2d_h256_b256", wl_energy(256, 256)),
    ("gebm_generator_step_2d_h256_b256", wl_generator(256, 256)),
]


def main():
    ap = argparse.ArgumentParser()
    timing.add_arguments(ap)
    args = ap.parse_args()
    torch.set_num_threads(NUM_THREADS)
    timing.run(args, WORKLOADS, lambda: timing.metadata(load_average=list(os.getloadavg())))


if __name__ == "__main__":
    main()
