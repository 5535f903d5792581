"""Figures 2-16: every figure is drawn from small synthetic tables, written as a non-empty
PNG and PDF, and has the expected axes (labels, log scales, panel counts); figures stay
readable and do not fail when a setting has one run, no runs or too few events."""
import inspect

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba

from synthetic_clv import synthetic_windows
from test_predict import CHECKPOINTS, DT, synthetic_runs
from weightdyn.analysis.angles import DETERMINED, AngleSetup, cos_groups
from weightdyn.report import figures as fg
from weightdyn.analysis.config import PredictConfig
from weightdyn.analysis.evaluate import predict_all
from weightdyn.analysis.restart import restart_policy
from weightdyn.analysis.split import split_runs
from weightdyn.engine import columns as col
from weightdyn.model import activations
from weightdyn.model.tasks import make_task
from weightdyn.pipeline.config import load_config
from weightdyn.pipeline.io import save_figure
from weightdyn.report.figures import style
from weightdyn.report.figures.angles import UNDETERMINED_COLOUR

SETTINGS = (("relu", "he"), ("tanh", "he"), ("relu", "wide"), ("tanh", "wide"))
FCFG = fg.FigureConfig.from_config(load_config())


def predict_cfg(n_boot):
    return PredictConfig.from_config(load_config({"predict": {"bootstrap": {"n_boot": n_boot}}}))


PCFG = predict_cfg(2)


@pytest.fixture(scope="module")
def tables():
    runs = synthetic_runs(n=60, settings=SETTINGS, P=9)
    split = split_runs(runs, PCFG)
    predicted = predict_all(runs, CHECKPOINTS, DT, PCFG, split)
    auc, roc = predicted["auc"], predicted["roc"]
    restart = restart_policy(runs, predicted["best"], CHECKPOINTS, DT, 36667, PCFG, split)
    X, y = make_task(200, 0, "paper", 2)
    task = pd.DataFrame({"x1": X[:, 0], "x2": X[:, 1], "y": y[:, 0]})
    return dict(task=task, runs=runs, auc=auc, roc=roc, restart=restart, windows=synthetic_windows(runs))


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
    "fig08_cos_vs_final_loss_he_paper_setup": (72, lambda ax: ax.get_yscale() == "log"
                                               and ax.get_title().startswith("(")),
    "fig08_cos_vs_final_loss_he_determined": (72, lambda ax: ax.get_yscale() == "log" and ax.get_title().startswith("(")),
    "fig09_mean_cos_vs_final_loss_he_paper_setup": (2, lambda ax: ax.get_yscale() == "log" and loss_label(ax.get_ylabel())
                                                    and "mean" in ax.get_xlabel()),
    "fig09_mean_cos_vs_final_loss_he_determined": (2, lambda ax: ax.get_yscale() == "log"
                                                   and loss_label(ax.get_ylabel()) and "mean" in ax.get_xlabel()),
    "fig_clv_convergence_he": (4, lambda ax: "distance" in ax.get_ylabel()),
    "fig10_auc_ftle_low": (4, lambda ax: "AUC" in ax.get_ylabel() and "t" in ax.get_xlabel()),
    "fig11_auc_cos_low": (4, lambda ax: "AUC" in ax.get_ylabel() and "t" in ax.get_xlabel()),
    "fig12_auc_ftle_high": (2, lambda ax: "AUC" in ax.get_ylabel()),
    "fig13_auc_cos_high": (2, lambda ax: "AUC" in ax.get_ylabel()),
    "fig14_le_vs_final_loss_wide": (18, lambda ax: ax.get_yscale() == "log" and loss_label(ax.get_ylabel())),
    "fig15_roc_curves": (3, lambda ax: ax.get_xlabel() == "false positive rate" and ax.get_ylabel() == "true positive rate"),
    "fig16_restart_policy": (8, lambda ax: "compute" in ax.get_ylabel() or "saving" in ax.get_ylabel()),
}


def test_every_figure_has_an_expectation():
    assert set(EXPECTED) == set(fg.FIGURES)


