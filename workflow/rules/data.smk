"""Stage 1: the regression data set shared by every run."""


rule data:
    output:
        DATA,
    params:
        # the data section's active keys, with a data file's SHA-256: a changed file reruns this rule
        data=lambda wildcards: NUMERIC[wildcards.root]["data"],
        n_inputs=lambda wildcards: CONFIGS[wildcards.root]["network"]["shape"][0],
    log:
        "{root}/logs/data.log",
    localrule: True
    conda:
        ENV
    script:
        "../scripts/data.py"


register_targets("data", lambda root: at(root, DATA))
