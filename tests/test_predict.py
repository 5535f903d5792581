"""Prediction stage: split, events, naive Bayes and SVM scores, AUC table, Table I,
restart policy and the paper comparison, on synthetic and tiny simulated run tables."""
import re

import numpy as np
import pandas as pd
import pytest

from weightdyn.analysis import claims, comparison, paper, stats
from weightdyn.analysis.angles import AngleSetup
from weightdyn.analysis.classifiers import naive_bayes, naive_bayes_scores, positive_score, rbf_svm
from weightdyn.analysis.config import PredictConfig
from weightdyn.analysis.evaluate import (AUC_COLUMNS, BEST_COLUMNS, DRAW_COLUMNS, evaluate_checkpoint,
                                         predict_all)
from weightdyn.analysis.predictors import Predictor
from weightdyn.engine import columns as col
from weightdyn.analysis.events import event_labels
from weightdyn.analysis.predictors import predictor_specs
from weightdyn.analysis.rocauc import auc_columns
from weightdyn.analysis.restart import RESTART_COLUMNS, choose_threshold, expected_compute, restart_policy
from weightdyn.analysis.split import setting_halves, split_runs
from weightdyn.analysis.table1 import TABLE1_ROWS, table1
from weightdyn.engine import simulate_runs
from weightdyn.engine.config import checkpoint_labels
from weightdyn.pipeline.config import load_config
from weightdyn.report import markdown

from synthetic_clv import synthetic_windows

DT = 3e-5
CHECKPOINTS = [500, 1000]
LABELS = ["0.015", "0.03"]


# ----------------------------------------------------------------------------------
# A synthetic runs table with the columns of `simulate_runs`.

def synthetic_runs(n=120, settings=(("relu", "he"), ("tanh", "he")), P=4, labels=LABELS, seed=0,
                   p_low=0.3, p_high=0.12, first_seed=0):
    """Runs with final losses in three clusters (low < 4, intermediate, high > 100; tanh
    gets no high ones, as in the paper). Predictors: ftle_local_1 and loss are monotone in
    the final loss (they separate the events), everything else is noise."""
    rng = np.random.default_rng(seed)
    frames = []
    for activation, init in settings:
        u = rng.random(n)
        ph = p_high if activation == "relu" else 0.0
        final = np.where(u < p_low, rng.uniform(1.0, 3.5, n),
                         np.where(u < 1 - ph, rng.uniform(5.0, 60.0, n), rng.uniform(105.0, 200.0, n)))
        cols = {"seed": np.arange(first_seed, first_seed + n, dtype=np.int64), "activation": activation, "init": init,
                "final_loss": final, "diverged": np.zeros(n, bool), "diverged_step": np.full(n, -1, np.int64)}
        le = np.sort(rng.normal(0.0, 1.0, (n, P)), axis=1)[:, ::-1] - np.arange(P) * 2.0
        for q in range(P):
            cols[f"le_{q + 1}"] = le[:, q]
        pairs = [(i, j) for i in range(1, P + 1) for j in range(i + 1, P + 1)]
        for k, lab in enumerate(labels):
            t = f"_t{lab}"
            cols[f"loss{t}"] = final * (1.2 - 0.1 * k) + rng.normal(0, 0.01, n)
            for form in ("local", "cum"):
                for q in range(1, P + 1):
                    cols[f"ftle_{form}_{q}{t}"] = rng.normal(-q, 1.0, n)
            cols[f"ftle_local_1{t}"] = np.log(final) + rng.normal(0, 1e-3, n)
            for kind in col.CLV_ESTIMATES:
                for start in col.CLV_STARTS:
                    cos = rng.uniform(0, 1, (n, len(pairs)))
                    for p, (i, j) in enumerate(pairs):
                        cols[col.cos(kind, start, i, j, lab)] = cos[:, p]
                    cols[col.mean_cos(kind, start, lab)] = cos.mean(axis=1)
        for reading in col.END_READINGS:
            cos = rng.uniform(0, 1, (n, len(pairs)))
            for p, (i, j) in enumerate(pairs):
                cols[col.cos_end(reading, i, j)] = cos[:, p]
            cols[col.mean_cos_end(reading)] = cos.mean(axis=1)
        for q in range(1, P + 1):
            cols[col.start_distance(q)] = rng.uniform(0, 1, n) if q > 1 else np.zeros(n)
        frames.append(pd.DataFrame(cols))
    return pd.concat(frames, ignore_index=True)


