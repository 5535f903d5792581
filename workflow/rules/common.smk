"""Shared definitions: the config, settings and seed blocks, paths, final targets.

The config is config.yaml of this workflow with what the user gave (`--configfile`,
`--config`) merged on top, wherever Snakemake runs (also with `--directory`). It is
checked while the workflow is parsed, before any job is planned, by
`weightdyn.pipeline.config.validate_config` (schema, numbers given as text, cross-field
rules); a bad config stops here with one line per problem, each naming its field.
"""
import os
import re
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
from weightdyn.pipeline.variants import MAIN_ROOT, VARIANTS_ROOT, root_configs, shard_roots, variant_name  # noqa: E402
from weightdyn.analysis.paper import not_applicable as paper_not_applicable  # noqa: E402

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
# Roots: the config's own results and one result set per variant (weightdyn.pipeline.variants).
# Every path below starts with the wildcard {root}; a job reads the config of its root.

CONFIGS = root_configs(config)
VARIANT_ROOTS = [root for root in CONFIGS if root != MAIN_ROOT]
SHARD_ROOT = shard_roots(CONFIGS)  # the root whose shards a root reads

# The numeric config determines the content of a shard (with its setting and seeds); its
# hash is a parameter of the simulate rule, so changing it reruns every shard, while
# changing anything else (run counts, shard size, summary options) does not.
NUMERIC = {root: numeric_config(cfg) for root, cfg in CONFIGS.items()}
NUMERIC_HASH = {root: config_hash(numeric) for root, numeric in NUMERIC.items()}


wildcard_constraints:
    root="|".join(re.escape(root) for root in CONFIGS),


def conf(*keys):
    """A params function: the value at `keys` in the config of the job's root."""

    def value(wildcards):
        out = CONFIGS[wildcards.root]
        for key in keys:
            out = out[key]
        return out

    return value


DATA = "{root}/data/task.parquet"
SHARD = "{root}/shards/{activation}_{init}/seeds_{first}-{last}.parquet"
WINDOW_SHARD = "{root}/shards/{activation}_{init}/clv_windows_{first}-{last}.parquet"
CLV_WINDOWS = "{root}/tables/clv_windows.parquet"
TABLES = {name: f"{{root}}/tables/{name}.parquet" for name in ("runs", "losses", "lyapunov", "ftle", "angles")}
SUMMARY = "{root}/tables/summary_{setting}.csv"


def setting_names(root) -> list[str]:
    return [setting_name(a, i) for a, i in settings(CONFIGS[root])]


def n_runs(root, activation, init) -> int:
    st = CONFIGS[root]["settings"]
    return int(st["runs_per_setting"].get(setting_name(activation, init), st["runs"]))


def seed_blocks(root, activation, init) -> list[tuple[int, int]]:
    """(first, last) seeds of the shards of a setting: consecutive blocks of shard_size
    from first_seed, so that more runs only add blocks."""
    st = CONFIGS[root]["settings"]
    first, size = int(st["first_seed"]), int(st["shard_size"])
    end = first + n_runs(root, activation, init)
    return [(s, min(s + size, end) - 1) for s in range(first, end, size)]


def shard_path(root, activation, init, first, last, pattern=SHARD) -> str:
    return pattern.format(root=SHARD_ROOT[root], activation=activation, init=init,
                          first=f"{first:06d}", last=f"{last:06d}")


def all_shards(root, pattern=SHARD) -> list[str]:
    """Every shard that a root reads (in the directory of its `SHARD_ROOT`): the runs
    shards, or with pattern=WINDOW_SHARD their CLV window tables."""
    return [shard_path(root, a, i, f, l, pattern) for a, i in settings(CONFIGS[root]) for f, l in seed_blocks(root, a, i)]


def at(root, *patterns) -> list[str]:
    """Paths of a root."""
    return [pattern.format(root=root) for pattern in patterns]


