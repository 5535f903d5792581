"""The comparison across variants: results/variants/comparison.md, its long table
(comparison.parquet) and the figure of the headline shares and Table I's AUCs.

Inputs per variant: its overrides, its claims table (`markdown.claims_table`), headline
shares, horizon shares and Table I cells (`analysis.variants`), stacked by
`analysis.variants.across`.
"""
from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..analysis import paper
from ..analysis.verdicts import VERDICTS
from ..analysis.events import DEAD_TOLERANCE
from ..analysis.restart import ORACLE
from ..analysis.variants import HEADLINES, closeness, net_agreement
from ..analysis.stats import Share
from .labels import activation_name, init_name, md_table, predictor_label, share_text
from .restart_markdown import times, times_interval

HEADLINE_NAMES = {"low_loss": "{low}", "high_loss": "{high}", "le1_positive": "lambda_1 > 0",
                  "three_positive": "lambda_1, lambda_2, lambda_3 > 0"}
ACTIVATION_COLOURS = {"relu": "tab:blue", "tanh": "tab:orange"}
MARKERS = "os^Dv"  # with the 20 colours of tab20: 100 variants told apart
LONG_COLUMNS = ("variant", "section", "row", "value", "low", "high", "n", "paper", "verdict", "text")


def overrides_text(overrides: dict, prefix: str = "") -> str:
    """A variant's overrides as dotted key = value pairs ('(none)' for the baseline)."""
    items = []
    for key, value in overrides.items():
        if isinstance(value, dict):
            items.append(overrides_text(value, f"{prefix}{key}."))
        else:
            items.append(f"{prefix}{key} = {value}")
    return ", ".join(i for i in items if i) or ("" if prefix else "(none)")


def _share_text(r) -> str:
    return share_text(Share(int(r["k"]), int(r["n"])))


def _auc_text(r) -> str:
    if not np.isfinite(r["auc"]):
        return f"n/a ({int(r['positives'])} positives)"
    interval = f" [{r['low']:.3f}, {r['high']:.3f}]" if np.isfinite(r["low"]) else ""
    return f"{r['auc']:.3f}{interval} ({int(r['positives'])} pos.)"


def _paper_text(x: float, fmt: str) -> str:
    return "-" if not np.isfinite(x) else format(x, fmt)


def _matrix(frame: pd.DataFrame, keys: list[str], variants: list[str], cell) -> list[list[str]]:
    """Rows of a table with one column per variant: the cell text of each group of `keys`."""
    out = []
    for key, sub in frame.groupby(keys, sort=False):
        by = {r["variant"]: r for _, r in sub.iterrows()}
        out.append([*(key if isinstance(key, tuple) else (key,)), *(cell(by[v]) if v in by else "-" for v in variants)])
    return out


THRESHOLD_COLUMNS = ("variant", "low_kind", "low_level", "low", "high_kind", "high_level", "high")


def event_names(thresholds: pd.DataFrame) -> dict[str, str]:
    """The events' names in headings: 'c_f < 4' and 'c_f > 100' where every variant has
    those thresholds, 'low' and 'high final loss' where they differ (`THRESHOLD_COLUMNS`)."""
    lows, highs = thresholds["low"].unique(), thresholds["high"].unique()
    if len(lows) == 1 and len(highs) == 1:
        return dict(low=f"c_f < {lows[0]:g}", high=f"c_f > {highs[0]:g}")
    return dict(low="low final loss", high="high final loss")


def _threshold_lines(thresholds: pd.DataFrame) -> list[str]:
    """The thresholds of every variant, where they differ."""
    if len(thresholds.drop_duplicates(["low", "high"])) <= 1:
        return []
    kinds = {"absolute": "c_f {op} {level:g}", "quantile": "the {level:g} quantile of the predicted runs' usable c_f",
             "constant": "{level:g} x the constant predictor's cost"}
    rows = [[r["variant"], kinds[r["low_kind"]].format(op="<", level=r["low_level"]), f"c_f < {r['low']:.4g}",
             kinds[r["high_kind"]].format(op=">", level=r["high_level"]), f"c_f > {r['high']:.4g}"]
            for _, r in thresholds.iterrows()]
    return ["", "## Events", "", "The variants' thresholds differ; each judges its runs with its own "
            "(`analysis.events.thresholds`; a quantile weighs each setting equally, whatever its runs). A "
            "diverged run counts as high.", ""] + md_table(
        ["variant", "low", "threshold", "high", "threshold"], rows)


