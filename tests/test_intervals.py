"""The statistics of the prediction stage: AUCs of many columns, DeLong's interval against a
published example, the choice of a best member by cross-validation, and the coverage of
the refit bootstrap with five positives."""
import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from weightdyn.analysis.classifiers import naive_bayes, naive_bayes_scores
from weightdyn.analysis.config import PredictConfig
from weightdyn.analysis.evaluate import evaluate_checkpoint
from weightdyn.analysis.predictors import Predictor
from weightdyn.analysis.rocauc import auc_columns, delong_interval, delong_variance, percentile_interval
from weightdyn.analysis.selection import choose, cross_validated_auc, n_folds, out_of_fold_scores, stratified_folds
from weightdyn.pipeline.config import load_config

KEY = dict(event="high", activation="relu", init="he", t=0.015, t_label="0.015", interval=500)


def cfg_with(**predict) -> PredictConfig:
    return PredictConfig.from_config(load_config({"predict": predict}))


def test_auc_of_many_columns_equals_scikit_learn():
    rng = np.random.default_rng(0)
    y = rng.random(300) < 0.2
    S = np.column_stack([rng.normal(size=300), y + rng.normal(size=300), np.round(y + rng.normal(size=300)),
                         np.zeros(300)])
    np.testing.assert_allclose(auc_columns(y, S), [roc_auc_score(y, S[:, k]) for k in range(4)], rtol=1e-14)
    assert auc_columns(y, S)[3] == 0.5  # all tied
    assert np.isnan(auc_columns(np.zeros(5, bool), S[:5])).all()


def test_delong_reproduces_the_published_hanley_mcneil_example():
    """Hanley and McNeil (Radiology 143, 29, 1982), Table I: 58 normal and 51 abnormal
    patients rated on a 5-point scale. Stata's `roctab disease rating` (Base Reference
    Manual, [R] roctab, example 1; DeLong's standard error) prints: area 0.8932,
    Std. Err. 0.0307, 95% CI 0.83295 to 0.95339."""
    normal, abnormal = [33, 6, 6, 11, 2], [3, 2, 2, 11, 33]
    rating = np.r_[np.repeat(np.arange(1, 6), normal), np.repeat(np.arange(1, 6), abnormal)].astype(float)
    disease = np.r_[np.zeros(sum(normal), bool), np.ones(sum(abnormal), bool)]
    auc, var = delong_variance(disease, rating)
    assert round(auc, 4) == 0.8932 and auc == pytest.approx(1321 / 1479, rel=1e-14)
    assert round(np.sqrt(var), 4) == 0.0307
    lo, hi = delong_interval(disease, rating, 0.95)
    assert (round(lo, 5), round(hi, 5)) == (0.83295, 0.95339)


