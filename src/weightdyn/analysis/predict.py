"""Early prediction of the final training loss from stability indicators (paper, Sec. VI).

The question of the paper's Sec. VI: does a stability indicator measured early in
training (at a checkpoint t) tell whether a run will end with a low final loss
(c_f < low_loss) or a high one (c_f > high_loss)? The procedure:

1. **Runs.** The runs of one (activation, init) setting (the paper: He init).
2. **Split.** A deterministic, stratified 50/50 split into a training and a test half
   (`split_runs`): the runs are ordered by seed and split by scikit-learn's
   `train_test_split` with a fixed `random_state` (`split_seed`), stratified by the
   outcome class (low / intermediate / high final loss, diverged runs counting as high),
   so that both halves hold positives of both events. Strata with a single member are
   merged into the largest one; when even that is impossible (very few runs) the split
   is not stratified. The split depends only on the seeds, their outcome classes and
   `split_seed`, so reruns give the same halves.
3. **Events.** low: not diverged and c_f < low_loss; high: diverged, or c_f > high_loss
   (predicted for the activations in `high_activations` only, as in the paper: ReLU).
   A diverged run has no final loss; training failed, so it counts as a high final loss
   (and never as a low one).
4. **Predictors** at every checkpoint t (a column of the runs table with suffix _t{t}):
   each FTLE in the local (``ftle_local_q``) and cumulative (``ftle_cum_q``) form, each
   |cos theta_ij| of the past-only CLV estimate (``cos_past_i_j``), their mean
   (``mean_cos_past``), and the loss C(t) (``loss``): one naive-Bayes classifier each;
   and all FTLEs of one form together in an SVM with RBF kernel (``svm_ftle_local``,
   ``svm_ftle_cum``). Runs whose predictor is not finite at t (diverged before t) are
   left out of that predictor's evaluation and counted (``n_excluded``): by t their
   failure is already known.
5. **Naive Bayes.** Each predictor is binned into `n_bins` bins by
   `sklearn.preprocessing.KBinsDiscretizer` fitted on the training half (quantile bins
   by default; test values beyond the edges fall into the outer bins; ties that would
   merge quantile bins get bins of their own, see `bin_predictor`), then
   `sklearn.naive_bayes.CategoricalNB` (Laplace smoothing `alpha`) is fitted on the
   binned training half. For one predictor its probability P(event | bin) is the
   smoothed event rate of the bin, which is the estimate of the paper; several binned
   predictors would combine as a product of per-feature likelihoods (naive Bayes). The
   test runs are scored by P(event | bin).
6. **SVM.** `sklearn.svm.SVC(kernel="rbf")` on standardized features, class weights
   balanced by default (the events are rare); the test runs are scored by the decision
   function.
7. **Scores.** `sklearn.metrics.roc_curve` and `roc_auc_score` on the test half; a
   confidence interval by a seeded, stratified percentile bootstrap of the test half
   (positives and negatives resampled separately, `n_boot` resamples,
   `roc_auc_score` on each). The AUC on the training half (in-sample) is kept too; it
   selects the "best" predictor of a group without looking at the test half.
8. **Too few events.** If either half holds fewer than `min_events` positives or
   negatives of an event (after excluding non-finite predictors), the row carries the
   counts, ``status`` says what is missing, and auc is NaN.

Table I of the paper (`table1`) shows, per checkpoint, the best single |cos theta_ij|,
the best single FTLE, the SVM on the FTLEs and C(t) for the high event of ReLU + He. The
FTLE form used there is `ftle_form` (both forms are in the AUC table).

The restart policy (`restart_policy`) is the use the paper proposes for the high-loss
predictor: stop a run that is predicted to end with c_f > high_loss at checkpoint t and
start a fresh one; it reports the expected compute per good network with and without
the policy on the test half.
"""
from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, replace
from collections.abc import Sequence

import numpy as np
import pandas as pd
import sklearn
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import CategoricalNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import KBinsDiscretizer, StandardScaler
from sklearn.svm import SVC

from ..engine.config import checkpoint_labels
from .config import FTLE_FORMS, PredictConfig
from .events import EVENTS, event_labels, outcome_class


AUC_COLUMNS = [
    "event", "activation", "init", "predictor", "group", "form", "t", "t_label", "interval",
    "auc", "ci_low", "ci_high", "auc_train", "n_train", "n_test", "positives", "positives_train",
    "n_excluded", "status",
]


