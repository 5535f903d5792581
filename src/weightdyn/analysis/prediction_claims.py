"""The paper's claims on early prediction (Sec. VI, Figs. 10-13, Table I), evaluated on
the prediction tables (`evaluate.predict_all`); their rules are stated in `claims`."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine import columns as col
from . import paper
from .binning import quantile_auc_ceiling
from .config import PredictConfig
from .evaluate import paired_difference
from .predictors import ftle_name
from .table1 import best_row, group_form
from .verdicts import CHANCE, Claim, not_testable, one

HIGH_ACCURACY = 0.9   # lower interval end that counts as "high accuracy" (Fig. 12)


def _he_best(best: pd.DataFrame, event: str, activation: str, group: str, interval: int,
             p: PredictConfig) -> pd.Series | None:
    """The best row of `group` (in the form Table I uses) for an event of `activation` + He."""
    return best_row(best, event, activation, "he", group, group_form(group, p), interval)


def _untestable(r: pd.Series | None, p: PredictConfig) -> str | None:
    """Why no verdict can rest on the AUC row r, or None if it can."""
    if r is None:
        return not_testable("not computed")
    if not np.isfinite(r["auc"]):
        return not_testable(r["status"])
    if r["positives"] < p.min_positives:
        return not_testable(f"{int(r['positives'])} positives")
    if not (np.isfinite(r["ci_low"]) and np.isfinite(r["ci_high"])):
        return not_testable("no bootstrap interval")
    return None


def _above(rows: list[pd.Series], threshold: float) -> str:
    """'agree' if every interval lies above the threshold, 'differ' if one lies at or
    below it, else 'inconclusive'."""
    if all(r["ci_low"] > threshold for r in rows):
        return "agree"
    return "differ" if any(r["ci_high"] <= threshold for r in rows) else "inconclusive"


def _binning_ceiling(r: pd.Series, p: PredictConfig) -> float:
    """The largest test AUC the naive-Bayes classifier of row r can reach (1 for the SVM)."""
    if r["group"] == "svm" or p.bin_strategy != "quantile":
        return 1.0
    return quantile_auc_ceiling(r["positives"] / r["n_test"], p.n_bins)


def low_claim(best: pd.DataFrame, p: PredictConfig) -> Claim:
    computed = set(best["interval"])
    later = [i for i in sorted(paper.CHECKPOINTS) if i >= paper.LOW_FROM and i in computed]
    rows, counts, verdicts = {}, {}, []
    for act in paper.ACTIVATIONS:
        by_interval = {i: _he_best(best, "low", act, "ftle", i, p) for i in sorted(paper.CHECKPOINTS)}
        rows[act] = [(paper.CHECKPOINTS[i], r) for i, r in by_interval.items()]
        if later and by_interval[later[0]] is not None:
            counts[act] = by_interval[later[0]]
        why = [w for w in (_untestable(by_interval[i], p) for i in later) if w] or (
            [] if later else [not_testable(f"no checkpoint from t = {paper.CHECKPOINTS[paper.LOW_FROM]} on computed")])
        if why:
            verdicts.append((act, why[0]))
        else:
            verdicts.append((act, _above([by_interval[i] for i in later], CHANCE)))
    label = paper.CHECKPOINTS[paper.LOW_FROM]
    return Claim(
        "ftle_predict_low", "ftle_predict_low", "prediction", "Sec. VI, Fig. 10",
        f"FTLEs predict a low final loss (c_f < {p.low_loss:g}) from t = {label} on (ReLU and tanh, He)",
        tuple(verdicts),
        f"agree means the lower end of the best FTLE's interval is above {CHANCE:g} at every computed checkpoint "
        f"from t = {label} on; differ if an upper end is at or below it; inconclusive otherwise.",
        dict(form=p.ftle_form, rows=rows, counts=counts))


def table1_claims(best: pd.DataFrame, p: PredictConfig) -> list[Claim]:
    out = []
    for group, values in paper.TABLE1.items():
        for interval, number in zip(sorted(paper.CHECKPOINTS), values):
            label = paper.CHECKPOINTS[interval]
            r = _he_best(best, "high", "relu", group, interval, p)
            verdict = _untestable(r, p)
            if verdict is None:
                ceiling = _binning_ceiling(r, p)
                verdict = (not_testable(f"above the binning ceiling {ceiling:.3f}") if number > ceiling
                           else "agree" if r["ci_low"] <= number <= r["ci_high"] else "differ")
            out.append(Claim(f"table1_{group}_t{label}", "table1", "table1", "Table I",
                             f"{paper.TABLE1_NAMES[group]}, t = {label}: AUC {number}", one(verdict),
                             values=dict(group=group, t=label, paper=number, row=r)))
    return out


def stable_ftle_claim(auc: pd.DataFrame, p: PredictConfig, P: int) -> Claim:
    rows = []
    sub = col.setting_rows(auc, "relu", "he")
    sub = sub[(sub["event"] == "high") & (sub["interval"] == paper.EARLY)]
    for q in range(max(P - paper.N_STABLE + 1, 1), P + 1):
        hit = sub[sub["predictor"] == ftle_name(p.ftle_form, q)]
        rows.append((q, hit.iloc[0] if len(hit) else None))
    why = [w for w in (_untestable(r, p) for _, r in rows) if w]
    if why or len(rows) < paper.N_STABLE:
        verdict = why[0] if why else not_testable(f"fewer than {paper.N_STABLE} exponents")
    else:
        verdict = _above([r for _, r in rows], HIGH_ACCURACY)
    early = paper.CHECKPOINTS[paper.EARLY]
    return Claim(
        "stable_ftle_high_early", "stable_ftle_high_early", "prediction", "Sec. VI, Fig. 12",
        f"the three most stable FTLEs predict c_f > {p.high_loss:g} with high accuracy already at t = {early}",
        one(verdict), f"agree means each lower interval end above {HIGH_ACCURACY:g}; differ if an upper end is at or "
        "below it; inconclusive otherwise.",
        dict(rows=[(q, r) for q, r in rows if r is not None], t=early))


def mean_cos_claim(best: pd.DataFrame, draws: pd.DataFrame, p: PredictConfig) -> Claim:
    cells, among, why = [], [], None
    for interval in sorted(paper.CHECKPOINTS):
        pair = _he_best(best, "high", "relu", "cos", interval, p)
        mean = _he_best(best, "high", "relu", "mean_cos", interval, p)
        reason = _untestable(pair, p) or _untestable(mean, p)
        if reason:
            why = why or reason
            cells.append((paper.CHECKPOINTS[interval], mean, pair, (np.nan, np.nan, 0)))
            continue
        d = paired_difference(draws, "high", "relu", interval, (pair["group"], pair["form"]), (mean["group"], mean["form"]),
                    p.ci_level)
        cells.append((paper.CHECKPOINTS[interval], mean, pair, d))
        among.append(d[2] > 0 and d[0] <= 0.0)
    if why:
        verdict = why
    elif not all(c[3][2] for c in cells):
        verdict = not_testable("no bootstrap resamples")
    else:
        verdict = "agree" if all(among) else ("partly" if any(among) else "differ")
    return Claim(
        "mean_cos_best_angle", "mean_cos_best_angle", "prediction", "Sec. VI, Fig. 13",
        f"the mean |cos theta_ij| is the most effective angle predictor of c_f > {p.high_loss:g} (ReLU)",
        one(verdict),
        "agree means the mean |cos| is among the best angle predictors within the intervals: the paired interval "
        "of AUC(best pair) - AUC(mean |cos|) reaches 0 at every checkpoint (partly: at some).",
        dict(cells=cells))


def earlier_claim(best: pd.DataFrame, draws: pd.DataFrame, p: PredictConfig) -> Claim:
    parts, pairs = [], []
    for event in ("high", "low"):
        a = _he_best(best, event, "relu", "ftle", paper.EARLY, p)
        b = _he_best(best, event, "relu", "cos", paper.EARLY, p)
        reason = _untestable(a, p) or _untestable(b, p)
        if reason:
            parts.append((event, reason))
            continue
        lo, hi, n = paired_difference(draws, event, "relu", paper.EARLY, (a["group"], a["form"]), (b["group"], b["form"]),
                            p.ci_level)
        pairs.append((event, a, b, (lo, hi, n)))
        parts.append((event, not_testable("no bootstrap resamples") if not n else
                      "agree" if lo > 0 else "differ" if hi < 0 else "inconclusive"))
    early = paper.CHECKPOINTS[paper.EARLY]
    return Claim(
        "ftle_earlier_than_angles", "ftle_earlier_than_angles", "prediction", "Sec. VI",
        f"FTLEs predict the final loss earlier than angles between CLVs (ReLU, t = {early})", tuple(parts),
        "per event: agree if the paired interval of AUC(best FTLE) - AUC(best pair) lies above 0, differ if "
        "below, inconclusive if it holds 0.",
        dict(pairs=pairs, t=early))


def prediction_claims(auc: pd.DataFrame, best: pd.DataFrame, draws: pd.DataFrame, p: PredictConfig,
                      P: int) -> list[Claim]:
    """The claims of Sec. VI on the 'auc', 'best' and 'draws' tables of `evaluate.predict_all`
    (P: the number of exponents)."""
    return ([low_claim(best, p)] + table1_claims(best, p)
            + [stable_ftle_claim(auc, p, P), mean_cos_claim(best, draws, p), earlier_claim(best, draws, p)])
