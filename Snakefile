"""weightdyn: the training of small networks as a dynamical system, from data to tables.

    snakemake --cores all                                    # default config.yaml
    snakemake --cores all --configfile workflow/presets/smoke.yaml
    snakemake --profile profiles/slurm                       # on a SLURM cluster

The config is this directory's config.yaml with the files of --configfile and the values
of --config merged on top (workflow/rules/common.smk), also under --directory; the
presets hold only what they change.

Stages (workflow/rules/): data -> simulate (one Parquet shard per setting and seed
block) -> aggregate (results/tables/) -> predict (AUCs, Table I, restart policy) ->
figures (Figs. 2-16) -> report (paper comparison). See workflow/README.md.
"""
from snakemake.utils import min_version

min_version("9.0")


report: "workflow/report/workflow.rst"


wildcard_constraints:
    activation="[a-z]+",
    init="[a-z]+",
    first=r"\d\d\d\d\d\d+",
    last=r"\d\d\d\d\d\d+",
    setting="[a-z]+_[a-z]+",


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/predict.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/variants.smk"


rule all:
    input:
        all_targets,
    default_target: True
    localrule: True
