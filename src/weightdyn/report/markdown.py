"""Markdown documents of the pipeline: Table I and the comparison with the paper."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis import comparison as cmp
from ..analysis import paper
from ..analysis.claims import VERDICTS, Claim, compare_claims
from ..analysis.config import PredictConfig
from ..analysis.restart import ORACLE, best_saving
from ..analysis.stats import Share
from ..analysis.table1 import cell, table1_labels
from ..engine import columns as col
from .labels import FTLE_FORM_NAMES, predictor_label


def _fmt_auc(auc: float, lo: float, hi: float) -> str:
    if not np.isfinite(auc):
        return "n/a"
    if np.isfinite(lo):
        return f"{auc:.3f} [{lo:.3f}, {hi:.3f}]"
    return f"{auc:.3f}"


def _auc_text(r) -> str:
    """An AUC row (or None) as 'AUC [CI]'."""
    return "n/a" if r is None else _fmt_auc(r["auc"], r["ci_low"], r["ci_high"])


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    esc = lambda s: str(s).replace("|", "\\|")  # noqa: E731
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(esc(c) for c in r) + " |" for r in rows]


# ----------------------------------------------------------------------------------
# Table I.

def table1_markdown(t1: pd.DataFrame, cfg: PredictConfig, event: str = "high", activation: str = "relu",
                    init: str = "he") -> str:
    """Table I as Markdown: AUC [CI] per row and checkpoint, the chosen predictors and counts."""
    labels = table1_labels(t1)
    thr = {"high": f"c_f > {cfg.high_loss:g}", "low": f"c_f < {cfg.low_loss:g}"}[event]
    lines = [
        f"# Table I: AUC for predicting {thr} ({activation} + {init})",
        "",
        f"AUC on the test half with a {cfg.ci_level:.0%} stratified bootstrap interval ({cfg.n_boot} resamples). "
        f"'best' rows: the member of the group with the largest AUC on the training half. "
        f"FTLE form: {FTLE_FORM_NAMES[cfg.ftle_form]}.",
        "",
    ]
    header = [f"t = {lab}" for lab in labels]
    rows = t1.to_dict("records")

    def table(first: str, text) -> list[str]:
        """One table: a row per predictor group, a column per checkpoint, text(row, label) in the cells."""
        return _md_table([first, *header], [[r["row"], *(text(r, lab) for lab in labels)] for r in rows])

    lines += table("predictor", lambda r, lab: _fmt_auc(r[cell("auc", lab)], r[cell("ci_low", lab)],
                                                        r[cell("ci_high", lab)]))
    lines += [""] + table("chosen predictor", lambda r, lab: predictor_label(r[cell("predictor", lab)])
                          if r[cell("predictor", lab)] else "-")
    lines += [""] + table("test runs (positives)",
                          lambda r, lab: f"{int(r[cell('n_test', lab)])} ({int(r[cell('positives', lab)])})")
    notes = sorted({r[cell("status", lab)] for r in rows for lab in labels} - {"ok"})
    if notes:
        lines += ["", "Not computed where: " + "; ".join(notes) + "."]
    if not labels:
        lines += ["", f"No {activation} + {init} runs, or no {event} event for this activation: nothing to show."]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------
# The claims: our numbers ("Ours") and the runs behind them ("Runs"), per kind of claim.

def _share(s: Share) -> str:
    if s.n == 0:
        return "n/a (no runs)"
    lo, hi = s.interval
    return f"{s.k / s.n:.1%} [{lo:.1%}, {hi:.1%}] ({s.k}/{s.n})"


def _fmt(x: float, digits: int) -> str:
    return f"{x:.{digits}f}" if np.isfinite(x) else "n/a"


def _counts(r) -> str:
    return f"{int(r['n_test'])} test runs, {int(r['positives'])} positives"


def _ours(c: Claim, p: PredictConfig) -> tuple[str, str]:
    """(our numbers, the runs behind them) of a claim."""
    v, lo, hi = c.values, p.low_loss, p.high_loss
    if c.kind in ("final_loss_relu_he", "final_loss_tanh_he"):
        peaks = f"{v['peaks']} peak(s) in the density of log10 c_f"
    if c.kind == "final_loss_relu_he":
        return (f"c_f < {lo:g}: {_share(v['low'])}; {lo:g} <= c_f <= {hi:g}: {_share(v['mid'])}; "
                f"c_f > {hi:g}: {_share(v['high'])}; {peaks}", f"{v['n']} runs ({v['left_out']} diverged left out)")
    if c.kind == "final_loss_tanh_he":
        return f"c_f > {hi:g}: {_share(v['high'])}; c_f < {lo:g}: {_share(v['low'])}; {peaks}", f"{v['n']} runs"
    if c.kind == "final_loss_wide":
        rows = [f"{act}: IQR of log10 c_f {h:.2f} (He, {n_h} runs) vs {w:.2f} (wide, {n_w} runs)"
                for act, ((h, n_h), (w, n_w)) in v["iqr"].items()]
        if v["tanh_wide_high"] is not None:
            rows.append(f"tanh + wide with c_f > {hi:g}: {_share(v['tanh_wide_high'])}")
        return "; ".join(rows) or "n/a", ", ".join(f"{a} + {i}: {n}" for (a, i), n in v["counts"].items()) + " runs"
    if c.kind == "missing_exponents":
        return f"n/a (the network has fewer than {v['k']} exponents)", f"{v['n']} runs"
    if c.kind == "le_share":
        return (f"raw (> 0): {_share(v['raw'])}; with tolerance (> {v['tolerance']:g}): {_share(v['tol'])}",
                f"{v['n']} runs")
    if c.kind == "high_loss_three_positive":
        leading = ", ".join(f"l_{q}" for q in range(1, paper.HIGH_LOSS_LEADING + 1))
        return (f"high-loss runs with {leading} > 0: raw {_share(v['raw'])}, with tolerance {_share(v['tol'])}; "
                f"other runs with three positive: {_share(v['rest'])}", f"{v['raw'].n} high-loss runs of {v['n']}")
    if c.kind == "mean_cos_high":
        ours = (f"median mean |cos| {v['median_high']:.4f} (high) vs {v['median_rest']:.4f} (other); "
                f"one-sided Mann-Whitney p = {v['p_value']:.2g}" if "p_value" in v
                else "n/a (no high-loss or no other runs)")
        return ours, f"{v['n_high']} high-loss, {v['n_rest']} other ReLU + He runs"
    if c.kind == "tangent_pairs":
        ours = (f"pairs with tangencies in both: {', '.join(map(str, v['common'])) or 'none'}; "
                f"largest |cos| of any He run {_fmt(v['top'], 4)} "
                f"({round(100 * v['top_quantile'])}th percentile {_fmt(v['quantile'], 4)})" if "common" in v
                else "n/a (needs ReLU + He and tanh + He runs)")
        return ours, f"{v['n']} He runs"
    if c.kind == "ftle_predict_low":
        lines = [f"{act}: " + ", ".join(f"t = {label}: {_auc_text(r)}" for label, r in rows)
                 for act, rows in v["rows"].items()]
        return (f"best single FTLE ({FTLE_FORM_NAMES[v['form']]}), test AUC [95% CI]: " + "; ".join(lines),
                "; ".join(f"{act}: {_counts(r)}" for act, r in v["counts"].items()) or "n/a")
    if c.kind == "table1":
        r = v["row"]
        if r is None:
            return "not computed (checkpoint not in the config)", "-"
        if not np.isfinite(r["auc"]):
            return f"n/a: {r['status']}", f"{int(r['n_test'])} test runs"
        member = f" ({predictor_label(r['predictor'])})" if v["group"] in ("cos", "ftle") else ""
        return _auc_text(r) + member, _counts(r)
    if c.kind == "stable_ftle_high_early":
        if not v["rows"]:
            return f"n/a (not computed at t = {v['t']} or too few events)", "-"
        return "; ".join(f"lambda_{q}: {_auc_text(r)}" for q, r in v["rows"]), _counts(v["rows"][0][1])
    if c.kind == "mean_cos_best_angle":
        cells = [f"t = {label}: mean |cos| {_auc_text(m)}, best pair {predictor_label(best['predictor'])} "
                 f"{best['auc']:.3f}" for label, m, best in v["cells"]]
        return "; ".join(cells) or "n/a", "test half of ReLU + He"
    if c.kind == "ftle_earlier_than_angles":
        ours = ("; ".join(f"{e}: best FTLE {_auc_text(a)} vs best |cos| {_auc_text(b)}" for e, a, b in v["pairs"])
                or f"n/a (not computed at t = {v['t']} or too few events)")
        return ours, "test half of ReLU + He"
    raise ValueError(f"no layout for claims of kind {c.kind!r}")


def _verdict(c: Claim) -> str:
    """The verdicts of a claim; a Table I cell that differs says in which direction."""
    parts = [v if not part else f"{part}: {v}" for part, v in c.verdicts]
    if c.kind == "table1" and c.verdicts[0][1] == "differ":
        parts[0] += " (ours lower)" if c.values["row"]["auc"] < c.values["paper"] else " (ours higher)"
    return "; ".join(parts)


# ----------------------------------------------------------------------------------
# The comparison document.

SECTIONS = {
    "final_loss": "Final-loss distributions (Figs. 3, 4)",
    "lyapunov": "Lyapunov exponents (Sec. V, Figs. 5, 7)",
    "angles": "Angles between CLVs (Figs. 8, 9)",
    "prediction": "Early prediction (Sec. VI, Figs. 10-13)",
}


def _scale_lines(runs: pd.DataFrame, cfg: dict) -> list[str]:
    tr, ly = cfg["training"], cfg["lyapunov"]
    counts = cmp.runs_per_setting(runs)
    setting = ", ".join(f"{a} + {i}: {n}" for (a, i), n in counts.items()) or "none"
    lines = [
        f"- Runs per setting: {setting} (paper: {paper.RUNS_PER_SETTING} per setting; "
        f"Table I: {paper.TABLE1_RUNS} ReLU + He).",
        f"- Training length: {tr['n_intervals']} intervals of {tr['steps_per_interval']} steps, dt = {tr['dt']} "
        f"(paper: {paper.N_INTERVALS:,} intervals of {paper.STEPS_PER_INTERVAL} steps, dt = {paper.DT}).",
        f"- Checkpoints: {ly['checkpoints']} intervals (paper: {', '.join(map(str, paper.CHECKPOINTS))}); "
        f"CLV window {ly['clv_window']} intervals (paper: {paper.CLV_WINDOW}).",
    ]
    if cmp.smaller_than_paper(counts, tr["n_intervals"]):
        lines.append("- **This run is smaller or shorter than the paper's.** Shares and AUCs carry wide intervals, "
                     "and final losses after a shorter training are not the paper's final losses; read "
                     "disagreements with that in mind. The `paper` preset runs the paper's scale.")
    return lines


def _table1_lines(claims: list[Claim], runs: pd.DataFrame, auc: pd.DataFrame, p: PredictConfig) -> list[str]:
    lines = [f"## Table I: AUC for c_f > {p.high_loss:g}, ReLU + He", "",
             f"Ours: test-half AUC [95% CI]; the 'best' rows take the member with the largest training-half AUC "
             f"(not the test half); FTLE form {FTLE_FORM_NAMES[p.ftle_form]}. Paper: {paper.TABLE1_RUNS} networks.", ""]
    rows = []
    for c in claims:
        if c.kind == "table1":
            ours, n = _ours(c, p)
            rows.append([paper.TABLE1_NAMES[c.values["group"]], c.values["t"], f"{c.values['paper']:.4f}", ours, n,
                         _verdict(c)])
    lines += _md_table(["predictor", "t", "paper", "ours", "runs", "verdict"], rows) + [""]
    cap = cmp.binning_auc_cap(runs, p)
    if cap is not None:
        share, bound = cap
        lines += [f"Binning limits the naive-Bayes AUC of a rare event: with {p.n_bins} quantile bins and a high-loss "
                  f"share of {share:.1%} (ReLU + He), a predictor that ranks every run perfectly still shares its top "
                  f"bin with other runs, so its AUC is at most about {bound:.3f}. More bins (`predict.n_bins`) raise "
                  "this bound but need more training runs per bin.", ""]
    opt = [[paper.TABLE1_NAMES[group], label, _auc_text(r), predictor_label(r["predictor"])]
           for group, label, r in cmp.table1_by_test_auc(auc, p)]
    if opt:
        lines += ["If, as the paper's wording suggests, the best member is picked by its test AUC (an optimistic "
                  "choice), the 'best' rows become:", ""]
        lines += _md_table(["predictor", "t", "max test AUC [95% CI]", "member"], opt) + [""]
    return lines


def _form_lines(auc: pd.DataFrame) -> list[str]:
    forms = cmp.ftle_form_table(auc)
    lines = ["## Local and cumulative FTLE forms", "",
             "The paper does not define the FTLE at time t precisely. Local: log R_ii / d tau of the interval "
             "ending at t; cumulative: sum of log R_ii since the start / t. Best single FTLE (chosen on the "
             "training half) and SVM on all FTLEs, test AUC [95% CI]:", ""]
    if not len(forms):
        return lines + ["No AUCs were computed.", ""]
    kinds = [f"{kind}_{form}" for kind in ("ftle", "svm") for form in col.FTLE_FORMS]
    rows = [[r["event"], r["activation"], f"{r['t']:g}"]
            + [_fmt_auc(r[f"{k}_auc"], r[f"{k}_ci_low"], r[f"{k}_ci_high"]) for k in kinds]
            for _, r in forms.iterrows()]
    lines += _md_table(["event", "activation", "t", "best FTLE, local", "best FTLE, cumulative", "SVM, local",
                        "SVM, cumulative"], rows) + [""]
    wins = cmp.form_wins(forms)
    lines.append(f"The local form has the larger best-FTLE AUC in {wins['local']} and the cumulative form in "
                 f"{wins['cum']} of {len(forms)} (event, activation, t) cells.")
    dist = cmp.form_distance_to_table1(auc)
    d_l, d_c = dist["local"], dist["cum"]
    if d_l[1] and d_c[1]:
        closer = FTLE_FORM_NAMES["local" if d_l[0] < d_c[0] else "cum"]
        lines.append(f"Mean |ours - paper| over the FTLE and SVM rows of Table I: local {d_l[0]:.3f} "
                     f"({d_l[1]} cells), cumulative {d_c[0]:.3f} ({d_c[1]} cells): the {closer} form is closer "
                     "to the paper's numbers.")
    else:
        lines.append("Table I could not be compared per form (no high-loss AUCs at the paper's checkpoints).")
    return lines + [""]


def _restart_lines(restart: pd.DataFrame, p: PredictConfig) -> list[str]:
    lines = ["## Beyond the paper: a restart policy", "",
             f"The paper proposes to stop a run predicted to end with c_f > {p.high_loss:g} and start a fresh one. "
             f"On the test half: expected compute per good network (c_f <= {p.high_loss:g}), in full training runs, "
             "without and with "
             "stopping at checkpoint t; the stopping threshold is chosen on the training half. 'oracle' stops "
             "exactly the high-loss runs (the bound for any predictor). Monitoring costs (the tangent dynamics "
             "needed for FTLEs) are not included.", ""]
    ok = restart[restart["status"] == "ok"] if len(restart) else restart
    if not len(ok):
        reason = restart["status"].iloc[0] if len(restart) else "no high-loss setting in the config"
        return lines + [f"Not computed: {reason}."]
    rows = [[r.activation, f"{r.t:g}", predictor_label(r.predictor) if r.predictor != ORACLE else ORACLE,
             f"{r.stopped} ({r.stopped_high} high, {r.stopped_good} good)", f"{r.missed_high}",
             f"{r.compute_without:.3f}", f"{r.compute_with:.3f}",
             f"{r.saving:.1%} [{r.saving_ci_low:.1%}, {r.saving_ci_high:.1%}]"]
            for r in ok.itertuples()]
    lines += _md_table(["activation", "t", "predictor", "stopped", "high missed", "compute without",
                        "compute with", "saving [95% CI]"], rows) + [""]
    best = best_saving(restart)
    if best is not None:
        b, o = best
        lines.append(f"Largest saving: {b['saving']:.1%} ({predictor_label(b['predictor'])} at t = {b['t']:g}, "
                     f"{b['activation']}); the oracle at that checkpoint saves {o['saving']:.1%}."
                     if o is not None else "")
    return lines


def comparison_markdown(runs: pd.DataFrame, auc: pd.DataFrame, restart: pd.DataFrame, cfg: dict) -> str:
    """results/paper_comparison.md: the claims, Table I, the FTLE forms, the restart policy.

    cfg: the pipeline config (sections training, lyapunov, events, predict, figures, summary).
    """
    p = PredictConfig.from_config(cfg)
    tol = float(cfg["summary"]["le_tolerance"])
    fig = cfg["figures"]
    diverged = int(runs[col.DIVERGED].astype(bool).sum())
    claims = compare_claims(runs, auc, p, tol, float(fig["cos_tangent"]), float(fig["cos_orthogonal"]),
                            float(fig["cos_quantile"]))
    lines = ["# Comparison with the paper", "",
             "Sharafi, Martin and Hallerberg, \"On the weight dynamics of learning networks\" (arXiv 2405.00743; "
             "Phys. Rev. E 111, 054208, 2025). Each quantitative claim of the paper beside our number, with the "
             "runs behind it and a 95% interval: Wilson for shares, a stratified bootstrap of the test half "
             f"({p.n_boot} resamples) for AUCs. Generated by the pipeline (`results/paper_comparison.md`).", "",
             "## Scale of this run", ""] + _scale_lines(runs, cfg)
    found = [v for c in claims for _, v in c.verdicts]
    lines += ["", f"Summary over {len(claims)} claims ({len(found)} verdicts; claims with parts, such as raw and "
                  f"tolerance or one per activation, count each part): "
                  + ", ".join(f"{found.count(w)} {w}" for w in VERDICTS) + ".", ""]
    for topic, title in SECTIONS.items():
        lines += [f"## {title}", ""]
        for c in claims:
            if c.topic == topic:
                ours, n = _ours(c, p)
                lines += [f"### {c.statement}", "", f"- Source: {c.source}", f"- Ours: {ours}", f"- Runs: {n}",
                          f"- Verdict: **{_verdict(c)}**"] + ([f"- Note: {c.note}"] if c.note else []) + [""]
    lines += _table1_lines(claims, runs, auc, p) + _form_lines(auc) + _restart_lines(restart, p)
    lines += ["", "## How these numbers were made", "",
              f"- Split: per setting, runs ordered by seed, scikit-learn `train_test_split` (test_size {p.test_size}, "
              f"random_state {p.split_seed}) stratified by outcome (low / intermediate / high).",
              "- Diverged runs count as high final losses and never as low ones; at a checkpoint after their "
              "divergence they have no predictor values and are left out of that checkpoint's AUC (counted in "
              f"`n_excluded` of auc.parquet). Diverged runs in this table: {diverged}.",
              f"- Naive Bayes: {p.n_bins} {p.bin_strategy} bins per predictor (KBinsDiscretizer fitted on the "
              f"training half), CategoricalNB with alpha = {p.alpha}; the SVM is an RBF SVC (C = {p.svm_C}, "
              f"gamma = {p.svm_gamma}, class_weight = {p.svm_class_weight}) on standardized FTLEs.",
              f"- An AUC needs at least {p.min_events} positives and negatives in each half; otherwise it is "
              "reported as not computed, with the counts.",
              f"- Exponents count as positive raw (> 0) or with tolerance (> {tol:g}).", ""]
    return "\n".join(lines)
