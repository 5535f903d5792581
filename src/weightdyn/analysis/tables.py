"""The runs table in other shapes: long tables per quantity, and a summary per setting.

The tables of a pipeline run (``results/tables``):

- ``runs.parquet``: one row per run, the columns of `weightdyn.engine.simulate_runs`.
- ``losses.parquet``: seed, activation, init, interval, t, loss: C(t) at every checkpoint
  and the final loss (interval = n_intervals).
- ``lyapunov.parquet``: seed, activation, init, index, le.
- ``ftle.parquet``: seed, activation, init, interval, t, index, ftle_local, ftle_cum.
- ``angles.parquet``: seed, activation, init, estimate, start, window, interval, t, i, j,
  abs_cos, with estimate 'past' (past-only CLVs known at `interval`, which estimate the
  CLVs `window` intervals earlier) or 'ginelli' (Ginelli CLVs at `interval`), start
  'identity' or 'random'; the angles at the end of training are the 'past' rows with
  interval = n_intervals (both starts over the end window, and the paper's reading:
  random start, the checkpoint window).
- ``clv_windows.parquet``: the CLV window table, `engine.ensemble.window_table`.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..engine import columns as col
from ..engine.config import checkpoint_labels
from .config import FTLE_FORMS
from .events import usable_runs


# ----------------------------------------------------------------------------------
# Long tables.

def _n_params(runs: pd.DataFrame) -> int:
    P = col.n_exponents(runs.columns)
    if P == 0:
        raise ValueError("the runs table has no le_1 column")
    return P


def _block(runs: pd.DataFrame, keys: dict[str, np.ndarray], values: dict[str, list[str]]) -> pd.DataFrame:
    """Stack runs x K items: `keys` holds K labels per key column, `values` K column names
    of `runs` per value column; rows run-major (all items of run 0, then run 1, ...)."""
    n, K = len(runs), len(next(iter(values.values())))
    out = {name: np.repeat(runs[name].to_numpy(), K) for name in col.ID_COLUMNS}
    for name, labels in keys.items():
        out[name] = np.tile(np.asarray(labels), n)
    for name, cols in values.items():
        out[name] = runs[cols].to_numpy(dtype=np.float64).reshape(-1)
    return pd.DataFrame(out)


def long_tables(runs: pd.DataFrame, checkpoints: Sequence[int], dt: float, n_intervals: int, clv_window: int,
                clv_window_end: int) -> dict[str, pd.DataFrame]:
    """The runs table in long format: {'losses', 'lyapunov', 'ftle', 'angles'} (see module doc)."""
    P = _n_params(runs)
    ck = [int(c) for c in checkpoints]
    labels = checkpoint_labels(ck, dt)
    t_of = {c: c * float(dt) for c in ck + [int(n_intervals)]}
    pairs = col.pairs(P)
    missing = [col.loss_at(lab) for lab in labels if col.loss_at(lab) not in runs.columns]
    if missing:
        raise ValueError(f"the runs table lacks the checkpoint columns {missing}")

    losses = _block(
        runs,
        {"interval": np.array(ck + [int(n_intervals)], dtype=np.int64)},
        {"loss": [col.loss_at(lab) for lab in labels] + [col.FINAL_LOSS]},
    )
    lyap = _block(runs, {"index": np.arange(1, P + 1, dtype=np.int64)}, {"le": [col.le(q) for q in range(1, P + 1)]})
    ftle = _block(
        runs,
        {"interval": np.repeat(np.array(ck, dtype=np.int64), P),
         "index": np.tile(np.arange(1, P + 1, dtype=np.int64), len(ck))},
        {
            FTLE_FORMS[form]: [col.ftle(form, q, lab) for lab in labels for q in range(1, P + 1)]
            for form in col.FTLE_FORMS
        },
    )
    angle_parts = []  # ((estimate, start, window, interval), columns)
    for estimate in col.CLV_ESTIMATES:
        for start in col.CLV_STARTS:
            for c, lab in zip(ck, labels):
                angle_parts.append(((estimate, start, clv_window, c),
                                    [col.cos(estimate, start, i, j, lab) for i, j in pairs]))
    end = {start: (start, clv_window_end) for start in col.CLV_STARTS}
    end[col.PAPER_READING] = ("random", clv_window)
    for reading, (start, window) in end.items():
        angle_parts.append((("past", start, window, int(n_intervals)), [col.cos_end(reading, i, j) for i, j in pairs]))
    n_pairs = len(pairs)
    angles = _block(
        runs,
        {
            "estimate": np.repeat([key[0] for key, _ in angle_parts], n_pairs),
            "start": np.repeat([key[1] for key, _ in angle_parts], n_pairs),
            "window": np.repeat(np.array([key[2] for key, _ in angle_parts], dtype=np.int64), n_pairs),
            "interval": np.repeat(np.array([key[3] for key, _ in angle_parts], dtype=np.int64), n_pairs),
            "i": np.tile(np.array([i for i, _ in pairs], dtype=np.int64), len(angle_parts)),
            "j": np.tile(np.array([j for _, j in pairs], dtype=np.int64), len(angle_parts)),
        },
        {"abs_cos": [name for _, names in angle_parts for name in names]},
    )
    for table in (losses, ftle, angles):
        table.insert(table.columns.get_loc("interval") + 1, "t", table["interval"].map(t_of).astype(np.float64))
    return {"losses": losses, "lyapunov": lyap, "ftle": ftle, "angles": angles}


# ----------------------------------------------------------------------------------
# Per-setting summary.

def setting_summary(runs: pd.DataFrame, low_loss: float, high_loss: float, le_tolerance: float) -> pd.DataFrame:
    """Summary statistics of one setting's runs as a (quantity, value) table.

    Shares are fractions of the usable runs (`events.usable`: not diverged, finite final
    loss). 'positive' exponents are counted raw (> 0) and with a tolerance
    (> le_tolerance), since the exponents of dead units are zero up to rounding.
    """
    ok = usable_runs(runs)
    n_ok = len(ok)
    P = _n_params(runs)
    final = ok[col.FINAL_LOSS].to_numpy(dtype=np.float64)
    le = ok[[col.le(q) for q in range(1, P + 1)]].to_numpy(dtype=np.float64)
    lead = le[:, : min(3, P)]

    def share(mask) -> float:
        return float(np.count_nonzero(mask)) / n_ok if n_ok else float("nan")

    def quantile(q) -> float:
        return float(np.quantile(final, q)) if n_ok else float("nan")

    rows: list[tuple[str, object]] = [
        ("runs", int(len(runs))),
        ("diverged", int(runs[col.DIVERGED].astype(bool).sum())),
        ("final_loss_min", quantile(0.0)),
        ("final_loss_q05", quantile(0.05)),
        ("final_loss_q25", quantile(0.25)),
        ("final_loss_median", quantile(0.5)),
        ("final_loss_q75", quantile(0.75)),
        ("final_loss_q95", quantile(0.95)),
        ("final_loss_max", quantile(1.0)),
        ("low_loss_threshold", float(low_loss)),
        ("low_loss_share", share(final < low_loss)),
        ("high_loss_threshold", float(high_loss)),
        ("high_loss_share", share(final > high_loss)),
        ("le_tolerance", float(le_tolerance)),
        ("le1_positive_share", share(le[:, 0] > 0)),
        ("le1_positive_share_tol", share(le[:, 0] > le_tolerance)),
        ("three_leading_positive_share", share(np.all(lead > 0, axis=1))),
        ("three_leading_positive_share_tol", share(np.all(lead > le_tolerance, axis=1))),
    ]
    rows += [(f"{col.le(q)}_mean", float(le[:, q - 1].mean()) if n_ok else float("nan")) for q in range(1, P + 1)]
    for reading in col.END_READINGS:
        if col.mean_cos_end(reading) in ok.columns:
            m = ok[col.mean_cos_end(reading)].to_numpy(dtype=np.float64)
            rows += [(f"{col.mean_cos_end(reading)}_mean", float(m.mean()) if n_ok else float("nan")),
                     (f"{col.mean_cos_end(reading)}_median", float(np.median(m)) if n_ok else float("nan"))]
    return pd.DataFrame({"quantity": [q for q, _ in rows], "value": pd.Series([v for _, v in rows], dtype=object)})


def window_rows_in_order(windows: pd.DataFrame) -> pd.DataFrame:
    """The CLV window table in an order that does not depend on the shard size: settings in
    their order of appearance, then window, then seed."""
    setting = windows.groupby([col.ACTIVATION, col.INIT], sort=False).ngroup()
    order = np.lexsort((windows[col.SEED].to_numpy(), windows[col.WINDOW].to_numpy(), setting.to_numpy()))
    return windows.iloc[order].reset_index(drop=True)
