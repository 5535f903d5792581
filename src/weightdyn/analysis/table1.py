"""The best predictor of each group, and Table I of the paper.

Table I shows, per checkpoint, the AUC of the best single |cos theta_ij|, the best single
FTLE, the SVM on the FTLEs and C(t) for the high event of ReLU + He. The FTLE form used
there is `ftle_form`, the angles' start `lyapunov.clv_start` (both forms and both starts
are in the tables). The best member of a group and its
interval come from the `best` table of `evaluate.predict_all` (chosen by cross-validation
on the training half, with the number of tied candidates and the range of their test
AUCs); single-member groups (the SVM of a form, C(t)) are their own best member.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine import columns as col
from .config import PredictConfig

TABLE1_ROWS = {
    "cos": "best cos theta_ij(t)",
    "ftle": "best lambda_i(t)",
    "svm": "SVM on all FTLEs",
    "loss": "C(t)",
}
# what Table I shows per cell, from the best table
CELL_QUANTITIES = ("auc", "ci_low", "ci_high", "delong_low", "delong_high", "predictor", "n_candidates", "n_tied",
                   "tied_auc_min", "tied_auc_max", "n_test", "positives", "status")


def cell(quantity: str, label: str) -> str:
    """The Table I column of `quantity` (one of CELL_QUANTITIES) at checkpoint label t."""
    return f"{quantity}_t{label}"


def table1_labels(t1: pd.DataFrame) -> list[str]:
    """The checkpoint labels of a Table I, in its column order."""
    head = cell("auc", "")
    return [c[len(head):] for c in t1.columns if c.startswith(head)]


def group_form(group: str, cfg: PredictConfig) -> str | None:
    """The form of `group` that Table I, the claims and the restart policy use: the FTLE
    form for FTLEs and SVMs, the CLV start (`lyapunov.clv_start`) for angles, any (None)
    for the loss."""
    return {"ftle": cfg.ftle_form, "svm": cfg.ftle_form, "cos": cfg.clv_start, "mean_cos": cfg.clv_start}.get(group)


def best_rows(best: pd.DataFrame, group: str, form: str | None = None) -> pd.DataFrame:
    """The rows of the best table of `group` (and `form`), one per (event, activation,
    init, t)."""
    sub = best[best["group"] == group]
    return sub if form is None else sub[sub["form"] == form]


def best_row(best: pd.DataFrame, event: str, activation: str, init: str, group: str, form: str | None,
             interval: int) -> pd.Series | None:
    """The best row of a group for one event, setting and checkpoint (None if absent)."""
    sub = best_rows(col.setting_rows(best, activation, init), group, form)
    sub = sub[(sub["event"] == event) & (sub["interval"] == interval)]
    return sub.iloc[0] if len(sub) else None


def table1(best: pd.DataFrame, cfg: PredictConfig, event: str = "high", activation: str = "relu",
           init: str = "he") -> pd.DataFrame:
    """Table I: per predictor group (TABLE1_ROWS) and checkpoint label L the columns
    cell(q, L) for q in CELL_QUANTITIES, from the best table."""
    sub = col.setting_rows(best[best["event"] == event], activation, init)
    labels = list(dict.fromkeys(sub.sort_values("t")["t_label"])) if len(sub) else []
    records = []
    for group, name in TABLE1_ROWS.items():
        rows = best_rows(sub, group, group_form(group, cfg))
        rec = {"row": name}
        for label in labels:
            hit = rows[rows["t_label"] == label]
            r = hit.iloc[0] if len(hit) else None
            for q in CELL_QUANTITIES:
                if r is not None:
                    rec[cell(q, label)] = r[q]
                else:
                    rec[cell(q, label)] = {"predictor": "", "status": "not computed"}.get(
                        q, 0 if q in ("n_candidates", "n_tied", "n_test", "positives") else np.nan)
        records.append(rec)
    return pd.DataFrame(records)