@pytest.mark.parametrize("name", sorted(fg.FIGURES))
def test_figure_axes_and_files(name, tables, tmp_path):
    fig = fg.make_figure(name, {key: tables[key] for key in fg.FIGURES[name].inputs}, PCFG, FCFG)
    axes = visible(fig)
    n_axes, check = EXPECTED[name]
    assert len(axes) == n_axes
    for ax in axes:
        assert check(ax), (name, ax.get_title(), ax.get_xlabel(), ax.get_ylabel())
    assert fig.get_suptitle() or fig.subfigs
    if not name.startswith("fig08_"):  # the 72-panel figures are written by the pipeline test
        paths = save_figure(fig, tmp_path / name, dpi=30)
        assert [p.suffix for p in paths] == [".png", ".pdf"]
        assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[0].stat().st_size > 1000
        assert paths[1].read_bytes()[:5] == b"%PDF-" and paths[1].stat().st_size > 1000


def test_figure_data_are_drawn(tables):
    """The panels hold the runs: one point per run in the scatter figures, curves in the AUC figures."""
    runs = tables["runs"]
    fig = fg.make_figure("fig09_mean_cos_vs_final_loss_he_paper_setup", tables, PCFG, FCFG)
    n_he = [len(runs[(runs["activation"] == a) & (runs["init"] == "he")]) for a in ("relu", "tanh")]
    assert [len(ax.collections[0].get_offsets()) for ax in visible(fig)] == n_he
    # start-independent: the runs with a start-set vector grey, the others blue, together every run
    fig = fg.make_figure("fig09_mean_cos_vs_final_loss_he_determined", tables, PCFG, FCFG)
    assert [sum(len(c.get_offsets()) for c in ax.collections) for ax in visible(fig)] == n_he
    fig = fg.make_figure("fig10_auc_ftle_low", tables, PCFG, FCFG)
    relu_local = visible(fig)[0]
    assert len(relu_local.get_legend_handles_labels()[0]) == 9  # one curve per FTLE
    fig = fg.make_figure("fig11_auc_cos_low", tables, PCFG, FCFG)
    assert len(visible(fig)[0].get_legend_handles_labels()[0]) == 36 + 1  # 36 pairs and their mean
    titles = [ax.get_title() for ax in visible(fig)]
    assert ["start C = I" in t for t in titles] == [True, True, False, False]  # one row of panels per start
    assert all("random start" in t for t in titles[2:])
    fig = fg.make_figure("fig15_roc_curves", tables, PCFG, FCFG)
    assert all(len(ax.get_lines()) == 1 + len(CHECKPOINTS) for ax in visible(fig))  # chance line + one per t


def test_cos_groups_follow_the_paper_colours():
    runs = synthetic_runs(n=200, settings=(("relu", "he"),), P=3)
    rng = np.random.default_rng(0)
    for reading in col.END_READINGS:
        runs[col.cos_end(reading, 1, 2)] = np.clip(1.0 - rng.exponential(0.02, 200), 0, 1)  # tangencies
        runs[col.cos_end(reading, 1, 3)] = rng.uniform(0.0, 0.05, 200)  # orthogonal
        runs[col.cos_end(reading, 2, 3)] = rng.uniform(0.3, 0.6, 200)  # in between
    groups = cos_groups(runs, 0.9, 0.1, 0.95, col.PAPER_READING)
    assert groups == {(1, 2): "tangent", (1, 3): "orthogonal", (2, 3): "intermediate"}
    fig = fg.fig08_cos_vs_loss(runs, "he", FCFG, col.PAPER_READING)
    colours = {ax.get_title(): tuple(ax.collections[-1].get_facecolor()[0][:3]) for ax in visible(fig)}
    assert colours["(1,2)"] == to_rgba(fg.GROUP_COLOURS["tangent"])[:3]
    assert colours["(1,3)"] == to_rgba(fg.GROUP_COLOURS["orthogonal"])[:3]
    assert colours["(2,3)"] == to_rgba(fg.GROUP_COLOURS["intermediate"])[:3]
    # start-independent: vector 3 set by the start in 60% of the runs makes (1,3) and (2,3)
    # undetermined, and their points grey
    runs[col.start_distance(2)] = 0.0
    runs[col.start_distance(3)] = np.where(np.arange(200) < 120, 0.5, 0.0)
    groups = cos_groups(runs, 0.9, 0.1, 0.95, "identity", tolerance=0.05)
    assert groups == {(1, 2): "tangent", (1, 3): "undetermined", (2, 3): "undetermined"}
    fig = fg.fig08_cos_vs_loss(runs, "he", FCFG, DETERMINED)
    grey = to_rgba(UNDETERMINED_COLOUR)[:3]
    panels = {ax.get_title(): ax for ax in visible(fig)}
    assert [len(c.get_offsets()) for c in panels["(1,3)"].collections] == [120, 80]
    assert all(tuple(c.get_facecolor()[0][:3]) == grey for c in panels["(1,3)"].collections)
    assert tuple(panels["(1,2)"].collections[-1].get_facecolor()[0][:3]) == to_rgba(fg.GROUP_COLOURS["tangent"])[:3]


