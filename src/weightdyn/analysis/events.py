"""Which runs count, and which runs are events: one definition each.

A run is *usable* for statistics of its outcome if it did not diverge and its final loss
is finite. Events (paper Sec. VI): low, a usable run with c_f < low_loss; high, a run
with c_f > high_loss or one that diverged (training failed: a high final loss, never a
low one).

The thresholds are absolute (the paper's c_f < 4 and c_f > 100, meaningful for its task
only) or relative, resolved from the runs before any analysis (`thresholds`): low below
a quantile of the usable final losses, high above a multiple of the constant predictor's
cost (the dead network's c_f). A run is *dead* if it ends at that cost.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine.columns import ACTIVATION, CONSTANT_LOSS, DIVERGED, FINAL_LOSS, INIT

EVENTS = ("low", "high")
LOW_KINDS = ("absolute", "quantile")
HIGH_KINDS = ("absolute", "constant")
DEAD_TOLERANCE = 1e-3  # a dead run's c_f lies within this relative distance of the constant predictor's cost


def usable(runs: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the runs that did not diverge and have a finite final loss."""
    return ~runs[DIVERGED].to_numpy(dtype=bool) & np.isfinite(runs[FINAL_LOSS].to_numpy(dtype=np.float64))


def usable_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The usable rows of `runs` (see `usable`)."""
    return runs[usable(runs)]


def constant_cost(runs: pd.DataFrame) -> float:
    """The constant predictor's cost on the runs' task (one value: the runs share a task)."""
    if CONSTANT_LOSS not in runs:
        raise ValueError(f"the runs table has no column {CONSTANT_LOSS!r}: aggregate it again")
    values = np.unique(runs[CONSTANT_LOSS].to_numpy(dtype=np.float64))
    if len(values) != 1:
        raise ValueError(f"{CONSTANT_LOSS} must be one value for all runs, found {values[:5]}")
    return float(values[0])


def dead(runs: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the usable runs whose c_f is the constant predictor's cost (to
    DEAD_TOLERANCE, relative): the output no longer depends on the input."""
    final = runs[FINAL_LOSS].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return usable(runs) & (np.abs(final / constant_cost(runs) - 1.0) <= DEAD_TOLERANCE)


def balanced_quantile(samples: list[np.ndarray], q: float) -> float:
    """The q quantile of the equal-weight mixture of the samples' empirical distributions:
    the smallest value v with mean_s F_s(v) >= q (the inverted CDF), each sample's
    values weighing 1 / (its size x the number of samples)."""
    values = np.concatenate(samples)
    weights = np.concatenate([np.full(len(s), 1.0 / (len(s) * len(samples))) for s in samples])
    order = np.argsort(values, kind="stable")
    cdf = np.cumsum(weights[order])
    return float(values[order][min(np.searchsorted(cdf, q - 1e-12), len(values) - 1)])


def check_kinds(low_kind: str, high_kind: str) -> None:
    """ValueError naming the field if an event kind is not one of LOW_KINDS, HIGH_KINDS."""
    if low_kind not in LOW_KINDS:
        raise ValueError(f"events.low_kind must be one of {LOW_KINDS}, got {low_kind!r}")
    if high_kind not in HIGH_KINDS:
        raise ValueError(f"events.high_kind must be one of {HIGH_KINDS}, got {high_kind!r}")


def thresholds(runs: pd.DataFrame, inits, low_kind: str, low_level: float, high_kind: str,
               high_level: float) -> tuple[float, float]:
    """The absolute (low, high) thresholds of the events on c_f.

    low: `low_level` itself (absolute), or the `low_level` quantile of the usable final
    losses of the runs with init in `inits` (quantile): of their mixture with every
    setting (activation, init) weighted equally, whatever its number of runs
    (`balanced_quantile`), so that one threshold compares the activations.
    high: `high_level` itself (absolute), or `high_level` times the constant predictor's
    cost (constant).
    """
    check_kinds(low_kind, high_kind)
    low, high = float(low_level), float(high_level)
    if low_kind == "quantile":
        pool = usable_runs(runs[runs[INIT].isin(list(inits))])
        if not len(pool):
            raise ValueError(f"events.low_kind quantile: no usable runs with init in {list(inits)}")
        low = balanced_quantile([sub[FINAL_LOSS].to_numpy(dtype=np.float64)
                                 for _, sub in pool.groupby([ACTIVATION, INIT], sort=False)], low_level)
    if high_kind == "constant":
        high = high_level * constant_cost(runs)
    if not low < high:
        raise ValueError(f"events: the low threshold {low:g} (low_kind {low_kind}, low_loss {low_level:g}) must lie "
                         f"below the high threshold {high:g} (high_kind {high_kind}, high_loss {high_level:g})")
    return low, high


def config_thresholds(runs: pd.DataFrame, events: dict, inits) -> tuple[float, float]:
    """`thresholds` of a pipeline config's `events` section, pooling the runs of `inits`
    (`predict.inits`)."""
    return thresholds(runs, inits, str(events["low_kind"]), float(events["low_loss"]), str(events["high_kind"]),
                      float(events["high_loss"]))


def event_labels(runs: pd.DataFrame, event: str, low_loss: float, high_loss: float) -> np.ndarray:
    """Boolean event indicator per run. Diverged runs count as high, never as low."""
    if np.isnan(low_loss) or np.isnan(high_loss):
        raise ValueError("relative event thresholds are not resolved (PredictConfig.resolve)")
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
