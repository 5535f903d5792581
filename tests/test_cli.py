"""The command line: `weightdyn trajectory` writes its table like the pipeline writes its
files (atomically, provenance under the 'weightdyn' key), on a preset merged into
config.yaml; its choices come from the registries."""
from pathlib import Path

import pandas as pd
import pytest

from weightdyn import cli
from weightdyn.engine.trajectory import trajectory
from weightdyn.model import activations
from weightdyn.pipeline import io
from weightdyn.pipeline.config import load_config, numeric_config

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "workflow" / "presets" / "smoke.yaml"


def test_trajectory_writes_the_table_with_provenance(tmp_path, capsys):
    out = tmp_path / "sub" / "relu_he_3.parquet"
    assert cli.main(["trajectory", "--config", str(SMOKE), "--activation", "relu", "--init", "he",
                     "--seed", "3", "--out", str(out), "--intervals", "30"]) == 0
    cfg = load_config(SMOKE, {"training": {"n_intervals": 30},
                              "lyapunov": {"checkpoints": [10, 20], "clv_window_end": 30, "clv_window_grid": [5, 10, 20]}})
    expected = trajectory(cfg, "relu", "he", 3)
    pd.testing.assert_frame_equal(io.read_parquet(out), expected, check_exact=True)
    meta = io.read_metadata(out)
    assert (meta["kind"], meta["activation"], meta["init"], meta["seed"]) == ("trajectory", "relu", "he", 3)
    assert meta["numeric_config"] == numeric_config(cfg)
    assert meta["config_hash"] == io.config_hash(numeric_config(cfg))
    assert meta["param_names"] == expected.attrs["param_names"]
    assert meta["diverged_step"] == expected.attrs["diverged_step"]
    assert meta["clv_start"] == "identity"  # the start of the cos_i_j columns with --clv (not in the numeric config)
    assert meta["source_hash"] == io.source_hash()
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]  # no temporary left behind
    assert f"wrote 30 intervals to {out}" in capsys.readouterr().out


def test_activation_choices_are_the_registry(tmp_path, capsys):
    args = ["trajectory", "--config", str(SMOKE), "--init", "he", "--seed", "0", "--out", str(tmp_path / "t.parquet")]
    with pytest.raises(SystemExit):
        cli.main([*args, "--activation", "softsign"])
    assert "invalid choice: 'softsign' (choose from 'relu', 'tanh', 'gelu', 'sigmoid')" in capsys.readouterr().err
    tanh = activations.get("tanh")
    activations.register(activations.Activation("softsign", "softsign", tanh.into, tanh.curved, tanh.binary_derivative))
    try:
        with pytest.raises(SystemExit):
            cli.main([*args, "--activation", "swish"])
        assert "'sigmoid', 'softsign')" in capsys.readouterr().err
    finally:
        del activations.ACTIVATIONS["softsign"]


def test_an_invalid_config_is_refused_naming_the_field(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("training: {batch_size: 5000}\n")  # more than the 1000 samples
    out = tmp_path / "t.parquet"
    assert cli.main(["trajectory", "--config", str(bad), "--activation", "relu", "--init", "he", "--seed", "0",
                     "--out", str(out), "--intervals", "30"]) == 2
    assert "training.batch_size" in capsys.readouterr().err and not out.exists()