def quick_cfg(events=None, **predict):
    """The prediction settings of config.yaml with `events` and `predict` overlays; no
    bootstrap unless asked for."""
    return PredictConfig.from_config(load_config({"events": events or {},
                                                  "predict": {"bootstrap": {"n_boot": 0}, **predict}}))


def boot(n):
    return {"n_boot": n}


@pytest.fixture(scope="module")
def runs():
    return synthetic_runs()


@pytest.fixture(scope="module")
def predicted(runs):
    cfg = quick_cfg(bootstrap=boot(20))
    split = split_runs(runs, cfg)
    return cfg, split, predict_all(runs, CHECKPOINTS, DT, cfg, split)


KEY = dict(event="high", activation="relu", init="he", t=0.015, t_label="0.015", interval=500)


def evaluate_one(estimator, x_train, y_train, x_test, y_test, cfg, key=KEY):
    """One predictor evaluated alone: (its AUC row, its ROC frame or None)."""
    X_train, X_test = (np.asarray(x, dtype=np.float64) for x in (x_train, x_test))
    X_train, X_test = (X[:, None] if X.ndim == 1 else X for X in (X_train, X_test))
    cols = [f"x{k}" for k in range(X_train.shape[1])]
    res = evaluate_checkpoint(X_train, y_train, X_test, y_test, [Predictor("p", "loss", "", tuple(cols), estimator)],
                              cols, key, cfg)
    return res.members[0], (res.rocs[0] if res.rocs else None)


# ----------------------------------------------------------------------------------
# Events and split.

def test_events_and_diverged_runs():
    runs = pd.DataFrame({"final_loss": [1.0, 4.0, 50.0, 150.0, np.nan],
                         "diverged": [False, False, False, False, True]})
    assert event_labels(runs, "low", 4.0, 100.0).tolist() == [True, False, False, False, False]
    assert event_labels(runs, "high", 4.0, 100.0).tolist() == [False, False, False, True, True]
    with pytest.raises(ValueError):
        event_labels(runs, "medium", 4.0, 100.0)


def test_diverged_runs_are_high_events_and_their_late_predictors_excluded():
    runs = synthetic_runs(n=80, settings=(("relu", "he"),), p_high=0.0, P=2)
    gone = runs.index[:8]
    runs.loc[gone, "diverged"] = True
    runs.loc[gone, "final_loss"] = np.nan
    late = [c for c in runs.columns if c.endswith("_t0.03")]
    runs.loc[gone, late] = np.nan  # diverged between the two checkpoints
    cfg = quick_cfg()
    split = split_runs(runs, cfg)
    assert (split.loc[split["diverged"], "outcome"] == "high").all()
    assert set(split.loc[split["diverged"], "half"]) == {"train", "test"}  # stratified as high
    auc = predict_all(runs, CHECKPOINTS, DT, cfg, split)["auc"]
    high = auc[auc["event"] == "high"]
    early, later = high[high["t_label"] == "0.015"], high[high["t_label"] == "0.03"]
    assert (early["positives"] + early["positives_train"] == 8).all() and (early["n_excluded"] == 0).all()
    assert (later["n_excluded"] == 8).all() and (later["positives"] + later["positives_train"] == 0).all()
    assert later["status"].str.startswith("too few events").all()
    low = auc[(auc["event"] == "low") & (auc["t_label"] == "0.015")]
    assert (low["n_test"] + low["n_train"] == 80).all()


def test_split_is_deterministic_stratified_and_order_free(runs):
    cfg = quick_cfg()
    a = split_runs(runs, cfg)
    b = split_runs(runs.sample(frac=1.0, random_state=3), cfg)
    key = ["activation", "init", "seed"]
    pd.testing.assert_frame_equal(a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True))
    for (_, _), g in a.groupby(["activation", "init"]):
        assert abs((g["half"] == "test").sum() - (g["half"] == "train").sum()) <= 1
        for outcome, h in g.groupby("outcome"):
            n_test, n_train = (h["half"] == "test").sum(), (h["half"] == "train").sum()
            assert abs(n_test - n_train) <= 1, outcome  # stratified: every class split evenly
    other = split_runs(runs, quick_cfg(split_seed=1))
    assert not a["half"].equals(other["half"].reindex(a.index))


