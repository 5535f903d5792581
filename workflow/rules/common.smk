"""Shared definitions: config validation, settings and seed blocks, paths, final targets.

The configuration is checked here, while the workflow is parsed and before any job is
planned: first against workflow/schemas/config.schema.yaml (which also fills in the
defaults of optional keys), then by the cross-field rules of `_cross_field_problems`.
Every problem is reported with the dotted name of its field.

Numbers can arrive as text: YAML 1.1 (PyYAML) reads 1.0e6 and 3e-5 as strings, and
Snakemake's `--config section='{key: 10}'` passes nested values as strings. Where the
schema asks for a number, text that spells one is read as that number
(`_normalize_numbers`); other text is rejected as a wrong type.
"""
import os
import re
import sys
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# The workflow runs the library of its own source tree, also in conda environments
# (where it is not installed) and in cluster jobs, which inherit PYTHONPATH.
SRC = Path(workflow.basedir) / "src"
sys.path.insert(0, str(SRC))
os.environ.update(PYTHONPATH=os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH")) if p))

from weightdyn.pipeline.config import numeric_config  # noqa: E402
from weightdyn.engine.config import checkpoint_labels  # noqa: E402
from weightdyn.pipeline.io import config_hash  # noqa: E402

SCHEMA = Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
ENV = "../../envs/weightdyn.yaml"


# ----------------------------------------------------------------------------------
# Validation.

_NUMBER_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INTEGER_TEXT = re.compile(r"[+-]?\d+")


def _as_schema_number(value, kind):
    """`value` as the schema's 'number' (float) or 'integer' (int) where it spells one
    unambiguously; anything else unchanged, for the schema to reject."""
    if isinstance(value, bool):
        return value
    if kind == "number":
        if isinstance(value, int) or (isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip())):
            return float(value)
    elif kind == "integer":
        if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
    return value


def _normalize_numbers(node, schema):
    """Numbers as the schema's types (in place for objects): text that spells a number
    becomes that number, integers in number fields floats, whole floats in integer fields
    ints; so one config written two ways has one numeric-config hash."""
    kind = schema.get("type")
    if kind in ("number", "integer"):
        return _as_schema_number(node, kind)
    if kind == "array" and isinstance(node, list) and isinstance(schema.get("items"), dict):
        return [_normalize_numbers(item, schema["items"]) for item in node]
    if kind == "object" and isinstance(node, dict):
        extra = schema.get("additionalProperties")
        for key in list(node):
            sub = schema.get("properties", {}).get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                node[key] = _normalize_numbers(node[key], sub)
    return node


