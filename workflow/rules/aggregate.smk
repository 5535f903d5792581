"""Stage 3: every shard into the runs table and its long-format tables, and the CLV
window shards into the CLV window table; from the runs
table a CSV summary per setting (results/tables/). The summaries are their own rule so
that the event thresholds and `summary` options do not rebuild the tables."""


rule aggregate:
    input:
        data=DATA,
        shards=all_shards(),
        window_shards=all_shards(WINDOW_SHARD),
    output:
        **TABLES,
        clv_windows=CLV_WINDOWS,
    params:
        numeric_hash=NUMERIC_HASH,
        settings=SETTING_NAMES,
        checkpoints=config["lyapunov"]["checkpoints"],
        dt=config["training"]["dt"],
        n_intervals=config["training"]["n_intervals"],
        clv_window=config["lyapunov"]["clv_window"],
        clv_window_end=config["lyapunov"]["clv_window_end"],
    log:
        "results/logs/aggregate.log",
    localrule: True
    resources:
        mem_mb=lambda wildcards, input: int(2000 + 3 * input.size_mb),
    conda:
        ENV
    script:
        "../scripts/aggregate.py"


register_targets("aggregate", lambda: list(TABLES.values()) + [CLV_WINDOWS])


rule summarize:
    input:
        runs=TABLES["runs"],
    output:
        summaries=[
            report(path, caption="../report/summary.rst", category="Summaries", labels={"setting": name})
            for path, name in zip(summary_paths(), SETTING_NAMES)
        ],
    params:
        settings=SETTINGS,
        events=config["events"],
        summary=config["summary"],
    log:
        "results/logs/summarize.log",
    localrule: True
    conda:
        ENV
    script:
        "../scripts/summarize.py"


register_targets("summarize", summary_paths)


CLV_CONVERGENCE = {
    "vectors": "results/tables/clv_convergence_vectors.csv",
    "pairs": "results/tables/clv_convergence_pairs.csv",
}


rule clv_convergence:
    input:
        runs=TABLES["runs"],
        windows=CLV_WINDOWS,
    output:
        vectors=report(CLV_CONVERGENCE["vectors"], caption="../report/clv_convergence.rst",
                       category="CLV convergence", labels={"table": "per vector"}),
        pairs=report(CLV_CONVERGENCE["pairs"], caption="../report/clv_convergence.rst",
                     category="CLV convergence", labels={"table": "per pair"}),
    params:
        high_loss=config["events"]["high_loss"],
        tolerance=config["figures"]["clv_start_tolerance"],
    log:
        "results/logs/clv_convergence.log",
    localrule: True
    conda:
        ENV
    script:
        "../scripts/clv_convergence.py"


register_targets("clv_convergence", lambda: list(CLV_CONVERGENCE.values()))
