"""The paper's claims as data: verdicts on run and AUC tables built to make each claim hold
or fail, and their rendering in the comparison document."""
import numpy as np
import pandas as pd
import pytest

from weightdyn.analysis import paper
from weightdyn.analysis.angles import AngleSetup
from weightdyn.analysis.claims import compare_claims
from weightdyn.analysis.config import PredictConfig
from weightdyn.analysis.evaluate import AUC_COLUMNS, BEST_COLUMNS, DRAW_COLUMNS
from weightdyn.analysis.restart import RESTART_COLUMNS
from weightdyn.engine import columns as col
from weightdyn.pipeline.config import load_config
from weightdyn.report.markdown import comparison_markdown

from synthetic_clv import synthetic_windows

P = 6  # enough exponents for the paper's tangent pairs, up to (5, 6)
CFG = load_config({"predict": {"bootstrap": {"n_boot": 0}}})
PCFG = PredictConfig.from_config(CFG)
SETUP = AngleSetup.from_config(CFG)


def setting(activation, init, final_loss, seed=0, **columns):
    """Runs of one setting: final losses given; exponents negative, |cos| small unless given."""
    n = len(final_loss)
    rng = np.random.default_rng(seed)
    out = {"seed": np.arange(n), "activation": activation, "init": init,
           col.FINAL_LOSS: np.asarray(final_loss, dtype=np.float64), col.DIVERGED: np.zeros(n, bool),
           col.DIVERGED_STEP: np.full(n, -1)}
    for q in range(1, P + 1):
        out[col.le(q)] = -1.0 - q + rng.uniform(0, 0.1, n)
    for reading in col.END_READINGS:
        for i, j in col.pairs(P):
            out[col.cos_end(reading, i, j)] = rng.uniform(0.0, 0.05, n)
    for q in range(1, P + 1):
        out[col.start_distance(q)] = np.zeros(n)  # every CLV determined unless given
    out.update(columns)
    frame = pd.DataFrame(out)
    for reading in col.END_READINGS:
        frame[col.mean_cos_end(reading)] = frame[[col.cos_end(reading, i, j) for i, j in col.pairs(P)]].mean(axis=1)
    return frame


def end_cos(values: dict, readings=col.END_READINGS) -> dict:
    """{(i, j): |cos|} as the end-of-training columns of `readings`."""
    return {col.cos_end(reading, i, j): v for reading in readings for (i, j), v in values.items()}


def three_clusters(n_low, n_mid, n_high):
    return np.r_[np.full(n_low, 2.0), np.linspace(10.0, 50.0, n_mid), np.linspace(150.0, 300.0, n_high)]


def no_predictions():
    return {"auc": pd.DataFrame(columns=AUC_COLUMNS), "best": pd.DataFrame(columns=BEST_COLUMNS),
            "draws": pd.DataFrame(columns=DRAW_COLUMNS)}


def claims_of(runs, tables=None):
    return {c.key: c for c in compare_claims(runs, tables or no_predictions(), PCFG, 1e-6, SETUP)}


def verdict(c):
    return "; ".join(v if not part else f"{part}: {v}" for part, v in c.verdicts)


