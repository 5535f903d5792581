"""Stage 4: early prediction of the final loss (paper, Sec. VI) and the restart policy.

predict: the runs table -> the train/test split, one AUC row per (event, activation,
predictor, checkpoint), the best member of every group (chosen by cross-validation on the
training half) with the bootstrap draws behind its interval, the ROC curves, and Table I
(CSV and Markdown).
restart_policy: the expected compute per good network with and without stopping runs
predicted to end high, or predicted not to end low (beyond the paper).
Settings: `events` (thresholds), `predict` and `lyapunov.clv_start` of the config.
"""

PREDICT_OUT = {
    "split": "{root}/tables/split.parquet",
    "auc": "{root}/tables/auc.parquet",
    "best": "{root}/tables/best.parquet",
    "draws": "{root}/tables/auc_draws.parquet",
    "roc": "{root}/tables/roc.parquet",
    "table1_csv": "{root}/tables/table1.csv",
    "table1_md": "{root}/tables/table1.md",
}
RESTART_OUT = "{root}/tables/restart_policy.csv"


rule predict:
    input:
        runs="{root}/tables/runs.parquet",
    output:
        split=PREDICT_OUT["split"],
        auc=PREDICT_OUT["auc"],
        best=PREDICT_OUT["best"],
        draws=PREDICT_OUT["draws"],
        roc=PREDICT_OUT["roc"],
        table1_csv=report(PREDICT_OUT["table1_csv"], caption="../report/table1.rst", category="Prediction",
                          subcategory="{root}", labels={"table": "Table I (CSV)"}),
        table1_md=PREDICT_OUT["table1_md"],
    params:
        events=conf("events"),
        predict=conf("predict"),
        clv_start=conf("lyapunov", "clv_start"),
        checkpoints=conf("lyapunov", "checkpoints"),
        dt=conf("training", "dt"),
    threads: 2
    resources:
        mem_mb=lambda wildcards, input: int(1500 + 20 * input.size_mb),
        runtime=lambda wildcards, input: int(30 + 2 * input.size_mb),
    log:
        "{root}/logs/predict.log",
    conda:
        ENV
    script:
        "../scripts/predict.py"


rule restart_policy:
    input:
        runs="{root}/tables/runs.parquet",
        best=PREDICT_OUT["best"],
        split=PREDICT_OUT["split"],
    output:
        report(RESTART_OUT, caption="../report/restart_policy_table.rst", category="Beyond the paper",
               subcategory="{root}", labels={"table": "restart policy"}),
    params:
        events=conf("events"),
        predict=conf("predict"),
        clv_start=conf("lyapunov", "clv_start"),
        checkpoints=conf("lyapunov", "checkpoints"),
        dt=conf("training", "dt"),
        n_intervals=conf("training", "n_intervals"),
    log:
        "{root}/logs/restart_policy.log",
    localrule: True
    conda:
        ENV
    script:
        "../scripts/restart_policy.py"


register_targets("predict", lambda root: at(root, *PREDICT_OUT.values(), RESTART_OUT))
