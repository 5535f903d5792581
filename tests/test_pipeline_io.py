"""weightdyn.pipeline.io: atomic Parquet writing, provenance metadata, shards, long tables,
summaries; weightdyn.pipeline.rules: what the rule scripts share."""
import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from weightdyn.analysis import tables as tb
from weightdyn.pipeline import io
from weightdyn.engine import simulate_runs
from weightdyn.pipeline.config import load_config, numeric_config
from weightdyn.pipeline.rules import job_log, pin_threads

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_cfg():
    cfg = load_config(ROOT / "workflow" / "presets" / "smoke.yaml")
    cfg["training"]["n_intervals"] = 12
    cfg["lyapunov"].update(clv_window=3, clv_window_end=8, clv_window_grid=[3, 8], checkpoints=[3, 6, 9])
    return cfg


@pytest.fixture(scope="module")
def tiny_runs(tiny_cfg):
    return simulate_runs(tiny_cfg, "relu", "he", [4, 5, 6])


def frame(n=3, start=0):
    return pd.DataFrame({"seed": np.arange(start, start + n), "activation": "relu", "init": "he",
                         "x": np.linspace(0.0, 1.0, n)})


# ----------------------------------------------------------------------------------
# Atomic writing.

def test_write_parquet_round_trip_with_metadata(tmp_path):
    df = frame()
    path = io.write_parquet(df, tmp_path / "sub" / "a.parquet", {"answer": 42, "nested": {"dt": 3e-5}})
    pd.testing.assert_frame_equal(io.read_parquet(path), df)
    assert io.read_metadata(path) == {"answer": 42, "nested": {"dt": 3e-5}}
    assert list(path.parent.iterdir()) == [path]


@pytest.mark.skipif(sys.platform != "linux", reason="reads the peak memory as Linux reports it (ru_maxrss in kB)")
def test_a_wide_table_is_read_in_bounded_memory(tmp_path):
    """A runs table of a wide network has tens of thousands of columns (P = 97: 89,464).
    Read in a rule (Arrow's pool pinned to one thread), 2 rows x 20,000 columns must stay
    well under a gigabyte: 0.36 GB here, where Arrow's threaded reader took 1.9 GB."""
    path = tmp_path / "wide.parquet"
    columns = [f"cos_{k}" for k in range(20_000)]
    io.write_parquet(pd.DataFrame(np.ones((2, len(columns))), columns=columns), path, {})
    code = ("import resource, sys; from weightdyn.pipeline import io; df = io.read_parquet(sys.argv[1]); "
            "print(df.shape[1], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run([sys.executable, "-c", code, str(path)], env=env, capture_output=True, text=True, check=True,
                         timeout=120).stdout.split()
    assert int(out[0]) == len(columns) and int(out[1]) < 800_000  # kB


