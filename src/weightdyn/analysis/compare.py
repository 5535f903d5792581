"""The paper's quantitative claims beside our numbers: results/paper_comparison.md.

`compare_claims` evaluates every claim listed in the project's reading of the paper
(final-loss clusters, shares of positive exponents, high losses and positive exponents,
mean |cos| of high-loss runs, early prediction of low losses, Table I, and a few more
statements of Secs. V-VI) on the runs table and the AUC table, each with the number of
runs behind it and a 95% interval where it is a share (Wilson) or an AUC (the bootstrap
interval of the prediction stage). `comparison_markdown` renders them, with the
comparison of the local and cumulative FTLE forms and the restart-policy table.

Verdicts: 'agree' (the paper's number lies in our interval, or the qualitative
statement holds in our runs), 'differ' (it does not), 'partly' (it holds for some of
the items it names), 'not testable' (too few runs or events at this scale, or the
checkpoint was not computed).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from scipy.signal import find_peaks

from ..report.figures import FigureConfig
from .angles import cos_groups
from ..report.labels import FTLE_FORM_NAMES, predictor_label
from .config import PredictConfig
from .events import event_labels
from .table1 import best_rows

# The paper's checkpoints (intervals) and their t labels.
PAPER_CHECKPOINTS = {500: "0.015", 1000: "0.03", 2000: "0.06", 3000: "0.09"}
PAPER_TABLE1 = {
    "cos": [0.919201, 0.975243, 0.996333, 0.99861],
    "ftle": [0.987756, 0.998141, 0.998909, 0.999476],
    "svm": [0.951719, 0.997852, 0.998736, 0.998989],
    "loss": [0.960493, 0.97232, 0.97232, 0.98918],
}
PAPER_TABLE1_NAMES = {"cos": "best cos theta_ij(t)", "ftle": "best lambda_i(t)", "svm": "SVM on 9 FTLEs", "loss": "C(t)"}
PAPER_TANGENT_PAIRS = [(1, 2), (1, 3), (2, 3), (3, 4), (4, 5), (5, 6)]
VERDICT_WORDS = re.compile(r"agree|partly|differ|not testable")


@dataclass
class Claim:
    """One claim of the paper and our evaluation of it."""

    key: str
    source: str
    paper: str
    ours: str
    n: str
    verdict: str
    detail: str = ""
    extra: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------------
# Small statistics.

def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a share k/n (NaN, NaN for n = 0)."""
    if n == 0:
        return float("nan"), float("nan")
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def share_text(k: int, n: int, level: float = 0.95) -> str:
    if n == 0:
        return "n/a (no runs)"
    lo, hi = wilson(k, n, level)
    return f"{k / n:.1%} [{lo:.1%}, {hi:.1%}] ({k}/{n})"


def share_verdict(paper: float, k: int, n: int, level: float = 0.95) -> str:
    if n == 0:
        return "not testable"
    lo, hi = wilson(k, n, level)
    return "agree" if lo <= paper <= hi else "differ"


