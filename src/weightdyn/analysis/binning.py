"""Bins of predictors for naive Bayes (paper Sec. VI), many columns at once.

The edges follow scikit-learn's `KBinsDiscretizer` (ordinal encoding) exactly, so that
the per-column estimator (`classifiers.PredictorBins`) and the vectorised evaluation of
many predictors and bootstrap resamples (`evaluate`) bin alike:
- quantile: `np.quantile` at n_bins + 1 equally spaced levels (QUANTILE_METHOD);
  uniform: equally spaced between the minimum and the maximum; kmeans: 1-d k-means.
- Bins narrower than MIN_WIDTH are merged (quantile, kmeans); a constant column has one
  bin.
- Ties can make quantile edges coincide (e.g. a predictor that is exactly 0 for most
  runs, as the FTLEs of dead ReLU units are), which merges bins, possibly into one, and
  would hide a rare event that sits at the tied value. When that leaves fewer bins than
  both n_bins and the number of distinct values, the quantiles are taken over the
  distinct values instead (each value counted once).
- A value goes to bin `searchsorted(inner edges, value, side='right')`: values beyond
  the fitted range fall into the outer bins, and the largest fitted value into the top
  bin.
"""
from __future__ import annotations

import warnings

import numpy as np

MIN_WIDTH = 1e-8                          # scikit-learn's limit for a bin's width
QUANTILE_METHOD = "averaged_inverted_cdf"  # scikit-learn's default from version 1.7
STRATEGIES = ("quantile", "uniform", "kmeans")
MAX_BINS = 255                             # bins are counted in one byte


def _kmeans_edges(x: np.ndarray, n_bins: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    uniform = np.linspace(x.min(), x.max(), n_bins + 1)
    init = (uniform[1:] + uniform[:-1])[:, None] * 0.5
    centers = np.sort(KMeans(n_clusters=n_bins, init=init, n_init=1).fit(x[:, None]).cluster_centers_[:, 0])
    return np.r_[x.min(), (centers[1:] + centers[:-1]) * 0.5, x.max()]


def quantile_table(X: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """np.quantile(X, levels, axis=0, method=QUANTILE_METHOD), bit for bit, from one sort
    of every column (faster for many levels): the virtual index n q - 1, and between its
    neighbours the average where it is whole, else the upper one (numpy's lerp)."""
    Xs = np.sort(X, axis=0)
    n = Xs.shape[0]
    virtual = n * np.asarray(levels, dtype=np.float64) - 1.0
    below = np.floor(virtual)
    gamma = np.where(virtual - below == 0.0, 0.5, 1.0)[:, None]
    a = Xs[np.clip(below.astype(np.int64), 0, n - 1)]
    b = Xs[np.clip(below.astype(np.int64) + 1, 0, n - 1)]
    diff = b - a
    return b - diff * (1.0 - gamma)  # numpy's lerp for gamma >= 0.5


def _levels(n_bins: int) -> np.ndarray:
    """The quantile levels of n_bins bins as scikit-learn computes them (percentiles / 100:
    e.g. 0.3, not 0.30000000000000004, which decides between averaging and not)."""
    return np.linspace(0.0, 100.0, n_bins + 1) / 100.0


def _merge_narrow(edges: np.ndarray) -> np.ndarray:
    return edges[np.ediff1d(edges, to_begin=np.inf) > MIN_WIDTH]


def bin_edges(X: np.ndarray, n_bins: int, strategy: str) -> list[np.ndarray]:
    """The edges of every column of X (runs, columns): one array of n_bins_j + 1 edges per
    column (see the module docstring)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"bin strategy must be one of {STRATEGIES}, got {strategy!r}")
    if not 2 <= n_bins <= MAX_BINS:
        raise ValueError(f"n_bins must lie in [2, {MAX_BINS}], got {n_bins}")
    X = np.asarray(X, dtype=np.float64)
    levels = _levels(n_bins)
    if strategy == "quantile":
        table = quantile_table(X, levels)
    lo, hi = X.min(axis=0), X.max(axis=0)
    edges = []
    for j in range(X.shape[1]):
        if lo[j] == hi[j]:
            edges.append(np.array([-np.inf, np.inf]))
            continue
        if strategy == "uniform":
            edges.append(np.linspace(lo[j], hi[j], n_bins + 1))
            continue
        if strategy == "kmeans":
            with warnings.catch_warnings():  # fewer distinct values than clusters
                warnings.simplefilter("ignore")
                edges.append(_merge_narrow(_kmeans_edges(X[:, j], n_bins)))
            continue
        e = _merge_narrow(table[:, j])
        if len(e) - 1 < n_bins:
            distinct = np.unique(X[:, j])
            if len(e) - 1 < min(n_bins, len(distinct)):
                e = _merge_narrow(np.quantile(distinct, _levels(min(n_bins, len(distinct))), method=QUANTILE_METHOD))
        edges.append(e)
    return edges


def quantile_auc_ceiling(share: float, n_bins: int) -> float:
    """The largest AUC of a classifier on n_bins quantile bins for an event of this share,
    reached when all positives fall into the top bin: they tie there with a (1/n_bins -
    share) fraction of all runs, ties count half, so AUC <= 1 - (1/n_bins - share) /
    (2 (1 - share)); 1 where the events fill the top bin."""
    if not 0.0 < share < 1.0 / n_bins:
        return 1.0
    return 1.0 - (1.0 / n_bins - share) / (2.0 * (1.0 - share))


def assign_bins(X: np.ndarray, edges: list[np.ndarray]) -> np.ndarray:
    """The bin (0 .. len(edges_j) - 2) of every finite value of X, column by column
    (int64): the number of inner edges at or below the value, i.e.
    np.searchsorted(edges_j[1:-1], x, side='right'), for all columns at once."""
    X = np.asarray(X, dtype=np.float64)
    depth = max((len(e) - 2 for e in edges), default=0)
    inner = np.full((depth, len(edges)), np.inf)
    for j, e in enumerate(edges):
        inner[: len(e) - 2, j] = e[1:-1]
    count = np.zeros(X.shape, dtype=np.uint8)  # at most MAX_BINS - 1 inner edges
    above = np.empty(X.shape, dtype=bool)
    for row in inner:
        np.greater_equal(X, row, out=above)
        count += above.view(np.uint8)
    return count.astype(np.int64)


def n_bins_of(edges: list[np.ndarray]) -> np.ndarray:
    """The number of bins of every column."""
    return np.array([len(e) - 1 for e in edges], dtype=np.int64)