# Cost model of a shard for cluster resources, an upper bound: seconds per interval =
# SECONDS_PER_INTERVAL + SECONDS_PER_RUN_INTERVAL * runs. Measured (README): paper-preset
# shards of 500 runs x 36,667 intervals, a ReLU + He and a tanh + He shard side by side on
# 2 cores, took 259 s and 383 s, i.e. 1.41e-5 and 2.09e-5 s per run-interval with every
# fixed cost included. SECONDS_PER_RUN_INTERVAL is 1.4x the slower (tanh) rate;
# SECONDS_PER_INTERVAL bounds what does not grow with the runs (about 1.1e-3 s per
# interval from the benchmark's 64- and 512-run rates; 3.5x that). For a 500-run shard the
# model gives 697 s, 1.8x the tanh shard, before simulate_runtime's own factor of 3. The
# numeric Jacobian costs NUMERIC_JACOBIAN_COST times as much (measured 43x by
# benchmarks/numeric_jacobian.py).
SECONDS_PER_INTERVAL = 4e-3
SECONDS_PER_RUN_INTERVAL = 3e-5
NUMERIC_JACOBIAN_COST = 45


def _shard_runs(wildcards) -> int:
    return int(wildcards.last) - int(wildcards.first) + 1


def simulate_runtime(wildcards, attempt) -> int:
    """Minutes requested per shard: three times the estimate plus 10, more on a retry."""
    tr = CONFIGS[wildcards.root]["training"]
    cost = NUMERIC_JACOBIAN_COST if tr["jacobian"] == "numeric" else 1
    seconds = cost * (SECONDS_PER_INTERVAL + SECONDS_PER_RUN_INTERVAL * _shard_runs(wildcards)) * tr["n_intervals"]
    return int(10 + 3 * attempt * seconds / 60)


def simulate_mem_mb(wildcards, attempt) -> int:
    """Memory per shard: the interpreter and libraries plus a little per run, about 5x
    what was measured (a 4000-run tanh shard peaked at 203 MB), plus 1.5x the ring of
    R-matrices for the end-of-training CLVs (45 of 81 entries of each, 8 bytes, over the
    longest end window)."""
    engine = EngineConfig.from_config(CONFIGS[wildcards.root], wildcards.activation)
    P, runs = engine.shape.P, _shard_runs(wildcards)
    ring_mb = runs * max(engine.end_windows) * (P * (P + 1) // 2) * 8 / 1e6
    return int(attempt * (500 + runs // 8 + 1.5 * ring_mb))


# ----------------------------------------------------------------------------------
# The variants' comparison (workflow/rules/variants.smk).

def variant_inputs(name):
    """Input function: the `name` table (runs, best, claims or restart) of every variant."""
    paths = {"runs": TABLES["runs"], "best": PREDICT_OUT["best"], "claims": CLAIMS,  # of the rules' files
             "restart": RESTART_OUT}

    def inputs(wildcards):
        if not VARIANT_ROOTS:
            raise WorkflowError("the config has no variants (section `variants`): nothing to compare; "
                                "see workflow/presets/open_points.yaml")
        return [paths[name].format(root=root) for root in VARIANT_ROOTS]

    return inputs


def variant_summary(root) -> dict:
    """What the comparison says of a variant: its overrides, runs per setting, shards."""
    name = variant_name(root)
    runs = ", ".join(f"{setting_name(a, i)} {n_runs(root, a, i)} x {CONFIGS[root]['training']['n_intervals']}"
                     for a, i in settings(CONFIGS[root]))
    shards_of = f"{SHARD_ROOT[root]}/shards"
    return dict(overrides=config["variants"][name], runs=runs, shards_of=shards_of,
                intervals=CONFIGS[root]["training"]["n_intervals"], not_applicable=paper_not_applicable(CONFIGS[root]))


# ----------------------------------------------------------------------------------
# Final targets: each stage registers the files that the `all` rule asks for.

_STAGE_TARGETS = {}


def register_targets(stage, targets) -> None:
    """Register a stage's final targets: a callable of a root returning a list of paths."""
    _STAGE_TARGETS[stage] = targets


def root_targets(root) -> list[str]:
    """The final targets of a root: those of every registered stage."""
    return [path for targets in _STAGE_TARGETS.values() for path in targets(root)]


def all_targets(wildcards) -> list[str]:
    """Input function of the `all` rule: the config's own results."""
    return root_targets(MAIN_ROOT)
