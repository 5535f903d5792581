"""The Snakemake pipeline end to end on the smoke preset, in temporary directories.

Local executor, SLURM executor (against the local cluster of .ci/slurm-up.sh), partial
reruns, kill-and-resume, config validation as the workflow reports it (the rules
themselves are tested in tests/test_config.py), shard-size invariance, progress logs,
lint. Every run uses `--directory` into a temporary directory: nothing lands in results/.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from weightdyn.analysis import tables as tb
from weightdyn.pipeline import io
from weightdyn.engine import simulate
from weightdyn.pipeline.config import load_config, numeric_config
from weightdyn.model.tasks import make_task
from weightdyn.model.network import constant_loss

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "workflow" / "presets" / "smoke.yaml"
TABLES = ("runs", "losses", "lyapunov", "ftle", "angles")
SETTINGS = [("relu", "he"), ("relu", "wide"), ("tanh", "he"), ("tanh", "wide")]
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


# ----------------------------------------------------------------------------------
# Helpers.

def smoke_config(**changes) -> dict:
    """The smoke preset merged into config.yaml, with `section={key: value}` changes."""
    return load_config(SMOKE, changes)


def snakemake_cmd(workdir: Path, cfg: dict, *extra) -> list[str]:
    config_path = workdir / "test-config.yaml"
    config_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
            "--configfile", str(config_path), "--cores", "2", "--nocolor", *map(str, extra)]


def snakemake(workdir: Path, cfg: dict, *extra, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(snakemake_cmd(workdir, cfg, *extra), cwd=workdir, env=ENV, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        pytest.fail(f"snakemake {' '.join(map(str, extra))} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return proc


def shard_files(workdir: Path) -> list[str]:
    return sorted(str(p.relative_to(workdir)) for p in (workdir / "results" / "shards").glob("*/*.parquet"))


def expected_shards(blocks, settings=SETTINGS) -> list[str]:
    """The shards of the blocks: a runs shard and its CLV window shard each."""
    return sorted(f"results/shards/{a}_{i}/{kind}_{f:06d}-{l:06d}.parquet"
                  for a, i in settings for f, l in blocks for kind in ("seeds", "clv_windows"))


def shard_outputs(jobs: list[str]) -> list[str]:
    """The files of the planned simulate jobs (each job writes two)."""
    return sorted(path for out in jobs for path in out.split(", "))


def temporaries(workdir: Path) -> list[Path]:
    return list((workdir / "results").rglob("*.tmp"))


def assert_same_tables(a: Path, b: Path) -> None:
    """The tables of two pipeline runs hold identical data (metadata such as wall times differ)."""
    for name in (*TABLES, "clv_windows"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(a / "results" / "tables" / f"{name}.parquet"),
            pd.read_parquet(b / "results" / "tables" / f"{name}.parquet"),
            check_exact=True, obj=name,
        )
    for act, init in SETTINGS:
        csv = f"results/tables/summary_{act}_{init}.csv"
        assert (a / csv).read_text() == (b / csv).read_text(), csv


def planned(stdout: str) -> dict[str, list[str]]:
    """Rule -> outputs of the jobs a dry run plans."""
    jobs: dict[str, list[str]] = {}
    for match in re.finditer(r"^(?:local)?rule (\w+):\n((?:    .*\n?)+)", stdout, flags=re.M):
        out = re.search(r"^    output: (.*)$", match.group(2), flags=re.M)
        jobs.setdefault(match.group(1), []).append(out.group(1) if out else "")
    return jobs


@pytest.fixture(scope="module")
def local_run(tmp_path_factory) -> Path:
    """The smoke preset run once with the local executor (compared against by other tests)."""
    workdir = tmp_path_factory.mktemp("local")
    snakemake(workdir, smoke_config())
    return workdir


# ----------------------------------------------------------------------------------
# End to end, local executor.

def test_smoke_end_to_end_local(local_run):
    cfg = smoke_config()
    res = local_run / "results"
    assert shard_files(local_run) == expected_shards([(0, 2), (3, 5)])
    assert not temporaries(local_run)

    task = pd.read_parquet(res / "data" / "task.parquet")
    X, y = make_task(1000, 0, "paper", 2)
    assert list(task.columns) == ["x1", "x2", "y"]
    np.testing.assert_array_equal(task.to_numpy(), np.column_stack([X, y]))

    runs = pd.read_parquet(res / "tables" / "runs.parquet")
    assert len(runs) == 24
    assert [tuple(k) for k in runs[["activation", "init"]].drop_duplicates().to_numpy()] == SETTINGS
    for _, group in runs.groupby(["activation", "init"], sort=False):
        assert group["seed"].tolist() == list(range(6))
    for col in ["seed", "activation", "init", "final_loss", "diverged", "diverged_step", "le_1", "le_9",
                "loss_t0.0003", "loss_t0.0012", "ftle_local_9_t0.0012", "ftle_cum_1_t0.0003",
                "cos_past_identity_1_2_t0.0006", "cos_ginelli_random_8_9_t0.0009", "mean_cos_past_identity_t0.0003",
                "mean_cos_ginelli_random_t0.0012", "cos_end_identity_1_9", "mean_cos_end_paper", "clv_start_dist_9"]:
        assert col in runs.columns, col
    assert runs["diverged"].dtype == bool

    # the runs table is the shards in order, with the constant predictor's cost on the task
    # data beside them, and a shard is what the engine computes
    shards = [res / "shards" / f"{a}_{i}" / f"seeds_{f:06d}-{l:06d}.parquet" for a, i in SETTINGS for f, l in [(0, 2), (3, 5)]]
    assert (runs["constant_loss"] == constant_loss(task["y"].to_numpy())).all()
    pd.testing.assert_frame_equal(runs.drop(columns="constant_loss"),
                                  pd.concat([pd.read_parquet(p) for p in shards], ignore_index=True), check_exact=True)
    direct, direct_windows = simulate(cfg, "tanh", "wide", [3, 4, 5])
    pd.testing.assert_frame_equal(pd.read_parquet(res / "shards" / "tanh_wide" / "seeds_000003-000005.parquet"),
                                  direct, check_exact=True)
    pd.testing.assert_frame_equal(pd.read_parquet(res / "shards" / "tanh_wide" / "clv_windows_000003-000005.parquet"),
                                  direct_windows, check_exact=True)
    windows = pd.read_parquet(res / "tables" / "clv_windows.parquet")
    assert len(windows) == 24 * len(cfg["lyapunov"]["clv_window_grid"])

    meta = io.read_metadata(res / "shards" / "relu_wide" / "seeds_000003-000005.parquet")
    assert (meta["activation"], meta["init"], meta["first_seed"], meta["last_seed"]) == ("relu", "wide", 3, 5)
    assert meta["numeric_config"] == numeric_config(cfg)
    assert meta["config_hash"] == io.config_hash(numeric_config(cfg))
    assert meta["wall_time_s"] > 0 and meta["package_version"]

    tables = {name: pd.read_parquet(res / "tables" / f"{name}.parquet") for name in TABLES[1:]}
    expected = tb.long_tables(runs, cfg["lyapunov"]["checkpoints"], cfg["training"]["dt"], cfg["training"]["n_intervals"],
                              cfg["lyapunov"]["clv_window"], cfg["lyapunov"]["clv_window_end"])
    for name, table in tables.items():
        pd.testing.assert_frame_equal(table, expected[name], check_exact=True, obj=name)
    assert len(tables["angles"]) == 24 * (4 * 4 + 3) * 36

    for act, init in SETTINGS:
        sub = runs[(runs["activation"] == act) & (runs["init"] == init)]
        summary = pd.read_csv(res / "tables" / f"summary_{act}_{init}.csv").set_index("quantity")["value"]
        assert summary["runs"] == 6
        assert summary["final_loss_median"] == pytest.approx(sub["final_loss"].median(), rel=1e-15)

    for act, init in SETTINGS:
        for f, l in [(0, 2), (3, 5)]:
            log = (res / "logs" / "simulate" / f"{act}_{init}" / f"seeds_{f:06d}-{l:06d}.log").read_text()
            assert f"simulate {act}_{init} seeds {f}..{l}" in log
            assert re.search(r"100\.0% steps 1200/1200 .* runs/s .*ETA", log), log
            assert "done in" in log


def test_progress_is_logged_every_few_seconds(tmp_path):
    # size the job to take about 5 s with the engine as fast as it is now
    probe = smoke_config(training={"n_intervals": 200})
    simulate(smoke_config(), "relu", "he", [0, 1, 2])  # warm up
    start = time.perf_counter()
    simulate(probe, "relu", "he", [0, 1, 2])
    per_interval = (time.perf_counter() - start) / 200
    n_intervals = int(min(100_000, max(600, 5.0 / per_interval)))
    cfg = smoke_config(settings={"activations": ["relu"], "inits": ["he"], "runs": 3},
                       training={"n_intervals": n_intervals})
    snakemake(tmp_path, cfg, "results/shards/relu_he/seeds_000000-000002.parquet")
    log = (tmp_path / "results" / "logs" / "simulate" / "relu_he" / "seeds_000000-000002.log").read_text()
    lines = re.findall(r"^ *([\d.]+)% steps .* runs/s elapsed (\d+) s ETA (\d+) s$", log, flags=re.M)
    wall = float(re.search(r"done in ([\d.]+) s", log).group(1))
    assert wall > 2.5, f"the job was too short to test progress ({wall} s)"
    assert len(lines) >= 2 and float(lines[-1][0]) == 100.0, log
    elapsed = [0] + [int(e) for _, e, _ in lines]
    assert max(np.diff(elapsed)) <= 4, f"a gap of more than 4 s between progress lines:\n{log}"
    assert [float(p) for p, _, _ in lines] == sorted(float(p) for p, _, _ in lines)


# ----------------------------------------------------------------------------------
# SLURM.

def slurm_unavailable() -> str | None:
    if shutil.which("sinfo") is None or shutil.which("sbatch") is None:
        return "SLURM is not installed (no sinfo/sbatch; start it with .ci/slurm-up.sh)"
    states = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True)
    if states.returncode != 0 or "idle" not in states.stdout.split():
        return f"no idle SLURM node (sinfo: {states.stdout.strip() or states.stderr.strip()})"
    return None


@pytest.mark.slurm
def test_smoke_end_to_end_slurm(request, tmp_path):
    reason = slurm_unavailable()
    if reason:
        if os.environ.get("WEIGHTDYN_REQUIRE_SLURM") == "1":
            pytest.fail(f"SLURM is required here: {reason}")
        pytest.skip(reason)
    local_run = request.getfixturevalue("local_run")
    proc = snakemake(tmp_path, smoke_config(), "--profile", ROOT / "profiles" / "slurm",
                     "--slurm-init-seconds-before-status-checks", 2, "--seconds-between-status-checks", 2,
                     "--latency-wait", 5, "--slurm-keep-successful-logs", timeout=420)
    text = proc.stdout + proc.stderr
    ids = re.findall(r"submitted with SLURM jobid (\d+)", text)
    # the 8 simulate jobs and predict (heavy at scale) are batch jobs; the cheap rules run locally
    assert len(ids) == 9, f"expected the 8 simulate jobs and predict to go through SLURM:\n{text[-3000:]}"
    assert re.search(r"^rule predict:", text, flags=re.M) and len(re.findall(r"^rule simulate:", text, flags=re.M)) == 8
    for rule in ("data", "aggregate", "figures_runs", "figures_prediction", "restart_policy", "paper_comparison"):
        assert f"localrule {rule}:" in text, rule
    known = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%i"], capture_output=True, text=True).stdout.split()
    logs = {p.stem for p in (tmp_path / ".snakemake" / "slurm_logs").rglob("*.log")}
    for job in ids:
        assert job in known or job in logs, f"SLURM job {job} is neither in squeue nor in the SLURM logs"
    assert_same_tables(local_run, tmp_path)
    for path in shard_files(local_run):
        pd.testing.assert_frame_equal(pd.read_parquet(local_run / path), pd.read_parquet(tmp_path / path), check_exact=True)


# ----------------------------------------------------------------------------------
# Partial reruns: a dry run plans exactly what changed and what depends on it.

def dry_run(workdir: Path, cfg: dict) -> str:
    proc = snakemake(workdir, cfg, "--dry-run")
    return proc.stdout + proc.stderr


@pytest.fixture
def copied_run(local_run, tmp_path) -> Path:
    workdir = tmp_path / "copy"
    shutil.copytree(local_run, workdir, symlinks=True)  # keeps modification times
    return workdir


# Jobs that depend on the runs table: they rerun whenever the aggregate does.
AFTER_AGGREGATE = ["clv_convergence", "figures_prediction", "figures_runs", "paper_comparison", "predict",
                   "restart_policy", "summarize"]


def with_downstream(*jobs):
    return sorted([*jobs, "all", *AFTER_AGGREGATE])


def test_dry_run_after_deleting_one_shard_plans_exactly_it_and_its_dependants(copied_run):
    lost = "results/shards/tanh_he/seeds_000003-000005.parquet"
    (copied_run / lost).unlink()
    text = dry_run(copied_run, smoke_config())
    jobs = planned(text)
    assert sorted(jobs) == with_downstream("aggregate", "simulate"), text
    assert shard_outputs(jobs["simulate"]) == sorted([lost, lost.replace("seeds_", "clv_windows_")])
    assert len(jobs["aggregate"]) == 1 and jobs["aggregate"][0].startswith("results/tables/runs.parquet")


def test_dry_run_after_deleting_the_data_plans_data_and_aggregate_only(copied_run):
    (copied_run / "results" / "data" / "task.parquet").unlink()
    assert sorted(planned(dry_run(copied_run, smoke_config()))) == with_downstream("aggregate", "data")


def test_unchanged_workflow_has_nothing_to_do(copied_run):
    text = dry_run(copied_run, smoke_config())
    assert planned(text) == {} and "Nothing to be done" in text


def test_the_bare_preset_is_merged_into_the_workflows_config_yaml(copied_run):
    """Under --directory, where no config.yaml is, the overlay alone is the same config."""
    assert not (copied_run / "config.yaml").exists()
    text = dry_run(copied_run, yaml.safe_load(SMOKE.read_text()))
    assert planned(text) == {} and "Nothing to be done" in text


def test_summary_option_reruns_only_the_summaries_and_the_comparison(copied_run):
    jobs = planned(dry_run(copied_run, smoke_config(summary={"le_tolerance": 1e-3})))
    assert sorted(jobs) == ["all", "paper_comparison", "summarize"]


def test_event_thresholds_rerun_everything_after_the_tables_but_not_the_tables(copied_run):
    jobs = planned(dry_run(copied_run, smoke_config(events={"high_loss": 90.0})))
    assert sorted(jobs) == sorted(["all", *AFTER_AGGREGATE])


def test_prediction_option_reruns_only_the_prediction_stages(copied_run):
    jobs = planned(dry_run(copied_run, smoke_config(predict={"n_bins": 7})))
    assert sorted(jobs) == ["all", "figures_prediction", "paper_comparison", "predict", "restart_policy"]


def test_numbers_that_yaml_reads_as_text_are_numbers(copied_run):
    """PyYAML reads 3e-5 and 1.0e6 as strings; the workflow reads them as the numbers they spell,
    so this config is the smoke config and nothing is to be done."""
    text = SMOKE.read_text().replace("  n_intervals: 60\n", "  n_intervals: 60\n  dt: 3e-5\n  divergence_threshold: 1.0e6\n")
    raw = yaml.safe_load(text)
    assert raw["training"]["dt"] == "3e-5" and raw["training"]["divergence_threshold"] == "1.0e6"
    assert "Nothing to be done" in dry_run(copied_run, raw)


def test_more_runs_add_shards_and_reuse_the_existing(copied_run):
    # as a user would say it on the command line (Snakemake passes the 9 as text)
    proc = snakemake(copied_run, smoke_config(), "--dry-run", "--config", "settings={runs: 9}")
    jobs = planned(proc.stdout + proc.stderr)
    assert shard_outputs(jobs["simulate"]) == expected_shards([(6, 8)])
    assert sorted(jobs) == with_downstream("aggregate", "simulate")


def test_runs_per_setting_adds_shards_to_that_setting_only(copied_run):
    jobs = planned(dry_run(copied_run, smoke_config(settings={"runs_per_setting": {"tanh_wide": 7}})))
    assert shard_outputs(jobs["simulate"]) == expected_shards([(6, 6)], [("tanh", "wide")])
    assert sorted(jobs) == with_downstream("aggregate", "simulate")


def test_numeric_change_reruns_every_shard_but_not_the_data(copied_run):
    jobs = planned(dry_run(copied_run, smoke_config(training={"batch_seed": 1})))
    assert shard_outputs(jobs["simulate"]) == expected_shards([(0, 2), (3, 5)])
    assert sorted(jobs) == with_downstream("aggregate", "simulate")


def test_smoke_produces_every_result_and_the_report(copied_run):
    """Downstream of the tables: AUCs, Table I, every figure, the comparison, the report."""
    from weightdyn.report.figures import FIGURES

    res = copied_run / "results"
    auc = pd.read_parquet(res / "tables" / "auc.parquet")
    for col in ["event", "activation", "predictor", "t", "auc", "n_train", "n_test", "positives"]:
        assert col in auc.columns, col
    assert set(auc["event"]) == {"low", "high"} and len(auc) > 0
    assert not auc.duplicated(["event", "activation", "predictor", "t"]).any()
    table1 = (res / "tables" / "table1.md").read_text()
    assert "C(t)" in table1 and "SVM" in table1
    for name in FIGURES:
        for ext in ("png", "pdf"):
            assert (res / "figures" / f"{name}.{ext}").stat().st_size > 1000, name
    assert "| " in (res / "paper_comparison.md").read_text()
    assert (res / "tables" / "restart_policy.csv").stat().st_size > 0

    snakemake(copied_run, smoke_config(), "--report", "results/report.html", timeout=300)
    html = (res / "report.html").read_text(errors="replace")
    for name in ("fig03_final_loss_he", "fig15_roc_curves", "Table I"):
        assert name in html, name


# ----------------------------------------------------------------------------------
# Kill and resume.

@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_killed_run_resumes_to_the_same_tables(local_run, tmp_path, how):
    """SIGTERM to snakemake (it lets running jobs finish, then stops); SIGKILL to snakemake
    and its jobs at once (a crash: the lock stays, so `snakemake --unlock` comes first)."""
    cfg = smoke_config()
    proc = subprocess.Popen(snakemake_cmd(tmp_path, cfg), cwd=tmp_path, env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not shard_files(tmp_path):
            assert proc.poll() is None, "snakemake ended before the first shard"
            assert time.monotonic() < deadline, "no shard after 120 s"
            time.sleep(0.05)
        if how == "SIGTERM":
            proc.send_signal(signal.SIGTERM)
        else:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    done = shard_files(tmp_path)
    assert 1 <= len(done) < 16, f"the run was not interrupted mid-way: {done}"
    assert not (tmp_path / "results" / "tables" / "runs.parquet").exists()
    for path in done:  # no truncated shard survives
        pq.read_table(tmp_path / path)
    if how == "SIGKILL":
        snakemake(tmp_path, cfg, "--unlock")
    snakemake(tmp_path, cfg)
    assert shard_files(tmp_path) == expected_shards([(0, 2), (3, 5)])
    assert not temporaries(tmp_path)
    assert_same_tables(local_run, tmp_path)


# ----------------------------------------------------------------------------------
# Config validation: one message naming the field, nothing computed.

def _set(path: str, value):
    def change(cfg):
        *parents, key = path.split(".")
        node = cfg
        for p in parents:
            node = node[p]
        node[key] = value
    return change


INVALID = {
    "unknown key": (_set("training.lerning_rate", 0.1), "training.lerning_rate: unknown key"),
    "wrong type": (_set("training.dt", "fast"), "training.dt: 'fast' is not of type 'number'"),
    "checkpoint beyond training (the engine's verdict)": (_set("lyapunov.checkpoints", [10, 20, 58]),
                                                          "lyapunov.checkpoints"),
    "unconfigured setting": (_set("settings.runs_per_setting", {"gelu_he": 5}),
                             "settings.runs_per_setting.gelu_he: not a configured setting"),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_config_is_rejected_naming_the_field(tmp_path, case):
    change, message = INVALID[case]
    cfg = smoke_config()
    change(cfg)
    proc = snakemake(tmp_path, cfg, check=False, timeout=120)
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    assert "Invalid configuration:" in text and message in text, text[-2000:]
    problems = re.findall(r"^  (\S+): ", text.split("Invalid configuration:")[1], flags=re.M)
    assert len(problems) == 1, f"expected one problem, got {problems}"
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("presets, shards", [((), 11), (("paper.yaml",), 32),
                                             (("paper.yaml", "paper_he_biases.yaml"), 4)])
def test_shipped_configs_are_valid_and_plan_their_shards(tmp_path, presets, shards):
    """As documented: no config file for config.yaml, the preset files otherwise."""
    files = [str(ROOT / "workflow" / "presets" / name) for name in presets]
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
           *(["--configfile", *files] if files else []), "--cores", "2", "--nocolor", "--dry-run"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(planned(proc.stdout + proc.stderr)["simulate"]) == shards


# ----------------------------------------------------------------------------------
# Shard-size invariance and lint.

def test_runs_table_is_independent_of_the_shard_size(local_run, tmp_path):
    snakemake(tmp_path, smoke_config(settings={"shard_size": 4}))
    assert shard_files(tmp_path) == expected_shards([(0, 3), (4, 5)])
    assert_same_tables(local_run, tmp_path)


def test_lint_is_clean(tmp_path):
    proc = snakemake(tmp_path, smoke_config(), "--lint", check=False, timeout=120)
    assert proc.returncode == 0 and "Congratulations" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