# ----------------------------------------------------------------------------------
# Events and split.

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
    """The training/test split of every setting: seed, activation, init, outcome, half.

    Per (activation, init), runs ordered by seed, `train_test_split(test_size,
    random_state=split_seed, stratify=outcome class)` (see the module docstring).
    """
    parts = []
    for (activation, init), group in runs.groupby(["activation", "init"], sort=True):
        group = group.sort_values("seed", kind="stable")
        strata = outcome_class(group, cfg.low_loss, cfg.high_loss)
        test = _split_one(group["seed"].to_numpy(), strata, cfg.test_size, cfg.split_seed)
        parts.append(pd.DataFrame({
            "seed": group["seed"].to_numpy(dtype=np.int64),
            "activation": activation,
            "init": init,
            "outcome": np.array(["low", "intermediate", "high"])[strata],
            "diverged": group["diverged"].to_numpy(dtype=bool),
            "half": np.where(test, "test", "train"),
        }))
    if not parts:
        return pd.DataFrame(columns=["seed", "activation", "init", "outcome", "diverged", "half"])
    return pd.concat(parts, ignore_index=True)


# ----------------------------------------------------------------------------------
# Predictors.

def time_labels(checkpoints: Sequence[int], dt: float) -> list[str]:
    """Checkpoint labels t = intervals x dt as in the runs-table columns."""
    return checkpoint_labels(checkpoints, dt)


def n_exponents(runs: pd.DataFrame) -> int:
    P = 0
    while f"le_{P + 1}" in runs.columns:
        P += 1
    return P


def predictor_specs(runs: pd.DataFrame, label: str) -> list[dict]:
    """The predictors at checkpoint `label`: name, group, form, classifier, columns.

    Groups: 'ftle' (form local or cum), 'cos' (form past), 'mean_cos', 'loss', 'svm'.
    """
    P = n_exponents(runs)
    t = f"_t{label}"
    specs = []
    for form, prefix in FTLE_FORMS.items():
        for q in range(1, P + 1):
            specs.append(dict(predictor=f"{prefix}_{q}", group="ftle", form=form, method="nb", columns=[f"{prefix}_{q}{t}"]))
    for i in range(1, P + 1):
        for j in range(i + 1, P + 1):
            specs.append(dict(predictor=f"cos_past_{i}_{j}", group="cos", form="past", method="nb",
                              columns=[f"cos_past_{i}_{j}{t}"]))
    specs.append(dict(predictor="mean_cos_past", group="mean_cos", form="past", method="nb", columns=[f"mean_cos_past{t}"]))
    specs.append(dict(predictor="loss", group="loss", form="", method="nb", columns=[f"loss{t}"]))
    for form, prefix in FTLE_FORMS.items():
        specs.append(dict(predictor=f"svm_{prefix}", group="svm", form=form, method="svm",
                          columns=[f"{prefix}_{q}{t}" for q in range(1, P + 1)]))
    missing = sorted({c for s in specs for c in s["columns"]} - set(runs.columns))
    if missing:
        raise ValueError(f"the runs table lacks predictor columns for t = {label}: {missing[:5]}...")
    return specs


# ----------------------------------------------------------------------------------
# Classifiers.

def bin_predictor(x_train: np.ndarray, x_test: np.ndarray, n_bins: int = 10,
                  strategy: str = "quantile") -> tuple[np.ndarray, np.ndarray, int]:
    """Bin one predictor with a KBinsDiscretizer fitted on the training half.

    Returns (training bins, test bins, number of bins). Test values beyond the training
    range fall into the outer bins. Ties can make quantile edges coincide (e.g. a
    predictor that is exactly 0 for most runs, as the FTLEs of dead ReLU units are);
    scikit-learn then merges the bins, possibly into one, which would hide a rare event
    that sits at the tied value. When that leaves fewer bins than both `n_bins` and the
    number of distinct training values, the quantile edges are taken over the distinct
    values instead, so that every tie gets a bin of its own.
    """
    x_train = np.asarray(x_train, dtype=np.float64).reshape(-1, 1)
    x_test = np.asarray(x_test, dtype=np.float64).reshape(-1, 1)
    with warnings.catch_warnings():
        # tied values (dead units, constant predictors) merge bins; handled below
        warnings.filterwarnings("ignore", message="Bins whose width are too small")
        warnings.filterwarnings("ignore", message="Feature .* is constant")
        kwargs = {"random_state": 0} if strategy == "kmeans" else {}
        kb = KBinsDiscretizer(n_bins=n_bins, encode="ordinal", strategy=strategy, subsample=None, **kwargs)
        kb.fit(x_train)
        distinct = np.unique(x_train[:, 0])
        if strategy == "quantile" and int(kb.n_bins_[0]) < min(n_bins, len(distinct)):
            kb = KBinsDiscretizer(n_bins=min(n_bins, len(distinct)), encode="ordinal", strategy="quantile",
                                  subsample=None).fit(distinct[:, None])
        return (kb.transform(x_train)[:, 0].astype(np.int64), kb.transform(x_test)[:, 0].astype(np.int64),
                int(kb.n_bins_[0]))


