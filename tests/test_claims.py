"""The paper's claims as data: verdicts on run and AUC tables built to make each claim hold
or fail, and their rendering in the comparison document."""
import numpy as np
import pandas as pd
import pytest

from weightdyn.analysis import paper
from weightdyn.analysis.claims import compare_claims
from weightdyn.analysis.config import PredictConfig
from weightdyn.analysis.evaluate import AUC_COLUMNS
from weightdyn.analysis.restart import RESTART_COLUMNS
from weightdyn.engine import columns as col
from weightdyn.pipeline.config import load_config
from weightdyn.report.markdown import comparison_markdown

P = 6  # enough exponents for the paper's tangent pairs, up to (5, 6)
CFG = load_config({"predict": {"bootstrap": {"n_boot": 0}}})
PCFG = PredictConfig.from_config(CFG)


def setting(activation, init, final_loss, seed=0, **columns):
    """Runs of one setting: final losses given; exponents negative, |cos| small unless given."""
    n = len(final_loss)
    rng = np.random.default_rng(seed)
    out = {"seed": np.arange(n), "activation": activation, "init": init,
           col.FINAL_LOSS: np.asarray(final_loss, dtype=np.float64), col.DIVERGED: np.zeros(n, bool),
           col.DIVERGED_STEP: np.full(n, -1)}
    for q in range(1, P + 1):
        out[col.le(q)] = -1.0 - q + rng.uniform(0, 0.1, n)
    for i, j in col.pairs(P):
        out[col.cos_end(i, j)] = rng.uniform(0.0, 0.05, n)
    out.update(columns)
    frame = pd.DataFrame(out)
    frame[col.MEAN_COS_END] = frame[[col.cos_end(i, j) for i, j in col.pairs(P)]].mean(axis=1)
    return frame


def three_clusters(n_low, n_mid, n_high):
    return np.r_[np.full(n_low, 2.0), np.linspace(10.0, 50.0, n_mid), np.linspace(150.0, 300.0, n_high)]


def claims_of(runs, auc=None):
    auc = pd.DataFrame(columns=AUC_COLUMNS) if auc is None else auc
    return {c.key: c for c in compare_claims(runs, auc, PCFG, 1e-6, 0.9, 0.1, 0.95)}


def verdict(c):
    return "; ".join(v if not part else f"{part}: {v}" for part, v in c.verdicts)


def test_final_loss_claims():
    runs = pd.concat([setting("relu", "he", three_clusters(10, 20, 10)),
                      setting("tanh", "he", three_clusters(10, 30, 0)),
                      setting("relu", "wide", np.geomspace(1.0, 1000.0, 40)),
                      setting("tanh", "wide", np.r_[np.geomspace(1.0, 1000.0, 39), 150.0])], ignore_index=True)
    c = claims_of(runs)
    assert verdict(c["final_loss_relu_he"]) == "agree"
    assert c["final_loss_relu_he"].values["high"].k == 10 and c["final_loss_relu_he"].values["n"] == 40
    assert verdict(c["final_loss_tanh_he"]) == "agree"
    assert verdict(c["final_loss_wide"]) == "agree"
    # a tanh + He run above 100; no high cluster for ReLU + He; narrow wide-range losses
    runs2 = pd.concat([setting("relu", "he", three_clusters(10, 20, 0)),
                       setting("tanh", "he", three_clusters(10, 29, 1)),
                       setting("relu", "wide", np.full(40, 20.0)),
                       setting("tanh", "wide", np.full(40, 20.0))], ignore_index=True)
    c2 = claims_of(runs2)
    assert verdict(c2["final_loss_relu_he"]) == "differ"
    assert verdict(c2["final_loss_tanh_he"]) == "differ"
    assert verdict(c2["final_loss_wide"]) == "differ"
    assert verdict(claims_of(runs2[runs2["init"] == "he"])["final_loss_wide"]) == "not testable"


