"""weightdyn.pipeline.config: config.yaml with overlays, and the validation the workflow
runs before planning any job (without Snakemake)."""
import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

from weightdyn.engine.config import EngineConfig
from weightdyn.analysis.config import BIN_STRATEGIES, FTLE_FORMS
from weightdyn.model import activations, streams, tasks
from weightdyn.model.flow import JACOBIANS
from weightdyn.pipeline import config as pc
from weightdyn.pipeline.io import config_hash

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ROOT / "workflow" / "presets"
# Each shipped config as the workflow reads it: config.yaml with the preset files on top.
SHIPPED = {
    "config.yaml": (),
    "paper": (PRESETS / "paper.yaml",),
    "paper_he_biases": (PRESETS / "paper.yaml", PRESETS / "paper_he_biases.yaml"),
    "smoke": (PRESETS / "smoke.yaml",),
}
# Numeric-config hashes of the shipped configs, which the shards computed with them
# record: a change here makes every such shard stale.
NUMERIC_HASHES = {"config.yaml": "a348b560a3522c86", "paper": "a348b560a3522c86",
                  "paper_he_biases": "5d93bc30b72d6283", "smoke": "45c5202114dd2a68"}


def smoke(**sections) -> dict:
    """The smoke config with `section={key: value}` merged in."""
    return pc.load_config(PRESETS / "smoke.yaml", sections)


def leaves(node, path=()):
    """(dotted path, value) of every leaf of a nested dict (a mapping of WHOLE is one)."""
    if isinstance(node, dict) and path not in pc.WHOLE:
        for key, value in node.items():
            yield from leaves(value, (*path, key))
    else:
        yield ".".join(path), node


def changed(path: str, value):
    """The smoke config with the field `path` set to `value` (deleted if value is KeyError)."""
    cfg = smoke()
    *parents, key = path.split(".")
    node = cfg
    for p in parents:
        node = node[p]
    if value is KeyError:
        del node[key]
    else:
        node[key] = value
    return cfg


# ----------------------------------------------------------------------------------
# config.yaml, the presets as overlays.

@pytest.mark.parametrize("name", list(SHIPPED))
def test_shipped_configs_are_valid_and_keep_their_numeric_hash(name):
    cfg = pc.load_config(*SHIPPED[name])
    assert pc.config_problems(cfg) == []
    assert config_hash(pc.numeric_config(cfg)) == NUMERIC_HASHES[name]


@pytest.mark.parametrize("preset, base", [("smoke", "config.yaml"), ("paper", "config.yaml"),
                                          ("paper_he_biases", "paper")])
def test_presets_hold_only_what_they_change(preset, base):
    overlay = yaml.safe_load((PRESETS / f"{preset}.yaml").read_text())
    under = dict(leaves(pc.load_config(*SHIPPED[base])))
    for path, value in leaves(overlay):
        assert path in under, f"{preset}: {path} is not a key of config.yaml"
        assert under[path] != value, f"{preset}: {path} = {value!r} repeats the value below it"


def test_paper_he_biases_changes_four_keys_of_the_paper_preset():
    paper, biases = (dict(leaves(pc.load_config(*SHIPPED[n]))) for n in ("paper", "paper_he_biases"))
    assert {k for k in paper if paper[k] != biases[k]} == {"settings.activations", "settings.inits",
                                                           "settings.runs", "init.he_biases"}


def test_load_config_is_idempotent():
    """The workflow merges the user's config (which may be config.yaml itself) onto config.yaml."""
    cfg = smoke(settings={"runs_per_setting": {"relu_he": 9}})
    assert pc.load_config(cfg) == cfg
    assert pc.load_config(pc.load_config()) == pc.load_config()


def test_overlays_merge_sections_and_replace_values():
    cfg = pc.load_config({"predict": {"bootstrap": {"n_boot": 7}}, "lyapunov": {"checkpoints": [20]}})
    assert cfg["predict"]["bootstrap"] == {"n_boot": 7, "n_boot_svm": 200, "level": 0.95, "seed": 0}
    assert cfg["lyapunov"]["checkpoints"] == [20]