def test_final_loss_claims():
    runs = pd.concat([setting("relu", "he", three_clusters(30, 40, 25)),
                      setting("tanh", "he", three_clusters(30, 30, 0)),
                      setting("relu", "wide", np.geomspace(0.01, 1e5, 60)),
                      setting("tanh", "wide", np.r_[np.geomspace(0.01, 1e5, 59), 150.0])], ignore_index=True)
    c = claims_of(runs)
    assert verdict(c["final_loss_relu_he"]) == "agree"
    assert c["final_loss_relu_he"].values["high"].k == 25 and c["final_loss_relu_he"].values["n"] == 95
    assert len(c["final_loss_relu_he"].values["mode_c"]) == 3 and None not in c["final_loss_relu_he"].values["modes"]
    assert verdict(c["final_loss_tanh_he"]) == "agree"
    assert verdict(c["final_loss_wide"]) == "agree"
    spread = c["final_loss_wide"].values["spread"]["relu"]
    assert spread["wide"] > spread["he"] and 0 < spread["diff"][1] < spread["diff"][0] < spread["diff"][2]
    # a small high cluster (25 of 3025 runs, 0.8%) is a mode of its own range
    rng = np.random.default_rng(4)
    small = np.r_[10 ** rng.normal(0.3, 0.1, 1000), 10 ** rng.normal(0.9, 0.15, 2000), 10 ** rng.normal(2.5, 0.2, 25)]
    assert verdict(claims_of(setting("relu", "he", small))["final_loss_relu_he"]) == "agree"
    # the middle cluster as a shoulder of the low one, not a mode of its own range: differ
    shoulder = np.r_[10 ** rng.normal(0.3, 0.1, 2000), 10 ** rng.normal(0.65, 0.1, 300), 10 ** rng.normal(2.5, 0.2, 25)]
    assert claims_of(setting("relu", "he", shoulder))["final_loss_relu_he"].values["modes"][1] is None
    # too few runs in the high range for a cluster shape: not testable; none at all: differ
    few = claims_of(setting("relu", "he", three_clusters(30, 40, 5)))
    assert verdict(few["final_loss_relu_he"]) == "not testable: 5 runs in the high range"
    # a tanh + He run above 100; no high cluster for ReLU + He; narrow wide-range losses
    runs2 = pd.concat([setting("relu", "he", three_clusters(30, 40, 0)),
                       setting("tanh", "he", three_clusters(30, 29, 1)),
                       setting("relu", "wide", np.full(40, 20.0)),
                       setting("tanh", "wide", np.full(40, 20.0))], ignore_index=True)
    c2 = claims_of(runs2)
    assert verdict(c2["final_loss_relu_he"]) == "differ"
    assert verdict(c2["final_loss_tanh_he"]) == "differ"
    assert verdict(c2["final_loss_wide"]) == "differ"
    assert verdict(claims_of(runs2[runs2["init"] == "he"])["final_loss_wide"]).startswith("not testable")
    # two He clusters whose spread equals that of the wide runs: the interval holds 0
    same = pd.concat([setting("relu", "he", np.r_[np.full(50, 2.0), np.full(50, 50.0)]),
                      setting("relu", "wide", np.r_[np.full(50, 2.0), np.full(50, 50.0)], seed=1),
                      setting("tanh", "he", np.r_[np.full(50, 2.0), np.full(50, 50.0)]),
                      setting("tanh", "wide", np.r_[np.full(49, 2.0), np.full(50, 50.0), [150.0]])], ignore_index=True)
    assert verdict(claims_of(same)["final_loss_wide"]) == "inconclusive"


def test_positive_exponent_shares_raw_and_with_tolerance():
    n = 300
    le1 = np.r_[np.full(60, 0.5), np.full(39, 1e-9), np.full(n - 99, -1.0)]  # 33% raw, 20% with tolerance
    relu = setting("relu", "he", np.full(n, 10.0), **{col.le(1): le1})
    tanh_le1 = np.r_[np.full(186, 0.5), np.full(n - 186, -1.0)]  # 62%
    tanh = setting("tanh", "he", np.full(n, 10.0), **{col.le(1): tanh_le1})
    c = claims_of(pd.concat([relu, tanh], ignore_index=True))
    assert c["le1_positive_relu_he"].verdicts == (("raw", "agree"), ("with tolerance", "differ"))
    assert (c["le1_positive_relu_he"].values["raw"].k, c["le1_positive_relu_he"].values["tol"].k) == (99, 60)
    # identical raw and tolerance counts give one verdict, not two
    assert c["le1_positive_tanh_he"].verdicts == (("raw = with tolerance", "agree"),)
    assert c["le1_positive_tanh_he"].statement == "62% of tanh + He runs have a positive first LE"
    # the paper: no tanh + He run with three positive leading exponents, 3% of ReLU + He runs
    assert verdict(c["three_positive_tanh_he"]) == "raw = with tolerance: agree"
    assert verdict(c["three_positive_relu_he"]) == "raw = with tolerance: differ"
    lead = {col.le(q): np.r_[np.full(9, 0.5), np.full(n - 9, -1.0)] for q in (1, 2, 3)}  # 3%
    c3 = claims_of(pd.concat([setting("relu", "he", np.full(n, 10.0), **lead),
                              setting("tanh", "he", np.full(n, 10.0), **lead)], ignore_index=True))
    assert verdict(c3["three_positive_relu_he"]) == "raw = with tolerance: agree"
    assert verdict(c3["three_positive_tanh_he"]) == "raw = with tolerance: differ"


def test_high_losses_need_three_positive_exponents():
    final = three_clusters(10, 20, 10)
    high = final > 100
    lead = {col.le(q): np.where(high, 0.3, -1.0) for q in (1, 2, 3)}
    c = claims_of(setting("relu", "he", final, **lead))
    assert verdict(c["high_loss_three_positive"]) == "raw = with tolerance: agree"
    lead[col.le(3)] = np.where(high, 1e-9, -1.0)  # positive only up to rounding
    c = claims_of(setting("relu", "he", final, **lead))
    assert verdict(c["high_loss_three_positive"]) == "raw: agree; with tolerance: differ"
    assert verdict(claims_of(setting("relu", "he", three_clusters(10, 20, 0)))["high_loss_three_positive"]) \
        == "not testable: no high-loss runs"


