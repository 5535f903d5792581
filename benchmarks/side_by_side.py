"""Two versions of the engine timed side by side in one process, alternating.

    python benchmarks/side_by_side.py --base HEAD~1               # this tree against a commit
    python benchmarks/side_by_side.py --base main --sizes 500 --activation tanh

The package of commit `--base` is exported with `git archive` into a temporary directory
under another name and imported beside the working tree's package. Both run `integrate`
(the package's public API) on the same runs, in alternation, `--repeats` times; the best
time of each gives the ratio base / this tree (above 1: this tree is faster). The two
results are compared too: 'same bits' when every output array is identical.
"""
from __future__ import annotations

import argparse
import importlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"  # one core, before NumPy loads BLAS

import numpy as np  # noqa: E402

import weightdyn  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# compared for 'same bits'; the CLV outputs are left out, their layout differs between versions
OUTPUTS = ("le", "ftle_local", "ftle_cum", "loss", "final_loss", "diverged", "diverged_step")


def import_commit(rev: str, into: Path):
    """The package `weightdyn` of commit `rev`, imported as `weightdyn_base`."""
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src/weightdyn"], check=True,
                         capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(into, filter="data")
    (into / "src" / "weightdyn").rename(into / "weightdyn_base")
    sys.path.insert(0, str(into))
    return importlib.import_module("weightdyn_base")


def timed(pkg, runs: int, activation: str, intervals: int):
    # the checkpoint window alone: versions before the end-of-training window lack its fields
    fields = pkg.EngineConfig.__dataclass_fields__
    windows = {"clv_window_end": 10, "clv_window_grid": (10,)} if "clv_window_end" in fields else {}
    config = pkg.EngineConfig(activation=activation, n_intervals=intervals, clv_window=10, **windows,
                              checkpoints=(10, intervals // 2, intervals - 10))
    X, y = pkg.make_task()
    theta0 = pkg.initial_state(np.arange(runs), (2, 2, 1), "he")
    start = time.perf_counter()
    result = pkg.integrate(config, theta0, X, y)
    return time.perf_counter() - start, result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the commit to compare with (any git revision)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--intervals", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        base = import_commit(args.base, Path(tmp))
        print(f"# {args.activation} + He, {args.intervals} intervals, best of {args.repeats} alternating runs; "
              f"base {args.base}", flush=True)
        print(f"{'runs':>6} {'base s':>8} {'this s':>8} {'base/this':>9}  bits", flush=True)
        for runs in args.sizes:
            best = {"base": np.inf, "this": np.inf}
            results = {}
            for _ in range(args.repeats):
                for name, pkg in (("base", base), ("this", weightdyn)):
                    seconds, results[name] = timed(pkg, runs, args.activation, args.intervals)
                    best[name] = min(best[name], seconds)
            same = all(np.array_equal(getattr(results["base"], k), getattr(results["this"], k), equal_nan=True)
                       for k in OUTPUTS)
            print(f"{runs:>6} {best['base']:>8.3f} {best['this']:>8.3f} {best['base'] / best['this']:>9.3f}  "
                  f"{'same bits' if same else 'DIFFERENT'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
