"""Events for any task: absolute thresholds (the paper's), a quantile of the final loss,
a multiple of the constant predictor's cost; dead networks; where the paper's claims
apply; and the cross-variant summaries built on them."""
import dataclasses

import numpy as np
import pandas as pd
import pytest

from weightdyn.analysis import paper
from weightdyn.analysis.claims import EVENT_FREE_KINDS, compare_claims
from weightdyn.analysis.verdicts import NOT_APPLICABLE, verdict_kind
from weightdyn.analysis.config import PredictConfig
from weightdyn.analysis.events import balanced_quantile, dead, event_labels, thresholds
from weightdyn.analysis.variants import best_early, outcome_shares, restart_picks
from weightdyn.engine.columns import CONSTANT_LOSS
from weightdyn.model.layout import Shape, pack
from weightdyn.model.network import constant_loss, loss
from weightdyn.model.tasks import make_task
from weightdyn.pipeline.config import load_config

VAR_Y = 105.0


def runs_table(final, activation="relu", init="he", diverged=None) -> pd.DataFrame:
    final = np.asarray(final, dtype=np.float64)
    return pd.DataFrame(dict(seed=np.arange(len(final)), activation=activation, init=init, final_loss=final,
                             diverged=np.zeros(len(final), bool) if diverged is None else diverged,
                             **{CONSTANT_LOSS: VAR_Y}))


def relative(**events) -> PredictConfig:
    return PredictConfig.from_config(load_config({"events": events}))


def test_constant_loss_is_the_cost_of_a_dead_relu_network():
    """A ReLU network whose hidden units are off on every sample, with b2 = mean(y), has
    the cost of the constant predictor: summed target variance (Eq. 2)."""
    for target, n1 in (("paper", 2), ("friedman1", 5), ("diabetes", 10)):
        X, y = make_task(target=target, n_inputs=n1)
        shape = (n1, 2, 1)
        W21 = np.zeros((1, 2, n1))
        b1 = np.full((1, 2), -1.0)  # pre-activation -1 on every sample: off
        theta = pack(W21, np.ones((1, 1, 2)), b1, np.full((1, 1), y.mean()))
        assert theta.shape[-1] == Shape.of(shape).P
        assert loss(theta, X, y, shape, "relu")[0] == pytest.approx(constant_loss(y), rel=1e-12)
        assert constant_loss(y) == pytest.approx(np.var(y), rel=1e-12)
    X, y = make_task()
    assert constant_loss(y) == pytest.approx(105.3757, abs=5e-5)  # the paper's data: the dead network's c_f


def test_thresholds_of_each_kind():
    runs = pd.concat([runs_table([1.0, 2.0, 3.0, 4.0, 1e9], diverged=[False] * 4 + [True]),
                      runs_table(np.arange(5.0, 13.0), activation="tanh"),
                      runs_table([0.01, 0.02], init="wide")], ignore_index=True)
    assert thresholds(runs, ("he",), "absolute", 4.0, "absolute", 100.0) == (4.0, 100.0)
    low, high = thresholds(runs, ("he",), "quantile", 0.25, "constant", 0.95)
    # the usable He runs, the wide runs and the diverged one out; each activation weighs
    # one half whatever its runs: ReLU's 4 runs 1/8 each, tanh's 8 runs 1/16 each
    assert low == 2.0
    assert np.quantile(np.r_[1:5, 5:13], 0.25) > 3.5  # pooling the runs would have let tanh's 8 runs pull it up
    assert thresholds(runs, ("he",), "quantile", 0.75, "absolute", 100.0)[0] == 8.0  # 1/2 + 4/16
    assert high == pytest.approx(0.95 * VAR_Y)
    with pytest.raises(ValueError, match="below the high threshold"):
        thresholds(runs, ("he",), "absolute", 200.0, "constant", 0.95)
    with pytest.raises(ValueError, match="no usable runs"):
        thresholds(runs, ("nope",), "quantile", 0.3, "absolute", 100.0)
    with pytest.raises(ValueError, match="constant_loss"):
        thresholds(runs.drop(columns=CONSTANT_LOSS), ("he",), "absolute", 4.0, "constant", 0.95)


