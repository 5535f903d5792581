"""Early prediction of the final training loss from stability indicators (paper, Sec. VI).

The question of the paper's Sec. VI: does a stability indicator measured early in
training (at a checkpoint t) tell whether a run will end with a low final loss
(c_f < low_loss) or a high one (c_f > high_loss)? The procedure:

1. **Runs.** The runs of one (activation, init) setting (the paper: He init).
2. **Split.** A deterministic 50/50 split, stratified by outcome (`split.split_runs`).
3. **Events.** low: not diverged and c_f < low_loss; high: diverged, or c_f > high_loss
   (predicted for the activations in `high_activations` only, as in the paper: ReLU).
   A diverged run has no final loss; training failed, so it counts as a high final loss
   (and never as a low one).
4. **Predictors** at every checkpoint t (`predictors.predictor_specs`). Runs whose
   predictor is not finite at t (diverged before t) are left out of that predictor's
   evaluation and counted (``n_excluded``): by t their failure is already known.
5. **Classifiers** (`classifiers`): naive Bayes on binned predictors, scored by
   P(event | bin); an RBF SVM on standardized FTLEs, scored by its decision function.
   Each is cloned from its prototype and fitted on the training half.
6. **Scores.** `sklearn.metrics.roc_curve` and `roc_auc_score` on the test half; a
   confidence interval by a seeded, stratified percentile bootstrap of the test half
   (positives and negatives resampled separately, `n_boot` resamples,
   `roc_auc_score` on each). The AUC on the training half (in-sample) is kept too; it
   selects the "best" predictor of a group without looking at the test half.
7. **Too few events.** If either half holds fewer than `min_events` positives or
   negatives of an event (after excluding non-finite predictors), the row carries the
   counts, ``status`` says what is missing, and auc is NaN.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sklearn
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import roc_auc_score, roc_curve

from ..engine.config import checkpoint_labels
from .classifiers import positive_score
from .config import PredictConfig
from .events import event_labels
from .predictors import Predictor, predictor_specs
from .split import setting_halves, split_runs

AUC_COLUMNS = [
    "event", "activation", "init", "predictor", "group", "form", "t", "t_label", "interval",
    "auc", "ci_low", "ci_high", "auc_train", "n_train", "n_test", "positives", "positives_train",
    "n_excluded", "status",
]
ROC_COLUMNS = ["event", "activation", "init", "predictor", "t", "t_label", "fpr", "tpr", "threshold"]


def bootstrap_auc_ci(y, score, n_boot: int, level: float, seed: int) -> tuple[float, float]:
    """Percentile interval of `roc_auc_score` over stratified bootstrap resamples.

    Positives and negatives are resampled separately (with replacement), so every
    resample keeps the class counts. (NaN, NaN) if n_boot is 0 or a class is missing.
    """
    y = np.asarray(y, dtype=bool)
    score = np.asarray(score, dtype=np.float64)
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    if n_boot == 0 or len(pos) == 0 or len(neg) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    labels = np.r_[np.ones(len(pos), dtype=np.int64), np.zeros(len(neg), dtype=np.int64)]
    aucs = np.empty(n_boot)
    for b in range(n_boot):
        idx = np.r_[rng.choice(pos, len(pos)), rng.choice(neg, len(neg))]
        aucs[b] = roc_auc_score(labels, score[idx])
    q = (1.0 - level) / 2.0
    lo, hi = np.quantile(aucs, [q, 1.0 - q])
    return float(lo), float(hi)


@dataclass
class Evaluation:
    """One predictor at one checkpoint for one event: the AUC row and the ROC curve."""

    row: dict
    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray
    score_test: np.ndarray | None = None
    score_train: np.ndarray | None = None
    test_index: np.ndarray | None = None  # positions (in the setting's test half) of scored runs
    train_index: np.ndarray | None = None


def _as_columns(X) -> np.ndarray:
    """A predictor matrix (runs, features); a 1-d array is one feature."""
    X = np.asarray(X, dtype=np.float64)
    return X[:, None] if X.ndim == 1 else X


def _shortage(y_train: np.ndarray, y_test: np.ndarray, min_events: int) -> str:
    counts = {
        "positives in the training half": int(y_train.sum()),
        "negatives in the training half": int((~y_train).sum()),
        "positives in the test half": int(y_test.sum()),
        "negatives in the test half": int((~y_test).sum()),
    }
    short = [f"{v} {k}" for k, v in counts.items() if v < min_events]
    return f"too few events: {', '.join(short)} (need {min_events})" if short else "ok"


def evaluate_predictor(estimator: BaseEstimator, X_train, y_train, X_test, y_test, cfg: PredictConfig,
                       boot_seed: int = 0, keep_scores: bool = False) -> Evaluation:
    """Clone `estimator`, fit it on the training half, score both halves: AUC, bootstrap
    CI, ROC curve (and the scores with `keep_scores`). The prototype stays unfitted.

    Runs with a non-finite predictor are left out (counted in n_excluded). If either half
    holds fewer than cfg.min_events positives or negatives, auc is NaN and status says so.
    """
    X_train, X_test = _as_columns(X_train), _as_columns(X_test)
    y_train, y_test = np.asarray(y_train, dtype=bool), np.asarray(y_test, dtype=bool)
    if len(X_train) != len(y_train) or len(X_test) != len(y_test):
        raise ValueError("predictor rows and event labels differ in number")
    ok_train = np.all(np.isfinite(X_train), axis=1)
    ok_test = np.all(np.isfinite(X_test), axis=1)
    ytr, yte = y_train[ok_train], y_test[ok_test]
    row = dict(auc=np.nan, ci_low=np.nan, ci_high=np.nan, auc_train=np.nan,
               n_train=int(ok_train.sum()), n_test=int(ok_test.sum()), positives=int(yte.sum()),
               positives_train=int(ytr.sum()), n_excluded=int((~ok_train).sum() + (~ok_test).sum()))
    status = _shortage(ytr, yte, cfg.min_events)
    empty = np.empty(0)
    if status != "ok":
        return Evaluation(dict(row, status=status), empty, empty, empty)
    # inputs are checked above (finite, both classes present): skip scikit-learn's
    # repeated validation, which dominates the cost of these small fits
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        model = clone(estimator).fit(X_train[ok_train], ytr)
        s_test, s_train = positive_score(model, X_test[ok_test]), positive_score(model, X_train[ok_train])
        fpr, tpr, thr = roc_curve(yte, s_test)
        lo, hi = bootstrap_auc_ci(yte, s_test, cfg.n_boot, cfg.ci_level, boot_seed)
        row.update(auc=float(roc_auc_score(yte, s_test)), ci_low=lo, ci_high=hi,
                   auc_train=float(roc_auc_score(ytr, s_train)))
    ev = Evaluation(dict(row, status="ok"), fpr, tpr, thr)
    if keep_scores:
        ev.score_test, ev.score_train = s_test, s_train
        ev.test_index, ev.train_index = np.flatnonzero(ok_test), np.flatnonzero(ok_train)
    return ev


def boot_seed(base: int, *keys) -> int:
    """A bootstrap seed per row, stable across runs and independent of row order."""
    text = "|".join(map(str, (base, *keys)))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def _evaluate_checkpoint(train: pd.DataFrame, test: pd.DataFrame, y_train, y_test, key: dict,
                         specs: list[Predictor], cfg: PredictConfig):
    """All predictors of one (setting, event, checkpoint): AUC rows and ROC frames."""
    rows, rocs = [], []
    for spec in specs:
        columns = list(spec.columns)
        ev = evaluate_predictor(
            spec.estimator, train[columns].to_numpy(dtype=np.float64), y_train,
            test[columns].to_numpy(dtype=np.float64), y_test, cfg,
            boot_seed=boot_seed(cfg.boot_seed, key["event"], key["activation"], key["init"], spec.name, key["t_label"]),
        )
        full = dict(key, predictor=spec.name, group=spec.group, form=spec.form)
        rows.append({**full, **ev.row})
        if len(ev.fpr):
            rocs.append(pd.DataFrame({**{k: full[k] for k in ROC_COLUMNS[:6]},
                                      "fpr": ev.fpr, "tpr": ev.tpr, "threshold": ev.thresholds}))
    return rows, rocs


def predict_all(runs: pd.DataFrame, checkpoints: Sequence[int], dt: float, cfg: PredictConfig,
                split: pd.DataFrame | None = None, n_jobs: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every predictor at every checkpoint for every event and setting in cfg.inits.

    Returns (auc, roc): auc has one row per (event, activation, init, predictor, t)
    with the columns AUC_COLUMNS; roc the ROC points (fpr, tpr, threshold) of every row
    with status 'ok'. `n_jobs` processes share the work (joblib); the result does not
    depend on it (every row has its own bootstrap seed).
    """
    from joblib import Parallel, delayed

    split = split_runs(runs, cfg) if split is None else split
    labels = checkpoint_labels(checkpoints, dt)
    tasks = []
    settings = sorted({(a, i) for a, i in zip(runs["activation"], runs["init"]) if i in cfg.inits})
    for activation, init in settings:
        train, test = setting_halves(runs, split, activation, init)
        for event in cfg.events_for(activation):
            y_train = event_labels(train, event, cfg.low_loss, cfg.high_loss)
            y_test = event_labels(test, event, cfg.low_loss, cfg.high_loss)
            for interval, label in zip(checkpoints, labels):
                specs = predictor_specs(runs, label, cfg)
                cols = sorted({c for s in specs for c in s.columns})
                key = dict(event=event, activation=activation, init=init, t=float(label), t_label=label,
                           interval=int(interval))
                tasks.append((train[cols], test[cols], y_train, y_test, key, specs))
    results = Parallel(n_jobs=n_jobs)(delayed(_evaluate_checkpoint)(*task, cfg) for task in tasks)
    rows = [r for part, _ in results for r in part]
    rocs = [r for _, part in results for r in part]
    auc = pd.DataFrame(rows, columns=AUC_COLUMNS)
    for c in ("n_train", "n_test", "positives", "positives_train", "n_excluded", "interval"):
        auc[c] = auc[c].astype(np.int64)
    roc = pd.concat(rocs, ignore_index=True) if rocs else pd.DataFrame(columns=ROC_COLUMNS)
    roc = roc.astype({"fpr": np.float64, "tpr": np.float64, "threshold": np.float64, "t": np.float64})
    return auc, roc
