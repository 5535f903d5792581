"""The pipeline config: the default experiment (config.yaml) with overlays on top, and its
validation.

`load_config(*overlays)` reads config.yaml, the one home of every default, and merges
each overlay (a preset file or a dict) into it: nested sections merge key by key,
anything else (numbers, strings, lists) is replaced.

`config_problems(cfg)` lists what is wrong with a complete config, one line per problem,
each starting with the dotted name of its field; `validate_config(cfg)` raises
`ConfigError` with those lines. The checks, in order:

1. Numbers: YAML 1.1 (PyYAML) reads 1.0e6 and 3e-5 as strings, and Snakemake's
   `--config section='{key: 10}'` passes nested values as strings. Where the schema asks
   for a number, text that spells one is read as that number (in place), so one config
   written two ways has one numeric-config hash; other text is a wrong type.
2. The JSON schema workflow/schemas/config.schema.yaml (every key required, unknown keys
   rejected), with the activation and init names filled in from the library
   (`weightdyn.model.activations.ACTIVATIONS`, `weightdyn.model.streams.INITS`).
3. Cross-field rules, each stated once: the library's own verdicts, obtained by building
   what the jobs build (`EngineConfig.from_config` for every configured activation,
   `model.streams.check_task`, `PredictConfig.from_config`), and the rules of the
   pipeline alone (below).
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

import yaml

from ..analysis.config import BIN_STRATEGIES, FTLE_FORMS, PredictConfig
from ..engine import columns as col
from ..engine.config import EngineConfig
from ..engine.ensemble import task_of
from ..model.activations import ACTIVATIONS
from ..model.flow import BATCH_GRADIENTS, JACOBIANS
from ..model.streams import BATCH_MODES, BATCH_SAMPLINGS, HE_BIASES, HE_DISTRIBUTIONS, HE_SCALES, INITS
from ..model.tasks import DRAWN, TASKS, data_digest

ROOT = Path(__file__).resolve().parents[3]
DEFAULTS = ROOT / "config.yaml"
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
NUMERIC_SECTIONS = ("data", "network", "init", "training", "lyapunov")
# read by the analysis only: a shard holds the angles of both starts
ANALYSIS_ONLY = {"lyapunov": ("clv_start",)}
# mappings that an overlay replaces instead of merging key by key (deep_merge)
WHOLE = {("settings", "runs_per_setting")}


def deep_merge(base: dict, overlay: dict, _at: tuple = ()) -> dict:
    """A new dict: `base` with `overlay` merged in (dicts recursively, other values
    replaced). The mappings of WHOLE are replaced as a whole: `settings.runs_per_setting`
    is one allocation of runs, so an overlay's (even {}) replaces config.yaml's demo."""
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        at = (*_at, key)
        if isinstance(value, dict) and isinstance(out.get(key), dict) and at not in WHOLE:
            out[key] = deep_merge(out[key], value, at)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_config(*overlays, base: Path | str = DEFAULTS) -> dict:
    """config.yaml (or `base`) with the overlays (paths of YAML files, or dicts) merged in
    order. Where no overlay gives `settings.runs_per_setting`, config.yaml's own counts
    apply to the settings that are configured (an overlay's are validated as given)."""
    cfg = yaml.safe_load(Path(base).read_text())
    demo = copy.deepcopy(cfg["settings"]["runs_per_setting"])
    for overlay in overlays:
        if not isinstance(overlay, dict):
            overlay = yaml.safe_load(Path(overlay).read_text()) or {}
        cfg = deep_merge(cfg, overlay)
    st = cfg.get("settings")
    if isinstance(st, dict) and st.get("runs_per_setting") == demo and demo:
        try:
            configured = {col.setting_name(a, i) for a, i in settings(cfg)}
        except (KeyError, TypeError):  # a malformed settings section: validation reports it
            return cfg
        st["runs_per_setting"] = {key: n for key, n in demo.items() if key in configured}
    return cfg


def variant_config(cfg: dict, name: str) -> dict:
    """The config of variant `name` (section `variants`): `cfg` with the variant's
    overrides merged in, and no variants of its own."""
    base = {key: value for key, value in cfg.items() if key != "variants"}
    return {**deep_merge(base, cfg["variants"][name]), "variants": {}}


def settings(cfg: dict) -> list[tuple[str, str]]:
    """The (activation, init) settings of a config, activations first."""
    st = cfg["settings"]
    return [(a, i) for a in st["activations"] for i in st["inits"]]


def inactive_keys(cfg: dict) -> list[tuple[str, str]]:
    """The keys that the config's other choices leave unused: the numeric Jacobian's step
    under the analytic one, the file of a task that is not read from one, the size and
    seed of a data set that is not drawn."""
    out = [("training", "jacobian_step")] if cfg["training"]["jacobian"] == "analytic" else []
    if cfg["data"]["target"] != "file":
        out.append(("data", "file"))
    if cfg["data"]["target"] not in DRAWN:
        out += [("data", "n_samples"), ("data", "seed")]
    return out


def numeric_config(cfg: dict) -> dict:
    """The part of the config that determines a shard's content (besides setting and seeds):
    the numeric sections without the keys only the analysis reads and without the inactive
    keys. A task read from a file is its columns and the SHA-256 of the values read
    (`model.tasks.data_digest`), not its path or bytes: changed values change the numeric
    config, a moved or re-saved file with the same values does not."""
    out = {key: {k: copy.deepcopy(v) for k, v in cfg[key].items() if k not in ANALYSIS_ONLY.get(key, ())}
           for key in NUMERIC_SECTIONS}
    for section, key in inactive_keys(cfg):
        out[section].pop(key, None)
    if "file" in out["data"]:
        out["data"]["file"] = {"features": list(out["data"]["file"]["features"]),
                               "target_column": out["data"]["file"]["target_column"],
                               "values_sha256": data_digest(*task_of(cfg).load())}
    return out


# ----------------------------------------------------------------------------------
# Validation.

class ConfigError(ValueError):
    """An invalid config; `problems` holds one line per problem, each naming its field."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("Invalid configuration:\n  " + "\n  ".join(self.problems))


def schema() -> dict:
    """The config schema with every list of names that the library owns filled in: the
    registered activations and the inits (settings.activations, settings.inits, the
    setting names of settings.runs_per_setting, predict.high_activations,
    predict.inits), data.target, init.he_scale, init.he_distribution, init.he_biases,
    training.batch_mode, training.batch_sampling, training.batch_gradient,
    training.jacobian, predict.ftle_form and predict.bin_strategy."""
    out = yaml.safe_load(SCHEMA.read_text())
    activations, inits = list(ACTIVATIONS), list(INITS)
    props = {name: section.get("properties", {}) for name, section in out["properties"].items()}
    settings, predict = props["settings"], props["predict"]
    settings["activations"]["items"]["enum"] = activations
    settings["inits"]["items"]["enum"] = inits
    predict["high_activations"]["items"]["enum"] = activations
    predict["inits"]["items"]["enum"] = inits
    names = (f"({'|'.join(re.escape(n) for n in names)})" for names in (activations, inits))
    settings["runs_per_setting"]["propertyNames"]["pattern"] = "^{}_{}$".format(*names)
    props["data"]["target"]["enum"] = list(TASKS)
    for section, key, names in (("init", "he_scale", HE_SCALES), ("init", "he_distribution", HE_DISTRIBUTIONS),
                                ("init", "he_biases", HE_BIASES), ("training", "batch_mode", BATCH_MODES),
                                ("training", "batch_sampling", BATCH_SAMPLINGS),
                                ("training", "batch_gradient", BATCH_GRADIENTS), ("training", "jacobian", JACOBIANS)):
        props[section][key]["enum"] = list(names)
    predict["ftle_form"]["enum"] = list(FTLE_FORMS)
    predict["bin_strategy"]["enum"] = list(BIN_STRATEGIES)
    return out


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


def _normalize_numbers(node, sub_schema):
    """Numbers as the schema's types (in place for objects): text that spells a number
    becomes that number, integers in number fields floats, whole floats in integer fields
    ints."""
    kind = sub_schema.get("type")
    if kind in ("number", "integer"):
        return _as_schema_number(node, kind)
    for branch in sub_schema.get("oneOf", []) + sub_schema.get("anyOf", []):  # e.g. svm.gamma: 'scale' or a number
        if branch.get("type") in ("number", "integer"):
            number = _as_schema_number(node, branch["type"])
            if number is not node:
                return number
    if kind == "array" and isinstance(node, list) and isinstance(sub_schema.get("items"), dict):
        return [_normalize_numbers(item, sub_schema["items"]) for item in node]
    if kind == "object" and isinstance(node, dict):
        extra = sub_schema.get("additionalProperties")
        for key in list(node):
            sub = sub_schema.get("properties", {}).get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                node[key] = _normalize_numbers(node[key], sub)
    return node


def _describe(error) -> list[str]:
    """One line per problem of a jsonschema error, each starting with the field name."""
    field = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    prefix = f"{field}." if error.absolute_path else ""
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        return [f"{prefix}{key}: unknown key (allowed here: {', '.join(allowed)})" for key in unknown]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [key for key in error.validator_value if key not in error.instance]
        return [f"{prefix}{key}: required key is missing" for key in missing]
    if "propertyNames" in error.absolute_schema_path:
        kind = "variant name: a lowercase letter, then lowercase letters, digits or _" if field == "variants" \
            else "setting name"
        return [f"{prefix}{error.instance}: not a {kind} ({error.message})"]
    return [f"{field}: {error.message}"]


def _schema_problems(cfg: dict, full_schema: dict) -> list[str]:
    from jsonschema import Draft202012Validator  # Snakemake's dependency: only validation needs it

    errors = sorted(Draft202012Validator(full_schema).iter_errors(cfg), key=lambda e: [str(p) for p in e.absolute_path])
    return [line for error in errors for line in _describe(error)]


def _verdict(build) -> list[str]:
    """The problem a library constructor reports (its ValueError, whose message starts
    with the dotted name of the config field it concerns), or none."""
    try:
        build()
    except ValueError as exc:
        return [str(exc)]
    return []


def _library_problems(cfg: dict) -> list[str]:
    """The verdicts of the engine (per configured activation), the task and the
    prediction settings on this config."""
    problems = []
    for activation in cfg["settings"]["activations"]:
        problems += _verdict(lambda: EngineConfig.from_config(cfg, activation))
    problems += _verdict(lambda: task_of(cfg).check())
    problems += _verdict(lambda: PredictConfig.from_config(cfg))
    return list(dict.fromkeys(problems))  # the engine's verdict on the shared sections, once


def _pipeline_problems(cfg: dict) -> list[str]:
    """Rules of the pipeline alone: run counts name configured settings; a batch fits in
    the data set."""
    problems = []
    st, tr = cfg["settings"], cfg["training"]
    configured = [col.setting_name(a, i) for a, i in settings(cfg)]
    for key in st["runs_per_setting"]:
        if key not in configured:
            problems.append(f"settings.runs_per_setting.{key}: not a configured setting "
                            f"(settings.activations x settings.inits = {', '.join(sorted(configured))})")
    try:
        n = task_of(cfg).size
    except ValueError:  # the task's own problem, which _library_problems reports
        n = None
    if n is not None and tr["batch_size"] > n:
        size = f"data.n_samples = {n}" if cfg["data"]["target"] in DRAWN else f"the {n} samples of the data set"
        problems.append(f"training.batch_size: {tr['batch_size']} exceeds {size} "
                        "(a mini-batch is a part of the data set)")
    return problems


def _variant_problems(cfg: dict, full_schema: dict) -> list[str]:
    """The problems of every variant's config (`variants.variant_config`), each line
    prefixed with `variants.<name>: `; the overrides' numbers are normalised in place."""
    problems = []
    for name, overrides in cfg["variants"].items():
        if "variants" in overrides:
            problems.append(f"variants.{name}.variants: a variant cannot hold variants")
            continue
        _normalize_numbers(overrides, full_schema)
        problems += [f"variants.{name}: {line}" for line in config_problems(variant_config(cfg, name))]
    return problems


def config_problems(cfg: dict) -> list[str]:
    """Every problem of a complete config and of its variants, one line each starting with
    the dotted field name ([] if it is valid). Numbers spelt as text are normalised in
    `cfg` first."""
    full_schema = schema()
    _normalize_numbers(cfg, full_schema)
    problems = _schema_problems(cfg, full_schema)
    if problems:  # the cross-field rules need the schema's types
        return problems
    return _library_problems(cfg) + _pipeline_problems(cfg) + _variant_problems(cfg, full_schema)


def validate_config(cfg: dict) -> dict:
    """`cfg`, its numbers normalised in place; raise ConfigError naming each bad field."""
    problems = config_problems(cfg)
    if problems:
        raise ConfigError(problems)
    return cfg
