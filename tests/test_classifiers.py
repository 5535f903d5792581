"""The classifiers: the binning against scikit-learn's KBinsDiscretizer, naive Bayes as an
m-estimate of each bin's event rate, the vectorised scorer against the estimators fitted
one by one, and the strict reading of the prediction settings."""
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import KBinsDiscretizer
from sklearn.utils.validation import check_is_fitted

from weightdyn.analysis.classifiers import PredictorBins, naive_bayes, naive_bayes_scores, positive_score, rbf_svm
from weightdyn.analysis.config import PredictConfig
from weightdyn.analysis.evaluate import Scorer
from weightdyn.analysis.predictors import Predictor
from weightdyn.pipeline.config import load_config


def reference_bins(x_train, x_test, n_bins, strategy):
    """The binning of one predictor before it became a transformer (kept as the oracle)."""
    x_train = np.asarray(x_train, dtype=np.float64).reshape(-1, 1)
    x_test = np.asarray(x_test, dtype=np.float64).reshape(-1, 1)
    with warnings.catch_warnings():
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


def cfg_with(**predict):
    return PredictConfig.from_config(load_config({"predict": predict}))


rng = np.random.default_rng(0)
CASES = {
    # most runs exactly 0 (dead units): quantile edges coincide
    "ties": (np.r_[np.zeros(80), rng.uniform(1.0, 2.0, 20)], np.array([-1.0, 0.0, 0.5, 1.5, 3.0])),
    "constant": (np.full(50, 3.0), np.array([-5.0, 3.0, 10.0])),
    "out_of_range": (rng.uniform(0.0, 1.0, 100), np.array([-10.0, 0.5, 10.0])),
    "few_distinct": (np.repeat([0.0, 1.0, 2.0], 10), np.array([0.0, 1.0, 2.0, 5.0])),
    "continuous": (rng.normal(size=300), rng.normal(size=200) * 2),
}


@pytest.mark.parametrize("strategy", ["quantile", "uniform", "kmeans"])
@pytest.mark.parametrize("case", list(CASES))
def test_bins_reproduce_the_binning_function(case, strategy):
    x_train, x_test = CASES[case]
    if strategy == "kmeans" and case == "constant":
        pytest.skip("k-means needs more than one distinct value")
    want_train, want_test, want_n = reference_bins(x_train, x_test, 10, strategy)
    bins = PredictorBins(10, strategy).fit(x_train[:, None])
    assert bins.n_bins_.tolist() == [want_n]
    np.testing.assert_array_equal(bins.transform(x_train[:, None])[:, 0], want_train)
    np.testing.assert_array_equal(bins.transform(x_test[:, None])[:, 0], want_test)


