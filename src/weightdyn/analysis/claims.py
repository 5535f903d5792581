"""The paper's quantitative claims evaluated on our runs and AUCs, as data.

`compare_claims` evaluates every claim of the project's reading of the paper
(final-loss clusters, shares of positive exponents, high losses and positive exponents,
mean |cos| of high-loss runs, tangent CLV pairs, early prediction of low losses,
Table I, and a few more statements of Sec. VI) on the runs table and the prediction
tables (`evaluate.predict_all`). Each `Claim` holds the paper's statement, our numbers
behind it (`values`) and verdicts; the paper's numbers are in `paper`. The claims of
Sec. VI are evaluated in `prediction_claims`, and `verdicts` holds the `Claim` type and
the verdicts' vocabulary. `report.markdown` renders them, with the rule of every claim
(`Claim.note`).

Verdicts: 'agree', 'differ', 'partly' (it holds for some of the items it names),
'inconclusive' (our interval admits both readings) and 'not testable: <why>' (too few
runs or events at this scale, or not computed). Every verdict on an AUC needs
`min_positives` positives in the test half; with fewer it reads 'not testable: N
positives', whatever the AUC. A claim with parts (one per activation or event; raw and
with tolerance where these differ) has one verdict per part.

The rules, each a reading of the paper's sentence fixed before the results it judges:
- three clusters (ReLU + He): the density of log10 c_f (Gaussian KDE, a kernel of
  CLUSTER_BANDWIDTH decades) has a distinct mode in each range c_f < low, low..high,
  > high (a local maximum whose prominence is at least half its height: a small cluster
  need not rival the main one, but runs strewn over a range are no cluster); not
  testable if a range holds runs but fewer than `min_positives`, differ if one holds none.
- tanh + He: no run above the high threshold.
- wide-range init: the standard deviation of log10 c_f (a spread over all runs, which no
  quantile can place between two clusters) is larger under wide init, for each
  activation, by a bootstrap interval of the difference; and some tanh + wide run ends
  above the high threshold.
- shares of positive exponents: the paper's share lies in our Wilson interval; raw and
  with tolerance are separate parts only where their counts differ.
- high losses need three positive leading exponents: every high-loss run has them.
- the angle claims are judged twice: in the paper's setup (random start, the checkpoint
  window) and on start-independent CLVs (the end window, only where both starts agree;
  `angles` states the rules of a determined CLV).
- mean |cos| of high-loss runs: agree if lower by a one-sided Mann-Whitney test at
  SIGNIFICANCE, differ if higher by the other one-sided test, inconclusive otherwise, not
  testable where the counts cannot reach SIGNIFICANCE; start-independent, over the runs
  whose every CLV is determined.
- tangent pairs: see `angles.cos_groups`; agree needs all of the paper's pairs;
  start-independent, partly if only some of those that are not undetermined are
  tangent, not testable if all are undetermined.
- FTLEs predict low losses from t = 0.03: the lower end of the best FTLE's interval is
  above `verdicts.CHANCE` at each checkpoint from then on (differ if an upper end is at or
  below it, inconclusive otherwise).
- Table I cells: the paper's AUC lies in our interval of the same row; not testable where
  it lies above the largest AUC our naive Bayes can reach with its quantile bins at our
  event share (`binning.quantile_auc_ceiling`).
- the three most stable FTLEs at t = 0.015: each lower interval end above
  `prediction_claims.HIGH_ACCURACY` (differ if an upper end is at or below it,
  inconclusive otherwise).
- the mean |cos| is the most effective angle predictor: it is among the best within the
  intervals, i.e. the paired interval of AUC(best pair) - AUC(mean |cos|) reaches 0, at
  each checkpoint (partly: at some).
- FTLEs predict earlier than angles (t = 0.015), per event: agree if the paired interval
  of AUC(best FTLE) - AUC(best pair) is above 0, differ if below, inconclusive if it
  holds 0.
AUC intervals are those of the refit bootstrap (both halves resampled, everything
refitted); paired intervals take the two AUCs from the same resamples.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import special, stats

from ..engine import columns as col
from ..model import activations
from . import paper
from .angles import (DETERMINED, MIN_DETERMINED_SHARE, UNDETERMINED, AngleSetup, cos_groups, determined_pairs,
                     determined_vectors)
from .config import PredictConfig
from .events import usable_runs
from .prediction_claims import prediction_claims
from .stats import Share, bootstrap_difference, density_modes
from .verdicts import NOT_APPLICABLE, Claim, not_testable, one

EVENT_FREE_KINDS = ("le_share", "tangent_pairs")  # claims that read no event threshold
SIGNIFICANCE = 0.05   # one-sided Mann-Whitney test of the mean |cos| of high-loss runs
TOP_QUANTILE = 0.99   # reported beside the largest |cos| of the tangent-pair claim
SPREAD_BOOT = 2000    # bootstrap resamples of the spread difference (wide-range claim)
CLUSTER_BANDWIDTH = 0.1  # decades: the kernel of the log10 c_f density in which clusters are peaks
ANGLE_READINGS = (col.PAPER_READING, DETERMINED)  # the angle claims: the paper's setup, start-independent CLVs


def _he(act: str) -> str:
    return f"{activations.get(act).label} + He"


def _raw_and_tolerance(raw: Share, tol: Share, verdict) -> tuple[tuple[str, str], ...]:
    """One verdict if the raw and the with-tolerance counts agree, else one per part."""
    if (raw.k, raw.n) == (tol.k, tol.n):
        return (("raw = with tolerance", verdict(raw)),)
    return (("raw", verdict(raw)), ("with tolerance", verdict(tol)))


# ----------------------------------------------------------------------------------
# Final losses (Sec. IV, Figs. 3, 4).

def _final_loss(sub: pd.DataFrame, low: float, high: float) -> dict:
    ok = usable_runs(sub)
    c = ok[col.FINAL_LOSS].to_numpy(dtype=np.float64)
    n = len(c)
    at, height = density_modes(np.log10(c[c > 0]), CLUSTER_BANDWIDTH)
    at = 10.0 ** at
    # per range c_f < low, low <= c_f <= high, c_f > high: its highest distinct mode, or None
    ranges = [at < low, (at >= low) & (at <= high), at > high]
    modes = [float(at[m][np.argmax(height[m])]) if m.any() else None for m in ranges]
    return dict(n=n, left_out=len(sub) - n, low=Share(int((c < low).sum()), n),
                mid=Share(int(((c >= low) & (c <= high)).sum()), n), high=Share(int((c > high).sum()), n),
                mode_c=at, modes=modes)


def _clusters_verdict(v: dict, min_runs: int) -> str:
    if not v["n"]:
        return not_testable("no runs")
    ranges = ("low", "mid", "high")
    if any(v[r].k == 0 for r in ranges):
        return "differ"
    few = [f"{v[r].k} runs in the {r} range" for r in ranges if v[r].k < min_runs]
    if few:
        return not_testable(", ".join(few))
    return "agree" if all(m is not None for m in v["modes"]) else "differ"


def _log_sd(c: np.ndarray) -> float:
    return float(np.std(np.log10(c), ddof=1))


def _loss_claims(runs: pd.DataFrame, p: PredictConfig) -> list[Claim]:
    lo, hi = p.low_loss, p.high_loss
    relu = _final_loss(col.setting_rows(runs, "relu", "he"), lo, hi)
    tanh = _final_loss(col.setting_rows(runs, "tanh", "he"), lo, hi)
    out = [
        Claim("final_loss_relu_he", "final_loss_relu_he", "final_loss", "Sec. IV, Fig. 3(a)",
              f"ReLU + He: three clusters of c_f (low, intermediate, high > {hi:g})",
              one(_clusters_verdict(relu, p.min_positives)),
              f"agree means the density of log10 c_f (Gaussian KDE with a kernel of {CLUSTER_BANDWIDTH:g} decades) has "
              "a distinct mode in each of the three ranges (a local maximum whose prominence is at least half its "
              f"height); not testable if a range holds fewer than {p.min_positives} runs, differ if none.",
              relu),
        Claim("final_loss_tanh_he", "final_loss_tanh_he", "final_loss", "Sec. IV, Fig. 3(b)",
              f"tanh + He: no c_f > {hi:g}; one distinct low peak",
              one(not_testable("no runs") if not tanh["n"] else "agree" if tanh["high"].k == 0 else "differ"),
              f"agree means no tanh + He run ends above {hi:g}.", tanh),
    ]
    spread, tanh_high = {}, None
    for act in paper.ACTIVATIONS:
        he, wide = usable_runs(col.setting_rows(runs, act, "he")), usable_runs(col.setting_rows(runs, act, "wide"))
        c_he, c_wide = (s[col.FINAL_LOSS].to_numpy(dtype=np.float64) for s in (he, wide))
        c_he, c_wide = c_he[c_he > 0], c_wide[c_wide > 0]
        if len(c_he) < 2 or len(c_wide) < 2:
            continue
        diff = bootstrap_difference(c_wide, c_he, _log_sd, SPREAD_BOOT, seed=len(spread))
        spread[act] = dict(he=_log_sd(c_he), wide=_log_sd(c_wide), n_he=len(c_he), n_wide=len(c_wide), diff=diff)
        if act == "tanh":
            tanh_high = Share(int((wide[col.FINAL_LOSS] > hi).sum()), len(wide))
    if len(spread) == len(paper.ACTIVATIONS) and tanh_high is not None:
        lows, highs = [d["diff"][1] for d in spread.values()], [d["diff"][2] for d in spread.values()]
        if any(h < 0 for h in highs) or tanh_high.k == 0:
            verdict = "differ"
        else:
            verdict = "agree" if all(lo_ > 0 for lo_ in lows) else "inconclusive"
    else:
        verdict = not_testable("needs He and wide runs of both activations")
    counts = {(a, i): len(usable_runs(col.setting_rows(runs, a, i))) for a in paper.ACTIVATIONS for i in paper.INITS}
    out.append(Claim(
        "final_loss_wide", "final_loss_wide", "final_loss", "Sec. IV, Fig. 4",
        f"wide-range init: flatter, wider loss distributions than He; c_f > {hi:g} also with tanh", one(verdict),
        "agree means a larger standard deviation of log10 c_f under wide init for every activation (the 95% "
        "bootstrap interval of the difference above 0) and at least one tanh + wide run above the high threshold; "
        "differ if an interval lies below 0 or no such run exists; inconclusive otherwise.",
        dict(spread=spread, tanh_wide_high=tanh_high, counts=counts)))
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
            out.append(Claim(key, "missing_exponents", "lyapunov", "Sec. V, Fig. 5", text,
                             one(not_testable(f"fewer than {k} exponents")), values=dict(k=k, n=len(ok))))
            continue
        raw, with_tol = _leading_positive(ok, k, tol)
        if share == 0.0:
            def judge(s): return not_testable("no runs") if not s.n else "agree" if s.k == 0 else "differ"
        else:
            def judge(s): return s.verdict(share) if s.n else not_testable("no runs")
        out.append(Claim(
            key, "le_share", "lyapunov", "Sec. V, Fig. 5", text, _raw_and_tolerance(raw, with_tol, judge),
            "agree means the paper's share lies in our 95% Wilson interval (for a share of 0: no run). The exponents "
            "of dead ReLU directions are 0 up to rounding; the tolerance separates them from genuinely positive ones.",
            dict(raw=raw, tol=with_tol, n=len(ok), tolerance=tol)))

    ok = usable_runs(col.setting_rows(runs, "relu", "he"))
    k = paper.HIGH_LOSS_LEADING
    if P < k:
        return out + [Claim("high_loss_three_positive", "missing_exponents", "lyapunov", "Sec. V, Fig. 7(a)",
                            "very high losses occur only when the three leading LEs are positive",
                            one(not_testable(f"fewer than {k} exponents")), values=dict(k=k, n=len(ok)))]
    final = ok[col.FINAL_LOSS]
    raw, with_tol = _leading_positive(ok[final > p.high_loss], k, tol)
    rest, _ = _leading_positive(ok[final <= p.high_loss], k, tol)
    verdicts = (one(not_testable("no high-loss runs")) if not raw.n else
                _raw_and_tolerance(raw, with_tol, lambda s: "agree" if s.k == s.n else "differ"))
    out.append(Claim(
        "high_loss_three_positive", "high_loss_three_positive", "lyapunov", "Sec. V, Fig. 7(a)",
        f"very high losses (ReLU + He, c_f > {p.high_loss:g}) occur only when the three leading LEs are positive",
        verdicts, "agree means every high-loss run has three positive leading exponents.",
        dict(raw=raw, tol=with_tol, rest=rest, n=len(ok))))
    return out


# ----------------------------------------------------------------------------------
# Angles between CLVs (Sec. V, Figs. 8, 9).

def _mean_cos_high_claim(runs: pd.DataFrame, p: PredictConfig, setup: AngleSetup, reading: str) -> Claim:
    values_name, tolerance = setup.reading(reading)
    ok = usable_runs(col.setting_rows(runs, "relu", "he"))
    values = dict(reading=setup.describe(reading), n_usable=len(ok))
    if tolerance is not None:
        ok = ok[determined_vectors(ok, tolerance).all(axis=1)]
    high = ok[col.FINAL_LOSS] > p.high_loss
    m_hi = ok.loc[high, col.mean_cos_end(values_name)].to_numpy(dtype=np.float64)
    m_rest = ok.loc[~high, col.mean_cos_end(values_name)].to_numpy(dtype=np.float64)
    values.update(n_high=len(m_hi), n_rest=len(m_rest))
    if len(m_hi) and len(m_rest) and 1.0 / special.comb(len(m_hi) + len(m_rest), len(m_hi)) >= SIGNIFICANCE:
        verdict = not_testable(f"{len(m_hi)} high-loss and {len(m_rest)} other runs cannot reach significance")
    elif len(m_hi) and len(m_rest):
        values.update(median_high=np.median(m_hi), median_rest=np.median(m_rest),
                      p_value=stats.mannwhitneyu(m_hi, m_rest, alternative="less").pvalue,
                      p_greater=stats.mannwhitneyu(m_hi, m_rest, alternative="greater").pvalue)
        verdict = ("agree" if values["p_value"] < SIGNIFICANCE
                   else "differ" if values["p_greater"] < SIGNIFICANCE else "inconclusive")
    elif tolerance is not None:
        verdict = not_testable("no high-loss or no other run has every CLV determined")
    else:
        verdict = not_testable("no high-loss or no other runs")
    rule = (f"agree: the high-loss runs' mean |cos| is lower (one-sided Mann-Whitney p < {SIGNIFICANCE:g}); differ: "
            "it is higher (the other one-sided test); inconclusive otherwise; not testable where so few runs cannot "
            "reach significance.")
    if tolerance is not None:
        rule += (" Only runs whose every CLV is determined count: elsewhere the mean is set by the start. Runs with "
                 "degenerate exponents (dead units) drop out with it.")
    return Claim(
        "mean_cos_high" + ("" if reading == col.PAPER_READING else f"_{reading}"), "mean_cos_high", "angles",
        "Sec. V, Fig. 9(a)", "the mean |cos theta_ij| between CLVs at the end of training drops clearly for "
        f"high-loss ReLU runs ({setup.describe(reading)})", one(verdict), rule, values)


def _tangent_claim(runs: pd.DataFrame, setup: AngleSetup, reading: str) -> Claim:
    values_name, tolerance = setup.reading(reading)
    groups = {}
    for act in paper.ACTIVATIONS:
        sub = usable_runs(col.setting_rows(runs, act, "he"))
        if len(sub):
            groups[act] = cos_groups(sub, setup.tangent, setup.orthogonal, setup.quantile, values_name, tolerance)
    he = usable_runs(runs[runs["init"] == "he"])
    P = col.n_exponents(runs.columns)
    cos = he[[col.cos_end(values_name, i, j) for i, j in col.pairs(P)]].to_numpy(dtype=np.float64)
    if tolerance is not None:
        cos = np.where(determined_pairs(he, tolerance, P), cos, np.nan)
    finite = np.isfinite(cos).any()
    values = dict(reading=setup.describe(reading), n=len(he), top_quantile=TOP_QUANTILE,
                  top=float(np.nanmax(cos)) if finite else float("nan"),
                  quantile=float(np.nanquantile(cos, TOP_QUANTILE)) if finite else float("nan"))
    if len(groups) == len(paper.ACTIVATIONS):
        tangent = [{pair for pair, g in gr.items() if g == "tangent"} for gr in groups.values()]
        undetermined = sorted({pair for gr in groups.values() for pair, g in gr.items() if g == UNDETERMINED})
        values.update(common=sorted(set.intersection(*tangent)), undetermined=undetermined)
        testable = [pair for pair in paper.TANGENT_PAIRS if pair not in undetermined]
        found = [pair for pair in testable if pair in values["common"]]
        values.update(testable=testable, found=found)
        if not testable:
            verdict = not_testable("the start, not the dynamics, sets the angles of all these pairs")
        elif len(found) == len(paper.TANGENT_PAIRS):
            verdict = "agree"
        else:
            verdict = "partly" if found else "differ"
    else:
        verdict = not_testable("needs ReLU + He and tanh + He runs")
    rule = (f"A pair counts as tangent if its {setup.quantile:.0%} quantile of |cos| reaches {setup.tangent:g} "
            "(the red group of Fig. 8).")
    if tolerance is not None:
        rule += (" Only runs in which both vectors of the pair are determined count; a pair determined in fewer "
                 f"than {MIN_DETERMINED_SHARE:.0%} of the runs is undetermined. agree needs all of the paper's pairs "
                 "tangent; partly if some of the pairs that are not undetermined are; differ if none is; not testable "
                 "if all are undetermined.")
    return Claim(
        "tangent_pairs" + ("" if reading == col.PAPER_READING else f"_{reading}"), "tangent_pairs", "angles",
        "Sec. V, Fig. 8", f"pairs {', '.join(f'({i},{j})' for i, j in paper.TANGENT_PAIRS)} show tangencies "
        f"(|cos| near 1) for both activations ({setup.describe(reading)})", one(verdict), rule, values)


def _cos_claims(runs: pd.DataFrame, p: PredictConfig, setup: AngleSetup) -> list[Claim]:
    """The angle claims in both readings: the paper's setup, and start-independent CLVs."""
    return [claim for reading in ANGLE_READINGS
            for claim in (_mean_cos_high_claim(runs, p, setup, reading), _tangent_claim(runs, setup, reading))]


