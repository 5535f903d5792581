"""Fig. 2, the training data, and Figs. 3 and 4, the distributions of the final loss."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ...analysis.config import PredictConfig
from ...engine import columns as col
from .style import (LOSS_LABEL, activations_of, init_name, loss_axis_runs, loss_lines, n_hist_bins, note,
                    panel_title, plain_log_ticks, scatter_style)


def fig02_data(task: pd.DataFrame) -> Figure:
    """Fig. 2: the training data, y against x1 and x2, and (x1, x2) coloured by y."""
    fig = Figure(figsize=(12, 3.8), layout="constrained")
    axes = fig.subplots(1, 3)
    target = "y" if "y" in task else sorted(c for c in task if c.startswith("y"))[0]  # y, or y1 of several outputs
    x1, x2, y = (task[c].to_numpy(dtype=np.float64) for c in ("x1", "x2", target))
    style = scatter_style(len(y))
    axes[0].scatter(x1, y, **style)
    axes[0].set(xlabel=r"$x_1$", ylabel=r"$y$", title=r"(a) $y$ against $x_1$")
    axes[1].scatter(x2, y, **style)
    axes[1].set(xlabel=r"$x_2$", ylabel=r"$y$", title=r"(b) $y$ against $x_2$")
    sc = axes[2].scatter(x1, x2, c=y, cmap="viridis", **{**style, "alpha": 0.9})
    axes[2].set(xlabel=r"$x_1$", ylabel=r"$x_2$", title=r"(c) inputs coloured by $y$")
    fig.colorbar(sc, ax=axes[2], label=r"$y$")
    fig.suptitle(rf"Training data: $n$ = {len(y)}, $y = 10x_1 - 2x_2^2$")
    return fig


def fig_final_loss(runs: pd.DataFrame, init: str, pcfg: PredictConfig) -> Figure:
    """Figs. 3 (He) and 4 (wide): density of the final loss per activation, log c_f axis."""
    acts = activations_of(runs, init)
    fig = Figure(figsize=(5.2 * len(acts), 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(acts)))
    for k, (ax, act) in enumerate(zip(axes, acts)):
        sub = col.setting_rows(runs, act, init)
        c = loss_axis_runs(sub)[col.FINAL_LOSS].to_numpy(dtype=np.float64)
        left_out = len(sub) - len(c)
        ax.set(xscale="log", xlabel=LOSS_LABEL, ylabel=r"density $\rho(c_f)$ (per unit $\log_{10} c_f$)",
               title=panel_title(k, act, init, f"{len(sub)} runs"))
        if len(c):
            lo, hi = np.log10(c.min()), np.log10(c.max())
            edges = np.logspace(lo - 0.02, hi + 0.02, n_hist_bins(len(c)) + 1)
            counts, _ = np.histogram(c, edges)
            dens = counts / (len(c) * np.diff(np.log10(edges)))
            ax.stairs(dens, edges, fill=True, alpha=0.6, color="tab:blue")
            ax.stairs(dens, edges, color="tab:blue", lw=0.8)
            loss_lines(ax, pcfg, axis="x")
            plain_log_ticks(ax, "x")
            low, high = (c < pcfg.low_loss).sum(), (c > pcfg.high_loss).sum()
            ax.text(0.98, 0.97, f"$c_f<{pcfg.low_loss:g}$: {low}\n$c_f>{pcfg.high_loss:g}$: {high}"
                    + (f"\ndiverged/non-finite: {left_out}" if left_out else ""),
                    transform=ax.transAxes, ha="right", va="top", fontsize=8)
        else:
            note(ax, "no finite final losses")
    fig.suptitle(f"Distributions of final losses, {init_name(init)} initialization")
    return fig