def test_failed_write_keeps_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = io.write_parquet(frame(), tmp_path / "a.parquet")
    before = path.read_bytes()

    def broken_writer(table, where, **kwargs):
        Path(where).write_bytes(b"PAR1 half a file")
        raise KeyboardInterrupt  # as if the job were interrupted mid-write

    monkeypatch.setattr(io.pq, "write_table", broken_writer)
    with pytest.raises(KeyboardInterrupt):
        io.write_parquet(frame(5), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.parquet"]


def test_failed_first_write_leaves_nothing(tmp_path, monkeypatch):
    def broken_writer(table, where, **kwargs):
        Path(where).write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(io.pq, "write_table", broken_writer)
    with pytest.raises(OSError):
        io.write_parquet(frame(), tmp_path / "a.parquet")
    assert list(tmp_path.iterdir()) == []


def test_stale_temporaries_of_a_killed_writer_are_removed(tmp_path):
    stale = tmp_path / ".a.parquet.x1y2z3.tmp"
    stale.write_bytes(b"PAR1 truncated")
    other = tmp_path / ".b.parquet.x1y2z3.tmp"  # another file's temporary is left alone
    other.write_bytes(b"x")
    io.write_parquet(frame(), tmp_path / "a.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".b.parquet.x1y2z3.tmp", "a.parquet"]


def test_write_csv_is_atomic_and_plain(tmp_path):
    path = io.write_csv(pd.DataFrame({"quantity": ["runs"], "value": [3]}), tmp_path / "s.csv")
    assert path.read_text() == "quantity,value\nruns,3\n"


def test_source_hash_covers_every_module_of_the_package(tmp_path):
    package = Path(io.__file__).resolve().parents[1]
    assert io.source_hash() == io.source_hash(package)
    tree = tmp_path / "weightdyn"
    shutil.copytree(package, tree, ignore=shutil.ignore_patterns("__pycache__"))
    before = io.source_hash(tree)
    assert before == io.source_hash(package)  # names relative to the root: the copy hashes alike
    module = tree / "engine" / "kernel.py"
    module.write_text(module.read_text() + "\n")
    assert io.source_hash(tree) != before
    module.rename(tree / "engine" / "kernel2.py")  # a renamed module changes it too
    renamed = io.source_hash(tree)
    assert renamed != before and len(renamed) == 16


# ----------------------------------------------------------------------------------
# Shards.

def test_config_hash_is_stable_and_sensitive(tiny_cfg):
    numeric = numeric_config(tiny_cfg)
    again = copy.deepcopy(numeric)
    assert io.config_hash(numeric) == io.config_hash(again)
    assert io.config_hash(dict(reversed(list(numeric.items())))) == io.config_hash(numeric)
    again["training"]["batch_seed"] += 1
    assert io.config_hash(again) != io.config_hash(numeric)
    assert len(io.config_hash(numeric)) == 16


def test_write_shard_records_provenance(tmp_path, tiny_cfg, tiny_runs):
    numeric = numeric_config(tiny_cfg)
    path = io.write_shard(tiny_runs, tmp_path / "s.parquet", numeric=numeric, activation="relu", init="he",
                          seeds=[4, 5, 6], wall_time_s=1.5, data_sha256="ab12")
    meta = io.read_metadata(path)
    assert meta["kind"] == "shard"
    assert (meta["activation"], meta["init"], meta["first_seed"], meta["last_seed"], meta["n_runs"]) == ("relu", "he", 4, 6, 3)
    assert meta["numeric_config"] == numeric
    assert meta["config_hash"] == io.config_hash(numeric)
    assert meta["wall_time_s"] == 1.5 and meta["data_sha256"] == "ab12"
    assert meta["package_version"] == io.package_version() != ""
    pd.testing.assert_frame_equal(io.read_parquet(path), tiny_runs)
    # readable without weightdyn, as documented
    assert b"weightdyn" in pq.read_schema(path).metadata


def test_write_shard_rejects_rows_of_other_runs(tmp_path, tiny_cfg, tiny_runs):
    numeric = numeric_config(tiny_cfg)
    with pytest.raises(ValueError, match="seeds"):
        io.write_shard(tiny_runs, tmp_path / "s.parquet", numeric=numeric, activation="relu", init="he",
                       seeds=[4, 5, 7], wall_time_s=1.0, data_sha256="")
    with pytest.raises(ValueError, match="setting"):
        io.write_shard(tiny_runs, tmp_path / "s.parquet", numeric=numeric, activation="tanh", init="he",
                       seeds=[4, 5, 6], wall_time_s=1.0, data_sha256="")
    assert not (tmp_path / "s.parquet").exists()


def test_concat_shards_keeps_order_and_checks_hash_and_duplicates(tmp_path):
    good = {"config_hash": "aaaa"}
    a = io.write_parquet(frame(2, 10), tmp_path / "a.parquet", good)
    b = io.write_parquet(frame(3, 0), tmp_path / "b.parquet", good)
    runs = io.concat_shards([a, b], expected_hash="aaaa")
    assert runs["seed"].tolist() == [10, 11, 0, 1, 2]
    assert runs.index.tolist() == list(range(5))
    stale = io.write_parquet(frame(1, 20), tmp_path / "stale.parquet", {"config_hash": "bbbb"})
    with pytest.raises(ValueError, match="stale.parquet.*numeric config bbbb"):
        io.concat_shards([a, b, stale], expected_hash="aaaa")
    c = io.write_parquet(frame(2, 1), tmp_path / "c.parquet", good)
    with pytest.raises(ValueError, match="more than one shard"):
        io.concat_shards([b, c])


# ----------------------------------------------------------------------------------
# Long tables and summaries.

def test_long_tables_hold_exactly_the_wide_values(tiny_cfg, tiny_runs):
    dt, M, ck = tiny_cfg["training"]["dt"], tiny_cfg["training"]["n_intervals"], [3, 6, 9]
    W, W_end = tiny_cfg["lyapunov"]["clv_window"], tiny_cfg["lyapunov"]["clv_window_end"]
    tables = tb.long_tables(tiny_runs, ck, dt, M, W, W_end)
    R, P, n_pairs = 3, 9, 36
    assert len(tables["losses"]) == R * (len(ck) + 1)
    assert len(tables["lyapunov"]) == R * P
    assert len(tables["ftle"]) == R * len(ck) * P
    # two estimates x two starts per checkpoint; at the end both starts and the paper's reading
    assert len(tables["angles"]) == R * (4 * len(ck) + 3) * n_pairs

    wide = tiny_runs.set_index("seed")
    losses = tables["losses"].set_index(["seed", "interval"])
    assert losses.loc[(5, 6), "loss"] == wide.loc[5, f"loss_t{6 * dt:g}"]
    assert losses.loc[(6, M), "loss"] == wide.loc[6, "final_loss"]
    assert losses.loc[(6, M), "t"] == pytest.approx(M * dt)

    le = tables["lyapunov"].set_index(["seed", "index"])["le"]
    assert le.loc[(4, 7)] == wide.loc[4, "le_7"]

    ftle = tables["ftle"].set_index(["seed", "interval", "index"])
    assert ftle.loc[(5, 9, 3), "ftle_local"] == wide.loc[5, f"ftle_local_3_t{9 * dt:g}"]
    assert ftle.loc[(5, 9, 3), "ftle_cum"] == wide.loc[5, f"ftle_cum_3_t{9 * dt:g}"]

    angles = tables["angles"].set_index(["seed", "estimate", "start", "window", "interval", "i", "j"])["abs_cos"]
    assert angles.loc[(6, "ginelli", "random", W, 3, 2, 8)] == wide.loc[6, f"cos_ginelli_random_2_8_t{3 * dt:g}"]
    assert angles.loc[(6, "past", "identity", W, 6, 1, 9)] == wide.loc[6, f"cos_past_identity_1_9_t{6 * dt:g}"]
    assert angles.loc[(4, "past", "identity", W_end, M, 4, 5)] == wide.loc[4, "cos_end_identity_4_5"]
    assert angles.loc[(4, "past", "random", W, M, 4, 5)] == wide.loc[4, "cos_end_paper_4_5"]
    assert angles.index.is_unique

    for table in tables.values():
        assert list(table.columns[:3]) == ["seed", "activation", "init"]
        assert set(table["activation"]) == {"relu"}


def test_long_tables_reject_a_foreign_checkpoint(tiny_cfg, tiny_runs):
    with pytest.raises(ValueError, match="checkpoint columns"):
        tb.long_tables(tiny_runs, [3, 6, 8], tiny_cfg["training"]["dt"], tiny_cfg["training"]["n_intervals"], 3, 8)


def test_setting_summary_counts_over_runs_that_did_not_diverge():
    P = 9
    le = np.zeros((5, P))
    le[0, :3] = [0.5, 0.2, 0.1]      # three positive leading exponents
    le[1, :3] = [0.3, 0.2, 1e-9]     # third positive only below the tolerance
    le[2, 0] = 1e-9                  # positive only by rounding
    le[3, 0] = -0.2
    runs = pd.DataFrame({"seed": range(5), "activation": "relu", "init": "he",
                         "final_loss": [1.0, 50.0, 150.0, 3.0, np.nan],
                         "diverged": [False, False, False, False, True],
                         **{f"le_{q + 1}": le[:, q] for q in range(P)},
                         "mean_cos_end_paper": [0.1, 0.2, 0.3, 0.4, np.nan]})
    runs.loc[4, [f"le_{q + 1}" for q in range(P)]] = np.nan
    s = tb.setting_summary(runs, low_loss=4.0, high_loss=100.0, le_tolerance=1e-6).set_index("quantity")["value"]
    assert s["runs"] == 5 and s["diverged"] == 1
    assert s["low_loss_share"] == 0.5 and s["high_loss_share"] == 0.25
    assert s["le1_positive_share"] == 0.75 and s["le1_positive_share_tol"] == 0.5
    assert s["three_leading_positive_share"] == 0.5 and s["three_leading_positive_share_tol"] == 0.25
    assert s["final_loss_median"] == 26.5 and s["final_loss_max"] == 150.0
    assert s["le_1_mean"] == pytest.approx((0.5 + 0.3 + 1e-9 - 0.2) / 4)
    assert s["mean_cos_end_paper_mean"] == pytest.approx(0.25) and "mean_cos_end_identity_mean" not in s
    assert isinstance(s["runs"], int)


# ----------------------------------------------------------------------------------
# The rule scripts' helper.

def test_threads_are_pinned_before_numpy_loads(tmp_path):
    """In a fresh interpreter, as in a rule job: importing the package and the helper does
    not load NumPy, and BLAS (also in the joblib workers of the predict rule) then runs on
    the pinned thread count."""
    code = """
import sys
import weightdyn, weightdyn.pipeline.rules as rules
assert "numpy" not in sys.modules, "importing weightdyn loaded NumPy"
rules.pin_threads(1)
from joblib import Parallel, delayed
from threadpoolctl import threadpool_info

def blas_threads():
    return sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})

import numpy
print(blas_threads(), Parallel(n_jobs=2)(delayed(blas_threads)() for _ in range(2)))
"""
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[1] [[1], [1]]"


def test_pin_threads_refuses_once_numpy_is_loaded():
    assert "numpy" in sys.modules  # this test module imported it
    with pytest.raises(RuntimeError, match="before NumPy"):
        pin_threads(1)


class FakeJob:
    def __init__(self, log):
        self.log = [str(log)]


def test_job_log_writes_the_traceback_of_a_failure_and_raises_it(tmp_path):
    path = tmp_path / "job.log"
    with pytest.raises(ZeroDivisionError):
        with job_log(FakeJob(path)) as log:
            print("started", file=log)
            1 / 0
    text = path.read_text()
    assert text.startswith("started\nTraceback (most recent call last):") and "ZeroDivisionError" in text
    with job_log(FakeJob(path)) as log:
        print("fine", file=log)
    assert path.read_text() == "fine\n"
