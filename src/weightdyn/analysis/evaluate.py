"""Early prediction of the final training loss from stability indicators (paper, Sec. VI).

The question of the paper's Sec. VI: does a stability indicator measured early in
training (at a checkpoint t) tell whether a run will end with a low final loss
(c_f < low_loss) or a high one (c_f > high_loss)? The procedure, per setting, event and
checkpoint:

1. **Runs.** The runs of one (activation, init) setting (the paper: He init).
2. **Split.** A deterministic 50/50 split, stratified by outcome (`split.split_runs`).
3. **Events.** low: not diverged and c_f < low_loss; high: diverged, or c_f > high_loss
   (predicted for the activations in `high_activations` only, as in the paper: ReLU).
4. **Predictors** at t (`predictors.predictor_specs`). Runs with a non-finite predictor
   value at t (diverged before t: their failure is already known) are left out of every
   predictor at t and counted (``n_excluded``).
5. **Classifiers** (`classifiers`), fitted on the training half: naive Bayes on one binned
   predictor, scored by the m-estimate of P(event | bin); an RBF SVM on all FTLEs of a
   form, scored by its decision function.
6. **Test AUC** of every predictor on the test half, with DeLong's interval (the fitted
   classifier held fixed: the uncertainty over the test runs only).
7. **Best member** of every group (`selection`): the largest out-of-fold AUC of a
   stratified k-fold cross-validation within the training half (``auc_cv``); the number
   of members tied with it and the range of their test AUCs are reported.
8. **Refit bootstrap.** Each of `n_boot` resamples draws both halves anew (with
   replacement, positives and negatives apart, so the class counts stay) and repeats
   steps 5-7 on them: binning, classifiers and the choice of the best member (the first
   `n_boot_svm` resamples also refit the SVM). The percentile interval of the resampled
   test AUCs (``ci_low``, ``ci_high``) carries what the few positives leave uncertain in
   both halves; the draws of the best members are kept for paired comparisons.
9. **Too few events.** If either half holds fewer than `min_events` positives or
   negatives, the row carries the counts, ``status`` says what is missing, and auc is
   NaN. Verdicts need more (`min_positives` test positives, see `claims`).
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sklearn
from sklearn.base import clone
from sklearn.metrics import roc_curve
from sklearn.pipeline import Pipeline

from ..engine.config import checkpoint_labels
from .classifiers import BinRate, naive_bayes_scores, positive_score
from .config import PredictConfig
from .events import event_labels
from .predictors import Predictor, predictor_specs
from .rocauc import auc_columns, delong_interval, percentile_interval
from .selection import choose, cross_validated_auc, n_folds, out_of_fold_scores, stratified_folds
from .split import setting_halves, split_runs

KEY_COLUMNS = ["event", "activation", "init", "t", "t_label", "interval"]
COUNT_COLUMNS = ["n_train", "n_test", "positives", "positives_train", "n_excluded"]
AUC_COLUMNS = [*KEY_COLUMNS[:3], "predictor", "group", "form", *KEY_COLUMNS[3:],
               "auc", "ci_low", "ci_high", "delong_low", "delong_high", "auc_cv", *COUNT_COLUMNS, "status"]
BEST_COLUMNS = [*KEY_COLUMNS[:3], "group", "form", *KEY_COLUMNS[3:], "predictor",
                "auc", "ci_low", "ci_high", "delong_low", "delong_high", "auc_cv",
                "n_candidates", "n_tied", "tied_auc_min", "tied_auc_max", *COUNT_COLUMNS, "status"]
DRAW_COLUMNS = ["event", "activation", "init", "interval", "group", "form", "b", "auc"]
ROC_COLUMNS = ["event", "activation", "init", "predictor", "t", "t_label", "fpr", "tpr", "threshold"]


def boot_seed(base: int, *keys) -> int:
    """A seed per (setting, event, checkpoint, ...), stable across runs and independent of
    the order of the work."""
    text = "|".join(map(str, (base, *keys)))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def _naive_bayes_params(estimator) -> tuple | None:
    """(n_bins, strategy, m) of a naive-Bayes prototype (`classifiers.naive_bayes`), else None."""
    if isinstance(estimator, Pipeline) and isinstance(estimator[-1], BinRate):
        bins = estimator[0]
        return bins.n_bins, bins.strategy, estimator[-1].m
    return None


class Scorer:
    """Fits the members of one checkpoint and scores runs with them: the naive-Bayes
    members in one vectorised block (`classifiers.naive_bayes_scores`, equal to each
    prototype's fit), every other member cloned from its prototype and fitted alone.

    Called with (X_fit, y_fit, X_eval, members): X matrices hold the columns `columns`;
    returns the scores (runs of X_eval, members) of the members asked for (an index
    array into `specs`, all by default).
    """

    def __init__(self, specs: Sequence[Predictor], columns: Sequence[str]):
        index = {c: k for k, c in enumerate(columns)}
        self.specs = list(specs)
        self.cols = [[index[c] for c in s.columns] for s in specs]
        params = [_naive_bayes_params(s.estimator) for s in specs]
        self.nb = np.array([k for k, p in enumerate(params) if p is not None], dtype=np.int64)
        self.nb_params = {params[k] for k in self.nb}
        if len(self.nb_params) > 1 or any(len(self.cols[k]) != 1 for k in self.nb):
            raise ValueError("the naive-Bayes members of a checkpoint must share their settings and have one column each")

    def __call__(self, X_fit: np.ndarray, y_fit: np.ndarray, X_eval: np.ndarray,
                 members: np.ndarray | None = None) -> np.ndarray:
        members = np.arange(len(self.specs)) if members is None else np.asarray(members)
        out = np.full((len(X_eval), len(members)), np.nan)
        at = {int(k): j for j, k in enumerate(members)}
        nb = [k for k in self.nb if k in at]
        if nb:
            n_bins, strategy, m = next(iter(self.nb_params))
            cols = [self.cols[k][0] for k in nb]
            out[:, [at[k] for k in nb]] = naive_bayes_scores(X_fit[:, cols], y_fit, [X_eval[:, cols]],
                                                             n_bins, strategy, m)[0]
        for k in members:
            if k not in self.nb:
                model = clone(self.specs[k].estimator).fit(X_fit[:, self.cols[k]], y_fit)
                out[:, at[int(k)]] = positive_score(model, X_eval[:, self.cols[k]])
        return out


def groups_of(specs: Sequence[Predictor]) -> dict[tuple[str, str], np.ndarray]:
    """The members (indices into specs) of every (group, form), in the specs' order."""
    out: dict[tuple[str, str], list[int]] = {}
    for k, s in enumerate(specs):
        out.setdefault((s.group, s.form), []).append(k)
    return {g: np.array(v, dtype=np.int64) for g, v in out.items()}


def shortage(y_train: np.ndarray, y_test: np.ndarray, min_events: int) -> str:
    counts = {
        "positives in the training half": int(y_train.sum()),
        "negatives in the training half": int((~y_train).sum()),
        "positives in the test half": int(y_test.sum()),
        "negatives in the test half": int((~y_test).sum()),
    }
    short = [f"{v} {k}" for k, v in counts.items() if v < min_events]
    return f"too few events: {', '.join(short)} (need {min_events})" if short else "ok"


def _delong(y: np.ndarray, s: np.ndarray, level: float) -> tuple[float, float]:
    if min(y.sum(), (~y).sum()) < 2:
        return float("nan"), float("nan")
    return delong_interval(y, s, level)


def _stratified_resample(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices of a resample with replacement that keeps the number of each class."""
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    return np.r_[rng.choice(pos, len(pos)), rng.choice(neg, len(neg))]


def _seed_keys(key: dict) -> tuple:
    """What a checkpoint's seeds are derived from: its event, setting and t."""
    return key["event"], key["activation"], key["init"], key["t_label"]


def checkpoint_folds(y_train: np.ndarray, key: dict, cfg: PredictConfig) -> tuple[np.ndarray, int]:
    """(fold per training run, number of folds) of a checkpoint's cross-validation (step 7),
    seeded by cv_seed and the checkpoint; fewer than 2 folds means none is possible."""
    k = n_folds(y_train, cfg.cv_folds)
    rng = np.random.default_rng(boot_seed(cfg.cv_seed, "folds", *_seed_keys(key)))
    return stratified_folds(y_train, max(k, 1), rng), k


@dataclass
class CheckpointResult:
    """The outcome of `evaluate_checkpoint`: member rows, best rows, ROC frames, draws."""

    members: list[dict]
    best: list[dict]
    rocs: list[pd.DataFrame]
    draws: pd.DataFrame


def evaluate_checkpoint(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
                        specs: Sequence[Predictor], columns: Sequence[str], key: dict,
                        cfg: PredictConfig) -> CheckpointResult:
    """Steps 4-9 of the module docstring for one (setting, event, checkpoint).

    X_train, X_test: the predictor columns `columns` of the two halves; key: the values of
    KEY_COLUMNS (also the seeds' keys).
    """
    X_train, X_test = np.asarray(X_train, dtype=np.float64), np.asarray(X_test, dtype=np.float64)
    y_train, y_test = np.asarray(y_train, dtype=bool), np.asarray(y_test, dtype=bool)
    if len(X_train) != len(y_train) or len(X_test) != len(y_test):
        raise ValueError("predictor rows and event labels differ in number")
    ok_tr, ok_te = np.isfinite(X_train).all(axis=1), np.isfinite(X_test).all(axis=1)
    Xtr, ytr, Xte, yte = X_train[ok_tr], y_train[ok_tr], X_test[ok_te], y_test[ok_te]
    counts = dict(n_train=len(ytr), n_test=len(yte), positives=int(yte.sum()), positives_train=int(ytr.sum()),
                  n_excluded=int((~ok_tr).sum() + (~ok_te).sum()))
    K, groups = len(specs), groups_of(specs)
    status = shortage(ytr, yte, cfg.min_events)
    nan = dict(auc=np.nan, ci_low=np.nan, ci_high=np.nan, delong_low=np.nan, delong_high=np.nan, auc_cv=np.nan)
    member_rows = [dict(key, predictor=s.name, group=s.group, form=s.form, **nan, **counts, status=status)
                   for s in specs]
    if status != "ok":
        best = [dict(key, group=g, form=f, predictor="", **nan, n_candidates=len(m), n_tied=0,
                     tied_auc_min=np.nan, tied_auc_max=np.nan, **counts, status=status) for (g, f), m in groups.items()]
        return CheckpointResult(member_rows, best, [], pd.DataFrame(columns=DRAW_COLUMNS))

    scorer = Scorer(specs, columns)
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        s_test = scorer(Xtr, ytr, Xte)
        auc = auc_columns(yte, s_test)
        fold, k = checkpoint_folds(ytr, key, cfg)
        auc_cv = cross_validated_auc(Xtr, ytr, fold, k, scorer, K)
        draws, best_draws = _refit_bootstrap(Xtr, ytr, Xte, yte, scorer, groups, k, cfg,
                                             np.random.default_rng(boot_seed(cfg.boot_seed, *_seed_keys(key))))
    lo, hi = percentile_interval(draws, cfg.ci_level)
    rocs = []
    for j, row in enumerate(member_rows):
        dl, dh = _delong(yte, s_test[:, j], cfg.ci_level)
        row.update(auc=float(auc[j]), ci_low=float(lo[j]), ci_high=float(hi[j]), delong_low=dl, delong_high=dh,
                   auc_cv=float(auc_cv[j]))
        fpr, tpr, thr = roc_curve(yte, s_test[:, j])
        rocs.append(pd.DataFrame({**{c: row[c] for c in ROC_COLUMNS[:6]}, "fpr": fpr, "tpr": tpr, "threshold": thr}))
    blo, bhi = percentile_interval(best_draws, cfg.ci_level)
    best, draw_frames = [], []
    for g, ((group, form), members) in enumerate(groups.items()):
        chosen, tied = choose(auc_cv[members])
        r = member_rows[members[chosen]]
        tied_auc = auc[members[tied]]
        best.append(dict(key, group=group, form=form, predictor=r["predictor"], auc=r["auc"],
                         ci_low=float(blo[g]), ci_high=float(bhi[g]), delong_low=r["delong_low"],
                         delong_high=r["delong_high"], auc_cv=r["auc_cv"], n_candidates=len(members),
                         n_tied=int(tied.sum()), tied_auc_min=float(tied_auc.min()),
                         tied_auc_max=float(tied_auc.max()), **counts, status="ok"))
        draw_frames.append(pd.DataFrame({**{c: key[c] for c in DRAW_COLUMNS[:4]}, "group": group, "form": form,
                                         "b": np.arange(len(best_draws), dtype=np.int64), "auc": best_draws[:, g]}))
    return CheckpointResult(member_rows, best, rocs, pd.concat(draw_frames, ignore_index=True))


def _refit_bootstrap(Xtr, ytr, Xte, yte, scorer: Scorer, groups: dict, k: int, cfg: PredictConfig,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Step 8: the test AUC of every member (n_boot, members) and of every group's chosen
    member (n_boot, groups) over resamples of both halves with everything refitted. The
    folds of the choice are dealt over the original training runs, so the copies of a run
    stay in one fold. Members not refitted in a resample (the SVM after n_boot_svm) are NaN.
    """
    K = len(scorer.specs)
    draws = np.full((cfg.n_boot, K), np.nan)
    best = np.full((cfg.n_boot, len(groups)), np.nan)
    nb_only = scorer.nb
    choosing = np.concatenate([m for m in groups.values() if len(m) > 1] or [np.zeros(0, np.int64)])
    for b in range(cfg.n_boot):
        itr, ite = _stratified_resample(ytr, rng), _stratified_resample(yte, rng)
        members = np.arange(K) if b < cfg.n_boot_refit_svm else nb_only
        draws[b, members] = auc_columns(yte[ite], scorer(Xtr[itr], ytr[itr], Xte[ite], members))
        fold = stratified_folds(ytr, max(k, 1), rng)[itr]
        cv = np.full(K, np.nan)
        if len(choosing):
            cv[choosing] = cross_validated_auc(Xtr[itr], ytr[itr], fold, k,
                                               lambda a, y, e: scorer(a, y, e, choosing), len(choosing))
        for g, m in enumerate(groups.values()):
            best[b, g] = draws[b, m[choose(cv[m])[0]]]
    return draws, best


def paired_difference(draws: pd.DataFrame, event: str, activation: str, interval: int, first: tuple[str, str],
                      second: tuple[str, str], level: float, init: str = "he") -> tuple[float, float, int]:
    """The percentile interval of AUC(first) - AUC(second) over the resamples of the draws
    table that hold both (each a best row's (group, form)), and their number."""
    sub = draws[(draws["event"] == event) & (draws["activation"] == activation) & (draws["init"] == init)
                & (draws["interval"] == interval)]

    def of(g):
        return sub[(sub["group"] == g[0]) & (sub["form"] == g[1])].set_index("b")["auc"]

    d = (of(first) - of(second)).dropna()
    lo, hi = percentile_interval(d.to_numpy()[:, None], level)
    return float(lo[0]), float(hi[0]), len(d)


def checkpoint_oof_scores(X_train: np.ndarray, y_train: np.ndarray, scorer: Scorer, members: np.ndarray,
                          key: dict, cfg: PredictConfig) -> np.ndarray:
    """Out-of-fold scores of the training runs (the folds of step 7) for some members."""
    fold, k = checkpoint_folds(y_train, key, cfg)
    if k < 2:
        raise ValueError(f"out-of-fold scores need two runs of each class, got {int(y_train.sum())} positives")
    return out_of_fold_scores(X_train, y_train, fold, k, lambda a, y, e: scorer(a, y, e, members))


def checkpoint_tasks(runs: pd.DataFrame, checkpoints: Sequence[int], dt: float, cfg: PredictConfig,
                     split: pd.DataFrame, events: Sequence[str] | None = None, activations=None):
    """(train frame, test frame, y_train, y_test, key, specs, columns) of every (setting in
    cfg.inits, event, checkpoint), in a fixed order."""
    labels = checkpoint_labels(checkpoints, dt)
    settings = sorted({(a, i) for a, i in zip(runs["activation"], runs["init"])
                       if i in cfg.inits and (activations is None or a in activations)})
    for activation, init in settings:
        train, test = setting_halves(runs, split, activation, init)
        for event in cfg.events_for(activation):
            if events is not None and event not in events:
                continue
            y_train = event_labels(train, event, cfg.low_loss, cfg.high_loss)
            y_test = event_labels(test, event, cfg.low_loss, cfg.high_loss)
            for interval, label in zip(checkpoints, labels):
                specs = predictor_specs(runs, label, cfg)
                cols = sorted({c for s in specs for c in s.columns})
                key = dict(event=event, activation=activation, init=init, t=float(label), t_label=label,
                           interval=int(interval))
                yield train[cols], test[cols], y_train, y_test, key, specs, cols


def _run_task(train, test, y_train, y_test, key, specs, cols, cfg) -> CheckpointResult:
    return evaluate_checkpoint(train.to_numpy(dtype=np.float64), y_train, test.to_numpy(dtype=np.float64), y_test,
                               specs, cols, key, cfg)


def predict_all(runs: pd.DataFrame, checkpoints: Sequence[int], dt: float, cfg: PredictConfig,
                split: pd.DataFrame | None = None, n_jobs: int = 1) -> dict[str, pd.DataFrame]:
    """Every predictor at every checkpoint for every event and setting in cfg.inits.

    Returns the tables 'auc' (one row per event, activation, init, predictor and t;
    AUC_COLUMNS), 'best' (one row per group and form; BEST_COLUMNS), 'roc' (the ROC
    points of every computed row) and 'draws' (the resampled test AUCs of every best
    row; DRAW_COLUMNS). `n_jobs` processes share the work (joblib); the result does not
    depend on it (every checkpoint has its own seeds).
    """
    from joblib import Parallel, delayed

    split = split_runs(runs, cfg) if split is None else split
    tasks = list(checkpoint_tasks(runs, checkpoints, dt, cfg, split))
    results = Parallel(n_jobs=n_jobs)(delayed(_run_task)(*task, cfg) for task in tasks)
    auc = pd.DataFrame([r for res in results for r in res.members], columns=AUC_COLUMNS)
    best = pd.DataFrame([r for res in results for r in res.best], columns=BEST_COLUMNS)
    ints = ["interval", *COUNT_COLUMNS]
    auc = auc.astype({c: np.int64 for c in ints})
    best = best.astype({c: np.int64 for c in [*ints, "n_candidates", "n_tied"]})
    rocs = [r for res in results for r in res.rocs]
    roc = pd.concat(rocs, ignore_index=True) if rocs else pd.DataFrame(columns=ROC_COLUMNS)
    roc = roc.astype({"fpr": np.float64, "tpr": np.float64, "threshold": np.float64, "t": np.float64})
    frames = [res.draws for res in results if len(res.draws)]
    draws = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=DRAW_COLUMNS)
    draws = draws.astype({"interval": np.int64, "b": np.int64, "auc": np.float64})
    return dict(auc=auc, best=best, roc=roc, draws=draws)
