"""The best predictor of each group, and Table I of the paper.

Table I shows, per checkpoint, the AUC of the best single |cos theta_ij|, the best single
FTLE, the SVM on the FTLEs and C(t) for the high event of ReLU + He. The FTLE form used
there is `ftle_form` (both forms are in the AUC table).
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


def cell(quantity: str, label: str) -> str:
    """The Table I column of `quantity` (auc, ci_low, ci_high, predictor, n_test, positives,
    status) at checkpoint label t."""
    return f"{quantity}_t{label}"


def table1_labels(t1: pd.DataFrame) -> list[str]:
    """The checkpoint labels of a Table I, in its column order."""
    head = cell("auc", "")
    return [c[len(head):] for c in t1.columns if c.startswith(head)]


def best_rows(auc: pd.DataFrame, group: str, form: str | None = None, by: str = "auc_train") -> pd.DataFrame:
    """Per (event, activation, init, t) the row of `group` (and `form`) with the largest
    `by` ('auc_train': chosen on the training half; 'auc': the maximum over the test
    half, optimistic). Groups without any computed AUC keep one row (status says why)."""
    sub = auc[auc["group"] == group]
    if form is not None:
        sub = sub[sub["form"] == form]
    keys = ["event", "activation", "init", "t"]
    out = []
    for _, g in sub.groupby(keys, sort=True):
        valid = g[g["status"] == "ok"]
        if len(valid) and valid[by].notna().any():
            out.append(valid.loc[valid[by].idxmax()])
        else:
            out.append(g.iloc[0])
    return pd.DataFrame(out).reset_index(drop=True) if out else sub.iloc[:0]


def table1(auc: pd.DataFrame, cfg: PredictConfig, event: str = "high", activation: str = "relu",
           init: str = "he") -> pd.DataFrame:
    """Table I: AUC of the best |cos theta_ij|, the best FTLE (form cfg.ftle_form), the SVM
    (same form) and C(t) for one event and setting, per checkpoint.

    One row per predictor group; per checkpoint label L the columns auc_tL, ci_low_tL,
    ci_high_tL, predictor_tL (the member chosen by its training-half AUC), n_test_tL,
    positives_tL, status_tL.
    """
    sub = col.setting_rows(auc[auc["event"] == event], activation, init)
    labels = list(dict.fromkeys(sub.sort_values("t")["t_label"])) if len(sub) else []
    forms = {"cos": None, "ftle": cfg.ftle_form, "svm": cfg.ftle_form, "loss": None}
    records = []
    for group, name in TABLE1_ROWS.items():
        best = best_rows(sub, group, forms[group])
        rec = {"row": name}
        for label in labels:
            hit = best[best["t_label"] == label]
            r = hit.iloc[0] if len(hit) else None
            rec[cell("auc", label)] = float(r["auc"]) if r is not None else np.nan
            rec[cell("ci_low", label)] = float(r["ci_low"]) if r is not None else np.nan
            rec[cell("ci_high", label)] = float(r["ci_high"]) if r is not None else np.nan
            rec[cell("predictor", label)] = r["predictor"] if r is not None and r["status"] == "ok" else ""
            rec[cell("n_test", label)] = int(r["n_test"]) if r is not None else 0
            rec[cell("positives", label)] = int(r["positives"]) if r is not None else 0
            rec[cell("status", label)] = r["status"] if r is not None else "not computed"
        records.append(rec)
    return pd.DataFrame(records)
