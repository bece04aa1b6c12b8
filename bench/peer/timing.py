"""Timing, metadata and the JSON report of the PyTorch peers (discrete_bench.py, gebm_bench.py).

The protocol of shared/peer/common.py and the layout of shared/peer/bench.py, so that
`ebm bench --compare` reads the output: {"label", "meta", "workloads": {name: {median_ms, min_ms, mean_ms,
max_ms, reps, warmup_reps, timed_s, settings, extra, wall_s_incl_setup_warmup}}, "total_wall_s"}.
Imported by the scripts next to it (their folder is first on sys.path, whatever the working directory).
"""
import datetime
import json
import os
import platform
import statistics
import sys
import time

import numpy as np
import torch


def time_fn(fn, min_reps=20, min_time_s=2.0, budget_s=15.0, max_warmup=3, warmup_time_s=1.0):
    t0 = time.perf_counter()
    n_warm = 0
    while True:
        fn()
        n_warm += 1
        if n_warm >= max_warmup or time.perf_counter() - t0 >= warmup_time_s:
            break
    times = []
    start = time.perf_counter()
    while True:
        a = time.perf_counter()
        fn()
        times.append(time.perf_counter() - a)
        elapsed = time.perf_counter() - start
        if len(times) >= min_reps and elapsed >= min_time_s:
            break
        if elapsed >= min_time_s and elapsed >= budget_s:
            break
    ms = [t * 1e3 for t in times]
    return {"median_ms": statistics.median(ms), "min_ms": min(ms), "mean_ms": statistics.fmean(ms),
            "max_ms": max(ms), "reps": len(ms), "warmup_reps": n_warm, "timed_s": sum(times)}


def loaded_blas():
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 6 and ("blas" in parts[-1] or "lapack" in parts[-1]):
                    libs.add(os.path.realpath(parts[-1]))
    except OSError:
        pass
    return sorted(libs)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def metadata(**extra):
    """The machine and library versions; `extra` entries are appended after the common ones."""
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python": platform.python_version(),
        "python_executable": os.path.realpath(sys.executable),
        "cpu_model": cpu_model(),
        "nproc": os.cpu_count(),
        "torch_num_threads": torch.get_num_threads(),
        "blas_libs_loaded": loaded_blas(),
        "LD_LIBRARY_PATH": os.environ.get("LD_LIBRARY_PATH"),
        **extra,
    }


def add_arguments(ap):
    """The options every peer script takes."""
    ap.add_argument("--out", default="")
    ap.add_argument("--only", default="")
    ap.add_argument("--label", default="")
    ap.add_argument("--budget", type=float, default=15.0,
                    help="per-workload timing budget (s) after which slow workloads stop before 20 reps")
    ap.add_argument("--min-seconds", type=float, default=2.0,
                    help="minimum timed seconds per workload (as ebm bench --min-seconds)")


def run(args, workloads, meta=metadata):
    """Times each (name, factory) of `workloads` (all, or those of --only), prints the JSON report on stdout
    and writes it to --out. A factory returns (fn, settings); settings["_extra"], if any, is called after
    the timing and its result stored as "extra". `meta` returns the report's "meta"."""
    only = set(filter(None, args.only.split(",")))
    unknown = only - {n for n, _ in workloads}
    if unknown:
        sys.exit(f"--only: unknown workload(s) {sorted(unknown)}")
    out = {"label": args.label, "meta": meta(), "workloads": {}}
    t_all = time.perf_counter()
    for name, factory in workloads:
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        fn, info = factory()
        extra = info.pop("_extra", None)
        r = time_fn(fn, min_time_s=args.min_seconds, budget_s=args.budget)
        r["settings"] = info
        if extra is not None:
            r["extra"] = extra()
        r["wall_s_incl_setup_warmup"] = time.perf_counter() - t0
        out["workloads"][name] = r
        print(f"[{args.label}] {name:40s} median {r['median_ms']:10.3f} ms  min {r['min_ms']:10.3f} ms"
              f"  reps {r['reps']:4d}", file=sys.stderr, flush=True)
    out["total_wall_s"] = time.perf_counter() - t_all
    # The libraries loaded by the end: the workloads may have pulled in more BLAS than at the start.
    out["meta"]["blas_libs_loaded"] = loaded_blas()
    text = json.dumps(out, indent=2)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text)
