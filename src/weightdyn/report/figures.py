"""The paper's Figures 2-15, and the restart-policy figure, from the pipeline's tables.

Every `fig*` function takes tables (pandas DataFrames) and returns a
`matplotlib.figure.Figure` (object-oriented API, no pyplot state);
`weightdyn.pipeline.io.save_figure` writes it as PNG and PDF. `FIGURES` maps each
output name to its function and the tables it needs, which is what the figure rules use.

Readability for any number of runs: marker size and opacity shrink as the number of
points grows (`scatter_style`), histogram bins grow with it (`n_hist_bins`), dense
scatter layers are rasterized inside the PDF, and panels without data say so in the
panel instead of failing. Final losses are shown on log scales (Figs. 3, 4, 7-9, 14),
the densities of Lyapunov exponents on a log density axis (Figs. 5, 6).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib import ticker
import pandas as pd
from matplotlib.figure import Figure

from ..analysis.angles import cos_groups
from ..analysis.config import FTLE_FORMS, PredictConfig
from ..analysis.predict import n_exponents
from .labels import FTLE_FORM_NAMES

ACTIVATION_ORDER = ("relu", "tanh", "gelu", "sigmoid")
ACTIVATION_NAMES = {"relu": "ReLU", "tanh": "tanh", "gelu": "GELU", "sigmoid": "sigmoid"}
INIT_NAMES = {"he": "He", "wide": "wide-range"}
LOSS_LABEL = r"final loss $c_f$"
# spacing of the blocks of panels of Figs. 5-7 and 14 (fixed, without a layout engine)
GRID_3X3 = dict(left=0.13, right=0.97, bottom=0.1, top=0.86, wspace=0.45, hspace=0.6)
GROUP_COLOURS = {"tangent": "tab:red", "intermediate": "tab:blue", "orthogonal": "black"}


@dataclass(frozen=True)
class FigureConfig:
    """Options of the figures (`figures` of the pipeline config)."""

    dpi: int = 150
    cos_tangent: float = 0.9      # a pair is 'tangent' (red) if its upper quantile of |cos| reaches this
    cos_orthogonal: float = 0.1   # ... 'orthogonal' (black) if its median |cos| is at most this
    cos_quantile: float = 0.95    # the upper quantile used above

    @classmethod
    def from_config(cls, cfg: dict) -> "FigureConfig":
        f = cfg.get("figures", {})
        d = cls()
        return cls(dpi=int(f.get("dpi", d.dpi)), cos_tangent=float(f.get("cos_tangent", d.cos_tangent)),
                   cos_orthogonal=float(f.get("cos_orthogonal", d.cos_orthogonal)),
                   cos_quantile=float(f.get("cos_quantile", d.cos_quantile)))


# ----------------------------------------------------------------------------------
# Helpers.

def activations_of(runs: pd.DataFrame, init: str | None = None) -> list[str]:
    """Activations present (for `init`), in the paper's order (ReLU, tanh, then others)."""
    sub = runs if init is None else runs[runs["init"] == init]
    present = set(sub["activation"])
    return [a for a in ACTIVATION_ORDER if a in present] + sorted(present - set(ACTIVATION_ORDER))


def scatter_style(n: int) -> dict:
    """Marker size and opacity for n points: large and opaque for few, small and light for many."""
    n = max(int(n), 1)
    size = float(np.clip(30.0 / np.sqrt(n / 50.0), 1.0, 30.0))
    alpha = float(np.clip(3.0 / np.sqrt(n / 10.0), 0.15, 0.9))
    return dict(s=size, alpha=alpha, linewidths=0, rasterized=n > 2000)


def n_hist_bins(n: int) -> int:
    """Histogram bins for n values: about sqrt(n), between 5 and 80."""
    return int(np.clip(np.ceil(np.sqrt(max(n, 1))), 5, 80))


