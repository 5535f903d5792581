"""The AUC of many score columns at once, DeLong's interval, and percentile intervals.

`auc_columns` is the Mann-Whitney form of the ROC AUC (ties count one half), equal to
`sklearn.metrics.roc_auc_score` column by column. `delong_interval` is the normal
interval of DeLong, DeLong and Clarke-Pearson (Biometrics 44, 837, 1988) from the
structural components computed with midranks (Sun and Xu, IEEE Signal Process. Lett. 21,
1389, 2014): the uncertainty of the test AUC of a fitted classifier over the test runs.
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy import stats


def auc_columns(y: np.ndarray, S: np.ndarray) -> np.ndarray:
    """The AUC of every column of S (runs, columns) for the events y (NaN without both
    classes)."""
    y = np.asarray(y, dtype=bool)
    S = np.asarray(S, dtype=np.float64)
    S = S[:, None] if S.ndim == 1 else S
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return np.full(S.shape[1], np.nan)
    ranks = stats.rankdata(S, axis=0)
    return (ranks[y].sum(axis=0) - n1 * (n1 + 1) / 2.0) / (n1 * n0)


def delong_variance(y: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """(AUC, its DeLong variance S10 / m + S01 / n) for m positives and n negatives.

    V10_i = (#{negatives below positive i} + #{ties} / 2) / n, V01_j likewise for negative
    j against the positives; S10, S01 their sample variances (ddof = 1). Needs at least
    two runs of each class.
    """
    y = np.asarray(y, dtype=bool)
    score = np.asarray(score, dtype=np.float64)
    x, z = score[y], score[~y]
    m, n = len(x), len(z)
    if m < 2 or n < 2:
        raise ValueError(f"DeLong's variance needs two runs of each class, got {m} positives and {n} negatives")
    tz = stats.rankdata(np.r_[x, z])
    v10 = (tz[:m] - stats.rankdata(x)) / n
    v01 = 1.0 - (tz[m:] - stats.rankdata(z)) / m
    return float(v10.mean()), float(v10.var(ddof=1) / m + v01.var(ddof=1) / n)


def delong_interval(y: np.ndarray, score: np.ndarray, level: float) -> tuple[float, float]:
    """AUC -+ z_(1+level)/2 sqrt(DeLong variance), clipped to [0, 1]. It is degenerate
    ([1, 1]) when the classes are perfectly separated: the variance estimate is then 0."""
    auc, var = delong_variance(y, score)
    half = stats.norm.ppf(0.5 + level / 2.0) * np.sqrt(var)
    return float(max(auc - half, 0.0)), float(min(auc + half, 1.0))


def percentile_interval(draws: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The (1 - level) / 2 and (1 + level) / 2 quantiles of the draws along axis 0
    (finite draws only; NaN where none)."""
    draws = np.asarray(draws, dtype=np.float64)
    q = (1.0 - level) / 2.0
    if draws.shape[0] == 0:
        nan = np.full(draws.shape[1:], np.nan)
        return nan, nan.copy()
    with warnings.catch_warnings():  # columns without any draw give NaN
        warnings.filterwarnings("ignore", message="All-NaN slice")
        lo, hi = np.nanquantile(draws, [q, 1.0 - q], axis=0)
    return lo, hi
