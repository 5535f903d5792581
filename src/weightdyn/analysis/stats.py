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


def density_peaks(values: np.ndarray, prominence: float = 0.05) -> int:
    """Number of peaks of a Gaussian KDE (Scott's bandwidth) of `values`, counting peaks
    whose prominence is at least `prominence` x the highest density."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) < 3 or np.ptp(v) == 0:
        return int(len(v) > 0)
    grid = np.linspace(v.min() - 0.1 * np.ptp(v), v.max() + 0.1 * np.ptp(v), 1024)
    dens = stats.gaussian_kde(v)(grid)
    peaks, _ = find_peaks(dens, prominence=prominence * dens.max())
    return int(len(peaks))