def compare_claims(runs: pd.DataFrame, tables: dict[str, pd.DataFrame], p: PredictConfig, le_tolerance: float,
                   setup: AngleSetup, not_applicable: str = "", events_not_applicable: str = "") -> list[Claim]:
    """Every claim of the paper evaluated on our runs and the prediction tables
    (`tables`: 'auc', 'best' and 'draws' of `evaluate.predict_all`); `setup`: how the
    end-of-training angles are read (`angles.AngleSetup`). Where the paper's claims do
    not apply (`paper.task_not_applicable`, the reason) every verdict is 'does not
    apply: <reason>', beside our numbers; where only its events do not
    (`paper.events_not_applicable`), the verdict of every claim that reads the events
    (all but EVENT_FREE_KINDS).
    """
    P = col.n_exponents(runs.columns)
    auc, best, draws = tables["auc"], tables["best"], tables["draws"]
    claims = (_loss_claims(runs, p) + _le_claims(runs, p, le_tolerance) + _cos_claims(runs, p, setup)
              + prediction_claims(auc, best, draws, p, P))
    out = []
    for c in claims:
        reason = "; ".join(r for r in (not_applicable, "" if c.kind in EVENT_FREE_KINDS else events_not_applicable)
                           if r)
        out.append(replace(c, verdicts=tuple((part, f"{NOT_APPLICABLE}: {reason}") for part, _ in c.verdicts))
                   if reason else c)
    return out
