"""Markdown documents of the pipeline: Table I and the comparison with the paper."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis.config import PredictConfig
from ..analysis.table1 import cell, table1_labels
from .labels import FTLE_FORM_NAMES, predictor_label


def _fmt_auc(auc: float, lo: float, hi: float) -> str:
    if not np.isfinite(auc):
        return "n/a"
    if np.isfinite(lo):
        return f"{auc:.3f} [{lo:.3f}, {hi:.3f}]"
    return f"{auc:.3f}"



def table1_markdown(t1: pd.DataFrame, cfg: PredictConfig, event: str = "high", activation: str = "relu",
                    init: str = "he") -> str:
    """Table I as Markdown: AUC [CI] per row and checkpoint, the chosen predictors and counts."""
    labels = table1_labels(t1)
    thr = {"high": f"c_f > {cfg.high_loss:g}", "low": f"c_f < {cfg.low_loss:g}"}[event]
    lines = [
        f"# Table I: AUC for predicting {thr} ({activation} + {init})",
        "",
        f"AUC on the test half with a {cfg.ci_level:.0%} stratified bootstrap interval ({cfg.n_boot} resamples). "
        f"'best' rows: the member of the group with the largest AUC on the training half. "
        f"FTLE form: {FTLE_FORM_NAMES[cfg.ftle_form]}.",
        "",
        "| predictor | " + " | ".join(f"t = {lab}" for lab in labels) + " |",
        "|---|" + "---|" * len(labels),
    ]
    for _, r in t1.iterrows():
        cells = [_fmt_auc(r[cell("auc", lab)], r[cell("ci_low", lab)], r[cell("ci_high", lab)]) for lab in labels]
        lines.append(f"| {r['row']} | " + " | ".join(cells) + " |")
    lines += ["", "| chosen predictor | " + " | ".join(f"t = {lab}" for lab in labels) + " |",
              "|---|" + "---|" * len(labels)]
    for _, r in t1.iterrows():
        cells = [predictor_label(r[cell("predictor", lab)]) if r[cell("predictor", lab)] else "-" for lab in labels]
        lines.append(f"| {r['row']} | " + " | ".join(cells) + " |")
    lines += ["", "| test runs (positives) | " + " | ".join(f"t = {lab}" for lab in labels) + " |",
              "|---|" + "---|" * len(labels)]
    for _, r in t1.iterrows():
        cells = [f"{int(r[cell('n_test', lab)])} ({int(r[cell('positives', lab)])})" for lab in labels]
        lines.append(f"| {r['row']} | " + " | ".join(cells) + " |")
    notes = sorted({r[cell("status", lab)] for _, r in t1.iterrows() for lab in labels} - {"ok"})
    if notes:
        lines += ["", "Not computed where: " + "; ".join(notes) + "."]
    if not labels:
        lines += ["", f"No {activation} + {init} runs, or no {event} event for this activation: nothing to show."]
    return "\n".join(lines) + "\n"