def test_fig08_of_a_wide_network_draws_the_leading_pairs():
    """Beyond cos_max_vectors CLVs, Fig. 8 draws the pairs among the leading ones (a
    triangle of (n - 1)^2 panels, not (P - 1)^2) and says so in its titles."""
    n = FCFG.cos_max_vectors
    runs = synthetic_runs(n=30, settings=(("relu", "he"),), P=n + 3)
    fig = fg.fig08_cos_vs_loss(runs, "he", FCFG, col.PAPER_READING)
    titles = {ax.get_title() for ax in visible(fig)}
    assert titles == {f"({i},{j})" for i, j in col.pairs(n)}
    assert len(fig.get_axes()) == (n - 1) ** 2
    assert f"the pairs among the leading {n} of {n + 3} CLVs" in fig.subfigs[0]._suptitle.get_text()
    determined = fg.fig08_cos_vs_loss(runs, "he", FCFG, DETERMINED)
    assert {ax.get_title() for ax in visible(determined)} == titles and len(determined.get_axes()) == (n - 1) ** 2
    small = synthetic_runs(n=30, settings=(("relu", "he"),), P=3)
    small_fig = fg.fig08_cos_vs_loss(small, "he", FCFG, col.PAPER_READING)
    assert len(small_fig.get_axes()) == 4 and "leading" not in small_fig.subfigs[0]._suptitle.get_text()


def test_marker_style_scales_with_the_number_of_runs():
    few, many = fg.scatter_style(5), fg.scatter_style(100_000)
    assert few["s"] > many["s"] and few["alpha"] > many["alpha"]
    assert many["rasterized"] and not few["rasterized"]
    assert fg.n_hist_bins(3) == 5 and fg.n_hist_bins(10_000) == 80 and fg.n_hist_bins(400) == 20


def test_small_and_empty_settings_and_missing_events(tmp_path):
    """One run, a setting without runs, and AUC rows without enough events: the figures
    are still drawn, and the empty panels say why."""
    runs = synthetic_runs(n=1, settings=(("relu", "he"),), P=9)
    cfg = predict_cfg(0)
    predicted = predict_all(runs, CHECKPOINTS, DT, cfg)
    auc, roc = predicted["auc"], predicted["roc"]
    assert auc["auc"].isna().all()
    restart = restart_policy(runs, predicted["best"], CHECKPOINTS, DT, 36667, cfg)
    tables = dict(runs=runs, auc=auc, roc=roc, restart=restart)

    def texts(fig):
        return " ".join(t.get_text() for ax in fig.get_axes() for t in ax.texts)

    fig = fg.make_figure("fig04_final_loss_wide", tables, PCFG, FCFG)  # no wide runs at all
    assert "no finite final losses" in texts(fig)
    fig = fg.make_figure("fig03_final_loss_he", tables, PCFG, FCFG)
    assert len(visible(fig)[0].patches) > 0
    for name in ("fig12_auc_ftle_high", "fig15_roc_curves"):
        fig = fg.make_figure(name, tables, PCFG, FCFG)
        assert "too few events" in texts(fig)
        save_figure(fig, tmp_path / name, dpi=30)
    fig = fg.make_figure("fig16_restart_policy", tables, PCFG, FCFG)
    assert "not computed" in texts(fig)


def test_registry_draws_each_figure_from_exactly_its_inputs(tables):
    """The figure rules give a figure the tables of its spec: its drawing takes exactly
    those (in order) and the two settings, and every input is a table of the pipeline."""
    for name, spec in fg.FIGURES.items():
        assert list(inspect.signature(spec.draw).parameters) == [*spec.inputs, "pcfg", "fcfg"], name
        assert set(spec.inputs) <= set(tables), name
    with pytest.raises(ValueError, match="unknown figure"):
        fg.make_figure("fig99", tables, PCFG, FCFG)


