"""Shared definitions: the config, settings and seed blocks, paths, final targets.

The config is config.yaml of this workflow with what the user gave (`--configfile`,
`--config`) merged on top, wherever Snakemake runs (also with `--directory`). It is
checked while the workflow is parsed, before any job is planned, by
`weightdyn.pipeline.config.validate_config` (schema, numbers given as text, cross-field
rules); a bad config stops here with one line per problem, each naming its field.
"""
import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

# The workflow runs the library of its own source tree, also in conda environments
# (where it is not installed) and in cluster jobs, which inherit PYTHONPATH.
SRC = Path(workflow.basedir) / "src"
sys.path.insert(0, str(SRC))
os.environ.update(PYTHONPATH=os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH")) if p))

from weightdyn.engine.columns import setting_name  # noqa: E402
from weightdyn.engine.config import EngineConfig  # noqa: E402
from weightdyn.pipeline.config import ConfigError, load_config, numeric_config, settings, validate_config  # noqa: E402
from weightdyn.pipeline.io import config_hash  # noqa: E402

ENV = "../../envs/weightdyn.yaml"


# ----------------------------------------------------------------------------------
# The config: config.yaml with the user's config on top (idempotent), then validated.

_merged = load_config(config)
config.clear()
config.update(_merged)
try:
    validate_config(config)
except ConfigError as exc:
    raise WorkflowError(str(exc)) from None


# ----------------------------------------------------------------------------------
# Settings, seed blocks and paths.

SETTINGS = settings(config)
SETTING_NAMES = [setting_name(a, i) for a, i in SETTINGS]

# The numeric config determines the content of a shard (with its setting and seeds); its
# hash is a parameter of the simulate rule, so changing it reruns every shard, while
# changing anything else (run counts, shard size, summary options) does not.
NUMERIC = numeric_config(config)
NUMERIC_HASH = config_hash(NUMERIC)

DATA = "results/data/task.parquet"
SHARD = "results/shards/{activation}_{init}/seeds_{first}-{last}.parquet"
WINDOW_SHARD = "results/shards/{activation}_{init}/clv_windows_{first}-{last}.parquet"
CLV_WINDOWS = "results/tables/clv_windows.parquet"
TABLES = {name: f"results/tables/{name}.parquet" for name in ("runs", "losses", "lyapunov", "ftle", "angles")}
SUMMARY = "results/tables/summary_{setting}.csv"


def n_runs(activation, init) -> int:
    st = config["settings"]
    return int(st["runs_per_setting"].get(setting_name(activation, init), st["runs"]))


def seed_blocks(activation, init) -> list[tuple[int, int]]:
    """(first, last) seeds of the shards of a setting: consecutive blocks of shard_size
    from first_seed, so that more runs only add blocks."""
    st = config["settings"]
    first, size = int(st["first_seed"]), int(st["shard_size"])
    end = first + n_runs(activation, init)
    return [(s, min(s + size, end) - 1) for s in range(first, end, size)]


def shard_path(activation, init, first, last, pattern=SHARD) -> str:
    return pattern.format(activation=activation, init=init, first=f"{first:06d}", last=f"{last:06d}")


def all_shards(pattern=SHARD) -> list[str]:
    """Every shard of the config: the runs shards, or with pattern=WINDOW_SHARD their CLV
    window tables."""
    return [shard_path(a, i, f, l, pattern) for a, i in SETTINGS for f, l in seed_blocks(a, i)]


def summary_paths() -> list[str]:
    return [SUMMARY.format(setting=name) for name in SETTING_NAMES]


# Cost model of a shard for cluster resources, an upper bound: seconds per interval =
# SECONDS_PER_INTERVAL + SECONDS_PER_RUN_INTERVAL * runs. Measured (README): paper-preset
# shards of 500 runs x 36,667 intervals, a ReLU + He and a tanh + He shard side by side on
# 2 cores, took 259 s and 383 s, i.e. 1.41e-5 and 2.09e-5 s per run-interval with every
# fixed cost included. SECONDS_PER_RUN_INTERVAL is 1.4x the slower (tanh) rate;
# SECONDS_PER_INTERVAL bounds what does not grow with the runs (about 1.1e-3 s per
# interval from the benchmark's 64- and 512-run rates; 3.5x that). For a 500-run shard the
# model gives 697 s, 1.8x the tanh shard, before simulate_runtime's own factor of 3.
SECONDS_PER_INTERVAL = 4e-3
SECONDS_PER_RUN_INTERVAL = 3e-5


def _shard_runs(wildcards) -> int:
    return int(wildcards.last) - int(wildcards.first) + 1


def simulate_runtime(wildcards, attempt) -> int:
    """Minutes requested per shard: three times the estimate plus 10, more on a retry."""
    seconds = (SECONDS_PER_INTERVAL + SECONDS_PER_RUN_INTERVAL * _shard_runs(wildcards)) * config["training"]["n_intervals"]
    return int(10 + 3 * attempt * seconds / 60)


def simulate_mem_mb(wildcards, attempt) -> int:
    """Memory per shard: the interpreter and libraries plus a little per run, about 5x
    what was measured (a 4000-run tanh shard peaked at 203 MB), plus 1.5x the ring of
    R-matrices for the end-of-training CLVs (45 of 81 entries of each, 8 bytes, over the
    longest end window)."""
    engine = EngineConfig.from_config(config, wildcards.activation)
    P, runs = engine.shape.P, _shard_runs(wildcards)
    ring_mb = runs * max(engine.end_windows) * (P * (P + 1) // 2) * 8 / 1e6
    return int(attempt * (500 + runs // 8 + 1.5 * ring_mb))


# ----------------------------------------------------------------------------------
# Final targets: each stage registers the files that the `all` rule asks for.

_STAGE_TARGETS = {}


def register_targets(stage, targets) -> None:
    """Register a stage's final targets: a callable returning a list of paths."""
    _STAGE_TARGETS[stage] = targets


def all_targets(wildcards) -> list[str]:
    """Input function of the `all` rule: the targets of every registered stage."""
    return [path for targets in _STAGE_TARGETS.values() for path in targets()]
