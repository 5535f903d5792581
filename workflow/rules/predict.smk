"""Stage 4: early prediction of the final loss (paper, Sec. VI) and the restart policy.

predict: the runs table -> the train/test split, one AUC row per (event, activation,
predictor, checkpoint), the best member of every group (chosen by cross-validation on the
training half) with the bootstrap draws behind its interval, the ROC curves, and Table I
(CSV and Markdown).
restart_policy: the expected compute per good network with and without stopping runs
predicted to end with a high final loss (beyond the paper).
Settings: `events` (thresholds), `predict` and `lyapunov.clv_start` of the config.
"""

PREDICT_OUT = {
    "split": "results/tables/split.parquet",
    "auc": "results/tables/auc.parquet",
    "best": "results/tables/best.parquet",
    "draws": "results/tables/auc_draws.parquet",
    "roc": "results/tables/roc.parquet",
    "table1_csv": "results/tables/table1.csv",
    "table1_md": "results/tables/table1.md",
}
RESTART_OUT = "results/tables/restart_policy.csv"


rule predict:
    input:
        runs="results/tables/runs.parquet",
    output:
        split=PREDICT_OUT["split"],
        auc=PREDICT_OUT["auc"],
        best=PREDICT_OUT["best"],
        draws=PREDICT_OUT["draws"],
        roc=PREDICT_OUT["roc"],
        table1_csv=report(PREDICT_OUT["table1_csv"], caption="../report/table1.rst", category="Prediction",
                          labels={"table": "Table I (CSV)"}),
        table1_md=PREDICT_OUT["table1_md"],
    params:
        events=config["events"],
        predict=config["predict"],
        clv_start=config["lyapunov"]["clv_start"],
        checkpoints=config["lyapunov"]["checkpoints"],
        dt=config["training"]["dt"],
    threads: 2
    resources:
        mem_mb=lambda wildcards, input: int(1500 + 20 * input.size_mb),
        runtime=lambda wildcards, input: int(30 + 2 * input.size_mb),
    log:
        "results/logs/predict.log",
    conda:
        ENV
    script:
        "../scripts/predict.py"


rule restart_policy:
    input:
        runs="results/tables/runs.parquet",
        best=PREDICT_OUT["best"],
        split=PREDICT_OUT["split"],
    output:
        report(RESTART_OUT, caption="../report/restart_policy_table.rst", category="Beyond the paper",
               labels={"table": "restart policy"}),
    params:
        events=config["events"],
        predict=config["predict"],
        clv_start=config["lyapunov"]["clv_start"],
        checkpoints=config["lyapunov"]["checkpoints"],
        dt=config["training"]["dt"],
        n_intervals=config["training"]["n_intervals"],
    log:
        "results/logs/restart_policy.log",
    localrule: True
    conda:
        ENV
    script:
        "../scripts/restart_policy.py"


register_targets("predict", lambda: [*PREDICT_OUT.values(), RESTART_OUT])
