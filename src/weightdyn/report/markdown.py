"""Markdown documents of the pipeline: Table I and the comparison with the paper."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis import comparison as cmp
from ..analysis import paper
from ..analysis.angles import AngleSetup
from ..analysis.claims import compare_claims
from ..analysis.verdicts import NOT_APPLICABLE, VERDICTS, Claim, verdict_kind
from ..analysis.config import PredictConfig
from ..analysis.table1 import cell, table1_labels
from ..engine import columns as col
from .angles_markdown import clv_lines
from .restart_markdown import restart_lines
from .labels import FTLE_FORM_NAMES, events_text, md_table, predictor_label, share_text


def _fmt_auc(auc: float, lo: float, hi: float) -> str:
    if not np.isfinite(auc):
        return "n/a"
    if np.isfinite(lo):
        return f"{auc:.3f} [{lo:.3f}, {hi:.3f}]"
    return f"{auc:.3f}"


def _auc_text(r) -> str:
    """An AUC row (or None) as 'AUC [CI]'."""
    return "n/a" if r is None else _fmt_auc(r["auc"], r["ci_low"], r["ci_high"])


# ----------------------------------------------------------------------------------
# Table I.

def _chosen(predictor: str, n_tied: int, n_candidates: int, lo: float, hi: float) -> str:
    """The chosen member of a group, with the candidates tied with it and their test AUCs."""
    if not predictor:
        return "-"
    if n_candidates <= 1:
        return predictor_label(predictor)
    if n_tied <= 1:
        return f"{predictor_label(predictor)} (no tie, {n_candidates} candidates)"
    return f"{predictor_label(predictor)} ({n_tied} of {n_candidates} tied; test AUC {lo:.3f}-{hi:.3f})"


def _chosen_of(r) -> str:
    """The chosen member of a best row (see `_chosen`)."""
    return _chosen(r["predictor"], int(r["n_tied"]), int(r["n_candidates"]), r["tied_auc_min"], r["tied_auc_max"])


def table1_markdown(t1: pd.DataFrame, cfg: PredictConfig, event: str = "high", activation: str = "relu",
                    init: str = "he") -> str:
    """Table I as Markdown: AUC [refit-bootstrap CI] and DeLong's interval per row and
    checkpoint, the chosen members with their ties, and the counts."""
    labels = table1_labels(t1)
    thr = {"high": f"c_f > {cfg.high_loss:g}", "low": f"c_f < {cfg.low_loss:g}"}[event]
    lines = [
        f"# Table I: AUC for predicting {thr} ({activation} + {init})",
        "",
        f"AUC on the test half. First table: {cfg.ci_level:.0%} interval of a bootstrap that resamples both halves "
        f"and refits everything, the choice of the best member included ({cfg.n_boot} resamples; "
        f"{cfg.n_boot_refit_svm} for the SVM). Second: DeLong's interval (the fitted classifier held fixed). "
        f"'best' rows: the member with the largest cross-validated AUC (a {cfg.cv_folds}-fold cross-validation on "
        f"the training half, pairs within folds); the members tied with it and the range of their test AUCs are "
        f"shown. With all positives ranked on top, both intervals are [1, 1]: they cannot show what the few "
        f"positives leave open. FTLE form: {FTLE_FORM_NAMES[cfg.ftle_form]}. With fewer than {cfg.min_positives} test positives an "
        "AUC is too uncertain for a verdict.",
        "",
    ]
    header = [f"t = {lab}" for lab in labels]
    rows = t1.to_dict("records")

    def table(first: str, text) -> list[str]:
        """One table: a row per predictor group, a column per checkpoint, text(row, label) in the cells."""
        return md_table([first, *header], [[r["row"], *(text(r, lab) for lab in labels)] for r in rows])

    def q(r, name, lab):
        return r[cell(name, lab)]

    lines += table("predictor", lambda r, lab: _fmt_auc(q(r, "auc", lab), q(r, "ci_low", lab), q(r, "ci_high", lab)))
    lines += [""] + table("DeLong interval", lambda r, lab: _fmt_auc(q(r, "auc", lab), q(r, "delong_low", lab),
                                                           q(r, "delong_high", lab)))
    lines += [""] + table("chosen predictor", lambda r, lab: _chosen(
        q(r, "predictor", lab), int(q(r, "n_tied", lab)), int(q(r, "n_candidates", lab)),
        q(r, "tied_auc_min", lab), q(r, "tied_auc_max", lab)))
    lines += [""] + table("test runs (positives)",
                          lambda r, lab: f"{int(q(r, 'n_test', lab))} ({int(q(r, 'positives', lab))})")
    notes = sorted({r[cell("status", lab)] for r in rows for lab in labels} - {"ok"})
    if notes:
        lines += ["", "Not computed where: " + "; ".join(notes) + "."]
    if not labels:
        lines += ["", f"No {activation} + {init} runs, or no {event} event for this activation: nothing to show."]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------
# The claims: our numbers ("Ours") and the runs behind them ("Runs"), per kind of claim.

def _fmt(x: float, digits: int) -> str:
    return f"{x:.{digits}f}" if np.isfinite(x) else "n/a"


def _counts(r) -> str:
    return f"{int(r['n_test'])} test runs, {int(r['positives'])} positives"


def _ours(c: Claim, p: PredictConfig) -> tuple[str, str]:
    """(our numbers, the runs behind them) of a claim."""
    v, lo, hi = c.values, p.low_loss, p.high_loss
    if c.kind in ("final_loss_relu_he", "final_loss_tanh_he"):
        at = ", ".join(f"{x:.3g}" for x in v["mode_c"])
        peaks = (f"{len(v['mode_c'])} distinct mode(s) of the density of log10 c_f" + (f" (at c_f = {at})" if at else "")
                 + "; per range: " + ", ".join("none" if m is None else f"{m:.3g}" for m in v["modes"]))
    if c.kind == "final_loss_relu_he":
        return (f"c_f < {lo:g}: {share_text(v['low'])}; {lo:g} <= c_f <= {hi:g}: {share_text(v['mid'])}; "
                f"c_f > {hi:g}: {share_text(v['high'])}; {peaks}", f"{v['n']} runs ({v['left_out']} diverged left out)")
    if c.kind == "final_loss_tanh_he":
        return f"c_f > {hi:g}: {share_text(v['high'])}; c_f < {lo:g}: {share_text(v['low'])}; {peaks}", f"{v['n']} runs"
    if c.kind == "final_loss_wide":
        rows = [f"{act}: SD of log10 c_f {d['he']:.2f} (He, {d['n_he']} runs) vs {d['wide']:.2f} (wide, "
                f"{d['n_wide']} runs), difference {d['diff'][0]:.2f} [{d['diff'][1]:.2f}, {d['diff'][2]:.2f}]"
                for act, d in v["spread"].items()]
        if v["tanh_wide_high"] is not None:
            rows.append(f"tanh + wide with c_f > {hi:g}: {share_text(v['tanh_wide_high'])}")
        return "; ".join(rows) or "n/a", ", ".join(f"{a} + {i}: {n}" for (a, i), n in v["counts"].items()) + " runs"
    if c.kind == "missing_exponents":
        return f"n/a (the network has fewer than {v['k']} exponents)", f"{v['n']} runs"
    if c.kind == "le_share":
        return (f"raw (> 0): {share_text(v['raw'])}; with tolerance (> {v['tolerance']:g}): {share_text(v['tol'])}",
                f"{v['n']} runs")
    if c.kind == "high_loss_three_positive":
        leading = ", ".join(f"l_{q}" for q in range(1, paper.HIGH_LOSS_LEADING + 1))
        return (f"high-loss runs with {leading} > 0: raw {share_text(v['raw'])}, with tolerance {share_text(v['tol'])}; "
                f"other runs with three positive: {share_text(v['rest'])}", f"{v['raw'].n} high-loss runs of {v['n']}")
    if c.kind == "mean_cos_high":
        ours = (f"median mean |cos| {v['median_high']:.4f} (high) vs {v['median_rest']:.4f} (other); "
                f"one-sided Mann-Whitney p = {v['p_value']:.2g}" if "p_value" in v
                else "n/a (no high-loss or no other runs)")
        return ours, f"{v['n_high']} high-loss, {v['n_rest']} other ReLU + He runs (of {v['n_usable']} usable)"
    if c.kind == "tangent_pairs":
        ours = (f"pairs with tangencies in both: {', '.join(map(str, v['common'])) or 'none'}; "
                f"largest |cos| of any He run {_fmt(v['top'], 4)} "
                f"({round(100 * v['top_quantile'])}th percentile {_fmt(v['quantile'], 4)})" if "common" in v
                else "n/a (needs ReLU + He and tanh + He runs)")
        if v.get("undetermined"):
            ours += f"; undetermined pairs (set by the start): {', '.join(map(str, v['undetermined']))}"
        return ours, f"{v['n']} He runs"
    if c.kind == "ftle_predict_low":
        lines = [f"{act}: " + ", ".join(f"t = {label}: {_auc_text(r)}" + (
            f" ({_chosen_of(r)})"
            if r is not None and np.isfinite(r["auc"]) else "") for label, r in rows) for act, rows in v["rows"].items()]
        return (f"best single FTLE ({FTLE_FORM_NAMES[v['form']]}), test AUC [95% CI]: " + "; ".join(lines),
                "; ".join(f"{act}: {_counts(r)}" for act, r in v["counts"].items()) or "n/a")
    if c.kind == "table1":
        r = v["row"]
        if r is None:
            return "not computed (checkpoint not in the config)", "-"
        if not np.isfinite(r["auc"]):
            return f"n/a: {r['status']}", f"{int(r['n_test'])} test runs"
        member = f"; {_chosen_of(r)}" if r["n_candidates"] > 1 else ""
        return f"{_auc_text(r)}, DeLong [{_fmt(r['delong_low'], 3)}, {_fmt(r['delong_high'], 3)}]{member}", _counts(r)
    if c.kind == "stable_ftle_high_early":
        if not v["rows"]:
            return f"n/a (not computed at t = {v['t']} or too few events)", "-"
        return "; ".join(f"lambda_{q}: {_auc_text(r)}" for q, r in v["rows"]), _counts(v["rows"][0][1])
    if c.kind == "mean_cos_best_angle":
        cells = [f"t = {label}: mean |cos| {_auc_text(m)}, best pair "
                 + (f"{predictor_label(pair['predictor'])} {_auc_text(pair)}" if pair is not None and pair["predictor"]
                    else "n/a")
                 + (f", difference [{d[0]:.3f}, {d[1]:.3f}]" if d[2] else "")
                 for label, m, pair, d in v["cells"]]
        rows = [m for _, m, _, _ in v["cells"] if m is not None]
        return "; ".join(cells) or "n/a", _counts(rows[0]) if rows else "-"
    if c.kind == "ftle_earlier_than_angles":
        ours = ("; ".join(f"{e}: best FTLE {_auc_text(a)} vs best |cos| {_auc_text(b)}, difference "
                          f"[{d[0]:.3f}, {d[1]:.3f}]" for e, a, b, d in v["pairs"])
                or f"n/a (not computed at t = {v['t']} or too few events)")
        return ours, "; ".join(f"{e}: {_counts(a)}" for e, a, _, _ in v["pairs"]) or "-"
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
        f"CLV window {ly['clv_window']} intervals at the checkpoints (paper: {paper.CLV_WINDOW}), "
        f"{ly['clv_window_end']} at the end of training; the analysis reads the CLVs from the start "
        f"'{ly['clv_start']}'.",
    ]
    if cmp.smaller_than_paper(counts, tr["n_intervals"]):
        lines.append("- **This run is smaller or shorter than the paper's.** Shares and AUCs carry wide intervals, "
                     "and final losses after a shorter training are not the paper's final losses; read "
                     "disagreements with that in mind. The `paper` preset runs the paper's scale.")
    return lines


def _table1_lines(claims: list[Claim], runs: pd.DataFrame, auc: pd.DataFrame, p: PredictConfig) -> list[str]:
    lines = [f"## Table I: AUC for c_f > {p.high_loss:g}, ReLU + He", "",
             f"Ours: test-half AUC [95% refit-bootstrap interval] and DeLong's interval; the 'best' rows take the "
             f"member chosen by {p.cv_folds}-fold cross-validation on the training half (with the members tied with "
             f"it and the range of their test AUCs); FTLE form {FTLE_FORM_NAMES[p.ftle_form]}. Paper: "
             f"{paper.TABLE1_RUNS} networks. A cell with fewer than {p.min_positives} test positives is not "
             "testable.", ""]
    rows = []
    for c in claims:
        if c.kind == "table1":
            ours, n = _ours(c, p)
            rows.append([paper.TABLE1_NAMES[c.values["group"]], c.values["t"], f"{c.values['paper']:.4f}", ours, n,
                         _verdict(c)])
    lines += md_table(["predictor", "t", "paper", "ours", "runs", "verdict"], rows) + [""]
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
                  "choice, for reference only: no verdict rests on it), the 'best' rows become:", ""]
        lines += md_table(["predictor", "t", "max test AUC [95% CI]", "member"], opt) + [""]
    return lines


def _form_lines(best: pd.DataFrame, draws: pd.DataFrame, p: PredictConfig) -> list[str]:
    forms = cmp.ftle_form_table(best)
    lines = ["## Local and cumulative FTLE forms", "",
             "The paper does not define the FTLE at time t precisely. Local: log R_ii / d tau of the interval "
             "ending at t; cumulative: sum of log R_ii since the start / t. Best single FTLE (chosen by "
             "cross-validation on the training half) and SVM on all FTLEs, test AUC [95% CI]:", ""]
    if not len(forms):
        return lines + ["No AUCs were computed.", ""]
    kinds = [f"{kind}_{form}" for kind in ("ftle", "svm") for form in col.FTLE_FORMS]

    def text(r, k):
        auc = _fmt_auc(r[f"{k}_auc"], r[f"{k}_ci_low"], r[f"{k}_ci_high"])
        if r[f"{k}_n_tied"] > 1:
            auc += f" ({int(r[f'{k}_n_tied'])} tied: {r[f'{k}_tied_auc_min']:.3f}-{r[f'{k}_tied_auc_max']:.3f})"
        return auc

    rows = [[r["event"], r["activation"], f"{r['t']:g}"] + [text(r, k) for k in kinds] for _, r in forms.iterrows()]
    lines += md_table(["event", "activation", "t", "best FTLE, local", "best FTLE, cumulative", "SVM, local",
                        "SVM, cumulative"], rows) + [""]
    wins = cmp.form_wins(best, draws, p)
    lines.append(f"By the paired 95% interval of the two best-FTLE AUCs (same resamples), the local form is larger "
                 f"in {wins['local']}, the cumulative form in {wins['cum']}, and neither in {wins['tie']} of the "
                 f"(event, activation, t) cells with at least {p.min_positives} test positives ({wins['few']} cells "
                 "had fewer).")
    dist = cmp.form_distance_to_table1(best, p)
    d_l, d_c = dist["local"], dist["cum"]
    if d_l[1] and d_c[1]:
        lines.append(f"Mean |ours - paper| over the FTLE and SVM rows of Table I: local {d_l[0]:.3f} "
                     f"({d_l[1]} cells), cumulative {d_c[0]:.3f} ({d_c[1]} cells); a description, not a test.")
    else:
        lines.append(f"The forms cannot be compared on Table I: none of its cells has {p.min_positives} test "
                     "positives.")
    return lines + [""]


def paper_claims(runs: pd.DataFrame, tables: dict[str, pd.DataFrame], cfg: dict) -> list[Claim]:
    """The paper's claims judged on our runs and prediction tables (`claims.compare_claims`
    with the settings of the pipeline config `cfg`; 'does not apply' where
    `paper.not_applicable`)."""
    return compare_claims(runs, tables, PredictConfig.from_config(cfg).resolve(runs),
                          float(cfg["summary"]["le_tolerance"]), AngleSetup.from_config(cfg),
                          paper.task_not_applicable(cfg), paper.events_not_applicable(cfg))


CLAIM_COLUMNS = ("key", "topic", "source", "statement", "part", "verdict", "verdict_kind", "ours", "runs")


def claims_table(claims: list[Claim], runs: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """One row per claim and part (CLAIM_COLUMNS): the verdict, its kind (`VERDICTS`), and
    our numbers with the runs behind them as the comparison writes them."""
    p = PredictConfig.from_config(cfg).resolve(runs)
    rows = []
    for c in claims:
        ours, n = _ours(c, p)
        for part, verdict in c.verdicts:
            rows.append(dict(key=c.key, topic=c.topic, source=c.source, statement=c.statement, part=part,
                             verdict=verdict, verdict_kind=verdict_kind(verdict), ours=ours, runs=n))
    return pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))


def comparison_markdown(runs: pd.DataFrame, tables: dict[str, pd.DataFrame], restart: pd.DataFrame,
                        cfg: dict, windows: pd.DataFrame, claims: list[Claim] | None = None) -> str:
    """results/paper_comparison.md: the claims, the CLV angles, Table I, the FTLE forms,
    the restart policy.

    tables: 'auc', 'best' and 'draws' of `evaluate.predict_all`; cfg: the pipeline config
    (sections training, lyapunov, events, predict, figures, summary); windows: the CLV
    window table (`engine.ensemble.window_table`); claims: `paper_claims` of the same
    inputs where the caller has them already (judged here otherwise).
    """
    p = PredictConfig.from_config(cfg).resolve(runs)
    tol = float(cfg["summary"]["le_tolerance"])
    diverged = int(runs[col.DIVERGED].astype(bool).sum())
    setup = AngleSetup.from_config(cfg)
    claims = paper_claims(runs, tables, cfg) if claims is None else claims
    lines = ["# Comparison with the paper", "",
             "Sharafi, Martin and Hallerberg, \"On the weight dynamics of learning networks\" (arXiv 2405.00743; "
             "Phys. Rev. E 111, 054208, 2025). Each quantitative claim of the paper beside our number, with the "
             "runs behind it and a 95% interval: Wilson for shares; for AUCs a bootstrap that resamples both halves "
             f"and refits the whole procedure ({p.n_boot} resamples), with DeLong's interval beside it. Every "
             "verdict follows a rule fixed before the results (the note under each claim); a verdict on an AUC "
             f"needs at least {p.min_positives} positives in the test half. Generated by the pipeline "
             "(`results/paper_comparison.md`).", "",
             "## Scale of this run", ""] + _scale_lines(runs, cfg)
    task, events = paper.task_not_applicable(cfg), paper.events_not_applicable(cfg)
    if task:
        lines += ["", f"**The paper's claims do not apply to this config**: {task}. Every verdict reads "
                      f"\"{NOT_APPLICABLE}\"; our numbers stand beside each claim for what they measure. "
                      + events_text(p)]
    elif events:
        lines += ["", f"**The paper's claims on its events (c_f < 4, c_f > 100) do not apply to this config**: "
                      f"{events}. Their verdicts read \"{NOT_APPLICABLE}\"; the shares of positive exponents and "
                      "the tangent pairs are judged. " + events_text(p)]
    found = [verdict_kind(v) for c in claims for _, v in c.verdicts]
    lines += ["", f"Summary over {len(claims)} claims ({len(found)} verdicts; claims with parts, such as one per "
                  f"activation, or raw and with tolerance where they differ, count each part): "
                  + ", ".join(f"{found.count(w)} {w}" for w in VERDICTS) + ".", ""]
    for topic, title in SECTIONS.items():
        lines += [f"## {title}", ""]
        for c in claims:
            if c.topic == topic:
                ours, n = _ours(c, p)
                lines += [f"### {c.statement}", "", f"- Source: {c.source}", f"- Ours: {ours}", f"- Runs: {n}",
                          f"- Verdict: **{_verdict(c)}**"] + ([f"- Rule: {c.note}"] if c.note else []) + [""]
    lines += (clv_lines(runs, windows, tables["best"], claims, setup, p)
              + _table1_lines(claims, runs, tables["auc"], p) + _form_lines(tables["best"], tables["draws"], p)
              + restart_lines(restart, p))
    lines += ["", "## How these numbers were made", "",
              f"- Split: per setting, runs ordered by seed, scikit-learn `train_test_split` (test_size {p.test_size}, "
              f"random_state {p.split_seed}) stratified by outcome (low / intermediate / high).",
              "- Diverged runs count as high final losses and never as low ones; at a checkpoint after their "
              "divergence they have no predictor values and are left out of that checkpoint's AUC (counted in "
              f"`n_excluded` of auc.parquet). Diverged runs in this table: {diverged}.",
              f"- Naive Bayes: {p.n_bins} {p.bin_strategy} bins per predictor fitted on the training half; a run "
              f"scores its bin's event rate (k + m p0) / (n + m) with m = {p.m_estimate:g} (an m-estimate that pulls "
              f"small bins toward the base rate p0); the SVM is an RBF SVC (C = {p.svm_C}, gamma = {p.svm_gamma}, "
              f"class_weight = {p.svm_class_weight}) on standardized FTLEs.",
              f"- Best member of a group: the largest cross-validated AUC in a stratified {p.cv_folds}-fold "
              "cross-validation within the training half (positive-negative pairs within each fold); ties are "
              "reported.",
              f"- AUC intervals: {p.n_boot} resamples of both halves (each class apart), binning, classifiers and the "
              f"choice of the best member refitted on each ({p.n_boot_refit_svm} for the SVM); percentile interval. "
              "DeLong's interval holds the fitted classifier fixed.",
              f"- An AUC needs at least {p.min_events} positives and negatives in each half; otherwise it is "
              "reported as not computed, with the counts.",
              f"- Exponents count as positive raw (> 0) or with tolerance (> {tol:g}).", ""]
    return "\n".join(lines)