def test_mean_cos_of_high_loss_runs():
    final = three_clusters(10, 20, 10)
    pairs = col.pairs(P)
    small = end_cos({pair: np.where(final > 100, 0.01, 0.5) for pair in pairs})
    runs = setting("relu", "he", final, **small)
    c = claims_of(runs)
    assert verdict(c["mean_cos_high"]) == "agree" and verdict(c["mean_cos_high_determined"]) == "agree"
    large = end_cos({pair: np.where(final > 100, 0.9, 0.5) for pair in pairs})
    assert verdict(claims_of(setting("relu", "he", final, **large))["mean_cos_high"]) == "differ"
    # in the paper's setup only: the start-independent CLVs show no drop
    mixed = {**end_cos({pair: np.where(final > 100, 0.01, 0.5) for pair in pairs}, [col.PAPER_READING]),
             **end_cos({pair: np.full(len(final), 0.5) for pair in pairs}, col.CLV_STARTS)}
    c = claims_of(setting("relu", "he", final, **mixed))
    assert verdict(c["mean_cos_high"]) == "agree" and verdict(c["mean_cos_high_determined"]) == "inconclusive"
    # where the start sets a vector in every high-loss run, the start-independent claim is not testable
    # one high-loss run among ten cannot reach p < 0.05 (the smallest p is 1/11): not testable, not differ
    few = np.r_[np.full(10, 10.0), 200.0]
    c = claims_of(setting("relu", "he", few, **end_cos({pair: np.where(few > 100, 0.9, 0.5) for pair in pairs})))
    assert verdict(c["mean_cos_high"]) == "not testable: 1 high-loss and 10 other runs cannot reach significance"
    undetermined = {col.start_distance(4): np.where(final > 100, 0.5, 0.0)}
    c = claims_of(setting("relu", "he", final, **small, **undetermined))
    assert verdict(c["mean_cos_high_determined"]).startswith("not testable")
    assert c["mean_cos_high_determined"].values["n_high"] == 0


def tangent(activation, pairs_near_one, n=40, **columns):
    near_one = end_cos({pair: np.full(n, 0.99) for pair in pairs_near_one})
    return setting(activation, "he", np.full(n, 10.0), **near_one, **columns)


def test_tangent_pairs():
    both = pd.concat([tangent("relu", paper.TANGENT_PAIRS), tangent("tanh", paper.TANGENT_PAIRS + [(1, 6)])],
                     ignore_index=True)
    c = claims_of(both)
    assert verdict(c["tangent_pairs"]) == "agree" and c["tangent_pairs"].values["common"] == paper.TANGENT_PAIRS
    assert verdict(c["tangent_pairs_determined"]) == "agree"
    # vectors 4 to 6 set by the start in every run: (3,4), (4,5), (5,6) are undetermined; the
    # verdict rests on (1,2), (1,3), (2,3)
    start_set = {col.start_distance(q): np.full(40, 0.5) for q in (4, 5, 6)}
    both = pd.concat([tangent("relu", paper.TANGENT_PAIRS, **start_set), tangent("tanh", [(1, 2)], **start_set)],
                     ignore_index=True)
    c = claims_of(both)["tangent_pairs_determined"]
    assert c.values["undetermined"] == [(i, j) for i, j in col.pairs(P) if j >= 4]
    assert verdict(c) == "partly"  # of (1,2), (1,3), (2,3) only (1,2) is tangent for tanh
    every = {col.start_distance(q): np.full(40, 0.5) for q in range(2, P + 1)}
    both = pd.concat([tangent("relu", paper.TANGENT_PAIRS, **every), tangent("tanh", paper.TANGENT_PAIRS, **every)],
                     ignore_index=True)
    c = claims_of(both)
    assert verdict(c["tangent_pairs"]) == "agree"
    assert verdict(c["tangent_pairs_determined"]).startswith("not testable: the start")
    some = pd.concat([tangent("relu", paper.TANGENT_PAIRS), tangent("tanh", paper.TANGENT_PAIRS[:2])],
                     ignore_index=True)
    assert verdict(claims_of(some)["tangent_pairs"]) == "partly"
    none = pd.concat([tangent("relu", [(1, 6)]), tangent("tanh", [(1, 6)])], ignore_index=True)
    assert verdict(claims_of(none)["tangent_pairs"]) == "differ"
    assert verdict(claims_of(tangent("relu", paper.TANGENT_PAIRS))["tangent_pairs"]).startswith("not testable")


