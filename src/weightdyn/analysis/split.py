"""The training/test split of every setting (paper Sec. VI; step 2 of `evaluate`).

Per (activation, init) the runs are ordered by seed and split by scikit-learn's
`train_test_split` with a fixed `random_state` (`split_seed`), stratified by the outcome
class (low / intermediate / high final loss, diverged runs counting as high), so that
both halves hold positives of both events. Strata with a single member are merged into
the largest one; when even that is impossible (very few runs) the split is not
stratified. The split depends only on the seeds, their outcome classes and
`split_seed`, so reruns give the same halves.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from ..engine import columns as col
from .config import PredictConfig
from .events import outcome_class

SPLIT_COLUMNS = ["seed", "activation", "init", "outcome", col.DIVERGED, "half"]
OUTCOMES = np.array(["low", "intermediate", "high"])  # the classes 0, 1, 2 of `outcome_class`


def _split_one(seeds: np.ndarray, strata: np.ndarray, test_size: float, seed: int) -> np.ndarray:
    """Test-half mask for one setting (seeds sorted ascending)."""
    n = len(seeds)
    if n < 2:
        return np.zeros(n, dtype=bool)
    strata = strata.copy()
    values, counts = np.unique(strata, return_counts=True)
    if len(values) > 1:
        largest = values[np.argmax(counts)]
        strata[np.isin(strata, values[counts < 2])] = largest
    idx = np.arange(n)
    try:
        stratify = strata if len(np.unique(strata)) > 1 else None
        _, test = train_test_split(idx, test_size=test_size, random_state=seed, shuffle=True, stratify=stratify)
    except ValueError:  # too few runs per stratum for a stratified split of this size
        _, test = train_test_split(idx, test_size=test_size, random_state=seed, shuffle=True)
    mask = np.zeros(n, dtype=bool)
    mask[test] = True
    return mask


def split_runs(runs: pd.DataFrame, cfg: PredictConfig) -> pd.DataFrame:
    """The split of every setting: seed, activation, init, outcome, diverged, half."""
    parts = []
    for (activation, init), group in runs.groupby(["activation", "init"], sort=True):
        group = group.sort_values("seed", kind="stable")
        strata = outcome_class(group, cfg.low_loss, cfg.high_loss)
        test = _split_one(group["seed"].to_numpy(), strata, cfg.test_size, cfg.split_seed)
        parts.append(pd.DataFrame({
            "seed": group["seed"].to_numpy(dtype=np.int64),
            "activation": activation,
            "init": init,
            "outcome": OUTCOMES[strata],
            col.DIVERGED: group[col.DIVERGED].to_numpy(dtype=bool),
            "half": np.where(test, "test", "train"),
        }))
    if not parts:
        return pd.DataFrame(columns=SPLIT_COLUMNS)
    return pd.concat(parts, ignore_index=True)


def setting_halves(runs: pd.DataFrame, split: pd.DataFrame, activation: str, init: str
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training rows, test rows) of one setting's runs, each ordered by seed."""
    sub = col.setting_rows(runs, activation, init)
    halves = col.setting_rows(split, activation, init).set_index(col.SEED)["half"]
    half = sub[col.SEED].map(halves)
    if half.isna().any():
        raise ValueError(f"the split lacks runs of {col.setting_name(activation, init)}")
    train = sub[half.to_numpy() == "train"].sort_values(col.SEED, kind="stable")
    test = sub[half.to_numpy() == "test"].sort_values(col.SEED, kind="stable")
    return train, test