def test_split_of_tiny_settings_does_not_fail():
    runs = synthetic_runs(n=3, settings=(("relu", "he"),))
    runs.loc[0, "final_loss"] = 150.0  # a single high run: its stratum has one member
    split = split_runs(runs, quick_cfg())
    assert len(split) == 3 and set(split["half"]) <= {"train", "test"}
    one = split_runs(synthetic_runs(n=1, settings=(("relu", "he"),)), quick_cfg())
    assert one["half"].tolist() == ["train"]


# ----------------------------------------------------------------------------------
# Classifiers and AUC.

def test_perfectly_separable_predictor_has_auc_one():
    rng = np.random.default_rng(1)
    y_train, y_test = rng.random(400) < 0.2, rng.random(400) < 0.2
    cfg = quick_cfg(bootstrap=boot(50))
    row, roc = evaluate_one(naive_bayes(cfg), y_train.astype(float), y_train, y_test.astype(float), y_test, cfg)
    assert row["status"] == "ok"
    assert row["auc"] == 1.0 and row["ci_low"] == 1.0 and row["ci_high"] == 1.0
    assert row["delong_low"] == 1.0 and row["delong_high"] == 1.0  # DeLong's variance is 0 when separated
    assert roc["fpr"].iloc[0] == 0.0 and roc["tpr"].iloc[-1] == 1.0
    # continuous with a gap: still (almost) perfectly separated through the bins
    x_tr = np.where(y_train, 10.0, 0.0) + rng.random(400)
    x_te = np.where(y_test, 10.0, 0.0) + rng.random(400)
    assert evaluate_one(naive_bayes(cfg), x_tr, y_train, x_te, y_test, cfg)[0]["auc"] > 0.97
    # the SVM on several features
    X_tr = rng.normal(size=(400, 9)); X_tr[:, 3] += 6 * y_train
    X_te = rng.normal(size=(400, 9)); X_te[:, 3] += 6 * y_test
    assert evaluate_one(rbf_svm(cfg), X_tr, y_train, X_te, y_test, cfg)[0]["auc"] > 0.99


def test_random_predictor_has_auc_near_half():
    rng = np.random.default_rng(2)
    y_train, y_test = rng.random(3000) < 0.3, rng.random(3000) < 0.3
    cfg = quick_cfg(bootstrap=boot(100))
    row, _ = evaluate_one(naive_bayes(cfg), rng.normal(size=3000), y_train, rng.normal(size=3000), y_test, cfg)
    assert abs(row["auc"] - 0.5) < 0.05
    assert row["ci_low"] < 0.5 < row["ci_high"] and row["delong_low"] < 0.5 < row["delong_high"]
    X = rng.normal(size=(3000, 9))
    sv, _ = evaluate_one(rbf_svm(cfg), X[:1500], y_train[:1500], X[1500:], y_test[1500:], quick_cfg())
    assert abs(sv["auc"] - 0.5) < 0.07 and np.isnan(sv["ci_low"])  # no resamples: no interval


def test_naive_bayes_score_is_monotone_in_the_event_rate_of_the_bin():
    x_train = np.repeat([0.0, 1.0, 2.0], 10)
    y_train = np.r_[np.zeros(10, bool), np.r_[np.ones(3, bool), np.zeros(7, bool)], np.ones(10, bool)]
    model = naive_bayes(quick_cfg(n_bins=3)).fit(x_train[:, None], y_train)
    s_test = positive_score(model, np.array([[0.0], [1.0], [2.0], [5.0]]))
    assert np.all(np.diff(s_test[:3]) > 0)  # monotone in the bin's event rate
    assert s_test[3] == s_test[2]  # beyond the training range: the outer bin


def test_intervals_are_seeded_and_nested():
    rng = np.random.default_rng(3)
    y_tr, y_te = rng.random(300) < 0.1, rng.random(300) < 0.1
    x_tr, x_te = y_tr + rng.normal(0, 0.8, 300), y_te + rng.normal(0, 0.8, 300)
    a = evaluate_one(naive_bayes(quick_cfg()), x_tr, y_tr, x_te, y_te, quick_cfg(bootstrap=boot(100)))[0]
    again = evaluate_one(naive_bayes(quick_cfg()), x_tr, y_tr, x_te, y_te, quick_cfg(bootstrap=boot(100)))[0]
    other = evaluate_one(naive_bayes(quick_cfg()), x_tr, y_tr, x_te, y_te,
                         quick_cfg(bootstrap={"n_boot": 100, "seed": 1}))[0]
    narrow = evaluate_one(naive_bayes(quick_cfg()), x_tr, y_tr, x_te, y_te,
                          quick_cfg(bootstrap={"n_boot": 100, "level": 0.5}))[0]
    assert (a["ci_low"], a["ci_high"]) == (again["ci_low"], again["ci_high"])
    assert (a["ci_low"], a["ci_high"]) != (other["ci_low"], other["ci_high"])
    assert a["ci_low"] < narrow["ci_low"] < narrow["ci_high"] < a["ci_high"]


