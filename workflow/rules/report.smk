"""Stage 6: the comparison with the paper (results/paper_comparison.md).

The HTML report itself is made by Snakemake from the report() outputs of every rule:
    snakemake --report results/report.html
"""

COMPARISON = "results/paper_comparison.md"


rule paper_comparison:
    input:
        runs="results/tables/runs.parquet",
        auc=PREDICT_OUT["auc"],
        best=PREDICT_OUT["best"],
        draws=PREDICT_OUT["draws"],
        restart="results/tables/restart_policy.csv",
        windows=CLV_WINDOWS,
    output:
        report(COMPARISON, caption="../report/paper_comparison.rst", category="Comparison with the paper",
               labels={"document": "paper_comparison.md"}),
    params:
        config={key: config[key] for key in ("settings", "training", "lyapunov", "events", "predict", "figures", "summary")},
    log:
        "results/logs/paper_comparison.log",
    localrule: True
    conda:
        ENV
    script:
        "../scripts/compare.py"


register_targets("report", lambda: [COMPARISON])