def test_positive_exponent_shares_raw_and_with_tolerance():
    n = 300
    le1 = np.r_[np.full(60, 0.5), np.full(39, 1e-9), np.full(n - 99, -1.0)]  # 33% raw, 20% with tolerance
    relu = setting("relu", "he", np.full(n, 10.0), **{col.le(1): le1})
    tanh_le1 = np.r_[np.full(186, 0.5), np.full(n - 186, -1.0)]  # 62%
    tanh = setting("tanh", "he", np.full(n, 10.0), **{col.le(1): tanh_le1})
    c = claims_of(pd.concat([relu, tanh], ignore_index=True))
    assert c["le1_positive_relu_he"].verdicts == (("raw", "agree"), ("with tolerance", "differ"))
    assert (c["le1_positive_relu_he"].values["raw"].k, c["le1_positive_relu_he"].values["tol"].k) == (99, 60)
    assert c["le1_positive_tanh_he"].verdicts == (("raw", "agree"), ("with tolerance", "agree"))
    assert c["le1_positive_tanh_he"].statement == "62% of tanh + He runs have a positive first LE"
    # the paper: no tanh + He run with three positive leading exponents, 3% of ReLU + He runs
    assert verdict(c["three_positive_tanh_he"]) == "raw: agree; with tolerance: agree"
    assert verdict(c["three_positive_relu_he"]) == "raw: differ; with tolerance: differ"
    lead = {col.le(q): np.r_[np.full(9, 0.5), np.full(n - 9, -1.0)] for q in (1, 2, 3)}  # 3%
    c3 = claims_of(pd.concat([setting("relu", "he", np.full(n, 10.0), **lead),
                              setting("tanh", "he", np.full(n, 10.0), **lead)], ignore_index=True))
    assert verdict(c3["three_positive_relu_he"]) == "raw: agree; with tolerance: agree"
    assert verdict(c3["three_positive_tanh_he"]) == "raw: differ; with tolerance: differ"


def test_high_losses_need_three_positive_exponents():
    final = three_clusters(10, 20, 10)
    high = final > 100
    lead = {col.le(q): np.where(high, 0.3, -1.0) for q in (1, 2, 3)}
    c = claims_of(setting("relu", "he", final, **lead))
    assert verdict(c["high_loss_three_positive"]) == "raw: agree; with tolerance: agree"
    lead[col.le(3)] = np.where(high, 1e-9, -1.0)  # positive only up to rounding
    c = claims_of(setting("relu", "he", final, **lead))
    assert verdict(c["high_loss_three_positive"]) == "raw: agree; with tolerance: differ"
    assert verdict(claims_of(setting("relu", "he", three_clusters(10, 20, 0)))["high_loss_three_positive"]) \
        == "not testable"


def test_mean_cos_of_high_loss_runs():
    final = three_clusters(10, 20, 10)
    pairs = col.pairs(P)
    small = {col.cos_end(i, j): np.where(final > 100, 0.01, 0.5) for i, j in pairs}
    runs = setting("relu", "he", final, **small)
    assert verdict(claims_of(runs)["mean_cos_high"]) == "agree"
    large = {col.cos_end(i, j): np.where(final > 100, 0.9, 0.5) for i, j in pairs}
    assert verdict(claims_of(setting("relu", "he", final, **large))["mean_cos_high"]) == "differ"


def tangent(activation, pairs_near_one, n=40):
    near_one = {col.cos_end(i, j): np.full(n, 0.99) for i, j in pairs_near_one}
    return setting(activation, "he", np.full(n, 10.0), **near_one)


def test_tangent_pairs():
    both = pd.concat([tangent("relu", paper.TANGENT_PAIRS), tangent("tanh", paper.TANGENT_PAIRS + [(1, 6)])],
                     ignore_index=True)
    c = claims_of(both)["tangent_pairs"]
    assert verdict(c) == "agree" and c.values["common"] == paper.TANGENT_PAIRS
    some = pd.concat([tangent("relu", paper.TANGENT_PAIRS), tangent("tanh", paper.TANGENT_PAIRS[:2])],
                     ignore_index=True)
    assert verdict(claims_of(some)["tangent_pairs"]) == "partly"
    none = pd.concat([tangent("relu", [(1, 6)]), tangent("tanh", [(1, 6)])], ignore_index=True)
    assert verdict(claims_of(none)["tangent_pairs"]) == "differ"
    assert verdict(claims_of(tangent("relu", paper.TANGENT_PAIRS))["tangent_pairs"]) == "not testable"