def test_nonfinite_predictors_are_excluded_and_counted():
    rng = np.random.default_rng(4)
    y = rng.random(200) < 0.3
    x = y + rng.normal(0, 0.1, 200)
    x_bad = x.copy()
    x_bad[:7] = np.nan
    cfg = quick_cfg()
    row, _ = evaluate_one(naive_bayes(cfg), x, y, x_bad, y, cfg)
    assert row["n_excluded"] == 7 and row["n_test"] == 193 and row["status"] == "ok"


# ----------------------------------------------------------------------------------
# The AUC table.

def test_auc_table_has_one_row_per_event_activation_predictor_time(predicted, runs):
    cfg, _, tables = predicted
    auc, roc = tables["auc"], tables["roc"]
    assert list(auc.columns) == AUC_COLUMNS
    n_pred = len(predictor_specs(runs, LABELS[0], cfg))
    # FTLEs of two forms, pairs and their mean from two starts, the loss, two SVMs
    assert n_pred == 4 + 4 + 2 * (6 + 1) + 1 + 2
    assert len(predictor_specs(synthetic_runs(n=2, P=9), LABELS[0], cfg)) == 9 + 9 + 2 * (36 + 1) + 1 + 2
    # low for relu and tanh, high for relu only
    assert len(auc) == 3 * len(LABELS) * n_pred
    assert not auc.duplicated(["event", "activation", "init", "predictor", "t"]).any()
    assert set(auc.groupby(["event", "activation"]).size().index) == {("low", "relu"), ("high", "relu"), ("low", "tanh")}
    assert sorted(set(auc["t_label"])) == sorted(LABELS) and set(auc["interval"]) == set(CHECKPOINTS)
    ok = auc[auc["status"] == "ok"]
    assert len(ok) == len(auc)
    assert (ok["positives"] > 0).all() and (ok["n_test"] + ok["n_train"] == 120).all()
    # the predictors built from the final loss separate the events; noise does not
    sep = ok[ok["predictor"].isin(["ftle_local_1", "loss"])]
    assert (sep["auc"] > 0.97).all() and (sep["auc_cv"] > 0.9).all()
    noise = ok[ok["group"] == "cos"]
    assert abs(noise["auc"].mean() - 0.5) < 0.05
    assert (ok["ci_low"] <= ok["ci_high"]).all() and (ok["delong_low"] <= ok["auc"]).all()
    assert set(roc["predictor"]) == set(ok["predictor"])
    assert roc[["fpr", "tpr"]].min().min() >= 0.0 and roc[["fpr", "tpr"]].max().max() <= 1.0


def test_best_table_chooses_by_cross_validation_and_keeps_its_draws(predicted):
    cfg, _, tables = predicted
    best, auc, draws = tables["best"], tables["auc"], tables["draws"]
    assert list(best.columns) == BEST_COLUMNS and list(draws.columns) == DRAW_COLUMNS
    # one row per (event, setting, t, group, form): ftle x 2 forms, cos and mean_cos x 2 starts, loss, svm x 2 forms
    assert len(best) == 3 * len(LABELS) * 9
    ftle = best[(best["group"] == "ftle") & (best["form"] == "local")]
    assert (ftle["predictor"] == "ftle_local_1").all() and (ftle["n_candidates"] == 4).all()
    for r in best.itertuples():
        members = auc[(auc["event"] == r.event) & (auc["activation"] == r.activation) & (auc["t"] == r.t)
                      & (auc["group"] == r.group) & (auc["form"] == r.form)]
        assert len(members) == r.n_candidates
        chosen = members[members["predictor"] == r.predictor].iloc[0]
        assert chosen["auc_cv"] == members["auc_cv"].max() and chosen["auc"] == r.auc
        tied = members[members["auc_cv"] >= members["auc_cv"].max() - 1e-12]
        assert r.n_tied == len(tied) and (r.tied_auc_min, r.tied_auc_max) == (tied["auc"].min(), tied["auc"].max())
    # the draws behind every best row's interval
    assert len(draws) == len(best) * cfg.n_boot
    d = draws[(draws["event"] == "high") & (draws["group"] == "ftle") & (draws["form"] == "local")
              & (draws["interval"] == CHECKPOINTS[0])]["auc"]
    row = ftle[(ftle["event"] == "high") & (ftle["interval"] == CHECKPOINTS[0])].iloc[0]
    assert row["ci_low"] == np.quantile(d, 0.025) and row["ci_high"] == np.quantile(d, 0.975)


