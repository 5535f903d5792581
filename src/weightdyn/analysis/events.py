"""Which runs count, and which runs are events: one definition each.

A run is *usable* for statistics of its outcome if it did not diverge and its final loss
is finite. Events (paper Sec. VI): low, a usable run with c_f < low_loss; high, a run
with c_f > high_loss or one that diverged (training failed: a high final loss, never a
low one).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine.columns import DIVERGED, FINAL_LOSS

EVENTS = ("low", "high")


def usable(runs: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the runs that did not diverge and have a finite final loss."""
    return ~runs[DIVERGED].to_numpy(dtype=bool) & np.isfinite(runs[FINAL_LOSS].to_numpy(dtype=np.float64))


def usable_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The usable rows of `runs` (see `usable`)."""
    return runs[usable(runs)]


def event_labels(runs: pd.DataFrame, event: str, low_loss: float, high_loss: float) -> np.ndarray:
    """Boolean event indicator per run. Diverged runs count as high, never as low."""
    final = runs[FINAL_LOSS].to_numpy(dtype=np.float64)
    diverged = runs[DIVERGED].to_numpy(dtype=bool)
    with np.errstate(invalid="ignore"):
        if event == "low":
            return ~diverged & (final < low_loss)
        if event == "high":
            return diverged | (final > high_loss)
    raise ValueError(f"unknown event {event!r}; choose one of {EVENTS}")


def outcome_class(runs: pd.DataFrame, low_loss: float, high_loss: float) -> np.ndarray:
    """0 = low, 1 = intermediate, 2 = high (or diverged): the strata of the split."""
    low = event_labels(runs, "low", low_loss, high_loss)
    high = event_labels(runs, "high", low_loss, high_loss)
    return np.where(low, 0, np.where(high, 2, 1))