def test_bins_of_ties_constants_and_outliers():
    x_train, x_test = CASES["ties"]
    bins = PredictorBins(10, "quantile").fit(x_train[:, None])
    plain = KBinsDiscretizer(n_bins=10, encode="ordinal", strategy="quantile", subsample=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert plain.fit(x_train[:, None]).n_bins_[0] < 10  # scikit-learn merges the tied bins ...
    assert bins.n_bins_[0] == 10                                 # ... the quantiles of distinct values do not
    b = bins.transform(x_train[:, None])[:, 0]
    # edges at quantiles of the 21 distinct values: the 80 tied runs share bin 0 with at most
    # two of the other values, and all 10 bins are used
    assert set(b[x_train == 0.0]) == {0} and np.sum(b[x_train != 0.0] == 0) <= 2 and len(set(b)) == 10
    constant = PredictorBins(10, "quantile").fit(np.full((50, 1), 3.0))
    assert constant.n_bins_[0] == 1
    assert constant.transform(np.array([[-5.0], [3.0], [10.0]]))[:, 0].tolist() == [0, 0, 0]
    wide = PredictorBins(10, "quantile").fit(CASES["out_of_range"][0][:, None])
    assert wide.transform(np.array([[-10.0], [10.0]]))[:, 0].tolist() == [0, wide.n_bins_[0] - 1]


def test_bins_of_several_columns_are_binned_column_by_column():
    X_train = np.column_stack([CASES[c][0][:50] for c in ("ties", "out_of_range", "continuous")])
    X_test = rng.normal(size=(20, 3))
    bins = PredictorBins(5, "quantile").fit(X_train)
    for k in range(3):
        tr, te, n = reference_bins(X_train[:, k], X_test[:, k], 5, "quantile")
        assert bins.n_bins_[k] == n
        np.testing.assert_array_equal(bins.transform(X_train)[:, k], tr)
        np.testing.assert_array_equal(bins.transform(X_test)[:, k], te)


def test_bins_follow_the_estimator_conventions():
    est = PredictorBins(7, "uniform")
    assert est.get_params() == {"n_bins": 7, "strategy": "uniform"}
    assert vars(est) == {"n_bins": 7, "strategy": "uniform"}  # the constructor stores parameters only
    with pytest.raises(NotFittedError):
        est.transform(np.zeros((2, 1)))
    est.fit(rng.normal(size=(30, 2)))
    assert all(k.endswith("_") for k in vars(est) if k not in ("n_bins", "strategy"))
    assert vars(clone(est)) == {"n_bins": 7, "strategy": "uniform"}


@pytest.mark.parametrize("case", ["ties", "constant", "few_distinct", "continuous"])
def test_naive_bayes_scores_every_bin_found(case):
    x_train, x_test = CASES[case]
    y = np.arange(len(x_train)) % 3 == 0
    model = naive_bayes(cfg_with(n_bins=10)).fit(x_train[:, None], y)
    assert len(model["nb"].rates_) >= model["bins"].n_bins_[0]
    score = positive_score(model, x_test[:, None])  # test values in every bin, outer bins included
    assert score.shape == (len(x_test),) and np.all((score > 0) & (score < 1))


def test_naive_bayes_score_is_the_m_estimate_of_the_bin_rate():
    """(k + m p0) / (n + m) per bin, exactly; an empty small bin never outranks a bin with events."""
    # uniform bins over [0, 10]: bin 0 holds 100 runs with 6 events, bin 9 two runs without
    x = np.r_[np.full(100, 0.5), np.full(98, 5.5), [9.5, 10.0]]
    y = np.zeros(200, bool)
    y[:6] = True
    m = 10.0
    model = naive_bayes(cfg_with(n_bins=10, bin_strategy="uniform", m_estimate=m)).fit(x[:, None], y)
    p0 = 6 / 200
    s = positive_score(model, np.array([[0.5], [5.5], [9.7], [3.0]]))
    np.testing.assert_allclose(s, [(6 + m * p0) / (100 + m), (0 + m * p0) / (98 + m), (0 + m * p0) / (2 + m),
                                   p0], rtol=1e-15)
    assert s[0] > s[2] > s[1]  # the populated bin with events first; the empty small bin below the base rate
    assert s[2] < p0 and s[3] == p0  # an unseen bin scores the base rate
    # with m = 0 the score is the bin's own event rate
    raw = naive_bayes(cfg_with(n_bins=10, bin_strategy="uniform", m_estimate=0.0)).fit(x[:, None], y)
    assert positive_score(raw, np.array([[0.5]]))[0] == 0.06


def separable(n=300, k=3, seed=1):
    r = np.random.default_rng(seed)
    y = r.random(n) < 0.25
    X = r.normal(size=(n, k))
    X[:, 0] += 1.5 * y
    return X, y


def test_vectorised_scores_equal_the_estimators_fitted_one_by_one():
    cfg = cfg_with(n_bins=7)
    X_tr, y_tr = separable(seed=1)
    X_te, _ = separable(seed=2)
    X_tr[:40, 1] = 0.0  # ties in one column
    nb, svm = naive_bayes(cfg), rbf_svm(cfg)
    cols = ["a", "b", "c"]
    specs = [Predictor(c, "ftle", "local", (c,), nb) for c in cols] + [Predictor("svm", "svm", "local", tuple(cols), svm)]
    got = Scorer(specs, cols)(X_tr, y_tr, X_te)
    for k in range(3):
        by_hand = positive_score(naive_bayes(cfg).fit(X_tr[:, [k]], y_tr), X_te[:, [k]])
        np.testing.assert_array_equal(got[:, k], by_hand)
    svm_hand = rbf_svm(cfg).fit(X_tr, y_tr)  # classes_ = [False, True]: positive towards the event
    np.testing.assert_allclose(got[:, 3], svm_hand.decision_function(X_te), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(naive_bayes_scores(X_tr, y_tr, [X_te], 7, "quantile", cfg.m_estimate)[0], got[:, :3])
    with pytest.raises(NotFittedError):  # the prototypes stay unfitted
        check_is_fitted(nb)
    # a subset of members, in the order asked
    np.testing.assert_array_equal(Scorer(specs, cols)(X_tr, y_tr, X_te, np.array([2, 0])), got[:, [2, 0]])


def test_settings_are_read_strictly_from_the_config():
    cfg = load_config()
    p = PredictConfig.from_config(cfg)
    assert (p.low_loss, p.high_loss, p.n_bins, p.n_boot, p.m_estimate, p.min_positives, p.cv_folds) == (
        4.0, 100.0, 10, 200, 10.0, 20, 5)
    del cfg["predict"]["m_estimate"]
    with pytest.raises(ValueError, match="m_estimate"):
        PredictConfig.from_config(cfg)
    with pytest.raises(ValueError, match="nbins"):
        PredictConfig.from_config(load_config({"predict": {"nbins": 5}}))
    with pytest.raises(ValueError, match="seed"):
        PredictConfig.from_config(load_config({"predict": {"bootstrap": {"n_boot": 5, "level": 0.9, "seed": 0,
                                                                          "seeds": 1}}}))
    with pytest.raises(ValueError, match="predict.select.folds"):
        PredictConfig.from_config(load_config({"predict": {"select": {"folds": 1}}}))
    with pytest.raises(KeyError, match="events"):
        PredictConfig.from_config({"predict": load_config()["predict"]})
    # the SVM refits at most n_boot resamples
    assert PredictConfig.from_config(load_config({"predict": {"bootstrap": {"n_boot": 7}}})).n_boot_refit_svm == 7


def test_quantile_edges_equal_kbins_discretizer_bit_for_bit():
    """The levels are scikit-learn's (percentiles / 100): 0.3, not 0.30000000000000004,
    which decides between averaging two values and taking the upper one."""
    r = np.random.default_rng(7)
    X = np.round(r.normal(size=(40, 6)), 2)
    for n_bins in (5, 10, 20):
        kb = KBinsDiscretizer(n_bins=n_bins, encode="ordinal", strategy="quantile", subsample=None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kb.fit(X)
        mine = PredictorBins(n_bins, "quantile").fit(X)
        for k in range(X.shape[1]):
            np.testing.assert_array_equal(mine.edges_[k], kb.bin_edges_[k])