def test_too_few_positives_are_flagged_not_crashed():
    runs = synthetic_runs(n=40, settings=(("relu", "he"),), p_high=0.0, P=2)
    runs.loc[runs.index[:2], "final_loss"] = 150.0  # two high runs: one per half at most
    cfg = quick_cfg(bootstrap=boot(10))
    tables = predict_all(runs, CHECKPOINTS, DT, cfg)
    auc, roc = tables["auc"], tables["roc"]
    high = auc[auc["event"] == "high"]
    assert len(high) > 0 and high["auc"].isna().all()
    assert high["status"].str.startswith("too few events").all()
    assert (high["positives"] + high["positives_train"] == 2).all()
    assert "positives in the" in high["status"].iloc[0]
    assert not (roc["event"] == "high").any()
    low = auc[auc["event"] == "low"]
    assert (low["status"] == "ok").all() and low["auc"].notna().all()
    t1 = table1(tables["best"], cfg)
    assert len(t1) == 4 and t1[[c for c in t1 if c.startswith("auc_t")]].isna().all().all()
    assert "too few events" in markdown.table1_markdown(t1, cfg=cfg)


def test_predict_all_on_a_tiny_simulated_table():
    """The column names of the real runs table: simulate a few runs and predict."""
    cfg = load_config(__import__("pathlib").Path(__file__).parents[1] / "workflow/presets/smoke.yaml")
    runs = pd.concat([simulate_runs(cfg, "relu", "he", range(8)), simulate_runs(cfg, "tanh", "he", range(8))],
                     ignore_index=True)
    checkpoints = cfg["lyapunov"]["checkpoints"]
    pcfg = quick_cfg(events={"low_loss": 12.0, "high_loss": 14.0}, min_events=2)
    auc = predict_all(runs, checkpoints, cfg["training"]["dt"], pcfg)["auc"]
    assert len(auc) == 3 * len(checkpoints) * (9 + 9 + 2 * (36 + 1) + 1 + 2)
    assert set(auc["t_label"]) == set(checkpoint_labels(checkpoints, cfg["training"]["dt"]))
    assert auc["status"].notna().all()


def test_no_runs_to_predict_gives_empty_tables_not_errors():
    runs = synthetic_runs(n=10, settings=(("relu", "wide"),), P=2)  # prediction uses He runs only
    cfg = quick_cfg()
    tables = predict_all(runs, CHECKPOINTS, DT, cfg)
    assert len(tables["auc"]) == 0 and list(tables["auc"].columns) == AUC_COLUMNS and len(tables["roc"]) == 0
    assert len(tables["best"]) == 0 and len(tables["draws"]) == 0
    restart = restart_policy(runs, tables["best"], CHECKPOINTS, DT, 36667, cfg)
    assert len(restart) == 0 and list(restart.columns) == RESTART_COLUMNS
    t1 = table1(tables["best"], cfg)
    assert len(t1) == 4 and "nothing to show" in markdown.table1_markdown(t1, cfg=cfg)
    md = markdown.comparison_markdown(runs, tables, restart, load_config(), synthetic_windows(runs))
    assert "No AUCs were computed." in md and "Not computed: no setting of the config is predicted for it" in md


def test_result_does_not_depend_on_row_order():
    cfg = quick_cfg(bootstrap=boot(3))
    small = synthetic_runs(n=60, P=2)
    a = predict_all(small, CHECKPOINTS[:1], DT, cfg)
    b = predict_all(small.iloc[::-1], CHECKPOINTS[:1], DT, cfg)
    c = predict_all(small, CHECKPOINTS[:1], DT, cfg, n_jobs=2)
    for name in ("auc", "best", "draws", "roc"):
        pd.testing.assert_frame_equal(a[name], b[name])
        pd.testing.assert_frame_equal(a[name], c[name])


# ----------------------------------------------------------------------------------
# Table I.

