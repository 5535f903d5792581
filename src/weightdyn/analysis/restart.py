"""A restart policy: the use the paper proposes for the high-loss predictor (beyond the paper).

Stop a run that is predicted to end with c_f > high_loss at checkpoint t and start a
fresh one; `restart_policy` reports the expected compute per good network with and
without the policy on the test half.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from ..engine import columns as col
from ..engine.config import checkpoint_labels
from .config import PredictConfig
from .evaluate import boot_seed, evaluate_predictor
from .events import event_labels
from .predictors import LOSS, MEAN_COS, ftle_name, predictor_specs, svm_name
from .split import setting_halves, split_runs
from .table1 import best_rows

ORACLE = "oracle"  # stops exactly the high runs: the bound for any predictor
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
    labels = checkpoint_labels(checkpoints, dt)
    rows = []
    settings = sorted({(a, i) for a, i in zip(runs["activation"], runs["init"])
                       if i in cfg.inits and a in cfg.high_activations})
    for activation, init in settings:
        train, test = setting_halves(runs, split, activation, init)
        h_train = event_labels(train, "high", cfg.low_loss, cfg.high_loss)
        h_test = event_labels(test, "high", cfg.low_loss, cfg.high_loss)
        sel = col.setting_rows(auc[auc["event"] == "high"], activation, init)
        best_ftle = best_rows(sel, "ftle", cfg.ftle_form)
        for interval, label in zip(checkpoints, labels):
            frac = float(interval) / float(n_intervals)
            hit = best_ftle[best_ftle["t_label"] == label]
            chosen = len(hit) and hit["status"].iloc[0] == "ok"
            ftle = hit["predictor"].iloc[0] if chosen else ftle_name(cfg.ftle_form, 1)
            specs = {s.name: s for s in predictor_specs(runs, label, cfg)}
            base = dict(activation=activation, init=init, t=float(label), t_label=label, interval=int(interval),
                        cost_fraction=frac, n_train=len(train), n_test=len(test), high_test=int(h_test.sum()))
            for name in (ftle, svm_name(cfg.ftle_form), LOSS, MEAN_COS, ORACLE):
                row = dict(base, predictor=name, threshold=np.nan, stopped=0, stopped_high=0, stopped_good=0,
                           missed_high=int(h_test.sum()), p_good=float((~h_test).mean()) if len(test) else np.nan,
                           compute_without=expected_compute(np.zeros(len(test), bool), ~h_test, frac),
                           compute_with=np.nan, saving=np.nan, saving_ci_low=np.nan, saving_ci_high=np.nan)
                if name == ORACLE:
                    stop = h_test.copy()
                    row["status"] = "ok" if len(test) else "no test runs"
                else:
                    columns = list(specs[name].columns)
                    ev = evaluate_predictor(specs[name].estimator, train[columns].to_numpy(dtype=np.float64), h_train,
                                            test[columns].to_numpy(dtype=np.float64), h_test,
                                            replace(cfg, n_boot=0), keep_scores=True)
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
                                           boot_seed(cfg.boot_seed, "restart", activation, init, name, label))
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


def best_saving(restart: pd.DataFrame) -> tuple[pd.Series, pd.Series | None] | None:
    """The computed policy with the largest saving, and the oracle of its setting and
    checkpoint (None if missing); None without a computed policy."""
    ok = restart[restart["status"] == "ok"] if len(restart) else restart
    real = ok[ok["predictor"] != ORACLE]
    if not len(real):
        return None
    b = real.loc[real["saving"].idxmax()]
    o = ok[(ok["predictor"] == ORACLE) & (ok["t"] == b["t"]) & (ok["activation"] == b["activation"])]
    return b, (o.iloc[0] if len(o) else None)
