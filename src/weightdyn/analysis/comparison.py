"""The numbers of the comparison with the paper beside its claims (`claims`): the two FTLE
forms, the limit that binning sets to the naive-Bayes AUC, Table I with the best member
chosen on the test half, and the scale of our run against the paper's."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine import columns as col
from . import paper
from .binning import quantile_auc_ceiling
from .config import PredictConfig
from .evaluate import paired_difference
from .events import event_labels
from .table1 import best_row, best_rows

SMALL_RUNS = 1000  # fewer runs in a setting: shares and AUCs carry wide intervals
FORM_STATS = ("auc", "ci_low", "ci_high", "n_tied", "n_candidates", "tied_auc_min", "tied_auc_max")
FORM_COLUMNS = [f"{kind}_{form}_{stat}" for kind in ("ftle", "svm") for form in col.FTLE_FORMS for stat in FORM_STATS]


def ftle_form_table(best: pd.DataFrame) -> pd.DataFrame:
    """Per (event, activation, t) of the He runs: the best single FTLE (chosen by
    cross-validation on the training half) and the SVM of each form, with their test AUC
    and interval and the ties of the choice (columns ftle_local_auc, ftle_local_ci_low, ...,
    svm_cum_tied_auc_max: FORM_STATS per kind and form; NaN if missing)."""
    rows = []
    he = best[best["init"] == "he"]
    for (event, act, t), sub in he.groupby(["event", "activation", "t"], sort=True):
        row = dict(event=event, activation=act, t=t)
        for form in col.FTLE_FORMS:
            for kind in ("ftle", "svm"):
                hit = best_rows(sub, kind, form)
                for stat in FORM_STATS:
                    row[f"{kind}_{form}_{stat}"] = float(hit.iloc[0][stat]) if len(hit) else np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=["event", "activation", "t", *FORM_COLUMNS])


def form_wins(best: pd.DataFrame, draws: pd.DataFrame, p: PredictConfig) -> dict[str, int]:
    """Over the (event, activation, t) cells of the He runs with at least min_positives
    test positives: in how many the best FTLE of each form has the larger AUC by the
    paired interval of the two (the interval of local - cumulative above or below 0), in
    how many neither ('tie'), and how many cells had too few positives ('few')."""
    out = {"local": 0, "cum": 0, "tie": 0, "few": 0}
    rows = best_rows(best[best["init"] == "he"], "ftle", "local")
    for r in rows.itertuples():
        if not np.isfinite(r.auc) or r.positives < p.min_positives:
            out["few"] += 1
            continue
        lo, hi, n = paired_difference(draws, r.event, r.activation, r.interval, ("ftle", "local"), ("ftle", "cum"),
                                      p.ci_level)
        out["local" if n and lo > 0 else "cum" if n and hi < 0 else "tie"] += 1
    return out


def form_distance_to_table1(best: pd.DataFrame, p: PredictConfig) -> dict[str, tuple[float, int]]:
    """Per form: mean |our AUC - paper AUC| over the FTLE and SVM rows of Table I with at
    least min_positives test positives, and the number of cells behind it."""
    out = {}
    for form in col.FTLE_FORMS:
        diffs = []
        for group in ("ftle", "svm"):
            for interval, number in zip(sorted(paper.CHECKPOINTS), paper.TABLE1[group]):
                r = best_row(best, "high", "relu", "he", group, form, interval)
                if r is not None and np.isfinite(r["auc"]) and r["positives"] >= p.min_positives:
                    diffs.append(abs(r["auc"] - number))
        out[form] = (float(np.mean(diffs)) if diffs else float("nan"), len(diffs))
    return out


def table1_by_test_auc(auc: pd.DataFrame, p: PredictConfig) -> list[tuple[str, str, pd.Series]]:
    """The 'best' rows of Table I (cos, ftle) with the member of the largest test AUC (an
    optimistic choice), at the paper's checkpoints: (group, t label, AUC row)."""
    out = []
    rows = col.setting_rows(auc, "relu", "he")
    for group, form in (("cos", None), ("ftle", p.ftle_form)):
        for interval in sorted(paper.CHECKPOINTS):
            sub = rows[(rows["event"] == "high") & (rows["interval"] == interval) & (rows["group"] == group)
                       & (rows["status"] == "ok")]
            sub = sub if form is None else sub[sub["form"] == form]
            if len(sub) and sub["auc"].notna().any():
                out.append((group, paper.CHECKPOINTS[interval], sub.loc[sub["auc"].idxmax()]))
    return out


def binning_auc_cap(runs: pd.DataFrame, p: PredictConfig) -> tuple[float, float] | None:
    """(share of high-loss ReLU + He runs, the largest naive-Bayes AUC a perfectly ranking
    predictor can reach with n_bins quantile bins, `binning.quantile_auc_ceiling`). None
    without such runs or when the events fill the top bin."""
    sub = runs[(runs["activation"] == "relu") & (runs["init"] == "he")]
    if not len(sub) or p.bin_strategy != "quantile":
        return None
    share = float(event_labels(sub, "high", p.low_loss, p.high_loss).mean())
    if not 0.0 < share < 1.0 / p.n_bins:
        return None
    return share, quantile_auc_ceiling(share, p.n_bins)


def runs_per_setting(runs: pd.DataFrame) -> pd.Series:
    """Number of runs per (activation, init)."""
    return runs.groupby(["activation", "init"]).size()


def smaller_than_paper(counts: pd.Series, n_intervals: int) -> bool:
    """Whether a run has fewer than SMALL_RUNS runs in a setting or trains for fewer
    intervals than the paper."""
    return (counts.min() if len(counts) else 0) < SMALL_RUNS or int(n_intervals) < paper.N_INTERVALS