def note(ax, text: str) -> None:
    """A message in the middle of an empty panel."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=9, color="0.3", wrap=True)


def _panel_title(letter: int, activation: str, init: str | None = None, extra: str = "") -> str:
    parts = [ACTIVATION_NAMES.get(activation, activation)]
    if init:
        parts.append(INIT_NAMES.get(init, init))
    return f"({chr(ord('a') + letter)}) " + " + ".join(parts) + (f", {extra}" if extra else "")


def _finite_loss(sub: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Final losses of the runs that did not diverge (positive, finite) and the number left out."""
    c = sub["final_loss"].to_numpy(dtype=np.float64)
    ok = np.isfinite(c) & (c > 0) & ~sub["diverged"].to_numpy(dtype=bool)
    return c[ok], int((~ok).sum())


def plain_log_ticks(ax, which: str = "y") -> None:
    """Plain numbers (20, 50, 100) instead of 2x10^1 on a log axis; minor ticks labelled
    only when the axis spans less than a decade or two."""
    axis = ax.yaxis if which == "y" else ax.xaxis
    axis.set_major_formatter(ticker.LogFormatter())
    axis.set_minor_formatter(ticker.LogFormatter(labelOnlyBase=False, minor_thresholds=(1.0, 0.3)))


def log_ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    """About n tick values evenly spaced on a log axis from lo to hi, rounded to two
    significant digits (readable even when the range spans less than a decade)."""
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo <= hi):
        return []
    vals = np.geomspace(lo, hi, n) if hi > lo else np.array([lo])
    return sorted({float(f"{v:.2g}") for v in vals})


def small_ticks(ax, size: float = 7) -> None:
    ax.tick_params(axis="both", which="both", labelsize=size)


def _loss_lines(ax, pcfg: PredictConfig, axis: str = "y") -> None:
    line = ax.axhline if axis == "y" else ax.axvline
    line(pcfg.low_loss, color="tab:green", ls="--", lw=0.8)
    line(pcfg.high_loss, color="tab:red", ls="--", lw=0.8)


# ----------------------------------------------------------------------------------
# Fig. 2: the data.

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


# ----------------------------------------------------------------------------------
# Figs. 3, 4: final-loss distributions.

def fig_final_loss(runs: pd.DataFrame, init: str, pcfg: PredictConfig | None = None) -> Figure:
    """Figs. 3 (He) and 4 (wide): density of the final loss per activation, log c_f axis."""
    pcfg = pcfg or PredictConfig()
    acts = activations_of(runs, init) or ["relu"]
    fig = Figure(figsize=(5.2 * len(acts), 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(acts)))
    for k, (ax, act) in enumerate(zip(axes, acts)):
        sub = runs[(runs["activation"] == act) & (runs["init"] == init)]
        c, left_out = _finite_loss(sub)
        ax.set(xscale="log", xlabel=LOSS_LABEL, ylabel=r"density $\rho(c_f)$ (per unit $\log_{10} c_f$)",
               title=_panel_title(k, act, init, f"{len(sub)} runs"))
        if len(c):
            lo, hi = np.log10(c.min()), np.log10(c.max())
            edges = np.logspace(lo - 0.02, hi + 0.02, n_hist_bins(len(c)) + 1)
            counts, _ = np.histogram(c, edges)
            dens = counts / (len(c) * np.diff(np.log10(edges)))
            ax.stairs(dens, edges, fill=True, alpha=0.6, color="tab:blue")
            ax.stairs(dens, edges, color="tab:blue", lw=0.8)
            _loss_lines(ax, pcfg, axis="x")
            plain_log_ticks(ax, "x")
            low, high = (c < pcfg.low_loss).sum(), (c > pcfg.high_loss).sum()
            ax.text(0.98, 0.97, f"$c_f<{pcfg.low_loss:g}$: {low}\n$c_f>{pcfg.high_loss:g}$: {high}"
                    + (f"\ndiverged/non-finite: {left_out}" if left_out else ""),
                    transform=ax.transAxes, ha="right", va="top", fontsize=8)
        else:
            note(ax, "no finite final losses")
    fig.suptitle(f"Distributions of final losses, {INIT_NAMES.get(init, init)} initialization")
    return fig


# ----------------------------------------------------------------------------------
# Figs. 5, 6: distributions of Lyapunov exponents.

