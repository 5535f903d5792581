"""Cost of the numeric Jacobian: the same ReLU + He runs simulated with the analytic
Jacobian (the fast kernel) and the numeric one (central differences on the general path).

    python benchmarks/numeric_jacobian.py [--runs 128] [--intervals 300]

Each Jacobian runs in a fresh process, both side by side (one per core); the script
prints each one's wall time per run and full-length run (36,667 intervals), and their
ratio.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = """
import json, os, sys, time
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"
from weightdyn.engine import simulate_runs
from weightdyn.pipeline.config import load_config
runs, intervals, jacobian = json.loads(sys.argv[1])
cfg = load_config({"training": {"n_intervals": intervals, "jacobian": jacobian},
                   "lyapunov": {"clv_window_end": 100, "clv_window_grid": [10, 100], "checkpoints": [100, 200]}})
start = time.perf_counter()
simulate_runs(cfg, "relu", "he", range(runs))
print(json.dumps({"wall_s": time.perf_counter() - start}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=128)
    ap.add_argument("--intervals", type=int, default=300)
    args = ap.parse_args()
    procs = {jac: subprocess.Popen([sys.executable, "-c", CHILD, json.dumps([args.runs, args.intervals, jac])],
                                   stdout=subprocess.PIPE, text=True) for jac in ("analytic", "numeric")}
    out = {jac: json.loads(p.communicate()[0])["wall_s"] for jac, p in procs.items()}
    for jac, wall in out.items():
        per_run = wall / args.runs
        print(f"{jac}: {wall:.1f} s for {args.runs} runs x {args.intervals} intervals "
              f"({per_run * 36667 / args.intervals:.2f} s per full-length run)")
    print(f"ratio (numeric / analytic): {out['numeric'] / out['analytic']:.1f}")


if __name__ == "__main__":
    main()
