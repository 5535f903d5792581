"""The paper's quantitative claims evaluated on our runs and AUCs, as data.

`compare_claims` evaluates every claim of the project's reading of the paper
(final-loss clusters, shares of positive exponents, high losses and positive exponents,
mean |cos| of high-loss runs, tangent CLV pairs, early prediction of low losses,
Table I, and a few more statements of Sec. VI) on the runs table and the AUC table.
Each `Claim` holds the paper's statement, our numbers behind it (`values`: shares with
the runs behind them, AUC rows with their bootstrap intervals) and verdicts; the paper's
numbers are in `paper`. `report.markdown` renders them.

Verdicts: 'agree' (the paper's number lies in our 95% interval, Wilson for shares, or
the qualitative statement holds in our runs), 'differ' (it does not), 'partly' (it holds
for some of the items it names), 'not testable' (too few runs or events at this scale,
or the checkpoint was not computed). A claim with parts (raw and with tolerance, one per
activation) has one verdict per part.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..engine import columns as col
from ..model import activations
from . import paper
from .angles import cos_groups
from .config import PredictConfig
from .events import usable_runs
from .predictors import ftle_name
from .stats import Share, density_peaks
from .table1 import best_rows

VERDICTS = ("agree", "partly", "differ", "not testable")
SIGNIFICANCE = 0.05   # one-sided Mann-Whitney test of the mean |cos| of high-loss runs
CHANCE = 0.5          # the AUC of a predictor without information
HIGH_ACCURACY = 0.9   # lower interval end that counts as "high accuracy" (Fig. 12)
TOP_QUANTILE = 0.99   # reported beside the largest |cos| of the tangent-pair claim


@dataclass(frozen=True)
class Claim:
    """One claim of the paper and our evaluation of it.

    topic: the part of the paper ('final_loss', 'lyapunov', 'angles', 'prediction',
    'table1'); kind: how its values are laid out (claims of one kind share a layout);
    verdicts: (part, verdict) pairs, part '' for a claim without parts; note: what the
    verdict means, or a caveat.
    """

    key: str
    kind: str
    topic: str
    source: str
    statement: str
    verdicts: tuple[tuple[str, str], ...]
    note: str = ""
    values: dict = field(default_factory=dict)


def _one(verdict: str) -> tuple[tuple[str, str], ...]:
    return (("", verdict),)


def _he(act: str) -> str:
    return f"{activations.get(act).label} + He"


# ----------------------------------------------------------------------------------
# Final losses (Sec. IV, Figs. 3, 4).

def _final_loss(sub: pd.DataFrame, low: float, high: float) -> dict:
    ok = usable_runs(sub)
    c = ok[col.FINAL_LOSS].to_numpy(dtype=np.float64)
    n = len(c)
    return dict(n=n, left_out=len(sub) - n, low=Share(int((c < low).sum()), n),
                mid=Share(int(((c >= low) & (c <= high)).sum()), n), high=Share(int((c > high).sum()), n),
                peaks=density_peaks(np.log10(c[c > 0])) if n else 0)


def _loss_claims(runs: pd.DataFrame, p: PredictConfig) -> list[Claim]:
    lo, hi = p.low_loss, p.high_loss
    relu = _final_loss(col.setting_rows(runs, "relu", "he"), lo, hi)
    tanh = _final_loss(col.setting_rows(runs, "tanh", "he"), lo, hi)
    out = [
        Claim("final_loss_relu_he", "final_loss_relu_he", "final_loss", "Sec. IV, Fig. 3(a)",
              f"ReLU + He: three clusters of c_f (low, intermediate, high > {hi:g})",
              _one("not testable" if not relu["n"] else
                   "agree" if min(relu["low"].k, relu["mid"].k, relu["high"].k) > 0 else "differ"),
              "agree means every one of the three ranges holds runs.", relu),
        Claim("final_loss_tanh_he", "final_loss_tanh_he", "final_loss", "Sec. IV, Fig. 3(b)",
              f"tanh + He: no c_f > {hi:g}; one distinct low peak",
              _one("not testable" if not tanh["n"] else "agree" if tanh["high"].k == 0 else "differ"),
              f"agree means no tanh + He run ends above {hi:g}.", tanh),
    ]
    iqr, tanh_high = {}, None
    for act in paper.ACTIVATIONS:
        he, wide = usable_runs(col.setting_rows(runs, act, "he")), usable_runs(col.setting_rows(runs, act, "wide"))
        if not len(he) or not len(wide):
            continue
        iqr[act] = [(float(np.subtract(*np.quantile(np.log10(s[col.FINAL_LOSS]), [0.75, 0.25]))), len(s))
                    for s in (he, wide)]
        if act == "tanh":
            tanh_high = Share(int((wide[col.FINAL_LOSS] > hi).sum()), len(wide))
    if iqr and tanh_high is not None:
        verdict = "agree" if all(w > h for (h, _), (w, _) in iqr.values()) and tanh_high.k > 0 else "differ"
    else:
        verdict = "not testable"
    counts = {(a, i): len(usable_runs(col.setting_rows(runs, a, i))) for a in paper.ACTIVATIONS for i in paper.INITS}
    out.append(Claim(
        "final_loss_wide", "final_loss_wide", "final_loss", "Sec. IV, Fig. 4",
        f"wide-range init: flatter, wider loss distributions than He; c_f > {hi:g} also with tanh", _one(verdict),
        "agree means a larger interquartile range of log10 c_f under wide init for every activation, "
        "and at least one tanh + wide run above the high threshold.",
        dict(iqr=iqr, tanh_wide_high=tanh_high, counts=counts)))
    return out


# ----------------------------------------------------------------------------------
# Lyapunov exponents (Sec. V, Figs. 5, 7).

def _leading_positive(runs: pd.DataFrame, k: int, tol: float) -> tuple[Share, Share]:
    """Runs whose k leading exponents are all > 0 (raw) and all > tol."""
    le = runs[[col.le(q) for q in range(1, k + 1)]].to_numpy(dtype=np.float64)
    n = len(runs)
    return (Share(int(np.all(le > 0, axis=1).sum()) if n else 0, n),
            Share(int(np.all(le > tol, axis=1).sum()) if n else 0, n))


def _le_claims(runs: pd.DataFrame, p: PredictConfig, tol: float) -> list[Claim]:
    out = []
    P = col.n_exponents(runs.columns)
    for key, act, share, k, exponents in paper.POSITIVE_LE_SHARES:
        ok = usable_runs(col.setting_rows(runs, act, "he"))
        text = (f"no {_he(act)} run has {exponents}" if share == 0.0
                else f"{share:.0%} of {_he(act)} runs have {exponents}")
        if P < k:
            out.append(Claim(key, "missing_exponents", "lyapunov", "Sec. V, Fig. 5", text, _one("not testable"),
                             values=dict(k=k, n=len(ok))))
            continue
        raw, with_tol = _leading_positive(ok, k, tol)
        if share == 0.0:
            verdicts = ["not testable" if not s.n else "agree" if s.k == 0 else "differ" for s in (raw, with_tol)]
        else:
            verdicts = [s.verdict(share) for s in (raw, with_tol)]
        out.append(Claim(
            key, "le_share", "lyapunov", "Sec. V, Fig. 5", text,
            (("raw", verdicts[0]), ("with tolerance", verdicts[1])),
            "The exponents of dead ReLU directions are 0 up to rounding; the tolerance separates them from "
            "genuinely positive ones.", dict(raw=raw, tol=with_tol, n=len(ok), tolerance=tol)))

    ok = usable_runs(col.setting_rows(runs, "relu", "he"))
    k = paper.HIGH_LOSS_LEADING
    if P < k:
        return out + [Claim("high_loss_three_positive", "missing_exponents", "lyapunov", "Sec. V, Fig. 7(a)",
                            "very high losses occur only when the three leading LEs are positive",
                            _one("not testable"), values=dict(k=k, n=len(ok)))]
    final = ok[col.FINAL_LOSS]
    raw, with_tol = _leading_positive(ok[final > p.high_loss], k, tol)
    rest, _ = _leading_positive(ok[final <= p.high_loss], k, tol)
    if not raw.n:
        verdicts = _one("not testable")
    else:
        verdicts = tuple((part, "agree" if s.k == s.n else "differ")
                         for part, s in (("raw", raw), ("with tolerance", with_tol)))
    out.append(Claim(
        "high_loss_three_positive", "high_loss_three_positive", "lyapunov", "Sec. V, Fig. 7(a)",
        f"very high losses (ReLU + He, c_f > {p.high_loss:g}) occur only when the three leading LEs are positive",
        verdicts, "agree means every high-loss run has three positive leading exponents.",
        dict(raw=raw, tol=with_tol, rest=rest, n=len(ok))))
    return out


# ----------------------------------------------------------------------------------
# Angles between CLVs (Sec. V, Figs. 8, 9).

def _cos_claims(runs: pd.DataFrame, p: PredictConfig, tangent: float, orthogonal: float,
                quantile: float) -> list[Claim]:
    ok = usable_runs(col.setting_rows(runs, "relu", "he"))
    high = ok[col.FINAL_LOSS] > p.high_loss
    m_hi = ok.loc[high, col.MEAN_COS_END].to_numpy(dtype=np.float64)
    m_rest = ok.loc[~high, col.MEAN_COS_END].to_numpy(dtype=np.float64)
    values = dict(n_high=len(m_hi), n_rest=len(m_rest))
    if len(m_hi) and len(m_rest):
        values.update(median_high=np.median(m_hi), median_rest=np.median(m_rest),
                      p_value=stats.mannwhitneyu(m_hi, m_rest, alternative="less").pvalue)
        lower = values["median_high"] < values["median_rest"] and values["p_value"] < SIGNIFICANCE
        verdict = "agree" if lower else "differ"
    else:
        verdict = "not testable"
    out = [Claim(
        "mean_cos_high", "mean_cos_high", "angles", "Sec. V, Fig. 9(a)",
        "the mean |cos theta_ij| between CLVs at the end of training drops clearly for high-loss ReLU runs",
        _one(verdict), f"agree means a lower median for the high-loss runs, significant at {SIGNIFICANCE:.0%}.",
        values)]

    tangent_pairs = {}
    for act in paper.ACTIVATIONS:
        sub = usable_runs(col.setting_rows(runs, act, "he"))
        if len(sub):
            groups = cos_groups(sub, tangent, orthogonal, quantile)
            tangent_pairs[act] = {pair for pair, g in groups.items() if g == "tangent"}
    cols = [col.cos_end(i, j) for i, j in col.pairs(col.n_exponents(runs.columns))]
    he = usable_runs(runs[runs["init"] == "he"])
    cos = he[cols].to_numpy(dtype=np.float64)
    values = dict(n=len(he), top=float(np.nanmax(cos, initial=np.nan)) if len(he) and cols else float("nan"),
                  top_quantile=TOP_QUANTILE,
                  quantile=float(np.nanquantile(cos, TOP_QUANTILE)) if len(he) and cols else float("nan"))
    if len(tangent_pairs) == len(paper.ACTIVATIONS):
        common = sorted(set.intersection(*tangent_pairs.values()))
        found = [pair for pair in paper.TANGENT_PAIRS if pair in common]
        values["common"] = common
        verdict = "agree" if len(found) == len(paper.TANGENT_PAIRS) else ("partly" if found else "differ")
    else:
        verdict = "not testable"
    out.append(Claim(
        "tangent_pairs", "tangent_pairs", "angles", "Sec. V, Fig. 8",
        f"pairs {', '.join(f'({i},{j})' for i, j in paper.TANGENT_PAIRS)} show tangencies (|cos| near 1) "
        "for both activations", _one(verdict),
        f"A pair counts as tangent if its {quantile:.0%} quantile of |cos| reaches {tangent:g} "
        "(the red group of Fig. 8).", values))
    return out


# ----------------------------------------------------------------------------------
# Early prediction (Sec. VI, Figs. 10-13, Table I).

def _he_rows(auc: pd.DataFrame, event: str, activation: str, interval: int) -> pd.DataFrame:
    """The AUC rows of an event of `activation` + He at a checkpoint (the paper predicts He runs)."""
    sub = col.setting_rows(auc, activation, "he")
    return sub[(sub["event"] == event) & (sub["interval"] == interval)]


def auc_row(auc: pd.DataFrame, event: str, activation: str, group: str, form: str | None, interval: int,
            by: str = "auc_train") -> pd.Series | None:
    """The best row of `group` (and `form`) for an event of `activation` + He at a checkpoint."""
    sub = _he_rows(auc, event, activation, interval)
    best = best_rows(sub, group, form, by=by)
    return best.iloc[0] if len(best) else None


def _finite(r) -> bool:
    return r is not None and np.isfinite(r["auc"])


def _low_claim(auc: pd.DataFrame, p: PredictConfig, intervals: list[int]) -> Claim:
    later = [i for i in paper.CHECKPOINTS if i >= paper.LOW_FROM and i in intervals]
    rows, counts, verdicts = {}, {}, []
    for act in paper.ACTIVATIONS:
        by_interval = {i: auc_row(auc, "low", act, "ftle", p.ftle_form, i) for i in sorted(paper.CHECKPOINTS)}
        rows[act] = [(paper.CHECKPOINTS[i], r) for i, r in by_interval.items()]
        if later and by_interval[later[0]] is not None:
            counts[act] = by_interval[later[0]]
        ok = [bool(r["ci_low"] > CHANCE) if _finite(r) else None for r in (by_interval[i] for i in later)]
        testable = later and all(v is not None for v in ok)
        verdicts.append((act, ("agree" if all(ok) else "differ") if testable else "not testable"))
    label = paper.CHECKPOINTS[paper.LOW_FROM]
    return Claim(
        "ftle_predict_low", "ftle_predict_low", "prediction", "Sec. VI, Fig. 10",
        f"FTLEs predict a low final loss (c_f < {p.low_loss:g}) from t = {label} on (ReLU and tanh, He)",
        tuple(verdicts),
        f"agree means the lower end of the interval is above {CHANCE:g} at every checkpoint from t = {label} on.",
        dict(form=p.ftle_form, rows=rows, counts=counts))


def _table1_claims(auc: pd.DataFrame, p: PredictConfig, intervals: list[int]) -> list[Claim]:
    out = []
    for group, values in paper.TABLE1.items():
        form = p.ftle_form if group in ("ftle", "svm") else None
        for interval, number in zip(sorted(paper.CHECKPOINTS), values):
            label = paper.CHECKPOINTS[interval]
            r = auc_row(auc, "high", "relu", group, form, interval)
            computed = r is not None and interval in intervals
            if not computed or not np.isfinite(r["auc"]):
                verdict = "not testable"
            else:
                verdict = "agree" if np.isfinite(r["ci_low"]) and r["ci_low"] <= number <= r["ci_high"] else "differ"
            out.append(Claim(f"table1_{group}_t{label}", "table1", "table1", "Table I",
                             f"{paper.TABLE1_NAMES[group]}, t = {label}: AUC {number}", _one(verdict),
                             values=dict(group=group, t=label, paper=number, row=r if computed else None)))
    return out


def _stable_ftle_claim(auc: pd.DataFrame, p: PredictConfig, P: int) -> Claim:
    rows = []
    for q in range(max(P - paper.N_STABLE + 1, 1), P + 1):
        sub = _he_rows(auc, "high", "relu", paper.EARLY)
        sub = sub[sub["predictor"] == ftle_name(p.ftle_form, q)]
        rows.append((q, sub.iloc[0] if len(sub) else None))
    if len(rows) == paper.N_STABLE and all(_finite(r) for _, r in rows):
        verdict = "agree" if all(r["ci_low"] > HIGH_ACCURACY for _, r in rows) else "differ"
    else:
        verdict = "not testable"
    early = paper.CHECKPOINTS[paper.EARLY]
    return Claim(
        "stable_ftle_high_early", "stable_ftle_high_early", "prediction", "Sec. VI, Fig. 12",
        f"the three most stable FTLEs predict c_f > {p.high_loss:g} with high accuracy already at t = {early}",
        _one(verdict), f"agree means each lower interval end above {HIGH_ACCURACY:g}.",
        dict(rows=rows if verdict != "not testable" else [], t=early))


def _mean_cos_claim(auc: pd.DataFrame, p: PredictConfig, P: int) -> Claim:
    cells, wins = [], []
    for interval in sorted(paper.CHECKPOINTS):
        sub = _he_rows(auc, "high", "relu", interval)
        sub = sub[sub["group"].isin(["cos", "mean_cos"]) & (sub["status"] == "ok")]
        if not len(sub):
            continue
        best = sub.loc[sub["auc"].idxmax()]
        mean = sub[sub["group"] == "mean_cos"]
        m = mean.iloc[0] if len(mean) else None
        cells.append((paper.CHECKPOINTS[interval], m, best))
        wins.append(m is not None and m["auc"] >= best["auc"] - 1e-12)
    verdict = "not testable" if not wins else ("agree" if all(wins) else ("partly" if any(wins) else "differ"))
    return Claim(
        "mean_cos_best_angle", "mean_cos_best_angle", "prediction", "Sec. VI, Fig. 13",
        f"the mean |cos theta_ij| is the most effective angle predictor of c_f > {p.high_loss:g} (ReLU)",
        _one(verdict),
        f"agree means its test AUC is the largest among the {len(col.pairs(P))} pairs and the mean at every "
        "checkpoint.",
        dict(cells=cells))


def _earlier_claim(auc: pd.DataFrame, p: PredictConfig) -> Claim:
    pairs = [(event, auc_row(auc, event, "relu", "ftle", p.ftle_form, paper.EARLY),
              auc_row(auc, event, "relu", "cos", None, paper.EARLY)) for event in ("high", "low")]
    if all(_finite(a) and _finite(b) for _, a, b in pairs):
        verdict = "agree" if all(a["auc"] > b["auc"] for _, a, b in pairs) else "differ"
    else:
        verdict = "not testable"
    early = paper.CHECKPOINTS[paper.EARLY]
    return Claim(
        "ftle_earlier_than_angles", "ftle_earlier_than_angles", "prediction", "Sec. VI",
        f"FTLEs predict the final loss earlier than angles between CLVs (ReLU, t = {early})", _one(verdict),
        "agree means a larger test AUC of the best FTLE than of the best angle, for both events.",
        dict(pairs=pairs if verdict != "not testable" else [], t=early))


def compare_claims(runs: pd.DataFrame, auc: pd.DataFrame, p: PredictConfig, le_tolerance: float,
                   cos_tangent: float, cos_orthogonal: float, cos_quantile: float) -> list[Claim]:
    """Every claim of the paper evaluated on our runs and AUCs (see the module docstring).

    cos_tangent, cos_orthogonal, cos_quantile: the groups of CLV pairs (`angles.cos_groups`).
    """
    P = col.n_exponents(runs.columns)
    intervals = sorted(set(auc["interval"])) if len(auc) else []
    return (_loss_claims(runs, p) + _le_claims(runs, p, le_tolerance)
            + _cos_claims(runs, p, cos_tangent, cos_orthogonal, cos_quantile)
            + [_low_claim(auc, p, intervals)] + _table1_claims(auc, p, intervals)
            + [_stable_ftle_claim(auc, p, P), _mean_cos_claim(auc, p, P), _earlier_claim(auc, p)])
