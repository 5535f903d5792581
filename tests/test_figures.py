"""Figures 2-16: every figure is drawn from small synthetic tables, written as a non-empty
PNG and PDF, and has the expected axes (labels, log scales, panel counts); figures stay
readable and do not fail when a setting has one run, no runs or too few events."""
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba

from test_predict import CHECKPOINTS, DT, quick_cfg, synthetic_runs
from weightdyn.analysis.angles import cos_groups
from weightdyn.report import figures as fg
from weightdyn.analysis.evaluate import predict_all
from weightdyn.analysis.restart import restart_policy
from weightdyn.analysis.split import split_runs
from weightdyn.report import markdown
from weightdyn.model.streams import make_task

SETTINGS = (("relu", "he"), ("tanh", "he"), ("relu", "wide"), ("tanh", "wide"))


@pytest.fixture(scope="module")
def tables():
    runs = synthetic_runs(n=60, settings=SETTINGS, P=9)
    cfg = quick_cfg(bootstrap={"n_boot": 2})
    split = split_runs(runs, cfg)
    auc, roc = predict_all(runs, CHECKPOINTS, DT, cfg, split)
    restart = restart_policy(runs, auc, CHECKPOINTS, DT, 36667, cfg, split)
    X, y = make_task(200, 0, "paper", 2)
    task = pd.DataFrame({"x1": X[:, 0], "x2": X[:, 1], "y": y[:, 0]})
    return dict(task=task, runs=runs, auc=auc, roc=roc, restart=restart)


def visible(fig):
    return [ax for ax in fig.get_axes() if ax.get_visible() and ax.get_label() != "<colorbar>"]


def loss_label(text):
    return "c_f" in text


# What each figure must show: (number of visible data axes, check per axes).
EXPECTED = {
    "fig02_data": (3, lambda ax: ax.get_xlabel() and ax.get_ylabel()),
    "fig03_final_loss_he": (2, lambda ax: ax.get_xscale() == "log" and loss_label(ax.get_xlabel())
                            and "density" in ax.get_ylabel()),
    "fig04_final_loss_wide": (2, lambda ax: ax.get_xscale() == "log" and loss_label(ax.get_xlabel())),
    "fig05_le_distributions_he": (18, lambda ax: ax.get_yscale() == "log" and ax.get_xlabel().startswith("$l_")
                                  and ax.get_ylabel() == "density"),
    "fig06_le_distributions_wide": (18, lambda ax: ax.get_yscale() == "log" and ax.get_xlabel().startswith("$l_")),
    "fig07_le_vs_final_loss_he": (18, lambda ax: ax.get_yscale() == "log" and loss_label(ax.get_ylabel())
                                  and ax.get_xlabel().startswith("$l_")),
    "fig08_cos_vs_final_loss_he": (72, lambda ax: ax.get_yscale() == "log" and ax.get_title().startswith("(")),
    "fig09_mean_cos_vs_final_loss_he": (2, lambda ax: ax.get_yscale() == "log" and loss_label(ax.get_ylabel())
                                        and "mean" in ax.get_xlabel()),
    "fig10_auc_ftle_low": (4, lambda ax: "AUC" in ax.get_ylabel() and "t" in ax.get_xlabel()),
    "fig11_auc_cos_low": (2, lambda ax: "AUC" in ax.get_ylabel() and "t" in ax.get_xlabel()),
    "fig12_auc_ftle_high": (2, lambda ax: "AUC" in ax.get_ylabel()),
    "fig13_auc_cos_high": (1, lambda ax: "AUC" in ax.get_ylabel()),
    "fig14_le_vs_final_loss_wide": (18, lambda ax: ax.get_yscale() == "log" and loss_label(ax.get_ylabel())),
    "fig15_roc_curves": (3, lambda ax: ax.get_xlabel() == "false positive rate" and ax.get_ylabel() == "true positive rate"),
    "fig16_restart_policy": (2, lambda ax: "compute" in ax.get_ylabel() or "saving" in ax.get_ylabel()),
}


def test_every_figure_has_an_expectation():
    assert set(EXPECTED) == set(fg.FIGURES)