def test_figure_config_reads_every_option_and_no_other():
    cfg = load_config()
    f = cfg["figures"]
    assert FCFG.dpi == f["dpi"] and FCFG.cos_max_vectors == f["cos_max_vectors"] == 9 and FCFG.angles == AngleSetup(
        f["cos_tangent"], f["cos_orthogonal"], f["cos_quantile"], f["clv_start_tolerance"],
        cfg["lyapunov"]["clv_start"], cfg["lyapunov"]["clv_window"], cfg["lyapunov"]["clv_window_end"])
    del cfg["figures"]["cos_quantile"]
    with pytest.raises(KeyError, match="cos_quantile"):
        fg.FigureConfig.from_config(cfg)
    with pytest.raises(ValueError, match="unknown options"):
        fg.FigureConfig.from_config(load_config({"figures": {"cos_tangnet": 0.8}}))
    one = load_config()
    one["figures"]["cos_max_vectors"] = 1
    with pytest.raises(ValueError, match="cos_max_vectors: 1 draws no pair"):
        fg.FigureConfig.from_config(one)


def test_settings_follow_the_activation_registry():
    """Panels come in the order of the activation registry, titled by report.labels: also
    for activations registered later, whatever their order in the runs table."""
    runs = synthetic_runs(n=5, settings=tuple((a, "he") for a in reversed(activations.ACTIVATIONS)), P=2)
    titles = [ax.get_title() for ax in visible(fg.make_figure("fig03_final_loss_he", dict(runs=runs), PCFG, FCFG))]
    assert [t.split(" + ")[0] for t in titles] == [f"({chr(97 + k)}) {act.label}"
                                                   for k, act in enumerate(activations.ACTIVATIONS.values())]
    relu = activations.get("relu")
    added = [activations.Activation(name, name.upper(), relu.into, False, True) for name in ("zeta", "alpha")]
    try:
        for act in added:
            activations.register(act)
        runs = synthetic_runs(n=5, settings=(("alpha", "he"), ("zeta", "he"), ("relu", "he")), P=2)
        fig = fg.make_figure("fig09_mean_cos_vs_final_loss_he_paper_setup", dict(runs=runs), PCFG, FCFG)
        assert [ax.get_title().split(",")[0] for ax in visible(fig)] == ["(a) ReLU + He", "(b) ZETA + He", "(c) ALPHA + He"]
    finally:
        for act in added:
            activations.ACTIVATIONS.pop(act.name, None)
    assert list(activations.ACTIVATIONS) == ["relu", "tanh", "gelu", "sigmoid"]


def test_loss_axes_show_the_usable_runs_with_positive_loss():
    """Diverged runs, non-finite and zero final losses stay off the log c_f axes; the
    exponent densities keep the usable runs with c_f = 0."""
    runs = synthetic_runs(n=10, settings=(("relu", "he"),), P=4)
    runs.loc[0, col.DIVERGED] = True
    runs.loc[0, col.FINAL_LOSS] = np.nan
    runs.loc[1, col.FINAL_LOSS] = np.inf
    runs.loc[2, col.FINAL_LOSS] = 0.0
    assert list(style.loss_axis_runs(runs).index) == list(range(3, 10))
    fig = fg.make_figure("fig03_final_loss_he", dict(runs=runs), PCFG, FCFG)
    assert "diverged/non-finite: 3" in " ".join(t.get_text() for t in visible(fig)[0].texts)
    fig = fg.make_figure("fig07_le_vs_final_loss_he", dict(runs=runs), PCFG, FCFG)
    assert all(len(ax.collections[0].get_offsets()) == 7 for ax in visible(fig))
    fig = fg.make_figure("fig05_le_distributions_he", dict(runs=runs), PCFG, FCFG)
    assert "8 runs" in fig.subfigs[0].get_suptitle()


@pytest.mark.parametrize("P", [2, 4, 5])
def test_panels_follow_the_number_of_exponents(P):
    """Fig. 5 has one panel per exponent in a near-square grid, Fig. 8 one per CLV pair in
    the triangle of (P-1) x (P-1) panels."""
    runs = synthetic_runs(n=8, settings=(("relu", "he"),), P=P)
    fig = fg.make_figure("fig05_le_distributions_he", dict(runs=runs), PCFG, FCFG)
    assert [ax.get_xlabel() for ax in visible(fig)] == [f"$l_{q}$" for q in range(1, P + 1)]
    rows, cols = fig.subfigs[0].axes[0].get_gridspec().get_geometry()
    assert rows * cols >= P and cols == int(np.ceil(np.sqrt(P)))
    fig = fg.make_figure("fig08_cos_vs_final_loss_he_determined", dict(runs=runs), PCFG, FCFG)
    assert [ax.get_title() for ax in visible(fig)] == [f"({i},{j})" for i, j in col.pairs(P)]
    assert fig.subfigs[0].axes[0].get_gridspec().get_geometry() == (P - 1, P - 1)
