"""Stage 1: the regression data set shared by every run."""


rule data:
    output:
        DATA,
    params:
        data=config["data"],
        n_inputs=config["network"]["shape"][0],
    log:
        "results/logs/data.log",
    localrule: True
    conda:
        ENV
    script:
        "../scripts/data.py"


register_targets("data", lambda: [DATA])