def _exponent_panels(runs: pd.DataFrame, init: str):
    """A figure with one subfigure per activation, each to hold a grid of P panels (one per
    exponent): (fig, subfigures, activations, P, rows, columns)."""
    acts = activations_of(runs, init) or ["relu"]
    P = max(n_exponents(runs), 1)
    ncol = int(np.ceil(np.sqrt(P)))
    nrow = int(np.ceil(P / ncol))
    fig = Figure(figsize=(5.5 * len(acts), 2.0 * nrow + 1.0))  # fixed grid: fast with many panels
    return fig, np.atleast_1d(fig.subfigures(1, len(acts))), acts, P, nrow, ncol


def fig_le_distributions(runs: pd.DataFrame, init: str) -> Figure:
    """Figs. 5 (He) and 6 (wide): the density of every exponent l_q, one 3x3 block per activation."""
    fig, subfigs, acts, P, nrow, ncol = _exponent_panels(runs, init)
    for k, (sf, act) in enumerate(zip(subfigs, acts)):
        sub = runs[(runs["activation"] == act) & (runs["init"] == init) & ~runs["diverged"].astype(bool)]
        axes = np.atleast_1d(sf.subplots(nrow, ncol, gridspec_kw=GRID_3X3)).ravel()
        for q, ax in enumerate(axes, start=1):
            if q > P:
                ax.set_visible(False)
                continue
            le = sub[f"le_{q}"].to_numpy(dtype=np.float64) if f"le_{q}" in sub else np.empty(0)
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
        sf.suptitle(_panel_title(k, act, init, f"{len(sub)} runs"), y=0.95)
    fig.suptitle(f"Lyapunov exponents, {INIT_NAMES.get(init, init)} initialization", y=0.995)
    return fig


# ----------------------------------------------------------------------------------
# Figs. 7, 14: exponents against the final loss.

def fig_le_vs_loss(runs: pd.DataFrame, init: str, pcfg: PredictConfig | None = None) -> Figure:
    """Figs. 7 (He) and 14 (wide): c_f (log) against each exponent l_q, per activation."""
    pcfg = pcfg or PredictConfig()
    fig, subfigs, acts, P, nrow, ncol = _exponent_panels(runs, init)
    for k, (sf, act) in enumerate(zip(subfigs, acts)):
        sub = runs[(runs["activation"] == act) & (runs["init"] == init)]
        c, _ = _finite_loss(sub)
        ok = sub.loc[np.isfinite(sub["final_loss"]) & (sub["final_loss"] > 0) & ~sub["diverged"].astype(bool)]
        style = scatter_style(len(ok))
        axes = np.atleast_1d(sf.subplots(nrow, ncol, sharey=True, gridspec_kw=GRID_3X3)).ravel()
        for q, ax in enumerate(axes, start=1):
            if q > P:
                ax.set_visible(False)
                continue
            ax.set(yscale="log", xlabel=rf"$l_{q}$", ylabel=r"$c_f$")
            small_ticks(ax)
            if len(ok):
                ax.scatter(ok[f"le_{q}"], ok["final_loss"], color="tab:blue", **style)
                ax.axvline(0.0, color="0.5", lw=0.6, ls=":")
                _loss_lines(ax, pcfg)
                plain_log_ticks(ax)
            else:
                note(ax, "no data")
        sf.suptitle(_panel_title(k, act, init, f"{len(ok)} runs"), y=0.95)
    fig.suptitle(f"Lyapunov exponents against the final loss, {INIT_NAMES.get(init, init)} initialization", y=0.995)
    return fig


# ----------------------------------------------------------------------------------
# Figs. 8, 9: angles between CLVs at the end of training.

