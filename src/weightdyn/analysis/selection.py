"""The best member of a predictor group, chosen by cross-validation on the training half.

A group (the FTLEs of one form, the |cos theta_ij| pairs) has many members; Table I
shows its best one. The choice must not look at the test half, and an in-sample AUC
cannot make it (with a few positives many members reach the ceiling that binning sets,
and the first of them would win by column order). So every member is fitted k times on
k - 1 folds of the training half (stratified: the positives and the negatives are dealt
to the folds separately) and scores the fold it did not see; the member with the largest
cross-validated AUC is chosen. That AUC counts the positive-negative pairs within each
fold only: pairs across folds would compare scores of different models, whose base rates
differ with the positives each fold holds out (with 6 positives, pooling the folds puts
a predictor without information near 0.46, not 0.5). Members within TIE of that AUC tie with it:
the first of them in the group's order is chosen, and their number is reported with the
spread of their test AUCs.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .rocauc import auc_columns

TIE = 1e-12  # cross-validated AUCs closer than this tie


def n_folds(y: np.ndarray, folds: int) -> int:
    """The folds used: `folds`, but no more than the runs of the rarer class."""
    y = np.asarray(y, dtype=bool)
    return int(max(min(folds, y.sum(), (~y).sum()), 0))


def stratified_folds(y: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """A fold (0 .. k - 1) per run: the positives and the negatives are each shuffled and
    dealt to the folds in turn, so each fold holds about 1/k of each class."""
    y = np.asarray(y, dtype=bool)
    fold = np.empty(len(y), dtype=np.int64)
    for members in (np.flatnonzero(y), np.flatnonzero(~y)):
        fold[rng.permutation(members)] = np.arange(len(members)) % k
    return fold


def out_of_fold_scores(X: np.ndarray, y: np.ndarray, fold: np.ndarray, k: int,
                       fit_score: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """Scores (runs, columns) of every run by the model fitted on the other folds.

    fit_score(X_fit, y_fit, X_eval) fits on (X_fit, y_fit) and returns the scores of
    X_eval, one column per member."""
    out = None
    for f in range(k):
        held = fold == f
        s = fit_score(X[~held], y[~held], X[held])
        if out is None:
            out = np.empty((len(y), s.shape[1]))
        out[held] = s
    return out


def cross_validated_auc(X, y, fold, k, fit_score, n_members: int) -> np.ndarray:
    """The cross-validated AUC of every member (column): sum over folds f of the
    Mann-Whitney count U_f of the fold's runs, scored by the model fitted on the other
    folds, over the sum of n1_f n0_f. Folds without both classes add nothing. NaN for
    fewer than two folds or no fold with both classes."""
    total, pairs = np.zeros(n_members), 0
    for f in range(k if k >= 2 else 0):
        held = fold == f
        n1, n0 = int(y[held].sum()), int((~y[held]).sum())
        if n1 and n0:
            total += auc_columns(y[held], fit_score(X[~held], y[~held], X[held])) * (n1 * n0)
            pairs += n1 * n0
    return total / pairs if pairs else np.full(n_members, np.nan)


def choose(auc_cv: np.ndarray) -> tuple[int, np.ndarray]:
    """(index of the chosen member, mask of the members tied with it). Without any finite
    cross-validated AUC (too few runs to cross-validate) every member ties."""
    auc_cv = np.asarray(auc_cv, dtype=np.float64)
    if not np.isfinite(auc_cv).any():
        return 0, np.ones(len(auc_cv), dtype=bool)
    best = np.nanmax(auc_cv)
    tied = np.isfinite(auc_cv) & (auc_cv >= best - TIE)
    return int(np.flatnonzero(tied)[0]), tied
