"""Stage 3: every shard into the runs table and its long-format tables, and the CLV
window shards into the CLV window table; from the runs
table a CSV summary per setting (results/tables/). The summaries are their own rule so
that the event thresholds and `summary` options do not rebuild the tables."""


rule aggregate:
    input:
        data=DATA,
        shards=lambda wildcards: all_shards(wildcards.root),
        window_shards=lambda wildcards: all_shards(wildcards.root, WINDOW_SHARD),
    output:
        **TABLES,
        clv_windows=CLV_WINDOWS,
    params:
        numeric_hash=lambda wildcards: NUMERIC_HASH[wildcards.root],
        settings=lambda wildcards: setting_names(wildcards.root),
        checkpoints=conf("lyapunov", "checkpoints"),
        dt=conf("training", "dt"),
        n_intervals=conf("training", "n_intervals"),
        clv_window=conf("lyapunov", "clv_window"),
        clv_window_end=conf("lyapunov", "clv_window_end"),
    log:
        "{root}/logs/aggregate.log",
    localrule: True
    resources:
        mem_mb=lambda wildcards, input: int(2000 + 3 * input.size_mb),
    conda:
        ENV
    script:
        "../scripts/aggregate.py"


register_targets("aggregate", lambda root: at(root, *TABLES.values(), CLV_WINDOWS))


rule summarize:
    input:
        runs=TABLES["runs"],
    output:
        summary=report(SUMMARY, caption="../report/summary.rst", category="Summaries", subcategory="{root}",
                       labels={"setting": "{setting}"}),
    params:
        events=conf("events"),
        predict_inits=conf("predict", "inits"),  # the runs a quantile threshold pools
        summary=conf("summary"),
    log:
        "{root}/logs/summarize_{setting}.log",
    localrule: True
    conda:
        ENV
    script:
        "../scripts/summarize.py"


register_targets("summarize", lambda root: [SUMMARY.format(root=root, setting=name) for name in setting_names(root)])


CLV_CONVERGENCE = {
    "vectors": "{root}/tables/clv_convergence_vectors.csv",
    "pairs": "{root}/tables/clv_convergence_pairs.csv",
}


rule clv_convergence:
    input:
        runs=TABLES["runs"],
        windows=CLV_WINDOWS,
    output:
        vectors=report(CLV_CONVERGENCE["vectors"], caption="../report/clv_convergence.rst",
                       category="CLV convergence", subcategory="{root}", labels={"table": "per vector"}),
        pairs=report(CLV_CONVERGENCE["pairs"], caption="../report/clv_convergence.rst",
                     category="CLV convergence", subcategory="{root}", labels={"table": "per pair"}),
    params:
        events=conf("events"),
        predict_inits=conf("predict", "inits"),  # the runs a quantile threshold pools
        tolerance=conf("figures", "clv_start_tolerance"),
    log:
        "{root}/logs/clv_convergence.log",
    localrule: True
    conda:
        ENV
    script:
        "../scripts/clv_convergence.py"


register_targets("clv_convergence", lambda root: at(root, *CLV_CONVERGENCE.values()))