def fig08_cos_vs_loss(runs: pd.DataFrame, init: str = "he", fcfg: FigureConfig | None = None,
                      pcfg: PredictConfig | None = None) -> Figure:
    """Fig. 8: c_f (log) against |cos theta_ij| at the end of training (past-only CLVs),
    one panel per pair (i < j) in a triangle, coloured by the three groups of `cos_groups`."""
    fcfg, pcfg = fcfg or FigureConfig(), pcfg or PredictConfig()
    acts = activations_of(runs, init) or ["relu"]
    P = max(n_exponents(runs), 2)
    n = P - 1
    # a fixed grid (no layout engine): 2 x 36 panels would make constrained layout slow
    fig = Figure(figsize=(9.5 * len(acts), 9.5))
    subfigs = np.atleast_1d(fig.subfigures(1, len(acts)))
    for k, (sf, act) in enumerate(zip(subfigs, acts)):
        sub = runs[(runs["activation"] == act) & (runs["init"] == init)]
        ok = sub.loc[np.isfinite(sub["final_loss"]) & (sub["final_loss"] > 0) & ~sub["diverged"].astype(bool)]
        groups = cos_groups(ok, fcfg.cos_tangent, fcfg.cos_orthogonal, fcfg.cos_quantile) if len(ok) else {}
        style = scatter_style(len(ok))
        cols = [f"cos_end_{i}_{j}" for i in range(1, P + 1) for j in range(i + 1, P + 1)]
        top = np.nanmax(ok[cols].to_numpy(dtype=np.float64), initial=0.0) if len(ok) else 1.0
        # the full range [0, 1] as in the paper, unless every |cos| is small: then zoom in
        xlim = (-0.03, 1.03) if top > 0.5 else (-0.02 * max(top, 0.01), 1.05 * max(top, 0.01))
        axes = sf.subplots(n, n, sharex=True, sharey=True, squeeze=False,
                           gridspec_kw=dict(left=0.07, right=0.98, bottom=0.05, top=0.88, wspace=0.25, hspace=0.35))
        for r in range(n):
            for col in range(n):
                ax = axes[r, col]
                i, j = r + 1, col + 2
                if j <= i:
                    ax.set_visible(False)
                    continue
                ax.set(yscale="log", xlim=xlim)
                ax.set_title(f"({i},{j})", fontsize=7, pad=2)
                small_ticks(ax, 6)
                if col == r:  # the diagonal panel: bottom of its column, left of its row
                    ax.set_xlabel(r"$|\cos\theta_{i,j}|$", fontsize=7)
                    ax.set_ylabel(r"$c_f$", fontsize=7)
                    ax.tick_params(labelleft=True, labelbottom=True)
                else:  # shared axes: tick labels on the diagonal panels only
                    ax.tick_params(labelleft=False, labelbottom=False)
                if len(ok):
                    ax.scatter(ok[f"cos_end_{i}_{j}"], ok["final_loss"], color=GROUP_COLOURS[groups[(i, j)]], **style)
                else:
                    note(ax, "no data")
        # the panels share their axes (and tickers): a few plain ticks, no minor ticks (72 panels draw slowly)
        axes[0, 0].yaxis.set_minor_locator(ticker.NullLocator())
        if len(ok):
            axes[0, 0].set_yticks(log_ticks(ok["final_loss"].min(), ok["final_loss"].max()))
        axes[0, 0].yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        zoom = "" if top > 0.5 else f"; all |cos| below {top:.2g}, x axis zoomed"
        sf.suptitle(_panel_title(k, act, init, f"{len(ok)} runs{zoom}\nred: tangencies, blue: intermediate, "
                                               "black: mostly orthogonal"), fontsize=10, y=0.95)
    fig.suptitle(r"$|\cos\theta_{i,j}|$ between CLVs (past-only estimate) at the end of training against the final loss",
                 y=0.995)
    return fig


def fig09_mean_cos_vs_loss(runs: pd.DataFrame, init: str = "he", pcfg: PredictConfig | None = None) -> Figure:
    """Fig. 9: c_f (log) against the mean |cos theta_ij| over all pairs at the end of training."""
    pcfg = pcfg or PredictConfig()
    acts = activations_of(runs, init) or ["relu"]
    fig = Figure(figsize=(5 * len(acts), 4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(acts), sharey=True))
    for k, (ax, act) in enumerate(zip(axes, acts)):
        sub = runs[(runs["activation"] == act) & (runs["init"] == init)]
        ok = sub.loc[np.isfinite(sub["final_loss"]) & (sub["final_loss"] > 0) & ~sub["diverged"].astype(bool)]
        ax.set(yscale="log", xlabel=r"mean $|\cos\theta_{i,j}|$ over all pairs", ylabel=LOSS_LABEL,
               title=_panel_title(k, act, init, f"{len(ok)} runs"))
        if len(ok):
            ax.scatter(ok["mean_cos_end"], ok["final_loss"], color="tab:blue", **scatter_style(len(ok)))
            _loss_lines(ax, pcfg)
            plain_log_ticks(ax)
        else:
            note(ax, "no data")
    fig.suptitle(r"Mean $|\cos\theta_{i,j}|$ at the end of training against the final loss")
    return fig