def test_delong_variance_from_its_definition():
    """The midrank computation against the structural components counted pair by pair."""
    rng = np.random.default_rng(1)
    y = rng.random(60) < 0.3
    s = np.round(y + rng.normal(size=60), 1)  # with ties
    x, z = s[y], s[~y]
    psi = (x[:, None] > z[None, :]) + 0.5 * (x[:, None] == z[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    auc, var = delong_variance(y, s)
    assert auc == pytest.approx(psi.mean(), rel=1e-14)
    assert var == pytest.approx(v10.var(ddof=1) / len(x) + v01.var(ddof=1) / len(z), rel=1e-12)
    with pytest.raises(ValueError, match="two runs of each class"):
        delong_variance(np.r_[True, np.zeros(5, bool)], np.arange(6.0))


def test_percentile_interval_ignores_missing_draws():
    draws = np.column_stack([np.arange(101.0), np.full(101, np.nan)])
    draws[::2, 0] = np.nan
    lo, hi = percentile_interval(draws, 0.9)
    np.testing.assert_allclose([lo[0], hi[0]], np.quantile(np.arange(1.0, 101.0, 2.0), [0.05, 0.95]), rtol=1e-14)
    assert np.isnan(lo[1]) and np.isnan(hi[1])


def test_folds_are_stratified_and_the_choice_reports_ties():
    y = np.r_[np.ones(7, bool), np.zeros(93, bool)]
    fold = stratified_folds(y, 5, np.random.default_rng(0))
    assert sorted(np.bincount(fold[y])) == [1, 1, 1, 2, 2] and sorted(np.bincount(fold[~y])) == [18, 18, 19, 19, 19]
    assert n_folds(y, 5) == 5 and n_folds(y[3:], 5) == 4
    chosen, tied = choose(np.array([0.7, 0.9, 0.9 - 1e-14, 0.8]))
    assert chosen == 1 and tied.tolist() == [False, True, True, False]
    chosen, tied = choose(np.full(3, np.nan))
    assert chosen == 0 and tied.all()


def test_cross_validation_chooses_the_informative_member():
    rng = np.random.default_rng(2)
    y = rng.random(600) < 0.1
    X = rng.normal(size=(600, 5))
    X[:, 3] += 2.0 * y
    k = n_folds(y, 5)
    fold = stratified_folds(y, k, rng)

    def fit_score(a, b, c):
        return naive_bayes_scores(a, b, [c], 10, "quantile", 10.0)[0]

    cv = cross_validated_auc(X, y, fold, k, fit_score, 5)
    assert choose(cv)[0] == 3 and cv[3] > 0.8 and np.all(np.abs(np.delete(cv, 3) - 0.5) < 0.15)


def _identical_members(n: int, positives: int, delta: float, M: int, rng):
    y = np.zeros(n, bool)
    y[:positives] = True
    return rng.normal(size=(n, M)) + delta * y[:, None], y


def test_refit_interval_covers_the_true_auc_with_five_positives():
    """Four identically informative predictors (true AUC Phi(delta / sqrt 2) = 0.85 each),
    5 positives in each half of 200 runs: the refit-bootstrap interval of the chosen
    member covers 0.85 in at least 90% of 200 seeded repetitions; the interval of the
    previous procedure (the test half resampled, the fitted classifier held fixed) does
    not."""
    true_auc, M, n, positives, reps = 0.85, 4, 200, 5, 200
    delta = np.sqrt(2.0) * stats.norm.ppf(true_auc)
    cfg = cfg_with(bootstrap={"n_boot": 50, "n_boot_svm": 0}, n_bins=10)
    cols = [f"x{k}" for k in range(M)]
    specs = [Predictor(f"ftle_local_{k + 1}", "ftle", "local", (cols[k],), naive_bayes(cfg)) for k in range(M)]
    covered, covered_old, ties = 0, 0, 0
    for r in range(reps):
        rng = np.random.default_rng(r)
        (X_tr, y_tr), (X_te, y_te) = (_identical_members(n, positives, delta, M, rng) for _ in range(2))
        run_cfg = PredictConfig(**{**cfg.__dict__, "boot_seed": r})
        best = evaluate_checkpoint(X_tr, y_tr, X_te, y_te, specs, cols, KEY, run_cfg).best[0]
        assert best["n_candidates"] == M and 1 <= best["n_tied"] <= M and best["status"] == "ok"
        ties += best["n_tied"] > 1
        covered += best["ci_low"] <= true_auc <= best["ci_high"]
        # the previous interval: the chosen member's classifier fixed, the test half resampled
        k = cols.index(f"x{int(best['predictor'].rsplit('_', 1)[1]) - 1}")
        s = naive_bayes_scores(X_tr[:, [k]], y_tr, [X_te], 10, "quantile", cfg.m_estimate)[0][:, 0]
        pos, neg = np.flatnonzero(y_te), np.flatnonzero(~y_te)
        idx = [np.r_[rng.choice(pos, len(pos)), rng.choice(neg, len(neg))] for _ in range(cfg.n_boot)]
        old = np.quantile([auc_columns(y_te[i], s[i])[0] for i in idx], [0.025, 0.975])
        covered_old += old[0] <= true_auc <= old[1]
    assert covered / reps >= 0.9
    assert covered_old / reps < 0.9
    assert ties > 0  # several members tie on the cross-validated AUC in some repetitions, and it is reported


def test_cross_validated_auc_of_a_predictor_without_information_is_a_half():
    """Counting pairs within folds only: pooling the folds' scores would pull it down, since
    each fold's model has its own base rate."""
    rng = np.random.default_rng(3)
    within, pooled = [], []

    def fit_score(a, b, c):
        return naive_bayes_scores(a, b, [c], 10, "quantile", 10.0)[0]

    for _ in range(40):
        y = np.zeros(300, bool)
        y[:6] = True
        X = rng.normal(size=(300, 20))
        fold = stratified_folds(y, 5, rng)
        within.append(cross_validated_auc(X, y, fold, 5, fit_score, 20).mean())
        pooled.append(auc_columns(y, out_of_fold_scores(X, y, fold, 5, fit_score)).mean())
    assert abs(np.mean(within) - 0.5) < 0.02
    assert np.mean(pooled) < 0.48