def test_table1_has_the_four_rows(predicted):
    cfg, _, tables = predicted
    t1 = table1(tables["best"], cfg)
    assert t1["row"].tolist() == list(TABLE1_ROWS.values())
    for lab in LABELS:
        assert t1[f"auc_t{lab}"].notna().all()
        assert t1.loc[t1["row"] == "C(t)", f"predictor_t{lab}"].item() == "loss"
    # the best FTLE is chosen by cross-validation on the training half: the one built from the final loss
    assert (t1.loc[t1["row"] == "best lambda_i(t)", [f"predictor_t{lab}" for lab in LABELS]] == "ftle_local_1").all().all()
    md = markdown.table1_markdown(t1, cfg=cfg)
    table_rows = [line for line in md.splitlines() if line.startswith("| ") and "n/a" not in line]
    for name in TABLE1_ROWS.values():
        assert sum(line.startswith(f"| {name} |") for line in table_rows) == 4  # AUC, DeLong, chosen, counts
    # every table line has one cell per checkpoint and a name: the '|' of '|cos theta_i,j|' is escaped
    for line in (line for line in md.splitlines() if line.startswith("|")):
        assert len(re.split(r"(?<!\\)\|", line)) == len(LABELS) + 3, line
    assert "\\|cos theta_" in md
    assert re.search(r"\(\d+ of 6 tied; test AUC \d\.\d{3}-\d\.\d{3}\)|no tie, 6 candidates", md)


# ----------------------------------------------------------------------------------
# Restart policy.

def test_expected_compute():
    good = np.array([True, False, True, False])
    assert expected_compute(np.zeros(4, bool), good, 0.1) == pytest.approx(2.0)
    assert expected_compute(~good, good, 0.1) == pytest.approx((0.1 * 0.5 + 0.5) / 0.5)
    assert expected_compute(np.ones(4, bool), good, 0.1) == np.inf
    assert choose_threshold(np.array([0.0, 1.0, 0.0, 1.0]), good, 0.1) == 1.0
    assert choose_threshold(np.array([0.0, 1.0, 0.0, 1.0]), good, 1.0) == np.inf  # stopping late never pays


def test_restart_policy_table(predicted, runs):
    _, split, tables = predicted
    cfg = quick_cfg(bootstrap=boot(30))
    table = restart_policy(runs, tables["best"], CHECKPOINTS, DT, 36667, cfg, split)
    assert list(table.columns) == RESTART_COLUMNS
    high, low = (table[table["policy"] == policy] for policy in ("avoid_high", "reach_low"))
    assert set(high["activation"]) == {"relu"} and set(low["activation"]) == set(runs["activation"])
    assert len(high) == len(CHECKPOINTS) * 5 and len(low) == len(CHECKPOINTS) * 5 * len(set(runs["activation"]))
    for policy in (high, low):
        oracle = policy[policy["predictor"] == "oracle"]
        assert (oracle["missed_bad"] == 0).all() and (oracle["stopped_good"] == 0).all()
        assert (policy["saving"] <= oracle["saving"].max() + 1e-12).all()
        assert policy["saving_train"].notna().all()
    loss = high[high["predictor"] == "loss"]
    assert (loss["saving"] > 0).all() and (loss["saving_ci_low"] <= loss["saving"]).all()
    # a good network is a low one: without a policy it takes 1 / (share of low runs) runs
    train, test = setting_halves(runs, split, "relu", "he")
    p_low = event_labels(test, "low", cfg.low_loss, cfg.high_loss).mean()
    relu = low[low["activation"] == "relu"]
    np.testing.assert_allclose(relu["compute_without"], 1.0 / p_low)
    oracle = relu[relu["predictor"] == "oracle"]
    frac = oracle["cost_fraction"].to_numpy(float)
    np.testing.assert_allclose(oracle["compute_with"], (frac * (1 - p_low) + p_low) / p_low)


def test_reach_low_stops_on_a_low_score_of_the_low_event():
    """C(t) that is the final loss itself: the policy stops the runs not ending low (a low
    loss is a low score) and nearly reaches the oracle (its 10 bins leave one bin mixed);
    stopping on a high score would stop the good runs and save nothing."""
    runs = synthetic_runs(n=400, settings=(("relu", "he"),), P=2, labels=["0.015"])
    runs["loss_t0.015"] = runs["final_loss"]
    cfg = quick_cfg(n_bins=10)
    split = split_runs(runs, cfg)
    table = restart_policy(runs, predict_all(runs, [500], DT, cfg, split)["best"], [500], DT, 36667, cfg, split)
    low = table[table["policy"] == "reach_low"].set_index("predictor")
    assert low.loc["loss", "stopped_good"] <= 2 and low.loc["loss", "stopped_bad"] > 100
    assert low.loc["loss", "saving"] > 0.8 * low.loc["oracle", "saving"] > 0.5
    assert low.loc["loss", "threshold"] < np.inf