# ----------------------------------------------------------------------------------
# Figs. 10-13: AUC against time.

EVENT_TEXT = {"low": "low final loss ($c_f < {low:g}$)", "high": "high final loss ($c_f > {high:g}$)"}


def _event_text(event: str, pcfg: PredictConfig) -> str:
    return EVENT_TEXT[event].format(low=pcfg.low_loss, high=pcfg.high_loss)


def _shortage_note(rows: pd.DataFrame) -> str:
    r = rows.iloc[0]
    return (f"AUC not computed:\ntoo few events\n(positives: {int(r['positives_train'])} train, "
            f"{int(r['positives'])} test)")


def fig_auc_vs_time(auc: pd.DataFrame, event: str, group: str, init: str = "he",
                    pcfg: PredictConfig | None = None) -> Figure:
    """Figs. 10-13: test AUC against the checkpoint t for every FTLE (group 'ftle': one row
    of panels per form) or every |cos theta_ij| and their mean (group 'cos'), one column
    per activation. FTLE AUCs carry their bootstrap intervals as error bars, the mean
    |cos| as a band."""
    pcfg = pcfg or PredictConfig()
    sub = auc[(auc["event"] == event) & (auc["init"] == init)]
    acts = [a for a in ACTIVATION_ORDER if a in set(sub["activation"])] + sorted(set(sub["activation"]) - set(ACTIVATION_ORDER))
    if not acts:
        acts = list(pcfg.high_activations) if event == "high" else ["relu"]
    forms = list(FTLE_FORMS) if group == "ftle" else ["past"]
    fig = Figure(figsize=(5.6 * len(acts) + (2.6 if group == "cos" else 1.6), 3.6 * len(forms)), layout="constrained")
    axes = fig.subplots(len(forms), len(acts), squeeze=False, sharey=True)
    for r, form in enumerate(forms):
        for k, act in enumerate(acts):
            ax = axes[r, k]
            name = ACTIVATION_NAMES.get(act, act)
            what = f"FTLEs ({FTLE_FORM_NAMES[form]})" if group == "ftle" else r"$|\cos\theta_{i,j}|$ (past-only CLVs)"
            ax.set(xlabel=r"checkpoint $t$", ylabel="AUC (test half)", title=f"({chr(97 + r * len(acts) + k)}) {name}: {what}")
            ax.axhline(0.5, color="0.5", lw=0.7, ls=":")
            rows = sub[(sub["activation"] == act) & (sub["group"] == group) & (sub["form"] == form)]
            if group == "cos":
                rows = pd.concat([rows, sub[(sub["activation"] == act) & (sub["group"] == "mean_cos")]])
            if not len(rows):
                note(ax, "no AUCs for this setting")
                continue
            if not rows["auc"].notna().any():
                note(ax, _shortage_note(rows))
                continue
            preds = list(dict.fromkeys(rows["predictor"]))
            singles = [p for p in preds if p != "mean_cos_past"]
            for n_p, pred in enumerate(singles):
                g = rows[rows["predictor"] == pred].sort_values("t")
                colour = (matplotlib.colormaps["tab10"](n_p % 10) if group == "ftle"
                          else matplotlib.colormaps["turbo"](n_p / max(len(singles) - 1, 1)))
                m = re.search(r"_(\d+)$", pred) if group == "ftle" else re.search(r"_(\d+)_(\d+)$", pred)
                label = rf"$\lambda_{{{m.group(1)}}}$" if group == "ftle" else f"({m.group(1)},{m.group(2)})"
                if group == "ftle":
                    err = np.vstack([g["auc"] - g["ci_low"], g["ci_high"] - g["auc"]])
                    err = np.clip(np.where(np.isfinite(err), err, 0.0), 0.0, None)
                    ax.errorbar(g["t"], g["auc"], yerr=err, color=colour, marker="o", ms=3.5, lw=1.2, capsize=2,
                                label=label)
                else:
                    ax.plot(g["t"], g["auc"], color=colour, marker=".", ms=3, lw=0.8, label=label)
            if group == "cos":
                g = rows[rows["predictor"] == "mean_cos_past"].sort_values("t")
                ax.fill_between(g["t"], g["ci_low"], g["ci_high"], color="black", alpha=0.15, lw=0)
                ax.plot(g["t"], g["auc"], color="black", marker="s", ms=4, lw=2.2, label=r"mean $|\cos\theta|$")
            ts = sorted(set(rows["t"]))
            ax.set_xticks(ts, [f"{t:g}" for t in ts])
            pos = rows[rows["status"] == "ok"]
            if len(pos):
                ax.text(0.02, 0.03, f"test: {int(pos['n_test'].max())} runs, {int(pos['positives'].max())} positives",
                        transform=ax.transAxes, fontsize=7, color="0.3")
            if len(rows[rows["status"] != "ok"]):
                ax.text(0.02, 0.10, "some checkpoints: too few events", transform=ax.transAxes, fontsize=7, color="tab:red")
        handles, labels = [], []
        for ax in axes[r]:
            handles, labels = ax.get_legend_handles_labels()
            if handles:
                break
        if handles:
            axes[r, -1].legend(handles, labels, loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=6 if group == "cos" else 8,
                               ncol=3 if group == "cos" else 1, frameon=False)
    ymin = np.nanmin(sub.loc[sub["group"].isin([group, "mean_cos"]), "ci_low"].to_numpy(dtype=np.float64), initial=0.4) if len(sub) else 0.4
    axes[0, 0].set_ylim(min(0.4, ymin - 0.02) if np.isfinite(ymin) else 0.4, 1.02)
    fig.suptitle(f"AUC for predicting a {_event_text(event, pcfg)}, {INIT_NAMES.get(init, init)} initialization")
    return fig


