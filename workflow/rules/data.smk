"""Stage 1: the regression data set shared by every run."""


rule data:
    output:
        DATA,
    params:
        data=conf("data"),
        n_inputs=lambda wildcards: CONFIGS[wildcards.root]["network"]["shape"][0],
    log:
        "{root}/logs/data.log",
    localrule: True
    conda:
        ENV
    script:
        "../scripts/data.py"


register_targets("data", lambda root: at(root, DATA))
