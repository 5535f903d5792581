"""Figs. 5 and 6, the distributions of the Lyapunov exponents, and Figs. 7 and 14, the
exponents against the final loss: one block of P panels (one per exponent l_q) per
activation, in a grid of about sqrt(P) x sqrt(P)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.figure import Figure

from ...analysis.config import PredictConfig
from ...analysis.events import usable_runs
from ...engine import columns as col
from .style import (EXPONENT_GRID, activations_of, init_name, loss_axis_runs, loss_lines, n_hist_bins, note,
                    panel_title, plain_log_ticks, scatter_style, small_ticks)


def exponent_grid(P: int) -> tuple[int, int]:
    """Rows and columns of the block of P panels: ceil(sqrt(P)) columns, as many rows as needed."""
    ncol = int(np.ceil(np.sqrt(P)))
    return int(np.ceil(P / ncol)), ncol


def _exponent_panels(runs: pd.DataFrame, init: str):
    """A figure with one subfigure per activation, each to hold a grid of P panels (one per
    exponent): (fig, subfigures, activations, P, rows, columns)."""
    acts = activations_of(runs, init)
    P = max(col.n_exponents(runs.columns), 1)
    nrow, ncol = exponent_grid(P)
    fig = Figure(figsize=(5.5 * len(acts), 2.0 * nrow + 1.0))  # fixed grid: fast with many panels
    return fig, np.atleast_1d(fig.subfigures(1, len(acts))), acts, P, nrow, ncol


def fig_le_distributions(runs: pd.DataFrame, init: str) -> Figure:
    """Figs. 5 (He) and 6 (wide): the density of every exponent l_q over the usable runs,
    one block of panels per activation."""
    fig, subfigs, acts, P, nrow, ncol = _exponent_panels(runs, init)
    for k, (sf, act) in enumerate(zip(subfigs, acts)):
        sub = usable_runs(col.setting_rows(runs, act, init))
        axes = np.atleast_1d(sf.subplots(nrow, ncol, gridspec_kw=EXPONENT_GRID)).ravel()
        for q, ax in enumerate(axes, start=1):
            if q > P:
                ax.set_visible(False)
                continue
            le = sub[col.le(q)].to_numpy(dtype=np.float64) if col.le(q) in sub else np.empty(0)
            le = le[np.isfinite(le)]
            ax.set(yscale="log", xlabel=rf"$l_{q}$", ylabel="density")
            ax.xaxis.label.set_size(8)
            ax.yaxis.label.set_size(8)
            small_ticks(ax)
            ax.yaxis.set_minor_formatter(ticker.NullFormatter())
            if len(le):
                span = le.max() - le.min()
                edges = np.linspace(le.min() - 0.01 * span - 1e-12, le.max() + 0.01 * span + 1e-12,
                                    n_hist_bins(len(le)) + 1)
                counts, _ = np.histogram(le, edges)
                dens = counts / (len(le) * np.diff(edges))
                ax.stairs(np.where(dens > 0, dens, np.nan), edges, color="tab:blue")
                ax.axvline(0.0, color="0.5", lw=0.6, ls=":")
            else:
                note(ax, "no data")
        sf.suptitle(panel_title(k, act, init, f"{len(sub)} runs"), y=0.95)
    fig.suptitle(f"Lyapunov exponents, {init_name(init)} initialization", y=0.995)
    return fig


def fig_le_vs_loss(runs: pd.DataFrame, init: str, pcfg: PredictConfig) -> Figure:
    """Figs. 7 (He) and 14 (wide): c_f (log) against each exponent l_q, per activation."""
    fig, subfigs, acts, P, nrow, ncol = _exponent_panels(runs, init)
    for k, (sf, act) in enumerate(zip(subfigs, acts)):
        ok = loss_axis_runs(col.setting_rows(runs, act, init))
        style = scatter_style(len(ok))
        axes = np.atleast_1d(sf.subplots(nrow, ncol, sharey=True, gridspec_kw=EXPONENT_GRID)).ravel()
        for q, ax in enumerate(axes, start=1):
            if q > P:
                ax.set_visible(False)
                continue
            ax.set(yscale="log", xlabel=rf"$l_{q}$", ylabel=r"$c_f$")
            small_ticks(ax)
            if len(ok):
                ax.scatter(ok[col.le(q)], ok[col.FINAL_LOSS], color="tab:blue", **style)
                ax.axvline(0.0, color="0.5", lw=0.6, ls=":")
                loss_lines(ax, pcfg)
                plain_log_ticks(ax)
            else:
                note(ax, "no data")
        sf.suptitle(panel_title(k, act, init, f"{len(ok)} runs"), y=0.95)
    fig.suptitle(f"Lyapunov exponents against the final loss, {init_name(init)} initialization", y=0.995)
    return fig