def test_balanced_quantile_is_the_inverted_cdf_of_the_equal_weight_mixture():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(40), rng.standard_normal(10) + 3
    for q in (0.05, 0.3, 0.5, 0.9):
        v = balanced_quantile([a, b], q)
        mixture = 0.5 * (a <= v).mean() + 0.5 * (b <= v).mean()
        below = 0.5 * (a < v).mean() + 0.5 * (b < v).mean()
        assert below < q - 1e-12 <= mixture  # v is where the mixture's CDF reaches q
    same = rng.standard_normal(25)
    assert balanced_quantile([same], 0.4) == np.quantile(same, 0.4, method="inverted_cdf")


def test_predict_config_resolves_relative_events_and_refuses_them_unresolved():
    runs = runs_table([1.0, 2.0, 3.0, 4.0, 110.0])
    p = relative(low_kind="quantile", low_loss=0.5, high_kind="constant", high_loss=0.95)
    assert np.isnan(p.low_loss) and np.isnan(p.high_loss) and not p.absolute
    with pytest.raises(ValueError, match="not resolved"):
        event_labels(runs, "low", p.low_loss, p.high_loss)
    r = p.resolve(runs)
    assert (r.low_loss, r.high_loss) == (3.0, pytest.approx(0.95 * VAR_Y))
    assert event_labels(runs, "low", r.low_loss, r.high_loss).tolist() == [True, True, False, False, False]
    assert event_labels(runs, "high", r.low_loss, r.high_loss).tolist() == [False] * 4 + [True]
    assert r.resolve(runs) == r  # resolving again changes nothing
    absolute = PredictConfig.from_config(load_config())
    assert absolute.resolve(runs) == absolute and absolute.absolute
    moved = dataclasses.replace(absolute, low_loss=5.0)  # an absolute threshold is its own level
    assert moved.resolve(runs).low_loss == 5.0


@pytest.mark.parametrize("events, message", [
    ({"low_kind": "median"}, "events.low_kind must be one of"),
    ({"high_kind": "variance"}, "events.high_kind must be one of"),
    ({"low_kind": "quantile", "low_loss": 1.5}, "must lie in \\(0, 1\\)"),
    ({"high_kind": "constant", "high_loss": 0.0}, "must be positive"),
])
def test_bad_event_settings_name_the_field(events, message):
    with pytest.raises(ValueError, match=message):
        relative(**events)


def test_dead_runs_sit_at_the_constant_cost():
    runs = runs_table([VAR_Y, VAR_Y * (1 + 5e-4), VAR_Y * 1.01, 3.0, np.nan], diverged=[False] * 4 + [True])
    assert dead(runs).tolist() == [True, True, False, False, False]


def test_the_paper_applies_only_to_its_task_network_and_events():
    cfg = load_config()
    assert paper.not_applicable(cfg) == ""
    assert "friedman1" in paper.not_applicable(load_config({"data": {"target": "friedman1"},
                                                            "network": {"shape": [5, 2, 1]}}))
    assert "2-4-1, not 2-2-1" in paper.not_applicable(load_config({"network": {"shape": [2, 4, 1]}}))
    relative = load_config({"events": {"high_kind": "constant", "high_loss": 0.95}})
    assert "relative" in paper.not_applicable(relative) and paper.task_not_applicable(relative) == ""


