"""Angles between CLVs at the end of training: the paper's three groups of pairs (Fig. 8)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine import columns as col
from .events import usable_runs


def cos_groups(runs: pd.DataFrame, tangent: float, orthogonal: float, quantile: float) -> dict:
    """The paper's three colour groups of CLV pairs from |cos theta_ij| at the end of training.

    'tangent' (red): the pair can become tangent, its `quantile` quantile of |cos| over
    the usable runs reaches `tangent`; 'orthogonal' (black): otherwise, if its median
    |cos| is at most `orthogonal`; 'intermediate' (blue): the rest. Returns {(i, j): group}.
    """
    ok = usable_runs(runs)
    out = {}
    for i, j in col.pairs(col.n_exponents(runs.columns)):
        v = ok[col.cos_end(i, j)].to_numpy(dtype=np.float64)
        v = v[np.isfinite(v)]
        if not len(v):
            out[(i, j)] = "intermediate"
        elif np.quantile(v, quantile) >= tangent:
            out[(i, j)] = "tangent"
        elif np.median(v) <= orthogonal:
            out[(i, j)] = "orthogonal"
        else:
            out[(i, j)] = "intermediate"
    return out