def density_peaks(values: np.ndarray, prominence: float = 0.05) -> int:
    """Number of peaks of a Gaussian KDE (Scott's bandwidth) of `values`, counting peaks
    whose prominence is at least `prominence` x the highest density."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) < 3 or np.ptp(v) == 0:
        return int(len(v) > 0)
    grid = np.linspace(v.min() - 0.1 * np.ptp(v), v.max() + 0.1 * np.ptp(v), 1024)
    dens = stats.gaussian_kde(v)(grid)
    peaks, _ = find_peaks(dens, prominence=prominence * dens.max())
    return int(len(peaks))


def _setting(runs: pd.DataFrame, activation: str, init: str) -> pd.DataFrame:
    return runs[(runs["activation"] == activation) & (runs["init"] == init)]


def _ok(sub: pd.DataFrame) -> pd.DataFrame:
    return sub[~sub["diverged"].astype(bool) & np.isfinite(sub["final_loss"])]


def _fmt(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}f}" if np.isfinite(x) else "n/a"


def _auc_text(r) -> str:
    if r is None or not np.isfinite(r["auc"]):
        return "n/a"
    ci = f" [{r['ci_low']:.3f}, {r['ci_high']:.3f}]" if np.isfinite(r["ci_low"]) else ""
    return f"{r['auc']:.3f}{ci}"


# ----------------------------------------------------------------------------------
# The claims.

def _loss_claims(runs: pd.DataFrame, p: PredictConfig) -> list[Claim]:
    out = []
    lo, hi = p.low_loss, p.high_loss

    def parts(sub):
        ok = _ok(sub)
        c = ok["final_loss"].to_numpy(dtype=np.float64)
        return ok, c, int((c < lo).sum()), int(((c >= lo) & (c <= hi)).sum()), int((c > hi).sum())

    sub = _setting(runs, "relu", "he")
    ok, c, n_lo, n_mid, n_hi = parts(sub)
    peaks = density_peaks(np.log10(c[c > 0])) if len(c) else 0
    verdict = "not testable" if not len(c) else ("agree" if min(n_lo, n_mid, n_hi) > 0 else "differ")
    out.append(Claim(
        "final_loss_relu_he", "Sec. IV, Fig. 3(a)",
        f"ReLU + He: three clusters of c_f (low, intermediate, high > {hi:g})",
        f"c_f < {lo:g}: {share_text(n_lo, len(c))}; {lo:g} <= c_f <= {hi:g}: {share_text(n_mid, len(c))}; "
        f"c_f > {hi:g}: {share_text(n_hi, len(c))}; {peaks} peak(s) in the density of log10 c_f",
        f"{len(c)} runs ({len(sub) - len(ok)} diverged left out)", verdict,
        "agree means every one of the three ranges holds runs."))

    sub = _setting(runs, "tanh", "he")
    ok, c, n_lo, n_mid, n_hi = parts(sub)
    peaks = density_peaks(np.log10(c[c > 0])) if len(c) else 0
    verdict = "not testable" if not len(c) else ("agree" if n_hi == 0 else "differ")
    out.append(Claim(
        "final_loss_tanh_he", "Sec. IV, Fig. 3(b)",
        f"tanh + He: no c_f > {hi:g}; one distinct low peak",
        f"c_f > {hi:g}: {share_text(n_hi, len(c))}; c_f < {lo:g}: {share_text(n_lo, len(c))}; "
        f"{peaks} peak(s) in the density of log10 c_f",
        f"{len(c)} runs", verdict, f"agree means no tanh + He run ends above {hi:g}."))

    rows, wider, tanh_high = [], [], None
    for act in ("relu", "tanh"):
        he, wide = _ok(_setting(runs, act, "he")), _ok(_setting(runs, act, "wide"))
        if not len(he) or not len(wide):
            continue
        iqr = [float(np.subtract(*np.quantile(np.log10(s["final_loss"]), [0.75, 0.25]))) for s in (he, wide)]
        rows.append(f"{act}: IQR of log10 c_f {iqr[0]:.2f} (He, {len(he)} runs) vs {iqr[1]:.2f} (wide, {len(wide)} runs)")
        wider.append(iqr[1] > iqr[0])
        if act == "tanh":
            k = int((wide["final_loss"] > hi).sum())
            tanh_high = (k, len(wide))
            rows.append(f"tanh + wide with c_f > {hi:g}: {share_text(k, len(wide))}")
    if wider and tanh_high is not None:
        verdict = "agree" if all(wider) and tanh_high[0] > 0 else "differ"
    else:
        verdict = "not testable"
    out.append(Claim(
        "final_loss_wide", "Sec. IV, Fig. 4",
        f"wide-range init: flatter, wider loss distributions than He; c_f > {hi:g} also with tanh",
        "; ".join(rows) or "n/a", ", ".join(f"{a} + {i}: {len(_ok(_setting(runs, a, i)))}" for a in ("relu", "tanh")
                                             for i in ("he", "wide")) + " runs", verdict,
        "agree means a larger interquartile range of log10 c_f under wide init for every activation, "
        "and at least one tanh + wide run above the high threshold."))
    return out


def _le_claims(runs: pd.DataFrame, p: PredictConfig, tol: float) -> list[Claim]:
    out = []
    specs = [
        ("le1_positive_relu_he", "relu", 0.33, 1, "33% of ReLU + He runs have a positive first LE"),
        ("le1_positive_tanh_he", "tanh", 0.62, 1, "62% of tanh + He runs have a positive first LE"),
        ("three_positive_relu_he", "relu", 0.03, 3, "3% of ReLU + He runs have three positive leading LEs"),
        ("three_positive_tanh_he", "tanh", 0.0, 3, "no tanh + He run has three positive leading LEs"),
    ]
    for key, act, paper, k_lead, text in specs:
        ok = _ok(_setting(runs, act, "he"))
        if f"le_{k_lead}" not in runs.columns:
            out.append(Claim(key, "Sec. V, Fig. 5", text, f"n/a (the network has fewer than {k_lead} exponents)",
                             f"{len(ok)} runs", "not testable"))
            continue
        le = ok[[f"le_{q}" for q in range(1, k_lead + 1)]].to_numpy(dtype=np.float64)
        n = len(ok)
        k_raw = int(np.all(le > 0, axis=1).sum()) if n else 0
        k_tol = int(np.all(le > tol, axis=1).sum()) if n else 0
        if paper == 0.0:
            v_raw = "not testable" if not n else ("agree" if k_raw == 0 else "differ")
            v_tol = "not testable" if not n else ("agree" if k_tol == 0 else "differ")
        else:
            v_raw, v_tol = share_verdict(paper, k_raw, n), share_verdict(paper, k_tol, n)
        out.append(Claim(
            key, "Sec. V, Fig. 5", text,
            f"raw (> 0): {share_text(k_raw, n)}; with tolerance (> {tol:g}): {share_text(k_tol, n)}",
            f"{n} runs", f"raw: {v_raw}; with tolerance: {v_tol}",
            "The exponents of dead ReLU directions are 0 up to rounding; the tolerance separates them from "
            "genuinely positive ones.",
            extra=dict(raw=v_raw, tol=v_tol)))

    ok = _ok(_setting(runs, "relu", "he"))
    if "le_3" not in runs.columns:
        return out + [Claim("high_loss_three_positive", "Sec. V, Fig. 7(a)",
                            "very high losses occur only when the three leading LEs are positive",
                            "n/a (the network has fewer than 3 exponents)", f"{len(ok)} runs", "not testable")]
    high = ok[ok["final_loss"] > p.high_loss]
    le = high[["le_1", "le_2", "le_3"]].to_numpy(dtype=np.float64)
    k_raw, k_tol = int(np.all(le > 0, axis=1).sum()), int(np.all(le > tol, axis=1).sum())
    rest = ok[ok["final_loss"] <= p.high_loss][["le_1", "le_2", "le_3"]].to_numpy(dtype=np.float64)
    r_raw = int(np.all(rest > 0, axis=1).sum())
    if not len(high):
        verdict = "not testable"
    else:
        verdict = f"raw: {'agree' if k_raw == len(high) else 'differ'}; with tolerance: {'agree' if k_tol == len(high) else 'differ'}"
    out.append(Claim(
        "high_loss_three_positive", "Sec. V, Fig. 7(a)",
        f"very high losses (ReLU + He, c_f > {p.high_loss:g}) occur only when the three leading LEs are positive",
        f"high-loss runs with l_1, l_2, l_3 > 0: raw {share_text(k_raw, len(high))}, with tolerance "
        f"{share_text(k_tol, len(high))}; other runs with three positive: {share_text(r_raw, len(rest))}",
        f"{len(high)} high-loss runs of {len(ok)}", verdict,
        "agree means every high-loss run has three positive leading exponents."))
    return out


def _cos_claims(runs: pd.DataFrame, p: PredictConfig, f: FigureConfig) -> list[Claim]:
    out = []
    ok = _ok(_setting(runs, "relu", "he"))
    high = ok["final_loss"] > p.high_loss
    m_hi = ok.loc[high, "mean_cos_end"].to_numpy(dtype=np.float64)
    m_rest = ok.loc[~high, "mean_cos_end"].to_numpy(dtype=np.float64)
    if len(m_hi) and len(m_rest):
        test = stats.mannwhitneyu(m_hi, m_rest, alternative="less")
        ours = (f"median mean |cos| {np.median(m_hi):.4f} (high) vs {np.median(m_rest):.4f} (other); "
                f"one-sided Mann-Whitney p = {test.pvalue:.2g}")
        verdict = "agree" if np.median(m_hi) < np.median(m_rest) and test.pvalue < 0.05 else "differ"
    else:
        ours, verdict = "n/a (no high-loss or no other runs)", "not testable"
    out.append(Claim(
        "mean_cos_high", "Sec. V, Fig. 9(a)",
        "the mean |cos theta_ij| between CLVs at the end of training drops clearly for high-loss ReLU runs",
        ours, f"{len(m_hi)} high-loss, {len(m_rest)} other ReLU + He runs", verdict,
        "agree means a lower median for the high-loss runs, significant at 5%."))

    both = {}
    for act in ("relu", "tanh"):
        sub = _ok(_setting(runs, act, "he"))
        if len(sub):
            both[act] = {pair for pair, g in cos_groups(sub, f.cos_tangent, f.cos_orthogonal, f.cos_quantile).items() if g == "tangent"}
    cols = [c for c in runs.columns if c.startswith("cos_end_")]
    he = _ok(runs[runs["init"] == "he"])
    top = float(np.nanmax(he[cols].to_numpy(dtype=np.float64), initial=np.nan)) if len(he) and cols else float("nan")
    q99 = float(np.nanquantile(he[cols].to_numpy(dtype=np.float64), 0.99)) if len(he) and cols else float("nan")
    if len(both) == 2:
        common = sorted(both["relu"] & both["tanh"])
        found = [pair for pair in PAPER_TANGENT_PAIRS if pair in common]
        ours = (f"pairs with tangencies in both: {', '.join(map(str, common)) or 'none'}; "
                f"largest |cos| of any He run {_fmt(top, 4)} (99th percentile {_fmt(q99, 4)})")
        verdict = "agree" if len(found) == len(PAPER_TANGENT_PAIRS) else ("partly" if found else "differ")
    else:
        ours, verdict = "n/a (needs ReLU + He and tanh + He runs)", "not testable"
    out.append(Claim(
        "tangent_pairs", "Sec. V, Fig. 8",
        "pairs (1,2), (1,3), (2,3), (3,4), (4,5), (5,6) show tangencies (|cos| near 1) for both activations",
        ours, f"{len(he)} He runs", verdict,
        f"A pair counts as tangent if its {f.cos_quantile:.0%} quantile of |cos| reaches {f.cos_tangent:g} "
        "(the red group of Fig. 8)."))
    return out


def _auc_row(auc, event, activation, group, form, interval, by="auc_train"):
    sub = auc[(auc["event"] == event) & (auc["activation"] == activation) & (auc["init"] == "he")
              & (auc["interval"] == interval)]
    best = best_rows(sub, group, form, by=by)
    return best.iloc[0] if len(best) else None


def _prediction_claims(auc: pd.DataFrame, p: PredictConfig) -> list[Claim]:
    out = []
    intervals = sorted(set(auc["interval"])) if len(auc) else []
    later = [i for i in PAPER_CHECKPOINTS if i >= 1000 and i in intervals]
    lines, per_act, n_text = [], [], []
    for act in ("relu", "tanh"):
        cells, ok = [], []
        for interval in sorted(PAPER_CHECKPOINTS):
            r = _auc_row(auc, "low", act, "ftle", p.ftle_form, interval)
            cells.append(f"t = {PAPER_CHECKPOINTS[interval]}: {_auc_text(r)}")
            if interval in later:
                ok.append(None if r is None or not np.isfinite(r["auc"]) else bool(r["ci_low"] > 0.5))
            if r is not None and interval == (later[0] if later else None):
                n_text.append(f"{act}: {int(r['n_test'])} test runs, {int(r['positives'])} positives")
        lines.append(f"{act}: " + ", ".join(cells))
        if not later or not ok or any(v is None for v in ok):
            per_act.append(f"{act}: not testable")
        else:
            per_act.append(f"{act}: {'agree' if all(ok) else 'differ'}")
    verdict = "; ".join(per_act)
    out.append(Claim(
        "ftle_predict_low", "Sec. VI, Fig. 10",
        f"FTLEs predict a low final loss (c_f < {p.low_loss:g}) from t = 0.03 on (ReLU and tanh, He)",
        "best single FTLE (" + FTLE_FORM_NAMES[p.ftle_form] + "), test AUC [95% CI]: " + "; ".join(lines),
        "; ".join(n_text) or "n/a", verdict,
        "agree means the lower end of the interval is above 0.5 at every checkpoint from t = 0.03 on."))

    # Table I cells
    for group, values in PAPER_TABLE1.items():
        form = p.ftle_form if group in ("ftle", "svm") else None
        for interval, paper in zip(sorted(PAPER_CHECKPOINTS), values):
            label = PAPER_CHECKPOINTS[interval]
            r = _auc_row(auc, "high", "relu", group, form, interval)
            if r is None or interval not in intervals:
                ours, verdict, n = "not computed (checkpoint not in the config)", "not testable", "-"
            elif not np.isfinite(r["auc"]):
                ours, verdict, n = f"n/a: {r['status']}", "not testable", f"{int(r['n_test'])} test runs"
            else:
                ours = _auc_text(r) + (f" ({predictor_label(r['predictor'])})" if group in ("cos", "ftle") else "")
                lo, hi = r["ci_low"], r["ci_high"]
                if np.isfinite(lo) and lo <= paper <= hi:
                    verdict = "agree"
                else:
                    verdict = "differ (ours lower)" if r["auc"] < paper else "differ (ours higher)"
                n = f"{int(r['n_test'])} test runs, {int(r['positives'])} positives"
            out.append(Claim(f"table1_{group}_t{label}", "Table I",
                             f"{PAPER_TABLE1_NAMES[group]}, t = {label}: AUC {paper}", ours, n, verdict,
                             extra=dict(group=group, t=label, paper=paper, auc=(np.nan if r is None else r["auc"]))))

    # the three most stable exponents predict high losses at the first checkpoint
    rows = []
    for q in (7, 8, 9):
        sub = auc[(auc["event"] == "high") & (auc["activation"] == "relu") & (auc["init"] == "he")
                  & (auc["interval"] == 500) & (auc["predictor"] == f"ftle_{'cum' if p.ftle_form == 'cum' else 'local'}_{q}")]
        rows.append(sub.iloc[0] if len(sub) else None)
    if all(r is not None and np.isfinite(r["auc"]) for r in rows):
        ours = "; ".join(f"lambda_{q}: {_auc_text(r)}" for q, r in zip((7, 8, 9), rows))
        verdict = "agree" if all(r["ci_low"] > 0.9 for r in rows) else "differ"
        n = f"{int(rows[0]['n_test'])} test runs, {int(rows[0]['positives'])} positives"
    else:
        ours, verdict, n = "n/a (not computed at t = 0.015 or too few events)", "not testable", "-"
    out.append(Claim("stable_ftle_high_early", "Sec. VI, Fig. 12",
                     f"the three most stable FTLEs predict c_f > {p.high_loss:g} with high accuracy already at t = 0.015",
                     ours, n, verdict, "agree means each lower interval end above 0.9."))

    # mean |cos| is the best angle predictor of high losses
    cells, wins = [], []
    for interval in sorted(PAPER_CHECKPOINTS):
        sub = auc[(auc["event"] == "high") & (auc["activation"] == "relu") & (auc["init"] == "he")
                  & (auc["interval"] == interval) & auc["group"].isin(["cos", "mean_cos"]) & (auc["status"] == "ok")]
        if not len(sub):
            continue
        best = sub.loc[sub["auc"].idxmax()]
        mean = sub[sub["group"] == "mean_cos"]
        m = mean.iloc[0] if len(mean) else None
        cells.append(f"t = {PAPER_CHECKPOINTS[interval]}: mean |cos| {_auc_text(m)}, best pair "
                     f"{predictor_label(best['predictor'])} {best['auc']:.3f}")
        wins.append(m is not None and m["auc"] >= best["auc"] - 1e-12)
    verdict = "not testable" if not wins else ("agree" if all(wins) else ("partly" if any(wins) else "differ"))
    out.append(Claim("mean_cos_best_angle", "Sec. VI, Fig. 13",
                     f"the mean |cos theta_ij| is the most effective angle predictor of c_f > {p.high_loss:g} (ReLU)",
                     "; ".join(cells) or "n/a", "test half of ReLU + He", verdict,
                     "agree means its test AUC is the largest among the 36 pairs and the mean at every checkpoint."))

    # FTLEs predict earlier than CLV angles
    r_f = _auc_row(auc, "high", "relu", "ftle", p.ftle_form, 500)
    r_c = _auc_row(auc, "high", "relu", "cos", None, 500)
    r_fl = _auc_row(auc, "low", "relu", "ftle", p.ftle_form, 500)
    r_cl = _auc_row(auc, "low", "relu", "cos", None, 500)
    pairs = [(r_f, r_c, "high"), (r_fl, r_cl, "low")]
    if all(a is not None and b is not None and np.isfinite(a["auc"]) and np.isfinite(b["auc"]) for a, b, _ in pairs):
        ours = "; ".join(f"{e}: best FTLE {_auc_text(a)} vs best |cos| {_auc_text(b)}" for a, b, e in pairs)
        verdict = "agree" if all(a["auc"] > b["auc"] for a, b, _ in pairs) else "differ"
    else:
        ours, verdict = "n/a (not computed at t = 0.015 or too few events)", "not testable"
    out.append(Claim("ftle_earlier_than_angles", "Sec. VI",
                     "FTLEs predict the final loss earlier than angles between CLVs (ReLU, t = 0.015)",
                     ours, "test half of ReLU + He", verdict,
                     "agree means a larger test AUC of the best FTLE than of the best angle, for both events."))
    return out


def compare_claims(runs: pd.DataFrame, auc: pd.DataFrame, p: PredictConfig, f: FigureConfig,
                   le_tolerance: float) -> list[Claim]:
    """Every claim of the paper evaluated on our runs and AUCs (see the module docstring)."""
    return (_loss_claims(runs, p) + _le_claims(runs, p, le_tolerance) + _cos_claims(runs, p, f)
            + _prediction_claims(auc, p))


# ----------------------------------------------------------------------------------
# FTLE forms.

def ftle_form_table(auc: pd.DataFrame, p: PredictConfig) -> pd.DataFrame:
    """Per (event, activation, t): best single FTLE and SVM AUC for the local and the
    cumulative form (best chosen on the training half)."""
    rows = []
    he = auc[auc["init"] == "he"]
    for (event, act, t), sub in he.groupby(["event", "activation", "t"], sort=True):
        row = dict(event=event, activation=act, t=t)
        for form in ("local", "cum"):
            b = best_rows(sub, "ftle", form)
            s = sub[(sub["group"] == "svm") & (sub["form"] == form)]
            row[f"ftle_{form}"] = _auc_text(b.iloc[0] if len(b) else None)
            row[f"ftle_{form}_auc"] = float(b.iloc[0]["auc"]) if len(b) else np.nan
            row[f"svm_{form}"] = _auc_text(s.iloc[0] if len(s) else None)
            row[f"svm_{form}_auc"] = float(s.iloc[0]["auc"]) if len(s) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def form_distance_to_table1(auc: pd.DataFrame) -> dict:
    """Mean |our AUC - paper AUC| over the Table I rows of FTLEs and SVM, per form."""
    out = {}
    for form in ("local", "cum"):
        diffs = []
        for group in ("ftle", "svm"):
            for interval, paper in zip(sorted(PAPER_CHECKPOINTS), PAPER_TABLE1[group]):
                r = _auc_row(auc, "high", "relu", group, form, interval)
                if r is not None and np.isfinite(r["auc"]):
                    diffs.append(abs(r["auc"] - paper))
        out[form] = (float(np.mean(diffs)) if diffs else float("nan"), len(diffs))
    return out


def binning_auc_cap(runs: pd.DataFrame, p: PredictConfig) -> tuple[float, float] | None:
    """(share of high-loss ReLU + He runs, the largest naive-Bayes AUC a perfectly ranking
    predictor can reach with n_bins quantile bins): the positives share the top bin with
    a (1/n_bins - share) fraction of all runs, ties count half, so
    AUC <= 1 - (1/n_bins - share) / (2 (1 - share)). None without such runs or when
    the events fill the top bin."""
    sub = _setting(runs, "relu", "he")
    if not len(sub) or p.bin_strategy != "quantile":
        return None
    share = float(event_labels(sub, "high", p.low_loss, p.high_loss).mean())
    if not 0.0 < share < 1.0 / p.n_bins:
        return None
    return share, 1.0 - (1.0 / p.n_bins - share) / (2.0 * (1.0 - share))


# ----------------------------------------------------------------------------------
# The document.

def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    esc = lambda s: str(s).replace("|", "\\|")  # noqa: E731
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(esc(c) for c in r) + " |" for r in rows]


def _scale_lines(runs: pd.DataFrame, cfg: dict) -> list[str]:
    tr, ly = cfg.get("training", {}), cfg.get("lyapunov", {})
    counts = runs.groupby(["activation", "init"]).size()
    setting = ", ".join(f"{a} + {i}: {n}" for (a, i), n in counts.items()) or "none"
    n_int = tr.get("n_intervals")
    lines = [
        f"- Runs per setting: {setting} (paper: 4000 per setting; Table I: 8000 ReLU + He).",
        f"- Training length: {n_int} intervals of {tr.get('steps_per_interval')} steps, dt = {tr.get('dt')} "
        f"(paper: 36,667 intervals of 20 steps, dt = 3e-5).",
        f"- Checkpoints: {ly.get('checkpoints')} intervals (paper: 500, 1000, 2000, 3000); CLV window "
        f"{ly.get('clv_window')} intervals (paper: 10).",
    ]
    small = (counts.min() if len(counts) else 0) < 1000 or (n_int is not None and int(n_int) < 36667)
    if small:
        lines.append("- **This run is smaller or shorter than the paper's.** Shares and AUCs carry wide intervals, "
                     "and final losses after a shorter training are not the paper's final losses; read "
                     "disagreements with that in mind. The `paper` preset runs the paper's scale.")
    return lines


def comparison_markdown(runs: pd.DataFrame, auc: pd.DataFrame, restart: pd.DataFrame, cfg: dict) -> str:
    """results/paper_comparison.md: the claims, the FTLE forms, the restart policy."""
    p, f = PredictConfig.from_config(cfg), FigureConfig.from_config(cfg)
    tol = float(cfg.get("summary", {}).get("le_tolerance", 1e-6))
    claims = compare_claims(runs, auc, p, f, tol)
    lines = ["# Comparison with the paper", "",
             "Sharafi, Martin and Hallerberg, \"On the weight dynamics of learning networks\" (arXiv 2405.00743; "
             "Phys. Rev. E 111, 054208, 2025). Each quantitative claim of the paper beside our number, with the "
             "runs behind it and a 95% interval: Wilson for shares, a stratified bootstrap of the test half "
             f"({p.n_boot} resamples) for AUCs. Generated by the pipeline (`results/paper_comparison.md`).", "",
             "## Scale of this run", ""] + _scale_lines(runs, cfg)
    found = [v for c in claims for v in VERDICT_WORDS.findall(c.verdict)]
    counts = {w: found.count(w) for w in ("agree", "partly", "differ", "not testable")}
    lines += ["", f"Summary over {len(claims)} claims ({len(found)} verdicts; claims with parts, such as raw and "
                  f"tolerance or one per activation, count each part): "
                  + ", ".join(f"{n} {w}" for w, n in counts.items()) + ".", ""]

    sections = [
        ("Final-loss distributions (Figs. 3, 4)", lambda c: c.key.startswith("final_loss")),
        ("Lyapunov exponents (Sec. V, Figs. 5, 7)", lambda c: c.key.startswith(("le1", "three", "high_loss"))),
        ("Angles between CLVs (Figs. 8, 9)", lambda c: c.key in ("mean_cos_high", "tangent_pairs")),
        ("Early prediction (Sec. VI, Figs. 10-13)", lambda c: c.key in ("ftle_predict_low", "stable_ftle_high_early",
                                                                        "mean_cos_best_angle", "ftle_earlier_than_angles")),
    ]
    for title, pick in sections:
        lines += [f"## {title}", ""]
        for c in [c for c in claims if pick(c)]:
            lines += [f"### {c.paper}", "", f"- Source: {c.source}", f"- Ours: {c.ours}", f"- Runs: {c.n}",
                      f"- Verdict: **{c.verdict}**"] + ([f"- Note: {c.detail}"] if c.detail else []) + [""]

    # Table I
    lines += [f"## Table I: AUC for c_f > {p.high_loss:g}, ReLU + He", "",
              f"Ours: test-half AUC [95% CI]; the 'best' rows take the member with the largest training-half AUC "
              f"(not the test half); FTLE form {FTLE_FORM_NAMES[p.ftle_form]}. Paper: 8000 networks.", ""]
    rows = []
    for c in [c for c in claims if c.key.startswith("table1_")]:
        rows.append([PAPER_TABLE1_NAMES[c.extra["group"]], c.extra["t"], f"{c.extra['paper']:.4f}", c.ours, c.n, c.verdict])
    lines += _md_table(["predictor", "t", "paper", "ours", "runs", "verdict"], rows) + [""]
    cap = binning_auc_cap(runs, p)
    if cap is not None:
        share, bound = cap
        lines += [f"Binning limits the naive-Bayes AUC of a rare event: with {p.n_bins} quantile bins and a high-loss "
                  f"share of {share:.1%} (ReLU + He), a predictor that ranks every run perfectly still shares its top "
                  f"bin with other runs, so its AUC is at most about {bound:.3f}. More bins (`predict.n_bins`) raise "
                  "this bound but need more training runs per bin.", ""]
    opt = []
    for group in ("cos", "ftle"):
        form = p.ftle_form if group == "ftle" else None
        for interval in sorted(PAPER_CHECKPOINTS):
            r = _auc_row(auc, "high", "relu", group, form, interval, by="auc")
            if r is not None and np.isfinite(r["auc"]):
                opt.append([PAPER_TABLE1_NAMES[group], PAPER_CHECKPOINTS[interval], _auc_text(r), predictor_label(r["predictor"])])
    if opt:
        lines += ["If, as the paper's wording suggests, the best member is picked by its test AUC (an optimistic "
                  "choice), the 'best' rows become:", ""]
        lines += _md_table(["predictor", "t", "max test AUC [95% CI]", "member"], opt) + [""]

    # FTLE forms
    forms = ftle_form_table(auc, p)
    dist = form_distance_to_table1(auc)
    lines += ["## Local and cumulative FTLE forms", "",
              "The paper does not define the FTLE at time t precisely. Local: log R_ii / d tau of the interval "
              "ending at t; cumulative: sum of log R_ii since the start / t. Best single FTLE (chosen on the "
              "training half) and SVM on all FTLEs, test AUC [95% CI]:", ""]
    if len(forms):
        lines += _md_table(["event", "activation", "t", "best FTLE, local", "best FTLE, cumulative", "SVM, local",
                            "SVM, cumulative"],
                           [[r.event, r.activation, f"{r.t:g}", r.ftle_local, r.ftle_cum, r.svm_local, r.svm_cum]
                            for r in forms.itertuples()]) + [""]
        wins = {form: int(np.nansum(forms[f"ftle_{form}_auc"] > forms[f"ftle_{other}_auc"]))
                for form, other in (("local", "cum"), ("cum", "local"))}
        lines.append(f"The local form has the larger best-FTLE AUC in {wins['local']} and the cumulative form in "
                     f"{wins['cum']} of {len(forms)} (event, activation, t) cells.")
        d_l, d_c = dist["local"], dist["cum"]
        if d_l[1] and d_c[1]:
            closer = "local" if d_l[0] < d_c[0] else "cumulative"
            lines.append(f"Mean |ours - paper| over the FTLE and SVM rows of Table I: local {d_l[0]:.3f} "
                         f"({d_l[1]} cells), cumulative {d_c[0]:.3f} ({d_c[1]} cells): the {closer} form is closer "
                         "to the paper's numbers.")
        else:
            lines.append("Table I could not be compared per form (no high-loss AUCs at the paper's checkpoints).")
    else:
        lines.append("No AUCs were computed.")
    lines.append("")

    # restart policy
    lines += ["## Beyond the paper: a restart policy", "",
              f"The paper proposes to stop a run predicted to end with c_f > {p.high_loss:g} and start a fresh one. "
              f"On the test half: expected compute per good network (c_f <= {p.high_loss:g}), in full training runs, "
              "without and with "
              "stopping at checkpoint t; the stopping threshold is chosen on the training half. 'oracle' stops "
              "exactly the high-loss runs (the bound for any predictor). Monitoring costs (the tangent dynamics "
              "needed for FTLEs) are not included.", ""]
    ok = restart[restart["status"] == "ok"] if len(restart) else restart
    if len(ok):
        rows = [[r.activation, f"{r.t:g}", predictor_label(r.predictor) if r.predictor != "oracle" else "oracle",
                 f"{r.stopped} ({r.stopped_high} high, {r.stopped_good} good)", f"{r.missed_high}",
                 f"{r.compute_without:.3f}", f"{r.compute_with:.3f}",
                 f"{r.saving:.1%} [{r.saving_ci_low:.1%}, {r.saving_ci_high:.1%}]"]
                for r in ok.itertuples()]
        lines += _md_table(["activation", "t", "predictor", "stopped", "high missed", "compute without",
                            "compute with", "saving [95% CI]"], rows) + [""]
        real = ok[ok["predictor"] != "oracle"]
        if len(real):
            b = real.loc[real["saving"].idxmax()]
            o = ok[(ok["predictor"] == "oracle") & (ok["t"] == b["t"]) & (ok["activation"] == b["activation"])]
            lines.append(f"Largest saving: {b['saving']:.1%} ({predictor_label(b['predictor'])} at t = {b['t']:g}, "
                         f"{b['activation']}); the oracle at that checkpoint saves "
                         f"{o['saving'].iloc[0]:.1%}." if len(o) else "")
    else:
        reason = restart["status"].iloc[0] if len(restart) else "no high-loss setting in the config"
        lines.append(f"Not computed: {reason}.")
    lines += ["", "## How these numbers were made", "",
              f"- Split: per setting, runs ordered by seed, scikit-learn `train_test_split` (test_size {p.test_size}, "
              f"random_state {p.split_seed}) stratified by outcome (low / intermediate / high).",
              "- Diverged runs count as high final losses and never as low ones; at a checkpoint after their "
              "divergence they have no predictor values and are left out of that checkpoint's AUC (counted in "
              f"`n_excluded` of auc.parquet). Diverged runs in this table: {int(runs['diverged'].astype(bool).sum())}.",
              f"- Naive Bayes: {p.n_bins} {p.bin_strategy} bins per predictor (KBinsDiscretizer fitted on the "
              f"training half), CategoricalNB with alpha = {p.alpha}; the SVM is an RBF SVC (C = {p.svm_C}, "
              f"gamma = {p.svm_gamma}, class_weight = {p.svm_class_weight}) on standardized FTLEs.",
              f"- An AUC needs at least {p.min_events} positives and negatives in each half; otherwise it is "
              "reported as not computed, with the counts.",
              f"- Exponents count as positive raw (> 0) or with tolerance (> {tol:g}).", ""]
    return "\n".join(lines)
