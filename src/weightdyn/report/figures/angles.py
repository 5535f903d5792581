"""Figs. 8 and 9: angles between the CLVs at the end of training against the final loss,
in the paper's setup and as start-independent CLVs; and how the CLVs converge with the
window of the backward iteration."""
from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.figure import Figure

from ...analysis.angles import UNDETERMINED, convergence_points, cos_groups, determined_pairs, determined_vectors
from ...analysis.config import PredictConfig
from ...engine import columns as col
from .style import (GROUP_COLOURS, LOSS_LABEL, FigureConfig, activations_of, log_ticks, loss_axis_runs, loss_lines,
                    note, panel_title, plain_log_ticks, scatter_style, small_ticks)

UNDETERMINED_COLOUR = "0.75"
GAP_AXIS_END = 12  # g W d tau beyond which every vector has converged: the convergence panel stops there


def fig08_cos_vs_loss(runs: pd.DataFrame, init: str, fcfg: FigureConfig, reading: str) -> Figure:
    """Fig. 8: c_f (log) against |cos theta_ij| at the end of training, one panel per pair
    (i < j <= n) in a triangle of (n-1) x (n-1) panels (pair (i, j) in row i, column j - 1),
    coloured by the three groups of `cos_groups`; n = P, or the leading
    `fcfg.cos_max_vectors` CLVs of a wider network (P(P-1)/2 panels would not fit a page
    nor the memory: 9216 axes at P = 97). `reading`: 'paper' (the paper's setup)
    or `angles.DETERMINED` (start-independent: points whose angle the start sets are
    grey, and so is the title of a pair that is undetermined in most runs)."""
    a = fcfg.angles
    values, tolerance = a.reading(reading)
    acts = activations_of(runs, init)
    P_all = max(col.n_exponents(runs.columns), 2)
    P = min(P_all, fcfg.cos_max_vectors)
    pairs = col.pairs(P)
    n = P - 1
    # a fixed grid (no layout engine): P(P-1)/2 panels per activation would make constrained layout slow
    fig = Figure(figsize=(9.5 * len(acts), 9.5))
    subfigs = np.atleast_1d(fig.subfigures(1, len(acts)))
    for k, (sf, act) in enumerate(zip(subfigs, acts)):
        ok = loss_axis_runs(col.setting_rows(runs, act, init))
        groups = cos_groups(ok, a.tangent, a.orthogonal, a.quantile, values, tolerance) if len(ok) else {}
        keep = determined_pairs(ok, tolerance, P) if tolerance is not None else np.ones((len(ok), len(pairs)), bool)
        style = scatter_style(len(ok))
        cols = [col.cos_end(values, i, j) for i, j in pairs]
        top = np.nanmax(ok[cols].to_numpy(dtype=np.float64), initial=0.0) if len(ok) else 1.0
        # the full range [0, 1] as in the paper, unless every |cos| is small: then zoom in
        xlim = (-0.03, 1.03) if top > 0.5 else (-0.02 * max(top, 0.01), 1.05 * max(top, 0.01))
        axes = sf.subplots(n, n, sharex=True, sharey=True, squeeze=False,
                           gridspec_kw=dict(left=0.07, right=0.98, bottom=0.05, top=0.86, wspace=0.25, hspace=0.35))
        for ax in axes[np.tril_indices(n, -1)]:  # below the diagonal: no pair
            ax.set_visible(False)
        for p, (i, j) in enumerate(pairs):
            ax = axes[i - 1, j - 2]
            ax.set(yscale="log", xlim=xlim)
            undetermined = groups.get((i, j)) == UNDETERMINED
            ax.set_title(f"({i},{j})", fontsize=7, pad=2, color=UNDETERMINED_COLOUR if undetermined else "black")
            small_ticks(ax, 6)
            if j == i + 1:  # the diagonal panel: bottom of its column, left of its row
                ax.set_xlabel(r"$|\cos\theta_{i,j}|$", fontsize=7)
                ax.set_ylabel(r"$c_f$", fontsize=7)
                ax.tick_params(labelleft=True, labelbottom=True)
            else:  # shared axes: tick labels on the diagonal panels only
                ax.tick_params(labelleft=False, labelbottom=False)
            if not len(ok):
                note(ax, "no data")
                continue
            x, y = ok[col.cos_end(values, i, j)].to_numpy(), ok[col.FINAL_LOSS].to_numpy()
            if (~keep[:, p]).any():
                ax.scatter(x[~keep[:, p]], y[~keep[:, p]], color=UNDETERMINED_COLOUR, **style)
            colour = GROUP_COLOURS.get(groups[(i, j)], UNDETERMINED_COLOUR)
            ax.scatter(x[keep[:, p]], y[keep[:, p]], color=colour, **style)
        # the panels share their axes (and tickers): a few plain ticks, no minor ticks (many panels draw slowly)
        axes[0, 0].yaxis.set_minor_locator(ticker.NullLocator())
        if len(ok):
            axes[0, 0].set_yticks(log_ticks(ok[col.FINAL_LOSS].min(), ok[col.FINAL_LOSS].max()))
        axes[0, 0].yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        zoom = "" if top > 0.5 else f"; all |cos| below {top:.2g}, x axis zoomed"
        zoom += f"; the pairs among the leading {P} of {P_all} CLVs" if P < P_all else ""
        legend = "red: tangencies, blue: intermediate, black: mostly orthogonal"
        if tolerance is not None:
            share = float(keep.mean()) if keep.size else float("nan")
            legend += (f"\ngrey: set by the start, not the dynamics ({1 - share:.0%} of points); "
                       "grey title: undetermined in most runs")
        sf.suptitle(panel_title(k, act, init, f"{len(ok)} runs{zoom}\n{legend}"), fontsize=10, y=0.96)
    fig.suptitle(r"$|\cos\theta_{i,j}|$ between CLVs at the end of training against the final loss; "
                 f"{a.describe(reading)}", y=0.995, fontsize=11)
    return fig