def prediction_tables(best_rows, member_rows=(), draws=None):
    """Prediction tables of He runs. best_rows and member_rows: (event, activation, group,
    form, interval, predictor, auc, ci_low, ci_high, positives); draws: {(event, activation,
    interval, group, form): resampled AUCs}."""
    def record(event, act, group, form, interval, predictor, auc, lo, hi, positives):
        return dict(event=event, activation=act, init="he", group=group, form=form, t=interval * 3e-5,
                    t_label=paper.CHECKPOINTS[interval], interval=interval, predictor=predictor, auc=auc, ci_low=lo,
                    ci_high=hi, delong_low=lo, delong_high=hi, auc_cv=auc, n_candidates=6 if group == "cos" else 1,
                    n_tied=1, tied_auc_min=auc, tied_auc_max=auc, n_train=100, n_test=100, positives=positives,
                    positives_train=positives, n_excluded=0, status="ok")

    frames = [pd.DataFrame({"event": k[0], "activation": k[1], "init": "he", "interval": k[2], "group": k[3],
                            "form": k[4], "b": np.arange(len(v)), "auc": v}) for k, v in (draws or {}).items()]
    return {"best": pd.DataFrame([record(*r) for r in best_rows], columns=BEST_COLUMNS),
            "auc": pd.DataFrame([record(*r) for r in member_rows], columns=AUC_COLUMNS),
            "draws": pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=DRAW_COLUMNS)}


def test_prediction_claims_from_prediction_tables():
    runs = pd.concat([setting("relu", "he", three_clusters(10, 20, 10)),
                      setting("tanh", "he", three_clusters(10, 30, 0))], ignore_index=True)
    rng = np.random.default_rng(0)
    noise = lambda centre: centre + rng.normal(0, 0.01, 200)  # noqa: E731
    best, draws = [], {}
    for interval in paper.CHECKPOINTS:
        # the best pair beats the mean |cos| clearly at t = 0.015 only
        pair = 0.95 if interval == 500 else 0.8
        best += [("high", "relu", "mean_cos", "identity", interval, "mean_cos_identity", 0.8, 0.78, 0.82, 30),
                 ("high", "relu", "cos", "identity", interval, "cos_identity_1_2", pair, 0.9, 0.97, 30),
                 ("high", "relu", "cos", "random", interval, "cos_random_1_2", 0.5, 0.45, 0.55, 30)]
        draws[("high", "relu", interval, "mean_cos", "identity")] = noise(0.8)
        draws[("high", "relu", interval, "cos", "identity")] = noise(pair)
        for act in ("relu", "tanh"):
            lo = 0.4 if (act, interval) == ("tanh", 2000) else 0.6
            best.append(("low", act, "ftle", "local", interval, "ftle_local_1", 0.7, lo, 0.8, 30))
    best += [("high", "relu", "ftle", "local", 500, "ftle_local_4", 0.97, 0.95, 0.98, 30),
             ("low", "relu", "cos", "identity", 500, "cos_identity_1_2", 0.69, 0.6, 0.78, 30)]
    draws[("high", "relu", 500, "ftle", "local")] = noise(1.0)
    draws[("low", "relu", 500, "ftle", "local")] = noise(0.7)
    draws[("low", "relu", 500, "cos", "identity")] = noise(0.69)  # within the noise of the FTLE's
    members = [("high", "relu", "ftle", "local", 500, f"ftle_local_{q}", 0.97, 0.95, 0.98, 30) for q in (4, 5, 6)]
    tables = prediction_tables(best, members, draws)
    c = claims_of(runs, tables)
    assert verdict(c["ftle_predict_low"]) == "relu: agree; tanh: inconclusive"  # tanh, t = 0.06: [0.4, 0.8]
    assert [q for q, _ in c["stable_ftle_high_early"].values["rows"]] == [4, 5, 6]  # the last three of P = 6
    assert verdict(c["stable_ftle_high_early"]) == "agree"
    # the mean |cos| is among the best within the paired intervals except at t = 0.015
    assert verdict(c["mean_cos_best_angle"]) == "partly"
    # high: the FTLE's paired interval lies above the angle's; low: it holds 0
    assert verdict(c["ftle_earlier_than_angles"]) == "high: agree; low: inconclusive"
    # Table I: the best |cos| at t = 0.015 holds the paper's 0.919 in its interval; the best
    # FTLE (0.97 [0.95, 0.98]) lies below the paper's 0.988; t = 0.03 has no FTLE row
    assert verdict(c["table1_cos_t0.015"]) == "agree"
    assert verdict(c["table1_ftle_t0.015"]) == "differ"
    assert verdict(c["table1_ftle_t0.03"]) == "not testable: not computed"
    md = comparison_markdown(runs, tables, pd.DataFrame(columns=RESTART_COLUMNS), CFG, synthetic_windows(runs))
    assert "| best lambda_i(t) | 0.015 | 0.9878 | 0.970 [0.950, 0.980], DeLong [0.950, 0.980] | 100 test runs, 30 " \
           "positives | differ (ours lower) |" in md
    assert "- Verdict: **relu: agree; tanh: inconclusive**" in md
    assert "lambda_4: 0.970 [0.950, 0.980]; lambda_5: 0.970 [0.950, 0.980]; lambda_6: " in md
    # tanh low-loss, the low event of FTLEs earlier than angles, and the mean |cos| of high-loss runs in
    # both readings (uniform noise: neither lower nor higher)
    assert "4 inconclusive" in md


