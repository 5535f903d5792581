"""Small statistics of the comparison with the paper: shares with Wilson intervals, and
the number of peaks of a distribution."""
from __future__ import annotations

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


MODE_DEPTH = 0.5  # a local maximum is a distinct mode if its prominence is this share of its height
MIN_DENSITY_VALUES = 3  # fewer values make no density, and `density_modes` finds no mode in them


def density_modes(values: np.ndarray, bandwidth: float, depth: float = MODE_DEPTH) -> tuple[np.ndarray, np.ndarray]:
    """(locations, heights) of the distinct modes of a Gaussian KDE of `values` (kernel
    standard deviation `bandwidth`, in the units of the values). A local maximum is a
    distinct mode if its prominence is at least `depth` x its height: the density falls
    at least that far on both sides before it rises to anything higher, as around a
    cluster, however small, and not along the ripples of values strewn over a range.
    Fewer than MIN_DENSITY_VALUES finite values: no mode (two runs show neither clusters
    nor their absence); all equal: that value, height 1."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) < MIN_DENSITY_VALUES:
        return np.zeros(0), np.zeros(0)
    if np.ptp(v) == 0:
        return v[:1], np.ones(1)
    pad = 3.0 * bandwidth
    grid = np.linspace(v.min() - pad, v.max() + pad, 4096)
    dens = stats.gaussian_kde(v, bw_method=bandwidth / np.std(v, ddof=1))(grid)
    peaks, props = find_peaks(dens, prominence=0.0)
    distinct = peaks[props["prominences"] >= depth * dens[peaks]]
    return grid[distinct], dens[distinct]


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