# ----------------------------------------------------------------------------------
# Fig. 15: ROC curves.

def roc_predictor(auc: pd.DataFrame, event: str, activation: str, init: str, form: str) -> str | None:
    """The single FTLE (of `form`) with the best mean training-half AUC over the checkpoints."""
    rows = auc[(auc["event"] == event) & (auc["activation"] == activation) & (auc["init"] == init)
               & (auc["group"] == "ftle") & (auc["form"] == form) & (auc["status"] == "ok")]
    if not len(rows):
        return None
    return rows.groupby("predictor")["auc_train"].mean().idxmax()


def fig15_roc(auc: pd.DataFrame, roc: pd.DataFrame, init: str = "he", pcfg: PredictConfig | None = None) -> Figure:
    """Fig. 15: ROC curves on the test half at every checkpoint, for the single FTLE with
    the best training AUC; one panel per (event, activation) (the paper shows low, ReLU)."""
    pcfg = pcfg or PredictConfig()
    sub = auc[auc["init"] == init]
    panels = [(e, a) for e in ("low", "high") for a in ACTIVATION_ORDER
              if len(sub[(sub["event"] == e) & (sub["activation"] == a)])] or [("low", "relu")]
    fig = Figure(figsize=(4.4 * len(panels), 4.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    cmap = matplotlib.colormaps["plasma"]
    for k, (ax, (event, act)) in enumerate(zip(axes, panels)):
        ax.plot([0, 1], [0, 1], color="0.5", lw=0.7, ls=":")
        ax.set(xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1.01), aspect="equal")
        pred = roc_predictor(sub, event, act, init, pcfg.ftle_form)
        ename = "low" if event == "low" else "high"
        ax.set_title(f"({chr(97 + k)}) {ACTIVATION_NAMES.get(act, act)}, {ename} $c_f$", fontsize=10)
        if pred is None:
            rows = sub[(sub["event"] == event) & (sub["activation"] == act)]
            note(ax, _shortage_note(rows) if len(rows) else "no AUCs")
            continue
        curves = roc[(roc["event"] == event) & (roc["activation"] == act) & (roc["init"] == init) & (roc["predictor"] == pred)]
        ts = sorted(set(curves["t"]))
        for n_t, t in enumerate(ts):
            c = curves[curves["t"] == t]
            a = sub[(sub["event"] == event) & (sub["activation"] == act) & (sub["predictor"] == pred) & (sub["t"] == t)].iloc[0]
            ax.step(c["fpr"], c["tpr"], where="post", color=cmap(n_t / max(len(ts), 1)), lw=1.5,
                    label=f"t = {t:g}: AUC {a['auc']:.3f}")
        m = re.search(r"_(\d+)$", pred)
        ax.text(0.98, 0.02, rf"predictor $\lambda_{{{m.group(1)}}}$ ({FTLE_FORM_NAMES[pcfg.ftle_form]})",
                transform=ax.transAxes, ha="right", va="bottom", fontsize=8)
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 0.08), fontsize=7)
    fig.suptitle("ROC curves on the test half")
    return fig


