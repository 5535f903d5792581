"""Stage 6: the comparison with the paper ({root}/paper_comparison.md, and its claims as a
table, {root}/tables/claims.parquet).

The HTML report itself is made by Snakemake from the report() outputs of every rule:
    snakemake --report results/report.html
"""

COMPARISON = "{root}/paper_comparison.md"
CLAIMS = "{root}/tables/claims.parquet"
COMPARISON_SECTIONS = ("data", "network", "settings", "training", "lyapunov", "events", "predict", "figures", "summary")


rule paper_comparison:
    input:
        runs=TABLES["runs"],
        auc=PREDICT_OUT["auc"],
        best=PREDICT_OUT["best"],
        draws=PREDICT_OUT["draws"],
        restart=RESTART_OUT,
        windows=CLV_WINDOWS,
    output:
        comparison=report(COMPARISON, caption="../report/paper_comparison.rst", category="Comparison with the paper",
                          subcategory="{root}", labels={"document": "paper_comparison.md"}),
        claims=CLAIMS,
    params:
        config=lambda wildcards: {key: CONFIGS[wildcards.root][key] for key in COMPARISON_SECTIONS},
    log:
        "{root}/logs/paper_comparison.log",
    localrule: True
    conda:
        ENV
    script:
        "../scripts/compare.py"


register_targets("report", lambda root: at(root, COMPARISON, CLAIMS))