def auc_rows(*rows):
    """An AUC table of He rows, each (event, activation, predictor, group, form, interval,
    auc, ci_low, ci_high)."""
    records = []
    for event, act, predictor, group, form, interval, auc, lo, hi in rows:
        records.append(dict(event=event, activation=act, init="he", predictor=predictor, group=group, form=form,
                            t=interval * 3e-5, t_label=paper.CHECKPOINTS[interval], interval=interval, auc=auc,
                            ci_low=lo, ci_high=hi, auc_train=auc, n_train=100, n_test=100, positives=10,
                            positives_train=10, n_excluded=0, status="ok"))
    return pd.DataFrame(records, columns=AUC_COLUMNS)


def test_prediction_claims_from_an_auc_table():
    runs = pd.concat([setting("relu", "he", three_clusters(10, 20, 10)),
                      setting("tanh", "he", three_clusters(10, 30, 0))], ignore_index=True)
    rows = []
    for interval in paper.CHECKPOINTS:
        rows += [("high", "relu", "mean_cos_past", "mean_cos", "past", interval, 0.9, 0.8, 0.95),
                 ("high", "relu", "cos_past_1_2", "cos", "past", interval, 0.92 if interval == 500 else 0.8, 0.9, 0.95)]
        for act in ("relu", "tanh"):
            lo = 0.4 if (act, interval) == ("tanh", 2000) else 0.6
            rows.append(("low", act, "ftle_local_1", "ftle", "local", interval, 0.7, lo, 0.8))
    rows += [("high", "relu", f"ftle_local_{q}", "ftle", "local", 500, 0.97, 0.95, 0.98) for q in (4, 5, 6)]
    rows += [("low", "relu", "cos_past_1_2", "cos", "past", 500, 0.55, 0.5, 0.6)]
    c = claims_of(runs, auc_rows(*rows))
    assert verdict(c["ftle_predict_low"]) == "relu: agree; tanh: differ"
    assert [q for q, _ in c["stable_ftle_high_early"].values["rows"]] == [4, 5, 6]  # the last three of P = 6
    assert verdict(c["stable_ftle_high_early"]) == "agree"
    # the mean beats every pair except (1, 2) at t = 0.015
    assert verdict(c["mean_cos_best_angle"]) == "partly"
    assert "among the 15 pairs" in c["mean_cos_best_angle"].note
    assert verdict(c["ftle_earlier_than_angles"]) == "agree"  # 0.97 > 0.92 (high), 0.7 > 0.55 (low)
    # Table I: the best |cos| at t = 0.015 holds the paper's 0.919 in its interval; the best
    # FTLE (0.97 [0.95, 0.98]) lies below the paper's 0.988; t = 0.03 has no FTLE row
    assert verdict(c["table1_cos_t0.015"]) == "agree"
    assert verdict(c["table1_ftle_t0.015"]) == "differ"
    assert verdict(c["table1_ftle_t0.03"]) == "not testable"
    md = comparison_markdown(runs, auc_rows(*rows), pd.DataFrame(columns=RESTART_COLUMNS), CFG)
    assert "| best lambda_i(t) | 0.015 | 0.9878 | 0.970 [0.950, 0.980] (lambda_4 (local)) | 100 test runs, 10 " \
           "positives | differ (ours lower) |" in md
    assert "- Verdict: **relu: agree; tanh: differ**" in md
    assert "lambda_4: 0.970 [0.950, 0.980]; lambda_5: 0.970 [0.950, 0.980]; lambda_6: " in md


def test_stable_ftles_below_high_accuracy_differ():
    runs = setting("relu", "he", three_clusters(10, 20, 10))
    rows = [("high", "relu", f"ftle_local_{q}", "ftle", "local", 500, 0.97, lo, 0.99) for q, lo in ((4, 0.95), (5, 0.5),
                                                                                                  (6, 0.95))]
    assert verdict(claims_of(runs, auc_rows(*rows))["stable_ftle_high_early"]) == "differ"
    assert verdict(claims_of(runs, auc_rows(*rows[:2]))["stable_ftle_high_early"]) == "not testable"


@pytest.mark.parametrize("key", ["le1_positive_relu_he", "high_loss_three_positive"])
def test_too_few_exponents_are_not_testable(key):
    runs = setting("relu", "he", three_clusters(10, 20, 10)).drop(columns=[col.le(q) for q in range(1, P + 1)])
    c = claims_of(runs)[key]
    assert verdict(c) == "not testable" and c.kind == "missing_exponents"