def _field(path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def _describe(error) -> list[str]:
    """One line per problem of a jsonschema error, each starting with the field name."""
    field = _field(error.absolute_path)
    prefix = f"{field}." if error.absolute_path else ""
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        return [f"{prefix}{key}: unknown key (allowed here: {', '.join(allowed)})" for key in unknown]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [key for key in error.validator_value if key not in error.instance]
        return [f"{prefix}{key}: required key is missing" for key in missing]
    if "propertyNames" in error.absolute_schema_path:
        return [f"{prefix}{error.instance}: not a setting name ({error.message})"]
    return [f"{field}: {error.message}"]


def _schema_problems(cfg) -> list[str]:
    schema = yaml.safe_load(SCHEMA.read_text())
    errors = sorted(Draft202012Validator(schema).iter_errors(cfg), key=lambda e: [str(p) for p in e.absolute_path])
    return [line for error in errors for line in _describe(error)]


def _cross_field_problems(cfg) -> list[str]:
    problems = []
    tr, ly, st = cfg["training"], cfg["lyapunov"], cfg["settings"]
    M, W = tr["n_intervals"], ly["clv_window"]
    if W > M:
        problems.append(f"lyapunov.clv_window: {W} exceeds training.n_intervals = {M}")
    for c in ly["checkpoints"]:
        if c < W:
            problems.append(
                f"lyapunov.checkpoints: checkpoint {c} is before lyapunov.clv_window = {W} "
                "(the past-only CLVs need clv_window intervals before a checkpoint)"
            )
        if c + W > M:
            problems.append(
                f"lyapunov.checkpoints: checkpoint {c} + lyapunov.clv_window {W} = {c + W} exceeds "
                f"training.n_intervals = {M} (Ginelli's CLVs need clv_window intervals after a checkpoint)"
            )
    labels = checkpoint_labels(ly["checkpoints"], tr["dt"])
    for k in range(1, len(labels)):
        if labels[k] in labels[:k]:
            other = ly["checkpoints"][labels.index(labels[k])]
            problems.append(
                f"lyapunov.checkpoints: checkpoints {other} and {ly['checkpoints'][k]} share the t label "
                f"{labels[k]} (intervals x training.dt, 6 significant digits) and would share table columns"
            )
    if list(ly["checkpoints"]) != sorted(ly["checkpoints"]):
        problems.append(f"lyapunov.checkpoints: must be increasing, got {ly['checkpoints']}")
    if cfg["data"]["target"] == "paper" and cfg["network"]["shape"][0] < 2:
        problems.append("network.shape: the 'paper' target y = 10 x1 - 2 x2^2 needs N1 >= 2 inputs")
    if cfg["data"]["target"] == "paper" and cfg["network"]["shape"][2] != 1:
        problems.append("network.shape: the 'paper' target has one output; N3 must be 1")
    configured = {f"{a}_{i}" for a in st["activations"] for i in st["inits"]}
    for key in st.get("runs_per_setting", {}):
        if key not in configured:
            problems.append(
                f"settings.runs_per_setting.{key}: not a configured setting "
                f"(settings.activations x settings.inits = {', '.join(sorted(configured))})"
            )
    return problems


def validate_config(cfg) -> None:
    """Validate (and complete with defaults) the config; raise WorkflowError naming each bad field."""
    _normalize_numbers(cfg, yaml.safe_load(SCHEMA.read_text()))
    try:
        validate(cfg, str(SCHEMA))
    except WorkflowError:
        problems = _schema_problems(cfg) or ["(the schema rejected the config; see workflow/schemas/config.schema.yaml)"]
        raise WorkflowError("Invalid configuration:\n  " + "\n  ".join(problems)) from None
    problems = _cross_field_problems(cfg)
    if problems:
        raise WorkflowError("Invalid configuration:\n  " + "\n  ".join(problems))


validate_config(config)


# ----------------------------------------------------------------------------------
# Settings, seed blocks and paths.

SETTINGS = [(a, i) for a in config["settings"]["activations"] for i in config["settings"]["inits"]]
SETTING_NAMES = [f"{a}_{i}" for a, i in SETTINGS]

# The numeric config determines the content of a shard (with its setting and seeds); its
# hash is a parameter of the simulate rule, so changing it reruns every shard, while
# changing anything else (run counts, shard size, summary options) does not.
NUMERIC = numeric_config(config)
NUMERIC_HASH = config_hash(NUMERIC)

DATA = "results/data/task.parquet"
SHARD = "results/shards/{activation}_{init}/seeds_{first}-{last}.parquet"
TABLES = {name: f"results/tables/{name}.parquet" for name in ("runs", "losses", "lyapunov", "ftle", "angles")}
SUMMARY = "results/tables/summary_{setting}.csv"


def n_runs(activation, init) -> int:
    st = config["settings"]
    return int(st["runs_per_setting"].get(f"{activation}_{init}", st["runs"]))


def seed_blocks(activation, init) -> list[tuple[int, int]]:
    """(first, last) seeds of the shards of a setting: consecutive blocks of shard_size
    from first_seed, so that more runs only add blocks."""
    st = config["settings"]
    first, size = int(st["first_seed"]), int(st["shard_size"])
    end = first + n_runs(activation, init)
    return [(s, min(s + size, end) - 1) for s in range(first, end, size)]


def shard_path(activation, init, first, last) -> str:
    return SHARD.format(activation=activation, init=init, first=f"{first:06d}", last=f"{last:06d}")


def all_shards() -> list[str]:
    return [shard_path(a, i, f, l) for a, i in SETTINGS for f, l in seed_blocks(a, i)]


def summary_paths() -> list[str]:
    return [SUMMARY.format(setting=name) for name in SETTING_NAMES]


# Cost model of a shard for cluster resources, an upper bound of measurements on one
# core (paper preset, 500-run shards, two side by side: 1.8e-5 s per run-interval for
# ReLU, 2.3e-5 for tanh): seconds per interval = SECONDS_PER_INTERVAL +
# SECONDS_PER_RUN_INTERVAL * runs.
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
    what was measured (a 4000-run tanh shard peaked at 203 MB)."""
    return int(attempt * (500 + _shard_runs(wildcards) // 8))


# ----------------------------------------------------------------------------------
# Final targets: each stage registers the files that the `all` rule asks for.

_STAGE_TARGETS = {}


def register_targets(stage, targets) -> None:
    """Register a stage's final targets: a callable returning a list of paths."""
    _STAGE_TARGETS[stage] = targets


def all_targets(wildcards) -> list[str]:
    """Input function of the `all` rule: the targets of every registered stage."""
    return [path for targets in _STAGE_TARGETS.values() for path in targets()]
