#!/usr/bin/python3
"""PyTorch (CPU) peer of the discrete workloads in bench/workloads/discrete.ts: the same work per call.

Run with Debian's python (python3-torch lives under /usr/bin/python3, not the python3 first on PATH),
from the repository root, with the OpenMP OpenBLAS build as shared/peer/run.sh picks it:

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \\
        /usr/bin/python3 bench/peer/discrete_bench.py [--out out/discrete-peer.json] [--only NAME,...]
    npx ebm bench --only gwg_step_gray32_n1024,rbm_pcd_784x500_b128 --compare out/discrete-peer.json

Prints one JSON object on stdout (and writes it to --out): {"label", "meta", "workloads": {name: {median_ms,
min_ms, mean_ms, max_ms, reps, warmup_reps, timed_s, settings, extra}}}, the layout of shared/peer/bench.py,
so `ebm bench --compare` reads it. No gflops_at_median is written: --compare then takes the ratio of medians.
Progress lines go to stderr.

Timing (timing.py, as shared/peer/bench.py, common.time_fn): warm-up of 1-3 calls (stop after 1 s), then
time.perf_counter() around each call until >= 20 calls and >= 2 s (--min-seconds) are timed, or 2 s and the
--budget (15 s) are both spent; median, min, mean, max. float32, torch.set_num_threads(2). State (chains, RBM parameters)
carries over from call to call, as on our side.

Workloads:
  gwg_step_gray32_n1024  one Gibbs-with-Gradients step (Grathwohl et al. 2021) of 1024 chains on {0,1}^32
      under the MLP nn.Sequential(Linear(32,256), SiLU, Linear(256,256), SiLU, Linear(256,1)) (gray2d's default
      energy), default nn.Linear init, torch.manual_seed(0), fixed; chains start at uniform random bits.
      Per call, with U(x) and g = grad_x U(x) cached from the previous call (as ebm's kernel state):
      logits = -(1/2)(1 - 2x) * g, site j ~ Categorical(softmax(logits)) (torch.multinomial), x' = x with
      x_j flipped; U(x'), g' = autograd.grad(U(x').sum(), x') (one forward + one input-gradient backward;
      parameters keep requires_grad=True, as in shared/peer's ula workload); reverse log q(j|x') from g';
      log A = -(U(x') - U(x)) + log q(j|x') - log q(j|x); accept where log(rand) < log A; x, U, g replaced
      by torch.where.
  rbm_pcd_784x500_b128  one PCD-1 SGD step of the 784x500 Bernoulli RBM of shared/peer's rbm_cd1 workload
      (W, b, c ~ 0.01 N(0,1), seed 0), fixed batch of 128 Bernoulli(0.5) rows (seed 1), 128 persistent chains
      started at v ~ Bern(sigmoid(b)) (seed 4; ebm's PCD objective starts them so), lr 0.01:
      ph0 = sigmoid(c + v0 W); h ~ p(h|v) from the chains, v ~ p(v|h), ph = sigmoid(c + v W);
      W += lr (v0^T ph0 - v^T ph)/128, b += lr mean(v0 - v), c += lr mean(ph0 - ph). Bernoulli draws as
      rand < p (faster than torch.bernoulli on this build; see shared/peer/README.md). 6 GEMMs of 128x784x500.

Like-for-like check (no timing): `npx tsx bench/peer/discrete-init.ts DIR` writes ebm's initial network,
chains, RBM, batch and persistent chains as .npy files and prints ebm's first-call statistics;
`/usr/bin/python3 bench/peer/discrete_bench.py --init-from DIR --check` starts from the same values, checks
the deterministic parts (U and grad U at the chains, the log MH ratio of a fixed move) and prints the same
statistics. --init-from also works for timing runs.
"""
import argparse
import functools
import json
import os

import numpy as np
import torch
import torch.nn as nn

import timing

NUM_THREADS = 2
CHECK_CALLS = 20

GWG_CHAINS, GWG_SITES, GWG_HIDDEN = 1024, 32, 256
NV, NH, PCD_BATCH, PCD_CHAINS, PCD_LR = 784, 500, 128, 128, 0.01


def load(init_dir, name):
    return torch.from_numpy(np.load(os.path.join(init_dir, name)))


# --------------------------------------------------------------------------------------------------
# gwg_step_gray32_n1024
# --------------------------------------------------------------------------------------------------

