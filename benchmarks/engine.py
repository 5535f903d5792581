"""Engine throughput: microseconds per run-step on one core.

A run-step is one run advanced by one training step with its full tangent dynamics;
the timing covers everything `weightdyn.engine.integrate` does (batches, flow,
Jacobian, tangent propagation, QR every k steps, FTLE/CLV bookkeeping and full-data
losses at checkpoints).

    python benchmarks/engine.py            # ensembles of 1, 64, 256, 512, 1024, 4096 runs
    python benchmarks/engine.py --quick    # under a minute
    python benchmarks/engine.py --sizes 256 1024 --activation tanh
    python benchmarks/engine.py --jobs 2   # also: throughput of 2 processes side by side

Before the last line the fast kernel is timed beside the straightforward vectorised
NumPy step (`model.flow.flow_and_jacobian` for all runs, then the stacked 9x9 product),
on the same runs and batches, alternating, so the ratio holds on a busy machine.
The paper preset's wall time on 2 cores is estimated from the ReLU and tanh rates at
the best size (half its networks each) and the measured 2-job gain when --jobs 2 is
given. The last line reads `best_us_per_run_step=<value> ensemble=<runs>`.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import sys
import time

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"  # one core, before NumPy loads BLAS

import numpy as np  # noqa: E402

from weightdyn.engine import EngineConfig, Ensemble, integrate  # noqa: E402
from weightdyn.model.streams import initial_state  # noqa: E402
from weightdyn.model.tasks import make_task  # noqa: E402

# the checkpoint window alone; benchmarks/clv_window.py measures the end-of-training window
WINDOWS = dict(clv_window=10, clv_window_end=10, clv_window_grid=(10,))

PAPER_RUN_STEPS = 16_000 * 36_667 * 20
PAPER_ACTIVATIONS = ("relu", "tanh")


def measure(runs: int, activation: str, init: str, min_seconds: float, X, y) -> tuple[float, int]:
    """Median of three timings of integrate(); intervals grow until one takes min_seconds."""
    theta0 = initial_state(np.arange(runs), (2, 2, 1), init)
    intervals = 40
    while True:
        config = EngineConfig(activation=activation, n_intervals=intervals, **WINDOWS,
                              checkpoints=(10, intervals // 2, intervals - 10))
        start = time.perf_counter()
        integrate(config, theta0, X, y)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds or intervals >= 40_000:
            break
        intervals = int(intervals * max(2.0, 1.2 * min_seconds / max(elapsed, 1e-3)))
    times = [elapsed]
    for _ in range(2):
        start = time.perf_counter()
        integrate(config, theta0, X, y)
        times.append(time.perf_counter() - start)
    return float(np.median(times)) / (runs * config.n_steps) * 1e6, config.n_steps


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo where there is one, else what platform knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def timed_integrate(runs: int, activation: str, init: str, intervals: int) -> float:
    """Seconds of one integrate() of `runs` runs over `intervals` intervals."""
    X, y = make_task()
    config = EngineConfig(activation=activation, n_intervals=intervals, **WINDOWS,
                          checkpoints=sorted({10, intervals // 2, intervals - 10}))
    theta0 = initial_state(np.arange(runs), (2, 2, 1), init)
    start = time.perf_counter()
    integrate(config, theta0, X, y)
    return time.perf_counter() - start


def parallel_throughput(jobs: int, runs: int, activation: str, init: str, intervals: int) -> float:
    """Throughput of `jobs` processes running the same workload at once, relative to one
    process alone (ideal: `jobs`); alone and together alternate twice, best of each."""
    task = (runs, activation, init, intervals)
    alone, together = np.inf, np.inf
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        pool.starmap(timed_integrate, [task[:3] + (20,)] * jobs)  # warm-up: imports, first BLAS calls
        for _ in range(2):
            alone = min(alone, pool.apply(timed_integrate, task))
            together = min(together, max(pool.starmap(timed_integrate, [task] * jobs)))
    return jobs * alone / together


def side_by_side(runs: int, activation: str, init: str, intervals: int, X, y) -> tuple[float, float]:
    """Best-of-three microseconds per run-step of `Ensemble.advance_interval` (steps and
    QR) with the fast kernel and with the general vectorised path, timed alternately."""
    theta0 = initial_state(np.arange(runs), (2, 2, 1), init)
    config = EngineConfig(activation=activation, n_intervals=intervals, clv_window=1, clv_window_end=1,
                          clv_window_grid=(1,), checkpoints=())
    best = {"kernel": np.inf, "general": np.inf}
    for _ in range(3):
        for path in best:
            ens = Ensemble(config, theta0, X, y)
            if path == "general":
                ens.kernel = None
            start = time.perf_counter()
            for _ in range(intervals):
                ens.advance_interval()
            best[path] = min(best[path], time.perf_counter() - start)
    steps = runs * config.n_steps
    return best["kernel"] / steps * 1e6, best["general"] / steps * 1e6


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 64, 256, 512, 1024, 4096])
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--init", default="he")
    parser.add_argument("--min-seconds", type=float, default=3.0, help="minimum duration of one timing")
    parser.add_argument("--quick", action="store_true", help="sizes 64 to 2048 at 1 s each (under a minute)")
    parser.add_argument("--jobs", type=int, default=0, help="also time this many processes side by side")
    parser.add_argument("--jobs-seconds", type=float, default=10.0, help="length of each side-by-side timing")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.min_seconds = [64, 256, 512, 1024, 2048], 1.0

    X, y = make_task()
    print(f"# {cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"NumPy {np.__version__}; {args.activation} + {args.init}, one BLAS thread", flush=True)
    print(f"{'runs':>6} {'steps':>8} {'us/run-step':>12}", flush=True)
    results = {}
    for runs in args.sizes:
        us, steps = measure(runs, args.activation, args.init, args.min_seconds, X, y)
        results[runs] = us
        print(f"{runs:>6} {steps:>8} {us:>12.3f}", flush=True)
    m = 20 if args.quick else 100
    short, long = (timed_integrate(512, args.activation, args.init, n) / (512 * n * 20) * 1e6 for n in (m, 4 * m))
    print(f"# linear in steps at 512 runs: {m} intervals {short:.3f}, {4 * m} intervals {long:.3f} us/run-step",
          flush=True)
    gain = None
    if args.jobs > 1:
        intervals = max(m, round(args.jobs_seconds / (512 * 20 * long * 1e-6)))
        gain = parallel_throughput(args.jobs, 512, args.activation, args.init, intervals)
        print(f"# {args.jobs} processes side by side (512 runs, {intervals} intervals each, about "
              f"{args.jobs_seconds:.0f} s): {gain:.2f}x the throughput of one", flush=True)
    kernel, general = side_by_side(512, args.activation, args.init, 5 if args.quick else 20, X, y)
    print(f"# side by side at 512 runs (steps + QR): fast kernel {kernel:.3f}, straightforward vectorised "
          f"NumPy step {general:.3f} us/run-step, ratio {general / kernel:.1f}", flush=True)
    best = min(results, key=results.get)
    rates = {args.activation: results[best]}
    if args.activation in PAPER_ACTIVATIONS:  # the paper runs half its networks with each
        for act in PAPER_ACTIVATIONS:
            if act not in rates:
                rates[act] = measure(best, act, args.init, args.min_seconds, X, y)[0]
        rates = {act: rates[act] for act in PAPER_ACTIVATIONS}
    two_jobs = gain if args.jobs == 2 else None
    hours = PAPER_RUN_STEPS * float(np.mean(list(rates.values()))) * 1e-6 / (two_jobs or 2.0) / 3600
    mix = ", ".join(f"{act} {us:.3f}" for act, us in rates.items())
    scaling = f"{two_jobs:.2f}x measured for 2 jobs" if two_jobs else "2 jobs assumed 2x"
    print(f"# paper preset (16,000 runs x 733,340 steps) on 2 cores, {best} runs per block ({mix} us/run-step; "
          f"{scaling}): {hours:.2f} h", flush=True)
    print(f"best_us_per_run_step={results[best]:.3f} ensemble={best}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