def test_restart_threshold_comes_from_out_of_fold_scores():
    """A predictor without information: naive Bayes scores its own training runs well (the
    bins that hold the few training positives score high), so an in-sample threshold
    promises a saving; the out-of-fold scores show that there is none."""
    runs = synthetic_runs(n=400, settings=(("relu", "he"),), P=2, p_high=0.05, labels=["0.015"])
    runs["loss_t0.015"] = np.random.default_rng(0).normal(size=len(runs))  # no information about c_f
    cfg = quick_cfg(n_bins=20)
    split = split_runs(runs, cfg)
    table = restart_policy(runs, predict_all(runs, [500], DT, cfg, split)["best"], [500], DT, 36667, cfg, split)
    loss = table[(table["predictor"] == "loss") & (table["policy"] == "avoid_high")].iloc[0]
    train, _ = setting_halves(runs, split, "relu", "he")
    high, frac = event_labels(train, "high", 4.0, 100.0), 500 / 36667
    x = train[["loss_t0.015"]].to_numpy()
    s = naive_bayes_scores(x, high, [x], 20, "quantile", cfg.m_estimate)[0][:, 0]
    in_sample = s >= choose_threshold(s, ~high, frac)
    promised = 1 - expected_compute(in_sample, ~high, frac) / expected_compute(np.zeros(len(x), bool), ~high, frac)
    assert promised > 0.03 and loss["saving_train"] < promised / 4
    assert loss["stopped_bad"] <= 1 and loss["saving"] <= 0.01


# ----------------------------------------------------------------------------------
# The comparison with the paper.

def test_comparison_document_contains_each_claim(predicted, runs):
    cfg, split, tables = predicted
    restart = restart_policy(runs, tables["best"], CHECKPOINTS, DT, 36667, cfg, split)
    full = load_config({"training": {"n_intervals": 36667, "steps_per_interval": 20, "dt": DT},
                        "lyapunov": {"checkpoints": CHECKPOINTS, "clv_window": 10},
                        "predict": {"bootstrap": {"n_boot": 20}, "min_positives": 15}})
    cfg = PredictConfig.from_config(full)
    md = markdown.comparison_markdown(runs, tables, restart, full, synthetic_windows(runs))
    for text in ("three clusters of c_f", "no c_f > 100", "wide-range init", "33% of ReLU + He", "62% of tanh + He",
                 "3% of ReLU + He runs have three positive", "no tanh + He run has three positive",
                 "only when the three leading LEs are positive", "mean |cos theta_ij| between CLVs",
                 "pairs (1,2), (1,3), (2,3), (3,4), (4,5), (5,6) show tangencies", "from t = 0.03 on", "Table I",
                 "Local and cumulative FTLE forms", "restart policies", "raw (> 0)", "with tolerance (> 1e-06)",
                 "- Rule: ", "CLV angles: the start, the window", "Which reading the evidence supports",
                 "start-independent CLVs"):
        assert text in md, text
    for values in paper.TABLE1.values():
        for v in values:
            assert f"| {v:.4f} |" in md
    found = claims.compare_claims(runs, tables, cfg, 1e-6, AngleSetup.from_config(full))
    assert len({c.key for c in found}) == len(found)
    by_key = {c.key: c for c in found}
    # the synthetic table has no tanh run above 100: the tanh claim holds
    assert by_key["final_loss_tanh_he"].verdicts == (("", "agree"),)
    # Table I at t = 0.06 and 0.09 was not computed here (checkpoints 500, 1000 only)
    assert by_key["table1_ftle_t0.06"].verdicts == (("", "not testable: not computed"),)
    assert ("| best lambda_i(t) | 0.06 | 0.9989 | not computed (checkpoint not in the config) | - | "
            "not testable: not computed |") in md
    # the computed cells rest on the few high-loss runs of the test half: no verdict
    cell = by_key["table1_loss_t0.015"]
    positives = int(cell.values["row"]["positives"])
    assert positives < cfg.min_positives and cell.verdicts == (("", f"not testable: {positives} positives"),)
    # P = 4 here: the three most stable FTLEs are lambda_2..lambda_4
    stable = by_key["stable_ftle_high_early"]
    assert [q for q, _ in stable.values["rows"]] == [2, 3, 4]
    assert stable.verdicts == (("", f"not testable: {positives} positives"),)
    assert "lambda_2: " in md and "lambda_7" not in md
    # the low event has 16 and 18 test positives, enough for min_positives = 15: a verdict for both activations
    assert [v for _, v in by_key["ftle_predict_low"].verdicts] != [] and all(
        v in ("agree", "differ") for _, v in by_key["ftle_predict_low"].verdicts)
    # the summary counts every verdict part, by kind
    n_parts = sum(len(c.verdicts) for c in found)
    assert f"Summary over {len(found)} claims ({n_parts} verdicts;" in md
    assert re.search(r"\d+ not testable, \d+ does not apply\.", md)


