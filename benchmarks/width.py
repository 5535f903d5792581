"""Engine cost against the width N2 of the hidden layer: microseconds per run-step on one
core, and the share of it spent in the P x P tangent product Q <- Q + (dt J) Q.

    python benchmarks/width.py                     # N2 = 2, 4, 8, 16 (P = 9 ... 65 for two inputs)
    python benchmarks/width.py --widths 2 8 --runs 256 --activation tanh
    python benchmarks/width.py --widths 8 --inputs 10 --runs 2 8 32 128   # cost against the job's runs

For each width: `integrate` end to end (steps, QR every k steps, FTLEs and CLVs at the
checkpoint window; best of three), then the tangent product alone, the batched matmul
of the kernel on the same (runs, P, P) stacks, k times per interval. Its share is the
product's time over the end-to-end time; it grows as P^3 per run-step, the rest as
about P^2 (the Jacobian's entries) and P^3 / k (the QR). The table gives the cost of one
run at the paper's length (733,340 steps) and the runs that 2 cores finish in an hour,
for each number of runs stepped together (`--runs`): a job of few runs cannot spread the
per-step overhead (the QR's loop over the P columns above all) over many runs.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"  # one core, before NumPy loads BLAS

import numpy as np  # noqa: E402

from weightdyn.engine import EngineConfig, integrate  # noqa: E402
from weightdyn.model.layout import Shape  # noqa: E402
from weightdyn.model.streams import initial_state  # noqa: E402
from weightdyn.model.tasks import make_task  # noqa: E402

PAPER_STEPS = 36_667 * 20
WINDOWS = dict(clv_window=10, clv_window_end=10, clv_window_grid=(10,))


def end_to_end(shape, runs: int, activation: str, intervals: int, X, y) -> float:
    """Best of three: microseconds per run-step of `integrate` (fast kernel)."""
    config = EngineConfig(shape=shape, activation=activation, n_intervals=intervals, **WINDOWS,
                          checkpoints=(intervals // 2,))
    theta0 = initial_state(np.arange(runs), shape, "he")
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        integrate(config, theta0, X, y)
        best = min(best, time.perf_counter() - start)
    return best / (runs * config.n_steps) * 1e6


def tangent_product(P: int, runs: int, steps: int) -> float:
    """Best of three: microseconds per run-step of the kernel's tangent product alone."""
    rng = np.random.default_rng(0)
    J = 1e-4 * rng.standard_normal((runs, P, P))
    Q, JQ = np.broadcast_to(np.eye(P), (runs, P, P)).copy(), np.empty((runs, P, P))
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(steps):
            np.matmul(J, Q, out=JQ)
            Q += JQ
        best = min(best, time.perf_counter() - start)
    return best / (runs * steps) * 1e6


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--widths", type=int, nargs="+", default=[2, 4, 8, 16])
    parser.add_argument("--inputs", type=int, default=2, help="N1")
    parser.add_argument("--runs", type=int, nargs="+", default=[512], help="runs stepped together (one row each)")
    parser.add_argument("--intervals", type=int, default=60)
    parser.add_argument("--activation", default="relu")
    args = parser.parse_args(argv)
    X, y = make_task(n_inputs=args.inputs)
    print(f"# {args.activation} + He, N1 = {args.inputs}, {args.intervals} intervals of 20 steps, one core, "
          f"NumPy {np.__version__}")
    print("| N2 | P | runs | us per run-step | tangent product | share | s per run at paper length | "
          "runs per hour on 2 cores |")
    print("|---|---|---|---|---|---|---|---|")
    for N2 in args.widths:
        shape = (args.inputs, N2, 1)
        P = Shape.of(shape).P
        for runs in args.runs:
            total = end_to_end(shape, runs, args.activation, args.intervals, X, y)
            product = tangent_product(P, runs, 20 * min(args.intervals, 20))
            run_s = total * 1e-6 * PAPER_STEPS
            print(f"| {N2} | {P} | {runs} | {total:.3f} | {product:.3f} | {product / total:.0%} | {run_s:.2f} | "
                  f"{2 * 3600 / run_s:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
