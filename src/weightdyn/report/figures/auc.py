"""Figs. 10-13, the test AUC of every predictor against the checkpoint t, and Fig. 15,
the ROC curves of the best single FTLE."""
from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ...analysis.config import PredictConfig
from ...analysis.events import EVENTS
from ...analysis.predictors import parse_name
from ...analysis.selection import choose
from ...engine import columns as col
from ..labels import FTLE_FORM_NAMES, START_NAMES
from .style import activation_name, activations_of, in_registry_order, init_name, note

EVENT_TEXT = {"low": "low final loss ($c_f < {low:g}$)", "high": "high final loss ($c_f > {high:g}$)"}
MEAN_COS_LEGEND = r"mean $|\cos\theta|$"


def _event_text(event: str, pcfg: PredictConfig) -> str:
    return EVENT_TEXT[event].format(low=pcfg.low_loss, high=pcfg.high_loss)


def _shortage_note(rows: pd.DataFrame) -> str:
    r = rows.iloc[0]
    return (f"AUC not computed:\ntoo few events\n(positives: {int(r['positives_train'])} train, "
            f"{int(r['positives'])} test)")


def fig_auc_vs_time(auc: pd.DataFrame, event: str, group: str, init: str, pcfg: PredictConfig,
                    window: int | None = None) -> Figure:
    """Figs. 10-13: test AUC against the checkpoint t for every FTLE (group 'ftle': one row
    of panels per form) or every |cos theta_ij| and their mean (group 'cos': one row of
    panels per start of the backward iteration), one column per activation. FTLE AUCs carry their bootstrap intervals as error bars, the mean
    |cos| as a band."""
    sub = auc[(auc["event"] == event) & (auc["init"] == init)]
    acts = in_registry_order(sub["activation"])
    if not acts:
        acts = list(pcfg.high_activations) if event == "high" else activations_of(sub)
    forms = list(col.FTLE_FORMS) if group == "ftle" else list(col.CLV_STARTS)
    fig = Figure(figsize=(5.6 * len(acts) + (2.6 if group == "cos" else 1.6), 3.6 * len(forms)), layout="constrained")
    axes = fig.subplots(len(forms), len(acts), squeeze=False, sharey=True)
    for r, form in enumerate(forms):
        for k, act in enumerate(acts):
            ax = axes[r, k]
            what = (f"FTLEs ({FTLE_FORM_NAMES[form]})" if group == "ftle"
                    else rf"$|\cos\theta_{{i,j}}|$ (past-only, {START_NAMES[form]}, $W$ = {window})")
            ax.set(xlabel=r"checkpoint $t$", ylabel="AUC (test half)",
                   title=f"({chr(97 + r * len(acts) + k)}) {activation_name(act)}: {what}")
            ax.axhline(0.5, color="0.5", lw=0.7, ls=":")
            rows = sub[(sub["activation"] == act) & (sub["group"] == group) & (sub["form"] == form)]
            if group == "cos":
                rows = pd.concat([rows, sub[(sub["activation"] == act) & (sub["group"] == "mean_cos")
                                            & (sub["form"] == form)]])
            if not len(rows):
                note(ax, "no AUCs for this setting")
                continue
            if not rows["auc"].notna().any():
                note(ax, _shortage_note(rows))
                continue
            singles = list(dict.fromkeys(rows.loc[rows["group"] == group, "predictor"]))
            for n_p, pred in enumerate(singles):
                g = rows[rows["predictor"] == pred].sort_values("t")
                idx = parse_name(pred).indices
                if group == "ftle":
                    err = np.vstack([g["auc"] - g["ci_low"], g["ci_high"] - g["auc"]])
                    err = np.clip(np.where(np.isfinite(err), err, 0.0), 0.0, None)
                    ax.errorbar(g["t"], g["auc"], yerr=err, color=matplotlib.colormaps["tab10"](n_p % 10), marker="o",
                                ms=3.5, lw=1.2, capsize=2, label=rf"$\lambda_{{{idx[0]}}}$")
                else:
                    ax.plot(g["t"], g["auc"], color=matplotlib.colormaps["turbo"](n_p / max(len(singles) - 1, 1)),
                            marker=".", ms=3, lw=0.8, label=f"({idx[0]},{idx[1]})")
            if group == "cos":
                g = rows[rows["group"] == "mean_cos"].sort_values("t")
                ax.fill_between(g["t"], g["ci_low"], g["ci_high"], color="black", alpha=0.15, lw=0)
                ax.plot(g["t"], g["auc"], color="black", marker="s", ms=4, lw=2.2, label=MEAN_COS_LEGEND)
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
    fig.suptitle(f"AUC for predicting a {_event_text(event, pcfg)}, {init_name(init)} initialization")
    return fig


