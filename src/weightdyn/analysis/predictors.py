"""The predictors at a checkpoint t (paper Sec. VI): names, groups, columns, classifiers.

Each FTLE in the local and the cumulative form (``ftle_local_q``, ``ftle_cum_q``), each
|cos theta_ij| of the past-only CLV estimate (known at t) from each start of the backward
iteration (``cos_identity_i_j``, ``cos_random_i_j``), their mean (``mean_cos_identity``,
``mean_cos_random``) and the loss C(t) (``loss``): one naive-Bayes classifier each; and
all FTLEs of one form together in an RBF SVM (``svm_ftle_local``, ``svm_ftle_cum``). The
form of an angle predictor is its start.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sklearn.base import BaseEstimator

from ..engine import columns as col
from .classifiers import naive_bayes, rbf_svm
from .config import FTLE_FORMS, PredictConfig

ESTIMATE = "past"  # the CLV estimate whose angles are known at t
LOSS = "loss"


def ftle_name(form: str, q: int) -> str:
    """The predictor name of the q-th FTLE of `form`, e.g. ftle_local_3."""
    return f"{FTLE_FORMS[form]}_{q}"


def cos_name(start: str, i: int, j: int) -> str:
    """The predictor name of |cos theta_ij| of the past-only CLVs from `start`, e.g.
    cos_identity_1_2."""
    return f"cos_{start}_{i}_{j}"


def mean_cos_name(start: str) -> str:
    """The predictor name of the mean |cos theta_ij| over all pairs from `start`."""
    return f"mean_cos_{start}"


def svm_name(form: str) -> str:
    """The predictor name of the SVM on all FTLEs of `form`, e.g. svm_ftle_local."""
    return f"svm_{FTLE_FORMS[form]}"


@dataclass(frozen=True)
class PredictorName:
    """What a predictor name says: its group, its form and the exponent (q,) or the CLV
    pair (i, j) it belongs to (empty for the mean |cos|, the loss and the SVM)."""

    group: str
    form: str
    indices: tuple[int, ...]


def parse_name(name: str) -> PredictorName:
    """The inverse of `ftle_name`, `cos_name`, `mean_cos_name`, `svm_name` and LOSS."""
    for form in FTLE_FORMS:
        if name == svm_name(form):
            return PredictorName("svm", form, ())
        stem = ftle_name(form, 0)[:-1]
        if name.startswith(stem) and name[len(stem):].isdigit():
            return PredictorName("ftle", form, (int(name[len(stem):]),))
    for start in col.CLV_STARTS:
        stem = cos_name(start, 0, 0)[: -len("0_0")]
        i, _, j = name[len(stem):].partition("_")
        if name.startswith(stem) and i.isdigit() and j.isdigit():
            return PredictorName("cos", start, (int(i), int(j)))
        if name == mean_cos_name(start):
            return PredictorName("mean_cos", start, ())
    if name == LOSS:
        return PredictorName("loss", "", ())
    raise ValueError(f"not a predictor name: {name!r}")


@dataclass(frozen=True)
class Predictor:
    """One predictor at one checkpoint: its runs-table columns and its classifier.

    group: 'ftle', 'cos', 'mean_cos', 'loss' or 'svm'; form: the FTLE form ('local',
    'cum'), the start ('identity', 'random') for angles, '' for the loss. `estimator` is
    an unfitted prototype.
    """

    name: str
    group: str
    form: str
    columns: tuple[str, ...]
    estimator: BaseEstimator


def predictor_specs(runs: pd.DataFrame, label: str, cfg: PredictConfig) -> list[Predictor]:
    """The predictors at checkpoint label t, in the row order of the AUC table."""
    P = col.n_exponents(runs.columns)
    nb, svm = naive_bayes(cfg), rbf_svm(cfg)
    specs = [Predictor(ftle_name(form, q), "ftle", form, (col.ftle(form, q, label),), nb)
             for form in col.FTLE_FORMS for q in range(1, P + 1)]
    for start in col.CLV_STARTS:
        specs += [Predictor(cos_name(start, i, j), "cos", start, (col.cos(ESTIMATE, start, i, j, label),), nb)
                  for i, j in col.pairs(P)]
        specs.append(Predictor(mean_cos_name(start), "mean_cos", start, (col.mean_cos(ESTIMATE, start, label),), nb))
    specs.append(Predictor(LOSS, "loss", "", (col.loss_at(label),), nb))
    specs += [Predictor(svm_name(form), "svm", form, tuple(col.ftle(form, q, label) for q in range(1, P + 1)), svm)
              for form in col.FTLE_FORMS]
    missing = sorted({c for s in specs for c in s.columns} - set(runs.columns))
    if missing:
        raise ValueError(f"the runs table lacks predictor columns for t = {label}: {missing[:5]}...")
    return specs