def test_binning_cap_matches_a_perfect_predictor():
    """The bound on the naive-Bayes AUC of a rare event stated in the comparison."""
    runs = synthetic_runs(n=2000, settings=(("relu", "he"),), p_high=0.03, P=2, labels=["0.015"])
    cfg = quick_cfg(n_bins=10)
    share, bound = comparison.binning_auc_cap(runs, cfg)
    y = event_labels(runs, "high", 4.0, 100.0)
    assert share == pytest.approx(y.mean())
    x = runs["loss_t0.015"].to_numpy()[:, None]  # ranks the runs perfectly by their final loss
    s = naive_bayes_scores(x, y, [x], cfg.n_bins, cfg.bin_strategy, cfg.m_estimate)[0]
    assert auc_columns(y, s)[0] == pytest.approx(bound, abs=0.01)
    assert (comparison.binning_auc_cap(runs, quick_cfg(n_bins=5))[1] < bound
            < comparison.binning_auc_cap(runs, quick_cfg(n_bins=20))[1])


def test_share_statistics():
    lo, hi = stats.wilson(33, 100)
    assert lo < 0.33 < hi and hi - lo < 0.2
    assert np.isnan(stats.wilson(0, 0)[0])
    assert stats.Share(33, 100).verdict(0.33) == "agree"
    assert stats.Share(33, 100).verdict(0.62) == "differ"
    assert stats.Share(0, 0).verdict(0.33) == "not testable"
    lo_d = stats.bootstrap_difference(rng_diff := np.random.default_rng(9).normal(0, 2, 400),
                                      np.random.default_rng(8).normal(0, 1, 400), np.std, 300)
    assert lo_d[0] == pytest.approx(np.std(rng_diff) - np.std(np.random.default_rng(8).normal(0, 1, 400)))
    assert 0 < lo_d[1] < lo_d[0] < lo_d[2]
    rng = np.random.default_rng(0)
    at, _ = stats.density_modes(np.r_[rng.normal(0, 0.1, 300), rng.normal(2, 0.1, 300), rng.normal(4, 0.1, 30)], 0.1)
    np.testing.assert_allclose(at, [0, 2, 4], atol=0.1)  # the small cluster is a mode too
    assert len(stats.density_modes(rng.normal(0, 1, 500), 0.5)[0]) == 1
    # too few values make no density; equal values are one mode
    assert [len(x) for x in stats.density_modes(np.array([1.568, 1.606]), 0.1)] == [0, 0]
    assert len(stats.density_modes(np.array([1.0, 2.0, np.nan, np.inf]), 0.1)[0]) == 0
    assert stats.density_modes(np.full(5, 0.7), 0.1)[0].tolist() == [0.7]


def test_predictor_names_parse_back():
    """Every predictor name of the AUC table says its group, form and exponent or pair."""
    from weightdyn.analysis.predictors import parse_name

    runs = synthetic_runs(n=4, settings=(("relu", "he"),), P=4)
    specs = predictor_specs(runs, checkpoint_labels(CHECKPOINTS, DT)[0], quick_cfg())
    assert len(specs) == 2 * 4 + 2 * (6 + 1) + 1 + 2
    for spec in specs:
        parsed = parse_name(spec.name)
        assert (parsed.group, parsed.form) == (spec.group, spec.form)
        expected = {1: ("ftle",), 2: ("cos",)}
        assert len(parsed.indices) == next((n for n, g in expected.items() if spec.group in g), 0)
    assert parse_name("cos_random_3_4").indices == (3, 4) and parse_name("ftle_cum_12").indices == (12,)
    assert parse_name("cos_identity_3_4").form == "identity" and parse_name("mean_cos_random").form == "random"
    for bad in ("ftle_local_", "cos_random_1", "cos_past_1_2", "svm_ftle", "oracle", "loss_t0.03"):
        with pytest.raises(ValueError):
            parse_name(bad)