def _length_lines(lengths: pd.DataFrame, events: dict) -> list[str]:
    if not len(lengths):
        return []
    lines = ["", "## The same runs at two lengths", "",
             "Variants whose numeric configs differ in the training length alone train the same runs (same seeds) "
             f"for two lengths: how many end with {events['high']} (and {events['low']}) after the "
             "shorter training, after the longer one, and after both.", ""]
    rows = [[f"{r['short_variant']} / {r['long_variant']}", f"{activation_name(r['activation'])} + {init_name(r['init'])}",
             events[r["event"]], r["runs"], r["short"], r["long"],
             r["both"]] for _, r in lengths.iterrows()]
    return lines + md_table(["variants (shorter / longer)", "setting", "event", "runs", "shorter", "longer", "both"],
                            rows)


def comparison_markdown(variants: dict[str, dict], claims: pd.DataFrame, headline: pd.DataFrame,
                        horizon: pd.DataFrame, table1: pd.DataFrame, lengths: pd.DataFrame, thresholds: pd.DataFrame,
                        study: dict[str, pd.DataFrame]) -> str:
    """results/variants/comparison.md. variants: {name: {'overrides', 'runs', 'shards_of',
    'not_applicable'}}; the tables stacked over variants (`analysis.variants.across`);
    lengths: the pairs of variants that train the same runs for two lengths
    (`analysis.variants.same_runs_two_lengths` with columns short_variant, long_variant);
    thresholds: each variant's resolved events (THRESHOLD_COLUMNS); study: the stacked
    'outcomes', 'early' and 'restart' tables (`study_lines`)."""
    names = list(variants)
    events = event_names(thresholds)
    lines = ["# Variants side by side", "",
             "Each variant is the study's config with the overrides below, run by the same rules into "
             "`results/variants/<name>/`; generated by the pipeline (`snakemake variants`). Shares carry their 95% "
             "Wilson interval and the runs behind them, AUCs their bootstrap interval and the test positives; the "
             "verdicts follow the rules of each variant's `paper_comparison.md`.", "",
             "## Variants", ""]
    lines += md_table(["variant", "overrides", "runs", "shards"],
                      [[n, overrides_text(v["overrides"]), v["runs"], v["shards_of"]] for n, v in variants.items()])
    lines += _threshold_lines(thresholds)
    apart = {n: v["not_applicable"] for n, v in variants.items() if v["not_applicable"]}
    if apart:
        lines += ["", "The paper's claims do not apply to " + "; ".join(f"{n} ({why})" for n, why in apart.items())
                  + ": their verdicts read \"does not apply\", and the paper's numbers beside them are a reference, "
                    "not a target."]
    lines += study_lines(study, names)
    counts = claims.groupby("variant")["verdict_kind"].value_counts().unstack(fill_value=0)
    net = net_agreement(claims).set_index("variant")["net"]
    lines += ["", "## Verdicts", "", "Per variant, the verdicts over all claims and their parts; net: agree minus "
              "differ (the decision rule of docs/open-points/README.md).", ""]
    lines += md_table(["variant", *VERDICTS, "net"],
                      [[n, *(int(counts.loc[n].get(k, 0)) if n in counts.index else 0 for k in VERDICTS),
                        int(net.get(n, 0))] for n in names])
    close = closeness(headline[~headline["variant"].isin(list(apart))])
    if len(close):
        lines += ["", "## Closest to the paper", "",
                  "The selection rule of docs/open-points/README.md: of the ReLU + He shares with a positive first "
                  "exponent (paper 33%), three positive leading exponents (3%) and c_f above the high threshold "
                  "(about 3%), how many hold the paper's value in their 95% interval (score), and the summed distance "
                  "in standard errors of the paper's share at our n; closest first. The distance grows with "
                  "sqrt(n), and the shares with the horizon: rank only variants of equal runs and length.", ""]
        lines += md_table(["variant", "runs (ReLU + He) x intervals", "score", "distance"],
                          [[r["variant"], f"{int(r['n'])} x {variants[r['variant']]['intervals']}", int(r["score"]),
                            f"{r['distance']:.1f}"] for _, r in close.iterrows()])
    lines += ["", "## Headline shares (He runs)", "",
              "Raw signs of the exponents over the whole training; c_f is the final loss. The paper's high-loss "
              "share is not stated: 3% for ReLU is read from Figs. 5 and 7(a) together.", ""]
    head = headline.assign(name=[HEADLINE_NAMES[q].format(**events) + f", {activation_name(a)}"
                                 for q, a in zip(headline["quantity"], headline["activation"])])
    rows = _matrix(head, ["name"], names, _share_text)
    paper_of = dict(zip(head["name"], head["paper"]))
    lines += md_table(["share", "paper", *names], [[r[0], _paper_text(paper_of[r[0]], ".0%"), *r[1:]] for r in rows])
    lines += ["", "## Positive first exponent against the averaging horizon", "",
              "The share of He runs whose first exponent, averaged from the start of training over the horizon "
              "t, is positive: the cumulative FTLE at each checkpoint, the exponent at the end.", ""]
    hz = horizon.assign(name=[f"{activation_name(a)}, t = {h:.4g}" for a, h in zip(horizon["activation"],
                                                                                 horizon["horizon"])])
    paper_of = dict(zip(hz["name"], hz["paper"]))
    lines += md_table(["horizon", "paper", *names],
                      [[r[0], _paper_text(paper_of[r[0]], ".0%"), *r[1:]] for r in _matrix(hz, ["name"], names,
                                                                                             _share_text)])
    lines += ["", f"## Table I ({events['high']}, ReLU + He)", ""]
    t1 = table1.assign(name=[f"{paper.TABLE1_NAMES[g]}, t = {t}" for g, t in zip(table1["group"], table1["t"])])
    paper_of = dict(zip(t1["name"], t1["paper"]))
    lines += md_table(["cell", "paper", *names],
                      [[r[0], f"{paper_of[r[0]]:.3f}", *r[1:]] for r in _matrix(t1, ["name"], names, _auc_text)])
    lines += _length_lines(lengths, events)
    lines += ["", "## Claims: verdicts", ""]
    cl = claims.assign(name=[s if not p else f"{s} [{p}]" for s, p in zip(claims["statement"], claims["part"])])
    lines += md_table(["claim", *names], _matrix(cl, ["name"], names, lambda r: r["verdict"]))
    lines += ["", "## Claims: our numbers", ""]
    for statement, sub in claims.drop_duplicates(["variant", "key"]).groupby("statement", sort=False):
        lines += [f"### {statement}", ""]
        by = {r["variant"]: r for _, r in sub.iterrows()}
        verdicts = cl[cl["statement"] == statement].groupby("variant", sort=False)["verdict"].agg(
            lambda v: "; ".join(v))
        lines += md_table(["variant", "ours", "runs", "verdict"],
                          [[n, by[n]["ours"], by[n]["runs"], verdicts.get(n, "-")] for n in names if n in by]) + [""]
    return "\n".join(lines) + "\n"


