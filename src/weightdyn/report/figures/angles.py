"""Figs. 8 and 9: angles between the CLVs (past-only estimate) at the end of training
against the final loss."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.figure import Figure

from ...analysis.angles import cos_groups
from ...analysis.config import PredictConfig
from ...engine import columns as col
from .style import (GROUP_COLOURS, LOSS_LABEL, FigureConfig, activations_of, log_ticks, loss_axis_runs, loss_lines,
                    note, panel_title, plain_log_ticks, scatter_style, small_ticks)


def fig08_cos_vs_loss(runs: pd.DataFrame, init: str, fcfg: FigureConfig) -> Figure:
    """Fig. 8: c_f (log) against |cos theta_ij| at the end of training (past-only CLVs),
    one panel per pair (i < j) in a triangle of (P-1) x (P-1) panels (pair (i, j) in row
    i, column j - 1), coloured by the three groups of `cos_groups`."""
    acts = activations_of(runs, init)
    P = max(col.n_exponents(runs.columns), 2)
    pairs = col.pairs(P)
    n = P - 1
    # a fixed grid (no layout engine): P(P-1)/2 panels per activation would make constrained layout slow
    fig = Figure(figsize=(9.5 * len(acts), 9.5))
    subfigs = np.atleast_1d(fig.subfigures(1, len(acts)))
    for k, (sf, act) in enumerate(zip(subfigs, acts)):
        ok = loss_axis_runs(col.setting_rows(runs, act, init))
        groups = cos_groups(ok, fcfg.cos_tangent, fcfg.cos_orthogonal, fcfg.cos_quantile) if len(ok) else {}
        style = scatter_style(len(ok))
        cols = [col.cos_end(i, j) for i, j in pairs]
        top = np.nanmax(ok[cols].to_numpy(dtype=np.float64), initial=0.0) if len(ok) else 1.0
        # the full range [0, 1] as in the paper, unless every |cos| is small: then zoom in
        xlim = (-0.03, 1.03) if top > 0.5 else (-0.02 * max(top, 0.01), 1.05 * max(top, 0.01))
        axes = sf.subplots(n, n, sharex=True, sharey=True, squeeze=False,
                           gridspec_kw=dict(left=0.07, right=0.98, bottom=0.05, top=0.88, wspace=0.25, hspace=0.35))
        for ax in axes[np.tril_indices(n, -1)]:  # below the diagonal: no pair
            ax.set_visible(False)
        for i, j in pairs:
            ax = axes[i - 1, j - 2]
            ax.set(yscale="log", xlim=xlim)
            ax.set_title(f"({i},{j})", fontsize=7, pad=2)
            small_ticks(ax, 6)
            if j == i + 1:  # the diagonal panel: bottom of its column, left of its row
                ax.set_xlabel(r"$|\cos\theta_{i,j}|$", fontsize=7)
                ax.set_ylabel(r"$c_f$", fontsize=7)
                ax.tick_params(labelleft=True, labelbottom=True)
            else:  # shared axes: tick labels on the diagonal panels only
                ax.tick_params(labelleft=False, labelbottom=False)
            if len(ok):
                ax.scatter(ok[col.cos_end(i, j)], ok[col.FINAL_LOSS], color=GROUP_COLOURS[groups[(i, j)]], **style)
            else:
                note(ax, "no data")
        # the panels share their axes (and tickers): a few plain ticks, no minor ticks (many panels draw slowly)
        axes[0, 0].yaxis.set_minor_locator(ticker.NullLocator())
        if len(ok):
            axes[0, 0].set_yticks(log_ticks(ok[col.FINAL_LOSS].min(), ok[col.FINAL_LOSS].max()))
        axes[0, 0].yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        zoom = "" if top > 0.5 else f"; all |cos| below {top:.2g}, x axis zoomed"
        sf.suptitle(panel_title(k, act, init, f"{len(ok)} runs{zoom}\nred: tangencies, blue: intermediate, "
                                              "black: mostly orthogonal"), fontsize=10, y=0.95)
    fig.suptitle(r"$|\cos\theta_{i,j}|$ between CLVs (past-only estimate) at the end of training against the final loss",
                 y=0.995)
    return fig


def fig09_mean_cos_vs_loss(runs: pd.DataFrame, init: str, pcfg: PredictConfig) -> Figure:
    """Fig. 9: c_f (log) against the mean |cos theta_ij| over all pairs at the end of training."""
    acts = activations_of(runs, init)
    fig = Figure(figsize=(5 * len(acts), 4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(acts), sharey=True))
    for k, (ax, act) in enumerate(zip(axes, acts)):
        ok = loss_axis_runs(col.setting_rows(runs, act, init))
        ax.set(yscale="log", xlabel=r"mean $|\cos\theta_{i,j}|$ over all pairs", ylabel=LOSS_LABEL,
               title=panel_title(k, act, init, f"{len(ok)} runs"))
        if len(ok):
            ax.scatter(ok[col.MEAN_COS_END], ok[col.FINAL_LOSS], color="tab:blue", **scatter_style(len(ok)))
            loss_lines(ax, pcfg)
            plain_log_ticks(ax)
        else:
            note(ax, "no data")
    fig.suptitle(r"Mean $|\cos\theta_{i,j}|$ at the end of training against the final loss")
    return fig
