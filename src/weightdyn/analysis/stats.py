"""Small statistics of the comparison with the paper: shares with Wilson intervals, and
the number of peaks of a distribution."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.signal import find_peaks

LEVEL = 0.95  # the level of every interval of a share


def wilson(k: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval of a share k/n (NaN, NaN for n = 0)."""
    if n == 0:
        return float("nan"), float("nan")
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


@dataclass(frozen=True)
class Share:
    """k of n runs, with its Wilson interval."""

    k: int
    n: int

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.k, self.n)

    def verdict(self, paper: float) -> str:
        """'agree' if the paper's share lies in the interval, 'differ' if not, 'not testable' without runs."""
        if self.n == 0:
            return "not testable"
        lo, hi = self.interval
        return "agree" if lo <= paper <= hi else "differ"


PEAK_PROMINENCE = 0.05  # a density peak counts if its prominence is this share of the highest density


def density_peak_locations(values: np.ndarray, prominence: float = PEAK_PROMINENCE,
                           bandwidth: float | None = None) -> np.ndarray:
    """Where a Gaussian KDE of `values` peaks, counting peaks whose prominence is at least
    `prominence` x the highest density. The kernel's standard deviation is `bandwidth`
    (in the units of the values), or Scott's rule if None (which, scaled by the spread of
    all values, can smooth neighbouring clusters into one). Fewer than 3 values or all
    equal: the distinct values themselves."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) < 3 or np.ptp(v) == 0:
        return np.unique(v)
    grid = np.linspace(v.min() - 0.1 * np.ptp(v), v.max() + 0.1 * np.ptp(v), 1024)
    bw = None if bandwidth is None else bandwidth / np.std(v, ddof=1)
    dens = stats.gaussian_kde(v, bw_method=bw)(grid)
    peaks, _ = find_peaks(dens, prominence=prominence * dens.max())
    return grid[peaks]


MODE_DEPTH = 0.5  # a local maximum is a distinct mode if its prominence is this share of its height


def modes_in_ranges(values: np.ndarray, edges: Sequence[float], bandwidth: float,
                    depth: float = MODE_DEPTH) -> list[float | None]:
    """Per range [edges[r], edges[r + 1]) the location of the highest distinct mode of a
    Gaussian KDE of `values` (kernel standard deviation `bandwidth`) inside it, or None. A
    mode is distinct if its prominence is at least `depth` x its height: the density
    falls at least that far on both sides before it rises to anything higher, as around
    a cluster and not along the ripples of runs strewn over a range. A small cluster is a
    mode of its own range even where another range holds most runs."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    out: list[float | None] = [None] * (len(edges) - 1)
    if len(v) < 3 or np.ptp(v) == 0:
        for r in range(len(out)):
            inside = v[(v >= edges[r]) & (v < edges[r + 1])]
            out[r] = float(inside[0]) if len(inside) else None
        return out
    pad = 3.0 * bandwidth
    grid = np.linspace(v.min() - pad, v.max() + pad, 4096)
    dens = stats.gaussian_kde(v, bw_method=bandwidth / np.std(v, ddof=1))(grid)
    peaks, props = find_peaks(dens, prominence=0.0)
    for r in range(len(out)):
        in_range = (grid >= edges[r]) & (grid < edges[r + 1])
        ok = [(dens[p], grid[p]) for p, pr in zip(peaks, props["prominences"]) if in_range[p] and pr >= depth * dens[p]]
        out[r] = float(max(ok)[1]) if ok else None
    return out


def density_peaks(values: np.ndarray, prominence: float = PEAK_PROMINENCE) -> int:
    """Number of peaks of a Gaussian KDE of `values` (see `density_peak_locations`)."""
    return len(density_peak_locations(values, prominence))


def bootstrap_difference(a: np.ndarray, b: np.ndarray, statistic, n_boot: int, level: float = LEVEL,
                         seed: int = 0) -> tuple[float, float, float]:
    """statistic(a) - statistic(b) and its percentile interval over n_boot resamples of a
    and b (each with replacement, independently)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    rng = np.random.default_rng(seed)
    diffs = np.array([statistic(rng.choice(a, len(a))) - statistic(rng.choice(b, len(b))) for _ in range(n_boot)])
    q = (1.0 - level) / 2.0
    lo, hi = np.quantile(diffs, [q, 1.0 - q])
    return float(statistic(a) - statistic(b)), float(lo), float(hi)
