"""Restart policies (beyond the paper): stop a run at checkpoint t on a prediction of its
final loss and start a fresh one.

    avoid_high  the use the paper proposes: stop runs predicted to end with c_f > high_loss;
                a good network is one that does not (ReLU only, as the high-loss prediction)
    reach_low   stop runs predicted not to reach the low cluster c_f < low_loss; a good
                network is a low-loss one (every predicted setting)

`restart_policy` reports the expected compute per good network with and without each
policy on the test half, the policy (classifier and threshold) set on the training half
alone.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import sklearn

from .config import PredictConfig
from .evaluate import Scorer, shortage, boot_seed, checkpoint_oof_scores, checkpoint_tasks
from .predictors import LOSS, ftle_name, mean_cos_name, svm_name
from .split import split_runs
from .table1 import best_row

ORACLE = "oracle"  # stops exactly the runs that will not be good: the bound for any predictor
# policy -> (the event whose prediction stops a run, whether a good network is that event)
POLICIES = {"avoid_high": ("high", False), "reach_low": ("low", True)}
RESTART_COLUMNS = [
    "policy", "activation", "init", "t", "t_label", "interval", "cost_fraction", "predictor", "threshold",
    "n_train", "n_test", "bad_test", "stopped", "stopped_bad", "stopped_good", "missed_bad",
    "p_good", "compute_without", "compute_with", "saving", "saving_ci_low", "saving_ci_high", "saving_train", "status",
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


def restart_policy(runs: pd.DataFrame, best: pd.DataFrame, checkpoints: Sequence[int], dt: float, n_intervals: int,
                   cfg: PredictConfig, split: pd.DataFrame | None = None) -> pd.DataFrame:
    """Expected compute per good network with and without each policy of POLICIES at each
    checkpoint, on the test half: avoid_high stops runs predicted to end high (good: c_f <=
    high_loss, not diverged), reach_low stops runs predicted not to end low (good: c_f <
    low_loss); a run is stopped where its score for the event is at least the reported
    threshold (avoid_high) or at most it (reach_low).

    Predictors: the best single FTLE (form cfg.ftle_form, chosen by cross-validation on
    the training half, the `best` table), the SVM on the FTLEs, C(t), the mean
    |cos theta| and an oracle that stops exactly the runs that will not be good (the
    bound for any predictor). Each classifier is fitted on the training half; the stopping threshold
    is the one that minimises the expected compute over its out-of-fold scores of the
    training half (the folds of the best-member choice), so it is set on scores of runs
    the classifier did not see, as the test runs will be. Reported: the test-half saving
    1 - compute_with / compute_without, with a bootstrap interval over the test half (the
    fitted classifier and threshold held fixed), and the out-of-fold saving of the
    training half (``saving_train``) by which `best_saving` picks a predictor and checkpoint. Runs without
    finite predictors at t (diverged before it) count as stopped there, by every policy.
    The threshold is a score of the fold models, applied to scores of the model fitted on
    the whole training half; for naive Bayes both are bin rates, for the SVM decision
    values of similar but not equal scale.
    """
    split = split_runs(runs, cfg) if split is None else split
    rows = [row for policy in POLICIES for row in _policy_rows(policy, runs, best, checkpoints, dt, n_intervals, cfg,
                                                                split)]
    out = pd.DataFrame(rows, columns=RESTART_COLUMNS)
    counts = ["interval", "n_train", "n_test", "bad_test", "stopped", "stopped_bad", "stopped_good", "missed_bad"]
    return out.astype({c: "Int64" for c in counts})


def _policy_rows(policy, runs, best, checkpoints, dt, n_intervals, cfg, split) -> list[dict]:
    """The rows of one policy: every predictor and the oracle at every checkpoint."""
    event, good_is_event = POLICIES[policy]
    rows = []
    tasks = checkpoint_tasks(runs, checkpoints, dt, cfg, split, events=[event],
                             activations=cfg.high_activations if event == "high" else None)
    for train, test, e_train, e_test, key, specs, cols in tasks:
        good_train, good_test = (e_train, e_test) if good_is_event else (~e_train, ~e_test)
        sign = -1.0 if good_is_event else 1.0  # stop on a high score of the bad event, a low one of the good
        frac = float(key["interval"]) / float(n_intervals)
        r = best_row(best, event, key["activation"], key["init"], "ftle", cfg.ftle_form, key["interval"])
        ftle = r["predictor"] if r is not None and r["status"] == "ok" else ftle_name(cfg.ftle_form, 1)
        names = [ftle, svm_name(cfg.ftle_form), LOSS, mean_cos_name(cfg.clv_start)]
        index = {s.name: k for k, s in enumerate(specs)}
        scorer = Scorer(specs, cols)
        X_train, X_test = train.to_numpy(dtype=np.float64), test.to_numpy(dtype=np.float64)
        ok_tr, ok_te = np.isfinite(X_train).all(axis=1), np.isfinite(X_test).all(axis=1)
        base = dict(policy=policy, **{k: key[k] for k in ("activation", "init", "t", "t_label", "interval")},
                    cost_fraction=frac, n_train=len(train), n_test=len(test), bad_test=int((~good_test).sum()))
        status = shortage(e_train[ok_tr], e_test[ok_te], max(cfg.min_events, 2))
        without = expected_compute(np.zeros(len(test), bool), good_test, frac)
        empty = dict(threshold=np.nan, stopped=None, stopped_bad=None, stopped_good=None, missed_bad=None,
                     p_good=float(good_test.mean()) if len(test) else np.nan, compute_without=without,
                     compute_with=np.nan, saving=np.nan, saving_ci_low=np.nan, saving_ci_high=np.nan,
                     saving_train=np.nan)
        if status != "ok":
            rows += [dict(base, predictor=name, **empty, status=status) for name in names]
        else:
            members = np.array([index[name] for name in names])
            with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
                s_test = np.full((len(test), len(names)), np.inf)  # no predictors at t: stopped
                s_test[ok_te] = sign * scorer(X_train[ok_tr], e_train[ok_tr], X_test[ok_te], members)
                s_train = np.full((len(train), len(names)), np.inf)
                s_train[ok_tr] = sign * checkpoint_oof_scores(X_train[ok_tr], e_train[ok_tr], scorer, members, key, cfg)
            for j, name in enumerate(names):
                thr = choose_threshold(s_train[:, j], good_train, frac)
                rows.append(_policy_row(dict(base, predictor=name, threshold=sign * thr), s_test[:, j] >= thr,
                                        good_test, frac, cfg,
                                        saving_train=_saving(s_train[:, j] >= thr, good_train, frac)[0]))
        rows.append(_policy_row(dict(base, predictor=ORACLE, threshold=np.nan), ~good_test, good_test, frac, cfg,
                                saving_train=_saving(~good_train, good_train, frac)[0]))
    return rows


def _saving(stop: np.ndarray, good: np.ndarray, frac: float) -> tuple[float, float, float]:
    """(1 - compute with the policy / compute without it, compute without, compute with)."""
    without = expected_compute(np.zeros(len(stop), bool), good, frac)
    with_ = expected_compute(stop, good, frac)
    return (1.0 - with_ / without if np.isfinite(without) else float("nan")), without, with_


def _policy_row(row: dict, stop: np.ndarray, good: np.ndarray, frac: float, cfg: PredictConfig,
                saving_train: float) -> dict:
    """The counts, compute and test-half saving (with its interval) of a stopping rule."""
    bad = ~good
    saving, without, with_ = _saving(stop, good, frac)
    # one seed per setting and checkpoint: every predictor's saving on the same resamples
    lo, hi = _bootstrap_saving(stop, good, frac, cfg.n_boot, cfg.ci_level,
                               boot_seed(cfg.boot_seed, "restart", row["policy"], row["activation"], row["init"],
                                         row["t_label"]))
    return dict(row, stopped=int(stop.sum()), stopped_bad=int((stop & bad).sum()),
                stopped_good=int((stop & good).sum()), missed_bad=int((~stop & bad).sum()),
                p_good=float(good.mean()) if len(good) else np.nan, compute_without=without, compute_with=with_,
                saving=saving, saving_ci_low=lo, saving_ci_high=hi, saving_train=saving_train,
                status="ok" if len(stop) else "no test runs")


def _bootstrap_saving(stop, good, frac, n_boot, level, seed) -> tuple[float, float]:
    """Percentile interval of the saving over bootstrap resamples of the test half. A
    resample in which the policy keeps no good run has a saving of -inf (no good network
    at any compute) and stays in: the interval is then unbounded below. Resamples without
    any good run (no saving defined, with or without the policy) are left out."""
    n = len(stop)
    if n_boot == 0 or n == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    vals = np.array([_saving(stop[idx], good[idx], frac)[0] for idx in (rng.integers(0, n, n) for _ in range(n_boot))])
    vals = vals[~np.isnan(vals)]
    if not len(vals):
        return float("nan"), float("nan")
    q = (1.0 - level) / 2.0
    lo, hi = np.quantile(vals, [q, 1.0 - q], method="inverted_cdf")  # no interpolation: -inf is a value
    return float(lo), float(hi)


def best_saving(restart: pd.DataFrame, policy: str = "avoid_high", activation: str | None = None,
                predictor: str | None = None, init: str | None = None) -> tuple[pd.Series, pd.Series | None] | None:
    """The computed predictor and checkpoint of `policy` (and `activation`, `init`, and only
    `predictor`, if given) with the largest out-of-fold saving on the training half (its
    test-half saving is the one to report), and the oracle of its setting and checkpoint
    (None if missing); None without a computed one."""
    ok = restart[(restart["status"] == "ok") & (restart["policy"] == policy)] if len(restart) else restart
    if activation is not None and len(ok):
        ok = ok[ok["activation"] == activation]
    if init is not None and len(ok):
        ok = ok[ok["init"] == init]
    real = ok[(ok["predictor"] != ORACLE) & ok["saving_train"].notna()]
    if predictor is not None:
        real = real[real["predictor"] == predictor]
    if not len(real):
        return None
    b = real.loc[real["saving_train"].idxmax()]
    o = ok[(ok["predictor"] == ORACLE) & (ok["t"] == b["t"]) & (ok["activation"] == b["activation"])
           & (ok["init"] == b["init"])]
    return b, (o.iloc[0] if len(o) else None)
