"""The classifiers of the prediction stage as scikit-learn estimators (paper Sec. VI).

Naive Bayes: every predictor binned by `PredictorBins` (fitted on the training half),
then `CategoricalNB` with Laplace smoothing `alpha`. For one predictor its probability
P(event | bin) is the smoothed event rate of the bin, the paper's estimate; several
binned predictors combine as a product of per-feature likelihoods.
SVM: standardized features, `SVC` with an RBF kernel (class weights balanced by default:
the events are rare).
Both are prototypes: `evaluate.evaluate_predictor` clones and fits them.
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.naive_bayes import CategoricalNB
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import KBinsDiscretizer, StandardScaler
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted

from .config import PredictConfig


@contextmanager
def _tied_values_allowed():
    """Silence the warnings of tied values (dead units, constant predictors): they merge
    bins, which `PredictorBins.fit` handles."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Bins whose width are too small")
        warnings.filterwarnings("ignore", message="Feature .* is constant")
        yield


class PredictorBins(TransformerMixin, BaseEstimator):
    """Every column binned by its own KBinsDiscretizer fitted on the training half.

    Test values beyond the training range fall into the outer bins. Ties can make
    quantile edges coincide (e.g. a predictor that is exactly 0 for most runs, as the
    FTLEs of dead ReLU units are); scikit-learn then merges the bins, possibly into one,
    which would hide a rare event that sits at the tied value. When that leaves fewer
    bins than both `n_bins` and the number of distinct training values, the quantile
    edges are taken over the distinct values instead (each value counted once), so that
    a tie no longer swallows the bins around it. The largest training value always falls
    into the top bin, so a classifier fitted on the training bins sees every bin index up
    to n_bins_ - 1.

    Fitted attributes: discretizers_ (one per column), n_bins_ (bins found per column).
    """

    def __init__(self, n_bins: int, strategy: str):
        self.n_bins = n_bins
        self.strategy = strategy

    def _fit_column(self, x: np.ndarray) -> KBinsDiscretizer:
        kwargs = {"random_state": 0} if self.strategy == "kmeans" else {}
        kb = KBinsDiscretizer(n_bins=self.n_bins, encode="ordinal", strategy=self.strategy, subsample=None, **kwargs)
        kb.fit(x)
        distinct = np.unique(x[:, 0])
        if self.strategy == "quantile" and int(kb.n_bins_[0]) < min(self.n_bins, len(distinct)):
            kb = KBinsDiscretizer(n_bins=min(self.n_bins, len(distinct)), encode="ordinal", strategy="quantile",
                                  subsample=None).fit(distinct[:, None])
        return kb

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=np.float64)
        with _tied_values_allowed():
            self.discretizers_ = [self._fit_column(X[:, [k]]) for k in range(X.shape[1])]
        self.n_bins_ = np.array([int(kb.n_bins_[0]) for kb in self.discretizers_], dtype=np.int64)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X) -> np.ndarray:
        """The bin (0 .. n_bins_ - 1) of every value, column by column (int64)."""
        check_is_fitted(self, "discretizers_")
        X = np.asarray(X, dtype=np.float64)
        with _tied_values_allowed():
            bins = [kb.transform(X[:, [k]])[:, 0].astype(np.int64) for k, kb in enumerate(self.discretizers_)]
        return np.column_stack(bins)


def naive_bayes(cfg: PredictConfig) -> Pipeline:
    """PredictorBins(n_bins, bin_strategy) then CategoricalNB(alpha).

    CategoricalNB takes its categories from the training bins, which hold every bin that
    `PredictorBins` found (see there): n_categories_ equals n_bins_.
    """
    return Pipeline([("bins", PredictorBins(cfg.n_bins, cfg.bin_strategy)), ("nb", CategoricalNB(alpha=cfg.alpha))])


def rbf_svm(cfg: PredictConfig) -> Pipeline:
    """StandardScaler then SVC(kernel='rbf', C, gamma, class_weight)."""
    return Pipeline([("scale", StandardScaler()),
                     ("svm", SVC(kernel="rbf", C=cfg.svm_C, gamma=cfg.svm_gamma, class_weight=cfg.svm_class_weight))])


def positive_score(model, X) -> np.ndarray:
    """The score of the event (positive class) for every row of X; larger = more likely.

    P(event | x) where the fitted model gives probabilities (naive Bayes), otherwise its
    decision function with the sign that makes larger values point to the event (SVM).
    """
    if hasattr(model, "predict_proba"):
        return model.predict_proba(X)[:, list(model.classes_).index(True)]
    sign = 1.0 if model.classes_[-1] else -1.0
    return sign * model.decision_function(X)
