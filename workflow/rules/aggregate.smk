"""Stage 3: every shard into the runs table, its long-format tables and a CSV summary
per setting (results/tables/)."""


rule aggregate:
    input:
        data=DATA,
        shards=all_shards(),
    output:
        **TABLES,
        summaries=[
            report(path, caption="../report/summary.rst", category="Summaries", labels={"setting": name})
            for path, name in zip(summary_paths(), SETTING_NAMES)
        ],
    params:
        numeric_hash=NUMERIC_HASH,
        settings=SETTING_NAMES,
        checkpoints=config["lyapunov"]["checkpoints"],
        dt=config["training"]["dt"],
        n_intervals=config["training"]["n_intervals"],
        events=config["events"],
        summary=config["summary"],
    log:
        "results/logs/aggregate.log",
    localrule: True
    resources:
        mem_mb=lambda wildcards, input: int(2000 + 3 * input.size_mb),
    conda:
        ENV
    script:
        "../scripts/aggregate.py"


register_targets("aggregate", lambda: [*TABLES.values(), *summary_paths()])