def naive_bayes_scores(X_train, y_train, X_test, n_bins: int = 10, strategy: str = "quantile",
                       alpha: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """P(event | bins) for the test and the training runs from binned predictors.

    Each column of X is binned by `bin_predictor` (fitted on the training half); a
    CategoricalNB fitted on the binned training half gives the probabilities (for one
    column: the smoothed event rate of the run's bin; for several: the naive-Bayes
    product of per-column bin likelihoods). Returns (test, train) scores.
    """
    X_train = np.asarray(X_train, dtype=np.float64).reshape(len(y_train), -1)
    X_test = np.asarray(X_test, dtype=np.float64).reshape(-1, X_train.shape[1])
    binned = [bin_predictor(X_train[:, k], X_test[:, k], n_bins, strategy) for k in range(X_train.shape[1])]
    B_train = np.column_stack([b[0] for b in binned])
    B_test = np.column_stack([b[1] for b in binned])
    nb = CategoricalNB(alpha=alpha, min_categories=np.array([b[2] for b in binned], dtype=np.int64))
    nb.fit(B_train, np.asarray(y_train, dtype=bool))
    pos = list(nb.classes_).index(True)
    return nb.predict_proba(B_test)[:, pos], nb.predict_proba(B_train)[:, pos]


def svm_scores(X_train, y_train, X_test, C: float = 1.0, gamma="scale",
               class_weight="balanced") -> tuple[np.ndarray, np.ndarray]:
    """Decision function of an RBF SVM on standardized features: (test, train) scores."""
    model = make_pipeline(StandardScaler(), SVC(kernel="rbf", C=C, gamma=gamma, class_weight=class_weight))
    model.fit(np.asarray(X_train, dtype=np.float64), np.asarray(y_train, dtype=bool))
    sign = 1.0 if model.classes_[-1] else -1.0
    return (sign * model.decision_function(np.asarray(X_test, dtype=np.float64)),
            sign * model.decision_function(np.asarray(X_train, dtype=np.float64)))


def bootstrap_auc_ci(y, score, n_boot: int = 200, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
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


# ----------------------------------------------------------------------------------
# Evaluation.

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


def evaluate_predictor(X_train, y_train, X_test, y_test, method: str, cfg: PredictConfig, boot_seed: int = 0,
                       keep_scores: bool = False) -> Evaluation:
    """Fit on the training half, score the test half: AUC, bootstrap CI, ROC curve.

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
    if method not in ("nb", "svm"):
        raise ValueError(f"unknown method {method!r}")
    # inputs are checked above (finite, both classes present): skip scikit-learn's
    # repeated validation, which dominates the cost of these small fits
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        if method == "nb":
            s_test, s_train = naive_bayes_scores(X_train[ok_train], ytr, X_test[ok_test], cfg.n_bins,
                                                 cfg.bin_strategy, cfg.alpha)
        else:
            s_test, s_train = svm_scores(X_train[ok_train], ytr, X_test[ok_test], cfg.svm_C, cfg.svm_gamma,
                                         cfg.svm_class_weight)
        fpr, tpr, thr = roc_curve(yte, s_test)
        lo, hi = bootstrap_auc_ci(yte, s_test, cfg.n_boot, cfg.ci_level, boot_seed)
        row.update(auc=float(roc_auc_score(yte, s_test)), ci_low=lo, ci_high=hi,
                   auc_train=float(roc_auc_score(ytr, s_train)))
    ev = Evaluation(dict(row, status="ok"), fpr, tpr, thr)
    if keep_scores:
        ev.score_test, ev.score_train = s_test, s_train
        ev.test_index, ev.train_index = np.flatnonzero(ok_test), np.flatnonzero(ok_train)
    return ev


def _setting_halves(runs: pd.DataFrame, split: pd.DataFrame, activation: str, init: str):
    """(train rows, test rows) of one setting, each ordered by seed."""
    sub = runs[(runs["activation"] == activation) & (runs["init"] == init)]
    halves = split[(split["activation"] == activation) & (split["init"] == init)].set_index("seed")["half"]
    half = sub["seed"].map(halves)
    if half.isna().any():
        raise ValueError(f"the split lacks runs of {activation}_{init}")
    train = sub[half.to_numpy() == "train"].sort_values("seed", kind="stable")
    test = sub[half.to_numpy() == "test"].sort_values("seed", kind="stable")
    return train, test


def _boot_seed(base: int, *keys) -> int:
    """A seed per row, stable across runs and independent of row order."""
    text = "|".join(map(str, (base, *keys)))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def _evaluate_checkpoint(train, test, y_train, y_test, key, specs, cfg):
    """All predictors of one (setting, event, checkpoint): AUC rows and ROC frames."""
    rows, rocs = [], []
    for spec in specs:
        ev = evaluate_predictor(
            train[spec["columns"]].to_numpy(dtype=np.float64), y_train,
            test[spec["columns"]].to_numpy(dtype=np.float64), y_test, spec["method"], cfg,
            boot_seed=_boot_seed(cfg.boot_seed, key["event"], key["activation"], key["init"], spec["predictor"],
                                 key["t_label"]),
        )
        full = dict(key, predictor=spec["predictor"], group=spec["group"], form=spec["form"])
        rows.append({**full, **ev.row})
        if len(ev.fpr):
            rocs.append(pd.DataFrame({**{k: full[k] for k in ROC_COLUMNS[:6]},
                                      "fpr": ev.fpr, "tpr": ev.tpr, "threshold": ev.thresholds}))
    return rows, rocs


ROC_COLUMNS = ["event", "activation", "init", "predictor", "t", "t_label", "fpr", "tpr", "threshold"]


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
    labels = time_labels(checkpoints, dt)
    tasks = []
    settings = sorted({(a, i) for a, i in zip(runs["activation"], runs["init"]) if i in cfg.inits})
    for activation, init in settings:
        train, test = _setting_halves(runs, split, activation, init)
        for event in cfg.events_for(activation):
            y_train = event_labels(train, event, cfg.low_loss, cfg.high_loss)
            y_test = event_labels(test, event, cfg.low_loss, cfg.high_loss)
            for interval, label in zip(checkpoints, labels):
                specs = predictor_specs(runs, label)
                cols = sorted({c for s in specs for c in s["columns"]})
                key = dict(event=event, activation=activation, init=init, t=float(label), t_label=label,
                           interval=int(interval))
                tasks.append((train[cols], test[cols], y_train, y_test, key, specs))
    results = Parallel(n_jobs=n_jobs)(delayed(_evaluate_checkpoint)(*task, cfg) for task in tasks)
    rows = [r for part, _ in results for r in part]
    rocs = [r for _, part in results for r in part]
    auc = pd.DataFrame(rows, columns=AUC_COLUMNS)
    for col in ("n_train", "n_test", "positives", "positives_train", "n_excluded", "interval"):
        auc[col] = auc[col].astype(np.int64)
    roc = pd.concat(rocs, ignore_index=True) if rocs else pd.DataFrame(columns=ROC_COLUMNS)
    roc = roc.astype({"fpr": np.float64, "tpr": np.float64, "threshold": np.float64, "t": np.float64})
    return auc, roc


# ----------------------------------------------------------------------------------
# Best predictors and Table I.

TABLE1_ROWS = {
    "cos": "best cos theta_ij(t)",
    "ftle": "best lambda_i(t)",
    "svm": "SVM on all FTLEs",
    "loss": "C(t)",
}


def best_rows(auc: pd.DataFrame, group: str, form: str | None = None, by: str = "auc_train") -> pd.DataFrame:
    """Per (event, activation, init, t) the row of `group` (and `form`) with the largest
    `by` ('auc_train': chosen on the training half; 'auc': the maximum over the test
    half, optimistic). Groups without any computed AUC keep one row (status says why)."""
    sub = auc[auc["group"] == group]
    if form is not None:
        sub = sub[sub["form"] == form]
    keys = ["event", "activation", "init", "t"]
    out = []
    for _, g in sub.groupby(keys, sort=True):
        valid = g[g["status"] == "ok"]
        if len(valid) and valid[by].notna().any():
            out.append(valid.loc[valid[by].idxmax()])
        else:
            out.append(g.iloc[0])
    return pd.DataFrame(out).reset_index(drop=True) if out else sub.iloc[:0]


def table1(auc: pd.DataFrame, cfg: PredictConfig, event: str = "high", activation: str = "relu",
           init: str = "he") -> pd.DataFrame:
    """Table I: AUC of the best |cos theta_ij|, the best FTLE (form cfg.ftle_form), the SVM
    (same form) and C(t) for one event and setting, per checkpoint.

    One row per predictor group; per checkpoint label L the columns auc_tL, ci_low_tL,
    ci_high_tL, predictor_tL (the member chosen by its training-half AUC), n_test_tL,
    positives_tL, status_tL.
    """
    sub = auc[(auc["event"] == event) & (auc["activation"] == activation) & (auc["init"] == init)]
    labels = list(dict.fromkeys(sub.sort_values("t")["t_label"])) if len(sub) else []
    forms = {"cos": None, "ftle": cfg.ftle_form, "svm": cfg.ftle_form, "loss": None}
    records = []
    for group, name in TABLE1_ROWS.items():
        best = best_rows(sub, group, forms[group])
        rec = {"row": name}
        for label in labels:
            hit = best[best["t_label"] == label]
            r = hit.iloc[0] if len(hit) else None
            rec[f"auc_t{label}"] = float(r["auc"]) if r is not None else np.nan
            rec[f"ci_low_t{label}"] = float(r["ci_low"]) if r is not None else np.nan
            rec[f"ci_high_t{label}"] = float(r["ci_high"]) if r is not None else np.nan
            rec[f"predictor_t{label}"] = r["predictor"] if r is not None and r["status"] == "ok" else ""
            rec[f"n_test_t{label}"] = int(r["n_test"]) if r is not None else 0
            rec[f"positives_t{label}"] = int(r["positives"]) if r is not None else 0
            rec[f"status_t{label}"] = r["status"] if r is not None else "not computed"
        records.append(rec)
    return pd.DataFrame(records)


# ----------------------------------------------------------------------------------
# Restart policy.

RESTART_COLUMNS = [
    "activation", "init", "t", "t_label", "interval", "cost_fraction", "predictor", "threshold",
    "n_train", "n_test", "high_test", "stopped", "stopped_high", "stopped_good", "missed_high",
    "p_good", "compute_without", "compute_with", "saving", "saving_ci_low", "saving_ci_high", "status",
]


def expected_compute(stopped: np.ndarray, good: np.ndarray, cost_fraction: float) -> float:
    """Expected compute per good network, in full training runs, under a restart policy.

    Each attempt costs cost_fraction if stopped at the checkpoint and 1 otherwise; it
    succeeds if it is not stopped and ends good. Attempts are independent draws from the
    runs (renewal argument): E = E[cost of an attempt] / P(success). inf if no success.
    """
    stopped, good = np.asarray(stopped, dtype=bool), np.asarray(good, dtype=bool)
    if len(stopped) == 0:
        return float("nan")
    p_stop = stopped.mean()
    p_success = (~stopped & good).mean()
    cost = cost_fraction * p_stop + (1.0 - p_stop)
    return float(cost / p_success) if p_success > 0 else float("inf")


def choose_threshold(score: np.ndarray, good: np.ndarray, cost_fraction: float) -> float:
    """The stopping threshold (stop if score >= threshold) that minimises the expected
    compute on the given (training) runs; +inf (never stop) is a candidate. Ties go to
    the threshold that stops the fewest runs."""
    candidates = np.r_[np.inf, np.unique(score)[::-1]]
    costs = [expected_compute(score >= c, good, cost_fraction) for c in candidates]
    return float(candidates[int(np.nanargmin(costs))])


def restart_policy(runs: pd.DataFrame, auc: pd.DataFrame, checkpoints: Sequence[int], dt: float, n_intervals: int,
                   cfg: PredictConfig, split: pd.DataFrame | None = None) -> pd.DataFrame:
    """Expected compute per good network (c_f <= high_loss, not diverged) with and without
    stopping runs predicted to end high at each checkpoint, on the test half.

    Predictors: the best single FTLE (form cfg.ftle_form, chosen on the training half),
    the SVM on the FTLEs, C(t), the mean |cos theta| and an oracle that stops exactly
    the high runs (the bound for any predictor). The stopping threshold is chosen on the
    training half; the saving 1 - compute_with / compute_without has a bootstrap
    interval over the test half (the fitted classifier and threshold held fixed).
    """
    split = split_runs(runs, cfg) if split is None else split
    labels = time_labels(checkpoints, dt)
    rows = []
    settings = sorted({(a, i) for a, i in zip(runs["activation"], runs["init"])
                       if i in cfg.inits and a in cfg.high_activations})
    for activation, init in settings:
        train, test = _setting_halves(runs, split, activation, init)
        h_train = event_labels(train, "high", cfg.low_loss, cfg.high_loss)
        h_test = event_labels(test, "high", cfg.low_loss, cfg.high_loss)
        sel = auc[(auc["event"] == "high") & (auc["activation"] == activation) & (auc["init"] == init)]
        best_ftle = best_rows(sel, "ftle", cfg.ftle_form)
        for interval, label in zip(checkpoints, labels):
            frac = float(interval) / float(n_intervals)
            hit = best_ftle[best_ftle["t_label"] == label]
            ftle_name = hit["predictor"].iloc[0] if len(hit) and hit["status"].iloc[0] == "ok" else f"{FTLE_FORMS[cfg.ftle_form]}_1"
            specs = {s["predictor"]: s for s in predictor_specs(runs, label)}
            choice = [ftle_name, f"svm_{FTLE_FORMS[cfg.ftle_form]}", "loss", "mean_cos_past", "oracle"]
            base = dict(activation=activation, init=init, t=float(label), t_label=label, interval=int(interval),
                        cost_fraction=frac, n_train=len(train), n_test=len(test), high_test=int(h_test.sum()))
            for name in choice:
                row = dict(base, predictor=name, threshold=np.nan, stopped=0, stopped_high=0, stopped_good=0,
                           missed_high=int(h_test.sum()), p_good=float((~h_test).mean()) if len(test) else np.nan,
                           compute_without=expected_compute(np.zeros(len(test), bool), ~h_test, frac),
                           compute_with=np.nan, saving=np.nan, saving_ci_low=np.nan, saving_ci_high=np.nan)
                if name == "oracle":
                    stop = h_test.copy()
                    row["status"] = "ok" if len(test) else "no test runs"
                else:
                    spec = specs[name]
                    ev = evaluate_predictor(train[spec["columns"]].to_numpy(dtype=np.float64), h_train,
                                            test[spec["columns"]].to_numpy(dtype=np.float64), h_test,
                                            spec["method"], replace(cfg, n_boot=0), keep_scores=True)
                    row["status"] = ev.row["status"]
                    if ev.row["status"] != "ok":  # no classifier: no policy to count
                        rows.append(dict(row, stopped=None, stopped_high=None, stopped_good=None, missed_high=None))
                        continue
                    # runs excluded for a non-finite predictor had diverged by t: stopped at t
                    s_train = np.full(len(train), np.inf)
                    s_train[ev.train_index] = ev.score_train
                    s_test = np.full(len(test), np.inf)
                    s_test[ev.test_index] = ev.score_test
                    thr = choose_threshold(s_train, ~h_train, frac)
                    stop = s_test >= thr
                    row["threshold"] = thr
                with_ = expected_compute(stop, ~h_test, frac)
                row.update(stopped=int(stop.sum()), stopped_high=int((stop & h_test).sum()),
                           stopped_good=int((stop & ~h_test).sum()), missed_high=int((~stop & h_test).sum()),
                           compute_with=with_, saving=1.0 - with_ / row["compute_without"])
                lo, hi = _bootstrap_saving(stop, ~h_test, frac, cfg.n_boot, cfg.ci_level,
                                           _boot_seed(cfg.boot_seed, "restart", activation, init, name, label))
                row.update(saving_ci_low=lo, saving_ci_high=hi)
                rows.append(row)
    out = pd.DataFrame(rows, columns=RESTART_COLUMNS)
    counts = ["interval", "n_train", "n_test", "high_test", "stopped", "stopped_high", "stopped_good", "missed_high"]
    return out.astype({c: "Int64" for c in counts})


def _bootstrap_saving(stop, good, frac, n_boot, level, seed) -> tuple[float, float]:
    """Percentile interval of the saving over bootstrap resamples of the test half."""
    n = len(stop)
    if n_boot == 0 or n == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    vals = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, n, n)
        without = expected_compute(np.zeros(n, bool), good[idx], frac)
        with_ = expected_compute(stop[idx], good[idx], frac)
        vals[b] = 1.0 - with_ / without if np.isfinite(without) else np.nan
    vals = vals[np.isfinite(vals)]
    if not len(vals):
        return float("nan"), float("nan")
    q = (1.0 - level) / 2.0
    lo, hi = np.quantile(vals, [q, 1.0 - q])
    return float(lo), float(hi)