def test_table1_cells_above_the_binning_ceiling_are_not_testable():
    """With 20 quantile bins (the paper preset) and 1% positives, naive Bayes reaches at most
    1 - (0.05 - 0.01) / (2 x 0.99) = 0.980: the paper's 0.998 for the best FTLE at t = 0.03
    cannot be reached, whatever the predictor; the SVM has no such ceiling."""
    runs = setting("relu", "he", three_clusters(10, 20, 10))
    best = [("high", "relu", "ftle", "local", 1000, "ftle_local_4", 0.975, 0.95, 0.98, 30),
            ("high", "relu", "svm", "local", 1000, "svm_ftle_local", 0.975, 0.95, 0.98, 30)]
    tables = prediction_tables(best)
    tables["best"]["n_test"] = 3000
    p20 = PredictConfig.from_config(load_config({"predict": {"n_bins": 20, "bootstrap": {"n_boot": 0}}}))
    c = {x.key: x for x in compare_claims(runs, tables, p20, 1e-6, SETUP)}
    assert verdict(c["table1_ftle_t0.03"]) == "not testable: above the binning ceiling 0.980"
    assert verdict(c["table1_svm_t0.03"]) == "differ"


def test_verdicts_on_few_positives_are_not_testable():
    """Below min_positives test positives every verdict on an AUC reads 'not testable: N
    positives', whatever the AUC."""
    runs = setting("relu", "he", three_clusters(10, 20, 10))
    best = [("high", "relu", "ftle", "local", i, "ftle_local_4", 0.97, 0.95, 0.98, 5) for i in paper.CHECKPOINTS]
    members = [("high", "relu", "ftle", "local", 500, f"ftle_local_{q}", 0.97, 0.95, 0.98, 5) for q in (4, 5, 6)]
    c = claims_of(runs, prediction_tables(best, members))
    assert verdict(c["table1_ftle_t0.015"]) == "not testable: 5 positives"
    assert verdict(c["stable_ftle_high_early"]) == "not testable: 5 positives"
    assert verdict(c["ftle_earlier_than_angles"]).startswith("high: not testable: 5 positives")


def test_stable_ftles_below_high_accuracy_differ():
    runs = setting("relu", "he", three_clusters(10, 20, 10))
    rows = [("high", "relu", "ftle", "local", 500, f"ftle_local_{q}", 0.97, lo, hi, 30)
            for q, lo, hi in ((4, 0.95, 0.99), (5, 0.5, 0.85), (6, 0.95, 0.99))]
    assert verdict(claims_of(runs, prediction_tables([], rows))["stable_ftle_high_early"]) == "differ"
    rows[1] = ("high", "relu", "ftle", "local", 500, "ftle_local_5", 0.97, 0.5, 0.99, 30)
    assert verdict(claims_of(runs, prediction_tables([], rows))["stable_ftle_high_early"]) == "inconclusive"
    no_interval = [r[:7] + (np.nan, np.nan, 30) for r in rows]  # no resamples: no verdict
    assert verdict(claims_of(runs, prediction_tables([], no_interval))["stable_ftle_high_early"]) == \
        "not testable: no bootstrap interval"
    assert verdict(claims_of(runs, prediction_tables([], rows[:2]))["stable_ftle_high_early"]) == \
        "not testable: not computed"


@pytest.mark.parametrize("key", ["le1_positive_relu_he", "high_loss_three_positive"])
def test_too_few_exponents_are_not_testable(key):
    runs = setting("relu", "he", three_clusters(10, 20, 10)).drop(columns=[col.le(q) for q in range(1, P + 1)])
    c = claims_of(runs)[key]
    assert verdict(c).startswith("not testable") and c.kind == "missing_exponents"