def test_an_overlays_run_counts_replace_the_demos():
    """config.yaml's demo gives relu_he its own count; the presets that scale every
    setting alike clear it, and any overlay's runs_per_setting replaces it whole."""
    assert pc.load_config()["settings"]["runs_per_setting"]["relu_he"] > pc.load_config()["settings"]["runs"]
    for name in ("paper", "paper_he_biases", "smoke"):
        assert pc.load_config(*SHIPPED[name])["settings"]["runs_per_setting"] == {}, name
    merged = pc.load_config({"settings": {"runs_per_setting": {"tanh_wide": 7}}})["settings"]["runs_per_setting"]
    assert merged == {"tanh_wide": 7}
    assert pc.load_config({"settings": {"runs": 5}})["settings"]["runs_per_setting"] == \
        pc.load_config()["settings"]["runs_per_setting"]
    # config.yaml's counts apply to the settings configured, so fewer settings are valid as they are
    relu = pc.load_config({"settings": {"activations": ["relu"]}})
    assert relu["settings"]["runs_per_setting"] == {"relu_he": 1600} and pc.config_problems(relu) == []
    assert pc.load_config(relu) == relu


def test_schema_has_no_defaults_and_requires_every_key_of_config_yaml():
    def walk(node):
        if isinstance(node, dict):
            assert "default" not in node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(pc.schema())


@pytest.mark.parametrize("path", [p for p, _ in leaves(pc.load_config())])
def test_every_key_is_required(path):
    assert pc.config_problems(changed(path, KeyError)) == [f"{path}: required key is missing"]


# ----------------------------------------------------------------------------------
# Problems, one per line, each naming its field.