def test_claims_that_do_not_apply_say_so():
    from test_claims import SETUP, no_predictions, setting, three_clusters

    runs = setting("relu", "he", three_clusters(30, 30, 30))
    p = PredictConfig.from_config(load_config())
    claims = compare_claims(runs, no_predictions(), p, 1e-6, SETUP, "the network is 2-4-1, not 2-2-1")
    kinds = {verdict_kind(v) for c in claims for _, v in c.verdicts}
    assert kinds == {NOT_APPLICABLE}
    assert all(v.endswith("the network is 2-4-1, not 2-2-1") for c in claims for _, v in c.verdicts)
    judged = compare_claims(runs, no_predictions(), p, 1e-6, SETUP)
    assert NOT_APPLICABLE not in {verdict_kind(v) for c in judged for _, v in c.verdicts}
    # relative events alone: only the claims that read the events do not apply
    relative = {c.key: c for c in compare_claims(runs, no_predictions(), p, 1e-6, SETUP, "", "the events are relative")}
    for c in judged:
        kinds = {verdict_kind(v) for _, v in relative[c.key].verdicts}
        if c.kind in EVENT_FREE_KINDS:
            assert relative[c.key].verdicts == c.verdicts
        else:
            assert kinds == {NOT_APPLICABLE}
    assert {c.kind for c in judged} > set(EVENT_FREE_KINDS)


def test_outcome_shares_split_every_run_once():
    runs = pd.concat([runs_table([1.0, 2.0, 50.0, VAR_Y, 1e9], diverged=[False] * 4 + [True]),
                      runs_table([3.0, 3.1], init="wide")], ignore_index=True)
    p = PredictConfig.from_config(load_config()).resolve(runs)
    out = outcome_shares(runs, p).set_index("quantity")
    assert set(out["init"]) == {"he"}  # the predicted runs only
    assert out.loc[["low", "intermediate", "high", "diverged"], "k"].tolist() == [2, 1, 1, 1]
    assert out.loc["dead", "k"] == 1 and (out["n"] == 5).all()
    # clusters: the modes of a density of log10 c_f, none from fewer than 3 runs
    assert out["modes"].iloc[0] == "1.01, 50.2"  # 4 usable runs: a density, not the values themselves
    two = runs_table([37.0, 40.4])
    assert (outcome_shares(two, PredictConfig.from_config(load_config()).resolve(two))["modes"] == "").all()


def test_best_early_picks_on_the_training_half():
    best = pd.DataFrame(dict(
        event="low", activation="relu", init="he", predictor=["ftle_local_1", "loss", "svm_local", "loss"],
        group=["ftle", "loss", "svm", "loss"],
        t=[0.015, 0.015, 0.03, 0.03], auc=[0.95, 0.70, 0.80, 0.75], ci_low=0.6, ci_high=0.99,
        auc_cv=[0.70, 0.72, 0.85, 0.71], positives=40, status="ok"))
    early = best_early(best, PredictConfig.from_config(load_config())).set_index("pick")
    # the larger test AUC (0.95) is not the pick: the cross-validated AUC decides
    assert (early.loc["best", "predictor"], early.loc["best", "t"]) == ("svm_local", 0.03)
    assert (early.loc["loss", "predictor"], early.loc["loss", "t"]) == ("loss", 0.015)
    assert early.loc["ftle", "predictor"] == "svm_local"
    no_ftle = best_early(best[best["group"] == "loss"], PredictConfig.from_config(load_config())).set_index("pick")
    assert no_ftle.loc["best", "predictor"] == "loss" and no_ftle.loc["ftle", "status"] == "no such predictor computed"
    assert early.loc["best", "n_tied"] == 1 and early.loc["best", "testable"]
    # a tie goes to the earliest checkpoint, and names every tied group
    tie = best.assign(auc_cv=[0.70, 0.85, 0.85, 0.71], positives=[40, 40, 40, 10])
    picked = best_early(tie, PredictConfig.from_config(load_config())).set_index("pick")
    assert (picked.loc["best", "predictor"], picked.loc["best", "t"]) == ("loss", 0.015)
    assert picked.loc["best", "n_tied"] == 2 and picked.loc["best", "tied_groups"] == "loss, svm"
    assert not best_early(tie.assign(positives=10), PredictConfig.from_config(load_config()))["testable"].any()
    short = best.assign(status="too few events")
    assert best_early(short, PredictConfig.from_config(load_config()))["status"].tolist() == ["too few events"] * 3


