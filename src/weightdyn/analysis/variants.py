"""The numbers compared across variants of the config, each with its interval and the
paper's value where it gives one: the headline shares of the He runs, the share of
positive first exponents against the averaging horizon, and Table I's AUCs; for any task
and width, the outcomes of the predicted runs (event and dead-network shares, the modes
of the final loss), the best early predictor of each event and the restart policies'
savings.

Every function takes one variant's tables and returns a long table; `across` stacks them
with a `variant` column.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine import columns as col
from ..engine.config import checkpoint_labels
from . import paper
from .config import PredictConfig
from .events import dead, event_labels, usable, usable_runs
from .predictors import LOSS
from .restart import ORACLE, POLICIES, best_saving
from .selection import TIE
from .stats import Share, density_modes
from .table1 import best_row, group_form

HEADLINES = ("low_loss", "high_loss", "le1_positive", "three_positive")
SHARE_COLUMNS = ("k", "n", "share", "low", "high")


def _share_row(share: Share, **fields) -> dict:
    lo, hi = share.interval
    return dict(fields, k=share.k, n=share.n, share=share.k / share.n if share.n else np.nan, low=lo, high=hi)


def _paper_share(quantity: str, activation: str) -> float:
    """The paper's value of a headline share of `activation` + He (NaN where it gives none)."""
    if quantity == "high_loss":
        return paper.HIGH_LOSS_SHARE[activation]
    k = {"le1_positive": 1, "three_positive": paper.HIGH_LOSS_LEADING}.get(quantity)
    return next((s for _, act, s, kk, _ in paper.POSITIVE_LE_SHARES if act == activation and kk == k), np.nan)


def headline_shares(runs: pd.DataFrame, p: PredictConfig) -> pd.DataFrame:
    """Per He setting of the paper's activations and HEADLINES quantity: the share of runs
    with c_f < low and c_f > high (of all runs; a diverged run counts as high, as in the
    prediction, `events.event_labels`), and of usable runs with lambda_1 > 0 and
    lambda_1..3 > 0 (raw signs, as the paper counts); its Wilson interval and the
    paper's value."""
    rows = []
    for act in paper.ACTIVATIONS:
        runs_of = col.setting_rows(runs, act, "he")
        ok = usable_runs(runs_of)
        if not len(runs_of):
            continue
        le = ok[[col.le(q) for q in range(1, paper.HIGH_LOSS_LEADING + 1)]].to_numpy(dtype=np.float64)
        shares = {event + "_loss": Share(int(event_labels(runs_of, event, p.low_loss, p.high_loss).sum()),
                                         len(runs_of)) for event in ("low", "high")}
        shares.update(le1_positive=Share(int((le[:, 0] > 0).sum()), len(ok)),
                      three_positive=Share(int(np.all(le > 0, axis=1).sum()), len(ok)))
        for quantity in HEADLINES:
            rows.append(_share_row(shares[quantity], quantity=quantity, activation=act,
                                   paper=_paper_share(quantity, act)))
    return pd.DataFrame(rows, columns=["quantity", "activation", *SHARE_COLUMNS, "paper"])


def horizon_shares(runs: pd.DataFrame, checkpoints, dt: float, n_intervals: int) -> pd.DataFrame:
    """The share of He runs whose first exponent, averaged from the start over a horizon, is
    positive: the cumulative FTLE lambda_1 at each checkpoint, and the exponent over the
    whole training. Columns: activation, horizon (in t), k, n, share, low, high, paper."""
    labels = checkpoint_labels(checkpoints, dt)
    rows = []
    for act in paper.ACTIVATIONS:
        ok = usable_runs(col.setting_rows(runs, act, "he"))
        if not len(ok):
            continue
        first = [(float(label), col.ftle("cum", 1, label)) for label in labels] + [(n_intervals * dt, col.le(1))]
        for horizon, name in first:
            hits = int((ok[name].to_numpy(dtype=np.float64) > 0).sum())
            rows.append(_share_row(Share(hits, len(ok)), activation=act, horizon=horizon,
                                   paper=_paper_share("le1_positive", act)))
    return pd.DataFrame(rows, columns=["activation", "horizon", *SHARE_COLUMNS, "paper"])


def table1_cells(best: pd.DataFrame, p: PredictConfig) -> pd.DataFrame:
    """Table I (c_f > high, ReLU + He) in long form: per predictor group and checkpoint of
    the paper the test AUC with its bootstrap interval, the test positives and the
    paper's AUC (NaN AUC where not computed, with its status)."""
    rows = []
    for group, values in paper.TABLE1.items():
        for interval, number in zip(sorted(paper.CHECKPOINTS), values):
            r = best_row(best, "high", "relu", "he", group, group_form(group, p), interval)
            rows.append(dict(group=group, t=paper.CHECKPOINTS[interval], paper=number,
                             auc=np.nan if r is None else float(r["auc"]),
                             low=np.nan if r is None else float(r["ci_low"]),
                             high=np.nan if r is None else float(r["ci_high"]),
                             positives=0 if r is None else int(r["positives"]),
                             status="not computed" if r is None else str(r["status"])))
    return pd.DataFrame(rows, columns=["group", "t", "paper", "auc", "low", "high", "positives", "status"])