INVALID = {
    "unknown key": (changed("training.lerning_rate", 0.1), "training.lerning_rate: unknown key"),
    "unknown section": (smoke(plots={"dpi": 100}), "plots: unknown key"),
    "wrong type (integer)": (changed("settings.runs", "six"), "settings.runs: 'six' is not of type 'integer'"),
    "wrong type (number)": (changed("training.dt", "fast"), "training.dt: 'fast' is not of type 'number'"),
    "wrong type (list)": (changed("lyapunov.checkpoints", 10), "lyapunov.checkpoints: 10 is not of type 'array'"),
    "zero count": (changed("settings.shard_size", 0), "settings.shard_size: 0 is less than the minimum of 1"),
    "negative count": (changed("settings.runs", -4), "settings.runs: -4 is less than the minimum of 1"),
    "zero dt": (changed("training.dt", 0.0), "training.dt: 0.0 is less than or equal to the minimum of 0"),
    "unknown activation": (changed("settings.activations", ["relu", "softplus"]),
                           "settings.activations.1: 'softplus' is not one of ['relu', 'tanh', 'gelu', 'sigmoid']"),
    "unknown high activation": (changed("predict.high_activations", ["softplus"]),
                                "predict.high_activations.0: 'softplus' is not one of"),
    "unknown init": (changed("settings.inits", ["xavier"]), "settings.inits.0: 'xavier' is not one of ['he', 'wide']"),
    "malformed setting name": (changed("settings.runs_per_setting", {"relu": 5}),
                               "settings.runs_per_setting.relu: not a setting name"),
    "unconfigured setting": (smoke(settings={"activations": ["relu"], "runs_per_setting": {"tanh_he": 5}}),
                             "settings.runs_per_setting.tanh_he: not a configured setting"),
    # the engine's verdicts (their wording is the engine's: see test_the_engine_verdict_is_the_engines_own)
    "checkpoint beyond training": (changed("lyapunov.checkpoints", [10, 20, 58]), "lyapunov.checkpoints"),
    "checkpoint before the window": (changed("lyapunov.checkpoints", [4, 20]), "lyapunov.checkpoints"),
    "decreasing checkpoints": (changed("lyapunov.checkpoints", [20, 10]), "lyapunov.checkpoints"),
    "checkpoints sharing a t label": (smoke(training={"n_intervals": 2_000_000},
                                            lyapunov={"checkpoints": [1_000_000, 1_000_001]}), "lyapunov.checkpoints"),
    "too few inputs for the target": (changed("network.shape", [1, 2, 1]),
                                      "network.shape: the 'paper' target y = 10 x1 - 2 x2^2 needs N1 >= 2 inputs"),
    "output count the target lacks": (changed("network.shape", [2, 2, 2]),
                                      "network.shape: data.target 'paper' has one output; the network has N3 = 2"),
    "batch beyond the data set": (changed("training.batch_size", 1001),
                                  "training.batch_size: 1001 exceeds data.n_samples = 1000"),
    "events in the wrong order": (changed("events.low_loss", 200.0), "events: low_loss 200.0 must be below high_loss"),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_config_gives_one_problem_naming_the_field(case):
    cfg, message = INVALID[case]
    problems = pc.config_problems(cfg)
    assert len(problems) == 1 and problems[0].startswith(message), problems
    with pytest.raises(pc.ConfigError, match="^Invalid configuration:\n  ") as err:
        pc.validate_config(cfg)
    assert err.value.problems == problems


def test_every_problem_is_listed():
    cfg = smoke(training={"lerning_rate": 0.1, "dt": "fast"}, settings={"runs": 0})
    assert sorted(p.split(":")[0] for p in pc.config_problems(cfg)) == [
        "settings.runs", "training.dt", "training.lerning_rate"]


def test_a_batch_as_large_as_the_data_set_is_valid():
    assert pc.config_problems(changed("training.batch_size", 1000)) == []


def test_numbers_given_as_text_are_numbers_with_the_same_hash():
    """PyYAML reads 3e-5 and 1.0e6 as text, Snakemake's --config passes nested values as text."""
    cfg = smoke(training={"dt": "3e-5", "divergence_threshold": "1.0e6", "n_intervals": "60"},
                settings={"runs": 6.0}, lyapunov={"checkpoints": ["10", 20, 30.0, 40]})
    assert pc.validate_config(cfg) is cfg
    assert cfg["training"]["dt"] == 3e-5 and isinstance(cfg["training"]["divergence_threshold"], float)
    assert cfg["settings"]["runs"] == 6 and isinstance(cfg["settings"]["runs"], int)
    assert cfg["lyapunov"]["checkpoints"] == [10, 20, 30, 40]
    assert config_hash(pc.numeric_config(cfg)) == NUMERIC_HASHES["smoke"]


def test_a_numeric_svm_gamma_given_as_text_is_a_number():
    """svm.gamma is 'scale', 'auto' or a number: PyYAML reads 1e-3 as the text '1e-3'."""
    cfg = smoke(predict={"svm": {"gamma": "1e-3"}})
    assert pc.config_problems(cfg) == [] and cfg["predict"]["svm"]["gamma"] == 1e-3
    assert pc.config_problems(smoke(predict={"svm": {"gamma": "scale"}})) == []
    assert pc.config_problems(smoke(predict={"svm": {"gamma": "wide"}}))[0].startswith("predict.svm.gamma: ")


@pytest.mark.parametrize("field, library", [
    ("data.target", lambda: list(tasks.TASKS)), ("init.he_biases", lambda: list(streams.HE_BIASES)),
    ("training.batch_mode", lambda: list(streams.BATCH_MODES)), ("training.jacobian", lambda: list(JACOBIANS)),
    ("predict.ftle_form", lambda: list(FTLE_FORMS)), ("predict.bin_strategy", lambda: list(BIN_STRATEGIES)),
])
def test_names_the_library_owns_come_from_the_library(field, library):
    section, key = field.split(".")
    assert pc.schema()["properties"][section]["properties"][key]["enum"] == library()
    assert pc.config_problems(changed(field, "nonsense")) == [f"{field}: 'nonsense' is not one of {library()}"]


# ----------------------------------------------------------------------------------
# Each rule in one place: the engine's and the task's verdicts are theirs.

def test_the_engine_verdict_is_the_engines_own(monkeypatch):
    cfg = changed("lyapunov.checkpoints", [10, 20, 58])
    with pytest.raises(ValueError) as engine:
        EngineConfig.from_config(cfg, "relu")
    assert pc.config_problems(cfg) == [str(engine.value)]  # once, though two activations are configured

    def stricter(cls, cfg, activation):
        raise ValueError(f"training.steps_per_interval: not for {activation}")

    monkeypatch.setattr(EngineConfig, "from_config", classmethod(stricter))
    assert pc.config_problems(smoke()) == ["training.steps_per_interval: not for relu",
                                           "training.steps_per_interval: not for tanh"]


def test_the_task_verdict_is_the_tasks_own(monkeypatch):
    from weightdyn.model import tasks

    with pytest.raises(ValueError) as task:
        tasks.make_task(1000, 0, "paper", 2, 2)
    assert pc.config_problems(changed("network.shape", [2, 2, 2])) == [str(task.value)]
    calls = []
    monkeypatch.setattr(tasks.Task, "check", lambda self: calls.append((self.n_samples, self.target, self.n_inputs)))
    tasks.make_task(10, 0)
    assert pc.config_problems(smoke()) == [] and calls == [(10, "paper", 2), (1000, "paper", 2)]


ENGINE_ERRORS = [dict(activation="nope"), dict(batch_size=0), dict(steps_per_interval=0), dict(n_intervals=0),
                 dict(clv_window=0), dict(dt=0.0), dict(divergence_threshold=0.0), dict(batch_mode="x"),
                 dict(jacobian="x"), dict(checkpoints=(5,)), dict(checkpoints=(2000, 1000)),
                 dict(n_intervals=3_000_000, clv_window=1, checkpoints=(1_000_000, 1_000_001)),
                 dict(clv_window_end=0), dict(clv_window_grid=(30, 10)), dict(clv_window_grid=(10, 4000)),
                 dict(clv_window_grid=(30, 100)),
                 dict(n_intervals=2000, checkpoints=(500,))]


@pytest.mark.parametrize("change", ENGINE_ERRORS, ids=lambda c: ",".join(c))
def test_every_engine_message_names_its_config_field(change):
    """The pipeline reports the library's messages as they are: each starts with a field."""
    with pytest.raises(ValueError) as err:
        EngineConfig(**change)
    field = str(err.value).split(":")[0].split(" ")[0]
    node = pc.load_config()
    for key in field.split("."):
        assert key in node, f"{err.value!r} does not start with a config field"
        node = node[key]


# ----------------------------------------------------------------------------------
# The activation registry is the one list of activations.

@pytest.fixture
def softsign():
    """A temporarily registered activation, sigma(d) = d / (1 + |d|)."""
    def into(d, a, p, q):
        s = 1.0 + np.abs(d)
        np.divide(d, s, out=a)
        np.divide(1.0, s * s, out=p)
        if q is not None:
            np.divide(-2.0 * np.sign(d), s ** 3, out=q)

    act = activations.register(activations.Activation("softsign", "softsign", into, curved=True,
                                                      binary_derivative=False))
    yield act
    del activations.ACTIVATIONS[act.name]


def test_a_registered_activation_is_valid_everywhere_in_the_config(softsign):
    cfg = smoke(settings={"activations": ["relu", "softsign"], "runs_per_setting": {"softsign_wide": 9}},
                predict={"high_activations": ["softsign"]})
    assert pc.config_problems(copy.deepcopy(cfg)) == []
    assert "softsign" in pc.schema()["properties"]["settings"]["properties"]["activations"]["items"]["enum"]


def test_the_registry_lists_the_activations_of_the_schema():
    enum = pc.schema()["properties"]["settings"]["properties"]["activations"]["items"]["enum"]
    assert enum == list(activations.ACTIVATIONS)
    assert pc.config_problems(smoke(settings={"activations": ["softsign"]})) == [
        f"settings.activations.0: 'softsign' is not one of {list(activations.ACTIVATIONS)}"]


def test_the_engine_defaults_are_those_of_config_yaml():
    """EngineConfig keeps field defaults for library use (the paper's setting); they must
    be config.yaml's, the one home of the pipeline's defaults."""
    for activation in activations.ACTIVATIONS:
        assert EngineConfig.from_config(pc.load_config(), activation) == EngineConfig(activation=activation)


def test_the_clv_start_read_by_the_analysis_keeps_the_shards():
    """Shards hold the angles of both starts: changing `lyapunov.clv_start` changes no
    shard's numeric config, while the end window does."""
    base = config_hash(pc.numeric_config(smoke()))
    assert config_hash(pc.numeric_config(smoke(lyapunov={"clv_start": "random"}))) == base
    assert config_hash(pc.numeric_config(smoke(lyapunov={"clv_window_end": 30}))) != base
    assert pc.config_problems(smoke(lyapunov={"clv_start": "ginelli"}))[0].startswith("lyapunov.clv_start")
