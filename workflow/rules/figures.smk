"""Stage 5: the paper's Figures 2-15 and the restart-policy figure, PNG and PDF.

Two rules, one process each (the figures share their inputs, and one process saves
the start-up of one per figure): figures_runs draws the figures of the runs table and
the data (Figs. 2-9, 14, the CLV convergence), figures_prediction those of the prediction stage (Figs.
10-13, 15 and the restart policy), so a change of the prediction settings redraws only
the latter. The list of figures, their functions and inputs is
`weightdyn.report.figures.FIGURES`; the caption of figure <name> is workflow/report/<name>.rst.
"""
from weightdyn.report.figures import FIGURES

FIGURE_TABLES = {
    "task": "results/data/task.parquet",
    "runs": "results/tables/runs.parquet",
    "windows": "results/tables/clv_windows.parquet",
    "auc": "results/tables/auc.parquet",
    "roc": "results/tables/roc.parquet",
    "restart": "results/tables/restart_policy.csv",
}
FIGURE_STEM = "results/figures/{name}"
FIGURE_GROUPS = {
    "figures_runs": [n for n, s in FIGURES.items() if set(s.inputs) <= {"task", "runs", "windows"}],
    "figures_prediction": [n for n, s in FIGURES.items() if not set(s.inputs) <= {"task", "runs", "windows"}],
}


def figure_paths() -> list[str]:
    return [f"{FIGURE_STEM.format(name=name)}.{ext}" for name in FIGURES for ext in ("png", "pdf")]


def figure_outputs(names) -> dict:
    """Output files of a figure rule: <name>_png (in the report, with its caption) and <name>_pdf."""
    out = {}
    for name in names:
        stem = FIGURE_STEM.format(name=name)
        out[f"{name}_png"] = report(f"{stem}.png", caption=f"../report/{name}.rst", category="Figures",
                                    labels={"figure": name, "paper": FIGURES[name].paper})
        out[f"{name}_pdf"] = f"{stem}.pdf"
    return out


for _rule, _names in FIGURE_GROUPS.items():

    rule:
        name:
            _rule
        input:
            **{key: FIGURE_TABLES[key] for key in sorted({k for n in _names for k in FIGURES[n].inputs})},
        output:
            **figure_outputs(_names),
        params:
            names=_names,
            events=config["events"],
            # the runs figures use only the event thresholds: prediction settings stay out
            # of their params so that changing them does not redraw those figures
            predict=config["predict"] if _rule == "figures_prediction" else {},
            figures=config["figures"],
            lyapunov=config["lyapunov"],
        log:
            f"results/logs/{_rule}.log",
        localrule: True
        conda:
            ENV
        script:
            "../scripts/figures.py"


register_targets("figures", figure_paths)