CLOSENESS_QUANTITIES = ("le1_positive", "three_positive", "high_loss")  # ReLU + He: the paper's 33%, 3%, about 3%


def closeness(headline: pd.DataFrame) -> pd.DataFrame:
    """The selection rule of docs/open-points/README.md on stacked headline shares: per
    variant, of the ReLU + He shares of CLOSENESS_QUANTITIES, how many have the paper's
    value inside their 95% Wilson interval (score), and the summed distance
    |ours - paper| / sqrt(paper (1 - paper) / n) in standard errors of the paper's share
    at our n (a paper share of 0 or 1: 0 if ours equals it, else infinite), with the runs
    n. The distance grows with sqrt(n): only variants with equal n (and horizon) rank
    against each other. Variants without every quantity are left out. Sorted by n, then
    closest first: the higher score, then the smaller distance."""
    sub = headline[(headline["activation"] == "relu") & headline["quantity"].isin(CLOSENESS_QUANTITIES)]
    se = np.sqrt(sub["paper"] * (1 - sub["paper"]) / sub["n"])
    gap = (sub["share"] - sub["paper"]).abs()
    with np.errstate(divide="ignore", invalid="ignore"):
        distance = np.where(se > 0, gap / se, np.where(gap == 0, 0.0, np.inf))
    sub = sub.assign(inside=(sub["low"] <= sub["paper"]) & (sub["paper"] <= sub["high"]), distance=distance)
    out = sub.groupby("variant", sort=False).agg(
        score=("inside", "sum"), distance=("distance", lambda d: d.sum(skipna=False)), n=("n", "max"),
        quantities=("quantity", "count")).reset_index()
    out = out[out["quantities"] == len(CLOSENESS_QUANTITIES)].drop(columns="quantities")
    return out.sort_values(["n", "score", "distance"], ascending=[False, False, True], kind="stable").reset_index(
        drop=True)


def net_agreement(claims: pd.DataFrame) -> pd.DataFrame:
    """The decision rule's measure per variant on stacked claims tables: its 'agree' and
    'differ' verdicts and their difference (net)."""
    kinds = claims.groupby("variant", sort=False)["verdict_kind"]
    out = pd.DataFrame({"agree": kinds.apply(lambda v: int((v == "agree").sum())),
                        "differ": kinds.apply(lambda v: int((v == "differ").sum()))})
    return out.assign(net=out["agree"] - out["differ"]).reset_index()


def same_runs_two_lengths(short: pd.DataFrame, long: pd.DataFrame, p: PredictConfig) -> pd.DataFrame:
    """The runs that two runs tables share (same seed and setting: the same runs trained for
    two lengths), per setting: how many end above the high threshold (and below the low
    one) after the short training, after the long one, and after both."""
    both = short.merge(long, on=list(col.ID_COLUMNS), suffixes=("_short", "_long"))
    rows = []
    for (act, init), sub in both.groupby([col.ACTIVATION, col.INIT], sort=False):
        c_s, c_l = (sub[f"{col.FINAL_LOSS}_{k}"].to_numpy(dtype=np.float64) for k in ("short", "long"))
        for event, hit in (("high", lambda c: c > p.high_loss), ("low", lambda c: c < p.low_loss)):
            s, l_ = hit(c_s), hit(c_l)
            rows.append(dict(activation=act, init=init, event=event, runs=len(sub), short=int(s.sum()),
                             long=int(l_.sum()), both=int((s & l_).sum())))
    return pd.DataFrame(rows, columns=["activation", "init", "event", "runs", "short", "long", "both"])


