"""A synthetic CLV window table (the columns of `engine.ensemble.window_table`) for runs
of a synthetic runs table: the report and the claims read it beside the runs."""
from __future__ import annotations

import numpy as np
import pandas as pd

from weightdyn.engine import columns as col


def synthetic_windows(runs: pd.DataFrame, grid=(10, 100, 1000), tau: float = 6e-4, seed: int = 0) -> pd.DataFrame:
    """One row per run and window: uniform |cos|, start distances that shrink with the
    window for vectors 2..P/2 (a gap of 1) and stay O(1) for the rest (a gap of 0)."""
    rng = np.random.default_rng(seed)
    P = col.n_exponents(runs.columns)
    pairs = col.pairs(P)
    n = len(runs)
    frames = []
    for W in grid:
        cols = {c: runs[c].to_numpy() for c in col.ID_COLUMNS}
        cols[col.WINDOW] = np.full(n, W, dtype=np.int64)
        cols[col.WINDOW_TIME] = np.full(n, W * tau)
        for start in col.CLV_STARTS:
            for i, j in pairs:
                cols[col.window_cos(start, i, j)] = rng.uniform(0, 1, n)
        ftle = np.zeros((n, P))
        ftle[:, : P // 2] = -np.arange(P // 2)  # gaps of 1 between the leading half, then 0
        for q in range(1, P + 1):
            converging = 2 <= q <= P // 2
            dist = np.exp(-W * tau) * rng.uniform(0.5, 1, n) if converging else rng.uniform(0.3, 1, n)
            cols[col.start_distance(q)] = np.zeros(n) if q == 1 else dist
            cols[col.window_ftle(q)] = ftle[:, q - 1]
        frames.append(pd.DataFrame(cols))
    return pd.concat(frames, ignore_index=True)