# ----------------------------------------------------------------------------------
# Beyond the paper: the restart policy.

def fig16_restart_policy(restart: pd.DataFrame) -> Figure:
    """Expected compute per good network with the restart policy, and the saving, against
    the checkpoint at which runs predicted to end high are stopped."""
    acts = [a for a in ACTIVATION_ORDER if a in set(restart["activation"])] or ["relu"]
    fig = Figure(figsize=(5.8 * len(acts) + 1.8, 6.8), layout="constrained")
    axes = fig.subplots(2, len(acts), squeeze=False, sharex="col")
    styles = {"oracle": dict(color="black", ls="--", marker="s")}
    palette = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown"]
    for k, act in enumerate(acts):
        sub = restart[restart["activation"] == act]
        top, bottom = axes[0, k], axes[1, k]
        counts = f"test half: {int(sub['n_test'].iloc[0])} runs, {int(sub['high_test'].iloc[0])} high" if len(sub) else ""
        top.set(ylabel="compute per good network\n(full training runs)",
                title=f"({chr(97 + k)}) {ACTIVATION_NAMES.get(act, act)}: expected compute ({counts})")
        bottom.set(xlabel=r"checkpoint $t$ at which runs are stopped", ylabel="saving (fraction of compute)",
                   title=f"({chr(97 + len(acts) + k)}) {ACTIVATION_NAMES.get(act, act)}: saving")
        bottom.axhline(0.0, color="0.5", lw=0.7, ls=":")
        ok = sub[sub["status"] == "ok"]
        if not len(ok):
            msg = "no runs" if not len(sub) else f"not computed: {sub['status'].iloc[0]}"
            note(top, msg)
            note(bottom, msg)
            continue
        base = sub.drop_duplicates("t").sort_values("t")
        top.plot(base["t"], base["compute_without"], color="0.4", lw=2, label="without policy")
        kinds = [f"best single FTLE ({FTLE_FORM_NAMES[p.split('_')[1]]})" if p.startswith("ftle_") else p
                 for p in ok["predictor"]]
        ok = ok.assign(kind=kinds)
        for n_k, kind in enumerate(dict.fromkeys(ok["kind"])):
            g = ok[ok["kind"] == kind].sort_values("t")
            label = {"loss": "C(t)", "mean_cos_past": r"mean $|\cos\theta|$",
                     "svm_ftle_cum": "SVM (cumulative FTLEs)", "svm_ftle_local": "SVM (local FTLEs)",
                     "oracle": "oracle (stops exactly the high runs)"}.get(kind, kind)
            st = styles.get(kind, dict(color=palette[n_k % len(palette)], marker="o"))
            top.plot(g["t"], g["compute_with"], lw=1.3, ms=4, label=label, **st)
            err = np.vstack([g["saving"] - g["saving_ci_low"], g["saving_ci_high"] - g["saving"]])
            bottom.errorbar(g["t"], g["saving"], yerr=np.clip(np.where(np.isfinite(err), err, 0.0), 0.0, None), lw=1.3, ms=4, capsize=2,
                            label=label, **st)
        ts = sorted(set(sub["t"]))
        bottom.set_xticks(ts, [f"{t:g}" for t in ts])
    if axes[0, -1].get_legend_handles_labels()[0]:
        axes[0, -1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False)
    fig.suptitle("Restart policy: stop runs predicted to end with a high final loss and start fresh ones")
    return fig