@pytest.mark.parametrize("name", sorted(fg.FIGURES))
def test_figure_axes_and_files(name, tables, tmp_path):
    fig = fg.make_figure(name, tables)
    axes = visible(fig)
    n_axes, check = EXPECTED[name]
    assert len(axes) == n_axes
    for ax in axes:
        assert check(ax), (name, ax.get_title(), ax.get_xlabel(), ax.get_ylabel())
    assert fig.get_suptitle() or fig.subfigs
    if name not in ("fig08_cos_vs_final_loss_he",):  # the 72-panel figure is written by the pipeline test
        paths = fg.save_figure(fig, tmp_path / name, dpi=30)
        assert [p.suffix for p in paths] == [".png", ".pdf"]
        assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[0].stat().st_size > 1000
        assert paths[1].read_bytes()[:5] == b"%PDF-" and paths[1].stat().st_size > 1000


def test_figure_data_are_drawn(tables):
    """The panels hold the runs: one point per run in the scatter figures, curves in the AUC figures."""
    runs = tables["runs"]
    fig = fg.make_figure("fig09_mean_cos_vs_final_loss_he", tables)
    n_he = [len(runs[(runs["activation"] == a) & (runs["init"] == "he")]) for a in ("relu", "tanh")]
    assert [len(ax.collections[0].get_offsets()) for ax in visible(fig)] == n_he
    fig = fg.make_figure("fig10_auc_ftle_low", tables)
    relu_local = visible(fig)[0]
    assert len(relu_local.get_legend_handles_labels()[0]) == 9  # one curve per FTLE
    fig = fg.make_figure("fig11_auc_cos_low", tables)
    assert len(visible(fig)[0].get_legend_handles_labels()[0]) == 36 + 1  # 36 pairs and their mean
    fig = fg.make_figure("fig15_roc_curves", tables)
    assert all(len(ax.get_lines()) == 1 + len(CHECKPOINTS) for ax in visible(fig))  # chance line + one per t


def test_cos_groups_follow_the_paper_colours():
    runs = synthetic_runs(n=200, settings=(("relu", "he"),), P=3)
    rng = np.random.default_rng(0)
    runs["cos_end_1_2"] = np.clip(1.0 - rng.exponential(0.02, 200), 0, 1)  # tangencies
    runs["cos_end_1_3"] = rng.uniform(0.0, 0.05, 200)  # orthogonal
    runs["cos_end_2_3"] = rng.uniform(0.3, 0.6, 200)  # in between
    groups = cos_groups(runs, tangent=0.9, orthogonal=0.1, quantile=0.95)
    assert groups == {(1, 2): "tangent", (1, 3): "orthogonal", (2, 3): "intermediate"}
    fig = fg.fig08_cos_vs_loss(runs)
    colours = {ax.get_title(): tuple(ax.collections[0].get_facecolor()[0][:3]) for ax in visible(fig)}
    assert colours["(1,2)"] == to_rgba(fg.GROUP_COLOURS["tangent"])[:3]
    assert colours["(1,3)"] == to_rgba(fg.GROUP_COLOURS["orthogonal"])[:3]
    assert colours["(2,3)"] == to_rgba(fg.GROUP_COLOURS["intermediate"])[:3]


def test_marker_style_scales_with_the_number_of_runs():
    few, many = fg.scatter_style(5), fg.scatter_style(100_000)
    assert few["s"] > many["s"] and few["alpha"] > many["alpha"]
    assert many["rasterized"] and not few["rasterized"]
    assert fg.n_hist_bins(3) == 5 and fg.n_hist_bins(10_000) == 80 and fg.n_hist_bins(400) == 20


def test_small_and_empty_settings_and_missing_events(tmp_path):
    """One run, a setting without runs, and AUC rows without enough events: the figures
    are still drawn, and the empty panels say why."""
    runs = synthetic_runs(n=1, settings=(("relu", "he"),), P=9)
    cfg = quick_cfg()
    auc, roc = predict_all(runs, CHECKPOINTS, DT, cfg)
    assert auc["auc"].isna().all()
    restart = restart_policy(runs, auc, CHECKPOINTS, DT, 36667, cfg)
    tables = dict(runs=runs, auc=auc, roc=roc, restart=restart)

    def texts(fig):
        return " ".join(t.get_text() for ax in fig.get_axes() for t in ax.texts)

    fig = fg.make_figure("fig04_final_loss_wide", tables)  # no wide runs at all
    assert "no finite final losses" in texts(fig)
    fig = fg.make_figure("fig03_final_loss_he", tables)
    assert len(visible(fig)[0].patches) > 0
    for name in ("fig12_auc_ftle_high", "fig15_roc_curves"):
        fig = fg.make_figure(name, tables)
        assert "too few events" in texts(fig)
        fg.save_figure(fig, tmp_path / name, dpi=30)
    fig = fg.make_figure("fig16_restart_policy", tables)
    assert "not computed" in texts(fig)
