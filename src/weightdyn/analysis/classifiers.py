"""The classifiers of the prediction stage (paper Sec. VI), as scikit-learn estimators and
as one vectorised function for many predictors at once.

Naive Bayes on one binned predictor: the bins (`binning`) are fitted on the training
runs, and the score of a run is the m-estimate of the event rate of its bin,

    P(event | bin b) = (k_b + m p0) / (n_b + m),

with k_b events among the n_b training runs of the bin, p0 the event rate of all
training runs and m the weight of the prior in runs (`m_estimate`; Cestnik 1990). A bin
with many runs scores its own rate; a small or empty one is pulled toward the base rate:
an empty bin scores below p0, so it never outranks a bin whose own event rate is above
p0 (with Laplace smoothing over the categories an empty small bin could). With one
predictor this is naive Bayes exactly (the posterior of one categorical feature).
`naive_bayes_scores` does the same for every column of a matrix at once (the evaluation
and its bootstrap); `naive_bayes` is the estimator (a pipeline of `PredictorBins` and
`BinRate`), equal to it column by column.

SVM: standardized features, `SVC` with an RBF kernel (class weights balanced by default:
the events are rare), scored by its decision function.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted

from .binning import assign_bins, bin_edges, n_bins_of
from .config import PredictConfig


def bin_rates(bins: np.ndarray, y: np.ndarray, n_bins: np.ndarray, m: float) -> list[np.ndarray]:
    """Per column the m-estimate (k_b + m p0) / (n_b + m) of every bin's event rate, from
    the bins (runs, columns) and events y of the training runs."""
    y = np.asarray(y, dtype=np.float64)
    p0 = y.mean()
    offsets = np.r_[0, np.cumsum(n_bins)[:-1]]
    flat = (bins + offsets).ravel()
    total = int(n_bins.sum())
    k = np.bincount(flat, weights=np.broadcast_to(y[:, None], bins.shape).ravel(), minlength=total)
    n = np.bincount(flat, minlength=total)
    with np.errstate(invalid="ignore", divide="ignore"):  # m = 0 and an empty bin: no estimate but p0
        rate = np.where(n + m > 0, (k + m * p0) / (n + m), p0)
    return np.split(rate, offsets[1:])


def naive_bayes_scores(X_train: np.ndarray, y_train: np.ndarray, X_eval: list[np.ndarray], n_bins: int,
                       strategy: str, m: float) -> list[np.ndarray]:
    """One naive-Bayes classifier per column of X_train (runs, columns), fitted on y_train;
    the scores P(event | bin) of every matrix in X_eval (same columns)."""
    edges = bin_edges(X_train, n_bins, strategy)
    rates = bin_rates(assign_bins(X_train, edges), y_train, n_bins_of(edges), m)
    out = []
    for X in X_eval:
        bins = assign_bins(X, edges)
        out.append(np.column_stack([r[bins[:, j]] for j, r in enumerate(rates)]) if rates else bins * 0.0)
    return out


class PredictorBins(TransformerMixin, BaseEstimator):
    """Every column binned by `binning.bin_edges`, fitted on the training runs.

    Fitted attributes: edges_ (one array per column), n_bins_ (bins found per column).
    """

    def __init__(self, n_bins: int, strategy: str):
        self.n_bins = n_bins
        self.strategy = strategy

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=np.float64)
        self.edges_ = bin_edges(X, self.n_bins, self.strategy)
        self.n_bins_ = n_bins_of(self.edges_)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X) -> np.ndarray:
        """The bin (0 .. n_bins_ - 1) of every value, column by column (int64)."""
        check_is_fitted(self, "edges_")
        return assign_bins(X, self.edges_)


class BinRate(ClassifierMixin, BaseEstimator):
    """Naive Bayes on one binned predictor: P(event | bin) by the m-estimate (see the
    module docstring). Input: the bins of `PredictorBins` (one column), boolean events.

    Fitted attributes: classes_ ([False, True]), rates_ (per bin), n_bins_.
    """

    def __init__(self, n_bins: int, m: float):
        self.n_bins = n_bins
        self.m = m

    def fit(self, X, y):
        X = np.asarray(X, dtype=np.int64)
        if X.ndim != 2 or X.shape[1] != 1:
            raise ValueError(f"BinRate takes the bins of one predictor, got shape {X.shape}")
        y = np.asarray(y, dtype=bool)
        self.n_bins_ = max(int(self.n_bins), int(X.max()) + 1)
        self.rates_ = bin_rates(X, y, np.array([self.n_bins_]), self.m)[0]
        self.classes_ = np.array([False, True])
        self.n_features_in_ = 1
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "rates_")
        p = self.rates_[np.clip(np.asarray(X, dtype=np.int64)[:, 0], 0, self.n_bins_ - 1)]
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        return self.predict_proba(X)[:, 1] > 0.5


def naive_bayes(cfg: PredictConfig) -> Pipeline:
    """PredictorBins(n_bins, bin_strategy) then BinRate(m_estimate): one predictor."""
    return Pipeline([("bins", PredictorBins(cfg.n_bins, cfg.bin_strategy)), ("nb", BinRate(cfg.n_bins, cfg.m_estimate))])


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
