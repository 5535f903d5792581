"""The numbers compared across variants of the config, each with its interval and the
paper's value where it gives one: the headline shares of the He runs, the share of
positive first exponents against the averaging horizon, and Table I's AUCs.

Every function takes one variant's tables and returns a long table; `across` stacks them
with a `variant` column.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine import columns as col
from ..engine.config import checkpoint_labels
from . import paper
from .config import PredictConfig
from .events import usable_runs
from .stats import Share
from .table1 import best_row, group_form

HEADLINES = ("low_loss", "high_loss", "le1_positive", "three_positive")
SHARE_COLUMNS = ("k", "n", "share", "low", "high")


def _share_row(share: Share, **fields) -> dict:
    lo, hi = share.interval
    return dict(fields, k=share.k, n=share.n, share=share.k / share.n if share.n else np.nan, low=lo, high=hi)


def _paper_share(quantity: str, activation: str) -> float:
    """The paper's value of a headline share of `activation` + He (NaN where it gives none)."""
    if quantity == "high_loss":
        return paper.HIGH_LOSS_SHARE[activation]
    k = {"le1_positive": 1, "three_positive": paper.HIGH_LOSS_LEADING}.get(quantity)
    return next((s for _, act, s, kk, _ in paper.POSITIVE_LE_SHARES if act == activation and kk == k), np.nan)


def headline_shares(runs: pd.DataFrame, p: PredictConfig) -> pd.DataFrame:
    """Per He setting of the paper's activations and HEADLINES quantity: the share of usable
    runs with c_f < low, c_f > high, lambda_1 > 0 and lambda_1..3 > 0 (raw signs, as the
    paper counts), its Wilson interval and the paper's value."""
    rows = []
    for act in paper.ACTIVATIONS:
        ok = usable_runs(col.setting_rows(runs, act, "he"))
        if not len(ok):
            continue
        c = ok[col.FINAL_LOSS].to_numpy(dtype=np.float64)
        le = ok[[col.le(q) for q in range(1, paper.HIGH_LOSS_LEADING + 1)]].to_numpy(dtype=np.float64)
        hits = {"low_loss": c < p.low_loss, "high_loss": c > p.high_loss, "le1_positive": le[:, 0] > 0,
                "three_positive": np.all(le > 0, axis=1)}
        for quantity in HEADLINES:
            rows.append(_share_row(Share(int(hits[quantity].sum()), len(ok)), quantity=quantity, activation=act,
                                   paper=_paper_share(quantity, act)))
    return pd.DataFrame(rows, columns=["quantity", "activation", *SHARE_COLUMNS, "paper"])


def horizon_shares(runs: pd.DataFrame, checkpoints, dt: float, n_intervals: int) -> pd.DataFrame:
    """The share of He runs whose first exponent, averaged from the start over a horizon, is
    positive: the cumulative FTLE lambda_1 at each checkpoint, and the exponent over the
    whole training. Columns: activation, horizon (in t), k, n, share, low, high, paper."""
    labels = checkpoint_labels(checkpoints, dt)
    rows = []
    for act in paper.ACTIVATIONS:
        ok = usable_runs(col.setting_rows(runs, act, "he"))
        if not len(ok):
            continue
        first = [(float(label), col.ftle("cum", 1, label)) for label in labels] + [(n_intervals * dt, col.le(1))]
        for horizon, name in first:
            hits = int((ok[name].to_numpy(dtype=np.float64) > 0).sum())
            rows.append(_share_row(Share(hits, len(ok)), activation=act, horizon=horizon,
                                   paper=_paper_share("le1_positive", act)))
    return pd.DataFrame(rows, columns=["activation", "horizon", *SHARE_COLUMNS, "paper"])


def table1_cells(best: pd.DataFrame, p: PredictConfig) -> pd.DataFrame:
    """Table I (c_f > high, ReLU + He) in long form: per predictor group and checkpoint of
    the paper the test AUC with its bootstrap interval, the test positives and the
    paper's AUC (NaN AUC where not computed, with its status)."""
    rows = []
    for group, values in paper.TABLE1.items():
        for interval, number in zip(sorted(paper.CHECKPOINTS), values):
            r = best_row(best, "high", "relu", "he", group, group_form(group, p), interval)
            rows.append(dict(group=group, t=paper.CHECKPOINTS[interval], paper=number,
                             auc=np.nan if r is None else float(r["auc"]),
                             low=np.nan if r is None else float(r["ci_low"]),
                             high=np.nan if r is None else float(r["ci_high"]),
                             positives=0 if r is None else int(r["positives"]),
                             status="not computed" if r is None else str(r["status"])))
    return pd.DataFrame(rows, columns=["group", "t", "paper", "auc", "low", "high", "positives", "status"])


def across(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The tables of several variants ({variant: table}) stacked, with a `variant` column first."""
    frames = [t.assign(variant=name) for name, t in tables.items()]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return out[["variant", *[c for c in out.columns if c != "variant"]]] if len(out.columns) else out