def make_gray32_mlp(init_dir=None):
    """32 -> 256 -> 256 -> 1 SiLU; default nn.Linear init with seed 0, or ebm's theta from init_dir."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(GWG_SITES, GWG_HIDDEN), nn.SiLU(),
                          nn.Linear(GWG_HIDDEN, GWG_HIDDEN), nn.SiLU(),
                          nn.Linear(GWG_HIDDEN, 1))
    if init_dir is not None:
        # ebm's layout: per layer W [in, out] row-major, then b (float64).
        theta = load(init_dir, "gwg_theta.npy").float()
        off = 0
        with torch.no_grad():
            for layer in (model[0], model[2], model[4]):
                n_out, n_in = layer.weight.shape
                layer.weight.copy_(theta[off:off + n_in * n_out].view(n_in, n_out).t())
                off += n_in * n_out
                layer.bias.copy_(theta[off:off + n_out])
                off += n_out
        assert off == theta.numel(), (off, theta.numel())
    return model


def energy_and_grad(model, x):
    x = x.detach().requires_grad_(True)
    U = model(x).squeeze(-1)
    g, = torch.autograd.grad(U.sum(), x)
    return U.detach(), g


def gwg_log_proposal(x, g):
    """log q(i | x) = log_softmax_i(-(1/2)(1 - 2 x_i) g_i), every chain at once."""
    return torch.log_softmax(-0.5 * (1 - 2 * x) * g, dim=1)


class Gwg:
    def __init__(self, init_dir=None):
        self.model = make_gray32_mlp(init_dir)
        if init_dir is not None:
            x = load(init_dir, "gwg_x0.npy").float()
        else:
            torch.manual_seed(1)
            x = torch.randint(0, 2, (GWG_CHAINS, GWG_SITES)).float()
        self.x = x
        self.U, self.g = energy_and_grad(self.model, x)
        self.rows = torch.arange(GWG_CHAINS)
        self.calls = 0
        self.accepted = 0
        self.first_call_acceptance = None

    def step(self):
        x, U, g, rows = self.x, self.U, self.g, self.rows
        logq = gwg_log_proposal(x, g)
        j = torch.multinomial(logq.exp(), 1).squeeze(1)
        xp = x.clone()
        xp[rows, j] = 1 - xp[rows, j]
        Up, gp = energy_and_grad(self.model, xp)
        logq_rev = gwg_log_proposal(xp, gp)
        log_a = -(Up - U) + logq_rev[rows, j] - logq[rows, j]
        acc = torch.log(torch.rand(GWG_CHAINS)) < log_a
        self.x = torch.where(acc[:, None], xp, x)
        self.U = torch.where(acc, Up, U)
        self.g = torch.where(acc[:, None], gp, g)
        a = int(acc.sum())
        if self.calls == 0:
            self.first_call_acceptance = a / GWG_CHAINS
        self.calls += 1
        self.accepted += a
        return a


def wl_gwg_step_gray32_n1024(init_dir=None):
    w = Gwg(init_dir)

    def extra():
        return {"first_call_acceptance": w.first_call_acceptance,
                "mean_acceptance_all_calls": w.accepted / max(w.calls * GWG_CHAINS, 1), "calls": w.calls}

    return w.step, {"chains": GWG_CHAINS, "sites": GWG_SITES, "mlp": "32-256-256-1 SiLU, nn.Linear init seed 0",
                    "init_from": init_dir,
                    "notes": "U, grad_x U of the current states cached: one forward + input-gradient backward "
                             "per step (at the proposals); site by torch.multinomial; accept log(rand) < log A",
                    "_extra": extra}


# --------------------------------------------------------------------------------------------------
# rbm_pcd_784x500_b128
# --------------------------------------------------------------------------------------------------

def bernoulli_sample(p):
    return (torch.rand_like(p) < p).to(p.dtype)


class Pcd:
    def __init__(self, init_dir=None):
        if init_dir is not None:
            self.W = load(init_dir, "rbm_W.npy").float().contiguous()
            self.b = load(init_dir, "rbm_b.npy").float()
            self.c = load(init_dir, "rbm_c.npy").float()
            self.v0 = load(init_dir, "rbm_v0.npy").float()
            self.vp = load(init_dir, "rbm_vp.npy").float()
        else:
            torch.manual_seed(0)  # shared/peer's make_rbm: W, b, c ~ 0.01 N(0, 1) in that order
            self.W = 0.01 * torch.randn(NV, NH)
            self.b = 0.01 * torch.randn(NV)
            self.c = 0.01 * torch.randn(NH)
            torch.manual_seed(1)
            self.v0 = bernoulli_sample(torch.full((PCD_BATCH, NV), 0.5))
            torch.manual_seed(4)
            self.vp = bernoulli_sample(torch.sigmoid(self.b).expand(PCD_CHAINS, NV).contiguous())
        self.first_call = None

    def step(self):
        W, b, c, v0, B = self.W, self.b, self.c, self.v0, PCD_BATCH
        first = self.first_call is None
        if first:
            W0, b0, c0 = W.clone(), b.clone(), c.clone()
        ph0 = torch.sigmoid(torch.addmm(c, v0, W))
        hp = bernoulli_sample(torch.sigmoid(torch.addmm(c, self.vp, W)))
        vp = bernoulli_sample(torch.sigmoid(torch.addmm(b, hp, W.t())))
        php = torch.sigmoid(torch.addmm(c, vp, W))
        dW = (v0.t() @ ph0) / B - (vp.t() @ php) / PCD_CHAINS
        W.add_(dW, alpha=PCD_LR)
        b.add_(v0.mean(0) - vp.mean(0), alpha=PCD_LR)
        c.add_(ph0.mean(0) - php.mean(0), alpha=PCD_LR)
        self.vp = vp
        if first:
            self.first_call = {"dW_fro": float((W - W0).norm()), "db_norm": float((b - b0).norm()),
                               "dc_norm": float((c - c0).norm())}


def wl_rbm_pcd_784x500_b128(init_dir=None):
    w = Pcd(init_dir)
    return w.step, {"nv": NV, "nh": NH, "batch": PCD_BATCH, "chains": PCD_CHAINS, "lr": PCD_LR,
                    "init_from": init_dir,
                    "notes": "W,b,c ~ 0.01 N(0,1) seed 0; fixed Bernoulli(0.5) batch seed 1; chains start at "
                             "Bern(sigmoid(b)) seed 4; h, v sampled, ph probabilities in both terms; plain SGD; "
                             "Bernoulli draws as rand<p",
                    "_extra": lambda: {"first_call_update_norms": w.first_call}}


WORKLOADS = [
    ("gwg_step_gray32_n1024", wl_gwg_step_gray32_n1024),
    ("rbm_pcd_784x500_b128", wl_rbm_pcd_784x500_b128),
]


# --------------------------------------------------------------------------------------------------
# Like-for-like check against ebm's start (bench/peer/discrete-init.ts)
# --------------------------------------------------------------------------------------------------

def check(init_dir):
    out = {"side": "torch", "init_from": init_dir}
    g = Gwg(init_dir)
    if init_dir is not None:
        u0 = load(init_dir, "gwg_u0.npy")
        g0 = load(init_dir, "gwg_g0.npy")
        d = GWG_SITES
        xf = g.x.clone()
        xf[g.rows, g.rows % d] = 1 - xf[g.rows, g.rows % d]
        uf, gf = energy_and_grad(g.model, xf)
        log_a = (-(uf - g.U) + gwg_log_proposal(xf, gf)[g.rows, g.rows % d]
                 - gwg_log_proposal(g.x, g.g)[g.rows, g.rows % d]).double()
        ref = load(init_dir, "gwg_logA_fixed.npy")
        out["gwg_deterministic"] = {
            "max_abs_U_diff": float((g.U.double() - u0).abs().max()),
            "max_abs_U": float(u0.abs().max()),
            "max_abs_gradU_diff": float((g.g.double() - g0).abs().max()),
            "max_abs_gradU": float(g0.abs().max()),
            "fixed_flip_logA_max_abs_diff": float((log_a - ref).abs().max()),
            "fixed_flip_logA_range": [float(ref.min()), float(ref.max())],
        }
    acc = [g.step() / GWG_CHAINS for _ in range(CHECK_CALLS)]
    out["gwg"] = {"first_call_acceptance": acc[0], f"mean_acceptance_{CHECK_CALLS}_calls": sum(acc) / CHECK_CALLS}
    p = Pcd(init_dir)
    p.step()
    Wa = p.W.clone()
    for _ in range(CHECK_CALLS - 1):
        p.step()
    out["pcd"] = {"first_call": p.first_call, f"dW_fro_calls_2_to_{CHECK_CALLS}": float((p.W - Wa).norm())}
    return out


def main():
    ap = argparse.ArgumentParser()
    timing.add_arguments(ap)
    ap.add_argument("--init-from", default=None,
                    help="start from ebm's values written by `npx tsx bench/peer/discrete-init.ts DIR`")
    ap.add_argument("--check", action="store_true",
                    help="no timing: print first-call statistics (and, with --init-from, deterministic diffs)")
    args = ap.parse_args()
    torch.set_num_threads(NUM_THREADS)
    if args.check:
        print(json.dumps(check(args.init_from)))
        return
    timing.run(args, [(name, functools.partial(factory, args.init_from)) for name, factory in WORKLOADS])


if __name__ == "__main__":
    main()
