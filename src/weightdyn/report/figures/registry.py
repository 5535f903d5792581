"""The figures of the pipeline: each output name with the tables it reads and how it is
drawn from them (what the figure rules use)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from matplotlib.figure import Figure

from ...analysis.config import PredictConfig
from ...analysis.angles import DETERMINED
from ...engine.columns import PAPER_READING
from .angles import fig08_cos_vs_loss, fig09_mean_cos_vs_loss, fig_clv_convergence
from .auc import fig15_roc, fig_auc_vs_time
from .exponents import fig_le_distributions, fig_le_vs_loss
from .losses import fig02_data, fig_final_loss
from .restart import fig16_restart_policy
from .style import FigureConfig


@dataclass(frozen=True)
class FigureSpec:
    """A figure of the pipeline: its output name, the tables it reads (keyword names, the
    keys of `make_figure`'s tables), its figure in the paper, and draw(*tables, pcfg, fcfg)."""

    name: str
    inputs: tuple[str, ...]
    paper: str
    draw: Callable[..., Figure]


FIGURES = {spec.name: spec for spec in [
    FigureSpec("fig02_data", ("task",), "Fig. 2", lambda task, pcfg, fcfg: fig02_data(task)),
    FigureSpec("fig03_final_loss_he", ("runs",), "Fig. 3", lambda runs, pcfg, fcfg: fig_final_loss(runs, "he", pcfg)),
    FigureSpec("fig04_final_loss_wide", ("runs",), "Fig. 4",
               lambda runs, pcfg, fcfg: fig_final_loss(runs, "wide", pcfg)),
    FigureSpec("fig05_le_distributions_he", ("runs",), "Fig. 5",
               lambda runs, pcfg, fcfg: fig_le_distributions(runs, "he")),
    FigureSpec("fig06_le_distributions_wide", ("runs",), "Fig. 6",
               lambda runs, pcfg, fcfg: fig_le_distributions(runs, "wide")),
    FigureSpec("fig07_le_vs_final_loss_he", ("runs",), "Fig. 7",
               lambda runs, pcfg, fcfg: fig_le_vs_loss(runs, "he", pcfg)),
    FigureSpec("fig08_cos_vs_final_loss_he_paper_setup", ("runs",), "Fig. 8",
               lambda runs, pcfg, fcfg: fig08_cos_vs_loss(runs, "he", fcfg, PAPER_READING)),
    FigureSpec("fig08_cos_vs_final_loss_he_determined", ("runs",), "Fig. 8 (start-independent CLVs)",
               lambda runs, pcfg, fcfg: fig08_cos_vs_loss(runs, "he", fcfg, DETERMINED)),
    FigureSpec("fig09_mean_cos_vs_final_loss_he_paper_setup", ("runs",), "Fig. 9",
               lambda runs, pcfg, fcfg: fig09_mean_cos_vs_loss(runs, "he", pcfg, fcfg, PAPER_READING)),
    FigureSpec("fig09_mean_cos_vs_final_loss_he_determined", ("runs",), "Fig. 9 (start-independent CLVs)",
               lambda runs, pcfg, fcfg: fig09_mean_cos_vs_loss(runs, "he", pcfg, fcfg, DETERMINED)),
    FigureSpec("fig_clv_convergence_he", ("windows", "runs"), "none (beyond the paper)",
               lambda windows, runs, pcfg, fcfg: fig_clv_convergence(windows, runs, "he", pcfg, fcfg)),
    FigureSpec("fig10_auc_ftle_low", ("auc",), "Fig. 10",
               lambda auc, pcfg, fcfg: fig_auc_vs_time(auc, "low", "ftle", "he", pcfg)),
    FigureSpec("fig11_auc_cos_low", ("auc",), "Fig. 11",
               lambda auc, pcfg, fcfg: fig_auc_vs_time(auc, "low", "cos", "he", pcfg, fcfg.angles.window)),
    FigureSpec("fig12_auc_ftle_high", ("auc",), "Fig. 12",
               lambda auc, pcfg, fcfg: fig_auc_vs_time(auc, "high", "ftle", "he", pcfg)),
    FigureSpec("fig13_auc_cos_high", ("auc",), "Fig. 13",
               lambda auc, pcfg, fcfg: fig_auc_vs_time(auc, "high", "cos", "he", pcfg, fcfg.angles.window)),
    FigureSpec("fig14_le_vs_final_loss_wide", ("runs",), "Fig. 14",
               lambda runs, pcfg, fcfg: fig_le_vs_loss(runs, "wide", pcfg)),
    FigureSpec("fig15_roc_curves", ("auc", "roc"), "Fig. 15",
               lambda auc, roc, pcfg, fcfg: fig15_roc(auc, roc, "he", pcfg)),
    FigureSpec("fig16_restart_policy", ("restart",), "none (beyond the paper)",
               lambda restart, pcfg, fcfg: fig16_restart_policy(restart, pcfg)),
]}


def make_figure(name: str, tables: dict, pcfg: PredictConfig, fcfg: FigureConfig) -> Figure:
    """Draw the figure `name` of FIGURES from `tables` (keys: its spec's inputs)."""
    if name not in FIGURES:
        raise ValueError(f"unknown figure {name!r}; choose one of {sorted(FIGURES)}")
    spec = FIGURES[name]
    return spec.draw(*(tables[key] for key in spec.inputs), pcfg, fcfg)
