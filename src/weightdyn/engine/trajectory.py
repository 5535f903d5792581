"""One run up close: a row per orthogonalization interval."""
from __future__ import annotations

import numpy as np

from .. import lyapunov as ly
from ..model.streams import clv_random_start
from . import columns as col
from .config import EngineConfig
from .ensemble import Ensemble, setting_inputs


def trajectory(cfg: dict, activation: str, init: str, seed: int, clv: bool = False, progress=None):
    """Train one run of a pipeline config and record every interval.

    Row m describes interval m + 1 (steps m k .. (m + 1) k - 1; column `interval` = m + 1,
    so the FTLEs of the runs table's checkpoint c are those of the row with interval == c,
    while its state and loss, recorded at an interval's start, are in the row with
    interval == c + 1): t = m d tau (steps x dt; the runs table labels checkpoints by
    intervals x dt instead, the paper's convention) and step = m k at its start, the state theta_1..theta_P (paper's layout) and the full-data loss at its
    start, the batch cost of its first step, the local FTLEs ftle_1..ftle_P of the
    interval and, with clv, |cos| of every CLV pair (cos_i_j) of the past-only estimate
    known at the interval's end (it estimates the CLVs W intervals earlier; NaN for the
    first W - 1 rows), from the start `lyapunov.clv_start`. A diverged run ends at the
    interval where it diverged.
    """
    import pandas as pd

    c = EngineConfig.from_config(cfg, activation)
    X, y, theta0 = setting_inputs(cfg, c, init, [seed])
    ens = Ensemble(c, theta0, X, y, seeds=[seed])
    loop = ly.LyapunovLoop(ens, c.tau, window=c.clv_window if clv else 0)
    P, W, M = c.shape.P, c.clv_window, c.n_intervals
    start = clv_random_start([seed], P) if cfg["lyapunov"]["clv_start"] == "random" else None
    pairs = col.pairs(P)
    theta = np.full((M, P), np.nan)
    full, batch, ftle = np.full(M, np.nan), np.full(M, np.nan), np.full((M, P), np.nan)
    cos = np.full((M, len(pairs)), np.nan)
    rows = M
    for m in range(M):
        theta[m] = ens.theta[0]
        full[m] = ens.full_loss()[0]
        loop.step()
        if not ens.alive[0]:
            rows = m + 1
            break
        batch[m] = ens.cost0[0]
        ftle[m] = loop.ftle_local[0]
        if clv and loop.m >= W:
            cos[m] = np.abs(loop.window_cosines(start=start)[0])
        if progress is not None:
            progress(ens.step, c.n_steps, 1)
    interval, t, step, batch_loss, full_loss = col.TRAJECTORY_COLUMNS
    cols = {interval: np.arange(1, rows + 1), t: np.arange(rows) * c.tau, step: np.arange(rows) * c.steps_per_interval}
    cols.update({col.theta(p + 1): theta[:rows, p] for p in range(P)})
    cols[batch_loss] = batch[:rows]
    cols[full_loss] = full[:rows]
    cols.update({col.interval_ftle(p + 1): ftle[:rows, p] for p in range(P)})
    if clv:
        cols.update({col.interval_cos(a, b): cos[:rows, i] for i, (a, b) in enumerate(pairs)})
    table = pd.DataFrame(cols)
    table.attrs["param_names"] = c.shape.param_names()
    table.attrs["diverged_step"] = int(ens.diverged_step[0])
    table.attrs["clv_start"] = cfg["lyapunov"]["clv_start"]
    return table
