"""The engine benchmark's report: the figures it promises, and the last line that
tracks the engine from commit to commit. Timings are machine-dependent: the one
assertion about them is opt-in (`pytest -m timing`)."""
import contextlib
import importlib.util
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def report():
    """The benchmark module and the lines of one short run of it."""
    with pytest.MonkeyPatch.context() as mp:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            mp.setenv(var, "1")  # the script sets them; restored after the run
        spec = importlib.util.spec_from_file_location("engine_benchmark", ROOT / "benchmarks" / "engine.py")
        engine = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(engine)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert engine.main(["--sizes", "8", "16", "--min-seconds", "0.05"]) == 0
    return engine, out.getvalue().strip().splitlines()


def side_by_side_ratio(lines) -> float:
    """The kernel's speed-up over the straightforward step, from the '# side by side' line."""
    return float(next(re.search(r"ratio ([\d.]+)", ln) for ln in lines if ln.startswith("# side by side"))[1])


def test_benchmark_reports_rates_and_ends_with_the_tracking_line(report):
    engine, lines = report
    rows = {int(m[1]): float(m[3]) for m in (re.fullmatch(r"\s*(\d+)\s+(\d+)\s+([\d.]+)", ln) for ln in lines) if m}
    assert set(rows) == {8, 16} and all(v > 0 for v in rows.values())
    assert any(ln.startswith("# linear in steps at 512 runs") for ln in lines)
    assert side_by_side_ratio(lines) > 0
    best = min(rows, key=rows.get)
    paper = next(ln for ln in lines if ln.startswith("# paper preset"))
    relu, tanh, hours = (float(re.search(pattern, paper)[1])
                         for pattern in (r"relu ([\d.]+)", r"tanh ([\d.]+)", r": ([\d.]+) h$"))
    assert relu == rows[best] and tanh > 0  # half the paper's runs at each rate, 2 jobs at 2x
    assert hours == pytest.approx(engine.PAPER_RUN_STEPS * (relu + tanh) / 2 * 1e-6 / 2 / 3600, abs=0.006)
    assert lines[-1] == f"best_us_per_run_step={rows[best]:.3f} ensemble={best}"


@pytest.mark.timing
def test_fast_kernel_beats_the_straightforward_step(report):
    assert side_by_side_ratio(report[1]) > 1.0


def test_width_benchmark_has_a_row_per_width_and_job_size():
    """benchmarks/width.py: one table row per (N2, runs stepped together), with P and a
    positive cost that the runs-per-hour column inverts."""
    with pytest.MonkeyPatch.context() as mp:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            mp.setenv(var, "1")
        spec = importlib.util.spec_from_file_location("width_benchmark", ROOT / "benchmarks" / "width.py")
        width = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(width)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert width.main(["--widths", "2", "3", "--runs", "2", "5", "--intervals", "20"]) == 0
    rows = [[c.strip() for c in ln.strip("|").split("|")] for ln in out.getvalue().splitlines()
            if re.match(r"\| \d", ln)]
    assert [(r[0], r[1], r[2]) for r in rows] == [("2", "9", "2"), ("2", "9", "5"), ("3", "13", "2"), ("3", "13", "5")]
    for r in rows:
        run_s = float(r[6])
        # run_s is printed to 0.01 s: the runs per hour lie within what that rounding allows
        assert run_s > 0 and 7200 / (run_s + 0.005) - 0.5 <= float(r[7]) <= 7200 / max(run_s - 0.005, 1e-9) + 0.5
