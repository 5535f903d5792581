"""Stage 2: one job per (activation, init, block of seeds) -> one Parquet shard.

A shard's content depends only on its setting, its seeds and the numeric config, whose
hash is the `numeric_hash` parameter: a changed numeric config reruns every shard
(Snakemake's params trigger), more runs add shards and reuse the existing ones. A root
reads the shards of the first root with its numeric config (`SHARD_ROOT`), so variants
that differ only in the analysis share them. The
engine regenerates the task data from the config, so a shard does not depend on the data
file (deleting that file does not rerun shards); `aggregate` checks the two agree.
"""

rule simulate:
    output:
        runs=SHARD,
        windows=WINDOW_SHARD,
    params:
        numeric_hash=lambda wildcards: NUMERIC_HASH[wildcards.root],
        progress_seconds=2.0,
    log:
        "{root}/logs/simulate/{activation}_{init}/seeds_{first}-{last}.log",
    threads: 1
    resources:
        mem_mb=simulate_mem_mb,
        runtime=simulate_runtime,
    conda:
        ENV
    script:
        "../scripts/simulate.py"


# The shards are results in their own right (and a deleted one is rebuilt, with what
# depends on it, even where the tables are still up to date).
register_targets("simulate", lambda root: all_shards(root) + all_shards(root, WINDOW_SHARD))