def across(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The tables of several variants ({variant: table}) stacked, with a `variant` column first."""
    frames = [t.assign(variant=name) for name, t in tables.items()]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return out[["variant", *[c for c in out.columns if c != "variant"]]] if len(out.columns) else out


OUTCOMES = ("low", "intermediate", "high", "diverged", "dead")
MODE_BANDWIDTH = 0.1  # decades: the kernel of the log10 c_f density whose distinct modes are the clusters


def outcome_shares(runs: pd.DataFrame, p: PredictConfig) -> pd.DataFrame:
    """Per predicted setting (init in p.inits): the share of all its runs that end low,
    intermediate, high (usable runs above the high threshold), diverged, and dead (a
    usable run at the constant predictor's cost, `events.dead`; part of high where the
    high threshold lies below that cost), each with its Wilson interval; and the distinct
    modes of the density of log10 c_f of its usable runs (`stats.density_modes`, kernel
    MODE_BANDWIDTH decades), the final-loss clusters, as text ('' with fewer than
    `stats.MIN_DENSITY_VALUES` runs). Columns: activation, init,
    quantity, k, n, share, low, high, modes."""
    rows = []
    for (act, init), sub in runs[runs[col.INIT].isin(list(p.inits))].groupby([col.ACTIVATION, col.INIT], sort=False):
        ok = usable(sub)
        final = sub[col.FINAL_LOSS].to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore"):
            low, high = ok & (final < p.low_loss), ok & (final > p.high_loss)
        hits = dict(low=low, intermediate=ok & ~low & ~high, high=high, diverged=~ok, dead=dead(sub))
        c = final[ok & (final > 0)]
        at, _ = density_modes(np.log10(c), MODE_BANDWIDTH)
        modes = ", ".join(f"{10.0 ** a:.3g}" for a in at)
        for quantity in OUTCOMES:
            rows.append(_share_row(Share(int(hits[quantity].sum()), len(sub)), activation=act, init=init,
                                   quantity=quantity, modes=modes))
    return pd.DataFrame(rows, columns=["activation", "init", "quantity", *SHARE_COLUMNS, "modes"])


FTLE_GROUPS = ("ftle", "svm")  # the predictor groups built from FTLEs
BEST_EARLY_COLUMNS = ["event", "activation", "init", "pick", "group", "predictor", "t", "auc", "ci_low", "ci_high", "auc_cv",
                      "n_tied", "tied_groups", "positives", "testable", "status"]


def best_early(best: pd.DataFrame, p: PredictConfig) -> pd.DataFrame:
    """Per event and predicted setting: the best early predictor over every group and
    checkpoint, picked by its cross-validated AUC on the training half (`auc_cv`; the
    test half only reports it), pick 'best'; picked the same way among the FTLE
    predictors (single FTLEs and the SVM on all), pick 'ftle', and among the loss C(t)
    rows, pick 'loss'. Members within `selection.TIE` of the largest cross-validated AUC
    tie: the pick is the tied member at the earliest checkpoint (early prediction is the
    aim), and the row counts the tied members and names their groups. Its test AUC with
    the bootstrap interval and the test positives, testable with at least
    p.min_positives. A setting and event without a computed AUC has one row per pick with
    the status."""
    rows = []
    for (event, act, init), sub in best[best["init"].isin(list(p.inits))].groupby(["event", "activation", "init"],
                                                                                    sort=False):
        ok = sub[(sub["status"] == "ok") & sub["auc_cv"].notna()]
        for pick, pool in (("best", ok), ("ftle", ok[ok["group"].isin(FTLE_GROUPS)]),
                           ("loss", ok[ok["predictor"] == LOSS])):
            if not len(pool):
                status = "no such predictor computed" if len(ok) else str(sub["status"].iloc[0])
                rows.append(dict(event=event, activation=act, init=init, pick=pick, status=status))
                continue
            tied = pool[pool["auc_cv"] >= pool["auc_cv"].max() - TIE]
            r = tied.loc[tied["t"].idxmin()]
            rows.append(dict(event=event, activation=act, init=init, pick=pick, group=r["group"],
                             predictor=r["predictor"], t=r["t"],
                             auc=r["auc"], ci_low=r["ci_low"], ci_high=r["ci_high"], auc_cv=r["auc_cv"],
                             n_tied=len(tied), tied_groups=", ".join(sorted(set(tied["group"]))),
                             positives=int(r["positives"]), testable=int(r["positives"]) >= p.min_positives,
                             status="ok"))
    return pd.DataFrame(rows, columns=BEST_EARLY_COLUMNS)


RESTART_PICK_COLUMNS = ["policy", "activation", "init", "pick", "predictor", "t", "saving", "saving_ci_low", "saving_ci_high",
                        "n_test", "bad_test"]


def restart_picks(restart: pd.DataFrame) -> pd.DataFrame:
    """Per restart policy and setting: the predictor and checkpoint with the largest
    saving on the training half (`restart.best_saving`; pick 'best'), the loss C(t) picked
    the same way ('loss') and the oracle at the best pick's checkpoint ('oracle'), each
    with its test-half saving and interval."""
    rows = []
    for policy in POLICIES:
        of = restart[restart["policy"] == policy] if len(restart) else restart
        for act, init in dict.fromkeys(zip(of["activation"], of["init"])) if len(of) else []:
            picked = best_saving(restart, policy, act, init=init)
            if picked is None:
                continue
            loss = best_saving(restart, policy, act, predictor=LOSS, init=init)
            for pick, r in (("best", picked[0]), ("loss", None if loss is None else loss[0]), (ORACLE, picked[1])):
                if r is not None:
                    rows.append(dict(policy=policy, activation=act, init=init, pick=pick,
                                     **{k: r[k] for k in RESTART_PICK_COLUMNS[4:]}))
    return pd.DataFrame(rows, columns=RESTART_PICK_COLUMNS)