def fig09_mean_cos_vs_loss(runs: pd.DataFrame, init: str, pcfg: PredictConfig, fcfg: FigureConfig,
                           reading: str) -> Figure:
    """Fig. 9: c_f (log) against the mean |cos theta_ij| over all pairs at the end of
    training, for `reading` (see `fig08_cos_vs_loss`); start-independent, the mean is set
    by the dynamics only where every vector is determined, and the other runs are grey."""
    a = fcfg.angles
    values, tolerance = a.reading(reading)
    acts = activations_of(runs, init)
    fig = Figure(figsize=(5 * len(acts), 4.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(acts), sharey=True))
    for k, (ax, act) in enumerate(zip(axes, acts)):
        ok = loss_axis_runs(col.setting_rows(runs, act, init))
        keep = (determined_vectors(ok, tolerance).all(axis=1) if tolerance is not None
                else np.ones(len(ok), bool))
        extra = f"{len(ok)} runs" + (f", {int(keep.sum())} with every CLV determined" if tolerance is not None else "")
        ax.set(yscale="log", xlabel=r"mean $|\cos\theta_{i,j}|$ over all pairs", ylabel=LOSS_LABEL,
               title=panel_title(k, act, init, extra))
        if not len(ok):
            note(ax, "no data")
            continue
        x, y = ok[col.mean_cos_end(values)].to_numpy(), ok[col.FINAL_LOSS].to_numpy()
        style = scatter_style(len(ok))
        if (~keep).any():
            ax.scatter(x[~keep], y[~keep], color=UNDETERMINED_COLOUR, label="set by the start", **style)
        ax.scatter(x[keep], y[keep], color="tab:blue", label="determined" if tolerance is not None else None, **style)
        if tolerance is not None:
            ax.legend(fontsize=7, loc="best", markerscale=3)
        loss_lines(ax, pcfg)
        plain_log_ticks(ax)
    fig.suptitle(r"Mean $|\cos\theta_{i,j}|$ at the end of training against the final loss; "
                 f"{a.describe(reading)}", fontsize=10)
    return fig


def fig_clv_convergence(windows: pd.DataFrame, runs: pd.DataFrame, init: str, pcfg: PredictConfig,
                        fcfg: FigureConfig) -> Figure:
    """How the end-of-training CLVs forget the start of the backward iteration: per
    setting, (top) the median distance between the two starts' q-th CLV against the window
    W, runs ending high dashed; (bottom) every run's distance against g_q W d tau, the
    exponent gap times the window, with exp(-x) for reference (a vector converges once
    g_q W d tau >> 1; at g_q = 0, inside a degenerate subspace, never)."""
    tol = fcfg.angles.tolerance
    points = convergence_points(windows, runs, pcfg.high_loss)
    acts = activations_of(runs, init)
    fig = Figure(figsize=(5.2 * len(acts), 8.2), layout="constrained")
    axes = fig.subplots(2, len(acts), squeeze=False)
    for k, act in enumerate(acts):
        pts = col.setting_rows(points, act, init)
        top, bottom = axes[0, k], axes[1, k]
        top.set(xscale="log", xlabel=r"window $W$ (intervals)", ylabel="distance between the starts (sin)",
                ylim=(-0.03, 1.03), title=panel_title(k, act, init, "median over runs"))
        bottom.set(xlabel=r"$g_q W d\tau$, $g_q = \lambda_{q-1} - \lambda_q$ over the window",
                   ylabel="distance between the starts (sin)", ylim=(-0.03, 1.03),
                   title=panel_title(k + len(acts), act, init, f"every run, window and vector (x cut at {GAP_AXIS_END})"))
        if not len(pts):
            note(top, "no data")
            note(bottom, "no data")
            continue
        vectors = sorted(pts["vector"].unique())
        cmap = matplotlib.colormaps["viridis"]
        for n_q, q in enumerate(vectors):
            colour = cmap(n_q / max(len(vectors) - 1, 1))
            for high, ls in ((False, "-"), (True, "--")):
                g = pts[(pts["vector"] == q) & (pts["high"] == high)].groupby(col.WINDOW)["distance"].median()
                if len(g):
                    top.plot(g.index, g.to_numpy(), ls=ls, marker="o", ms=3, color=colour,
                             label=f"$v_{{{q}}}$" if not high else None)
            sel = pts[pts["vector"] == q]
            bottom.scatter(sel["gap_W_tau"], sel["distance"], color=colour, **scatter_style(len(pts)))
        grid = sorted(pts[col.WINDOW].unique())
        top.set_xticks(grid, [str(w) for w in grid])
        top.xaxis.set_minor_locator(ticker.NullLocator())
        top.axhline(tol, color="0.5", lw=0.7, ls=":")
        bottom.axhline(tol, color="0.5", lw=0.7, ls=":")
        x = np.linspace(0, GAP_AXIS_END, 200)
        bottom.plot(x, np.exp(-x), color="black", lw=1, label=r"$e^{-x}$")
        bottom.set_xlim(min(float(np.nanquantile(pts["gap_W_tau"], 0.001)), -0.5), GAP_AXIS_END)
        top.legend(fontsize=7, ncol=2, loc="best", title="solid: rest, dashed: high loss", title_fontsize=7)
        bottom.legend(fontsize=7)
    fig.suptitle("CLVs at the end of training: the distance between the CLVs from the identity and from a random "
                 f"start,\nagainst the window (dotted: the tolerance {tol:g} of a determined vector)", fontsize=10)
    return fig
