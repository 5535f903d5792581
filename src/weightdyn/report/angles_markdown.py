"""The comparison's section on the CLVs: what their angles depend on (the start and the
window of the backward iteration, the exponent gaps), the checkpoint AUCs of the angles
for both starts, and which reading of the paper's angle claims the evidence supports."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis import paper
from ..analysis.angles import (DETERMINED, AngleSetup, convergence_points, determined_pairs, pair_medians,
                               start_matrix_medians, window_convergence)
from ..analysis.verdicts import NOT_APPLICABLE, NOT_TESTABLE, Claim, verdict_kind
from ..analysis.config import PredictConfig
from ..analysis.events import usable_runs
from ..analysis.table1 import best_rows
from ..engine import columns as col
from .labels import START_NAMES, activation_name, init_name, md_table, predictor_label

# the pairs of the start-dependence table: the paper's tangencies and the 9th vector's pairs
SHOWN_LAST = 9


def _pct(x: float) -> str:
    return f"{x:.0%}" if np.isfinite(x) else "n/a"


def _vector_table(conv: pd.DataFrame, grid: list[int]) -> list[str]:
    """Per setting, run group (ending high or not) and vector: the share of runs whose
    vector is determined at each window, the median exponent gap times the longest window,
    and the share of degenerate gaps there."""
    W_max = max(grid)
    rows = []
    for (act, init, group, q), g in conv.groupby([col.ACTIVATION, col.INIT, "runs_group", "vector"], sort=False):
        by_w = g.set_index(col.WINDOW)
        last = by_w.loc[W_max] if W_max in by_w.index else None
        rows.append([f"{activation_name(act)} + {init_name(init)}", f"{group} ({int(by_w['runs'].iloc[0])})", f"v_{q}"]
                    + [_pct(by_w.loc[W, "determined_share"]) if W in by_w.index else "-" for W in grid]
                    + ([f"{last['median_gap_W_tau']:.3g}", _pct(last["degenerate_share"])] if last is not None
                       else ["-", "-"]))
    header = ["setting", "runs", "vector"] + [f"W = {W}" for W in grid] + [f"median g W dtau (W = {W_max})",
                                                                             "degenerate gap"]
    return md_table(header, rows)


def _median_cell(r) -> str:
    hi = f" / {r['median_high']:.2f}" if np.isfinite(r["median_high"]) else ""
    return f"{r['median_rest']:.2f}{hi}"


def _pair_table(medians: pd.DataFrame, start_alone: pd.DataFrame, windows_shown: list[int]) -> list[str]:
    """|cos| medians (rest / high) per pair: of the random start matrix alone, and for both
    starts at the shown windows."""
    alone = start_alone.set_index([col.ACTIVATION, col.INIT, "pair"])
    rows = []
    for (act, init, pair), g in medians.groupby([col.ACTIVATION, col.INIT, "pair"], sort=False):
        key = (act, init, pair)
        cells = [_median_cell(alone.loc[key]) if key in alone.index else "-"]
        for W in windows_shown:
            for start in col.CLV_STARTS:
                r = g[(g[col.WINDOW] == W) & (g["start"] == start)]
                if not len(r):
                    cells.append("-")
                    continue
                cells.append(_median_cell(r.iloc[0]))
            det = g[g[col.WINDOW] == W]["determined_share"]
            cells.append(_pct(float(det.iloc[0])) if len(det) else "-")
        rows.append([f"{activation_name(act)} + {init_name(init)}", f"({pair[0]},{pair[1]})"] + cells)
    header = ["setting", "pair", "random start matrix alone"]
    for W in windows_shown:
        header += [f"{START_NAMES[s]}, W = {W}" for s in col.CLV_STARTS] + [f"determined, W = {W}"]
    return md_table(header, rows)


def _auc_by_start(best: pd.DataFrame) -> list[str]:
    """The best single |cos| and the mean |cos| at each checkpoint, for both starts."""
    rows = []
    angles = pd.concat([best_rows(best, "cos"), best_rows(best, "mean_cos")])
    angles = angles[angles[col.INIT] == "he"]
    for (event, act, t), g in angles.groupby(["event", col.ACTIVATION, "t"], sort=False):
        cells = []
        for start in col.CLV_STARTS:
            for group in ("cos", "mean_cos"):
                r = g[(g["form"] == start) & (g["group"] == group)]
                if not len(r) or not np.isfinite(r.iloc[0]["auc"]):
                    cells.append("n/a")
                    continue
                r = r.iloc[0]
                name = f" {predictor_label(r['predictor']).split(' (')[0]}" if group == "cos" else ""
                cells.append(f"{r['auc']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]{name}")
        positives = int(g["positives"].max())
        rows.append([event, activation_name(act), f"{t:g}", str(positives)] + cells)
    header = ["event", "activation", "t", "test positives"] + [
        f"{what}, {START_NAMES[s]}" for s in col.CLV_STARTS for what in ("best pair", "mean |cos|")]
    return md_table(header, rows)


def _determined_at(windows: pd.DataFrame, runs: pd.DataFrame, W: int, tolerance: float, pairs=None) -> np.ndarray:
    """(usable runs, pairs) booleans: the angle is determined at window W (both starts leave
    both vectors within `tolerance`); all pairs, or `pairs`."""
    ok = usable_runs(runs)
    sub = windows[windows[col.WINDOW] == W].merge(ok[list(col.ID_COLUMNS)], on=list(col.ID_COLUMNS))
    P = col.n_exponents(runs.columns)
    det = determined_pairs(sub, tolerance, P)
    if pairs is None:
        return det
    index = {pair: k for k, pair in enumerate(col.pairs(P))}
    return det[:, [index[pair] for pair in pairs if pair in index]]


def _reading_lines(claims: list[Claim], runs: pd.DataFrame, setup: AngleSetup, windows: pd.DataFrame) -> list[str]:
    """Which reading of the angle claims the evidence supports, by a fixed rule. A claim is
    supported by a reading where its verdict there is agree or partly. Its support in the
    paper's setup is put down to the start where fewer than half of the angles it rests on
    (the paper's pairs, in ReLU + He and tanh + He runs; every pair of the ReLU + He runs
    for the mean |cos|) are determined at the paper's window, i.e. the two starts leave
    them apart; otherwise it is not."""
    lines = []
    he = runs[runs[col.INIT] == "he"]
    for act in paper.ACTIVATIONS:
        sub = col.setting_rows(he, act, "he")
        if not len(usable_runs(sub)):
            continue
        short = float(_determined_at(windows, sub, setup.window, setup.tolerance).mean())
        end = float(determined_pairs(usable_runs(sub), setup.tolerance, col.n_exponents(runs.columns)).mean())
        lines.append(f"- {activation_name(act)} + He: {short:.0%} of the (run, pair) angles are determined at the "
                     f"paper's window W = {setup.window}, {end:.0%} at W = {setup.window_end}.")
    basis = {"tangent_pairs": ("the tangencies of the paper's pairs",
                               lambda: _determined_at(windows, he, setup.window, setup.tolerance, paper.TANGENT_PAIRS)),
             "mean_cos_high": ("the lower mean |cos| of high-loss ReLU runs",
                               lambda: _determined_at(windows, col.setting_rows(he, "relu", "he"), setup.window,
                                                      setup.tolerance))}
    for kind, (what, determined) in basis.items():
        by = {c.key.removeprefix(kind).lstrip("_") or col.PAPER_READING: c for c in claims if c.kind == kind}
        if col.PAPER_READING not in by or DETERMINED not in by:
            continue
        v_full = by[col.PAPER_READING].verdicts[0][1]
        v_paper, v_det = verdict_kind(v_full), by[DETERMINED].verdicts[0][1]
        det = determined()
        share = float(det.mean()) if det.size else float("nan")
        if v_paper in (NOT_TESTABLE, NOT_APPLICABLE):
            text = f"{v_full} in the paper's setup."
        elif v_paper not in ("agree", "partly"):
            text = f"not supported in the paper's setup ({v_paper})."
        elif share < 0.5:
            text = (f"supported in the paper's setup ({v_paper}), but only {share:.0%} of the angles it rests on are "
                    f"determined at W = {setup.window}: there the support reflects the start of the backward "
                    "iteration, not the dynamics.")
        elif share >= 0.5:
            text = (f"supported in the paper's setup ({v_paper}), where {share:.0%} of the angles it rests on are "
                    f"determined at W = {setup.window}.")
        else:
            text = f"supported in the paper's setup ({v_paper}); no CLV window table to tell whether by the start."
        lines.append(f"- {what[0].upper()}{what[1:]}: {text} With start-independent CLVs: {v_det}.")
    lines.append(f"- The two readings also differ in time (the CLVs {setup.window} and {setup.window_end} intervals "
                 "before the end) and in the runs they keep.")
    return lines


def clv_lines(runs: pd.DataFrame, windows: pd.DataFrame, best: pd.DataFrame, claims: list[Claim],
              setup: AngleSetup, p: PredictConfig) -> list[str]:
    """The comparison's section on what the CLV angles depend on (see module docstring)."""
    grid = sorted(int(w) for w in windows[col.WINDOW].unique()) if len(windows) else []
    lines = ["## CLV angles: the start, the window and degenerate exponents", "",
             "The backward iteration of Ginelli's method starts either from the identity or from a random "
             "upper-triangular matrix (Ginelli et al.; drawn from the run seed); the paper names neither. Column q "
             "forgets its start as exp(-g_q W dtau), with g_q = lambda_(q-1) - lambda_q the gap to the next larger "
             "exponent over the window: a CLV is set by the dynamics only where g_q W dtau >> 1, and never inside a "
             "degenerate subspace (g_q = 0, as between the zero exponents of dead ReLU units). Both starts are "
             "computed for every run; the end-of-training CLVs are the past-only estimate known at the end, i.e. "
             "Ginelli's CLVs W intervals before it. A CLV counts as *determined* where the two starts leave it "
             f"within a sin-distance of {setup.tolerance:g}, an angle where both its vectors are. The analysis reads "
             f"the start '{setup.start}' (`lyapunov.clv_start`).", ""]
    he = runs[runs[col.INIT] == "he"]
    if not grid or not len(he):
        return lines + ["No He runs with CLV windows.", ""]
    conv = window_convergence(convergence_points(windows, he, p.high_loss), setup.tolerance)
    lines += [f"Share of runs whose q-th CLV is determined at each window W, He initialization, for the runs ending "
              f"high (c_f > {p.high_loss:g}) apart from the rest (v_1 is the first Gram-Schmidt vector from either "
              "start); 'degenerate gap': the share of runs whose g_q is zero to rounding over the longest window:", ""]
    lines += _vector_table(conv, grid) + [""]
    shown = sorted({setup.window, setup.window_end} & set(grid))
    P = col.n_exponents(runs.columns)
    pairs = [pair for pair in dict.fromkeys([*paper.TANGENT_PAIRS, *((i, SHOWN_LAST) for i in range(1, SHOWN_LAST))])
             if pair[1] <= P]
    medians = pair_medians(windows, he, p.high_loss, setup.tolerance, pairs)
    medians = medians[medians[col.WINDOW].isin(shown)]
    lines += [f"Median |cos theta_ij| at the end of training, runs not ending high / ending high (c_f > "
              f"{p.high_loss:g}), for the paper's tangent pairs and the pairs of the 9th vector: between the columns "
              "of the random start matrix itself (no dynamics), and from both starts at the windows shown, with the "
              "share of runs in which the angle is determined:", ""]
    lines += _pair_table(medians, start_matrix_medians(he, p.high_loss, pairs), shown) + [""]
    lines += [f"Checkpoint angles (past-only, W = {setup.window}) as predictors, for both starts: the best single "
              "|cos theta_ij| (chosen by cross-validation on the training half) and the mean |cos|, test AUC "
              "[95% CI]:", ""]
    lines += _auc_by_start(best) + [""]
    lines += ["**Which reading the evidence supports.** The paper's angle claims are judged in its setup as we read "
              f"it (random start, W = {setup.window}) and on start-independent CLVs (above):", ""]
    return lines + _reading_lines(claims, runs, setup, windows) + [""]