def long_table(claims: pd.DataFrame, headline: pd.DataFrame, horizon: pd.DataFrame,
               table1: pd.DataFrame, lengths: pd.DataFrame, study: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """comparison.parquet: every number of the comparison in one long table (LONG_COLUMNS),
    section 'claim', 'headline', 'horizon', 'table1', 'lengths' (variant: the longer of a
    pair; value: the runs with the event after both lengths, of n runs), 'outcome',
    'early' (value: test AUC, n: test positives, text: predictor at t) or 'restart'
    (value: the saving on the test half, n: test runs, text: predictor at t)."""
    out, early, restart = study["outcomes"], study["early"], study["restart"]
    parts = [
        pd.DataFrame(dict(variant=claims["variant"], section="claim",
                          row=[f"{k}:{p}" if p else k for k, p in zip(claims["key"], claims["part"])],
                          verdict=claims["verdict"], text=claims["ours"])),
        pd.DataFrame(dict(variant=headline["variant"], section="headline",
                          row=headline["quantity"] + ":" + headline["activation"], value=headline["share"],
                          low=headline["low"], high=headline["high"], n=headline["n"], paper=headline["paper"])),
        pd.DataFrame(dict(variant=horizon["variant"], section="horizon",
                          row=horizon["activation"] + ":t" + horizon["horizon"].map("{:g}".format),
                          value=horizon["share"], low=horizon["low"], high=horizon["high"], n=horizon["n"],
                          paper=horizon["paper"])),
        pd.DataFrame(dict(variant=table1["variant"], section="table1", row=table1["group"] + ":t" + table1["t"],
                          value=table1["auc"], low=table1["low"], high=table1["high"], n=table1["positives"],
                          paper=table1["paper"], text=table1["status"])),
    ]
    parts += [
        pd.DataFrame(dict(variant=out["variant"], section="outcome",
                          row=out["activation"] + "_" + out["init"] + ":" + out["quantity"], value=out["share"],
                          low=out["low"], high=out["high"], n=out["n"], text=out["modes"])),
        pd.DataFrame(dict(variant=early["variant"], section="early",
                          row=early["event"] + ":" + early["activation"] + "_" + early["init"] + ":" + early["pick"],
                          value=early["auc"], low=early["ci_low"], high=early["ci_high"], n=early["positives"],
                          text=[f"{p} at t = {t:g}" if s == "ok" else s
                                for p, t, s in zip(early["predictor"], early["t"], early["status"])])),
        pd.DataFrame(dict(variant=restart["variant"], section="restart",
                          row=restart["policy"] + ":" + restart["activation"] + "_" + restart["init"] + ":" + restart["pick"],
                          value=restart["saving"], low=restart["saving_ci_low"], high=restart["saving_ci_high"],
                          n=restart["n_test"], text=[f"{p} at t = {t:g}" for p, t in
                                                     zip(restart["predictor"], restart["t"])])),
    ]
    if len(lengths):
        parts.append(pd.DataFrame(dict(
            variant=lengths["long_variant"], section="lengths",
            row=lengths["activation"] + "_" + lengths["init"] + ":" + lengths["event"], value=lengths["both"],
            n=lengths["runs"], text=[f"{s} after {v}, {n} after the longer training" for s, v, n in
                                     zip(lengths["short"], lengths["short_variant"], lengths["long"])])))
    out = pd.concat([p for p in parts if len(p)], ignore_index=True)
    return out.reindex(columns=list(LONG_COLUMNS))


def fig_variants(headline: pd.DataFrame, table1: pd.DataFrame, variants: list[str], events: dict[str, str]) -> Figure:
    """Top row: each headline share per variant with its 95% interval (ReLU and tanh + He),
    the paper's value as a dashed line. Bottom row: each Table I row's AUC against t per
    variant with its bootstrap interval, the paper's AUCs as a black line."""
    fig = Figure(figsize=(4.2 * len(HEADLINES), 9.5 + 0.15 * len(variants) / 6), layout="constrained")
    axes = fig.subplots(2, len(HEADLINES))
    x = np.arange(len(variants))
    for ax, quantity in zip(axes[0], HEADLINES):
        sub = headline[headline["quantity"] == quantity]
        for k, (act, rows) in enumerate(sub.groupby("activation", sort=False)):
            pos = x[[variants.index(v) for v in rows["variant"]]] + (k - 0.5) * 0.25
            colour = ACTIVATION_COLOURS.get(act, "tab:gray")
            ax.errorbar(pos, rows["share"], yerr=[rows["share"] - rows["low"], rows["high"] - rows["share"]],
                        fmt="o", ms=4, capsize=2, color=colour, label=f"{activation_name(act)} + He")
            ref = rows["paper"].iloc[0]
            if np.isfinite(ref):
                ax.axhline(ref, color=colour, ls="--", lw=1)
        ax.set_title(HEADLINE_NAMES[quantity].format(**events))
        ax.set_xticks(x, variants, rotation=60, ha="right", fontsize=7)
        ax.set_ylabel("share of runs")
        ax.legend(fontsize=7, title="dashed: the paper", title_fontsize=7)
    t_values = sorted({float(t) for t in table1["t"]})
    for ax, group in zip(axes[1], paper.TABLE1):
        sub = table1[table1["group"] == group]
        for k, v in enumerate(variants):
            rows = sub[sub["variant"] == v]
            pos = np.array([t_values.index(float(t)) for t in rows["t"]]) + (k - (len(variants) - 1) / 2) * 0.6 / max(
                len(variants), 1)
            ok = np.isfinite(rows["auc"].to_numpy())
            ax.errorbar(pos[ok], rows["auc"][ok], yerr=[(rows["auc"] - rows["low"])[ok], (rows["high"] - rows["auc"])[ok]],
                        fmt=MARKERS[(k // 20) % len(MARKERS)], ms=3, capsize=1.5,
                        color=matplotlib.colormaps["tab20"](k % 20), label=v)
        ref = sub.drop_duplicates("t")
        ax.plot([t_values.index(float(t)) for t in ref["t"]], ref["paper"], "k-", lw=1.2, label="the paper")
        ax.set_xticks(range(len(t_values)), [f"{t:g}" for t in t_values])
        ax.set_xlabel("t")
        ax.set_ylabel("test AUC")
        ax.set_title(f"Table I: {paper.TABLE1_NAMES[group]}", fontsize=9)
    handles, labels = axes[1][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(6, len(labels)), fontsize=7)
    fig.suptitle(f"Variants: headline shares (He runs) and Table I ({events['high']}, ReLU + He), 95% intervals")
    return fig


def _early_text(r) -> str:
    if r["status"] != "ok":
        return f"n/a ({r['status'].split(':')[0]})"
    few = "" if r["testable"] else ", few: not testable"
    tied = f"; {int(r['n_tied'])} tied ({r['tied_groups']})" if r["n_tied"] > 1 else ""
    return (f"{predictor_label(r['predictor'])}, t = {r['t']:g}: {r['auc']:.3f} [{r['ci_low']:.3f}, "
            f"{r['ci_high']:.3f}] ({int(r['positives'])} pos.{few}{tied})")


def _restart_text(r) -> str:
    what = "" if r["pick"] == ORACLE else f" ({predictor_label(r['predictor'])}, t = {r['t']:g})"
    return times_interval(r) + what


def study_lines(study: dict[str, pd.DataFrame], names: list[str]) -> list[str]:
    """The outcomes, the best early predictor of each event and the restart policies of
    every variant (`analysis.variants.outcome_shares`, `best_early`, `restart_picks`,
    stacked), one column per variant."""
    out, early, restart = study["outcomes"], study["early"], study["restart"]
    lines = ["", "## Outcomes of the predicted runs", "",
             "Share of all runs of a setting, with its 95% Wilson interval: low, intermediate and high final loss "
             "(usable runs), diverged runs, and dead networks (a usable run at the constant predictor's cost, to "
             f"{DEAD_TOLERANCE:g} relative; part of high where the high threshold lies below that cost). Clusters: "
             "the distinct modes of the density of log10 c_f (c_f at each mode).", ""]
    oc = out.assign(name=[f"{activation_name(a)} + {init_name(i)}: {q}"
                          for a, i, q in zip(out["activation"], out["init"], out["quantity"])])
    lines += md_table(["share", *names], _matrix(oc, ["name"], names, _share_text))
    modes = out.drop_duplicates(["variant", "activation", "init"]).assign(
        name=lambda d: [f"{activation_name(a)} + {init_name(i)}: clusters" for a, i in zip(d["activation"], d["init"])])
    lines += [""] + md_table(["modes of c_f", *names], _matrix(modes, ["name"], names, lambda r: r["modes"] or "-"))
    lines += ["", "## The best early predictor of each event", "",
              "Over every predictor group and checkpoint, the member with the largest cross-validated AUC on the "
              "training half (ties: the earliest checkpoint; the tied groups are named); among the FTLE predictors "
              "(single FTLEs, the SVM on all) and among C(t) the same way. Its test AUC with the refit bootstrap's "
              "95% interval and the test positives (fewer than the variant's `predict.min_positives`: not "
              "testable). The interval holds the threshold and this choice across groups and checkpoints fixed; a "
              "group with many members (the |cos| pairs) has the maximum of many cross-validated AUCs, which "
              "favours it in the choice.", ""]
    picks = {"best": "best", "ftle": "best FTLE", "loss": "C(t)"}
    ea = early.assign(name=[f"{e}, {activation_name(a)} + {init_name(i)}, {picks[k]}"
                            for e, a, i, k in zip(early["event"], early["activation"], early["init"], early["pick"])])
    lines += md_table(["event, setting, pick", *names], _matrix(ea, ["name"], names, _early_text))
    lines += ["", "## Restart policies: how many times less compute a good network takes", "",
              "1 / (1 - saving) on the test half with the saving's 95% interval; the predictor and checkpoint "
              "picked by the saving on the training half, C(t) picked the same way, and the oracle at the best "
              "pick's checkpoint. avoid_high stops runs predicted to end high; reach_low stops runs predicted not "
              "to end low.", ""]
    rs = restart.assign(name=[f"{p}, {activation_name(a)} + {init_name(i)}, {k}" for p, a, i, k in
                              zip(restart["policy"], restart["activation"], restart["init"], restart["pick"])])
    rows = _matrix(rs, ["name"], names, _restart_text)
    lines += md_table(["policy, setting, pick", *names], rows) if rows else ["Not computed in any variant."]
    return lines


def fig_study(study: dict[str, pd.DataFrame], variants: list[str]) -> Figure:
    """Per variant and predicted setting: the shares of low, high and dead runs; the test AUC
    of the best early predictor of each event; how many times less compute a low-loss
    network takes under reach_low (best pick, C(t), oracle). 95% intervals."""
    fig = Figure(figsize=(19, 4.8 + 0.1 * len(variants)), layout="constrained")
    axes = fig.subplots(1, 5)
    x = np.arange(len(variants))

    def points(ax, rows, value, low, high, k, n, colour, label, marker="o"):
        pos = x[[variants.index(v) for v in rows["variant"]]] + (k - (n - 1) / 2) * 0.8 / n
        ax.errorbar(pos, rows[value], yerr=[rows[value] - rows[low], rows[high] - rows[value]], fmt=marker, ms=4,
                    capsize=2, color=colour, label=label)

    out = study["outcomes"]
    for ax, quantity in zip(axes[:3], ("low", "high", "dead")):
        sub = out[out["quantity"] == quantity]
        settings = sub.groupby(["activation", "init"], sort=False)
        for k, ((act, init), rows) in enumerate(settings):
            points(ax, rows, "share", "low", "high", k, settings.ngroups, ACTIVATION_COLOURS.get(act, "tab:gray"),
                   f"{activation_name(act)} + {init_name(init)}")
        ax.set_title(f"{quantity} final loss" if quantity != "dead" else "dead network", fontsize=9)
        ax.set_ylabel("share of runs")
    early = study["early"]
    early = early[(early["pick"] == "best") & (early["status"] == "ok")]
    series = early.groupby(["event", "activation", "init"], sort=False)
    for k, ((event, act, init), rows) in enumerate(series):
        points(axes[3], rows, "auc", "ci_low", "ci_high", k, series.ngroups, ACTIVATION_COLOURS.get(act, "tab:gray"),
               f"{event}, {activation_name(act)} + {init_name(init)}", "o" if event == "low" else "^")
    axes[3].axhline(0.5, color="k", lw=0.8, ls=":")
    axes[3].set_title("best early predictor (test AUC)", fontsize=9)
    rs = study["restart"]
    rs = rs[rs["policy"] == "reach_low"].copy()
    for name in ("saving", "saving_ci_low", "saving_ci_high"):
        rs[name] = [times(v) for v in rs[name].to_numpy(dtype=np.float64)]
    series = rs.groupby(["activation", "init", "pick"], sort=False)
    for k, ((act, init, pick), rows) in enumerate(series):
        points(axes[4], rows, "saving", "saving_ci_low", "saving_ci_high", k, series.ngroups,
               ACTIVATION_COLOURS.get(act, "tab:gray"), f"{activation_name(act)} + {init_name(init)}, {pick}",
               {"best": "o", "loss": "s", ORACLE: "*"}.get(pick, "o"))
    axes[4].axhline(1.0, color="k", lw=0.8, ls=":")
    axes[4].set_title("reach_low: times less compute per good network", fontsize=9)
    for ax in axes:
        ax.set_xticks(x, variants, rotation=60, ha="right", fontsize=7)
        ax.set_xlim(-0.5, len(variants) - 0.5)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6)
    fig.suptitle("Variants: outcomes, early prediction and restart of the predicted settings, 95% intervals")
    return fig
