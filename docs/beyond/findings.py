"""Which of the paper's findings survive width and task: the rules of README.md beside
this file ("Which of the paper's findings survive"), applied to the study's result sets.

    python docs/beyond/findings.py [results/variants]

Reads each variant of workflow/presets/beyond.yaml under the given directory (its runs,
best members and restart tables, as `snakemake variants` wrote them) and writes
findings.md and findings.csv beside this file: one verdict per finding, variant and,
where the finding names one, activation; and the runs' cost from their shards' wall times.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from weightdyn.analysis.verdicts import CHANCE
from weightdyn.analysis.config import PredictConfig
from weightdyn.analysis.paper import HIGH_LOSS_LEADING as LEADING
from weightdyn.analysis.events import usable
from weightdyn.analysis.stats import MIN_DENSITY_VALUES, Share
from weightdyn.analysis.variants import FTLE_GROUPS, best_early, headline_shares, outcome_shares, restart_picks
from weightdyn.engine import columns as col
from weightdyn.pipeline.config import load_config
from weightdyn.pipeline.io import read_metadata, read_parquet
from weightdyn.pipeline.variants import root_configs, shard_roots, variant_name
from weightdyn.report.labels import md_table, share_text
from weightdyn.report.restart_markdown import times_interval

HERE = Path(__file__).resolve().parent
PRESET = HERE.parents[1] / "workflow" / "presets" / "beyond.yaml"
FINDINGS = {
    1: "ReLU + He final losses fall into distinct clusters",
    2: "dead networks are ReLU's",
    3: "tanh + He has lambda_1 > 0 more often than ReLU + He",
    4: "high losses need three positive leading exponents (ReLU + He)",
    5: "a low final loss is predicted early",
    6: "FTLEs are the early predictor of a low final loss",
    7: "stopping runs predicted not to end low saves compute",
}


def _row(finding: int, activation: str, verdict: str, text: str) -> dict:
    return dict(finding=finding, activation=activation, verdict=verdict, text=text)


def _share(out: pd.DataFrame, activation: str, quantity: str) -> Share:
    r = out[(out["activation"] == activation) & (out["quantity"] == quantity)].iloc[0]
    return Share(int(r["k"]), int(r["n"]))


def judge(runs: pd.DataFrame, best: pd.DataFrame, restart: pd.DataFrame, p: PredictConfig) -> list[dict]:
    """The verdicts of findings 1-7 on one variant (README.md's rules)."""
    out = outcome_shares(runs, p)
    acts = [a for a in ("relu", "tanh") if (out["activation"] == a).any()]
    rows = []
    if "relu" in acts:
        modes = out.loc[out["activation"] == "relu", "modes"].iloc[0]
        n_modes = len(modes.split(", ")) if modes else 0
        he = col.setting_rows(runs, "relu", "he")
        n_usable = int(usable(he).sum())
        if n_usable < MIN_DENSITY_VALUES:  # amended after the results (README.md)
            rows.append(_row(1, "relu", "not testable",
                             f"{n_usable} usable runs: too few to show clusters or their absence (the rule as first "
                             f"written read the {n_usable} values themselves as modes and said 'survives')"))
        else:
            rows.append(_row(1, "relu", "survives" if n_modes >= 2 else "differs",
                             f"{n_modes} distinct mode(s) of log10 c_f, at c_f = {modes or '-'}"))
        high = he[usable(he) & (he[col.FINAL_LOSS].to_numpy(dtype=np.float64) > p.high_loss)]
        positive = int(np.all(high[[col.le(q) for q in range(1, LEADING + 1)]].to_numpy() > 0, axis=1).sum())
        verdict = "not testable" if not len(high) else "survives" if positive == len(high) else "differs"
        four = _row(4, "relu", verdict, f"{positive} of {len(high)} high-loss runs have lambda_1..3 > 0")
    else:
        rows.append(_row(1, "relu", "not testable", "no ReLU runs"))
        four = _row(4, "relu", "not testable", "no ReLU runs")
    if acts == ["relu", "tanh"]:
        relu_dead, tanh_dead = _share(out, "relu", "dead"), _share(out, "tanh", "dead")
        verdict = ("differs" if tanh_dead.k else "not testable" if not relu_dead.k else "survives")
        rows.append(_row(2, "", verdict, f"dead: ReLU {share_text(relu_dead)}, tanh {share_text(tanh_dead)}"))
        head = headline_shares(runs, p).set_index(["quantity", "activation"])
        relu, tanh = head.loc[("le1_positive", "relu")], head.loc[("le1_positive", "tanh")]
        verdict = ("survives" if tanh["low"] > relu["high"] else "differs" if tanh["high"] < relu["low"]
                   else "inconclusive")
        rows.append(_row(3, "", verdict, f"lambda_1 > 0: tanh {share_text(Share(int(tanh['k']), int(tanh['n'])))}, "
                                         f"ReLU {share_text(Share(int(relu['k']), int(relu['n'])))}"))
    else:
        dead = "; ".join(f"{a}: {share_text(_share(out, a, 'dead'))}" for a in acts)
        rows += [_row(2, "", "not testable", f"one activation only (dead {dead})"),
                 _row(3, "", "not testable", "one activation only")]
    rows.append(four)
    early = best_early(best, p)
    picks = restart_picks(restart)
    for act in acts:
        of = early[(early["event"] == "low") & (early["activation"] == act)].set_index("pick")
        b = of.loc["best"] if "best" in of.index else None
        if b is None or b["status"] != "ok":
            rows.append(_row(5, act, "not testable", "no AUC" if b is None else b["status"].split(":")[0]))
            five = "not testable"
        else:
            text = (f"{b['predictor']} at t = {b['t']:g}: {b['auc']:.3f} [{b['ci_low']:.3f}, {b['ci_high']:.3f}], "
                    f"{int(b['positives'])} test positives")
            five = ("not testable" if not b["testable"] else "survives" if b["ci_low"] > CHANCE
                    else "differs" if b["ci_high"] <= CHANCE else "inconclusive")
            rows.append(_row(5, act, five, text))
        if five != "survives":
            rows.append(_row(6, act, "not judged", f"finding 5: {five}"))
        else:
            tied = set(b["tied_groups"].split(", "))
            f = of.loc["ftle"] if "ftle" in of.index else None
            overlap = (f is not None and f["status"] == "ok" and f["ci_high"] >= b["ci_low"]
                       and b["ci_high"] >= f["ci_low"])
            verdict = ("survives" if tied <= set(FTLE_GROUPS) else "partly" if tied & set(FTLE_GROUPS) or overlap
                       else "differs")
            ftle = ("no FTLE pick" if f is None or f["status"] != "ok" else
                    f"FTLE pick {f['predictor']} at t = {f['t']:g}: {f['auc']:.3f} [{f['ci_low']:.3f}, "
                    f"{f['ci_high']:.3f}]")
            rows.append(_row(6, act, verdict, f"pick {b['predictor']} (tied groups: {b['tied_groups']}); {ftle}"))
        r = picks[(picks["policy"] == "reach_low") & (picks["activation"] == act) & (picks["init"] == "he")
                  & (picks["pick"] == "best")]
        if not len(r):
            rows.append(_row(7, act, "not testable", "not computed"))
        else:
            r = r.iloc[0]
            rows.append(_row(7, act, "survives" if r["saving_ci_low"] > 0 else "does not survive",
                             f"{times_interval(r)} less compute per good network ({r['predictor']} at t = {r['t']:g})"))
    return rows


def costs(base: Path, configs: dict[str, dict]) -> list[list[str]]:
    """Per variant and setting: runs, shards and the summed wall time of its simulate jobs
    (one core each), from the shards' provenance."""
    rows, roots = [], shard_roots(configs)
    for root in configs:
        name = variant_name(root)
        if not name:
            continue
        shards = base.parent / roots[root].removeprefix("results/").removeprefix("results") / "shards"
        for setting in sorted(p.name for p in shards.iterdir()):
            meta = [read_metadata(p) for p in sorted((shards / setting).glob("seeds_*.parquet"))]
            n = configs[root]["settings"]["runs_per_setting"].get(setting, configs[root]["settings"]["runs"])
            meta = [m for m in meta if int(m["last_seed"]) < n]
            seconds = sum(float(m["wall_time_s"]) for m in meta)
            runs = sum(int(m["n_runs"]) for m in meta)
            rows.append([name, setting, str(runs), str(len(meta)), f"{seconds:.0f}", f"{seconds / runs:.2f}"])
    return rows


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    base = Path(argv[0]) if argv else Path("results/variants")
    configs = root_configs(load_config(PRESET))
    rows = []
    for root, cfg in configs.items():
        name = variant_name(root)
        if not name:
            continue
        where = base / name / "tables"
        runs = read_parquet(where / "runs.parquet")
        p = PredictConfig.from_config(cfg).resolve(runs)
        for r in judge(runs, read_parquet(where / "best.parquet"), pd.read_csv(where / "restart_policy.csv"), p):
            rows.append(dict(variant=name, **r))
    table = pd.DataFrame(rows)
    table.to_csv(HERE / "findings.csv", index=False)
    names = list(dict.fromkeys(table["variant"]))
    lines = ["# Which of the paper's findings survive width and task", "",
             "Generated by `python docs/beyond/findings.py` from the study's result sets; the rules are in README.md "
             "beside this file, fixed before the results (finding 1 amended after them; README.md says why).", ""]
    for finding, title in FINDINGS.items():
        sub = table[table["finding"] == finding]
        lines += [f"## {finding}. {title}", ""]
        header = ["variant", *(["activation"] if (sub["activation"] != "").any() else []), "verdict", "numbers"]
        lines += md_table(header, [[r["variant"], *([r["activation"]] if len(header) == 4 else []), r["verdict"],
                                    r["text"]] for _, r in sub.iterrows()]) + [""]
    summary = table.groupby(["finding", "verdict"]).size().unstack(fill_value=0)
    lines += ["## Summary", "", "Verdicts per finding, over the variants (and activations where a finding has "
              "one per activation).", ""]
    lines += md_table(["finding", *summary.columns], [[f"{f}. {FINDINGS[f]}", *map(str, summary.loc[f])]
                                                      for f in summary.index])
    lines += ["", "## Cost of the runs", "",
              "Summed wall time of each variant's simulate jobs (one process each), from the shards' provenance. The "
              "jobs shared the 2 cores with other work at times, so these overstate the cost on an idle machine.",
              ""]
    lines += md_table(["variant", "setting", "runs", "shards", "wall seconds", "s per run"], costs(base, configs))
    (HERE / "findings.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {HERE / 'findings.md'} and findings.csv for {len(names)} variants")
    return 0


if __name__ == "__main__":
    sys.exit(main())