def roc_predictor(auc: pd.DataFrame, event: str, activation: str, init: str, form: str) -> tuple[str, int] | None:
    """The single FTLE (of `form`) with the largest cross-validated training-half AUC,
    averaged over the checkpoints (the first of any tied), and the number tied with it."""
    rows = col.setting_rows(auc, activation, init)
    rows = rows[(rows["event"] == event) & (rows["group"] == "ftle") & (rows["form"] == form) & (rows["status"] == "ok")]
    if not len(rows):
        return None
    mean_cv = rows.groupby("predictor", sort=False)["auc_cv"].mean()
    chosen, tied = choose(mean_cv.to_numpy())
    return mean_cv.index[chosen], int(tied.sum())


def fig15_roc(auc: pd.DataFrame, roc: pd.DataFrame, init: str, pcfg: PredictConfig) -> Figure:
    """Fig. 15: ROC curves on the test half at every checkpoint, for the single FTLE with
    the best cross-validated training AUC (`roc_predictor`); one panel per (event,
    activation) (the paper shows low, ReLU)."""
    sub = auc[auc["init"] == init]
    panels = [(e, a) for e in EVENTS for a in in_registry_order(sub["activation"])
              if len(sub[(sub["event"] == e) & (sub["activation"] == a)])] or [(EVENTS[0], activations_of(sub)[0])]
    fig = Figure(figsize=(4.4 * len(panels), 4.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    cmap = matplotlib.colormaps["plasma"]
    for k, (ax, (event, act)) in enumerate(zip(axes, panels)):
        ax.plot([0, 1], [0, 1], color="0.5", lw=0.7, ls=":")
        ax.set(xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1.01), aspect="equal")
        chosen = roc_predictor(sub, event, act, init, pcfg.ftle_form)
        ax.set_title(f"({chr(97 + k)}) {activation_name(act)}, {event} $c_f$", fontsize=10)
        if chosen is None:
            rows = sub[(sub["event"] == event) & (sub["activation"] == act)]
            note(ax, _shortage_note(rows) if len(rows) else "no AUCs")
            continue
        pred, n_tied = chosen
        curves = col.setting_rows(roc, act, init)
        curves = curves[(curves["event"] == event) & (curves["predictor"] == pred)]
        ts = sorted(set(curves["t"]))
        for n_t, t in enumerate(ts):
            c = curves[curves["t"] == t]
            a = sub[(sub["event"] == event) & (sub["activation"] == act) & (sub["predictor"] == pred) & (sub["t"] == t)].iloc[0]
            ax.step(c["fpr"], c["tpr"], where="post", color=cmap(n_t / max(len(ts), 1)), lw=1.5,
                    label=f"t = {t:g}: AUC {a['auc']:.3f}")
        tie = f", {n_tied} FTLEs tied in CV" if n_tied > 1 else ""
        ax.text(0.98, 0.02, rf"predictor $\lambda_{{{parse_name(pred).indices[0]}}}$ ({FTLE_FORM_NAMES[pcfg.ftle_form]}{tie})",
                transform=ax.transAxes, ha="right", va="bottom", fontsize=8)
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 0.08), fontsize=7)
    fig.suptitle("ROC curves on the test half")
    return fig
