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
    "task": DATA,
    "runs": TABLES["runs"],
    "windows": CLV_WINDOWS,
    "auc": PREDICT_OUT["auc"],
    "roc": PREDICT_OUT["roc"],
    "restart": RESTART_OUT,
}


def figure_stem(name, root="{root}") -> str:
    return f"{root}/figures/{name}"
FIGURE_GROUPS = {
    "figures_runs": [n for n, s in FIGURES.items() if set(s.inputs) <= {"task", "runs", "windows"}],
    "figures_prediction": [n for n, s in FIGURES.items() if not set(s.inputs) <= {"task", "runs", "windows"}],
}


def figure_paths(root) -> list[str]:
    return [f"{figure_stem(name, root)}.{ext}" for name in FIGURES for ext in ("png", "pdf")]


def figure_outputs(names) -> dict:
    """Output files of a figure rule: <name>_png (in the report, with its caption) and <name>_pdf."""
    out = {}
    for name in names:
        stem = figure_stem(name)
        out[f"{name}_png"] = report(f"{stem}.png", caption=f"../report/{name}.rst", category="Figures",
                                    subcategory="{root}", labels={"figure": name, "paper": FIGURES[name].paper})
        out[f"{name}_pdf"] = f"{stem}.pdf"
    return out


for _rule, _names in FIGURE_GROUPS.items():

    rule:
        name:
            _rule
        input:
            # the runs table always: relative event thresholds are resolved from it
            **{key: FIGURE_TABLES[key] for key in sorted({"runs"} | {k for n in _names for k in FIGURES[n].inputs})},
        output:
            **figure_outputs(_names),
        params:
            names=_names,
            events=conf("events"),
            # the runs figures use only the event thresholds: prediction settings stay out
            # of their params so that changing them does not redraw those figures
            predict=conf("predict") if _rule == "figures_prediction" else {},
            predict_inits=conf("predict", "inits"),  # the runs a quantile event threshold pools
            figures=conf("figures"),
            lyapunov=conf("lyapunov"),
        log:
            f"{{root}}/logs/{_rule}.log",
        localrule: True
        conda:
            ENV
        script:
            "../scripts/figures.py"


register_targets("figures", figure_paths)
