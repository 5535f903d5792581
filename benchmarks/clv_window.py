"""Cost of the end-of-training CLV window: one paper-preset shard (500 ReLU + He runs,
full length) with the shipped end window against the checkpoint window alone.

    python benchmarks/clv_window.py [--runs 500] [--intervals 36667]

Each variant runs in a fresh process, both side by side (one per core), and the script
prints each one's wall time and peak resident memory (ru_maxrss), and their ratio.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = """
import json, sys, time, resource
from weightdyn.engine import simulate
from weightdyn.pipeline.config import load_config
runs, intervals, window_end, grid = json.loads(sys.argv[1])
cfg = load_config("workflow/presets/paper.yaml")
cfg["training"]["n_intervals"] = intervals
cfg["lyapunov"].update(clv_window_end=window_end, clv_window_grid=grid)
start = time.perf_counter()
simulate(cfg, "relu", "he", range(runs))
wall = time.perf_counter() - start
print(json.dumps({"wall_s": wall, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--intervals", type=int, default=36667)
    args = ap.parse_args()
    from weightdyn.pipeline.config import load_config

    lyap = load_config("workflow/presets/paper.yaml")["lyapunov"]
    variants = {
        f"end window {lyap['clv_window_end']}, grid {lyap['clv_window_grid']}":
            [args.runs, args.intervals, lyap["clv_window_end"], lyap["clv_window_grid"]],
        f"checkpoint window {lyap['clv_window']} only":
            [args.runs, args.intervals, lyap["clv_window"], [lyap["clv_window"]]],
    }
    procs = {name: subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(v)], stdout=subprocess.PIPE, text=True)
             for name, v in variants.items()}
    out = {name: json.loads(p.communicate()[0]) for name, p in procs.items()}
    for name, r in out.items():
        print(f"{name}: wall {r['wall_s']:.1f} s, peak RSS {r['peak_mb']:.0f} MB")
    (a, b) = out.values()
    print(f"ratio (end window / checkpoint window): wall {a['wall_s'] / b['wall_s']:.3f}, "
          f"peak RSS {a['peak_mb'] / b['peak_mb']:.2f}")


if __name__ == "__main__":
    main()