# ----------------------------------------------------------------------------------
# Registry used by the figure rules.

@dataclass(frozen=True)
class FigureSpec:
    """A figure of the pipeline: its function and the tables it reads (keyword names)."""

    name: str
    inputs: tuple[str, ...]
    paper: str


FIGURES = {spec.name: spec for spec in [
    FigureSpec("fig02_data", ("task",), "Fig. 2"),
    FigureSpec("fig03_final_loss_he", ("runs",), "Fig. 3"),
    FigureSpec("fig04_final_loss_wide", ("runs",), "Fig. 4"),
    FigureSpec("fig05_le_distributions_he", ("runs",), "Fig. 5"),
    FigureSpec("fig06_le_distributions_wide", ("runs",), "Fig. 6"),
    FigureSpec("fig07_le_vs_final_loss_he", ("runs",), "Fig. 7"),
    FigureSpec("fig08_cos_vs_final_loss_he", ("runs",), "Fig. 8"),
    FigureSpec("fig09_mean_cos_vs_final_loss_he", ("runs",), "Fig. 9"),
    FigureSpec("fig10_auc_ftle_low", ("auc",), "Fig. 10"),
    FigureSpec("fig11_auc_cos_low", ("auc",), "Fig. 11"),
    FigureSpec("fig12_auc_ftle_high", ("auc",), "Fig. 12"),
    FigureSpec("fig13_auc_cos_high", ("auc",), "Fig. 13"),
    FigureSpec("fig14_le_vs_final_loss_wide", ("runs",), "Fig. 14"),
    FigureSpec("fig15_roc_curves", ("auc", "roc"), "Fig. 15"),
    FigureSpec("fig16_restart_policy", ("restart",), "none (beyond the paper)"),
]}


def make_figure(name: str, tables: dict, pcfg: PredictConfig | None = None, fcfg: FigureConfig | None = None) -> Figure:
    """Build the figure `name` of FIGURES from `tables` (keys: task, runs, auc, roc, restart)."""
    pcfg, fcfg = pcfg or PredictConfig(), fcfg or FigureConfig()
    t = tables
    builders = {
        "fig02_data": lambda: fig02_data(t["task"]),
        "fig03_final_loss_he": lambda: fig_final_loss(t["runs"], "he", pcfg),
        "fig04_final_loss_wide": lambda: fig_final_loss(t["runs"], "wide", pcfg),
        "fig05_le_distributions_he": lambda: fig_le_distributions(t["runs"], "he"),
        "fig06_le_distributions_wide": lambda: fig_le_distributions(t["runs"], "wide"),
        "fig07_le_vs_final_loss_he": lambda: fig_le_vs_loss(t["runs"], "he", pcfg),
        "fig08_cos_vs_final_loss_he": lambda: fig08_cos_vs_loss(t["runs"], "he", fcfg, pcfg),
        "fig09_mean_cos_vs_final_loss_he": lambda: fig09_mean_cos_vs_loss(t["runs"], "he", pcfg),
        "fig10_auc_ftle_low": lambda: fig_auc_vs_time(t["auc"], "low", "ftle", "he", pcfg),
        "fig11_auc_cos_low": lambda: fig_auc_vs_time(t["auc"], "low", "cos", "he", pcfg),
        "fig12_auc_ftle_high": lambda: fig_auc_vs_time(t["auc"], "high", "ftle", "he", pcfg),
        "fig13_auc_cos_high": lambda: fig_auc_vs_time(t["auc"], "high", "cos", "he", pcfg),
        "fig14_le_vs_final_loss_wide": lambda: fig_le_vs_loss(t["runs"], "wide", pcfg),
        "fig15_roc_curves": lambda: fig15_roc(t["auc"], t["roc"], "he", pcfg),
        "fig16_restart_policy": lambda: fig16_restart_policy(t["restart"]),
    }
    if name not in builders:
        raise ValueError(f"unknown figure {name!r}; choose one of {sorted(builders)}")
    return builders[name]()