def test_restart_picks_follow_the_training_half():
    from weightdyn.analysis.restart import RESTART_COLUMNS

    rows = [dict(policy="reach_low", activation="relu", init="he", t=t, predictor=pred, saving=s, saving_ci_low=s - 0.1,
                 saving_ci_high=s + 0.1, saving_train=st, n_test=100, bad_test=70, status="ok")
            for t, pred, s, st in ((0.015, "svm_local", 0.5, 0.6), (0.03, "svm_local", 0.7, 0.4),
                                   (0.015, "loss", 0.4, 0.5), (0.015, "oracle", 0.68, np.nan))]
    restart = pd.DataFrame(rows).reindex(columns=RESTART_COLUMNS)
    picks = restart_picks(restart).set_index("pick")
    assert picks.loc["best", "t"] == 0.015 and picks.loc["best", "saving"] == 0.5
    assert picks.loc["loss", "predictor"] == "loss" and picks.loc["oracle", "saving"] == 0.68
    # each init its own picks: the wide init's larger training-half saving does not win He's
    wide = restart.assign(init="wide", saving_train=restart["saving_train"] + 0.3, saving=0.1)
    both = restart_picks(pd.concat([restart, wide], ignore_index=True)).set_index(["init", "pick"])
    assert both.loc[("he", "best"), "saving"] == 0.5 and both.loc[("wide", "best"), "saving"] == 0.1
    assert len(both) == 6


def test_reports_keep_the_restart_picks_of_each_setting_apart():
    """With two predicted inits, the comparison's table and figure and the per-variant
    restart section each give every (activation, init) its own picks."""
    from weightdyn.analysis.restart import RESTART_COLUMNS
    from weightdyn.report.restart_markdown import restart_lines
    from weightdyn.report.variants import fig_study, study_lines

    rows = [dict(policy="reach_low", activation="relu", init=init, t=t, t_label=f"{t:g}", predictor=pred, saving=s,
                 saving_ci_low=s - 0.1, saving_ci_high=s + 0.1, saving_train=st, n_test=100, bad_test=70, stopped=10,
                 stopped_bad=8, stopped_good=2, missed_bad=62, compute_without=1.5, compute_with=1.2, status="ok")
            for init, shift in (("he", 0.0), ("wide", 0.3))
            for t, pred, s, st in ((0.015, "svm_local", 0.5 - shift, 0.6), (0.015, "oracle", 0.68, np.nan))]
    restart = pd.DataFrame(rows).reindex(columns=RESTART_COLUMNS)
    p = PredictConfig.from_config(load_config()).resolve(runs_table([1.0, 2.0, 50.0]))
    section = "\n".join(restart_lines(restart, p))
    assert "- relu + he: picked" in section and "saves 50.0%" in section
    assert "- relu + wide: picked" in section and "saves 20.0%" in section
    best = pd.DataFrame(dict(event="low", activation="relu", init="he", predictor=["loss"], group=["loss"], t=[0.015],
                             auc=[0.9], ci_low=[0.8], ci_high=[0.95], auc_cv=[0.9], positives=[40], status="ok"))
    study = {"outcomes": outcome_shares(runs_table([1.0, 2.0, 50.0]), p).assign(variant="v"),
             "early": best_early(best, p).assign(variant="v"),
             "restart": restart_picks(restart).assign(variant="v")}
    table = "\n".join(study_lines(study, ["v"]))
    assert "| reach_low, ReLU + He, best | 2.00x" in table and "| reach_low, ReLU + wide" in table
    labels = fig_study(study, ["v"]).axes[4].get_legend_handles_labels()[1]
    assert len(labels) == len(set(labels)) == 4 and any("He" in x for x in labels)
