"""Angles between CLVs at the end of training: the paper's three groups of pairs (Fig. 8),
which angles the dynamics determines, and how the CLVs converge with the window.

Readings of the end-of-training angles (`columns.END_READINGS`): 'paper' is the paper's
setup as we read it (Ginelli et al.'s random start, the checkpoint window W = 10);
'identity' and 'random' are the two starts over the end window. The backward iteration
forgets its start at the rate of the exponent gap g_q = lambda_{q-1} - lambda_q: the
q-th CLV is set by the dynamics only once g_q W d tau >> 1, and inside a degenerate
Oseledets subspace (g_q = 0, as between the zero exponents of dead ReLU units) never.

Rules, fixed before the results they judge:
- a CLV of a run is *determined* (by the dynamics) when the two starts leave it within
  a sin-distance of `tolerance` over the end window (`columns.start_distance`);
- the angle of a pair (i, j) in a run is determined when both vectors are;
- start-independent groups of pairs (`cos_groups` with `determined`): a pair's group
  comes from the runs in which its angle is determined, and a pair determined in fewer
  than half the runs is 'undetermined'.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..engine import columns as col
from ..lyapunov import clv_cosines
from ..model.streams import clv_random_start
from .events import usable_runs

UNDETERMINED = "undetermined"
NO_DATA = "no data"
MIN_DETERMINED_SHARE = 0.5  # a pair determined in fewer runs than this share is 'undetermined'
DEGENERATE = 1e-9           # |g_q| W d tau below this: the two exponents are equal to rounding
DETERMINED = "determined"   # the start-independent reading: the configured start's angles where they are determined


@dataclass(frozen=True)
class AngleSetup:
    """How the end-of-training angles are read: the colour groups of Fig. 8 (`cos_groups`:
    tangent, orthogonal, quantile), the sin-distance under which a CLV counts as
    determined (`tolerance`), the start the analysis reads, and the checkpoint and end
    windows (`figures` and `lyapunov` of the pipeline config)."""

    tangent: float
    orthogonal: float
    quantile: float
    tolerance: float
    start: str
    window: int
    window_end: int

    @classmethod
    def from_config(cls, cfg: dict) -> "AngleSetup":
        f, lyap = cfg["figures"], cfg["lyapunov"]
        return cls(tangent=float(f["cos_tangent"]), orthogonal=float(f["cos_orthogonal"]),
                   quantile=float(f["cos_quantile"]), tolerance=float(f["clv_start_tolerance"]),
                   start=str(lyap["clv_start"]), window=int(lyap["clv_window"]), window_end=int(lyap["clv_window_end"]))

    def reading(self, name: str) -> tuple[str, float | None]:
        """(the end-of-training reading, the tolerance for `cos_groups`) of 'paper' (the
        paper's setup) or DETERMINED (the configured start, determined angles only)."""
        return (col.PAPER_READING, None) if name == col.PAPER_READING else (self.start, self.tolerance)

    def describe(self, name: str) -> str:
        """The setup of a reading in words, for captions and the comparison."""
        if name == col.PAPER_READING:
            return f"the paper's setup: random start, W = {self.window}"
        return (f"start-independent CLVs: W = {self.window_end}, start {self.start}, angles of vectors that both "
                f"starts leave within sin-distance {self.tolerance:g}")


def determined_vectors(runs: pd.DataFrame, tolerance: float) -> np.ndarray:
    """(runs, P) booleans: the q-th CLV is within `tolerance` of itself from the other start
    (`runs`: any table with the start distances, the runs table or the CLV window table)."""
    P = col.n_indexed(runs.columns, col.start_distance)
    dist = runs[[col.start_distance(q) for q in range(1, P + 1)]].to_numpy(dtype=np.float64)
    return dist <= tolerance


def determined_pairs(runs: pd.DataFrame, tolerance: float, P: int | None = None) -> np.ndarray:
    """(runs, n_pairs) booleans in the order of `columns.pairs(P)` (default P: the vectors
    with a start distance): both vectors determined."""
    vec = determined_vectors(runs, tolerance)
    pairs = col.pairs(vec.shape[1] if P is None else P)
    return np.stack([vec[:, i - 1] & vec[:, j - 1] for i, j in pairs], axis=1) if pairs else vec[:, :0]


def cos_groups(runs: pd.DataFrame, tangent: float, orthogonal: float, quantile: float,
               reading: str, tolerance: float | None = None) -> dict:
    """The paper's three colour groups of CLV pairs from |cos theta_ij| of `reading` at the
    end of training.

    'tangent' (red): the pair can become tangent, its `quantile` quantile of |cos| over
    the usable runs reaches `tangent`; 'orthogonal' (black): otherwise, if its median
    |cos| is at most `orthogonal`; 'intermediate' (blue): the rest; NO_DATA without a
    finite |cos|. With a `tolerance`,
    only the runs in which the pair's angle is determined count, and a pair determined in
    fewer than MIN_DETERMINED_SHARE of them is 'undetermined'. Returns {(i, j): group}.
    """
    ok = usable_runs(runs)
    P = col.n_exponents(runs.columns)
    pairs = col.pairs(P)
    keep = determined_pairs(ok, tolerance, P) if tolerance is not None else np.ones((len(ok), len(pairs)), bool)
    out = {}
    for p, (i, j) in enumerate(pairs):
        v = ok[col.cos_end(reading, i, j)].to_numpy(dtype=np.float64)
        finite = np.isfinite(v)
        v = v[finite & keep[:, p]]
        if tolerance is not None and len(v) < MIN_DETERMINED_SHARE * max(finite.sum(), 1):
            out[(i, j)] = UNDETERMINED
        elif not len(v):
            out[(i, j)] = NO_DATA
        elif np.quantile(v, quantile) >= tangent:
            out[(i, j)] = "tangent"
        elif np.median(v) <= orthogonal:
            out[(i, j)] = "orthogonal"
        else:
            out[(i, j)] = "intermediate"
    return out


def exponent_gaps(ftle: np.ndarray) -> np.ndarray:
    """g_q = lambda_{q-1} - lambda_q for q = 2..P from exponents (..., P) in index order:
    the rate at which the backward iteration forgets its start in the q-th CLV."""
    return ftle[..., :-1] - ftle[..., 1:]


def convergence_points(windows: pd.DataFrame, runs: pd.DataFrame, high_loss: float) -> pd.DataFrame:
    """The CLV window table (`engine.ensemble.window_table`) of the usable runs in long form:
    one row per run, window W and vector q = 2..P with the start distance, the exponent gap
    g_q over the window, g_q W d tau (`gap_W_tau`) and whether the run ends high
    (c_f > high_loss)."""
    P = col.n_exponents(runs.columns)
    ok = usable_runs(runs)[[*col.ID_COLUMNS, col.FINAL_LOSS]]
    table = windows.merge(ok, on=list(col.ID_COLUMNS), how="inner")
    Q = P - 1
    dist = table[[col.start_distance(q) for q in range(2, P + 1)]].to_numpy(dtype=np.float64)
    gap = exponent_gaps(table[[col.window_ftle(q) for q in range(1, P + 1)]].to_numpy(dtype=np.float64))
    rep = lambda c: np.repeat(table[c].to_numpy(), Q)  # noqa: E731
    return pd.DataFrame({
        col.ACTIVATION: rep(col.ACTIVATION), col.INIT: rep(col.INIT), col.SEED: rep(col.SEED),
        col.WINDOW: rep(col.WINDOW), "vector": np.tile(np.arange(2, P + 1), len(table)),
        "distance": dist.reshape(-1), "gap": gap.reshape(-1),
        "gap_W_tau": (gap * table[col.WINDOW_TIME].to_numpy(dtype=np.float64)[:, None]).reshape(-1),
        "high": rep(col.FINAL_LOSS) > high_loss,
    })


def window_convergence(points: pd.DataFrame, tolerance: float) -> pd.DataFrame:
    """`convergence_points` summarised per setting, run group ('high' or 'rest'), window W
    and vector q: the runs, the median start distance, the share of runs in which the
    vector is determined (distance <= tolerance), the median gap g_q and median g_q W d tau,
    and the share of runs whose gap is zero to rounding (|g_q| W d tau < DEGENERATE: a
    degenerate subspace, as between the exponents of dead units)."""
    pts = points.assign(runs_group=np.where(points["high"], "high", "rest"),
                        determined=points["distance"] <= tolerance,
                        degenerate=points["gap_W_tau"].abs() < DEGENERATE)
    keys = [col.ACTIVATION, col.INIT, "runs_group", col.WINDOW, "vector"]
    out = pts.groupby(keys, sort=False).agg(
        runs=("distance", "size"), median_distance=("distance", "median"), determined_share=("determined", "mean"),
        median_gap=("gap", "median"), median_gap_W_tau=("gap_W_tau", "median"),
        degenerate_share=("degenerate", "mean"))
    return out.reset_index()


PAIR_MEDIAN_COLUMNS = [col.ACTIVATION, col.INIT, "pair", col.WINDOW, "start", "median_rest", "median_high", "n_rest",
                       "n_high", "determined_share"]


def pair_medians(windows: pd.DataFrame, runs: pd.DataFrame, high_loss: float, tolerance: float,
                 pairs=None) -> pd.DataFrame:
    """|cos theta_ij| at the end of training against the window and the start: per setting,
    pair (i, j) (default: all), window W and start, the median |cos| over the runs that end
    high (c_f > high_loss) and over the rest, their counts, and the share of runs in which
    the pair's angle is determined at that W (both vectors within `tolerance`)."""
    P = col.n_exponents(runs.columns)
    ok = usable_runs(runs)[[*col.ID_COLUMNS, col.FINAL_LOSS]]
    table = windows.merge(ok, on=list(col.ID_COLUMNS), how="inner")
    dist = table[[col.start_distance(q) for q in range(1, P + 1)]].to_numpy(dtype=np.float64) <= tolerance
    high = table[col.FINAL_LOSS].to_numpy(dtype=np.float64) > high_loss
    rows = []
    keys = [col.ACTIVATION, col.INIT, col.WINDOW]
    for (act, init, W), idx in table.groupby(keys, sort=False).indices.items():
        for i, j in (col.pairs(P) if pairs is None else pairs):
            determined = float(np.mean(dist[idx, i - 1] & dist[idx, j - 1]))
            for start in col.CLV_STARTS:
                v = table[col.window_cos(start, i, j)].to_numpy(dtype=np.float64)[idx]
                h = high[idx]
                rows.append({col.ACTIVATION: act, col.INIT: init, "pair": (i, j), col.WINDOW: int(W), "start": start,
                             "median_rest": float(np.median(v[~h])) if (~h).any() else np.nan,
                             "median_high": float(np.median(v[h])) if h.any() else np.nan,
                             "n_rest": int((~h).sum()), "n_high": int(h.sum()), "determined_share": determined})
    return pd.DataFrame(rows, columns=PAIR_MEDIAN_COLUMNS)


def start_matrix_medians(runs: pd.DataFrame, high_loss: float, pairs) -> pd.DataFrame:
    """|cos theta_ij| between the columns of each run's random start matrix itself (no
    dynamics: the CLVs a backward iteration of zero length would give), its median over the
    runs that end high and over the rest, per setting and pair: what the random-start angles
    show where the dynamics does not move the vectors."""
    ok = usable_runs(runs)
    P = col.n_exponents(runs.columns)
    index = {pair: k for k, pair in enumerate(col.pairs(P))}
    rows = []
    for (act, init), sub in ok.groupby([col.ACTIVATION, col.INIT], sort=False):
        cos = np.abs(clv_cosines(clv_random_start(sub[col.SEED].to_numpy(), P)))
        high = sub[col.FINAL_LOSS].to_numpy(dtype=np.float64) > high_loss
        for pair in pairs:
            v = cos[:, index[pair]]
            rows.append({col.ACTIVATION: act, col.INIT: init, "pair": pair,
                         "median_rest": float(np.median(v[~high])) if (~high).any() else np.nan,
                         "median_high": float(np.median(v[high])) if high.any() else np.nan})
    return pd.DataFrame(rows, columns=[col.ACTIVATION, col.INIT, "pair", "median_rest", "median_high"])
